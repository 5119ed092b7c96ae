/*
 * System instructions: descriptor-table registers and selector probes,
 * control and debug registers with breakpoints, MSRs, CPUID, the TSC,
 * SYSENTER/SYSEXIT and the I/O permission bitmap, driven one instruction
 * at a time from flat 32-bit protected mode.
 */
#include <check.h>
#include <stdlib.h>

#include "cpu_fixture.h"
#include "system.h"

static struct fixture fx;
static void setup(void) { fx_init(&fx); }
static void teardown(void) { fx_fini(&fx); }
#define C (fx.c)
#define RUN(steps, ...)                                                       \
    ({                                                                        \
        static const u8 code_[] = { __VA_ARGS__ };                            \
        fx_run(&fx, code_, sizeof code_, (steps));                            \
    })

#define GDT_BASE 0x5000u
#define LDT_BASE 0x6000u
#define TSS_BASE 0x7000u

/* Write GDT entry `n`: `access` is the access byte, `gd` the G/D nibble. */
static void gdt_set(unsigned n, u32 base, u32 limit, u32 access, u32 gd)
{
    u32 lo = (limit & 0xffff) | (base << 16);
    u32 hi = ((base >> 16) & 0xff) | (base & 0xff000000u) | (limit & 0xf0000u) | (access << 8) |
             (gd << 20);
    fx_wr(&fx, GDT_BASE + n * 8, lo, 4);
    fx_wr(&fx, GDT_BASE + n * 8 + 4, hi, 4);
}

/*
 * 0x08 code DPL0, 0x10 data DPL0, 0x18 LDT, 0x20 available 32-bit TSS,
 * 0x28 read-only data DPL3, 0x30 execute-only code DPL0, 0x38 32-bit call
 * gate, 0x40 interrupt gate (invalid for LAR), 0x48 conforming code DPL0.
 */
static void build_gdt(void)
{
    gdt_set(1, 0, 0xfffff, 0x9b, 0xc);
    gdt_set(2, 0, 0xfffff, 0x93, 0xc);
    gdt_set(3, LDT_BASE, 0x17, 0x82, 0);
    gdt_set(4, TSS_BASE, 0x2067, 0x89, 0);
    gdt_set(5, 0x100000, 0x12345, 0xf1, 0x4);
    gdt_set(6, 0, 0xfff, 0x99, 0x4);
    gdt_set(7, 0, 0, 0x8c, 0);
    gdt_set(8, 0, 0, 0x8e, 0);
    gdt_set(9, 0, 0xfffff, 0x9f, 0xc);
    C->gdtr.base = GDT_BASE;
    C->gdtr.limit = 10 * 8 - 1;
}

START_TEST(sgdt_lgdt)
{
    fx_wr(&fx, 0x2000, 0x1234, 2);
    fx_wr(&fx, 0x2002, 0xab345678, 4);
    /* lgdt [0x2000]; sgdt [0x2010]; o16 sgdt [0x2020] */
    ck_assert_int_eq(RUN(3, 0x0f, 0x01, 0x15, 0x00, 0x20, 0x00, 0x00,
                        0x0f, 0x01, 0x05, 0x10, 0x20, 0x00, 0x00,
                        0x66, 0x0f, 0x01, 0x05, 0x20, 0x20, 0x00, 0x00), -1);
    ck_assert_uint_eq(C->gdtr.base, 0xab345678u);
    ck_assert_uint_eq(C->gdtr.limit, 0x1234);
    ck_assert_uint_eq(fx_rd(&fx, 0x2010, 2), 0x1234);
    ck_assert_uint_eq(fx_rd(&fx, 0x2012, 4), 0xab345678u);
    ck_assert_uint_eq(fx_rd(&fx, 0x2022, 4), 0x00345678u);
    /* o16 lidt [0x2000]: base masked to 24 bits */
    ck_assert_int_eq(RUN(1, 0x66, 0x0f, 0x01, 0x1d, 0x00, 0x20, 0x00, 0x00), -1);
    ck_assert_uint_eq(C->idtr.base, 0x00345678u);
    /* lgdt at CPL 3: #GP */
    C->cpl = 3;
    ck_assert_int_eq(RUN(1, 0x0f, 0x01, 0x15, 0x00, 0x20, 0x00, 0x00), EXC_GP);
}
END_TEST

START_TEST(ltr_lldt)
{
    build_gdt();
    C->r[R_EAX] = 0x20;
    C->r[R_ECX] = 0x18;
    /* ltr ax; lldt cx; str edx; sldt ebx */
    ck_assert_int_eq(RUN(4, 0x0f, 0x00, 0xd8, 0x0f, 0x00, 0xd1, 0x0f, 0x00, 0xca,
                        0x0f, 0x00, 0xc3), -1);
    ck_assert_uint_eq(C->tr.base, TSS_BASE);
    ck_assert_uint_eq(C->tr.limit, 0x2067);
    ck_assert_uint_eq(DESC_TYPE(C->tr.flags), 0xb);
    ck_assert_uint_eq((fx_rd(&fx, GDT_BASE + 0x24, 4) >> 8) & 0xf, 0xb); /* busy in the GDT */
    ck_assert_uint_eq(C->ldtr.base, LDT_BASE);
    ck_assert_uint_eq(C->r[R_EDX], 0x20);
    ck_assert_uint_eq(C->r[R_EBX], 0x18);
    /* ltr of the now busy TSS: #GP; lldt of a TSS: #GP; not present: #NP */
    ck_assert_int_eq(RUN(1, 0x0f, 0x00, 0xd8), EXC_GP);
    C->r[R_EAX] = 0x20;
    ck_assert_int_eq(RUN(1, 0x0f, 0x00, 0xd0), EXC_GP);
    gdt_set(3, LDT_BASE, 0x17, 0x02, 0);
    ck_assert_int_eq(RUN(1, 0x0f, 0x00, 0xd1), EXC_NP);
    /* lldt with a null selector empties LDTR */
    C->r[R_ECX] = 0;
    ck_assert_int_eq(RUN(1, 0x0f, 0x00, 0xd1), -1);
    ck_assert(!(C->ldtr.flags & DESC_P));
}
END_TEST

START_TEST(lar_lsl_verr_verw)
{
    build_gdt();
    static const u8 probe[] = { 0x0f, 0x02, 0xc1, /* lar eax,ecx */
                                0x9c, 0x5b,       /* pushf; pop ebx */
                                0x0f, 0x03, 0xd1, /* lsl edx,ecx */
                                0x9c, 0x5e };     /* pushf; pop esi */
    struct { u16 sel; unsigned cpl; bool lar, lsl; u32 ar, limit; } t[] = {
        { 0x28, 0, true, true, 0x0040f100, 0x12345 },
        { 0x2b, 3, true, true, 0x0040f100, 0x12345 },
        { 0x10, 3, false, false, 0, 0 },            /* DPL 0 < CPL 3 */
        { 0x20, 0, true, true, 0x00008900, 0x2067 },
        { 0x38, 0, true, false, 0x00008c00, 0 },    /* call gate: no limit */
        { 0x40, 0, false, false, 0, 0 },            /* interrupt gate */
        { 0x4b, 3, true, true, 0x00c09f00, 0xffffffffu }, /* conforming */
        { 0x50, 0, false, false, 0, 0 },            /* past the limit */
        { 0x00, 0, false, false, 0, 0 },            /* null */
    };
    for (unsigned k = 0; k < sizeof t / sizeof t[0]; k++) {
        C->cpl = (u8)t[k].cpl;
        C->r[R_ECX] = t[k].sel;
        C->r[R_EAX] = C->r[R_EDX] = 0xdeadbeef;
        /* start with ZF the opposite of LAR's answer, so it must change */
        C->lf_live = false;
        C->eflags = EFLAGS_FIXED | (t[k].lar ? 0 : EFLAGS_ZF);
        ck_assert_int_eq(fx_run(&fx, probe, sizeof probe, 6), -1);
        ck_assert_msg(((C->r[R_EBX] & EFLAGS_ZF) != 0) == t[k].lar, "lar ZF sel %x", t[k].sel);
        ck_assert_msg(((C->r[R_ESI] & EFLAGS_ZF) != 0) == t[k].lsl, "lsl ZF sel %x", t[k].sel);
        ck_assert_uint_eq(C->r[R_EAX], t[k].lar ? t[k].ar : 0xdeadbeef);
        ck_assert_uint_eq(C->r[R_EDX], t[k].lsl ? t[k].limit : 0xdeadbeef);
    }
    static const u8 ver[] = { 0x0f, 0x00, 0xe1, 0x9c, 0x5b,   /* verr cx; pushf; pop ebx */
                              0x0f, 0x00, 0xe9, 0x9c, 0x5e }; /* verw cx; pushf; pop esi */
    struct { u16 sel; bool r, w; } v[] = {
        { 0x10, true, true }, { 0x28, true, false }, { 0x08, true, false },
        { 0x30, false, false }, { 0x20, false, false }, { 0x00, false, false },
    };
    C->cpl = 0;
    for (unsigned k = 0; k < sizeof v / sizeof v[0]; k++) {
        C->r[R_ECX] = v[k].sel;
        ck_assert_int_eq(fx_run(&fx, ver, sizeof ver, 6), -1);
        ck_assert_msg(((C->r[R_EBX] & EFLAGS_ZF) != 0) == v[k].r, "verr sel %x", v[k].sel);
        ck_assert_msg(((C->r[R_ESI] & EFLAGS_ZF) != 0) == v[k].w, "verw sel %x", v[k].sel);
    }
}
END_TEST

START_TEST(arpl_and_real_mode_ud)
{
    C->r[R_EAX] = 0x1231;
    C->r[R_ECX] = 0x0003;
    ck_assert_int_eq(RUN(3, 0x63, 0xc8, 0x9c, 0x5b), -1); /* arpl ax,cx; pushf; pop ebx */
    ck_assert_uint_eq(C->r[R_EAX] & 0xffff, 0x1233);
    ck_assert(C->r[R_EBX] & EFLAGS_ZF);
    ck_assert_int_eq(RUN(3, 0x63, 0xc8, 0x9c, 0x5b), -1);
    ck_assert(!(C->r[R_EBX] & EFLAGS_ZF));
    C->cr0 &= ~CR0_PE;
    cpu_update_mode(C);
    ck_assert_int_eq(RUN(1, 0x63, 0xc8), EXC_UD);
    ck_assert_int_eq(RUN(1, 0x0f, 0x00, 0xc0), EXC_UD); /* sldt */
    ck_assert_int_eq(RUN(1, 0x0f, 0x02, 0xc1), EXC_UD); /* lar */
}
END_TEST

START_TEST(control_registers)
{
    /* mov eax,cr0; smsw ecx */
    ck_assert_int_eq(RUN(2, 0x0f, 0x20, 0xc0, 0x0f, 0x01, 0xe1), -1);
    ck_assert_uint_eq(C->r[R_EAX], C->cr0);
    ck_assert(C->r[R_EAX] & CR0_PE);
    ck_assert_uint_eq(C->r[R_ECX], C->cr0);
    /* PG without PE, NW without CD: #GP */
    C->r[R_EAX] = CR0_PG;
    ck_assert_int_eq(RUN(1, 0x0f, 0x22, 0xc0), EXC_GP);
    C->r[R_EAX] = CR0_PE | CR0_NW;
    ck_assert_int_eq(RUN(1, 0x0f, 0x22, 0xc0), EXC_GP);
    /* CR1 and CR5 do not exist */
    ck_assert_int_eq(RUN(1, 0x0f, 0x22, 0xc8), EXC_UD);
    ck_assert_int_eq(RUN(1, 0x0f, 0x20, 0xe8), EXC_UD);
    /* CR4: PSE/PGE/PAE accepted (paging is off: no PDPTE load), VME refused */
    C->r[R_EAX] = CR4_PSE | CR4_PGE;
    ck_assert_int_eq(RUN(2, 0x0f, 0x22, 0xe0, 0x0f, 0x20, 0xe3), -1);
    ck_assert_uint_eq(C->r[R_EBX], CR4_PSE | CR4_PGE);
    C->r[R_EAX] = CR4_PAE;
    ck_assert_int_eq(RUN(2, 0x0f, 0x22, 0xe0, 0x0f, 0x20, 0xe3), -1);
    ck_assert_uint_eq(C->r[R_EBX], CR4_PAE);
    C->r[R_EAX] = CR4_VME;
    ck_assert_int_eq(RUN(1, 0x0f, 0x22, 0xe0), EXC_GP);
    /* lmsw sets TS and MP but cannot clear PE; clts clears TS */
    C->r[R_EAX] = 0x000a;
    ck_assert_int_eq(RUN(1, 0x0f, 0x01, 0xf0), -1);
    ck_assert(C->cr0 & CR0_PE);
    ck_assert(C->cr0 & CR0_TS);
    ck_assert(C->cr0 & CR0_MP);
    /* with MP and TS: fwait and x87 escapes raise #NM */
    ck_assert_int_eq(RUN(1, 0x9b), EXC_NM);
    ck_assert_int_eq(RUN(1, 0xd9, 0xe8), EXC_NM);
    ck_assert_int_eq(RUN(1, 0x0f, 0x06), -1);
    ck_assert(!(C->cr0 & CR0_TS));
    ck_assert_int_eq(RUN(1, 0x9b), -1);
    ck_assert_int_eq(RUN(1, 0xd9, 0xe8), -1); /* fld1 */
    /* CPL 3: privileged */
    C->cpl = 3;
    ck_assert_int_eq(RUN(1, 0x0f, 0x20, 0xc0), EXC_GP);
    ck_assert_int_eq(RUN(1, 0x0f, 0x06), EXC_GP);
    ck_assert_int_eq(RUN(1, 0xf4), EXC_GP);
    ck_assert_int_eq(RUN(1, 0x0f, 0x09), EXC_GP);
}
END_TEST

START_TEST(cpuid_leaves)
{
    /* The model with everything implemented: leaf 7 included. */
    cpu_set_model(C, cpu_model_find("max"));
    C->r[R_EAX] = 0;
    ck_assert_int_eq(RUN(1, 0x0f, 0xa2), -1);
    ck_assert_uint_eq(C->r[R_EAX], 7);
    char v[13] = { 0 };
    memcpy(v, &C->r[R_EBX], 4);
    memcpy(v + 4, &C->r[R_EDX], 4);
    memcpy(v + 8, &C->r[R_ECX], 4);
    ck_assert_str_eq(v, "GenuineIntel");
    C->r[R_EAX] = 1;
    ck_assert_int_eq(RUN(1, 0x0f, 0xa2), -1);
    ck_assert_uint_eq((C->r[R_EAX] >> 8) & 0xf, 6);
    u32 edx = C->r[R_EDX];
    ck_assert(edx & (1u << 4));   /* TSC */
    ck_assert(edx & (1u << 11));  /* SEP */
    ck_assert(edx & (1u << 0));   /* FPU */
    ck_assert(edx & (1u << 6));   /* PAE */
    ck_assert(edx & (1u << 23));    /* MMX */
    ck_assert(edx & (1u << 24));    /* FXSR */
    ck_assert(edx & (1u << 25));    /* SSE */
    ck_assert(edx & (1u << 26));    /* SSE2 */
    C->r[R_EAX] = 2;
    ck_assert_int_eq(RUN(1, 0x0f, 0xa2), -1);
    u32 l2[4] = { C->r[R_EAX], C->r[R_EBX], C->r[R_ECX], C->r[R_EDX] };
    ck_assert_uint_eq(l2[0] & 0xff, 1);
    /* Leaf 7 subleaf 0: SMEP and SMAP in EBX, UMIP in ECX; subleaf 1 is
     * empty, and a leaf past the maximum reads as leaf 7. */
    C->r[R_EAX] = 7;
    C->r[R_ECX] = 0;
    ck_assert_int_eq(RUN(1, 0x0f, 0xa2), -1);
    ck_assert_uint_eq(C->r[R_EAX], 0);
    ck_assert_uint_eq(C->r[R_EBX], (1u << 7) | (1u << 20));
    ck_assert_uint_eq(C->r[R_ECX], 1u << 2);
    ck_assert_uint_eq(C->r[R_EDX], 0);
    C->r[R_EAX] = 0x40;
    C->r[R_ECX] = 0;
    ck_assert_int_eq(RUN(1, 0x0f, 0xa2), -1);
    ck_assert_uint_eq(C->r[R_EBX], (1u << 7) | (1u << 20));
    C->r[R_EAX] = 7;
    C->r[R_ECX] = 1;
    ck_assert_int_eq(RUN(1, 0x0f, 0xa2), -1);
    ck_assert_uint_eq(C->r[R_EBX] | C->r[R_ECX], 0);
    C->r[R_EAX] = 4;
    ck_assert_int_eq(RUN(1, 0x0f, 0xa2), -1);
    ck_assert_uint_eq(C->r[R_EAX] | C->r[R_EBX] | C->r[R_ECX] | C->r[R_EDX], 0);
    C->r[R_EAX] = 0x80000000u;
    ck_assert_int_eq(RUN(1, 0x0f, 0xa2), -1);
    ck_assert_uint_eq(C->r[R_EAX], 0x80000004u);
    C->r[R_EAX] = 0x80000001u;
    ck_assert_int_eq(RUN(1, 0x0f, 0xa2), -1);
    ck_assert(C->r[R_EDX] & (1u << 20)); /* NX */
    /* The default model's brand string, leaves 0x80000002-4. */
    char brand[49] = { 0 };
    for (u32 k = 0; k < 3; k++) {
        C->r[R_EAX] = 0x80000002u + k;
        ck_assert_int_eq(RUN(1, 0x0f, 0xa2), -1);
        u32 w[4] = { C->r[R_EAX], C->r[R_EBX], C->r[R_ECX], C->r[R_EDX] };
        memcpy(brand + 16 * k, w, 16);
    }
    ck_assert_str_eq(brand, "Umbra");
    C->r[R_EAX] = 0x80000005u;
    ck_assert_int_eq(RUN(1, 0x0f, 0xa2), -1);
    ck_assert_uint_eq(C->r[R_EAX] | C->r[R_EBX] | C->r[R_ECX] | C->r[R_EDX], 0);
}
END_TEST

START_TEST(msrs_and_tsc)
{
    /* wrmsr; rdmsr round trip on SYSENTER_EIP, an MTRR and MISC_ENABLE */
    static const u32 msr[] = { 0x176, 0x203, 0x1a0, 0x8b, 0x26f };
    static const u32 lo[] = { 0xc0001234u, 0xfff00800u, 0x1u, 0x0u, 0x06060606u };
    static const u32 hi[] = { 0, 0xf, 0, 0x33, 0x06060606u };
    for (unsigned k = 0; k < 5; k++) {
        C->r[R_ECX] = msr[k];
        C->r[R_EAX] = lo[k];
        C->r[R_EDX] = hi[k];
        /* wrmsr; mov eax,0; mov edx,0; rdmsr */
        ck_assert_int_eq(RUN(4, 0x0f, 0x30, 0xb8, 0, 0, 0, 0, 0xba, 0, 0, 0, 0, 0x0f, 0x32), -1);
        ck_assert_uint_eq(C->r[R_EAX], lo[k]);
        ck_assert_uint_eq(C->r[R_EDX], hi[k]);
    }
    /* unknown MSR, read-only MTRRcap, bad MTRR type: #GP */
    C->r[R_ECX] = 0x1234;
    ck_assert_int_eq(RUN(1, 0x0f, 0x32), EXC_GP);
    C->r[R_ECX] = 0xfe;
    ck_assert_int_eq(RUN(1, 0x0f, 0x32), -1);
    ck_assert_uint_eq(C->r[R_EAX] & 0xff, 8);
    ck_assert_int_eq(RUN(1, 0x0f, 0x30), EXC_GP);
    C->r[R_ECX] = 0x200;
    C->r[R_EAX] = 2;
    C->r[R_EDX] = 0;
    ck_assert_int_eq(RUN(1, 0x0f, 0x30), EXC_GP);
    /* EFER: NXE (bit 11) round-trips; any other bit is reserved (#GP) */
    C->r[R_ECX] = 0xc0000080u;
    C->r[R_EAX] = 1u << 11;
    C->r[R_EDX] = 0;
    ck_assert_int_eq(RUN(4, 0x0f, 0x30, 0xb8, 0, 0, 0, 0, 0xba, 0, 0, 0, 0, 0x0f, 0x32), -1);
    ck_assert_uint_eq(C->r[R_EAX], 1u << 11);
    ck_assert_uint_eq(C->efer, 1u << 11);
    C->r[R_EAX] = 1u << 8; /* LME: no long mode */
    ck_assert_int_eq(RUN(1, 0x0f, 0x30), EXC_GP);
    C->r[R_EAX] = 0;
    C->r[R_EDX] = 1;
    ck_assert_int_eq(RUN(1, 0x0f, 0x30), EXC_GP);
    ck_assert_uint_eq(C->efer, 1u << 11);
    /* rdtsc moves forward; writing the TSC sets it */
    ck_assert_int_eq(RUN(3, 0x0f, 0x31, 0x89, 0xc3, 0x0f, 0x31), -1);
    ck_assert_uint_gt(C->r[R_EAX] - C->r[R_EBX], 0);
    C->r[R_ECX] = 0x10;
    C->r[R_EAX] = 0x1000000;
    C->r[R_EDX] = 5; /* all 64 bits are written */
    ck_assert_int_eq(RUN(2, 0x0f, 0x30, 0x0f, 0x31), -1);
    ck_assert_uint_eq(C->r[R_EDX], 5);
    ck_assert_uint_eq(C->r[R_EAX], 0x1000001);
    /* CR4.TSD at CPL 3: #GP; rdmsr at CPL 3: #GP */
    C->cr4 |= CR4_TSD;
    C->cpl = 3;
    ck_assert_int_eq(RUN(1, 0x0f, 0x31), EXC_GP);
    ck_assert_int_eq(RUN(1, 0x0f, 0x32), EXC_GP);
    C->cr4 &= ~CR4_TSD;
    ck_assert_int_eq(RUN(1, 0x0f, 0x31), -1);
    ck_assert_int_eq(RUN(1, 0x0f, 0x33), EXC_GP); /* rdpmc without PCE */
}
END_TEST

START_TEST(sysenter_sysexit)
{
    C->r[R_ECX] = 0x174;
    ck_assert_int_eq(RUN(1, 0x0f, 0x34), EXC_GP); /* SYSENTER_CS = 0 */
    C->sysenter_cs = 0x0b; /* RPL bits ignored */
    C->sysenter_esp = 0x9000;
    C->sysenter_eip = 0x1100;
    C->eflags |= EFLAGS_IF;
    C->cpl = 3;
    ck_assert_int_eq(RUN(1, 0x0f, 0x34), -1);
    ck_assert_uint_eq(C->seg[S_CS].sel, 0x08);
    ck_assert_uint_eq(C->seg[S_SS].sel, 0x10);
    ck_assert_uint_eq(C->cpl, 0);
    ck_assert_uint_eq(C->eip, 0x1100);
    ck_assert_uint_eq(C->r[R_ESP], 0x9000);
    ck_assert(!(C->eflags & EFLAGS_IF));
    C->r[R_ECX] = 0x7000;
    C->r[R_EDX] = 0x1200;
    ck_assert_int_eq(RUN(1, 0x0f, 0x35), -1);
    ck_assert_uint_eq(C->seg[S_CS].sel, 0x1b);
    ck_assert_uint_eq(C->seg[S_SS].sel, 0x23);
    ck_assert_uint_eq(C->cpl, 3);
    ck_assert_uint_eq(DESC_DPL(C->seg[S_CS].flags), 3);
    ck_assert_uint_eq(C->eip, 0x1200);
    ck_assert_uint_eq(C->r[R_ESP], 0x7000);
    ck_assert(C->mode & MODE_CS32);
    ck_assert_int_eq(RUN(1, 0x0f, 0x35), EXC_GP); /* SYSEXIT at CPL 3 */
}
END_TEST

START_TEST(io_permission_bitmap)
{
    build_gdt();
    /* bitmap at TSS+0x100: all ports allowed except 0x81 and 0x3f9 */
    fx_wr(&fx, TSS_BASE + 0x66, 0x100, 2);
    fx_wr(&fx, TSS_BASE + 0x100 + 0x81 / 8, 1u << (0x81 & 7), 1);
    fx_wr(&fx, TSS_BASE + 0x100 + 0x3f9 / 8, 1u << (0x3f9 & 7), 1);
    C->r[R_EAX] = 0x20;
    ck_assert_int_eq(RUN(1, 0x0f, 0x00, 0xd8), -1); /* ltr ax */
    C->cpl = 3;
    ck_assert_int_eq(RUN(1, 0xe6, 0x80), -1);       /* out 0x80,al */
    ck_assert_int_eq(RUN(1, 0xe6, 0x81), EXC_GP);
    ck_assert_int_eq(RUN(1, 0xe7, 0x7c), -1);       /* out 0x7c,eax: 7c..7f */
    ck_assert_int_eq(RUN(1, 0xe7, 0x7e), EXC_GP);   /* 7e..81 hits 0x81 */
    C->r[R_EDX] = 0x3f8;
    ck_assert_int_eq(RUN(1, 0xee), -1);             /* out dx,al */
    ck_assert_int_eq(RUN(1, 0x66, 0xef), EXC_GP);   /* out dx,ax: 3f8..3f9 */
    /* a port whose bitmap bytes lie past the TSS limit: #GP */
    C->r[R_EDX] = 0xfff8;
    ck_assert_int_eq(RUN(1, 0xec), EXC_GP);
    /* IOPL 3 allows everything at CPL 3 */
    C->eflags |= EFLAGS_IOPL;
    ck_assert_int_eq(RUN(1, 0xe6, 0x81), -1);
}
END_TEST

START_TEST(debug_registers)
{
    /* DR4/DR5 alias DR6/DR7 until CR4.DE */
    C->r[R_EAX] = 0;
    ck_assert_int_eq(RUN(2, 0x0f, 0x21, 0xe0, 0x0f, 0x21, 0xe9), -1); /* mov eax,dr4; mov ecx,dr5 */
    ck_assert_uint_eq(C->r[R_EAX], 0xffff0ff0u);
    ck_assert_uint_eq(C->r[R_ECX], 0x400);
    C->cr4 |= CR4_DE;
    ck_assert_int_eq(RUN(1, 0x0f, 0x21, 0xe0), EXC_UD);
    C->cr4 &= ~CR4_DE;
    /* GD: the next DR access is a #DB fault with BD */
    C->r[R_EAX] = 0x2400;
    ck_assert_int_eq(RUN(2, 0x0f, 0x23, 0xf8, 0x0f, 0x21, 0xc3), EXC_DB); /* mov dr7,eax; mov ebx,dr0 */
    ck_assert(C->dr[6] & (1u << 13));
    ck_assert(!(C->dr[7] & (1u << 13)));
}
END_TEST

START_TEST(instruction_breakpoint)
{
    C->dr[0] = CODE_ADDR + 1; /* the second instruction */
    C->dr[7] = 0x401;
    dr_update(C);
    ck_assert_int_eq(RUN(2, 0x90, 0x90, 0x90), EXC_DB);
    ck_assert_uint_eq(C->dr[6] & 0xf, 1);
    /* RF suppresses it once */
    C->dr[6] = 0xffff0ff0u;
    C->eip = CODE_ADDR + 1;
    C->eflags |= EFLAGS_RF;
    C->exc_first = -1;
    C->shutdown = C->delivering = false; /* the #DB above had no IDT */
    cpu_step(C);
    ck_assert_int_eq(C->exc_first, -1);
    ck_assert_uint_eq(C->eip, CODE_ADDR + 2);
    ck_assert(!(C->eflags & EFLAGS_RF));
    ck_assert_uint_eq(C->dr[6] & 0xf, 0);
}
END_TEST

START_TEST(data_breakpoint)
{
    /* DR1: write watch on the dword at 0x3000 (LEN 11, R/W 01) */
    C->dr[1] = 0x3000;
    C->dr[7] = 0x400 | (1u << 2) | (0xdu << 20);
    dr_update(C);
    ck_assert(C->dbg_data_armed);
    /* a read does not hit a write watch; writing 0x3004 does not either */
    ck_assert_int_eq(RUN(2, 0xa0, 0x02, 0x30, 0x00, 0x00, 0xa2, 0x04, 0x30, 0x00, 0x00), -1);
    ck_assert_uint_eq(C->dr[6] & 0xf, 0);
    /* write the byte at 0x3003, twice (the page must stay out of the TLB) */
    for (int k = 0; k < 2; k++) {
        C->dr[6] = 0xffff0ff0u;
        RUN(1, 0xa2, 0x03, 0x30, 0x00, 0x00);
        ck_assert_uint_eq(C->dr[6] & 0xf, 2);
    }
    /* R/W 11 also catches reads */
    C->dr[7] = 0x400 | (1u << 2) | (0xfu << 20);
    dr_update(C);
    C->dr[6] = 0xffff0ff0u;
    RUN(1, 0x66, 0xa1, 0xff, 0x2f, 0x00, 0x00); /* mov ax,[0x2fff] */
    ck_assert_uint_eq(C->dr[6] & 0xf, 2);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cpu_system");
    TCase *t = tcase_create("system");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, sgdt_lgdt);
    tcase_add_test(t, ltr_lldt);
    tcase_add_test(t, lar_lsl_verr_verw);
    tcase_add_test(t, arpl_and_real_mode_ud);
    tcase_add_test(t, control_registers);
    tcase_add_test(t, cpuid_leaves);
    tcase_add_test(t, msrs_and_tsc);
    tcase_add_test(t, sysenter_sysexit);
    tcase_add_test(t, io_permission_bitmap);
    tcase_add_test(t, debug_registers);
    tcase_add_test(t, instruction_breakpoint);
    tcase_add_test(t, data_breakpoint);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
