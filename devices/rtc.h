/*
 * Motorola MC146818 real-time clock and 128 bytes of CMOS RAM behind the
 * index/data ports 0x70/0x71, interrupting on ISA IRQ8.
 */
#ifndef UMBRA_DEVICES_RTC_H
#define UMBRA_DEVICES_RTC_H

#include "common/types.h"
#include "devices/irq.h"

struct mmu;

struct rtc {
    u8 cmos[128];          /* registers 0-0x0D are derived, the rest is RAM */
    u8 index;
    bool nmi_masked;       /* index bit 7 */
    i64 origin_sec;        /* epoch seconds at origin_ns */
    u64 origin_ns;         /* start of a second of RTC time */
    i64 frozen_sec;        /* time while SET is on */
    u64 seen_sec;          /* seconds since origin processed by rtc_update */
    u64 seen_periods;      /* periodic ticks since origin processed */
    u8 flags;              /* register C */
    bool irq_level;
    struct irq_sink irq;   /* IRQ8 */
    struct clock clock;
    /* Optional: called when a register write may have moved the deadline
     * earlier, so the board recomputes it. */
    void (*kick)(void *opaque);
    void *kick_opaque;
};

/* Power-on state with the clock at epoch seconds `start`, memory-size
 * CMOS bytes for `ram_mib` MiB of RAM, and the checksum. */
void rtc_init(struct rtc *r, struct irq_sink irq, struct clock clock, i64 start, u32 ram_mib);
/* Claim 0x70/0x71.  Returns 0 or -1. */
int rtc_map(struct rtc *r, struct mmu *m) MUST_CHECK;
/* Process updates and periodic ticks up to `now`; raise IRQ8 as enabled.
 * Returns the next deadline (ns) or TIME_NEVER. */
u64 rtc_update(struct rtc *r, u64 now);
/* Recompute the 0x2E/0x2F checksum over 0x10-0x2D. */
void rtc_checksum(struct rtc *r);

#endif
