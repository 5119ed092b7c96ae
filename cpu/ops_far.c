/* Far transfers and software interrupts: placeholder handlers, replaced as the instructions land. */
#include "cpu_state.h"
#include "ops.h"

void op_call_Ap(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_jmp_Ap(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_call_Mp(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_jmp_Mp(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_retf_Iw(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_int3(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_int_Ib(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_into(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_iret(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_int1(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}
