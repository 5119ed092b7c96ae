/*
 * Data movement, stack, flag-register and miscellaneous instructions
 * (SDM vol. 2: MOV, MOVZX/MOVSX, LEA, XCHG, PUSH/POP and their segment
 * forms, PUSHA/POPA, ENTER/LEAVE, PUSHF/POPF, LAHF/SAHF, CBW/CWD, XLAT,
 * BOUND, LDS/LES/LSS/LFS/LGS, CMOVcc, SETcc, CLC/STC/CMC/CLD/STD/CLI/STI).
 */
#include "cpu_state.h"
#include "flags.h"
#include "mem.h"
#include "ops_special.h"
#include "ops.h"
#include "system.h"

void op_ud(struct cpu *c, const struct insn *i)
{
    cpu_ud(c);
}

void op_nop(struct cpu *c, const struct insn *i)
{
}

/* Hint NOPs (0F 18-1F): decode a ModRM operand but touch no memory. */
void op_nop_Ev(struct cpu *c, const struct insn *i)
{
}

static ALWAYS_INLINE void mov_ev_gv(struct cpu *c, const struct insn *i, unsigned sz,
                                    enum rm_form f, op_fn slow)
{
    if (rm_fast(f)) {
        u8 *p = rm_fast_ptr(c, i, sz, f, SEGOK_WRITE, ACC_WRITE);
        if (unlikely(!p)) {
            slow(c, i);
            return;
        }
        store_host(p, reg_read(c, i->reg, sz), sz);
        return;
    }
    rm_write_f(c, i, reg_read(c, i->reg, sz), sz, f);
}
OP_SPECIALIZED(op_mov_Ev_Gv, mov_ev_gv)

static ALWAYS_INLINE void mov_gv_ev(struct cpu *c, const struct insn *i, unsigned sz,
                                    enum rm_form f, op_fn slow)
{
    u32 v;
    if (unlikely(!rm_load(c, i, sz, f, &v))) {
        slow(c, i);
        return;
    }
    reg_write(c, i->reg, v, sz);
}
OP_SPECIALIZED(op_mov_Gv_Ev, mov_gv_ev)

/* Byte and word moves are common in byte-oriented code (string and
 * decompression loops): copies for 8- and 16-bit operands too,
 * op_mov_sized[Ev,Gv | Gv,Ev][8 | 16 bits][form]. */
#define MOV_SIZED(sz)                                                                         \
    static void mov_ev_gv_##sz##_r(struct cpu *c, const struct insn *i) { mov_ev_gv(c, i, sz, RM_REG, NULL); }   \
    static void mov_ev_gv_##sz##_m(struct cpu *c, const struct insn *i) { mov_ev_gv(c, i, sz, RM_MEM32, op_mov_Ev_Gv); } \
    static void mov_ev_gv_##sz##_b(struct cpu *c, const struct insn *i) { mov_ev_gv(c, i, sz, RM_BASE32, op_mov_Ev_Gv); } \
    static void mov_gv_ev_##sz##_r(struct cpu *c, const struct insn *i) { mov_gv_ev(c, i, sz, RM_REG, NULL); }   \
    static void mov_gv_ev_##sz##_m(struct cpu *c, const struct insn *i) { mov_gv_ev(c, i, sz, RM_MEM32, op_mov_Gv_Ev); } \
    static void mov_gv_ev_##sz##_b(struct cpu *c, const struct insn *i) { mov_gv_ev(c, i, sz, RM_BASE32, op_mov_Gv_Ev); }
MOV_SIZED(1)
MOV_SIZED(2)
#undef MOV_SIZED
const op_fn op_mov_sized[2][2][3] = {
    { { mov_ev_gv_1_r, mov_ev_gv_1_m, mov_ev_gv_1_b }, { mov_ev_gv_2_r, mov_ev_gv_2_m, mov_ev_gv_2_b } },
    { { mov_gv_ev_1_r, mov_gv_ev_1_m, mov_gv_ev_1_b }, { mov_gv_ev_2_r, mov_gv_ev_2_m, mov_gv_ev_2_b } },
};

void op_mov_Ev_Iz(struct cpu *c, const struct insn *i)
{
    rm_write(c, i, i->imm, i->osz);
}

void op_mov_Zv_Iv(struct cpu *c, const struct insn *i)
{
    reg_write(c, i->rm, i->imm, i->osz);
}

void op_mov_eAX_Ov(struct cpu *c, const struct insn *i)
{
    reg_write(c, R_EAX, mem_read(c, i->seg, i->imm, i->osz), i->osz);
}

void op_mov_Ov_eAX(struct cpu *c, const struct insn *i)
{
    mem_write(c, i->seg, i->imm, reg_read(c, R_EAX, i->osz), i->osz);
}

static ALWAYS_INLINE void lea_gv_m(struct cpu *c, const struct insn *i, unsigned sz,
                                   enum rm_form f, op_fn slow)
{
    reg_write(c, i->reg, insn_ea_f(c, i, f), sz);
}
OP_SPECIALIZED(op_lea_Gv_M, lea_gv_m)

/* MOVZX/MOVSX: the source is a byte (0F B6/BE) or a word (0F B7/BF). */
static ALWAYS_INLINE void movzx_gv_ew(struct cpu *c, const struct insn *i, unsigned sz,
                                      enum rm_form f, op_fn slow)
{
    unsigned ssz = (i->opc & 1) ? 2 : 1;
    u32 v;
    if (unlikely(!rm_load(c, i, ssz, f, &v))) {
        slow(c, i);
        return;
    }
    reg_write(c, i->reg, v, sz);
}
OP_SPECIALIZED(op_movzx_Gv_Ew, movzx_gv_ew)

static ALWAYS_INLINE void movsx_gv_ew(struct cpu *c, const struct insn *i, unsigned sz,
                                      enum rm_form f, op_fn slow)
{
    unsigned ssz = (i->opc & 1) ? 2 : 1;
    u32 v;
    if (unlikely(!rm_load(c, i, ssz, f, &v))) {
        slow(c, i);
        return;
    }
    reg_write(c, i->reg, sext(v, ssz * 8), sz);
}
OP_SPECIALIZED(op_movsx_Gv_Ew, movsx_gv_ew)

void op_xchg_Ev_Gv(struct cpu *c, const struct insn *i)
{
    u32 a = rm_read(c, i, i->osz);
    rm_write(c, i, reg_read(c, i->reg, i->osz), i->osz);
    reg_write(c, i->reg, a, i->osz);
}

void op_xchg_Zv_eAX(struct cpu *c, const struct insn *i)
{
    u32 a = reg_read(c, R_EAX, i->osz);
    reg_write(c, R_EAX, reg_read(c, i->rm, i->osz), i->osz);
    reg_write(c, i->rm, a, i->osz);
}

void op_cbw(struct cpu *c, const struct insn *i)
{
    if (i->osz == 2)
        reg_write(c, R_EAX, sext(c->r[R_EAX] & 0xff, 8), 2);
    else
        c->r[R_EAX] = sext(c->r[R_EAX] & 0xffff, 16);
}

void op_cwd(struct cpu *c, const struct insn *i)
{
    if (i->osz == 2)
        reg_write(c, R_EDX, (c->r[R_EAX] & 0x8000) ? 0xffff : 0, 2);
    else
        c->r[R_EDX] = (c->r[R_EAX] & 0x80000000u) ? 0xffffffffu : 0;
}

void op_xlat(struct cpu *c, const struct insn *i)
{
    u32 ea = c->r[R_EBX] + (c->r[R_EAX] & 0xff);
    if (i->asz == 2)
        ea &= 0xffff;
    reg_write(c, R_EAX, mem_read(c, i->seg, ea, 1), 1);
}

void op_bound_Gv_Ma(struct cpu *c, const struct insn *i)
{
    u32 ea = insn_ea(c, i);
    unsigned bits = i->osz * 8;
    i32 lo = (i32)sext(mem_read(c, i->seg, ea, i->osz), bits);
    i32 hi = (i32)sext(mem_read(c, i->seg, (ea + i->osz) & (i->asz == 2 ? 0xffff : ~0u), i->osz), bits);
    i32 v = (i32)sext(reg_read(c, i->reg, i->osz), bits);
    if (v < lo || v > hi)
        cpu_raise_noerr(c, EXC_BR);
}

static ALWAYS_INLINE void cmov_gv_ev(struct cpu *c, const struct insn *i, unsigned sz,
                                     enum rm_form f, op_fn slow)
{
    u32 v; /* the source is read whatever the condition */
    if (unlikely(!rm_load(c, i, sz, f, &v))) {
        slow(c, i);
        return;
    }
    if (cond_true(c, i->opc & 15))
        reg_write(c, i->reg, v, sz);
}
OP_SPECIALIZED(op_cmov_Gv_Ev, cmov_gv_ev)

void op_setcc_Eb(struct cpu *c, const struct insn *i)
{
    rm_write(c, i, cond_true(c, i->opc & 15), 1);
}

/* ---- stack ---- */

void op_push_Zv(struct cpu *c, const struct insn *i)
{
    push(c, reg_read(c, i->rm, i->osz), i->osz);
}

void op_pop_Zv(struct cpu *c, const struct insn *i)
{
    u32 v = pop(c, i->osz);
    reg_write(c, i->rm, v, i->osz);
}

/* PUSH/POP of a 32-bit register on a 32-bit stack through the L1 TLB
 * alone, else the generic handler (see rm_fast_ptr). */
void op_push_Zv_d(struct cpu *c, const struct insn *i)
{
    if (likely(stack32(c))) {
        u32 sp = c->r[R_ESP] - 4;
        u8 *p = mem_fast_ptr(c, S_SS, sp, 4, SEGOK_WRITE, ACC_WRITE);
        if (likely(p)) {
            store_host(p, c->r[i->rm], 4);
            c->r[R_ESP] = sp;
            return;
        }
    }
    op_push_Zv(c, i);
}

void op_pop_Zv_d(struct cpu *c, const struct insn *i)
{
    if (likely(stack32(c))) {
        u32 sp = c->r[R_ESP];
        const u8 *p = mem_fast_ptr(c, S_SS, sp, 4, SEGOK_READ, ACC_READ);
        if (likely(p)) {
            u32 v = load_host(p, 4);
            c->r[R_ESP] = sp + 4;
            c->r[i->rm] = v; /* POP ESP: the popped value wins */
            return;
        }
    }
    op_pop_Zv(c, i);
}

void op_push_Iz(struct cpu *c, const struct insn *i)
{
    push(c, i->imm, i->osz);
}

void op_push_Ev(struct cpu *c, const struct insn *i)
{
    push(c, rm_read(c, i, i->osz), i->osz);
}

/* POP Ev computes its address with ESP already incremented (SDM: "If the
 * ESP register is used as a base register ... after it is incremented"). */
void op_pop_Ev(struct cpu *c, const struct insn *i)
{
    u32 v = pop(c, i->osz);
    rm_write(c, i, v, i->osz);
}

static unsigned sreg_of(const struct insn *i)
{
    if (i->opc >= 0x100)
        return (i->opc & 8) ? S_GS : S_FS;
    return (i->opc >> 3) & 3;
}

/* With a 32-bit operand size, a P6 moves ESP by 4 and writes only the
 * low 16 bits of the slot. */
void op_push_Sw(struct cpu *c, const struct insn *i)
{
    u32 sp = (c->r[R_ESP] - i->osz) & sp_mask(c);
    mem_write(c, S_SS, sp, c->seg[sreg_of(i)].sel, 2);
    set_sp(c, sp);
}

/* ESP moves by the stack-address size of the SS in force when the
 * instruction started: POP SS may load a segment of the other size, and
 * the pop itself was made through the old one (SDM vol. 2, POP: "the
 * stack-address size ... of the current stack"). */
void op_pop_Sw(struct cpu *c, const struct insn *i)
{
    unsigned s = sreg_of(i);
    const u32 mask = sp_mask(c), esp = c->r[R_ESP];
    u16 sel = (u16)stack_peek(c, 0, 2);
    seg_load(c, s, sel);
    c->r[R_ESP] = (esp & ~mask) | ((esp + i->osz) & mask);
    if (s == S_SS)
        c->inhibit_irq = c->ss_loaded = true;
}

void op_pusha(struct cpu *c, const struct insn *i)
{
    u32 sp = c->r[R_ESP];
    for (unsigned r = R_EAX; r <= R_EDI; r++)
        push(c, r == R_ESP ? sp : c->r[r], i->osz);
}

void op_popa(struct cpu *c, const struct insn *i)
{
    u32 v[8];
    for (int r = R_EDI; r >= (int)R_EAX; r--)
        v[r] = pop(c, i->osz);
    for (unsigned r = R_EAX; r <= R_EDI; r++)
        if (r != R_ESP)
            reg_write(c, r, v[r], i->osz);
}

void op_enter(struct cpu *c, const struct insn *i)
{
    unsigned level = i->imm2 & 31, osz = i->osz;
    u32 mask = sp_mask(c);
    u32 ebp = c->r[R_EBP];
    push(c, ebp, osz);
    u32 frame = c->r[R_ESP];
    for (unsigned k = 1; k < level; k++) {
        ebp = (ebp & ~mask) | ((ebp - osz) & mask);
        push(c, mem_read(c, S_SS, ebp & mask, osz), osz);
    }
    if (level)
        push(c, frame, osz);
    u32 sp = (c->r[R_ESP] - i->imm) & mask;
    /* The final stack pointer must be writable (SDM: #SS if it is not). */
    mem_probe_write(c, S_SS, sp, osz);
    set_sp(c, sp);
    reg_write(c, R_EBP, frame, stack32(c) ? osz : 2);
}

void op_leave(struct cpu *c, const struct insn *i)
{
    u32 mask = sp_mask(c);
    u32 v = mem_read(c, S_SS, c->r[R_EBP] & mask, i->osz);
    set_sp(c, (c->r[R_EBP] & mask) + i->osz);
    reg_write(c, R_EBP, v, i->osz);
}

void op_lseg_Gv_Mp(struct cpu *c, const struct insn *i)
{
    static const u8 seg_for[] = { [0xc4 & 7] = S_ES, [0xc5 & 7] = S_DS };
    unsigned s;
    switch (i->opc) {
    case 0x1b2: s = S_SS; break;
    case 0x1b4: s = S_FS; break;
    case 0x1b5: s = S_GS; break;
    default: s = seg_for[i->opc & 7]; break;
    }
    u32 ea = insn_ea(c, i);
    u32 off = mem_read(c, i->seg, ea, i->osz);
    u16 sel = (u16)mem_read(c, i->seg, (ea + i->osz) & (i->asz == 2 ? 0xffff : ~0u), 2);
    seg_load(c, s, sel);
    reg_write(c, i->reg, off, i->osz);
}

void op_mov_Ev_Sw(struct cpu *c, const struct insn *i)
{
    if (i->reg > S_GS)
        cpu_ud(c);
    u16 sel = c->seg[i->reg].sel;
    if (i->mod == 3)
        reg_write(c, i->rm, sel, i->osz); /* zero-extended with a 32-bit size */
    else
        rm_write(c, i, sel, 2);
}

void op_mov_Sw_Ew(struct cpu *c, const struct insn *i)
{
    if (i->reg > S_GS || i->reg == S_CS)
        cpu_ud(c);
    seg_load(c, i->reg, (u16)rm_read(c, i, 2));
    if (i->reg == S_SS)
        c->inhibit_irq = c->ss_loaded = true;
}

/* ---- flags ---- */

void op_pushf(struct cpu *c, const struct insn *i)
{
    if ((c->mode & MODE_VM86) && cpu_iopl(c) < 3)
        cpu_gp(c, 0);
    push(c, get_eflags(c) & ~(EFLAGS_VM | EFLAGS_RF), i->osz);
}

void op_popf(struct cpu *c, const struct insn *i)
{
    u32 mask = EFLAGS_OSZAPC | EFLAGS_TF | EFLAGS_DF | EFLAGS_NT | EFLAGS_AC | EFLAGS_ID |
               EFLAGS_RF;
    if (c->mode & MODE_VM86) {
        if (cpu_iopl(c) < 3)
            cpu_gp(c, 0);
        mask |= EFLAGS_IF;
    } else if (c->mode & MODE_PE) {
        if (c->cpl <= cpu_iopl(c))
            mask |= EFLAGS_IF;
        if (c->cpl == 0)
            mask |= EFLAGS_IOPL;
    } else {
        mask |= EFLAGS_IF | EFLAGS_IOPL;
    }
    if (i->osz == 2)
        mask &= 0xffff;
    u32 v = pop(c, i->osz) & ~EFLAGS_RF;
    cpu_write_eflags(c, v, mask);
}

void op_sahf(struct cpu *c, const struct insn *i)
{
    u32 ah = (c->r[R_EAX] >> 8) & 0xff;
    u32 fl = get_eflags(c);
    set_oszapc(c, (fl & EFLAGS_OF) | (ah & (EFLAGS_SF | EFLAGS_ZF | EFLAGS_AF | EFLAGS_PF | EFLAGS_CF)));
}

void op_lahf(struct cpu *c, const struct insn *i)
{
    u32 fl = get_eflags(c) & 0xd5;
    reg_write(c, 4 /* AH */, fl | EFLAGS_FIXED, 1);
}

void op_clc(struct cpu *c, const struct insn *i)
{
    lf_materialize(c);
    c->eflags &= ~EFLAGS_CF;
}

void op_stc(struct cpu *c, const struct insn *i)
{
    lf_materialize(c);
    c->eflags |= EFLAGS_CF;
}

void op_cmc(struct cpu *c, const struct insn *i)
{
    lf_materialize(c);
    c->eflags ^= EFLAGS_CF;
}

void op_cld(struct cpu *c, const struct insn *i)
{
    c->eflags &= ~EFLAGS_DF;
}

void op_std(struct cpu *c, const struct insn *i)
{
    c->eflags |= EFLAGS_DF;
}

/* CLI/STI are IOPL-sensitive in protected and v86 mode (no VME/PVI). */
static void check_if_change(struct cpu *c)
{
    if ((c->mode & MODE_PE) && c->cpl > cpu_iopl(c))
        cpu_gp(c, 0);
}

void op_cli(struct cpu *c, const struct insn *i)
{
    check_if_change(c);
    c->eflags &= ~EFLAGS_IF;
}

void op_sti(struct cpu *c, const struct insn *i)
{
    check_if_change(c);
    if (!(c->eflags & EFLAGS_IF))
        c->inhibit_irq = true;
    c->eflags |= EFLAGS_IF;
}
