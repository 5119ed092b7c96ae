/*
 * The PC board: creates the bus (mmu/), the CPU and the chips, wires them
 * together and runs the machine.  frontend/ builds a struct pc_config from
 * the command line and calls pc_new()/pc_run().
 */
#ifndef UMBRA_DEVICES_PC_H
#define UMBRA_DEVICES_PC_H

#include <stdio.h>

#include "common/counters.h"
#include "common/log.h"
#include "common/types.h"

struct cpu;
struct mmu;

struct pc_config {
    u32 ram_mib;          /* -m */
    bool no_reboot;       /* -no-reboot: reset/triple fault ends the run */
    u64 max_insns;        /* -icount-limit: 0 = unlimited */
    FILE *debugcon;       /* where port 0xE9 output goes (NULL = stdout) */
    bool debugcon_off;    /* -debugcon none: port 0xE9 output is dropped */
    FILE *log_out;        /* -D: log destination (NULL = stderr) */
    const char *serial;   /* -serial backend, kept for the UART (none yet) */
};

/* Outcome of a run. */
struct pc_result {
    int exit_code;        /* process exit status the frontend should use */
    bool exited_by_guest; /* the guest wrote the exit port */
};

struct pc {
    struct pc_config cfg;
    struct counters cnt;
    struct logger log;
    struct mmu *mmu;
    struct cpu *cpu;
    bool exit_requested;
    int exit_code;
    bool reset_requested;
};

/* Create a machine.  NULL (and a message on stderr) on failure. */
struct pc *pc_new(const struct pc_config *cfg, u32 log_mask) MUST_CHECK;
void pc_free(struct pc *pc);
/*
 * Run until the guest exits, halts for good, shuts down or reaches the
 * instruction limit.  Exit statuses: guest exit device (v << 1) | 1;
 * HLT with interrupts off 0; triple fault with no_reboot 3; limit 4.
 */
struct pc_result pc_run(struct pc *pc);

#endif
