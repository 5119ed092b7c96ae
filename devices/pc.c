/*
 * The board: RAM, firmware mapping, debug devices and the run loop that
 * turns CPU exits (halt, shutdown, guest exit) into a process outcome.
 */
#include "pc.h"

#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "debugdev.h"
#include "mmu/mmu.h"

struct pc *pc_new(const struct pc_config *cfg, u32 log_mask)
{
    struct pc *pc = calloc(1, sizeof *pc);
    if (!pc)
        return NULL;
    pc->cfg = *cfg;
    log_init(&pc->log);
    pc->log.mask = log_mask;
    pc->mmu = mmu_new(cfg->ram_mib << 20, &pc->cnt, &pc->log);
    if (!pc->mmu) {
        fprintf(stderr, "umbra: cannot reserve %u MiB of guest RAM\n", cfg->ram_mib);
        free(pc);
        return NULL;
    }
    pc->cpu = cpu_new(pc->mmu, &pc->cnt, &pc->log);
    if (!pc->cpu || debugdev_init(pc) < 0) {
        fprintf(stderr, "umbra: cannot create the machine\n");
        pc_free(pc);
        return NULL;
    }
    return pc;
}

void pc_free(struct pc *pc)
{
    if (!pc)
        return;
    cpu_free(pc->cpu);
    mmu_free(pc->mmu);
    free(pc);
}

struct pc_result pc_run(struct pc *pc)
{
    struct pc_result r = { 0, false };
    u64 left = pc->cfg.max_insns;
    for (;;) {
        u64 slice = 1u << 20;
        if (pc->cfg.max_insns && left < slice)
            slice = left;
        enum cpu_exit e = cpu_run(pc->cpu, slice);
        if (pc->exit_requested) {
            r.exit_code = pc->exit_code;
            r.exited_by_guest = true;
            break;
        }
        if (e == CPU_EXIT_SHUTDOWN) {
            fprintf(stderr, "umbra: triple fault; CPU state:\n");
            cpu_dump_state(pc->cpu, stderr);
            if (pc->cfg.no_reboot) {
                r.exit_code = 3;
                break;
            }
            cpu_reset(pc->cpu);
            continue;
        }
        if (e == CPU_EXIT_HALT) {
            r.exit_code = 0;
            break;
        }
        if (e == CPU_EXIT_IDLE) {
            /* Nothing can wake the CPU until devices with timers exist. */
            r.exit_code = 0;
            break;
        }
        if (pc->cfg.max_insns) {
            left -= slice;
            if (!left) {
                fprintf(stderr, "umbra: instruction limit reached\n");
                r.exit_code = 4;
                break;
            }
        }
    }
    fflush(pc->cfg.debugcon ? pc->cfg.debugcon : stdout);
    if (pc->log.mask & (1u << LOG_MMU_STATS))
        counters_dump(&pc->cnt, stderr);
    return r;
}
