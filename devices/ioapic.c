/*
 * Intel 82093AA I/O APIC (82093AA datasheet, sections 3.1 and 3.2; SDM vol.
 * 3A 10.8.5 for the EOI broadcast).  Registers are reached indirectly:
 * IOREGSEL picks one, IOWIN reads or writes it.  0x00 ID, 0x01 version,
 * 0x02 arbitration, 0x10 + 2n / 0x11 + 2n redirection entry n low/high.
 *
 * Edge-triggered entries send a message on each asserting edge of the
 * pin (after polarity).  Level-triggered entries send while the pin is
 * asserted and remote IRR is clear; sending sets remote IRR, the local
 * APIC's EOI of that vector clears it, and a still-asserted pin then sends
 * again.  Unmasking an asserted level entry sends at once.
 */
#include "ioapic.h"

#include <string.h>

#include "devices/lapic.h"
#include "mmu/mmu.h"

/* Bits of the low word software may write: vector, delivery mode,
 * destination mode, polarity, trigger, mask. */
#define RTE_LO_WRITABLE 0x0001AFFFu

static bool pin_asserted(const struct ioapic *io, unsigned pin)
{
    bool level = io->pins >> pin & 1;
    return (io->rte[pin] & IOAPIC_RTE_POLARITY) ? !level : level;
}

static void ioapic_send(struct ioapic *io, unsigned pin)
{
    u64 e = io->rte[pin];
    bool level = e & IOAPIC_RTE_LEVEL;
    if (e & IOAPIC_RTE_MASKED || (level && (e & IOAPIC_RTE_REMOTE_IRR)))
        return;
    unsigned mode = (unsigned)(e >> 8) & 7;
    bool ok = io->deliver(io->opaque, (u8)(e >> 56), e & IOAPIC_RTE_DESTMODE, mode, (u8)e,
                          level);
    /* Remote IRR only tracks fixed and lowest-priority level messages. */
    if (ok && level && (mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST))
        io->rte[pin] |= IOAPIC_RTE_REMOTE_IRR;
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level)
{
    if (pin >= IOAPIC_PINS)
        return;
    bool before = pin_asserted(io, pin);
    io->pins = (io->pins & ~(1u << pin)) | ((u32)level << pin);
    bool now = pin_asserted(io, pin);
    if (io->rte[pin] & IOAPIC_RTE_LEVEL) {
        if (now)
            ioapic_send(io, pin);
    } else if (now && !before) {
        ioapic_send(io, pin);
    }
}

void ioapic_eoi(struct ioapic *io, u8 vector)
{
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        u64 e = io->rte[pin];
        if ((u8)e != vector || !(e & IOAPIC_RTE_REMOTE_IRR))
            continue;
        io->rte[pin] &= ~IOAPIC_RTE_REMOTE_IRR;
        if ((e & IOAPIC_RTE_LEVEL) && pin_asserted(io, pin))
            ioapic_send(io, pin);
    }
}

u32 ioapic_read(struct ioapic *io, u32 offset)
{
    if (offset == 0x00)
        return io->regsel;
    if (offset != 0x10)
        return 0;
    u32 r = io->regsel & 0xFF;
    switch (r) {
    case 0x00: return (u32)(io->id & 0x0F) << 24;
    case 0x01: return IOAPIC_VERSION;
    case 0x02: return (u32)(io->id & 0x0F) << 24;
    default:
        if (r >= 0x10 && r < 0x10 + 2 * IOAPIC_PINS) {
            u64 e = io->rte[(r - 0x10) / 2];
            return r & 1 ? (u32)(e >> 32) : (u32)e;
        }
        return 0;
    }
}

void ioapic_write(struct ioapic *io, u32 offset, u32 val)
{
    if (offset == 0x00) {
        io->regsel = val & 0xFF;
        return;
    }
    if (offset != 0x10)
        return;
    u32 r = io->regsel & 0xFF;
    if (r == 0x00) {
        io->id = (u8)(val >> 24) & 0x0F;
        return;
    }
    if (r < 0x10 || r >= 0x10 + 2 * IOAPIC_PINS)
        return; /* version and arbitration are read-only */
    unsigned pin = (r - 0x10) / 2;
    u64 e = io->rte[pin];
    if (r & 1) {
        e = (e & 0x00FFFFFFFFFFFFFFull) | ((u64)(val & 0xFF000000u) << 32);
    } else {
        e = (e & ~(u64)RTE_LO_WRITABLE) | (val & RTE_LO_WRITABLE);
        /* Switching to edge forgets a pending remote IRR. */
        if (!(e & IOAPIC_RTE_LEVEL))
            e &= ~IOAPIC_RTE_REMOTE_IRR;
    }
    io->rte[pin] = e;
    if ((e & IOAPIC_RTE_LEVEL) && pin_asserted(io, pin))
        ioapic_send(io, pin);
}

void ioapic_reset(struct ioapic *io)
{
    io->id = 0;
    io->regsel = 0;
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
        io->rte[pin] = IOAPIC_RTE_MASKED;
}

void ioapic_init(struct ioapic *io, ioapic_deliver_fn deliver, void *opaque)
{
    memset(io, 0, sizeof *io);
    io->deliver = deliver;
    io->opaque = opaque;
    ioapic_reset(io);
}

static u32 ioapic_mmio_read(void *opaque, u32 offset, unsigned size)
{
    u32 v = ioapic_read(opaque, offset & ~3u) >> ((offset & 3) * 8);
    return size == 4 ? v : v & ((1u << (size * 8)) - 1);
}

static void ioapic_mmio_write(void *opaque, u32 offset, u32 val, unsigned size)
{
    (void)size;
    ioapic_write(opaque, offset & ~3u, val << ((offset & 3) * 8));
}

static const struct mmio_ops ioapic_mmio = { ioapic_mmio_read, ioapic_mmio_write };

int ioapic_map(struct ioapic *io, struct mmu *m)
{
    return mmu_map_mmio(m, IOAPIC_DEFAULT_BASE, 0x1000, &ioapic_mmio, io);
}
