/*
 * The VGA as a PCI function, as QEMU presents its "std VGA" (QEMU
 * docs/specs/standard-vga.rst): vendor 1234h, device 1111h, class
 * 030000h (display controller, VGA compatible), BAR0 the 16 MiB linear
 * framebuffer as prefetchable memory, and the VGA BIOS as the expansion
 * ROM, which the system BIOS finds through the ROM BAR, copies to
 * 0xC0000 and calls (PCI Firmware Specification 3.0, 5.1).
 *
 * The legacy resources (ports 0x3B0-0x3DF, the 0xA0000-0xBFFFF window,
 * the dispi ports 0x1CE/0x1CF) stay decoded whatever the command
 * register says.  On a real card the I/O and memory space enables gate
 * them too; here they do not, because programs that never touch PCI
 * (bare-metal tests, a directly loaded kernel) use them at once, and
 * the firmware turns both enables on for the VGA anyway.  The
 * window lies below the i440FX's PAM segments (0xC0000 up), so shadow
 * RAM routing never takes it from the adapter.
 *
 * The framebuffer keeps vga_new()'s default place until the BAR first
 * decodes or stops decoding, so a program that never touches PCI (a
 * bare-metal test, the VGA BIOS told "no PCI device") finds it where
 * an ISA std VGA has it.
 */
#include "vga.h"

#include <stdlib.h>
#include <string.h>

static void vga_bar_mapped(void *opaque, struct pci_dev *d, unsigned bar, u32 addr)
{
    struct vga *v = opaque;
    (void)d;
    if (bar != 0)
        return;
    if (vga_map_lfb(v, addr == PCI_BAR_UNMAPPED ? 0 : addr) < 0)
        LOG(v->log, GUEST_ERROR, "vga: cannot place the framebuffer at %08x", addr);
}

int vga_pci_init(struct vga *v, struct pci_bus *bus, u8 devfn)
{
    struct pci_dev *d = &v->pci;
    pci_dev_init(d, VGA_PCI_VENDOR, VGA_PCI_DEVICE, VGA_PCI_CLASS, 0);
    /* QEMU's subsystem IDs for its emulated devices (1AF4:1100). */
    d->cfg[PCI_SUBSYSTEM_VENDOR_ID] = 0xf4;
    d->cfg[PCI_SUBSYSTEM_VENDOR_ID + 1] = 0x1a;
    d->cfg[PCI_SUBSYSTEM_VENDOR_ID + 2] = 0x00;
    d->cfg[PCI_SUBSYSTEM_VENDOR_ID + 3] = 0x11;
    d->opaque = v;
    d->bar_mapped = vga_bar_mapped;
    /* No mmio ops: the bus maps nothing; vga_bar_mapped() puts the
     * video memory there as RAM, so the CPU writes it without a call. */
    pci_set_bar(d, 0, PCI_BAR_MEM_PREFETCH, VGA_VRAM_SIZE, NULL, NULL);
    return pci_register(bus, d, devfn);
}

int vga_set_rom(struct vga *v, const u8 *rom, size_t len)
{
    if (len == 0 || len > VGA_ROM_MAX)
        return -1;
    u8 *copy = malloc(len);
    if (!copy)
        return -1;
    memcpy(copy, rom, len);
    free(v->rom);
    v->rom = copy;
    pci_set_rom(&v->pci, v->rom, (u32)len);
    return 0;
}
