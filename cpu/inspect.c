/*
 * What the debugger (gdb stub, monitor) sees of and sets in the CPU: its
 * state beyond cpu_get_reg() (segment caches, descriptor-table
 * registers, control registers, EFER, CPL and the x87 registers in the
 * order gdb numbers them: ST(i), the full tag word, SDM vol. 1, 8.1.7),
 * edits of it made as the instructions make them, and watchpoints,
 * checked beside the DR7 data breakpoints (ops_system.c, dr_update and
 * dbg_data_access) but invisible to the guest: no #DB, no DR6 change.
 */
#include <setjmp.h>
#include <string.h>

#include "cpu.h"
#include "cpu_state.h"
#include "flags.h"
#include "fpu.h"
#include "system.h"

void cpu_get_sysregs(const struct cpu *c, struct cpu_sysregs *s)
{
    memset(s, 0, sizeof *s);
    for (unsigned k = 0; k < 6; k++) {
        s->seg[k].sel = c->seg[k].sel;
        s->seg[k].base = c->seg[k].base;
        s->seg[k].limit = c->seg[k].limit;
        s->seg[k].flags = c->seg[k].flags;
    }
    s->ldtr = (struct cpu_seg_view){ c->ldtr.sel, c->ldtr.base, c->ldtr.limit, c->ldtr.flags };
    s->tr = (struct cpu_seg_view){ c->tr.sel, c->tr.base, c->tr.limit, c->tr.flags };
    s->gdtr_base = c->gdtr.base;
    s->gdtr_limit = c->gdtr.limit;
    s->idtr_base = c->idtr.base;
    s->idtr_limit = c->idtr.limit;
    s->cr0 = c->cr0;
    s->cr2 = c->cr2;
    s->cr3 = c->cr3;
    s->cr4 = c->cr4;
    s->efer = c->efer;
    s->cpl = c->cpl;
    s->eflags = get_eflags(c);
    const struct fpu *f = &c->fpu;
    unsigned top = fpu_top(f);
    for (unsigned i = 0; i < 8; i++)
        memcpy(s->st[i], f->reg[(top + i) & 7], 10);
    s->fcw = f->cw;
    s->fsw = f->sw;
    s->ftw = fpu_tag_word(f);
    s->fop = f->fop;
    s->fcs = f->fcs;
    s->fds = f->fds;
    s->fip = f->fip;
    s->fdp = f->fdp;
}

void cpu_set_watchpoints(struct cpu *c, const struct cpu_watch *w, unsigned n)
{
    c->n_watch = 0;
    for (unsigned k = 0; k < n && k < CPU_MAX_WATCH; k++)
        if (w[k].len)
            c->watch[c->n_watch++] = w[k];
    c->watch_hit = false;
    dr_update(c);
}

void cpu_set_breakpoints(struct cpu *c, const u32 *lin, unsigned n)
{
    c->n_bp = n < CPU_MAX_BP ? n : CPU_MAX_BP;
    memcpy(c->bp, lin, c->n_bp * sizeof *lin);
}

bool cpu_take_watch_hit(struct cpu *c, unsigned *index, u32 *lin, bool *write)
{
    if (!c->watch_hit)
        return false;
    c->watch_hit = false;
    *index = c->watch_hit_index;
    *lin = c->watch_hit_lin;
    *write = c->watch_hit_write;
    return true;
}

u32 cpu_insn_eip(const struct cpu *c)
{
    return c->insn_eip;
}

/* ---- edits ---- */

/* Run fn(c, arg), catching what it raises: the exception is not
 * delivered and the CPU's exception bookkeeping (and CR2, which a #PF
 * on a descriptor table would set) is as before.  -1 if it raised. */
static int guarded(struct cpu *c, void (*fn)(struct cpu *, const void *), const void *arg)
{
    jmp_buf saved;
    memcpy(&saved, &c->jb, sizeof saved);
    const int vec = c->exc_vec, first = c->exc_first;
    const u32 err = c->exc_err, cr2 = c->cr2;
    const bool has_err = c->exc_has_err;
    volatile int rc = 0;
    if (setjmp(c->jb))
        rc = -1;
    else
        fn(c, arg);
    memcpy(&c->jb, &saved, sizeof saved);
    c->exc_vec = vec;
    c->exc_first = first;
    c->exc_err = err;
    c->exc_has_err = has_err;
    if (rc)
        c->cr2 = cr2;
    return rc;
}

struct edit {
    unsigned n;
    u64 v;
};

static void do_cr(struct cpu *c, const void *arg)
{
    const struct edit *e = arg;
    cpu_write_cr(c, e->n, (u32)e->v);
}

static void do_efer(struct cpu *c, const void *arg)
{
    cpu_write_efer(c, ((const struct edit *)arg)->v);
}

/* LLDT (n 0) or LTR (n 1) without the instructions' CPL check and
 * without LTR's busy-bit store: the debugger sets what the register
 * caches, and guest memory stays as it is. */
static void do_ldtr_tr(struct cpu *c, const void *arg)
{
    const struct edit *e = arg;
    u16 sel = (u16)e->v;
    u32 lo, hi;
    if (!(c->mode & MODE_PE) || (c->mode & MODE_VM86))
        cpu_ud(c);
    if ((sel & 0xfffc) == 0) {
        if (e->n)
            cpu_gp(c, 0);
        seg_set(&c->ldtr, sel, 0, 0, 0);
        return;
    }
    if ((sel & 4) || !desc_read(c, sel, &lo, &hi) || (hi & DESC_S) || !(hi & DESC_P))
        cpu_gp(c, sel & 0xfffc);
    unsigned type = DESC_TYPE(hi);
    /* an LDT; or a 16- or 32-bit TSS, available or busy */
    if (e->n ? (type & 5) != 1 : type != 2)
        cpu_gp(c, sel & 0xfffc);
    seg_set_desc(e->n ? &c->tr : &c->ldtr, sel, lo, hi);
}

int cpu_set_sysreg(struct cpu *c, enum cpu_sysreg r, u64 v)
{
    struct edit e = { 0, v };
    switch (r) {
    case CPU_SR_CR0: case CPU_SR_CR2: case CPU_SR_CR3: case CPU_SR_CR4:
        if (v >> 32)
            return -1;
        e.n = r == CPU_SR_CR0 ? 0 : r == CPU_SR_CR2 ? 2 : r == CPU_SR_CR3 ? 3 : 4;
        return guarded(c, do_cr, &e);
    case CPU_SR_EFER:
        return guarded(c, do_efer, &e);
    case CPU_SR_GDTR_BASE: case CPU_SR_IDTR_BASE:
        if (v >> 32)
            return -1;
        (r == CPU_SR_GDTR_BASE ? &c->gdtr : &c->idtr)->base = (u32)v;
        return 0;
    case CPU_SR_GDTR_LIMIT: case CPU_SR_IDTR_LIMIT:
        if (v > 0xffff)
            return -1;
        (r == CPU_SR_GDTR_LIMIT ? &c->gdtr : &c->idtr)->limit = (u32)v;
        return 0;
    case CPU_SR_LDTR: case CPU_SR_TR:
        if (v > 0xffff)
            return -1;
        e.n = r == CPU_SR_TR;
        return guarded(c, do_ldtr_tr, &e);
    }
    return -1;
}

static void do_seg(struct cpu *c, const void *arg)
{
    const struct edit *e = arg;
    u16 sel = (u16)e->v;
    if (e->n != S_CS || !(c->mode & MODE_PE) || (c->mode & MODE_VM86)) {
        seg_load(c, e->n, sel);
        return;
    }
    u32 lo, hi;
    unsigned rpl = sel & 3;
    if ((sel & 0xfffc) == 0 || !desc_read(c, sel, &lo, &hi) || !(hi & DESC_S) ||
        !(hi & DESC_CODE) || !(hi & DESC_P))
        cpu_gp(c, sel & 0xfffc);
    bool conforming = DESC_TYPE(hi) & 4;
    if (conforming ? DESC_DPL(hi) > rpl : DESC_DPL(hi) != rpl)
        cpu_gp(c, sel & 0xfffc);
    seg_commit_cs(c, sel, lo, hi, rpl);
}

int cpu_set_seg(struct cpu *c, unsigned s, u16 sel)
{
    if (s > S_GS)
        return -1;
    struct edit e = { s, sel };
    return guarded(c, do_seg, &e);
}

void cpu_set_seg_cache(struct cpu *c, unsigned s, bool limit, u32 v)
{
    if (s > S_GS)
        return;
    const struct seg *sg = &c->seg[s];
    seg_set_cache(c, s, limit ? sg->base : v, limit ? v : sg->limit);
}

void cpu_set_x87(struct cpu *c, unsigned n, const u8 *b)
{
    struct fpu *f = &c->fpu;
    u32 v = (u32)b[0] | (u32)b[1] << 8 | (u32)b[2] << 16 | (u32)b[3] << 24;
    if (n < 8) {
        memcpy(f->reg[(fpu_top(f) + n) & 7], b, 10);
        return;
    }
    switch (n - 8) {
    case 0: f->cw = (u16)v; fpu_update_es(f); break;
    case 1: f->sw = (u16)v; fpu_update_es(f); break;
    case 2: f->valid = fpu_valid_from_tw((u16)v); break;
    case 3: f->fcs = (u16)v; break;
    case 4: f->fip = v; break;
    case 5: f->fds = (u16)v; break;
    case 6: f->fdp = v; break;
    case 7: f->fop = (u16)(v & 0x7ff); break;
    default: break;
    }
}
