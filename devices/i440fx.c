/*
 * The i440FX host bridge (Intel 82441FX PMC datasheet, order 290549):
 * vendor 8086, device 1237, class 06/00/00.
 *
 * PAM0-PAM6 (0x59-0x5F, 3.2.18) each hold two 4-bit attribute fields; the
 * low two bits of a field are RE (reads go to DRAM) and WE (writes go to
 * DRAM); when clear the cycle goes to PCI, where the BIOS ROM or an
 * option ROM may answer.  The segments:
 *
 *   reg   bits 3:0          bits 7:4
 *   0x59  (reserved)        0xF0000-0xFFFFF
 *   0x5A  0xC0000-0xC3FFF   0xC4000-0xC7FFF
 *   0x5B  0xC8000-0xCBFFF   0xCC000-0xCFFFF
 *   0x5C  0xD0000-0xD3FFF   0xD4000-0xD7FFF
 *   0x5D  0xD8000-0xDBFFF   0xDC000-0xDFFFF
 *   0x5E  0xE0000-0xE3FFF   0xE4000-0xE7FFF
 *   0x5F  0xE8000-0xEBFFF   0xEC000-0xEFFFF
 *
 * The routing itself is mmu_set_pam().  Until the guest first writes a
 * PAM register the memory map is left as the loaders made it, so a
 * kernel started directly (no firmware) sees the map it always saw.
 *
 * SMRAM (0x72, 3.2.23): bits 2:0 read 010 (the A segment); the rest is
 * stored and ignored, there being no System Management Mode.
 */
#include "i440fx.h"

#include "mmu/mmu.h"

/* Apply the attribute field of one segment. */
static void pam_segment(struct i440fx *h, u32 base, u32 size, unsigned attr)
{
    unsigned mode = (attr & 1 ? MMU_PAM_READ : 0) | (attr & 2 ? MMU_PAM_WRITE : 0);
    if (mmu_set_pam(h->mmu, base, size, mode) < 0)
        LOG(h->mmu->log, UNIMP, "i440fx: cannot route %05x", base);
}

static void pam_apply(struct i440fx *h)
{
    const u8 *c = h->pci.cfg;
    pam_segment(h, 0xf0000, 0x10000, c[I440FX_PAM0] >> 4);
    for (unsigned r = 1; r <= 6; r++) {
        u32 base = 0xc0000 + (r - 1) * 0x8000;
        pam_segment(h, base, 0x4000, c[I440FX_PAM0 + r] & 0xf);
        pam_segment(h, base + 0x4000, 0x4000, c[I440FX_PAM0 + r] >> 4);
    }
}

static void i440fx_cfg_write(void *opaque, struct pci_dev *d, unsigned off, unsigned size)
{
    struct i440fx *h = opaque;
    if (off < I440FX_PAM0 + 7 && off + size > I440FX_PAM0) {
        h->pam_used = true;
        pam_apply(h);
    }
}

static void set_regs(struct i440fx *h)
{
    u8 *c = h->pci.cfg;
    for (unsigned r = 0; r < 7; r++)
        c[I440FX_PAM0 + r] = 0;
    c[I440FX_SMRAM] = 0x02;
}

int i440fx_init(struct i440fx *h, struct pci_bus *bus, struct mmu *m)
{
    pci_dev_init(&h->pci, 0x8086, 0x1237, 0x060000, 0x02);
    h->mmu = m;
    h->pam_used = false;
    h->pci.opaque = h;
    h->pci.cfg_write = i440fx_cfg_write;
    /* Bits 7:6 and 3:2 of each field are reserved (read as written on
     * the real part; kept writable so read-modify-write firmware sees its
     * own values); PAM0's low field is reserved and read-only. */
    h->pci.wmask[I440FX_PAM0] = 0xf0;
    for (unsigned r = 1; r < 7; r++)
        h->pci.wmask[I440FX_PAM0 + r] = 0xff;
    h->pci.wmask[I440FX_SMRAM] = 0x78;
    /* A host bridge decodes memory and is a bus master from power-on. */
    h->pci.cfg[PCI_COMMAND] = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
    h->pci.wmask[PCI_INTERRUPT_LINE] = 0;
    set_regs(h);
    return pci_register(bus, &h->pci, PCI_DEVFN(0, 0));
}

void i440fx_reset(struct i440fx *h)
{
    set_regs(h);
    h->pci.cfg[PCI_COMMAND] = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
    if (h->pam_used)
        pam_apply(h);
}
