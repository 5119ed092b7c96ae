/*
 * 8259A pair through its ports: initialization, masks, priorities, EOI,
 * cascade, ELCR level/edge, spurious IRQ7, poll, IRR/ISR reads.  The INTR
 * output goes to a fake line that records its level and its rising edges.
 */
#include <check.h>
#include <stdlib.h>

#include "common/counters.h"
#include "common/log.h"
#include "devices/pic.h"
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

static struct counters cnt;
static struct logger lg;
static struct mmu *m;
static struct pic pic;
static struct fake_line intr;

static void out8(u16 port, u8 v) { mmu_io_write(m, port, v, 1); }
static u8 in8(u16 port) { return (u8)mmu_io_read(m, port, 1); }

/* Linux's init_8259A: ICW1 edge+ICW4, vectors 0x30/0x38, cascade on IR2,
 * 8086 mode, all unmasked afterwards. */
static void std_init(u8 icw4)
{
    out8(0x20, 0x11);
    out8(0x21, 0x30);
    out8(0x21, 0x04);
    out8(0x21, icw4);
    out8(0xa0, 0x11);
    out8(0xa1, 0x38);
    out8(0xa1, 0x02);
    out8(0xa1, icw4);
    out8(0x21, 0x00);
    out8(0xa1, 0x00);
}

static void setup(void)
{
    cnt = (struct counters){ 0 };
    log_init(&lg);
    m = mmu_new(1u << 20, &cnt, &lg);
    ck_assert_ptr_nonnull(m);
    intr = (struct fake_line){ 0 };
    pic_init(&pic, (struct irq_sink){ fake_set, &intr });
    ck_assert_int_eq(pic_map(&pic, m), 0);
    std_init(0x01);
}

static void teardown(void)
{
    mmu_free(m);
}

static void pulse(unsigned irq)
{
    pic_set_irq(&pic, irq, true);
    pic_set_irq(&pic, irq, false);
}

START_TEST(init_sequence_sets_vectors_and_clears_masks)
{
    out8(0x21, 0xa5);
    ck_assert_uint_eq(in8(0x21), 0xa5);
    /* A new ICW1 clears the IMR and needs ICW2 before OCW1 again. */
    out8(0x20, 0x11);
    ck_assert_uint_eq(in8(0x21), 0x00);
    out8(0x21, 0x68);
    out8(0x21, 0x04);
    out8(0x21, 0x01);
    out8(0x21, 0xfe);
    ck_assert_uint_eq(in8(0x21), 0xfe);
    out8(0x21, 0x00);
    pulse(3);
    ck_assert(pic_output(&pic));
    ck_assert_int_eq(pic_ack(&pic), 0x68 + 3);
    /* Single mode without ICW4 takes ICW2 only. */
    out8(0xa0, 0x12);
    out8(0xa1, 0x70);
    out8(0xa1, 0x5a); /* OCW1 right away */
    ck_assert_uint_eq(in8(0xa1), 0x5a);
}
END_TEST

START_TEST(mask_blocks_and_unmask_delivers)
{
    out8(0x21, 0x02);
    pulse(1);
    ck_assert(!pic_output(&pic));
    ck_assert(!intr.level);
    out8(0x21, 0x00);
    ck_assert(pic_output(&pic));
    ck_assert(intr.level);
    ck_assert_int_eq(pic_ack(&pic), 0x31);
    ck_assert(!intr.level);
}
END_TEST

START_TEST(priority_and_nesting)
{
    pulse(5);
    pulse(3);
    ck_assert_int_eq(pic_ack(&pic), 0x33);
    /* IR5 is lower priority than in-service IR3: no INTR. */
    ck_assert(!pic_output(&pic));
    /* IR1 preempts IR3. */
    pulse(1);
    ck_assert(pic_output(&pic));
    ck_assert_int_eq(pic_ack(&pic), 0x31);
    out8(0x20, 0x20); /* non-specific EOI ends IR1, the highest */
    out8(0x20, 0x0b);
    ck_assert_uint_eq(in8(0x20), 0x08);
    ck_assert(!pic_output(&pic));
    out8(0x20, 0x20); /* ends IR3 */
    ck_assert(pic_output(&pic));
    ck_assert_int_eq(pic_ack(&pic), 0x35);
}
END_TEST

START_TEST(specific_eoi_and_isr_irr_reads)
{
    pulse(4);
    pulse(6);
    out8(0x20, 0x0a); /* read IRR */
    ck_assert_uint_eq(in8(0x20), 0x50);
    ck_assert_int_eq(pic_ack(&pic), 0x34);
    ck_assert_uint_eq(in8(0x20), 0x40);
    out8(0x20, 0x0b); /* read ISR */
    ck_assert_uint_eq(in8(0x20), 0x10);
    /* A specific EOI for a level not in service changes nothing. */
    out8(0x20, 0x66);
    ck_assert_uint_eq(in8(0x20), 0x10);
    out8(0x20, 0x64);
    ck_assert_uint_eq(in8(0x20), 0x00);
    ck_assert_int_eq(pic_ack(&pic), 0x36);
    ck_assert_uint_eq(in8(0x20), 0x40);
}
END_TEST

START_TEST(cascade_slave_vector)
{
    pic_set_irq(&pic, 12, true);
    ck_assert(pic_output(&pic));
    ck_assert_int_eq(pic_ack(&pic), 0x38 + 4);
    out8(0x20, 0x0b);
    ck_assert_uint_eq(in8(0x20), 0x04);  /* master IR2 in service */
    out8(0xa0, 0x0b);
    ck_assert_uint_eq(in8(0xa0), 0x10);  /* slave IR4 in service */
    /* A second slave request waits for both EOIs. */
    pulse(9);
    ck_assert(!pic_output(&pic));
    out8(0xa0, 0x20);
    ck_assert(!pic_output(&pic));
    out8(0x20, 0x20);
    ck_assert(pic_output(&pic));
    ck_assert_int_eq(pic_ack(&pic), 0x39);
    /* Masking IR2 on the master hides every slave request. */
    out8(0xa0, 0x20);
    out8(0x20, 0x20);
    out8(0x21, 0x04);
    pulse(10);
    ck_assert(!pic_output(&pic));
    out8(0x21, 0x00);
    ck_assert_int_eq(pic_ack(&pic), 0x3a);
}
END_TEST

START_TEST(edge_latches_level_follows)
{
    /* Edge: a pulse is remembered; a line held high requests once. */
    pulse(4);
    ck_assert(pic_output(&pic));
    ck_assert_int_eq(pic_ack(&pic), 0x34);
    out8(0x20, 0x20);
    pic_set_irq(&pic, 4, true);
    ck_assert_int_eq(pic_ack(&pic), 0x34);
    out8(0x20, 0x20);
    ck_assert(!pic_output(&pic));
    pic_set_irq(&pic, 4, false);

    /* Level via ELCR: IRR follows the line and re-requests after EOI. */
    out8(0x4d1, 0xff);
    ck_assert_uint_eq(in8(0x4d1), 0xde); /* IRQ8 and IRQ13 stay edge */
    out8(0x4d0, 0x20);
    ck_assert_uint_eq(in8(0x4d0), 0x20);
    pic_set_irq(&pic, 5, true);
    ck_assert_int_eq(pic_ack(&pic), 0x35);
    out8(0x20, 0x20);
    ck_assert(pic_output(&pic));
    ck_assert_int_eq(pic_ack(&pic), 0x35);
    out8(0x20, 0x20);
    pic_set_irq(&pic, 5, false);
    ck_assert(!pic_output(&pic));
    /* A level pulse that is gone by now leaves nothing behind. */
    pulse(5);
    ck_assert(!pic_output(&pic));
    /* Slave level line 11. */
    pic_set_irq(&pic, 11, true);
    ck_assert_int_eq(pic_ack(&pic), 0x3b);
}
END_TEST

START_TEST(spurious_irq7_when_request_vanishes)
{
    out8(0x4d0, 0x20);
    pic_set_irq(&pic, 5, true);
    ck_assert(intr.level);
    pic_set_irq(&pic, 5, false); /* the request vanishes before INTA */
    ck_assert_int_eq(pic_ack(&pic), 0x37);
    out8(0x20, 0x0b);
    ck_assert_uint_eq(in8(0x20), 0x00); /* no ISR bit for a spurious IRQ */

    /* Masking a slave request after INTR rose: spurious on the master. */
    pic_set_irq(&pic, 11, true);
    ck_assert(intr.level);
    out8(0xa1, 0x08);
    ck_assert(!pic_output(&pic));
    ck_assert_int_eq(pic_ack(&pic), 0x37);
}
END_TEST

START_TEST(poll_mode)
{
    out8(0x20, 0x0c); /* no request: I bit clear */
    ck_assert_uint_eq(in8(0x20), 0x00);
    out8(0x21, 0x00);
    pulse(6);
    out8(0x21, 0xff);
    out8(0x21, 0x00);
    out8(0x20, 0x0c);
    ck_assert_uint_eq(in8(0x20), 0x86);
    out8(0x20, 0x0b);
    ck_assert_uint_eq(in8(0x20), 0x40); /* poll acknowledged IR6 */
    ck_assert_uint_eq(in8(0x20), 0x40); /* and only one read was a poll */
}
END_TEST

START_TEST(auto_eoi)
{
    std_init(0x03);
    pulse(3);
    ck_assert_int_eq(pic_ack(&pic), 0x33);
    out8(0x20, 0x0b);
    ck_assert_uint_eq(in8(0x20), 0x00);
    pulse(5);
    ck_assert(pic_output(&pic)); /* nothing in service blocks it */
    ck_assert_int_eq(pic_ack(&pic), 0x35);
}
END_TEST

START_TEST(rotation_on_eoi)
{
    pulse(0);
    ck_assert_int_eq(pic_ack(&pic), 0x30);
    out8(0x20, 0xa0); /* rotate on non-specific EOI: IR0 becomes lowest */
    pulse(0);
    pulse(4);
    ck_assert_int_eq(pic_ack(&pic), 0x34);
    out8(0x20, 0xc7); /* set priority: IR7 lowest, IR0 highest again */
    out8(0x20, 0x64);
    ck_assert_int_eq(pic_ack(&pic), 0x30);
}
END_TEST

/* Power-on: nothing is presented before the first ICW sequence completes,
 * a level that was high before ICW1 requests nothing (edge sense reset),
 * and a chip being initialized again is silent until its last ICW. */
START_TEST(power_on_silent_until_initialized)
{
    intr = (struct fake_line){ 0 };
    pic_init(&pic, (struct irq_sink){ fake_set, &intr });
    pic_set_irq(&pic, 0, true); /* the 8254's OUT, high from power-on */
    pulse(1);
    pulse(9);
    ck_assert(!pic_output(&pic));
    ck_assert_uint_eq(intr.rises, 0);
    out8(0x21, 0x00); /* OCW1 alone does not make the chip operational */
    pulse(1);
    ck_assert(!pic_output(&pic));
    out8(0x20, 0x11);
    out8(0x21, 0x30);
    out8(0x21, 0x04);
    pulse(1); /* latched during the sequence, presented after it */
    ck_assert(!pic_output(&pic));
    out8(0x21, 0x01);
    ck_assert(pic_output(&pic));
    ck_assert_int_eq(pic_ack(&pic), 0x31);
    out8(0x20, 0x20);
    ck_assert(!pic_output(&pic)); /* IRQ0 stayed high: no request */
    /* The slave is still uninitialized: IRQ9 reaches nothing. */
    pulse(9);
    ck_assert(!pic_output(&pic));
    out8(0xa0, 0x11);
    out8(0xa1, 0x38);
    out8(0xa1, 0x02);
    out8(0xa1, 0x01);
    pulse(9);
    ck_assert(pic_output(&pic));
    ck_assert_int_eq(pic_ack(&pic), 0x39);
    /* Initializing the master again: silent from ICW1 to ICW4. */
    out8(0x20, 0x11);
    pulse(3);
    ck_assert(!pic_output(&pic));
    out8(0x21, 0x30);
    out8(0x21, 0x04);
    ck_assert(!pic_output(&pic));
    out8(0x21, 0x01);
    ck_assert(pic_output(&pic));
    ck_assert_int_eq(pic_ack(&pic), 0x33);
}
END_TEST

static Suite *pic_suite(void)
{
    Suite *s = suite_create("pic");
    TCase *tc = tcase_create("ports");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, init_sequence_sets_vectors_and_clears_masks);
    tcase_add_test(tc, mask_blocks_and_unmask_delivers);
    tcase_add_test(tc, priority_and_nesting);
    tcase_add_test(tc, specific_eoi_and_isr_irr_reads);
    tcase_add_test(tc, cascade_slave_vector);
    tcase_add_test(tc, edge_latches_level_follows);
    tcase_add_test(tc, spurious_irq7_when_request_vanishes);
    tcase_add_test(tc, poll_mode);
    tcase_add_test(tc, auto_eoi);
    tcase_add_test(tc, rotation_on_eoi);
    tcase_add_test(tc, power_on_silent_until_initialized);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pic_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
