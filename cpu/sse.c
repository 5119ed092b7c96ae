/*
 * SSE/SSE2 state, the checks every SIMD instruction makes, operand access,
 * and the instructions that only move or rearrange data: MOV*, MOVMSK*,
 * shuffles, PINSRW/PEXTRW, immediate shifts, MASKMOVDQU, MOVNTI,
 * LDMXCSR/STMXCSR, the fences and CLFLUSH (SDM vol. 1, chapters 10-11;
 * vol. 2, the instruction pages).  Arithmetic is in sse_host.c.
 *
 * Invariant: a handler does sse_enter() first, then every memory access
 * that can fault, and only then writes XMM registers or GPRs.
 */
#include <string.h>

#include "cpu_state.h"
#include "flags.h"
#include "mem.h"
#include "ops.h"

/* ---- checks and exceptions ---- */

static bool has_feat(const struct cpu *c, unsigned feat)
{
    if ((feat & SF_MMX) && !(c->feat_edx & CPUID_EDX_MMX))
        return false;
    if ((feat & SF_SSE2) && !(c->feat_edx & CPUID_EDX_SSE2))
        return false;
    if ((feat & SF_SSE) && !(c->feat_edx & CPUID_EDX_SSE))
        return false;
    return true;
}

void sse_check(struct cpu *c, unsigned feat)
{
    if (!has_feat(c, feat))
        cpu_ud(c);
    if (!(feat & (SF_STATE | SF_MMX)))
        return;
    /* MMX instructions do not look at CR4.OSFXSR (SDM vol. 3A, 13.1). */
    if ((c->cr0 & CR0_EM) || ((feat & SF_STATE) && !(c->cr4 & CR4_OSFXSR)))
        cpu_ud(c);
    if (c->cr0 & CR0_TS)
        cpu_raise_noerr(c, EXC_NM);
    if (feat & SF_MMX)
        fpu_check_pending(c);
}

void sse_enter(struct cpu *c, const struct insn *i)
{
    sse_check(c, i->feat);
}

void sse_simd_fault(struct cpu *c)
{
    if (c->cr4 & CR4_OSXMMEXCPT)
        cpu_raise_noerr(c, EXC_XM);
    cpu_ud(c);
}

void sse_reset(struct cpu *c)
{
    memset(c->xmm, 0, sizeof c->xmm);
    c->mxcsr = MXCSR_RESET;
}

/* ---- FXSAVE image ---- */

void sse_fxsave(const struct cpu *c, u8 *b)
{
    if (!(c->feat_edx & CPUID_EDX_SSE))
        return;
    memcpy(b + 24, &c->mxcsr, 4);
    u32 mask = MXCSR_MASK_VALUE;
    memcpy(b + 28, &mask, 4);
    /* SDM vol. 2, FXSAVE: with CR4.OSFXSR=0 the XMM registers may not be
     * saved; Umbra does not save them then. */
    if (c->cr4 & CR4_OSFXSR)
        memcpy(b + 160, c->xmm, sizeof c->xmm);
}

bool sse_fxrstor(struct cpu *c, const u8 *b)
{
    if (!(c->feat_edx & CPUID_EDX_SSE))
        return true;
    u32 mx;
    memcpy(&mx, b + 24, 4);
    if (mx & ~MXCSR_MASK_VALUE)
        return false;
    c->mxcsr = mx;
    if (c->cr4 & CR4_OSFXSR)
        memcpy(c->xmm, b + 160, sizeof c->xmm);
    return true;
}

/* ---- operands ---- */

static u32 ea_wrap(const struct insn *i, u32 ea) { return i->asz == 2 ? ea & 0xffffu : ea; }

static u32 sse_ea(struct cpu *c, const struct insn *i, unsigned size, bool aligned)
{
    u32 ea = insn_ea(c, i);
    if (aligned && size == 16 && ((c->seg[i->seg].base + ea) & 15))
        cpu_gp(c, 0);
    return ea;
}

void sse_read_w(struct cpu *c, const struct insn *i, unsigned size, bool aligned, union xmm *out)
{
    if (i->mod == 3) {
        *out = c->xmm[i->rm];
        return;
    }
    u32 ea = sse_ea(c, i, size, aligned);
    union xmm v = { .q = { 0, 0 } };
    if (size == 4) {
        v.d[0] = mem_read(c, i->seg, ea, 4);
    } else {
        v.q[0] = mem_read64(c, i->seg, ea);
        if (size == 16)
            v.q[1] = mem_read64(c, i->seg, ea_wrap(i, ea + 8));
    }
    *out = v;
}

void sse_write_m(struct cpu *c, const struct insn *i, const union xmm *v, unsigned size,
                 bool aligned)
{
    u32 ea = sse_ea(c, i, size, aligned);
    if (size == 4) {
        mem_write(c, i->seg, ea, v->d[0], 4);
        return;
    }
    if (size == 16) {
        mem_probe_write(c, i->seg, ea, 8);
        mem_probe_write(c, i->seg, ea_wrap(i, ea + 8), 8);
    }
    mem_write64(c, i->seg, ea, v->q[0]);
    if (size == 16)
        mem_write64(c, i->seg, ea_wrap(i, ea + 8), v->q[1]);
}

/* ---- moves ---- */

static void mov_to_v(struct cpu *c, const struct insn *i, bool aligned)
{
    sse_enter(c, i);
    union xmm v;
    sse_read_w(c, i, 16, aligned, &v);
    c->xmm[i->reg] = v;
}

static void mov_from_v(struct cpu *c, const struct insn *i, bool aligned)
{
    sse_enter(c, i);
    if (i->mod == 3)
        c->xmm[i->rm] = c->xmm[i->reg];
    else
        sse_write_m(c, i, &c->xmm[i->reg], 16, aligned);
}

void op_movu_V_W(struct cpu *c, const struct insn *i) { mov_to_v(c, i, false); }
void op_mova_V_W(struct cpu *c, const struct insn *i) { mov_to_v(c, i, true); }
void op_movu_W_V(struct cpu *c, const struct insn *i) { mov_from_v(c, i, false); }
/* MOVAPS/MOVAPD/MOVDQA stores and the non-temporal MOVNTPS/PD/DQ. */
void op_mova_W_V(struct cpu *c, const struct insn *i) { mov_from_v(c, i, true); }

/* MOVSS (F3) and MOVSD (F2): a register source merges the low element, a
 * memory source zeroes the rest of the register. */
static unsigned scalar_size(const struct insn *i) { return i->rep == 0xf3 ? 4 : 8; }

void op_movs_V_W(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    unsigned n = scalar_size(i);
    union xmm v;
    sse_read_w(c, i, n, false, &v);
    if (i->mod == 3) {
        memcpy(c->xmm[i->reg].b, v.b, n);
        return;
    }
    c->xmm[i->reg] = v;
}

void op_movs_W_V(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    unsigned n = scalar_size(i);
    if (i->mod == 3)
        memcpy(c->xmm[i->rm].b, c->xmm[i->reg].b, n);
    else
        sse_write_m(c, i, &c->xmm[i->reg], n, false);
}

/* MOVLPS/MOVLPD load; register form (NP only) is MOVHLPS. */
void op_movlps_V_W(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    u64 lo;
    if (i->mod == 3) {
        lo = c->xmm[i->rm].q[1];
    } else {
        union xmm v;
        sse_read_w(c, i, 8, false, &v);
        lo = v.q[0];
    }
    c->xmm[i->reg].q[0] = lo;
}

void op_movlps_M_V(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    sse_write_m(c, i, &c->xmm[i->reg], 8, false);
}

/* MOVHPS/MOVHPD load; register form (NP only) is MOVLHPS. */
void op_movhps_V_W(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    u64 hi;
    if (i->mod == 3) {
        hi = c->xmm[i->rm].q[0];
    } else {
        union xmm v;
        sse_read_w(c, i, 8, false, &v);
        hi = v.q[0];
    }
    c->xmm[i->reg].q[1] = hi;
}

void op_movhps_M_V(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    union xmm v = { .q = { c->xmm[i->reg].q[1], 0 } };
    sse_write_m(c, i, &v, 8, false);
}

void op_movd_V_Ed(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    u32 v = rm_read(c, i, 4);
    c->xmm[i->reg] = (union xmm){ .d = { v, 0, 0, 0 } };
}

void op_movd_Ed_V(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    rm_write(c, i, c->xmm[i->reg].d[0], 4);
}

/* F3 0F 7E: MOVQ xmm, xmm/m64 zeroes bits 127-64. */
void op_movq_V_W(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    union xmm v;
    sse_read_w(c, i, 8, false, &v);
    c->xmm[i->reg] = (union xmm){ .q = { v.q[0], 0 } };
}

/* 66 0F D6: MOVQ xmm/m64, xmm; a register destination's high half is
 * zeroed. */
void op_movq_W_V(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    if (i->mod == 3)
        c->xmm[i->rm] = (union xmm){ .q = { c->xmm[i->reg].q[0], 0 } };
    else
        sse_write_m(c, i, &c->xmm[i->reg], 8, false);
}

void op_movmskps(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    const union xmm *s = &c->xmm[i->rm];
    u32 m = 0;
    for (unsigned k = 0; k < 4; k++)
        m |= (s->d[k] >> 31) << k;
    c->r[i->reg] = m;
}

void op_movmskpd(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    const union xmm *s = &c->xmm[i->rm];
    c->r[i->reg] = (u32)(s->q[0] >> 63) | (u32)(s->q[1] >> 63) << 1;
}

void op_pmovmskb(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    const union xmm *s = &c->xmm[i->rm];
    u32 m = 0;
    for (unsigned k = 0; k < 16; k++)
        m |= (u32)(s->b[k] >> 7) << k;
    c->r[i->reg] = m;
}

/* MOVNTI m32, r32: a GPR store; no SIMD state, so only CPUID.SSE2
 * matters (SDM vol. 2, MOVNTI exceptions). */
void op_movnti_Md_Gd(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    mem_write(c, i->seg, insn_ea(c, i), c->r[i->reg], 4);
}

/* MASKMOVDQU: the bytes of XMM[reg] whose mask byte in XMM[rm] has bit 7
 * set go to DS:EDI (segment override allowed).  Every selected byte is
 * probed before the first is stored. */
void op_maskmovdqu(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    const union xmm v = c->xmm[i->reg], m = c->xmm[i->rm];
    unsigned seg = i->segovr != S_NONE ? i->segovr : S_DS;
    u32 base = i->asz == 2 ? c->r[R_EDI] & 0xffffu : c->r[R_EDI];
    for (unsigned k = 0; k < 16; k++)
        if (m.b[k] & 0x80)
            mem_probe_write(c, seg, ea_wrap(i, base + k), 1);
    for (unsigned k = 0; k < 16; k++)
        if (m.b[k] & 0x80)
            mem_write(c, seg, ea_wrap(i, base + k), v.b[k], 1);
}

/* ---- shuffles and word insert/extract ---- */

void op_shufps(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    union xmm s, d = c->xmm[i->reg], r;
    sse_read_w(c, i, 16, true, &s);
    unsigned im = i->imm;
    r.d[0] = d.d[im & 3];
    r.d[1] = d.d[(im >> 2) & 3];
    r.d[2] = s.d[(im >> 4) & 3];
    r.d[3] = s.d[(im >> 6) & 3];
    c->xmm[i->reg] = r;
}

void op_shufpd(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    union xmm s, d = c->xmm[i->reg], r;
    sse_read_w(c, i, 16, true, &s);
    r.q[0] = d.q[i->imm & 1];
    r.q[1] = s.q[(i->imm >> 1) & 1];
    c->xmm[i->reg] = r;
}

void op_pshufd(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    union xmm s, r;
    sse_read_w(c, i, 16, true, &s);
    for (unsigned k = 0; k < 4; k++)
        r.d[k] = s.d[(i->imm >> (2 * k)) & 3];
    c->xmm[i->reg] = r;
}

/* PSHUFLW shuffles words 0-3 (half 0), PSHUFHW words 4-7 (half 1); the
 * other quadword is copied. */
static void pshuf_half(struct cpu *c, const struct insn *i, unsigned half)
{
    sse_enter(c, i);
    union xmm s, r;
    sse_read_w(c, i, 16, true, &s);
    r = s;
    for (unsigned k = 0; k < 4; k++)
        r.w[4 * half + k] = s.w[4 * half + ((i->imm >> (2 * k)) & 3)];
    c->xmm[i->reg] = r;
}

void op_pshuflw(struct cpu *c, const struct insn *i) { pshuf_half(c, i, 0); }
void op_pshufhw(struct cpu *c, const struct insn *i) { pshuf_half(c, i, 1); }

void op_pinsrw(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    u16 v = (u16)rm_read(c, i, 2);
    c->xmm[i->reg].w[i->imm & 7] = v;
}

void op_pextrw(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    c->r[i->reg] = c->xmm[i->rm].w[i->imm & 7];
}

/* ---- shifts by an immediate (groups 12-14, 66 0F 71-73) ---- */

static void shift_words(union xmm *x, unsigned op, unsigned n)
{
    for (unsigned k = 0; k < 8; k++) {
        u16 v = x->w[k];
        if (op == 4) /* PSRAW */
            x->w[k] = (u16)((i16)v >> (n > 15 ? 15 : n));
        else
            x->w[k] = n > 15 ? 0 : (u16)(op == 2 ? v >> n : v << n);
    }
}

static void shift_dwords(union xmm *x, unsigned op, unsigned n)
{
    for (unsigned k = 0; k < 4; k++) {
        u32 v = x->d[k];
        if (op == 4) /* PSRAD */
            x->d[k] = (u32)((i32)v >> (n > 31 ? 31 : n));
        else
            x->d[k] = n > 31 ? 0 : (op == 2 ? v >> n : v << n);
    }
}

static void shift_qwords(union xmm *x, unsigned op, unsigned n)
{
    union xmm r = { .q = { 0, 0 } };
    switch (op) {
    case 2: case 6: /* PSRLQ, PSLLQ */
        for (unsigned k = 0; k < 2; k++)
            r.q[k] = n > 63 ? 0 : op == 2 ? x->q[k] >> n : x->q[k] << n;
        break;
    case 3: /* PSRLDQ: bytes, counts above 15 clear the register */
        for (unsigned k = 0; k + n < 16; k++)
            r.b[k] = x->b[k + n];
        break;
    case 7: /* PSLLDQ */
        for (unsigned k = n; k < 16; k++)
            r.b[k] = x->b[k - n];
        break;
    }
    *x = r;
}

void op_pshift_U_Ib(struct cpu *c, const struct insn *i)
{
    sse_enter(c, i);
    union xmm x = c->xmm[i->rm];
    unsigned n = i->imm & 0xff;
    if (i->opc == 0x171)
        shift_words(&x, i->reg, n);
    else if (i->opc == 0x172)
        shift_dwords(&x, i->reg, n);
    else
        shift_qwords(&x, i->reg, n);
    c->xmm[i->rm] = x;
}

/* ---- MXCSR, fences, cache control ---- */

void op_ldmxcsr_Md(struct cpu *c, const struct insn *i)
{
    sse_check(c, SF_SSE | SF_STATE);
    u32 v = mem_read(c, i->seg, insn_ea(c, i), 4);
    if (v & ~MXCSR_MASK_VALUE)
        cpu_gp(c, 0);
    c->mxcsr = v;
}

void op_stmxcsr_Md(struct cpu *c, const struct insn *i)
{
    sse_check(c, SF_SSE | SF_STATE);
    mem_write(c, i->seg, insn_ea(c, i), c->mxcsr, 4);
}

/* One CPU, memory accesses in program order: the fences order nothing
 * more, and need only their CPUID bit (SDM vol. 2, LFENCE/MFENCE/SFENCE:
 * not affected by CR0.EM/TS or CR4.OSFXSR). */
void op_lfence(struct cpu *c, const struct insn *i)
{
    (void)i;
    sse_check(c, SF_SSE2);
}

void op_mfence(struct cpu *c, const struct insn *i)
{
    (void)i;
    sse_check(c, SF_SSE2);
}

/* 0F AE /7: SFENCE with a register ModRM, CLFLUSH m8 with a memory one.
 * There are no caches to flush, but CLFLUSH checks its operand like a
 * byte load (SDM vol. 2, CLFLUSH: #GP/#SS/#PF as for a read). */
#define CPUID_EDX_CLFSH (1u << 19)
void op_sfence_clflush(struct cpu *c, const struct insn *i)
{
    if (i->mod == 3) {
        sse_check(c, SF_SSE);
        return;
    }
    if (!(c->feat_edx & CPUID_EDX_CLFSH))
        cpu_ud(c);
    (void)mem_read(c, i->seg, insn_ea(c, i), 1);
}
