/*
 * Near control transfers: Jcc, JMP, CALL, RET, LOOP/LOOPcc/JCXZ
 * (SDM vol. 2).  A target outside the CS limit raises #GP(0) before any
 * state changes.
 */
#include "cpu_state.h"
#include "flags.h"
#include "mem.h"
#include "ops.h"

static inline void jump_near(struct cpu *c, u32 target, unsigned osz)
{
    if (osz == 2)
        target &= 0xffff;
    if (unlikely(target > c->seg[S_CS].limit))
        cpu_gp(c, 0);
    c->eip = target;
}

void op_jcc(struct cpu *c, const struct insn *i)
{
    if (cond_true(c, i->opc & 15))
        jump_near(c, c->eip + i->imm, i->vsz);
}

/* Jcc with a 32-bit operand size and the condition fixed: op_jcc_special[cc]. */
#define JCC_SPECIAL(cc)                                        \
    static void jcc_##cc(struct cpu *c, const struct insn *i)  \
    {                                                          \
        if (cond_true(c, cc))                                  \
            jump_near(c, c->eip + i->imm, 4);                  \
    }
JCC_SPECIAL(0)
JCC_SPECIAL(1)
JCC_SPECIAL(2)
JCC_SPECIAL(3)
JCC_SPECIAL(4)
JCC_SPECIAL(5)
JCC_SPECIAL(6)
JCC_SPECIAL(7)
JCC_SPECIAL(8)
JCC_SPECIAL(9)
JCC_SPECIAL(10)
JCC_SPECIAL(11)
JCC_SPECIAL(12)
JCC_SPECIAL(13)
JCC_SPECIAL(14)
JCC_SPECIAL(15)
#undef JCC_SPECIAL
const op_fn op_jcc_special[16] = {
    jcc_0, jcc_1, jcc_2,  jcc_3,  jcc_4,  jcc_5,  jcc_6,  jcc_7,
    jcc_8, jcc_9, jcc_10, jcc_11, jcc_12, jcc_13, jcc_14, jcc_15,
};

void op_jmp_J(struct cpu *c, const struct insn *i)
{
    jump_near(c, c->eip + i->imm, i->vsz);
}

void op_jmp_Ev(struct cpu *c, const struct insn *i)
{
    jump_near(c, rm_read(c, i, i->osz), i->osz);
}

/* Check the target before pushing: #GP leaves the stack untouched. */
static inline void call_near(struct cpu *c, u32 target, unsigned osz)
{
    if (osz == 2)
        target &= 0xffff;
    if (target > c->seg[S_CS].limit)
        cpu_gp(c, 0);
    push(c, c->eip, osz);
    c->eip = target;
}

void op_call_Jz(struct cpu *c, const struct insn *i)
{
    call_near(c, c->eip + i->imm, i->osz);
}

void op_call_Ev(struct cpu *c, const struct insn *i)
{
    call_near(c, rm_read(c, i, i->osz), i->osz);
}

void op_ret_Iw(struct cpu *c, const struct insn *i)
{
    u32 target = pop(c, i->osz);
    if (target > c->seg[S_CS].limit)
        cpu_gp(c, 0);
    set_sp(c, c->r[R_ESP] + (i->imm & 0xffff));
    c->eip = target;
}

/* E0 LOOPNE, E1 LOOPE, E2 LOOP, E3 JCXZ/JECXZ; the count register's size
 * follows the address size. */
void op_loop(struct cpu *c, const struct insn *i)
{
    u32 mask = i->asz == 2 ? 0xffff : 0xffffffffu;
    u32 cnt = c->r[R_ECX] & mask;
    bool take;
    if (i->opc == 0xe3) {
        take = cnt == 0;
    } else {
        cnt = (cnt - 1) & mask;
        take = cnt != 0;
        if (i->opc == 0xe0)
            take = take && !get_ZF(c);
        else if (i->opc == 0xe1)
            take = take && get_ZF(c);
    }
    if (take)
        jump_near(c, c->eip + i->imm, i->vsz);
    if (i->opc != 0xe3)
        c->r[R_ECX] = (c->r[R_ECX] & ~mask) | cnt;
}
