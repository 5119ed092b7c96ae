/*
 * Choosing a specialized handler for a decoded instruction.  Each copy is
 * the generic handler's own body compiled with the operand size and form
 * fixed (OP_SPECIALIZED in mem.h), so it is chosen only when the decoded
 * instruction has exactly that size and form.
 */
#include "ops_special.h"

#include "ops.h"

/* The handler for `i`; *nomem is set when it is one that cannot fault,
 * touches no memory and does not change EIP (register forms, LEA). */
static op_fn choose(const struct insn *i, bool *nomem)
{
    op_fn f = i->fn;
    *nomem = false;
    if (f == op_jcc)
        return i->vsz == 4 ? op_jcc_special[i->opc & 15] : f;
    if (!(i->attr & OPA_MODRM)) {
        if (i->osz != 4)
            return f;
        *nomem = true;
        if (f == op_alu_eAX_Iz)
            return op_alu_eax_special[(i->opc >> 3) & 7];
        if (f == op_inc_Zv)
            return op_inc_Zv_d;
        if (f == op_dec_Zv)
            return op_dec_Zv_d;
        *nomem = false;
        if (f == op_push_Zv)
            return op_push_Zv_d;
        if (f == op_pop_Zv)
            return op_pop_Zv_d;
        return f;
    }
    unsigned form = i->mod == 3 ? OPF_REG : i->index == R_ZERO ? OPF_BASE : OPF_MEM;
    if (form != OPF_REG && i->asz != 4)
        return f;
    *nomem = form == OPF_REG;
    if (i->osz != 4) {
        unsigned sz = i->osz == 1 ? 0 : 1;
        if (f == op_mov_Ev_Gv)
            return op_mov_sized[0][sz][form];
        if (f == op_mov_Gv_Ev)
            return op_mov_sized[1][sz][form];
        *nomem = false;
        return f;
    }
    if (f == op_lea_Gv_M) {
        *nomem = true; /* computes an address, accesses nothing */
        return form == OPF_MEM ? op_lea_Gv_M_dm : op_lea_Gv_M_db;
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
    *nomem = false;
    return f;
}

void ops_specialize(struct insn *i)
{
    bool nomem;
    i->fn = choose(i, &nomem);
    if (nomem)
        i->attr |= OPA_NOMEM;
}
