/*
 * The ATAPI CD-ROM drive through the IDE ports, on a temporary image of
 * 40 2048-byte sectors whose sector k holds bytes (k * 3 + i) & 0xff:
 * the packet signature, IDENTIFY PACKET DEVICE, the PACKET protocol's
 * interrupt reasons and byte counts, READ(10)/READ(12) split by the byte
 * count limit, READ CAPACITY, INQUIRY, READ TOC in LBA and MSF form,
 * errors and REQUEST SENSE.
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

#define SECTORS 40u

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

static u8 pattern(u32 lba, unsigned i)
{
    return (u8)(lba * 3 + i);
}

static void setup(void)
{
    cnt = (struct counters){ 0 };
    log_init(&lg);
    irqs = 0;
    m = mmu_new(1u << 20, &cnt, &lg);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(pci_bus_init(&bus, m), 0);
    ide = ide_new(m, &bus, &(struct irq_sink){ fake_irq, NULL }, &lg);
    ck_assert_ptr_nonnull(ide);
    strcpy(path, "/tmp/umbra-cd-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    u8 sec[2048];
    for (u32 k = 0; k < SECTORS; k++) {
        for (unsigned i = 0; i < sizeof sec; i++)
            sec[i] = pattern(k, i);
        ck_assert_int_eq(write(fd, sec, sizeof sec), (int)sizeof sec);
    }
    close(fd);
    char err[128];
    struct blockdev_opts o = { true, false };
    struct blockdev *bd = blockdev_open(path, &o, err, sizeof err);
    ck_assert_ptr_nonnull(bd);
    ck_assert_int_eq(ide_attach(ide, 2, bd, true), 0); /* secondary master */
    mmu_io_write(m, 0x176, 0xa0, 1);
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

/* Send a 12-byte packet with byte count limit `limit`. */
static void packet(const u8 *cdb, u16 limit)
{
    outb(0x171, 0);
    outb(0x174, (u8)limit);
    outb(0x175, (u8)(limit >> 8));
    outb(0x177, 0xa0);
    ck_assert_uint_eq(inb(0x376) & 0x08, 0x08); /* DRQ for the packet */
    ck_assert_uint_eq(inb(0x172) & 3, 1);        /* CoD */
    ck_assert_uint_eq(irqs, 0);
    for (unsigned i = 0; i < 12; i += 2)
        outw(0x170, (u16)(cdb[i] | cdb[i + 1] << 8));
}

/* Read one DRQ chunk into buf; returns its byte count. */
static unsigned chunk(u8 *buf)
{
    ck_assert_uint_eq(irqs, 1u << 15);
    ck_assert_uint_eq(inb(0x177), 0x58);
    ck_assert_uint_eq(irqs, 0);
    ck_assert_uint_eq(inb(0x172) & 3, 2); /* IO, data */
    unsigned n = inb(0x174) | inb(0x175) << 8;
    for (unsigned i = 0; i < n; i += 2) {
        u16 w = inw(0x170);
        buf[i] = (u8)w;
        buf[i + 1] = (u8)(w >> 8);
    }
    return n;
}

/* The completion: status and interrupt reason. */
static u8 done(void)
{
    ck_assert_uint_eq(irqs, 1u << 15);
    u8 st = inb(0x177);
    ck_assert_uint_eq(inb(0x172) & 3, 3);
    return st;
}

START_TEST(signature_and_identify)
{
    outb(0x177, 0xec); /* IDENTIFY DEVICE: aborted, with the signature */
    ck_assert_uint_eq(inb(0x177) & 1, 1);
    ck_assert_uint_eq(inb(0x174), 0x14);
    ck_assert_uint_eq(inb(0x175), 0xeb);
    outb(0x177, 0xa1);
    ck_assert_uint_eq(inb(0x177), 0x58);
    u16 w[256];
    for (unsigned i = 0; i < 256; i++)
        w[i] = inw(0x170);
    ck_assert_uint_eq(w[0] >> 14, 2);          /* ATAPI */
    ck_assert_uint_eq((w[0] >> 8) & 0x1f, 5);  /* CD-ROM */
    ck_assert_uint_eq(w[0] & 3, 0);            /* 12-byte packets */
}
END_TEST

START_TEST(read_in_chunks)
{
    /* READ(10) of 2 sectors from LBA 7 with a 1000-byte limit: chunks of
     * 1000, 1000, 48 per sector. */
    static u8 buf[4096];
    const u8 cdb[12] = { 0x28, 0, 0, 0, 0, 7, 0, 0, 2, 0, 0, 0 };
    packet(cdb, 1000);
    unsigned got = 0;
    for (unsigned k = 0; k < 6; k++) {
        unsigned n = chunk(buf + got);
        ck_assert_uint_eq(n, k % 3 == 2 ? 48 : 1000);
        got += n;
    }
    ck_assert_uint_eq(done(), 0x50);
    for (unsigned i = 0; i < 4096; i++)
        ck_assert_uint_eq(buf[i], pattern(7 + i / 2048, i % 2048));
    /* READ(12) of the last sector, whole-sector chunk. */
    const u8 cdb12[12] = { 0xa8, 0, 0, 0, 0, SECTORS - 1, 0, 0, 0, 1, 0, 0 };
    packet(cdb12, 0xfffe);
    ck_assert_uint_eq(chunk(buf), 2048);
    ck_assert_uint_eq(buf[5], pattern(SECTORS - 1, 5));
    ck_assert_uint_eq(done(), 0x50);
}
END_TEST

START_TEST(errors_and_sense)
{
    u8 buf[64];
    /* Past the end: CHECK CONDITION, ILLEGAL REQUEST / LBA out of range. */
    const u8 cdb[12] = { 0x28, 0, 0, 0, 0, SECTORS - 1, 0, 0, 2, 0, 0, 0 };
    packet(cdb, 2048);
    ck_assert_uint_eq(done(), 0x41);
    ck_assert_uint_eq(inb(0x171), 0x54); /* sense key 5, ABRT */
    const u8 sense[12] = { 0x03, 0, 0, 0, 18, 0 };
    packet(sense, 2048);
    ck_assert_uint_eq(chunk(buf), 18);
    ck_assert_uint_eq(buf[0], 0x70);
    ck_assert_uint_eq(buf[2], 5);
    ck_assert_uint_eq(buf[12], 0x21);
    ck_assert_uint_eq(done(), 0x50);
    /* The sense is reported once. */
    packet(sense, 2048);
    ck_assert_uint_eq(chunk(buf), 18);
    ck_assert_uint_eq(buf[2], 0);
    done();
    /* An unknown opcode. */
    const u8 bad[12] = { 0xff };
    packet(bad, 2048);
    ck_assert_uint_eq(done(), 0x41);
    packet(sense, 2048);
    chunk(buf);
    ck_assert_uint_eq(buf[12], 0x20);
    done();
    /* TEST UNIT READY: no data. */
    const u8 tur[12] = { 0 };
    packet(tur, 2048);
    ck_assert_uint_eq(done(), 0x50);
}
END_TEST

START_TEST(capacity_inquiry_toc)
{
    u8 buf[64];
    const u8 cap[12] = { 0x25 };
    packet(cap, 2048);
    ck_assert_uint_eq(chunk(buf), 8);
    ck_assert_uint_eq(buf[3], SECTORS - 1);
    ck_assert_uint_eq(buf[6] << 8 | buf[7], 2048);
    done();
    const u8 inq[12] = { 0x12, 0, 0, 0, 36 };
    packet(inq, 2048);
    ck_assert_uint_eq(chunk(buf), 36);
    ck_assert_uint_eq(buf[0], 5);
    ck_assert_uint_eq(buf[1], 0x80);
    ck_assert(!memcmp(&buf[8], "UMBRA", 5));
    done();
    /* The allocation length cuts the reply. */
    const u8 inq5[12] = { 0x12, 0, 0, 0, 5 };
    packet(inq5, 2048);
    ck_assert_uint_eq(chunk(buf), 5); /* read as three words, the last half used */
    done();
    /* TOC in LBA form: track 1 at 0, lead-out at the capacity. */
    const u8 toc[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 64 };
    packet(toc, 2048);
    ck_assert_uint_eq(chunk(buf), 20);
    ck_assert_uint_eq(buf[0] << 8 | buf[1], 18);
    ck_assert_uint_eq(buf[6], 1);
    ck_assert_uint_eq(buf[14], 0xaa);
    ck_assert_uint_eq(buf[19], SECTORS);
    done();
    /* MSF: LBA 0 is 00:02:00; the lead-out at 40 + 150 frames = 00:02:40. */
    const u8 msf[12] = { 0x43, 2, 0, 0, 0, 0, 0, 0, 64 };
    packet(msf, 2048);
    chunk(buf);
    ck_assert_uint_eq(buf[8 + 1], 0);
    ck_assert_uint_eq(buf[8 + 2], 2);
    ck_assert_uint_eq(buf[8 + 3], 0);
    ck_assert_uint_eq(buf[16 + 2], 2);
    ck_assert_uint_eq(buf[16 + 3], 40);
    done();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("atapi");
    TCase *tc = tcase_create("cdrom");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, signature_and_identify);
    tcase_add_test(tc, read_in_chunks);
    tcase_add_test(tc, errors_and_sense);
    tcase_add_test(tc, capacity_inquiry_toc);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
