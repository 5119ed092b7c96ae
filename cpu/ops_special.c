/*
 * Choosing a specialized handler for a decoded instruction.  Each copy is
 * the generic handler's own body compiled with the operand size and form
 * fixed (OP_SPECIALIZED in mem.h), so it is chosen only when the decoded
 * instruction has exactly that size and form.
 */
#include "ops_special.h"

#include "ops.h"

/* What the replay of a block may skip for an instruction (OPA_NOMEM,
 * OPA_LOAD in cpu_state.h). */
enum kind { K_OTHER, K_NOMEM, K_LOAD };

/* The handler for `i`, and its kind. */
static op_fn choose(const struct insn *i, enum kind *k)
{
    op_fn f = i->fn;
    *k = K_OTHER;
    if (f == op_jcc)
        return i->vsz == 4 ? op_jcc_special[i->opc & 15] : f;
    if (!(i->attr & OPA_MODRM)) {
        if (i->osz != 4)
            return f;
        if (f == op_push_Zv)
            return op_push_Zv_d;
        if (f == op_pop_Zv)
            return op_pop_Zv_d;
        *k = K_NOMEM;
        if (f == op_alu_eAX_Iz)
            return op_alu_eax_special[(i->opc >> 3) & 7];
        if (f == op_inc_Zv)
            return op_inc_Zv_d;
        if (f == op_dec_Zv)
            return op_dec_Zv_d;
        *k = K_OTHER;
        return f;
    }
    unsigned form = i->mod == 3 ? OPF_REG : i->index == R_ZERO ? OPF_BASE : OPF_MEM;
    if (form != OPF_REG && i->asz != 4)
        return f;
    /* Register forms are all K_NOMEM; memory forms that only read are
     * K_LOAD. */
    enum kind load = form == OPF_REG ? K_NOMEM : K_LOAD;
    enum kind rmw = form == OPF_REG ? K_NOMEM : K_OTHER;
    if (i->osz != 4) {
        unsigned sz = i->osz == 1 ? 0 : 1;
        if (f == op_mov_Ev_Gv) {
            *k = rmw;
            return op_mov_sized[0][sz][form];
        }
        if (f == op_mov_Gv_Ev) {
            *k = load;
            return op_mov_sized[1][sz][form];
        }
        return f;
    }
    if (f == op_lea_Gv_M) {
        *k = K_NOMEM; /* computes an address, accesses nothing */
        return form == OPF_MEM ? op_lea_Gv_M_dm : op_lea_Gv_M_db;
    }
#define PICK(name) (form == OPF_REG ? name##_dr : form == OPF_MEM ? name##_dm : name##_db)
#define X(name)                                                                      \
    if (f == name) {                                                                 \
        *k = f == op_mov_Ev_Gv || f == op_inc_Ev || f == op_dec_Ev || f == op_not_Ev || \
                     f == op_neg_Ev                                                  \
                 ? rmw                                                               \
                 : load;                                                             \
        return PICK(name);                                                           \
    }
    OPS_SPECIALIZED(X)
#undef X
#undef PICK
    unsigned alu = (i->opc >> 3) & 7;
    if (f == op_alu_Ev_Gv) {
        *k = alu == 7 ? load : rmw; /* CMP only reads */
        return op_alu_special[0][alu][form];
    }
    if (f == op_alu_Gv_Ev) {
        *k = load;
        return op_alu_special[1][alu][form];
    }
    if (f == op_alu_Ev_Iz) {
        *k = i->reg == 7 ? load : rmw;
        return op_alu_special[2][i->reg][form];
    }
    if (f == op_shift_Ev) {
        *k = rmw;
        return op_shift_special[i->reg][form];
    }
    return f;
}

void ops_specialize(struct insn *i)
{
    enum kind k;
    i->fn = choose(i, &k);
    if (k == K_NOMEM)
        i->attr |= OPA_NOMEM;
    else if (k == K_LOAD)
        i->attr |= OPA_LOAD;
}
