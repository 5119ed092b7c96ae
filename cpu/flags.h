/*
 * Lazy arithmetic flags (one representation, materialized in one place).
 *
 *   lf_res : the result, sign-extended to 32 bits
 *            SF = lf_res bit 31, ZF = (lf_res == 0), PF = parity(lf_res & 0xff)
 *   lf_aux : bit 31 = CF, bit 30 = CF ^ OF, bit 3 = AF
 *
 * For add/sub the aux word is built from the carry-out vector of the
 * operation (carry out of every bit position): CF is the carry out of the
 * top bit, OF is the carry into the top bit xor the carry out of it, AF is
 * the carry out of bit 3.  Instructions that set flags another way build
 * the aux word with lf_set().  While lf_live is LF_PLAIN (false) the six
 * flags are plain bits in eflags.  LF_HOST is the translator's: the low
 * half of lf_aux is what the host's LAHF and SETO leave in AX -- bits 8-15
 * EFLAGS bits 0-7 (SF ZF AF PF CF in place), bit 0 OF -- which translated
 * code stores in four cheap instructions (PUSHF is microcoded) and puts
 * back with ADD AL, 7Fh and SAHF; the high half means nothing.
 */
#ifndef UMBRA_CPU_FLAGS_H
#define UMBRA_CPU_FLAGS_H

#include "cpu_state.h"

/* lf_live values (true and false remain LF_LAZY and LF_PLAIN). */
#define LF_PLAIN 0
#define LF_LAZY 1
#define LF_HOST 2

#define LF_CF 31
#define LF_PO 30
#define LF_AF 3

/* Carry-out vectors (bit i = carry/borrow out of bit i). */
static inline u32 lf_add_cout(u32 a, u32 b, u32 r) { return (a & b) | ((a | b) & ~r); }
static inline u32 lf_sub_bout(u32 a, u32 b, u32 r) { return (~a & b) | (~(a ^ b) & r); }

static inline void lf_from_vec(struct cpu *c, u32 res, u32 vec, unsigned size)
{
    unsigned bits = size * 8;
    c->lf_res = sext(res, bits);
    c->lf_aux = (vec & (1u << LF_AF)) | ((vec >> (bits - 2)) << LF_PO);
    c->lf_live = true;
}

/* Arbitrary CF/OF/AF with SF/ZF/PF from the result. */
static inline void lf_set(struct cpu *c, u32 res, unsigned size, bool cf, bool of, bool af)
{
    c->lf_res = sext(res, size * 8);
    c->lf_aux = ((u32)cf << LF_CF) | ((u32)(cf ^ of) << LF_PO) | ((u32)af << LF_AF);
    c->lf_live = true;
}

static inline void lf_add(struct cpu *c, u32 a, u32 b, u32 r, unsigned size)
{
    lf_from_vec(c, r, lf_add_cout(a, b, r), size);
}
static inline void lf_sub(struct cpu *c, u32 a, u32 b, u32 r, unsigned size)
{
    lf_from_vec(c, r, lf_sub_bout(a, b, r), size);
}
static inline void lf_logic(struct cpu *c, u32 r, unsigned size)
{
    c->lf_res = sext(r, size * 8);
    c->lf_aux = 0;
    c->lf_live = true;
}

/* The EFLAGS image of the translator's form (OSZAPC only). */
static inline u32 lf_host_image(u32 aux)
{
    return (((aux >> 8) & 0xff) | ((aux & 1) << 11)) & EFLAGS_OSZAPC;
}

/* The translator's form of the OSZAPC bits of an EFLAGS image. */
static inline u32 lf_host_form(u32 eflags)
{
    return ((eflags & 0xff) << 8) | ((eflags >> 11) & 1);
}

/* The EFLAGS image holding OSZAPC when they are not lazy. */
static inline u32 lf_plain(const struct cpu *c)
{
    return c->lf_live == LF_HOST ? lf_host_image(c->lf_aux) : c->eflags;
}

static inline bool get_CF(const struct cpu *c)
{
    return c->lf_live == LF_LAZY ? c->lf_aux >> LF_CF : lf_plain(c) & EFLAGS_CF;
}
static inline bool get_OF(const struct cpu *c)
{
    return c->lf_live == LF_LAZY ? ((c->lf_aux >> LF_CF) ^ (c->lf_aux >> LF_PO)) & 1
                                 : (lf_plain(c) & EFLAGS_OF) != 0;
}
static inline bool get_AF(const struct cpu *c)
{
    return c->lf_live == LF_LAZY ? (c->lf_aux >> LF_AF) & 1 : (lf_plain(c) & EFLAGS_AF) != 0;
}
static inline bool get_ZF(const struct cpu *c)
{
    return c->lf_live == LF_LAZY ? c->lf_res == 0 : (lf_plain(c) & EFLAGS_ZF) != 0;
}
static inline bool get_SF(const struct cpu *c)
{
    return c->lf_live == LF_LAZY ? c->lf_res >> 31 : (lf_plain(c) & EFLAGS_SF) != 0;
}
static inline bool get_PF(const struct cpu *c)
{
    return c->lf_live == LF_LAZY ? !__builtin_parity(c->lf_res & 0xff)
                                 : (lf_plain(c) & EFLAGS_PF) != 0;
}

/* Full EFLAGS with OSZAPC materialized. */
static inline u32 get_eflags(const struct cpu *c)
{
    if (c->lf_live == LF_PLAIN)
        return c->eflags;
    if (c->lf_live == LF_HOST)
        return (c->eflags & ~EFLAGS_OSZAPC) | lf_host_image(c->lf_aux);
    return (c->eflags & ~EFLAGS_OSZAPC) | (get_CF(c) ? EFLAGS_CF : 0) |
           (get_PF(c) ? EFLAGS_PF : 0) | (get_AF(c) ? EFLAGS_AF : 0) |
           (get_ZF(c) ? EFLAGS_ZF : 0) | (get_SF(c) ? EFLAGS_SF : 0) |
           (get_OF(c) ? EFLAGS_OF : 0);
}

/* Fold the lazy flags into eflags so single bits can be edited. */
static inline void lf_materialize(struct cpu *c)
{
    c->eflags = get_eflags(c);
    c->lf_live = false;
}

/* Set only the six arithmetic flags to `bits` (other bits untouched). */
static inline void set_oszapc(struct cpu *c, u32 bits)
{
    c->eflags = (c->eflags & ~EFLAGS_OSZAPC) | (bits & EFLAGS_OSZAPC);
    c->lf_live = false;
}

/* Replace CF, keeping the other lazy flags (INC/DEC keep CF; so do others). */
static inline void lf_keep_cf(struct cpu *c, bool cf)
{
    bool of = ((c->lf_aux >> LF_CF) ^ (c->lf_aux >> LF_PO)) & 1;
    c->lf_aux = (c->lf_aux & (1u << LF_AF)) | ((u32)cf << LF_CF) | ((u32)(cf ^ of) << LF_PO);
}

/* Condition codes 0-15 as in Jcc/SETcc/CMOVcc (SDM vol. 1, B.1). */
static ALWAYS_INLINE bool cond_true(const struct cpu *c, unsigned cc)
{
    bool r;
    switch (cc >> 1) {
    case 0: r = get_OF(c); break;
    case 1: r = get_CF(c); break;
    case 2: r = get_ZF(c); break;
    case 3: r = get_CF(c) || get_ZF(c); break;
    case 4: r = get_SF(c); break;
    case 5: r = get_PF(c); break;
    case 6: r = get_SF(c) != get_OF(c); break;
    default: r = get_ZF(c) || (get_SF(c) != get_OF(c)); break;
    }
    return r ^ (cc & 1);
}

/*
 * Write EFLAGS from software (POPF, IRET, task switch, SAHF...).  `mask`
 * says which bits may change; the caller computes it from CPL/IOPL/VM.
 */
void cpu_write_eflags(struct cpu *c, u32 val, u32 mask);

#endif
