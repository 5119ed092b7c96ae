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

struct tlb_entry {
    u32 tag[3];       /* per enum mmu_acc */
    u32 pad;
    uintptr_t addend; /* host pointer = (uintptr_t)lin + addend */
    uintptr_t pad2;
};
_Static_assert(sizeof(struct tlb_entry) == 32, "TLB entry must stay 32 bytes");

struct tlb {
    struct tlb_entry e[TLB_SIZE];
} __attribute__((aligned(64)));

static inline void tlb_flush_all(struct tlb *t)
{
    memset(t->e, 0xff, sizeof t->e); /* 0xffffffff has the low bit set */
}

static inline struct tlb_entry *tlb_entry_for(struct tlb *t, u32 lin)
{
    return &t->e[(lin >> PAGE_SHIFT) & (TLB_SIZE - 1)];
}

/* Host pointer for an access of `size` bytes at `lin`, or NULL on a miss. */
static inline u8 *tlb_lookup(struct tlb *t, u32 lin, unsigned size, enum mmu_acc acc)
{
    struct tlb_entry *e = tlb_entry_for(t, lin);
    if (likely(e->tag[acc] == ((lin + size - 1) & PAGE_MASK)))
        return (u8 *)((uintptr_t)lin + e->addend);
    return NULL;
}

#endif
