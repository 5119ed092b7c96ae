/*
 * libFuzzer harness for the virtual MMU alone: the input is a program of
 * operations on one bus -- stores of arbitrary values anywhere in guest
 * memory (page tables included), MOV CR0/CR3/CR4 and EFER sequences,
 * INVLPG, A20 changes, and reads, writes and fetches at arbitrary linear
 * addresses as supervisor or user -- run under the shadow policy, with
 * the flush policy replaying the same program as a cross-check of fault
 * outcomes.  Property: no crash, no sanitizer report, no access outside
 * guest memory, and both policies agree on whether each access faults
 * when the program flushes before every access.
 *
 *   op byte: low 3 bits = kind, the rest and the following bytes = operands
 */
#include <stdlib.h>
#include <string.h>

#include "mmu/mmu.h"

#define RAM (1u << 20)

struct rd {
    const u8 *p;
    size_t n;
};

static u32 take(struct rd *r, unsigned bytes)
{
    u32 v = 0;
    for (unsigned k = 0; k < bytes && r->n; k++, r->n--)
        v |= (u32)*r->p++ << (8 * k);
    return v;
}

struct bus {
    struct counters cnt;
    struct logger log;
    struct mmu *m;
};

/* Buses are built once per process (libFuzzer's entry point takes no
 * context) and put back to their power-on state before every input. */
static void bus_reset(struct bus *b, enum mmu_policy p)
{
    if (!b->m) {
        memset(&b->cnt, 0, sizeof b->cnt);
        log_init(&b->log);
        b->m = mmu_new(RAM, &b->cnt, &b->log);
        if (!b->m)
            abort();
    }
    memset(b->m->ram, 0, RAM);
    mmu_set_a20(b->m, true);
    mmu_set_efer(b->m, 0);
    (void)mmu_set_paging(b->m, 0, 0, 0);
    mmu_configure(b->m, p, 4); /* few contexts: eviction happens */
}

/* Page-table-ish addresses: mostly inside RAM, sometimes anywhere. */
static u32 pick_gpa(struct rd *r)
{
    u32 v = take(r, 4);
    return (v & 0x80000000u) ? v : (v & (RAM - 1));
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
    static struct bus a, b;
    bus_reset(&a, MMU_SHADOW);
    bus_reset(&b, MMU_FLUSH);
    struct rd r = { data, size };
    u32 cr0 = 0x80000001u, cr3 = 0, cr4 = 0;
    while (r.n) {
        u8 op = (u8)take(&r, 1);
        switch (op & 7) {
        case 0: case 1: { /* store a value (often a PTE-like one) */
            u32 gpa = pick_gpa(&r) & ~3u;
            u32 v = take(&r, 4);
            mmu_phys_write(a.m, gpa, v, 4);
            mmu_phys_write(b.m, gpa, v, 4);
            break;
        }
        case 2: /* MOV CR3 */
            cr3 = pick_gpa(&r);
            (void)mmu_set_paging(a.m, cr0, cr3, cr4);
            (void)mmu_set_paging(b.m, cr0, cr3, cr4);
            break;
        case 3: /* MOV CR0 / CR4 / EFER / A20 */
            switch ((op >> 3) & 3) {
            case 0: cr0 = (take(&r, 4) & 0x80010000u) | 1; break;
            case 1: cr4 = take(&r, 1) & (CR4_PSE | (1u << 5) | (1u << 7)); break;
            case 2: {
                u32 efer = take(&r, 1) & 1 ? (1u << 11) : 0;
                mmu_set_efer(a.m, efer);
                mmu_set_efer(b.m, efer);
                break;
            }
            default: {
                bool on = take(&r, 1) & 1;
                mmu_set_a20(a.m, on);
                mmu_set_a20(b.m, on);
                break;
            }
            }
            (void)mmu_set_paging(a.m, cr0, cr3, cr4);
            (void)mmu_set_paging(b.m, cr0, cr3, cr4);
            break;
        case 4: { /* INVLPG */
            u32 lin = take(&r, 4);
            mmu_invlpg(a.m, lin);
            mmu_invlpg(b.m, lin);
            break;
        }
        default: { /* an access */
            u32 lin = take(&r, 4);
            bool user = op & 8;
            unsigned size = 1u << ((op >> 4) & 3);
            enum mmu_acc acc = (enum mmu_acc)((op >> 6) % 3);
            struct mmu_fault fa, fb;
            u64 va = 0, vb = 0;
            int ra, rb;
            /* Make both see the current tables: the architecture lets a
             * stale translation live until a flush, and the policies may
             * differ in which ones they keep. */
            mmu_invlpg(a.m, lin);
            mmu_invlpg(b.m, lin);
            mmu_invlpg(a.m, lin + size - 1);
            mmu_invlpg(b.m, lin + size - 1);
            if (acc == ACC_WRITE) {
                u32 v = take(&r, 4);
                ra = mmu_lin_write(a.m, lin, size, v, user, &fa);
                rb = mmu_lin_write(b.m, lin, size, v, user, &fb);
            } else {
                ra = mmu_lin_read(a.m, lin, size, acc, user, &va, &fa);
                rb = mmu_lin_read(b.m, lin, size, acc, user, &vb, &fb);
            }
            if (ra != rb || (ra < 0 && (fa.err != fb.err || fa.lin != fb.lin)) ||
                (ra == 0 && va != vb))
                abort();
            break;
        }
        }
    }
    return 0;
}
