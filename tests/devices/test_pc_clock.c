/*
 * The board's clocks: the host clock (the default) advances with host
 * time whatever the CPU does; the virtual clock counts ns_per_insn per
 * retired instruction (10 ns by default, 2^N ns for -icount shift=N); the
 * TSC ticks at its nominal 100 MHz of either.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdlib.h>
#include <time.h>

#include "cpu/cpu.h"
#include "devices/pc.h"
#include "mmu/mmu.h"

/* 1000: rdtsc; mov esi, eax; mov ecx, 1000; 100d: loop 100d; rdtsc; hlt */
static const u8 prog[] = {
    0x0F, 0x31, 0x89, 0xC6, 0xB9, 0xE8, 0x03, 0x00, 0x00, 0xE2, 0xFE, 0x0F, 0x31, 0xF4,
};
#define PROG_INSNS (4u + 1000u + 1u) /* up to and including the second RDTSC */

static struct pc *board(bool virtual_clock, u32 ns_per_insn)
{
    struct pc_config cfg = { .ram_mib = 2, .no_reboot = true, .debugcon_off = true,
                             .rtc_base = 1, .apic = false, .virtual_clock = virtual_clock,
                             .ns_per_insn = ns_per_insn };
    struct pc *pc = pc_new(&cfg, 0);
    ck_assert_ptr_nonnull(pc);
    mmu_phys_copy_in(pc->mmu, 0x1000, prog, sizeof prog);
    cpu_set_flat32(pc->cpu, 0x1000);
    return pc;
}

/* Run to the second RDTSC; the TSC ticks between the two. */
static u32 run_prog(struct pc *pc)
{
    cpu_run(pc->cpu, PROG_INSNS);
    return cpu_get_reg(pc->cpu, CPU_EAX) - cpu_get_reg(pc->cpu, CPU_ESI);
}

START_TEST(virtual_clock_counts_instructions)
{
    static const u32 ns[] = { 0, 1, 8, 10, 1024 };
    for (unsigned k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        struct pc *pc = board(true, ns[k]);
        u32 per = ns[k] ? ns[k] : PC_NS_PER_INSN;
        u32 ticks = run_prog(pc);
        ck_assert_uint_eq(cpu_icount(pc->cpu), PROG_INSNS);
        ck_assert_uint_eq(clock_now(&pc->clock), (u64)PROG_INSNS * per);
        /* The TSC: 100 MHz of virtual time, (PROG_INSNS - 2) insns apart. */
        u64 want = (u64)(PROG_INSNS - 2) * per / PC_NS_PER_INSN;
        ck_assert_uint_le(ticks, want + 1);
        ck_assert_uint_ge(ticks + 1, want);
        pc_free(pc);
    }
}
END_TEST

START_TEST(host_clock_follows_host_time)
{
    struct pc *pc = board(false, 0);
    u64 t0 = clock_now(&pc->clock);
    nanosleep(&(struct timespec){ 0, 30000000 }, NULL);
    u64 t1 = clock_now(&pc->clock);
    ck_assert_uint_eq(cpu_icount(pc->cpu), 0);
    ck_assert_uint_ge(t1 - t0, 30000000u);
    ck_assert_uint_lt(t1 - t0, 5000000000ull);
    pc_free(pc);
}
END_TEST

static Suite *pc_clock_suite(void)
{
    Suite *s = suite_create("pc_clock");
    TCase *tc = tcase_create("clocks");
    tcase_add_test(tc, virtual_clock_counts_instructions);
    tcase_add_test(tc, host_clock_follows_host_time);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pc_clock_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
