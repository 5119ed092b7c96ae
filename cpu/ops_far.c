/*
 * Far transfers and software interrupts: the instruction handlers
 * (SDM vol. 2: CALL, JMP, RET, INT n/INTO/INT3/INT1, IRET).  The
 * privilege and task rules live in far.c, intr.c and task.c.
 */
#include "cpu_state.h"
#include "flags.h"
#include "mem.h"
#include "ops.h"
#include "system.h"

void op_call_Ap(struct cpu *c, const struct insn *i)
{
    cpu_far_call(c, (u16)i->imm2, i->imm, i->osz);
}

void op_jmp_Ap(struct cpu *c, const struct insn *i)
{
    cpu_far_jump(c, (u16)i->imm2, i->imm, i->osz);
}

/* m16:16 / m16:32: the offset first, then the selector. */
static void read_far_ptr(struct cpu *c, const struct insn *i, u16 *sel, u32 *off)
{
    u32 ea = insn_ea(c, i);
    *off = mem_read(c, i->seg, ea, i->osz);
    u32 sea = ea + i->osz;
    if (i->asz == 2)
        sea &= 0xffff;
    *sel = (u16)mem_read(c, i->seg, sea, 2);
}

void op_call_Mp(struct cpu *c, const struct insn *i)
{
    u16 sel;
    u32 off;
    read_far_ptr(c, i, &sel, &off);
    cpu_far_call(c, sel, off, i->osz);
}

void op_jmp_Mp(struct cpu *c, const struct insn *i)
{
    u16 sel;
    u32 off;
    read_far_ptr(c, i, &sel, &off);
    cpu_far_jump(c, sel, off, i->osz);
}

void op_retf_Iw(struct cpu *c, const struct insn *i)
{
    cpu_far_return(c, i->osz, (u16)i->imm);
}

void op_int3(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_interrupt(c, EXC_BP, INT_SOFT_EXC, false, 0);
}

void op_int_Ib(struct cpu *c, const struct insn *i)
{
    cpu_interrupt(c, i->imm & 0xff, INT_SOFT, false, 0);
}

void op_into(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (get_OF(c))
        cpu_interrupt(c, EXC_OF, INT_SOFT_EXC, false, 0);
}

void op_iret(struct cpu *c, const struct insn *i)
{
    cpu_iret(c, i->osz);
}

void op_int1(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_interrupt(c, EXC_DB, INT_ICEBP, false, 0);
}
