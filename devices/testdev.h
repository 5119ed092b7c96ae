/*
 * QEMU's pc-testdev, the ISA device kvm-unit-tests drive: scratch ports,
 * ISA interrupt lines set by port writes, and an MMIO scratch window.
 */
#ifndef UMBRA_DEVICES_TESTDEV_H
#define UMBRA_DEVICES_TESTDEV_H

#include "common/types.h"
#include "devices/irq.h"

struct mmu;
struct testdev;

#define TESTDEV_IRQ_PORT 0x2000
#define TESTDEV_IRQ_LINES 24
#define TESTDEV_IOMEM_BASE 0xff000000u
#define TESTDEV_IOMEM_SIZE 0x10000u

/*
 * Create the device and claim its ports and its MMIO window on `m`; the
 * interrupt ports drive lines 0..23 of `sink` (copied).  Port 0xE9 is
 * left to the debug console.  Returns NULL if out of memory or a table of
 * the bus is full.
 */
struct testdev *testdev_new(struct mmu *m, const struct irq_sink *sink) MUST_CHECK;
void testdev_free(struct testdev *t);

#endif
