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

#endif
