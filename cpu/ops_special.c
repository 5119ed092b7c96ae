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
    if (!(i->attr & OPA_MODRM))
        return f;
    bool reg = i->mod == 3;
    if (!reg && i->asz != 4)
        return f;
    if (i->osz == 1) {
        if (f == op_mov_Ev_Gv)
            return reg ? op_mov_Ev_Gv_br : op_mov_Ev_Gv_bm;
        if (f == op_mov_Gv_Ev)
            return reg ? op_mov_Gv_Ev_br : op_mov_Gv_Ev_bm;
        return f;
    }
    if (i->osz != 4)
        return f;
#define X(name)          \
    if (f == name)       \
        return reg ? name##_dr : name##_dm;
    OPS_SPECIALIZED(X)
#undef X
    unsigned alu = (i->opc >> 3) & 7;
    if (f == op_alu_Ev_Gv)
        return op_alu_special[0][alu][!reg];
    if (f == op_alu_Gv_Ev)
        return op_alu_special[1][alu][!reg];
    if (f == op_alu_Ev_Iz)
        return op_alu_special[2][i->reg][!reg];
    if (f == op_shift_Ev)
        return op_shift_special[i->reg][!reg];
    return f;
}
