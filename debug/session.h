/*
 * The debugger session, private to debug/: run control (stopped, running,
 * stepping), breakpoints and watchpoints, memory access through the
 * guest's paging, and the endpoints (gdb, monitor) it serves.
 */
#ifndef UMBRA_DEBUG_SESSION_H
#define UMBRA_DEBUG_SESSION_H

#include <stdio.h>

#include "common/types.h"

struct pc;
struct cpu;
struct mmu;
struct gdb;
struct mon;

#define DBG_MAX_BP 64
#define DBG_MAX_WP 4   /* CPU_MAX_WATCH */

/* gdb's Z types. */
enum dbg_wp_type { WP_WRITE = 2, WP_READ = 3, WP_ACCESS = 4 };

struct dbg_bp {
    u32 lin;        /* linear address (CS base + EIP) */
};

struct dbg_wp {
    u32 lin, len;
    enum dbg_wp_type type;
};

/* A paging breakpoint (monitor "break"). */
struct dbg_pbreak {
    int kind;           /* enum mmu_event_kind */
    bool any;           /* break cr3 without a value */
    u32 value;          /* cr3: the value; pte: the entry's physical address */
    u32 lo, hi;         /* pf: linear range */
    u32 errmask;        /* pf: error-code bits that must all be set */
};
#define DBG_MAX_PBREAK 16

/* One paging event in the history ring (-paging-history N). */
struct dbg_hist {
    u64 seq, icount;
    int kind;           /* enum mmu_event_kind */
    u16 cs;
    u32 eip, cr3, addr, err;
    u64 old, new;
};

struct dbg {
    struct pc *pc;
    struct cpu *cpu;
    struct mmu *mmu;
    bool stopped;       /* held by the debugger: the run loop waits */
    bool stepping;      /* one instruction, then stop */
    bool skip_bp;       /* resumed at a breakpoint: do not stop there again
                         * before one instruction has run */
    bool quit;          /* end the run (monitor quit, gdb k) */
    bool phys;          /* monitor phys on: gdb m/M take physical addresses */
    bool ended;         /* the run is over */
    bool one_by_one;    /* the last slice allowed was one instruction */
    unsigned tick;      /* slices since the endpoints were last served */
    struct dbg_bp bp[DBG_MAX_BP];
    unsigned n_bp;
    struct dbg_wp wp[DBG_MAX_WP];
    unsigned n_wp;
    struct dbg_pbreak pb[DBG_MAX_PBREAK];
    unsigned n_pb;
    bool pb_hit;        /* a paging breakpoint matched: stop after the
                         * instruction, saying pb_msg */
    char pb_msg[200];
    int dev_hit;        /* a device wrote what watchpoint dev_hit watches
                         * (-1: none): stop after the slice */
    struct dbg_hist *hist; /* ring of hist_cap records, NULL = no history */
    u32 hist_cap;
    u64 hist_n;         /* events recorded so far */
    struct gdb *gdb;
    struct mon *mon;
    struct prof *prof;      /* the run's (-profile), or NULL */
    struct prof *own_prof;  /* started by info blocks, with own_tracer */
    struct tracer *own_tracer;
    const char *kernel, *symbols; /* for own_prof's symbols */
};

/* Hold the machine: tell gdb (if it waits for a stop) with signal `sig`
 * and the stop-reply fields `extra` ("watch:ADDR;" or ""). */
void dbg_stop(struct dbg *d, int sig, const char *extra);
/* Let it run (step: one instruction). */
void dbg_resume(struct dbg *d, bool step);

/* Linear address -> physical through the current paging, ignoring
 * access rights (the debugger may look at supervisor pages); `cr3` 0
 * means the current one.  False if not mapped.  No side effect. */
bool dbg_lin_to_phys(struct dbg *d, u32 cr3, u32 lin, u32 *gpa);
/* Copy guest memory out / in, byte by byte through the paging (or
 * physical with `phys`).  Returns 0, or -1 at the first byte that is not
 * mapped or not RAM/ROM (reads never touch a device; writes go through
 * mmu_phys_write, so write tracking sees them). */
int dbg_read(struct dbg *d, u32 addr, u8 *buf, u32 len, bool phys);
int dbg_write(struct dbg *d, u32 addr, const u8 *buf, u32 len, bool phys);

/* A device (DMA) wrote [gpa, gpa + len): a write or access watchpoint
 * whose bytes map there through the current paging stops the machine. */
void dbg_dev_write(struct dbg *d, u32 gpa, u32 len);

int dbg_bp_insert(struct dbg *d, u32 lin);
int dbg_bp_remove(struct dbg *d, u32 lin);
int dbg_wp_insert(struct dbg *d, u32 lin, u32 len, enum dbg_wp_type type);
int dbg_wp_remove(struct dbg *d, u32 lin, u32 len, enum dbg_wp_type type);
/* Remove every breakpoint and watchpoint. */
void dbg_clear_points(struct dbg *d);

/* Run one monitor command line; its output goes to `out`. */
void mon_exec(struct dbg *d, const char *line, FILE *out);
/* A line the machine says on its own (a paging breakpoint): to the
 * monitor's client, if any. */
void mon_notify(struct mon *m, const char *line);

/* ---- paging breakpoints and history (paging.c) ---- */

/* Keep `n` events (0: none); -1 without memory. */
int dbg_history_init(struct dbg *d, u32 n);
/* Install or remove the MMU event hook as breakpoints/history need it. */
void dbg_paging_sync(struct dbg *d);
/* Monitor commands: break cr3|pte|pf|invlpg|list|clear ..., and
 * history [cr3 | pte [ADDR] | pf [VADDR] | invlpg]. */
void dbg_cmd_break(struct dbg *d, unsigned argc, char **argv, FILE *out);
void dbg_cmd_history(struct dbg *d, unsigned argc, char **argv, FILE *out);

/* ---- endpoints (gdbstub.c, monitor.c, chardev.c) ---- */

/* A listening socket for `spec` (tcp:[HOST]:PORT bound to 127.0.0.1, or
 * unix:PATH).  Returns the fd or -1 with errno-based text in `why`. */
int chr_listen(const char *spec, char *why, size_t whylen);

struct gdb *gdb_open(struct dbg *d, const char *spec, FILE *err);
void gdb_close(struct gdb *g);
/* fds to poll (listener or connection) */
int gdb_fd(const struct gdb *g);
/* The fd is readable: accept or read and handle packets. */
void gdb_input(struct gdb *g);
/* Console output for gdb's user (an O packet), while it waits. */
void gdb_console(struct gdb *g, const char *text);
/* Report a stop if gdb waits for one. */
void gdb_report_stop(struct gdb *g, int sig, const char *extra);
/* The run ended: W packet. */
void gdb_report_exit(struct gdb *g, int code);

/* `mux_fd` > 0 with spec "stdio": the terminal is shared with COM1
 * (-serial mon:stdio); bytes typed while COM1 has it go to mux_fd. */
struct mon *mon_open(struct dbg *d, const char *spec, int mux_fd, FILE *err);
void mon_close(struct mon *m);
int mon_fd(const struct mon *m);
void mon_input(struct mon *m);

#endif
