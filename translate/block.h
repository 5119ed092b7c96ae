/*
 * Pre-decoded basic blocks: the fast executor.
 *
 * A block is the run of instructions that starts at one linear address and
 * goes on, inside one page, until an instruction that transfers control,
 * changes the mode, is privileged or IOPL-sensitive, or was not cacheable.
 * Blocks are recorded the first time they run (each instruction decoded,
 * then executed by its handler, exactly as the interpreter does) and
 * replayed from the cache afterwards with no decoding and no per-instruction
 * lookup.  A not-taken conditional branch does not end a block: on replay,
 * an instruction that leaves EIP anywhere but after itself ends it.
 *
 * Validity follows the interpreter's decoded-instruction cache: a block is
 * keyed by its linear address, the mode word, the CPL and the L1
 * address-space tag, and lives while the MMU epoch it was recorded in does
 * (no TLB flush or drop, no write to a page code was decoded from).  An
 * instruction that moves the epoch ends the block it runs in.
 */
#ifndef UMBRA_TRANSLATE_BLOCK_H
#define UMBRA_TRANSLATE_BLOCK_H

#include "common/counters.h"
#include "common/types.h"

struct cpu;
struct blocks;

/* Create the block cache for `c` and make it the CPU's executor
 * (cpu_set_executor).  NULL if out of memory; the CPU then keeps
 * interpreting. */
struct blocks *blocks_attach(struct cpu *c, struct counters *cnt) MUST_CHECK;
/* Translate hot blocks to host code (translate/jit.h) from now on.
 * Returns 0, or -1 if the host refused the code buffer (blocks are then
 * still replayed). */
int blocks_enable_jit(struct blocks *t) MUST_CHECK;
/* Detach from the CPU and free. */
void blocks_free(struct blocks *t);
/* Forget every block (the board's reset does this). */
void blocks_flush(struct blocks *t);
/* Copy the private hit counts into the counter registry. */
void blocks_sync_counters(struct blocks *t);

/*
 * Watching the block cache (debug/'s tracer and profiler).  A block is
 * named by its linear address `lin` and, when its bytes are in RAM, its
 * RAM page `pfn` (else BLK_NO_PFN: ROM, or a block that faulted before
 * its first instruction was kept).
 */
#define BLK_NO_PFN ~0u
/* Why a block is being recorded (built events): its slot was empty
 * (first time, or everything was forgotten), held another block, or held
 * this block but its bytes were written or its page is mapped elsewhere
 * now (or CS's limit cut it). */
enum blk_cause { BLK_CAUSE_EMPTY, BLK_CAUSE_EVICTED, BLK_CAUSE_CODE_WRITE, BLK_CAUSE_REMAPPED };
struct blk_event {
    u32 lin;       /* linear address of the first instruction */
    u32 pfn;       /* RAM page of its bytes, or BLK_NO_PFN */
    u32 eip;       /* EIP of the first instruction */
    u32 mode;      /* mode word (MODE_*) it was decoded in */
    u32 n;         /* instructions in the block */
    u32 bytes;     /* guest bytes */
    u64 icount;    /* executed: instructions retired before it ran */
    u64 retired;   /* executed: instructions it retired */
    const void *host; /* translated: host code (else NULL) */
    u32 host_len;  /* translated: its length in bytes */
    u8 cause;      /* built: enum blk_cause */
};

/*
 * The hooks, each optional.  `built`: a block was recorded (its first
 * run, which decoded it).  `translated`: host code was made for it.
 * `executed`: it ran (replayed, translated or recorded), after the run;
 * a run that faults is not reported.  With `nochain` (or `executed`
 * set), translated blocks are never linked to each other: every block
 * returns to the dispatcher, so each run is seen.  `translated` alone
 * (-perfmap, -d out_asm) leaves linking as it is, so what is profiled
 * runs as it does unobserved.  A cache with no observer pays one
 * predictable branch per dispatched block.
 */
struct blocks_observer {
    void *opaque;
    void (*built)(void *opaque, const struct blk_event *e);
    void (*translated)(void *opaque, const struct blk_event *e);
    void (*executed)(void *opaque, const struct blk_event *e);
    bool nochain;
};

/* Install (or with NULL remove) the observer; it is copied.  Call
 * before the machine runs: links made earlier stay. */
void blocks_set_observer(struct blocks *t, const struct blocks_observer *o);
/* An observer is installed. */
bool blocks_observed(const struct blocks *t);
/* The translator's shared host code (the memory-access thunks), for a
 * profiler to name: NULL without a translator. */
const void *blocks_host_thunks(const struct blocks *t, size_t *len);

#endif
