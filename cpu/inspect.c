/*
 * What the debugger (gdb stub, monitor) sees of and sets in the CPU: its
 * state beyond cpu_get_reg(), read-only (segment caches, descriptor-table
 * registers, EFER, CPL and the x87 registers in the order gdb numbers
 * them: ST(i), the full tag word, SDM vol. 1, 8.1.7), and watchpoints,
 * checked beside the DR7 data breakpoints (ops_system.c, dr_update and
 * dbg_data_access) but invisible to the guest: no #DB, no DR6 change.
 */
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
