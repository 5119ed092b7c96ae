/*
 * PCI bus 0 through configuration mechanism #1 (ports 0xCF8/0xCFC), with
 * the i440FX host bridge, the PIIX3 ISA bridge and a test function:
 * identity reads, master aborts, BAR sizing and placement (the bus maps
 * a BAR on the guest's buses and tells the device), the expansion ROM
 * BAR, PIRQ routing to ISA IRQs, and the PAM registers routing the
 * legacy BIOS area between shadow RAM and the ROM.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/counters.h"
#include "common/log.h"
#include "devices/i440fx.h"
#include "devices/pci.h"
#include "devices/piix3.h"
#include "mmu/mmu.h"

#define RAM (16u << 20)

static struct counters cnt;
static struct logger lg;
static struct mmu *m;
static struct pci_bus bus;
static struct i440fx host;
static struct piix3 isa;
static struct pci_dev dev;

/* What the fakes saw. */
static u16 irq_levels;      /* ISA IRQs held high */
static unsigned resets;
static u32 mapped[PCI_NUM_BARS + 1];
static unsigned map_calls;
static u32 mmio_last_off, io_last_port;

static void fake_irq(void *opaque, unsigned irq, bool level)
{
    if (level)
        irq_levels |= (u16)(1u << irq);
    else
        irq_levels &= (u16)~(1u << irq);
}

static void fake_reset(void *opaque)
{
    resets++;
}

static void on_bar(void *opaque, struct pci_dev *d, unsigned bar, u32 addr)
{
    mapped[bar] = addr;
    map_calls++;
}

static u32 dev_mmio_read(void *opaque, u32 off, unsigned size)
{
    mmio_last_off = off;
    return 0xa5000000u | off;
}

static u32 dev_io_read(void *opaque, u16 port, unsigned size)
{
    io_last_port = port;
    return 0x5a;
}

static const struct mmio_ops dev_mmio = { dev_mmio_read, NULL };
static const struct io_ops dev_io = { dev_io_read, NULL };
static u8 rom[3000];

static void setup(void)
{
    cnt = (struct counters){ 0 };
    log_init(&lg);
    m = mmu_new(RAM, &cnt, &lg);
    ck_assert_ptr_nonnull(m);
    irq_levels = 0;
    resets = 0;
    map_calls = 0;
    for (unsigned k = 0; k <= PCI_NUM_BARS; k++)
        mapped[k] = PCI_BAR_UNMAPPED;
    ck_assert_int_eq(pci_bus_init(&bus, m), 0);
    ck_assert_int_eq(i440fx_init(&host, &bus, m), 0);
    ck_assert_int_eq(piix3_init(&isa, &bus, m, (struct irq_sink){ fake_irq, NULL }, fake_reset,
                                NULL),
                     0);
    /* A test function at 00:03.0: an I/O BAR, a prefetchable memory BAR,
     * a ROM and INTA#. */
    pci_dev_init(&dev, 0x1234, 0x5678, 0x030000, 0x07);
    pci_set_bar(&dev, 0, PCI_BAR_MEM_PREFETCH, 16u << 20, NULL, &dev_mmio);
    pci_set_bar(&dev, 2, PCI_BAR_IO, 32, &dev_io, NULL);
    for (unsigned i = 0; i < sizeof rom; i++)
        rom[i] = (u8)(i * 7);
    pci_set_rom(&dev, rom, sizeof rom);
    pci_set_irq_pin(&dev, 1);
    dev.bar_mapped = on_bar;
    ck_assert_int_eq(pci_register(&bus, &dev, PCI_DEVFN(3, 0)), 0);
}

static void teardown(void)
{
    mmu_free(m);
}

/* Mechanism #1 as a guest uses it. */
static u32 cfg_read(unsigned d, unsigned fn, unsigned reg, unsigned size)
{
    mmu_io_write(m, 0xcf8, 0x80000000u | d << 11 | fn << 8 | (reg & 0xfc), 4);
    return mmu_io_read(m, (u16)(0xcfc + (reg & 3)), size);
}

static void cfg_write(unsigned d, unsigned fn, unsigned reg, u32 val, unsigned size)
{
    mmu_io_write(m, 0xcf8, 0x80000000u | d << 11 | fn << 8 | (reg & 0xfc), 4);
    mmu_io_write(m, (u16)(0xcfc + (reg & 3)), val, size);
}

START_TEST(identity)
{
    ck_assert_uint_eq(cfg_read(0, 0, 0, 4), 0x12378086u);
    ck_assert_uint_eq(cfg_read(1, 0, 0, 4), 0x70008086u);
    ck_assert_uint_eq(cfg_read(1, 0, PCI_CLASS_REVISION, 4) >> 8, 0x060100u);
    ck_assert_uint_eq(cfg_read(1, 0, PCI_HEADER_TYPE, 1), 0x80); /* multi-function */
    ck_assert_uint_eq(cfg_read(3, 0, 2, 2), 0x5678);
    ck_assert_uint_eq(cfg_read(3, 0, PCI_CLASS_REVISION, 1), 0x07);
    /* Nobody at 00:05.0 nor 01:00.0: master abort, all ones. */
    ck_assert_uint_eq(cfg_read(5, 0, 0, 4), 0xffffffffu);
    mmu_io_write(m, 0xcf8, 0x80010000u, 4);
    ck_assert_uint_eq(mmu_io_read(m, 0xcfc, 4), 0xffffffffu);
    /* The address register reads back; without bit 31 no config cycle. */
    mmu_io_write(m, 0xcf8, 0x00001800u, 4);
    ck_assert_uint_eq(mmu_io_read(m, 0xcf8, 4), 0x00001800u);
    ck_assert_uint_eq(mmu_io_read(m, 0xcfc, 4), 0xffffffffu);
    /* Read-only fields stay; the interrupt line is scratch. */
    cfg_write(3, 0, 0, 0xdeadbeef, 4);
    ck_assert_uint_eq(cfg_read(3, 0, 0, 4), 0x56781234u);
    cfg_write(3, 0, PCI_INTERRUPT_LINE, 0x0b, 1);
    ck_assert_uint_eq(cfg_read(3, 0, PCI_INTERRUPT_LINE, 2), 0x010b); /* pin A */
}
END_TEST

START_TEST(bar_sizing)
{
    cfg_write(3, 0, PCI_BAR0, 0xffffffffu, 4);
    ck_assert_uint_eq(cfg_read(3, 0, PCI_BAR0, 4), 0xff000008u); /* 16 MiB, prefetchable */
    cfg_write(3, 0, PCI_BAR0 + 8, 0xffffffffu, 4);
    ck_assert_uint_eq(cfg_read(3, 0, PCI_BAR0 + 8, 4), 0xffffffe1u); /* 32 ports */
    cfg_write(3, 0, PCI_BAR0 + 4, 0xffffffffu, 4);
    ck_assert_uint_eq(cfg_read(3, 0, PCI_BAR0 + 4, 4), 0); /* not implemented */
    cfg_write(3, 0, PCI_ROM_ADDRESS, 0xffffffffu, 4);
    ck_assert_uint_eq(cfg_read(3, 0, PCI_ROM_ADDRESS, 4), 0xfffff001u); /* 4 KiB */
    /* Sizing with decoding on maps nothing at the all-ones pattern. */
    cfg_write(3, 0, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
    ck_assert_uint_eq(mapped[0], PCI_BAR_UNMAPPED);
}
END_TEST

START_TEST(bar_placement)
{
    cfg_write(3, 0, PCI_BAR0, 0xfd000000u, 4);
    cfg_write(3, 0, PCI_BAR0 + 8, 0xc040, 4);
    ck_assert_uint_eq(map_calls, 0); /* decoding is off */
    ck_assert_uint_eq(mmu_phys_read(m, 0xfd000010u, 4), 0xffffffffu);
    cfg_write(3, 0, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
    ck_assert_uint_eq(mapped[0], 0xfd000000u);
    ck_assert_uint_eq(mapped[2], 0xc040);
    ck_assert_uint_eq(mmu_phys_read(m, 0xfd000010u, 4), 0xa5000010u);
    ck_assert_uint_eq(mmu_io_read(m, 0xc05f, 1), 0x5a);
    ck_assert_uint_eq(io_last_port, 0xc05f);
    /* Moving the BAR moves the decode. */
    cfg_write(3, 0, PCI_BAR0, 0xfc000000u, 4);
    ck_assert_uint_eq(mapped[0], 0xfc000000u);
    ck_assert_uint_eq(mmu_phys_read(m, 0xfd000010u, 4), 0xffffffffu);
    ck_assert_uint_eq(mmu_phys_read(m, 0xfc000020u, 4), 0xa5000020u);
    /* Turning I/O decoding off unmaps only the I/O BAR. */
    cfg_write(3, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    ck_assert_uint_eq(mapped[2], PCI_BAR_UNMAPPED);
    ck_assert_uint_eq(mmu_io_read(m, 0xc05f, 1), 0xff);
    ck_assert_uint_eq(mapped[0], 0xfc000000u);
    /* A memory BAR over RAM is claimed by the host bridge for DRAM. */
    cfg_write(3, 0, PCI_BAR0, 0x00000000u, 4);
    ck_assert_uint_eq(mapped[0], PCI_BAR_UNMAPPED);
    mmu_phys_write(m, 0x10, 0x1234, 2);
    ck_assert_uint_eq(mmu_phys_read(m, 0x10, 2), 0x1234);
    /* A system reset forgets the placement. */
    cfg_write(3, 0, PCI_BAR0, 0xfd000000u, 4);
    ck_assert_uint_eq(mapped[0], 0xfd000000u);
    pci_bus_reset(&bus);
    ck_assert_uint_eq(mapped[0], PCI_BAR_UNMAPPED);
    ck_assert_uint_eq(cfg_read(3, 0, PCI_BAR0, 4), 0x8);
}
END_TEST

START_TEST(rom_bar)
{
    cfg_write(3, 0, PCI_ROM_ADDRESS, 0xfebf0000u, 4); /* not enabled (bit 0) */
    cfg_write(3, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    ck_assert_uint_eq(mapped[PCI_ROM_SLOT], PCI_BAR_UNMAPPED);
    cfg_write(3, 0, PCI_ROM_ADDRESS, 0xfebf0001u, 4);
    ck_assert_uint_eq(mapped[PCI_ROM_SLOT], 0xfebf0000u);
    for (u32 i = 0; i < sizeof rom; i += 97)
        ck_assert_uint_eq(mmu_phys_read(m, 0xfebf0000u + i, 1), rom[i]);
    ck_assert_uint_eq(mmu_phys_read(m, 0xfebf0000u + sizeof rom, 1), 0); /* past the image */
    mmu_phys_write(m, 0xfebf0000u, 0xff, 1); /* read-only */
    ck_assert_uint_eq(mmu_phys_read(m, 0xfebf0000u, 1), rom[0]);
    cfg_write(3, 0, PCI_ROM_ADDRESS, 0xfebf0000u, 4);
    ck_assert_uint_eq(mmu_phys_read(m, 0xfebf0000u, 1), 0xff);
}
END_TEST

START_TEST(pirq_routing)
{
    /* 00:03.0 INTA# reaches PIRQ (1 - 1 + 3 - 1) mod 4 = C. */
    ck_assert_uint_eq(pci_pirq_of(&dev), 2);
    pci_set_irq(&dev, true);
    ck_assert_uint_eq(irq_levels, 0); /* PIRQC routing disabled at power-on */
    ck_assert_uint_eq(cfg_read(3, 0, PCI_STATUS, 1) & 8, 8); /* interrupt status */
    cfg_write(1, 0, PIIX3_PIRQRC + 2, 11, 1);
    ck_assert_uint_eq(irq_levels, 1u << 11);
    pci_set_irq(&dev, false);
    ck_assert_uint_eq(irq_levels, 0);
    pci_set_irq(&dev, true);
    cfg_write(1, 0, PIIX3_PIRQRC + 2, 10, 1); /* re-routed while asserted */
    ck_assert_uint_eq(irq_levels, 1u << 10);
    cfg_write(1, 0, PIIX3_PIRQRC + 2, 0x8a, 1); /* bit 7: routing off */
    ck_assert_uint_eq(irq_levels, 0);
    cfg_write(1, 0, PIIX3_PIRQRC + 2, 0x02, 1); /* IRQ 2 is not a valid target */
    ck_assert_uint_eq(irq_levels, 0);
    /* A system reset: routing off, the bridge's command as at power-on. */
    pci_bus_reset(&bus);
    piix3_reset(&isa);
    ck_assert_uint_eq(cfg_read(1, 0, PIIX3_PIRQRC + 2, 1), 0x80);
    ck_assert_uint_eq(cfg_read(1, 0, PCI_COMMAND, 2), 7);
    /* The PIIX3's reset control: a 0-to-1 change of bit 2 resets. */
    mmu_io_write(m, 0xcf9, 0x02, 1);
    ck_assert_uint_eq(resets, 0);
    mmu_io_write(m, 0xcf9, 0x06, 1);
    ck_assert_uint_eq(resets, 1);
}
END_TEST

/* ---- PAM: the legacy area between shadow RAM and the ROM ---- */

static const u32 F = 0xf0000u, E = 0xe4000u;

static void map_bios(void)
{
    /* A 128 KiB "BIOS" below 4 GiB, aliased at 0xE0000 as the loader does;
     * each byte is its offset's low byte plus 1. */
    static u8 img[128 << 10];
    for (u32 i = 0; i < sizeof img; i++)
        img[i] = (u8)(i + 1);
    ck_assert_int_eq(mmu_map_rom(m, 0xfffe0000u, img, sizeof img), 0);
    ck_assert_int_eq(mmu_alias_rom(m, 0xe0000, 0xfffe0000u, sizeof img), 0);
}

static u8 rom_byte(u32 gpa)
{
    return (u8)((gpa - 0xe0000) + 1);
}

static unsigned notices;
static void on_code(void *opaque, u32 gpa, unsigned size)
{
    if (gpa <= F && F < gpa + size)
        notices++;
}

START_TEST(pam_routing)
{
    map_bios();
    ck_assert_int_eq(mmu_subscribe_code_writes(m, on_code, NULL), 0);
    notices = 0;
    ck_assert_uint_eq(mmu_phys_read(m, F, 1), rom_byte(F));
    ck_assert_uint_eq(cfg_read(0, 0, I440FX_PAM0, 1), 0);
    /* WE only: reads still come from the ROM, writes reach the RAM. */
    cfg_write(0, 0, I440FX_PAM0, 0x20, 1);
    mmu_phys_write(m, F, 0x42, 1);
    ck_assert_uint_eq(mmu_phys_read(m, F, 1), rom_byte(F));
    /* RE only: the copy reads back, writes are dropped. */
    cfg_write(0, 0, I440FX_PAM0, 0x10, 1);
    ck_assert_uint_eq(mmu_phys_read(m, F, 1), 0x42);
    mmu_phys_write(m, F, 0x43, 1);
    ck_assert_uint_eq(mmu_phys_read(m, F, 1), 0x42);
    /* RE|WE: plain RAM. */
    cfg_write(0, 0, I440FX_PAM0, 0x30, 1);
    mmu_phys_write(m, F, 0x44, 1);
    ck_assert_uint_eq(mmu_phys_read(m, F, 1), 0x44);
    /* Each change of the page's routing told the code subscribers. */
    ck_assert_uint_eq(notices, 3);
    /* Back to the bus: the ROM again. */
    cfg_write(0, 0, I440FX_PAM0, 0x00, 1);
    ck_assert_uint_eq(mmu_phys_read(m, F, 1), rom_byte(F));
    /* PAM5's high field is 0xE4000-0xE7FFF only; its neighbours keep the ROM. */
    cfg_write(0, 0, I440FX_PAM0 + 5, 0x30, 1);
    mmu_phys_write(m, E, 0x77, 1);
    mmu_phys_write(m, E - 1, 0x77, 1);
    mmu_phys_write(m, E + 0x4000, 0x77, 1);
    ck_assert_uint_eq(mmu_phys_read(m, E, 1), 0x77);
    ck_assert_uint_eq(mmu_phys_read(m, E - 1, 1), rom_byte(E - 1));
    ck_assert_uint_eq(mmu_phys_read(m, E + 0x4000, 1), rom_byte(E + 0x4000));
    /* 0xC0000 has no ROM: the bus reads all ones until RAM is routed in. */
    cfg_write(0, 0, I440FX_PAM0 + 1, 0x03, 1);
    mmu_phys_write(m, 0xc0000, 0x55, 1);
    cfg_write(0, 0, I440FX_PAM0 + 1, 0x00, 1);
    ck_assert_uint_eq(mmu_phys_read(m, 0xc0000, 1), 0xff);
    cfg_write(0, 0, I440FX_PAM0 + 1, 0x01, 1);
    ck_assert_uint_eq(mmu_phys_read(m, 0xc0000, 1), 0x55);
    /* A dword write covering PAM0-PAM2 as firmware does (0x58-0x5B). */
    cfg_write(0, 0, 0x58, 0x33333000u, 4);
    ck_assert_uint_eq(cfg_read(0, 0, 0x58, 4), 0x33333000u);
    mmu_phys_write(m, 0xc8000, 0x66, 1);
    ck_assert_uint_eq(mmu_phys_read(m, 0xc8000, 1), 0x66);
    /* Reset: registers to 0, the area back to the bus. */
    i440fx_reset(&host);
    ck_assert_uint_eq(cfg_read(0, 0, 0x58, 4), 0);
    ck_assert_uint_eq(mmu_phys_read(m, F, 1), rom_byte(F));
    ck_assert_uint_eq(mmu_phys_read(m, 0xc8000, 1), 0xff);
    ck_assert_uint_eq(cfg_read(0, 0, I440FX_SMRAM, 1), 0x02);
}
END_TEST

START_TEST(pam_untouched)
{
    /* Until the guest programs a PAM register the map stays as loaded:
     * RAM at 0xC0000, ROM at 0xE0000. */
    map_bios();
    mmu_phys_write(m, 0xc0000, 0x12, 1);
    ck_assert_uint_eq(mmu_phys_read(m, 0xc0000, 1), 0x12);
    i440fx_reset(&host);
    ck_assert_uint_eq(mmu_phys_read(m, 0xc0000, 1), 0x12);
    ck_assert_uint_eq(mmu_phys_read(m, F, 1), rom_byte(F));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pci");
    TCase *tc = tcase_create("bus");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, identity);
    tcase_add_test(tc, bar_sizing);
    tcase_add_test(tc, bar_placement);
    tcase_add_test(tc, rom_bar);
    tcase_add_test(tc, pirq_routing);
    tcase_add_test(tc, pam_routing);
    tcase_add_test(tc, pam_untouched);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
