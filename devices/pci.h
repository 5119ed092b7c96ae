/*
 * PCI bus 0 with configuration mechanism #1 (ports 0xCF8 address,
 * 0xCFC-0xCFF data), the bus every PCI function of the board sits on.
 *
 * A device is a struct pci_dev the device embeds or allocates; it fills
 * the identity with pci_dev_init(), declares its BARs, its interrupt pin
 * and its expansion ROM, and registers with pci_register().  The bus owns
 * the standard header: the command register, BAR sizing and placement
 * (write all ones, read back the size mask; PCI Local Bus Specification
 * 3.0, 6.2.5.1), and maps the BARs on the guest's buses while decoding is
 * enabled.  A device learns where the firmware put a BAR through its
 * bar_mapped callback and handles its own registers (0x40-0xFF) through
 * cfg_write.
 *
 *   struct pci_dev d;
 *   pci_dev_init(&d, 0x1234, 0x1111, 0x030000, 0);
 *   pci_set_bar(&d, 0, PCI_BAR_MEM_PREFETCH, 16 << 20, NULL, &my_ops);
 *   pci_set_rom(&d, rom, rom_len);
 *   pci_register(bus, &d, PCI_DEVFN(2, 0));
 */
#ifndef UMBRA_DEVICES_PCI_H
#define UMBRA_DEVICES_PCI_H

#include "common/types.h"

struct mmu;
struct mmio_ops;
struct io_ops;

#define PCI_DEVFN(dev, fn) ((u8)(((dev) << 3) | (fn)))
#define PCI_MAX_DEVFN 256
#define PCI_NUM_BARS 6
#define PCI_ROM_SLOT 6      /* bar index of the expansion ROM BAR */
#define PCI_BAR_UNMAPPED 0xffffffffu

/* Standard header offsets (type 0). */
enum {
    PCI_VENDOR_ID = 0x00,
    PCI_DEVICE_ID = 0x02,
    PCI_COMMAND = 0x04,
    PCI_STATUS = 0x06,
    PCI_CLASS_REVISION = 0x08,
    PCI_HEADER_TYPE = 0x0e,
    PCI_BAR0 = 0x10,
    PCI_SUBSYSTEM_VENDOR_ID = 0x2c,
    PCI_ROM_ADDRESS = 0x30,
    PCI_INTERRUPT_LINE = 0x3c,
    PCI_INTERRUPT_PIN = 0x3d,
};

enum {
    PCI_COMMAND_IO = 1u << 0,
    PCI_COMMAND_MEMORY = 1u << 1,
    PCI_COMMAND_MASTER = 1u << 2,
};

enum pci_bar_type {
    PCI_BAR_NONE,
    PCI_BAR_IO,            /* I/O space, bit 0 set */
    PCI_BAR_MEM,           /* 32-bit memory */
    PCI_BAR_MEM_PREFETCH,  /* 32-bit prefetchable memory (bit 3) */
};

struct pci_dev;

/* BAR `bar` (0-5, or PCI_ROM_SLOT) now decodes at `addr`, or
 * PCI_BAR_UNMAPPED when its decoding was turned off. */
typedef void (*pci_bar_mapped_fn)(void *opaque, struct pci_dev *d, unsigned bar, u32 addr);
/* The guest wrote config bytes [off, off+size) (already stored, with the
 * device's write mask applied). */
typedef void (*pci_cfg_write_fn)(void *opaque, struct pci_dev *d, unsigned off, unsigned size);

struct pci_bar {
    enum pci_bar_type type;
    u32 size;                      /* power of two; 0 = not implemented */
    u32 addr;                      /* where it decodes, or PCI_BAR_UNMAPPED */
    const struct mmio_ops *mmio;   /* mapped by the bus when non-NULL */
    const struct io_ops *io;       /* likewise for an I/O BAR */
};

struct pci_dev {
    u8 cfg[256];                   /* configuration space */
    u8 wmask[256];                 /* bits the guest may write */
    struct pci_bar bar[PCI_NUM_BARS + 1]; /* [PCI_ROM_SLOT]: expansion ROM */
    const u8 *rom;                 /* expansion ROM contents (not owned) */
    u32 rom_len;
    void *opaque;                  /* passed to the callbacks and BAR ops */
    pci_bar_mapped_fn bar_mapped;  /* optional */
    pci_cfg_write_fn cfg_write;    /* optional */
    struct pci_bus *bus;
    u8 devfn;
    bool irq_level;                /* the function's INTx# output */
};

/* Routing of the four PCI interrupt lines (PIRQA-D) to the interrupt
 * controller, provided by the south bridge (piix3.c). */
typedef void (*pci_pirq_fn)(void *opaque, unsigned pirq, bool level);

struct pci_bus {
    struct mmu *mmu;
    struct pci_dev *dev[PCI_MAX_DEVFN];
    u32 addr;                      /* 0xCF8 */
    pci_pirq_fn pirq;
    void *pirq_opaque;
    unsigned pirq_count[4];        /* functions asserting each PIRQ */
};

/* Claim ports 0xCF8-0xCFF (0xCF9 is left to the south bridge).  Returns
 * 0, or -1 if the port table is full. */
int pci_bus_init(struct pci_bus *b, struct mmu *m) MUST_CHECK;
/* Forget every BAR placement and reset each function's command register
 * (a system reset); functions stay registered. */
void pci_bus_reset(struct pci_bus *b);

/*
 * Identity and defaults: vendor, device, class code (base class << 16 |
 * subclass << 8 | programming interface), revision; header type 0,
 * command 0, the interrupt line writable.  Everything else is zero and
 * read-only until the device says otherwise (d->wmask).
 */
void pci_dev_init(struct pci_dev *d, u16 vendor, u16 device, u32 class_code, u8 revision);
/* Declare BAR `bar` (0-5): its type and size (a power of two, at least 16
 * bytes of memory or 4 ports), and optionally the ops the bus maps it
 * with while it decodes (mmio for memory, io for I/O; the opaque is
 * d->opaque). */
void pci_set_bar(struct pci_dev *d, unsigned bar, enum pci_bar_type type, u32 size,
                 const struct io_ops *io, const struct mmio_ops *mmio);
/* An expansion ROM (rounded up to a power of two of at least 2 KiB): the
 * bus serves its bytes at the ROM BAR while it is enabled (bit 0) and
 * memory decoding is on.  `rom` must outlive the device. */
void pci_set_rom(struct pci_dev *d, const u8 *rom, u32 len);
/* Interrupt pin: 1 = INTA# .. 4 = INTD#, 0 = none. */
void pci_set_irq_pin(struct pci_dev *d, u8 pin);
/* Put the function at `devfn`.  Returns 0, or -1 if the slot is taken. */
int pci_register(struct pci_bus *b, struct pci_dev *d, u8 devfn) MUST_CHECK;

/* Drive the function's INTx# line (level-triggered, shared). */
void pci_set_irq(struct pci_dev *d, bool level);
/* The PIRQ line (0-3 = A-D) the function's pin reaches on bus 0: the PIIX
 * swizzle (pin - 1 + device - 1) mod 4. */
unsigned pci_pirq_of(const struct pci_dev *d);

/* Configuration access as through mechanism #1 (used by the port
 * handlers and by tests): `off` within the 256-byte space, size 1, 2 or
 * 4, not crossing a dword.  Absent functions read all ones. */
u32 pci_config_read(struct pci_bus *b, u8 devfn, unsigned off, unsigned size);
void pci_config_write(struct pci_bus *b, u8 devfn, unsigned off, u32 val, unsigned size);

#endif
