/*
 * pc-testdev through its ports and MMIO window: the scratch register at
 * 0xE0 and 0xE8 with byte addressing, port 0xE9 left alone, the ISA
 * interrupt line ports and the 64 KiB scratch memory.
 */
#include <check.h>
#include <stdlib.h>

#include "common/counters.h"
#include "common/log.h"
#include "devices/testdev.h"
#include "mmu/mmu.h"

struct fake_irq {
    bool level[32];
};

static void fake_set(void *opaque, unsigned irq, bool level)
{
    struct fake_irq *f = opaque;
    ck_assert_uint_lt(irq, 32);
    f->level[irq] = level;
}

static struct counters cnt;
static struct logger lg;
static struct mmu *m;
static struct fake_irq irqs;
static struct testdev *t;

static void setup(void)
{
    cnt = (struct counters){ 0 };
    log_init(&lg);
    irqs = (struct fake_irq){ 0 };
    m = mmu_new(1u << 20, &cnt, &lg);
    ck_assert_ptr_nonnull(m);
    struct irq_sink sink = { fake_set, &irqs };
    t = testdev_new(m, &sink);
    ck_assert_ptr_nonnull(t);
}

static void teardown(void)
{
    testdev_free(t);
    mmu_free(m);
}

START_TEST(scratch_ports)
{
    mmu_io_write(m, 0xe0, 0x12345678, 4);
    ck_assert_uint_eq(mmu_io_read(m, 0xe0, 4), 0x12345678);
    ck_assert_uint_eq(mmu_io_read(m, 0xe0, 1), 0x78);
    ck_assert_uint_eq(mmu_io_read(m, 0xe2, 1), 0x34);
    ck_assert_uint_eq(mmu_io_read(m, 0xe1, 2), 0x3456);
    ck_assert_uint_eq(mmu_io_read(m, 0xe2, 4), 0x1234); /* clipped at byte 3 */
    mmu_io_write(m, 0xe3, 0xab, 1);
    mmu_io_write(m, 0xe0, 0xcdef, 2);
    ck_assert_uint_eq(mmu_io_read(m, 0xe0, 4), 0xab34cdef);
    /* 0xE8-0xEB is the same register, byte-addressed. */
    ck_assert_uint_eq(mmu_io_read(m, 0xe8, 1), 0xef);
    ck_assert_uint_eq(mmu_io_read(m, 0xea, 2), 0xab34);
    mmu_io_write(m, 0xeb, 0x01, 1);
    ck_assert_uint_eq(mmu_io_read(m, 0xe0, 4), 0x0134cdef);
    mmu_io_write(m, 0xe8, 0x55667788, 4);
    ck_assert_uint_eq(mmu_io_read(m, 0xe0, 4), 0x55667788);
    /* Port 0xE9 stays with the debug console (unclaimed here). */
    ck_assert_uint_eq(mmu_io_read(m, 0xe9, 1), 0xff);
}
END_TEST

START_TEST(irq_lines)
{
    mmu_io_write(m, 0x2005, 1, 1);
    ck_assert(irqs.level[5]);
    mmu_io_write(m, 0x2000 + 23, 0x80, 1);
    ck_assert(irqs.level[23]);
    ck_assert(!irqs.level[4] && !irqs.level[6]);
    mmu_io_write(m, 0x2005, 0, 1);
    ck_assert(!irqs.level[5]);
    ck_assert(irqs.level[23]);
    mmu_io_write(m, 0x2003, 1, 2); /* only byte writes count */
    ck_assert(!irqs.level[3]);
    /* Port 0x2018 is past the 24 lines. */
    mmu_io_write(m, 0x2018, 1, 1);
    for (unsigned i = 24; i < 32; i++)
        ck_assert(!irqs.level[i]);
}
END_TEST

START_TEST(mmio_window)
{
    const u32 base = TESTDEV_IOMEM_BASE;
    mmu_phys_write(m, base + 0x10, 0xdeadbeef, 4);
    mmu_phys_write(m, base + 0xfffc, 0x01020304, 4);
    mmu_phys_write(m, base + 0x8000, 0x77, 1);
    ck_assert_uint_eq(mmu_phys_read(m, base + 0x10, 4), 0xdeadbeef);
    ck_assert_uint_eq(mmu_phys_read(m, base + 0x12, 2), 0xdead);
    ck_assert_uint_eq(mmu_phys_read(m, base + 0xfffc, 4), 0x01020304);
    ck_assert_uint_eq(mmu_phys_read(m, base + 0x8000, 1), 0x77);
    ck_assert_uint_eq(mmu_phys_read(m, base + 0x14, 4), 0);
    /* Past the window: unbacked, all ones. */
    ck_assert_uint_eq(mmu_phys_read(m, base + TESTDEV_IOMEM_SIZE, 4), 0xffffffffu);
}
END_TEST

START_TEST(flush_port)
{
    /* 0xE4-0xE7 is the write-only flush port, not part of the scratch
     * register, and RAM contents survive a flush. */
    mmu_phys_write(m, 0x1000, 0x5a5a, 2);
    mmu_io_write(m, 0xe0, 0x11111111, 4);
    mmu_io_write(m, 0xe4, 0x1000, 4);
    mmu_io_write(m, 0xe6, 0x22, 1);
    ck_assert_uint_eq(mmu_io_read(m, 0xe0, 4), 0x11111111);
    ck_assert_uint_eq(mmu_io_read(m, 0xe4, 4), 0xffffffffu);
    ck_assert_uint_eq(mmu_phys_read(m, 0x1000, 2), 0x5a5a);
}
END_TEST

static Suite *testdev_suite(void)
{
    Suite *s = suite_create("testdev");
    TCase *tc = tcase_create("ports");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, scratch_ports);
    tcase_add_test(tc, irq_lines);
    tcase_add_test(tc, flush_port);
    suite_add_tcase(s, tc);
    tc = tcase_create("iomem");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, mmio_window);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(testdev_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
