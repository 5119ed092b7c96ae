/*
 * The interpreter loop, exception plumbing and CPU life cycle.
 *
 * Each instruction: note EIP/ESP at its start, decode at CS:EIP, advance
 * EIP, call the handler.  A fault long-jumps back here (cpu_raise), EIP and
 * ESP are put back, and the exception is delivered; a fault while
 * delivering turns into #DF by the rules of SDM vol. 3A, table 6-5, and a
 * fault while delivering #DF is a triple fault (shutdown).
 * Interrupts are taken between instructions, honouring the one-instruction
 * shadow after STI and MOV/POP SS.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu_state.h"
#include "decode.h"
#include "flags.h"
#include "mem.h"
#include "system.h"

struct cpu *cpu_new(struct mmu *m, struct counters *cnt, struct logger *log)
{
    struct cpu *c = aligned_alloc(64, (sizeof *c + 63) & ~(size_t)63);
    if (!c)
        return NULL;
    memset(c, 0, sizeof *c);
    c->mmu = m;
    c->tlb = &m->tlb[0];
    c->cnt = cnt;
    c->log = log;
    c->ic = malloc(sizeof *c->ic);
    if (!c->ic) {
        free(c);
        return NULL;
    }
    for (unsigned k = 0; k < IC_LINES; k++)
        c->ic->line[k].key = ~0u;
    dec_init();
    cpu_set_model(c, NULL);
    cpu_reset(c);
    return c;
}

void cpu_free(struct cpu *c)
{
    if (c)
        free(c->ic);
    free(c);
}

void cpu_set_callbacks(struct cpu *c, const struct cpu_callbacks *cb)
{
    c->cb = *cb;
}

void cpu_update_mode(struct cpu *c)
{
    u32 m = 0;
    if (c->cr0 & CR0_PE) {
        m |= MODE_PE;
        if (c->eflags & EFLAGS_VM) {
            m |= MODE_VM86;
            c->cpl = 3;
        } else {
            if (c->seg[S_CS].flags & DESC_DB)
                m |= MODE_CS32;
            if (c->seg[S_SS].flags & DESC_DB)
                m |= MODE_SS32;
        }
        if (c->cr0 & CR0_PG)
            m |= MODE_PG;
    } else {
        c->cpl = 0;
    }
    c->mode = m;
    c->tlb = &c->mmu->tlb[c->cpl == 3]; /* the TLB of this privilege */
}

/* SDM vol. 3A, 9.1.1 "Processor state after reset". */
void cpu_reset(struct cpu *c)
{
    memset(c->r, 0, sizeof c->r);
    c->r[R_EDX] = c->model->signature; /* as CPUID.1:EAX */
    c->eip = 0xfff0;
    c->eflags = EFLAGS_FIXED;
    c->lf_live = false;
    c->cr0 = CR0_ET | CR0_CD | CR0_NW;
    c->cr2 = c->cr3 = c->cr4 = 0;
    memset(c->dr, 0, sizeof c->dr);
    c->dr[6] = 0xffff0ff0;
    c->dr[7] = 0x400;
    dr_update(c);
    fpu_reset(&c->fpu);
    sse_reset(c);
    for (unsigned s = 0; s < 6; s++)
        seg_set(&c->seg[s], 0, 0, 0xffff, DESC_P | DESC_S | (0x3u << 8));
    seg_set(&c->seg[S_CS], 0xf000, 0xffff0000u, 0xffff, DESC_P | DESC_S | (0xbu << 8));
    seg_set(&c->ldtr, 0, 0, 0xffff, DESC_P | (0x2u << 8));
    seg_set(&c->tr, 0, 0, 0xffff, DESC_P | (0xbu << 8));
    c->gdtr = (struct dtr){ 0, 0xffff };
    c->idtr = (struct dtr){ 0, 0xffff };
    c->sysenter_cs = c->sysenter_esp = c->sysenter_eip = 0;
    c->apic_base = 0xfee00900ull;
    c->halted = false;
    c->nmi_pending = false;
    c->nmi_blocked = false;
    c->inhibit_irq = false;
    c->shutdown = false;
    c->delivering = false;
    c->dr6_pending = 0;
    c->dr6_held = 0;
    c->ss_loaded = false;
    c->efer = 0;
    c->pat = PAT_POWER_ON;
    mmu_set_efer(c->mmu, 0);
    mmu_set_paging(c->mmu, c->cr0, c->cr3, c->cr4);
    cpu_update_mode(c);
}

void cpu_set_flat32(struct cpu *c, u32 eip)
{
    cpu_set_flat32_sel(c, eip, 0x08, 0x10);
}

void cpu_set_gdtr(struct cpu *c, u32 base, u16 limit)
{
    c->gdtr = (struct dtr){ base, limit };
}

void cpu_set_flat32_sel(struct cpu *c, u32 eip, u16 cs, u16 ds)
{
    c->cr0 |= CR0_PE;
    c->eflags = EFLAGS_FIXED;
    c->lf_live = false;
    for (unsigned s = 0; s < 6; s++)
        seg_set(&c->seg[s], ds, 0, 0xffffffffu, DESC_P | DESC_S | DESC_DB | DESC_G | (0x3u << 8));
    seg_set(&c->seg[S_CS], cs, 0, 0xffffffffu, DESC_P | DESC_S | DESC_DB | DESC_G | (0xbu << 8));
    c->cpl = 0;
    c->eip = eip;
    mmu_set_paging(c->mmu, c->cr0, c->cr3, c->cr4);
    cpu_update_mode(c);
}

/* ---- exceptions ---- */

void cpu_raise(struct cpu *c, int vec, u32 err)
{
    if (!c->delivering)
        c->exc_first = vec;
    c->exc_vec = vec;
    c->exc_err = err;
    c->exc_has_err = true;
    longjmp(c->jb, 1);
}

void cpu_raise_noerr(struct cpu *c, int vec)
{
    if (!c->delivering)
        c->exc_first = vec;
    c->exc_vec = vec;
    c->exc_err = 0;
    c->exc_has_err = false;
    longjmp(c->jb, 1);
}

void cpu_page_fault(struct cpu *c, const struct mmu_fault *f)
{
    mmu_note_page_fault(c->mmu, f);
    c->cr2 = f->lin;
    cpu_raise(c, EXC_PF, f->err);
}

void seg_fault(struct cpu *c, unsigned s)
{
    cpu_raise(c, s == S_SS ? EXC_SS : EXC_GP, 0);
}

u64 lin_read_slow(struct cpu *c, u32 lin, unsigned size, enum mmu_acc acc)
{
    u64 v;
    struct mmu_fault f;
    mmu_set_smap_ac(c->mmu, c->eflags & EFLAGS_AC);
    if (mmu_lin_read(c->mmu, lin, size, acc, c->cpl == 3, &v, &f) < 0)
        cpu_page_fault(c, &f);
    if (unlikely(c->dbg_data_armed) && acc != ACC_FETCH)
        dbg_data_access(c, lin, size, false);
    if (unlikely(c->acc_hook) && acc != ACC_FETCH)
        c->acc_hook(c->acc_opaque, lin, size, false, v);
    return v;
}

void lin_write_slow(struct cpu *c, u32 lin, u64 v, unsigned size)
{
    struct mmu_fault f;
    mmu_set_smap_ac(c->mmu, c->eflags & EFLAGS_AC);
    if (mmu_lin_write(c->mmu, lin, size, v, c->cpl == 3, &f) < 0)
        cpu_page_fault(c, &f);
    if (unlikely(c->dbg_data_armed))
        dbg_data_access(c, lin, size, true);
    if (unlikely(c->acc_hook))
        c->acc_hook(c->acc_opaque, lin, size, true, v);
}

u64 sys_read(struct cpu *c, u32 lin, unsigned size)
{
    u64 v;
    struct mmu_fault f;
    mmu_set_smap_ac(c->mmu, false); /* implicit: SMAP always applies */
    if (mmu_lin_read(c->mmu, lin, size, ACC_READ, false, &v, &f) < 0)
        cpu_page_fault(c, &f);
    return v;
}

void sys_write(struct cpu *c, u32 lin, u64 v, unsigned size)
{
    struct mmu_fault f;
    mmu_set_smap_ac(c->mmu, false);
    if (mmu_lin_write(c->mmu, lin, size, v, false, &f) < 0)
        cpu_page_fault(c, &f);
}

u64 mem_read64(struct cpu *c, unsigned s, u32 ea)
{
    u32 lin = seg_lin(c, s, ea, 8, SEGOK_READ);
    return lin_read_slow(c, lin, 8, ACC_READ);
}

void mem_write64(struct cpu *c, unsigned s, u32 ea, u64 v)
{
    u32 lin = seg_lin(c, s, ea, 8, SEGOK_WRITE);
    lin_write_slow(c, lin, v, 8);
}

void mem_probe_write(struct cpu *c, unsigned s, u32 ea, unsigned size)
{
    u32 lin = seg_lin(c, s, ea, size, SEGOK_WRITE);
    if (tlb_lookup(c->tlb, lin, size, ACC_WRITE))
        return;
    u32 gpa;
    struct mmu_fault f;
    mmu_set_smap_ac(c->mmu, c->eflags & EFLAGS_AC);
    if (mmu_translate(c->mmu, lin, ACC_WRITE, c->cpl == 3, &gpa, &f) < 0)
        cpu_page_fault(c, &f);
    u32 last = lin + size - 1;
    if ((last ^ lin) & PAGE_MASK)
        if (mmu_translate(c->mmu, last, ACC_WRITE, c->cpl == 3, &gpa, &f) < 0)
            cpu_page_fault(c, &f);
}

void cpu_write_eflags(struct cpu *c, u32 val, u32 mask)
{
    u32 old = get_eflags(c);
    mask &= EFLAGS_MASK;
    c->eflags = ((old & ~mask) | (val & mask) | EFLAGS_FIXED) & (EFLAGS_MASK | EFLAGS_FIXED);
    c->lf_live = false;
    if ((old ^ c->eflags) & EFLAGS_VM)
        cpu_update_mode(c);
}

/* ---- exception classes for #DF (SDM vol. 3A, table 6-4/6-5) ---- */

static int exc_class(int vec)
{
    switch (vec) {
    case EXC_DE: case EXC_TS: case EXC_NP: case EXC_SS: case EXC_GP:
        return 1; /* contributory */
    case EXC_PF:
        return 2;
    default:
        return 0; /* benign */
    }
}

static bool exc_pushes_error(int vec)
{
    return vec == EXC_DF || (vec >= EXC_TS && vec <= EXC_PF) || vec == EXC_AC;
}

/* Called (from the setjmp landing) when an exception was raised. */
static void deliver_exception(struct cpu *c)
{
    int vec = c->exc_vec;
    u32 err = c->exc_err;
    COUNT(c->cnt, cpu_exceptions);
    c->eip = c->insn_eip;
    c->r[R_ESP] = c->insn_esp;
    if (c->delivering) {
        int first = c->deliver_vec;
        if (first == EXC_DF) {
            LOG(c->log, INT, "triple fault (vector %d while delivering #DF)", vec);
            c->shutdown = true;
            return;
        }
        int a = exc_class(first), b = exc_class(vec);
        if ((a == 1 && b == 1) || (a == 2 && b != 0)) {
            vec = EXC_DF;
            err = 0;
        }
    }
    if (vec == EXC_PF)
        LOG(c->log, INT, "exception %d err %x cr2 %08x at %04x:%08x cpl %u", vec, err, c->cr2,
            c->seg[S_CS].sel, c->eip, c->cpl);
    else
        LOG(c->log, INT, "exception %d err %x at %04x:%08x cpl %u", vec, err, c->seg[S_CS].sel,
            c->eip, c->cpl);
    if (unlikely(c->exc_hook))
        c->exc_hook(c->exc_opaque, (unsigned)vec, err, c->cr2, c->eip);
    c->delivering = true;
    c->deliver_vec = (u8)vec;
    if (vec == EXC_DB)
        c->dr[6] |= c->dr6_pending;
    c->dr6_pending = 0; /* data-breakpoint hits of a faulting instruction lapse */
    cpu_interrupt(c, (unsigned)vec, INT_EXC, exc_pushes_error(vec), err);
    c->delivering = false;
}

/* ---- the run loop ---- */

static bool irq_deliverable(const struct cpu *c)
{
    return c->irq_line && (c->eflags & EFLAGS_IF) && !c->inhibit_irq;
}

/* Take a pending NMI or maskable interrupt.  Returns true if one was
 * delivered. */
static bool take_interrupt(struct cpu *c)
{
    if (c->nmi_pending && !c->nmi_blocked && !c->inhibit_irq) {
        c->nmi_pending = false;
        c->nmi_blocked = true;
        c->halted = false;
        c->insn_eip = c->eip;
        c->insn_esp = c->r[R_ESP];
        cpu_interrupt(c, EXC_NMI, INT_EXT, false, 0);
        return true;
    }
    if (irq_deliverable(c) && c->cb.intr_ack) {
        int vec = c->cb.intr_ack(c->cb.opaque);
        c->halted = false;
        if (vec < 0)
            return false; /* spurious: the line dropped */
        COUNT(c->cnt, cpu_interrupts);
        c->insn_eip = c->eip;
        c->insn_esp = c->r[R_ESP];
        LOG(c->log, INT, "interrupt vector %d at %04x:%08x cpl %u", vec, c->seg[S_CS].sel,
            c->eip, c->cpl);
        cpu_interrupt(c, (unsigned)vec & 0xff, INT_EXT, false, 0);
        return true;
    }
    return false;
}

/* The decoded instruction at CS:EIP, from the cache or freshly decoded. */
static inline const struct insn *fetch_insn(struct cpu *c)
{
    u32 lin = c->seg[S_CS].base + c->eip;
    /* The L1 address-space tag: decoded lines of other address spaces
     * stay valid across CR3 loads, as their translations do. */
    u32 key = cpu_code_key(c);
    struct icache_line *l = &c->ic->line[(lin ^ (lin >> 11)) & (IC_LINES - 1)];
    if (likely(l->lin == lin && l->key == key && l->epoch == c->mmu->epoch &&
               c->eip + l->i.len - 1 <= c->seg[S_CS].limit)) {
        c->ic_hits++;
        return &l->i;
    }
    COUNT(c->cnt, cpu_decode_cache_misses);
    l->key = ~0u; /* a fault in the decoder must not leave a half line */
    if (dec_decode_cpu(c, &l->i)) {
        l->lin = lin;
        l->key = key;
        l->epoch = c->mmu->epoch;
    }
    return &l->i;
}

/* Deliver the debug traps owed at this instruction boundary. */
static void debug_trap(struct cpu *c, u32 dr6)
{
    c->insn_eip = c->eip;
    c->insn_esp = c->r[R_ESP];
    c->dr[6] |= dr6;
    cpu_interrupt(c, EXC_DB, INT_EXC, false, 0);
}

/*
 * One instruction, then its debug traps: single-step (TF at its start)
 * and data breakpoints.  Those of a MOV SS or POP SS are held back and
 * delivered, with the next instruction's own, after that next instruction
 * completes (SDM vol. 3A, 6.8.3): a stack switch must be able to load SS
 * and ESP before anything is pushed.  If the next instruction transfers
 * to a handler (INT n, a fault), the trap comes at the handler's first
 * instruction.
 */
static void exec_one(struct cpu *c)
{
    bool tf = c->eflags & EFLAGS_TF;
    c->insn_eip = c->eip;
    c->insn_esp = c->r[R_ESP];
    c->ss_loaded = false;
    if (unlikely(c->dbg_insn_armed))
        dbg_insn_check(c);
    const struct insn *ip = fetch_insn(c);
    u32 next = c->eip + ip->len;
    if (!(c->mode & MODE_CS32))
        next &= 0xffff;
    c->eip = next;
    /* With a block executor -d exec traces its blocks instead (the
     * instructions this loop steps itself are not shown). */
    if (LOG_ON(c->log, EXEC) && !c->exec_fn)
        log_printf(c->log, LOG_EXEC, "%04x:%08x %s", c->seg[S_CS].sel, c->insn_eip,
                   dec_rows(&(size_t){ 0 })[ip->desc].mnem);
    ip->fn(c, ip);
    c->icount++;
    if (unlikely(tf || c->dr6_pending || c->dr6_held)) {
        u32 dr6 = c->dr6_pending | c->dr6_held | (tf ? DR6_BS : 0);
        c->dr6_pending = 0;
        if (c->ss_loaded) {
            c->dr6_held = dr6;
            return;
        }
        c->dr6_held = 0;
        if (dr6)
            debug_trap(c, dr6);
    }
}

static enum cpu_exit run(struct cpu *c, u64 budget)
{
    /* `end` is the icount at which the budget is spent; an interrupt taken
     * spends one unit of it too, so the loop always ends. */
    volatile u64 end = c->icount + budget;
    volatile bool first = true; /* no breakpoint stops the first step */
    c->exit_request = false;
    if (setjmp(c->jb)) {
        first = false;
        deliver_exception(c);
        if (c->shutdown)
            return CPU_EXIT_SHUTDOWN;
        c->icount++;
        if (unlikely(c->dr6_held)) {
            /* The instruction after MOV/POP SS faulted: the held trap
             * comes before the handler's first instruction. */
            u32 dr6 = c->dr6_held;
            c->dr6_held = 0;
            c->ss_loaded = false;
            debug_trap(c, dr6);
        }
    }
    while (c->icount < end) {
        if (unlikely(c->irq_line | c->nmi_pending | c->halted | c->exit_request)) {
            if (c->exit_request)
                return CPU_EXIT_REQUEST;
            if (!c->inhibit_irq && take_interrupt(c)) {
                end--;
                first = false;
                continue;
            }
            if (c->halted)
                return (c->eflags & EFLAGS_IF) || c->nmi_pending ? CPU_EXIT_IDLE : CPU_EXIT_HALT;
        }
        /* The instruction in the shadow of STI, MOV SS or POP SS is
         * stepped here, never handed to the executor: interrupts are
         * recognized right after it, and an executor would run on to the
         * end of a block (SDM vol. 3A, 6.8.3; vol. 2, STI). */
        bool shadow = c->inhibit_irq;
        bool near_bp = false;
        if (unlikely(c->n_bp)) {
            if (cpu_bp_in(c, c->seg[S_CS].base + c->eip, 1)) {
                if (!first)
                    return CPU_EXIT_BREAK;
                near_bp = true; /* stepping off it */
            }
            near_bp |= c->step_next;
            c->step_next = false;
        }
        first = false;
        c->inhibit_irq = false;
        if (c->exec_fn && likely(!shadow && !near_bp && !(c->eflags & EFLAGS_TF) &&
                                 !c->dbg_insn_armed && !c->dbg_data_armed && !c->insn_hook)) {
            c->exec_fn(c->exec_opaque, c, end - c->icount);
        } else {
            if (unlikely(c->insn_hook))
                c->insn_hook(c->insn_opaque, c->eip, c->seg[S_CS].base + c->eip);
            exec_one(c);
        }
    }
    return CPU_EXIT_BUDGET;
}

enum cpu_exit cpu_run(struct cpu *c, u64 budget)
{
    if (c->shutdown)
        return CPU_EXIT_SHUTDOWN;
    return run(c, budget);
}

enum cpu_exit cpu_step(struct cpu *c)
{
    return cpu_run(c, 1);
}

bool cpu_must_look(const struct cpu *c)
{
    /* The decompressor runs with IF clear and the timer's line up for its
     * whole run: that alone is no reason to stop. */
    return (c->irq_line & !!(c->eflags & EFLAGS_IF)) | c->nmi_pending | c->halted |
           c->exit_request | c->inhibit_irq | !!(c->eflags & EFLAGS_TF) | c->dbg_insn_armed |
           c->dbg_data_armed;
}

void cpu_set_executor(struct cpu *c, cpu_exec_fn fn, void *opaque)
{
    c->exec_fn = fn;
    c->exec_opaque = opaque;
}

void cpu_set_exception_hook(struct cpu *c, cpu_exception_fn fn, void *opaque)
{
    c->exc_hook = fn;
    c->exc_opaque = opaque;
}

void cpu_set_insn_hook(struct cpu *c, cpu_insn_fn fn, void *opaque)
{
    c->insn_hook = fn;
    c->insn_opaque = opaque;
}

void cpu_set_access_hook(struct cpu *c, cpu_access_fn fn, void *opaque)
{
    c->acc_hook = fn;
    c->acc_opaque = opaque;
    mmu_set_nofill_data(c->mmu, fn != NULL);
}

void cpu_set_irq(struct cpu *c, bool level)
{
    c->irq_line = level;
    c->exec_limit = 0;
}

void cpu_raise_nmi(struct cpu *c)
{
    c->nmi_pending = true;
    c->exec_limit = 0;
}

void cpu_request_exit(struct cpu *c)
{
    c->exit_request = true;
    c->exec_limit = 0;
}

void cpu_sync_counters(struct cpu *c)
{
    c->cnt->v[CNT_cpu_insns] = c->icount;
    c->cnt->v[CNT_cpu_decode_cache_hits] = c->ic_hits;
    mmu_sync_counters(c->mmu);
}

u64 cpu_icount(const struct cpu *c)
{
    return c->icount;
}

void cpu_advance_tsc(struct cpu *c, u64 ticks)
{
    c->tsc_offset += ticks;
}

u32 cpu_get_reg(const struct cpu *c, enum cpu_reg r)
{
    if (r <= CPU_EDI)
        return c->r[r];
    switch (r) {
    case CPU_EIP: return c->eip;
    case CPU_EFLAGS: return get_eflags(c);
    case CPU_ES: case CPU_CS: case CPU_SS: case CPU_DS: case CPU_FS: case CPU_GS:
        return c->seg[r - CPU_ES].sel;
    case CPU_CR0: return c->cr0;
    case CPU_CR2: return c->cr2;
    case CPU_CR3: return c->cr3;
    case CPU_CR4: return c->cr4;
    default: return 0;
    }
}

void cpu_set_reg(struct cpu *c, enum cpu_reg r, u32 v)
{
    if (r <= CPU_EDI) {
        c->r[r] = v;
        return;
    }
    switch (r) {
    case CPU_EIP: c->eip = v; break;
    case CPU_EFLAGS: cpu_write_eflags(c, v, ~0u); break;
    default: break;
    }
}

void cpu_dump_state(struct cpu *c, FILE *f)
{
    static const char *const rn[8] = { "EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI" };
    static const char *const sn[6] = { "ES", "CS", "SS", "DS", "FS", "GS" };
    for (unsigned k = 0; k < 8; k++)
        fprintf(f, "%s=%08x%s", rn[k], c->r[k], k % 4 == 3 ? "\n" : " ");
    fprintf(f, "EIP=%08x EFL=%08x CPL=%u %s%s\n", c->eip, get_eflags(c), c->cpl,
            c->mode & MODE_PE ? "PE" : "real", c->mode & MODE_VM86 ? " VM86" : "");
    for (unsigned s = 0; s < 6; s++)
        fprintf(f, "%s =%04x %08x %08x %08x\n", sn[s], c->seg[s].sel, c->seg[s].base,
                c->seg[s].limit, c->seg[s].flags);
    fprintf(f, "LDT=%04x %08x %08x TR=%04x %08x %08x\n", c->ldtr.sel, c->ldtr.base,
            c->ldtr.limit, c->tr.sel, c->tr.base, c->tr.limit);
    fprintf(f, "GDT=%08x %04x IDT=%08x %04x\n", c->gdtr.base, c->gdtr.limit, c->idtr.base,
            c->idtr.limit);
    fprintf(f, "CR0=%08x CR2=%08x CR3=%08x CR4=%08x\n", c->cr0, c->cr2, c->cr3, c->cr4);
}
