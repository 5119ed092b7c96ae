/*
 * The PIIX3 IDE controller through its ports, on a temporary raw image
 * whose sector k holds bytes (k * 7 + i) & 0xff: IDENTIFY DEVICE, PIO
 * reads and writes in LBA28, LBA48 and CHS form, MULTIPLE, address
 * checks, INTRQ and nIEN, the task file after a command, bus-master DMA
 * through PRD tables (exact, longer and shorter than the transfer, and
 * aimed past the end of guest RAM), and the snapshot overlay.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/counters.h"
#include "common/log.h"
#include "devices/blockdev.h"
#include "devices/ide.h"
#include "devices/pci.h"
#include "mmu/mmu.h"

#define RAM (1u << 20)
#define SECTORS 2048u
#define BM 0xc000u /* where the test places BAR4 */

static struct counters cnt;
static struct logger lg;
static struct mmu *m;
static struct pci_bus bus;
static struct ide *ide;
static char path[64];
static u16 irqs;

static void fake_irq(void *opaque, unsigned irq, bool level)
{
    if (level)
        irqs |= (u16)(1u << irq);
    else
        irqs &= (u16)~(1u << irq);
}

static u8 pattern(u64 lba, unsigned i)
{
    return (u8)(lba * 7 + i);
}

static void make_image(void)
{
    strcpy(path, "/tmp/umbra-ide-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    u8 sec[512];
    for (u32 k = 0; k < SECTORS; k++) {
        for (unsigned i = 0; i < 512; i++)
            sec[i] = pattern(k, i);
        ck_assert_int_eq(write(fd, sec, 512), 512);
    }
    close(fd);
}

static void attach(bool snapshot)
{
    char err[128];
    struct blockdev_opts o = { false, snapshot };
    struct blockdev *bd = blockdev_open(path, &o, err, sizeof err);
    ck_assert_ptr_nonnull(bd);
    ck_assert_int_eq(ide_attach(ide, 0, bd, false), 0);
}

static void setup(void)
{
    cnt = (struct counters){ 0 };
    log_init(&lg);
    irqs = 0;
    m = mmu_new(RAM, &cnt, &lg);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(pci_bus_init(&bus, m), 0);
    ide = ide_new(m, &bus, &(struct irq_sink){ fake_irq, NULL }, &lg);
    ck_assert_ptr_nonnull(ide);
    make_image();
    attach(false);
    /* Place BAR4 and enable I/O decoding and bus mastering. */
    pci_config_write(&bus, PCI_DEVFN(1, 1), PCI_BAR0 + 16, BM, 4);
    pci_config_write(&bus, PCI_DEVFN(1, 1), PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
}

static void teardown(void)
{
    ide_free(ide);
    mmu_free(m);
    unlink(path);
}

static u8 inb(u16 port) { return (u8)mmu_io_read(m, port, 1); }
static u16 inw(u16 port) { return (u16)mmu_io_read(m, port, 2); }
static void outb(u16 port, u8 v) { mmu_io_write(m, port, v, 1); }
static void outw(u16 port, u16 v) { mmu_io_write(m, port, v, 2); }
static void outl(u16 port, u32 v) { mmu_io_write(m, port, v, 4); }

/* LBA28 task file for drive 0 of the primary channel. */
static void lba28(u32 lba, u8 count)
{
    outb(0x1f2, count);
    outb(0x1f3, (u8)lba);
    outb(0x1f4, (u8)(lba >> 8));
    outb(0x1f5, (u8)(lba >> 16));
    outb(0x1f6, (u8)(0xe0 | ((lba >> 24) & 0xf)));
}

static void lba48(u64 lba, u16 count)
{
    outb(0x1f2, (u8)(count >> 8));
    outb(0x1f3, (u8)(lba >> 24));
    outb(0x1f4, (u8)(lba >> 32));
    outb(0x1f5, (u8)(lba >> 40));
    outb(0x1f2, (u8)count);
    outb(0x1f3, (u8)lba);
    outb(0x1f4, (u8)(lba >> 8));
    outb(0x1f5, (u8)(lba >> 16));
    outb(0x1f6, 0x40);
}

/* Read one sector's worth of words and check it against the image. */
static void expect_sector(u64 lba)
{
    for (unsigned i = 0; i < 512; i += 2) {
        u16 w = inw(0x1f0);
        ck_assert_uint_eq(w, pattern(lba, i) | pattern(lba, i + 1) << 8);
    }
}

START_TEST(identify)
{
    outb(0x1f6, 0xa0);
    outb(0x1f7, 0xec);
    ck_assert_uint_eq(irqs, 1u << 14);
    ck_assert_uint_eq(inb(0x3f6), 0x58); /* DRDY DSC DRQ; alt status keeps INTRQ */
    ck_assert_uint_eq(irqs, 1u << 14);
    ck_assert_uint_eq(inb(0x1f7), 0x58);
    ck_assert_uint_eq(irqs, 0);
    u16 w[256];
    for (unsigned i = 0; i < 256; i++)
        w[i] = inw(0x1f0);
    ck_assert_uint_eq(inb(0x1f7) & 0x08, 0); /* no more data */
    ck_assert_uint_eq(w[0], 0x0040);
    ck_assert_uint_eq(w[60] | (u32)w[61] << 16, SECTORS);
    ck_assert_uint_eq(w[100] | (u32)w[101] << 16, SECTORS);
    ck_assert_uint_eq(w[83] & 0x0400, 0x0400); /* LBA48 */
    ck_assert_uint_eq(w[49] & 0x0200, 0x0200); /* LBA */
    ck_assert_uint_eq(w[27], 'U' << 8 | 'M'); /* "UMBRA HARDDISK", byte-swapped */
    ck_assert_uint_eq(w[3], 16);
    ck_assert_uint_eq(w[6], 63);
    /* The absent slave: status 0; no channel-wide answer. */
    outb(0x1f6, 0xb0);
    ck_assert_uint_eq(inb(0x1f7), 0);
    outb(0x1f7, 0xec);
    ck_assert_uint_eq(irqs, 0);
    /* An empty channel reads 0. */
    ck_assert_uint_eq(inb(0x177), 0);
}
END_TEST

START_TEST(pio_read)
{
    lba28(5, 3);
    outb(0x1f7, 0x20);
    for (unsigned k = 0; k < 3; k++) {
        ck_assert_uint_eq(irqs, 1u << 14); /* one interrupt per block */
        ck_assert_uint_eq(inb(0x1f7), 0x58);
        expect_sector(5 + k);
    }
    ck_assert_uint_eq(inb(0x1f7), 0x50);
    ck_assert_uint_eq(irqs, 0);
    /* The task file names the last sector read. */
    ck_assert_uint_eq(inb(0x1f3), 7);
    /* LBA48 beyond 28 bits is out of range; LBA48 low works. */
    lba48(SECTORS - 1, 1);
    outb(0x1f7, 0x24);
    inb(0x1f7);
    expect_sector(SECTORS - 1);
    lba48(1ull << 32, 1);
    outb(0x1f7, 0x24);
    ck_assert_uint_eq(inb(0x1f7), 0x41); /* DRDY ERR */
    ck_assert_uint_eq(inb(0x1f1), 0x14); /* IDNF ABRT */
    /* The range is checked before any data moves. */
    lba28(SECTORS - 1, 2);
    outb(0x1f7, 0x20);
    ck_assert_uint_eq(inb(0x1f7), 0x41);
    /* CHS: cylinder 1, head 2, sector 3 = (1 * 16 + 2) * 63 + 2. */
    outb(0x1f2, 1);
    outb(0x1f3, 3);
    outb(0x1f4, 1);
    outb(0x1f5, 0);
    outb(0x1f6, 0xa2);
    outb(0x1f7, 0x20);
    inb(0x1f7);
    expect_sector((1 * 16 + 2) * 63 + 2);
    /* Sector 0 does not exist in CHS. */
    outb(0x1f3, 0);
    outb(0x1f7, 0x20);
    ck_assert_uint_eq(inb(0x1f7), 0x41);
}
END_TEST

START_TEST(pio_write_multiple)
{
    /* READ MULTIPLE needs SET MULTIPLE first; 3 is not a power of two. */
    lba28(0, 1);
    outb(0x1f7, 0xc4);
    ck_assert_uint_eq(inb(0x1f7), 0x41);
    outb(0x1f2, 3);
    outb(0x1f7, 0xc6);
    ck_assert_uint_eq(inb(0x1f7), 0x41);
    outb(0x1f2, 4);
    outb(0x1f7, 0xc6);
    ck_assert_uint_eq(inb(0x1f7), 0x50);
    /* WRITE MULTIPLE EXT of 6 sectors at 100: blocks of 4 and 2; no
     * interrupt before the first block, one after each later block and
     * one at the end. */
    lba48(100, 6);
    outb(0x1f7, 0x39);
    ck_assert_uint_eq(irqs, 0);
    for (unsigned k = 0; k < 6; k++) {
        if (k == 4) {
            ck_assert_uint_eq(irqs, 1u << 14);
            inb(0x1f7);
        }
        ck_assert_uint_eq(inb(0x3f6) & 0x08, 0x08);
        for (unsigned i = 0; i < 256; i++)
            outw(0x1f0, (u16)(0xa000 + k * 256 + i));
    }
    ck_assert_uint_eq(irqs, 1u << 14);
    ck_assert_uint_eq(inb(0x1f7), 0x50);
    outb(0x1f7, 0xe7); /* FLUSH CACHE */
    ck_assert_uint_eq(inb(0x1f7), 0x50);
    /* The file has it. */
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    u8 sec[512];
    fseek(f, 104 * 512, SEEK_SET);
    ck_assert_uint_eq(fread(sec, 1, 512, f), 512);
    fclose(f);
    ck_assert_uint_eq(sec[0] | sec[1] << 8, 0xa000 + 4 * 256);
    /* READ MULTIPLE gets it back, 4 then 2 sectors. */
    lba28(103, 2);
    outb(0x1f7, 0xc4);
    inb(0x1f7);
    ck_assert_uint_eq(inw(0x1f0), 0xa000 + 3 * 256);
    /* nIEN masks INTRQ. */
    outb(0x3f6, 0x02);
    lba28(0, 1);
    outb(0x1f7, 0x20);
    ck_assert_uint_eq(irqs, 0);
    outb(0x3f6, 0x00);
    ck_assert_uint_eq(irqs, 1u << 14);
}
END_TEST

/* A PRD entry at `at`: address, byte count (0 = 64 KiB), last flag. */
static void prd(u32 at, u32 addr, u32 len, bool last)
{
    mmu_phys_write(m, at, addr, 4);
    mmu_phys_write(m, at + 4, (len & 0xffff) | (last ? 0x80000000u : 0), 4);
}

/* Selecting the other device in the middle of a transfer (here an absent
 * slave) reaches a device with nothing to move: its data port reads all
 * ones and ignores writes, DMA still comes from the device that took the
 * command, and the transfer goes on once the master is selected again. */
START_TEST(select_during_transfer)
{
    lba28(9, 2);
    outb(0x1f7, 0x20);
    expect_sector(9);
    outb(0x1f6, 0xf0);                       /* the slave: no drive */
    for (unsigned i = 0; i < 600; i++)
        ck_assert_uint_eq(inw(0x1f0), 0xffff);
    outw(0x1f0, 0x1234);
    outb(0x1f6, 0xe0);
    ck_assert_uint_eq(inb(0x1f7), 0x58);
    expect_sector(10);
    ck_assert_uint_eq(inb(0x1f7), 0x50);

    /* A PIO write interrupted the same way keeps its data. */
    lba28(12, 1);
    outb(0x1f7, 0x30);
    for (unsigned i = 0; i < 100; i++)
        outw(0x1f0, 0xaa55);
    outb(0x1f6, 0xf0);
    for (unsigned i = 0; i < 512; i++)
        outw(0x1f0, 0);
    outb(0x1f6, 0xe0);
    for (unsigned i = 100; i < 256; i++)
        outw(0x1f0, 0xaa55);
    ck_assert_uint_eq(inb(0x1f7), 0x50);
    lba28(12, 1);
    outb(0x1f7, 0x20);
    for (unsigned i = 0; i < 256; i++)
        ck_assert_uint_eq(inw(0x1f0), 0xaa55);

    /* READ DMA issued to the master, the engine started with the slave
     * selected: the master's sector arrives. */
    prd(0x1000, 0x3000, 512, true);
    outl(BM + 4, 0x1000);
    lba28(20, 1);
    outb(0x1f7, 0xc8);
    outb(0x1f6, 0xf0);
    outb(BM, 0x09);
    ck_assert_uint_eq(inb(BM + 2) & 7, 4);
    for (unsigned i = 0; i < 512; i++)
        ck_assert_uint_eq(mmu_phys_read(m, 0x3000 + i, 1), pattern(20, i));
    outb(BM, 0);
}
END_TEST

START_TEST(dma)
{
    /* READ DMA of 2 sectors into 0x3000 (700 bytes) and 0x5000 (324). */
    prd(0x1000, 0x3000, 700, false);
    prd(0x1008, 0x5000, 324, true);
    outl(BM + 4, 0x1000);
    lba28(20, 2);
    outb(0x1f7, 0xc8);
    ck_assert_uint_eq(irqs, 0); /* waits for the engine */
    outb(BM, 0x09);             /* start, to memory */
    ck_assert_uint_eq(irqs, 1u << 14);
    ck_assert_uint_eq(inb(BM + 2) & 7, 4); /* interrupt, not active: exact table */
    for (unsigned i = 0; i < 700; i++)
        ck_assert_uint_eq(mmu_phys_read(m, 0x3000 + i, 1), pattern(20 + i / 512, i % 512));
    for (unsigned i = 700; i < 1024; i++)
        ck_assert_uint_eq(mmu_phys_read(m, 0x5000 + i - 700, 1), pattern(20 + i / 512, i % 512));
    ck_assert_uint_eq(mmu_phys_read(m, 0x3000 + 700, 1), 0); /* nothing past the entry */
    ck_assert_uint_eq(inb(0x1f7), 0x50);
    outb(BM + 2, 4); /* write 1 to clear */
    ck_assert_uint_eq(inb(BM + 2) & 4, 0);
    outb(BM, 0);

    /* A table longer than the transfer: interrupt with the engine active. */
    prd(0x1000, 0x3000, 0, true); /* 64 KiB */
    lba28(30, 1);
    outb(0x1f7, 0xc8);
    outb(BM, 0x09);
    ck_assert_uint_eq(inb(BM + 2) & 7, 5);
    outb(BM, 0);
    outb(BM + 2, 4);
    inb(0x1f7);

    /* A table shorter than the transfer: the engine stops, no interrupt,
     * the device still waits with DRQ. */
    prd(0x1000, 0x3000, 512, true);
    lba28(40, 2);
    outb(0x1f7, 0xc8);
    outb(BM, 0x09);
    ck_assert_uint_eq(inb(BM + 2) & 7, 0);
    ck_assert_uint_eq(irqs, 0);
    ck_assert_uint_eq(inb(0x1f7) & 0x08, 0x08);
    outb(BM, 0);
    outb(0x3f6, 0x04); /* software reset */
    outb(0x3f6, 0x00);
    ck_assert_uint_eq(inb(0x1f7), 0x50);

    /* WRITE DMA from memory aimed partly past RAM: the bytes there read
     * as all ones on the bus; nothing outside guest memory is touched. */
    for (unsigned i = 0; i < 512; i++)
        mmu_phys_write(m, RAM - 256 + i, 0x5a, 1);
    prd(0x1000, RAM - 256, 512, true);
    lba28(50, 1);
    outb(0x1f7, 0xca);
    outb(BM, 0x01);
    ck_assert_uint_eq(inb(BM + 2) & 7, 4);
    outb(BM, 0);
    lba28(50, 1);
    outb(0x1f7, 0x20);
    inb(0x1f7);
    ck_assert_uint_eq(inw(0x1f0), 0x5a5a);
    for (unsigned i = 2; i < 256; i += 2)
        inw(0x1f0);
    ck_assert_uint_eq(inw(0x1f0), 0xffff); /* byte 256: past RAM */

    /* READ DMA into memory past RAM: dropped writes, no fault. */
    prd(0x1000, 0xfff00000u, 512, true);
    lba28(60, 1);
    outb(0x1f7, 0xc8);
    outb(BM, 0x09);
    ck_assert_uint_eq(inb(BM + 2) & 7, 4);
    outb(BM, 0);

    /* Without bus mastering enabled the engine moves nothing. */
    pci_config_write(&bus, PCI_DEVFN(1, 1), PCI_COMMAND, PCI_COMMAND_IO, 2);
    prd(0x1000, 0x7000, 512, true);
    lba28(70, 1);
    outb(0x1f7, 0xc8);
    outb(BM, 0x09);
    ck_assert_uint_eq(mmu_phys_read(m, 0x7000, 1), 0);
    ck_assert_uint_eq(inb(BM + 2) & 1, 0);
}
END_TEST

START_TEST(snapshot)
{
    /* A second drive on the same file as a snapshot: its writes read
     * back through the overlay and never reach the file. */
    char err[128];
    struct blockdev_opts o = { false, true };
    struct blockdev *bd = blockdev_open(path, &o, err, sizeof err);
    ck_assert_ptr_null(bd); /* the read-write drive holds the lock */
    ck_assert_ptr_nonnull(strstr(err, "locked"));
    ide_free(ide);
    ck_assert_int_eq(pci_bus_init(&bus, m), 0);
    ide = ide_new(m, &bus, &(struct irq_sink){ fake_irq, NULL }, &lg);
    ck_assert_ptr_nonnull(ide);
    attach(true);
    lba28(9, 1);
    outb(0x1f7, 0x30);
    for (unsigned i = 0; i < 256; i++)
        outw(0x1f0, 0x1234);
    ck_assert_uint_eq(inb(0x1f7), 0x50);
    lba28(9, 1);
    outb(0x1f7, 0x20);
    inb(0x1f7);
    ck_assert_uint_eq(inw(0x1f0), 0x1234);
    FILE *f = fopen(path, "rb");
    u8 sec[2];
    fseek(f, 9 * 512, SEEK_SET);
    ck_assert_uint_eq(fread(sec, 1, 2, f), 2);
    fclose(f);
    ck_assert_uint_eq(sec[0], pattern(9, 0));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ide");
    TCase *tc = tcase_create("ata");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, identify);
    tcase_add_test(tc, pio_read);
    tcase_add_test(tc, pio_write_multiple);
    tcase_add_test(tc, select_during_transfer);
    tcase_add_test(tc, dma);
    tcase_add_test(tc, snapshot);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
