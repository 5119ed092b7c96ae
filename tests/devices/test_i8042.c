/*
 * 8042 keyboard controller and port 0x92 through their port callbacks:
 * controller self-test and commands, the config byte, the keyboard's
 * command replies, IRQ1, the PS/2 mouse on the auxiliary port, the A20 gate seen
 * through physical reads that wrap at 1 MiB, and the reset line.
 */
#include <check.h>
#include <stdlib.h>

#include "common/counters.h"
#include "common/log.h"
#include "devices/i8042.h"
#include "mmu/mmu.h"

struct fake_irq {
    bool level[16];
    unsigned rises[16];
};

static void fake_set(void *opaque, unsigned irq, bool level)
{
    struct fake_irq *f = opaque;
    if (level && !f->level[irq])
        f->rises[irq]++;
    f->level[irq] = level;
}

static void count_reset(void *opaque)
{
    ++*(unsigned *)opaque;
}

static struct counters cnt;
static struct logger lg;
static struct mmu *m;
static struct fake_irq irqs;
static struct i8042 *k;
static unsigned resets;

static void setup(void)
{
    cnt = (struct counters){ 0 };
    log_init(&lg);
    irqs = (struct fake_irq){ 0 };
    resets = 0;
    m = mmu_new(2u << 20, &cnt, &lg);
    ck_assert_ptr_nonnull(m);
    struct irq_sink sink = { fake_set, &irqs };
    k = i8042_new(m, &sink, count_reset, &resets, &lg);
    ck_assert_ptr_nonnull(k);
}

static void teardown(void)
{
    i8042_free(k);
    mmu_free(m);
}

static u8 status(void)
{
    return (u8)mmu_io_read(m, 0x64, 1);
}

static void cmd(u8 c)
{
    mmu_io_write(m, 0x64, c, 1);
}

static void data(u8 d)
{
    mmu_io_write(m, 0x60, d, 1);
}

/* The next byte of the output buffer; fails if there is none. */
static u8 next(void)
{
    ck_assert_msg(status() & 0x01, "output buffer empty");
    return (u8)mmu_io_read(m, 0x60, 1);
}

static bool empty(void)
{
    return !(status() & 0x01);
}

static u8 read_config(void)
{
    cmd(0x20);
    return next();
}

START_TEST(self_test)
{
    ck_assert(empty());
    cmd(0xaa);
    ck_assert_uint_eq(status() & 0x0b, 0x09); /* OBF, CMD; IBF clear */
    ck_assert_uint_eq(next(), 0x55);
    ck_assert(empty());
    ck_assert(status() & 0x04); /* SYS */
    cmd(0xab);
    ck_assert_uint_eq(next(), 0x00);
    cmd(0xa9);
    ck_assert_uint_eq(next(), 0x00);
}
END_TEST

START_TEST(config_byte)
{
    u8 c = read_config();
    ck_assert_uint_eq(c & 0x41, 0x41); /* translating, IRQ1 enabled */
    cmd(0x60);
    ck_assert(status() & 0x08); /* last write was a command */
    data(0x30);
    ck_assert_uint_eq(status() & 0x08, 0); /* last write was data */
    ck_assert_uint_eq(read_config(), 0x30);
    ck_assert_uint_eq(status() & 0x04, 0); /* SYS follows config bit 2 */
    cmd(0x60);
    data(0x47);
    ck_assert_uint_eq(read_config(), 0x47);
    ck_assert(status() & 0x04);
    cmd(0xad);
    ck_assert_uint_eq(read_config(), 0x57);
    cmd(0xae);
    cmd(0xa7);
    ck_assert_uint_eq(read_config(), 0x67);
    cmd(0xa8);
    ck_assert_uint_eq(read_config(), 0x47);
}
END_TEST

START_TEST(keyboard_commands)
{
    data(0xff);
    ck_assert_uint_eq(next(), 0xfa);
    ck_assert_uint_eq(next(), 0xaa);
    ck_assert(empty());
    data(0xf2); /* translated: the ID's second byte is 0x41 */
    ck_assert_uint_eq(next(), 0xfa);
    ck_assert_uint_eq(next(), 0xab);
    ck_assert_uint_eq(next(), 0x41);
    cmd(0x60);
    data(0x05); /* translation off */
    data(0xf2);
    ck_assert_uint_eq(next(), 0xfa);
    ck_assert_uint_eq(next(), 0xab);
    ck_assert_uint_eq(next(), 0x83);
    data(0xed);
    ck_assert_uint_eq(next(), 0xfa);
    data(0x07);
    ck_assert_uint_eq(next(), 0xfa);
    data(0xf3);
    ck_assert_uint_eq(next(), 0xfa);
    data(0x20);
    ck_assert_uint_eq(next(), 0xfa);
    data(0xf0);
    ck_assert_uint_eq(next(), 0xfa);
    data(0x03);
    ck_assert_uint_eq(next(), 0xfa);
    data(0xf0);
    data(0x00);
    ck_assert_uint_eq(next(), 0xfa);
    ck_assert_uint_eq(next(), 0xfa);
    ck_assert_uint_eq(next(), 0x03);
    data(0xee);
    ck_assert_uint_eq(next(), 0xee);
    data(0x42); /* not a command */
    ck_assert_uint_eq(next(), 0xfe);
    ck_assert(empty());
}
END_TEST

START_TEST(scanning_and_disable)
{
    const u8 press[2] = { 0x1e, 0x9e };
    data(0xf5);
    ck_assert_uint_eq(next(), 0xfa);
    i8042_key_event(k, press, 2);
    ck_assert(empty()); /* scanning off: keys dropped */
    data(0xf4);
    ck_assert_uint_eq(next(), 0xfa);
    cmd(0xad);
    i8042_key_event(k, press, 2);
    ck_assert(empty()); /* clock disabled: held in the keyboard */
    cmd(0xae);
    ck_assert_uint_eq(next(), 0x1e);
    ck_assert_uint_eq(next(), 0x9e);
    ck_assert(empty());
}
END_TEST

START_TEST(irq1_on_obf)
{
    const u8 key = 0x1c;
    ck_assert(!irqs.level[1]);
    i8042_key_event(k, &key, 1);
    ck_assert(irqs.level[1]);
    ck_assert_uint_eq(next(), 0x1c);
    ck_assert(!irqs.level[1]);
    /* Two bytes: the line drops on each read and rises for the next. */
    const u8 two[2] = { 0xe0, 0x48 };
    i8042_key_event(k, two, 2);
    ck_assert_uint_eq(irqs.rises[1], 2);
    next();
    ck_assert_uint_eq(irqs.rises[1], 3);
    next();
    ck_assert(!irqs.level[1]);
    /* With config bit 0 clear there is no interrupt, only OBF. */
    cmd(0x60);
    data(0x64);
    i8042_key_event(k, &key, 1);
    ck_assert(!irqs.level[1]);
    ck_assert(status() & 1);
    cmd(0x60);
    data(0x65); /* enabling it with data waiting raises the line */
    ck_assert(irqs.level[1]);
}
END_TEST

/* A byte for the mouse through D4; its answers follow as aux data. */
static void mouse(u8 b)
{
    cmd(0xd4);
    data(b);
}

static u8 next_aux(void)
{
    ck_assert_uint_eq(status() & 0x21, 0x21); /* OBF with AUXB */
    return next();
}

START_TEST(aux_device)
{
    /* The BIOS leaves the aux clock disabled: the reply waits for A8. */
    mouse(0xff);
    ck_assert(empty());
    cmd(0xa8);
    ck_assert_uint_eq(next_aux(), 0xfa);
    ck_assert_uint_eq(next_aux(), 0xaa);
    ck_assert_uint_eq(next_aux(), 0x00);
    ck_assert(empty());
    /* IRQ12 follows aux data once config bit 1 allows it, IRQ1 does not. */
    ck_assert(!irqs.level[12]);
    u8 c = read_config();
    cmd(0x60);
    data(c | 0x02);
    cmd(0xd3);
    data(0x5a); /* loopback: as if the mouse sent it */
    ck_assert(irqs.level[12]);
    ck_assert(!irqs.level[1]);
    ck_assert_uint_eq(next_aux(), 0x5a);
    ck_assert(!irqs.level[12]);
    mouse(0xf2);
    ck_assert_uint_eq(next_aux(), 0xfa);
    ck_assert_uint_eq(next_aux(), 0x00); /* a standard mouse */
    mouse(0xe8);
    ck_assert_uint_eq(next_aux(), 0xfa);
    mouse(0x03);
    ck_assert_uint_eq(next_aux(), 0xfa);
    mouse(0xe9);
    ck_assert_uint_eq(next_aux(), 0xfa);
    ck_assert_uint_eq(next_aux(), 0x00);  /* stream, disabled, 1:1 */
    ck_assert_uint_eq(next_aux(), 0x03);  /* resolution */
    ck_assert_uint_eq(next_aux(), 100);   /* sample rate */
}
END_TEST

START_TEST(mouse_packets)
{
    cmd(0xa8);
    /* Not reporting yet: motion is dropped. */
    i8042_mouse_event(k, 5, 5, 0, 0);
    ck_assert(empty());
    mouse(0xf4);
    ck_assert_uint_eq(next_aux(), 0xfa);
    i8042_mouse_event(k, -3, 10, 0, 1);
    ck_assert_uint_eq(next_aux(), 0x08 | 0x10 | 0x01);  /* X negative, left */
    ck_assert_uint_eq(next_aux(), 0xfd);
    ck_assert_uint_eq(next_aux(), 10);
    ck_assert(empty());
    /* A long motion becomes several packets. */
    i8042_mouse_event(k, 300, -2, 0, 2);
    ck_assert_uint_eq(next_aux(), 0x08 | 0x20 | 0x02);
    ck_assert_uint_eq(next_aux(), 255);
    ck_assert_uint_eq(next_aux(), 0xfe);
    ck_assert_uint_eq(next_aux(), 0x08 | 0x02);
    ck_assert_uint_eq(next_aux(), 45);
    ck_assert_uint_eq(next_aux(), 0);
    /* The IntelliMouse sequence: rates 200, 100, 80 make it ID 3 with a
     * fourth (wheel) byte. */
    static const u8 rates[] = { 200, 100, 80 };
    for (unsigned i = 0; i < 3; i++) {
        mouse(0xf3);
        ck_assert_uint_eq(next_aux(), 0xfa);
        mouse(rates[i]);
        ck_assert_uint_eq(next_aux(), 0xfa);
    }
    mouse(0xf2);
    ck_assert_uint_eq(next_aux(), 0xfa);
    ck_assert_uint_eq(next_aux(), 0x03);
    i8042_mouse_event(k, 0, 0, -1, 0);
    ck_assert_uint_eq(next_aux(), 0x08);
    ck_assert_uint_eq(next_aux(), 0);
    ck_assert_uint_eq(next_aux(), 0);
    ck_assert_uint_eq(next_aux(), 0x0f);
    /* Disabled again: nothing more. */
    mouse(0xf5);
    ck_assert_uint_eq(next_aux(), 0xfa);
    i8042_mouse_event(k, 1, 1, 0, 0);
    ck_assert(empty());
}
END_TEST

START_TEST(key_events_set1_and_set2)
{
    static const u8 a_make[] = { 0x1e }, a_break[] = { 0x9e };
    static const u8 up_make[] = { 0xe0, 0x48 }, pause[] = { 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 };
    i8042_key_event(k, a_make, 1);
    ck_assert_uint_eq(next(), 0x1e); /* translated: set 1 as given */
    u8 c = read_config();
    cmd(0x60);
    data(c & ~0x40);                 /* translation off: set 2 */
    i8042_key_event(k, a_make, 1);
    i8042_key_event(k, a_break, 1);
    i8042_key_event(k, up_make, 2);
    static const u8 want[] = { 0x1c, 0xf0, 0x1c, 0xe0, 0x75 };
    for (unsigned i = 0; i < sizeof want; i++)
        ck_assert_uint_eq(next(), want[i]);
    i8042_key_event(k, pause, sizeof pause);
    static const u8 want_pause[] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 };
    for (unsigned i = 0; i < sizeof want_pause; i++)
        ck_assert_uint_eq(next(), want_pause[i]);
    ck_assert(empty());
}
END_TEST

/* A20 seen from the bus: 1 MiB aliases 0 when the gate is closed. */
static bool a20_on(void)
{
    mmu_phys_write(m, 0x000000, 0x11, 1);
    mmu_phys_write(m, 0x100000, 0x22, 1);
    bool on = mmu_phys_read(m, 0x100000, 1) == 0x22 && mmu_phys_read(m, 0, 1) == 0x11;
    return on;
}

START_TEST(a20_output_port)
{
    ck_assert(a20_on());
    cmd(0xd0);
    ck_assert_uint_eq(next() & 0x03, 0x03);
    cmd(0xd1);
    data(0xdd); /* A20 off, reset line inactive */
    ck_assert_uint_eq(m->a20_mask, ~(1u << 20));
    ck_assert(!a20_on());
    ck_assert_uint_eq(mmu_phys_read(m, 0x100000, 1), mmu_phys_read(m, 0, 1));
    cmd(0xd0);
    ck_assert_uint_eq(next() & 0x03, 0x01);
    cmd(0xd1);
    data(0xdf);
    ck_assert(a20_on());
    ck_assert_uint_eq(resets, 0);
}
END_TEST

START_TEST(port92)
{
    cmd(0xd1);
    data(0xdd);
    ck_assert(!a20_on());
    mmu_io_write(m, 0x92, 0x02, 1);
    ck_assert(a20_on());
    ck_assert_uint_eq(mmu_io_read(m, 0x92, 1) & 0x02, 0x02);
    mmu_io_write(m, 0x92, 0x00, 1);
    ck_assert(!a20_on());
    ck_assert_uint_eq(resets, 0);
    mmu_io_write(m, 0x92, 0x01, 1); /* fast reset on the rising edge */
    ck_assert_uint_eq(resets, 1);
    mmu_io_write(m, 0x92, 0x01, 1);
    ck_assert_uint_eq(resets, 1);
}
END_TEST

START_TEST(reset_requests)
{
    cmd(0xfe);
    ck_assert_uint_eq(resets, 1);
    cmd(0xff); /* pulse nothing */
    ck_assert_uint_eq(resets, 1);
    cmd(0xd1);
    data(0x02); /* output port with the reset line low */
    ck_assert_uint_eq(resets, 2);
    i8042_reset(k);
    ck_assert(a20_on()); /* reset state opens the gate again */
    ck_assert(empty());
}
END_TEST

static Suite *i8042_suite(void)
{
    Suite *s = suite_create("i8042");
    TCase *tc = tcase_create("controller");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, self_test);
    tcase_add_test(tc, config_byte);
    tcase_add_test(tc, aux_device);
    tcase_add_test(tc, mouse_packets);
    suite_add_tcase(s, tc);
    tc = tcase_create("keyboard");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, keyboard_commands);
    tcase_add_test(tc, scanning_and_disable);
    tcase_add_test(tc, irq1_on_obf);
    tcase_add_test(tc, key_events_set1_and_set2);
    suite_add_tcase(s, tc);
    tc = tcase_create("a20_reset");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a20_output_port);
    tcase_add_test(tc, port92);
    tcase_add_test(tc, reset_requests);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(i8042_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
