/*
 * A small machine for CPU unit tests: 1 MiB of RAM, flat 32-bit protected
 * mode, code placed at CODE_ADDR.  run_code() executes instructions one at
 * a time and reports the vector of the first exception (-1 if none).
 */
#ifndef UMBRA_TESTS_CPU_FIXTURE_H
#define UMBRA_TESTS_CPU_FIXTURE_H

#include <check.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu_state.h"
#include "flags.h"
#include "mmu/mmu.h"

#define CODE_ADDR 0x1000u

struct fixture {
    struct counters cnt;
    struct logger log;
    struct mmu *m;
    struct cpu *c;
};

static inline void fx_init(struct fixture *fx)
{
    memset(&fx->cnt, 0, sizeof fx->cnt);
    log_init(&fx->log);
    fx->m = mmu_new(1u << 20, &fx->cnt, &fx->log);
    ck_assert_ptr_nonnull(fx->m);
    fx->c = cpu_new(fx->m, &fx->cnt, &fx->log);
    ck_assert_ptr_nonnull(fx->c);
    cpu_set_flat32(fx->c, CODE_ADDR);
    fx->c->r[R_ESP] = 0x8000;
}

static inline void fx_fini(struct fixture *fx)
{
    cpu_free(fx->c);
    mmu_free(fx->m);
}

/* Load `n` code bytes at CODE_ADDR and run `steps` instructions.  Returns
 * the vector of the first exception raised, or -1. */
static inline int fx_run(struct fixture *fx, const void *code, size_t n, unsigned steps)
{
    mmu_phys_copy_in(fx->m, CODE_ADDR, code, (u32)n);
    fx->c->eip = CODE_ADDR;
    for (unsigned k = 0; k < steps; k++) {
        fx->c->exc_first = -1;
        /* Without an IDT, a fault ends in a triple fault: clear it so the
         * next step runs. */
        fx->c->shutdown = false;
        fx->c->delivering = false;
        cpu_step(fx->c);
        if (fx->c->exc_first >= 0)
            return fx->c->exc_first;
    }
    return -1;
}

static inline u32 fx_rd(struct fixture *fx, u32 gpa, unsigned size)
{
    return (u32)mmu_phys_read(fx->m, gpa, size);
}

static inline void fx_wr(struct fixture *fx, u32 gpa, u32 v, unsigned size)
{
    mmu_phys_write(fx->m, gpa, v, size);
}

#endif
