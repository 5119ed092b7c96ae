/*
 * Far control transfers: JMP/CALL ptr16:16/32 and m16:16/32, RETF, IRET
 * (SDM vol. 2 pseudo-code of CALL, JMP, RET, IRET; vol. 3A 5.8 "Privilege
 * level checking when transferring program control between code
 * segments", 5.8.5 "Stack switching", 7.3 for transfers to tasks, 20.3.3
 * for returns to virtual-8086 mode).
 *
 * Fault first, commit last: descriptors are read and checked, the values
 * to pop are read with stack_peek(), and pushes go to a struct stk, all
 * before CS, SS, ESP, EIP or EFLAGS change.
 */
#include "cpu_state.h"
#include "flags.h"
#include "mem.h"
#include "system.h"

enum { SYS_TSS16 = 1, SYS_TSS16_BUSY = 3, SYS_CALL16 = 4, SYS_TASK = 5, SYS_TSS32 = 9,
       SYS_TSS32_BUSY = 11, SYS_CALL32 = 12 };

static bool desc_conforming(u32 hi) { return DESC_TYPE(hi) & 4; }

static u32 desc_limit(u32 lo, u32 hi)
{
    u32 limit = (lo & 0xffff) | (hi & 0x000f0000u);
    return (hi & DESC_G) ? (limit << 12) | 0xfff : limit;
}

/* Read a descriptor or raise #GP(sel) (#GP(0) for a null selector). */
static void read_or_gp(struct cpu *c, u16 sel, u32 *lo, u32 *hi)
{
    if ((sel & ~3u) == 0)
        cpu_gp(c, 0);
    if (!desc_read(c, sel, lo, hi))
        cpu_gp(c, sel & 0xfffc);
}

/*
 * Check a code segment reached directly by JMP/CALL, or through a call
 * gate by JMP: conforming needs DPL <= CPL; non-conforming needs
 * DPL == CPL (and RPL <= CPL when `rpl_checked`).
 */
static void check_code_same(struct cpu *c, u16 sel, u32 hi, bool rpl_checked)
{
    if (!(hi & DESC_S) || !(hi & DESC_CODE))
        cpu_gp(c, sel & 0xfffc);
    unsigned dpl = DESC_DPL(hi);
    if (desc_conforming(hi) ? dpl > c->cpl
                            : dpl != c->cpl || (rpl_checked && (sel & 3) > c->cpl))
        cpu_gp(c, sel & 0xfffc);
    if (!(hi & DESC_P))
        cpu_raise(c, EXC_NP, sel & 0xfffc);
}

/* Switch to the task a TSS descriptor or a task gate names (JMP, CALL). */
static void far_to_task(struct cpu *c, u16 sel, u32 lo, u32 hi, enum task_reason why)
{
    unsigned dpl = DESC_DPL(hi);
    if (dpl < c->cpl || dpl < (sel & 3u))
        cpu_gp(c, sel & 0xfffc);
    if (!(hi & DESC_P))
        cpu_raise(c, EXC_NP, sel & 0xfffc);
    if (DESC_TYPE(hi) == SYS_TASK) {
        sel = (u16)(lo >> 16);
        if ((sel & 4) || !desc_read(c, sel, &lo, &hi))
            cpu_gp(c, sel & 0xfffc);
        if ((hi & DESC_S) || (DESC_TYPE(hi) != SYS_TSS16 && DESC_TYPE(hi) != SYS_TSS32))
            cpu_gp(c, sel & 0xfffc);
        if (!(hi & DESC_P))
            cpu_raise(c, EXC_NP, sel & 0xfffc);
    } else if (sel & 4) {
        cpu_gp(c, sel & 0xfffc); /* a TSS descriptor must be in the GDT */
    }
    task_switch(c, sel, lo, hi, why, false, 0);
}

/* Check a call gate (DPL against CPL and RPL, present) and read its
 * target code descriptor, which must be a present code segment. */
static void call_gate_target(struct cpu *c, u16 sel, u32 glo, u32 ghi, u16 *tsel, u32 *lo,
                             u32 *hi)
{
    unsigned gdpl = DESC_DPL(ghi);
    if (gdpl < c->cpl || gdpl < (sel & 3u))
        cpu_gp(c, sel & 0xfffc);
    if (!(ghi & DESC_P))
        cpu_raise(c, EXC_NP, sel & 0xfffc);
    *tsel = (u16)(glo >> 16);
    read_or_gp(c, *tsel, lo, hi);
    if (!(*hi & DESC_S) || !(*hi & DESC_CODE) || DESC_DPL(*hi) > c->cpl)
        cpu_gp(c, *tsel & 0xfffc);
    if (!(*hi & DESC_P))
        cpu_raise(c, EXC_NP, *tsel & 0xfffc);
}

static u32 gate_offset(u32 glo, u32 ghi)
{
    u32 off = (glo & 0xffff) | (ghi & 0xffff0000u);
    return DESC_TYPE(ghi) == SYS_CALL16 ? off & 0xffff : off;
}

/* Real-mode and virtual-8086 far transfer: CS base = selector << 4. */
static void far_real(struct cpu *c, u16 sel, u32 off)
{
    if (off > c->seg[S_CS].limit && cpu_vm86(c))
        cpu_gp(c, 0);
    seg_load_real(c, S_CS, sel);
    c->eip = off;
}

/*
 * Resolve the target of a protected-mode far JMP or CALL.  A code segment
 * is checked as a same-privilege target; a TSS or task gate switches tasks
 * (returns false); a call gate is followed to its code segment, with
 * *gate the gate's type (0 when there was no gate).  On return *sel, *off,
 * *lo and *hi describe the code segment.
 */
static bool far_target(struct cpu *c, u16 *sel, u32 *off, u32 *lo, u32 *hi,
                       enum task_reason why, unsigned *gate)
{
    *gate = 0;
    read_or_gp(c, *sel, lo, hi);
    if (*hi & DESC_S) {
        check_code_same(c, *sel, *hi, true);
        return true;
    }
    unsigned type = DESC_TYPE(*hi);
    if (type == SYS_TASK || type == SYS_TSS16 || type == SYS_TSS32) {
        far_to_task(c, *sel, *lo, *hi, why);
        return false;
    }
    if (type != SYS_CALL16 && type != SYS_CALL32)
        cpu_gp(c, *sel & 0xfffc);
    *gate = type | (*hi & 0x1f) << 8; /* type, parameter count */
    *off = gate_offset(*lo, *hi);
    call_gate_target(c, *sel, *lo, *hi, sel, lo, hi);
    return true;
}

void cpu_far_jump(struct cpu *c, u16 sel, u32 off, unsigned osz)
{
    if (osz == 2)
        off &= 0xffff;
    if (!cpu_pe(c) || cpu_vm86(c)) {
        far_real(c, sel, off);
        return;
    }
    u32 lo, hi;
    unsigned gate;
    if (!far_target(c, &sel, &off, &lo, &hi, TASK_JMP, &gate))
        return;
    if (gate) /* JMP through a gate never changes privilege. */
        check_code_same(c, sel, hi, false);
    if (off > desc_limit(lo, hi))
        cpu_gp(c, 0);
    desc_set_accessed(c, sel, hi);
    seg_commit_cs(c, sel, lo, hi, c->cpl);
    c->eip = off;
}

/* CALL through a call gate to a more privileged non-conforming segment:
 * stack switch from the TSS, parameters copied from the old stack. */
static void call_gate_inner(struct cpu *c, u16 tsel, u32 lo, u32 hi, u32 off, unsigned gsz,
                            unsigned nparam)
{
    unsigned dpl = DESC_DPL(hi);
    struct stk s;
    tss_inner_stack(c, dpl, 0, &s);
    stk_push(c, &s, c->seg[S_SS].sel, gsz);
    stk_push(c, &s, c->r[R_ESP], gsz);
    for (unsigned k = nparam; k-- > 0;)
        stk_push(c, &s, stack_peek(c, k * gsz, gsz), gsz);
    stk_push(c, &s, c->seg[S_CS].sel, gsz);
    stk_push(c, &s, c->eip, gsz);
    if (off > desc_limit(lo, hi))
        cpu_gp(c, 0);
    desc_set_accessed(c, tsel, hi);
    stk_commit(c, &s);
    seg_commit_cs(c, tsel, lo, hi, dpl);
    c->eip = off;
}

void cpu_far_call(struct cpu *c, u16 sel, u32 off, unsigned osz)
{
    if (osz == 2)
        off &= 0xffff;
    if (!cpu_pe(c) || cpu_vm86(c)) {
        u32 ret_eip = c->eip;
        u16 ret_cs = c->seg[S_CS].sel;
        struct stk s;
        stk_cur(c, &s);
        stk_push(c, &s, ret_cs, osz);
        stk_push(c, &s, ret_eip, osz);
        far_real(c, sel, off);
        c->r[R_ESP] = s.esp;
        return;
    }
    u32 lo, hi;
    unsigned gate, psz = osz;
    if (!far_target(c, &sel, &off, &lo, &hi, TASK_CALL, &gate))
        return;
    if (gate) {
        /* The gate's size sets the size of what is pushed. */
        psz = (gate & 0xff) == SYS_CALL32 ? 4 : 2;
        if (!desc_conforming(hi) && DESC_DPL(hi) < c->cpl) {
            call_gate_inner(c, sel, lo, hi, off, psz, gate >> 8);
            return;
        }
    }
    struct stk s;
    stk_cur(c, &s);
    stk_push(c, &s, c->seg[S_CS].sel, psz);
    stk_push(c, &s, c->eip, psz);
    if (off > desc_limit(lo, hi))
        cpu_gp(c, 0);
    desc_set_accessed(c, sel, hi);
    stk_commit(c, &s);
    seg_commit_cs(c, sel, lo, hi, c->cpl);
    c->eip = off;
}

/*
 * Check the CS a RETF/IRET returns to (selector `sel`): RPL >= CPL, code,
 * conforming DPL <= RPL or non-conforming DPL == RPL, present.
 */
static void check_return_cs(struct cpu *c, u16 sel, u32 *lo, u32 *hi)
{
    read_or_gp(c, sel, lo, hi);
    unsigned rpl = sel & 3, dpl = DESC_DPL(*hi);
    if (!(*hi & DESC_S) || !(*hi & DESC_CODE) || rpl < c->cpl)
        cpu_gp(c, sel & 0xfffc);
    if (desc_conforming(*hi) ? dpl > rpl : dpl != rpl)
        cpu_gp(c, sel & 0xfffc);
    if (!(*hi & DESC_P))
        cpu_raise(c, EXC_NP, sel & 0xfffc);
}

/* Check the SS popped by a return to ring `rpl` and build its cache. */
static void check_return_ss(struct cpu *c, u16 sel, unsigned rpl, struct seg *ss)
{
    u32 lo, hi;
    read_or_gp(c, sel, &lo, &hi);
    unsigned type = DESC_TYPE(hi);
    if ((sel & 3u) != rpl || DESC_DPL(hi) != rpl || !(hi & DESC_S) || (type & 8) || !(type & 2))
        cpu_gp(c, sel & 0xfffc);
    if (!(hi & DESC_P))
        cpu_raise(c, EXC_SS, sel & 0xfffc);
    desc_set_accessed(c, sel, hi);
    seg_set_desc(ss, sel, lo, hi | (1u << 8));
}

/* Where a protected-mode RETF/IRET goes, checked before anything moves. */
struct ret_target {
    u16 cs;
    u32 lo, hi, eip;
    bool outer;
    struct seg ss;
    u32 esp;
};

/*
 * Common part of RETF and IRET in protected mode.  `frame` is the size of
 * the popped EIP/CS(/EFLAGS) frame, `extra` the bytes released after it
 * (RETF imm16), and again after the outer SS:ESP are popped.  EFLAGS are
 * the caller's business (computed with the old CPL, written in between).
 */
static void return_check(struct cpu *c, struct ret_target *t, unsigned osz, u32 frame,
                         u32 extra)
{
    check_return_cs(c, t->cs, &t->lo, &t->hi);
    t->outer = (t->cs & 3u) > c->cpl;
    if (t->outer) {
        t->esp = stack_peek(c, frame + extra, osz);
        u16 ss = (u16)stack_peek(c, frame + extra + osz, osz);
        check_return_ss(c, ss, t->cs & 3u, &t->ss);
    }
    if (t->eip > desc_limit(t->lo, t->hi))
        cpu_gp(c, 0);
    desc_set_accessed(c, t->cs, t->hi);
}

static void return_commit(struct cpu *c, const struct ret_target *t, unsigned osz, u32 frame,
                          u32 extra)
{
    if (t->outer) {
        c->seg[S_SS] = t->ss;
        if (t->ss.flags & DESC_DB)
            c->r[R_ESP] = t->esp + extra;
        else
            c->r[R_ESP] = (c->r[R_ESP] & 0xffff0000u) | ((t->esp + extra) & 0xffff);
        seg_commit_cs(c, t->cs, t->lo, t->hi, t->cs & 3u);
        seg_null_outer(c);
    } else {
        set_sp(c, c->r[R_ESP] + frame + extra);
        seg_commit_cs(c, t->cs, t->lo, t->hi, c->cpl);
    }
    c->eip = t->eip;
}

void cpu_far_return(struct cpu *c, unsigned osz, u16 pop_bytes)
{
    u32 off = stack_peek(c, 0, osz);
    u16 sel = (u16)stack_peek(c, osz, osz);
    if (!cpu_pe(c) || cpu_vm86(c)) {
        far_real(c, sel, off);
        set_sp(c, c->r[R_ESP] + 2 * osz + pop_bytes);
        return;
    }
    struct ret_target t = { .cs = sel, .eip = off };
    return_check(c, &t, osz, 2 * osz, pop_bytes);
    return_commit(c, &t, osz, 2 * osz, pop_bytes);
}

/* EFLAGS bits IRET may change: IOPL only at CPL 0, IF only if CPL <= IOPL;
 * VM, VIF and VIP are left to the callers that may change them. */
static u32 iret_flag_mask(const struct cpu *c, unsigned osz)
{
    u32 m = EFLAGS_OSZAPC | EFLAGS_TF | EFLAGS_DF | EFLAGS_NT | EFLAGS_RF | EFLAGS_AC | EFLAGS_ID;
    if (c->cpl <= cpu_iopl(c))
        m |= EFLAGS_IF;
    if (c->cpl == 0)
        m |= EFLAGS_IOPL | (osz == 4 ? EFLAGS_VIF | EFLAGS_VIP : 0);
    return osz == 4 ? m : m & 0xffff;
}

/* IRET from ring 0 to virtual-8086 mode (SDM vol. 2, IRET "RETURN-TO-
 * VIRTUAL-8086-MODE"): the frame holds EIP CS EFLAGS ESP SS ES DS FS GS. */
static void iret_to_v86(struct cpu *c, u32 eip, u16 cs, u32 fl)
{
    u32 v[6];
    for (unsigned k = 0; k < 6; k++)
        v[k] = stack_peek(c, 12 + 4 * k, 4);
    if ((eip & 0xffff0000u) != 0)
        cpu_gp(c, 0);
    cpu_write_eflags(c, fl, ~0u);
    c->r[R_ESP] = v[0];
    seg_load_real(c, S_CS, cs);
    seg_load_real(c, S_SS, (u16)v[1]);
    seg_load_real(c, S_ES, (u16)v[2]);
    seg_load_real(c, S_DS, (u16)v[3]);
    seg_load_real(c, S_FS, (u16)v[4]);
    seg_load_real(c, S_GS, (u16)v[5]);
    c->eip = eip;
    cpu_update_mode(c);
}

/* IRET with NT set: return to the task in the back link of the TSS. */
static void iret_task(struct cpu *c)
{
    u16 sel = (u16)sys_read(c, c->tr.base, 2);
    u32 lo, hi;
    if ((sel & 4) || (sel & ~3u) == 0 || !desc_read(c, sel, &lo, &hi))
        cpu_raise(c, EXC_TS, sel & 0xfffc);
    unsigned type = DESC_TYPE(hi);
    if ((hi & DESC_S) || (type != SYS_TSS16_BUSY && type != SYS_TSS32_BUSY))
        cpu_raise(c, EXC_TS, sel & 0xfffc);
    if (!(hi & DESC_P))
        cpu_raise(c, EXC_NP, sel & 0xfffc);
    task_switch(c, sel, lo, hi, TASK_IRET, false, 0);
}

void cpu_iret(struct cpu *c, unsigned osz)
{
    if (cpu_vm86(c) && cpu_iopl(c) < 3)
        cpu_gp(c, 0);
    if (cpu_pe(c) && !cpu_vm86(c) && (c->eflags & EFLAGS_NT)) {
        iret_task(c);
        c->nmi_blocked = false;
        return;
    }
    u32 eip = stack_peek(c, 0, osz);
    u16 cs = (u16)stack_peek(c, osz, osz);
    u32 fl = stack_peek(c, 2 * osz, osz);
    if (!cpu_pe(c) || cpu_vm86(c)) {
        /* Real mode: every flag but VM/VIF/VIP; v86 (IOPL 3): not IOPL. */
        u32 mask = cpu_vm86(c) ? EFLAGS_MASK & ~(EFLAGS_IOPL | EFLAGS_VM | EFLAGS_VIF | EFLAGS_VIP)
                               : EFLAGS_MASK & ~(EFLAGS_VM | EFLAGS_VIF | EFLAGS_VIP);
        if (osz == 2)
            mask &= 0xffff;
        far_real(c, cs, eip);
        set_sp(c, c->r[R_ESP] + 3 * osz);
        cpu_write_eflags(c, fl, mask);
        c->nmi_blocked = false;
        return;
    }
    if (osz == 4 && (fl & EFLAGS_VM) && c->cpl == 0) {
        iret_to_v86(c, eip, cs, fl);
        c->nmi_blocked = false;
        return;
    }
    struct ret_target t = { .cs = cs, .eip = eip };
    return_check(c, &t, osz, 3 * osz, 0);
    /* Flags use the CPL of the interrupted-from side, i.e. the old CPL. */
    cpu_write_eflags(c, fl, iret_flag_mask(c, osz));
    return_commit(c, &t, osz, 3 * osz, 0);
    c->nmi_blocked = false;
}
