/*
 * System instructions: descriptor-table and task registers (SLDT, STR,
 * LLDT, LTR, SGDT, SIDT, LGDT, LIDT), selector probes (VERR, VERW, LAR,
 * LSL, ARPL), control registers (MOV CRn, SMSW, LMSW, CLTS), cache and TLB
 * maintenance (INVD, WBINVD, INVLPG), HLT, port I/O, and the debug
 * registers with their breakpoints.  The x87 escapes are in fpu_ops.c.
 *
 * Follows the pseudo-code of SDM vol. 2 for each instruction, vol. 3A
 * 2.5 (control registers), 3.5 (system descriptor types) and chapter 17
 * (debug registers).
 *
 * Invariants:
 *  - Instructions that are invalid outside protected mode (#UD in real and
 *    v86 mode) check that first, then privilege (#GP(0) unless CPL 0).
 *  - Every memory read or probe that can fault happens before any register
 *    or descriptor-cache change (fault first, commit last).
 *  - c->dbg_insn_armed / c->dbg_data_armed and the MMU's no-TLB pages always
 *    reflect DR0-DR3 and DR7: dr_update() runs after each write to them.
 */
#include "cpu_state.h"
#include "flags.h"
#include "mem.h"
#include "ops.h"
#include "system.h"

/* ---- shared checks ---- */

/* #UD in real-address and virtual-8086 mode. */
static void need_pmode(struct cpu *c)
{
    if (!(c->mode & MODE_PE) || (c->mode & MODE_VM86))
        cpu_ud(c);
}

/* #GP(0) unless CPL 0 (v86 mode runs at CPL 3; real mode at CPL 0). */
static void need_cpl0(struct cpu *c)
{
    if (c->cpl != 0)
        cpu_gp(c, 0);
}

static void set_zf(struct cpu *c, bool z)
{
    lf_materialize(c);
    if (z)
        c->eflags |= EFLAGS_ZF;
    else
        c->eflags &= ~EFLAGS_ZF;
}

/* Offset `ea + k` wrapped to the address size. */
static u32 ea_add(const struct insn *i, u32 ea, u32 k)
{
    ea += k;
    return i->asz == 2 ? ea & 0xffff : ea;
}

/* Store a selector-sized result: registers take the operand size
 * (zero-extended), memory always 16 bits. */
static void store_sel(struct cpu *c, const struct insn *i, u16 v)
{
    if (i->mod == 3)
        reg_write(c, i->rm, v, i->osz == 4 ? 4 : 2);
    else
        rm_write(c, i, v, 2);
}

/* CR4.UMIP: SGDT, SIDT, SLDT, SMSW and STR raise #GP(0) at CPL > 0
 * (SDM vol. 3A, 2.5; vol. 2, each instruction).  In v86 mode the CPL is 3;
 * SLDT and STR raise #UD there first. */
static void umip_check(struct cpu *c)
{
    if ((c->cr4 & CR4_UMIP) && c->cpl > 0)
        cpu_gp(c, 0);
}

/* ---- LDTR and TR ---- */

void op_sldt_Ew(struct cpu *c, const struct insn *i)
{
    need_pmode(c);
    umip_check(c);
    store_sel(c, i, c->ldtr.sel);
}

void op_str_Ew(struct cpu *c, const struct insn *i)
{
    need_pmode(c);
    umip_check(c);
    store_sel(c, i, c->tr.sel);
}

/* Read a system descriptor for LLDT/LTR: it must be in the GDT. */
static void gdt_system_desc(struct cpu *c, u16 sel, u32 *lo, u32 *hi)
{
    if ((sel & 4) || !desc_read(c, sel, lo, hi))
        cpu_gp(c, sel & 0xfffc);
}

void op_lldt_Ew(struct cpu *c, const struct insn *i)
{
    need_pmode(c);
    need_cpl0(c);
    u16 sel = (u16)rm_read(c, i, 2);
    if ((sel & 0xfffc) == 0) {
        /* A null selector leaves LDTR unusable: LDT references #GP. */
        seg_set(&c->ldtr, sel, 0, 0, 0);
        return;
    }
    u32 lo, hi;
    gdt_system_desc(c, sel, &lo, &hi);
    if ((hi & DESC_S) || DESC_TYPE(hi) != 2)
        cpu_gp(c, sel & 0xfffc);
    if (!(hi & DESC_P))
        cpu_raise(c, EXC_NP, sel & 0xfffc);
    seg_set_desc(&c->ldtr, sel, lo, hi);
}

void op_ltr_Ew(struct cpu *c, const struct insn *i)
{
    need_pmode(c);
    need_cpl0(c);
    u16 sel = (u16)rm_read(c, i, 2);
    if ((sel & 0xfffc) == 0)
        cpu_gp(c, 0);
    u32 lo, hi;
    gdt_system_desc(c, sel, &lo, &hi);
    unsigned type = DESC_TYPE(hi);
    /* Available 16-bit (1) or 32-bit (9) TSS. */
    if ((hi & DESC_S) || (type != 1 && type != 9))
        cpu_gp(c, sel & 0xfffc);
    if (!(hi & DESC_P))
        cpu_raise(c, EXC_NP, sel & 0xfffc);
    hi |= 2u << 8; /* busy */
    sys_write(c, c->gdtr.base + (sel & ~7u) + 4, hi, 4);
    seg_set_desc(&c->tr, sel, lo, hi);
}

/* ---- selector probes: VERR, VERW, LAR, LSL, ARPL ---- */

/*
 * Read the descriptor for a probe.  False (ZF = 0 for the caller) if the
 * selector is null or outside its table; never faults on the selector.
 */
static bool probe_desc(struct cpu *c, u16 sel, u32 *lo, u32 *hi)
{
    if ((sel & 0xfffc) == 0)
        return false;
    return desc_read(c, sel, lo, hi);
}

/* The privilege rule of LAR/LSL/VERR/VERW: DPL >= CPL and DPL >= RPL,
 * waived for conforming code segments. */
static bool probe_visible(const struct cpu *c, u16 sel, u32 hi)
{
    bool conforming = (hi & DESC_S) && (DESC_TYPE(hi) & 0xc) == 0xc;
    unsigned dpl = DESC_DPL(hi);
    return conforming || (dpl >= c->cpl && dpl >= (sel & 3u));
}

/* 0F 00 /4 VERR and /5 VERW: i->reg selects. */
void op_verr_Ew(struct cpu *c, const struct insn *i)
{
    need_pmode(c);
    u16 sel = (u16)rm_read(c, i, 2);
    u32 lo, hi;
    bool ok = probe_desc(c, sel, &lo, &hi) && (hi & DESC_S) && probe_visible(c, sel, hi);
    if (ok) {
        unsigned type = DESC_TYPE(hi);
        if (i->reg == 4)
            ok = !(type & 8) || (type & 2); /* data, or readable code */
        else
            ok = !(type & 8) && (type & 2); /* writable data */
    }
    set_zf(c, ok);
}

/*
 * Which system descriptor types LAR (all but reserved and interrupt/trap
 * gates) and LSL (only those with a limit: TSS and LDT) accept; SDM vol. 2,
 * LAR and LSL tables, for legacy protected mode.
 */
static bool probe_system_type(unsigned type, bool lsl)
{
    switch (type) {
    case 1: case 2: case 3: case 9: case 0xb:
        return true;
    case 4: case 5: case 0xc:
        return !lsl;
    default:
        return false;
    }
}

/* 0F 02 LAR and 0F 03 LSL: i->opc selects. */
void op_lar_Gv_Ew(struct cpu *c, const struct insn *i)
{
    need_pmode(c);
    bool lsl = i->opc == 0x103;
    u16 sel = (u16)rm_read(c, i, 2);
    u32 lo, hi;
    bool ok = probe_desc(c, sel, &lo, &hi) && probe_visible(c, sel, hi) &&
              ((hi & DESC_S) || probe_system_type(DESC_TYPE(hi), lsl));
    if (ok) {
        u32 v;
        if (lsl) {
            v = (lo & 0xffff) | (hi & 0x000f0000u);
            if (hi & DESC_G)
                v = (v << 12) | 0xfff;
        } else {
            v = hi & 0x00f0ff00u;
        }
        reg_write(c, i->reg, v, i->osz);
    }
    set_zf(c, ok);
}

void op_arpl_Ew_Gw(struct cpu *c, const struct insn *i)
{
    need_pmode(c);
    u16 dst = (u16)rm_read(c, i, 2);
    u16 src = (u16)reg_read(c, i->reg, 2);
    if ((dst & 3) < (src & 3)) {
        rm_write(c, i, (dst & ~3u) | (src & 3u), 2);
        set_zf(c, true);
    } else {
        set_zf(c, false);
    }
}

/* ---- GDTR and IDTR ---- */

/* 0F 01 /0 SGDT and /1 SIDT: 16-bit limit, then a 32-bit base whose high
 * byte is stored as 0 with a 16-bit operand size. */
void op_sgdt_Ms(struct cpu *c, const struct insn *i)
{
    umip_check(c);
    const struct dtr *d = i->reg == 0 ? &c->gdtr : &c->idtr;
    u32 ea = insn_ea(c, i);
    u32 base = i->osz == 2 ? d->base & 0x00ffffffu : d->base;
    mem_probe_write(c, i->seg, ea, 6);
    mem_write(c, i->seg, ea, d->limit, 2);
    mem_write(c, i->seg, ea_add(i, ea, 2), base, 4);
}

/* 0F 01 /1: SIDT, and its register forms CLAC (0F 01 CA) and STAC (0F 01
 * CB), which clear and set EFLAGS.AC: #UD at CPL > 0, in v86 mode
 * included (SDM vol. 2, CLAC, STAC).  AC only decides supervisor access to
 * user pages under CR4.SMAP, which the TLB never caches, so nothing else
 * needs telling. */
void op_sidt_Ms(struct cpu *c, const struct insn *i)
{
    if (i->mod != 3) {
        op_sgdt_Ms(c, i);
        return;
    }
    if (c->cpl > 0)
        cpu_ud(c);
    if (i->rm == 3)
        c->eflags |= EFLAGS_AC;
    else
        c->eflags &= ~EFLAGS_AC;
}

/* 0F 01 /2 LGDT and /3 LIDT: a 16-bit operand size keeps 24 bits of base. */
void op_lgdt_Ms(struct cpu *c, const struct insn *i)
{
    need_cpl0(c);
    u32 ea = insn_ea(c, i);
    u16 limit = (u16)mem_read(c, i->seg, ea, 2);
    u32 base = mem_read(c, i->seg, ea_add(i, ea, 2), 4);
    if (i->osz == 2)
        base &= 0x00ffffffu;
    struct dtr *d = i->reg == 2 ? &c->gdtr : &c->idtr;
    d->base = base;
    d->limit = limit;
}

/* ---- control registers ---- */

/* CR0 bits a P6 implements; writes to the others are ignored. */
#define CR0_VALID (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | \
                   CR0_NW | CR0_CD | CR0_PG)
/* CR4 bits for the features CPUID advertises. */
#define CR4_VALID (CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_PGE | CR4_PCE | CR4_UMIP | \
                   CR4_SMEP | CR4_SMAP)
/* CR0 and CR4 bits the page walker depends on: changing one of them is a
 * new paging mode and flushes the TLB, global pages included (SDM 4.10.4.1).
 * Other writes (CR0.TS on every lazy-FPU switch, CR4.TSD) leave the
 * translations alone. */
#define CR0_PAGING (CR0_PE | CR0_WP | CR0_PG)
#define CR4_PAGING (CR4_PSE | CR4_PAE | CR4_PGE | CR4_SMEP | CR4_SMAP)

/* True if CR0/CR4 values select PAE paging. */
static bool pae_paging(u32 cr0, u32 cr4)
{
    return (cr0 & CR0_PG) && (cr4 & CR4_PAE);
}

/*
 * A MOV to CR0, CR3 or CR4 that loads the PDPTE registers (SDM 4.4.1)
 * raises #GP(0) and leaves the register unchanged if a PDPTE sets a
 * reserved bit.  Called before the register is committed.
 */
static void check_pdptes(struct cpu *c, u32 cr3)
{
    if (!mmu_pdptes_valid(c->mmu, cr3))
        cpu_gp(c, 0);
}

/* Tell the MMU and the mode word about new CR0/CR3/CR4 values.  The
 * PDPTEs were checked by the caller, so the MMU cannot refuse them. */
static void cr_changed(struct cpu *c)
{
    /* A -1 here means the guest edited its PDPT since the last load and
     * changed CR0.WP; the MMU logs it and walks report reserved bits. */
    (void)mmu_set_paging(c->mmu, c->cr0, c->cr3, c->cr4);
    cpu_update_mode(c);
}

static void write_cr0(struct cpu *c, u32 v)
{
    v = (v & CR0_VALID) | CR0_ET; /* ET is hard-wired to 1 since the 486 */
    if ((v & CR0_PG) && !(v & CR0_PE))
        cpu_gp(c, 0);
    if ((v & CR0_NW) && !(v & CR0_CD))
        cpu_gp(c, 0);
    u32 changed = v ^ c->cr0;
    /* Setting PG (or changing CD/NW) with CR4.PAE loads the PDPTEs. */
    bool load_pdptes = pae_paging(v, c->cr4) && (changed & (CR0_PG | CR0_CD | CR0_NW));
    if (load_pdptes)
        check_pdptes(c, c->cr3);
    c->cr0 = v;
    if ((changed & CR0_PAGING) || load_pdptes)
        cr_changed(c);
    else
        cpu_update_mode(c);
}

static void write_cr3(struct cpu *c, u32 v)
{
    /* Every bit is kept: which low bits are ignored depends on CR4.PAE,
     * which may change later (PAE uses bits 31:5 as the PDPT base). */
    if (pae_paging(c->cr0, c->cr4))
        check_pdptes(c, v);
    c->cr3 = v;
    /* Loading CR3 flushes the non-global TLB entries even when the value
     * is unchanged. */
    cr_changed(c);
}

/* CR4 bits this CPU's model allows: OSFXSR with FXSR, OSXMMEXCPT with
 * SSE (SDM vol. 3A, 2.5: setting a bit for an absent feature is #GP). */
static u32 cr4_valid(const struct cpu *c)
{
    u32 v = CR4_VALID;
    if (c->feat_edx & CPUID_EDX_FXSR)
        v |= CR4_OSFXSR;
    if (c->feat_edx & CPUID_EDX_SSE)
        v |= CR4_OSXMMEXCPT;
    return v;
}

static void write_cr4(struct cpu *c, u32 v)
{
    if (v & ~cr4_valid(c))
        cpu_gp(c, 0);
    u32 changed = v ^ c->cr4;
    if (pae_paging(c->cr0, v) && (changed & CR4_PAGING))
        check_pdptes(c, c->cr3);
    c->cr4 = v;
    if (changed & CR4_PAGING)
        cr_changed(c);
}

void cpu_write_cr(struct cpu *c, unsigned n, u32 v)
{
    switch (n) {
    case 0: write_cr0(c, v); break;
    case 2: c->cr2 = v; break;
    case 3: write_cr3(c, v); break;
    case 4: write_cr4(c, v); break;
    default: cpu_ud(c);
    }
}

void op_smsw_Ew(struct cpu *c, const struct insn *i)
{
    umip_check(c);
    /* A 32-bit register destination receives all of CR0, as P6 does. */
    if (i->mod == 3 && i->osz == 4)
        reg_write(c, i->rm, c->cr0, 4);
    else
        rm_write(c, i, c->cr0 & 0xffff, 2);
}

/* LMSW loads PE, MP, EM, TS; it can set PE but never clear it. */
void op_lmsw_Ew(struct cpu *c, const struct insn *i)
{
    need_cpl0(c);
    u32 v = rm_read(c, i, 2) & 0xf;
    write_cr0(c, (c->cr0 & ~0xeu) | v);
}

void op_clts(struct cpu *c, const struct insn *i)
{
    (void)i;
    need_cpl0(c);
    c->cr0 &= ~CR0_TS;
}

/* 0F 20: MOV r32, CRn (i->reg = n, i->rm = the register). */
void op_mov_Rd_Cd(struct cpu *c, const struct insn *i)
{
    need_cpl0(c);
    u32 v;
    switch (i->reg) {
    case 0: v = c->cr0; break;
    case 2: v = c->cr2; break;
    case 3: v = c->cr3; break;
    case 4: v = c->cr4; break;
    default: cpu_ud(c);
    }
    reg_write(c, i->rm, v, 4);
}

/* 0F 22: MOV CRn, r32. */
void op_mov_Cd_Rd(struct cpu *c, const struct insn *i)
{
    need_cpl0(c);
    cpu_write_cr(c, i->reg, c->r[i->rm]);
}

/* ---- caches, TLB, HLT ---- */

/* 0F 08 INVD and 0F 09 WBINVD: there are no caches to write back. */
void op_wbinvd(struct cpu *c, const struct insn *i)
{
    (void)i;
    need_cpl0(c);
}

/* 0F 01 /7: INVLPG m.  The operand is never accessed, so neither limit
 * nor rights are checked; the page holding its linear address loses its
 * translation, global or not (SDM vol. 2, INVLPG). */
void op_invlpg_M(struct cpu *c, const struct insn *i)
{
    need_cpl0(c);
    mmu_invlpg(c->mmu, c->seg[i->seg].base + insn_ea(c, i));
}

void op_hlt(struct cpu *c, const struct insn *i)
{
    (void)i;
    need_cpl0(c);
    c->halted = true;
}

/* ---- port I/O ---- */

/* E4/E5 take the port from the immediate, EC/ED from DX. */
static u16 io_port(const struct cpu *c, const struct insn *i)
{
    return (i->opc & 8) ? (u16)c->r[R_EDX] : (u16)(i->imm & 0xff);
}

void op_in(struct cpu *c, const struct insn *i)
{
    u16 port = io_port(c, i);
    io_check(c, port, i->osz);
    reg_write(c, R_EAX, mmu_io_read(c->mmu, port, i->osz), i->osz);
}

void op_out(struct cpu *c, const struct insn *i)
{
    u16 port = io_port(c, i);
    io_check(c, port, i->osz);
    mmu_io_write(c->mmu, port, reg_read(c, R_EAX, i->osz), i->osz);
}

/* ---- debug registers (SDM vol. 3A, 17.2) ----
 *
 *   DR7:  31-30 LEN3 29-28 R/W3 ... 19-18 LEN0 17-16 R/W0
 *         13 GD | 10 (1) | 9 GE 8 LE | 7 G3 6 L3 ... 1 G0 0 L0
 *   DR6:  15 BT 14 BS 13 BD | 3-0 B3..B0 ; bits 4-11 and 16-31 read as 1
 *   R/W:  00 execute, 01 data write, 10 I/O (unsupported), 11 data r/w
 *   LEN:  00 1 byte, 01 2 bytes, 11 4 bytes (10 undefined; taken as 8)
 */
#define DR6_BD (1u << 13)
#define DR7_GD (1u << 13)
#define DR6_FIXED 0xffff0ff0u
#define DR7_FIXED 0x00000400u

static bool dr7_enabled(u32 dr7, unsigned n) { return (dr7 >> (2 * n)) & 3; }
static unsigned dr7_rw(u32 dr7, unsigned n) { return (dr7 >> (16 + 4 * n)) & 3; }
static u32 dr7_len(u32 dr7, unsigned n)
{
    static const u8 len[4] = { 1, 2, 8, 4 };
    return len[(dr7 >> (18 + 4 * n)) & 3];
}

void dr_update(struct cpu *c)
{
    u32 dr7 = c->dr[7], pages[4 + 2 * CPU_MAX_WATCH];
    unsigned np = 0;
    c->dbg_insn_armed = c->dbg_data_armed = false;
    for (unsigned n = 0; n < 4; n++) {
        if (!dr7_enabled(dr7, n))
            continue;
        unsigned rw = dr7_rw(dr7, n);
        if (rw == 0) {
            c->dbg_insn_armed = true;
        } else if (rw == 1 || rw == 3) {
            c->dbg_data_armed = true;
            pages[np++] = (c->dr[n] & ~(dr7_len(dr7, n) - 1)) & PAGE_MASK;
        }
    }
    /* The debugger's watchpoints: both pages of a range that straddles. */
    for (unsigned k = 0; k < c->n_watch; k++) {
        pages[np++] = c->watch[k].lin & PAGE_MASK;
        pages[np++] = (c->watch[k].lin + c->watch[k].len - 1) & PAGE_MASK;
        c->dbg_data_armed = true;
    }
    mmu_set_nofill_pages(c->mmu, pages, np);
}

void dbg_insn_check(struct cpu *c)
{
    /* RF suppresses instruction breakpoints for one instruction; clearing
     * it here rather than after the instruction lets IRET set it anew. */
    if (c->eflags & EFLAGS_RF) {
        c->eflags &= ~EFLAGS_RF;
        return;
    }
    u32 lin = c->seg[S_CS].base + c->eip, hit = 0, dr7 = c->dr[7];
    for (unsigned n = 0; n < 4; n++)
        if (dr7_enabled(dr7, n) && dr7_rw(dr7, n) == 0 && c->dr[n] == lin)
            hit |= 1u << n;
    if (hit) {
        c->dr[6] = (c->dr[6] & ~0xfu) | hit;
        cpu_raise_noerr(c, EXC_DB);
    }
}

void dbg_data_access(struct cpu *c, u32 lin, unsigned size, bool write)
{
    u32 dr7 = c->dr[7];
    for (unsigned n = 0; n < 4; n++) {
        unsigned rw = dr7_rw(dr7, n);
        if (!dr7_enabled(dr7, n) || !(rw == 3 || (rw == 1 && write)))
            continue;
        u32 len = dr7_len(dr7, n), start = c->dr[n] & ~(len - 1);
        /* Overlap of [lin, lin+size) and [start, start+len), wrap-safe. */
        if (lin - start < len || start - lin < size)
            c->dr6_pending |= 1u << n;
    }
    for (unsigned k = 0; k < c->n_watch && !c->watch_hit; k++) {
        const struct cpu_watch *w = &c->watch[k];
        if (!(write ? w->write : w->read))
            continue;
        if (lin - w->lin < w->len || w->lin - lin < size) {
            c->watch_hit = true;
            c->watch_hit_index = k;
            c->watch_hit_lin = lin;
            c->watch_hit_write = write;
            cpu_request_exit(c);
        }
    }
}

/* DR4/DR5 alias DR6/DR7 unless CR4.DE makes them undefined (#UD); with
 * DR7.GD set, any access is a #DB fault reporting BD. */
static unsigned dr_index(struct cpu *c, unsigned n)
{
    need_cpl0(c);
    if (n == 4 || n == 5) {
        if (c->cr4 & CR4_DE)
            cpu_ud(c);
        n += 2;
    }
    if (c->dr[7] & DR7_GD) {
        c->dr[6] |= DR6_BD;
        c->dr[7] &= ~DR7_GD; /* so the handler can use the registers */
        cpu_raise_noerr(c, EXC_DB);
    }
    return n;
}

/* 0F 21: MOV r32, DRn. */
void op_mov_Rd_Dd(struct cpu *c, const struct insn *i)
{
    unsigned n = dr_index(c, i->reg);
    reg_write(c, i->rm, c->dr[n], 4);
}

/* 0F 23: MOV DRn, r32. */
void op_mov_Dd_Rd(struct cpu *c, const struct insn *i)
{
    unsigned n = dr_index(c, i->reg);
    u32 v = c->r[i->rm];
    if (n == 6)
        c->dr[6] = (v & 0xe00fu) | DR6_FIXED;
    else if (n == 7)
        c->dr[7] = (v & 0xffff23ffu) | DR7_FIXED;
    else
        c->dr[n] = v;
    if (n != 6)
        dr_update(c);
}
