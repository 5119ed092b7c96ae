/*
 * The software TLB (L1): direct-mapped, indexed by linear page number
 * scrambled with the current address space's salt.
 *
 *   entry:  tag[ACC_READ] tag[ACC_WRITE] tag[ACC_FETCH]   addend
 *           (linear page | ctx, or TLB_INVALID)           host = lin + addend
 *
 *   tag bits: 31..12 linear page | 11..1 address-space tag (ctx) | 0 invalid
 *
 * A hit is one compare and one add.  The tag compared is the page of the
 * access's *last* byte while the index comes from its first byte, so an
 * access that straddles two pages can never hit (consecutive pages have
 * different indices under any salt) and takes the slow path, which splits
 * it.  Anything that must not be touched directly -- MMIO, ROM writes,
 * pages with write tracking, unbacked addresses -- never gets a matching
 * tag.
 *
 * With shadow page tables every guest address space has its own ctx tag,
 * so a MOV to CR3 switches tags instead of flushing: entries of the other
 * address spaces stay, and stay correct because they are derived from
 * shadow entries that write tracking zaps (with their L1 entries) the
 * moment the guest edits the tables behind them.
 */
#ifndef UMBRA_MMU_TLB_H
#define UMBRA_MMU_TLB_H

#include <string.h>

#include "common/types.h"

#define TLB_BITS 11
#define TLB_SIZE (1u << TLB_BITS)
#define TLB_USED_MAX 128u
#define TLB_INVALID 1u /* low bit set: never equals a page-aligned address */
#define PAGE_SHIFT 12
#define PAGE_SIZE 4096u
#define PAGE_MASK 0xfffff000u

enum mmu_acc { ACC_READ = 0, ACC_WRITE = 1, ACC_FETCH = 2 };

#define TLB_GLOBAL 1u /* tlb_entry.flags: survives a MOV to CR3 (CR4.PGE, G) */

struct tlb_entry {
    u32 tag[3];       /* per enum mmu_acc */
    u32 flags;        /* TLB_GLOBAL */
    uintptr_t addend; /* host pointer = (uintptr_t)lin + addend */
    u32 code_wtag;    /* like tag[ACC_WRITE], for a RAM page whose only
                       * tracking is PG_CODE: a write is allowed, but the
                       * slow path must check it against the code lines */
    u32 pad;
};
_Static_assert(sizeof(struct tlb_entry) == 32, "TLB entry must stay 32 bytes");

/*
 * One TLB per privilege: tlb[0] serves CPL 0-2, tlb[1] CPL 3, so an entry
 * only carries tags its own privilege may use.  `hits` counts hits by
 * access kind; mmu_sync_counters() adds them into the counter registry.
 */
struct tlb {
    struct tlb_entry e[TLB_SIZE];
    u64 hits[3];      /* read, write, fetch */
    u32 ctx;  /* address-space tag in the low bits of every tag (0 = none) */
    u32 salt; /* index scramble of that address space */
    /* Indices filled since the last flush, so a flush of a lightly used
     * TLB touches only those; past TLB_USED_MAX a flush sweeps it all. */
    u32 nused;
    u16 used[TLB_USED_MAX];
} __attribute__((aligned(64)));

static inline void tlb_entry_clear(struct tlb_entry *e)
{
    e->tag[0] = e->tag[1] = e->tag[2] = TLB_INVALID;
    e->code_wtag = TLB_INVALID;
    e->flags = 0;
}

/* Note that entry `k` holds a translation now. */
static inline void tlb_note_fill(struct tlb *t, unsigned k)
{
    if (t->nused < TLB_USED_MAX)
        t->used[t->nused] = (u16)k;
    t->nused++;
}

static inline void tlb_flush_all(struct tlb *t)
{
    if (t->nused <= TLB_USED_MAX) {
        for (unsigned k = 0; k < t->nused; k++)
            tlb_entry_clear(&t->e[t->used[k]]);
    } else {
        for (unsigned k = 0; k < TLB_SIZE; k++)
            tlb_entry_clear(&t->e[k]);
    }
    t->nused = 0;
}

/* Drop the entries without TLB_GLOBAL (a MOV to CR3 with CR4.PGE); the
 * global ones stay on the list of used entries. */
static inline void tlb_flush_nonglobal(struct tlb *t)
{
    unsigned n = t->nused;
    t->nused = 0;
    if (n <= TLB_USED_MAX) {
        u16 used[TLB_USED_MAX];
        memcpy(used, t->used, n * sizeof used[0]);
        for (unsigned k = 0; k < n; k++) {
            struct tlb_entry *e = &t->e[used[k]];
            if (e->flags & TLB_GLOBAL)
                tlb_note_fill(t, used[k]);
            else
                tlb_entry_clear(e);
        }
    } else {
        for (unsigned k = 0; k < TLB_SIZE; k++) {
            if (t->e[k].flags & TLB_GLOBAL)
                tlb_note_fill(t, k);
            else
                tlb_entry_clear(&t->e[k]);
        }
    }
}

static inline struct tlb_entry *tlb_entry_at(struct tlb *t, u32 lin, u32 salt)
{
    return &t->e[((lin >> PAGE_SHIFT) ^ salt) & (TLB_SIZE - 1)];
}

static inline struct tlb_entry *tlb_entry_for(struct tlb *t, u32 lin)
{
    return tlb_entry_at(t, lin, t->salt);
}

/* Whether entry `e` holds the page of an access of `size` bytes at `lin`
 * for `acc` (an access crossing into the next page never matches). */
static inline bool tlb_entry_hits(const struct tlb *t, const struct tlb_entry *e, u32 lin,
                                  unsigned size, enum mmu_acc acc)
{
    return e->tag[acc] == (((lin + size - 1) & PAGE_MASK) | t->ctx);
}

/* Host pointer for an access of `size` bytes at `lin`, or NULL on a miss;
 * a hit is counted. */
static inline u8 *tlb_lookup(struct tlb *t, u32 lin, unsigned size, enum mmu_acc acc)
{
    struct tlb_entry *e = tlb_entry_for(t, lin);
    if (likely(tlb_entry_hits(t, e, lin, size, acc))) {
        t->hits[acc]++;
        return (u8 *)((uintptr_t)lin + e->addend);
    }
    return NULL;
}

/* tlb_lookup without counting (inspection, not an access). */
static inline u8 *tlb_peek(struct tlb *t, u32 lin, unsigned size, enum mmu_acc acc)
{
    struct tlb_entry *e = tlb_entry_for(t, lin);
    return tlb_entry_hits(t, e, lin, size, acc) ? (u8 *)((uintptr_t)lin + e->addend) : NULL;
}

/* Host pointer for a write of `size` bytes at `lin` to a page written
 * only through the code-line check (code_wtag), or NULL. */
static inline u8 *tlb_code_write_host(struct tlb *t, u32 lin, unsigned size)
{
    struct tlb_entry *e = tlb_entry_for(t, lin);
    if (e->code_wtag == (((lin + size - 1) & PAGE_MASK) | t->ctx))
        return (u8 *)((uintptr_t)lin + e->addend);
    return NULL;
}

/* Whether entry `e` lets code be fetched from its page. */
static inline bool tlb_entry_fetches(const struct tlb_entry *e)
{
    return !(e->tag[ACC_FETCH] & TLB_INVALID);
}

/* Drop the entry caching the linear page of `lin` in address space `ctx`
 * (placed with `salt`).  Returns whether it could fetch code. */
static inline bool tlb_drop_page_in(struct tlb *t, u32 lin, u32 ctx, u32 salt)
{
    struct tlb_entry *e = tlb_entry_at(t, lin, salt);
    u32 tag = (lin & PAGE_MASK) | ctx;
    if (e->tag[0] == tag || e->tag[1] == tag || e->tag[2] == tag || e->code_wtag == tag) {
        bool fetches = tlb_entry_fetches(e);
        tlb_entry_clear(e);
        return fetches;
    }
    return false;
}

/* Drop whatever entry caches the linear page of `lin` in the current
 * address space; returns whether it could fetch code. */
static inline bool tlb_drop_page(struct tlb *t, u32 lin)
{
    return tlb_drop_page_in(t, lin, t->ctx, t->salt);
}

#endif
