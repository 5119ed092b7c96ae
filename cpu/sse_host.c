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
 * A lane with an unmasked overflow or underflow delivers no result, and
 * its PE says whether the result rounded with an unbounded exponent is
 * inexact (11.5.2.4-11.5.2.6), which the masked run does not show: that
 * case is worked out lane by lane on operands scaled into range.  With UE
 * unmasked, underflow is signalled for every tiny result, exact or not;
 * the masked host run only flags inexact ones, so a tiny exact result is
 * found by running again with FZ=1, which flags UE for every tiny result.
 *
 * The MMX-register conversions (CVTPI2PS, CVTPS2PI, ...) are here too;
 * the rest of MMX is in mmx.c.
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

/*
 * An operation form: its stub, the W operand's size, the element size of
 * its source, and what it computes, which is what working out PE at an
 * unmasked overflow or underflow needs (the only forms that can raise
 * OE/UE are the four arithmetic ones and the narrowing conversions).
 */
enum fp_kind { FK_NONE, FK_ADD, FK_MUL, FK_DIV, FK_CVT };
struct fp_form {
    hx_fn fn;
    unsigned size, ew;
    enum fp_kind kind;
};

/* ---- PE at an unmasked overflow or underflow ---- */

/* Element k (of `ew` bytes) of x copied into every element. */
static union xmm broadcast(const union xmm *x, unsigned ew, unsigned k)
{
    union xmm r;
    for (unsigned j = 0; j < 16; j += ew)
        memcpy(r.b + j, x->b + ew * k, ew);
    return r;
}

/* A finite nonzero element as sign * 1.f * 2^e: returns the element with
 * the same sign and significand and exponent 0 (denormals normalized),
 * and e; false for zeros, infinities and NaNs (and denormals under DAZ,
 * which read as zero).  `ew`: 4 single, 8 double. */
static bool split(u64 v, unsigned ew, bool daz, u64 *m, int *e)
{
    unsigned mbits = ew == 4 ? 23 : 52, emax = ew == 4 ? 0xff : 0x7ff, bias = emax >> 1;
    u64 sign = v & (1ull << (8 * ew - 1)), man = v & ((1ull << mbits) - 1);
    unsigned exp = (unsigned)(v >> mbits) & emax;
    if (exp == emax || (exp == 0 && (man == 0 || daz)))
        return false;
    int ex = (int)exp - (int)bias;
    if (exp == 0) {
        ex = 1 - (int)bias;
        while (!(man >> mbits)) {
            man <<= 1;
            ex--;
        }
        man &= (1ull << mbits) - 1;
    }
    *e = ex;
    *m = sign | (u64)bias << mbits | man;
    return true;
}

static u64 get_el(const union xmm *x, unsigned ew, unsigned k)
{
    return ew == 4 ? x->d[k] : x->q[k];
}

static void put_all(union xmm *x, unsigned ew, u64 v)
{
    for (unsigned k = 0; k < 16 / ew; k++)
        if (ew == 4)
            x->d[k] = (u32)v;
        else
            x->q[k] = v;
}

/* `m` (exponent 0) with its exponent moved by `by` (stays normal). */
static u64 rescale(u64 m, unsigned ew, int by)
{
    unsigned mbits = ew == 4 ? 23 : 52;
    return m + ((u64)(i64)by << mbits);
}

/*
 * Whether lane k's result, rounded to the destination precision with an
 * unbounded exponent, is inexact: what PE says when that lane's overflow
 * or underflow is unmasked (SDM vol. 1, 11.5.2.4-11.5.2.6).  The lane runs
 * again on operands scaled by powers of two (exactly) so that its result
 * is a normal number.
 */
static bool lane_inexact(const struct cpu *c, const struct fp_form *f, const union xmm *d,
                         const union xmm *s, unsigned k)
{
    bool daz = c->mxcsr & MXCSR_DAZ;
    unsigned ew = f->ew, p = ew == 4 ? 24 : 53;
    u64 ma, mb;
    int ea, eb;
    union xmm d1 = { .q = { 0, 0 } }, s1 = { .q = { 0, 0 } };
    if (f->kind == FK_CVT) {
        if (!split(get_el(s, ew, k), ew, daz, &mb, &eb))
            return false;
        put_all(&s1, ew, mb);
    } else {
        if (!split(get_el(d, ew, k), ew, daz, &ma, &ea) ||
            !split(get_el(s, ew, k), ew, daz, &mb, &eb))
            return false; /* a zero operand: the result is an operand, exact */
        if (f->kind == FK_ADD) {
            int hi = ea > eb ? ea : eb, lo = ea > eb ? eb : ea;
            if (hi - lo > (int)p + 2)
                return true; /* the smaller operand falls below the last bit */
            ma = rescale(ma, ew, ea - hi);
            mb = rescale(mb, ew, eb - hi);
        }
        put_all(&d1, ew, ma);
        put_all(&s1, ew, mb);
    }
    return host_flags(c, f->fn, &d1, &s1, 0, NULL) & MXCSR_PE;
}

/* The flags of an operation with an unmasked overflow or underflow, lane
 * by lane: a lane with an unmasked OE/UE reports PE as lane_inexact()
 * says, every other lane what its masked result raised. */
static u32 post_flags(const struct cpu *c, const struct fp_form *f, const union xmm *d,
                      const union xmm *s)
{
    u32 um = ~(c->mxcsr >> 7) & MXCSR_FLAGS, fl = 0;
    unsigned lanes = f->size / f->ew;
    for (unsigned k = 0; k < lanes; k++) {
        union xmm d1 = broadcast(d, f->ew, k), s1 = broadcast(s, f->ew, k);
        u32 lf = add_tiny(c, f->fn, &d1, &s1, host_flags(c, f->fn, &d1, &s1, 0, NULL));
        if (lf & um & (MXCSR_OE | MXCSR_UE)) {
            lf &= ~MXCSR_PE;
            if (lane_inexact(c, f, d, s, k))
                lf |= MXCSR_PE;
        }
        fl |= lf;
    }
    return fl;
}

/* d = f(d, s) under the guest's MXCSR; d unchanged on an unmasked
 * exception. */
static void fp_exec(struct cpu *c, const struct fp_form *f, union xmm *d, const union xmm *s)
{
    union xmm r;
    u32 fl = add_tiny(c, f->fn, d, s, host_flags(c, f->fn, d, s, 0, &r));
    u32 unmasked = fl & ~(c->mxcsr >> 7) & MXCSR_FLAGS;
    if (unmasked) {
        if (unmasked & MXCSR_PRE)
            fl &= MXCSR_PRE;
        else if ((unmasked & (MXCSR_OE | MXCSR_UE)) && f->kind != FK_NONE)
            fl = post_flags(c, f, d, s);
        c->mxcsr |= fl;
        sse_simd_fault(c);
    }
    c->mxcsr |= fl;
    *d = r;
}

/* V = op(V, W) for the form `f` (a 16-byte W operand must be aligned). */
static void fp_op(struct cpu *c, const struct insn *i, const struct fp_form *f)
{
    sse_enter(c, i);
    union xmm s, d = c->xmm[i->reg];
    sse_read_w(c, i, f->size, true, &s);
    fp_exec(c, f, &d, &s);
    c->xmm[i->reg] = d;
}

/* ---- packed and scalar floating point, conversions between XMM forms ---- */

#define FP_OPS \
    X(addps, 16, 4, FK_ADD) \
    X(addpd, 16, 8, FK_ADD) \
    X(addss, 4, 4, FK_ADD) \
    X(addsd, 8, 8, FK_ADD) \
    X(mulps, 16, 4, FK_MUL) \
    X(mulpd, 16, 8, FK_MUL) \
    X(mulss, 4, 4, FK_MUL) \
    X(mulsd, 8, 8, FK_MUL) \
    X(subps, 16, 4, FK_ADD) \
    X(subpd, 16, 8, FK_ADD) \
    X(subss, 4, 4, FK_ADD) \
    X(subsd, 8, 8, FK_ADD) \
    X(minps, 16, 4, FK_NONE) \
    X(minpd, 16, 8, FK_NONE) \
    X(minss, 4, 4, FK_NONE) \
    X(minsd, 8, 8, FK_NONE) \
    X(divps, 16, 4, FK_DIV) \
    X(divpd, 16, 8, FK_DIV) \
    X(divss, 4, 4, FK_DIV) \
    X(divsd, 8, 8, FK_DIV) \
    X(maxps, 16, 4, FK_NONE) \
    X(maxpd, 16, 8, FK_NONE) \
    X(maxss, 4, 4, FK_NONE) \
    X(maxsd, 8, 8, FK_NONE) \
    X(sqrtps, 16, 4, FK_NONE) \
    X(sqrtpd, 16, 8, FK_NONE) \
    X(sqrtss, 4, 4, FK_NONE) \
    X(sqrtsd, 8, 8, FK_NONE) \
    X(rsqrtps, 16, 4, FK_NONE) \
    X(rsqrtss, 4, 4, FK_NONE) \
    X(rcpps, 16, 4, FK_NONE) \
    X(rcpss, 4, 4, FK_NONE) \
    X(andps, 16, 4, FK_NONE) \
    X(andpd, 16, 8, FK_NONE) \
    X(andnps, 16, 4, FK_NONE) \
    X(andnpd, 16, 8, FK_NONE) \
    X(orps, 16, 4, FK_NONE) \
    X(orpd, 16, 8, FK_NONE) \
    X(xorps, 16, 4, FK_NONE) \
    X(xorpd, 16, 8, FK_NONE) \
    X(unpcklps, 16, 4, FK_NONE) \
    X(unpcklpd, 16, 8, FK_NONE) \
    X(unpckhps, 16, 4, FK_NONE) \
    X(unpckhpd, 16, 8, FK_NONE) \
    X(cvtps2pd, 8, 4, FK_NONE) \
    X(cvtpd2ps, 16, 8, FK_CVT) \
    X(cvtss2sd, 4, 4, FK_NONE) \
    X(cvtsd2ss, 8, 8, FK_CVT) \
    X(cvtdq2ps, 16, 4, FK_NONE) \
    X(cvtps2dq, 16, 4, FK_NONE) \
    X(cvttps2dq, 16, 4, FK_NONE) \
    X(cvttpd2dq, 16, 8, FK_NONE) \
    X(cvtdq2pd, 8, 4, FK_NONE) \
    X(cvtpd2dq, 16, 8, FK_NONE) \
    /* end */

#define X(name, size, ew, kind) HX(name, #name)
FP_OPS
#undef X
#define X(name, size, ew, kind) \
    void op_##name(struct cpu *c, const struct insn *i)                  \
    {                                                                    \
        static const struct fp_form form = { hx_##name, size, ew, kind }; \
        fp_op(c, i, &form);                                              \
    }
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

/* Compares raise only IE and DE, so the form needs no kind. */
static void cmp_op(struct cpu *c, const struct insn *i, const hx_fn *fns, unsigned size)
{
    const struct fp_form f = { fns[i->imm & 7], size, size == 16 ? 4 : size, FK_NONE };
    fp_op(c, i, &f);
}

void op_cmpps(struct cpu *c, const struct insn *i) { cmp_op(c, i, hx_cmpps, 16); }
void op_cmppd(struct cpu *c, const struct insn *i) { cmp_op(c, i, hx_cmppd, 16); }
void op_cmpss(struct cpu *c, const struct insn *i) { cmp_op(c, i, hx_cmpss, 4); }
void op_cmpsd(struct cpu *c, const struct insn *i) { cmp_op(c, i, hx_cmpsd, 8); }

/* ---- CVTPI2PS/CVTPI2PD: two integers from an MMX register or memory ---- */

HX(cvtpi2ps, "cvtpi2ps")
HX(cvtpi2pd, "cvtpi2pd")

/* The register form is an MMX instruction (x87-to-MMX transition, #MF);
 * the memory form touches no MMX state (SDM vol. 2, CVTPI2PS/CVTPI2PD:
 * the transition is for an MMX register source). */
static void cvt_from_pi(struct cpu *c, const struct insn *i, hx_fn fn)
{
    sse_check(c, i->mod == 3 ? i->feat : i->feat & ~SF_MMX);
    const struct fp_form f = { fn, 8, 4, FK_NONE };
    union xmm s = { .q = { 0, 0 } }, d = c->xmm[i->reg];
    if (i->mod == 3)
        s.q[0] = mm_get(c, i->rm);
    else
        sse_read_w(c, i, 8, false, &s);
    fp_exec(c, &f, &d, &s);
    c->xmm[i->reg] = d;
    if (i->mod == 3)
        mmx_transition(c);
}

void op_cvtpi2ps(struct cpu *c, const struct insn *i) { cvt_from_pi(c, i, hx_cvtpi2ps); }
void op_cvtpi2pd(struct cpu *c, const struct insn *i) { cvt_from_pi(c, i, hx_cvtpi2pd); }

/* ---- CVT(T)PS2PI/CVT(T)PD2PI: two integers into an MMX register ---- */

#define HX_PI(name)                                                                \
    static u64 hx_##name(const union xmm *s, u32 *mx)                               \
    {                                                                               \
        u32 save;                                                                   \
        u64 r;                                                                      \
        __asm__ volatile("stmxcsr %[sv]\n\t"                                        \
                         "ldmxcsr %[mx]\n\t" #name " %[s], %%mm0\n\t"              \
                         "movq %%mm0, %[r]\n\t"                                     \
                         "emms\n\t"                                                 \
                         "stmxcsr %[mx]\n\t"                                        \
                         "ldmxcsr %[sv]"                                            \
                         : [r] "=m"(r), [mx] "+m"(*mx), [sv] "=m"(save)             \
                         : [s] "m"(*s)                                              \
                         : "mm0");                                                  \
        return r;                                                                   \
    }
HX_PI(cvtps2pi)
HX_PI(cvttps2pi)
HX_PI(cvtpd2pi)
HX_PI(cvttpd2pi)

static void cvt_to_pi(struct cpu *c, const struct insn *i, u64 (*fn)(const union xmm *, u32 *),
                      unsigned size)
{
    sse_enter(c, i);
    union xmm s;
    sse_read_w(c, i, size, true, &s);
    u32 mx = host_mxcsr(c);
    u64 r = fn(&s, &mx);
    merge_flags(c, mx & MXCSR_FLAGS);
    mm_set(c, i->reg, r);
    mmx_transition(c);
}

void op_cvtps2pi(struct cpu *c, const struct insn *i) { cvt_to_pi(c, i, hx_cvtps2pi, 8); }
void op_cvttps2pi(struct cpu *c, const struct insn *i) { cvt_to_pi(c, i, hx_cvttps2pi, 8); }
void op_cvtpd2pi(struct cpu *c, const struct insn *i) { cvt_to_pi(c, i, hx_cvtpd2pi, 16); }
void op_cvttpd2pi(struct cpu *c, const struct insn *i) { cvt_to_pi(c, i, hx_cvttpd2pi, 16); }

/* ---- CVTSI2SS/CVTSI2SD: a 32-bit integer source ---- */

HX(cvtsi2ssl, "cvtsi2ssl")
HX(cvtsi2sdl, "cvtsi2sdl")

static void cvt_from_int(struct cpu *c, const struct insn *i, hx_fn fn)
{
    sse_enter(c, i);
    const struct fp_form f = { fn, 4, 4, FK_NONE }; /* only PE can arise */
    union xmm s = { .q = { 0, 0 } }, d = c->xmm[i->reg];
    s.d[0] = rm_read(c, i, 4);
    fp_exec(c, &f, &d, &s);
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
