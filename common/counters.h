/*
 * The counter registry.  Every counter in Umbra is declared once in
 * COUNTER_LIST; a machine owns one struct counters and each module keeps a
 * pointer to it.  -d mmu-stats prints the array through counter_name()/
 * counter_desc(); anything else that reports counters should read them
 * the same way.
 */
#ifndef UMBRA_COMMON_COUNTERS_H
#define UMBRA_COMMON_COUNTERS_H

#include <stdio.h>

#include "types.h"

#define COUNTER_LIST(X)                                                   \
    X(cpu_insns, "instructions retired")                                  \
    X(cpu_exceptions, "exceptions raised")                                \
    X(cpu_interrupts, "external interrupts delivered")                    \
    X(cpu_task_switches, "hardware task switches")                        \
    X(cpu_decode_cache_hits, "decoded-instruction cache hits")            \
    X(cpu_decode_cache_misses, "decoded-instruction cache misses")        \
    X(blk_blocks_built, "blocks recorded")                                 \
    X(blk_block_hits, "blocks replayed from the block cache")              \
    X(blk_block_insns, "instructions retired by block replays")            \
    X(blk_blocks_kept, "blocks found still good after an MMU epoch change") \
    X(blk_jit_blocks, "blocks translated to host code")                  \
    X(blk_jit_guest_insns, "instructions in translated blocks")          \
    X(blk_jit_native_insns, "of those, compiled to host instructions")   \
    X(blk_jit_host_bytes, "host code bytes written")                     \
    X(blk_jit_ns, "host nanoseconds spent translating")                  \
    X(blk_jit_flushes, "code buffer flushes (full)")                     \
    X(blk_jit_runs, "translated blocks entered from the dispatcher")     \
    X(blk_jit_found, "translations found again after their slot was reused") \
    X(blk_jit_insns, "instructions retired by translated blocks")        \
    X(blk_smc_hot_pages, "pages whose code lines became hot-written")     \
    X(blk_smc_replayed, "translations refused: their page's code keeps changing") \
    /* tlb_hit_read/write/fetch stay consecutive: the TLB indexes them. */ \
    X(tlb_hit_read, "L1 TLB hits, reads")                                 \
    X(tlb_hit_write, "L1 TLB hits, writes")                               \
    X(tlb_hit_fetch, "L1 TLB hits, fetches")                              \
    X(tlb_miss_read, "L1 TLB misses, reads")                              \
    X(tlb_miss_write, "L1 TLB misses, writes")                            \
    X(tlb_miss_fetch, "L1 TLB misses, fetches")                           \
    X(tlb_flush_full, "L1 TLB full flushes")                              \
    X(spt_hits, "L1 misses answered by a shadow entry")                   \
    X(spt_misses, "L1 misses with no usable shadow entry")                \
    X(guest_walks, "guest page-table walks")                              \
    X(wt_traps, "writes trapped on tracked page-table pages")             \
    X(wt_flood, "page-table pages unshadowed by write flooding")          \
    X(spt_zapped, "shadow entries invalidated")                           \
    X(ctx_created, "shadow contexts created")                             \
    X(ctx_reused, "shadow contexts found again on a CR3/mode change")     \
    X(ctx_evicted, "shadow contexts evicted (LRU)")                       \
    X(flush_cr3, "L1 flushes by a MOV to CR3 (global entries kept)")      \
    X(flush_cr0, "L1 full flushes by CR0 paging changes")                 \
    X(flush_cr4, "L1 full flushes by CR4 paging changes")                 \
    X(pge_toggle_kept, "CR4.PGE changes that kept the shadow entries")    \
    X(wp_toggle_kept, "CR0.WP changes that kept the shadow entries")      \
    X(flush_invlpg, "single-page invalidations (INVLPG)")                 \
    X(flush_a20, "full flushes by the A20 gate")                          \
    X(flush_efer, "full flushes by EFER changes")                         \
    X(flush_flood, "full shadow flushes for lack of shadow memory")       \
    X(mmu_mmio_reads, "MMIO reads")                                       \
    X(mmu_mmio_writes, "MMIO writes")                                     \
    X(mmu_unbacked, "accesses to unbacked physical addresses")            \
    X(mmu_code_writes, "writes to code lines of pages holding decoded code") \
    X(mmu_code_near_writes, "writes to other lines of pages holding code") \
    X(io_reads, "port reads")                                             \
    X(io_writes, "port writes")

enum counter_id {
#define X(name, desc) CNT_##name,
    COUNTER_LIST(X)
#undef X
    CNT__COUNT
};

struct counters {
    u64 v[CNT__COUNT];
};

const char *counter_name(enum counter_id id);
const char *counter_desc(enum counter_id id);
/* Print every non-zero counter as "name value" lines. */
void counters_dump(const struct counters *c, FILE *f);

#define COUNT(cnt, name) ((cnt)->v[CNT_##name]++)

#endif
