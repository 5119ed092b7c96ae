/*
 * Guest page-table walker (Intel SDM vol. 3A, 4.3 "32-bit paging").
 * 4 KiB pages and, with CR4.PSE, 4 MiB pages; U/S, R/W, CR0.WP; Accessed
 * and Dirty bits are set in guest memory as hardware does.
 */
#ifndef UMBRA_MMU_PAGING_H
#define UMBRA_MMU_PAGING_H

#include "common/types.h"

struct mmu;
struct mmu_fault;

#define CR0_PE (1u << 0)
#define CR0_WP (1u << 16)
#define CR0_PG (1u << 31)
#define CR4_PSE (1u << 4)

#define PTE_P (1u << 0)
#define PTE_RW (1u << 1)
#define PTE_US (1u << 2)
#define PTE_A (1u << 5)
#define PTE_D (1u << 6)
#define PTE_PS (1u << 7)

#define PF_P (1u << 0)
#define PF_W (1u << 1)
#define PF_U (1u << 2)

/* Effective permissions of a translation. */
#define PG_PERM_WRITE (1u << 0)
#define PG_PERM_USER (1u << 1)
#define PG_PERM_DIRTY (1u << 2)

struct pg_state {
    bool enabled; /* CR0.PG and CR0.PE */
    bool wp;      /* CR0.WP */
    bool pse;     /* CR4.PSE */
    u32 cr3;
};

void pg_set_mode(struct pg_state *pg, u32 cr0, u32 cr3, u32 cr4);
/* Walk the guest tables for `lin`.  Returns 0 with *gpa and *perm, or -1
 * with the #PF description in *f.  Updates A/D bits in guest memory. */
int pg_walk(const struct pg_state *pg, struct mmu *m, u32 lin, int acc, bool user, u32 *gpa,
            u32 *perm, struct mmu_fault *f);
/* True if a translation with `perm` allows `acc` at every privilege, so
 * caching it in the privilege-blind TLB is safe. */
bool pg_perm_allows_all(const struct pg_state *pg, u32 perm, int acc);

#endif
