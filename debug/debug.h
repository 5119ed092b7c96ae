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

#endif
