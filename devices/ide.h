/*
 * The PIIX3 IDE controller (PCI 00:01.1, 8086:7010) in compatibility
 * mode: two ATA channels at the legacy ports (primary 0x1F0-0x1F7 and
 * 0x3F6, IRQ 14; secondary 0x170-0x177 and 0x376, IRQ 15), two drives
 * each, ATA disks on raw images (blockdev.h), PIO and bus-master DMA
 * (BAR4).
 */
#ifndef UMBRA_DEVICES_IDE_H
#define UMBRA_DEVICES_IDE_H

#include "common/log.h"
#include "common/types.h"
#include "devices/irq.h"
#include "devices/pci.h"

struct mmu;
struct blockdev;
struct ide;

/* Create the controller on `bus` at 00:01.1 with its ports and no drives.
 * NULL if out of memory or the slot or port table is taken. */
struct ide *ide_new(struct mmu *m, struct pci_bus *bus, const struct irq_sink *isa,
                    struct logger *log) MUST_CHECK;
/* Close every drive's image and free the controller. */
void ide_free(struct ide *s);
/*
 * Attach an image as drive `index` (0 primary master, 1 primary slave,
 * 2 secondary master, 3 secondary slave).  The controller owns `bd` from
 * then on.  `cdrom` makes it an ATAPI CD-ROM drive.  Returns 0, or -1 if
 * the index is taken or out of range.
 */
int ide_attach(struct ide *s, unsigned index, struct blockdev *bd, bool cdrom) MUST_CHECK;
/* Power-on state of the channels and the bus-master registers (the
 * images stay attached). */
void ide_reset(struct ide *s);

#endif
