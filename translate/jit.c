/*
 * The translator (see jit.h): the driver that turns a recorded block into
 * host code, the flags state, exits and the syncing before calls and
 * faults.  The native forms are in jit_native.c, memory accesses in
 * jit_mem.c, chaining in jit_chain.c; jit_priv.h holds what they share.
 *
 * Register conventions of translated code (translate/README.md):
 *   RBX  struct cpu *            (pinned for the whole block)
 *   R13  &mmu->epoch              R12d  the epoch at block entry
 *   R14  host flags of a read-modify-write, kept across its store
 *   R15  the effective address of a read-modify-write
 *   R8-R11, RBP                   copies of up to five guest registers
 *                                 (write-through: struct cpu is exact)
 *   RAX RCX RDX RSI RDI           scratch
 * Entry pushes RBX, R12-R15 and RBP and moves RSP 8 bytes more, which
 * leaves it 16-byte aligned for the calls out to handlers and memory
 * helpers.
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
#include "jit_priv.h"

#include <cpuid.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The guest's OSZAPC in the translator's form (flags.h, LF_HOST). */
static u32 jit_flags_get(struct cpu *c)
{
    return lf_host_form(get_eflags(c));
}

/* ---- the guest register cache ---- */

/* Host registers for guest registers: R8-R11, which the memory thunks
 * preserve, and RBP, which nothing else in translated code uses.  Calls
 * into C drop every cached copy (a handler may write any register). */
static const enum x64_reg cache_host[] = { X_R8, X_R9, X_R10, X_R11, X_RBP };

/* Cache the (at most five) registers the block reads most often, each
 * read at least twice; ESP stays in memory (the stack forms and the
 * precise-fault bookkeeping use it there). */
void tx_cache_choose(struct tx *t, const struct insn *ins, unsigned n)
{
    unsigned uses[8] = { 0 };
    for (unsigned k = 0; k < n; k++) {
        const struct insn *i = &ins[k];
        unsigned opc = i->opc;
        /* Reads only: a write-through copy costs each write a move and
         * pays off on reads.  Forms that only write their register: */
        bool reg_written = opc == 0x8a || opc == 0x8b || opc == 0x8d || opc == 0x69 ||
                           opc == 0x6b || (opc >= 0x1b6 && opc <= 0x1bf && opc != 0x1ba);
        /* ... and groups, whose ModRM reg field is part of the opcode */
        bool group = (opc >= 0x80 && opc <= 0x83) || opc == 0x8f || opc == 0xc0 || opc == 0xc1 ||
                     (opc >= 0xd0 && opc <= 0xd3) || opc == 0xf6 || opc == 0xf7 || opc == 0xfe ||
                     opc == 0xff || opc == 0xc6 || opc == 0xc7 || opc == 0x100 || opc == 0x101 ||
                     opc == 0x1ba || opc == 0x1c7;
        bool rm_written = (opc >= 0xb0 && opc <= 0xbf) || (opc >= 0x58 && opc <= 0x5f) ||
                          opc == 0x88 || opc == 0x89 || opc == 0xc6 || opc == 0xc7;
        if (i->osz == 4 && !reg_written && !group && (i->attr & OPA_MODRM))
            uses[i->reg & 7]++;
        if (i->mod == 3) {
            if (i->osz == 4 && !rm_written)
                uses[i->rm & 7]++;
        } else {
            if (i->base < 8)
                uses[i->base]++;
            if (i->index < 8)
                uses[i->index]++;
        }
    }
    uses[R_ESP] = 0;
    for (unsigned r = 0; r < 8; r++) {
        t->creg[r] = X_NONE;
        t->cvalid[r] = false;
    }
    for (unsigned h = 0; h < sizeof cache_host / sizeof cache_host[0]; h++) {
        unsigned best = 8;
        for (unsigned r = 0; r < 8; r++)
            if (t->creg[r] == X_NONE && uses[r] >= 2 && (best == 8 || uses[r] > uses[best]))
                best = r;
        if (best == 8)
            break;
        t->creg[best] = (i8)cache_host[h];
    }
}

void tx_cache_forget(struct tx *t)
{
    for (unsigned r = 0; r < 8; r++)
        t->cvalid[r] = false;
}

/* The host register holding guest register r for a 32-bit use, loaded
 * if need be; X_NONE if r is not cached or the use is narrower. */
static enum x64_reg cached(struct tx *t, unsigned r, unsigned size)
{
    if (size != 4 || r >= 8 || t->creg[r] == X_NONE)
        return X_NONE;
    enum x64_reg h = (enum x64_reg)t->creg[r];
    if (!t->cvalid[r]) {
        x64_load(&t->e, 4, h, greg(r, 4));
        t->cvalid[r] = true;
    }
    return h;
}

/* After a write of `size` bytes to guest register r in struct cpu only:
 * the cached copy of the register it is part of is stale. */
static void written(struct tx *t, unsigned r, unsigned size)
{
    unsigned full = size == 1 && r >= 4 ? r - 4 : r;
    if (full < 8)
        t->cvalid[full] = false;
}

enum x64_reg tx_gr_host(struct tx *t, unsigned r)
{
    return cached(t, r, 4);
}

void tx_gr_load(struct tx *t, unsigned size, enum x64_reg dst, unsigned r)
{
    enum x64_reg h = cached(t, r, size);
    if (h != X_NONE)
        x64_mov_rr(&t->e, 4, dst, h);
    else
        x64_load(&t->e, size, dst, greg(r, size));
}

void tx_gr_store(struct tx *t, unsigned size, unsigned r, enum x64_reg src)
{
    x64_store(&t->e, size, greg(r, size), src);
    if (size == 4 && r < 8 && t->creg[r] != X_NONE) {
        x64_mov_rr(&t->e, 4, (enum x64_reg)t->creg[r], src);
        t->cvalid[r] = true;
    } else {
        written(t, r, size);
    }
}

void tx_gr_store_imm(struct tx *t, unsigned size, unsigned r, u32 imm)
{
    x64_store_imm(&t->e, size, greg(r, size), imm);
    if (size == 4 && r < 8 && t->creg[r] != X_NONE) {
        x64_mov_ri32(&t->e, (enum x64_reg)t->creg[r], imm);
        t->cvalid[r] = true;
    } else {
        written(t, r, size);
    }
}

/* op guest r, src (src != X_NONE) or op guest r, imm */
static void gr_alu(struct tx *t, enum x64_alu op, unsigned size, unsigned r, enum x64_reg src,
                   u32 imm)
{
    struct x64 *e = &t->e;
    enum x64_reg h = cached(t, r, size);
    if (h == X_NONE) {
        if (src != X_NONE)
            x64_alu_mr(e, op, size, greg(r, size), src);
        else
            x64_alu_mi(e, op, size, greg(r, size), imm);
        if (op != XA_CMP)
            written(t, r, size);
        return;
    }
    if (src != X_NONE)
        x64_alu_rr(e, op, 4, h, src);
    else
        x64_alu_ri(e, op, 4, h, imm);
    if (op != XA_CMP)
        x64_store(e, 4, greg(r, 4), h); /* MOV: the flags stay */
}

void tx_gr_alu_rr(struct tx *t, enum x64_alu op, unsigned size, unsigned r, enum x64_reg src)
{
    gr_alu(t, op, size, r, src, 0);
}

void tx_gr_alu_ri(struct tx *t, enum x64_alu op, unsigned size, unsigned r, u32 imm)
{
    gr_alu(t, op, size, r, X_NONE, imm);
}

void tx_gr_alu_from(struct tx *t, enum x64_alu op, unsigned size, enum x64_reg dst, unsigned r)
{
    enum x64_reg h = cached(t, r, size);
    if (h != X_NONE)
        x64_alu_rr(&t->e, op, 4, dst, h);
    else
        x64_alu_rm(&t->e, op, size, dst, greg(r, size));
}

void tx_gr_test_ri(struct tx *t, unsigned size, unsigned r, u32 imm)
{
    enum x64_reg h = cached(t, r, size);
    if (h != X_NONE)
        x64_test_ri(&t->e, 4, h, imm);
    else
        x64_test_mi(&t->e, size, greg(r, size), imm);
}

void tx_gr_cmov(struct tx *t, unsigned cc, unsigned size, enum x64_reg dst, unsigned r)
{
    enum x64_reg h = cached(t, r, size);
    if (h != X_NONE)
        x64_cmov_rr(&t->e, cc, 4, dst, h);
    else
        x64_cmov_rm(&t->e, cc, size, dst, greg(r, size));
}

/* Call fn(struct cpu *) (clobbers the caller-saved registers). */
void tx_call_cpu(struct x64 *e, const void *fn)
{
    x64_mov_rr(e, 8, X_RDI, X_RBX);
    x64_call_abs(e, fn);
}

/* ---- flags ---- */

void tx_host_flags_form(struct x64 *e)
{
    x64_mov_ri32(e, X_RAX, 0); /* and no wait for RAX's last writer */
    x64_lahf(e);
    x64_setcc(e, 0 /* o */, X_RAX);
}

/* Put host flags that only the host holds into struct cpu. */
void tx_flags_save(struct tx *t)
{
    if (t->fl != F_HOST) {
        t->fl = F_MEM;
        return;
    }
    /* The host's flags as LAHF and SETO give them (flags.h, LF_HOST);
     * the host flags stay as they are. */
    struct x64 *e = &t->e;
    tx_host_flags_form(e);
    x64_store(e, 2, CPU(lf_aux), X_RAX);
    if (!t->lf_host)
        x64_store_imm(e, 1, CPU(lf_live), LF_HOST);
    t->lf_host = true;
    t->fl = F_MEM;
}

/* EAX = the guest's flags in the translator's form (flags.h, LF_HOST: AH
 * LAHF's byte, AL OF as 0 or 1, the rest of EAX zero), wherever they
 * are; the host flags stay only if they held the guest's. */
void tx_flags_image(struct tx *t)
{
    struct x64 *e = &t->e;
    if (t->fl != F_MEM) {
        tx_host_flags_form(e);
        return;
    }
    x64_movzx_rm(e, 2, X_RAX, CPU(lf_aux));
    if (t->lf_host)
        return;
    x64_alu_mi(e, XA_CMP, 1, CPU(lf_live), LF_HOST);
    long image = x64_jcc(e, 4 /* e */, NULL);
    tx_call_cpu(e, jit_flags_get);
    tx_cache_forget(t);
    x64_patch_rel32(e->start, image, e->p);
}

/* Make the host flags hold the guest's (for a reader). */
void tx_flags_to_host(struct tx *t)
{
    if (t->fl != F_MEM)
        return;
    struct x64 *e = &t->e;
    tx_flags_image(t);
    /* OF: 1 + 7Fh overflows, 0 + 7Fh does not; then SAHF sets the other
     * five.  The rest of the host's EFLAGS (DF, TF, AC) stays. */
    x64_alu_ri(e, XA_ADD, 1, X_RAX, 0x7f);
    x64_sahf(e);
    t->fl = F_BOTH;
}


/* Make the host CF the guest's, for an instruction that reads only CF and
 * then writes every other arithmetic flag (ADC, SBB, INC, DEC): one bit
 * test of the lazy or the plain form, instead of loading all six. */
void tx_cf_to_host(struct tx *t)
{
    if (t->fl != F_MEM)
        return;
    struct x64 *e = &t->e;
    if (t->lf_host) {
        x64_bt_mi(e, 2, CPU(lf_aux), 8);
        return;
    }
    x64_alu_mi(e, XA_CMP, 1, CPU(lf_live), LF_LAZY);
    long not_lazy = x64_jcc(e, 5 /* ne */, NULL);
    x64_bt_mi(e, 4, CPU(lf_aux), LF_CF);
    long done = x64_jmp(e, NULL);
    x64_patch_rel32(e->start, not_lazy, e->p);
    long plain = x64_jcc(e, 2 /* b: lf_live < LF_LAZY */, NULL);
    /* a word, as tx_flags_save stores it: a wider load would wait for
     * that store to retire instead of taking its data */
    x64_bt_mi(e, 2, CPU(lf_aux), 8);
    long done2 = x64_jmp(e, NULL);
    x64_patch_rel32(e->start, plain, e->p);
    x64_bt_mi(e, 4, CPU(eflags), 0);
    x64_patch_rel32(e->start, done, e->p);
    x64_patch_rel32(e->start, done2, e->p);
}

/* Store the lazy flags of a result in EAX (32-bit) with the aux word in
 * EDX (flags.h: bit 31 CF, bit 30 CF^OF, bit 3 AF). */
void tx_flags_lazy(struct tx *t)
{
    struct x64 *e = &t->e;
    x64_store(e, 4, CPU(lf_res), X_RAX);
    x64_store(e, 4, CPU(lf_aux), X_RDX);
    x64_store_imm(e, 1, CPU(lf_live), 1);
    t->lf_host = false;
    t->fl = F_MEM;
}

/* The guest's flags become the host flags kept in R14 (after the store
 * of a read-modify-write succeeded); INC and DEC keep the guest's CF. */
void tx_commit_r14_flags(struct tx *t, bool keep_cf)
{
    struct x64 *e = &t->e;
    if (keep_cf) {
        tx_call_cpu(e, jit_flags_get);
        tx_cache_forget(t);
        x64_alu_ri(e, XA_AND, 4, X_RAX, EFLAGS_CF << 8);
        x64_alu_ri(e, XA_AND, 4, X_R14, ~(EFLAGS_CF << 8));
        x64_alu_rr(e, XA_OR, 4, X_R14, X_RAX);
    }
    x64_store(e, 4, CPU(lf_aux), X_R14);
    if (!t->lf_host)
        x64_store_imm(e, 1, CPU(lf_live), LF_HOST);
    t->lf_host = true;
    t->fl = F_MEM;
}

/* ---- exits ---- */

struct stub *tx_stub_new(struct tx *t, long at, u32 retired)
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
void tx_exit_if(struct tx *t, int cc, u32 retired, bool set_eip, u32 eip)
{
    long at = cc < 0 ? x64_jmp(&t->e, NULL) : x64_jcc(&t->e, (unsigned)cc, NULL);
    struct stub *s = tx_stub_new(t, at, retired);
    s->set_eip = set_eip;
    s->eip = eip;
}

static void emit_epilogue(struct x64 *e)
{
    x64_lea64(e, X_RSP, x64_m(X_RSP, 8)); /* (LEA: the flags stay) */
    x64_pop(e, X_RBP);
    x64_pop(e, X_R15);
    x64_pop(e, X_R14);
    x64_pop(e, X_R13);
    x64_pop(e, X_R12);
    x64_pop(e, X_RBX);
    x64_ret(e);
}


/* The common tail of an exit: flags saved, instructions counted, then
 * back to the dispatcher or on to a linked block. */
static void exit_tail(struct tx *t, enum fl_state fl, u32 retired, u32 synced, const u8 *epi,
                      bool chain)
{
    enum fl_state keep = t->fl;
    t->fl = fl;
    tx_flags_save(t);
    t->fl = keep;
    if (retired != synced)
        x64_alu_mi(&t->e, XA_ADD, 8, CPU(icount), retired - synced);
    if (chain)
        tx_emit_chain(t, epi, false);
    else if (!epi)
        tx_emit_indirect(t, t->epi);
    else
        x64_jmp(&t->e, epi);
}

/* ---- syncing for faults and calls ---- */

void tx_call_handler(struct tx *t, const struct insn *i)
{
    struct x64 *e = &t->e;
    x64_mov_rr(e, 8, X_RDI, X_RBX);
    x64_mov_ri64(e, X_RSI, (u64)(uintptr_t)i);
    x64_call_abs(e, (const void *)i->fn);
    t->lf_host = false; /* the handler may leave any form */
    tx_cache_forget(t); /* handlers may write any register */
}

/* Make the state precise for instruction `k` at `eip`, which may fault. */
void tx_sync_fault(struct tx *t, unsigned k, u32 eip)
{
    struct x64 *e = &t->e;
    tx_sync_access(t);
    x64_store_imm(e, 4, CPU(insn_eip), eip);
    if (k != t->synced) {
        x64_alu_mi(e, XA_ADD, 8, CPU(icount), k - t->synced);
        t->synced = k;
    }
}

void tx_sync_access(struct tx *t)
{
    struct x64 *e = &t->e;
    tx_flags_save(t);
    if (t->esp_dirty) {
        x64_load(e, 4, X_RAX, CPU(r[R_ESP]));
        x64_store(e, 4, CPU(insn_esp), X_RAX);
        t->esp_dirty = false;
    }
}

/* Leave after instruction `k`, with EIP at `after`, if the MMU epoch
 * moved (a store reached code, or a TLB flush). */
void tx_check_epoch(struct tx *t, unsigned k, u32 after)
{
    struct x64 *e = &t->e;
    x64_alu_mr(e, XA_CMP, 4, x64_m(X_R13, 0), X_R12);
    tx_exit_if(t, 5 /* ne */, k + 1, true, after);
}


/* A handler call for instruction `k`, with the bookkeeping its kind
 * needs (the same the block replay does). */
static void helper(struct tx *t, const struct insn *i, unsigned k, u32 eip, u32 next)
{
    struct x64 *e = &t->e;
    if (i->attr & OPA_NOMEM) {
        tx_flags_save(t);
        tx_call_handler(t, i);
        return;
    }
    tx_sync_fault(t, k, eip);
    if (i->attr & OPA_LOAD) {
        tx_call_handler(t, i);
        t->esp_dirty = true;
        return;
    }
    x64_store_imm(e, 4, CPU(eip), next);
    tx_call_handler(t, i);
    t->esp_dirty = true;
    x64_alu_mi(e, XA_CMP, 4, CPU(eip), next);
    tx_exit_if(t, 5 /* ne */, k + 1, false, 0);
    /* A near transfer changes nothing the run loop watches: where it
     * went can be looked up without the dispatcher. */
    if (!(i->attr & (OPA_MODE | OPA_PRIV)))
        t->stub[t->nstub - 1].indirect = true;
    x64_alu_mr(e, XA_CMP, 4, x64_m(X_R13, 0), X_R12);
    tx_exit_if(t, 5 /* ne */, k + 1, false, 0);
}

static void emit_stubs(struct tx *t, const u8 *epi)
{
    struct x64 *e = &t->e;
    for (unsigned s = 0; s < t->nstub; s++) {
        struct stub *st = &t->stub[s];
        x64_patch_rel32(e->start, st->at, e->p);
        t->fl = st->fl;
        tx_flags_save(t);
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
            tx_call_handler(t, &t->ins[st->k]);
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
    t->page = (j->c->seg[S_CS].base + eip) & PAGE_MASK;
    t->nstub = 0;
    t->nslow = 0;
    t->lf_host = false;
    t->too_many = false;
    tx_cache_choose(t, kept, n);
    t->fl_dead = tx_flags_dead(kept, n);
    u32 cells_before = j->cells_used;
    struct x64 *e = &t->e;
    x64_init(e, b->rw + b->used + copies, JIT_BLOCK_MAX);
    x64_push(e, X_RBX);
    x64_push(e, X_R12);
    x64_push(e, X_R13);
    x64_push(e, X_R14);
    x64_push(e, X_R15);
    x64_push(e, X_RBP);
    x64_lea64(e, X_RSP, x64_m(X_RSP, -8));
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
        last_native = tx_native(t, i, k, eip, next);
        if (last_native) {
            native_n++;
            /* ESP written as an ordinary register (ADD ESP, LEA, MOV):
             * the next fault must store the new start ESP.  (rm names a
             * register only with mod 3, which is also what instructions
             * without ModRM carry; with a memory operand it may be the
             * SIB escape.) */
            if (i->osz != 1 && (i->reg == R_ESP || (i->rm == R_ESP && i->mod == 3)))
                t->esp_dirty = true;
        } else {
            helper(t, i, k, eip, next);
        }
        eip = next;
    }
    /* Fell through the last instruction. */
    x64_store_imm(e, 4, CPU(eip), next);
    tx_flags_save(t);
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
            tx_call_cpu(e, cpu_must_look);
            x64_test_rr(e, 1, X_RAX, X_RAX);
            x64_jcc(e, 5 /* ne */, epi_at);
        }
        tx_emit_chain(t, epi_at, ends);
    } else {
        epi_at = e->p;
        emit_epilogue(e);
    }
    x64_patch_rel32(e->start, bail, epi_at);
    x64_patch_rel32(e->start, past_limit, epi_at);
    t->epi = epi_at;
    t->lf_host = false; /* the stubs run from anywhere in the body */
    emit_stubs(t, epi_at);
    tx_emit_slow(t);
    void *code = NULL;
    if (!e->overflow && !t->too_many) {
        size_t len = x64_len(e);
        code = codebuf_exec_addr(b, e->start);
        *chain = codebuf_exec_addr(b, chained);
        size_t was = b->used;
        b->used += copies + ((len + 15) & ~(size_t)15);
        codebuf_drop_writes(b, was & ~(size_t)4095, b->used);
        j->st.blocks++;
        j->st.guest_insns += n;
        j->st.native_insns += native_n;
        j->st.host_bytes += len;
    } else {
        j->cells_used = cells_before;
    }
    j->st.ns += now_ns() - t0;
    return code;
}

static void shared_moved(void *opaque)
{
    jit_unpatch_all(opaque);
}

struct jit *jit_new(struct cpu *c, size_t size)
{
    /* LAHF and SAHF in 64-bit mode: CPUID 8000_0001h ECX bit 0. */
    unsigned a, b, cx, d;
    if (!__get_cpuid(0x80000001u, &a, &b, &cx, &d) || !(cx & 1))
        return NULL;
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
            j->ld_thunk[z][s] = tx_emit_thunk(&e, c->mmu, size, s, false, NULL);
            j->st_thunk[z][s] = tx_emit_thunk(&e, c->mmu, size, s, true, &j->st_wtag[z][s]);
        }
    j->shared_exit = e.p;
    emit_epilogue(&e);
    j->thunk_end = (x64_len(&e) + 63) & ~(size_t)63;
    j->ncells = (u32)(size / 128);
    j->cells = malloc((size_t)j->ncells * sizeof *j->cells);
    j->patched = malloc((size_t)j->ncells * sizeof *j->patched);
    j->tx = malloc(sizeof *j->tx);
    j->ind = malloc(IND_SIZE * sizeof *j->ind);
    if (!j->cells || !j->patched || !j->tx || !j->ind || e.overflow) {
        jit_free(j);
        return NULL;
    }
    mmu_on_shared_move(c->mmu, shared_moved, j);
    memset(j->ind, 0xff, IND_SIZE * sizeof *j->ind);
    j->buf.used = j->thunk_end;
    return j;
}

void jit_free(struct jit *j)
{
    if (!j)
        return;
    if (j->c->mmu->shared_moved_opaque == j)
        mmu_on_shared_move(j->c->mmu, NULL, NULL);
    codebuf_free(&j->buf);
    free(j->cells);
    free(j->patched);
    free(j->tx);
    free(j->ind);
    free(j);
}

void jit_reset(struct jit *j)
{
    j->buf.used = j->thunk_end;
    j->cells_used = 0;
    j->npatched = 0;
    j->pending = NULL;
    j->pending_ind = NULL;
    memset(j->ind, 0xff, IND_SIZE * sizeof *j->ind);
}

const struct jit_stats *jit_stats(const struct jit *j)
{
    return &j->st;
}

const void *jit_thunks(const struct jit *j, size_t *len)
{
    *len = j->thunk_end;
    return codebuf_exec_addr(&j->buf, j->buf.rw);
}
