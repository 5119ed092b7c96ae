/*
 * The native forms: guest instructions compiled to host instructions
 * operating on the guest registers in struct cpu, with the guest's flags
 * computed by the host (README.md lists them).  Each is checked in
 * lockstep against the cpu/ handler it stands for.
 */
#include "jit_priv.h"

#include <string.h>

/* EAX = the r/m operand of `i` (a register, or memory through the MMU). */
static void load_rm(struct tx *t, const struct insn *i, unsigned k, u32 eip, unsigned size)
{
    if (i->mod == 3)
        tx_gr_load(t, size, X_RAX, i->rm);
    else
        tx_emit_load(t, i, k, eip, size);
}

/* Code emitted between a conditional jump and its target may load cached
 * registers the jumping path never loaded: where the paths meet, only
 * what was valid on both is. */
static void cache_meet(struct tx *t, const bool *before)
{
    for (unsigned r = 0; r < 8; r++)
        t->cvalid[r] = t->cvalid[r] && before[r];
    t->lf_host = false;
}

static bool is_alu_row(unsigned opc)
{
    return opc < 0x40 && (opc & 7) < 6;
}

/*
 * What instruction `i` does to the six arithmetic flags, for the liveness
 * pass of tx_flags_dead(): FU_KILL writes all six without reading any
 * and cannot fault (register forms only); FU_NEUTRAL neither reads nor
 * writes them, cannot fault and cannot leave the block; anything else
 * may observe them (reads them, faults, calls out or exits).
 */
enum fl_use { FU_OBSERVE, FU_NEUTRAL, FU_KILL };

static enum fl_use flag_use(const struct insn *i)
{
    unsigned opc = i->opc;
    bool reg = i->mod == 3;
    if (i->lock || i->feat)
        return FU_OBSERVE;
    if (is_alu_row(opc)) {
        unsigned op = (opc >> 3) & 7;
        if (op == XA_ADC || op == XA_SBB)
            return FU_OBSERVE;
        return (opc & 7) >= 4 || reg ? FU_KILL : FU_OBSERVE;
    }
    switch (opc) {
    case 0x80: case 0x81: case 0x82: case 0x83:
        return reg && i->reg != XA_ADC && i->reg != XA_SBB ? FU_KILL : FU_OBSERVE;
    case 0x84: case 0x85:
        return reg ? FU_KILL : FU_OBSERVE;
    case 0xa8: case 0xa9:
        return FU_KILL;
    case 0xf6: case 0xf7:
        /* TEST, NEG, MUL, IMUL (not NOT, nor DIV and IDIV, which fault) */
        if (!reg)
            return FU_OBSERVE;
        if (i->reg == 2)
            return FU_NEUTRAL;
        return i->reg <= 5 ? FU_KILL : FU_OBSERVE;
    case 0x69: case 0x6b: case 0x1af:
        return reg ? FU_KILL : FU_OBSERVE;
    case 0xc0: case 0xc1: case 0xd0: case 0xd1:
        /* SHL, SHR, SAR by a count that is not zero (a zero count leaves
         * the flags; rotates write only CF and OF) */
        if (!reg || i->reg < 4)
            return FU_OBSERVE;
        return opc >= 0xd0 || (i->imm & 31) ? FU_KILL : FU_NEUTRAL;
    case 0x88: case 0x89: case 0x8a: case 0x8b:
    case 0x1b6: case 0x1b7: case 0x1be: case 0x1bf:
        return reg ? FU_NEUTRAL : FU_OBSERVE;
    case 0xc6: case 0xc7:
        return reg && i->reg == 0 ? FU_NEUTRAL : FU_OBSERVE;
    case 0x8d: /* LEA: a register operand is #UD */
        return reg ? FU_OBSERVE : FU_NEUTRAL;
    case 0xb0: case 0xb1: case 0xb2: case 0xb3: case 0xb4: case 0xb5: case 0xb6: case 0xb7:
    case 0xb8: case 0xb9: case 0xba: case 0xbb: case 0xbc: case 0xbd: case 0xbe: case 0xbf:
    case 0x90:
        return FU_NEUTRAL;
    default:
        return FU_OBSERVE;
    }
}

u64 tx_flags_dead(const struct insn *ins, unsigned n)
{
    u64 dead = 0;
    bool live = true; /* the block's exit sees them */
    for (unsigned k = n; k-- > 0;) {
        if (!live && k < 64)
            dead |= 1ull << k;
        enum fl_use u = flag_use(&ins[k]);
        if (u != FU_NEUTRAL)
            live = u == FU_OBSERVE;
    }
    return dead;
}

/* Jump to `target` (taken Jcc, JMP, CALL): leave the block with EIP there,
 * if host condition `cc` holds (-1: always).  `limit`: the target still
 * has to be checked against the CS limit. */
static void jump_out(struct tx *t, int cc, unsigned k, u32 eip, u32 next, u32 target, bool limit)
{
    long at = cc < 0 ? x64_jmp(&t->e, NULL) : x64_jcc(&t->e, (unsigned)cc, NULL);
    struct stub *s = tx_stub_new(t, at, k + 1);
    s->set_eip = true;
    s->eip = target;
    s->limit_check = limit;
    s->chain = true;
    s->chain = true;
    s->k = k;
    s->insn_eip = eip;
    s->next = next;
}

/* A read-modify-write of the memory operand of `i`: load (may fault),
 * compute in EAX with the host flags saved in R14, store (may fault, and
 * then nothing has changed), and only then commit the flags.  `op` is an
 * ALU operation with `src` (a guest register, or an immediate when
 * src_reg is false), or one of the unary forms below. */
enum rmw_op { RMW_ALU, RMW_INC, RMW_DEC, RMW_NOT, RMW_NEG };

static void emit_rmw(struct tx *t, const struct insn *i, unsigned k, u32 eip, u32 next,
                     enum rmw_op kind, enum x64_alu op, bool src_reg, u32 src)
{
    struct x64 *e = &t->e;
    unsigned sz = i->osz;
    tx_sync_access(t);
    tx_emit_ea(t, i);
    x64_mov_rr(e, 4, X_R15, X_RSI);
    tx_access(t, sz, i->seg, false, k, eip);
    switch (kind) {
    case RMW_ALU:
        if (src_reg) {
            tx_gr_load(t, sz, X_RCX, src);
            x64_alu_rr(e, op, sz, X_RAX, X_RCX);
        } else {
            x64_alu_ri(e, op, sz, X_RAX, src);
        }
        break;
    case RMW_INC: x64_inc_r(e, sz, X_RAX); break;
    case RMW_DEC: x64_dec_r(e, sz, X_RAX); break;
    case RMW_NOT: x64_not_r(e, sz, X_RAX); break;
    case RMW_NEG: x64_neg_r(e, sz, X_RAX); break;
    }
    x64_mov_rr(e, 4, X_RDX, X_RAX);
    if (kind != RMW_NOT) { /* R14 = the flags in the LF_HOST form */
        tx_host_flags_form(e);
        x64_mov_rr(e, 4, X_R14, X_RAX);
    }
    x64_mov_rr(e, 4, X_RSI, X_R15);
    tx_access(t, sz, i->seg, true, k, eip);
    if (kind != RMW_NOT)
        tx_commit_r14_flags(t, kind == RMW_INC || kind == RMW_DEC);
    tx_check_epoch(t, k, next);
}

/* SHL/SAL, SHR, SAR of a 32-bit register by an immediate or CL, or of a
 * 16-bit register by an immediate below 16, with the flags the handler
 * gives (cpu/ops_alu.c shift_compute: OF from the result for SHL, from
 * the operand for SHR, clear for SAR; AF clear), stored lazily.  A count
 * of 0 changes nothing. */
static bool emit_shift(struct tx *t, const struct insn *i, unsigned k)
{
    struct x64 *e = &t->e;
    unsigned op = i->reg, sz = i->osz;
    if ((sz != 4 && sz != 2) || i->mod != 3 || (op != 4 && op != 5 && op != 6 && op != 7))
        return false;
    enum x64_shift hop = op == 5 ? XS_SHR : op == 7 ? XS_SAR : XS_SHL;
    bool by_cl = i->opc == 0xd3;
    unsigned n = i->opc == 0xd1 ? 1 : i->imm & 31;
    /* the operand's top bit moved to bit 31 by this much */
    u8 up = (u8)(32 - 8 * sz);
    if (sz == 2 && (by_cl || n >= 16))
        return false; /* the host's count would not be the handler's */
    long skip = -1;
    if (by_cl) {
        tx_flags_save(t);
        x64_movzx_rm(e, 1, X_RCX, greg(R_ECX, 1));
        x64_alu_ri(e, XA_AND, 4, X_RCX, 31);
        skip = x64_jcc(e, 4 /* e */, NULL);
    } else if (n == 0) {
        return true;
    }
    if (!by_cl && tx_flags_unseen(t, k)) {
        tx_gr_load(t, sz, X_RAX, i->rm);
        x64_shift_ri(e, hop, sz, X_RAX, (u8)n);
        tx_gr_store(t, sz, i->rm, X_RAX);
        t->fl = F_HOST; /* nothing reads them before they are written again */
        return true;
    }
    bool before[8];
    memcpy(before, t->cvalid, sizeof before);
    tx_gr_load(t, sz, X_RAX, i->rm);
    x64_mov_rr(e, 4, X_RDI, X_RAX);
    if (by_cl)
        x64_shift_rcl(e, hop, 4, X_RAX);
    else
        x64_shift_ri(e, hop, sz, X_RAX, (u8)n);
    x64_setcc(e, 2 /* b: CF */, X_RDX);
    x64_movzx_rr(e, 1, X_RDX, X_RDX);
    x64_shift_ri(e, XS_SHL, 4, X_RDX, 31); /* CF in bit 31 */
    /* CF ^ OF into bit 30: SHL: OF = msb(r) ^ CF, so it is msb(r);
     * SHR: OF = msb(a); SAR: OF = 0, so it is CF. */
    if (hop == XS_SHL) {
        x64_mov_rr(e, 4, X_RSI, X_RAX);
        if (up)
            x64_shift_ri(e, XS_SHL, 4, X_RSI, up);
    } else if (hop == XS_SHR) {
        x64_mov_rr(e, 4, X_RSI, X_RDI);
        if (up)
            x64_shift_ri(e, XS_SHL, 4, X_RSI, up);
        x64_alu_rr(e, XA_XOR, 4, X_RSI, X_RDX);
    } else {
        x64_mov_rr(e, 4, X_RSI, X_RDX);
    }
    x64_shift_ri(e, XS_SHR, 4, X_RSI, 31);
    x64_shift_ri(e, XS_SHL, 4, X_RSI, 30);
    x64_alu_rr(e, XA_OR, 4, X_RDX, X_RSI);
    tx_gr_store(t, sz, i->rm, X_RAX);
    if (up)
        x64_movsx_rr(e, 2, X_RAX, X_RAX); /* lf_res: the result sign-extended */
    tx_flags_lazy(t);
    if (skip >= 0) {
        x64_patch_rel32(e->start, skip, e->p);
        cache_meet(t, before);
    }
    return true;
}

/* IMUL r32, r/m32 and IMUL r32, r/m32, imm: CF = OF = the product does
 * not fit; SF, ZF, PF from the result, AF clear (ops_alu.c imul2). */
static bool emit_imul(struct tx *t, const struct insn *i, unsigned k, u32 eip)
{
    struct x64 *e = &t->e;
    if (i->osz != 4)
        return false;
    load_rm(t, i, k, eip, 4);
    if (i->opc == 0x1af)
        tx_gr_load(t, 4, X_RCX, i->reg);
    else
        x64_mov_ri32(e, X_RCX, i->imm);
    x64_imul_rr(e, 4, X_RAX, X_RCX);
    if (tx_flags_unseen(t, k)) {
        tx_gr_store(t, 4, i->reg, X_RAX);
        t->fl = F_HOST;
        return true;
    }
    x64_setcc(e, 0 /* o */, X_RDX);
    x64_movzx_rr(e, 1, X_RDX, X_RDX);
    x64_shift_ri(e, XS_SHL, 4, X_RDX, 31);
    tx_gr_store(t, 4, i->reg, X_RAX);
    tx_flags_lazy(t);
    return true;
}

/* MUL and IMUL r/m32 (EDX:EAX = EAX * operand) as one 64-bit host
 * multiply of the zero- or sign-extended operands: CF = OF = the high
 * half is significant; SF, ZF, PF from the low half, AF clear
 * (ops_alu.c mul_ev, op_imul_Ev). */
static bool emit_mul(struct tx *t, const struct insn *i, unsigned k, u32 eip)
{
    struct x64 *e = &t->e;
    bool sx = i->reg == 5;
    if (i->osz != 4)
        return false;
    load_rm(t, i, k, eip, 4);
    tx_gr_load(t, 4, X_RCX, R_EAX);
    if (sx) {
        x64_shift_ri(e, XS_SHL, 8, X_RAX, 32);
        x64_shift_ri(e, XS_SAR, 8, X_RAX, 32);
        x64_shift_ri(e, XS_SHL, 8, X_RCX, 32);
        x64_shift_ri(e, XS_SAR, 8, X_RCX, 32);
    }
    x64_imul_rr(e, 8, X_RAX, X_RCX);
    tx_gr_store(t, 4, R_EAX, X_RAX);
    x64_mov_rr(e, 8, X_RDX, X_RAX);
    x64_shift_ri(e, XS_SHR, 8, X_RDX, 32);
    tx_gr_store(t, 4, R_EDX, X_RDX);
    if (tx_flags_unseen(t, k)) {
        t->fl = F_HOST;
        return true;
    }
    if (sx) {
        /* significant: the product differs from its low half sign-extended */
        x64_mov_rr(e, 8, X_RCX, X_RAX);
        x64_shift_ri(e, XS_SHL, 8, X_RCX, 32);
        x64_shift_ri(e, XS_SAR, 8, X_RCX, 32);
        x64_alu_rr(e, XA_CMP, 8, X_RCX, X_RAX);
    } else {
        x64_test_rr(e, 4, X_RDX, X_RDX);
    }
    x64_setcc(e, 5 /* ne */, X_RDX);
    x64_movzx_rr(e, 1, X_RDX, X_RDX);
    x64_shift_ri(e, XS_SHL, 4, X_RDX, 31);
    tx_flags_lazy(t);
    return true;
}

/* ROL and ROR of a 32-bit register by an immediate or CL: only CF and
 * OF change, as the handler defines them for every count (ops_alu.c
 * shift_compute: ROL OF = msb ^ CF, ROR OF = the two top bits' xor):
 * both are set from the result into an image of the guest's flags,
 * kept as the host form (LF_HOST).  A count of 0 changes nothing. */
static bool emit_rotate(struct tx *t, const struct insn *i)
{
    struct x64 *e = &t->e;
    bool ror = i->reg == 1;
    bool by_cl = i->opc == 0xd3;
    unsigned n = i->opc == 0xd1 ? 1 : i->imm & 31;
    long skip = -1;
    if (i->osz != 4 || i->mod != 3)
        return false;
    if (!by_cl && n == 0)
        return true;
    if (by_cl) {
        tx_flags_save(t);
        x64_movzx_rm(e, 1, X_RCX, greg(R_ECX, 1));
        x64_alu_ri(e, XA_AND, 4, X_RCX, 31);
        skip = x64_jcc(e, 4 /* e */, NULL);
    }
    bool before[8];
    memcpy(before, t->cvalid, sizeof before);
    /* EDX = the guest's flags in the LF_HOST form (CF bit 8, OF bit 0),
     * without loading them into the host (rotates come in runs) */
    tx_flags_image(t);
    x64_mov_rr(e, 4, X_RDX, X_RAX);
    if (by_cl) /* tx_flags_image may have called out */
        x64_movzx_rm(e, 1, X_RCX, greg(R_ECX, 1));
    tx_gr_load(t, 4, X_RAX, i->rm);
    if (by_cl)
        x64_shift_rcl(e, ror ? XS_ROR : XS_ROL, 4, X_RAX);
    else
        x64_shift_ri(e, ror ? XS_ROR : XS_ROL, 4, X_RAX, (u8)n);
    tx_gr_store(t, 4, i->rm, X_RAX);
    x64_alu_ri(e, XA_AND, 4, X_RDX, ~(u32)((EFLAGS_CF << 8) | 1));
    /* CF: the bit rotated in last, bit 0 (ROL) or bit 31 (ROR) */
    x64_mov_rr(e, 4, X_RCX, X_RAX);
    if (ror)
        x64_shift_ri(e, XS_SHR, 4, X_RCX, 31);
    else
        x64_alu_ri(e, XA_AND, 4, X_RCX, 1);
    x64_shift_ri(e, XS_SHL, 4, X_RCX, 8);
    x64_alu_rr(e, XA_OR, 4, X_RDX, X_RCX);
    x64_mov_rr(e, 4, X_RCX, X_RAX);
    if (ror) {
        x64_shift_ri(e, XS_SHL, 4, X_RCX, 1);
        x64_alu_rr(e, XA_XOR, 4, X_RCX, X_RAX); /* bit 31: b31 ^ b30 */
    } else {
        x64_shift_ri(e, XS_SHL, 4, X_RCX, 31);
        x64_alu_rr(e, XA_XOR, 4, X_RCX, X_RAX); /* bit 31: b0 ^ b31 */
    }
    x64_shift_ri(e, XS_SHR, 4, X_RCX, 31); /* OF: bit 0 */
    x64_alu_rr(e, XA_OR, 4, X_RDX, X_RCX);
    x64_store(e, 4, CPU(lf_aux), X_RDX);
    if (!t->lf_host)
        x64_store_imm(e, 1, CPU(lf_live), LF_HOST);
    t->lf_host = true;
    t->fl = F_MEM;
    if (skip >= 0) {
        x64_patch_rel32(e->start, skip, e->p);
        cache_meet(t, before);
    }
    return true;
}

/* A native CALL or RET found its target past the CS limit: run the
 * handler, which raises #GP(0) with the state already made precise (the
 * exit after it is for form's sake). */
static void fault_by_handler(struct tx *t, const struct insn *i, unsigned k, u32 next)
{
    x64_store_imm(&t->e, 4, CPU(eip), next);
    tx_call_handler(t, i);
    tx_exit_if(t, -1, k + 1, false, 0);
}

/* Translate instruction `k` natively.  False if it has no native form
 * here (the caller then emits a handler call). */
bool tx_native(struct tx *t, const struct insn *i, unsigned k, u32 eip, u32 next)
{
    struct x64 *e = &t->e;
    unsigned opc = i->opc, sz = i->osz;
    bool reg = i->mod == 3;
    /* SSE rows share opcode numbers with other 0F instructions under
     * their mandatory prefixes: only the integer table's rows here. */
    if (i->lock || i->feat)
        return false;
    if (is_alu_row(opc)) {
        enum x64_alu op = (enum x64_alu)((opc >> 3) & 7);
        bool cf_in = op == XA_ADC || op == XA_SBB;
        switch (opc & 7) {
        case 0: case 1: /* E, G */
            if (!reg && op != XA_CMP) {
                if (cf_in)
                    return false;
                emit_rmw(t, i, k, eip, next, RMW_ALU, op, true, i->reg);
                return true;
            }
            if (reg) {
                if (cf_in)
                    tx_cf_to_host(t);
                tx_gr_load(t, sz, X_RAX, i->reg);
                tx_gr_alu_rr(t, op, sz, i->rm, X_RAX);
            } else {
                tx_emit_load(t, i, k, eip, sz);
                tx_gr_alu_from(t, XA_CMP, sz, X_RAX, i->reg);
            }
            break;
        case 2: case 3: /* G, E */
            if (reg) {
                if (cf_in)
                    tx_cf_to_host(t);
                tx_gr_load(t, sz, X_RAX, i->rm);
            } else {
                if (cf_in)
                    return false;
                tx_emit_load(t, i, k, eip, sz);
            }
            tx_gr_alu_rr(t, op, sz, i->reg, X_RAX);
            break;
        default: /* AL/eAX, imm */
            if (cf_in)
                tx_cf_to_host(t);
            tx_gr_alu_ri(t, op, sz, R_EAX, i->imm);
            break;
        }
        t->fl = F_HOST;
        return true;
    }
    switch (opc) {
    case 0x80: case 0x81: case 0x82: case 0x83: {
        enum x64_alu op = (enum x64_alu)i->reg;
        if (reg) {
            if (op == XA_ADC || op == XA_SBB)
                tx_cf_to_host(t);
            tx_gr_alu_ri(t, op, sz, i->rm, i->imm);
        } else if (op == XA_CMP) {
            tx_emit_load(t, i, k, eip, sz);
            x64_alu_ri(e, XA_CMP, sz, X_RAX, i->imm);
        } else if (op != XA_ADC && op != XA_SBB) {
            emit_rmw(t, i, k, eip, next, RMW_ALU, op, false, i->imm);
            return true;
        } else {
            return false;
        }
        t->fl = F_HOST;
        return true;
    }
    case 0x84: case 0x85:
        load_rm(t, i, k, eip, sz);
        tx_gr_load(t, sz, X_RCX, i->reg);
        x64_test_rr(e, sz, X_RAX, X_RCX);
        t->fl = F_HOST;
        return true;
    case 0xa8: case 0xa9:
        tx_gr_test_ri(t, sz, R_EAX, i->imm);
        t->fl = F_HOST;
        return true;
    case 0xf6: case 0xf7:
        if (opc == 0xf7 && (i->reg == 4 || i->reg == 5))
            return emit_mul(t, i, k, eip);
        if (i->reg <= 1) {
            if (reg) {
                tx_gr_test_ri(t, sz, i->rm, i->imm);
            } else {
                tx_emit_load(t, i, k, eip, sz);
                x64_test_ri(e, sz, X_RAX, i->imm);
            }
            t->fl = F_HOST;
            return true;
        }
        if (i->reg != 2 && i->reg != 3)
            return false;
        if (!reg) {
            emit_rmw(t, i, k, eip, next, i->reg == 2 ? RMW_NOT : RMW_NEG, XA_ADD, false, 0);
            return true;
        }
        tx_gr_load(t, sz, X_RAX, i->rm);
        if (i->reg == 2) {
            x64_not_r(e, sz, X_RAX); /* NOT leaves the flags alone */
        } else {
            x64_neg_r(e, sz, X_RAX);
            t->fl = F_HOST;
        }
        tx_gr_store(t, sz, i->rm, X_RAX);
        return true;
    case 0xfe: case 0xff:
        if (i->reg > 1)
            return false;
        if (!reg) {
            emit_rmw(t, i, k, eip, next, i->reg ? RMW_DEC : RMW_INC, XA_ADD, false, 0);
            return true;
        }
        /* fallthrough */
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
    case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f: {
        bool dec = opc >= 0xfe ? i->reg == 1 : opc >= 0x48;
        tx_cf_to_host(t); /* INC and DEC keep CF */
        tx_gr_load(t, sz, X_RAX, i->rm);
        if (dec)
            x64_dec_r(e, sz, X_RAX);
        else
            x64_inc_r(e, sz, X_RAX);
        tx_gr_store(t, sz, i->rm, X_RAX);
        t->fl = F_HOST;
        return true;
    }
    case 0x88: case 0x89:
        if (reg) {
            tx_gr_load(t, sz, X_RAX, i->reg);
            tx_gr_store(t, sz, i->rm, X_RAX);
            return true;
        }
        tx_sync_access(t);
        tx_emit_ea(t, i);
        if (sz == 4)
            tx_gr_load(t, 4, X_RDX, i->reg);
        else
            x64_movzx_rm(e, sz, X_RDX, greg(i->reg, sz));
        tx_emit_store_call(t, i->seg, sz, k, eip, next);
        return true;
    case 0x8a: case 0x8b:
        load_rm(t, i, k, eip, sz);
        tx_gr_store(t, sz, i->reg, X_RAX);
        return true;
    case 0xb0: case 0xb1: case 0xb2: case 0xb3: case 0xb4: case 0xb5: case 0xb6: case 0xb7:
    case 0xb8: case 0xb9: case 0xba: case 0xbb: case 0xbc: case 0xbd: case 0xbe: case 0xbf:
        tx_gr_store_imm(t, sz, i->rm, i->imm);
        return true;
    case 0xc6: case 0xc7:
        if (reg) {
            tx_gr_store_imm(t, sz, i->rm, i->imm);
            return true;
        }
        tx_sync_access(t);
        tx_emit_ea(t, i);
        x64_mov_ri32(e, X_RDX, sz == 4 ? i->imm : i->imm & ((1u << (8 * sz)) - 1));
        tx_emit_store_call(t, i->seg, sz, k, eip, next);
        return true;
    case 0xc1: case 0xd1: case 0xd3:
        return i->reg <= 1 ? emit_rotate(t, i) : emit_shift(t, i, k);
    case 0x90: /* NOP (and PAUSE) */
    case 0x118: case 0x119: case 0x11a: case 0x11b: case 0x11c: case 0x11d: case 0x11e:
    case 0x11f: /* hint NOPs: a ModRM operand, no access */
        return true;
    case 0xa0: case 0xa1: /* MOV AL/eAX, moffs */
        tx_sync_access(t);
        x64_mov_ri32(e, X_RSI, i->imm);
        tx_access(t, sz, i->seg, false, k, eip);
        tx_gr_store(t, sz, R_EAX, X_RAX);
        return true;
    case 0xa2: case 0xa3: /* MOV moffs, AL/eAX */
        tx_sync_access(t);
        x64_mov_ri32(e, X_RSI, i->imm);
        if (sz == 4)
            tx_gr_load(t, 4, X_RDX, R_EAX);
        else
            x64_movzx_rm(e, sz, X_RDX, greg(R_EAX, sz));
        tx_emit_store_call(t, i->seg, sz, k, eip, next);
        return true;
    case 0xe2: case 0xe3: { /* LOOP, JECXZ: ECX (CX) steps without flags */
        u32 target = next + i->imm;
        if (i->vsz == 2)
            target &= 0xffff;
        unsigned csz = i->asz;
        tx_flags_save(t);
        if (csz == 4)
            tx_gr_load(t, 4, X_RCX, R_ECX);
        else
            x64_movzx_rm(e, 2, X_RCX, greg(R_ECX, 2));
        if (opc == 0xe2) {
            x64_lea32(e, X_RCX, x64_m(X_RCX, -1));
            tx_gr_store(t, csz, R_ECX, X_RCX);
        }
        x64_test_rr(e, csz, X_RCX, X_RCX);
        jump_out(t, opc == 0xe2 ? 5 /* ne */ : 4 /* e */, k, eip, next, target, true);
        if (opc == 0xe2)
            t->stub[t->nstub - 1].undo_ecx = (u8)csz;
        return true;
    }
    case 0x1af: case 0x69: case 0x6b:
        return emit_imul(t, i, k, eip);
    case 0x8d:
        tx_emit_ea(t, i);
        tx_gr_store(t, sz, i->reg, X_RSI);
        return true;
    case 0x1b6: case 0x1b7: case 0x1be: case 0x1bf: {
        unsigned ssz = (opc & 1) ? 2 : 1;
        bool sx = opc >= 0x1be;
        if (reg) {
            if (sx)
                x64_movsx_rm(e, ssz, X_RAX, greg(i->rm, ssz));
            else
                x64_movzx_rm(e, ssz, X_RAX, greg(i->rm, ssz));
        } else {
            tx_emit_load(t, i, k, eip, ssz);
            if (sx)
                x64_movsx_rr(e, ssz, X_RAX, X_RAX);
        }
        tx_gr_store(t, sz, i->reg, X_RAX);
        return true;
    }
    case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
    case 0x68: case 0x6a:
        if (sz != 4 || !(t->c->mode & MODE_SS32))
            return false;
        tx_sync_access(t);
        x64_load(e, 4, X_RSI, CPU(r[R_ESP]));
        x64_lea32(e, X_RSI, x64_m(X_RSI, -4));
        if (opc < 0x58)
            tx_gr_load(t, 4, X_RDX, i->rm);
        else
            x64_mov_ri32(e, X_RDX, i->imm);
        tx_access(t, 4, S_SS, true, k, eip);
        x64_alu_mi(e, XA_SUB, 4, CPU(r[R_ESP]), 4);
        t->esp_dirty = true;
        tx_check_epoch(t, k, next);
        return true;
    case 0x58: case 0x59: case 0x5a: case 0x5b: case 0x5c: case 0x5d: case 0x5e: case 0x5f:
        if (sz != 4 || !(t->c->mode & MODE_SS32))
            return false;
        tx_sync_access(t);
        x64_load(e, 4, X_RSI, CPU(r[R_ESP]));
        tx_access(t, 4, S_SS, false, k, eip);
        /* ESP steps before the write, so POP ESP keeps the value read. */
        x64_alu_mi(e, XA_ADD, 4, CPU(r[R_ESP]), 4);
        tx_gr_store(t, 4, i->rm, X_RAX);
        t->esp_dirty = true;
        return true;
    case 0x190: case 0x191: case 0x192: case 0x193: case 0x194: case 0x195: case 0x196:
    case 0x197: case 0x198: case 0x199: case 0x19a: case 0x19b: case 0x19c: case 0x19d:
    case 0x19e: case 0x19f:
        if (!reg)
            return false;
        tx_flags_to_host(t);
        x64_setcc(e, opc & 15, X_RAX);
        tx_gr_store(t, 1, i->rm, X_RAX);
        return true;
    case 0x140: case 0x141: case 0x142: case 0x143: case 0x144: case 0x145: case 0x146:
    case 0x147: case 0x148: case 0x149: case 0x14a: case 0x14b: case 0x14c: case 0x14d:
    case 0x14e: case 0x14f:
        if (!reg) {
            /* The source is read whatever the condition (and may fault:
             * SDM vol. 2, CMOVcc); kept in R15 while the flags come back
             * into the host, which may call out. */
            tx_emit_load(t, i, k, eip, sz);
            x64_mov_rr(e, 4, X_R15, X_RAX);
            tx_flags_to_host(t);
            tx_gr_load(t, sz, X_RAX, i->reg);
            x64_cmov_rr(e, opc & 15, 4, X_RAX, X_R15);
            tx_gr_store(t, sz, i->reg, X_RAX);
            return true;
        }
        tx_flags_to_host(t);
        tx_gr_load(t, sz, X_RAX, i->reg);
        tx_gr_cmov(t, opc & 15, sz, X_RAX, i->rm);
        tx_gr_store(t, sz, i->reg, X_RAX);
        return true;
    case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77:
    case 0x78: case 0x79: case 0x7a: case 0x7b: case 0x7c: case 0x7d: case 0x7e: case 0x7f:
    case 0x180: case 0x181: case 0x182: case 0x183: case 0x184: case 0x185: case 0x186:
    case 0x187: case 0x188: case 0x189: case 0x18a: case 0x18b: case 0x18c: case 0x18d:
    case 0x18e: case 0x18f: {
        u32 target = next + i->imm;
        if (i->vsz == 2)
            target &= 0xffff;
        tx_flags_to_host(t);
        jump_out(t, (int)(opc & 15), k, eip, next, target, true);
        return true;
    }
    case 0xe9: case 0xeb: {
        u32 target = next + i->imm;
        if (i->vsz == 2)
            target &= 0xffff;
        jump_out(t, -1, k, eip, next, target, true);
        return true;
    }
    case 0xc2: case 0xc3: {
        /* RET: pop, check the CS limit, and look the target up. */
        if (i->vsz != 4 || !(t->c->mode & MODE_SS32))
            return false;
        tx_sync_fault(t, k, eip);
        x64_load(e, 4, X_RSI, CPU(r[R_ESP]));
        tx_access(t, 4, S_SS, false, k, eip);
        x64_alu_rm(e, XA_CMP, 4, X_RAX, CPU(seg[S_CS].limit));
        long ok = x64_jcc(e, 6 /* be */, NULL);
        fault_by_handler(t, i, k, next);
        x64_patch_rel32(e->start, ok, e->p);
        x64_alu_mi(e, XA_ADD, 4, CPU(r[R_ESP]), 4 + (opc == 0xc2 ? i->imm & 0xffff : 0));
        x64_store(e, 4, CPU(eip), X_RAX);
        t->esp_dirty = true;
        tx_exit_if(t, -1, k + 1, false, 0);
        t->stub[t->nstub - 1].indirect = true;
        return true;
    }
    case 0xe8: {
        /* CALL rel32: the target's CS check, then the push, then on. */
        if (i->vsz != 4 || !(t->c->mode & MODE_SS32))
            return false;
        u32 target = next + i->imm;
        tx_sync_fault(t, k, eip);
        x64_alu_mi(e, XA_CMP, 4, CPU(seg[S_CS].limit), target);
        long ok = x64_jcc(e, 3 /* ae */, NULL);
        fault_by_handler(t, i, k, next);
        x64_patch_rel32(e->start, ok, e->p);
        x64_load(e, 4, X_RSI, CPU(r[R_ESP]));
        x64_lea32(e, X_RSI, x64_m(X_RSI, -4));
        x64_mov_ri32(e, X_RDX, next);
        tx_access(t, 4, S_SS, true, k, eip);
        x64_alu_mi(e, XA_SUB, 4, CPU(r[R_ESP]), 4);
        t->esp_dirty = true;
        tx_check_epoch(t, k, target);
        jump_out(t, -1, k, eip, next, target, false);
        return true;
    }
    default:
        return false;
    }
}
