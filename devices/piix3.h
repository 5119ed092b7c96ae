/*
 * Intel 82371SB PIIX3 function 0, the PCI-to-ISA bridge at 00:01.0: the
 * PIRQ route registers that steer the four PCI interrupt lines to ISA
 * IRQs, and the reset control register at port 0xCF9.
 */
#ifndef UMBRA_DEVICES_PIIX3_H
#define UMBRA_DEVICES_PIIX3_H

#include "devices/irq.h"
#include "devices/pci.h"

#define PIIX3_PIRQRC 0x60  /* PIRQA-D route control, 0x60-0x63 */
#define PIIX3_RCR_PORT 0xcf9

struct piix3 {
    struct pci_dev pci;
    struct irq_sink isa;      /* ISA IRQ lines (the 8259A pair, I/O APIC) */
    bool pirq_level[4];       /* PIRQA-D as the PCI functions drive them */
    u16 driven;               /* ISA IRQs PCI interrupts hold high now */
    u8 rcr;                   /* reset control register (0xCF9) */
    void (*reset)(void *opaque); /* the system reset line */
    void *reset_opaque;
};

/* Create the function at 00:01.0 (a multi-function device), take the bus's
 * PIRQ lines and port 0xCF9.  Returns 0 or -1. */
int piix3_init(struct piix3 *p, struct pci_bus *bus, struct mmu *m, struct irq_sink isa,
               void (*reset)(void *), void *reset_opaque) MUST_CHECK;
/* Power-on state of the route registers and the reset control register. */
void piix3_reset(struct piix3 *p);

#endif
