/*
 * The x86-64 emitter (see x64.h).
 *
 * Encoding (SDM vol. 2A, 2.1 and 2.2.1):
 *   [66] [REX 0100WRXB] opcode ModRM(mod reg rm) [SIB(scale index base)] [disp] [imm]
 * A memory operand with base RSP or R12 needs a SIB byte; base RBP or R13
 * with no displacement needs mod 01 and a zero disp8; no base at all is
 * SIB base 101 with mod 00 and a disp32; index 100 (RSP) in a SIB means no
 * index.
 */
#include "x64.h"

#include <string.h>

void x64_byte(struct x64 *e, u8 b)
{
    if (e->p < e->end)
        *e->p++ = b;
    else
        e->overflow = true;
}

void x64_u32(struct x64 *e, u32 v)
{
    for (unsigned k = 0; k < 4; k++)
        x64_byte(e, (u8)(v >> (8 * k)));
}

static void u64le(struct x64 *e, u64 v)
{
    x64_u32(e, (u32)v);
    x64_u32(e, (u32)(v >> 32));
}

/* Operand-size prefix and REX for an instruction of `size` whose ModRM.reg
 * names `reg` and whose r/m (or SIB base/index) name `rm`/`index`. */
static void prefix(struct x64 *e, unsigned size, int reg, int index, int rm)
{
    if (size == 2)
        x64_byte(e, 0x66);
    u8 rex = (size == 8 ? 8 : 0) | (reg >= 8 ? 4 : 0) | (index >= 8 ? 2 : 0) | (rm >= 8 ? 1 : 0);
    if (rex)
        x64_byte(e, 0x40 | rex);
}

static void modrm_reg(struct x64 *e, int reg, int rm)
{
    x64_byte(e, (u8)(0xc0 | (reg & 7) << 3 | (rm & 7)));
}

static void modrm_mem(struct x64 *e, int reg, struct x64_mem m)
{
    static const u8 ss[9] = { 0, 0, 1, 0, 2, 0, 0, 0, 3 };
    int base = m.base, index = m.index;
    if (base == X_NONE) {
        /* [index*scale + disp32] or [disp32] (absolute, through a SIB) */
        x64_byte(e, (u8)((reg & 7) << 3 | 4));
        x64_byte(e, (u8)(ss[m.scale] << 6 | (index == X_NONE ? 4 : index & 7) << 3 | 5));
        x64_u32(e, (u32)m.disp);
        return;
    }
    unsigned mod;
    if (m.disp == 0 && (base & 7) != X_RBP)
        mod = 0;
    else if (m.disp >= -128 && m.disp <= 127)
        mod = 1;
    else
        mod = 2;
    if (index != X_NONE || (base & 7) == X_RSP) {
        x64_byte(e, (u8)(mod << 6 | (reg & 7) << 3 | 4));
        x64_byte(e, (u8)(ss[m.scale] << 6 | (index == X_NONE ? 4 : index & 7) << 3 | (base & 7)));
    } else {
        x64_byte(e, (u8)(mod << 6 | (reg & 7) << 3 | (base & 7)));
    }
    if (mod == 1)
        x64_byte(e, (u8)m.disp);
    else if (mod == 2)
        x64_u32(e, (u32)m.disp);
}

/* One instruction `opc` (one byte, or 0x0fXX for the two-byte map) with a
 * register r/m operand. */
static void op_rr(struct x64 *e, unsigned size, unsigned opc, int reg, int rm)
{
    prefix(e, size, reg, X_NONE, rm);
    if (opc > 0xff)
        x64_byte(e, (u8)(opc >> 8));
    x64_byte(e, (u8)opc);
    modrm_reg(e, reg, rm);
}

static void op_rm(struct x64 *e, unsigned size, unsigned opc, int reg, struct x64_mem m)
{
    prefix(e, size, reg, m.index, m.base);
    if (opc > 0xff)
        x64_byte(e, (u8)(opc >> 8));
    x64_byte(e, (u8)opc);
    modrm_mem(e, reg, m);
}

/* The byte form of the classic one-byte opcodes is the word form minus 1. */
static unsigned sized(unsigned opc, unsigned size)
{
    return size == 1 ? opc - 1 : opc;
}

static void imm_sized(struct x64 *e, unsigned size, u32 imm)
{
    if (size == 1)
        x64_byte(e, (u8)imm);
    else if (size == 2) {
        x64_byte(e, (u8)imm);
        x64_byte(e, (u8)(imm >> 8));
    } else
        x64_u32(e, imm);
}

/* ---- moves ---- */

void x64_mov_rr(struct x64 *e, unsigned size, enum x64_reg dst, enum x64_reg src)
{
    op_rr(e, size, sized(0x89, size), src, dst);
}

void x64_load(struct x64 *e, unsigned size, enum x64_reg dst, struct x64_mem m)
{
    op_rm(e, size, sized(0x8b, size), dst, m);
}

void x64_store(struct x64 *e, unsigned size, struct x64_mem m, enum x64_reg src)
{
    op_rm(e, size, sized(0x89, size), src, m);
}

void x64_store_imm(struct x64 *e, unsigned size, struct x64_mem m, u32 imm)
{
    op_rm(e, size, sized(0xc7, size), 0, m);
    imm_sized(e, size == 8 ? 4 : size, imm);
}

void x64_mov_ri32(struct x64 *e, enum x64_reg dst, u32 imm)
{
    prefix(e, 4, X_NONE, X_NONE, dst);
    x64_byte(e, (u8)(0xb8 + (dst & 7)));
    x64_u32(e, imm);
}

void x64_mov_ri64(struct x64 *e, enum x64_reg dst, u64 imm)
{
    prefix(e, 8, X_NONE, X_NONE, dst);
    x64_byte(e, (u8)(0xb8 + (dst & 7)));
    u64le(e, imm);
}

void x64_movzx_rm(struct x64 *e, unsigned from_size, enum x64_reg dst, struct x64_mem m)
{
    op_rm(e, 4, from_size == 1 ? 0x0fb6 : 0x0fb7, dst, m);
}

void x64_movsx_rm(struct x64 *e, unsigned from_size, enum x64_reg dst, struct x64_mem m)
{
    op_rm(e, 4, from_size == 1 ? 0x0fbe : 0x0fbf, dst, m);
}

void x64_movzx_rr(struct x64 *e, unsigned from_size, enum x64_reg dst, enum x64_reg src)
{
    op_rr(e, 4, from_size == 1 ? 0x0fb6 : 0x0fb7, dst, src);
}

void x64_movsx_rr(struct x64 *e, unsigned from_size, enum x64_reg dst, enum x64_reg src)
{
    op_rr(e, 4, from_size == 1 ? 0x0fbe : 0x0fbf, dst, src);
}

void x64_lea32(struct x64 *e, enum x64_reg dst, struct x64_mem m)
{
    op_rm(e, 4, 0x8d, dst, m);
}

void x64_lea64(struct x64 *e, enum x64_reg dst, struct x64_mem m)
{
    op_rm(e, 8, 0x8d, dst, m);
}

/* ---- arithmetic ---- */

void x64_alu_rr(struct x64 *e, enum x64_alu op, unsigned size, enum x64_reg dst, enum x64_reg src)
{
    op_rr(e, size, sized((unsigned)op * 8 + 1, size), src, dst);
}

void x64_alu_mr(struct x64 *e, enum x64_alu op, unsigned size, struct x64_mem m, enum x64_reg src)
{
    op_rm(e, size, sized((unsigned)op * 8 + 1, size), src, m);
}

void x64_alu_rm(struct x64 *e, enum x64_alu op, unsigned size, enum x64_reg dst, struct x64_mem m)
{
    op_rm(e, size, sized((unsigned)op * 8 + 3, size), dst, m);
}

/* 83 /op ib when the immediate fits a sign-extended byte, else 81 /op. */
static bool imm8_fits(unsigned size, u32 imm)
{
    i32 v = size == 2 ? (i16)imm : (i32)imm;
    return size != 1 && v >= -128 && v <= 127;
}

/* The group-1 immediate forms (80 /op ib, 83 /op ib sign-extended, 81 /op
 * iz) on a register (`m` NULL) or a memory operand. */
static void alu_imm(struct x64 *e, enum x64_alu op, unsigned size, enum x64_reg r,
                    const struct x64_mem *m, u32 imm)
{
    unsigned opc = size == 1 ? 0x80 : imm8_fits(size, imm) ? 0x83 : 0x81;
    if (m)
        op_rm(e, size, opc, op, *m);
    else
        op_rr(e, size, opc, op, r);
    if (opc == 0x81)
        imm_sized(e, size == 8 ? 4 : size, imm);
    else
        x64_byte(e, (u8)imm);
}

void x64_alu_ri(struct x64 *e, enum x64_alu op, unsigned size, enum x64_reg dst, u32 imm)
{
    alu_imm(e, op, size, dst, NULL, imm);
}

void x64_alu_mi(struct x64 *e, enum x64_alu op, unsigned size, struct x64_mem m, u32 imm)
{
    alu_imm(e, op, size, X_NONE, &m, imm);
}

void x64_test_rr(struct x64 *e, unsigned size, enum x64_reg a, enum x64_reg b)
{
    op_rr(e, size, sized(0x85, size), b, a);
}

void x64_test_ri(struct x64 *e, unsigned size, enum x64_reg a, u32 imm)
{
    op_rr(e, size, sized(0xf7, size), 0, a);
    imm_sized(e, size == 8 ? 4 : size, imm);
}

void x64_test_mi(struct x64 *e, unsigned size, struct x64_mem m, u32 imm)
{
    op_rm(e, size, sized(0xf7, size), 0, m);
    imm_sized(e, size == 8 ? 4 : size, imm);
}

void x64_bt_mi(struct x64 *e, unsigned size, struct x64_mem m, u8 bit)
{
    op_rm(e, size, 0x0fba, 4, m);
    x64_byte(e, bit);
}

void x64_bt_mr(struct x64 *e, struct x64_mem m, enum x64_reg r)
{
    op_rm(e, 8, 0x0fa3, r, m);
}

void x64_inc_r(struct x64 *e, unsigned size, enum x64_reg r)
{
    op_rr(e, size, sized(0xff, size), 0, r);
}

void x64_dec_r(struct x64 *e, unsigned size, enum x64_reg r)
{
    op_rr(e, size, sized(0xff, size), 1, r);
}

void x64_not_r(struct x64 *e, unsigned size, enum x64_reg r)
{
    op_rr(e, size, sized(0xf7, size), 2, r);
}

void x64_neg_r(struct x64 *e, unsigned size, enum x64_reg r)
{
    op_rr(e, size, sized(0xf7, size), 3, r);
}

void x64_shift_ri(struct x64 *e, enum x64_shift op, unsigned size, enum x64_reg r, u8 count)
{
    op_rr(e, size, sized(0xc1, size), op, r);
    x64_byte(e, count);
}

void x64_shift_rcl(struct x64 *e, enum x64_shift op, unsigned size, enum x64_reg r)
{
    op_rr(e, size, sized(0xd3, size), op, r);
}

void x64_imul_rr(struct x64 *e, unsigned size, enum x64_reg dst, enum x64_reg src)
{
    op_rr(e, size, 0x0faf, dst, src);
}

void x64_setcc(struct x64 *e, unsigned cc, enum x64_reg r)
{
    op_rr(e, 1, 0x0f90 + (cc & 15), 0, r);
}

void x64_cmov_rr(struct x64 *e, unsigned cc, unsigned size, enum x64_reg dst, enum x64_reg src)
{
    op_rr(e, size, 0x0f40 + (cc & 15), dst, src);
}

void x64_cmov_rm(struct x64 *e, unsigned cc, unsigned size, enum x64_reg dst, struct x64_mem m)
{
    op_rm(e, size, 0x0f40 + (cc & 15), dst, m);
}

/* ---- stack, flags, control ---- */

void x64_push(struct x64 *e, enum x64_reg r)
{
    if (r >= 8)
        x64_byte(e, 0x41);
    x64_byte(e, (u8)(0x50 + (r & 7)));
}

void x64_pop(struct x64 *e, enum x64_reg r)
{
    if (r >= 8)
        x64_byte(e, 0x41);
    x64_byte(e, (u8)(0x58 + (r & 7)));
}

void x64_pushfq(struct x64 *e)
{
    x64_byte(e, 0x9c);
}

void x64_popfq(struct x64 *e)
{
    x64_byte(e, 0x9d);
}

void x64_nop_payload(struct x64 *e, u8 sib, u32 disp)
{
    x64_byte(e, 0x0f);
    x64_byte(e, 0x1f);
    x64_byte(e, 0x84); /* mod 10, reg 0, rm 100: a SIB byte and disp32 */
    x64_byte(e, sib);
    x64_u32(e, disp);
}

void x64_lahf(struct x64 *e)
{
    x64_byte(e, 0x9f);
}

void x64_sahf(struct x64 *e)
{
    x64_byte(e, 0x9e);
}

void x64_ret(struct x64 *e)
{
    x64_byte(e, 0xc3);
}

void x64_call_abs(struct x64 *e, const void *fn)
{
    x64_mov_ri64(e, X_RAX, (u64)(uintptr_t)fn);
    x64_byte(e, 0xff);
    modrm_reg(e, 2, X_RAX);
}

void x64_jmp_r(struct x64 *e, enum x64_reg r)
{
    if (r >= 8)
        x64_byte(e, 0x41);
    x64_byte(e, 0xff);
    modrm_reg(e, 4, r);
}

void x64_jmp_m(struct x64 *e, struct x64_mem m)
{
    op_rm(e, 4, 0xff, 4, m);
}

static long rel32_to(struct x64 *e, const u8 *target);

void x64_call_rel(struct x64 *e, const u8 *target)
{
    x64_byte(e, 0xe8);
    rel32_to(e, target);
}

static long rel32_to(struct x64 *e, const u8 *target)
{
    long at = (long)x64_len(e);
    if (e->p + 4 > e->end) {
        e->overflow = true;
        e->p = e->end;
        return -1;
    }
    x64_u32(e, 0);
    if (target)
        x64_patch_rel32(e->start, at, target);
    return at;
}

long x64_jmp(struct x64 *e, const u8 *target)
{
    x64_byte(e, 0xe9);
    return rel32_to(e, target);
}

long x64_jcc(struct x64 *e, unsigned cc, const u8 *target)
{
    x64_byte(e, 0x0f);
    x64_byte(e, (u8)(0x80 + (cc & 15)));
    return rel32_to(e, target);
}

void x64_patch_rel32(u8 *start, long at, const u8 *target)
{
    if (at < 0)
        return;
    i32 rel = (i32)(target - (start + at + 4));
    memcpy(start + at, &rel, 4);
}
