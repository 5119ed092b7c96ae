/*
 * Local APIC through its registers with a fake clock, a fake INTR line and
 * a fake 8259A: the pass-through state after reset, software enable and the
 * LINT0 virtual wire, priority against TPR/PPR, ISR nesting and EOI, the
 * level-triggered EOI broadcast, the timer (one-shot, periodic, divider),
 * self-IPIs, the error register and IA32_APIC_BASE.
 */
#include <check.h>
#include <stdlib.h>

#include "common/counters.h"
#include "common/log.h"
#include "cpu/cpu.h"
#include "devices/lapic.h"
#include "devices/pc.h"
#include "mmu/mmu.h"

struct fake {
    bool intr;
    unsigned nmis;
    unsigned extint_acks;
    int eoi_vector;
    unsigned eois;
    unsigned kicks;
    u64 now;
};

static struct fake fk;
static struct lapic apic;

static void fake_intr(void *opaque, unsigned irq, bool level)
{
    (void)irq;
    ((struct fake *)opaque)->intr = level;
}

static u64 fake_now(void *opaque) { return ((struct fake *)opaque)->now; }

static int fake_extint_ack(void *opaque)
{
    ((struct fake *)opaque)->extint_acks++;
    return 0x08; /* what an 8259A at vector base 8 gives for IRQ0 */
}

static void fake_nmi(void *opaque) { ((struct fake *)opaque)->nmis++; }

static void fake_eoi(void *opaque, u8 vector)
{
    struct fake *f = opaque;
    f->eoi_vector = vector;
    f->eois++;
}

static void fake_kick(void *opaque) { ((struct fake *)opaque)->kicks++; }

static void setup(void)
{
    fk = (struct fake){ .eoi_vector = -1 };
    struct lapic_ops ops = { &fk, fake_extint_ack, fake_nmi, fake_eoi, fake_kick };
    lapic_init(&apic, (struct irq_sink){ fake_intr, &fk }, (struct clock){ fake_now, &fk }, &ops);
}

static void teardown(void) {}

static u32 rd(u32 reg) { return lapic_read(&apic, reg); }
static void wr(u32 reg, u32 v) { lapic_write(&apic, reg, v); }

static void sw_enable(void) { wr(0xF0, 0x1FF); }

static bool irr_has(unsigned v) { return rd(0x200 + (v >> 5) * 0x10) >> (v & 31) & 1; }
static bool isr_has(unsigned v) { return rd(0x100 + (v >> 5) * 0x10) >> (v & 31) & 1; }
static bool tmr_has(unsigned v) { return rd(0x180 + (v >> 5) * 0x10) >> (v & 31) & 1; }

START_TEST(reset_state_passes_lint0_through)
{
    ck_assert_uint_eq(rd(0x30), LAPIC_VERSION);
    ck_assert_uint_eq(rd(0x30) >> 16 & 0xFF, 3); /* four LVT entries */
    ck_assert_uint_eq(rd(0xF0), 0xFF);
    ck_assert_uint_eq(rd(0xE0), 0xFFFFFFFFu);
    for (u32 reg = 0x320; reg <= 0x370; reg += 0x10)
        if (reg == 0x320 || reg >= 0x350)
            ck_assert_uint_eq(rd(reg), APIC_LVT_MASKED);
    ck_assert(!lapic_active(&apic));
    /* Software-disabled: LINT0 is INTR, whatever its LVT says. */
    lapic_set_lint0(&apic, true);
    ck_assert(fk.intr);
    ck_assert_int_eq(lapic_intr_ack(&apic), 0x08);
    ck_assert_uint_eq(fk.extint_acks, 1);
    lapic_set_lint0(&apic, false);
    ck_assert(!fk.intr);
    /* LINT1 is the NMI pin. */
    lapic_set_lint1(&apic, true);
    ck_assert_uint_eq(fk.nmis, 1);
    /* LVT masks cannot be cleared while software-disabled. */
    wr(0x350, 0x700);
    ck_assert_uint_eq(rd(0x350), APIC_LVT_MASKED | 0x700);
    /* Messages are not accepted. */
    ck_assert(!lapic_deliver(&apic, APIC_DM_FIXED, 0x40, false));
    ck_assert(!irr_has(0x40));
}
END_TEST

START_TEST(extint_virtual_wire)
{
    sw_enable();
    ck_assert(lapic_active(&apic));
    lapic_set_lint0(&apic, true);
    ck_assert(!fk.intr); /* LINT0 still masked */
    wr(0x350, APIC_DM_EXTINT << 8);
    ck_assert(fk.intr);
    ck_assert_int_eq(lapic_intr_ack(&apic), 0x08);
    ck_assert_uint_eq(fk.extint_acks, 1);
    ck_assert(!isr_has(0x08)); /* ExtINT bypasses the ISR */
    /* A fixed vector is taken before the 8259A's. */
    lapic_deliver(&apic, APIC_DM_FIXED, 0x90, false);
    ck_assert_int_eq(lapic_intr_ack(&apic), 0x90);
    ck_assert_uint_eq(fk.extint_acks, 1);
    lapic_set_lint0(&apic, false);
    ck_assert(!fk.intr);
    /* Masking LINT0 takes the 8259A off the line. */
    wr(0x350, APIC_LVT_MASKED | APIC_DM_EXTINT << 8);
    lapic_set_lint0(&apic, true);
    ck_assert(!fk.intr);
}
END_TEST

START_TEST(priority_tpr_and_nesting)
{
    sw_enable();
    lapic_deliver(&apic, APIC_DM_FIXED, 0x31, false);
    lapic_deliver(&apic, APIC_DM_FIXED, 0x52, false);
    ck_assert(fk.intr);
    ck_assert_int_eq(lapic_intr_ack(&apic), 0x52);
    ck_assert(isr_has(0x52) && !irr_has(0x52));
    ck_assert_uint_eq(rd(0xA0), 0x50); /* PPR follows the ISR class */
    ck_assert(!fk.intr);               /* 0x31 is of a lower class */
    /* A higher class nests. */
    lapic_deliver(&apic, APIC_DM_FIXED, 0x61, false);
    ck_assert(fk.intr);
    ck_assert_int_eq(lapic_intr_ack(&apic), 0x61);
    wr(0xB0, 0); /* EOI ends the highest in service: 0x61 */
    ck_assert(!isr_has(0x61) && isr_has(0x52));
    ck_assert(!fk.intr);
    wr(0xB0, 0);
    ck_assert(!isr_has(0x52));
    ck_assert(fk.intr);
    /* TPR holds back classes at or below it. */
    wr(0x80, 0x30);
    ck_assert(!fk.intr);
    ck_assert_uint_eq(rd(0xA0), 0x30);
    wr(0x80, 0x2F);
    ck_assert(fk.intr);
    ck_assert_int_eq(lapic_intr_ack(&apic), 0x31);
    wr(0xB0, 0);
    /* Nothing left: acknowledge gives the spurious vector, ISR untouched. */
    ck_assert_int_eq(lapic_intr_ack(&apic), 0xFF);
    ck_assert_uint_eq(rd(0x100 + 0x70), 0);
    ck_assert_uint_eq(fk.eois, 0); /* all edge-triggered */
}
END_TEST

START_TEST(level_eoi_is_broadcast)
{
    sw_enable();
    lapic_deliver(&apic, APIC_DM_FIXED, 0x39, true);
    ck_assert(tmr_has(0x39));
    ck_assert_int_eq(lapic_intr_ack(&apic), 0x39);
    wr(0xB0, 0);
    ck_assert_uint_eq(fk.eois, 1);
    ck_assert_int_eq(fk.eoi_vector, 0x39);
    /* The same vector edge-triggered clears TMR and is not broadcast. */
    lapic_deliver(&apic, APIC_DM_FIXED, 0x39, false);
    ck_assert(!tmr_has(0x39));
    lapic_intr_ack(&apic);
    wr(0xB0, 0);
    ck_assert_uint_eq(fk.eois, 1);
}
END_TEST

START_TEST(timer_one_shot)
{
    sw_enable();
    wr(0x3E0, 0xB); /* divide by 1: one count per 10 ns */
    wr(0x320, 0x40);
    fk.now = 5000;
    unsigned kicks = fk.kicks;
    wr(0x380, 1000);
    ck_assert_uint_gt(fk.kicks, kicks);
    ck_assert_uint_eq(lapic_timer_update(&apic, fk.now), 5000 + 1000 * LAPIC_BUS_NS);
    fk.now = 5000 + 100 * LAPIC_BUS_NS;
    ck_assert_uint_eq(rd(0x390), 900);
    ck_assert(!fk.intr);
    fk.now = 5000 + 1000 * LAPIC_BUS_NS;
    ck_assert_uint_eq(lapic_timer_update(&apic, fk.now), TIME_NEVER);
    ck_assert(irr_has(0x40));
    ck_assert(fk.intr);
    ck_assert_uint_eq(rd(0x390), 0);
    ck_assert_uint_eq(rd(0x380), 1000);
}
END_TEST

START_TEST(timer_periodic_with_divider)
{
    sw_enable();
    wr(0x3E0, 0x3); /* divide by 16 */
    wr(0x320, APIC_LVT_PERIODIC | 0xEF);
    wr(0x380, 100);
    const u64 period = 100 * 16 * LAPIC_BUS_NS;
    ck_assert_uint_eq(lapic_timer_update(&apic, 0), period);
    fk.now = period / 2;
    ck_assert_uint_eq(rd(0x390), 50);
    unsigned taken = 0;
    for (unsigned k = 1; k <= 5; k++) {
        fk.now = k * period;
        ck_assert_uint_eq(lapic_timer_update(&apic, fk.now), (k + 1) * period);
        ck_assert(fk.intr);
        ck_assert_int_eq(lapic_intr_ack(&apic), 0xEF);
        wr(0xB0, 0);
        taken++;
    }
    ck_assert_uint_eq(taken, 5);
    fk.now = 5 * period + period / 4;
    ck_assert_uint_eq(rd(0x390), 75);
    /* Masked: counts on but raises nothing. */
    wr(0x320, APIC_LVT_MASKED | APIC_LVT_PERIODIC | 0xEF);
    fk.now = 7 * period;
    lapic_timer_update(&apic, fk.now);
    ck_assert(!irr_has(0xEF));
    /* Initial count 0 stops it. */
    wr(0x380, 0);
    ck_assert_uint_eq(lapic_timer_update(&apic, fk.now), TIME_NEVER);
}
END_TEST

START_TEST(self_ipi_and_errors)
{
    sw_enable();
    wr(0x300, 1u << 18 | 0x77); /* shorthand self */
    ck_assert(irr_has(0x77));
    /* Physical destination naming our ID. */
    wr(0x310, 0u << 24);
    wr(0x300, 0x78);
    ck_assert(irr_has(0x78));
    /* All excluding self reaches nobody. */
    wr(0x300, 3u << 18 | 0x79);
    ck_assert(!irr_has(0x79));
    /* A vector below 16 is an error, latched by an ESR write. */
    wr(0x370, 0xFE); /* error LVT */
    wr(0x300, 1u << 18 | 0x05);
    ck_assert_uint_eq(rd(0x280), 0);
    wr(0x280, 0);
    ck_assert_uint_eq(rd(0x280), 1u << 5);
    ck_assert(irr_has(0xFE));
    wr(0x280, 0);
    ck_assert_uint_eq(rd(0x280), 0);
}
END_TEST

START_TEST(logical_destinations)
{
    wr(0xD0, 0x01000000u); /* logical ID bit 0 */
    ck_assert(lapic_match_dest(&apic, 0x01, true));
    ck_assert(lapic_match_dest(&apic, 0x03, true));
    ck_assert(!lapic_match_dest(&apic, 0x02, true));
    ck_assert(lapic_match_dest(&apic, 0x00, false));
    ck_assert(!lapic_match_dest(&apic, 0x01, false));
    ck_assert(lapic_match_dest(&apic, 0xFF, false));
    wr(0xE0, 0x0FFFFFFFu); /* cluster model */
    wr(0xD0, 0x21000000u);
    ck_assert(lapic_match_dest(&apic, 0x21, true));
    ck_assert(!lapic_match_dest(&apic, 0x11, true));
    ck_assert_uint_eq(rd(0xE0), 0x0FFFFFFFu);
}
END_TEST

START_TEST(svr_disable_masks_lvt)
{
    sw_enable();
    wr(0x350, APIC_DM_EXTINT << 8);
    wr(0x360, APIC_DM_NMI << 8);
    ck_assert(!(rd(0x350) & APIC_LVT_MASKED));
    lapic_set_lint1(&apic, true);
    ck_assert_uint_eq(fk.nmis, 1);
    wr(0xF0, 0xFF);
    ck_assert(rd(0x350) & APIC_LVT_MASKED);
    ck_assert(rd(0x360) & APIC_LVT_MASKED);
}
END_TEST

START_TEST(base_msr_disable_resets)
{
    sw_enable();
    wr(0x80, 0x20);
    lapic_deliver(&apic, APIC_DM_FIXED, 0x44, false);
    lapic_set_base_msr(&apic, LAPIC_DEFAULT_BASE); /* bit 11 clear */
    ck_assert(!lapic_active(&apic));
    ck_assert_uint_eq(apic.tpr, 0);
    ck_assert(!irr_has(0x44));
    lapic_set_lint0(&apic, true);
    ck_assert(fk.intr); /* pass-through again */
    lapic_set_base_msr(&apic, LAPIC_DEFAULT_BASE | APIC_BASE_ENABLE);
    ck_assert_uint_eq(rd(0xF0), 0xFF); /* back software-disabled */
}
END_TEST

START_TEST(mmio_page)
{
    struct counters cnt = { 0 };
    struct logger lg;
    log_init(&lg);
    struct mmu *m = mmu_new(1u << 20, &cnt, &lg);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(lapic_map(&apic, m), 0);
    ck_assert_uint_eq(mmu_phys_read(m, 0xFEE00030, 4), LAPIC_VERSION);
    mmu_phys_write(m, 0xFEE000F0, 0x1FF, 4);
    ck_assert(lapic_active(&apic));
    ck_assert_uint_eq(mmu_phys_read(m, 0xFEE000F1, 1), 0x01);
    lapic_set_base_msr(&apic, LAPIC_DEFAULT_BASE);
    ck_assert_uint_eq(mmu_phys_read(m, 0xFEE00030, 4), 0xFFFFFFFFu);
    mmu_free(m);
}
END_TEST

/* ---- on the board ---- */

/* mov eax, 1; cpuid; mov ecx, 0x1b; mov eax, 0xfee00000; xor edx, edx;
 * wrmsr (clears the global enable); hlt */
static const u8 board_prog[] = {
    0xB8, 0x01, 0x00, 0x00, 0x00, 0x0F, 0xA2, 0x89, 0xD3, 0xB9, 0x1B, 0x00, 0x00, 0x00,
    0xB8, 0x00, 0x00, 0xE0, 0xFE, 0x31, 0xD2, 0x0F, 0x30, 0xF4,
};

/* CPUID leaf 1 EDX as the guest saw it (saved in EBX). */
static u32 board_run(bool apic, struct pc **out)
{
    struct pc_config cfg = { .ram_mib = 2, .no_reboot = true, .debugcon_off = true,
                             .rtc_base = 1, .apic = apic, .virtual_clock = true };
    struct pc *pc = pc_new(&cfg, 0);
    ck_assert_ptr_nonnull(pc);
    mmu_phys_copy_in(pc->mmu, 0x1000, board_prog, sizeof board_prog);
    cpu_set_flat32(pc->cpu, 0x1000);
    for (unsigned k = 0; k < 3; k++)
        cpu_step(pc->cpu);
    u32 edx = cpu_get_reg(pc->cpu, CPU_EBX);
    *out = pc;
    return edx;
}

START_TEST(board_with_and_without_apic)
{
    struct pc *pc;
    u32 feat = board_run(true, &pc);
    ck_assert_uint_eq(feat >> 9 & 1, 1);
    ck_assert_uint_eq(mmu_phys_read(pc->mmu, 0xFEE00030, 4), LAPIC_VERSION);
    ck_assert_uint_eq(mmu_phys_read(pc->mmu, 0xFEC00000, 4), 0); /* IOREGSEL */
    ck_assert(pc->lapic.hw_enabled);
    for (unsigned k = 0; k < 4; k++)
        cpu_step(pc->cpu); /* the WRMSR */
    ck_assert(!pc->lapic.hw_enabled);
    ck_assert_uint_eq(mmu_phys_read(pc->mmu, 0xFEE00030, 4), 0xFFFFFFFFu);
    pc_free(pc);

    feat = board_run(false, &pc);
    ck_assert_uint_eq(feat >> 9 & 1, 0);
    ck_assert_uint_eq(mmu_phys_read(pc->mmu, 0xFEE00030, 4), 0xFFFFFFFFu);
    ck_assert_uint_eq(mmu_phys_read(pc->mmu, 0xFEC00010, 4), 0xFFFFFFFFu);
    pc_free(pc);
}
END_TEST

static Suite *lapic_suite(void)
{
    Suite *s = suite_create("lapic");
    TCase *tc = tcase_create("registers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, reset_state_passes_lint0_through);
    tcase_add_test(tc, extint_virtual_wire);
    tcase_add_test(tc, priority_tpr_and_nesting);
    tcase_add_test(tc, level_eoi_is_broadcast);
    tcase_add_test(tc, timer_one_shot);
    tcase_add_test(tc, timer_periodic_with_divider);
    tcase_add_test(tc, self_ipi_and_errors);
    tcase_add_test(tc, logical_destinations);
    tcase_add_test(tc, svr_disable_masks_lvt);
    tcase_add_test(tc, base_msr_disable_resets);
    tcase_add_test(tc, mmio_page);
    tcase_add_test(tc, board_with_and_without_apic);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(lapic_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
