/*
 * The decoder's instruction lengths against Capstone 4 (SDM vol. 2,
 * chapter 2 "Instruction format" and appendix A "Opcode map").
 *
 * Byte sequences come from three sources: uniform random bytes, sequences
 * built from the encoding table (random prefixes, a table opcode, random
 * ModRM/SIB/displacement/immediate bytes) and hand-built edge cases.  Each is
 * decoded in 16- and 32-bit code by dec_decode_buf() and by Capstone.
 *
 * When both accept an instruction the lengths must agree.  When exactly one
 * accepts it, the disagreement must fall into one of the classes below,
 * each of which names the SDM rule that makes our answer right; anything
 * else fails the test:
 *
 *  OUT_OF_SCOPE  we say #UD for an opcode that has no row in the table and
 *                Capstone's instruction is outside the 386-P6 integer and
 *                system set (SSE/MMX/3DNow!/VMX/AVX groups, or a later
 *                integer extension such as POPCNT, MOVBE, RDTSCP, SYSCALL;
 *                SDM vol. 2: "#UD if CPUID.xx.feature = 0").
 *  LOCK          we say #UD for LOCK on an instruction that is not lockable
 *                or whose destination is a register (SDM vol. 2, LOCK: "#UD
 *                if the LOCK prefix is used with an instruction not listed
 *                or with a register destination").  Capstone decodes these.
 *  REG_FORM      we say #UD for the register form (ModRM.mod = 3) of a
 *                memory-only operand (LEA, LDS/LES/LSS/LFS/LGS, BOUND,
 *                CMPXCHG8B, SGDT/SIDT/LGDT/LIDT/INVLPG: "#UD if the source
 *                operand is a register"), and Capstone decodes the bytes as
 *                something else or as that register form.  This covers VEX
 *                (C4/C5 with ModRM.mod = 3 in 32-bit code, which Capstone
 *                decodes as AVX): on a P6 those bytes are LES/LDS with a
 *                register operand, #UD; with mod != 3 both decode LES/LDS.
 *                Likewise 0F 01 with mod = 3 (VMCALL, MONITOR, ...).
 *  SSE_PREFIX    we say #UD for an SSE/SSE2 opcode whose prefix class (none,
 *                66, F3, F2: F2/F3 win over 66) selects no form, and
 *                Capstone ignores the prefix and decodes another form (F3
 *                0F 56 as ORPS); likewise the memory form of a
 *                register-only prefix form (F2 0F D6 /m, MOVDQ2Q).  SDM vol. 2, 2.1.2: a mandatory prefix
 *                other than the defined ones is reserved; Umbra raises #UD,
 *                as for any opcode/prefix pair without a row
 *                (opcodes_sse.def).
 *  TOO_LONG      we say #GP for an instruction longer than 15 bytes (SDM
 *                vol. 2, 2.3.11: "the maximum length of an IA-32 instruction
 *                is 15 bytes"); Capstone has no such limit.
 *  X87_RESERVED  we accept an x87 escape (D8-DF) that Capstone rejects as
 *                an undefined x87 operation: the length of an escape
 *                follows from its ModRM alone (SDM vol. 2, A.5), and
 *                whether the operation exists is decided when it executes.
 *  CS_REP        Capstone rejects a non-string instruction only because it
 *                carries F2/F3 (checked: with the prefix replaced by 3E it
 *                decodes to our length).  SDM vol. 2, 2.1.1: such use is
 *                reserved; the P6 ignores the prefix.
 *  CS_REJECTS    Capstone rejects an encoding that is valid on the P6 and in
 *                our table: the hint NOPs 0F 18-0F 1F with some ModRM/prefix
 *                combinations (SDM "NOP Ev": "0F 1F /0", and appendix A
 *                reserves 0F 18-1F as NOP for future hints), UD0 when its
 *                ModRM makes it look different, and 8C/8E with the reserved
 *                Sreg numbers 6 and 7, which we decode and whose handler
 *                raises #UD (SDM MOV: "#UD if ... the reg field is 6/7").
 *  CS_LENGTH     both accept but the lengths differ where Capstone 4 is
 *                wrong: UD1 (0F B9 /r) and UD0 (0F FF /r) decoded without
 *                their ModRM (SDM vol. 2, UD); CALL/JMP/Jcc rel with both
 *                66 and F2/F3, where Capstone drops the operand-size
 *                override (SDM vol. 2, CALL/Jcc: the operand size selects
 *                rel16 or rel32).
 *
 * The test prints the count of every class and a sample of each.
 */
#include <capstone/capstone.h>
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "cpu/decode.h"

enum cls {
    CL_AGREE_OK,
    CL_AGREE_INVALID,
    CL_OUT_OF_SCOPE,
    CL_LOCK,
    CL_REG_FORM,
    CL_SSE_PREFIX,
    CL_TOO_LONG,
    CL_X87_RESERVED,
    CL_CS_REP,
    CL_CS_REJECTS,
    CL_CS_LENGTH,
    CL_UNCLASSIFIED,
    CL__COUNT
};

static const char *const cls_name[CL__COUNT] = {
    "agree (valid, same length)", "agree (both invalid)", "(a) out of the 386-P6 set",
    "(b) illegal LOCK", "(b) register form of a memory operand",
    "(b) reserved SSE prefix", "15-byte limit",
    "reserved x87 encoding", "(c) Capstone rejects F2/F3 on it",
    "(c) Capstone rejects a valid encoding",
    "(c) Capstone length bug", "UNCLASSIFIED",
};

#define BUF_LEN 24
#define SAMPLES 4

struct tally {
    unsigned long n[CL__COUNT];
    unsigned nsample[CL__COUNT];
};

struct oracle {
    csh h16, h32;
    cs_insn *ci;
    const struct op_row *rows;
    size_t nrows;
};

/* xorshift64*: deterministic, so a failure reproduces. */
static u64 rnd(u64 *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

/* What the prefix bytes and opcode of a sequence are, read independently
 * of the decoder under test. */
struct peek {
    unsigned nprefix;
    bool lock, has66, rep;
    unsigned pfx; /* mandatory-prefix class: PFX_NP, PFX_66, PFX_F3, PFX_F2 */
    unsigned opc;
    int modrm; /* -1 if the sequence ends before it */
};

static bool is_prefix(u8 b)
{
    switch (b) {
    case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
    case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
        return true;
    }
    return false;
}

static struct peek peek_bytes(const u8 *b, size_t n)
{
    struct peek p = { 0, false, false, false, PFX_NP, 0, -1 };
    size_t k = 0;
    unsigned last_rep = 0;
    while (k < n && is_prefix(b[k])) {
        p.lock |= b[k] == 0xf0;
        p.has66 |= b[k] == 0x66;
        p.rep |= b[k] == 0xf2 || b[k] == 0xf3;
        if (b[k] == 0xf2 || b[k] == 0xf3)
            last_rep = b[k];
        k++;
    }
    /* SDM vol. 2, 2.1.2: F2/F3 select the SSE form over 66. */
    p.pfx = last_rep == 0xf3 ? PFX_F3 : last_rep == 0xf2 ? PFX_F2 : p.has66 ? PFX_66 : PFX_NP;
    p.nprefix = (unsigned)k;
    if (k < n && b[k] == 0x0f && k + 1 < n) {
        p.opc = 0x100 | b[k + 1];
        k += 2;
    } else if (k < n) {
        p.opc = b[k++];
    }
    if (k < n)
        p.modrm = b[k];
    return p;
}

static const struct op_row *find_row(const struct oracle *o, unsigned opc, int modrm,
                                     unsigned pfx)
{
    for (size_t k = 0; k < o->nrows; k++) {
        const struct op_row *r = &o->rows[k];
        if (r->opc != opc || (r->pfx != PFX_ANY && r->pfx != pfx))
            continue;
        if (r->reg < 0 || (modrm >= 0 && r->reg == ((modrm >> 3) & 7)))
            return r;
    }
    return NULL;
}

/* Some prefix class of 0F opcode `opc` has an SSE row. */
static bool has_sse_row(const struct oracle *o, unsigned opc)
{
    for (size_t k = 0; k < o->nrows; k++)
        if (o->rows[k].opc == opc && o->rows[k].pfx != PFX_ANY)
            return true;
    return false;
}

/* Capstone's instruction is outside the integer/system set we implement. */
static bool cs_out_of_scope(const cs_insn *ci)
{
    static const char *const later[] = {
        /* integer and system instructions introduced after the P6 family */
        "syscall", "sysret", "sysretq", "rdtscp", "popcnt", "lzcnt", "tzcnt", "movbe",
        "crc32", "xgetbv", "xsetbv", "monitor", "mwait", "swapgs", "invpcid", "rdrand",
        "rdseed", "clac", "stac", "xsave", "xsaveopt", "xsavec", "xsaves", "xrstor",
        "xrstors", "fxsave", "fxrstor", "ldmxcsr", "stmxcsr", "lfence", "mfence", "sfence",
        "clflush", "clflushopt", "clwb", "prefetch", "prefetchw", "prefetchwt1", "femms",
        "getsec", "xend", "xabort", "xtest", "xbegin", "rdfsbase", "rdgsbase", "wrfsbase",
        "wrgsbase", "rdpid", "endbr32", "endbr64", "vmcall", "vmlaunch", "vmresume",
        "vmxoff", "vmfunc", "vmrun", "vmmcall", "vmload", "vmsave", "stgi", "clgi",
        "skinit", "invlpga", "encls", "enclu", "xsave64", "fxsave64", "invept",
        "invvpid", "vmread", "vmwrite", "vmptrld", "vmptrst", "vmclear", "vmxon",
        "monitorx", "mwaitx", "clzero", "rdpkru", "wrpkru", "ptwrite", "umonitor",
        "umwait", "tpause", "cldemote", "movdiri", "movdir64b", "pconfig", "wbnoinvd",
        "pause", "rsm", "ud2", "jmpe", "loadall", "xbts", "ibts", "cmpxchg16b",
    };
    cs_detail *d = ci->detail;
    /* MMX, SSE and SSE2 are ours now (opcodes_sse.def); of their
     * groups only the prefetch hints (3DNow! PREFETCH/PREFETCHW in
     * Capstone's view) stay outside. */
    for (unsigned k = 0; d && k < d->groups_count; k++) {
        unsigned g = d->groups[k];
        if ((g == X86_GRP_SSE1 || g == X86_GRP_SSE2 || g == X86_GRP_MMX) &&
            strncmp(ci->mnemonic, "prefetch", 8))
            return false;
    }
    for (unsigned k = 0; d && k < d->groups_count; k++) {
        unsigned g = d->groups[k];
        if (g >= X86_GRP_VM && g != X86_GRP_CMOV && g != X86_GRP_MODE32 &&
            g != X86_GRP_16BITMODE && g != X86_GRP_NOT64BITMODE && g != X86_GRP_FPU)
            return true;
    }
    for (size_t k = 0; k < ARRAY_SIZE(later); k++)
        if (!strcmp(ci->mnemonic, later[k]))
            return true;
    return false;
}

/* Encodings Capstone 4 rejects although they are valid on the P6 and in
 * our table (see CS_REJECTS above). */
static bool cs_rejects_valid(const struct peek *p, const struct op_row *r)
{
    if (!r)
        return false;
    int reg = p->modrm >= 0 ? (p->modrm >> 3) & 7 : -1;
    switch (p->opc) {
    case 0x118: case 0x119: case 0x11a: case 0x11b:
    case 0x11c: case 0x11d: case 0x11e: case 0x11f:
        return true;           /* hint NOP Ev with any ModRM and prefixes */
    case 0x1ff:
        return true;           /* UD0 /r */
    case 0x1e6: case 0x16c: case 0x16d: case 0x173: case 0x1d6:
        /* CVTTPD2DQ/CVTDQ2PD/CVTPD2DQ, PUNPCKLQDQ/PUNPCKHQDQ,
         * PSRLDQ/PSLLDQ and MOVQ Wq,Vq: SSE2 forms Capstone 4 rejects in
         * 16-bit code. */
        return true;
    case 0x1ae:
        /* LFENCE/MFENCE/SFENCE: the SDM's opcode map (table A-6, group
         * 15, mod = 11B) ignores ModRM.rm; Capstone only knows rm = 0. */
        return reg >= 5 && (p->modrm >> 6) == 3;
    case 0x8c: case 0x8e:
        return reg >= 6;       /* reserved Sreg: the handler raises #UD */
    }
    return false;
}

/* Both accept, lengths differ: Capstone 4 length bugs, with the rule. */
static bool cs_length_bug(const struct peek *p, unsigned ours, unsigned theirs)
{
    /* UD1 is 0F B9 /r and UD0 is 0F FF /r (SDM vol. 2, UD: "UD1 r32,
     * r/m32", "UD0 r32, r/m32"); Capstone 4 decodes them ("ud2b", "ud0")
     * without a ModRM byte. */
    if ((p->opc == 0x1b9 || p->opc == 0x1ff) && theirs == p->nprefix + 2 && ours > theirs)
        return true;
    /* CALL/JMP/Jcc rel with 66 and F2/F3: Capstone 4 takes F2/F3 for the
     * BND prefix and then drops the operand-size override, so it reads a
     * rel32 where the processor reads rel16 (or the reverse in 16-bit
     * code).  SDM vol. 2, CALL: "the operand-size attribute determines the
     * size of the relative offset"; F2/F3 do not change it. */
    bool rel = p->opc == 0xe8 || p->opc == 0xe9 || (p->opc >= 0x180 && p->opc <= 0x18f);
    if (rel && p->has66 && p->rep && (theirs == ours + 2 || ours == theirs + 2))
        return true;
    return false;
}

/* Capstone rejects an instruction that carries F2/F3 only because of the
 * prefix: with each F2/F3 replaced by 3E (same length, no meaning here) it
 * decodes to our length.  F2/F3 on a non-string instruction are ignored by
 * the processor (SDM vol. 2, 2.1.1: reserved, and no P6 raises #UD). */
static bool cs_rejects_rep(struct oracle *o, const u8 *buf, const struct peek *p, bool code32,
                           unsigned ours)
{
    u8 b[BUF_LEN];
    bool had = false;
    memcpy(b, buf, BUF_LEN);
    for (unsigned k = 0; k < p->nprefix; k++) {
        if (b[k] == 0xf2 || b[k] == 0xf3) {
            b[k] = 0x3e;
            had = true;
        }
    }
    if (!had)
        return false;
    const u8 *code = b;
    size_t size = BUF_LEN;
    u64 addr = 0x1000;
    return cs_disasm_iter(code32 ? o->h32 : o->h16, &code, &size, &addr, o->ci) &&
           o->ci->size == ours;
}

static enum cls classify(struct oracle *o, const u8 *buf, bool code32, unsigned *our_len,
                         unsigned *cs_len)
{
    struct insn i;
    memset(&i, 0, sizeof i);
    enum dec_status st = dec_decode_buf(buf, BUF_LEN, code32, &i);
    const u8 *code = buf;
    size_t size = BUF_LEN;
    u64 addr = 0x1000;
    bool cs_ok = cs_disasm_iter(code32 ? o->h32 : o->h16, &code, &size, &addr, o->ci);
    unsigned theirs = cs_ok ? o->ci->size : 0;
    *our_len = st == DEC_OK ? i.len : 0;
    *cs_len = theirs;
    struct peek p = peek_bytes(buf, BUF_LEN);
    const struct op_row *r = find_row(o, p.opc, p.modrm, p.pfx);

    if (st == DEC_OK && cs_ok) {
        if (i.len == theirs)
            return CL_AGREE_OK;
        return cs_length_bug(&p, i.len, theirs) ? CL_CS_LENGTH : CL_UNCLASSIFIED;
    }
    if (st != DEC_OK && !cs_ok)
        return CL_AGREE_INVALID;
    /* Past 15 bytes for us; Capstone may be shorter only by its UD1/UD0
     * length bug (no ModRM), which hides the overlong form. */
    if (st == DEC_GP)
        return theirs > 15 || cs_length_bug(&p, 16, theirs) ? CL_TOO_LONG : CL_UNCLASSIFIED;
    if (st == DEC_OK) {
        /* x87 escapes: the length follows from ModRM alone (SDM vol. 2,
         * A.5); whether the operation is defined is an execution matter. */
        if ((p.opc & 0x1f8) == 0xd8)
            return CL_X87_RESERVED;
        if (cs_rejects_rep(o, buf, &p, code32, i.len))
            return CL_CS_REP;
        return cs_rejects_valid(&p, r) ? CL_CS_REJECTS : CL_UNCLASSIFIED;
    }
    if (st != DEC_UD)
        return CL_UNCLASSIFIED;
    /* We say #UD, Capstone decodes something. */
    if (!r && cs_out_of_scope(o->ci))
        return CL_OUT_OF_SCOPE;
    if (r && p.modrm >= 0 && (p.modrm >> 6) == 3 && (r->attr & OPA_MEMONLY))
        return CL_REG_FORM;
    /* The memory form of a register-only row (0F AE /5 /6 with memory:
     * XRSTOR, XSAVEOPT, CLWB) is a later extension. */
    if (r && p.modrm >= 0 && (p.modrm >> 6) != 3 && (r->attr & OPA_REGONLY) &&
        cs_out_of_scope(o->ci))
        return CL_OUT_OF_SCOPE;
    if (r && p.lock && (!(r->attr & OPA_LOCK) || (p.modrm >= 0 && (p.modrm >> 6) == 3)))
        return CL_LOCK;
    if (!r && p.opc >= 0x100 && has_sse_row(o, p.opc))
        return CL_SSE_PREFIX;
    /* The memory form of a register-only prefix form (F2/F3 0F D6:
     * MOVDQ2Q/MOVQ2DQ), which Capstone decodes as another prefix's form. */
    if (r && r->pfx != PFX_ANY && p.modrm >= 0 && (p.modrm >> 6) != 3 &&
        (r->attr & OPA_REGONLY))
        return CL_SSE_PREFIX;
    return CL_UNCLASSIFIED;
}

static void record(struct oracle *o, struct tally *t, const u8 *buf, bool code32)
{
    unsigned ours, theirs;
    enum cls c = classify(o, buf, code32, &ours, &theirs);
    t->n[c]++;
    if (c <= CL_AGREE_INVALID || t->nsample[c] >= (c == CL_UNCLASSIFIED || c == CL_CS_REJECTS ? 40u : SAMPLES))
        return;
    t->nsample[c]++;
    printf("  %-40s %s ours=%u cs=%u %s %s:", cls_name[c], code32 ? "32" : "16", ours, theirs,
           theirs ? o->ci->mnemonic : "-", theirs ? o->ci->op_str : "");
    for (unsigned k = 0; k < 16; k++)
        printf(" %02x", buf[k]);
    printf("\n");
}

static void oracle_open(struct oracle *o)
{
    ck_assert_int_eq(cs_open(CS_ARCH_X86, CS_MODE_16, &o->h16), CS_ERR_OK);
    ck_assert_int_eq(cs_open(CS_ARCH_X86, CS_MODE_32, &o->h32), CS_ERR_OK);
    cs_option(o->h16, CS_OPT_DETAIL, CS_OPT_ON);
    cs_option(o->h32, CS_OPT_DETAIL, CS_OPT_ON);
    o->ci = cs_malloc(o->h32);
    ck_assert_ptr_nonnull(o->ci);
    o->rows = dec_rows(&o->nrows);
}

static void oracle_close(struct oracle *o)
{
    cs_free(o->ci, 1);
    cs_close(&o->h16);
    cs_close(&o->h32);
}

static void report(const char *what, const struct tally *t)
{
    unsigned long total = 0;
    for (unsigned c = 0; c < CL__COUNT; c++)
        total += t->n[c];
    printf("%s: %lu sequences\n", what, total);
    for (unsigned c = 0; c < CL__COUNT; c++)
        printf("  %-42s %lu\n", cls_name[c], t->n[c]);
}

static const u8 prefix_set[] = { 0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 };

START_TEST(random_bytes)
{
    struct oracle o;
    struct tally t = { 0 };
    oracle_open(&o);
    u64 s = 0x9e3779b97f4a7c15ull;
    u8 buf[BUF_LEN];
    for (unsigned n = 0; n < 200000; n++) {
        for (unsigned k = 0; k < BUF_LEN; k++)
            buf[k] = (u8)rnd(&s);
        record(&o, &t, buf, n & 1);
    }
    report("random bytes", &t);
    oracle_close(&o);
    ck_assert_uint_gt(t.n[CL_AGREE_OK], 180000);
    ck_assert_uint_eq(t.n[CL_UNCLASSIFIED], 0);
}
END_TEST

START_TEST(table_driven)
{
    struct oracle o;
    struct tally t = { 0 };
    oracle_open(&o);
    u64 s = 0x0123456789abcdefull;
    u8 buf[BUF_LEN];
    for (unsigned n = 0; n < 200000; n++) {
        const struct op_row *r = &o.rows[rnd(&s) % o.nrows];
        for (unsigned k = 0; k < BUF_LEN; k++)
            buf[k] = (u8)rnd(&s);
        unsigned len = 0;
        unsigned np = (unsigned)(rnd(&s) % 5);
        if (rnd(&s) % 64 == 0)
            np = (unsigned)(rnd(&s) % 15);
        for (unsigned k = 0; k < np; k++) {
            u8 pb = prefix_set[rnd(&s) % sizeof prefix_set];
            /* LOCK mostly only where it may be legal, so the lockable
             * forms are exercised too. */
            if (pb == 0xf0 && !(r->attr & OPA_LOCK) && rnd(&s) % 4)
                pb = 0x3e;
            buf[len++] = pb;
        }
        /* The mandatory prefix of an SSE row last, so it selects the row
         * unless a random F2/F3 before it wins over a 66. */
        static const u8 mandatory[] = { [PFX_66] = 0x66, [PFX_F3] = 0xf3, [PFX_F2] = 0xf2 };
        if (r->pfx >= PFX_66 && len < 14)
            buf[len++] = mandatory[r->pfx];
        if (r->opc >= 0x100)
            buf[len++] = 0x0f;
        buf[len++] = (u8)r->opc;
        if (r->reg >= 0)
            buf[len] = (u8)((buf[len] & 0xc7) | r->reg << 3);
        record(&o, &t, buf, n & 1);
    }
    report("table-driven", &t);
    oracle_close(&o);
    /* SSE rows add agreed-invalid sequences: their register-only and
     * memory-only forms and the prefix combinations no form has. */
    ck_assert_uint_gt(t.n[CL_AGREE_OK], 165000);
    ck_assert_uint_eq(t.n[CL_UNCLASSIFIED], 0);
}
END_TEST

/* A hand-built case: bytes, mode, our expected status and length. */
struct edge {
    const char *what;
    bool code32;
    enum dec_status st;
    unsigned len;
    unsigned n;
    u8 b[20];
};

START_TEST(edge_cases)
{
    static const struct edge e[] = {
        { "14 prefixes + NOP = 15 bytes", true, DEC_OK, 15, 15,
          { 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x90 } },
        { "15 prefixes + NOP: #GP", true, DEC_GP, 0, 16,
          { 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x90 } },
        { "13 prefixes + 0F A2 (CPUID) = 15", false, DEC_OK, 15, 15,
          { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x0f, 0xa2 } },
        { "12 prefixes + ADD [disp32],imm8: 16 bytes, #GP", true, DEC_GP, 0, 20,
          { 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x83, 0x05, 1, 2, 3, 4, 5 } },
        { "16-bit MOV AX,[BP+disp16]", false, DEC_OK, 4, 4, { 0x8b, 0x86, 0x34, 0x12 } },
        { "16-bit MOV AX,[disp16] (mod 0 rm 6)", false, DEC_OK, 4, 4, { 0x8b, 0x06, 0x34, 0x12 } },
        { "16-bit MOV AX,[BX+SI+disp8]", false, DEC_OK, 3, 3, { 0x8b, 0x40, 0x7f } },
        { "67: 32-bit address in 16-bit code", false, DEC_OK, 7, 7, { 0x67, 0x8b, 0x05, 1, 2, 3, 4 } },
        { "67: 16-bit address in 32-bit code", true, DEC_OK, 5, 5, { 0x67, 0x8b, 0x86, 0x34, 0x12 } },
        { "SIB without base: [disp32+ESI*4]", true, DEC_OK, 7, 7, { 0x8b, 0x04, 0xb5, 1, 2, 3, 4 } },
        { "SIB base EBP mod 1: [EBP+disp8]", true, DEC_OK, 4, 4, { 0x8b, 0x44, 0x25, 0x10 } },
        { "SIB no base no index: [disp32]", true, DEC_OK, 7, 7, { 0x8b, 0x04, 0x25, 1, 2, 3, 4 } },
        { "MOV EAX,moffs32", true, DEC_OK, 5, 5, { 0xa1, 1, 2, 3, 4 } },
        { "67 MOV EAX,moffs16", true, DEC_OK, 4, 4, { 0x67, 0xa1, 0x34, 0x12 } },
        { "67 MOV AX,moffs32 in 16-bit code", false, DEC_OK, 6, 6, { 0x67, 0xa1, 1, 2, 3, 4 } },
        { "ENTER Iw,Ib", true, DEC_OK, 4, 4, { 0xc8, 0x10, 0x00, 0x01 } },
        { "66 ENTER: still Iw,Ib", true, DEC_OK, 5, 5, { 0x66, 0xc8, 0x10, 0x00, 0x01 } },
        { "JMP ptr16:32", true, DEC_OK, 7, 7, { 0xea, 1, 2, 3, 4, 0x08, 0x00 } },
        { "66 JMP ptr16:16 in 32-bit code", true, DEC_OK, 6, 6, { 0x66, 0xea, 1, 2, 0x08, 0x00 } },
        { "66 CALL ptr16:32 in 16-bit code", false, DEC_OK, 8, 8, { 0x66, 0x9a, 1, 2, 3, 4, 0x08, 0x00 } },
        { "RET Iw", true, DEC_OK, 3, 3, { 0xc2, 0x08, 0x00 } },
        { "66 PUSH imm16 in 32-bit code", true, DEC_OK, 4, 4, { 0x66, 0x68, 0x34, 0x12 } },
        { "66 JMP rel16 in 32-bit code", true, DEC_OK, 4, 4, { 0x66, 0xe9, 0x34, 0x12 } },
        { "LOCK ADD [mem],reg", true, DEC_OK, 3, 3, { 0xf0, 0x01, 0x00 } },
        { "LOCK ADD reg,reg: #UD", true, DEC_UD, 0, 3, { 0xf0, 0x01, 0xc0 } },
        { "LOCK MOV: #UD", true, DEC_UD, 0, 3, { 0xf0, 0x89, 0x00 } },
        { "LEA reg,reg: #UD", true, DEC_UD, 0, 2, { 0x8d, 0xc0 } },
        { "LOCK CMP [mem],reg: #UD (CMP is not lockable)", true, DEC_UD, 0, 3, { 0xf0, 0x39, 0x00 } },
        { "MOV EAX,CR0 with mod 0 rm 5: no disp32", true, DEC_OK, 3, 7, { 0x0f, 0x20, 0x05, 1, 2, 3, 4 } },
        { "MOV DR7,EAX with mod 1 in 16-bit code: no disp8", false, DEC_OK, 3, 4, { 0x0f, 0x23, 0x78, 9 } },
        { "BSWAP ECX", true, DEC_OK, 2, 2, { 0x0f, 0xc9 } },
        { "CMPXCHG8B [EAX]", true, DEC_OK, 3, 3, { 0x0f, 0xc7, 0x08 } },
        { "truncated MOV imm32", true, DEC_TRUNC, 0, 3, { 0xb8, 1, 2 } },
        { "ADDPS xmm1,[eax+disp32]", true, DEC_OK, 7, 7, { 0x0f, 0x58, 0x88, 1, 2, 3, 4 } },
        { "66 ADDPD: 66 is the mandatory prefix", true, DEC_OK, 4, 4, { 0x66, 0x0f, 0x58, 0xc1 } },
        { "F3 66 ADDSS: F3 wins over 66", true, DEC_OK, 5, 5, { 0xf3, 0x66, 0x0f, 0x58, 0xc1 } },
        { "F2 F3 ADDSS: the last of F2/F3 wins", true, DEC_OK, 5, 5, { 0xf2, 0xf3, 0x0f, 0x58, 0xc1 } },
        { "CMPPS with imm8", true, DEC_OK, 4, 4, { 0x0f, 0xc2, 0xc1, 0x07 } },
        { "66 PSRLDQ xmm1,imm8 (group 14)", true, DEC_OK, 5, 5, { 0x66, 0x0f, 0x73, 0xd9, 4 } },
        { "0F 73 /3 without 66: no MMX PSRLDQ, #UD", true, DEC_UD, 0, 4, { 0x0f, 0x73, 0xd9, 4 } },
        { "PADDB mm", true, DEC_OK, 3, 3, { 0x0f, 0xfc, 0xc1 } },
        { "EMMS has no ModRM", true, DEC_OK, 2, 2, { 0x0f, 0x77 } },
        { "MOVNTI [eax],ecx", true, DEC_OK, 3, 3, { 0x0f, 0xc3, 0x08 } },
        { "MOVNTI register form: #UD", true, DEC_UD, 0, 3, { 0x0f, 0xc3, 0xc8 } },
        { "LFENCE", true, DEC_OK, 3, 3, { 0x0f, 0xae, 0xe8 } },
        { "CLFLUSH [eax]", true, DEC_OK, 3, 3, { 0x0f, 0xae, 0x38 } },
        { "16-bit MOVAPS xmm0,[bx+si+disp8]", false, DEC_OK, 4, 4, { 0x0f, 0x28, 0x40, 8 } },
    };
    struct oracle o;
    oracle_open(&o);
    for (size_t k = 0; k < ARRAY_SIZE(e); k++) {
        struct insn i;
        enum dec_status st = dec_decode_buf(e[k].b, e[k].n, e[k].code32, &i);
        ck_assert_msg(st == e[k].st, "%s: status %d, expected %d", e[k].what, st, e[k].st);
        if (st == DEC_OK)
            ck_assert_msg(i.len == e[k].len, "%s: length %u, expected %u", e[k].what, i.len,
                          e[k].len);
        /* Capstone agrees wherever we accept. */
        if (st == DEC_OK) {
            const u8 *code = e[k].b;
            size_t size = e[k].n;
            u64 addr = 0;
            bool ok = cs_disasm_iter(e[k].code32 ? o.h32 : o.h16, &code, &size, &addr, o.ci);
            ck_assert_msg(ok && o.ci->size == i.len, "%s: Capstone %s length %u", e[k].what,
                          ok ? "gives" : "rejects", ok ? o.ci->size : 0);
        }
    }
    oracle_close(&o);
}
END_TEST

static Suite *decode_suite(void)
{
    Suite *s = suite_create("decode_capstone");
    TCase *tc = tcase_create("lengths");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, edge_cases);
    tcase_add_test(tc, random_bytes);
    tcase_add_test(tc, table_driven);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(decode_suite());
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
