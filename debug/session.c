/*
 * Run control for the debugger.  The session sits in the board's run loop
 * (devices/pc.h, struct pc_debugger):
 *
 *   before each slice  serve the endpoints (non-blocking while running,
 *                      blocking while stopped); stop at a breakpoint on
 *                      CS base + EIP; with a step or a paging
 *                      breakpoint armed let only one instruction run so
 *                      that the next check comes before the next one;
 *                      breakpoints are the CPU's too, which ends a slice
 *                      before reaching one (CPU_EXIT_BREAK), its
 *                      executors running at speed elsewhere;
 *   after each slice   an access to a watchpoint stops with
 *                      watch:/rwatch:/awatch:ADDR; a step is done: stop.
 *
 * Breakpoints are never written into guest memory: the CPU compares CS
 * base + EIP before the instructions of any block that holds one (the
 * rest runs translated, unlinked), so guest code and its checksums stay
 * untouched and a breakpoint in ROM works.  Watchpoints (write, read, access) are the
 * CPU's (cpu_set_watchpoints): their pages are kept out of the TLB, so
 * only accesses to those pages take the slow path where they are checked,
 * string instructions included; the machine otherwise runs at speed (in
 * the interpreter).  Writes by devices (DMA, through mmu_phys_copy_in)
 * reach write and access watchpoints through the MMU's events: the
 * watched bytes are translated through the current paging and the
 * machine stops after the slice.  A/D updates by the page walker are not
 * accesses and trigger nothing.
 *
 * Invariant: the CPU never runs while `stopped`; with the machine running
 * no blocking call is made, so a silent peer never stalls the guest.
 */
#define _POSIX_C_SOURCE 200809L
#include "session.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "debug.h"
#include "devices/pc.h"
#include "mmu/mmu.h"

#define SIGTRAP_GDB 5
#define DBG_SERVE_EVERY 256u

bool dbg_lin_to_phys(struct dbg *d, u32 cr3, u32 lin, u32 *gpa)
{
    struct pg_peek p;
    if (!cr3)
        cr3 = cpu_get_reg(d->cpu, CPU_CR3);
    if (mmu_walk_peek(d->mmu, cr3, lin, ACC_READ, false, &p) == 0) {
        *gpa = (u32)p.gpa;
        return true;
    }
    /* A protection fault (SMAP) comes after the walk reached its leaf:
     * the translation exists and the debugger may look. */
    if ((p.fault.err & PF_P) && !(p.fault.err & PF_RSVD) && p.n && !(p.gpa >> 32)) {
        *gpa = (u32)p.gpa;
        return true;
    }
    return false;
}

static bool to_phys(struct dbg *d, u32 addr, bool phys, u32 *gpa)
{
    if (phys) {
        *gpa = addr;
        return true;
    }
    return dbg_lin_to_phys(d, 0, addr, gpa);
}

int dbg_read(struct dbg *d, u32 addr, u8 *buf, u32 len, bool phys)
{
    for (u32 k = 0; k < len; k++) {
        u32 gpa;
        u64 v;
        if (!to_phys(d, addr + k, phys, &gpa) || !mmu_phys_peek(d->mmu, gpa, 1, &v))
            return -1;
        buf[k] = (u8)v;
    }
    return 0;
}

int dbg_write(struct dbg *d, u32 addr, const u8 *buf, u32 len, bool phys)
{
    /* Check every byte first, so a write is all or nothing. */
    for (u32 k = 0; k < len; k++) {
        u32 gpa;
        u64 v;
        if (!to_phys(d, addr + k, phys, &gpa) || !mmu_phys_peek(d->mmu, gpa, 1, &v))
            return -1;
    }
    for (u32 k = 0; k < len; k++) {
        u32 gpa;
        to_phys(d, addr + k, phys, &gpa);
        mmu_phys_write(d->mmu, gpa, buf[k], 1);
    }
    return 0;
}

/* Hand the breakpoints to the CPU, which stops before reaching one. */
static void bp_sync(struct dbg *d)
{
    u32 lin[DBG_MAX_BP] = { 0 };
    for (unsigned k = 0; k < d->n_bp; k++)
        lin[k] = d->bp[k].lin;
    cpu_set_breakpoints(d->cpu, lin, d->n_bp);
}

int dbg_bp_insert(struct dbg *d, u32 lin)
{
    for (unsigned k = 0; k < d->n_bp; k++)
        if (d->bp[k].lin == lin)
            return 0;
    if (d->n_bp == DBG_MAX_BP)
        return -1;
    d->bp[d->n_bp++].lin = lin;
    bp_sync(d);
    return 0;
}

int dbg_bp_remove(struct dbg *d, u32 lin)
{
    for (unsigned k = 0; k < d->n_bp; k++) {
        if (d->bp[k].lin == lin) {
            d->bp[k] = d->bp[--d->n_bp];
            bp_sync(d);
            return 0;
        }
    }
    return -1;
}

/* Hand the watchpoints to the CPU, which checks them beside DR7's. */
static void wp_sync(struct dbg *d)
{
    struct cpu_watch w[DBG_MAX_WP];
    for (unsigned k = 0; k < d->n_wp; k++)
        w[k] = (struct cpu_watch){ d->wp[k].lin, d->wp[k].len, d->wp[k].type != WP_WRITE,
                                   d->wp[k].type != WP_READ };
    cpu_set_watchpoints(d->cpu, w, d->n_wp);
    dbg_paging_sync(d); /* device writes come through the MMU's events */
}

void dbg_dev_write(struct dbg *d, u32 gpa, u32 len)
{
    if (d->dev_hit >= 0)
        return;
    for (unsigned k = 0; k < d->n_wp; k++) {
        if (d->wp[k].type == WP_READ)
            continue;
        for (u32 b = 0; b < d->wp[k].len; b++) {
            u32 p;
            if (dbg_lin_to_phys(d, 0, d->wp[k].lin + b, &p) && p - gpa < len) {
                d->dev_hit = (int)k;
                cpu_request_exit(d->cpu);
                return;
            }
        }
    }
}

int dbg_wp_insert(struct dbg *d, u32 lin, u32 len, enum dbg_wp_type type)
{
    if (len == 0 || len > 8 || d->n_wp == DBG_MAX_WP)
        return -1;
    d->wp[d->n_wp++] = (struct dbg_wp){ .lin = lin, .len = len, .type = type };
    wp_sync(d);
    return 0;
}

int dbg_wp_remove(struct dbg *d, u32 lin, u32 len, enum dbg_wp_type type)
{
    for (unsigned k = 0; k < d->n_wp; k++) {
        if (d->wp[k].lin == lin && d->wp[k].len == len && d->wp[k].type == type) {
            d->wp[k] = d->wp[--d->n_wp];
            wp_sync(d);
            return 0;
        }
    }
    return -1;
}

void dbg_clear_points(struct dbg *d)
{
    d->n_bp = 0;
    d->n_wp = 0;
    bp_sync(d);
    wp_sync(d);
}

void dbg_stop(struct dbg *d, int sig, const char *extra)
{
    d->stopped = true;
    d->stepping = false;
    if (d->gdb)
        gdb_report_stop(d->gdb, sig, extra);
}

void dbg_resume(struct dbg *d, bool step)
{
    d->stopped = false;
    d->stepping = step;
    d->skip_bp = true;
}

/* Serve every endpoint that has input; wait for some when `block`. */
static void serve(struct dbg *d, bool block)
{
    struct pollfd p[2];
    unsigned n = 0;
    int gfd = d->gdb ? gdb_fd(d->gdb) : -1, mfd = d->mon ? mon_fd(d->mon) : -1;
    if (gfd >= 0)
        p[n++] = (struct pollfd){ .fd = gfd, .events = POLLIN };
    if (mfd >= 0)
        p[n++] = (struct pollfd){ .fd = mfd, .events = POLLIN };
    if (!n) {
        if (block)
            d->quit = true; /* nothing could ever resume the machine */
        return;
    }
    int rc = poll(p, n, block ? -1 : 0);
    if (rc <= 0)
        return;
    for (unsigned k = 0; k < n; k++) {
        if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        if (p[k].fd == gfd && d->gdb)
            gdb_input(d->gdb);
        else if (p[k].fd == mfd && d->mon)
            mon_input(d->mon);
    }
}

static u32 cur_lin_pc(struct dbg *d)
{
    struct cpu_sysregs s;
    cpu_get_sysregs(d->cpu, &s);
    return s.seg[1].base + cpu_get_reg(d->cpu, CPU_EIP);
}

static u64 dbg_poll(void *opaque)
{
    struct dbg *d = opaque;
    /* One instruction at a time, a poll() per instruction would cost more
     * than the instruction: look at the endpoints every DBG_SERVE_EVERY. */
    if (!d->one_by_one || ++d->tick % DBG_SERVE_EVERY == 0)
        serve(d, false);
    if (!d->stopped && !d->skip_bp && d->n_bp) {
        u32 pc = cur_lin_pc(d);
        for (unsigned k = 0; k < d->n_bp; k++)
            if (d->bp[k].lin == pc) {
                dbg_stop(d, SIGTRAP_GDB, "");
                break;
            }
    }
    while (d->stopped && !d->quit)
        serve(d, true);
    if (d->quit)
        return 0;
    /* Breakpoints cost nothing here: the CPU stops before reaching one
     * (cpu_set_breakpoints), and the check above stops there. */
    d->one_by_one = d->stepping || d->n_pb;
    return d->one_by_one ? 1 : UINT64_MAX;
}

static void dbg_after(void *opaque, int cpu_exit)
{
    struct dbg *d = opaque;
    unsigned k;
    u32 lin;
    bool write;
    d->skip_bp = false;
    if (d->pb_hit) {
        d->pb_hit = false;
        if (d->mon)
            mon_notify(d->mon, d->pb_msg);
        if (d->gdb)
            gdb_console(d->gdb, d->pb_msg);
        dbg_stop(d, SIGTRAP_GDB, "");
        return;
    }
    /* gdb's stop reasons: watch (write), rwatch (read), awatch. */
    static const char *const kind[] = { [WP_WRITE] = "watch", [WP_READ] = "rwatch",
                                        [WP_ACCESS] = "awatch" };
    /* A watchpoint written by a device (dbg_dev_write), or hit by an
     * instruction (the CPU's). */
    bool dev = d->dev_hit >= 0;
    if (dev) {
        k = (unsigned)d->dev_hit;
        d->dev_hit = -1;
        dev = k < d->n_wp;
    }
    if (dev || (cpu_take_watch_hit(d->cpu, &k, &lin, &write) && k < d->n_wp)) {
        if (dev) {
            char msg[96];
            snprintf(msg, sizeof msg, "watchpoint 0x%08x written by a device (DMA)",
                     d->wp[k].lin);
            if (d->mon)
                mon_notify(d->mon, msg);
            if (d->gdb)
                gdb_console(d->gdb, msg);
        }
        char extra[40];
        snprintf(extra, sizeof extra, "%s:%x;", kind[d->wp[k].type], d->wp[k].lin);
        dbg_stop(d, SIGTRAP_GDB, extra);
        return;
    }
    if (d->stepping)
        dbg_stop(d, SIGTRAP_GDB, "");
}

static void dbg_ended(void *opaque, int code)
{
    struct dbg *d = opaque;
    d->ended = true;
    if (d->gdb)
        gdb_report_exit(d->gdb, code);
}

struct dbg *dbg_new(struct pc *pc, const struct dbg_config *cfg, FILE *err)
{
    struct dbg *d = calloc(1, sizeof *d);
    if (!d) {
        fprintf(err, "umbra: out of memory for the debugger\n");
        return NULL;
    }
    d->pc = pc;
    d->cpu = pc->cpu;
    d->mmu = pc->mmu;
    d->stopped = cfg->wait;
    d->dev_hit = -1;
    d->kernel = cfg->kernel;
    d->symbols = cfg->symbols;
    if (cfg->gdb && !(d->gdb = gdb_open(d, cfg->gdb, err)))
        goto fail;
    if (cfg->monitor && !(d->mon = mon_open(d, cfg->monitor, cfg->serial_mux_fd, err)))
        goto fail;
    if (dbg_history_init(d, cfg->history) < 0) {
        fprintf(err, "umbra: -paging-history %u: out of memory\n", cfg->history);
        goto fail;
    }
    pc_set_debugger(pc, &(struct pc_debugger){ d, dbg_poll, dbg_after, dbg_ended });
    return d;
fail:
    dbg_free(d);
    return NULL;
}

void dbg_free(struct dbg *d)
{
    if (!d)
        return;
    if (d->gdb)
        gdb_close(d->gdb);
    if (d->mon)
        mon_close(d->mon);
    mmu_set_event_hook(d->mmu, NULL, NULL);
    tracer_free(d->own_tracer);
    prof_free(d->own_prof);
    free(d->hist);
    free(d);
}

void dbg_set_profiler(struct dbg *d, struct prof *p)
{
    if (d)
        d->prof = p;
}
