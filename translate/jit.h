/*
 * The translator: a recorded block of decoded instructions becomes x86-64
 * host code.
 *
 * Instructions that dominate ordinary code (README.md lists them: MOV,
 * LEA, the ALU group, shifts and rotates, multiplies, SETcc, CMOVcc,
 * PUSH/POP, the jumps, calls and returns) become host instructions
 * operating on the guest registers in
 * `struct cpu`, with the guest's arithmetic flags computed by the host's
 * own instructions and kept in the host's EFLAGS until something can read
 * them.  Every other instruction is a call to the handler the decoder
 * chose for it, the same one the interpreter runs, so nothing is ever
 * missing and sensitive instructions reach the CPU's system code (and
 * through it the virtual MMU) exactly as they do when interpreted.
 *
 * Host code contract (what a translated block does to the CPU):
 *  - it runs all of the block's instructions, or stops right after one
 *    that left EIP somewhere else or moved the MMU epoch (a store into
 *    code, a TLB flush); on return EIP, the instruction count and EFLAGS
 *    in `struct cpu` are exact;
 *  - before anything that can fault it stores the faulting instruction's
 *    start EIP and ESP and the count of instructions retired before it,
 *    and the guest flags, so a fault long-jumping out of the host code to
 *    the run loop leaves the state the interpreter would;
 *  - the caller runs a block only when the budget covers all of it.
 */
#ifndef UMBRA_TRANSLATE_JIT_H
#define UMBRA_TRANSLATE_JIT_H

#include "common/types.h"

struct cpu;
struct insn;
struct jit;

/* Translation statistics. */
struct jit_stats {
    u64 blocks;        /* blocks translated */
    u64 guest_insns;   /* instructions in them */
    u64 native_insns;  /* of which compiled to host instructions */
    u64 host_bytes;    /* host code bytes written */
    u64 ns;            /* host time spent translating */
};

/* A translator for `c` with a code buffer of `size` bytes.  NULL if the
 * host refuses the memory (the caller then replays blocks instead). */
struct jit *jit_new(struct cpu *c, size_t size) MUST_CHECK;
void jit_free(struct jit *j);

/* Host code for the `n` decoded instructions `ins` that start at `eip` in
 * the CPU's current mode (the records are copied).  Returns the entry the
 * dispatcher calls with jit_run(), and in *chain the entry a linked
 * predecessor jumps to.  NULL if the buffer is full: the caller forgets
 * every translation it holds and calls jit_reset(). */
void *jit_translate(struct jit *j, const struct insn *ins, unsigned n, u32 eip, void **chain);
/* The last block run left the way to its successor unlinked: link it to
 * `chain` (the successor's chained entry, valid in MMU epoch `epoch`).
 * Call only when the successor about to run is the one that exit named,
 * i.e. right after the run, with nothing in between. */
void jit_link_pending(struct jit *j, void *chain, u32 epoch);
void jit_drop_pending(struct jit *j);
/* Empty the code buffer (every pointer jit_translate gave is dead). */
void jit_reset(struct jit *j);
const struct jit_stats *jit_stats(const struct jit *j);
/* Where the shared memory-access thunks run: *len bytes from the result. */
const void *jit_thunks(const struct jit *j, size_t *len);

/* Run translated code. */
static inline void jit_run(void *code, struct cpu *c)
{
    ((void (*)(struct cpu *))code)(c);
}

#endif
