/*
 * Interrupt and exception delivery (SDM vol. 3A, 6.12 "Exception and
 * interrupt handling", 6.13 "Error code", 20.1.4 for real mode, 20.3 for
 * virtual-8086 mode; vol. 2, "INT n/INTO/INT3/INT1" pseudo-code).
 *
 * Fault first, commit last: the gate, the target code descriptor and the
 * inner stack (from the TSS) are read and checked, and every push is made
 * onto a stack that is not yet SS:ESP (struct stk), before CS, SS, ESP,
 * EIP or EFLAGS change.  A fault on the way out leaves the interrupted
 * context intact, so the run loop can deliver it (or turn it into #DF).
 */
#include "cpu_state.h"
#include "flags.h"
#include "mem.h"
#include "system.h"

/* Gate types (system descriptors, S = 0). */
enum { GATE_TASK = 5, GATE_INT16 = 6, GATE_TRAP16 = 7, GATE_INT32 = 14, GATE_TRAP32 = 15 };

static void real_mode_interrupt(struct cpu *c, unsigned vec)
{
    u32 off = vec * 4;
    if (off + 3 > c->idtr.limit)
        cpu_gp(c, 0);
    u32 ent = (u32)sys_read(c, c->idtr.base + off, 4);
    push(c, get_eflags(c), 2);
    push(c, c->seg[S_CS].sel, 2);
    push(c, c->eip, 2);
    c->eflags &= ~(EFLAGS_IF | EFLAGS_TF | EFLAGS_AC | EFLAGS_RF);
    seg_load_real(c, S_CS, (u16)(ent >> 16));
    c->eip = ent & 0xffff;
}

/* Interrupt through a task gate: switch tasks, then push the error code
 * onto the new task's stack. */
static void task_gate_interrupt(struct cpu *c, u32 glo, u32 idt_err, bool has_err, u32 err)
{
    u16 tss = (u16)(glo >> 16);
    u32 ext = idt_err & 1;
    u32 lo, hi;
    if ((tss & 4) || !desc_read(c, tss, &lo, &hi))
        cpu_gp(c, (tss & 0xfffc) | ext);
    unsigned type = DESC_TYPE(hi);
    if ((hi & DESC_S) || (type != 1 && type != 9))
        cpu_gp(c, (tss & 0xfffc) | ext);
    if (!(hi & DESC_P))
        cpu_raise(c, EXC_NP, (tss & 0xfffc) | ext);
    task_switch(c, tss, lo, hi, TASK_INT, has_err, err);
}

/*
 * Deliver through an interrupt or trap gate.  `glo`/`ghi` are the gate,
 * `ext` the EXT bit of error codes raised on the way.
 */
static void gate_interrupt(struct cpu *c, u32 glo, u32 ghi, u32 ext, bool has_err, u32 err)
{
    unsigned gtype = DESC_TYPE(ghi);
    unsigned gsz = (gtype & 8) ? 4 : 2;
    u16 sel = (u16)(glo >> 16);
    u32 off = (glo & 0xffff) | (ghi & 0xffff0000u);
    if (gsz == 2)
        off &= 0xffff;
    bool vm = cpu_vm86(c);
    u32 lo, hi;
    if ((sel & ~3u) == 0)
        cpu_gp(c, ext);
    if (!desc_read(c, sel, &lo, &hi))
        cpu_gp(c, (sel & 0xfffc) | ext);
    unsigned dpl = DESC_DPL(hi);
    if (!(hi & DESC_S) || !(hi & DESC_CODE) || dpl > c->cpl)
        cpu_gp(c, (sel & 0xfffc) | ext);
    if (!(hi & DESC_P))
        cpu_raise(c, EXC_NP, (sel & 0xfffc) | ext);
    bool conforming = DESC_TYPE(hi) & 4;
    bool inner = !conforming && dpl < c->cpl;
    if (vm && (!inner || dpl != 0))
        cpu_gp(c, (sel & 0xfffc) | ext);

    struct stk s;
    unsigned new_cpl = c->cpl;
    u32 fl = get_eflags(c);
    if (inner) {
        new_cpl = dpl;
        tss_inner_stack(c, dpl, ext, &s);
        if (vm) {
            stk_push(c, &s, c->seg[S_GS].sel, gsz);
            stk_push(c, &s, c->seg[S_FS].sel, gsz);
            stk_push(c, &s, c->seg[S_DS].sel, gsz);
            stk_push(c, &s, c->seg[S_ES].sel, gsz);
        }
        stk_push(c, &s, c->seg[S_SS].sel, gsz);
        stk_push(c, &s, c->r[R_ESP], gsz);
    } else {
        stk_cur(c, &s);
    }
    stk_push(c, &s, fl, gsz);
    stk_push(c, &s, c->seg[S_CS].sel, gsz);
    stk_push(c, &s, c->eip, gsz);
    if (has_err)
        stk_push(c, &s, err, gsz);
    /* The new EIP must lie inside the handler's code segment. */
    struct seg ncs;
    seg_set_desc(&ncs, sel, lo, hi);
    if (off > ncs.limit)
        cpu_gp(c, ext);
    desc_set_accessed(c, sel, hi);

    /* Commit. */
    if (vm) {
        static const unsigned data[4] = { S_ES, S_DS, S_FS, S_GS };
        for (unsigned k = 0; k < 4; k++)
            seg_set(&c->seg[data[k]], 0, 0, 0, 0);
    }
    u32 clear = EFLAGS_TF | EFLAGS_NT | EFLAGS_RF | EFLAGS_VM;
    if (!(gtype & 1))
        clear |= EFLAGS_IF; /* interrupt gate, not trap gate */
    c->eflags = (fl & ~clear) | EFLAGS_FIXED;
    c->lf_live = false;
    stk_commit(c, &s);
    seg_commit_cs(c, sel, lo, hi, new_cpl);
    c->eip = off;
}

static void pm_interrupt(struct cpu *c, unsigned vec, enum int_source src, bool has_err, u32 err)
{
    bool soft = src == INT_SOFT || src == INT_SOFT_EXC;
    u32 ext = soft ? 0 : 1;
    u32 idt_err = vec * 8 + 2 + ext;
    if (src == INT_SOFT && cpu_vm86(c) && cpu_iopl(c) < 3)
        cpu_gp(c, 0);
    if (vec * 8 + 7 > c->idtr.limit)
        cpu_gp(c, idt_err);
    u32 glo = (u32)sys_read(c, c->idtr.base + vec * 8, 4);
    u32 ghi = (u32)sys_read(c, c->idtr.base + vec * 8 + 4, 4);
    unsigned type = DESC_TYPE(ghi);
    if ((ghi & DESC_S) || (type != GATE_TASK && type != GATE_INT16 && type != GATE_TRAP16 &&
                           type != GATE_INT32 && type != GATE_TRAP32))
        cpu_gp(c, idt_err);
    if (soft && DESC_DPL(ghi) < c->cpl)
        cpu_gp(c, vec * 8 + 2);
    if (!(ghi & DESC_P))
        cpu_raise(c, EXC_NP, idt_err);
    if (type == GATE_TASK)
        task_gate_interrupt(c, glo, idt_err, has_err, err);
    else
        gate_interrupt(c, glo, ghi, ext, has_err, err);
}

void cpu_interrupt(struct cpu *c, unsigned vec, enum int_source src, bool has_err, u32 err)
{
    c->halted = false;
    if (!(c->mode & MODE_PE)) {
        real_mode_interrupt(c, vec);
        return;
    }
    pm_interrupt(c, vec, src, has_err, err);
}
