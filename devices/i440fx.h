/*
 * Intel 82441FX PCI and Memory Controller (the i440FX host bridge) at
 * 00:00.0: its identity, the Programmable Attribute Map registers that
 * route the legacy BIOS area 0xC0000-0xFFFFF between shadow RAM and the
 * bus, and the SMRAM control register (stored, with no effect: there is
 * no SMM).
 */
#ifndef UMBRA_DEVICES_I440FX_H
#define UMBRA_DEVICES_I440FX_H

#include "devices/pci.h"

#define I440FX_PAM0 0x59
#define I440FX_SMRAM 0x72

struct i440fx {
    struct pci_dev pci;
    struct mmu *mmu;
    bool pam_used;   /* the guest has written a PAM register since power-on */
};

/* Create the function at 00:00.0.  Returns 0, or -1 if the slot is taken. */
int i440fx_init(struct i440fx *h, struct pci_bus *bus, struct mmu *m) MUST_CHECK;
/* Power-on state of the registers; the legacy area goes back to the bus
 * (the BIOS ROM) if the guest had routed it. */
void i440fx_reset(struct i440fx *h);

#endif
