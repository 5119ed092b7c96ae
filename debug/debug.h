/*
 * The debugger: a gdb remote stub (-gdb, -s, -S) and a monitor (-monitor),
 * sharing one session that holds the machine stopped or lets it run.
 * frontend/ creates it after the board and before pc_run(); the session
 * attaches itself to the board's run loop (pc_set_debugger).
 */
#ifndef UMBRA_DEBUG_DEBUG_H
#define UMBRA_DEBUG_DEBUG_H

#include <stdio.h>

#include "common/types.h"

struct pc;
struct dbg;

struct dbg_config {
    const char *gdb;      /* -gdb tcp::PORT | tcp:HOST:PORT | unix:PATH, or NULL */
    bool wait;            /* -S: start stopped (until gdb or the monitor resumes) */
    const char *monitor;  /* -monitor stdio | unix:PATH[,server,nowait] |
                           * tcp:HOST:PORT[,server,nowait], or NULL */
    u32 history;          /* -paging-history N: paging events kept, 0 = none */
    int serial_mux_fd;    /* -serial mon:stdio: with monitor "stdio", the
                           * terminal's bytes for COM1 go to this fd (the
                           * UART reads its other end); 0 = no mux */
    const char *kernel;   /* -kernel and -profile-symbols: symbols for the */
    const char *symbols;  /* monitor's info blocks (NULL: none) */
};

/* Whether a -gdb / -monitor argument is well formed (for the command
 * line: no socket is opened).  On error a message naming `flag` goes to
 * `err`. */
bool dbg_gdb_spec_ok(const char *spec, const char *flag, FILE *err);
bool dbg_monitor_spec_ok(const char *spec, const char *flag, FILE *err);

/* Open the endpoints and attach to the board's run loop.  NULL, with a
 * message naming the flag and address on `err`, if a socket cannot be
 * opened. */
struct dbg *dbg_new(struct pc *pc, const struct dbg_config *cfg, FILE *err) MUST_CHECK;
/* Close the endpoints (removing unix socket files it created). */
void dbg_free(struct dbg *d);
/* The run's profiler (-profile), which the monitor's info blocks then
 * reads instead of starting one of its own. */
struct prof;
void dbg_set_profiler(struct dbg *d, struct prof *p);

/* -d in_asm, out_asm, exec (blocks), nochain and -dfilter. */
struct tracer;
/* A -dfilter list: blocks whose first byte's linear address lies in one
 * of the half-open ranges [lo, hi). */
#define TRACE_MAX_RANGES 32
struct trace_ranges {
    unsigned n;  /* 0: no filter, everything passes */
    u64 lo[TRACE_MAX_RANGES], hi[TRACE_MAX_RANGES];
};

/* Parse a -dfilter list into `r`: comma-separated ADDR+LEN, ADDR-LEN or
 * ADDR..LAST, hex with or without 0x.  Returns 0, or -1 with a message
 * naming the spec on `err`. */
int dbg_parse_dfilter(const char *spec, struct trace_ranges *r, FILE *err) MUST_CHECK;
/* The profiler (-profile FILE, prof.c). */
struct prof;
struct prof_config {
    const char *path;     /* -profile: the JSON report; PATH.folded beside it */
    const char *kernel;   /* -kernel: an ELF image's symbols are used, or NULL */
    const char *symbols;  /* -profile-symbols: a System.map, or NULL */
};
/* Load the symbols and check the report can be written.  NULL with a
 * message naming the flag and file on `err` (unreadable symbols, an
 * unwritable report, -exec interp). */
struct prof *prof_new(struct pc *pc, const struct prof_config *cfg, FILE *err) MUST_CHECK;
/* Write the report and the folded stacks, and print the summary on
 * `out`.  Returns 0, or -1 after a message if a file could not be written. */
int prof_finish(struct prof *p, FILE *out);
void prof_free(struct prof *p);
/* The `top` hottest blocks so far (by instructions retired) with their
 * disassembly, on `out`.  Returns 0, or -1 out of memory. */
int prof_print_top(struct prof *p, unsigned top, FILE *out);
/* The symbol at or below `lin` (*off the distance), or NULL. */
const char *prof_symbol_for(const struct prof *p, u32 lin, u32 *off);

/* Plugins (-plugin FILE.so[,key=value...], plugin.c, umbra-plugin.h). */
struct plugins;
/* Load and install the `n` plugins.  NULL with a message naming the file
 * on `err` if one cannot be loaded, is not a plugin, was built for
 * another interface version, refuses, or registers something unknown. */
struct plugins *plugins_load(struct pc *pc, const char *const *specs, unsigned n,
                             FILE *err) MUST_CHECK;
/* Whether some plugin wants block events (the tracer must then feed it). */
bool plugins_want_blocks(const struct plugins *ps);
/* The run ended with `status`: the plugins' exit callbacks. */
void plugins_exit(struct plugins *ps, int status);
void plugins_free(struct plugins *ps);

struct trace_config {
    u32 mask;                  /* LOG_* bits: in_asm, out_asm, exec, nochain */
    struct trace_ranges ranges; /* -dfilter; n 0: every block */
    struct prof *prof;         /* symbols for -perfmap, or NULL */
    bool profile;              /* feed `prof` every block event */
    struct plugins *plugins;   /* fed block events, or NULL */
    bool perfmap;              /* -perfmap: /tmp/perf-PID.map names translations */
};
/* Watch the board's block cache for the block-level items of `tc`,
 * writing to the board's log.  NULL with a message on `err` if out of
 * memory or the perf map cannot be created. */
struct tracer *tracer_new(struct pc *pc, const struct trace_config *tc, FILE *err) MUST_CHECK;
void tracer_free(struct tracer *t);

#endif
