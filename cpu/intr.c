/*
 * Interrupt and exception delivery (SDM vol. 3A, 6.12; real mode: 20.1.4).
 */
#include "cpu_state.h"
#include "flags.h"
#include "mem.h"
#include "system.h"

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

void cpu_interrupt(struct cpu *c, unsigned vec, enum int_source src, bool has_err, u32 err)
{
    c->halted = false;
    if (!(c->mode & MODE_PE)) {
        real_mode_interrupt(c, vec);
        return;
    }
    cpu_gp(c, vec * 8 + 2);
}

void task_switch(struct cpu *c, u16 sel, u32 lo, u32 hi, enum task_reason why, bool has_err,
                 u32 err)
{
    cpu_gp(c, sel & 0xfffc);
}

void cpu_far_jump(struct cpu *c, u16 sel, u32 off, unsigned osz)
{
    if (c->mode & MODE_PE)
        cpu_gp(c, sel & 0xfffc);
    seg_load_real(c, S_CS, sel);
    c->eip = off;
}

void cpu_far_call(struct cpu *c, u16 sel, u32 off, unsigned osz)
{
    if (c->mode & MODE_PE)
        cpu_gp(c, sel & 0xfffc);
    push(c, c->seg[S_CS].sel, osz);
    push(c, c->eip, osz);
    seg_load_real(c, S_CS, sel);
    c->eip = off;
}

void cpu_far_return(struct cpu *c, unsigned osz, u16 pop_bytes)
{
    if (c->mode & MODE_PE)
        cpu_gp(c, 0);
    u32 off = pop(c, osz);
    u16 sel = (u16)pop(c, osz);
    set_sp(c, c->r[R_ESP] + pop_bytes);
    seg_load_real(c, S_CS, sel);
    c->eip = off;
}

void cpu_iret(struct cpu *c, unsigned osz)
{
    if (c->mode & MODE_PE)
        cpu_gp(c, 0);
    u32 off = pop(c, osz);
    u16 sel = (u16)pop(c, osz);
    u32 fl = pop(c, osz);
    seg_load_real(c, S_CS, sel);
    c->eip = off;
    cpu_write_eflags(c, fl, osz == 4 ? 0x257fd5u : 0x7fd5u);
}
