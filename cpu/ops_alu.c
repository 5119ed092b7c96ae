/*
 * Integer arithmetic, logic, shifts, bit operations and BCD adjustment
 * (SDM vol. 2: ADD..CMP, TEST, INC/DEC, NOT/NEG, MUL/IMUL/DIV/IDIV, the
 * shift/rotate group, SHLD/SHRD, BT/BTS/BTR/BTC, BSF/BSR, BSWAP, XADD,
 * CMPXCHG, CMPXCHG8B, DAA/DAS/AAA/AAS/AAM/AAD, SALC).
 *
 * Handlers are size-generic (i->osz is 1, 2 or 4).  Read-modify-write
 * memory operands are read, the result computed, memory written, and only
 * then are registers and flags changed, so a fault on the write leaves the
 * architectural state as it was (fault first, commit last).
 *
 * Flags the SDM calls undefined take the values an Intel P6-family core
 * produces where that is known (Bochs' "validated against hardware"
 * notes); the defined results and flags are checked against the host CPU
 * by tests/cpu/test_alu_oracle.c.
 */
#include "cpu_state.h"
#include "flags.h"
#include "mem.h"
#include "ops_special.h"
#include "ops.h"

enum { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP };

static inline u32 msb(u32 v, unsigned size)
{
    return (v >> (size * 8 - 1)) & 1;
}

/* Compute a op b at `size` bytes and set the lazy flags; returns the
 * masked result (meaningless for CMP, which the callers do not store). */
static ALWAYS_INLINE u32 alu_compute(struct cpu *c, unsigned op, u32 a, u32 b, unsigned size)
{
    u32 m = size_mask(size), r;
    a &= m;
    b &= m;
    switch (op) {
    case ALU_ADD:
        r = (a + b) & m;
        lf_add(c, a, b, r, size);
        break;
    case ALU_ADC:
        r = (a + b + get_CF(c)) & m;
        lf_add(c, a, b, r, size);
        break;
    case ALU_SBB:
        r = (a - b - get_CF(c)) & m;
        lf_sub(c, a, b, r, size);
        break;
    case ALU_SUB:
    case ALU_CMP:
        r = (a - b) & m;
        lf_sub(c, a, b, r, size);
        break;
    case ALU_OR:
        r = a | b;
        lf_logic(c, r, size);
        break;
    case ALU_AND:
        r = a & b;
        lf_logic(c, r, size);
        break;
    default:
        r = a ^ b;
        lf_logic(c, r, size);
        break;
    }
    return r;
}

/* The flags are computed into locals first so that a faulting memory write
 * leaves them untouched: save and restore the lazy state around the store. */
struct lf_save {
    u32 eflags, res, aux;
    u8 live;
};

static inline struct lf_save lf_save(const struct cpu *c)
{
    return (struct lf_save){ c->eflags, c->lf_res, c->lf_aux, c->lf_live };
}

static inline void lf_restore(struct cpu *c, struct lf_save s)
{
    c->eflags = s.eflags;
    c->lf_res = s.res;
    c->lf_aux = s.aux;
    c->lf_live = s.live;
}

/* Read-modify-write of the r/m operand with an ALU operation. */
static ALWAYS_INLINE void alu_rm(struct cpu *c, const struct insn *i, unsigned op, u32 src,
                                 unsigned size, enum rm_form f, op_fn slow)
{
    if (rm_fast(f)) {
        u8 *p = op == ALU_CMP ? rm_fast_ptr(c, i, size, f, SEGOK_READ, ACC_READ)
                              : rm_fast_ptr(c, i, size, f, SEGOK_WRITE, ACC_WRITE);
        if (unlikely(!p)) {
            slow(c, i);
            return;
        }
        u32 r = alu_compute(c, op, load_host(p, size), src, size);
        if (op != ALU_CMP)
            store_host(p, r, size);
        return;
    }
    if (rm_is_reg(i, f)) {
        u32 r = alu_compute(c, op, reg_read(c, i->rm, size), src, size);
        if (op != ALU_CMP)
            reg_write(c, i->rm, r, size);
        return;
    }
    u32 ea = insn_ea_f(c, i, f);
    u32 a = mem_read(c, i->seg, ea, size);
    struct lf_save old = lf_save(c);
    u32 r = alu_compute(c, op, a, src, size);
    if (op != ALU_CMP) {
        struct lf_save now = lf_save(c);
        lf_restore(c, old);
        mem_write(c, i->seg, ea, r, size);
        lf_restore(c, now);
    }
}

static ALWAYS_INLINE void alu_gv_ev(struct cpu *c, const struct insn *i, unsigned op,
                                    unsigned size, enum rm_form f, op_fn slow)
{
    u32 b;
    if (unlikely(!rm_load(c, i, size, f, &b))) {
        slow(c, i);
        return;
    }
    u32 r = alu_compute(c, op, reg_read(c, i->reg, size), b, size);
    if (op != ALU_CMP)
        reg_write(c, i->reg, r, size);
}

void op_alu_Ev_Gv(struct cpu *c, const struct insn *i)
{
    alu_rm(c, i, (i->opc >> 3) & 7, reg_read(c, i->reg, i->osz), i->osz, RM_ANY, NULL);
}

void op_alu_Gv_Ev(struct cpu *c, const struct insn *i)
{
    alu_gv_ev(c, i, (i->opc >> 3) & 7, i->osz, RM_ANY, NULL);
}

/* The 32-bit forms with the operation fixed, register or memory operand:
 * op_alu_special[form][op][memory] (ops_special.c picks them). */
#define ALU_SPECIAL(op)                                                                    \
    static void alu_ev_gv_##op##_r(struct cpu *c, const struct insn *i)                    \
    {                                                                                      \
        alu_rm(c, i, op, c->r[i->reg], 4, RM_REG, NULL);                                         \
    }                                                                                      \
    static void alu_ev_gv_##op##_m(struct cpu *c, const struct insn *i)                    \
    {                                                                                      \
        alu_rm(c, i, op, c->r[i->reg], 4, RM_MEM32, op_alu_Ev_Gv);                                       \
    }                                                                                      \
    static void alu_ev_gv_##op##_b(struct cpu *c, const struct insn *i)                    \
    {                                                                                      \
        alu_rm(c, i, op, c->r[i->reg], 4, RM_BASE32, op_alu_Ev_Gv);                                      \
    }                                                                                      \
    static void alu_gv_ev_##op##_r(struct cpu *c, const struct insn *i)                    \
    {                                                                                      \
        alu_gv_ev(c, i, op, 4, RM_REG, NULL);                                                    \
    }                                                                                      \
    static void alu_gv_ev_##op##_m(struct cpu *c, const struct insn *i)                    \
    {                                                                                      \
        alu_gv_ev(c, i, op, 4, RM_MEM32, op_alu_Gv_Ev);                                                  \
    }                                                                                      \
    static void alu_gv_ev_##op##_b(struct cpu *c, const struct insn *i)                    \
    {                                                                                      \
        alu_gv_ev(c, i, op, 4, RM_BASE32, op_alu_Gv_Ev);                                                 \
    }                                                                                      \
    static void alu_ev_iz_##op##_r(struct cpu *c, const struct insn *i)                    \
    {                                                                                      \
        alu_rm(c, i, op, i->imm, 4, RM_REG, NULL);                                               \
    }                                                                                      \
    static void alu_ev_iz_##op##_m(struct cpu *c, const struct insn *i)                    \
    {                                                                                      \
        alu_rm(c, i, op, i->imm, 4, RM_MEM32, op_alu_Ev_Iz);                                             \
    }                                                                                      \
    static void alu_ev_iz_##op##_b(struct cpu *c, const struct insn *i)                    \
    {                                                                                      \
        alu_rm(c, i, op, i->imm, 4, RM_BASE32, op_alu_Ev_Iz);                                            \
    }
ALU_SPECIAL(0)
ALU_SPECIAL(1)
ALU_SPECIAL(2)
ALU_SPECIAL(3)
ALU_SPECIAL(4)
ALU_SPECIAL(5)
ALU_SPECIAL(6)
ALU_SPECIAL(7)
#undef ALU_SPECIAL

#define ALU_ROW(form)                                                                   \
    { { form##_0_r, form##_0_m, form##_0_b }, { form##_1_r, form##_1_m, form##_1_b },    \
      { form##_2_r, form##_2_m, form##_2_b }, { form##_3_r, form##_3_m, form##_3_b },    \
      { form##_4_r, form##_4_m, form##_4_b }, { form##_5_r, form##_5_m, form##_5_b },    \
      { form##_6_r, form##_6_m, form##_6_b }, { form##_7_r, form##_7_m, form##_7_b } }
const op_fn op_alu_special[3][8][3] = { ALU_ROW(alu_ev_gv), ALU_ROW(alu_gv_ev), ALU_ROW(alu_ev_iz) };
#undef ALU_ROW

static ALWAYS_INLINE void alu_eax_iz(struct cpu *c, const struct insn *i, unsigned op,
                                     unsigned size)
{
    u32 r = alu_compute(c, op, reg_read(c, R_EAX, size), i->imm, size);
    if (op != ALU_CMP)
        reg_write(c, R_EAX, r, size);
}

void op_alu_eAX_Iz(struct cpu *c, const struct insn *i)
{
    alu_eax_iz(c, i, (i->opc >> 3) & 7, i->osz);
}

/* EAX with a 32-bit immediate, the operation fixed: op_alu_eax_special[op]. */
#define ALU_EAX_SPECIAL(op) \
    static void alu_eax_##op(struct cpu *c, const struct insn *i) { alu_eax_iz(c, i, op, 4); }
ALU_EAX_SPECIAL(0)
ALU_EAX_SPECIAL(1)
ALU_EAX_SPECIAL(2)
ALU_EAX_SPECIAL(3)
ALU_EAX_SPECIAL(4)
ALU_EAX_SPECIAL(5)
ALU_EAX_SPECIAL(6)
ALU_EAX_SPECIAL(7)
#undef ALU_EAX_SPECIAL
const op_fn op_alu_eax_special[8] = { alu_eax_0, alu_eax_1, alu_eax_2, alu_eax_3,
                                      alu_eax_4, alu_eax_5, alu_eax_6, alu_eax_7 };

void op_alu_Ev_Iz(struct cpu *c, const struct insn *i)
{
    alu_rm(c, i, i->reg, i->imm, i->osz, RM_ANY, NULL);
}

static ALWAYS_INLINE void test_ev_gv(struct cpu *c, const struct insn *i, unsigned sz,
                                     enum rm_form f, op_fn slow)
{
    u32 a;
    if (unlikely(!rm_load(c, i, sz, f, &a))) {
        slow(c, i);
        return;
    }
    lf_logic(c, a & reg_read(c, i->reg, sz), sz);
}
OP_SPECIALIZED(op_test_Ev_Gv, test_ev_gv)

void op_test_eAX_Iz(struct cpu *c, const struct insn *i)
{
    lf_logic(c, reg_read(c, R_EAX, i->osz) & i->imm & size_mask(i->osz), i->osz);
}

static ALWAYS_INLINE void test_ev_iz(struct cpu *c, const struct insn *i, unsigned sz,
                                     enum rm_form f, op_fn slow)
{
    u32 a;
    if (unlikely(!rm_load(c, i, sz, f, &a))) {
        slow(c, i);
        return;
    }
    lf_logic(c, a & i->imm & size_mask(sz), sz);
}
OP_SPECIALIZED(op_test_Ev_Iz, test_ev_iz)

/* INC/DEC: flags as ADD/SUB of 1, but CF is preserved. */
static ALWAYS_INLINE u32 incdec(struct cpu *c, u32 a, bool dec, unsigned size)
{
    bool cf = get_CF(c);
    u32 m = size_mask(size);
    a &= m;
    u32 r;
    if (dec) {
        r = (a - 1) & m;
        lf_sub(c, a, 1, r, size);
    } else {
        r = (a + 1) & m;
        lf_add(c, a, 1, r, size);
    }
    lf_keep_cf(c, cf);
    return r;
}

void op_inc_Zv(struct cpu *c, const struct insn *i)
{
    reg_write(c, i->rm, incdec(c, reg_read(c, i->rm, i->osz), false, i->osz), i->osz);
}

void op_dec_Zv(struct cpu *c, const struct insn *i)
{
    reg_write(c, i->rm, incdec(c, reg_read(c, i->rm, i->osz), true, i->osz), i->osz);
}

void op_inc_Zv_d(struct cpu *c, const struct insn *i)
{
    c->r[i->rm] = incdec(c, c->r[i->rm], false, 4);
}

void op_dec_Zv_d(struct cpu *c, const struct insn *i)
{
    c->r[i->rm] = incdec(c, c->r[i->rm], true, 4);
}

/* The result of unary operation `kind` (0 INC, 1 DEC, 2 NOT, 3 NEG), with
 * its flags. */
static ALWAYS_INLINE u32 unary_compute(struct cpu *c, int kind, u32 a, unsigned size)
{
    switch (kind) {
    case 0: return incdec(c, a, false, size);
    case 1: return incdec(c, a, true, size);
    case 2: return ~a & size_mask(size);
    default: {
        u32 r = (0 - a) & size_mask(size);
        lf_sub(c, 0, a & size_mask(size), r, size);
        return r;
    }
    }
}

/* Unary read-modify-write: flags computed, the write done with the old
 * flags in place, then the new flags committed. */
static ALWAYS_INLINE void unary_rm(struct cpu *c, const struct insn *i, int kind, unsigned size,
                                   enum rm_form f, op_fn slow)
{
    if (rm_fast(f)) {
        u8 *p = rm_fast_ptr(c, i, size, f, SEGOK_WRITE, ACC_WRITE);
        if (unlikely(!p)) {
            slow(c, i);
            return;
        }
        store_host(p, unary_compute(c, kind, load_host(p, size), size), size);
        return;
    }
    u32 ea = 0;
    u32 a;
    if (rm_is_reg(i, f)) {
        a = reg_read(c, i->rm, size);
    } else {
        ea = insn_ea_f(c, i, f);
        a = mem_read(c, i->seg, ea, size);
    }
    struct lf_save old = lf_save(c);
    u32 r = unary_compute(c, kind, a, size);
    if (rm_is_reg(i, f)) {
        reg_write(c, i->rm, r, size);
        return;
    }
    struct lf_save now = lf_save(c);
    lf_restore(c, old);
    mem_write(c, i->seg, ea, r, size);
    lf_restore(c, now);
}

/* INC/DEC/NOT/NEG Ev: unary_rm with the operation fixed. */
#define UNARY_SPECIALIZED(name, body, kind)                                                  \
    static ALWAYS_INLINE void body(struct cpu *c, const struct insn *i, unsigned sz,         \
                                   enum rm_form f, op_fn slow)                               \
    {                                                                                        \
        unary_rm(c, i, kind, sz, f, slow);                                                   \
    }                                                                                        \
    OP_SPECIALIZED(name, body)
UNARY_SPECIALIZED(op_inc_Ev, inc_ev, 0)
UNARY_SPECIALIZED(op_dec_Ev, dec_ev, 1)
UNARY_SPECIALIZED(op_not_Ev, not_ev, 2)
UNARY_SPECIALIZED(op_neg_Ev, neg_ev, 3)
#undef UNARY_SPECIALIZED

/* ---- multiply and divide ---- */

/* Store a double-width product: AX for bytes, DX:AX, EDX:EAX. */
static ALWAYS_INLINE void store_wide(struct cpu *c, u64 v, unsigned size)
{
    if (size == 1) {
        reg_write(c, R_EAX, (u32)v, 2);
    } else {
        unsigned bits = size * 8;
        reg_write(c, R_EAX, (u32)v, size);
        reg_write(c, R_EDX, (u32)(v >> bits), size);
    }
}

static u64 load_wide(const struct cpu *c, unsigned size)
{
    if (size == 1)
        return reg_read(c, R_EAX, 2);
    unsigned bits = size * 8;
    return ((u64)reg_read(c, R_EDX, size) << bits) | reg_read(c, R_EAX, size);
}

/* MUL/IMUL: CF = OF = "upper half significant"; SF/ZF/PF follow the low
 * half, AF is cleared (SDM: undefined). */
static ALWAYS_INLINE void mul_ev(struct cpu *c, const struct insn *i, unsigned size,
                                 enum rm_form f, op_fn slow)
{
    u32 a;
    if (unlikely(!rm_load(c, i, size, f, &a))) {
        slow(c, i);
        return;
    }
    u64 p = (u64)a * reg_read(c, R_EAX, size);
    store_wide(c, p, size);
    bool hi = (p >> (size * 8)) != 0;
    lf_set(c, (u32)p, size, hi, hi, false);
}
OP_SPECIALIZED(op_mul_Ev, mul_ev)

void op_imul_Ev(struct cpu *c, const struct insn *i)
{
    unsigned size = i->osz, bits = size * 8;
    i64 a = (i32)sext(rm_read(c, i, size), bits);
    i64 b = (i32)sext(reg_read(c, R_EAX, size), bits);
    i64 p = a * b;
    store_wide(c, (u64)p, size);
    bool ovf = p != (i64)(i32)sext((u32)p, bits);
    lf_set(c, (u32)p, size, ovf, ovf, false);
}

static ALWAYS_INLINE u32 imul2(struct cpu *c, u32 x, u32 y, unsigned size)
{
    unsigned bits = size * 8;
    i64 p = (i64)(i32)sext(x, bits) * (i64)(i32)sext(y, bits);
    bool ovf = p != (i64)(i32)sext((u32)p, bits);
    lf_set(c, (u32)p, size, ovf, ovf, false);
    return (u32)p;
}

static ALWAYS_INLINE void imul_gv_ev(struct cpu *c, const struct insn *i, unsigned sz,
                                     enum rm_form f, op_fn slow)
{
    u32 b;
    if (unlikely(!rm_load(c, i, sz, f, &b))) {
        slow(c, i);
        return;
    }
    reg_write(c, i->reg, imul2(c, reg_read(c, i->reg, sz), b, sz), sz);
}
OP_SPECIALIZED(op_imul_Gv_Ev, imul_gv_ev)

void op_imul_Gv_Ev_Iz(struct cpu *c, const struct insn *i)
{
    u32 b = rm_read(c, i, i->osz);
    reg_write(c, i->reg, imul2(c, b, i->imm, i->osz), i->osz);
}

/* DIV/IDIV: #DE on a zero divisor or a quotient that does not fit.  The
 * arithmetic flags are left as they were (SDM: undefined). */
void op_div_Ev(struct cpu *c, const struct insn *i)
{
    unsigned size = i->osz, bits = size * 8;
    u64 d = rm_read(c, i, size);
    if (d == 0)
        cpu_raise_noerr(c, EXC_DE);
    u64 n = load_wide(c, size);
    u64 q = n / d;
    if (q >> bits)
        cpu_raise_noerr(c, EXC_DE);
    u32 rem = (u32)(n % d);
    if (size == 1) {
        reg_write(c, R_EAX, (u32)q | (rem << 8), 2);
    } else {
        reg_write(c, R_EAX, (u32)q, size);
        reg_write(c, R_EDX, rem, size);
    }
}

void op_idiv_Ev(struct cpu *c, const struct insn *i)
{
    unsigned size = i->osz, bits = size * 8;
    i64 d = (i32)sext(rm_read(c, i, size), bits);
    if (d == 0)
        cpu_raise_noerr(c, EXC_DE);
    u64 raw = load_wide(c, size);
    i64 n = size == 4 ? (i64)raw : (i64)(i32)sext((u32)raw, bits * 2);
    if (d == -1 && n == INT64_MIN)
        cpu_raise_noerr(c, EXC_DE);
    i64 q = n / d, rem = n % d;
    i64 lim = (i64)1 << (bits - 1);
    if (q >= lim || q < -lim)
        cpu_raise_noerr(c, EXC_DE);
    if (size == 1) {
        reg_write(c, R_EAX, ((u32)q & 0xff) | (((u32)rem & 0xff) << 8), 2);
    } else {
        reg_write(c, R_EAX, (u32)q, size);
        reg_write(c, R_EDX, (u32)rem, size);
    }
}

/* ---- shifts and rotates (SDM vol. 2, SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR) ---- */

/* Only CF and OF change for rotates; the rest keep their values. */
static void set_cf_of(struct cpu *c, bool cf, bool of)
{
    lf_materialize(c);
    c->eflags = (c->eflags & ~(EFLAGS_CF | EFLAGS_OF)) | (cf ? EFLAGS_CF : 0) |
                (of ? EFLAGS_OF : 0);
}

/* Apply shift/rotate `op` (ModRM.reg) to `a` by the masked count `n`
 * (1..31) and set the flags. */
static ALWAYS_INLINE u32 shift_compute(struct cpu *c, unsigned op, u32 a, unsigned n,
                                       unsigned size)
{
    unsigned bits = size * 8;
    u32 m = size_mask(size), r;
    bool cf;
    a &= m;
    switch (op) {
    case 0: { /* ROL */
        unsigned k = n & (bits - 1);
        r = k ? ((a << k) | (a >> (bits - k))) & m : a;
        cf = r & 1;
        set_cf_of(c, cf, msb(r, size) ^ cf);
        return r;
    }
    case 1: { /* ROR */
        unsigned k = n & (bits - 1);
        r = k ? ((a >> k) | (a << (bits - k))) & m : a;
        cf = msb(r, size);
        set_cf_of(c, cf, cf ^ ((r >> (bits - 2)) & 1));
        return r;
    }
    case 2:
    case 3: { /* RCL, RCR: rotate the (bits+1)-bit value CF:a */
        unsigned w = bits + 1;
        unsigned k = size == 4 ? n : n % w;
        u64 x = ((u64)get_CF(c) << bits) | a;
        u64 wm = ((u64)1 << w) - 1;
        if (k) {
            if (op == 2)
                x = ((x << k) | (x >> (w - k))) & wm;
            else
                x = ((x >> k) | (x << (w - k))) & wm;
        }
        r = (u32)x & m;
        cf = (x >> bits) & 1;
        if (op == 2)
            set_cf_of(c, cf, msb(r, size) ^ cf);
        else
            set_cf_of(c, cf, msb(r, size) ^ ((r >> (bits - 2)) & 1));
        return r;
    }
    case 4:
    case 6: /* SHL/SAL */
        r = n < 32 ? (a << n) & m : 0;
        cf = n <= bits ? (a >> (bits - n)) & 1 : 0;
        lf_set(c, r, size, cf, msb(r, size) ^ cf, false);
        return r;
    case 5: /* SHR */
        r = a >> n;
        cf = (a >> (n - 1)) & 1;
        lf_set(c, r, size, cf, msb(a, size), false);
        return r;
    default: { /* SAR */
        i32 s = (i32)sext(a, bits);
        r = (u32)(s >> n) & m;
        cf = (s >> (n - 1)) & 1;
        lf_set(c, r, size, cf, false, false);
        return r;
    }
    }
}

static ALWAYS_INLINE void shift_ev(struct cpu *c, const struct insn *i, unsigned op,
                                   unsigned size, enum rm_form f, op_fn slow)
{
    unsigned cnt;
    switch (i->opc) {
    case 0xc0: case 0xc1: cnt = i->imm; break;
    case 0xd0: case 0xd1: cnt = 1; break;
    default: cnt = c->r[R_ECX]; break;
    }
    cnt &= 31;
    if (rm_fast(f)) {
        u8 *p = rm_fast_ptr(c, i, size, f, SEGOK_WRITE, ACC_WRITE);
        if (unlikely(!p)) {
            slow(c, i);
            return;
        }
        if (cnt)
            store_host(p, shift_compute(c, op, load_host(p, size), cnt, size), size);
        return;
    }
    u32 ea = 0, a;
    if (rm_is_reg(i, f)) {
        a = reg_read(c, i->rm, size);
    } else {
        ea = insn_ea_f(c, i, f);
        a = mem_read(c, i->seg, ea, size);
    }
    if (cnt == 0)
        return; /* no write, no flags (a read fault still happens) */
    struct lf_save old = lf_save(c);
    u32 r = shift_compute(c, op, a, cnt, size);
    if (rm_is_reg(i, f)) {
        reg_write(c, i->rm, r, size);
        return;
    }
    struct lf_save now = lf_save(c);
    lf_restore(c, old);
    mem_write(c, i->seg, ea, r, size);
    lf_restore(c, now);
}

void op_shift_Ev(struct cpu *c, const struct insn *i)
{
    shift_ev(c, i, i->reg, i->osz, RM_ANY, NULL);
}

/* 32-bit forms with the operation fixed: op_shift_special[op][operand form]. */
#define SHIFT_SPECIAL(op)                                                \
    static void shift_##op##_r(struct cpu *c, const struct insn *i)      \
    {                                                                    \
        shift_ev(c, i, op, 4, RM_REG, NULL);                                   \
    }                                                                    \
    static void shift_##op##_m(struct cpu *c, const struct insn *i)      \
    {                                                                    \
        shift_ev(c, i, op, 4, RM_MEM32, op_shift_Ev);                                 \
    }                                                                    \
    static void shift_##op##_b(struct cpu *c, const struct insn *i)      \
    {                                                                    \
        shift_ev(c, i, op, 4, RM_BASE32, op_shift_Ev);                                \
    }
SHIFT_SPECIAL(0)
SHIFT_SPECIAL(1)
SHIFT_SPECIAL(2)
SHIFT_SPECIAL(3)
SHIFT_SPECIAL(4)
SHIFT_SPECIAL(5)
SHIFT_SPECIAL(6)
SHIFT_SPECIAL(7)
#undef SHIFT_SPECIAL
const op_fn op_shift_special[8][3] = {
    { shift_0_r, shift_0_m, shift_0_b }, { shift_1_r, shift_1_m, shift_1_b },
    { shift_2_r, shift_2_m, shift_2_b }, { shift_3_r, shift_3_m, shift_3_b },
    { shift_4_r, shift_4_m, shift_4_b }, { shift_5_r, shift_5_m, shift_5_b },
    { shift_6_r, shift_6_m, shift_6_b }, { shift_7_r, shift_7_m, shift_7_b },
};

/*
 * SHLD/SHRD.  A 16-bit operand with a count above 16 is undefined in the
 * SDM; P6-family cores shift the 48-bit value dest:src:dest, which is what
 * the 64-bit formulation below gives for every count 1..31.
 */
void op_shld_Ev_Gv(struct cpu *c, const struct insn *i)
{
    bool left = i->opc < 0x1a8;
    unsigned cnt = ((i->opc & 1) ? c->r[R_ECX] : i->imm) & 31;
    unsigned size = i->osz;
    u32 ea = 0, a;
    if (i->mod == 3) {
        a = reg_read(c, i->rm, size);
    } else {
        ea = insn_ea(c, i);
        a = mem_read(c, i->seg, ea, size);
    }
    if (cnt == 0)
        return;
    u32 b = reg_read(c, i->reg, size);
    u32 r;
    bool cf, of;
    if (size == 4) {
        if (left) {
            r = (a << cnt) | (b >> (32 - cnt));
            cf = (a >> (32 - cnt)) & 1;
            of = cf ^ (r >> 31);
        } else {
            r = (a >> cnt) | (b << (32 - cnt));
            cf = (a >> (cnt - 1)) & 1;
            of = ((r >> 31) ^ (r >> 30)) & 1;
        }
    } else {
        u64 x = ((u64)a << 32) | ((u64)b << 16) | a;
        if (left) {
            r = (u32)((x << cnt) >> 32) & 0xffff;
            cf = (x >> (48 - cnt)) & 1;
            of = cf ^ (r >> 15);
        } else {
            r = (u32)(x >> cnt) & 0xffff;
            cf = (x >> (cnt - 1)) & 1;
            of = ((r >> 15) ^ (r >> 14)) & 1;
        }
    }
    if (i->mod != 3)
        mem_write(c, i->seg, ea, r, size);
    else
        reg_write(c, i->rm, r, size);
    lf_set(c, r, size, cf, of, false);
}

/* ---- BCD adjustment (SDM vol. 2, DAA/DAS/AAA/AAS/AAM/AAD) ---- */

/* SF/ZF/PF from an 8-bit result with explicit CF/AF/OF. */
static void set_bcd_flags(struct cpu *c, u8 al, bool cf, bool af, bool of)
{
    lf_set(c, al, 1, cf, of, af);
}

void op_daa(struct cpu *c, const struct insn *i)
{
    (void)i;
    u8 old_al = (u8)c->r[R_EAX], al = old_al;
    bool old_cf = get_CF(c), af = get_AF(c), cf = false;
    if ((al & 0xf) > 9 || af) {
        al += 6;
        af = true;
    } else {
        af = false;
    }
    if (old_al > 0x99 || old_cf) {
        al += 0x60;
        cf = true;
    }
    /* OF (undefined): signed overflow of the whole adjustment, as hardware reports. */
    bool of = !(old_al & 0x80) && (al & 0x80);
    reg_write(c, R_EAX, al, 1);
    set_bcd_flags(c, al, cf, af, of);
}

void op_das(struct cpu *c, const struct insn *i)
{
    (void)i;
    u8 old_al = (u8)c->r[R_EAX], al = old_al;
    bool old_cf = get_CF(c), af = get_AF(c), cf = false;
    if ((al & 0xf) > 9 || af) {
        cf = old_cf || al < 6;
        al -= 6;
        af = true;
    } else {
        af = false;
    }
    if (old_al > 0x99 || old_cf) {
        al -= 0x60;
        cf = true;
    }
    bool of = (old_al & 0x80) && !(al & 0x80);
    reg_write(c, R_EAX, al, 1);
    set_bcd_flags(c, al, cf, af, of);
}

void op_aaa(struct cpu *c, const struct insn *i)
{
    (void)i;
    u16 ax = (u16)c->r[R_EAX];
    bool adj = (ax & 0xf) > 9 || get_AF(c);
    if (adj)
        ax += 0x106;
    ax &= 0xff0f;
    reg_write(c, R_EAX, ax, 2);
    set_bcd_flags(c, (u8)ax, adj, adj, false);
}

void op_aas(struct cpu *c, const struct insn *i)
{
    (void)i;
    u16 ax = (u16)c->r[R_EAX];
    bool adj = (ax & 0xf) > 9 || get_AF(c);
    if (adj)
        ax = (u16)(ax - 6 - 0x100);
    ax &= 0xff0f;
    reg_write(c, R_EAX, ax, 2);
    set_bcd_flags(c, (u8)ax, adj, adj, false);
}

void op_aam(struct cpu *c, const struct insn *i)
{
    u8 base = (u8)i->imm;
    if (base == 0)
        cpu_raise_noerr(c, EXC_DE);
    u8 al = (u8)c->r[R_EAX];
    u8 q = al / base, r = al % base;
    reg_write(c, R_EAX, (u32)q << 8 | r, 2);
    lf_logic(c, r, 1);
}

void op_aad(struct cpu *c, const struct insn *i)
{
    u8 al = (u8)c->r[R_EAX], ah = (u8)(c->r[R_EAX] >> 8);
    u8 prod = (u8)(ah * (u8)i->imm);
    u8 r = (u8)(al + prod);
    reg_write(c, R_EAX, r, 2);
    /* OF/AF/CF (undefined): those of the final 8-bit addition, as hardware reports. */
    lf_add(c, al, prod, r, 1);
}

void op_salc(struct cpu *c, const struct insn *i)
{
    (void)i;
    reg_write(c, R_EAX, get_CF(c) ? 0xff : 0, 1);
}

/* ---- bit test and scan ---- */

/* CF = the selected bit; ZF unchanged; OF/SF/AF/PF undefined (kept). */
static void set_cf_only(struct cpu *c, bool cf)
{
    lf_materialize(c);
    c->eflags = (c->eflags & ~EFLAGS_CF) | (cf ? EFLAGS_CF : 0);
}

/* op: 0 BT, 1 BTS, 2 BTR, 3 BTC (the 0F BA /4-/7 order). */
static void bt_common(struct cpu *c, const struct insn *i, unsigned op, u32 ea, u32 bit)
{
    unsigned size = i->osz;
    u32 a = i->mod == 3 ? reg_read(c, i->rm, size) : mem_read(c, i->seg, ea, size);
    u32 mask = 1u << bit;
    bool cf = (a & mask) != 0;
    u32 r = op == 1 ? a | mask : op == 2 ? a & ~mask : a ^ mask;
    if (op != 0) {
        if (i->mod == 3)
            reg_write(c, i->rm, r, size);
        else
            mem_write(c, i->seg, ea, r, size);
    }
    set_cf_only(c, cf);
}

static unsigned bt_op_of(u16 opc)
{
    switch (opc) {
    case 0x1ab: return 1;
    case 0x1b3: return 2;
    case 0x1bb: return 3;
    default: return 0;
    }
}

void op_bt_Ev_Gv(struct cpu *c, const struct insn *i)
{
    unsigned size = i->osz, bits = size * 8;
    u32 off = reg_read(c, i->reg, size);
    u32 ea = 0;
    if (i->mod != 3) {
        /* The offset is signed and may reach outside the addressed word. */
        i32 soff = (i32)sext(off, bits);
        i32 words = soff >> (size == 4 ? 5 : 4);
        ea = insn_ea(c, i) + (u32)words * size;
        if (i->asz == 2)
            ea &= 0xffff;
    }
    bt_common(c, i, bt_op_of(i->opc), ea, off & (bits - 1));
}

void op_bt_Ev_Ib(struct cpu *c, const struct insn *i)
{
    u32 ea = i->mod == 3 ? 0 : insn_ea(c, i);
    bt_common(c, i, i->reg - 4, ea, i->imm & (i->osz * 8 - 1));
}

/* BSF/BSR: ZF = (source == 0), in which case the destination is kept. */
void op_bsf_Gv_Ev(struct cpu *c, const struct insn *i)
{
    u32 s = rm_read(c, i, i->osz);
    lf_materialize(c);
    if (s == 0) {
        c->eflags |= EFLAGS_ZF;
        return;
    }
    u32 idx = i->opc == 0x1bc ? (u32)__builtin_ctz(s) : 31u - (u32)__builtin_clz(s);
    reg_write(c, i->reg, idx, i->osz);
    c->eflags &= ~EFLAGS_ZF;
}

/* BSWAP with a 16-bit operand is undefined; Intel cores clear the low word. */
void op_bswap_Zd(struct cpu *c, const struct insn *i)
{
    if (i->osz == 2)
        reg_write(c, i->rm, 0, 2);
    else
        c->r[i->rm] = __builtin_bswap32(c->r[i->rm]);
}

/* ---- exchange-and-operate ---- */

void op_xadd_Ev_Gv(struct cpu *c, const struct insn *i)
{
    unsigned size = i->osz;
    u32 ea = i->mod == 3 ? 0 : insn_ea(c, i);
    u32 d = i->mod == 3 ? reg_read(c, i->rm, size) : mem_read(c, i->seg, ea, size);
    u32 s = reg_read(c, i->reg, size);
    u32 m = size_mask(size);
    u32 sum = (d + s) & m;
    if (i->mod != 3)
        mem_write(c, i->seg, ea, sum, size);
    reg_write(c, i->reg, d, size);
    if (i->mod == 3)
        reg_write(c, i->rm, sum, size);
    lf_add(c, d & m, s & m, sum, size);
}

void op_cmpxchg_Ev_Gv(struct cpu *c, const struct insn *i)
{
    unsigned size = i->osz;
    u32 m = size_mask(size);
    u32 ea = i->mod == 3 ? 0 : insn_ea(c, i);
    u32 d = i->mod == 3 ? reg_read(c, i->rm, size) : mem_read(c, i->seg, ea, size);
    u32 acc = reg_read(c, R_EAX, size);
    bool eq = acc == d;
    /* The destination is always written (with its old value on failure). */
    u32 w = eq ? reg_read(c, i->reg, size) : d;
    if (i->mod != 3)
        mem_write(c, i->seg, ea, w, size);
    else if (eq)
        reg_write(c, i->rm, w, size);
    if (!eq)
        reg_write(c, R_EAX, d, size);
    lf_sub(c, acc, d, (acc - d) & m, size);
}

void op_cmpxchg8b_Mq(struct cpu *c, const struct insn *i)
{
    u32 ea = insn_ea(c, i);
    u64 d = mem_read64(c, i->seg, ea);
    u64 acc = ((u64)c->r[R_EDX] << 32) | c->r[R_EAX];
    bool eq = acc == d;
    mem_write64(c, i->seg, ea, eq ? ((u64)c->r[R_ECX] << 32) | c->r[R_EBX] : d);
    if (!eq) {
        c->r[R_EAX] = (u32)d;
        c->r[R_EDX] = (u32)(d >> 32);
    }
    lf_materialize(c);
    c->eflags = (c->eflags & ~EFLAGS_ZF) | (eq ? EFLAGS_ZF : 0);
}
