/*
 * Coverage of the encoding table by the interpreter: every row of
 * opcodes.def (the 386-P6 integer and system set) and opcodes_sse.def
 * (SSE and SSE2, with their mandatory prefixes) must reach a real
 * handler.  Each row is executed once per operand form on a fresh machine
 * in flat 32-bit protected mode at CPL 0, where every privileged
 * instruction is legal (SDM vol. 3A, 5.9 "Privileged instructions"), with
 * a valid GDT, IDT, TSS and LDT in memory so that a control transfer or an
 * exception has somewhere to go.
 *
 * A row passes when its first step raises no #UD (c->exc_first records the
 * first exception an instruction raised).  Placeholder handlers raise #UD,
 * so a row still on a placeholder fails, as does a row the decoder refuses.
 * Rows with fixed outcomes:
 *  - UD2, UD1, UD0 and RSM (outside SMM) must raise #UD (SDM vol. 2, UD and
 *    RSM).
 *  - x87 escapes (D8-DF): the machine has no FPU, so they run with CR0.EM
 *    set and must raise #NM (SDM vol. 3A, 2.5: "EM ... an x87 FPU
 *    instruction generates #NM").
 *  - SSE/SSE2 rows run with CR4.OSFXSR=1 on the default model (SSE2).
 *    Those that use SIMD state (SF_STATE) must also raise #UD with
 *    CR4.OSFXSR=0 and #NM with CR0.TS=1 (SDM vol. 3A, 13.1 and table 2-2);
 *    pure MMX rows must run with CR4.OSFXSR=0 and raise #NM with CR0.TS=1.
 * Forms: the register form (ModRM.mod = 3) unless the operand is memory
 * only, the memory form [EBX] unless the operand is register only (MOV
 * CRn/DRn ignore mod), and for lockable rows the LOCK-prefixed memory form.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/decode.h"
#include "cpu_state.h"
#include "mmu/mmu.h"
#include "system.h"

#define GDT_ADDR 0x500u
#define TSS_ADDR 0x600u
#define LDT_ADDR 0x700u
#define IDT_ADDR 0x800u
#define CODE_ADDR 0x1000u
#define DATA_ADDR 0x3000u
#define HANDLER_ADDR 0x7000u
#define STACK_TOP 0x8000u

enum form { FORM_NONE, FORM_REG, FORM_MEM, FORM_LOCK_MEM };
static const char *const form_name[] = { "", "reg", "mem", "lock mem" };

struct machine {
    struct counters cnt;
    struct logger log;
    struct mmu *m;
    struct cpu *c;
};

static void wr32(struct mmu *m, u32 gpa, u32 v)
{
    mmu_phys_write(m, gpa, v, 4);
}

static void put_desc(struct mmu *m, u32 gpa, u32 base, u32 limit, u32 type_bits)
{
    /* type_bits: descriptor bits 8..23 (P, DPL, S, type, G, D/B). */
    wr32(m, gpa, (limit & 0xffff) | (base << 16));
    wr32(m, gpa + 4, ((base >> 16) & 0xff) | (limit & 0xf0000) | type_bits | (base & 0xff000000u));
}

/* A flat CPL-0 machine with descriptor tables, a handler for every vector
 * (HLT), data at DATA_ADDR and a stack below STACK_TOP. */
static void machine_init(struct machine *mc)
{
    memset(&mc->cnt, 0, sizeof mc->cnt);
    log_init(&mc->log);
    mc->m = mmu_new(1u << 20, &mc->cnt, &mc->log);
    ck_assert_ptr_nonnull(mc->m);
    mc->c = cpu_new(mc->m, &mc->cnt, &mc->log);
    ck_assert_ptr_nonnull(mc->c);
    struct mmu *m = mc->m;
    struct cpu *c = mc->c;
    cpu_set_flat32(c, CODE_ADDR);

    const u32 code = DESC_P | DESC_S | DESC_DB | DESC_G | (0xbu << 8);
    const u32 data = DESC_P | DESC_S | DESC_DB | DESC_G | (0x3u << 8);
    put_desc(m, GDT_ADDR + 0x08, 0, 0xfffff, code);
    put_desc(m, GDT_ADDR + 0x10, 0, 0xfffff, data);
    put_desc(m, GDT_ADDR + 0x18, TSS_ADDR, 0x67, DESC_P | (0x9u << 8)); /* 32-bit TSS */
    put_desc(m, GDT_ADDR + 0x20, LDT_ADDR, 0x7, DESC_P | (0x2u << 8));  /* LDT */
    c->gdtr = (struct dtr){ GDT_ADDR, 0x27 };
    for (u32 v = 0; v < 256; v++) {
        wr32(m, IDT_ADDR + 8 * v, (0x08u << 16) | (HANDLER_ADDR & 0xffff));
        wr32(m, IDT_ADDR + 8 * v + 4, (HANDLER_ADDR & 0xffff0000u) | 0x8e00u);
    }
    c->idtr = (struct dtr){ IDT_ADDR, 0x7ff };
    wr32(m, TSS_ADDR + 4, STACK_TOP);  /* ESP0 */
    wr32(m, TSS_ADDR + 8, 0x10);       /* SS0 */
    wr32(m, TSS_ADDR + 0x64, 0x68u << 16); /* I/O bitmap past the limit */
    u32 lo, hi;
    lo = mmu_phys_read(m, GDT_ADDR + 0x18, 4);
    hi = mmu_phys_read(m, GDT_ADDR + 0x1c, 4) | (0x2u << 8); /* busy */
    seg_set_desc(&c->tr, 0x18, lo, hi);
    mmu_phys_write(m, HANDLER_ADDR, 0xf4, 1);

    /* Memory operand [EBX] and the stack: dwords of 0x10, a data segment
     * selector that is also a harmless value for arithmetic.  tweak()
     * puts far pointers and return frames where a row needs them. */
    for (u32 a = 0; a < 0x400; a += 4)
        wr32(m, DATA_ADDR + a, 0x10);
    for (u32 a = STACK_TOP - 0x100; a < STACK_TOP + 0x100; a += 4)
        wr32(m, a, 0x10);

    c->r[R_EAX] = 0x10;
    c->r[R_ECX] = 0;
    c->r[R_EDX] = 0;
    c->r[R_EBX] = DATA_ADDR;
    c->r[R_ESP] = STACK_TOP;
    c->r[R_EBP] = STACK_TOP;
    c->r[R_ESI] = DATA_ADDR + 0x100;
    c->r[R_EDI] = DATA_ADDR + 0x200;
    c->sysenter_cs = 0x08;
    c->sysenter_esp = STACK_TOP;
    c->sysenter_eip = HANDLER_ADDR;
}

static void machine_fini(struct machine *mc)
{
    cpu_free(mc->c);
    mmu_free(mc->m);
}

/* Per-row set-up of registers and memory so that the instruction can
 * complete rather than fault on the generic state. */
static void tweak(struct cpu *c, const struct op_row *r)
{
    struct mmu *m = c->mmu;
    switch (r->opc) {
    case 0x100:
        if (r->reg == 2) {
            c->r[R_EAX] = 0x20; /* LLDT: the LDT descriptor */
            wr32(m, DATA_ADDR, 0x20);
        }
        if (r->reg == 3) {
            c->r[R_EAX] = 0x18; /* LTR: the (available) TSS */
            wr32(m, DATA_ADDR, 0x18);
            u32 hi = (u32)mmu_phys_read(m, GDT_ADDR + 0x1c, 4) & ~(0x2u << 8);
            wr32(m, GDT_ADDR + 0x1c, hi);
        }
        break;
    case 0x122:
        c->r[R_EAX] = c->cr0; /* MOV CR0,EAX: keep the mode */
        break;
    case 0x130: case 0x132:
        c->r[R_ECX] = 0x174; /* WRMSR/RDMSR: IA32_SYSENTER_CS */
        break;
    case 0xff:
        if (r->reg == 3 || r->reg == 5) { /* far CALL/JMP m16:32 */
            wr32(m, DATA_ADDR, CODE_ADDR);
            wr32(m, DATA_ADDR + 4, 0x08);
        }
        break;
    case 0xc2: case 0xc3: case 0xca: case 0xcb: case 0xcf:
        /* RET/RETF/IRET frame: EIP, CS, EFLAGS */
        wr32(m, STACK_TOP, CODE_ADDR);
        wr32(m, STACK_TOP + 4, 0x08);
        wr32(m, STACK_TOP + 8, EFLAGS_FIXED);
        break;
    }
}

static unsigned build(const struct op_row *r, enum form f, u8 *b)
{
    unsigned n = 0;
    static const u8 mandatory[] = { [PFX_66] = 0x66, [PFX_F3] = 0xf3, [PFX_F2] = 0xf2 };
    if (f == FORM_LOCK_MEM)
        b[n++] = 0xf0;
    if (r->pfx >= PFX_66)
        b[n++] = mandatory[r->pfx];
    if (r->opc >= 0x100)
        b[n++] = 0x0f;
    b[n++] = (u8)r->opc;
    if (r->attr & OPA_MODRM) {
        unsigned reg = r->reg >= 0 ? (unsigned)r->reg : 0;
        if (r->opc == 0x8c || r->opc == 0x8e)
            reg = S_DS;
        if (f == FORM_REG)
            b[n++] = (u8)(0xc0 | reg << 3 | R_EAX);
        else
            b[n++] = (u8)(reg << 3 | R_EBX); /* [EBX] */
    }
    if (r->imm == IMM_AP) {
        /* ptr16:32 = 0008:CODE_ADDR */
        b[n++] = (u8)CODE_ADDR;
        b[n++] = (u8)(CODE_ADDR >> 8);
        b[n++] = 0;
        b[n++] = 0;
        b[n++] = 0x08;
        b[n++] = 0;
    }
    /* Any other immediate reads as zero, but AAM/AAD divide by theirs. */
    memset(b + n, 0, 8);
    if (r->opc == 0xd4 || r->opc == 0xd5)
        b[n] = 10;
    return n + 8;
}

static const char *vec_name(int v)
{
    static const char *const names[] = { "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
                                         "#DF", "?9", "#TS", "#NP", "#SS", "#GP", "#PF", "?15",
                                         "#MF", "#AC", "#MC", "#XM" };
    if (v < 0)
        return "ok";
    return v < (int)ARRAY_SIZE(names) ? names[v] : "?";
}

/* How a row runs: as the table test wants it, or with SIMD state off. */
enum setup { SET_NORMAL, SET_NO_OSFXSR, SET_TS };

/* Run one form of one row; returns the first exception vector or -1. */
static int run_form(const struct op_row *r, enum form f, bool em, enum setup set)
{
    struct machine mc;
    u8 b[32];
    machine_init(&mc);
    unsigned n = build(r, f, b);
    mmu_phys_copy_in(mc.m, CODE_ADDR, b, n);
    if (em)
        mc.c->cr0 |= CR0_EM;
    if (set != SET_NO_OSFXSR)
        mc.c->cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
    if (set == SET_TS)
        mc.c->cr0 |= CR0_TS;
    tweak(mc.c, r);
    mc.c->exc_first = -1;
    cpu_step(mc.c);
    /* The step must have retired the instruction or delivered its
     * exception, not stopped short. */
    ck_assert_msg(cpu_icount(mc.c) == 1, "%s %s: step retired nothing", r->mnem, r->operands);
    int v = mc.c->exc_first;
    machine_fini(&mc);
    return v;
}

static bool must_ud(const struct op_row *r)
{
    return !strcmp(r->mnem, "ud2") || !strcmp(r->mnem, "ud1") || !strcmp(r->mnem, "ud0") ||
           !strcmp(r->mnem, "rsm");
}

START_TEST(every_row_executes)
{
    size_t nrows;
    const struct op_row *rows = dec_rows(&nrows);
    unsigned bad = 0, forms = 0;
    char failures[8192];
    size_t flen = 0;
    failures[0] = 0;
    printf("%-10s %-10s %-6s %-9s %s\n", "mnemonic", "operands", "opcode", "form", "result");
    for (size_t k = 0; k < nrows; k++) {
        const struct op_row *r = &rows[k];
        enum form fl[3];
        unsigned nf = 0;
        if (!(r->attr & OPA_MODRM)) {
            fl[nf++] = FORM_NONE;
        } else {
            bool ignores_mod = r->opc >= 0x120 && r->opc <= 0x123;
            if (!(r->attr & OPA_MEMONLY))
                fl[nf++] = FORM_REG;
            if (!(r->attr & OPA_REGONLY) && !ignores_mod)
                fl[nf++] = FORM_MEM;
            if (r->attr & OPA_LOCK)
                fl[nf++] = FORM_LOCK_MEM;
        }
        bool fpu = r->attr & OPA_FPU;
        for (unsigned j = 0; j < nf; j++) {
            int v = run_form(r, fl[j], fpu, SET_NORMAL);
            int want_exc = fpu ? EXC_NM : must_ud(r) ? EXC_UD : -1;
            bool ok = want_exc >= 0 ? v == want_exc : v != EXC_UD;
            char opc[16];
            snprintf(opc, sizeof opc, r->opc >= 0x100 ? "0F %02X" : "%02X", r->opc & 0xff);
            char grp[8] = "";
            if (r->reg >= 0)
                snprintf(grp, sizeof grp, "/%d", r->reg);
            printf("%-10s %-10s %-6s%-3s %-9s %s%s\n", r->mnem, r->operands, opc, grp,
                   form_name[fl[j]], vec_name(v), ok ? "" : "   <-- FAIL");
            forms++;
            if (!ok) {
                bad++;
                int w = snprintf(failures + flen, sizeof failures - flen, " %s %s(%s%s,%s)=%s",
                                 r->mnem, r->operands, opc, grp, form_name[fl[j]], vec_name(v));
                if (w > 0 && flen + (size_t)w < sizeof failures)
                    flen += (size_t)w;
            }
            if (r->feat & (SF_STATE | SF_MMX)) {
                /* MMX instructions ignore CR4.OSFXSR; both obey CR0.TS. */
                int u = run_form(r, fl[j], false, SET_NO_OSFXSR);
                int t = run_form(r, fl[j], false, SET_TS);
                int want_u = (r->feat & SF_STATE) ? EXC_UD : -1;
                forms++;
                if (u != want_u || t != EXC_NM) {
                    bad++;
                    printf("%-10s %-10s OSFXSR=0: %s, TS=1: %s   <-- FAIL\n", r->mnem, r->operands,
                           vec_name(u), vec_name(t));
                }
            }
        }
    }
    printf("%u forms of %zu rows, %u failing\n", forms, nrows, bad);
    ck_assert_msg(bad == 0, "%u forms raise the wrong exception:%s", bad, failures);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("coverage");
    TCase *tc = tcase_create("encoding_table");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, every_row_executes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
