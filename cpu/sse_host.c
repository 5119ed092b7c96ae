/*
 * SSE/SSE2 arithmetic, comparisons, conversions and the 128-bit integer
 * operations, executed by the host's own SSE unit (SDM vol. 1, 11.5 and
 * the instruction pages of vol. 2).
 *
 * Each instruction has a stub that loads the destination into the host's
 * XMM0, runs the very instruction with the source in memory, and stores
 * XMM0 back.  The stub loads MXCSR with the guest's RC, FZ and DAZ and
 * every exception masked (so the host never traps) and returns the flags
 * raised; the host's own MXCSR is restored inside the same asm statement,
 * so no compiler-generated SSE code runs under the guest's settings.
 *
 * Exceptions (SDM vol. 1, 11.5.1-11.5.2): the flags are OR-ed into the
 * guest MXCSR.  If one of them is unmasked in the guest, the destination is
 * left unchanged and #XM (CR4.OSXMMEXCPT=1) or #UD is raised; an unmasked
 * pre-computation exception (IE, DE, ZE) stops the operation before the
 * post-computation flags (OE, UE, PE) exist, so only IE/DE/ZE are set.
 * With an unmasked overflow or underflow no result is delivered, and the
 * hardware sets PE if the result rounded with an unbounded exponent is
 * inexact (11.5.2.4-11.5.2.6).  Umbra sets PE from the masked run
 * instead, which differs when that scaled result is exact or only the
 * denormalized one is inexact: a known deviation, confined to PE in
 * MXCSR at an #XM.  With UE unmasked,
 * underflow is signalled for every tiny result, exact or not; the masked
 * host run only flags inexact ones, so a tiny exact result is found by
 * running again with FZ=1, which flags UE for every tiny result.
 */
#include <string.h>

#include "cpu_state.h"
#include "flags.h"
#include "mem.h"
#include "ops.h"

typedef void (*hx_fn)(union xmm *d, const union xmm *s, u32 *mx);

/* The stub for `insn xmm0, m` (immediate forms put "$imm," in `text`). */
#define HX(name, text)                                                                \
    static void hx_##name(union xmm *d, const union xmm *s, u32 *mx)                   \
    {                                                                                  \
        u32 save;                                                                      \
        __asm__ volatile("stmxcsr %[sv]\n\t"                                           \
                         "ldmxcsr %[mx]\n\t"                                           \
                         "movdqa %[d], %%xmm0\n\t" text " %[s], %%xmm0\n\t"           \
                         "stmxcsr %[mx]\n\t"                                           \
                         "ldmxcsr %[sv]\n\t"                                           \
                         "movdqa %%xmm0, %[d]"                                         \
                         : [d] "+m"(*d), [mx] "+m"(*mx), [sv] "=m"(save)               \
                         : [s] "m"(*s)                                                 \
                         : "xmm0");                                                    \
    }

/* ---- exception merging ---- */

static u32 host_mxcsr(const struct cpu *c)
{
    return (c->mxcsr & (MXCSR_RC | MXCSR_FZ | MXCSR_DAZ)) | MXCSR_MASKS;
}

/* Merge the flags `fl` a masked host run raised; raise #XM/#UD (after
 * setting the flags the SDM says are set) if one is unmasked. */
static void merge_flags(struct cpu *c, u32 fl)
{
    u32 unmasked = fl & ~(c->mxcsr >> 7) & MXCSR_FLAGS;
    if (unmasked) {
        if (unmasked & MXCSR_PRE)
            fl &= MXCSR_PRE;
        else if (unmasked & (MXCSR_OE | MXCSR_UE))
            fl &= ~MXCSR_PE;
        c->mxcsr |= fl;
        sse_simd_fault(c);
    }
    c->mxcsr |= fl;
}

/* Run fn on the host with the guest's RC/FZ/DAZ, `extra` MXCSR bits and
 * every exception masked; the raised flags, the result in *out if any. */
static u32 host_flags(const struct cpu *c, hx_fn fn, const union xmm *d, const union xmm *s,
                      u32 extra, union xmm *out)
{
    union xmm r = *d;
    u32 mx = host_mxcsr(c) | extra;
    fn(&r, s, &mx);
    if (out)
        *out = r;
    return mx & MXCSR_FLAGS;
}

/* With UE unmasked a tiny result signals underflow even when exact. */
static u32 add_tiny(const struct cpu *c, hx_fn fn, const union xmm *d, const union xmm *s, u32 fl)
{
    if (!(c->mxcsr & (MXCSR_UE << 7)) && !(fl & MXCSR_UE) &&
        (host_flags(c, fn, d, s, MXCSR_FZ, NULL) & MXCSR_UE))
        fl |= MXCSR_UE;
    return fl;
}

/* d = fn(d, s) under the guest's MXCSR; d unchanged on an unmasked
 * exception. */
static void fp_exec(struct cpu *c, hx_fn fn, union xmm *d, const union xmm *s)
{
    union xmm r;
    u32 fl = add_tiny(c, fn, d, s, host_flags(c, fn, d, s, 0, &r));
    u32 unmasked = fl & ~(c->mxcsr >> 7) & MXCSR_FLAGS;
    if (unmasked) {
        if (unmasked & MXCSR_PRE)
            fl &= MXCSR_PRE;
        c->mxcsr |= fl;
        sse_simd_fault(c);
    }
    c->mxcsr |= fl;
    *d = r;
}

/* V = op(V, W) with a W operand of `size` bytes (16: aligned); `ew`, the
 * element size, documents the form. */
static void fp_op(struct cpu *c, const struct insn *i, hx_fn fn, unsigned size, unsigned ew)
{
    (void)ew;
    sse_enter(c, i);
    union xmm s, d = c->xmm[i->reg];
    sse_read_w(c, i, size, true, &s);
    fp_exec(c, fn, &d, &s);
    c->xmm[i->reg] = d;
}

/* ---- packed and scalar floating point, conversions between XMM forms ---- */

#define FP_OPS \
    X(addps, 16, 4) \
    X(addpd, 16, 8) \
    X(addss, 4, 4) \
    X(addsd, 8, 8) \
    X(mulps, 16, 4) \
    X(mulpd, 16, 8) \
    X(mulss, 4, 4) \
    X(mulsd, 8, 8) \
    X(subps, 16, 4) \
    X(subpd, 16, 8) \
    X(subss, 4, 4) \
    X(subsd, 8, 8) \
    X(minps, 16, 4) \
    X(minpd, 16, 8) \
    X(minss, 4, 4) \
    X(minsd, 8, 8) \
    X(divps, 16, 4) \
    X(divpd, 16, 8) \
    X(divss, 4, 4) \
    X(divsd, 8, 8) \
    X(maxps, 16, 4) \
    X(maxpd, 16, 8) \
    X(maxss, 4, 4) \
    X(maxsd, 8, 8) \
    X(sqrtps, 16, 4) \
    X(sqrtpd, 16, 8) \
    X(sqrtss, 4, 4) \
    X(sqrtsd, 8, 8) \
    X(rsqrtps, 16, 4) \
    X(rsqrtss, 4, 4) \
    X(rcpps, 16, 4) \
    X(rcpss, 4, 4) \
    X(andps, 16, 4) \
    X(andpd, 16, 8) \
    X(andnps, 16, 4) \
    X(andnpd, 16, 8) \
    X(orps, 16, 4) \
    X(orpd, 16, 8) \
    X(xorps, 16, 4) \
    X(xorpd, 16, 8) \
    X(unpcklps, 16, 4) \
    X(unpcklpd, 16, 8) \
    X(unpckhps, 16, 4) \
    X(unpckhpd, 16, 8) \
    X(cvtps2pd, 8, 4) \
    X(cvtpd2ps, 16, 8) \
    X(cvtss2sd, 4, 4) \
    X(cvtsd2ss, 8, 8) \
    X(cvtdq2ps, 16, 4) \
    X(cvtps2dq, 16, 4) \
    X(cvttps2dq, 16, 4) \
    X(cvttpd2dq, 16, 8) \
    X(cvtdq2pd, 8, 4) \
    X(cvtpd2dq, 16, 8) \
    X(cvtpi2ps, 8, 4) \
    X(cvtpi2pd, 8, 4) \
    /* end */

#define X(name, size, ew) HX(name, #name)
FP_OPS
#undef X
#define X(name, size, ew) \
    void op_##name(struct cpu *c, const struct insn *i) { fp_op(c, i, hx_##name, size, ew); }
FP_OPS
#undef X

/* ---- CMPPS/CMPPD/CMPSS/CMPSD: the predicate is imm8[2:0] ---- */

#define CMP_STUBS(x)                                                                      \
    HX(x##0, #x " $0,") HX(x##1, #x " $1,") HX(x##2, #x " $2,") HX(x##3, #x " $3,")       \
    HX(x##4, #x " $4,") HX(x##5, #x " $5,") HX(x##6, #x " $6,") HX(x##7, #x " $7,")       \
    static const hx_fn hx_##x[8] = { hx_##x##0, hx_##x##1, hx_##x##2, hx_##x##3,          \
                                     hx_##x##4, hx_##x##5, hx_##x##6, hx_##x##7 };
/* GNU as spells the scalar double compare "cmpsd" too: the operands tell
 * it from the string instruction. */
CMP_STUBS(cmpps)
CMP_STUBS(cmppd)
CMP_STUBS(cmpss)
CMP_STUBS(cmpsd)

void op_cmpps(struct cpu *c, const struct insn *i) { fp_op(c, i, hx_cmpps[i->imm & 7], 16, 4); }
void op_cmppd(struct cpu *c, const struct insn *i) { fp_op(c, i, hx_cmppd[i->imm & 7], 16, 8); }
void op_cmpss(struct cpu *c, const struct insn *i) { fp_op(c, i, hx_cmpss[i->imm & 7], 4, 4); }
void op_cmpsd(struct cpu *c, const struct insn *i) { fp_op(c, i, hx_cmpsd[i->imm & 7], 8, 8); }

/* ---- CVTSI2SS/CVTSI2SD: a 32-bit integer source ---- */

HX(cvtsi2ssl, "cvtsi2ssl")
HX(cvtsi2sdl, "cvtsi2sdl")

static void cvt_from_int(struct cpu *c, const struct insn *i, hx_fn fn)
{
    sse_enter(c, i);
    union xmm s = { .q = { 0, 0 } }, d = c->xmm[i->reg];
    s.d[0] = rm_read(c, i, 4);
    fp_exec(c, fn, &d, &s);
    c->xmm[i->reg] = d;
}

void op_cvtsi2ss(struct cpu *c, const struct insn *i) { cvt_from_int(c, i, hx_cvtsi2ssl); }
void op_cvtsi2sd(struct cpu *c, const struct insn *i) { cvt_from_int(c, i, hx_cvtsi2sdl); }

/* ---- conversions to a 32-bit GPR, and (U)COMIS* setting EFLAGS ---- */

/* The stub for `insn m, r32`, returning r32 and the flags. */
#define HX_GPR(name)                                                               \
    static u32 hx_##name(const union xmm *s, u32 *mx)                               \
    {                                                                               \
        u32 save, r;                                                                \
        __asm__ volatile("stmxcsr %[sv]\n\t"                                        \
                         "ldmxcsr %[mx]\n\t" #name " %[s], %[r]\n\t"                \
                         "stmxcsr %[mx]\n\t"                                        \
                         "ldmxcsr %[sv]"                                            \
                         : [r] "=r"(r), [mx] "+m"(*mx), [sv] "=m"(save)             \
                         : [s] "m"(*s));                                            \
        return r;                                                                   \
    }
HX_GPR(cvtss2si)
HX_GPR(cvttss2si)
HX_GPR(cvtsd2si)
HX_GPR(cvttsd2si)

static void cvt_to_gpr(struct cpu *c, const struct insn *i, u32 (*fn)(const union xmm *, u32 *),
                       unsigned size)
{
    sse_enter(c, i);
    union xmm s;
    sse_read_w(c, i, size, true, &s);
    u32 mx = host_mxcsr(c);
    u32 r = fn(&s, &mx);
    merge_flags(c, mx & MXCSR_FLAGS);
    c->r[i->reg] = r;
}

void op_cvtss2si(struct cpu *c, const struct insn *i) { cvt_to_gpr(c, i, hx_cvtss2si, 4); }
void op_cvttss2si(struct cpu *c, const struct insn *i) { cvt_to_gpr(c, i, hx_cvttss2si, 4); }
void op_cvtsd2si(struct cpu *c, const struct insn *i) { cvt_to_gpr(c, i, hx_cvtsd2si, 8); }
void op_cvttsd2si(struct cpu *c, const struct insn *i) { cvt_to_gpr(c, i, hx_cvttsd2si, 8); }

/* The stub for `insn m, xmm0`, returning ZF, PF and CF in their EFLAGS
 * positions. */
#define HX_COMI(name)                                                                \
    static u32 hx_##name(const union xmm *a, const union xmm *s, u32 *mx)             \
    {                                                                                 \
        u32 save;                                                                     \
        u8 z, p, cf;                                                                  \
        __asm__ volatile("stmxcsr %[sv]\n\t"                                          \
                         "ldmxcsr %[mx]\n\t"                                          \
                         "movdqa %[a], %%xmm0\n\t" #name " %[s], %%xmm0\n\t"          \
                         "setz %[z]\n\t"                                              \
                         "setp %[p]\n\t"                                              \
                         "setc %[cf]\n\t"                                             \
                         "stmxcsr %[mx]\n\t"                                          \
                         "ldmxcsr %[sv]"                                              \
                         : [z] "=q"(z), [p] "=q"(p), [cf] "=q"(cf), [mx] "+m"(*mx),   \
                           [sv] "=m"(save)                                            \
                         : [a] "m"(*a), [s] "m"(*s)                                   \
                         : "xmm0", "cc");                                             \
        return (z ? EFLAGS_ZF : 0) | (p ? EFLAGS_PF : 0) | (cf ? EFLAGS_CF : 0);      \
    }
HX_COMI(comiss)
HX_COMI(ucomiss)
HX_COMI(comisd)
HX_COMI(ucomisd)

/* OF, SF and AF are cleared (SDM vol. 2, COMISS). */
static void comi(struct cpu *c, const struct insn *i,
                 u32 (*fn)(const union xmm *, const union xmm *, u32 *), unsigned size)
{
    sse_enter(c, i);
    union xmm s;
    sse_read_w(c, i, size, true, &s);
    u32 mx = host_mxcsr(c);
    u32 fl = fn(&c->xmm[i->reg], &s, &mx);
    merge_flags(c, mx & MXCSR_FLAGS);
    set_oszapc(c, fl);
}

void op_comiss(struct cpu *c, const struct insn *i) { comi(c, i, hx_comiss, 4); }
void op_ucomiss(struct cpu *c, const struct insn *i) { comi(c, i, hx_ucomiss, 4); }
void op_comisd(struct cpu *c, const struct insn *i) { comi(c, i, hx_comisd, 8); }
void op_ucomisd(struct cpu *c, const struct insn *i) { comi(c, i, hx_ucomisd, 8); }

/* ---- 128-bit integer operations (66 0F 60-6D, 74-76, D1-FE) ---- */

#define INT_OPS \
    X(packssdw) \
    X(packsswb) \
    X(packuswb) \
    X(paddb) \
    X(paddd) \
    X(paddq) \
    X(paddsb) \
    X(paddsw) \
    X(paddusb) \
    X(paddusw) \
    X(paddw) \
    X(pand) \
    X(pandn) \
    X(pavgb) \
    X(pavgw) \
    X(pcmpeqb) \
    X(pcmpeqd) \
    X(pcmpeqw) \
    X(pcmpgtb) \
    X(pcmpgtd) \
    X(pcmpgtw) \
    X(pmaddwd) \
    X(pmaxsw) \
    X(pmaxub) \
    X(pminsw) \
    X(pminub) \
    X(pmulhuw) \
    X(pmulhw) \
    X(pmullw) \
    X(pmuludq) \
    X(por) \
    X(psadbw) \
    X(pslld) \
    X(psllq) \
    X(psllw) \
    X(psrad) \
    X(psraw) \
    X(psrld) \
    X(psrlq) \
    X(psrlw) \
    X(psubb) \
    X(psubd) \
    X(psubq) \
    X(psubsb) \
    X(psubsw) \
    X(psubusb) \
    X(psubusw) \
    X(psubw) \
    X(punpckhbw) \
    X(punpckhdq) \
    X(punpckhqdq) \
    X(punpckhwd) \
    X(punpcklbw) \
    X(punpckldq) \
    X(punpcklqdq) \
    X(punpcklwd) \
    X(pxor) \
    /* end */

/* No MXCSR flags: a plain host run. */
static void int_op(struct cpu *c, const struct insn *i, hx_fn fn)
{
    sse_enter(c, i);
    union xmm s, d = c->xmm[i->reg];
    sse_read_w(c, i, 16, true, &s);
    u32 mx = MXCSR_RESET;
    fn(&d, &s, &mx);
    c->xmm[i->reg] = d;
}

#define X(name) HX(name, #name)
INT_OPS
#undef X
#define X(name) \
    void op_##name(struct cpu *c, const struct insn *i) { int_op(c, i, hx_##name); }
INT_OPS
#undef X
