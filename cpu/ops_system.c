/* System instructions: placeholder handlers, replaced as the instructions land. */
#include "cpu_state.h"
#include "ops.h"

void op_sldt_Ew(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_str_Ew(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_lldt_Ew(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_ltr_Ew(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_verr_Ew(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_sgdt_Ms(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_lgdt_Ms(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_smsw_Ew(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_lmsw_Ew(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_invlpg_M(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_lar_Gv_Ew(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_clts(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_wbinvd(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_mov_Rd_Cd(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_mov_Rd_Dd(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_mov_Cd_Rd(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_mov_Dd_Rd(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_wrmsr(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_rdtsc(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_rdmsr(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_rdpmc(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_sysenter(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_sysexit(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_cpuid(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_arpl_Ew_Gw(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_hlt(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_in(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_out(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_esc(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}

void op_fwait(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_ud(c);
}
