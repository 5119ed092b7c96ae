/* Declarations of every instruction handler named in opcodes.def. */
#ifndef UMBRA_CPU_OPS_H
#define UMBRA_CPU_OPS_H

#include "cpu_state.h"

#define OP(opc, reg, mnem, operands, fn, imm, attr) void fn(struct cpu *c, const struct insn *i);
#define SSE(opc, pfx, reg, mnem, operands, fn, imm, attr, feat) \
    void fn(struct cpu *c, const struct insn *i);
#include "opcodes.def"
#include "opcodes_sse.def"
#undef SSE
#undef OP

#endif
