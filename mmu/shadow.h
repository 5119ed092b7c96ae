/*
 * Shadow page tables (L2) and write tracking of guest page-table pages.
 * Private to mmu/: mmu.c calls these; see shadow.c for the model and
 * mmu/README.md for the events and how each one is handled.
 */
#ifndef UMBRA_MMU_SHADOW_H
#define UMBRA_MMU_SHADOW_H

#include "common/types.h"
#include "paging.h"

struct mmu;
struct shadow;

/* A shadow with room for `max_contexts` address spaces (at least 1), or
 * NULL if the host is out of memory. */
struct shadow *shadow_new(unsigned max_contexts);
void shadow_free(struct shadow *s);

/* Paging is on with m->pg: make the context for (CR3, mode) current,
 * reusing it from the LRU or creating it. */
void shadow_select(struct mmu *m);
/* Paging is off: no context is current. */
void shadow_deselect(struct mmu *m);
/* Forget every shadow entry and reverse-map record; untrack every page.
 * Known contexts stay known (empty). */
void shadow_clear_all(struct mmu *m);
/* Forget the shared global entries (a flush of global translations). */
void shadow_clear_global(struct mmu *m);
/* A change of CR4.PGE or CR0.WP flushed global translations (SDM
 * 4.10.4.1): a global entry is used again only in the context whose walk
 * made it (it still matches those tables) until a walk elsewhere confirms
 * or replaces it.  The caller flushes L1. */
void shadow_flush_global(struct mmu *m);

/* The shadow entry for `lin` in the current context, or in the global
 * table if it may serve there (its global epoch or its origin, shadow.c):
 * page address and PG_PERM_* bits (no PG_PERM_GLOBAL without CR4.PGE).
 * False if none. */
bool shadow_lookup(struct mmu *m, u32 lin, u32 *pa_page, u32 *perm);
/* Record the result of a successful walk (`t` names the entries it read). */
/* Returns false if the translation could not be kept. */
bool shadow_insert(struct mmu *m, u32 lin, u32 pa_page, u32 perm, const struct pg_trace *t);
/* INVLPG: drop the entries for the page of `lin` (current and global). */
void shadow_invlpg(struct mmu *m, u32 lin);
/*
 * A write of `size` bytes at `gpa` hit a page with PG_PT.  `old` and `cur`
 * hold the 16 bytes at `win` (gpa & ~7, within the page) before and after
 * the write.
 */
void shadow_write_trap(struct mmu *m, u32 gpa, unsigned size, u32 win, const u8 *old,
                       const u8 *cur);

/* Provided by mmu.c for the shadow: drop L1 entries (both TLBs) for the
 * linear pages [lo, lo + npages * 4 KiB); flush both TLBs; withdraw the
 * write tags that point at physical page `pfn`. */
void mmu_l1_drop_range(struct mmu *m, u32 lo, u32 npages);
void mmu_l1_flush(struct mmu *m, bool keep_global);
void mmu_l1_withdraw_write(struct mmu *m, u32 pfn);
/* Make shadow slot `slot` (0 = none) the L1's current address space. */
void mmu_l1_select(struct mmu *m, unsigned slot);
/* Drop the L1 entries of slot `slot`: all of them (npages == 0) or those
 * of [lo, lo + npages pages). */
void mmu_l1_drop_slot(struct mmu *m, unsigned slot, u32 lo, u32 npages);
/* The same for `n` single linear pages (page addresses) of slot `slot`,
 * or of the current address space when `current`. */
void mmu_l1_drop_list(struct mmu *m, unsigned slot, bool current, const u32 *pages, unsigned n);

#endif
