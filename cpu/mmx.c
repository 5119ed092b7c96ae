/*
 * MMX technology and the MMX-register forms SSE and SSE2 added (SDM vol. 1,
 * chapter 9; vol. 2, the instruction pages; vol. 3A, 13.1 and table 2-2).
 *
 * MM0-MM7 live in the x87 physical registers R0-R7 (bits 63-0 of the
 * 80-bit images in struct fpu), so FSAVE/FXSAVE save them and a task
 * switch that saves the x87 state saves them too.  An MMX instruction
 * checks CPUID, CR0.EM (#UD) and CR0.TS (#NM), takes a pending unmasked
 * x87 exception (#MF, or FERR#), does its memory accesses, and only then
 * writes MMn and makes the x87-to-MMX transition (SDM vol. 1, 9.5:
 * TOP = 0, every register valid; a written register's exponent and sign
 * all ones).  EMMS empties every tag.
 *
 * The arithmetic runs as the very host instruction on the host's MM0,
 * followed by EMMS so the host's x87 is left empty (fpu.c reloads its
 * whole state with FRSTOR before every x87 instruction anyway).
 */
#include <string.h>

#include "cpu_state.h"
#include "mem.h"
#include "ops.h"

/* ---- registers and the transition ---- */

u64 mm_get(const struct cpu *c, unsigned n)
{
    u64 v;
    memcpy(&v, c->fpu.reg[n], 8);
    return v;
}

void mm_set(struct cpu *c, unsigned n, u64 v)
{
    memcpy(c->fpu.reg[n], &v, 8);
    c->fpu.reg[n][8] = 0xff;
    c->fpu.reg[n][9] = 0xff;
}

void mmx_transition(struct cpu *c)
{
    c->fpu.sw &= (u16)~FSW_TOP;
    c->fpu.valid = 0xff;
}

/* The Q operand: MM[rm], or `size` bytes (4 or 8) of memory, unaligned. */
static u64 read_q(struct cpu *c, const struct insn *i, unsigned size)
{
    if (i->mod == 3)
        return mm_get(c, i->rm);
    u32 ea = insn_ea(c, i);
    return size == 4 ? mem_read(c, i->seg, ea, 4) : mem_read64(c, i->seg, ea);
}

/* ---- arithmetic on the host ---- */

typedef void (*hm_fn)(u64 *d, const u64 *s);

#define HM(name, text)                                                          \
    static void hm_##name(u64 *d, const u64 *s)                                  \
    {                                                                            \
        __asm__ volatile("movq %[d], %%mm0\n\t" text " %[s], %%mm0\n\t"          \
                         "movq %%mm0, %[d]\n\t"                                  \
                         "emms"                                                  \
                         : [d] "+m"(*d)                                          \
                         : [s] "m"(*s)                                           \
                         : "mm0");                                               \
    }

/* MMn = op(MMn, Q) with a Q memory operand of `size` bytes. */
static void mmx_op(struct cpu *c, const struct insn *i, hm_fn fn, unsigned size)
{
    sse_enter(c, i);
    u64 s = read_q(c, i, size), d = mm_get(c, i->reg);
    fn(&d, &s);
    mm_set(c, i->reg, d);
    mmx_transition(c);
}

#define MMX_OPS \
    X(packssdw, 8) \
    X(packsswb, 8) \
    X(packuswb, 8) \
    X(paddb, 8) \
    X(paddd, 8) \
    X(paddq, 8) \
    X(paddsb, 8) \
    X(paddsw, 8) \
    X(paddusb, 8) \
    X(paddusw, 8) \
    X(paddw, 8) \
    X(pand, 8) \
    X(pandn, 8) \
    X(pavgb, 8) \
    X(pavgw, 8) \
    X(pcmpeqb, 8) \
    X(pcmpeqd, 8) \
    X(pcmpeqw, 8) \
    X(pcmpgtb, 8) \
    X(pcmpgtd, 8) \
    X(pcmpgtw, 8) \
    X(pmaddwd, 8) \
    X(pmaxsw, 8) \
    X(pmaxub, 8) \
    X(pminsw, 8) \
    X(pminub, 8) \
    X(pmulhuw, 8) \
    X(pmulhw, 8) \
    X(pmullw, 8) \
    X(pmuludq, 8) \
    X(por, 8) \
    X(psadbw, 8) \
    X(pslld, 8) \
    X(psllq, 8) \
    X(psllw, 8) \
    X(psrad, 8) \
    X(psraw, 8) \
    X(psrld, 8) \
    X(psrlq, 8) \
    X(psrlw, 8) \
    X(psubb, 8) \
    X(psubd, 8) \
    X(psubq, 8) \
    X(psubsb, 8) \
    X(psubsw, 8) \
    X(psubusb, 8) \
    X(psubusw, 8) \
    X(psubw, 8) \
    X(punpckhbw, 8) \
    X(punpckhdq, 8) \
    X(punpckhwd, 8) \
    X(punpcklbw, 4) \
    X(punpckldq, 4) \
    X(punpcklwd, 4) \
    X(pxor, 8) \
    /* end */

#define X(name, size) HM(name, #name)
MMX_OPS
#undef X
#define X(name, size) \
    void op_mmx_##name(struct cpu *c, const struct insn *i) { mmx_op(c, i, hm_##name, size); }
MMX_OPS
#undef X

/* Groups 12-14 (0F 71-73 without a prefix): shifts of MM[rm] by imm8, the
 * count-operand forms with the count in a quadword. */
void op_mmx_shift_N_Ib(struct cpu *c, const struct insn *i)
{
    static const hm_fn by_reg[3][8] = {
        [0] = { [2] = hm_psrlw, [4] = hm_psraw, [6] = hm_psllw },
        [1] = { [2] = hm_psrld, [4] = hm_psrad, [6] = hm_pslld },
        [2] = { [2] = hm_psrlq, [6] = hm_psllq },
    };
    sse_enter(c, i);
    u64 d = mm_get(c, i->rm), n = i->imm & 0xff;
    by_reg[(i->opc & 0xff) - 0x71][i->reg](&d, &n);
    mm_set(c, i->rm, d);
    mmx_transition(c);
}

/* ---- moves, shuffles and the rest ---- */

void op_movd_P_Ed(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    u64 v = rm_read(c, i, 4);
    mm_set(c, i->reg, v);
    mmx_transition(c);
}

void op_movd_Ed_P(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    rm_write(c, i, (u32)mm_get(c, i->reg), 4);
    mmx_transition(c);
}

void op_movq_P_Q(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    u64 v = read_q(c, i, 8);
    mm_set(c, i->reg, v);
    mmx_transition(c);
}

/* MOVQ Qq,Pq and MOVNTQ. */
void op_movq_Q_P(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    u64 v = mm_get(c, i->reg);
    if (i->mod == 3)
        mm_set(c, i->rm, v);
    else
        mem_write64(c, i->seg, insn_ea(c, i), v);
    mmx_transition(c);
}

void op_emms(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    c->fpu.valid = 0;
}

void op_pshufw(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    u64 s = read_q(c, i, 8), r = 0;
    for (unsigned k = 0; k < 4; k++)
        r |= ((s >> (16 * ((i->imm >> (2 * k)) & 3))) & 0xffff) << (16 * k);
    mm_set(c, i->reg, r);
    mmx_transition(c);
}

void op_mmx_pinsrw(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    u64 w = rm_read(c, i, 2) & 0xffff, sh = 16 * (i->imm & 3);
    mm_set(c, i->reg, (mm_get(c, i->reg) & ~(0xffffull << sh)) | w << sh);
    mmx_transition(c);
}

void op_mmx_pextrw(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    c->r[i->reg] = (u32)(mm_get(c, i->rm) >> (16 * (i->imm & 3))) & 0xffff;
    mmx_transition(c);
}

void op_mmx_pmovmskb(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    u64 v = mm_get(c, i->rm);
    u32 m = 0;
    for (unsigned k = 0; k < 8; k++)
        m |= (u32)((v >> (8 * k + 7)) & 1) << k;
    c->r[i->reg] = m;
    mmx_transition(c);
}

/* MASKMOVQ: as MASKMOVDQU (sse.c), eight bytes; every selected byte is
 * probed before the first is stored. */
void op_maskmovq(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    u64 v = mm_get(c, i->reg), m = mm_get(c, i->rm);
    unsigned seg = i->segovr != S_NONE ? i->segovr : S_DS;
    u32 mask = i->asz == 2 ? 0xffffu : 0xffffffffu;
    u32 base = c->r[R_EDI] & mask;
    for (unsigned k = 0; k < 8; k++)
        if ((m >> (8 * k + 7)) & 1)
            mem_probe_write(c, seg, (base + k) & mask, 1);
    for (unsigned k = 0; k < 8; k++)
        if ((m >> (8 * k + 7)) & 1)
            mem_write(c, seg, (base + k) & mask, (u8)(v >> (8 * k)), 1);
    mmx_transition(c);
}

void op_movq2dq(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    c->xmm[i->reg] = (union xmm){ .q = { mm_get(c, i->rm), 0 } };
    mmx_transition(c);
}

void op_movdq2q(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    mm_set(c, i->reg, c->xmm[i->rm].q[0]);
    mmx_transition(c);
}
