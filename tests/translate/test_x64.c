/*
 * The x86-64 emitter against Capstone.
 *
 * Every form the back end can emit is emitted over a spread of registers,
 * sizes, memory operands (each base register including RSP, RBP, R12 and
 * R13, with and without index, no base, zero, byte and dword
 * displacements) and immediates; Capstone disassembles the bytes and the
 * test compares its reading (mnemonic, length, every operand's register,
 * memory parts, immediate and size) with what the call asked for.  A wrong
 * REX bit, ModRM, SIB or displacement encoding fails at once.
 */
#include <capstone/capstone.h>
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "translate/backend/x64.h"

static csh cs;
static cs_insn *ci;

static void setup(void)
{
    ck_assert_int_eq(cs_open(CS_ARCH_X86, CS_MODE_64, &cs), CS_ERR_OK);
    cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
    ci = cs_malloc(cs);
}

static void teardown(void)
{
    cs_free(ci, 1);
    cs_close(&cs);
}

static const x86_reg R8_[16] = { X86_REG_AL, X86_REG_CL, X86_REG_DL, X86_REG_BL, X86_REG_SPL,
                                 X86_REG_BPL, X86_REG_SIL, X86_REG_DIL, X86_REG_R8B, X86_REG_R9B,
                                 X86_REG_R10B, X86_REG_R11B, X86_REG_R12B, X86_REG_R13B,
                                 X86_REG_R14B, X86_REG_R15B };
static const x86_reg R16_[16] = { X86_REG_AX, X86_REG_CX, X86_REG_DX, X86_REG_BX, X86_REG_SP,
                                  X86_REG_BP, X86_REG_SI, X86_REG_DI, X86_REG_R8W, X86_REG_R9W,
                                  X86_REG_R10W, X86_REG_R11W, X86_REG_R12W, X86_REG_R13W,
                                  X86_REG_R14W, X86_REG_R15W };
static const x86_reg R32_[16] = { X86_REG_EAX, X86_REG_ECX, X86_REG_EDX, X86_REG_EBX,
                                  X86_REG_ESP, X86_REG_EBP, X86_REG_ESI, X86_REG_EDI,
                                  X86_REG_R8D, X86_REG_R9D, X86_REG_R10D, X86_REG_R11D,
                                  X86_REG_R12D, X86_REG_R13D, X86_REG_R14D, X86_REG_R15D };
static const x86_reg R64_[16] = { X86_REG_RAX, X86_REG_RCX, X86_REG_RDX, X86_REG_RBX,
                                  X86_REG_RSP, X86_REG_RBP, X86_REG_RSI, X86_REG_RDI,
                                  X86_REG_R8, X86_REG_R9, X86_REG_R10, X86_REG_R11,
                                  X86_REG_R12, X86_REG_R13, X86_REG_R14, X86_REG_R15 };

static x86_reg creg(int r, unsigned size)
{
    if (r == X_NONE)
        return X86_REG_INVALID;
    return size == 1 ? R8_[r] : size == 2 ? R16_[r] : size == 4 ? R32_[r] : R64_[r];
}

/* What one operand should read as. */
enum { W_REG, W_MEM, W_IMM };
struct want {
    int kind;
    int reg;
    struct x64_mem m;
    u64 imm;
    unsigned size;
};

static struct want WR(int r, unsigned size) { return (struct want){ W_REG, r, { 0 }, 0, size }; }
static struct want WM(struct x64_mem m, unsigned size) { return (struct want){ W_MEM, 0, m, 0, size }; }
static struct want WI(u64 imm, unsigned size) { return (struct want){ W_IMM, 0, { 0 }, imm, size }; }

static unsigned checked;

/* Disassemble the emitted bytes as exactly one instruction and compare. */
static void expect(const char *what, const struct x64 *e, const char *mnem, int n,
                   const struct want *w)
{
    const u8 *code = e->start;
    size_t size = x64_len(e);
    u64 addr = 0x1000;
    ck_assert_msg(!e->overflow, "%s: overflow", what);
    bool ok = cs_disasm_iter(cs, &code, &size, &addr, ci);
    ck_assert_msg(ok, "%s: capstone cannot decode", what);
    ck_assert_msg(size == 0, "%s: %zu bytes left after %s %s", what, size, ci->mnemonic,
                  ci->op_str);
    ck_assert_msg(!strcmp(ci->mnemonic, mnem), "%s: got %s %s, want %s", what, ci->mnemonic,
                  ci->op_str, mnem);
    const cs_x86 *x = &ci->detail->x86;
    ck_assert_msg(x->op_count == n, "%s: %s %s has %d operands, want %d", what, ci->mnemonic,
                  ci->op_str, x->op_count, n);
    for (int k = 0; k < n; k++) {
        const cs_x86_op *o = &x->operands[k];
        const struct want *v = &w[k];
        switch (v->kind) {
        case W_REG:
            ck_assert_msg(o->type == X86_OP_REG && o->reg == creg(v->reg, v->size),
                          "%s: operand %d of '%s %s' is not %s", what, k, ci->mnemonic,
                          ci->op_str, cs_reg_name(cs, creg(v->reg, v->size)));
            break;
        case W_MEM: {
            ck_assert_msg(o->type == X86_OP_MEM, "%s: operand %d of '%s %s' not memory", what, k,
                          ci->mnemonic, ci->op_str);
            ck_assert_msg(o->mem.base == creg(v->m.base, 8) &&
                              o->mem.index == creg(v->m.index, 8) &&
                              o->mem.disp == v->m.disp &&
                              (v->m.index == X_NONE || o->mem.scale == v->m.scale),
                          "%s: operand %d of '%s %s' wrong memory operand", what, k,
                          ci->mnemonic, ci->op_str);
            if (v->size)
                ck_assert_msg(o->size == v->size, "%s: '%s %s' operand size %u want %u", what,
                              ci->mnemonic, ci->op_str, o->size, v->size);
            break;
        }
        case W_IMM: {
            u64 mask = v->size >= 8 ? ~0ull : (1ull << (8 * v->size)) - 1;
            ck_assert_msg(o->type == X86_OP_IMM && ((u64)o->imm & mask) == (v->imm & mask),
                          "%s: operand %d of '%s %s' is not immediate %llx", what, k,
                          ci->mnemonic, ci->op_str, (unsigned long long)v->imm);
            break;
        }
        }
    }
    checked++;
}

static u8 buf[64];
static struct x64 fresh(void)
{
    struct x64 e;
    x64_init(&e, buf, sizeof buf);
    return e;
}

static const unsigned sizes[4] = { 1, 2, 4, 8 };
/* Byte operands use only AL, CL, DL, BL (x64.h). */
static bool reg_ok(int r, unsigned size)
{
    return size != 1 || r < 4;
}

/* A spread of memory operands: every base, some indices, all disp sizes. */
static int mems(struct x64_mem *out)
{
    static const i32 disps[] = { 0, 8, -8, 127, -128, 128, 0x12345, -0x1000 };
    int n = 0;
    for (int b = 0; b < 16; b++)
        for (unsigned d = 0; d < sizeof disps / sizeof disps[0]; d++)
            out[n++] = (struct x64_mem){ (i8)b, X_NONE, 1, disps[d] };
    static const int idx[] = { X_RAX, X_RCX, X_RBP, X_R9, X_R12, X_R13, X_R15 };
    for (int b = 0; b < 16; b += 3)
        for (unsigned k = 0; k < sizeof idx / sizeof idx[0]; k++)
            for (u8 s = 1; s <= 8; s *= 2)
                out[n++] = (struct x64_mem){ (i8)b, (i8)idx[k], s, (i32)(k * 77) - 100 };
    for (unsigned k = 0; k < sizeof idx / sizeof idx[0]; k++)
        out[n++] = (struct x64_mem){ X_NONE, (i8)idx[k], 4, 0x400 };
    out[n++] = (struct x64_mem){ X_NONE, X_NONE, 1, 0x7000 };
    return n;
}

static const char *alu_name[8] = { "add", "or", "adc", "sbb", "and", "sub", "xor", "cmp" };

START_TEST(test_moves)
{
    struct x64_mem m[512];
    int nm = mems(m);
    for (unsigned s = 0; s < 4; s++) {
        unsigned sz = sizes[s];
        for (int a = 0; a < 16; a++)
            for (int b = 0; b < 16; b++) {
                if (!reg_ok(a, sz) || !reg_ok(b, sz))
                    continue;
                struct x64 e = fresh();
                x64_mov_rr(&e, sz, a, b);
                expect("mov_rr", &e, "mov", 2, (struct want[]){ WR(a, sz), WR(b, sz) });
            }
        for (int k = 0; k < nm; k++)
            for (int r = 0; r < 16; r += 5) {
                if (!reg_ok(r, sz))
                    continue;
                struct x64 e = fresh();
                x64_load(&e, sz, r, m[k]);
                expect("load", &e, "mov", 2, (struct want[]){ WR(r, sz), WM(m[k], sz) });
                e = fresh();
                x64_store(&e, sz, m[k], r);
                expect("store", &e, "mov", 2, (struct want[]){ WM(m[k], sz), WR(r, sz) });
                e = fresh();
                x64_store_imm(&e, sz, m[k], 0x80000001u + (u32)k);
                u64 imm = sz == 8 ? (u64)(i64)(i32)(0x80000001u + (u32)k) : 0x80000001u + (u32)k;
                expect("store_imm", &e, "mov", 2, (struct want[]){ WM(m[k], sz), WI(imm, sz) });
            }
    }
    for (int r = 0; r < 16; r++) {
        struct x64 e = fresh();
        x64_mov_ri32(&e, r, 0xdeadbeef);
        expect("mov_ri32", &e, "mov", 2, (struct want[]){ WR(r, 4), WI(0xdeadbeef, 4) });
        e = fresh();
        x64_mov_ri64(&e, r, 0x123456789abcdef0ull);
        expect("mov_ri64", &e, "movabs", 2,
               (struct want[]){ WR(r, 8), WI(0x123456789abcdef0ull, 8) });
        for (int k = 0; k < nm; k += 7) {
            for (unsigned from = 1; from <= 2; from++) {
                e = fresh();
                x64_movzx_rm(&e, from, r, m[k]);
                expect("movzx_rm", &e, "movzx", 2, (struct want[]){ WR(r, 4), WM(m[k], from) });
                e = fresh();
                x64_movsx_rm(&e, from, r, m[k]);
                expect("movsx_rm", &e, "movsx", 2, (struct want[]){ WR(r, 4), WM(m[k], from) });
            }
            e = fresh();
            x64_lea32(&e, r, m[k]);
            expect("lea32", &e, "lea", 2, (struct want[]){ WR(r, 4), WM(m[k], 0) });
            e = fresh();
            x64_lea64(&e, r, m[k]);
            expect("lea64", &e, "lea", 2, (struct want[]){ WR(r, 8), WM(m[k], 0) });
        }
        for (int b = 0; b < 4; b++)
            for (unsigned from = 1; from <= 2; from++) {
                e = fresh();
                x64_movzx_rr(&e, from, r, b);
                expect("movzx_rr", &e, "movzx", 2, (struct want[]){ WR(r, 4), WR(b, from) });
                e = fresh();
                x64_movsx_rr(&e, from, r, b);
                expect("movsx_rr", &e, "movsx", 2, (struct want[]){ WR(r, 4), WR(b, from) });
            }
    }
}
END_TEST

START_TEST(test_alu)
{
    struct x64_mem m[512];
    int nm = mems(m);
    static const u32 imms[] = { 0, 1, 0x7f, 0x80, 0xffffff80u, 0xffffffffu, 0x1234, 0x87654321u };
    for (int op = 0; op < 8; op++)
        for (unsigned s = 0; s < 4; s++) {
            unsigned sz = sizes[s];
            for (int a = 0; a < 16; a++) {
                if (!reg_ok(a, sz))
                    continue;
                for (int b = 0; b < 16; b += 3) {
                    if (!reg_ok(b, sz))
                        continue;
                    struct x64 e = fresh();
                    x64_alu_rr(&e, op, sz, a, b);
                    expect("alu_rr", &e, alu_name[op], 2, (struct want[]){ WR(a, sz), WR(b, sz) });
                }
                for (unsigned k = 0; k < sizeof imms / sizeof imms[0]; k++) {
                    struct x64 e = fresh();
                    x64_alu_ri(&e, op, sz, a, imms[k]);
                    u64 imm = sz == 8 ? (u64)(i64)(i32)imms[k] : imms[k];
                    expect("alu_ri", &e, alu_name[op], 2, (struct want[]){ WR(a, sz), WI(imm, sz) });
                }
            }
            for (int k = 0; k < nm; k += 3) {
                int r = (k * 5) % 16;
                if (!reg_ok(r, sz))
                    r &= 3;
                struct x64 e = fresh();
                x64_alu_mr(&e, op, sz, m[k], r);
                expect("alu_mr", &e, alu_name[op], 2, (struct want[]){ WM(m[k], sz), WR(r, sz) });
                e = fresh();
                x64_alu_rm(&e, op, sz, r, m[k]);
                expect("alu_rm", &e, alu_name[op], 2, (struct want[]){ WR(r, sz), WM(m[k], sz) });
                u32 iv = imms[k % 8];
                e = fresh();
                x64_alu_mi(&e, op, sz, m[k], iv);
                u64 imm = sz == 8 ? (u64)(i64)(i32)iv : iv;
                expect("alu_mi", &e, alu_name[op], 2, (struct want[]){ WM(m[k], sz), WI(imm, sz) });
            }
        }
}
END_TEST

START_TEST(test_unary_shift_test)
{
    static const char *shift_name[8] = { "rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar" };
    struct x64_mem m[512];
    int nm = mems(m);
    for (unsigned s = 0; s < 4; s++) {
        unsigned sz = sizes[s];
        for (int r = 0; r < 16; r++) {
            if (!reg_ok(r, sz))
                continue;
            struct x64 e = fresh();
            x64_inc_r(&e, sz, r);
            expect("inc", &e, "inc", 1, (struct want[]){ WR(r, sz) });
            e = fresh();
            x64_dec_r(&e, sz, r);
            expect("dec", &e, "dec", 1, (struct want[]){ WR(r, sz) });
            e = fresh();
            x64_not_r(&e, sz, r);
            expect("not", &e, "not", 1, (struct want[]){ WR(r, sz) });
            e = fresh();
            x64_neg_r(&e, sz, r);
            expect("neg", &e, "neg", 1, (struct want[]){ WR(r, sz) });
            for (int op = 0; op < 8; op++) {
                /* SAL (/6) is an alias Capstone names shl or sal. */
                if (op == XS_SAL)
                    continue;
                e = fresh();
                x64_shift_ri(&e, op, sz, r, 5);
                expect("shift_ri", &e, shift_name[op], 2, (struct want[]){ WR(r, sz), WI(5, 1) });
                e = fresh();
                x64_shift_rcl(&e, op, sz, r);
                expect("shift_rcl", &e, shift_name[op], 2, (struct want[]){ WR(r, sz), WR(X_RCX, 1) });
            }
            for (int b = 0; b < 16; b += 5) {
                if (!reg_ok(b, sz))
                    continue;
                e = fresh();
                x64_test_rr(&e, sz, r, b);
                expect("test_rr", &e, "test", 2, (struct want[]){ WR(r, sz), WR(b, sz) });
            }
            e = fresh();
            x64_test_ri(&e, sz, r, 0x81828384u);
            u64 imm = sz == 8 ? (u64)(i64)(i32)0x81828384u : 0x81828384u;
            expect("test_ri", &e, "test", 2, (struct want[]){ WR(r, sz), WI(imm, sz) });
            if (sz >= 2)
                for (int b = 0; b < 16; b += 3) {
                    e = fresh();
                    x64_imul_rr(&e, sz, r, b);
                    expect("imul_rr", &e, "imul", 2, (struct want[]){ WR(r, sz), WR(b, sz) });
                }
        }
        for (int k = 0; k < nm && (sz == 2 || sz == 4); k += 5) {
            struct x64 e = fresh();
            x64_bt_mi(&e, sz, m[k], 13);
            expect("bt_mi", &e, "bt", 2, (struct want[]){ WM(m[k], sz), WI(13, 1) });
        }
        for (int k = 0; k < nm && sz == 8; k += 3) {
            struct x64 e = fresh();
            x64_bt_mr(&e, m[k], (enum x64_reg)(k % 16));
            expect("bt_mr", &e, "bt", 2, (struct want[]){ WM(m[k], 8), WR(k % 16, 8) });
        }
        for (int k = 0; k < nm; k += 5) {
            struct x64 e = fresh();
            x64_test_mi(&e, sz, m[k], 0x41);
            expect("test_mi", &e, "test", 2, (struct want[]){ WM(m[k], sz), WI(0x41, sz) });
        }
    }
}
END_TEST

START_TEST(test_cc_and_control)
{
    static const char *cc_name[16] = { "o", "no", "b", "ae", "e", "ne", "be", "a",
                                       "s", "ns", "p", "np", "l", "ge", "le", "g" };
    char mn[16];
    struct x64_mem m[512];
    int nm = mems(m);
    for (unsigned cc = 0; cc < 16; cc++) {
        for (int r = 0; r < 4; r++) {
            struct x64 e = fresh();
            x64_setcc(&e, cc, r);
            snprintf(mn, sizeof mn, "set%s", cc_name[cc]);
            expect("setcc", &e, mn, 1, (struct want[]){ WR(r, 1) });
        }
        snprintf(mn, sizeof mn, "cmov%s", cc_name[cc]);
        for (unsigned sz = 2; sz <= 8; sz *= 2)
            for (int r = 0; r < 16; r += 3) {
                struct x64 e = fresh();
                x64_cmov_rr(&e, cc, sz, r, 15 - r);
                expect("cmov_rr", &e, mn, 2, (struct want[]){ WR(r, sz), WR(15 - r, sz) });
                e = fresh();
                x64_cmov_rm(&e, cc, sz, r, m[(r * 11 + cc) % nm]);
                expect("cmov_rm", &e, mn, 2,
                       (struct want[]){ WR(r, sz), WM(m[(r * 11 + cc) % nm], sz) });
            }
        /* A jcc to an address inside the buffer: the rel32 must land on it. */
        struct x64 e = fresh();
        long at = x64_jcc(&e, cc, buf + 40);
        ck_assert_int_eq(at, 2);
        snprintf(mn, sizeof mn, "j%s", cc_name[cc]);
        expect("jcc", &e, mn, 1, (struct want[]){ WI(0x1000 + 40, 8) });
    }
    struct x64 e = fresh();
    x64_jmp(&e, buf + 3);
    expect("jmp", &e, "jmp", 1, (struct want[]){ WI(0x1000 + 3, 8) });
    /* A label bound later. */
    e = fresh();
    long at = x64_jmp(&e, NULL);
    x64_patch_rel32(buf, at, buf + 33);
    expect("jmp patched", &e, "jmp", 1, (struct want[]){ WI(0x1000 + 33, 8) });
    for (int r = 0; r < 16; r++) {
        e = fresh();
        x64_push(&e, r);
        expect("push", &e, "push", 1, (struct want[]){ WR(r, 8) });
        e = fresh();
        x64_pop(&e, r);
        expect("pop", &e, "pop", 1, (struct want[]){ WR(r, 8) });
        e = fresh();
        x64_jmp_r(&e, r);
        expect("jmp_r", &e, "jmp", 1, (struct want[]){ WR(r, 8) });
    }
    for (int k = 0; k < nm; k += 3) {
        e = fresh();
        x64_jmp_m(&e, m[k]);
        expect("jmp_m", &e, "jmp", 1, (struct want[]){ WM(m[k], 8) });
    }
    e = fresh();
    x64_call_rel(&e, buf + 20);
    expect("call_rel", &e, "call", 1, (struct want[]){ WI(0x1000 + 20, 8) });
    e = fresh();
    x64_pushfq(&e);
    expect("pushfq", &e, "pushfq", 0, NULL);
    e = fresh();
    x64_popfq(&e);
    expect("popfq", &e, "popfq", 0, NULL);
    for (unsigned sib = 0; sib < 256; sib += 37) {
        e = fresh();
        x64_nop_payload(&e, (u8)sib, 0x89abcdefu);
        ck_assert_uint_eq(x64_len(&e), 8);
        const u8 *code = e.start;
        size_t size = x64_len(&e);
        u64 addr = 0x1000;
        ck_assert(cs_disasm_iter(cs, &code, &size, &addr, ci));
        ck_assert_msg(size == 0 && !strcmp(ci->mnemonic, "nop") &&
                          ci->detail->x86.op_count == 1 &&
                          ci->detail->x86.operands[0].type == X86_OP_MEM &&
                          ci->detail->x86.operands[0].mem.disp == (i32)0x89abcdefu,
                      "nop_payload %02x: %s %s", sib, ci->mnemonic, ci->op_str);
        ck_assert_uint_eq(e.start[3], sib);
        ck_assert_uint_eq(e.start[4] | e.start[5] << 8 | e.start[6] << 16 | (u32)e.start[7] << 24,
                          0x89abcdefu);
    }
    e = fresh();
    x64_lahf(&e);
    expect("lahf", &e, "lahf", 0, NULL);
    e = fresh();
    x64_sahf(&e);
    expect("sahf", &e, "sahf", 0, NULL);
    e = fresh();
    x64_ret(&e);
    expect("ret", &e, "ret", 0, NULL);
    /* call_abs is two instructions: movabs rax, fn; call rax. */
    e = fresh();
    x64_call_abs(&e, (void *)0x1122334455667788ull);
    const u8 *code = buf;
    size_t size = x64_len(&e);
    u64 addr = 0;
    ck_assert(cs_disasm_iter(cs, &code, &size, &addr, ci));
    ck_assert_str_eq(ci->mnemonic, "movabs");
    ck_assert_uint_eq((u64)ci->detail->x86.operands[1].imm, 0x1122334455667788ull);
    ck_assert(cs_disasm_iter(cs, &code, &size, &addr, ci));
    ck_assert_str_eq(ci->mnemonic, "call");
    ck_assert_int_eq(ci->detail->x86.operands[0].reg, X86_REG_RAX);
    ck_assert_uint_eq(size, 0);
}
END_TEST

START_TEST(test_overflow)
{
    u8 small[5];
    struct x64 e;
    x64_init(&e, small, sizeof small);
    x64_mov_ri32(&e, X_RAX, 1); /* exactly 5 bytes */
    ck_assert(!e.overflow);
    x64_ret(&e);
    ck_assert(e.overflow);
    ck_assert_uint_eq(x64_len(&e), 5);
    x64_init(&e, small, sizeof small);
    x64_byte(&e, 0x90);
    ck_assert_int_eq(x64_jmp(&e, NULL), -1);
    ck_assert(e.overflow);
}
END_TEST

START_TEST(test_count)
{
    /* The sweep above must really have looked at many encodings. */
    ck_assert_uint_gt(checked, 5000);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("x64");
    TCase *tc = tcase_create("emitter");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_moves);
    tcase_add_test(tc, test_alu);
    tcase_add_test(tc, test_unary_shift_test);
    tcase_add_test(tc, test_cc_and_control);
    tcase_add_test(tc, test_overflow);
    tcase_add_test(tc, test_count);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
