/*
 * The software TLB (L1): direct-mapped, indexed by linear page number.
 *
 *   entry:  tag[ACC_READ] tag[ACC_WRITE] tag[ACC_FETCH]   addend
 *           (linear page | 0, or TLB_INVALID)             host = lin + addend
 *
 * A hit is one compare and one add.  The tag compared is the page of the
 * access's *last* byte while the index comes from its first byte, so an
 * access that straddles two pages can never hit (the two pages have
 * different indices) and takes the slow path, which splits it.  Anything
 * that must not be touched directly -- MMIO, ROM writes, pages with write
 * tracking, unbacked addresses -- simply never gets a matching tag.
 */
#ifndef UMBRA_MMU_TLB_H
#define UMBRA_MMU_TLB_H

#include <string.h>

#include "common/types.h"

#define TLB_BITS 8
#define TLB_SIZE (1u << TLB_BITS)
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
    uintptr_t pad2;
};
_Static_assert(sizeof(struct tlb_entry) == 32, "TLB entry must stay 32 bytes");

/*
 * One TLB per privilege: tlb[0] serves CPL 0-2, tlb[1] CPL 3, so an entry
 * only carries tags its own privilege may use.  `hits` points at three
 * consecutive counters (read, write, fetch hits) shared by both TLBs.
 */
struct tlb {
    struct tlb_entry e[TLB_SIZE];
    u64 *hits;
} __attribute__((aligned(64)));

static inline void tlb_entry_clear(struct tlb_entry *e)
{
    e->tag[0] = e->tag[1] = e->tag[2] = TLB_INVALID;
    e->flags = 0;
}

static inline void tlb_flush_all(struct tlb *t)
{
    for (unsigned k = 0; k < TLB_SIZE; k++)
        tlb_entry_clear(&t->e[k]);
}

/* Drop the entries without TLB_GLOBAL (a MOV to CR3 with CR4.PGE). */
static inline void tlb_flush_nonglobal(struct tlb *t)
{
    for (unsigned k = 0; k < TLB_SIZE; k++)
        if (!(t->e[k].flags & TLB_GLOBAL))
            tlb_entry_clear(&t->e[k]);
}

static inline struct tlb_entry *tlb_entry_for(struct tlb *t, u32 lin)
{
    return &t->e[(lin >> PAGE_SHIFT) & (TLB_SIZE - 1)];
}

/* Host pointer for an access of `size` bytes at `lin`, or NULL on a miss. */
static inline u8 *tlb_lookup(struct tlb *t, u32 lin, unsigned size, enum mmu_acc acc)
{
    struct tlb_entry *e = tlb_entry_for(t, lin);
    if (likely(e->tag[acc] == ((lin + size - 1) & PAGE_MASK))) {
        t->hits[acc]++;
        return (u8 *)((uintptr_t)lin + e->addend);
    }
    return NULL;
}

/* Drop whatever entry caches the linear page of `lin`. */
static inline void tlb_drop_page(struct tlb *t, u32 lin)
{
    struct tlb_entry *e = tlb_entry_for(t, lin);
    u32 page = lin & PAGE_MASK;
    if (e->tag[0] == page || e->tag[1] == page || e->tag[2] == page)
        tlb_entry_clear(e);
}

#endif
