/*
 * Handlers compiled for one operand size and form (see OP_SPECIALIZED in
 * mem.h), and the choice of one for a decoded instruction.
 */
#ifndef UMBRA_CPU_OPS_SPECIAL_H
#define UMBRA_CPU_OPS_SPECIAL_H

#include "cpu_state.h"

/* The handlers defined with OP_SPECIALIZED: name_dr, name_dm, name_db. */
#define OPS_SPECIALIZED(X) \
    X(op_mov_Ev_Gv)        \
    X(op_mov_Gv_Ev)        \
    X(op_lea_Gv_M)         \
    X(op_movzx_Gv_Ew)      \
    X(op_movsx_Gv_Ew)      \
    X(op_cmov_Gv_Ev)       \
    X(op_imul_Gv_Ev)       \
    X(op_test_Ev_Gv)       \
    X(op_test_Ev_Iz)       \
    X(op_inc_Ev)           \
    X(op_dec_Ev)           \
    X(op_not_Ev)           \
    X(op_neg_Ev)           \
    X(op_mul_Ev)

#define X(name)                                              \
    void name##_dr(struct cpu *c, const struct insn *i);     \
    void name##_dm(struct cpu *c, const struct insn *i);     \
    void name##_db(struct cpu *c, const struct insn *i);
OPS_SPECIALIZED(X)
#undef X

/* The operand forms the tables below are indexed by: a register, memory
 * with 32-bit addressing, memory at base+disp (no index). */
enum { OPF_REG, OPF_MEM, OPF_BASE, OPF__COUNT };

/* MOV [Ev,Gv | Gv,Ev][8 | 16-bit operand][form] */
extern const op_fn op_mov_sized[2][2][OPF__COUNT];
/* [Ev,Gv | Gv,Ev | Ev,Iz][ALU operation][form] */
extern const op_fn op_alu_special[3][8][OPF__COUNT];
/* [ModRM.reg operation][form] */
extern const op_fn op_shift_special[8][OPF__COUNT];
/* ALU EAX,imm32 [operation] */
extern const op_fn op_alu_eax_special[8];
/* 32-bit register forms without ModRM */
void op_inc_Zv_d(struct cpu *c, const struct insn *i);
void op_dec_Zv_d(struct cpu *c, const struct insn *i);
void op_push_Zv_d(struct cpu *c, const struct insn *i);
void op_pop_Zv_d(struct cpu *c, const struct insn *i);
/* [condition] */
extern const op_fn op_jcc_special[16];

/* Replace i->fn by the fastest handler that runs `i` exactly as it does
 * (a copy for a fixed operand size and form, or i->fn itself), and set
 * OPA_NOMEM or OPA_LOAD in i->attr when that handler qualifies. */
void ops_specialize(struct insn *i);

#endif
