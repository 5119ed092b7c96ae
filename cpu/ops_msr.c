/*
 * Processor identification and model-specific registers: CPUID, RDMSR,
 * WRMSR, RDTSC, RDPMC, SYSENTER and SYSEXIT, for a P6-family processor
 * (SDM vol. 2 pseudo-code; vol. 3A 9.11 for the MTRRs, 17.17 for the
 * time-stamp counter; vol. 4 for the MSR numbers).
 *
 * CPUID describes the selected model (-cpu NAME, the table below) but
 * reports only what the emulator implements (IMPL_*): no MCE, MCA, VME
 * or PSE-36, so software never enables them; PAT and the MTRRs are
 * registers that read back what was written (memory types change nothing
 * in an emulator); the APIC bit only when the board has a local APIC
 * (cpu_set_apic_present).  PAE paging, execute-disable (EFER.NXE,
 * extended leaf 0x80000001), MMX, FXSR, SSE, SSE2 and CLFLUSH are
 * implemented, and so are SMEP, SMAP (with STAC/CLAC) and UMIP (leaf 7),
 * which only -cpu max reports, as none of the modelled processors had them.
 *
 * MSR storage in struct cpu: c->mtrr[0..15] hold the variable-range pairs
 * (0x200-0x20F), c->mtrr[16..26] the eleven fixed-range MTRRs.
 */
#include <string.h>

#include "cpu_state.h"
#include "mem.h"
#include "ops.h"
#include "system.h"

/* ---- CPUID ---- */

/* The highest basic leaf: 7 for a model with leaf-7 features, else 2. */
static u32 max_basic_leaf(const struct cpu_model *m);

/* Leaf 1 EDX feature bits (SDM vol. 2, CPUID, table 3-11). */
#define FEAT_FPU (1u << 0)
#define FEAT_VME (1u << 1)
#define FEAT_DE (1u << 2)
#define FEAT_PSE (1u << 3)
#define FEAT_TSC (1u << 4)
#define FEAT_MSR (1u << 5)
#define FEAT_PAE (1u << 6)
#define FEAT_MCE (1u << 7)
#define FEAT_CX8 (1u << 8)
#define FEAT_APIC (1u << 9)
#define FEAT_SEP (1u << 11)
#define FEAT_MTRR (1u << 12)
#define FEAT_PGE (1u << 13)
#define FEAT_MCA (1u << 14)
#define FEAT_CMOV (1u << 15)
#define FEAT_PAT (1u << 16)
#define FEAT_PSE36 (1u << 17)
#define FEAT_CLFSH (1u << 19)
#define FEAT_MMX (1u << 23)
#define FEAT_FXSR (1u << 24)
#define FEAT_SSE (1u << 25)
#define FEAT_SSE2 (1u << 26)
/* Leaf 1 ECX: SSE3. */
#define FEAT_ECX_SSE3 (1u << 0)

/* What Umbra implements: CPUID reports a model's bits masked with these,
 * so adding a feature to the CPU means adding its bit here. */
#define IMPL_EDX (FEAT_FPU | FEAT_DE | FEAT_PSE | FEAT_TSC | FEAT_MSR | FEAT_PAE | FEAT_CX8 | \
                  FEAT_APIC | FEAT_SEP | FEAT_MTRR | FEAT_PGE | FEAT_CMOV | FEAT_CLFSH |      \
                  FEAT_MMX | FEAT_FXSR | FEAT_SSE | FEAT_SSE2 | FEAT_PAT)
#define IMPL_ECX 0u
#define IMPL_EXT_EDX EXT_FEAT_NX

/* ---- protection features (leaf 7, subleaf 0) ---- */
#define FEAT7_EBX_SMEP (1u << 7)
#define FEAT7_EBX_SMAP (1u << 20)
#define FEAT7_ECX_UMIP (1u << 2)
#define IMPL7_EBX (FEAT7_EBX_SMEP | FEAT7_EBX_SMAP)
#define IMPL7_ECX FEAT7_ECX_UMIP
/* ---- end protection features ---- */

/* Extended leaves: 0x80000001 EDX bit 20 is execute-disable. */
#define EXT_FEAT_NX (1u << 20)

/* The P6 bus, as QEMU's models have it (target/i386/cpu.c feature sets);
 * the sets below are the real parts' CPUID.1:EDX. */
#define P2_EDX (FEAT_FPU | FEAT_VME | FEAT_DE | FEAT_PSE | FEAT_TSC | FEAT_MSR | FEAT_MCE | \
                FEAT_CX8 | FEAT_MMX | FEAT_APIC | FEAT_PAE | FEAT_SEP | FEAT_MTRR |          \
                FEAT_PGE | FEAT_MCA | FEAT_CMOV | FEAT_PAT | FEAT_PSE36 | FEAT_FXSR)
#define QEMU32_EDX (FEAT_FPU | FEAT_DE | FEAT_PSE | FEAT_TSC | FEAT_MSR | FEAT_MCE | FEAT_CX8 | \
                    FEAT_PGE | FEAT_CMOV | FEAT_PAT | FEAT_FXSR | FEAT_MMX | FEAT_SSE |        \
                    FEAT_SSE2 | FEAT_PAE | FEAT_SEP | FEAT_APIC)
#define P4_EDX (P2_EDX | FEAT_CLFSH | FEAT_SSE | FEAT_SSE2)

/* Default first.  Each model's bits are the real processor's; CPUID masks
 * them with IMPL_*.  PAT and the other bits the CPU lacks today appear as
 * soon as IMPL_EDX grows. */
static const struct cpu_model models[] = {
    /* qemu32's bits with MTRR and CLFLUSH, as family 6 model 15 (the
     * Core 2's): Linux leaves PAT off on P6 models below 15 for their
     * errata (arch/x86/kernel/cpu/intel.c). */
    { "umbra", "P6-family processor with SSE2 (default)", 0x000006fbu, 0x0800u,
      QEMU32_EDX | FEAT_MTRR | FEAT_CLFSH, 0, EXT_FEAT_NX, "Umbra", 0, 0 },
    { "pentium2", "Pentium II (no SSE)", 0x00000652u, 0, P2_EDX, 0, EXT_FEAT_NX, NULL, 0, 0 },
    { "pentium3", "Pentium III (SSE)", 0x00000673u, 0, P2_EDX | FEAT_SSE, 0, EXT_FEAT_NX, NULL, 0,
      0 },
    { "pentium4", "Pentium 4 (SSE2)", 0x00000f29u, 0x0800u, P4_EDX, 0, EXT_FEAT_NX,
      "Intel(R) Pentium(R) 4 CPU", 0, 0 },
    { "qemu32", "QEMU's generic 32-bit CPU (SSE2)", 0x00000663u, 0, QEMU32_EDX,
      FEAT_ECX_SSE3, EXT_FEAT_NX, "QEMU Virtual CPU version 2.5+", 0, 0 },
    { "max", "everything Umbra implements", 0x000006fbu, 0x0800u, ~0u, ~0u, ~0u, "Umbra", ~0u,
      ~0u },
};

static u32 max_basic_leaf(const struct cpu_model *m)
{
    return (m->ebx7 & IMPL7_EBX) || (m->ecx7 & IMPL7_ECX) ? 7u : 2u;
}

const struct cpu_model *cpu_models(size_t *n)
{
    *n = ARRAY_SIZE(models);
    return models;
}

const struct cpu_model *cpu_model_find(const char *name)
{
    for (size_t k = 0; k < ARRAY_SIZE(models); k++)
        if (!strcmp(models[k].name, name))
            return &models[k];
    return NULL;
}

u32 cpu_feature_edx(const struct cpu *c)
{
    u32 v = c->model->edx1 & IMPL_EDX;
    return c->apic_present ? v : v & ~FEAT_APIC;
}

void cpu_set_model(struct cpu *c, const struct cpu_model *m)
{
    c->model = m ? m : &models[0];
    c->feat_edx = cpu_feature_edx(c);
}

void cpu_set_apic_present(struct cpu *c, bool present)
{
    c->apic_present = present;
    c->feat_edx = cpu_feature_edx(c);
}

static u32 max_ext_leaf(const struct cpu_model *m)
{
    return m->brand ? 0x80000004u : 0x80000001u;
}

/* Leaves 0x80000002-4: the brand string, NUL-padded to 48 bytes. */
static void cpuid_brand(const struct cpu_model *m, u32 leaf, u32 out[4])
{
    char b[48] = { 0 };
    size_t n = strlen(m->brand);
    memcpy(b, m->brand, n < 47 ? n : 47);
    memcpy(out, b + 16 * (leaf - 0x80000002u), 16);
}

static void cpuid_basic(const struct cpu *c, u32 leaf, u32 out[4])
{
    switch (leaf) {
    case 0:
        out[0] = max_basic_leaf(c->model);
        out[1] = 0x756e6547; /* "Genu" */
        out[3] = 0x49656e69; /* "ineI" */
        out[2] = 0x6c65746e; /* "ntel" */
        break;
    case 1:
        out[0] = c->model->signature;
        /* CLFLUSH line size only with CLFSH (SDM table 3-8, EBX 15:8). */
        out[1] = (c->feat_edx & FEAT_CLFSH) ? c->model->ebx1 : 0;
        out[2] = c->model->ecx1 & IMPL_ECX;
        out[3] = c->feat_edx;
        break;
    case 2:
        /* Leaf 2 as a Pentium II reports it: one iteration (AL = 1); 32/64
         * entry 4K I/D TLBs, 4M TLBs, 16K L1 I and D, 512K L2. */
        out[0] = 0x03020101;
        out[1] = out[2] = 0;
        out[3] = 0x0c040843;
        break;
    case 7:
        /* Subleaf 0 (ECX) lists the features; it is the only one. */
        out[0] = out[3] = 0;
        out[1] = c->r[R_ECX] == 0 ? c->model->ebx7 & IMPL7_EBX : 0;
        out[2] = c->r[R_ECX] == 0 ? c->model->ecx7 & IMPL7_ECX : 0;
        break;
    default:
        out[0] = out[1] = out[2] = out[3] = 0;
        break;
    }
}

void op_cpuid(struct cpu *c, const struct insn *i)
{
    (void)i;
    u32 leaf = c->r[R_EAX], out[4] = { 0, 0, 0, 0 };
    const struct cpu_model *m = c->model;
    if (leaf >= 0x80000000u) {
        /* Leaf 0x80000000 gives the maximum extended leaf; 0x80000001
         * the NX bit; 0x80000002-4 the brand string if the model has one.
         * Everything else is 0. */
        if (leaf == 0x80000000u)
            out[0] = max_ext_leaf(m);
        else if (leaf == 0x80000001u)
            out[3] = m->ext_edx & IMPL_EXT_EDX;
        else if (leaf <= max_ext_leaf(m))
            cpuid_brand(m, leaf, out);
    } else {
        /* Leaves past the maximum return the highest basic leaf. */
        u32 max = max_basic_leaf(m);
        cpuid_basic(c, leaf > max ? max : leaf, out);
    }
    c->r[R_EAX] = out[0];
    c->r[R_EBX] = out[1];
    c->r[R_ECX] = out[2];
    c->r[R_EDX] = out[3];
}

/* ---- MSRs ---- */

enum {
    MSR_TSC = 0x10,
    MSR_PLATFORM_ID = 0x17,
    MSR_APIC_BASE = 0x1b,
    MSR_BIOS_SIGN_ID = 0x8b,
    MSR_MTRRCAP = 0xfe,
    MSR_SYSENTER_CS = 0x174,
    MSR_SYSENTER_ESP = 0x175,
    MSR_SYSENTER_EIP = 0x176,
    MSR_MISC_ENABLE = 0x1a0,
    MSR_MTRR_PHYS = 0x200, /* 0x200-0x20f: base/mask pairs */
    MSR_MTRR_FIX64K = 0x250,
    MSR_MTRR_FIX16K = 0x258, /* 0x258-0x259 */
    MSR_MTRR_FIX4K = 0x268,  /* 0x268-0x26f */
    MSR_PAT = 0x277,
    MSR_MTRR_DEF_TYPE = 0x2ff,
    /* MSR_EFER (0xC0000080) comes from mmu/paging.h */
};

/* MTRRcap: 8 variable ranges, fixed ranges, write-combining. */
#define MTRRCAP_VALUE 0x508u

/* Slot in c->mtrr for an MTRR MSR, or -1. */
static int mtrr_slot(u32 msr)
{
    if (msr >= MSR_MTRR_PHYS && msr < MSR_MTRR_PHYS + 16)
        return (int)(msr - MSR_MTRR_PHYS);
    if (msr == MSR_MTRR_FIX64K)
        return 16;
    if (msr == MSR_MTRR_FIX16K || msr == MSR_MTRR_FIX16K + 1)
        return 17 + (int)(msr - MSR_MTRR_FIX16K);
    if (msr >= MSR_MTRR_FIX4K && msr < MSR_MTRR_FIX4K + 8)
        return 19 + (int)(msr - MSR_MTRR_FIX4K);
    return -1;
}

/* Memory types an MTRR may hold: UC, WC, WT, WP, WB. */
static bool mtrr_type_ok(u64 t) { return t == 0 || t == 1 || t == 4 || t == 5 || t == 6; }

/* IA32_PAT (SDM vol. 3A, 11.12.2): eight 8-bit entries PA0-PA7, each a
 * 3-bit memory type (UC, WC, WT, WP, WB or 7 = UC-) with bits 7:3
 * reserved; a reserved type or bit makes WRMSR raise #GP(0). */
static bool pat_value_ok(u64 v)
{
    for (unsigned k = 0; k < 8; k++) {
        u64 t = (v >> (8 * k)) & 0xff;
        if (t != 7 && !mtrr_type_ok(t))
            return false;
    }
    return true;
}

/* Reserved-bit and type checks of SDM vol. 3A 11.11 (36-bit physical
 * addresses).  False means WRMSR raises #GP(0). */
static bool mtrr_value_ok(int slot, u64 v)
{
    if (slot < 16) {
        if (slot & 1) /* PhysMask: bits 35-12 and V (bit 11) */
            return !(v & ~0xffffff800ull);
        return !(v & ~0xffffff0ffull) && mtrr_type_ok(v & 0xff);
    }
    for (unsigned k = 0; k < 8; k++)
        if (!mtrr_type_ok((v >> (8 * k)) & 0xff))
            return false;
    return true;
}

static u64 tsc_base(const struct cpu *c)
{
    return c->cb.tsc_base ? c->cb.tsc_base(c->cb.opaque) : c->icount;
}

static u64 tsc_now(const struct cpu *c) { return tsc_base(c) + c->tsc_offset; }

void op_rdmsr(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (c->cpl != 0)
        cpu_gp(c, 0);
    u32 msr = c->r[R_ECX];
    int slot = mtrr_slot(msr);
    u64 v;
    if (slot >= 0) {
        v = c->mtrr[slot];
    } else {
        switch (msr) {
        case MSR_TSC: v = tsc_now(c); break;
        case MSR_PLATFORM_ID: v = c->platform_id; break;
        case MSR_APIC_BASE: v = c->apic_base; break;
        case MSR_BIOS_SIGN_ID: v = c->bios_sign_id; break;
        case MSR_MTRRCAP: v = MTRRCAP_VALUE; break;
        case MSR_SYSENTER_CS: v = c->sysenter_cs; break;
        case MSR_SYSENTER_ESP: v = c->sysenter_esp; break;
        case MSR_SYSENTER_EIP: v = c->sysenter_eip; break;
        case MSR_MISC_ENABLE: v = c->misc_enable; break;
        case MSR_MTRR_DEF_TYPE: v = c->mtrr_def_type; break;
        case MSR_PAT: v = c->pat; break;
        case MSR_EFER: v = c->efer; break;
        default:
            LOG(c->log, UNIMP, "rdmsr %#x", msr);
            cpu_gp(c, 0);
        }
    }
    c->r[R_EAX] = (u32)v;
    c->r[R_EDX] = (u32)(v >> 32);
}

void cpu_write_efer(struct cpu *c, u64 v)
{
    /* Without long mode or SYSCALL only NXE exists; the other bits are
     * reserved.  NXE changes what the page walker reports, so the MMU
     * drops its translations. */
    if (v & ~(u64)EFER_NXE)
        cpu_gp(c, 0);
    c->efer = v;
    mmu_set_efer(c->mmu, (u32)v);
}

void op_wrmsr(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (c->cpl != 0)
        cpu_gp(c, 0);
    u32 msr = c->r[R_ECX];
    u64 v = ((u64)c->r[R_EDX] << 32) | c->r[R_EAX];
    int slot = mtrr_slot(msr);
    if (slot >= 0) {
        if (!mtrr_value_ok(slot, v))
            cpu_gp(c, 0);
        c->mtrr[slot] = v;
        return;
    }
    switch (msr) {
    case MSR_TSC:
        /* All 64 bits (SDM vol. 3A, 17.17: "the entire 64-bit counter"
         * on processors after the P6 family's first models). */
        c->tsc_offset = v - tsc_base(c);
        break;
    case MSR_PLATFORM_ID: c->platform_id = v; break;
    case MSR_APIC_BASE:
        c->apic_base = v;
        if (c->cb.apic_base_write)
            c->cb.apic_base_write(c->cb.opaque, v);
        break;
    case MSR_BIOS_SIGN_ID: c->bios_sign_id = v; break;
    case MSR_SYSENTER_CS: c->sysenter_cs = (u32)v; break;
    case MSR_SYSENTER_ESP: c->sysenter_esp = (u32)v; break;
    case MSR_SYSENTER_EIP: c->sysenter_eip = (u32)v; break;
    case MSR_MISC_ENABLE: c->misc_enable = v; break;
    case MSR_MTRR_DEF_TYPE:
        /* E (bit 11), FE (bit 10), default type. */
        if ((v & ~0xcffull) || !mtrr_type_ok(v & 0xff))
            cpu_gp(c, 0);
        c->mtrr_def_type = v;
        break;
    case MSR_PAT:
        if (!pat_value_ok(v))
            cpu_gp(c, 0);
        c->pat = v;
        break;
    case MSR_EFER:
        cpu_write_efer(c, v);
        break;
    default:
        /* MTRRcap is read-only; everything else does not exist. */
        LOG(c->log, UNIMP, "wrmsr %#x <- %#llx", msr, (unsigned long long)v);
        cpu_gp(c, 0);
    }
}

/* ---- counters ---- */

void op_rdtsc(struct cpu *c, const struct insn *i)
{
    (void)i;
    if ((c->cr4 & CR4_TSD) && c->cpl != 0)
        cpu_gp(c, 0);
    u64 t = tsc_now(c);
    c->r[R_EAX] = (u32)t;
    c->r[R_EDX] = (u32)(t >> 32);
}

/* Two performance counters that never count. */
void op_rdpmc(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (c->cpl != 0 && !(c->cr4 & CR4_PCE))
        cpu_gp(c, 0);
    if (c->r[R_ECX] > 1)
        cpu_gp(c, 0);
    c->r[R_EAX] = 0;
    c->r[R_EDX] = 0;
}

/* ---- SYSENTER / SYSEXIT ---- */

/* Flat 4 GiB code (execute/read, accessed) and data (read/write,
 * accessed) segments of privilege `dpl`, as SYSENTER/SYSEXIT load them
 * without reading the GDT. */
static void flat_cs_ss(struct cpu *c, u16 cs, u16 ss, unsigned dpl)
{
    u32 common = DESC_P | DESC_S | DESC_DB | DESC_G | ((u32)dpl << 13);
    seg_set(&c->seg[S_CS], cs, 0, 0xffffffffu, common | (0xbu << 8));
    seg_set(&c->seg[S_SS], ss, 0, 0xffffffffu, common | (0x3u << 8));
    c->cpl = (u8)dpl;
    cpu_update_mode(c);
}

void op_sysenter(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (!(c->mode & MODE_PE) || (c->sysenter_cs & 0xfffc) == 0)
        cpu_gp(c, 0);
    c->eflags &= ~(EFLAGS_VM | EFLAGS_IF | EFLAGS_RF);
    u16 cs = (u16)(c->sysenter_cs & 0xfffc);
    flat_cs_ss(c, cs, (u16)(cs + 8), 0);
    c->r[R_ESP] = c->sysenter_esp;
    c->eip = c->sysenter_eip;
}

void op_sysexit(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (!(c->mode & MODE_PE) || (c->sysenter_cs & 0xfffc) == 0 || c->cpl != 0)
        cpu_gp(c, 0);
    u16 cs = (u16)(c->sysenter_cs + 16) | 3;
    flat_cs_ss(c, cs, (u16)(cs + 8), 3);
    c->r[R_ESP] = c->r[R_ECX];
    c->eip = c->r[R_EDX];
}

void cpu_set_mtrr_default_wb(struct cpu *c)
{
    /* SDM vol. 3A, 11.11.2.1: bit 11 E enables the MTRRs, bits 7:0 the
     * default memory type (6 = write-back). */
    c->mtrr_def_type = (1u << 11) | 6u;
}
