/*
 * Intel 82093AA I/O APIC (memory-mapped at 0xFEC00000): 24 redirection
 * entries that turn pin levels into interrupt messages for the local APIC.
 */
#ifndef UMBRA_DEVICES_IOAPIC_H
#define UMBRA_DEVICES_IOAPIC_H

#include "common/types.h"

struct mmu;

#define IOAPIC_DEFAULT_BASE 0xFEC00000u
#define IOAPIC_PINS 24u
#define IOAPIC_VERSION 0x00170011u /* version 0x11, max redirection entry 23 */

/* Redirection entry bits (82093AA datasheet 3.2.4). */
#define IOAPIC_RTE_DESTMODE (1ull << 11)
#define IOAPIC_RTE_DELIVS (1ull << 12)
#define IOAPIC_RTE_POLARITY (1ull << 13) /* 1 = active low */
#define IOAPIC_RTE_REMOTE_IRR (1ull << 14)
#define IOAPIC_RTE_LEVEL (1ull << 15)
#define IOAPIC_RTE_MASKED (1ull << 16)

/* Send an interrupt message; returns whether a local APIC accepted it. */
typedef bool (*ioapic_deliver_fn)(void *opaque, u8 dest, bool logical, unsigned mode,
                                  u8 vector, bool level);

struct ioapic {
    u8 id;
    u32 regsel;               /* IOREGSEL */
    u64 rte[IOAPIC_PINS];
    u32 pins;                 /* input levels as wired (before polarity) */
    ioapic_deliver_fn deliver;
    void *opaque;
};

/* Power-on state: every entry masked. */
void ioapic_init(struct ioapic *io, ioapic_deliver_fn deliver, void *opaque);
/* Registers to the power-on state; the pin levels are kept. */
void ioapic_reset(struct ioapic *io);
/* Claim the page at IOAPIC_DEFAULT_BASE.  Returns 0 or -1. */
int ioapic_map(struct ioapic *io, struct mmu *m) MUST_CHECK;
/* MMIO: IOREGSEL at 0x00, IOWIN at 0x10 (32-bit accesses). */
u32 ioapic_read(struct ioapic *io, u32 offset);
void ioapic_write(struct ioapic *io, u32 offset, u32 val);
/* Drive input `pin` to `level` (1 = electrically high). */
void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level);
/* A local APIC's EOI of level-triggered `vector`: clears remote IRR of the
 * entries with that vector, which resend if still asserted. */
void ioapic_eoi(struct ioapic *io, u8 vector);

#endif
