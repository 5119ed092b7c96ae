/*
 * What the translator's files share (private to translate/): the
 * translator's state, the state of one translation, and the emitters
 * each file offers the others.  See jit.h for the contract and
 * README.md for the register conventions and the files' jobs.
 */
#ifndef UMBRA_TRANSLATE_JIT_PRIV_H
#define UMBRA_TRANSLATE_JIT_PRIV_H

#include <stddef.h>
#include <stdio.h>

#include "jit.h"
#include "backend/codebuf.h"
#include "backend/x64.h"
#include "cpu/cpu_state.h"
#include "cpu/flags.h"
#include "cpu/mem.h"

/* Room one block's code may take at most: 32 instructions with their
 * inline memory accesses (about 70 bytes each), their exits and the
 * accesses' slow paths. */
#define JIT_BLOCK_MAX 16384u

struct jit {
    struct cpu *c;
    struct codebuf buf;
    struct jit_stats st;
    /* Memory-access thunks at the start of the buffer (write view), by
     * size (1, 2, 4 -> 0, 1, 2) and segment; they survive jit_reset. */
    u8 *ld_thunk[3][6];
    u8 *st_thunk[3][6];
    /* Inside each store thunk: where a write-tag miss goes on (RDI the
     * TLB, RAX the entry's offset, RCX the tag sought): the store beside
     * code, then the C path.  An inline store that misses calls it. */
    u8 *st_wtag[3][6];
    size_t thunk_end;
    /* Chaining: a cell per direct exit, holding the successor's chained
     * entry and the MMU epoch it was linked in (a link is only followed
     * in that epoch: any TLB flush or code write unlinks everything at
     * once).  The exit that found its cell unlinked leaves it here for
     * the dispatcher to fill. */
    struct jit_cell *cells;
    u32 ncells, cells_used;
    struct jit_cell *pending;
    /* Cells whose direct jump is patched to their successor (links for
     * every address space): undone at once when the shared epoch moves. */
    u32 *patched;
    u32 npatched;
    u8 *shared_exit; /* the epilogue, where an unlinked cell points */
    struct tx *tx;   /* translation state, kept for reuse */
    /* Indirect exits (RET, JMP/CALL through a register or memory) look
     * their target up here; a miss leaves the entry for the dispatcher. */
    struct jit_ind *ind;
    struct jit_ind *pending_ind;
};

/* An indirect-target entry: valid for EIP `eip` under code key `key` and
 * CS base `cs_base`, in MMU epoch `epoch`. */
struct jit_ind {
    u32 eip;
    u32 epoch;
    u64 target; /* chained entry of the block */
    u32 key;
    u32 cs_base;
    u64 pad;
};
_Static_assert(sizeof(struct jit_ind) == 32, "indirect entries are indexed by a shift of 5");
#define IND_BITS 14
/* jit_ind.key's address-space bits of an entry for every address space
 * (its target is fetched through a global translation); L1 tags stop
 * well below 0xffff. */
#define IND_ANY_SPACE 0xffff0000u
#define IND_SIZE (1u << IND_BITS)

struct jit_cell {
    u64 target; /* host address to jump to */
    u32 epoch;  /* MMU epoch of the link */
    u32 ctx;    /* L1 address-space tag of the link, or CELL_ANY_SPACE */
    u32 page;   /* linear page of the block the exit belongs to */
    u32 pad;
    u8 *direct; /* write view of the rel32 of the exit's direct jump */
};

/* jit_cell.ctx of a link that holds in every address space: its successor
 * is in the page of the block it leaves (which runs, so that page maps in
 * the current space as it did when the link was made), or is fetched
 * through a global translation (CR4.PGE), which may serve every address
 * space until it is invalidated.  Such a link is a patched direct jump,
 * undone as the shared epoch moves; the cell's checks never match it. */
#define CELL_ANY_SPACE (~0u)
#define SHARED_EPOCH_OFF ((i32)(offsetof(struct mmu, shared_epoch) - offsetof(struct mmu, epoch)))

enum fl_state { F_MEM, F_HOST, F_BOTH };

/* An exit out of the middle of the block, emitted after the body. */
struct stub {
    long at;            /* rel32 to patch */
    enum fl_state fl;   /* where the flags were when it was taken */
    u32 retired;        /* instructions of the block retired at the exit */
    bool set_eip;       /* store `eip` (else EIP is already right) */
    u32 eip;
    /* A taken jump checked against the CS limit: if the target is past
     * it, the handler of instruction `k` runs to raise the fault. */
    bool limit_check;
    bool chain;         /* a direct exit to `eip`: may link to its block */
    bool indirect;      /* an exit to wherever a handler jumped: look it up */
    u8 undo_ecx;        /* LOOP: ECX (this size) was stepped before the
                         * limit check; undone before the handler runs */
    unsigned k;
    u32 insn_eip, next;
    u32 synced;         /* block instructions counted when it was taken */
};

#define MAX_STUBS 128

/* The slow path of an inline memory access (tx_access), emitted
 * after the body: a call of the access's thunk, its payload, and a jump
 * back to `back`. */
struct slow_access {
    long at[3];       /* rel32s of the jumps that miss: [1] with ESI the
                       * linear address when `based`, else the offset */
    bool based;       /* the access added the segment's base to ESI */
    u8 seg;
    const u8 *wtag;   /* a store's write-tag miss calls this (st_wtag) */
    const u8 *thunk;
    u8 count;         /* the payload's instructions not yet counted */
    u32 eip;          /* and its EIP */
    const u8 *back;
};

#define MAX_SLOW 64

struct tx {
    struct x64 e;
    struct jit *j;
    struct cpu *c;
    const struct insn *ins;
    enum fl_state fl;
    u32 synced;     /* block instructions already added to icount */
    bool esp_dirty; /* ESP may differ from insn_esp */
    u32 mask;       /* EIP wrap: 0xffff in 16-bit code */
    u32 page;       /* the block's linear page */
    const u8 *epi;  /* the block's epilogue (once emitted) */
    struct stub stub[MAX_STUBS];
    unsigned nstub;
    struct slow_access slow[MAX_SLOW];
    unsigned nslow;
    bool too_many;
    /* Guest registers cached in host registers, write-through: struct
     * cpu always holds every guest register, and creg[r] (R8-R11, RBP or
     * X_NONE) holds r as well where cvalid[r] says so.  Only the full
     * 32-bit register is cached, never ESP.  Calls into C clobber the
     * cache (cvalid cleared); the memory thunks keep it. */
    i8 creg[8];
    bool cvalid[8];
    /* Bit k: the flags instruction k writes are never observed -- the
     * next instruction that touches them writes all six first, and
     * nothing between can fault, call out or leave (tx_flags_dead). */
    u64 fl_dead;
    /* lf_live in struct cpu is known to be LF_HOST here (stored earlier
     * on the straight path, nothing since could change it): a flag save
     * stores only lf_aux, and a reader needs no test of the form. */
    bool lf_host;
};

/* The liveness pass over a block's instructions: tx.fl_dead. */
u64 tx_flags_dead(const struct insn *ins, unsigned n);

/* Whether instruction k may leave the flags it writes unmade. */
static inline bool tx_flags_unseen(const struct tx *t, unsigned k)
{
    return k < 64 && (t->fl_dead >> k & 1);
}

#define OFF(field) ((i32)offsetof(struct cpu, field))
#define CPU(field) x64_m(X_RBX, OFF(field))

/* Where guest register `r` of `size` lives in struct cpu (byte registers
 * 4-7 are AH..BH, the second byte of EAX..EBX). */
static inline struct x64_mem greg(unsigned r, unsigned size)
{
    if (size == 1 && r >= 4)
        return x64_m(X_RBX, OFF(r) + 4 * (i32)(r - 4) + 1);
    return x64_m(X_RBX, OFF(r) + 4 * (i32)r);
}

/* ---- jit.c: flags, exits, syncing for faults and calls ---- */

/* The guest register cache (struct tx.creg).  The tx_gr_* forms stand
 * for the same host instruction on the guest register in struct cpu
 * (greg), using and updating the cached copy where there is one. */
void tx_cache_choose(struct tx *t, const struct insn *ins, unsigned n);
void tx_cache_forget(struct tx *t);
void tx_gr_load(struct tx *t, unsigned size, enum x64_reg dst, unsigned r);
/* The host register caching guest register r (loaded if need be), or
 * X_NONE if r is not cached. */
enum x64_reg tx_gr_host(struct tx *t, unsigned r);
void tx_gr_store(struct tx *t, unsigned size, unsigned r, enum x64_reg src);
void tx_gr_store_imm(struct tx *t, unsigned size, unsigned r, u32 imm);
/* op guest r, src / op guest r, imm (CMP writes nothing back) */
void tx_gr_alu_rr(struct tx *t, enum x64_alu op, unsigned size, unsigned r, enum x64_reg src);
void tx_gr_alu_ri(struct tx *t, enum x64_alu op, unsigned size, unsigned r, u32 imm);
/* op dst, guest r (dst a host register) */
void tx_gr_alu_from(struct tx *t, enum x64_alu op, unsigned size, enum x64_reg dst, unsigned r);
void tx_gr_test_ri(struct tx *t, unsigned size, unsigned r, u32 imm);
void tx_gr_cmov(struct tx *t, unsigned cc, unsigned size, enum x64_reg dst, unsigned r);

/* Call fn(struct cpu *) (clobbers the caller-saved registers). */
void tx_call_cpu(struct x64 *e, const void *fn);

/* Put host flags that only the host holds into struct cpu. */
void tx_flags_save(struct tx *t);

/* EAX = the host's OSZAPC in the LF_HOST form (flags.h: AH as LAHF
 * leaves it, AL = OF); the host flags are left as they are. */
void tx_host_flags_form(struct x64 *e);

/* Make the host flags hold the guest's (for a reader). */
void tx_flags_to_host(struct tx *t);
/* EAX = the guest's flags in the LF_HOST form (flags.h); the host flags
 * are clobbered unless they held the guest's. */
void tx_flags_image(struct tx *t);

/* Make the host CF the guest's, for an instruction that reads only CF and
 * then writes every other arithmetic flag (ADC, SBB, INC, DEC): one bit
 * test of the lazy or the plain form, instead of loading all six. */
void tx_cf_to_host(struct tx *t);

/* Store the lazy flags of a result in EAX (32-bit) with the aux word in
 * EDX (flags.h: bit 31 CF, bit 30 CF^OF, bit 3 AF). */
void tx_flags_lazy(struct tx *t);

/* The guest's flags become the host flags kept in R14 (after the store
 * of a read-modify-write succeeded); INC and DEC keep the guest's CF. */
void tx_commit_r14_flags(struct tx *t, bool keep_cf);

/* ---- exits ---- */
struct stub *tx_stub_new(struct tx *t, long at, u32 retired);

/* Leave the block if host condition `cc` holds, `retired` instructions
 * retired; EIP is stored as `eip` if set_eip. */
void tx_exit_if(struct tx *t, int cc, u32 retired, bool set_eip, u32 eip);

/* ---- syncing for faults and calls ---- */
void tx_call_handler(struct tx *t, const struct insn *i);

/* Make the state precise for instruction `k` at `eip`, which may fault. */
void tx_sync_fault(struct tx *t, unsigned k, u32 eip);
/* The same for a memory access through a thunk (tx_access), which
 * needs only the flags and the start ESP stored: the thunk's C path
 * takes EIP and the instruction count from the call site (below). */
void tx_sync_access(struct tx *t);

/* Leave after instruction `k`, with EIP at `after`, if the MMU epoch
 * moved (a store reached code, or a TLB flush). */
void tx_check_epoch(struct tx *t, unsigned k, u32 after);

/* ---- jit_mem.c: memory accesses ---- */

/* ESI = the effective address of the memory operand of `i`. */
void tx_emit_ea(struct tx *t, const struct insn *i);

/* EAX = the memory operand of `i` (zero-extended), through the MMU. */
void tx_emit_load(struct tx *t, const struct insn *i, unsigned k, u32 eip, unsigned size);

/* Store EDX (already loaded) to the memory operand at ESI. */
void tx_emit_store_call(struct tx *t, unsigned seg, unsigned size, unsigned k, u32 eip,
                        u32 next);

/* A memory access of `size` bytes through segment `seg` for instruction
 * `k` at `eip` (after tx_sync_access), with the registers and result of
 * its thunk (tx_emit_thunk): the L1 TLB
 * hit path inline, and on a miss a call of the thunk from a slow path
 * after the body (tx_emit_slow).  The call is followed by an eight-byte
 * NOP whose SIB byte holds k minus the instructions already counted and
 * whose displacement holds `eip`: on its C path the thunk reads them at
 * its return address, counts the instructions and sets the start EIP,
 * so a fault is precise, and takes the count back if the access
 * returns. */
void tx_access(struct tx *t, unsigned size, unsigned seg, bool store, unsigned k, u32 eip);
/* The slow paths of the block's inline accesses. */
void tx_emit_slow(struct tx *t);

/*
 * A memory-access thunk: the L1 TLB hit path of cpu/mem.h in host code,
 * shared by every access of one size, kind and segment.
 *   in:  ESI = effective address, EDX = the value (stores)
 *   out: EAX = the value, zero-extended (loads)
 * A flat segment (`seg.flat` allows the access) makes the linear address
 * the effective address; the TLB tag of the access's last byte must match
 * the entry indexed by its first (so a page-crossing or wrapping access
 * misses).  Anything else -- a segment with a base or limit, a miss, MMIO,
 * a tracked or clean page -- tail-calls the C helper, which checks the
 * segment, takes the MMU's slow path and raises faults -- except a store
 * beside code, which the thunk finishes itself.  Clobbers RAX, RCX, RDX,
 * RSI and RDI; keeps R8-R11 and RBP.
 */
u8 *tx_emit_thunk(struct x64 *e, const struct mmu *m, unsigned size, unsigned seg, bool store,
                  u8 **wtag);

/* ---- jit_chain.c: chaining and indirect lookups ---- */

/* Go on at the block linked to this exit's cell, if it was linked in
 * the current epoch; else leave the cell for the dispatcher to link. */
void tx_emit_chain(struct tx *t, const u8 *epi, bool after_priv);
void jit_unpatch_all(struct jit *j);

/* Go on at the block the indirect-target cache holds for the current
 * EIP, if any; else leave the entry for the dispatcher to fill. */
void tx_emit_indirect(struct tx *t, const u8 *epi);

/* ---- jit_native.c: the native forms ---- */

/* Translate instruction `k` natively.  False if it has no native form
 * here (the caller then emits a handler call). */
bool tx_native(struct tx *t, const struct insn *i, unsigned k, u32 eip, u32 next);

#endif
