/*
 * Guest page-table walker (Intel SDM vol. 3A, chapter 4): 32-bit paging
 * (4.3, 4 KiB pages and 4 MiB pages with CR4.PSE) and PAE paging (4.4,
 * 4 KiB and 2 MiB pages, PDPTE registers, execute-disable with EFER.NXE).
 * Access rights follow 4.6, page-fault error codes 4.7, A/D bits 4.8.
 *
 * The processor modelled advertises neither PSE-36 nor PAT, and
 * MAXPHYADDR is 36: the bits those features would define are reserved.
 */
#ifndef UMBRA_MMU_PAGING_H
#define UMBRA_MMU_PAGING_H

#include "common/types.h"

struct mmu;

struct mmu_fault {
    u32 lin;  /* faulting linear address (CR2) */
    u32 err;  /* page-fault error code */
};

#define CR0_PE (1u << 0)
#define CR0_WP (1u << 16)
#define CR0_PG (1u << 31)
#define CR4_PSE (1u << 4)
#define CR4_PAE (1u << 5)
#define CR4_PGE (1u << 7)
#define CR4_SMEP (1u << 20)
#define CR4_SMAP (1u << 21)

#define MSR_EFER 0xc0000080u
#define EFER_NXE (1u << 11)

/* Paging-structure entry bits shared by both formats (low dword). */
#define PTE_P (1u << 0)
#define PTE_RW (1u << 1)
#define PTE_US (1u << 2)
#define PTE_A (1u << 5)
#define PTE_D (1u << 6)
#define PTE_PS (1u << 7)
#define PTE_G (1u << 8)
#define PTE_XD (1ull << 63) /* PAE only */

/* MAXPHYADDR of the modelled processor (PAE entries hold bits 35:12). */
#define PG_MAXPHYADDR 36

/* Page-fault error code (SDM 4.7, figure 4-12). */
#define PF_P (1u << 0)
#define PF_W (1u << 1)
#define PF_U (1u << 2)
#define PF_RSVD (1u << 3)
#define PF_ID (1u << 4)

/* Effective permissions of a translation (pg_walk's *perm). */
#define PG_PERM_WRITE (1u << 0)  /* R/W = 1 at every level */
#define PG_PERM_USER (1u << 1)   /* U/S = 1 at every level */
#define PG_PERM_DIRTY (1u << 2)  /* the leaf's D bit is set */
#define PG_PERM_NX (1u << 3)     /* EFER.NXE and XD = 1 at some level */
#define PG_PERM_GLOBAL (1u << 4) /* CR4.PGE and the leaf's G bit */

struct pg_state {
    bool enabled;   /* CR0.PG and CR0.PE */
    bool wp;        /* CR0.WP */
    bool pse;       /* CR4.PSE */
    bool pae;       /* CR4.PAE */
    bool pge;       /* CR4.PGE */
    bool nxe;       /* EFER.NXE (meaningful with PAE only) */
    bool smep;      /* CR4.SMEP: no supervisor fetch from user pages */
    bool smap;      /* CR4.SMAP: no supervisor data access to user pages */
    bool smap_ac;   /* the access being translated is explicit with
                     * EFLAGS.AC set, which SMAP lets through (set by the
                     * CPU before each slow-path access, mmu_set_smap_ac) */
    u32 cr3;
    u32 efer;       /* last value given to pg_set_mode */
    u64 pdpte[4];   /* PAE: the PDPTE registers, loaded by pg_set_mode */
};

/*
 * Read the four PDPTEs that PAE paging would load from `cr3` (bits 31:5)
 * into pdpte[].  Returns 0, or -1 if a present PDPTE sets a reserved bit
 * (2:1, 8:5, 63:MAXPHYADDR): the MOV to CR0/CR3/CR4 that would load them
 * must then raise #GP(0) and leave the register unchanged (SDM 4.4.1).
 * Reads only; any caller.
 */
int pg_load_pdptes(struct mmu *m, u32 cr3, u64 pdpte[4]);

/*
 * Take new CR0/CR3/CR4/EFER values.  With PAE paging enabled the PDPTE
 * registers are (re)loaded from guest memory, as every MOV to CR0/CR3/CR4
 * and task switch that reaches here does on hardware.  Returns 0, or -1
 * if the loaded PDPTEs are invalid (see pg_load_pdptes); they are cached
 * anyway, and a walk through an invalid one reports a reserved-bit #PF.
 */
int pg_set_mode(struct pg_state *pg, struct mmu *m, u32 cr0, u32 cr3, u32 cr4, u32 efer);

/*
 * Walk the guest tables for `lin` (acc is an enum mmu_acc; user means
 * CPL 3).  Returns 0 with the physical address in *gpa and PG_PERM_* bits
 * in *perm, or -1 with the #PF description in *f.
 *
 * Accessed bits are set on every entry used and the leaf's Dirty bit on a
 * write, but only when the access succeeds: a fault leaves guest memory
 * untouched (SDM 4.8 permits setting A bits before a fault; not doing so
 * is one of the behaviours hardware may show).  Entries are read and
 * written only through mmu_phys_read/mmu_phys_write.
 */
int pg_walk(const struct pg_state *pg, struct mmu *m, u32 lin, int acc, bool user, u64 *gpa,
            u32 *perm, struct mmu_fault *f);

/* The paging-structure entries a successful walk read from memory: the
 * PDE, then (unless the PDE maps a large page) the PTE.  PAE PDPTEs come
 * from registers and are not listed. */
struct pg_trace {
    unsigned n;
    bool big;      /* the PDE mapped a 4 MiB / 2 MiB page */
    u64 entry[2];  /* guest physical address of each entry */
};

/* pg_walk, also reporting the entries used when the walk succeeds. */
int pg_walk_traced(const struct pg_state *pg, struct mmu *m, u32 lin, int acc, bool user,
                   u64 *gpa, u32 *perm, struct mmu_fault *f, struct pg_trace *t);

/* One paging-structure entry a peek read (PDPTEs: the register value). */
enum { PG_LEVEL_PDPTE, PG_LEVEL_PDE, PG_LEVEL_PTE };

struct pg_peek_level {
    unsigned level; /* PG_LEVEL_* */
    u64 addr;       /* guest physical address of the entry */
    u64 val;        /* its raw value */
};

/* What a side-effect-free walk found. */
struct pg_peek {
    u32 lin, cr3;
    bool paging;          /* false: linear = physical, no levels */
    bool pae;
    bool big;             /* a 4 MiB / 2 MiB page */
    unsigned n;           /* entries in lv[], in walk order */
    struct pg_peek_level lv[3];
    u64 gpa;              /* on success */
    u32 perm;             /* on success: PG_PERM_* of the leaf
                           * (DIRTY: the leaf's D bit as it is now) */
    struct mmu_fault fault; /* on failure: CR2 and the error code */
};

/*
 * Walk the tables of `cr3` in the mode of `cur` for an access `acc` at
 * privilege `user`, as pg_walk would, but write nothing (no A/D bit) and
 * read only RAM and ROM (a table in MMIO space reads as all ones).  For
 * PAE with a CR3 other than cur->cr3 the PDPTEs are read from memory.
 * Returns 0 with out->gpa, or -1 with out->fault; out->lv lists the
 * entries read either way.  Any caller.
 */
int pg_walk_peek(const struct pg_state *cur, struct mmu *m, u32 cr3, u32 lin, int acc,
                 bool user, struct pg_peek *out);

/* True if a translation with `perm` allows `acc` at that privilege. */
bool pg_perm_allows(const struct pg_state *pg, u32 perm, int acc, bool user);

#endif
