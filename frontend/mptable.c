/*
 * MP tables (Intel MultiProcessor Specification 1.4, chapter 4): a 16-byte
 * floating pointer structure followed by the configuration table, written
 * where a BIOS would put them so that an operating system finds the local
 * APIC and the I/O APIC without ACPI.
 *
 * The wiring described is the board's (devices/pc.c): ISA IRQ n drives I/O
 * APIC pin n, except IRQ0 (the 8254) which drives pin 2, the usual override
 * (IRQ2 is the 8259A cascade and has no entry); the 8259A's INTR reaches
 * LINT0 as ExtINT and NMI reaches LINT1.  Feature byte 2 bit 7 (IMCR) is
 * clear: the machine starts in virtual-wire mode.
 */
#include "mptable.h"

#include <string.h>

#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "mmu/mmu.h"

#define MPC_HEADER 44u
#define MP_CPU_SIGNATURE 0x633u     /* family 6, as CPUID leaf 1 reports */
#define MP_CPU_FEATURES 0x0000B379u /* CPUID leaf 1 EDX with the APIC bit */

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_INT, MP_NMI, MP_SMI, MP_EXTINT };

static void wr16(u8 *p, u16 v) { p[0] = (u8)v; p[1] = (u8)(v >> 8); }
static void wr32(u8 *p, u32 v) { wr16(p, (u16)v); wr16(p + 2, (u16)(v >> 16)); }

static u8 checksum(const u8 *p, u32 len)
{
    u8 sum = 0;
    for (u32 k = 0; k < len; k++)
        sum = (u8)(sum + p[k]);
    return (u8)-sum;
}

/* An 8-byte interrupt assignment entry (types 3 and 4); polarity and
 * trigger "conforming to the bus" (flags 0). */
static u8 *irq_entry(u8 *p, u8 type, u8 kind, u8 bus_irq, u8 dest, u8 pin)
{
    p[0] = type;
    p[1] = kind;
    wr16(p + 2, 0);
    p[4] = 0; /* bus 0, ISA */
    p[5] = bus_irq;
    p[6] = dest;
    p[7] = pin;
    return p + 8;
}

u32 mptable_build(u8 *buf, u32 gpa)
{
    memset(buf, 0, MPTABLE_MAX);
    u8 *mpc = buf + 16, *p = mpc + MPC_HEADER;
    u16 entries = 0;

    /* Processor: APIC id 0, enabled bootstrap processor. */
    p[0] = MP_PROCESSOR;
    p[1] = 0;
    p[2] = (u8)LAPIC_VERSION;
    p[3] = 0x03; /* EN | BP */
    wr32(p + 4, MP_CPU_SIGNATURE);
    wr32(p + 8, MP_CPU_FEATURES);
    p += 20, entries++;

    p[0] = MP_BUS;
    p[1] = 0;
    memcpy(p + 2, "ISA   ", 6);
    p += 8, entries++;

    p[0] = MP_IOAPIC;
    p[1] = MPTABLE_IOAPIC_ID;
    p[2] = (u8)IOAPIC_VERSION;
    p[3] = 0x01; /* enabled */
    wr32(p + 4, IOAPIC_DEFAULT_BASE);
    p += 8, entries++;

    for (u8 irq = 0; irq < 16; irq++) {
        if (irq == 2)
            continue;
        p = irq_entry(p, MP_INTSRC, MP_INT, irq, MPTABLE_IOAPIC_ID, irq == 0 ? 2 : irq);
        entries++;
    }
    /* To every local APIC (0xFF): ExtINT on LINT0, NMI on LINT1. */
    p = irq_entry(p, MP_LINTSRC, MP_EXTINT, 0, 0xFF, 0);
    p = irq_entry(p, MP_LINTSRC, MP_NMI, 0, 0xFF, 1);
    entries += 2;

    u16 len = (u16)(p - mpc);
    memcpy(mpc, "PCMP", 4);
    wr16(mpc + 4, len);
    mpc[6] = 4; /* specification 1.4 */
    memcpy(mpc + 8, "UMBRA   ", 8);
    memcpy(mpc + 16, "UMBRA PC    ", 12);
    wr16(mpc + 34, entries);
    wr32(mpc + 36, LAPIC_DEFAULT_BASE);
    mpc[7] = checksum(mpc, len);

    memcpy(buf, "_MP_", 4);
    wr32(buf + 4, gpa + 16);
    buf[8] = 1; /* length in 16-byte units */
    buf[9] = 4;
    buf[10] = checksum(buf, 16);
    return 16u + len;
}

int mptable_write(struct mmu *m)
{
    u8 buf[MPTABLE_MAX];
    /* RAM starts zeroed: anything here was put by a loader (a Multiboot
     * image may load anywhere below the hole). */
    mmu_phys_copy_out(m, MPTABLE_GPA, buf, MPTABLE_MAX);
    for (u32 k = 0; k < MPTABLE_MAX; k++)
        if (buf[k])
            return -1;
    u32 len = mptable_build(buf, MPTABLE_GPA);
    mmu_phys_copy_in(m, MPTABLE_GPA, buf, len);
    return 0;
}
