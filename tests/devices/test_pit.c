/*
 * 8254 through its ports with a fake clock and a fake IRQ0 line: modes 0,
 * 2, 3, 4 (counts and OUT over time), counter latch and read-back, the
 * channel 2 gate and port 0x61, Linux's PIT calibration loop, and IRQ0
 * edges at the programmed rate.
 */
#include <check.h>
#include <stdlib.h>

#include "common/counters.h"
#include "common/log.h"
#include "devices/pit.h"
#include "mmu/mmu.h"

struct fake_line {
    bool level;
    unsigned rises;
};

static void fake_set(void *opaque, unsigned irq, bool level)
{
    struct fake_line *f = opaque;
    if (level && !f->level)
        f->rises++;
    f->level = level;
}

static u64 fake_now(void *opaque)
{
    return *(u64 *)opaque;
}

static struct counters cnt;
static struct logger lg;
static struct mmu *m;
static struct pit pit;
static struct fake_line irq0;
static u64 now;

static void out8(u16 port, u8 v) { mmu_io_write(m, port, v, 1); }
static u8 in8(u16 port) { return (u8)mmu_io_read(m, port, 1); }

/* Nanoseconds after which `t` input clocks have elapsed. */
static u64 tick_ns(u64 t)
{
    return (t * 1000000000ull + PIT_HZ - 1) / PIT_HZ;
}

static void program(unsigned ch, unsigned mode, u16 count)
{
    out8(0x43, (u8)(ch << 6 | 0x30 | mode << 1));
    out8((u16)(0x40 + ch), (u8)count);
    out8((u16)(0x40 + ch), (u8)(count >> 8));
}

static u16 latch_read(unsigned ch)
{
    out8(0x43, (u8)(ch << 6));
    u16 lo = in8((u16)(0x40 + ch));
    return (u16)(lo | in8((u16)(0x40 + ch)) << 8);
}

static void setup(void)
{
    cnt = (struct counters){ 0 };
    log_init(&lg);
    m = mmu_new(1u << 20, &cnt, &lg);
    ck_assert_ptr_nonnull(m);
    irq0 = (struct fake_line){ 0 };
    now = 5000000; /* not zero: loads happen at arbitrary times */
    pit_init(&pit, (struct irq_sink){ fake_set, &irq0 }, (struct clock){ fake_now, &now });
    ck_assert_int_eq(pit_map(&pit, m), 0);
    irq0.rises = 0; /* the power-on level is not an edge */
}

static void teardown(void)
{
    mmu_free(m);
}

START_TEST(mode0_counts_down_and_rises_at_terminal_count)
{
    program(0, 0, 1000);
    u64 t0 = now;
    ck_assert(!irq0.level);
    ck_assert_uint_eq(latch_read(0), 1000);
    now = t0 + tick_ns(300);
    ck_assert_uint_eq(latch_read(0), 700);
    u64 deadline = pit_update(&pit, now);
    ck_assert_uint_eq(deadline, t0 + tick_ns(1000));
    now = deadline - 1;
    pit_update(&pit, now);
    ck_assert_uint_eq(irq0.rises, 0);
    ck_assert(!pit_out(&pit, 0, now));
    now = deadline;
    ck_assert_uint_eq(pit_update(&pit, now), TIME_NEVER);
    ck_assert_uint_eq(irq0.rises, 1);
    ck_assert(irq0.level);
    /* It keeps counting down past zero, OUT stays high, no more edges. */
    now += tick_ns(10);
    ck_assert_uint_eq(latch_read(0), 0xfff6);
    pit_update(&pit, now);
    ck_assert_uint_eq(irq0.rises, 1);
}
END_TEST

START_TEST(mode2_irq0_at_programmed_rate)
{
    const u16 count = 11932; /* ~100 Hz */
    program(0, 2, count);
    u64 t0 = now;
    u64 end = t0 + 1000000000ull;
    u64 d = pit_update(&pit, now);
    unsigned deadlines = 0;
    while (d <= end) {
        ck_assert_uint_eq(d, t0 + tick_ns((u64)(deadlines + 1) * count));
        now = d;
        d = pit_update(&pit, now);
        deadlines++;
    }
    unsigned expect = (unsigned)((u64)PIT_HZ / count);
    ck_assert_uint_eq(deadlines, expect);
    ck_assert_uint_eq(irq0.rises, expect);
    /* Counter value within a period: count - ticks % count. */
    now = t0 + tick_ns(5 * (u64)count + 123);
    ck_assert_uint_eq(latch_read(0), count - 123);
    /* Several missed periods make a single edge. */
    now = t0 + tick_ns(500 * (u64)count + 7);
    unsigned before = irq0.rises;
    pit_update(&pit, now);
    ck_assert_uint_eq(irq0.rises, before + 1);
}
END_TEST

/* Power-on: a counter is idle until a control word and a count were
 * written; count bytes before any control word are ignored. */
START_TEST(unprogrammed_counter_is_idle)
{
    ck_assert(irq0.level); /* OUT high, as it stays until programmed */
    ck_assert_uint_eq(pit_update(&pit, now), TIME_NEVER);
    out8(0x40, 100); /* a count without a control word */
    out8(0x40, 0);
    for (unsigned k = 0; k < 1000; k++) {
        now += 1000000; /* 1 s in all */
        ck_assert_uint_eq(pit_update(&pit, now), TIME_NEVER);
    }
    ck_assert_uint_eq(irq0.rises, 0);
    ck_assert(irq0.level);
    /* A control word alone starts nothing either. */
    out8(0x43, 0x34);
    now += 1000000000ull;
    ck_assert_uint_eq(pit_update(&pit, now), TIME_NEVER);
    ck_assert_uint_eq(irq0.rises, 0);
    /* Control word and count: IRQ0 after `count` ticks. */
    out8(0x40, 100);
    out8(0x40, 0);
    u64 t0 = now;
    ck_assert_uint_eq(pit_update(&pit, now), t0 + tick_ns(100));
    now = t0 + tick_ns(100);
    pit_update(&pit, now);
    ck_assert_uint_eq(irq0.rises, 1);
}
END_TEST

START_TEST(mode3_square_wave_on_channel2)
{
    out8(0x61, 0x01); /* gate channel 2 on */
    program(2, 3, 100);
    u64 t0 = now;
    for (u64 t = 0; t < 300; t++) {
        now = t0 + tick_ns(t);
        bool high = t % 100 < 50;
        ck_assert_msg(((in8(0x61) >> 5) & 1) == high, "tick %llu", (unsigned long long)t);
    }
    /* Gate low forces OUT high and stops; gate high restarts the count. */
    now = t0 + tick_ns(70);
    out8(0x61, 0x00);
    ck_assert_uint_eq(in8(0x61) & 0x20, 0x20);
    now += tick_ns(1000);
    out8(0x61, 0x01);
    u64 t1 = now;
    now = t1 + tick_ns(60);
    ck_assert_uint_eq(in8(0x61) & 0x20, 0);
    now = t1 + tick_ns(100);
    ck_assert_uint_eq(in8(0x61) & 0x21, 0x21);
}
END_TEST

START_TEST(mode4_strobe)
{
    program(0, 4, 50);
    u64 t0 = now;
    now = t0 + tick_ns(50);
    ck_assert(!pit_out(&pit, 0, now));
    now = t0 + tick_ns(51);
    ck_assert(pit_out(&pit, 0, now));
    ck_assert_uint_eq(pit_update(&pit, now), TIME_NEVER);
    ck_assert_uint_eq(irq0.rises, 1);
}
END_TEST

START_TEST(latch_holds_value)
{
    program(1, 2, 5000);
    u64 t0 = now;
    now = t0 + tick_ns(1000);
    out8(0x43, 0x40);
    now = t0 + tick_ns(3000);
    out8(0x43, 0x40); /* ignored: the first latch is still unread */
    ck_assert_uint_eq(in8(0x41), (u8)4000);
    ck_assert_uint_eq(in8(0x41), 4000 >> 8);
    /* Unlatched reads see the live count, LSB then MSB. */
    u16 live = in8(0x41);
    live |= (u16)(in8(0x41) << 8);
    ck_assert_uint_eq(live, 2000);
    /* LSB-only access mode. */
    out8(0x43, 0x54); /* channel 1, LSB, mode 2 */
    out8(0x41, 0x80);
    now += tick_ns(0x10);
    ck_assert_uint_eq(in8(0x41), 0x70);
}
END_TEST

START_TEST(read_back_status_and_count)
{
    out8(0x43, 0x35); /* channel 0, LSB/MSB, mode 2, BCD */
    /* Before the count: null count set, OUT high (mode 2). */
    out8(0x43, 0xe2); /* latch status only for channel 0 */
    ck_assert_uint_eq(in8(0x40), 0x80 | 0x40 | 0x30 | 0x04 | 0x01);
    out8(0x40, 0x00);
    out8(0x40, 0x10);
    u64 t0 = now;
    now = t0 + tick_ns(0x100);
    out8(0x43, 0xc2); /* latch status and count */
    ck_assert_uint_eq(in8(0x40), 0x80 | 0x30 | 0x04 | 0x01);
    ck_assert_uint_eq(in8(0x40), 0x00);
    ck_assert_uint_eq(in8(0x40), 0x0f);
    /* Read-back count latch on channels 0 and 2 at once. */
    out8(0x61, 0x01);
    program(2, 0, 0x2000);
    now += tick_ns(0x10);
    out8(0x43, 0xd4); /* count only, channels 2 and 0... */
    ck_assert_uint_eq(in8(0x42), 0xf0);
    ck_assert_uint_eq(in8(0x42), 0x1f);
}
END_TEST

/* arch/x86/kernel/tsc.c pit_calibrate_tsc(): channel 2, mode 0, poll port
 * 0x61 bit 5 until OUT rises. */
START_TEST(linux_calibration_loop)
{
    const u16 latch = 11932; /* 10 ms */
    out8(0x61, (u8)((in8(0x61) & ~0x02) | 0x01));
    out8(0x43, 0xb0);
    out8(0x42, latch & 0xff);
    out8(0x42, latch >> 8);
    u64 t0 = now;
    unsigned polls = 0;
    while (!(in8(0x61) & 0x20)) {
        now += 70; /* the loop body's few instructions */
        polls++;
        ck_assert_uint_lt(polls, 1000000);
    }
    u64 elapsed = now - t0;
    u64 ideal = (u64)latch * 1000000000ull / PIT_HZ;
    u64 tick = 1000000000ull / PIT_HZ + 1;
    ck_assert_uint_le(elapsed, ideal + tick);
    ck_assert_uint_ge(elapsed + tick, ideal);
}
END_TEST

/* quick_pit_calibrate(): mode 0 count 0xffff, read LSB and MSB of the live
 * count; the MSB must step down once per 256 ticks. */
START_TEST(linux_quick_calibration_msb)
{
    out8(0x61, (u8)((in8(0x61) & ~0x02) | 0x01));
    out8(0x43, 0xb0);
    out8(0x42, 0xff);
    out8(0x42, 0xff);
    u64 t0 = now;
    for (unsigned i = 1; i < 200; i++) {
        now = t0 + tick_ns(256ull * i);
        in8(0x42);
        ck_assert_uint_eq(in8(0x42), 0xff - i);
    }
}
END_TEST

START_TEST(gate_suspends_mode0)
{
    program(2, 0, 1000);
    u64 t0 = now;
    now = t0 + tick_ns(500);
    ck_assert_uint_eq(latch_read(2), 1000); /* gate is low after reset */
    out8(0x61, 0x01);
    now += tick_ns(400);
    out8(0x61, 0x00);
    now += tick_ns(5000);
    ck_assert_uint_eq(latch_read(2), 600);
    ck_assert_uint_eq(in8(0x61) & 0x20, 0);
    out8(0x61, 0x01);
    now += tick_ns(600);
    ck_assert_uint_eq(in8(0x61) & 0x20, 0x20);
}
END_TEST

START_TEST(port61_refresh_toggles_and_speaker_bit)
{
    out8(0x61, 0x02);
    ck_assert_uint_eq(in8(0x61) & 0x03, 0x02);
    unsigned changes = 0;
    u8 last = in8(0x61) & 0x10;
    for (unsigned i = 0; i < 100; i++) {
        now += 15085;
        u8 b = in8(0x61) & 0x10;
        changes += b != last;
        last = b;
    }
    ck_assert_uint_eq(changes, 100);
}
END_TEST

static Suite *pit_suite(void)
{
    Suite *s = suite_create("pit");
    TCase *tc = tcase_create("ports");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, mode0_counts_down_and_rises_at_terminal_count);
    tcase_add_test(tc, mode2_irq0_at_programmed_rate);
    tcase_add_test(tc, mode3_square_wave_on_channel2);
    tcase_add_test(tc, mode4_strobe);
    tcase_add_test(tc, latch_holds_value);
    tcase_add_test(tc, read_back_status_and_count);
    tcase_add_test(tc, linux_calibration_loop);
    tcase_add_test(tc, linux_quick_calibration_msb);
    tcase_add_test(tc, gate_suspends_mode0);
    tcase_add_test(tc, port61_refresh_toggles_and_speaker_bit);
    tcase_add_test(tc, unprogrammed_counter_is_idle);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pit_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
