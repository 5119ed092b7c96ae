/* Integer arithmetic: placeholder handlers, replaced as the instructions land. */
#include "cpu_state.h"
#include "ops.h"

void op_alu_Ev_Gv(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_alu_Gv_Ev(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_alu_eAX_Iz(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_alu_Ev_Iz(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_test_Ev_Gv(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_test_eAX_Iz(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_test_Ev_Iz(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_inc_Zv(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_dec_Zv(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_inc_Ev(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_dec_Ev(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_not_Ev(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_neg_Ev(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_mul_Ev(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_imul_Ev(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_div_Ev(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_idiv_Ev(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_imul_Gv_Ev(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_imul_Gv_Ev_Iz(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_shift_Ev(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_shld_Ev_Gv(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_daa(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_das(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_aaa(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_aas(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_aam(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_aad(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_bt_Ev_Gv(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_bt_Ev_Ib(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_bsf_Gv_Ev(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_bswap_Zd(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_xadd_Ev_Gv(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_cmpxchg_Ev_Gv(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_cmpxchg8b_Mq(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_salc(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}
