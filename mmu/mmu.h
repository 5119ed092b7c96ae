/*
 * The guest's physical bus and its linear-to-physical translation.
 *
 * mmu/ owns RAM, ROM and MMIO ranges, the port I/O table, the A20 gate and
 * the software TLB.  It knows nothing about instructions or struct cpu: the
 * CPU tells it the paging state with mmu_set_paging() and asks it to
 * translate linear addresses; it answers with host pointers (through the
 * TLB) or with a fault description the CPU turns into #PF.
 *
 * Every write to guest physical memory that does not hit the TLB -- CPU
 * stores on the slow path, device DMA, loaders -- goes through
 * mmu_phys_write(), the one place where write tracking is checked.
 */
#ifndef UMBRA_MMU_MMU_H
#define UMBRA_MMU_MMU_H

#include "common/counters.h"
#include "common/log.h"
#include "common/types.h"
#include "paging.h"
#include "tlb.h"

#define MMU_MAX_REGIONS 32
#define MMU_MAX_IO 128
#define MMU_MAX_WRITE_SUBSCRIBERS 4
/* Linear pages kept out of the TLB: two per debug register (DR0-DR3) and
 * per debugger watchpoint (CPU_MAX_WATCH), as a range may straddle. */
#define MMU_MAX_NOFILL 16
/* Granularity of code-write tracking: 16-byte lines, 256 per 4 KiB page,
 * so data a few bytes past a routine's end is not code. */
#define MMU_CODE_LINE_SHIFT 4
#define MMU_CODE_LINE_WORDS ((PAGE_SIZE >> MMU_CODE_LINE_SHIFT) / 64)

/* The legacy BIOS area whose pages the chipset can route to RAM or to the
 * bus (pam.c). */
#define MMU_LEGACY_BASE 0xc0000u
#define MMU_LEGACY_PAGES 64u

/* Per-physical-page flags. */
enum {
    PG_RAM = 1u << 0,   /* backed by host RAM, readable directly */
    PG_ROM = 1u << 1,   /* backed, writes ignored */
    PG_MMIO = 1u << 2,  /* dispatched to a device */
    PG_CODE = 1u << 3,  /* decoded code was derived from this page
                         * (from the lines in mmu.code_lines) */
    PG_PT = 1u << 4,    /* shadow entries were derived from this page
                         * (a guest page directory or page table) */
};

/* How translations are cached beyond the L1 TLB. */
enum mmu_policy {
    MMU_SHADOW, /* per-address-space shadow tables, kept by write tracking */
    MMU_FLUSH,  /* nothing beyond L1: every L1 miss walks the guest tables */
};

struct shadow;

/* Paging events, for the debugger's paging breakpoints and history
 * (mmu_set_event_hook).  Called synchronously, inside the instruction
 * that caused the event. */
enum mmu_event_kind {
    MMU_EV_CR3,       /* a MOV to CR3 (or a change of CR3 with CR0/CR4) */
    MMU_EV_PTE_WRITE, /* a write to a tracked page-table page */
    MMU_EV_INVLPG,
    MMU_EV_PF,        /* the CPU raises #PF */
    MMU_EV_DEV_WRITE, /* a device (DMA) or the board wrote guest memory
                       * through mmu_phys_copy_in() */
};

struct mmu_event {
    enum mmu_event_kind kind;
    u32 cr3;          /* CR3 after the event */
    u32 addr;         /* CR3: the value loaded; PTE_WRITE: the entry's
                       * physical address; INVLPG, PF: the linear address;
                       * DEV_WRITE: the first physical address */
    u64 old, new;     /* PTE_WRITE: the entry (4 or 8 bytes as the current
                       * mode reads it) before and after */
    u32 err;          /* PF: the error code */
    u32 len;          /* DEV_WRITE: bytes written */
};

typedef void (*mmu_event_fn)(void *opaque, const struct mmu_event *e);

struct mmio_ops {
    u32 (*read)(void *opaque, u32 offset, unsigned size);
    void (*write)(void *opaque, u32 offset, u32 val, unsigned size);
};

struct io_ops {
    u32 (*read)(void *opaque, u16 port, unsigned size);
    void (*write)(void *opaque, u16 port, u32 val, unsigned size);
};

struct mmu_region {
    u32 base, size;
    const struct mmio_ops *ops;
    void *opaque;
};

/* Called when a page carrying `flag` is written (after the write). */
typedef void (*mmu_write_notify_fn)(void *opaque, u32 gpa, unsigned size);

#define MMU_CODE_GONE_BITS 1024u

/* L1 address-space tags (tlb.h): 11 bits, tag 0 = no address space. */
#define L1_TAGS 2048u

struct mmu_observer {
    void *opaque;
    void (*cr3_load)(void *opaque, u32 old, u32 cr3);
    void (*pt_write)(void *opaque, u32 gpa, unsigned size);
};

struct mmu {
    struct tlb tlb[2];         /* L1, hot: first.  [0] for CPL 0-2,
                                * [1] for CPL 3 */
    u32 epoch;                 /* the current address space's epoch,
                                * global_epoch + space_epoch[its L1 tag]:
                                * moved on by every TLB flush, every drop
                                * of a translation of this space code could
                                * be fetched through, and every code-line
                                * write.  What is cached from fetch
                                * translations or code bytes, keyed by the
                                * L1 tag, is stale when it changes. */
    u32 shared_epoch;          /* moved on by code-line writes, full TLB
                                * flushes and any change to a page noted
                                * by mmu_note_shared_code(): what holds in
                                * every address space (links to code in
                                * the same page, or through a global
                                * translation) is stale when it changes.
                                * Right after `epoch` (translated code
                                * reaches both through one pointer). */
    u8 *ram;                   /* guest RAM, ram_size bytes */
#define WFILL_MANY UINT32_MAX
    u32 ram_size;
    u8 *page_flags;            /* one byte per 4 KiB physical page (1M) */
    u8 **page_host;            /* host base of each backed page, or NULL */
    u32 *wfill;                /* per RAM page: the L1 tag (linear page |
                                * address-space tag | 1) of the write
                                * entries filled for it since it was last
                                * withdrawn, 0 for none, WFILL_MANY for
                                * more than one */
    u64 *code_lines;           /* per RAM page, MMU_CODE_LINE_WORDS words:
                                * bit k set if code was decoded from line k
                                * (bytes [16k, 16k+16)) since the page was
                                * last tracked (PG_CODE) */
    u32 a20_mask;              /* 0xffffffff, or ~(1 << 20) with A20 off */
    bool paging;               /* CR0.PG and CR0.PE */
    struct pg_state pg;        /* what the walker needs of CR0/CR3/CR4 */
    struct mmu_region mmio[MMU_MAX_REGIONS];
    unsigned n_mmio;
    u8 *io_index;              /* per port: slot in io[], 0 = none */
    struct io_ops io[MMU_MAX_IO];
    void *io_opaque[MMU_MAX_IO];
    unsigned n_io;
    struct {
        mmu_write_notify_fn fn;
        void *opaque;
    } code_sub[MMU_MAX_WRITE_SUBSCRIBERS];
    unsigned n_code_sub;
    /* The legacy BIOS area 0xC0000-0xFFFFF (pam.c): per 4 KiB page, the
     * ROM the bus holds there (NULL: none) and how the chipset routes it
     * (MMU_PAM_*; legacy_pam_on[k] false: never routed, the map stays as
     * mapped). */
    u8 *legacy_rom[MMU_LEGACY_PAGES];
    u8 legacy_pam[MMU_LEGACY_PAGES];
    bool legacy_pam_on[MMU_LEGACY_PAGES];
    bool legacy_rom_owned[MMU_LEGACY_PAGES]; /* legacy_rom[k] is a ROM
                                              * allocation of its own */
    u32 nofill[MMU_MAX_NOFILL]; /* linear pages the TLB must never cache */
    unsigned n_nofill;
    bool nofill_data;          /* the TLB caches fetches only */
    enum mmu_policy policy;
    struct shadow *sh;         /* L2 (MMU_SHADOW), NULL with MMU_FLUSH */
    bool l1_unbacked;          /* L1 holds translations of the current tag
                                * that no shadow entry backs (write
                                * tracking would not see them change) */
    u32 l1_owner[L1_TAGS];     /* shadow slot that last used each L1 tag */
    u32 global_epoch;          /* moved by what concerns every space */
    u32 space_epoch[L1_TAGS];  /* per L1 tag (index tag >> 1): moved by
                                * drops of that space's code translations */
    /* Since the epoch last moved: linear pages whose fetch translation
     * left the L1 by replacement (hashed, one bit per page number modulo
     * MMU_CODE_GONE_BITS), and whether a fetch was translated without
     * leaving a fetch tag.  A later drop of such a page -- or of any page
     * while fetch_untagged -- must still move the epoch. */
    u64 code_gone[MMU_CODE_GONE_BITS / 64];
    bool code_gone_any;
    bool fetch_untagged;
    /* The span of the linear pages noted by mmu_note_shared_code() since
     * shared_epoch last moved (global pages gather in the kernel's half);
     * empty when shared_lo > shared_hi. */
    u32 shared_lo, shared_hi;
    void (*shared_moved)(void *opaque); /* called as shared_epoch moves */
    void *shared_moved_opaque;
    mmu_event_fn ev_fn;        /* paging events, NULL = nobody asked */
    void *ev_opaque;
    struct counters *cnt;
    struct logger *log;
    struct mmu_observer obs;   /* paging events for debug/ (plugins) */
};

/* Watching paging events (debug/'s plugins).  `cr3_load`: a MOV to CR3
 * (or a CR0/CR4 write) left CR3 at `cr3`, which was `old`, with paging on
 * or off.  `pt_write`: a write of `size` bytes at `gpa` reached a page the
 * shadow tables were built from (a page-table entry write).  Each may be
 * NULL; with none set the MMU pays one branch per such event. */
void mmu_set_observer(struct mmu *m, const struct mmu_observer *o);

/* Create a bus with `ram_size` bytes of RAM at 0 (lazily reserved).
 * Returns NULL if the host cannot reserve it. */
struct mmu *mmu_new(u32 ram_size, struct counters *cnt, struct logger *log) MUST_CHECK;
void mmu_free(struct mmu *m);

/* Map a read-only copy of `data` at [base, base+size).  Page-aligned size.
 * Returns 0, or -1 if the range overlaps RAM beyond 1 MiB or is unaligned. */
int mmu_map_rom(struct mmu *m, u32 base, const void *data, u32 size) MUST_CHECK;
/* Alias [base, base+size) to the same host bytes as the ROM at `src`. */
int mmu_alias_rom(struct mmu *m, u32 base, u32 src, u32 size) MUST_CHECK;
int mmu_map_mmio(struct mmu *m, u32 base, u32 size, const struct mmio_ops *ops,
                 void *opaque) MUST_CHECK;
/* Claim ports [first, first+count) for (ops, opaque); a pair already
 * registered reuses its slot, so a device moved again and again (a PCI
 * BAR) does not fill the table.  Returns 0 or -1 (table full). */
/* Map `size` bytes of host memory at `host` (owned by the caller, page
 * aligned, living until it is unmapped or the bus freed) as RAM at guest
 * physical [base, base+size): the CPU then reads and writes it through the
 * TLB like RAM (a video card's linear framebuffer).  Returns 0, or -1 if
 * the range is unaligned, empty, beyond 4 GiB or overlaps guest RAM. */
int mmu_map_ram(struct mmu *m, u32 base, u8 *host, u32 size) MUST_CHECK;
/* Undo mmu_map_ram() or mmu_map_mmio() for [base, base+size): the pages read
 * as all ones again.  Main RAM and ROM pages are left alone. */
void mmu_unmap(struct mmu *m, u32 base, u32 size);
int mmu_map_io(struct mmu *m, u16 first, unsigned count, const struct io_ops *ops,
               void *opaque) MUST_CHECK;
/* Release ports [first, first+count): they read as all ones again. */
void mmu_unmap_io(struct mmu *m, u16 first, unsigned count);
/* Remove the MMIO region that starts at `base` (as mapped with
 * mmu_map_mmio); its pages become unbacked, or RAM where RAM lies below.
 * Returns 0, or -1 if no region starts there. */
int mmu_unmap_mmio(struct mmu *m, u32 base);

/*
 * Shadow RAM in the legacy BIOS area (pam.c), as the i440FX's PAM
 * registers route it: for each page of [base, base+size), inside
 * 0xC0000-0xFFFFF, reads go to RAM if `mode` has MMU_PAM_READ and else to
 * the bus (the ROM mapped or aliased there, else nothing: all ones);
 * writes go to RAM if it has MMU_PAM_WRITE and are otherwise dropped.
 * Every translation and decoded instruction derived from the pages is
 * dropped when their routing changes.  Returns 0, or -1 if the range is
 * unaligned or leaves the area.
 */
enum {
    MMU_PAM_READ = 1u << 0,
    MMU_PAM_WRITE = 1u << 1,
};
int mmu_set_pam(struct mmu *m, u32 base, u32 size, unsigned mode) MUST_CHECK;

/* Port I/O.  Unclaimed ports read as all ones and ignore writes. */
u32 mmu_io_read(struct mmu *m, u16 port, unsigned size);
void mmu_io_write(struct mmu *m, u16 port, u32 val, unsigned size);

/* Physical access (A20 applied).  Unbacked reads give all ones. */
u64 mmu_phys_read(struct mmu *m, u32 gpa, unsigned size);
void mmu_phys_write(struct mmu *m, u32 gpa, u64 val, unsigned size);
/* Read RAM or ROM without any side effect: true with *val, or false for
 * MMIO or unbacked space (nothing is read, no device is touched).  The
 * range may cross one page boundary.  For the debugger and page peeks. */
bool mmu_phys_peek(const struct mmu *m, u32 gpa, unsigned size, u64 *val);
/* Bulk copies for loaders and DMA; same rules as above. */
void mmu_phys_copy_in(struct mmu *m, u32 gpa, const void *src, u32 len);
void mmu_phys_copy_out(struct mmu *m, u32 gpa, void *dst, u32 len);

void mmu_set_a20(struct mmu *m, bool on);
/* The CPU reports a change of paging state (SDM 4.10.4.1): a change of
 * CR0.PG/WP or CR4.PAE/PSE/PGE flushes all of L1; otherwise (a MOV to CR3)
 * L1 keeps its global entries when CR4.PGE is set.  With MMU_SHADOW a
 * change of only CR0.WP and/or CR4.PGE keeps the shadow entries.  With MMU_SHADOW the
 * shadow context for the new (CR3, mode) becomes current.  With PAE
 * paging on, the PDPTE registers are reloaded from CR3: returns -1 if one
 * is invalid (the CPU should have refused the write with #GP(0) after
 * asking mmu_pdptes_valid()), else 0.  EFER is the last mmu_set_efer(). */
int mmu_set_paging(struct mmu *m, u32 cr0, u32 cr3, u32 cr4);
/* The CPU reports a write to IA32_EFER (only NXE matters here); the TLB is
 * flushed. */
void mmu_set_efer(struct mmu *m, u32 efer);
/* INVLPG: drop every cached translation of the page of `lin` (both TLBs,
 * global entries too, and its shadow entry). */
void mmu_invlpg(struct mmu *m, u32 lin);
/* The walk of `lin` in address space `cr3` under the current paging mode,
 * without side effects (pg_walk_peek): no A/D bit set, no TLB or shadow
 * filled, no device read.  Returns 0 or -1 (fault in out->fault). */
int mmu_walk_peek(struct mmu *m, u32 cr3, u32 lin, enum mmu_acc acc, bool user,
                  struct pg_peek *out);
/* One shadow address space as the monitor shows it (slot 0: the global
 * entries shared by every context). */
struct mmu_shadow_ctx {
    unsigned slot;
    u32 cr3;
    bool pae, pse, nxe;  /* the mode bits of its key */
    bool current;
    u64 age;             /* context switches since it was last current */
    u32 entries, leaves;
    u64 hits;            /* L1 misses its entries answered */
};
/* Fill out[0..max) with the live contexts, global slot first; returns how
 * many.  0 with MMU_FLUSH.  Reads only. */
unsigned mmu_shadow_contexts(const struct mmu *m, struct mmu_shadow_ctx *out, unsigned max);
/* Tell (fn, opaque) of every paging event (NULL: none; the default). */
void mmu_set_event_hook(struct mmu *m, mmu_event_fn fn, void *opaque);
/* The CPU raises #PF for `f` (reported to the event hook). */
void mmu_note_page_fault(struct mmu *m, const struct mmu_fault *f);
/* Choose the caching policy and, for MMU_SHADOW, how many address spaces
 * are kept (LRU).  Default: MMU_SHADOW, 64.  Drops all cached state. */
void mmu_configure(struct mmu *m, enum mmu_policy p, unsigned max_contexts);
/* True if the PDPTEs at `cr3` may be loaded: a MOV to CR0/CR3/CR4 that
 * enables or stays in PAE paging raises #GP(0) when this is false. */
bool mmu_pdptes_valid(struct mmu *m, u32 cr3);
/* Flush both TLBs, global entries and the shared global shadow included. */
void mmu_flush_tlb(struct mmu *m);
/* Bring the L1 hit counters, kept inside the TLBs so the hit path needs
 * no extra pointer, into the counter registry. */
void mmu_sync_counters(struct mmu *m);
/* Keep the linear pages `pages[0..n)` (n <= MMU_MAX_NOFILL) out of the TLB,
 * so every access to them takes the slow path (data breakpoints watch
 * them there).  Replaces the previous set and flushes the TLB. */
void mmu_set_nofill_pages(struct mmu *m, const u32 *pages, unsigned n);
/* Keep every data (read and write) translation out of the TLB, so every
 * data access takes the slow path (where the CPU's access hook sees it);
 * fetches are cached as usual.  Flushes the TLB. */
void mmu_set_nofill_data(struct mmu *m, bool on);

/* Whether the supervisor-mode accesses translated from now on are
 * explicit ones made with EFLAGS.AC set, which CR4.SMAP lets reach user
 * pages.  The CPU sets it before each slow-path access: true-or-false
 * from EFLAGS.AC for instruction operands, false for implicit accesses
 * (descriptor tables, TSS). */
static inline void mmu_set_smap_ac(struct mmu *m, bool ac)
{
    m->pg.smap_ac = ac;
}

/*
 * Translate `lin` for an access; on success returns 0 and *gpa, having
 * filled the TLB entry when the page may be accessed directly.  On a
 * translation fault returns -1 and fills *f.
 */
int mmu_translate(struct mmu *m, u32 lin, enum mmu_acc acc, bool user, u32 *gpa,
                  struct mmu_fault *f) MUST_CHECK;

/* Slow paths behind the TLB.  Handle page straddles, MMIO and ROM.
 * A write translates every page it touches before writing any byte. */
int mmu_lin_read(struct mmu *m, u32 lin, unsigned size, enum mmu_acc acc, bool user,
                 u64 *val, struct mmu_fault *f) MUST_CHECK;
int mmu_lin_write(struct mmu *m, u32 lin, unsigned size, u64 val, bool user,
                  struct mmu_fault *f) MUST_CHECK;

/* Code is cached from the `len` bytes at RAM address `gpa` (len >= 1, all
 * in one page: an instruction that straddles pages is never cached).
 * The page's write tag is withheld from the TLB so every store to it
 * reaches mmu_phys_write(); a store that touches one of the 16-byte lines
 * holding such bytes (MMU_CODE_LINE_SHIFT) tells the subscribers, moves the
 * epoch and untracks the page; a store to its other lines is only a
 * slow-path write. */
void mmu_track_code(struct mmu *m, u32 gpa, unsigned len);
/* Whether a store to [gpa, gpa + size) (size <= 16, one page) would touch
 * a code line of a tracked page. */
bool mmu_is_code_write(const struct mmu *m, u32 gpa, unsigned size);
int mmu_subscribe_code_writes(struct mmu *m, mmu_write_notify_fn fn, void *opaque) MUST_CHECK;
/* Something that holds in every address space was derived from the fetch
 * translation of linear page `lin` (a global one): any later drop or
 * invalidation of that page moves shared_epoch as well as epoch. */
void mmu_note_shared_code(struct mmu *m, u32 lin);

/* Call `fn` at once whenever shared_epoch moves (the translator unlinks
 * what it patched to hold in every address space); NULL: nobody. */
void mmu_on_shared_move(struct mmu *m, void (*fn)(void *opaque), void *opaque);

/* Stop telling (fn, opaque) of code-page writes. */
void mmu_unsubscribe_code_writes(struct mmu *m, mmu_write_notify_fn fn, void *opaque);

#endif
