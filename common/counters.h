/*
 * The counter registry.  Every counter in Umbra is declared once in
 * COUNTER_LIST; a machine owns one struct counters and each module keeps a
 * pointer to it.  The monitor, the profiler and -d mmu-stats read the same
 * array through counter_name()/counter_desc().
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
    X(tlb_hits_read, "L1 TLB hits, reads (counted on the slow path only)") \
    X(tlb_miss_read, "L1 TLB misses, reads")                              \
    X(tlb_miss_write, "L1 TLB misses, writes")                            \
    X(tlb_miss_fetch, "L1 TLB misses, fetches")                           \
    X(tlb_flush_full, "L1 TLB full flushes")                              \
    X(mmu_mmio_reads, "MMIO reads")                                       \
    X(mmu_mmio_writes, "MMIO writes")                                     \
    X(mmu_unbacked, "accesses to unbacked physical addresses")            \
    X(mmu_code_writes, "writes to pages holding decoded code")            \
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
