/*
 * ACPI PM1a event/control blocks and the PM timer through their ports,
 * with a fake clock and a fake IRQ line: the timer's rate and 24-bit wrap,
 * TMR_STS and its SCI deadline, write-one-to-clear status, SCI_EN always
 * set, the power button, byte and dword access, and SLP_EN with the S5
 * type powering off while other types wake at once.
 */
#include <check.h>
#include <stdlib.h>

#include "common/counters.h"
#include "common/log.h"
#include "devices/pm.h"
#include "mmu/mmu.h"

struct fake_line {
    bool level;
    unsigned irq;
    unsigned rises;
};

static void fake_set(void *opaque, unsigned irq, bool level)
{
    struct fake_line *f = opaque;
    if (level && !f->level)
        f->rises++;
    f->level = level;
    f->irq = irq;
}

static u64 fake_now(void *opaque)
{
    return *(u64 *)opaque;
}

static struct counters cnt;
static struct logger lg;
static struct mmu *m;
static struct pm pm;
static struct fake_line sci;
static u64 now;
static unsigned power_offs, kicks;

static void on_power_off(void *opaque) { power_offs++; }
static void on_kick(void *opaque) { kicks++; }

static u32 in(u16 off, unsigned size) { return mmu_io_read(m, (u16)(PM_BASE + off), size); }
static void out(u16 off, u32 v, unsigned size) { mmu_io_write(m, (u16)(PM_BASE + off), v, size); }

/* ns at which `t` timer ticks have elapsed since time 0. */
static u64 tick_ns(u64 t)
{
    return (u64)(((unsigned __int128)t * 1000000000u + PM_TIMER_HZ - 1) / PM_TIMER_HZ);
}

static void setup(void)
{
    cnt = (struct counters){ 0 };
    log_init(&lg);
    m = mmu_new(1u << 20, &cnt, &lg);
    ck_assert_ptr_nonnull(m);
    sci = (struct fake_line){ 0 };
    now = 0;
    power_offs = kicks = 0;
    pm_init(&pm, (struct irq_sink){ fake_set, &sci }, (struct clock){ fake_now, &now },
            on_power_off, on_kick, NULL);
    ck_assert_int_eq(pm_map(&pm, m), 0);
}

static void teardown(void)
{
    mmu_free(m);
}

START_TEST(timer_counts_at_3_579545_mhz)
{
    ck_assert_uint_eq(in(PM_TMR_OFF, 4), 0);
    now = 1000000000ull; /* one second */
    ck_assert_uint_eq(in(PM_TMR_OFF, 4), PM_TIMER_HZ & 0xFFFFFF);
    now = tick_ns(1234567);
    ck_assert_uint_eq(in(PM_TMR_OFF, 4), 1234567);
    now = tick_ns(1234567) - 1;
    ck_assert_uint_eq(in(PM_TMR_OFF, 4), 1234566);
    /* 16-bit and byte reads see the same counter. */
    now = tick_ns(0x123456);
    ck_assert_uint_eq(in(PM_TMR_OFF, 2), 0x3456);
    ck_assert_uint_eq(in(PM_TMR_OFF + 2, 1), 0x12);
    ck_assert_uint_eq(in(PM_TMR_OFF + 3, 1), 0);
}
END_TEST

START_TEST(timer_wraps_at_24_bits_and_ignores_writes)
{
    now = tick_ns(0xFFFFFF);
    ck_assert_uint_eq(in(PM_TMR_OFF, 4), 0xFFFFFF);
    out(PM_TMR_OFF, 0x12345678, 4);
    ck_assert_uint_eq(in(PM_TMR_OFF, 4), 0xFFFFFF);
    now = tick_ns(0x1000005);
    ck_assert_uint_eq(in(PM_TMR_OFF, 4), 5);
    /* Far in the future (days), still exact. */
    u64 t = 3ull * 86400 * PM_TIMER_HZ + 77;
    now = tick_ns(t);
    ck_assert_uint_eq(in(PM_TMR_OFF, 4), t & 0xFFFFFF);
}
END_TEST

START_TEST(tmr_sts_on_bit23_change_and_sci_deadline)
{
    ck_assert_uint_eq(pm_update(&pm, now), TIME_NEVER); /* TMR_EN clear: no deadline */
    now = tick_ns(0x7FFFFF);
    ck_assert_uint_eq(in(0, 2) & PM1_TMR, 0);
    now = tick_ns(0x800000);
    ck_assert_uint_eq(in(0, 2) & PM1_TMR, PM1_TMR);
    ck_assert(!sci.level); /* not enabled */
    out(0, PM1_TMR, 2);    /* write one to clear */
    ck_assert_uint_eq(in(0, 2) & PM1_TMR, 0);
    out(2, PM1_TMR, 2);    /* TMR_EN */
    ck_assert_uint_eq(kicks, 1);
    ck_assert_uint_eq(in(2, 2), PM1_TMR);
    u64 d = pm_update(&pm, now);
    ck_assert_uint_eq(d, tick_ns(0x1000000));
    now = d - 1;
    ck_assert_uint_eq(pm_update(&pm, now), d);
    ck_assert(!sci.level);
    now = d;
    ck_assert_uint_eq(pm_update(&pm, now), tick_ns(0x1800000));
    ck_assert(sci.level);
    ck_assert_uint_eq(sci.irq, PM_SCI_IRQ);
    /* The SCI is a level: it stays until the status is cleared. */
    pm_update(&pm, now + 10);
    ck_assert(sci.level);
    out(0, 0xFFFF, 2);
    ck_assert(!sci.level);
    ck_assert_uint_eq(in(0, 2), 0);
}
END_TEST

START_TEST(power_button_status_enable_and_sci)
{
    pm_power_button(&pm);
    ck_assert_uint_eq(in(0, 2), PM1_PWRBTN);
    ck_assert(!sci.level);
    out(2, PM1_PWRBTN, 2);
    ck_assert(sci.level);
    ck_assert_uint_eq(kicks, 0); /* no timer deadline moved */
    /* Writing zero bits clears nothing; writing the bit clears it. */
    out(0, PM1_TMR, 2);
    ck_assert(sci.level);
    out(1, PM1_PWRBTN >> 8, 1);
    ck_assert(!sci.level);
    ck_assert_uint_eq(in(0, 2), 0);
    ck_assert_uint_eq(sci.rises, 1);
}
END_TEST

START_TEST(sci_en_always_set_and_control_bits)
{
    ck_assert_uint_eq(in(PM1_CNT_OFF, 2), PM1_SCI_EN);
    out(PM1_CNT_OFF, 0, 2); /* clearing SCI_EN: no SMI mode to go to */
    ck_assert_uint_eq(in(PM1_CNT_OFF, 2), PM1_SCI_EN);
    out(PM1_CNT_OFF, PM1_BM_RLD | PM1_GBL_RLS | (5u << PM1_SLP_TYP_SHIFT), 2);
    /* GBL_RLS and SLP_EN are write-only; SLP_TYP and BM_RLD stick. */
    ck_assert_uint_eq(in(PM1_CNT_OFF, 2), PM1_SCI_EN | PM1_BM_RLD | (5u << PM1_SLP_TYP_SHIFT));
    ck_assert_uint_eq(power_offs, 0);
    /* A dword write at the event block reaches status and enable. */
    pm_power_button(&pm);
    out(0, (u32)PM1_PWRBTN << 16 | PM1_PWRBTN, 4);
    ck_assert_uint_eq(in(0, 4), (u32)PM1_PWRBTN << 16);
    ck_assert(!sci.level);
    /* Reserved bytes read as zero, beyond the block as all ones. */
    ck_assert_uint_eq(in(6, 2), 0);
    ck_assert_uint_eq(in(PM_LEN - 1, 2), 0xFF00 | (in(PM_LEN - 1, 1) & 0xFF));
}
END_TEST

START_TEST(slp_en_with_s5_powers_off)
{
    out(PM1_CNT_OFF, (PM_SLP_TYP_S5 << PM1_SLP_TYP_SHIFT) | PM1_SLP_EN, 2);
    ck_assert_uint_eq(power_offs, 1);
    ck_assert_uint_eq(in(PM1_CNT_OFF, 2) & PM1_SLP_EN, 0);
    /* SLP_TYP alone, without SLP_EN, does nothing. */
    out(PM1_CNT_OFF, PM_SLP_TYP_S5 << PM1_SLP_TYP_SHIFT, 2);
    ck_assert_uint_eq(power_offs, 1);
    /* The high byte alone carries SLP_EN. */
    out(PM1_CNT_OFF + 1, (PM_SLP_TYP_S5 << PM1_SLP_TYP_SHIFT | PM1_SLP_EN) >> 8, 1);
    ck_assert_uint_eq(power_offs, 2);
}
END_TEST

START_TEST(other_sleep_types_wake_at_once)
{
    out(PM1_CNT_OFF, (1u << PM1_SLP_TYP_SHIFT) | PM1_SLP_EN, 2);
    ck_assert_uint_eq(power_offs, 0);
    ck_assert_uint_eq(in(0, 2) & PM1_WAK_STS, PM1_WAK_STS);
    ck_assert(!sci.level); /* WAK_STS is no SCI event */
    out(0, PM1_WAK_STS, 2);
    ck_assert_uint_eq(in(0, 2) & PM1_WAK_STS, 0);
}
END_TEST

START_TEST(reset_clears_status_and_enables)
{
    out(2, PM1_PWRBTN | PM1_TMR, 2);
    pm_power_button(&pm);
    ck_assert(sci.level);
    out(PM1_CNT_OFF, 3u << PM1_SLP_TYP_SHIFT, 2);
    pm_reset(&pm);
    ck_assert(!sci.level);
    ck_assert_uint_eq(in(0, 4), 0);
    ck_assert_uint_eq(in(PM1_CNT_OFF, 2), PM1_SCI_EN);
    ck_assert_uint_eq(pm_update(&pm, now), TIME_NEVER);
}
END_TEST

static Suite *pm_suite(void)
{
    Suite *s = suite_create("pm");
    TCase *tc = tcase_create("ports");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, timer_counts_at_3_579545_mhz);
    tcase_add_test(tc, timer_wraps_at_24_bits_and_ignores_writes);
    tcase_add_test(tc, tmr_sts_on_bit23_change_and_sci_deadline);
    tcase_add_test(tc, power_button_status_enable_and_sci);
    tcase_add_test(tc, sci_en_always_set_and_control_bits);
    tcase_add_test(tc, slp_en_with_s5_powers_off);
    tcase_add_test(tc, other_sleep_types_wake_at_once);
    tcase_add_test(tc, reset_clears_status_and_enables);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pm_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
