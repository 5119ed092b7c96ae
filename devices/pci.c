/*
 * PCI bus 0 and configuration mechanism #1 (PCI Local Bus Specification
 * 3.0, 3.2.2.3.2): a dword write to 0xCF8 with bit 31 set selects
 *
 *   31 | 30-24 | 23-16 | 15-11  | 10-8     | 7-2      | 1-0
 *   en | 0     | bus   | device | function | register | 0
 *
 * and 0xCFC-0xCFF then read or write that dword of the function's
 * configuration space (byte lanes by the low two port bits).  Only bus 0
 * exists; an absent function reads all ones (a master abort).
 *
 * BARs (6.2.5): the low bits are read-only type bits (I/O: bit 0 set;
 * memory: 0, bit 3 prefetchable) and the address bits below the BAR's
 * size are hard-wired to zero, so writing all ones and reading back
 * gives ~(size - 1) | type, which is how firmware sizes them.  The
 * expansion ROM BAR (6.2.5.2) has its enable in bit 0 and address bits
 * 31:11.  A BAR decodes while its command register enable (I/O or
 * memory space) is set and it holds an address the host bridge forwards:
 * I/O below 64 KiB, memory above RAM (the i440FX claims everything below
 * the top of DRAM for DRAM) and not the all-ones sizing pattern.
 */
#include "pci.h"

#include <string.h>

#include "mmu/mmu.h"

#define PCI_CONF_ADDR 0xcf8
#define PCI_CONF_DATA 0xcfc
#define PCI_COMMAND_INTX_DISABLE (1u << 10)
#define PCI_STATUS_INTERRUPT (1u << 3)

static u32 rd32(const u8 *p)
{
    return p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static void wr32(u8 *p, u32 v)
{
    for (unsigned i = 0; i < 4; i++)
        p[i] = (u8)(v >> (8 * i));
}

static unsigned bar_offset(unsigned bar)
{
    return bar == PCI_ROM_SLOT ? PCI_ROM_ADDRESS : PCI_BAR0 + 4 * bar;
}

void pci_dev_init(struct pci_dev *d, u16 vendor, u16 device, u32 class_code, u8 revision)
{
    memset(d, 0, sizeof *d);
    d->cfg[0] = (u8)vendor;
    d->cfg[1] = (u8)(vendor >> 8);
    d->cfg[2] = (u8)device;
    d->cfg[3] = (u8)(device >> 8);
    wr32(&d->cfg[PCI_CLASS_REVISION], class_code << 8 | revision);
    d->wmask[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | 0x40;
    d->wmask[PCI_COMMAND + 1] = (PCI_COMMAND_INTX_DISABLE | 0x100) >> 8;
    d->wmask[PCI_INTERRUPT_LINE] = 0xff;
    for (unsigned k = 0; k <= PCI_NUM_BARS; k++)
        d->bar[k].addr = PCI_BAR_UNMAPPED;
}

void pci_set_bar(struct pci_dev *d, unsigned bar, enum pci_bar_type type, u32 size,
                 const struct io_ops *io, const struct mmio_ops *mmio)
{
    if (bar >= PCI_NUM_BARS)
        return;
    struct pci_bar *b = &d->bar[bar];
    *b = (struct pci_bar){ type, size, PCI_BAR_UNMAPPED, mmio, io };
    u32 low = type == PCI_BAR_IO ? 1u : type == PCI_BAR_MEM_PREFETCH ? 8u : 0u;
    u32 mask = type == PCI_BAR_NONE ? 0 : ~(size - 1) & (type == PCI_BAR_IO ? ~3u : ~15u);
    wr32(&d->cfg[bar_offset(bar)], low);
    wr32(&d->wmask[bar_offset(bar)], mask);
}

void pci_set_rom(struct pci_dev *d, const u8 *rom, u32 len)
{
    u32 size = 2048;
    while (size < len && size < (1u << 31))
        size <<= 1;
    d->rom = rom;
    d->rom_len = len;
    d->bar[PCI_ROM_SLOT] = (struct pci_bar){ PCI_BAR_MEM, size, PCI_BAR_UNMAPPED, NULL, NULL };
    wr32(&d->cfg[PCI_ROM_ADDRESS], 0);
    wr32(&d->wmask[PCI_ROM_ADDRESS], ~(size - 1) | 1u);
}

void pci_set_irq_pin(struct pci_dev *d, u8 pin)
{
    d->cfg[PCI_INTERRUPT_PIN] = pin;
}

int pci_register(struct pci_bus *b, struct pci_dev *d, u8 devfn)
{
    if (b->dev[devfn])
        return -1;
    d->bus = b;
    d->devfn = devfn;
    b->dev[devfn] = d;
    return 0;
}

/* ---- BAR placement ---- */

static u32 rom_read(void *opaque, u32 offset, unsigned size)
{
    const struct pci_dev *d = opaque;
    u32 v = 0;
    for (unsigned i = 0; i < size; i++)
        if (offset + i < d->rom_len)
            v |= (u32)d->rom[offset + i] << (8 * i);
    return v;
}

static void rom_write(void *opaque, u32 offset, u32 val, unsigned size)
{
}

static const struct mmio_ops rom_ops = { rom_read, rom_write };

/* Where BAR k decodes now, or PCI_BAR_UNMAPPED. */
static u32 bar_decode(const struct pci_dev *d, unsigned k)
{
    const struct pci_bar *b = &d->bar[k];
    if (b->type == PCI_BAR_NONE || !b->size)
        return PCI_BAR_UNMAPPED;
    u16 cmd = (u16)(d->cfg[PCI_COMMAND] | d->cfg[PCI_COMMAND + 1] << 8);
    u32 reg = rd32(&d->cfg[bar_offset(k)]);
    if (b->type == PCI_BAR_IO) {
        u32 a = reg & ~3u;
        if (!(cmd & PCI_COMMAND_IO) || a == 0 || (u64)a + b->size > 0x10000)
            return PCI_BAR_UNMAPPED;
        return a;
    }
    if (!(cmd & PCI_COMMAND_MEMORY) || (k == PCI_ROM_SLOT && !(reg & 1)))
        return PCI_BAR_UNMAPPED;
    u32 a = reg & (k == PCI_ROM_SLOT ? ~0x7ffu : ~15u);
    u32 ram_top = d->bus->mmu ? d->bus->mmu->ram_size : 0;
    if (a < 0x100000 || a < ram_top || a == (~(b->size - 1) & ~15u) || (u64)a + b->size > (1ull << 32))
        return PCI_BAR_UNMAPPED;
    return a;
}

static void bar_unmap(struct pci_dev *d, unsigned k)
{
    struct pci_bar *b = &d->bar[k];
    struct mmu *m = d->bus->mmu;
    if (b->addr == PCI_BAR_UNMAPPED || !m)
        return;
    if (b->type == PCI_BAR_IO && b->io)
        mmu_unmap_io(m, (u16)b->addr, b->size);
    else if (b->type != PCI_BAR_IO && (b->mmio || k == PCI_ROM_SLOT))
        (void)mmu_unmap_mmio(m, b->addr);
}

static void bar_map(struct pci_dev *d, unsigned k, u32 a)
{
    struct pci_bar *b = &d->bar[k];
    struct mmu *m = d->bus->mmu;
    b->addr = a;
    if (a == PCI_BAR_UNMAPPED || !m)
        return;
    int rc = 0;
    if (b->type == PCI_BAR_IO && b->io)
        rc = mmu_map_io(m, (u16)a, b->size, b->io, d->opaque);
    else if (k == PCI_ROM_SLOT)
        rc = mmu_map_mmio(m, a, b->size < 4096 ? 4096 : b->size, &rom_ops, d);
    else if (b->type != PCI_BAR_IO && b->mmio)
        rc = mmu_map_mmio(m, a, b->size < 4096 ? 4096 : b->size, b->mmio, d->opaque);
    if (rc < 0) {
        LOG(m->log, UNIMP, "pci %02x.%u: no room to map BAR %u at %08x", d->devfn >> 3,
            d->devfn & 7, k, a);
        b->addr = PCI_BAR_UNMAPPED;
    }
}

/* Bring every BAR's placement in line with its register and the command
 * register, telling the device of each move. */
static void update_bars(struct pci_dev *d)
{
    for (unsigned k = 0; k <= PCI_NUM_BARS; k++) {
        u32 a = bar_decode(d, k);
        if (a == d->bar[k].addr)
            continue;
        bar_unmap(d, k);
        bar_map(d, k, a);
        if (d->bar_mapped)
            d->bar_mapped(d->opaque, d, k, d->bar[k].addr);
    }
}

void pci_bus_reset(struct pci_bus *b)
{
    for (unsigned fn = 0; fn < PCI_MAX_DEVFN; fn++) {
        struct pci_dev *d = b->dev[fn];
        if (!d)
            continue;
        d->cfg[PCI_COMMAND] = d->cfg[PCI_COMMAND + 1] = 0;
        for (unsigned k = 0; k <= PCI_NUM_BARS; k++) {
            u32 off = bar_offset(k);
            wr32(&d->cfg[off], rd32(&d->cfg[off]) & ~rd32(&d->wmask[off]));
        }
        d->cfg[PCI_INTERRUPT_LINE] = 0;
        update_bars(d);
    }
    b->addr = 0;
}

/* ---- configuration access ---- */

u32 pci_config_read(struct pci_bus *b, u8 devfn, unsigned off, unsigned size)
{
    struct pci_dev *d = b->dev[devfn];
    if (!d)
        return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    u32 v = 0;
    for (unsigned i = 0; i < size && off + i < 256; i++)
        v |= (u32)d->cfg[off + i] << (8 * i);
    return v;
}

static bool touches(unsigned off, unsigned size, unsigned lo, unsigned hi)
{
    return off < hi && off + size > lo;
}

void pci_config_write(struct pci_bus *b, u8 devfn, unsigned off, u32 val, unsigned size)
{
    struct pci_dev *d = b->dev[devfn];
    if (!d)
        return;
    for (unsigned i = 0; i < size && off + i < 256; i++) {
        u8 wm = d->wmask[off + i];
        d->cfg[off + i] = (u8)((d->cfg[off + i] & ~wm) | ((val >> (8 * i)) & wm));
    }
    if (touches(off, size, PCI_COMMAND, PCI_COMMAND + 2) ||
        touches(off, size, PCI_BAR0, PCI_BAR0 + 4 * PCI_NUM_BARS) ||
        touches(off, size, PCI_ROM_ADDRESS, PCI_ROM_ADDRESS + 4))
        update_bars(d);
    if (d->cfg_write)
        d->cfg_write(d->opaque, d, off, size);
}

/* ---- interrupts ---- */

unsigned pci_pirq_of(const struct pci_dev *d)
{
    unsigned pin = d->cfg[PCI_INTERRUPT_PIN];
    return (pin - 1 + (d->devfn >> 3) - 1) & 3;
}

void pci_set_irq(struct pci_dev *d, bool level)
{
    if (d->irq_level == level)
        return;
    d->irq_level = level;
    if (level)
        d->cfg[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
    else
        d->cfg[PCI_STATUS] &= (u8)~PCI_STATUS_INTERRUPT;
    struct pci_bus *b = d->bus;
    unsigned pin = d->cfg[PCI_INTERRUPT_PIN];
    if (!b || pin < 1 || pin > 4)
        return;
    unsigned p = pci_pirq_of(d);
    if (level ? b->pirq_count[p]++ == 0 : --b->pirq_count[p] == 0) {
        if (b->pirq)
            b->pirq(b->pirq_opaque, p, level);
    }
}

/* ---- mechanism #1 ports ---- */

static u32 conf_read(void *opaque, u16 port, unsigned size)
{
    struct pci_bus *b = opaque;
    if (port == PCI_CONF_ADDR)
        return size == 4 ? b->addr : 0xffffffffu >> (32 - 8 * size);
    unsigned lane = port - PCI_CONF_DATA;
    if (!(b->addr & 0x80000000u) || (b->addr >> 16 & 0xff) != 0 || lane + size > 4)
        return 0xffffffffu >> (32 - 8 * size);
    return pci_config_read(b, (u8)(b->addr >> 8), (b->addr & 0xfc) + lane, size);
}

static void conf_write(void *opaque, u16 port, u32 val, unsigned size)
{
    struct pci_bus *b = opaque;
    if (port == PCI_CONF_ADDR) {
        /* Only a dword access reaches CONFADD; the bytes around it belong
         * to other registers (0xCF9: the south bridge's reset control). */
        if (size == 4)
            b->addr = val & 0x80fffffcu;
        return;
    }
    unsigned lane = port - PCI_CONF_DATA;
    if (!(b->addr & 0x80000000u) || (b->addr >> 16 & 0xff) != 0 || lane + size > 4)
        return;
    pci_config_write(b, (u8)(b->addr >> 8), (b->addr & 0xfc) + lane, val, size);
}

static const struct io_ops conf_ops = { conf_read, conf_write };

int pci_bus_init(struct pci_bus *b, struct mmu *m)
{
    memset(b, 0, sizeof *b);
    b->mmu = m;
    if (!m)
        return 0;
    if (mmu_map_io(m, PCI_CONF_ADDR, 1, &conf_ops, b) < 0 ||
        mmu_map_io(m, PCI_CONF_DATA, 4, &conf_ops, b) < 0)
        return -1;
    return 0;
}
