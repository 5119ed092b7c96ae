/*
 * ACPI fixed power-management hardware (ACPI 6.5 chapter 4.8): the PM1a
 * event and control blocks and the power management timer, at fixed I/O
 * ports that the FADT advertises (devices/acpi_tables.c), with the SCI on
 * ISA IRQ 9.
 */
#ifndef UMBRA_DEVICES_PM_H
#define UMBRA_DEVICES_PM_H

#include "common/types.h"
#include "devices/irq.h"

struct mmu;

/*
 * The register block (PM_BASE is where QEMU's PIIX4 PM function and the
 * firmware put it, so SeaBIOS's expectations hold):
 *
 *   base+0  PM1a_STS  16 bits   base+2  PM1a_EN  16 bits   (PM1_EVT_LEN 4)
 *   base+4  PM1a_CNT  16 bits                              (PM1_CNT_LEN 2)
 *   base+8  PM_TMR    32 bits, 24 of them counting         (PM_TMR_LEN 4)
 */
#define PM_BASE 0x600u
#define PM_LEN 12u
#define PM1_EVT_OFF 0u
#define PM1_CNT_OFF 4u
#define PM_TMR_OFF 8u
#define PM_SCI_IRQ 9u
#define PM_TIMER_HZ 3579545u

/* PM1 status and enable bits (ACPI 6.5 tables 4.16 and 4.17). */
#define PM1_TMR 0x0001u    /* TMR_STS / TMR_EN: bit 23 of the timer changed */
#define PM1_GBL 0x0020u    /* GBL_STS / GBL_EN */
#define PM1_PWRBTN 0x0100u /* PWRBTN_STS / PWRBTN_EN */
#define PM1_SLPBTN 0x0200u /* SLPBTN_STS / SLPBTN_EN */
#define PM1_RTC 0x0400u    /* RTC_STS / RTC_EN */
#define PM1_WAK_STS 0x8000u
/* PM1 control bits (table 4.18). */
#define PM1_SCI_EN 0x0001u
#define PM1_BM_RLD 0x0002u
#define PM1_GBL_RLS 0x0004u
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP_MASK 0x1C00u
#define PM1_SLP_EN 0x2000u

/* The SLP_TYP value of the soft-off state, which the DSDT's \_S5 names. */
#define PM_SLP_TYP_S5 0u

struct pm {
    u16 sts;               /* PM1a_STS */
    u16 en;                /* PM1a_EN */
    u16 cnt;               /* PM1a_CNT as read (SLP_EN and GBL_RLS read 0) */
    u64 tmr_half;          /* timer ticks >> 23 when TMR_STS was last updated */
    bool sci;              /* the level on PM_SCI_IRQ */
    struct irq_sink irq;   /* ISA IRQ lines */
    struct clock clock;    /* "now" for port accesses */
    /* SLP_EN written with the soft-off type: the machine powers off. */
    void (*power_off)(void *opaque);
    /* A register write may have moved the timer deadline earlier. */
    void (*kick)(void *opaque);
    void *opaque;          /* for power_off and kick */
};

/* Power-on state (pm_reset) with the SCI on `irq`; power_off and kick
 * may be NULL. */
void pm_init(struct pm *p, struct irq_sink irq, struct clock clock,
             void (*power_off)(void *opaque), void (*kick)(void *opaque), void *opaque);
/* Claim ports PM_BASE..PM_BASE+PM_LEN-1.  Returns 0 or -1. */
int pm_map(struct pm *p, struct mmu *m) MUST_CHECK;
/* The system reset: status and enables clear, SCI_EN set (the machine
 * has no SMI_CMD port, so it is always in ACPI mode).  The timer runs on. */
void pm_reset(struct pm *p);
/* The 24-bit timer value at `now` (ns of virtual time). */
u32 pm_timer(u64 now);
/* Bring TMR_STS and the SCI up to `now`.  Returns the time of the next
 * timer carry out of bit 23 while TMR_EN is set, else TIME_NEVER. */
u64 pm_update(struct pm *p, u64 now);
/* The power button was pressed: PWRBTN_STS, and an SCI if enabled. */
void pm_power_button(struct pm *p);

#endif
