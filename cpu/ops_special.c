/*
 * Choosing a specialized handler for a decoded instruction.  Each copy is
 * the generic handler's own body compiled with the operand size and form
 * fixed (OP_SPECIALIZED in mem.h), so it is chosen only when the decoded
 * instruction has exactly that size and form.
 */
#include "ops_special.h"

#include "ops.h"

op_fn ops_specialize(const struct insn *i)
{
    op_fn f = i->fn;
    if (f == op_jcc)
        return i->vsz == 4 ? op_jcc_special[i->opc & 15] : f;
    if (!(i->attr & OPA_MODRM)) {
        if (i->osz != 4)
            return f;
        if (f == op_alu_eAX_Iz)
            return op_alu_eax_special[(i->opc >> 3) & 7];
        if (f == op_inc_Zv)
            return op_inc_Zv_d;
        if (f == op_dec_Zv)
            return op_dec_Zv_d;
        if (f == op_push_Zv)
            return op_push_Zv_d;
        if (f == op_pop_Zv)
            return op_pop_Zv_d;
        return f;
    }
    unsigned form = i->mod == 3 ? OPF_REG : i->index == R_ZERO ? OPF_BASE : OPF_MEM;
    if (form != OPF_REG && i->asz != 4)
        return f;
    if (i->osz != 4) {
        unsigned sz = i->osz == 1 ? 0 : 1;
        if (f == op_mov_Ev_Gv)
            return op_mov_sized[0][sz][form];
        if (f == op_mov_Gv_Ev)
            return op_mov_sized[1][sz][form];
        return f;
    }
#define X(name)                                                                \
    if (f == name)                                                             \
        return form == OPF_REG ? name##_dr : form == OPF_MEM ? name##_dm : name##_db;
    OPS_SPECIALIZED(X)
#undef X
    unsigned alu = (i->opc >> 3) & 7;
    if (f == op_alu_Ev_Gv)
        return op_alu_special[0][alu][form];
    if (f == op_alu_Gv_Ev)
        return op_alu_special[1][alu][form];
    if (f == op_alu_Ev_Iz)
        return op_alu_special[2][i->reg][form];
    if (f == op_shift_Ev)
        return op_shift_special[i->reg][form];
    return f;
}
