/*
 * PIIX3 PCI-to-ISA bridge, function 0 (Intel 82371FB/82371SB PIIX/PIIX3
 * datasheet, order 290550): vendor 8086, device 7000, class 06/01/00,
 * header type 0x80 (functions 1.. follow: the IDE controller is 1.1).
 *
 * PIRQRC[A:D] (0x60-0x63, 2.2.10): bit 7 set disables the routing; bits
 * 3:0 name the ISA IRQ (3-7, 9-12, 14, 15 are valid) a PCI interrupt line
 * drives.  Default 0x80.  The PCI lines are active-low level signals on
 * the board; firmware marks their IRQs level-triggered in the 8259A's
 * ELCR (4D0h/4D1h, pic.c).  An ISA IRQ is held high while any line routed
 * to it is asserted.
 *
 * Reset control (port 0xCF9, "RC" register): bit 1 SRST selects a hard
 * reset, and a 0-to-1 change of bit 2 (RCPU) resets the system.
 */
#include "piix3.h"

#include "mmu/mmu.h"

#define IRQ_VALID_MASK 0xdef8u /* 3-7, 9-12, 14, 15 */

static void route(struct piix3 *p)
{
    u16 want = 0;
    for (unsigned k = 0; k < 4; k++) {
        u8 r = p->pci.cfg[PIIX3_PIRQRC + k];
        if (p->pirq_level[k] && !(r & 0x80) && (IRQ_VALID_MASK >> (r & 0xf) & 1))
            want |= (u16)(1u << (r & 0xf));
    }
    u16 change = want ^ p->driven;
    p->driven = want;
    for (unsigned irq = 0; irq < 16; irq++)
        if (change >> irq & 1)
            irq_set(&p->isa, irq, want >> irq & 1);
}

static void piix3_pirq(void *opaque, unsigned pirq, bool level)
{
    struct piix3 *p = opaque;
    p->pirq_level[pirq & 3] = level;
    route(p);
}

static void piix3_cfg_write(void *opaque, struct pci_dev *d, unsigned off, unsigned size)
{
    if (off < PIIX3_PIRQRC + 4 && off + size > PIIX3_PIRQRC)
        route(opaque);
}

static u32 rcr_read(void *opaque, u16 port, unsigned size)
{
    struct piix3 *p = opaque;
    return size == 1 ? p->rcr : 0xffffffffu >> (32 - 8 * size);
}

static void rcr_write(void *opaque, u16 port, u32 val, unsigned size)
{
    struct piix3 *p = opaque;
    if (size != 1)
        return;
    bool rcpu = (val & 4) && !(p->rcr & 4);
    p->rcr = (u8)(val & 0x02);
    if (rcpu && p->reset)
        p->reset(p->reset_opaque);
}

static const struct io_ops rcr_ops = { rcr_read, rcr_write };

void piix3_reset(struct piix3 *p)
{
    /* The ISA bridge forwards I/O and memory and masters from power-on. */
    p->pci.cfg[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
    for (unsigned k = 0; k < 4; k++)
        p->pci.cfg[PIIX3_PIRQRC + k] = 0x80;
    p->rcr = 0;
    route(p);
}

int piix3_init(struct piix3 *p, struct pci_bus *bus, struct mmu *m, struct irq_sink isa,
               void (*reset)(void *), void *reset_opaque)
{
    pci_dev_init(&p->pci, 0x8086, 0x7000, 0x060100, 0x00);
    p->isa = isa;
    p->driven = 0;
    for (unsigned k = 0; k < 4; k++)
        p->pirq_level[k] = false;
    p->reset = reset;
    p->reset_opaque = reset_opaque;
    p->pci.opaque = p;
    p->pci.cfg_write = piix3_cfg_write;
    p->pci.cfg[PCI_HEADER_TYPE] = 0x80;
    p->pci.wmask[PCI_INTERRUPT_LINE] = 0;
    for (unsigned k = 0; k < 4; k++)
        p->pci.wmask[PIIX3_PIRQRC + k] = 0x8f;
    piix3_reset(p);
    bus->pirq = piix3_pirq;
    bus->pirq_opaque = p;
    if (pci_register(bus, &p->pci, PCI_DEVFN(1, 0)) < 0)
        return -1;
    if (m && mmu_map_io(m, PIIX3_RCR_PORT, 1, &rcr_ops, p) < 0)
        return -1;
    return 0;
}
