/*
 * I/O APIC through IOREGSEL/IOWIN: identification, masked reset state,
 * edge and level entries (remote IRR, EOI resend), polarity, unmasking an
 * asserted level entry, destination fields, and end to end with a local
 * APIC whose EOI of a level vector is broadcast back.
 */
#include <check.h>
#include <stdlib.h>

#include "devices/ioapic.h"
#include "devices/lapic.h"

struct msg {
    u8 dest;
    bool logical;
    unsigned mode;
    u8 vector;
    bool level;
};

struct fake_bus {
    struct msg last;
    unsigned sent;
    bool refuse;
    struct lapic *apic; /* when set, messages go to it */
};

static struct fake_bus bus;
static struct ioapic io;

static bool fake_deliver(void *opaque, u8 dest, bool logical, unsigned mode, u8 vector,
                         bool level)
{
    struct fake_bus *b = opaque;
    b->last = (struct msg){ dest, logical, mode, vector, level };
    b->sent++;
    if (b->apic)
        return lapic_match_dest(b->apic, dest, logical) &&
               lapic_deliver(b->apic, mode, vector, level);
    return !b->refuse;
}

static void setup(void)
{
    bus = (struct fake_bus){ 0 };
    ioapic_init(&io, fake_deliver, &bus);
}

static void teardown(void) {}

static u32 reg_read(u32 r)
{
    ioapic_write(&io, 0x00, r);
    return ioapic_read(&io, 0x10);
}

static void reg_write(u32 r, u32 v)
{
    ioapic_write(&io, 0x00, r);
    ioapic_write(&io, 0x10, v);
}

static void rte_write(unsigned pin, u32 lo, u32 hi)
{
    reg_write(0x11 + 2 * pin, hi);
    reg_write(0x10 + 2 * pin, lo);
}

START_TEST(identification_and_reset)
{
    ck_assert_uint_eq(reg_read(0x01), 0x00170011u);
    ck_assert_uint_eq((reg_read(0x01) >> 16 & 0xFF) + 1, IOAPIC_PINS);
    reg_write(0x00, 0x0A000000u);
    ck_assert_uint_eq(reg_read(0x00), 0x0A000000u);
    reg_write(0x01, 0);
    ck_assert_uint_eq(reg_read(0x01), 0x00170011u); /* read-only */
    ck_assert_uint_eq(ioapic_read(&io, 0x00), 0x01); /* IOREGSEL reads back */
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
        ck_assert_uint_eq(reg_read(0x10 + 2 * pin), (u32)IOAPIC_RTE_MASKED);
    ioapic_set_irq(&io, 3, true);
    ck_assert_uint_eq(bus.sent, 0);
}
END_TEST

START_TEST(edge_entry)
{
    rte_write(4, 0x34, 0x05000000u);
    ck_assert_uint_eq(reg_read(0x19), 0x05000000u);
    ioapic_set_irq(&io, 4, true);
    ck_assert_uint_eq(bus.sent, 1);
    ck_assert_uint_eq(bus.last.vector, 0x34);
    ck_assert_uint_eq(bus.last.dest, 5);
    ck_assert(!bus.last.logical && !bus.last.level);
    ioapic_set_irq(&io, 4, true); /* no new edge */
    ck_assert_uint_eq(bus.sent, 1);
    ioapic_set_irq(&io, 4, false);
    ioapic_set_irq(&io, 4, true);
    ck_assert_uint_eq(bus.sent, 2);
    ck_assert(!(reg_read(0x18) & IOAPIC_RTE_REMOTE_IRR));
    /* Masked: edges are lost. */
    rte_write(4, (u32)IOAPIC_RTE_MASKED | 0x34, 0);
    ioapic_set_irq(&io, 4, false);
    ioapic_set_irq(&io, 4, true);
    ck_assert_uint_eq(bus.sent, 2);
}
END_TEST

START_TEST(level_entry_remote_irr)
{
    rte_write(9, (u32)IOAPIC_RTE_LEVEL | (u32)IOAPIC_RTE_DESTMODE | 1u << 8 | 0x49,
              0x01000000u);
    ioapic_set_irq(&io, 9, true);
    ck_assert_uint_eq(bus.sent, 1);
    ck_assert(bus.last.level && bus.last.logical);
    ck_assert_uint_eq(bus.last.mode, APIC_DM_LOWEST);
    ck_assert(reg_read(0x22) & IOAPIC_RTE_REMOTE_IRR);
    ioapic_set_irq(&io, 9, true); /* still in service: nothing */
    ck_assert_uint_eq(bus.sent, 1);
    /* Remote IRR is read-only to software. */
    reg_write(0x22, (u32)IOAPIC_RTE_LEVEL | (u32)IOAPIC_RTE_DESTMODE | 1u << 8 | 0x49);
    ck_assert(reg_read(0x22) & IOAPIC_RTE_REMOTE_IRR);
    ioapic_eoi(&io, 0x48); /* another vector */
    ck_assert_uint_eq(bus.sent, 1);
    ioapic_eoi(&io, 0x49); /* still asserted: sent again */
    ck_assert_uint_eq(bus.sent, 2);
    ck_assert(reg_read(0x22) & IOAPIC_RTE_REMOTE_IRR);
    ioapic_set_irq(&io, 9, false);
    ioapic_eoi(&io, 0x49);
    ck_assert_uint_eq(bus.sent, 2);
    ck_assert(!(reg_read(0x22) & IOAPIC_RTE_REMOTE_IRR));
}
END_TEST

START_TEST(polarity_and_unmask)
{
    /* Active low, level, masked, while the pin is low (asserted). */
    ioapic_set_irq(&io, 11, false);
    rte_write(11, (u32)(IOAPIC_RTE_MASKED | IOAPIC_RTE_LEVEL | IOAPIC_RTE_POLARITY) | 0x5B, 0);
    ck_assert_uint_eq(bus.sent, 0);
    rte_write(11, (u32)(IOAPIC_RTE_LEVEL | IOAPIC_RTE_POLARITY) | 0x5B, 0);
    ck_assert_uint_eq(bus.sent, 1); /* unmasking sends */
    ck_assert_uint_eq(bus.last.vector, 0x5B);
    ioapic_set_irq(&io, 11, true); /* deasserted */
    ioapic_eoi(&io, 0x5B);
    ck_assert_uint_eq(bus.sent, 1);
    /* Edge, active low: the falling edge is the asserting one. */
    rte_write(12, (u32)IOAPIC_RTE_POLARITY | 0x5C, 0);
    ioapic_set_irq(&io, 12, true);
    ck_assert_uint_eq(bus.sent, 1);
    ioapic_set_irq(&io, 12, false);
    ck_assert_uint_eq(bus.sent, 2);
}
END_TEST

START_TEST(refused_level_message_keeps_remote_irr_clear)
{
    bus.refuse = true;
    rte_write(5, (u32)IOAPIC_RTE_LEVEL | 0x45, 0);
    ioapic_set_irq(&io, 5, true);
    ck_assert_uint_eq(bus.sent, 1);
    ck_assert(!(reg_read(0x1A) & IOAPIC_RTE_REMOTE_IRR));
}
END_TEST

/* ---- with a local APIC ---- */

struct cpu_side {
    bool intr;
    struct ioapic *io;
};

static void cpu_intr(void *opaque, unsigned irq, bool level)
{
    (void)irq;
    ((struct cpu_side *)opaque)->intr = level;
}

static u64 zero_now(void *opaque) { (void)opaque; return 0; }
static int no_extint(void *opaque) { (void)opaque; return -1; }
static void no_nmi(void *opaque) { (void)opaque; }

static void eoi_to_ioapic(void *opaque, u8 vector)
{
    ioapic_eoi(((struct cpu_side *)opaque)->io, vector);
}

START_TEST(end_to_end_with_local_apic)
{
    struct cpu_side cs = { false, &io };
    struct lapic apic;
    struct lapic_ops ops = { &cs, no_extint, no_nmi, eoi_to_ioapic, NULL };
    lapic_init(&apic, (struct irq_sink){ cpu_intr, &cs }, (struct clock){ zero_now, NULL }, &ops);
    bus.apic = &apic;
    lapic_write(&apic, 0xF0, 0x1FF);
    lapic_write(&apic, 0xD0, 0x01000000u);
    /* Pin 2 (ISA IRQ0) edge to physical 0; pin 10 level, logical 1. */
    rte_write(2, 0x30, 0);
    rte_write(10, (u32)(IOAPIC_RTE_LEVEL | IOAPIC_RTE_DESTMODE) | 0x3A, 0x01000000u);
    ioapic_set_irq(&io, 2, true);
    ck_assert(cs.intr);
    ck_assert_int_eq(lapic_intr_ack(&apic), 0x30);
    lapic_write(&apic, 0xB0, 0);
    ioapic_set_irq(&io, 10, true);
    ck_assert_int_eq(lapic_intr_ack(&apic), 0x3A);
    ck_assert(reg_read(0x24) & IOAPIC_RTE_REMOTE_IRR);
    /* The device is still asserting at EOI: the interrupt comes back. */
    lapic_write(&apic, 0xB0, 0);
    ck_assert(cs.intr);
    ck_assert_int_eq(lapic_intr_ack(&apic), 0x3A);
    ioapic_set_irq(&io, 10, false);
    lapic_write(&apic, 0xB0, 0);
    ck_assert(!cs.intr);
    ck_assert(!(reg_read(0x24) & IOAPIC_RTE_REMOTE_IRR));
    /* A logical destination that is not ours is refused. */
    rte_write(6, 0x36 | (u32)IOAPIC_RTE_DESTMODE, 0x02000000u);
    ioapic_set_irq(&io, 6, true);
    ck_assert(!cs.intr);
}
END_TEST

static Suite *ioapic_suite(void)
{
    Suite *s = suite_create("ioapic");
    TCase *tc = tcase_create("registers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, identification_and_reset);
    tcase_add_test(tc, edge_entry);
    tcase_add_test(tc, level_entry_remote_irr);
    tcase_add_test(tc, polarity_and_unmask);
    tcase_add_test(tc, refused_level_message_keeps_remote_irr_clear);
    tcase_add_test(tc, end_to_end_with_local_apic);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ioapic_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
