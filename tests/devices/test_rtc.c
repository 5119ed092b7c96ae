/*
 * MC146818 through ports 0x70/0x71 with a fake clock and a fake IRQ8 line:
 * time in BCD, binary and 12-hour form, SET, the UIP window, periodic,
 * alarm and update interrupts, register C clearing, and the CMOS bytes the
 * firmware reads (memory sizes and checksum).
 */
#include <check.h>
#include <stdlib.h>

#include "common/counters.h"
#include "common/log.h"
#include "devices/rtc.h"
#include "mmu/mmu.h"

struct fake_line {
    bool level;
    unsigned rises;
};

static void fake_set(void *opaque, unsigned irq, bool level)
{
    struct fake_line *f = opaque;
    ck_assert_uint_eq(irq, 8);
    if (level && !f->level)
        f->rises++;
    f->level = level;
}

static u64 fake_now(void *opaque)
{
    return *(u64 *)opaque;
}

/* 2024-02-29 23:59:58 UTC, a Thursday. */
#define START 1709251198
#define T0 7000000000ull

static struct counters cnt;
static struct logger lg;
static struct mmu *m;
static struct rtc rtc;
static struct fake_line irq8;
static u64 now;

static u8 rd(u8 idx)
{
    mmu_io_write(m, 0x70, idx, 1);
    return (u8)mmu_io_read(m, 0x71, 1);
}

static void wr(u8 idx, u8 v)
{
    mmu_io_write(m, 0x70, idx, 1);
    mmu_io_write(m, 0x71, v, 1);
}

static void build(u32 ram_mib)
{
    cnt = (struct counters){ 0 };
    log_init(&lg);
    m = mmu_new(1u << 20, &cnt, &lg);
    ck_assert_ptr_nonnull(m);
    irq8 = (struct fake_line){ 0 };
    now = T0;
    rtc_init(&rtc, (struct irq_sink){ fake_set, &irq8 }, (struct clock){ fake_now, &now }, START,
             ram_mib);
    ck_assert_int_eq(rtc_map(&rtc, m), 0);
}

static void setup(void)
{
    build(128);
}

static void teardown(void)
{
    mmu_free(m);
}

START_TEST(time_in_bcd_rolls_over_leap_day)
{
    ck_assert_uint_eq(rd(0), 0x58);
    ck_assert_uint_eq(rd(2), 0x59);
    ck_assert_uint_eq(rd(4), 0x23);
    ck_assert_uint_eq(rd(6), 5);
    ck_assert_uint_eq(rd(7), 0x29);
    ck_assert_uint_eq(rd(8), 0x02);
    ck_assert_uint_eq(rd(9), 0x24);
    ck_assert_uint_eq(rd(0x32), 0x20);
    ck_assert_uint_eq(rd(0x0d), 0x80);
    now = T0 + 1999999999ull;
    ck_assert_uint_eq(rd(0), 0x59);
    now = T0 + 2000000000ull;
    ck_assert_uint_eq(rd(0), 0x00);
    ck_assert_uint_eq(rd(2), 0x00);
    ck_assert_uint_eq(rd(4), 0x00);
    ck_assert_uint_eq(rd(6), 6);
    ck_assert_uint_eq(rd(7), 0x01);
    ck_assert_uint_eq(rd(8), 0x03);
    /* The index's NMI bit does not change the register addressed. */
    mmu_io_write(m, 0x70, 0x88, 1);
    ck_assert_uint_eq(mmu_io_read(m, 0x71, 1), 0x03);
}
END_TEST

START_TEST(time_in_binary_and_12_hour)
{
    wr(0x0b, 0x06); /* binary, 24-hour */
    ck_assert_uint_eq(rd(0), 58);
    ck_assert_uint_eq(rd(4), 23);
    ck_assert_uint_eq(rd(9), 24);
    wr(0x0b, 0x04); /* binary, 12-hour: 23h is 11 PM */
    ck_assert_uint_eq(rd(4), 0x80 | 11);
    now = T0 + 2000000000ull;
    ck_assert_uint_eq(rd(4), 12); /* midnight is 12 AM */
    wr(0x0b, 0x00); /* BCD, 12-hour */
    now = T0 + 2000000000ull + 13 * 3600 * 1000000000ull;
    ck_assert_uint_eq(rd(4), 0x81);
}
END_TEST

START_TEST(set_bit_freezes_and_loads_time)
{
    wr(0x0b, 0x82);
    now += 5000000000ull;
    ck_assert_uint_eq(rd(0), 0x58); /* frozen */
    wr(0, 0x30);
    wr(2, 0x15);
    wr(4, 0x10);
    wr(7, 0x04);
    wr(8, 0x07);
    wr(9, 0x99);
    wr(0x32, 0x19);
    wr(0x0b, 0x02);
    u64 t = now;
    ck_assert_uint_eq(rd(0), 0x30);
    now = t + 1000000000ull;
    ck_assert_uint_eq(rd(0), 0x31);
    ck_assert_uint_eq(rd(2), 0x15);
    ck_assert_uint_eq(rd(4), 0x10);
    ck_assert_uint_eq(rd(9), 0x99);
    ck_assert_uint_eq(rd(0x32), 0x19);
    ck_assert_uint_eq(rd(6), 1); /* 1999-07-04 was a Sunday */
}
END_TEST

START_TEST(uip_in_last_244us)
{
    now = T0 + 1000000000ull - 244000 - 1;
    ck_assert_uint_eq(rd(0x0a) & 0x80, 0);
    ck_assert_uint_eq(rd(0), 0x58);
    now = T0 + 1000000000ull - 244000;
    ck_assert_uint_eq(rd(0x0a) & 0x80, 0x80);
    ck_assert_uint_eq(rd(0x0a) & 0x7f, 0x26);
    now = T0 + 1000000000ull;
    ck_assert_uint_eq(rd(0x0a) & 0x80, 0);
    ck_assert_uint_eq(rd(0), 0x59);
}
END_TEST

/* Count IRQ8 edges over `ns`, serving each one as Linux's handler does
 * (read register C); returns the number of interrupts. */
static u64 last_served;

static unsigned run_serving(u64 ns, u8 *flags_or)
{
    u64 end = now + ns;
    unsigned served = 0;
    for (;;) {
        u64 d = rtc_update(&rtc, now);
        if (irq8.level) {
            u8 c = rd(0x0c);
            ck_assert(c & 0x80);
            *flags_or |= c;
            ck_assert(!irq8.level);
            served++;
            last_served = now;
        }
        if (now == end)
            break;
        ck_assert_uint_gt(d, now);
        now = d > end ? end : d;
    }
    return served;
}

START_TEST(periodic_interrupt_rate)
{
    wr(0x0b, 0x42); /* PIE */
    u8 f = 0;
    ck_assert_uint_eq(run_serving(1000000000ull, &f), 1024);
    ck_assert_uint_eq(irq8.rises, 1024);
    ck_assert(f & 0x40);
    wr(0x0a, 0x2f); /* rate 15: 2 Hz */
    irq8.rises = 0;
    ck_assert_uint_eq(run_serving(3000000000ull, &f), 6);
    wr(0x0b, 0x02);
    ck_assert_uint_eq(rtc_update(&rtc, now), TIME_NEVER);
}
END_TEST

START_TEST(alarm_interrupt)
{
    /* Alarm at 00:00:03 on the next day (5 seconds from now). */
    wr(1, 0x03);
    wr(3, 0x00);
    wr(5, 0x00);
    wr(0x0b, 0x22); /* AIE */
    u64 t = now;
    u8 f = 0;
    ck_assert_uint_eq(run_serving(4900000000ull, &f), 0);
    ck_assert_uint_eq(run_serving(200000000ull, &f), 1);
    ck_assert(f & 0x20);
    ck_assert_uint_eq(last_served, t + 5000000000ull);
    /* Don't-care seconds, minutes, hours: every second. */
    wr(1, 0xc0);
    wr(3, 0xc0);
    wr(5, 0xff);
    ck_assert_uint_eq(run_serving(3000000000ull, &f), 3);
}
END_TEST

START_TEST(update_interrupt_and_register_c_clear)
{
    wr(0x0b, 0x12); /* UIE */
    rtc_update(&rtc, now);
    ck_assert(!irq8.level);
    now += 1000000000ull;
    rtc_update(&rtc, now);
    ck_assert(irq8.level);
    ck_assert_uint_eq(irq8.rises, 1);
    ck_assert_uint_eq(rd(0x0c), 0xd0); /* IRQF, UF, and PF at rate 6 */
    ck_assert(!irq8.level);
    ck_assert_uint_eq(rd(0x0c), 0x00);
    /* Flags are set without the enable bit, without IRQF or IRQ8. */
    wr(0x0b, 0x02);
    now += 1000000000ull;
    ck_assert_uint_eq(rd(0x0c) & 0xd0, 0x50);
    ck_assert_uint_eq(irq8.rises, 1);
}
END_TEST

static unsigned cmos_sum(void)
{
    unsigned s = 0;
    for (u8 i = 0x10; i <= 0x2d; i++)
        s += rd(i);
    return s;
}

START_TEST(cmos_memory_128m)
{
    ck_assert_uint_eq(rd(0x15) | rd(0x16) << 8, 640);
    ck_assert_uint_eq(rd(0x17) | rd(0x18) << 8, 0xffff); /* 127 MiB, clamped */
    ck_assert_uint_eq(rd(0x30) | rd(0x31) << 8, 0xffff);
    ck_assert_uint_eq(rd(0x34) | rd(0x35) << 8, (128 - 16) * 16);
    ck_assert_uint_eq(rd(0x5b) | rd(0x5c) | rd(0x5d), 0);
    ck_assert_uint_eq(rd(0x10), 0);
    ck_assert_uint_eq(rd(0x12), 0);
    ck_assert_uint_eq(rd(0x0f), 0);
    ck_assert_uint_eq(rd(0x2e) << 8 | rd(0x2f), cmos_sum());
    /* NVRAM keeps what is written. */
    wr(0x0f, 0x0a);
    wr(0x7f, 0x5a);
    ck_assert_uint_eq(rd(0x0f), 0x0a);
    ck_assert_uint_eq(rd(0x7f), 0x5a);
}
END_TEST

START_TEST(cmos_memory_32m)
{
    teardown();
    build(32);
    ck_assert_uint_eq(rd(0x17) | rd(0x18) << 8, 31 * 1024);
    ck_assert_uint_eq(rd(0x30) | rd(0x31) << 8, 31 * 1024);
    ck_assert_uint_eq(rd(0x34) | rd(0x35) << 8, 16 * 16);
    ck_assert_uint_eq(rd(0x2e) << 8 | rd(0x2f), cmos_sum());
}
END_TEST

START_TEST(cmos_memory_3072m)
{
    teardown();
    build(3072);
    ck_assert_uint_eq(rd(0x17) | rd(0x18) << 8, 0xffff);
    ck_assert_uint_eq(rd(0x30) | rd(0x31) << 8, 0xffff);
    ck_assert_uint_eq(rd(0x34) | rd(0x35) << 8, (3072 - 16) * 16);
    ck_assert_uint_eq(rd(0x2e) << 8 | rd(0x2f), cmos_sum());
    ck_assert_uint_ne(cmos_sum(), 0);
}
END_TEST

static Suite *rtc_suite(void)
{
    Suite *s = suite_create("rtc");
    TCase *tc = tcase_create("ports");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, time_in_bcd_rolls_over_leap_day);
    tcase_add_test(tc, time_in_binary_and_12_hour);
    tcase_add_test(tc, set_bit_freezes_and_loads_time);
    tcase_add_test(tc, uip_in_last_244us);
    tcase_add_test(tc, periodic_interrupt_rate);
    tcase_add_test(tc, alarm_interrupt);
    tcase_add_test(tc, update_interrupt_and_register_c_clear);
    tcase_add_test(tc, cmos_memory_128m);
    tcase_add_test(tc, cmos_memory_32m);
    tcase_add_test(tc, cmos_memory_3072m);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(rtc_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
