/*
 * x87 instruction handlers: the D8-DF escapes, WAIT/FWAIT and
 * FXSAVE/FXRSTOR (SDM vol. 1, chapter 8; vol. 2, the F* instruction
 * pages; opcode map vol. 2, A.4 "Escape opcode instructions").
 *
 * Each escape goes through the same steps, in the order the hardware
 * checks them:
 *   1. CR0.EM or CR0.TS: #NM (SDM vol. 3A, table 2-2);
 *   2. reserved encodings: #UD;
 *   3. waiting instructions (all but FNINIT, FNCLEX, FNSTSW, FNSTCW,
 *      FNSTENV, FNSAVE) with an unmasked exception pending: #MF when
 *      CR0.NE, otherwise FERR# goes to the board (the PC routes it to
 *      IRQ13 and asserts IGNNE#, so the instruction then proceeds);
 *   4. memory operand loads; the computation on the host x87 (fpu.c) into
 *      a copy of the state; stores; only then the new state is committed,
 *      so a faulting store leaves the register stack as it was.
 * The control instructions (FLDCW, FNSTCW, FNSTSW, FNCLEX, FNINIT,
 * FLDENV, FNSTENV, FRSTOR, FNSAVE) and the FXSAVE area only move state
 * and are done here.  FIP/FCS/FOP (and FDP/FDS for memory forms) record
 * the last non-control instruction.
 */
#include <string.h>

#include "cpu_state.h"
#include "flags.h"
#include "fpu.h"
#include "mem.h"
#include "ops.h"

/* ---- FERR#, #NM and #MF ---- */

static void fpu_set_ferr(struct cpu *c, bool level)
{
    if (c->fpu.ferr == level)
        return;
    c->fpu.ferr = level;
    if (c->cb.ferr)
        c->cb.ferr(c->cb.opaque, level);
}

/* After an instruction cleared the exception flags, FERR# goes away. */
static void fpu_sync_ferr(struct cpu *c)
{
    if (!(c->fpu.sw & FSW_ES))
        fpu_set_ferr(c, false);
}

/* A waiting x87 instruction with an unmasked exception pending (SDM
 * vol. 1, 8.7; vol. 3A, 2.5 CR0.NE). */
void fpu_check_pending(struct cpu *c)
{
    if (likely(!(c->fpu.sw & FSW_ES)))
        return;
    if (c->cr0 & CR0_NE)
        cpu_raise_noerr(c, EXC_MF);
    fpu_set_ferr(c, true);
}

void op_fwait(struct cpu *c, const struct insn *i)
{
    (void)i;
    if ((c->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
        cpu_raise_noerr(c, EXC_NM);
    fpu_check_pending(c);
}

/* ---- memory blocks ---- */

static u32 ea_mask(const struct insn *i) { return i->asz == 2 ? 0xffffu : 0xffffffffu; }

static void mem_load(struct cpu *c, const struct insn *i, u32 ea, u8 *buf, unsigned n)
{
    for (unsigned k = 0; k < n; k += 2) {
        u16 v = (u16)mem_read(c, i->seg, (ea + k) & ea_mask(i), 2);
        memcpy(buf + k, &v, 2);
    }
}

/* Probe the whole block before writing any of it (fault first). */
static void mem_store(struct cpu *c, const struct insn *i, u32 ea, const u8 *buf, unsigned n)
{
    if (n > 4) {
        mem_probe_write(c, i->seg, ea, 2);
        mem_probe_write(c, i->seg, (ea + n - 2) & ea_mask(i), 2);
    }
    for (unsigned k = 0; k < n; k += 2) {
        u16 v;
        memcpy(&v, buf + k, 2);
        mem_write(c, i->seg, (ea + k) & ea_mask(i), v, 2);
    }
}

static void put16(u8 *p, u32 v) { p[0] = (u8)v, p[1] = (u8)(v >> 8); }
static void put32(u8 *p, u32 v) { put16(p, v), put16(p + 2, v >> 16); }
static u32 get16(const u8 *p) { return p[0] | (u32)p[1] << 8; }
static u32 get32(const u8 *p) { return get16(p) | get16(p + 2) << 16; }

/* ---- host execution ---- */

/* Run the instruction on the host into `out` (a copy of the state).  The
 * exception flags already set are kept out of the host (they would make
 * it fault) and OR-ed back afterwards: they are sticky. */
static u32 fpu_run_host(struct cpu *c, unsigned esc, unsigned modrm, u8 *mem, struct fpu *out)
{
    struct fpu_image img;
    fpu_to_image(&c->fpu, &img);
    img.sw &= ~(u32)(FSW_STICKY | FSW_ES | FSW_B);
    u32 fl = fpu_host_exec(&img, esc, modrm, mem, get_eflags(c));
    *out = c->fpu;
    fpu_from_image(out, &img);
    out->sw |= c->fpu.sw & FSW_STICKY;
    fpu_update_es(out);
    return fl;
}

static void fpu_commit(struct cpu *c, struct fpu *nf, const struct insn *i)
{
    nf->fip = c->insn_eip;
    nf->fcs = c->seg[S_CS].sel;
    nf->fop = (u16)((i->opc & 7) << 8 | i->mod << 6 | i->reg << 3 | i->rm);
    c->fpu = *nf;
}

/* ---- environment and state images (SDM vol. 1, figures 8-9..8-12) ---- */

static bool fpu_real_layout(const struct cpu *c) { return !cpu_pe(c) || cpu_vm86(c); }

static unsigned env_store(const struct cpu *c, u8 *b, bool o32)
{
    const struct fpu *f = &c->fpu;
    u32 tw = fpu_tag_word(f);
    u32 ip = ((u32)f->fcs << 4) + f->fip, dp = ((u32)f->fds << 4) + f->fdp;
    u32 fop = f->fop & 0x7ffu;
    bool real = fpu_real_layout(c);
    if (o32) {
        put32(b + 0, 0xffff0000u | f->cw);
        put32(b + 4, 0xffff0000u | f->sw);
        put32(b + 8, 0xffff0000u | tw);
        if (!real) {
            put32(b + 12, f->fip);
            put32(b + 16, f->fcs | fop << 16);
            put32(b + 20, f->fdp);
            put32(b + 24, 0xffff0000u | f->fds);
        } else {
            put32(b + 12, 0xffff0000u | (ip & 0xffff));
            put32(b + 16, (ip >> 16) << 12 | fop);
            put32(b + 20, 0xffff0000u | (dp & 0xffff));
            put32(b + 24, (dp >> 16) << 12);
        }
        return 28;
    }
    put16(b + 0, f->cw);
    put16(b + 2, f->sw);
    put16(b + 4, tw);
    if (!real) {
        put16(b + 6, f->fip);
        put16(b + 8, f->fcs);
        put16(b + 10, f->fdp);
        put16(b + 12, f->fds);
    } else {
        put16(b + 6, ip);
        put16(b + 8, ((ip >> 16) & 0xf) << 12 | fop);
        put16(b + 10, dp);
        put16(b + 12, ((dp >> 16) & 0xf) << 12);
    }
    return 14;
}

static unsigned env_load(const struct cpu *c, struct fpu *f, const u8 *b, bool o32)
{
    bool real = fpu_real_layout(c);
    u32 tw;
    if (o32) {
        f->cw = (u16)get16(b + 0);
        f->sw = (u16)get16(b + 4);
        tw = get16(b + 8);
        if (!real) {
            f->fip = get32(b + 12);
            f->fcs = (u16)get16(b + 16);
            f->fop = (u16)(get16(b + 18) & 0x7ff);
            f->fdp = get32(b + 20);
            f->fds = (u16)get16(b + 24);
        } else {
            f->fip = get16(b + 12) | (get32(b + 16) >> 12 & 0xffff) << 16;
            f->fop = (u16)(get16(b + 16) & 0x7ff);
            f->fdp = get16(b + 20) | (get32(b + 24) >> 12 & 0xffff) << 16;
            f->fcs = f->fds = 0;
        }
    } else {
        f->cw = (u16)get16(b + 0);
        f->sw = (u16)get16(b + 2);
        tw = get16(b + 4);
        if (!real) {
            f->fip = get16(b + 6);
            f->fcs = (u16)get16(b + 8);
            f->fdp = get16(b + 10);
            f->fds = (u16)get16(b + 12);
        } else {
            f->fip = get16(b + 6) | (get16(b + 8) >> 12) << 16;
            f->fop = (u16)(get16(b + 8) & 0x7ff);
            f->fdp = get16(b + 10) | (get16(b + 12) >> 12) << 16;
            f->fcs = f->fds = 0;
        }
    }
    f->cw = (u16)((f->cw & FCW_WRITABLE) | FCW_FIXED);
    f->valid = fpu_valid_from_tw((u16)tw);
    fpu_update_es(f);
    return o32 ? 28 : 14;
}

/* FLDENV (D9 /4) and FRSTOR (DD /4). */
static void fpu_ldenv(struct cpu *c, const struct insn *i, u32 ea, bool regs)
{
    bool o32 = i->vsz == 4;
    u8 b[108];
    unsigned n = (o32 ? 28 : 14) + (regs ? 80 : 0);
    mem_load(c, i, ea, b, n);
    struct fpu nf = c->fpu;
    unsigned off = env_load(c, &nf, b, o32);
    if (regs) {
        unsigned top = fpu_top(&nf);
        for (unsigned k = 0; k < 8; k++)
            memcpy(nf.reg[(top + k) & 7], b + off + 10 * k, 10);
    }
    c->fpu = nf;
    fpu_sync_ferr(c);
}

/* FNSTENV (D9 /6) masks all exceptions afterwards; FNSAVE (DD /6)
 * reinitializes the FPU. */
static void fpu_stenv(struct cpu *c, const struct insn *i, u32 ea, bool regs)
{
    u8 b[108];
    unsigned off = env_store(c, b, i->vsz == 4);
    if (regs) {
        unsigned top = fpu_top(&c->fpu);
        for (unsigned k = 0; k < 8; k++)
            memcpy(b + off + 10 * k, c->fpu.reg[(top + k) & 7], 10);
    }
    mem_store(c, i, ea, b, off + (regs ? 80 : 0));
    if (regs)
        fpu_init(&c->fpu);
    else
        c->fpu.cw |= FCW_MASKS;
    fpu_update_es(&c->fpu);
    fpu_sync_ferr(c);
}

/* ---- memory forms ---- */

/* What each memory form does with its operand: load or store and size,
 * or one of the control instructions, or #UD (SDM vol. 2, table A-8). */
enum { M_UD, M_LD, M_ST, M_LDENV, M_LDCW, M_STENV, M_STCW, M_RSTOR, M_SAVE, M_STSW };
struct mem_form {
    u8 kind, size;
};
static const struct mem_form mem_forms[8][8] = {
    { { M_LD, 4 }, { M_LD, 4 }, { M_LD, 4 }, { M_LD, 4 }, { M_LD, 4 }, { M_LD, 4 }, { M_LD, 4 }, { M_LD, 4 } },
    { { M_LD, 4 }, { M_UD, 0 }, { M_ST, 4 }, { M_ST, 4 }, { M_LDENV, 0 }, { M_LDCW, 2 }, { M_STENV, 0 }, { M_STCW, 2 } },
    { { M_LD, 4 }, { M_LD, 4 }, { M_LD, 4 }, { M_LD, 4 }, { M_LD, 4 }, { M_LD, 4 }, { M_LD, 4 }, { M_LD, 4 } },
    /* DB /1 is FISTTP, an SSE3 instruction */
    { { M_LD, 4 }, { M_UD, 0 }, { M_ST, 4 }, { M_ST, 4 }, { M_UD, 0 }, { M_LD, 10 }, { M_UD, 0 }, { M_ST, 10 } },
    { { M_LD, 8 }, { M_LD, 8 }, { M_LD, 8 }, { M_LD, 8 }, { M_LD, 8 }, { M_LD, 8 }, { M_LD, 8 }, { M_LD, 8 } },
    { { M_LD, 8 }, { M_UD, 0 }, { M_ST, 8 }, { M_ST, 8 }, { M_RSTOR, 0 }, { M_UD, 0 }, { M_SAVE, 0 }, { M_STSW, 2 } },
    { { M_LD, 2 }, { M_LD, 2 }, { M_LD, 2 }, { M_LD, 2 }, { M_LD, 2 }, { M_LD, 2 }, { M_LD, 2 }, { M_LD, 2 } },
    { { M_LD, 2 }, { M_UD, 0 }, { M_ST, 2 }, { M_ST, 2 }, { M_LD, 10 }, { M_LD, 8 }, { M_ST, 10 }, { M_ST, 8 } },
};

static bool bytes_all(const u8 *p, unsigned n, u8 v)
{
    for (unsigned k = 0; k < n; k++)
        if (p[k] != v)
            return false;
    return true;
}

static void fpu_mem_form(struct cpu *c, const struct insn *i)
{
    unsigned esc = i->opc & 7;
    const struct mem_form *mf = &mem_forms[esc][i->reg];
    u32 ea = insn_ea(c, i);
    unsigned modrm = i->reg << 3 | 6;
    if (mf->kind == M_UD)
        cpu_ud(c);
    /* The non-waiting forms skip the pending-exception check. */
    if (mf->kind != M_STENV && mf->kind != M_STCW && mf->kind != M_SAVE && mf->kind != M_STSW)
        fpu_check_pending(c);
    u8 buf[16];
    struct fpu nf;
    switch (mf->kind) {
    case M_LD:
        mem_load(c, i, ea, buf, mf->size);
        fpu_run_host(c, esc, modrm, buf, &nf);
        break;
    case M_ST:
        /* Unmasked exceptions leave memory unwritten: tell by a sentinel
         * (run twice if the result happens to equal the first one). */
        memset(buf, 0xa5, sizeof buf);
        fpu_run_host(c, esc, modrm, buf, &nf);
        if (bytes_all(buf, mf->size, 0xa5)) {
            memset(buf, 0x5a, sizeof buf);
            fpu_run_host(c, esc, modrm, buf, &nf);
        }
        if (!bytes_all(buf, mf->size, 0x5a))
            mem_store(c, i, ea, buf, mf->size);
        break;
    case M_LDCW:
        c->fpu.cw = (u16)((mem_read(c, i->seg, ea, 2) & FCW_WRITABLE) | FCW_FIXED);
        fpu_update_es(&c->fpu);
        fpu_sync_ferr(c);
        return;
    case M_STCW:
        mem_write(c, i->seg, ea, c->fpu.cw, 2);
        return;
    case M_STSW:
        mem_write(c, i->seg, ea, c->fpu.sw, 2);
        return;
    case M_LDENV:
    case M_RSTOR:
        fpu_ldenv(c, i, ea, mf->kind == M_RSTOR);
        return;
    default:
        fpu_stenv(c, i, ea, mf->kind == M_SAVE);
        return;
    }
    nf.fdp = ea;
    nf.fds = c->seg[i->seg].sel;
    fpu_commit(c, &nf, i);
    fpu_sync_ferr(c);
}

/* ---- register forms ---- */

enum { R_UD, R_HOST, R_HOST_FLAGS, R_NOP, R_CLEX, R_INIT, R_STSW_AX };

/* SDM vol. 2, tables A-8..A-22.  The undocumented aliases a P6 executes
 * (FSTP1 D9 D8, FCOM2 DC D0, FCOMP3 DC D8, FXCH4 DD C8, FCOMP5 DE D0,
 * FFREEP DF C0, FXCH7 DF C8, FSTP8/9 DF D0/D8) are kept. */
static unsigned reg_kind(unsigned esc, unsigned m)
{
    unsigned r = (m >> 3) & 7;
    switch (esc) {
    case 0:
    case 4:
        return R_HOST;
    case 1:
        if (r == 2)
            return m == 0xd0 ? R_HOST : R_UD;
        if (r == 4)
            return m == 0xe0 || m == 0xe1 || m == 0xe4 || m == 0xe5 ? R_HOST : R_UD;
        if (r == 5)
            return m == 0xef ? R_UD : R_HOST;
        return R_HOST;
    case 2:
        return r < 4 || m == 0xe9 ? R_HOST : R_UD;
    case 3:
        if (r < 4)
            return R_HOST;
        if (r == 5 || r == 6)
            return R_HOST_FLAGS;
        if (r == 7)
            return R_UD;
        /* FNENI, FNDISI, FNSETPM do nothing on a 387 or later */
        if (m == 0xe0 || m == 0xe1 || m == 0xe4)
            return R_NOP;
        return m == 0xe2 ? R_CLEX : m == 0xe3 ? R_INIT : R_UD;
    case 5:
        return r < 6 ? R_HOST : R_UD;
    case 6:
        return r == 3 && m != 0xd9 ? R_UD : R_HOST;
    default:
        if (r < 4)
            return R_HOST;
        if (r == 4)
            return m == 0xe0 ? R_STSW_AX : R_UD;
        return r == 7 ? R_UD : R_HOST_FLAGS;
    }
}

static void fpu_reg_form(struct cpu *c, const struct insn *i)
{
    unsigned esc = i->opc & 7;
    unsigned modrm = 0xc0u | i->reg << 3 | i->rm;
    unsigned kind = reg_kind(esc, modrm);
    switch (kind) {
    case R_UD:
        cpu_ud(c);
    case R_NOP:
        return;
    case R_CLEX:
        c->fpu.sw &= (u16)~(FSW_STICKY | FSW_ES | FSW_B);
        fpu_sync_ferr(c);
        return;
    case R_INIT:
        fpu_init(&c->fpu);
        fpu_sync_ferr(c);
        return;
    case R_STSW_AX:
        reg_write(c, R_EAX, c->fpu.sw, 2);
        return;
    default:
        break;
    }
    fpu_check_pending(c);
    struct fpu nf;
    u8 unused[16] = { 0 };
    u32 fl = fpu_run_host(c, esc, modrm, unused, &nf);
    if (kind == R_HOST_FLAGS)
        set_oszapc(c, fl);
    fpu_commit(c, &nf, i);
    fpu_sync_ferr(c);
}

void op_fpu_esc(struct cpu *c, const struct insn *i)
{
    if (c->cr0 & (CR0_EM | CR0_TS))
        cpu_raise_noerr(c, EXC_NM);
    if (i->mod == 3)
        fpu_reg_form(c, i);
    else
        fpu_mem_form(c, i);
}

/* ---- FXSAVE / FXRSTOR (SDM vol. 2, FXSAVE, table 3-53) ---- */

static u32 fxsave_ea(struct cpu *c, const struct insn *i)
{
    if (c->cr0 & (CR0_EM | CR0_TS))
        cpu_raise_noerr(c, EXC_NM);
    u32 ea = insn_ea(c, i);
    if ((c->seg[i->seg].base + ea) & 15)
        cpu_gp(c, 0);
    return ea;
}

/* Bytes 0-287 carry the x87 state, MXCSR and the XMM registers (sse.c
 * fills those); the rest of the 512-byte area is reserved and left
 * alone. */
#define FXSAVE_USED 288u

void op_fxsave(struct cpu *c, const struct insn *i)
{
    u32 ea = fxsave_ea(c, i);
    const struct fpu *f = &c->fpu;
    u8 b[FXSAVE_USED];
    memset(b, 0, sizeof b);
    put16(b + 0, f->cw);
    put16(b + 2, f->sw);
    b[4] = f->valid;
    put16(b + 6, f->fop & 0x7ffu);
    put32(b + 8, f->fip);
    put16(b + 12, f->fcs);
    put32(b + 16, f->fdp);
    put16(b + 20, f->fds);
    unsigned top = fpu_top(f);
    for (unsigned k = 0; k < 8; k++)
        memcpy(b + 32 + 16 * k, f->reg[(top + k) & 7], 10);
    sse_fxsave(c, b);
    /* The XMM area (bytes 160-287) is left alone with CR4.OSFXSR=0. */
    mem_store(c, i, ea, b, (c->cr4 & CR4_OSFXSR) ? FXSAVE_USED : 160);
}

void op_fxrstor(struct cpu *c, const struct insn *i)
{
    u32 ea = fxsave_ea(c, i);
    u8 b[FXSAVE_USED];
    mem_load(c, i, ea, b, sizeof b);
    struct fpu nf = c->fpu;
    nf.cw = (u16)((get16(b + 0) & FCW_WRITABLE) | FCW_FIXED);
    nf.sw = (u16)get16(b + 2);
    nf.valid = b[4];
    nf.fop = (u16)(get16(b + 6) & 0x7ff);
    nf.fip = get32(b + 8);
    nf.fcs = (u16)get16(b + 12);
    nf.fdp = get32(b + 16);
    nf.fds = (u16)get16(b + 20);
    unsigned top = fpu_top(&nf);
    for (unsigned k = 0; k < 8; k++)
        memcpy(nf.reg[(top + k) & 7], b + 32 + 16 * k, 10);
    fpu_update_es(&nf);
    /* A reserved MXCSR bit is #GP(0) with nothing restored (SDM vol. 2,
     * FXRSTOR). */
    if (!sse_fxrstor(c, b))
        cpu_gp(c, 0);
    c->fpu = nf;
    fpu_sync_ferr(c);
}
