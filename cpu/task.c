/*
 * Hardware task switching (SDM vol. 3A, chapter 7 "Task management",
 * 7.3 "Task switching", table 7-2 for the busy and NT rules; 7.6 for the
 * 16-bit TSS).
 *
 * The switch runs in three phases:
 *  1. checks and reads that fault in the old task's context (TSS present
 *     and large enough, the whole new TSS image read, the old state saved
 *     into the old TSS, busy bits and the back link written);
 *  2. commit: TR, CR3, EFLAGS, general registers, EIP and the raw segment
 *     selectors of the new task, CR0.TS;
 *  3. descriptor loads for LDTR and the segment registers, whose faults are
 *     raised in the new task's context (the run loop restarts from
 *     insn_eip/insn_esp, which phase 2 points at the new task).
 */
#include "cpu_state.h"
#include "flags.h"
#include "mem.h"
#include "system.h"

/* Everything a TSS holds that the switch loads. */
struct tss_image {
    u32 cr3, eip, eflags;
    u32 r[8];
    u16 seg[6];   /* ES CS SS DS FS GS */
    u16 ldt;
};

static void tss_read(struct cpu *c, u32 base, bool t32, struct tss_image *t)
{
    if (t32) {
        t->cr3 = (u32)sys_read(c, base + 0x1c, 4);
        t->eip = (u32)sys_read(c, base + 0x20, 4);
        t->eflags = (u32)sys_read(c, base + 0x24, 4);
        for (unsigned k = 0; k < 8; k++)
            t->r[k] = (u32)sys_read(c, base + 0x28 + 4 * k, 4);
        for (unsigned k = 0; k < 6; k++)
            t->seg[k] = (u16)sys_read(c, base + 0x48 + 4 * k, 2);
        t->ldt = (u16)sys_read(c, base + 0x60, 2);
    } else {
        t->cr3 = 0;
        t->eip = (u32)sys_read(c, base + 0x0e, 2);
        t->eflags = (u32)sys_read(c, base + 0x10, 2);
        for (unsigned k = 0; k < 8; k++)
            t->r[k] = (u32)sys_read(c, base + 0x12 + 2 * k, 2);
        for (unsigned k = 0; k < 4; k++)
            t->seg[k] = (u16)sys_read(c, base + 0x22 + 2 * k, 2);
        t->seg[S_FS] = t->seg[S_GS] = 0;
        t->ldt = (u16)sys_read(c, base + 0x2a, 2);
    }
}

/* Save the outgoing task's dynamic state (EIP is c->eip, set by the
 * caller to the instruction the old task resumes at). */
static void tss_save(struct cpu *c, u32 base, bool t32, u32 eflags)
{
    if (t32) {
        sys_write(c, base + 0x20, c->eip, 4);
        sys_write(c, base + 0x24, eflags, 4);
        for (unsigned k = 0; k < 8; k++)
            sys_write(c, base + 0x28 + 4 * k, c->r[k], 4);
        for (unsigned k = 0; k < 6; k++)
            sys_write(c, base + 0x48 + 4 * k, c->seg[k].sel, 2);
    } else {
        sys_write(c, base + 0x0e, c->eip & 0xffff, 2);
        sys_write(c, base + 0x10, eflags & 0xffff, 2);
        for (unsigned k = 0; k < 8; k++)
            sys_write(c, base + 0x12 + 2 * k, c->r[k] & 0xffff, 2);
        for (unsigned k = 0; k < 4; k++)
            sys_write(c, base + 0x22 + 2 * k, c->seg[k].sel, 2);
    }
}

/* Flip the busy bit (type bit 1) of TSS descriptor `sel` in the GDT. */
static void tss_set_busy(struct cpu *c, u16 sel, bool busy)
{
    u32 a = c->gdtr.base + (sel & ~7u) + 4;
    u32 hi = (u32)sys_read(c, a, 4);
    hi = busy ? hi | (2u << 8) : hi & ~(2u << 8);
    sys_write(c, a, hi, 4);
}

static NORETURN void ts_fault(struct cpu *c, u16 sel)
{
    cpu_raise(c, EXC_TS, sel & 0xfffc);
}

/* Phase 3: LDTR from the new TSS. */
static void load_ldt(struct cpu *c, u16 sel)
{
    u32 lo, hi;
    if ((sel & ~3u) == 0) {
        seg_set(&c->ldtr, sel, 0, 0, 0);
        return;
    }
    if ((sel & 4) || !desc_read(c, sel, &lo, &hi))
        ts_fault(c, sel);
    if ((hi & DESC_S) || DESC_TYPE(hi) != 2)
        ts_fault(c, sel);
    if (!(hi & DESC_P))
        ts_fault(c, sel);
    seg_set_desc(&c->ldtr, sel, lo, hi);
}

/* Phase 3: CS, whose RPL becomes the CPL. */
static void load_cs(struct cpu *c, u16 sel)
{
    u32 lo, hi;
    unsigned rpl = sel & 3;
    if ((sel & ~3u) == 0 || !desc_read(c, sel, &lo, &hi))
        ts_fault(c, sel);
    if (!(hi & DESC_S) || !(hi & DESC_CODE))
        ts_fault(c, sel);
    bool conforming = DESC_TYPE(hi) & 4;
    if (conforming ? DESC_DPL(hi) > rpl : DESC_DPL(hi) != rpl)
        ts_fault(c, sel);
    if (!(hi & DESC_P))
        cpu_raise(c, EXC_NP, sel & 0xfffc);
    desc_set_accessed(c, sel, hi);
    seg_commit_cs(c, sel, lo, hi, rpl);
}

/* Phase 3: SS and the data segment registers, checked against the new
 * CPL; faults are #TS except "not present" (#SS / #NP). */
static void load_data(struct cpu *c, unsigned s, u16 sel)
{
    u32 lo, hi;
    unsigned rpl = sel & 3, cpl = c->cpl;
    if ((sel & ~3u) == 0) {
        if (s == S_SS)
            ts_fault(c, sel);
        seg_set(&c->seg[s], sel, 0, 0, 0);
        return;
    }
    if (!desc_read(c, sel, &lo, &hi) || !(hi & DESC_S))
        ts_fault(c, sel);
    unsigned type = DESC_TYPE(hi), dpl = DESC_DPL(hi);
    if (s == S_SS) {
        if ((type & 8) || !(type & 2) || rpl != cpl || dpl != cpl)
            ts_fault(c, sel);
        if (!(hi & DESC_P))
            cpu_raise(c, EXC_SS, sel & 0xfffc);
    } else {
        if ((type & 0xa) == 0x8)
            ts_fault(c, sel);
        if ((type & 0xc) != 0xc && (rpl > dpl || cpl > dpl))
            ts_fault(c, sel);
        if (!(hi & DESC_P))
            cpu_raise(c, EXC_NP, sel & 0xfffc);
    }
    desc_set_accessed(c, sel, hi);
    seg_set_desc(&c->seg[s], sel, lo, hi | (1u << 8));
    if (s == S_SS)
        cpu_update_mode(c);
}

void task_switch(struct cpu *c, u16 sel, u32 lo, u32 hi, enum task_reason why, bool has_err,
                 u32 err)
{
    /* ---- phase 1: checks and memory traffic in the old context ---- */
    struct seg ntss;
    seg_set_desc(&ntss, sel, lo, hi);
    bool n32 = DESC_TYPE(hi) & 8;
    bool o32 = DESC_TYPE(c->tr.flags) & 8;
    if (!(hi & DESC_P))
        cpu_raise(c, EXC_NP, sel & 0xfffc);
    if (ntss.limit < (n32 ? 0x67u : 0x2bu))
        ts_fault(c, sel);
    if (c->tr.limit < (o32 ? 0x5fu : 0x29u))
        ts_fault(c, c->tr.sel);

    struct tss_image t;
    tss_read(c, ntss.base, n32, &t);

    u32 old_fl = get_eflags(c);
    if (why == TASK_IRET)
        old_fl &= ~EFLAGS_NT;
    tss_save(c, c->tr.base, o32, old_fl);
    if (why == TASK_JMP || why == TASK_IRET)
        tss_set_busy(c, c->tr.sel, false);
    if (why == TASK_CALL || why == TASK_INT) {
        sys_write(c, ntss.base, c->tr.sel, 2);
        t.eflags |= EFLAGS_NT;
    }
    if (why != TASK_IRET)
        tss_set_busy(c, sel, true);

    /* ---- phase 2: commit ---- */
    COUNT(c->cnt, cpu_task_switches);
    hi |= 2u << 8;
    seg_set_desc(&c->tr, sel, lo, hi);
    c->cr0 |= CR0_TS;
    bool bad_pdptes = false;
    if (n32) {
        /* Loading CR3 flushes the TLB even when the value is unchanged.
         * With PAE paging it also loads the PDPTEs; invalid ones are a
         * #GP(0) in the new task's context, raised once its segments are
         * loaded (below). */
        c->cr3 = t.cr3;
        bad_pdptes = mmu_set_paging(c->mmu, c->cr0, c->cr3, c->cr4) < 0;
    }
    if (!n32)
        t.eflags = (old_fl & 0xffff0000u & ~EFLAGS_VM) | (t.eflags & 0xffff);
    c->eflags = (t.eflags & EFLAGS_MASK) | EFLAGS_FIXED;
    c->lf_live = false;
    for (unsigned k = 0; k < 8; k++)
        c->r[k] = n32 ? t.r[k] : (c->r[k] & 0xffff0000u) | t.r[k];
    c->eip = t.eip;
    c->insn_eip = c->eip;
    c->insn_esp = c->r[R_ESP];
    /* Raw selectors first, so a fault below reports the new task's state. */
    for (unsigned k = 0; k < 6; k++)
        c->seg[k].sel = t.seg[k];
    c->ldtr.sel = t.ldt;

    /* ---- phase 3: descriptor loads, faulting in the new context ---- */
    if (c->eflags & EFLAGS_VM) {
        cpu_update_mode(c);
        load_ldt(c, t.ldt);
        for (unsigned k = 0; k < 6; k++)
            seg_load_real(c, k, t.seg[k]);
    } else {
        c->cpl = t.seg[S_CS] & 3;
        cpu_update_mode(c);
        load_ldt(c, t.ldt);
        load_cs(c, t.seg[S_CS]);
        load_data(c, S_SS, t.seg[S_SS]);
        load_data(c, S_DS, t.seg[S_DS]);
        load_data(c, S_ES, t.seg[S_ES]);
        load_data(c, S_FS, t.seg[S_FS]);
        load_data(c, S_GS, t.seg[S_GS]);
    }
    if (bad_pdptes)
        cpu_gp(c, 0);
    if (has_err) {
        struct stk s;
        stk_cur(c, &s);
        stk_push(c, &s, err, n32 ? 4 : 2);
        stk_commit(c, &s);
    }
    if (c->eip > c->seg[S_CS].limit)
        cpu_gp(c, 0);
}
