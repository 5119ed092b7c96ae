/*
 * The board: RAM, firmware mapping, debug devices and the run loop that
 * turns CPU exits (halt, shutdown, guest exit, instruction limit) into a
 * process outcome.  The CPU runs in slices so the board regains control
 * regularly; the instruction limit is measured with the CPU's own retired
 * count, so it is exact whatever a slice ends on.
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
    pc->log.out = cfg->log_out;
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
    const u64 limit = pc->cfg.max_insns;
    const u64 start = cpu_icount(pc->cpu);
    for (;;) {
        u64 slice = 1u << 20;
        if (limit) {
            u64 done = cpu_icount(pc->cpu) - start;
            if (done >= limit) {
                fprintf(stderr, "umbra: instruction limit reached\n");
                r.exit_code = 4;
                break;
            }
            if (limit - done < slice)
                slice = limit - done;
        }
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
            fprintf(stderr, "umbra: CPU halted with interrupts disabled\n");
            r.exit_code = 0;
            break;
        }
        if (e == CPU_EXIT_IDLE) {
            /* Nothing can wake the CPU until devices with timers exist. */
            r.exit_code = 0;
            break;
        }
    }
    fflush(pc->cfg.debugcon ? pc->cfg.debugcon : stdout);
    pc->cnt.v[CNT_cpu_insns] = cpu_icount(pc->cpu);
    if (pc->log.mask & (1u << LOG_MMU_STATS))
        counters_dump(&pc->cnt, pc->log.out ? pc->log.out : stderr);
    return r;
}
