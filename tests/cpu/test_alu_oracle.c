/*
 * Integer ALU instructions checked against the host CPU.
 *
 * Every case is a byte string (one IA-32 instruction), register values,
 * input EFLAGS and, for memory forms, data at ALU_DATA_PTR.  The bytes run
 * natively in 32-bit compatibility mode (alu_host.h) and in an Umbra
 * machine laid out at the same addresses; results, memory and the six
 * arithmetic flags must agree, except for flags the SDM calls undefined
 * for that instruction (table `undef_tab`).  Differences in undefined
 * flags are counted and reported but do not fail the test.
 *
 * Inputs come from a fixed-seed xorshift generator plus edge values, so a
 * failure reproduces.  #DE cases and SALC (no host counterpart in a user
 * process for the exception, none at all for SALC) are checked against
 * their SDM definitions by calling the handler directly.
 */
#include <check.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alu_host.h"
#include "cpu_state.h"
#include "decode.h"
#include "flags.h"
#include "mem.h"
#include "system.h"

#define F_CF EFLAGS_CF
#define F_PF EFLAGS_PF
#define F_AF EFLAGS_AF
#define F_ZF EFLAGS_ZF
#define F_SF EFLAGS_SF
#define F_OF EFLAGS_OF
#define F_ALL EFLAGS_OSZAPC

#define N_RANDOM 10000

/* Flags the SDM (vol. 2, "Flags Affected") leaves undefined. */
struct undef_row {
    const char *mnem;
    u32 flags;
};
static const struct undef_row undef_tab[] = {
    { "add", 0 }, { "or", F_AF }, { "adc", 0 }, { "sbb", 0 },
    { "and", F_AF }, { "sub", 0 }, { "xor", F_AF }, { "cmp", 0 },
    { "test", F_AF }, { "inc", 0 }, { "dec", 0 }, { "neg", 0 }, { "not", 0 },
    { "mul", F_SF | F_ZF | F_AF | F_PF }, { "imul", F_SF | F_ZF | F_AF | F_PF },
    { "div", F_ALL }, { "idiv", F_ALL },
    /* Shifts: AF for a non-zero count, OF unless the count is 1, CF of
     * SHL/SHR when the count is at least the width (see shift_undef). */
    { "rol", 0 }, { "ror", 0 }, { "rcl", 0 }, { "rcr", 0 },
    { "shl", F_AF }, { "shr", F_AF }, { "sal", F_AF }, { "sar", F_AF },
    { "shld", F_AF }, { "shrd", F_AF },
    { "daa", F_OF }, { "das", F_OF },
    { "aaa", F_OF | F_SF | F_ZF | F_PF }, { "aas", F_OF | F_SF | F_ZF | F_PF },
    { "aam", F_OF | F_AF | F_CF }, { "aad", F_OF | F_AF | F_CF },
    { "bt", F_OF | F_SF | F_AF | F_PF }, { "bts", F_OF | F_SF | F_AF | F_PF },
    { "btr", F_OF | F_SF | F_AF | F_PF }, { "btc", F_OF | F_SF | F_AF | F_PF },
    { "bsf", F_CF | F_OF | F_SF | F_AF | F_PF }, { "bsr", F_CF | F_OF | F_SF | F_AF | F_PF },
    { "bswap", 0 }, { "xadd", 0 }, { "cmpxchg", 0 }, { "cmpxchg8b", 0 },
};

static u32 undef_of(const char *mnem)
{
    for (size_t k = 0; k < ARRAY_SIZE(undef_tab); k++)
        if (!strcmp(undef_tab[k].mnem, mnem))
            return undef_tab[k].flags;
    ck_abort_msg("no undefined-flags row for %s", mnem);
    return 0;
}

/* ---- the rig: host page + Umbra machine at the same addresses ---- */

struct rig {
    struct alu_host h;
    struct counters cnt;
    struct logger lg;
    struct mmu *m;
    struct cpu *c;
    u64 rng;
    /* per instruction */
    const char *name;
    unsigned size;
    unsigned cases, fails, undef_diffs;
};

static u64 rnd(struct rig *g)
{
    u64 x = g->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    g->rng = x;
    return x;
}

static u32 rnd32(struct rig *g) { return (u32)(rnd(g) >> 16); }

static const u32 edge_vals[] = {
    0, 1, 2, 3, 6, 7, 8, 9, 0x0f, 0x10, 0x1f, 0x20, 0x3f, 0x40, 0x7f, 0x80, 0x81, 0x99, 0x9a,
    0xfe, 0xff, 0x100, 0x7ffe, 0x7fff, 0x8000, 0x8001, 0xfffe, 0xffff, 0x10000,
    0x7ffffffe, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff,
};

/* A value whose low `size` bytes are interesting; upper bits random so
 * that partial-register writes are checked too. */
static u32 rnd_val(struct rig *g, unsigned size)
{
    u32 v = rnd32(g);
    unsigned pick = rnd(g) % 8;
    if (pick < 2) {
        u32 e = edge_vals[rnd(g) % ARRAY_SIZE(edge_vals)];
        u32 m = size_mask(size);
        return (v & ~m) | (e & m);
    }
    if (pick == 2)
        return v & 0xff;
    return v;
}

static u32 rnd_flags(struct rig *g)
{
    return 0x202u | (rnd32(g) & F_ALL);
}

/* A register number usable as a data operand: never ESP, and never ESI
 * (the memory base) for word/dword operands. */
static unsigned rnd_reg(struct rig *g, unsigned size)
{
    for (;;) {
        unsigned r = rnd(g) % 8;
        if (size == 1 || (r != R_ESP && r != R_ESI))
            return r;
    }
}

static struct rig *rig_new(u64 seed)
{
    struct rig *g = calloc(1, sizeof *g);
    ck_assert_ptr_nonnull(g);
    ck_assert_msg(alu_host_init(&g->h) == 0, "cannot map the host page at %#x", ALU_BASE);
    log_init(&g->lg);
    g->m = mmu_new(1 << 20, &g->cnt, &g->lg);
    ck_assert_ptr_nonnull(g->m);
    g->c = cpu_new(g->m, &g->cnt, &g->lg);
    ck_assert_ptr_nonnull(g->c);
    cpu_set_flat32(g->c, ALU_BASE);
    g->rng = seed;
    /* Same data area contents on both sides. */
    u8 *data = (u8 *)(uintptr_t)ALU_DATA_LO;
    for (u32 k = 0; k < ALU_DATA_HI - ALU_DATA_LO; k++)
        data[k] = (u8)rnd(g);
    mmu_phys_copy_in(g->m, ALU_DATA_LO, data, ALU_DATA_HI - ALU_DATA_LO);
    return g;
}

static void rig_free(struct rig *g)
{
    cpu_free(g->c);
    mmu_free(g->m);
    alu_host_fini(&g->h);
    free(g);
}

static void begin(struct rig *g, const char *name, unsigned size)
{
    g->name = name;
    g->size = size;
    g->cases = g->fails = g->undef_diffs = 0;
}

static void end(struct rig *g)
{
    printf("%-10s %d-bit: %6u cases compared, %u differences in undefined flags/results\n",
           g->name, g->size * 8, g->cases, g->undef_diffs);
    ck_assert_msg(g->fails == 0, "%s/%u: %u mismatches", g->name, g->size * 8, g->fails);
}

/* ---- one case ---- */

struct alu_case {
    u8 code[15];
    unsigned len;
    u32 r[8];
    u32 fl;
    bool mem;           /* writes k->data at ALU_DATA_PTR first */
    u8 data[8];
    bool whole_data;    /* compare the whole data area (BT with far offsets) */
    u32 undef;          /* flags not compared */
    bool result_undef;  /* registers/memory not compared either */
};

static void emit(struct alu_case *k, unsigned b)
{
    k->code[k->len++] = (u8)b;
}

static void emit_imm(struct alu_case *k, u32 v, unsigned size)
{
    for (unsigned n = 0; n < size; n++)
        emit(k, (v >> (8 * n)) & 0xff);
}

static void emit_prefix(struct alu_case *k, unsigned size)
{
    if (size == 2)
        emit(k, 0x66);
}

static void emit_modrm_reg(struct alu_case *k, unsigned reg, unsigned rm)
{
    emit(k, 0xc0 | reg << 3 | rm);
}

/* [ESI] memory operand. */
static void emit_modrm_mem(struct alu_case *k, unsigned reg)
{
    emit(k, reg << 3 | R_ESI);
}

static void case_init(struct rig *g, struct alu_case *k, unsigned size)
{
    memset(k, 0, sizeof *k);
    for (unsigned r = 0; r < 8; r++)
        k->r[r] = rnd_val(g, size);
    k->r[R_ESP] = ALU_STACK;
    k->r[R_ESI] = ALU_DATA_PTR;
    k->fl = rnd_flags(g);
    k->undef = undef_of(g->name);
}

static void case_mem(struct rig *g, struct alu_case *k, unsigned size)
{
    k->mem = true;
    u32 lo = rnd_val(g, size), hi = rnd_val(g, size);
    memcpy(k->data, &lo, 4);
    memcpy(k->data + 4, &hi, 4);
}

/* Register operand `r` of `size` bytes as the case sets it. */
static u32 case_reg(const struct alu_case *k, unsigned r, unsigned size)
{
    if (size == 1)
        return r < 4 ? k->r[r] & 0xff : (k->r[r - 4] >> 8) & 0xff;
    return k->r[r] & size_mask(size);
}

static void describe(const struct alu_case *k, char *buf, size_t n)
{
    size_t o = 0;
    o += (size_t)snprintf(buf + o, n - o, "bytes");
    for (unsigned b = 0; b < k->len; b++)
        o += (size_t)snprintf(buf + o, n - o, " %02x", k->code[b]);
    o += (size_t)snprintf(buf + o, n - o, " | in fl=%03x", k->fl & 0xfff);
    for (unsigned r = 0; r < 8; r++)
        o += (size_t)snprintf(buf + o, n - o, " %08x", k->r[r]);
    if (k->mem) {
        u32 lo, hi;
        memcpy(&lo, k->data, 4);
        memcpy(&hi, k->data + 4, 4);
        snprintf(buf + o, n - o, " mem=%08x:%08x", hi, lo);
    }
}

/* Run one case on both sides and compare.  Returns true if they agree. */
static bool run_case(struct rig *g, const struct alu_case *k)
{
    struct cpu *c = g->c;
    u8 *hdata = (u8 *)(uintptr_t)ALU_DATA_PTR;
    if (k->mem) {
        memcpy(hdata, k->data, 8);
        mmu_phys_copy_in(g->m, ALU_DATA_PTR, k->data, 8);
    }
    u32 eip = ALU_BASE + g->h.insn_off;
    mmu_phys_copy_in(g->m, eip, k->code, k->len);
    memcpy(c->r, k->r, sizeof(u32) * 8);
    c->eip = eip;
    c->shutdown = false;
    c->halted = false;
    cpu_write_eflags(c, k->fl, ~0u);
    cpu_step(c);
    u32 u_fl = get_eflags(c);

    alu_host_set_insn(&g->h, k->code, k->len);
    u32 h_r[8], h_fl;
    alu_host_run(&g->h, k->r, k->fl, h_r, &h_fl);

    g->cases++;
    char what[160] = "";
    bool ok = true, soft = false;
    if (c->eip != eip + k->len) {
        snprintf(what, sizeof what, "Umbra raised vector %d (eip %08x)", c->exc_vec, c->eip);
        ok = false;
    }
    for (unsigned r = 0; ok && r < 8; r++) {
        if (r != R_ESP && c->r[r] != h_r[r]) {
            snprintf(what, sizeof what, "reg %u: umbra %08x host %08x", r, c->r[r], h_r[r]);
            if (k->result_undef)
                soft = true;
            else
                ok = false;
            break;
        }
    }
    u32 diff = (u_fl ^ h_fl) & F_ALL;
    if (ok && (diff & ~k->undef)) {
        snprintf(what, sizeof what, "flags: umbra %03x host %03x (compared %03x)", u_fl & F_ALL,
                 h_fl & F_ALL, F_ALL & ~k->undef);
        ok = false;
    }
    if (diff & k->undef)
        soft = true;
    if (ok && (k->mem || k->whole_data)) {
        u32 lo = k->whole_data ? ALU_DATA_LO : ALU_DATA_PTR;
        u32 len = k->whole_data ? ALU_DATA_HI - ALU_DATA_LO : 8;
        _Static_assert(ALU_DATA_HI - ALU_DATA_LO <= 0x6000, "data buffer");
        u8 ubuf[0x6000];
        mmu_phys_copy_out(g->m, lo, ubuf, len);
        const u8 *hbuf = (const u8 *)(uintptr_t)lo;
        if (memcmp(ubuf, hbuf, len)) {
            u32 at = 0;
            while (ubuf[at] == hbuf[at])
                at++;
            snprintf(what, sizeof what, "memory at %08x: umbra %02x host %02x", lo + at, ubuf[at],
                     hbuf[at]);
            if (k->result_undef)
                soft = true;
            else
                ok = false;
            /* Resynchronise so later cases start from equal memory. */
            mmu_phys_copy_in(g->m, lo, hbuf, len);
        }
    }
    if (soft) {
        /* ALU_SHOW_UNDEF=1 lists a few, to study what the host does. */
        if (getenv("ALU_SHOW_UNDEF") && (g->undef_diffs < 4 || what[0])) {
            char d[320];
            describe(k, d, sizeof d);
            printf("undefined %s/%u: flags umbra %03x host %03x %s\n  %s\n", g->name,
                   g->size * 8, u_fl & F_ALL, h_fl & F_ALL, what, d);
        }
        g->undef_diffs++;
    }
    if (!ok) {
        g->fails++;
        if (g->fails <= 5) {
            char d[320];
            describe(k, d, sizeof d);
            fprintf(stderr, "MISMATCH %s/%u: %s\n  %s\n", g->name, g->size * 8, what, d);
        }
    }
    return ok;
}

/* ---- ALU group: ADD OR ADC SBB AND SUB XOR CMP ---- */

static const char *const alu_names[8] = { "add", "or", "adc", "sbb", "and", "sub", "xor", "cmp" };

static void alu_case_gen(struct rig *g, struct alu_case *k, unsigned op, unsigned size,
                         unsigned form)
{
    unsigned w = size == 1 ? 0 : 1;
    case_init(g, k, size);
    emit_prefix(k, size);
    unsigned reg = rnd_reg(g, size), rm = rnd_reg(g, size);
    switch (form) {
    case 0: /* Ev,Gv register */
        emit(k, op * 8 + w);
        emit_modrm_reg(k, reg, rm);
        break;
    case 1: /* Ev,Gv memory */
        case_mem(g, k, size);
        emit(k, op * 8 + w);
        emit_modrm_mem(k, reg);
        break;
    case 2: /* Gv,Ev register or memory */
        emit(k, op * 8 + 2 + w);
        if (rnd(g) & 1) {
            case_mem(g, k, size);
            emit_modrm_mem(k, reg);
        } else {
            emit_modrm_reg(k, reg, rm);
        }
        break;
    case 3: /* AL/eAX,imm */
        emit(k, op * 8 + 4 + w);
        emit_imm(k, rnd_val(g, size), size);
        break;
    default: { /* 80/81/83 group, register or memory */
        unsigned opc = size == 1 ? (rnd(g) & 1 ? 0x80 : 0x82) : (rnd(g) & 1 ? 0x81 : 0x83);
        emit(k, opc);
        if (rnd(g) & 1) {
            case_mem(g, k, size);
            emit_modrm_mem(k, op);
        } else {
            emit_modrm_reg(k, op, rm);
        }
        emit_imm(k, rnd_val(g, size), opc == 0x81 ? size : 1);
        break;
    }
    }
}

START_TEST(test_alu_group)
{
    struct rig *g = rig_new(0x1234567u + (u64)_i);
    unsigned op = (unsigned)_i;
    static const unsigned sizes[] = { 1, 2, 4 };
    for (unsigned s = 0; s < 3; s++) {
        unsigned size = sizes[s];
        begin(g, alu_names[op], size);
        struct alu_case k;
        for (unsigned n = 0; n < N_RANDOM; n++) {
            alu_case_gen(g, &k, op, size, n % 5);
            run_case(g, &k);
        }
        /* Every pair of edge values with both carry-in values. */
        for (unsigned a = 0; a < ARRAY_SIZE(edge_vals); a++)
            for (unsigned b = 0; b < ARRAY_SIZE(edge_vals); b++)
                for (unsigned cf = 0; cf < 2; cf++) {
                    alu_case_gen(g, &k, op, size, 0);
                    unsigned reg = (k.code[k.len - 1] >> 3) & 7, rm = k.code[k.len - 1] & 7;
                    if (reg == rm)
                        continue;
                    u32 m = size_mask(size);
                    u32 *pr = &k.r[size == 1 && rm >= 4 ? rm - 4 : rm];
                    u32 *pg = &k.r[size == 1 && reg >= 4 ? reg - 4 : reg];
                    if (pr == pg)
                        continue;
                    unsigned sh_r = size == 1 && rm >= 4 ? 8 : 0;
                    unsigned sh_g = size == 1 && reg >= 4 ? 8 : 0;
                    *pr = (*pr & ~(m << sh_r)) | ((edge_vals[a] & m) << sh_r);
                    *pg = (*pg & ~(m << sh_g)) | ((edge_vals[b] & m) << sh_g);
                    k.fl = (k.fl & ~F_CF) | cf;
                    run_case(g, &k);
                }
        end(g);
    }
    rig_free(g);
}
END_TEST

/* ---- TEST, INC, DEC, NEG, NOT ---- */

enum unary_kind { U_TEST, U_INC, U_DEC, U_NEG, U_NOT };

static void unary_case_gen(struct rig *g, struct alu_case *k, enum unary_kind kind, unsigned size,
                           unsigned form)
{
    unsigned w = size == 1 ? 0 : 1;
    case_init(g, k, size);
    emit_prefix(k, size);
    unsigned reg = rnd_reg(g, size), rm = rnd_reg(g, size);
    bool mem = form & 1;
    if (mem)
        case_mem(g, k, size);
    switch (kind) {
    case U_TEST:
        if (form < 2) {
            emit(k, 0x84 + w);
        } else if (form < 4) {
            emit(k, 0xf6 + w);
            reg = rnd(g) & 1; /* /0 and its alias /1 */
        } else {
            emit(k, 0xa8 + w);
            emit_imm(k, rnd_val(g, size), size);
            return;
        }
        break;
    case U_INC:
    case U_DEC:
        if (form >= 2 && size != 1) {
            emit(k, (kind == U_INC ? 0x40 : 0x48) + rm);
            return;
        }
        emit(k, 0xfe + w);
        reg = kind == U_INC ? 0 : 1;
        break;
    case U_NEG:
    case U_NOT:
        emit(k, 0xf6 + w);
        reg = kind == U_NEG ? 3 : 2;
        break;
    }
    if (mem)
        emit_modrm_mem(k, reg);
    else
        emit_modrm_reg(k, reg, rm);
    if (kind == U_TEST && form >= 2)
        emit_imm(k, rnd_val(g, size), size);
}

START_TEST(test_unary)
{
    static const char *const names[] = { "test", "inc", "dec", "neg", "not" };
    struct rig *g = rig_new(0xabcdefu + (u64)_i);
    static const unsigned sizes[] = { 1, 2, 4 };
    for (unsigned s = 0; s < 3; s++) {
        begin(g, names[_i], sizes[s]);
        struct alu_case k;
        for (unsigned n = 0; n < N_RANDOM + 500; n++) {
            unary_case_gen(g, &k, (enum unary_kind)_i, sizes[s], n % 6);
            run_case(g, &k);
        }
        end(g);
    }
    rig_free(g);
}
END_TEST

/* ---- shifts and rotates ---- */

static const char *const shift_names[8] = { "rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar" };

static u32 shift_undef(unsigned op, unsigned count, unsigned size)
{
    unsigned mc = count & 31;
    if (mc == 0)
        return 0;
    u32 u = op >= 4 ? F_AF : 0;
    if (mc != 1)
        u |= F_OF;
    if ((op == 4 || op == 5 || op == 6) && mc >= size * 8)
        u |= F_CF;
    return u;
}

static unsigned rnd_count(struct rig *g)
{
    return rnd(g) % 4 ? (unsigned)(rnd(g) % 34) : (unsigned)(rnd(g) & 0xff);
}

START_TEST(test_shift)
{
    unsigned op = (unsigned)_i;
    struct rig *g = rig_new(0x5151u + (u64)_i);
    static const unsigned sizes[] = { 1, 2, 4 };
    for (unsigned s = 0; s < 3; s++) {
        unsigned size = sizes[s], w = size == 1 ? 0 : 1;
        begin(g, shift_names[op], size);
        struct alu_case k;
        for (unsigned n = 0; n < N_RANDOM + 3 * 34; n++) {
            case_init(g, &k, size);
            emit_prefix(&k, size);
            unsigned form = n % 3, rm = rnd_reg(g, size);
            unsigned count;
            bool edge = n >= N_RANDOM;
            if (edge)
                form = (n - N_RANDOM) / 34;
            if (form == 1 && rm == R_ECX)
                rm = R_EBX; /* keep CL the count */
            bool mem = rnd(g) % 4 == 0;
            if (mem)
                case_mem(g, &k, size);
            if (form == 0) {
                emit(&k, 0xd0 + w);
                count = 1;
            } else if (form == 1) {
                emit(&k, 0xd2 + w);
                count = edge ? (n - N_RANDOM) % 34 : rnd_count(g);
                k.r[R_ECX] = (k.r[R_ECX] & ~0xffu) | count;
            } else {
                emit(&k, 0xc0 + w);
                count = edge ? (n - N_RANDOM) % 34 : rnd_count(g);
            }
            if (mem)
                emit_modrm_mem(&k, op);
            else
                emit_modrm_reg(&k, op, rm);
            if (form == 2)
                emit(&k, count);
            k.undef |= shift_undef(op, count, size);
            if ((count & 31) == 0)
                k.undef = 0;
            run_case(g, &k);
        }
        end(g);
    }
    rig_free(g);
}
END_TEST

START_TEST(test_shld_shrd)
{
    bool right = _i;
    struct rig *g = rig_new(0x5d5du + (u64)_i);
    static const unsigned sizes[] = { 2, 4 };
    for (unsigned s = 0; s < 2; s++) {
        unsigned size = sizes[s];
        begin(g, right ? "shrd" : "shld", size);
        struct alu_case k;
        for (unsigned n = 0; n < N_RANDOM + 2 * 34; n++) {
            case_init(g, &k, size);
            emit_prefix(&k, size);
            bool by_cl = n & 1;
            unsigned count = n >= N_RANDOM ? (n - N_RANDOM) / 2 : rnd_count(g);
            unsigned reg = rnd_reg(g, size), rm = rnd_reg(g, size);
            if (by_cl) {
                if (reg == R_ECX)
                    reg = R_EDX;
                if (rm == R_ECX)
                    rm = R_EBX;
                k.r[R_ECX] = (k.r[R_ECX] & ~0xffu) | count;
            }
            emit(&k, 0x0f);
            emit(&k, (right ? 0xac : 0xa4) + by_cl);
            if (rnd(g) % 4 == 0) {
                case_mem(g, &k, size);
                emit_modrm_mem(&k, reg);
            } else {
                emit_modrm_reg(&k, reg, rm);
            }
            if (!by_cl)
                emit(&k, count);
            unsigned mc = count & 31;
            if (mc == 0)
                k.undef = 0;
            else if (mc != 1)
                k.undef |= F_OF;
            if (mc > size * 8) {
                k.undef = F_ALL;
                k.result_undef = true;
            }
            run_case(g, &k);
        }
        end(g);
    }
    rig_free(g);
}
END_TEST

/* ---- multiply ---- */

START_TEST(test_mul_one_operand)
{
    bool sgn = _i;
    struct rig *g = rig_new(0x3131u + (u64)_i);
    static const unsigned sizes[] = { 1, 2, 4 };
    for (unsigned s = 0; s < 3; s++) {
        unsigned size = sizes[s];
        begin(g, sgn ? "imul" : "mul", size);
        struct alu_case k;
        for (unsigned n = 0; n < N_RANDOM; n++) {
            case_init(g, &k, size);
            emit_prefix(&k, size);
            emit(&k, size == 1 ? 0xf6 : 0xf7);
            unsigned rm = rnd_reg(g, size);
            if (n & 1) {
                case_mem(g, &k, size);
                emit_modrm_mem(&k, sgn ? 5 : 4);
            } else {
                emit_modrm_reg(&k, sgn ? 5 : 4, rm);
            }
            run_case(g, &k);
        }
        end(g);
    }
    rig_free(g);
}
END_TEST

START_TEST(test_imul_multi_operand)
{
    struct rig *g = rig_new(0x6969u);
    static const unsigned sizes[] = { 2, 4 };
    for (unsigned s = 0; s < 2; s++) {
        unsigned size = sizes[s];
        begin(g, "imul", size);
        struct alu_case k;
        for (unsigned n = 0; n < 3 * N_RANDOM; n++) {
            case_init(g, &k, size);
            emit_prefix(&k, size);
            unsigned form = n % 3, reg = rnd_reg(g, size), rm = rnd_reg(g, size);
            if (form == 0) {
                emit(&k, 0x0f);
                emit(&k, 0xaf);
            } else {
                emit(&k, form == 1 ? 0x69 : 0x6b);
            }
            if (rnd(g) & 1) {
                case_mem(g, &k, size);
                emit_modrm_mem(&k, reg);
            } else {
                emit_modrm_reg(&k, reg, rm);
            }
            if (form == 1)
                emit_imm(&k, rnd_val(g, size), size);
            else if (form == 2)
                emit(&k, rnd_val(g, 1));
            run_case(g, &k);
        }
        end(g);
    }
    rig_free(g);
}
END_TEST

/* ---- divide ---- */

/* Would the host raise #DE?  (The SDM's definition, in C.) */
static bool div_faults(bool sgn, unsigned size, u64 wide, u32 divisor)
{
    unsigned bits = size * 8;
    if (!sgn) {
        u64 d = divisor & size_mask(size);
        return d == 0 || (wide / d) >> bits;
    }
    i64 d = (i32)sext(divisor, bits);
    i64 n = size == 4 ? (i64)wide : (i64)(i32)sext((u32)wide, bits * 2);
    if (d == 0 || (d == -1 && n == INT64_MIN))
        return true;
    i64 q = n / d, lim = (i64)1 << (bits - 1);
    return q >= lim || q < -lim;
}

START_TEST(test_div)
{
    bool sgn = _i;
    struct rig *g = rig_new(0xd1d1u + (u64)_i);
    static const unsigned sizes[] = { 1, 2, 4 };
    for (unsigned s = 0; s < 3; s++) {
        unsigned size = sizes[s], bits = size * 8;
        begin(g, sgn ? "idiv" : "div", size);
        struct alu_case k;
        unsigned done = 0;
        while (done < N_RANDOM) {
            case_init(g, &k, size);
            emit_prefix(&k, size);
            emit(&k, size == 1 ? 0xf6 : 0xf7);
            unsigned rm = rnd_reg(g, size);
            bool mem = rnd(g) & 1;
            if (mem) {
                case_mem(g, &k, size);
                emit_modrm_mem(&k, sgn ? 7 : 6);
            } else {
                emit_modrm_reg(&k, sgn ? 7 : 6, rm);
            }
            /* Make a representable quotient likely: shrink the high half. */
            if (rnd(g) % 4) {
                if (size == 1)
                    k.r[R_EAX] = (k.r[R_EAX] & ~0xff00u) | ((rnd32(g) % 3) << 8);
                else if (sgn)
                    k.r[R_EDX] = (k.r[R_EDX] & ~size_mask(size)) |
                                 ((k.r[R_EAX] >> (bits - 1)) & 1 ? size_mask(size) : 0);
                else
                    k.r[R_EDX] &= ~size_mask(size) | 3;
            }
            u32 divisor;
            if (mem)
                memcpy(&divisor, k.data, 4);
            else
                divisor = case_reg(&k, rm, size);
            u64 wide = size == 1 ? (k.r[R_EAX] & 0xffff)
                                 : ((u64)(k.r[R_EDX] & size_mask(size)) << bits) |
                                       (k.r[R_EAX] & size_mask(size));
            if (div_faults(sgn, size, wide, divisor))
                continue;
            run_case(g, &k);
            done++;
        }
        end(g);
    }
    rig_free(g);
}
END_TEST

/* Call a handler directly with our own landing pad; returns the vector
 * raised, or -1. */
static int exec_direct(struct cpu *c, const u8 *code, size_t n)
{
    struct insn i;
    ck_assert_int_eq(dec_decode_buf(code, n, true, &i), DEC_OK);
    c->exc_vec = -1;
    if (setjmp(c->jb) == 0) {
        i.fn(c, &i);
        return -1;
    }
    return c->exc_vec;
}

START_TEST(test_divide_error)
{
    struct rig *g = rig_new(1);
    struct cpu *c = g->c;
    struct {
        u8 code[3];
        unsigned len;
        u32 eax, edx, ebx;
    } cases[] = {
        { { 0xf6, 0xf3 }, 2, 0x1234, 0, 0x00 },                     /* div bl, bl=0 */
        { { 0xf6, 0xf3 }, 2, 0x1234, 0, 0x12 },                     /* quotient 0x102 */
        { { 0xf6, 0xfb }, 2, 0x8000, 0, 0xff },                     /* idiv bl: -32768/-1 */
        { { 0xf6, 0xfb }, 2, 0x0100, 0, 0x01 },                     /* idiv: 256/1 */
        { { 0x66, 0xf7, 0xf3 }, 3, 0x0000, 0x0001, 0x0001 },        /* div bx: 0x10000/1 */
        { { 0x66, 0xf7, 0xfb }, 3, 0x0000, 0x8000, 0xffff },        /* idiv bx: INT_MIN/-1 */
        { { 0x66, 0xf7, 0xf3 }, 3, 0x1234, 0x0000, 0x0000 },        /* div bx: zero */
        { { 0xf7, 0xf3 }, 2, 5, 0, 0 },                             /* div ebx: zero */
        { { 0xf7, 0xf3 }, 2, 0, 1, 1 },                             /* 2^32 / 1 */
        { { 0xf7, 0xfb }, 2, 0, 0x80000000u, 0xffffffffu },         /* INT64_MIN / -1 */
        { { 0xf7, 0xfb }, 2, 0x80000000u, 0xffffffffu, 0xffffffffu }, /* 2^31 quotient */
        { { 0xf7, 0xfb }, 2, 0, 0, 0 },                             /* idiv: zero */
        { { 0xd4, 0x00 }, 2, 0x1234, 0, 0 },                        /* aam 0 */
    };
    for (size_t n = 0; n < ARRAY_SIZE(cases); n++) {
        c->r[R_EAX] = cases[n].eax;
        c->r[R_EDX] = cases[n].edx;
        c->r[R_EBX] = cases[n].ebx;
        cpu_write_eflags(c, 0x2d5, ~0u);
        int vec = exec_direct(c, cases[n].code, cases[n].len);
        ck_assert_msg(vec == EXC_DE, "case %zu: vector %d, want #DE", n, vec);
        ck_assert_uint_eq(c->r[R_EAX], cases[n].eax);
        ck_assert_uint_eq(c->r[R_EDX], cases[n].edx);
        ck_assert_uint_eq(get_eflags(c) & F_ALL, 0x2d5 & F_ALL);
    }
    /* The boundary cases that just fit do not fault. */
    c->r[R_EAX] = 0x80000000u;
    c->r[R_EDX] = 0xffffffffu;
    c->r[R_EBX] = 1;
    ck_assert_int_eq(exec_direct(c, (const u8[]){ 0xf7, 0xfb }, 2), -1);
    ck_assert_uint_eq(c->r[R_EAX], 0x80000000u);
    rig_free(g);
}
END_TEST

/* A read-modify-write whose store faults changes neither registers nor
 * flags (fault first, commit last).  DS is made read-only so the read
 * succeeds and the write raises #GP. */
START_TEST(test_rmw_fault_commits_nothing)
{
    struct rig *g = rig_new(2);
    struct cpu *c = g->c;
    static const struct {
        u8 code[6];
        unsigned len;
    } cases[] = {
        { { 0x01, 0x06 }, 2 },                   /* add [esi], eax */
        { { 0x11, 0x06 }, 2 },                   /* adc [esi], eax */
        { { 0x83, 0x2e, 0x05 }, 3 },             /* sub dword [esi], 5 */
        { { 0xff, 0x06 }, 2 },                   /* inc dword [esi] */
        { { 0xfe, 0x0e }, 2 },                   /* dec byte [esi] */
        { { 0xf7, 0x1e }, 2 },                   /* neg dword [esi] */
        { { 0xf7, 0x16 }, 2 },                   /* not dword [esi] */
        { { 0xd1, 0x26 }, 2 },                   /* shl dword [esi], 1 */
        { { 0xd3, 0x16 }, 2 },                   /* rcl dword [esi], cl */
        { { 0x0f, 0xa4, 0x06, 0x03 }, 4 },       /* shld [esi], eax, 3 */
        { { 0x0f, 0xad, 0x06 }, 3 },             /* shrd [esi], eax, cl */
        { { 0x0f, 0xc1, 0x06 }, 3 },             /* xadd [esi], eax */
        { { 0x0f, 0xb1, 0x1e }, 3 },             /* cmpxchg [esi], ebx */
        { { 0x0f, 0xab, 0x06 }, 3 },             /* bts [esi], eax */
        { { 0x0f, 0xba, 0x3e, 0x05 }, 4 },       /* btc dword [esi], 5 */
        { { 0x0f, 0xc7, 0x0e }, 3 },             /* cmpxchg8b [esi] */
    };
    seg_set(&c->seg[S_DS], 0x10, 0, 0xffffffffu,
            DESC_P | DESC_S | DESC_DB | DESC_G | (0x1u << 8)); /* read-only data */
    u32 v = 0x80000000u;
    mmu_phys_copy_in(g->m, ALU_DATA_PTR, &v, 4);
    for (size_t n = 0; n < ARRAY_SIZE(cases); n++) {
        for (unsigned fl = 0; fl < 2; fl++) {
            u32 regs[8] = { 0x80000000u, 7, 0x12345678u, 0x9abcdef0u, ALU_STACK, 0, ALU_DATA_PTR, 0 };
            memcpy(c->r, regs, sizeof regs);
            u32 in_fl = fl ? 0x2d7 | F_OF : 0x202;
            cpu_write_eflags(c, in_fl, ~0u);
            int vec = exec_direct(c, cases[n].code, cases[n].len);
            ck_assert_msg(vec == EXC_GP, "case %zu: vector %d, want #GP", n, vec);
            ck_assert_msg(!memcmp(c->r, regs, sizeof regs), "case %zu: registers changed", n);
            ck_assert_msg((get_eflags(c) & F_ALL) == (in_fl & F_ALL), "case %zu: flags %03x, want %03x",
                          n, get_eflags(c) & F_ALL, in_fl & F_ALL);
        }
    }
    rig_free(g);
}
END_TEST

/* ---- BCD ---- */

START_TEST(test_bcd)
{
    static const char *const names[] = { "daa", "das", "aaa", "aas", "aam", "aad" };
    static const u8 opc[] = { 0x27, 0x2f, 0x37, 0x3f, 0xd4, 0xd5 };
    struct rig *g = rig_new(0xbcdu + (u64)_i);
    begin(g, names[_i], 1);
    struct alu_case k;
    for (unsigned n = 0; n < N_RANDOM + 1024; n++) {
        case_init(g, &k, 1);
        emit(&k, opc[_i]);
        if (_i >= 4) {
            unsigned base = n < 1024 ? 10 : (unsigned)(rnd(g) % 255) + 1;
            if (n % 16 == 0 && n >= 1024)
                base = 10;
            emit(&k, base);
        }
        if (n < 1024) {
            /* every AL with every AF/CF combination (and a random AH) */
            k.r[R_EAX] = (k.r[R_EAX] & ~0xffu) | (n & 0xff);
            k.fl = (k.fl & ~(F_AF | F_CF)) | ((n >> 8) & 1 ? F_AF : 0) | ((n >> 9) & 1);
        }
        run_case(g, &k);
    }
    end(g);
    rig_free(g);
}
END_TEST

START_TEST(test_salc)
{
    struct rig *g = rig_new(7);
    struct cpu *c = g->c;
    for (unsigned n = 0; n < 64; n++) {
        u32 eax = rnd32(g), fl = rnd_flags(g);
        c->r[R_EAX] = eax;
        cpu_write_eflags(c, fl, ~0u);
        ck_assert_int_eq(exec_direct(c, (const u8[]){ 0xd6 }, 1), -1);
        u32 want = (eax & ~0xffu) | ((fl & F_CF) ? 0xff : 0);
        ck_assert_uint_eq(c->r[R_EAX], want);
        ck_assert_uint_eq(get_eflags(c) & F_ALL, fl & F_ALL);
    }
    rig_free(g);
}
END_TEST

/* ---- bit test and scan ---- */

START_TEST(test_bt)
{
    static const char *const names[] = { "bt", "bts", "btr", "btc" };
    static const u8 opc_gv[] = { 0xa3, 0xab, 0xb3, 0xbb };
    unsigned op = (unsigned)_i;
    struct rig *g = rig_new(0xb7b7u + (u64)_i);
    static const unsigned sizes[] = { 2, 4 };
    for (unsigned s = 0; s < 2; s++) {
        unsigned size = sizes[s];
        begin(g, names[op], size);
        struct alu_case k;
        for (unsigned n = 0; n < N_RANDOM; n++) {
            case_init(g, &k, size);
            emit_prefix(&k, size);
            emit(&k, 0x0f);
            unsigned reg = rnd_reg(g, size), rm = rnd_reg(g, size);
            bool mem = n & 1, imm = n & 2;
            if (imm) {
                emit(&k, 0xba);
                reg = 4 + op;
            } else {
                emit(&k, opc_gv[op]);
            }
            if (mem) {
                emit_modrm_mem(&k, reg);
                k.whole_data = true;
                if (!imm) {
                    /* signed bit offsets reaching +-4 KiB around the base */
                    i32 off = (i32)(rnd32(g) % 0x8000) - 0x4000;
                    if (rnd(g) % 4 == 0)
                        off = (i32)(rnd32(g) % 64) - 32;
                    k.r[reg] = (k.r[reg] & ~size_mask(size)) | ((u32)off & size_mask(size));
                }
            } else {
                emit_modrm_reg(&k, reg, rm);
            }
            if (imm)
                emit(&k, rnd32(g) & 0xff);
            run_case(g, &k);
        }
        end(g);
    }
    rig_free(g);
}
END_TEST

START_TEST(test_bsf_bsr)
{
    bool rev = _i;
    struct rig *g = rig_new(0xb5f0u + (u64)_i);
    static const unsigned sizes[] = { 2, 4 };
    for (unsigned s = 0; s < 2; s++) {
        unsigned size = sizes[s];
        begin(g, rev ? "bsr" : "bsf", size);
        struct alu_case k;
        for (unsigned n = 0; n < N_RANDOM; n++) {
            case_init(g, &k, size);
            emit_prefix(&k, size);
            emit(&k, 0x0f);
            emit(&k, rev ? 0xbd : 0xbc);
            unsigned reg = rnd_reg(g, size), rm = rnd_reg(g, size);
            u32 src;
            if (n & 1) {
                case_mem(g, &k, size);
                if (n % 8 == 1)
                    memset(k.data, 0, 4);
                emit_modrm_mem(&k, reg);
                memcpy(&src, k.data, 4);
            } else {
                if (n % 8 == 0)
                    k.r[rm] &= ~size_mask(size);
                emit_modrm_reg(&k, reg, rm);
                src = k.r[rm];
            }
            /* The destination is undefined for a zero source (SDM). */
            if ((src & size_mask(size)) == 0)
                k.result_undef = true;
            run_case(g, &k);
        }
        end(g);
    }
    rig_free(g);
}
END_TEST

START_TEST(test_bswap)
{
    struct rig *g = rig_new(0xb5u);
    static const unsigned sizes[] = { 2, 4 };
    for (unsigned s = 0; s < 2; s++) {
        unsigned size = sizes[s];
        begin(g, "bswap", size);
        struct alu_case k;
        for (unsigned n = 0; n < N_RANDOM; n++) {
            case_init(g, &k, size);
            emit_prefix(&k, size);
            emit(&k, 0x0f);
            emit(&k, 0xc8 + rnd_reg(g, size));
            k.result_undef = size == 2; /* SDM: undefined for 16-bit operands */
            run_case(g, &k);
        }
        end(g);
    }
    /* 16-bit form, by definition here: Intel cores clear the low word. */
    struct cpu *c = g->c;
    c->r[R_EBX] = 0x12345678u;
    ck_assert_int_eq(exec_direct(c, (const u8[]){ 0x66, 0x0f, 0xcb }, 3), -1);
    ck_assert_uint_eq(c->r[R_EBX], 0x12340000u);
    rig_free(g);
}
END_TEST

/* ---- XADD, CMPXCHG, CMPXCHG8B ---- */

START_TEST(test_xadd_cmpxchg)
{
    bool cx = _i;
    struct rig *g = rig_new(0xc0c0u + (u64)_i);
    static const unsigned sizes[] = { 1, 2, 4 };
    for (unsigned s = 0; s < 3; s++) {
        unsigned size = sizes[s];
        begin(g, cx ? "cmpxchg" : "xadd", size);
        struct alu_case k;
        for (unsigned n = 0; n < N_RANDOM; n++) {
            case_init(g, &k, size);
            emit_prefix(&k, size);
            emit(&k, 0x0f);
            emit(&k, (cx ? 0xb0 : 0xc0) + (size != 1));
            unsigned reg = rnd_reg(g, size), rm = rnd_reg(g, size);
            bool mem = n & 1;
            if (mem) {
                case_mem(g, &k, size);
                if (cx && (n & 2))
                    memcpy(k.data, &k.r[R_EAX], size); /* make the compare succeed */
                emit_modrm_mem(&k, reg);
            } else {
                if (cx && (n & 2) && size > 1)
                    k.r[rm] = (k.r[rm] & ~size_mask(size)) | (k.r[R_EAX] & size_mask(size));
                if (cx && (n & 2) && size == 1 && rm < 4)
                    k.r[rm] = (k.r[rm] & ~0xffu) | (k.r[R_EAX] & 0xff);
                emit_modrm_reg(&k, reg, rm);
            }
            run_case(g, &k);
        }
        end(g);
    }
    rig_free(g);
}
END_TEST

START_TEST(test_cmpxchg8b)
{
    struct rig *g = rig_new(0x8b8bu);
    begin(g, "cmpxchg8b", 8);
    struct alu_case k;
    for (unsigned n = 0; n < N_RANDOM; n++) {
        case_init(g, &k, 4);
        case_mem(g, &k, 4);
        if (n & 1) {
            memcpy(k.data, &k.r[R_EAX], 4);
            memcpy(k.data + 4, &k.r[R_EDX], 4);
        } else if (n & 2) {
            memcpy(k.data, &k.r[R_EAX], 4); /* low half equal only */
        }
        emit(&k, 0x0f);
        emit(&k, 0xc7);
        emit_modrm_mem(&k, 1);
        run_case(g, &k);
    }
    end(g);
    rig_free(g);
}
END_TEST

static Suite *alu_suite(void)
{
    Suite *s = suite_create("alu_oracle");
    TCase *t = tcase_create("arith");
    tcase_set_timeout(t, 120);
    tcase_add_loop_test(t, test_alu_group, 0, 8);
    tcase_add_loop_test(t, test_unary, 0, 5);
    tcase_add_test(t, test_rmw_fault_commits_nothing);
    suite_add_tcase(s, t);
    t = tcase_create("shift");
    tcase_set_timeout(t, 120);
    tcase_add_loop_test(t, test_shift, 0, 8);
    tcase_add_loop_test(t, test_shld_shrd, 0, 2);
    suite_add_tcase(s, t);
    t = tcase_create("muldiv");
    tcase_set_timeout(t, 120);
    tcase_add_loop_test(t, test_mul_one_operand, 0, 2);
    tcase_add_test(t, test_imul_multi_operand);
    tcase_add_loop_test(t, test_div, 0, 2);
    tcase_add_test(t, test_divide_error);
    suite_add_tcase(s, t);
    t = tcase_create("bcd");
    tcase_add_loop_test(t, test_bcd, 0, 6);
    tcase_add_test(t, test_salc);
    suite_add_tcase(s, t);
    t = tcase_create("bits");
    tcase_set_timeout(t, 120);
    tcase_add_loop_test(t, test_bt, 0, 4);
    tcase_add_loop_test(t, test_bsf_bsr, 0, 2);
    tcase_add_test(t, test_bswap);
    suite_add_tcase(s, t);
    t = tcase_create("exchange");
    tcase_set_timeout(t, 120);
    tcase_add_loop_test(t, test_xadd_cmpxchg, 0, 2);
    tcase_add_test(t, test_cmpxchg8b);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(alu_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
