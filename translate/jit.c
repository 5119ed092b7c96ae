/*
 * The translator (see jit.h).
 *
 * Register conventions of translated code (translate/README.md):
 *   RBX  struct cpu *            (pinned for the whole block)
 *   R13  &mmu->epoch              R12d  the epoch at block entry
 *   R14  host flags of a read-modify-write, kept across its store
 *   R15  the effective address of a read-modify-write
 *   RAX RCX RDX RSI RDI           scratch; the guest registers stay in
 *                                 struct cpu and are operated on in place
 * Entry pushes RBX and R12-R15, which leaves RSP 16-byte aligned for the
 * calls out to handlers and memory helpers.
 *
 * Flags.  The translator tracks where the guest's OSZAPC are at each point
 * of the block: in struct cpu (F_MEM), in the host EFLAGS only (F_HOST:
 * a native instruction computed them), or in both (F_BOTH: loaded for a
 * reader).  Host flags are saved into struct cpu only where something may
 * read them there: a handler call, anything that can fault (an exception
 * pushes EFLAGS), and a block exit.  A flag result written again before
 * any of those is never saved.
 *
 * Faults.  Before an instruction that can fault the code stores its start
 * EIP, its start ESP (only if ESP changed since the last store) and adds
 * the instructions retired since the last such point to the instruction
 * count; the run loop's fault path then finds exactly what the block
 * executor's replay leaves.
 */
#include "jit.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "backend/codebuf.h"
#include "backend/x64.h"
#include "cpu/cpu_state.h"
#include "cpu/flags.h"
#include "cpu/mem.h"

/* Room one block's code may take at most: 32 instructions of at most
 * about 80 bytes each, and their exits. */
#define JIT_BLOCK_MAX 8192u

struct jit {
    struct cpu *c;
    struct codebuf buf;
    struct jit_stats st;
    /* Memory-access thunks at the start of the buffer (write view), by
     * size (1, 2, 4 -> 0, 1, 2) and segment; they survive jit_reset. */
    u8 *ld_thunk[3][6];
    u8 *st_thunk[3][6];
    size_t thunk_end;
    /* Chaining: a cell per direct exit, holding the successor's chained
     * entry and the MMU epoch it was linked in (a link is only followed
     * in that epoch: any TLB flush or code write unlinks everything at
     * once).  The exit that found its cell unlinked leaves it here for
     * the dispatcher to fill. */
    struct jit_cell *cells;
    u32 ncells, cells_used;
    struct jit_cell *pending;
    u8 *shared_exit; /* the epilogue, where an unlinked cell points */
    struct tx *tx;   /* translation state, kept for reuse */
    /* Indirect exits (RET, JMP/CALL through a register or memory) look
     * their target up here; a miss leaves the entry for the dispatcher. */
    struct jit_ind *ind;
    struct jit_ind *pending_ind;
    FILE *perf_map; /* UMBRA_PERF_MAP: symbols for perf(1), or NULL */
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
#define IND_BITS 12
#define IND_SIZE (1u << IND_BITS)

struct jit_cell {
    u64 target; /* host address to jump to */
    u32 epoch;  /* MMU epoch of the link */
    u32 ctx;    /* L1 address-space tag of the link */
};

/* ---- helpers the translated code calls ---- */

static u32 jit_ld1(struct cpu *c, u32 ea, u32 s) { return mem_read(c, s, ea, 1); }
static u32 jit_ld2(struct cpu *c, u32 ea, u32 s) { return mem_read(c, s, ea, 2); }
static u32 jit_ld4(struct cpu *c, u32 ea, u32 s) { return mem_read(c, s, ea, 4); }
static void jit_st1(struct cpu *c, u32 ea, u32 v, u32 s) { mem_write(c, s, ea, v, 1); }
static void jit_st2(struct cpu *c, u32 ea, u32 v, u32 s) { mem_write(c, s, ea, v, 2); }
static void jit_st4(struct cpu *c, u32 ea, u32 v, u32 s) { mem_write(c, s, ea, v, 4); }

/* The guest's OSZAPC, for loading into the host flags. */
static u32 jit_flags_get(struct cpu *c)
{
    return get_eflags(c) & EFLAGS_OSZAPC;
}

static const void *const ld_fn[5] = { NULL, jit_ld1, jit_ld2, NULL, jit_ld4 };
static const void *const st_fn[5] = { NULL, jit_st1, jit_st2, NULL, jit_st4 };

static unsigned size_index(unsigned size)
{
    return size == 4 ? 2 : size - 1;
}

/* ---- translation state ---- */

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

struct tx {
    struct x64 e;
    struct jit *j;
    struct cpu *c;
    const struct insn *ins;
    enum fl_state fl;
    u32 synced;     /* block instructions already added to icount */
    bool esp_dirty; /* ESP may differ from insn_esp */
    u32 mask;       /* EIP wrap: 0xffff in 16-bit code */
    const u8 *epi;  /* the block's epilogue (once emitted) */
    struct stub stub[MAX_STUBS];
    unsigned nstub;
    bool too_many;
};

#define OFF(field) ((i32)offsetof(struct cpu, field))
#define CPU(field) x64_m(X_RBX, OFF(field))

/* Where guest register `r` of `size` lives in struct cpu (byte registers
 * 4-7 are AH..BH, the second byte of EAX..EBX). */
static struct x64_mem greg(unsigned r, unsigned size)
{
    if (size == 1 && r >= 4)
        return x64_m(X_RBX, OFF(r) + 4 * (i32)(r - 4) + 1);
    return x64_m(X_RBX, OFF(r) + 4 * (i32)r);
}

/* Call fn(struct cpu *) (clobbers the caller-saved registers). */
static void call_cpu(struct x64 *e, const void *fn)
{
    x64_mov_rr(e, 8, X_RDI, X_RBX);
    x64_call_abs(e, fn);
}

/* ---- flags ---- */

/* Put host flags that only the host holds into struct cpu. */
static void flags_save(struct tx *t)
{
    if (t->fl != F_HOST) {
        t->fl = F_MEM;
        return;
    }
    /* The host's EFLAGS image as it is (flags.h, LF_HOST). */
    struct x64 *e = &t->e;
    x64_pushfq(e);
    x64_pop(e, X_RAX);
    x64_store(e, 4, CPU(lf_aux), X_RAX);
    x64_store_imm(e, 1, CPU(lf_live), LF_HOST);
    t->fl = F_MEM;
}

/* Make the host flags hold the guest's (for a reader). */
static void flags_to_host(struct tx *t)
{
    if (t->fl != F_MEM)
        return;
    struct x64 *e = &t->e;
    x64_load(e, 4, X_RAX, CPU(lf_aux));
    x64_alu_mi(e, XA_CMP, 1, CPU(lf_live), LF_HOST);
    long image = x64_jcc(e, 4 /* e */, NULL);
    call_cpu(e, jit_flags_get);
    x64_patch_rel32(e->start, image, e->p);
    /* Only OSZAPC: the rest of the host's EFLAGS (DF, TF, AC) stays. */
    x64_alu_ri(e, XA_AND, 4, X_RAX, EFLAGS_OSZAPC | EFLAGS_FIXED);
    x64_push(e, X_RAX);
    x64_popfq(e);
    t->fl = F_BOTH;
}

/* Make the host CF the guest's, for an instruction that reads only CF and
 * then writes every other arithmetic flag (ADC, SBB, INC, DEC): one bit
 * test of the lazy or the plain form, instead of loading all six. */
static void cf_to_host(struct tx *t)
{
    if (t->fl != F_MEM)
        return;
    struct x64 *e = &t->e;
    x64_alu_mi(e, XA_CMP, 1, CPU(lf_live), LF_LAZY);
    long not_lazy = x64_jcc(e, 5 /* ne */, NULL);
    x64_bt_mi(e, CPU(lf_aux), LF_CF);
    long done = x64_jmp(e, NULL);
    x64_patch_rel32(e->start, not_lazy, e->p);
    long plain = x64_jcc(e, 2 /* b: lf_live < LF_LAZY */, NULL);
    x64_bt_mi(e, CPU(lf_aux), 0);
    long done2 = x64_jmp(e, NULL);
    x64_patch_rel32(e->start, plain, e->p);
    x64_bt_mi(e, CPU(eflags), 0);
    x64_patch_rel32(e->start, done, e->p);
    x64_patch_rel32(e->start, done2, e->p);
}

/* Store the lazy flags of a result in EAX (32-bit) with the aux word in
 * EDX (flags.h: bit 31 CF, bit 30 CF^OF, bit 3 AF). */
static void flags_lazy(struct tx *t)
{
    struct x64 *e = &t->e;
    x64_store(e, 4, CPU(lf_res), X_RAX);
    x64_store(e, 4, CPU(lf_aux), X_RDX);
    x64_store_imm(e, 1, CPU(lf_live), 1);
    t->fl = F_MEM;
}

/* The guest's flags become the host flags kept in R14 (after the store
 * of a read-modify-write succeeded); INC and DEC keep the guest's CF. */
static void commit_r14_flags(struct tx *t, bool keep_cf)
{
    struct x64 *e = &t->e;
    if (keep_cf) {
        call_cpu(e, jit_flags_get);
        x64_alu_ri(e, XA_AND, 4, X_RAX, EFLAGS_CF);
        x64_alu_ri(e, XA_AND, 4, X_R14, ~EFLAGS_CF);
        x64_alu_rr(e, XA_OR, 4, X_R14, X_RAX);
    }
    x64_store(e, 4, CPU(lf_aux), X_R14);
    x64_store_imm(e, 1, CPU(lf_live), LF_HOST);
    t->fl = F_MEM;
}

/* ---- exits ---- */

static struct stub *stub_new(struct tx *t, long at, u32 retired)
{
    if (t->nstub == MAX_STUBS) {
        t->too_many = true;
        return &t->stub[0];
    }
    struct stub *s = &t->stub[t->nstub++];
    *s = (struct stub){ .at = at, .fl = t->fl, .retired = retired, .synced = t->synced };
    return s;
}

/* Leave the block if host condition `cc` holds, `retired` instructions
 * retired; EIP is stored as `eip` if set_eip. */
static void exit_if(struct tx *t, int cc, u32 retired, bool set_eip, u32 eip)
{
    long at = cc < 0 ? x64_jmp(&t->e, NULL) : x64_jcc(&t->e, (unsigned)cc, NULL);
    struct stub *s = stub_new(t, at, retired);
    s->set_eip = set_eip;
    s->eip = eip;
}

static void emit_epilogue(struct x64 *e)
{
    x64_pop(e, X_R15);
    x64_pop(e, X_R14);
    x64_pop(e, X_R13);
    x64_pop(e, X_R12);
    x64_pop(e, X_RBX);
    x64_ret(e);
}

/* Go on at the block linked to this exit's cell, if it was linked in
 * the current epoch; else leave the cell for the dispatcher to link. */
static void emit_chain(struct tx *t, const u8 *epi)
{
    struct x64 *e = &t->e;
    struct jit *j = t->j;
    if (j->cells_used == j->ncells) {
        t->too_many = true;
        return;
    }
    struct jit_cell *cell = &j->cells[j->cells_used++];
    cell->target = (u64)(uintptr_t)codebuf_exec_addr(&j->buf, j->shared_exit);
    cell->epoch = ~0u;
    /* The epoch now, not at entry: a handler in this block may have moved
     * it, and the successor runs under it. */
    x64_load(e, 4, X_R12, x64_m(X_R13, 0));
    x64_mov_ri64(e, X_RAX, (u64)(uintptr_t)cell);
    x64_alu_rm(e, XA_CMP, 4, X_R12, x64_m(X_RAX, (i32)offsetof(struct jit_cell, epoch)));
    long unlinked = x64_jcc(e, 5 /* ne */, NULL);
    /* A translation serves every address space that maps its page, so a
     * link holds for the address space it was made in only. */
    x64_load(e, 8, X_RCX, CPU(tlb));
    x64_load(e, 4, X_RCX, x64_m(X_RCX, (i32)offsetof(struct tlb, ctx)));
    x64_alu_rm(e, XA_CMP, 4, X_RCX, x64_m(X_RAX, (i32)offsetof(struct jit_cell, ctx)));
    long other_space = x64_jcc(e, 5 /* ne */, NULL);
    x64_jmp_m(e, x64_m(X_RAX, 0));
    x64_patch_rel32(e->start, unlinked, e->p);
    x64_patch_rel32(e->start, other_space, e->p);
    x64_mov_ri64(e, X_RCX, (u64)(uintptr_t)&j->pending);
    x64_store(e, 8, x64_m(X_RCX, 0), X_RAX);
    x64_jmp(e, epi);
}

/* Go on at the block the indirect-target cache holds for the current
 * EIP, if any; else leave the entry for the dispatcher to fill. */
static void emit_indirect(struct tx *t, const u8 *epi)
{
    struct x64 *e = &t->e;
    struct jit *j = t->j;
    x64_load(e, 4, X_R12, x64_m(X_R13, 0)); /* as in emit_chain */
    x64_load(e, 4, X_RAX, CPU(eip));
    x64_mov_rr(e, 4, X_RCX, X_RAX);
    x64_shift_ri(e, XS_SHR, 4, X_RCX, IND_BITS);
    x64_alu_rr(e, XA_XOR, 4, X_RCX, X_RAX);
    x64_alu_ri(e, XA_AND, 4, X_RCX, IND_SIZE - 1);
    x64_shift_ri(e, XS_SHL, 4, X_RCX, 5);
    x64_mov_ri64(e, X_RDX, (u64)(uintptr_t)j->ind);
    x64_lea64(e, X_RDX, (struct x64_mem){ X_RDX, X_RCX, 1, 0 });
    long miss[4];
    x64_alu_rm(e, XA_CMP, 4, X_RAX, x64_m(X_RDX, (i32)offsetof(struct jit_ind, eip)));
    miss[0] = x64_jcc(e, 5, NULL);
    x64_alu_rm(e, XA_CMP, 4, X_R12, x64_m(X_RDX, (i32)offsetof(struct jit_ind, epoch)));
    miss[1] = x64_jcc(e, 5, NULL);
    /* The code key of now (cpu_code_key): the mode and CPL are this
     * block's, the address space is whichever runs it. */
    x64_load(e, 8, X_RCX, CPU(tlb));
    x64_load(e, 4, X_RCX, x64_m(X_RCX, (i32)offsetof(struct tlb, ctx)));
    x64_shift_ri(e, XS_SHL, 4, X_RCX, 16);
    x64_alu_ri(e, XA_OR, 4, X_RCX, cpu_code_key(t->c) & 0xffffu);
    x64_alu_rm(e, XA_CMP, 4, X_RCX, x64_m(X_RDX, (i32)offsetof(struct jit_ind, key)));
    miss[2] = x64_jcc(e, 5, NULL);
    x64_load(e, 4, X_RCX, CPU(seg[S_CS].base));
    x64_alu_rm(e, XA_CMP, 4, X_RCX, x64_m(X_RDX, (i32)offsetof(struct jit_ind, cs_base)));
    miss[3] = x64_jcc(e, 5, NULL);
    x64_jmp_m(e, x64_m(X_RDX, (i32)offsetof(struct jit_ind, target)));
    for (unsigned k = 0; k < 4; k++)
        x64_patch_rel32(e->start, miss[k], e->p);
    x64_mov_ri64(e, X_RCX, (u64)(uintptr_t)&j->pending_ind);
    x64_store(e, 8, x64_m(X_RCX, 0), X_RDX);
    x64_jmp(e, epi);
}

/* The common tail of an exit: flags saved, instructions counted, then
 * back to the dispatcher or on to a linked block. */
static void exit_tail(struct tx *t, enum fl_state fl, u32 retired, u32 synced, const u8 *epi,
                      bool chain)
{
    enum fl_state keep = t->fl;
    t->fl = fl;
    flags_save(t);
    t->fl = keep;
    if (retired != synced)
        x64_alu_mi(&t->e, XA_ADD, 8, CPU(icount), retired - synced);
    if (chain)
        emit_chain(t, epi);
    else if (!epi)
        emit_indirect(t, t->epi);
    else
        x64_jmp(&t->e, epi);
}

/* ---- syncing for faults and calls ---- */

static void call_handler(struct tx *t, const struct insn *i)
{
    struct x64 *e = &t->e;
    x64_mov_rr(e, 8, X_RDI, X_RBX);
    x64_mov_ri64(e, X_RSI, (u64)(uintptr_t)i);
    x64_call_abs(e, (const void *)i->fn);
}

/* Make the state precise for instruction `k` at `eip`, which may fault. */
static void sync_fault(struct tx *t, unsigned k, u32 eip)
{
    struct x64 *e = &t->e;
    flags_save(t);
    x64_store_imm(e, 4, CPU(insn_eip), eip);
    if (t->esp_dirty) {
        x64_load(e, 4, X_RAX, CPU(r[R_ESP]));
        x64_store(e, 4, CPU(insn_esp), X_RAX);
        t->esp_dirty = false;
    }
    if (k != t->synced) {
        x64_alu_mi(e, XA_ADD, 8, CPU(icount), k - t->synced);
        t->synced = k;
    }
}

/* Leave after instruction `k`, with EIP at `after`, if the MMU epoch
 * moved (a store reached code, or a TLB flush). */
static void check_epoch(struct tx *t, unsigned k, u32 after)
{
    struct x64 *e = &t->e;
    x64_alu_mr(e, XA_CMP, 4, x64_m(X_R13, 0), X_R12);
    exit_if(t, 5 /* ne */, k + 1, true, after);
}

/* ESI = the effective address of the memory operand of `i`. */
static void emit_ea(struct tx *t, const struct insn *i)
{
    struct x64 *e = &t->e;
    bool b = i->base != R_ZERO, x = i->index != R_ZERO;
    if (b)
        x64_load(e, 4, X_RCX, CPU(r[i->base]));
    if (x)
        x64_load(e, 4, X_RDX, CPU(r[i->index]));
    if (!b && !x)
        x64_mov_ri32(e, X_RSI, i->disp);
    else
        x64_lea32(e, X_RSI, (struct x64_mem){ b ? X_RCX : X_NONE, x ? X_RDX : X_NONE,
                                               (u8)(1u << i->scale), (i32)i->disp });
    if (i->asz == 2)
        x64_movzx_rr(e, 2, X_RSI, X_RSI);
}

/* EAX = the memory operand of `i` (zero-extended), through the MMU. */
static void emit_load(struct tx *t, const struct insn *i, unsigned k, u32 eip, unsigned size)
{
    struct x64 *e = &t->e;
    sync_fault(t, k, eip);
    emit_ea(t, i);
    x64_call_rel(e, t->j->ld_thunk[size_index(size)][i->seg]);
}

/* Store EDX (already loaded) to the memory operand at ESI. */
static void emit_store_call(struct tx *t, unsigned seg, unsigned size, unsigned k, u32 next)
{
    x64_call_rel(&t->e, t->j->st_thunk[size_index(size)][seg]);
    check_epoch(t, k, next);
}

/* ---- native forms ---- */

static bool is_alu_row(unsigned opc)
{
    return opc < 0x40 && (opc & 7) < 6;
}

/* Jump to `target` (taken Jcc, JMP, CALL): leave the block with EIP there,
 * if host condition `cc` holds (-1: always).  `limit`: the target still
 * has to be checked against the CS limit. */
static void jump_out(struct tx *t, int cc, unsigned k, u32 eip, u32 next, u32 target, bool limit)
{
    long at = cc < 0 ? x64_jmp(&t->e, NULL) : x64_jcc(&t->e, (unsigned)cc, NULL);
    struct stub *s = stub_new(t, at, k + 1);
    s->set_eip = true;
    s->eip = target;
    s->limit_check = limit;
    s->chain = true;
    s->chain = true;
    s->k = k;
    s->insn_eip = eip;
    s->next = next;
}

/* A read-modify-write of the memory operand of `i`: load (may fault),
 * compute in EAX with the host flags saved in R14, store (may fault, and
 * then nothing has changed), and only then commit the flags.  `op` is an
 * ALU operation with `src` (a guest register, or an immediate when
 * src_reg is false), or one of the unary forms below. */
enum rmw_op { RMW_ALU, RMW_INC, RMW_DEC, RMW_NOT, RMW_NEG };

static void emit_rmw(struct tx *t, const struct insn *i, unsigned k, u32 eip, u32 next,
                     enum rmw_op kind, enum x64_alu op, bool src_reg, u32 src)
{
    struct x64 *e = &t->e;
    unsigned sz = i->osz;
    sync_fault(t, k, eip);
    emit_ea(t, i);
    x64_mov_rr(e, 4, X_R15, X_RSI);
    x64_call_rel(e, t->j->ld_thunk[size_index(sz)][i->seg]);
    switch (kind) {
    case RMW_ALU:
        if (src_reg) {
            x64_load(e, sz, X_RCX, greg(src, sz));
            x64_alu_rr(e, op, sz, X_RAX, X_RCX);
        } else {
            x64_alu_ri(e, op, sz, X_RAX, src);
        }
        break;
    case RMW_INC: x64_inc_r(e, sz, X_RAX); break;
    case RMW_DEC: x64_dec_r(e, sz, X_RAX); break;
    case RMW_NOT: x64_not_r(e, sz, X_RAX); break;
    case RMW_NEG: x64_neg_r(e, sz, X_RAX); break;
    }
    if (kind != RMW_NOT) {
        x64_pushfq(e);
        x64_pop(e, X_R14);
    }
    x64_mov_rr(e, 4, X_RDX, X_RAX);
    x64_mov_rr(e, 4, X_RSI, X_R15);
    x64_call_rel(e, t->j->st_thunk[size_index(sz)][i->seg]);
    if (kind != RMW_NOT)
        commit_r14_flags(t, kind == RMW_INC || kind == RMW_DEC);
    check_epoch(t, k, next);
}

/* SHL/SAL, SHR, SAR of a 32-bit register by an immediate or CL, with
 * the flags the handler gives (cpu/ops_alu.c shift_compute: OF from the
 * result for SHL, from the operand for SHR, clear for SAR; AF clear),
 * stored lazily.  A count of 0 changes nothing. */
static bool emit_shift(struct tx *t, const struct insn *i)
{
    struct x64 *e = &t->e;
    unsigned op = i->reg;
    if (i->osz != 4 || i->mod != 3 || (op != 4 && op != 5 && op != 6 && op != 7))
        return false;
    enum x64_shift hop = op == 5 ? XS_SHR : op == 7 ? XS_SAR : XS_SHL;
    bool by_cl = i->opc == 0xd3;
    unsigned n = i->opc == 0xd1 ? 1 : i->imm & 31;
    long skip = -1;
    if (by_cl) {
        flags_save(t);
        x64_movzx_rm(e, 1, X_RCX, greg(R_ECX, 1));
        x64_alu_ri(e, XA_AND, 4, X_RCX, 31);
        skip = x64_jcc(e, 4 /* e */, NULL);
    } else if (n == 0) {
        return true;
    }
    x64_load(e, 4, X_RAX, greg(i->rm, 4));
    x64_mov_rr(e, 4, X_RDI, X_RAX);
    if (by_cl)
        x64_shift_rcl(e, hop, 4, X_RAX);
    else
        x64_shift_ri(e, hop, 4, X_RAX, (u8)n);
    x64_setcc(e, 2 /* b: CF */, X_RDX);
    x64_movzx_rr(e, 1, X_RDX, X_RDX);
    x64_shift_ri(e, XS_SHL, 4, X_RDX, 31); /* CF in bit 31 */
    /* CF ^ OF into bit 30: SHL: OF = msb(r) ^ CF, so it is msb(r);
     * SHR: OF = msb(a); SAR: OF = 0, so it is CF. */
    if (hop == XS_SHL) {
        x64_mov_rr(e, 4, X_RSI, X_RAX);
    } else if (hop == XS_SHR) {
        x64_mov_rr(e, 4, X_RSI, X_RDX);
        x64_alu_rr(e, XA_XOR, 4, X_RSI, X_RDI);
    } else {
        x64_mov_rr(e, 4, X_RSI, X_RDX);
    }
    x64_shift_ri(e, XS_SHR, 4, X_RSI, 31);
    x64_shift_ri(e, XS_SHL, 4, X_RSI, 30);
    x64_alu_rr(e, XA_OR, 4, X_RDX, X_RSI);
    x64_store(e, 4, greg(i->rm, 4), X_RAX);
    flags_lazy(t);
    if (skip >= 0)
        x64_patch_rel32(e->start, skip, e->p);
    return true;
}

/* IMUL r32, r/m32 and IMUL r32, r/m32, imm: CF = OF = the product does
 * not fit; SF, ZF, PF from the result, AF clear (ops_alu.c imul2). */
static bool emit_imul(struct tx *t, const struct insn *i, unsigned k, u32 eip)
{
    struct x64 *e = &t->e;
    if (i->osz != 4)
        return false;
    if (i->mod == 3)
        x64_load(e, 4, X_RAX, greg(i->rm, 4));
    else
        emit_load(t, i, k, eip, 4);
    if (i->opc == 0x1af)
        x64_load(e, 4, X_RCX, greg(i->reg, 4));
    else
        x64_mov_ri32(e, X_RCX, i->imm);
    x64_imul_rr(e, 4, X_RAX, X_RCX);
    x64_setcc(e, 0 /* o */, X_RDX);
    x64_movzx_rr(e, 1, X_RDX, X_RDX);
    x64_shift_ri(e, XS_SHL, 4, X_RDX, 31);
    x64_store(e, 4, greg(i->reg, 4), X_RAX);
    flags_lazy(t);
    return true;
}

/* MUL and IMUL r/m32 (EDX:EAX = EAX * operand) as one 64-bit host
 * multiply of the zero- or sign-extended operands: CF = OF = the high
 * half is significant; SF, ZF, PF from the low half, AF clear
 * (ops_alu.c mul_ev, op_imul_Ev). */
static bool emit_mul(struct tx *t, const struct insn *i, unsigned k, u32 eip)
{
    struct x64 *e = &t->e;
    bool sx = i->reg == 5;
    if (i->osz != 4)
        return false;
    if (i->mod == 3)
        x64_load(e, 4, X_RAX, greg(i->rm, 4));
    else
        emit_load(t, i, k, eip, 4);
    x64_load(e, 4, X_RCX, greg(R_EAX, 4));
    if (sx) {
        x64_shift_ri(e, XS_SHL, 8, X_RAX, 32);
        x64_shift_ri(e, XS_SAR, 8, X_RAX, 32);
        x64_shift_ri(e, XS_SHL, 8, X_RCX, 32);
        x64_shift_ri(e, XS_SAR, 8, X_RCX, 32);
    }
    x64_imul_rr(e, 8, X_RAX, X_RCX);
    x64_store(e, 4, greg(R_EAX, 4), X_RAX);
    x64_mov_rr(e, 8, X_RDX, X_RAX);
    x64_shift_ri(e, XS_SHR, 8, X_RDX, 32);
    x64_store(e, 4, greg(R_EDX, 4), X_RDX);
    if (sx) {
        /* significant: the product differs from its low half sign-extended */
        x64_mov_rr(e, 8, X_RCX, X_RAX);
        x64_shift_ri(e, XS_SHL, 8, X_RCX, 32);
        x64_shift_ri(e, XS_SAR, 8, X_RCX, 32);
        x64_alu_rr(e, XA_CMP, 8, X_RCX, X_RAX);
    } else {
        x64_test_rr(e, 4, X_RDX, X_RDX);
    }
    x64_setcc(e, 5 /* ne */, X_RDX);
    x64_movzx_rr(e, 1, X_RDX, X_RDX);
    x64_shift_ri(e, XS_SHL, 4, X_RDX, 31);
    flags_lazy(t);
    return true;
}

/* ROL and ROR of a 32-bit register by an immediate or CL: only CF and
 * OF change, as the handler defines them for every count (ops_alu.c
 * shift_compute: ROL OF = msb ^ CF, ROR OF = the two top bits' xor),
 * so the host rotates with the guest's flags loaded, and OF is then
 * set from the result.  A count of 0 changes nothing. */
static bool emit_rotate(struct tx *t, const struct insn *i)
{
    struct x64 *e = &t->e;
    bool ror = i->reg == 1;
    bool by_cl = i->opc == 0xd3;
    unsigned n = i->opc == 0xd1 ? 1 : i->imm & 31;
    long skip = -1;
    if (i->osz != 4 || i->mod != 3)
        return false;
    if (!by_cl && n == 0)
        return true;
    if (by_cl) {
        flags_save(t);
        x64_movzx_rm(e, 1, X_RCX, greg(R_ECX, 1));
        x64_alu_ri(e, XA_AND, 4, X_RCX, 31);
        skip = x64_jcc(e, 4 /* e */, NULL);
    }
    flags_to_host(t);
    if (by_cl) /* flags_to_host may have called out */
        x64_movzx_rm(e, 1, X_RCX, greg(R_ECX, 1));
    x64_load(e, 4, X_RAX, greg(i->rm, 4));
    if (by_cl)
        x64_shift_rcl(e, ror ? XS_ROR : XS_ROL, 4, X_RAX);
    else
        x64_shift_ri(e, ror ? XS_ROR : XS_ROL, 4, X_RAX, (u8)n);
    x64_store(e, 4, greg(i->rm, 4), X_RAX);
    /* EDX = the host EFLAGS with OF replaced */
    x64_pushfq(e);
    x64_pop(e, X_RDX);
    x64_alu_ri(e, XA_AND, 4, X_RDX, ~(u32)EFLAGS_OF);
    x64_mov_rr(e, 4, X_RCX, X_RAX);
    if (ror) {
        x64_shift_ri(e, XS_SHL, 4, X_RCX, 1);
        x64_alu_rr(e, XA_XOR, 4, X_RCX, X_RAX); /* bit 31: b31 ^ b30 */
    } else {
        x64_shift_ri(e, XS_SHL, 4, X_RCX, 31);
        x64_alu_rr(e, XA_XOR, 4, X_RCX, X_RAX); /* bit 31: b0 ^ b31 */
    }
    x64_shift_ri(e, XS_SHR, 4, X_RCX, 31);
    x64_shift_ri(e, XS_SHL, 4, X_RCX, 11);
    x64_alu_rr(e, XA_OR, 4, X_RDX, X_RCX);
    x64_store(e, 4, CPU(lf_aux), X_RDX);
    x64_store_imm(e, 1, CPU(lf_live), LF_HOST);
    t->fl = F_MEM;
    if (skip >= 0)
        x64_patch_rel32(e->start, skip, e->p);
    return true;
}

/* A native CALL or RET found its target past the CS limit: run the
 * handler, which raises #GP(0) with the state already made precise (the
 * exit after it is for form's sake). */
static void fault_by_handler(struct tx *t, const struct insn *i, unsigned k, u32 next)
{
    x64_store_imm(&t->e, 4, CPU(eip), next);
    call_handler(t, i);
    exit_if(t, -1, k + 1, false, 0);
}

/* Translate instruction `k` natively.  False if it has no native form
 * here (the caller then emits a handler call). */
static bool native(struct tx *t, const struct insn *i, unsigned k, u32 eip, u32 next)
{
    struct x64 *e = &t->e;
    unsigned opc = i->opc, sz = i->osz;
    bool reg = i->mod == 3;
    /* SSE rows share opcode numbers with other 0F instructions under
     * their mandatory prefixes: only the integer table's rows here. */
    if (i->lock || i->feat)
        return false;
    if (is_alu_row(opc)) {
        enum x64_alu op = (enum x64_alu)((opc >> 3) & 7);
        bool cf_in = op == XA_ADC || op == XA_SBB;
        switch (opc & 7) {
        case 0: case 1: /* E, G */
            if (!reg && op != XA_CMP) {
                if (cf_in)
                    return false;
                emit_rmw(t, i, k, eip, next, RMW_ALU, op, true, i->reg);
                return true;
            }
            if (reg) {
                if (cf_in)
                    cf_to_host(t);
                x64_load(e, sz, X_RAX, greg(i->reg, sz));
                x64_alu_mr(e, op, sz, greg(i->rm, sz), X_RAX);
            } else {
                emit_load(t, i, k, eip, sz);
                x64_alu_rm(e, XA_CMP, sz, X_RAX, greg(i->reg, sz));
            }
            break;
        case 2: case 3: /* G, E */
            if (reg) {
                if (cf_in)
                    cf_to_host(t);
                x64_load(e, sz, X_RAX, greg(i->rm, sz));
            } else {
                if (cf_in)
                    return false;
                emit_load(t, i, k, eip, sz);
            }
            x64_alu_mr(e, op, sz, greg(i->reg, sz), X_RAX);
            break;
        default: /* AL/eAX, imm */
            if (cf_in)
                cf_to_host(t);
            x64_alu_mi(e, op, sz, greg(R_EAX, sz), i->imm);
            break;
        }
        t->fl = F_HOST;
        return true;
    }
    switch (opc) {
    case 0x80: case 0x81: case 0x82: case 0x83: {
        enum x64_alu op = (enum x64_alu)i->reg;
        if (reg) {
            if (op == XA_ADC || op == XA_SBB)
                cf_to_host(t);
            x64_alu_mi(e, op, sz, greg(i->rm, sz), i->imm);
        } else if (op == XA_CMP) {
            emit_load(t, i, k, eip, sz);
            x64_alu_ri(e, XA_CMP, sz, X_RAX, i->imm);
        } else if (op != XA_ADC && op != XA_SBB) {
            emit_rmw(t, i, k, eip, next, RMW_ALU, op, false, i->imm);
            return true;
        } else {
            return false;
        }
        t->fl = F_HOST;
        return true;
    }
    case 0x84: case 0x85:
        if (reg)
            x64_load(e, sz, X_RAX, greg(i->rm, sz));
        else
            emit_load(t, i, k, eip, sz);
        x64_load(e, sz, X_RCX, greg(i->reg, sz));
        x64_test_rr(e, sz, X_RAX, X_RCX);
        t->fl = F_HOST;
        return true;
    case 0xa8: case 0xa9:
        x64_test_mi(e, sz, greg(R_EAX, sz), i->imm);
        t->fl = F_HOST;
        return true;
    case 0xf6: case 0xf7:
        if (opc == 0xf7 && (i->reg == 4 || i->reg == 5))
            return emit_mul(t, i, k, eip);
        if (i->reg <= 1) {
            if (reg) {
                x64_test_mi(e, sz, greg(i->rm, sz), i->imm);
            } else {
                emit_load(t, i, k, eip, sz);
                x64_test_ri(e, sz, X_RAX, i->imm);
            }
            t->fl = F_HOST;
            return true;
        }
        if (i->reg != 2 && i->reg != 3)
            return false;
        if (!reg) {
            emit_rmw(t, i, k, eip, next, i->reg == 2 ? RMW_NOT : RMW_NEG, XA_ADD, false, 0);
            return true;
        }
        x64_load(e, sz, X_RAX, greg(i->rm, sz));
        if (i->reg == 2) {
            x64_not_r(e, sz, X_RAX); /* NOT leaves the flags alone */
        } else {
            x64_neg_r(e, sz, X_RAX);
            t->fl = F_HOST;
        }
        x64_store(e, sz, greg(i->rm, sz), X_RAX);
        return true;
    case 0xfe: case 0xff:
        if (i->reg > 1)
            return false;
        if (!reg) {
            emit_rmw(t, i, k, eip, next, i->reg ? RMW_DEC : RMW_INC, XA_ADD, false, 0);
            return true;
        }
        /* fallthrough */
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
    case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f: {
        bool dec = opc >= 0xfe ? i->reg == 1 : opc >= 0x48;
        cf_to_host(t); /* INC and DEC keep CF */
        x64_load(e, sz, X_RAX, greg(i->rm, sz));
        if (dec)
            x64_dec_r(e, sz, X_RAX);
        else
            x64_inc_r(e, sz, X_RAX);
        x64_store(e, sz, greg(i->rm, sz), X_RAX);
        t->fl = F_HOST;
        return true;
    }
    case 0x88: case 0x89:
        if (reg) {
            x64_load(e, sz, X_RAX, greg(i->reg, sz));
            x64_store(e, sz, greg(i->rm, sz), X_RAX);
            return true;
        }
        sync_fault(t, k, eip);
        emit_ea(t, i);
        if (sz == 4)
            x64_load(e, 4, X_RDX, greg(i->reg, 4));
        else
            x64_movzx_rm(e, sz, X_RDX, greg(i->reg, sz));
        emit_store_call(t, i->seg, sz, k, next);
        return true;
    case 0x8a: case 0x8b:
        if (reg)
            x64_load(e, sz, X_RAX, greg(i->rm, sz));
        else
            emit_load(t, i, k, eip, sz);
        x64_store(e, sz, greg(i->reg, sz), X_RAX);
        return true;
    case 0xb0: case 0xb1: case 0xb2: case 0xb3: case 0xb4: case 0xb5: case 0xb6: case 0xb7:
    case 0xb8: case 0xb9: case 0xba: case 0xbb: case 0xbc: case 0xbd: case 0xbe: case 0xbf:
        x64_store_imm(e, sz, greg(i->rm, sz), i->imm);
        return true;
    case 0xc6: case 0xc7:
        if (reg) {
            x64_store_imm(e, sz, greg(i->rm, sz), i->imm);
            return true;
        }
        sync_fault(t, k, eip);
        emit_ea(t, i);
        x64_mov_ri32(e, X_RDX, sz == 4 ? i->imm : i->imm & ((1u << (8 * sz)) - 1));
        emit_store_call(t, i->seg, sz, k, next);
        return true;
    case 0xc1: case 0xd1: case 0xd3:
        return i->reg <= 1 ? emit_rotate(t, i) : emit_shift(t, i);
    case 0xa0: case 0xa1: /* MOV AL/eAX, moffs */
        sync_fault(t, k, eip);
        x64_mov_ri32(e, X_RSI, i->imm);
        x64_call_rel(e, t->j->ld_thunk[size_index(sz)][i->seg]);
        x64_store(e, sz, greg(R_EAX, sz), X_RAX);
        return true;
    case 0xa2: case 0xa3: /* MOV moffs, AL/eAX */
        sync_fault(t, k, eip);
        x64_mov_ri32(e, X_RSI, i->imm);
        if (sz == 4)
            x64_load(e, 4, X_RDX, greg(R_EAX, 4));
        else
            x64_movzx_rm(e, sz, X_RDX, greg(R_EAX, sz));
        emit_store_call(t, i->seg, sz, k, next);
        return true;
    case 0xe2: case 0xe3: { /* LOOP, JECXZ: ECX (CX) steps without flags */
        u32 target = next + i->imm;
        if (i->vsz == 2)
            target &= 0xffff;
        unsigned csz = i->asz;
        flags_save(t);
        if (csz == 4)
            x64_load(e, 4, X_RCX, greg(R_ECX, 4));
        else
            x64_movzx_rm(e, 2, X_RCX, greg(R_ECX, 2));
        if (opc == 0xe2) {
            x64_lea32(e, X_RCX, x64_m(X_RCX, -1));
            x64_store(e, csz, greg(R_ECX, csz), X_RCX);
        }
        x64_test_rr(e, csz, X_RCX, X_RCX);
        jump_out(t, opc == 0xe2 ? 5 /* ne */ : 4 /* e */, k, eip, next, target, true);
        if (opc == 0xe2)
            t->stub[t->nstub - 1].undo_ecx = (u8)csz;
        return true;
    }
    case 0x1af: case 0x69: case 0x6b:
        return emit_imul(t, i, k, eip);
    case 0x8d:
        emit_ea(t, i);
        x64_store(e, sz, greg(i->reg, sz), X_RSI);
        return true;
    case 0x1b6: case 0x1b7: case 0x1be: case 0x1bf: {
        unsigned ssz = (opc & 1) ? 2 : 1;
        bool sx = opc >= 0x1be;
        if (reg) {
            if (sx)
                x64_movsx_rm(e, ssz, X_RAX, greg(i->rm, ssz));
            else
                x64_movzx_rm(e, ssz, X_RAX, greg(i->rm, ssz));
        } else {
            emit_load(t, i, k, eip, ssz);
            if (sx)
                x64_movsx_rr(e, ssz, X_RAX, X_RAX);
        }
        x64_store(e, sz, greg(i->reg, sz), X_RAX);
        return true;
    }
    case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
    case 0x68: case 0x6a:
        if (sz != 4 || !(t->c->mode & MODE_SS32))
            return false;
        sync_fault(t, k, eip);
        x64_load(e, 4, X_RSI, CPU(r[R_ESP]));
        x64_lea32(e, X_RSI, x64_m(X_RSI, -4));
        if (opc < 0x58)
            x64_load(e, 4, X_RDX, greg(i->rm, 4));
        else
            x64_mov_ri32(e, X_RDX, i->imm);
        x64_call_rel(e, t->j->st_thunk[2][S_SS]);
        x64_alu_mi(e, XA_SUB, 4, CPU(r[R_ESP]), 4);
        t->esp_dirty = true;
        check_epoch(t, k, next);
        return true;
    case 0x58: case 0x59: case 0x5a: case 0x5b: case 0x5c: case 0x5d: case 0x5e: case 0x5f:
        if (sz != 4 || !(t->c->mode & MODE_SS32))
            return false;
        sync_fault(t, k, eip);
        x64_load(e, 4, X_RSI, CPU(r[R_ESP]));
        x64_call_rel(e, t->j->ld_thunk[2][S_SS]);
        /* ESP steps before the write, so POP ESP keeps the value read. */
        x64_alu_mi(e, XA_ADD, 4, CPU(r[R_ESP]), 4);
        x64_store(e, 4, greg(i->rm, 4), X_RAX);
        t->esp_dirty = true;
        return true;
    case 0x190: case 0x191: case 0x192: case 0x193: case 0x194: case 0x195: case 0x196:
    case 0x197: case 0x198: case 0x199: case 0x19a: case 0x19b: case 0x19c: case 0x19d:
    case 0x19e: case 0x19f:
        if (!reg)
            return false;
        flags_to_host(t);
        x64_setcc(e, opc & 15, X_RAX);
        x64_store(e, 1, greg(i->rm, 1), X_RAX);
        return true;
    case 0x140: case 0x141: case 0x142: case 0x143: case 0x144: case 0x145: case 0x146:
    case 0x147: case 0x148: case 0x149: case 0x14a: case 0x14b: case 0x14c: case 0x14d:
    case 0x14e: case 0x14f:
        if (!reg)
            return false;
        flags_to_host(t);
        x64_load(e, sz, X_RAX, greg(i->reg, sz));
        x64_cmov_rm(e, opc & 15, sz, X_RAX, greg(i->rm, sz));
        x64_store(e, sz, greg(i->reg, sz), X_RAX);
        return true;
    case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77:
    case 0x78: case 0x79: case 0x7a: case 0x7b: case 0x7c: case 0x7d: case 0x7e: case 0x7f:
    case 0x180: case 0x181: case 0x182: case 0x183: case 0x184: case 0x185: case 0x186:
    case 0x187: case 0x188: case 0x189: case 0x18a: case 0x18b: case 0x18c: case 0x18d:
    case 0x18e: case 0x18f: {
        u32 target = next + i->imm;
        if (i->vsz == 2)
            target &= 0xffff;
        flags_to_host(t);
        jump_out(t, (int)(opc & 15), k, eip, next, target, true);
        return true;
    }
    case 0xe9: case 0xeb: {
        u32 target = next + i->imm;
        if (i->vsz == 2)
            target &= 0xffff;
        jump_out(t, -1, k, eip, next, target, true);
        return true;
    }
    case 0xc2: case 0xc3: {
        /* RET: pop, check the CS limit, and look the target up. */
        if (i->vsz != 4 || !(t->c->mode & MODE_SS32))
            return false;
        sync_fault(t, k, eip);
        x64_load(e, 4, X_RSI, CPU(r[R_ESP]));
        x64_call_rel(e, t->j->ld_thunk[2][S_SS]);
        x64_alu_rm(e, XA_CMP, 4, X_RAX, CPU(seg[S_CS].limit));
        long ok = x64_jcc(e, 6 /* be */, NULL);
        fault_by_handler(t, i, k, next);
        x64_patch_rel32(e->start, ok, e->p);
        x64_alu_mi(e, XA_ADD, 4, CPU(r[R_ESP]), 4 + (opc == 0xc2 ? i->imm & 0xffff : 0));
        x64_store(e, 4, CPU(eip), X_RAX);
        t->esp_dirty = true;
        exit_if(t, -1, k + 1, false, 0);
        t->stub[t->nstub - 1].indirect = true;
        return true;
    }
    case 0xe8: {
        /* CALL rel32: the target's CS check, then the push, then on. */
        if (i->vsz != 4 || !(t->c->mode & MODE_SS32))
            return false;
        u32 target = next + i->imm;
        sync_fault(t, k, eip);
        x64_alu_mi(e, XA_CMP, 4, CPU(seg[S_CS].limit), target);
        long ok = x64_jcc(e, 3 /* ae */, NULL);
        fault_by_handler(t, i, k, next);
        x64_patch_rel32(e->start, ok, e->p);
        x64_load(e, 4, X_RSI, CPU(r[R_ESP]));
        x64_lea32(e, X_RSI, x64_m(X_RSI, -4));
        x64_mov_ri32(e, X_RDX, next);
        x64_call_rel(e, t->j->st_thunk[2][S_SS]);
        x64_alu_mi(e, XA_SUB, 4, CPU(r[R_ESP]), 4);
        t->esp_dirty = true;
        check_epoch(t, k, target);
        jump_out(t, -1, k, eip, next, target, false);
        return true;
    }
    default:
        return false;
    }
}

/* A handler call for instruction `k`, with the bookkeeping its kind
 * needs (the same the block replay does). */
static void helper(struct tx *t, const struct insn *i, unsigned k, u32 eip, u32 next)
{
    struct x64 *e = &t->e;
    if (i->attr & OPA_NOMEM) {
        flags_save(t);
        call_handler(t, i);
        return;
    }
    sync_fault(t, k, eip);
    if (i->attr & OPA_LOAD) {
        call_handler(t, i);
        t->esp_dirty = true;
        return;
    }
    x64_store_imm(e, 4, CPU(eip), next);
    call_handler(t, i);
    t->esp_dirty = true;
    x64_alu_mi(e, XA_CMP, 4, CPU(eip), next);
    exit_if(t, 5 /* ne */, k + 1, false, 0);
    /* A near transfer changes nothing the run loop watches: where it
     * went can be looked up without the dispatcher. */
    if (!(i->attr & (OPA_MODE | OPA_PRIV)))
        t->stub[t->nstub - 1].indirect = true;
    x64_alu_mr(e, XA_CMP, 4, x64_m(X_R13, 0), X_R12);
    exit_if(t, 5 /* ne */, k + 1, false, 0);
}

static void emit_stubs(struct tx *t, const u8 *epi)
{
    struct x64 *e = &t->e;
    for (unsigned s = 0; s < t->nstub; s++) {
        struct stub *st = &t->stub[s];
        x64_patch_rel32(e->start, st->at, e->p);
        t->fl = st->fl;
        flags_save(t);
        if (st->chain && !st->limit_check) {
            x64_store_imm(e, 4, CPU(eip), st->eip);
            exit_tail(t, F_MEM, st->retired, st->synced, epi, true);
            continue;
        }
        if (st->limit_check) {
            /* A target past the CS limit: the handler raises #GP. */
            x64_alu_mi(e, XA_CMP, 4, CPU(seg[S_CS].limit), st->eip);
            long past = x64_jcc(e, 2 /* b */, NULL);
            x64_store_imm(e, 4, CPU(eip), st->eip);
            exit_tail(t, F_MEM, st->retired, st->synced, epi, st->chain);
            x64_patch_rel32(e->start, past, e->p);
            x64_store_imm(e, 4, CPU(insn_eip), st->insn_eip);
            x64_load(e, 4, X_RAX, CPU(r[R_ESP]));
            x64_store(e, 4, CPU(insn_esp), X_RAX);
            if (st->k != st->synced)
                x64_alu_mi(e, XA_ADD, 8, CPU(icount), st->k - st->synced);
            x64_store_imm(e, 4, CPU(eip), st->next);
            if (st->undo_ecx)
                x64_alu_mi(e, XA_ADD, st->undo_ecx, greg(R_ECX, st->undo_ecx), 1);
            call_handler(t, &t->ins[st->k]);
            /* Only if the handler did not fault: the jump was not taken
             * after all (it cannot happen; stay exact anyway). */
            x64_alu_mi(e, XA_ADD, 8, CPU(icount), 1);
            x64_jmp(e, epi);
            continue;
        }
        if (st->set_eip)
            x64_store_imm(e, 4, CPU(eip), st->eip);
        if (st->indirect) {
            exit_tail(t, F_MEM, st->retired, st->synced, NULL, false);
            continue;
        }
        exit_tail(t, F_MEM, st->retired, st->synced, epi, false);
    }
}

static u64 now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (u64)ts.tv_sec * 1000000000u + (u64)ts.tv_nsec;
}


void *jit_translate(struct jit *j, const struct insn *ins, unsigned n, u32 eip, void **chain)
{
    struct codebuf *b = &j->buf;
    size_t copies = ((size_t)n * sizeof *ins + 15) & ~(size_t)15;
    if (b->size - b->used < JIT_BLOCK_MAX + copies || j->ncells - j->cells_used < MAX_STUBS + 1)
        return NULL;
    u64 t0 = now_ns();
    const u32 eip0 = eip;
    struct tx *t = j->tx;
    /* The handlers get the copies kept with the code: the caller's
     * records may be reused while the code lives on, linked. */
    memcpy(b->rw + b->used, ins, (size_t)n * sizeof *ins);
    const struct insn *kept = codebuf_exec_addr(b, b->rw + b->used);
    t->j = j;
    t->c = j->c;
    t->ins = kept;
    t->fl = F_MEM;
    t->synced = 0;
    t->esp_dirty = true;
    t->mask = (j->c->mode & MODE_CS32) ? ~0u : 0xffffu;
    t->nstub = 0;
    t->too_many = false;
    u32 cells_before = j->cells_used;
    struct x64 *e = &t->e;
    x64_init(e, b->rw + b->used + copies, JIT_BLOCK_MAX);
    x64_push(e, X_RBX);
    x64_push(e, X_R12);
    x64_push(e, X_R13);
    x64_push(e, X_R14);
    x64_push(e, X_R15);
    x64_mov_rr(e, 8, X_RBX, X_RDI);
    x64_mov_ri64(e, X_R13, (u64)(uintptr_t)&j->c->mmu->epoch);
    x64_load(e, 4, X_R12, x64_m(X_R13, 0));
    /* The chained entry: go on only if the whole block fits the budget
     * and nothing is waiting for the run loop (exec_limit). */
    u8 *chained = e->p;
    x64_load(e, 8, X_RAX, CPU(icount));
    x64_alu_ri(e, XA_ADD, 8, X_RAX, n);
    x64_alu_rm(e, XA_CMP, 8, X_RAX, CPU(exec_limit));
    long bail = x64_jcc(e, 7 /* a */, NULL);
    /* The CS limit may have shrunk since the link was made (a far jump
     * to a descriptor with the same base): the dispatcher's check of the
     * block's last byte, here for linked entries. */
    u32 last = eip;
    for (unsigned k = 0; k < n; k++)
        last += ins[k].len;
    x64_alu_mi(e, XA_CMP, 4, CPU(seg[S_CS].limit), (last - 1) & t->mask);
    long past_limit = x64_jcc(e, 2 /* b */, NULL);
    unsigned native_n = 0;
    u32 next = eip;
    bool last_native = false;
    for (unsigned k = 0; k < n; k++) {
        const struct insn *i = &kept[k];
        next = (eip + i->len) & t->mask;
        last_native = native(t, i, k, eip, next);
        if (last_native) {
            native_n++;
            /* ESP written as an ordinary register (ADD ESP, LEA, MOV):
             * the next fault must store the new start ESP. */
            if (i->osz != 1 && (i->rm == R_ESP || i->reg == R_ESP))
                t->esp_dirty = true;
        } else {
            helper(t, i, k, eip, next);
        }
        eip = next;
    }
    /* Fell through the last instruction. */
    x64_store_imm(e, 4, CPU(eip), next);
    flags_save(t);
    if (n != t->synced)
        x64_alu_mi(e, XA_ADD, 8, CPU(icount), n - t->synced);
    const u8 *epi_at;
    /* Fall through into the next block: after a native instruction or a
     * handler that changes nothing the run loop watches, directly; after
     * a privileged or control one that cannot change the mode word, CPL
     * or segments (I/O, CLI, POPF, MOV CRn, INVLPG, ...), only if the run
     * loop has nothing to look at now (an interrupt it can take, the STI
     * shadow, TF, HLT): links hold per address space and epoch, so a CR3
     * load or a flush is caught by the link itself. */
    u16 last_attr = n ? kept[n - 1].attr : 0;
    bool ends = !last_native && (last_attr & OPA_ENDS_BLOCK);
    bool chain_end = n && (!ends || !(last_attr & OPA_MODE));
    if (chain_end) {
        long over = x64_jmp(e, NULL);
        epi_at = e->p;
        emit_epilogue(e);
        x64_patch_rel32(e->start, over, e->p);
        if (ends) {
            call_cpu(e, cpu_must_look);
            x64_test_rr(e, 1, X_RAX, X_RAX);
            x64_jcc(e, 5 /* ne */, epi_at);
        }
        emit_chain(t, epi_at);
    } else {
        epi_at = e->p;
        emit_epilogue(e);
    }
    x64_patch_rel32(e->start, bail, epi_at);
    x64_patch_rel32(e->start, past_limit, epi_at);
    t->epi = epi_at;
    emit_stubs(t, epi_at);
    void *code = NULL;
    if (!e->overflow && !t->too_many) {
        size_t len = x64_len(e);
        code = codebuf_exec_addr(b, e->start);
        *chain = codebuf_exec_addr(b, chained);
        b->used += copies + ((len + 15) & ~(size_t)15);
        j->st.blocks++;
        j->st.guest_insns += n;
        j->st.native_insns += native_n;
        j->st.host_bytes += len;
        if (j->perf_map)
            fprintf(j->perf_map, "%lx %zx guest_%08x_%u\n", (unsigned long)(uintptr_t)code, len,
                    t->c->seg[S_CS].base + eip0, n);
    } else {
        j->cells_used = cells_before;
    }
    j->st.ns += now_ns() - t0;
    return code;
}

static void jit_link_indirect(struct jit *j, void *chain, u32 epoch);

void jit_link_pending(struct jit *j, void *chain, u32 epoch)
{
    jit_link_indirect(j, chain, epoch);
    struct jit_cell *cell = j->pending;
    if (!cell)
        return;
    cell->target = (u64)(uintptr_t)chain;
    cell->epoch = epoch;
    cell->ctx = j->c->tlb->ctx;
    j->pending = NULL;
}

static void jit_link_indirect(struct jit *j, void *chain, u32 epoch)
{
    struct jit_ind *d = j->pending_ind;
    if (!d)
        return;
    const struct cpu *c = j->c;
    *d = (struct jit_ind){ .eip = c->eip, .epoch = epoch, .target = (u64)(uintptr_t)chain,
                           .key = cpu_code_key(c), .cs_base = c->seg[S_CS].base };
    j->pending_ind = NULL;
}

void jit_drop_pending(struct jit *j)
{
    j->pending = NULL;
    j->pending_ind = NULL;
}

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
 * segment, takes the MMU's slow path and raises faults.  Clobbers RAX,
 * RCX, RDX, RSI, RDI.
 */
static u8 *emit_thunk(struct x64 *e, unsigned size, unsigned seg, bool store)
{
    u8 *start = e->p;
    enum mmu_acc acc = store ? ACC_WRITE : ACC_READ;
    x64_test_mi(e, 1, CPU(seg[seg].flat), store ? SEGOK_WRITE : SEGOK_READ);
    long slow1 = x64_jcc(e, 4 /* e */, NULL);
    x64_load(e, 8, X_RDI, CPU(tlb));
    x64_mov_rr(e, 4, X_RAX, X_RSI);
    x64_shift_ri(e, XS_SHR, 4, X_RAX, PAGE_SHIFT);
    x64_alu_rm(e, XA_XOR, 4, X_RAX, x64_m(X_RDI, (i32)offsetof(struct tlb, salt)));
    x64_alu_ri(e, XA_AND, 4, X_RAX, TLB_SIZE - 1);
    x64_shift_ri(e, XS_SHL, 4, X_RAX, 5);
    _Static_assert(sizeof(struct tlb_entry) == 32, "entry index shift");
    x64_lea32(e, X_RCX, x64_m(X_RSI, (i32)size - 1));
    x64_alu_ri(e, XA_AND, 4, X_RCX, PAGE_MASK);
    x64_alu_rm(e, XA_OR, 4, X_RCX, x64_m(X_RDI, (i32)offsetof(struct tlb, ctx)));
    struct x64_mem ent = { X_RDI, X_RAX, 1, 0 };
    ent.disp = (i32)(offsetof(struct tlb, e) + offsetof(struct tlb_entry, tag) + 4 * acc);
    x64_alu_rm(e, XA_CMP, 4, X_RCX, ent);
    long slow2 = x64_jcc(e, 5 /* ne */, NULL);
    x64_alu_mi(e, XA_ADD, 8, x64_m(X_RDI, (i32)(offsetof(struct tlb, hits) + 8 * acc)), 1);
    ent.disp = (i32)(offsetof(struct tlb, e) + offsetof(struct tlb_entry, addend));
    x64_load(e, 8, X_RCX, ent);
    struct x64_mem host = { X_RCX, X_RSI, 1, 0 };
    if (store)
        x64_store(e, size, host, X_RDX);
    else if (size == 4)
        x64_load(e, 4, X_RAX, host);
    else
        x64_movzx_rm(e, size, X_RAX, host);
    x64_ret(e);
    x64_patch_rel32(e->start, slow1, e->p);
    x64_patch_rel32(e->start, slow2, e->p);
    x64_mov_rr(e, 8, X_RDI, X_RBX);
    x64_mov_ri32(e, store ? X_RCX : X_RDX, seg);
    x64_mov_ri64(e, X_RAX, (u64)(uintptr_t)(store ? st_fn[size] : ld_fn[size]));
    x64_jmp_r(e, X_RAX);
    return start;
}

struct jit *jit_new(struct cpu *c, size_t size)
{
    struct jit *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->c = c;
    if (codebuf_init(&j->buf, size) < 0) {
        free(j);
        return NULL;
    }
    struct x64 e;
    x64_init(&e, j->buf.rw, j->buf.size);
    for (unsigned s = 0; s < 6; s++)
        for (unsigned z = 0; z < 3; z++) {
            unsigned size = z == 2 ? 4 : z + 1;
            j->ld_thunk[z][s] = emit_thunk(&e, size, s, false);
            j->st_thunk[z][s] = emit_thunk(&e, size, s, true);
        }
    j->shared_exit = e.p;
    emit_epilogue(&e);
    j->thunk_end = (x64_len(&e) + 63) & ~(size_t)63;
    /* perf(1) reads /tmp/perf-PID.map to name code that has no file. */
    if (getenv("UMBRA_PERF_MAP")) {
        char path[64];
        snprintf(path, sizeof path, "/tmp/perf-%d.map", (int)getpid());
        j->perf_map = fopen(path, "w");
        if (j->perf_map) {
            setvbuf(j->perf_map, NULL, _IOLBF, 0);
            fprintf(j->perf_map, "%lx %zx umbra_mem_thunks\n",
                    (unsigned long)(uintptr_t)codebuf_exec_addr(&j->buf, j->buf.rw),
                    j->thunk_end);
        }
    }
    j->ncells = (u32)(size / 128);
    j->cells = malloc((size_t)j->ncells * sizeof *j->cells);
    j->tx = malloc(sizeof *j->tx);
    j->ind = malloc(IND_SIZE * sizeof *j->ind);
    if (!j->cells || !j->tx || !j->ind || e.overflow) {
        jit_free(j);
        return NULL;
    }
    memset(j->ind, 0xff, IND_SIZE * sizeof *j->ind);
    j->buf.used = j->thunk_end;
    return j;
}

void jit_free(struct jit *j)
{
    if (!j)
        return;
    codebuf_free(&j->buf);
    if (j->perf_map)
        fclose(j->perf_map);
    free(j->cells);
    free(j->tx);
    free(j->ind);
    free(j);
}

void jit_reset(struct jit *j)
{
    j->buf.used = j->thunk_end;
    j->cells_used = 0;
    j->pending = NULL;
    j->pending_ind = NULL;
    memset(j->ind, 0xff, IND_SIZE * sizeof *j->ind);
}

const struct jit_stats *jit_stats(const struct jit *j)
{
    return &j->st;
}
