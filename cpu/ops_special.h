/*
 * Handlers compiled for one operand size and form (see OP_SPECIALIZED in
 * mem.h), and the choice of one for a decoded instruction.
 */
#ifndef UMBRA_CPU_OPS_SPECIAL_H
#define UMBRA_CPU_OPS_SPECIAL_H

#include "cpu_state.h"

/* The handlers defined with OP_SPECIALIZED: name_dr and name_dm. */
#define OPS_SPECIALIZED(X) \
    X(op_mov_Ev_Gv)        \
    X(op_mov_Gv_Ev)        \
    X(op_lea_Gv_M)         \
    X(op_movzx_Gv_Ew)      \
    X(op_movsx_Gv_Ew)      \
    X(op_cmov_Gv_Ev)       \
    X(op_imul_Gv_Ev)       \
    X(op_test_Ev_Gv)

#define X(name)                                              \
    void name##_dr(struct cpu *c, const struct insn *i);     \
    void name##_dm(struct cpu *c, const struct insn *i);
OPS_SPECIALIZED(X)
#undef X

/* MOV with an 8-bit operand, register or memory. */
void op_mov_Ev_Gv_br(struct cpu *c, const struct insn *i);
void op_mov_Ev_Gv_bm(struct cpu *c, const struct insn *i);
void op_mov_Gv_Ev_br(struct cpu *c, const struct insn *i);
void op_mov_Gv_Ev_bm(struct cpu *c, const struct insn *i);

/* [Ev,Gv | Gv,Ev | Ev,Iz][ALU operation][memory operand] */
extern const op_fn op_alu_special[3][8][2];
/* [ModRM.reg operation][memory operand] */
extern const op_fn op_shift_special[8][2];
/* [condition] */
extern const op_fn op_jcc_special[16];

/* The fastest handler that runs `i` exactly as i->fn does: a copy for a
 * 32-bit operand and a register or 32-bit-addressed memory operand, or
 * i->fn itself. */
op_fn ops_specialize(const struct insn *i);

#endif
