/*
 * A small x86-64 instruction emitter for the translator's back end.
 *
 * Only the forms the translator needs, each written from the encoding
 * rules of the SDM (vol. 2, ch. 2: REX, ModRM, SIB, displacements) and
 * checked against Capstone's disassembly in tests/translate/test_x64.c.
 *
 * Operands are a host register (enum x64_reg) or a memory operand
 * [base + index*scale + disp] (struct x64_mem).  Sizes are in bytes: 1, 2,
 * 4 or 8.  Byte operands use AL, CL, DL and BL only (no REX byte registers),
 * so no encoding ever means AH..BH by accident.
 *
 * Emission never overruns the buffer: past the end, `overflow` is set and
 * later bytes are dropped, and the caller throws the code away.
 */
#ifndef UMBRA_TRANSLATE_BACKEND_X64_H
#define UMBRA_TRANSLATE_BACKEND_X64_H

#include "common/types.h"

enum x64_reg {
    X_RAX, X_RCX, X_RDX, X_RBX, X_RSP, X_RBP, X_RSI, X_RDI,
    X_R8, X_R9, X_R10, X_R11, X_R12, X_R13, X_R14, X_R15,
    X_NONE = -1
};

/* [base + index * scale + disp]; base or index X_NONE when absent.
 * scale is 1, 2, 4 or 8. */
struct x64_mem {
    i8 base, index;
    u8 scale;
    i32 disp;
};

static inline struct x64_mem x64_m(enum x64_reg base, i32 disp)
{
    return (struct x64_mem){ (i8)base, X_NONE, 1, disp };
}

/* The ALU group in its encoding order (ModRM.reg of 80/81/83). */
enum x64_alu { XA_ADD, XA_OR, XA_ADC, XA_SBB, XA_AND, XA_SUB, XA_XOR, XA_CMP };
/* The shift group (ModRM.reg of C1/D3). */
enum x64_shift { XS_ROL, XS_ROR, XS_RCL, XS_RCR, XS_SHL, XS_SHR, XS_SAL, XS_SAR };

struct x64 {
    u8 *start;     /* first byte of the buffer */
    u8 *p;         /* next byte to write */
    u8 *end;       /* one past the last usable byte */
    bool overflow; /* ran past `end`: the code is unusable */
};

static inline void x64_init(struct x64 *e, u8 *buf, size_t size)
{
    e->start = e->p = buf;
    e->end = buf + size;
    e->overflow = false;
}

static inline size_t x64_len(const struct x64 *e)
{
    return (size_t)(e->p - e->start);
}

void x64_byte(struct x64 *e, u8 b);
void x64_u32(struct x64 *e, u32 v);

/* ---- moves ---- */
void x64_mov_rr(struct x64 *e, unsigned size, enum x64_reg dst, enum x64_reg src);
void x64_load(struct x64 *e, unsigned size, enum x64_reg dst, struct x64_mem m);
void x64_store(struct x64 *e, unsigned size, struct x64_mem m, enum x64_reg src);
/* mov m, imm (sign-extended imm32 for size 8) */
void x64_store_imm(struct x64 *e, unsigned size, struct x64_mem m, u32 imm);
/* mov r32, imm32 (zero-extends into the 64-bit register) */
void x64_mov_ri32(struct x64 *e, enum x64_reg dst, u32 imm);
/* mov r64, imm64 */
void x64_mov_ri64(struct x64 *e, enum x64_reg dst, u64 imm);
/* movzx / movsx r32, r/m8 or r/m16 (from_size 1 or 2) */
void x64_movzx_rm(struct x64 *e, unsigned from_size, enum x64_reg dst, struct x64_mem m);
void x64_movsx_rm(struct x64 *e, unsigned from_size, enum x64_reg dst, struct x64_mem m);
void x64_movzx_rr(struct x64 *e, unsigned from_size, enum x64_reg dst, enum x64_reg src);
void x64_movsx_rr(struct x64 *e, unsigned from_size, enum x64_reg dst, enum x64_reg src);
/* lea r32, m (the 32-bit result of a 64-bit address computation) */
void x64_lea32(struct x64 *e, enum x64_reg dst, struct x64_mem m);
void x64_lea64(struct x64 *e, enum x64_reg dst, struct x64_mem m);

/* ---- arithmetic ---- */
void x64_alu_rr(struct x64 *e, enum x64_alu op, unsigned size, enum x64_reg dst, enum x64_reg src);
void x64_alu_ri(struct x64 *e, enum x64_alu op, unsigned size, enum x64_reg dst, u32 imm);
/* op m, r and op r, m */
void x64_alu_mr(struct x64 *e, enum x64_alu op, unsigned size, struct x64_mem m, enum x64_reg src);
void x64_alu_rm(struct x64 *e, enum x64_alu op, unsigned size, enum x64_reg dst, struct x64_mem m);
void x64_alu_mi(struct x64 *e, enum x64_alu op, unsigned size, struct x64_mem m, u32 imm);
void x64_test_rr(struct x64 *e, unsigned size, enum x64_reg a, enum x64_reg b);
void x64_test_ri(struct x64 *e, unsigned size, enum x64_reg a, u32 imm);
void x64_test_mi(struct x64 *e, unsigned size, struct x64_mem m, u32 imm);
/* bt word/dword m, imm8 (size 2 or 4): CF = bit `bit` of m */
void x64_bt_mi(struct x64 *e, unsigned size, struct x64_mem m, u8 bit);
/* bt qword m, r64: CF = bit r of the bit string at m (r may exceed 63) */
void x64_bt_mr(struct x64 *e, struct x64_mem m, enum x64_reg r);
/* inc, dec, not, neg of a register */
void x64_inc_r(struct x64 *e, unsigned size, enum x64_reg r);
void x64_dec_r(struct x64 *e, unsigned size, enum x64_reg r);
void x64_not_r(struct x64 *e, unsigned size, enum x64_reg r);
void x64_neg_r(struct x64 *e, unsigned size, enum x64_reg r);
void x64_shift_ri(struct x64 *e, enum x64_shift op, unsigned size, enum x64_reg r, u8 count);
void x64_shift_rcl(struct x64 *e, enum x64_shift op, unsigned size, enum x64_reg r);
/* imul r, r (size 2 or 4) */
void x64_imul_rr(struct x64 *e, unsigned size, enum x64_reg dst, enum x64_reg src);
/* setcc r8 and cmovcc r, r (cc: the x86 condition code 0-15) */
void x64_setcc(struct x64 *e, unsigned cc, enum x64_reg r);
void x64_cmov_rr(struct x64 *e, unsigned cc, unsigned size, enum x64_reg dst, enum x64_reg src);
void x64_cmov_rm(struct x64 *e, unsigned cc, unsigned size, enum x64_reg dst, struct x64_mem m);

/* ---- stack, flags, control ---- */
void x64_push(struct x64 *e, enum x64_reg r);
void x64_pop(struct x64 *e, enum x64_reg r);
void x64_pushfq(struct x64 *e);
void x64_popfq(struct x64 *e);
/* nop dword [SIB + disp32]: eight bytes that do nothing and carry 40
 * bits (the SIB byte and the displacement) for whoever reads the code. */
void x64_nop_payload(struct x64 *e, u8 sib, u32 disp);
/* lahf: AH = SF ZF 0 AF 0 PF 1 CF; sahf: those five flags = AH.  The
 * only forms here that name AH (valid in 64-bit mode where CPUID
 * 8000_0001h ECX bit 0 says so, as on every x86-64 this runs on). */
void x64_lahf(struct x64 *e);
void x64_sahf(struct x64 *e);
void x64_ret(struct x64 *e);
/* call through RAX to an absolute address (clobbers RAX) */
void x64_call_abs(struct x64 *e, const void *fn);
/* jmp r64, jmp qword [m] */
void x64_jmp_r(struct x64 *e, enum x64_reg r);
void x64_jmp_m(struct x64 *e, struct x64_mem m);
/* call rel32 to an address in the same buffer */
void x64_call_rel(struct x64 *e, const u8 *target);
/* jmp rel32 / jcc rel32 to an address inside the buffer, or to a label to
 * be bound later: these return the offset of the rel32 field for
 * x64_patch_rel32 (or -1 on overflow). */
long x64_jmp(struct x64 *e, const u8 *target);
long x64_jcc(struct x64 *e, unsigned cc, const u8 *target);
/* Point the rel32 field at `at` (an offset from x64_jmp/x64_jcc) to
 * `target`.  `base` is where the buffer's bytes will run (the same as
 * e->start unless the code executes from another mapping; the distance is
 * what matters, so any consistent pair works). */
void x64_patch_rel32(u8 *start, long at, const u8 *target);

#endif
