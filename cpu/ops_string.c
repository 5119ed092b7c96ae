/*
 * String instructions with REP/REPE/REPNE (SDM vol. 2, "REP/REPE/REPZ/
 * REPNE/REPNZ", MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS).
 *
 * Every iteration commits its pointer and count updates before the next
 * one starts, so a fault mid-way leaves ECX/ESI/EDI describing the work
 * still to do and restarting the instruction finishes the job.  A long
 * REP runs in slices: after STR_SLICE iterations the instruction is made to
 * execute again (EIP stays on it), which lets the run loop take
 * interrupts in between, as real hardware does.
 */
#include "cpu_state.h"
#include "flags.h"
#include "mem.h"
#include "ops.h"
#include "system.h"

#include <string.h>

#define STR_SLICE 4096u

struct strctx {
    u32 amask;  /* 0xffff or 0xffffffff */
    i32 step;   /* +size or -size */
    unsigned src; /* source segment */
};

static inline struct strctx str_ctx(const struct cpu *c, const struct insn *i)
{
    struct strctx s;
    s.amask = i->asz == 2 ? 0xffffu : 0xffffffffu;
    s.step = (c->eflags & EFLAGS_DF) ? -(i32)i->osz : (i32)i->osz;
    s.src = i->segovr != S_NONE ? i->segovr : S_DS;
    return s;
}

static inline void adv(struct cpu *c, unsigned r, const struct strctx *s)
{
    c->r[r] = (c->r[r] & ~s->amask) | ((c->r[r] + (u32)s->step) & s->amask);
}

static inline u32 count(const struct cpu *c, const struct strctx *s)
{
    return c->r[R_ECX] & s->amask;
}

static inline void set_count(struct cpu *c, const struct strctx *s, u32 v)
{
    c->r[R_ECX] = (c->r[R_ECX] & ~s->amask) | (v & s->amask);
}

/* After a slice with work left: run this instruction again. */
static inline void again(struct cpu *c)
{
    c->eip = c->insn_eip;
}

/*
 * Run `body` once, or with a REP prefix up to STR_SLICE times while ECX is
 * non-zero.  `stop` is evaluated after each iteration: CMPS and SCAS end
 * when the REPE/REPNE condition fails.
 */
#define STR_LOOP_UNTIL(body, stop)                                \
    do {                                                          \
        if (!i->rep) {                                            \
            body;                                                 \
            return;                                               \
        }                                                         \
        for (unsigned n = 0; n < STR_SLICE; n++) {                \
            u32 cnt = count(c, &s);                               \
            if (cnt == 0)                                         \
                return;                                           \
            body;                                                 \
            set_count(c, &s, cnt - 1);                            \
            if (stop)                                             \
                return;                                           \
        }                                                         \
        if (count(c, &s))                                         \
            again(c);                                             \
    } while (0)

#define STR_LOOP(body) STR_LOOP_UNTIL(body, false)
#define STR_COND_LOOP(body) STR_LOOP_UNTIL(body, get_ZF(c) != (i->rep == 0xf3))

/*
 * The bulk path of REP MOVS and REP STOS with 32-bit addresses and DF
 * clear: up to `room` iterations that stay inside one page of the
 * destination (and of the source), done on host memory at once when the
 * L1 TLB hands out plain pointers for both (segments allow the whole
 * run; for the write: RAM, writable, dirty, not tracked -- so nothing
 * needs to see the stores).  The result is what the iterations one by one
 * leave, overlap included.  Returns the number of iterations done; 0 if
 * the next *one_by_one (at least 1) must go the ordinary way.
 */
static u32 str_bulk(struct cpu *c, const struct insn *i, const struct strctx *s, u32 room,
                    bool movs, u32 v, u32 *one_by_one)
{
    unsigned sz = i->osz;
    u32 edi = c->r[R_EDI], esi = c->r[R_ESI];
    u32 n = count(c, s);
    if (n > room)
        n = room;
    u32 fit = (PAGE_SIZE - (edi & (PAGE_SIZE - 1))) / sz;
    if (movs) {
        u32 sfit = (PAGE_SIZE - (esi & (PAGE_SIZE - 1))) / sz;
        if (sfit < fit)
            fit = sfit;
    }
    if (fit < n)
        n = fit;
    *one_by_one = n ? n : 1; /* to the first page end (a straddler: 1) */
    if (n < 2)
        return 0;
    u32 bytes = n * sz;
    u8 *d = mem_fast_ptr(c, S_ES, edi, bytes, SEGOK_WRITE, ACC_WRITE);
    if (!d)
        return 0;
    if (movs) {
        const u8 *src = mem_fast_ptr(c, s->src, esi, bytes, SEGOK_READ, ACC_READ);
        if (!src)
            return 0;
        if (d >= src + bytes || src >= d + bytes) {
            memcpy(d, src, bytes);
        } else {
            for (u32 k = 0; k < bytes; k += sz)
                store_host(d + k, load_host(src + k, sz), sz);
        }
        c->r[R_ESI] = esi + bytes;
    } else if (sz == 1) {
        memset(d, (int)(v & 0xff), bytes);
    } else {
        for (u32 k = 0; k < bytes; k += sz)
            store_host(d + k, v, sz);
    }
    c->r[R_EDI] = edi + bytes;
    c->r[R_ECX] -= n;
    return n;
}

/* A REP MOVS or STOS that can take the bulk path: the one-by-one loop of
 * STR_LOOP, with runs of iterations done by str_bulk() in between (after
 * a refusal, the rest of that page goes one by one).  The slices are the
 * same, so the instruction count does not change. */
static bool str_rep_bulk(struct cpu *c, const struct insn *i, const struct strctx *s,
                         bool movs, u32 v)
{
    if (!i->rep || s->amask != 0xffffffffu || s->step < 0)
        return false;
    unsigned sz = i->osz;
    u32 slow = 0;
    for (u32 n = 0; n < STR_SLICE; n++) {
        u32 cnt = count(c, s);
        if (cnt == 0)
            return true;
        if (slow == 0) {
            u32 done = str_bulk(c, i, s, STR_SLICE - n, movs, v, &slow);
            if (done) {
                n += done - 1;
                slow = 0;
                continue;
            }
        }
        slow--;
        if (movs) {
            u32 x = mem_read(c, s->src, c->r[R_ESI], sz);
            mem_write(c, S_ES, c->r[R_EDI], x, sz);
            adv(c, R_ESI, s);
        } else {
            mem_write(c, S_ES, c->r[R_EDI], v, sz);
        }
        adv(c, R_EDI, s);
        set_count(c, s, cnt - 1);
    }
    if (count(c, s))
        again(c);
    return true;
}

void op_movs(struct cpu *c, const struct insn *i)
{
    struct strctx s = str_ctx(c, i);
    unsigned sz = i->osz;
    if (str_rep_bulk(c, i, &s, true, 0))
        return;
    STR_LOOP({
        u32 v = mem_read(c, s.src, c->r[R_ESI] & s.amask, sz);
        mem_write(c, S_ES, c->r[R_EDI] & s.amask, v, sz);
        adv(c, R_ESI, &s);
        adv(c, R_EDI, &s);
    });
}

void op_stos(struct cpu *c, const struct insn *i)
{
    struct strctx s = str_ctx(c, i);
    unsigned sz = i->osz;
    u32 v = reg_read(c, R_EAX, sz);
    if (str_rep_bulk(c, i, &s, false, v))
        return;
    STR_LOOP({
        mem_write(c, S_ES, c->r[R_EDI] & s.amask, v, sz);
        adv(c, R_EDI, &s);
    });
}

void op_lods(struct cpu *c, const struct insn *i)
{
    struct strctx s = str_ctx(c, i);
    unsigned sz = i->osz;
    STR_LOOP({
        u32 v = mem_read(c, s.src, c->r[R_ESI] & s.amask, sz);
        reg_write(c, R_EAX, v, sz);
        adv(c, R_ESI, &s);
    });
}

void op_cmps(struct cpu *c, const struct insn *i)
{
    struct strctx s = str_ctx(c, i);
    unsigned sz = i->osz;
    STR_COND_LOOP({
        u32 a = mem_read(c, s.src, c->r[R_ESI] & s.amask, sz);
        u32 b = mem_read(c, S_ES, c->r[R_EDI] & s.amask, sz);
        lf_sub(c, a, b, a - b, sz);
        adv(c, R_ESI, &s);
        adv(c, R_EDI, &s);
    });
}

void op_scas(struct cpu *c, const struct insn *i)
{
    struct strctx s = str_ctx(c, i);
    unsigned sz = i->osz;
    u32 a = reg_read(c, R_EAX, sz);
    STR_COND_LOOP({
        u32 b = mem_read(c, S_ES, c->r[R_EDI] & s.amask, sz);
        lf_sub(c, a, b, a - b, sz);
        adv(c, R_EDI, &s);
    });
}

void op_ins(struct cpu *c, const struct insn *i)
{
    struct strctx s = str_ctx(c, i);
    unsigned sz = i->osz;
    u16 port = (u16)c->r[R_EDX];
    io_check(c, port, sz);
    STR_LOOP({
        u32 lin = seg_lin(c, S_ES, c->r[R_EDI] & s.amask, sz, SEGOK_WRITE);
        mem_probe_write(c, S_ES, c->r[R_EDI] & s.amask, sz);
        lin_write(c, lin, mmu_io_read(c->mmu, port, sz), sz);
        adv(c, R_EDI, &s);
    });
}

void op_outs(struct cpu *c, const struct insn *i)
{
    struct strctx s = str_ctx(c, i);
    unsigned sz = i->osz;
    u16 port = (u16)c->r[R_EDX];
    io_check(c, port, sz);
    STR_LOOP({
        u32 v = mem_read(c, s.src, c->r[R_ESI] & s.amask, sz);
        mmu_io_write(c->mmu, port, v, sz);
        adv(c, R_ESI, &s);
    });
}
