/*
 * ATAPI CD-ROM drive: the PACKET protocol of ATA/ATAPI-6 (T13 1410D,
 * 9.10 "PACKET" and the PIO data-in protocol of its clause 9) carrying
 * the MMC commands a BIOS and an operating system use to boot from and
 * read a data CD (SCSI Multimedia Commands, MMC-3/-5; SPC-3 for INQUIRY
 * and REQUEST SENSE).  The medium is a raw ISO image of 2048-byte
 * sectors, always present and read-only.
 *
 * Protocol (PIO only): after PACKET the device asks for the 12-byte
 * command with DRQ and interrupt reason CoD=1 IO=0 (sector count
 * register = 1).  A reply is handed out in chunks of at most the byte
 * count limit the host wrote to LBA mid/high (those registers then say
 * how many bytes the chunk holds), each with DRQ, reason IO=1 CoD=0 (2)
 * and an interrupt; after the last, or for a command without data, the
 * device reports completion: reason IO=1 CoD=1 (3), DRDY, an interrupt,
 * and ERR with the sense key in the error register's high nibble (and
 * ABRT) if the command failed, its sense kept for REQUEST SENSE.
 * The DMA bit of the features register is not supported: such a command
 * fails with ILLEGAL REQUEST.
 */
#include <stdio.h>
#include <string.h>

#include "devices/blockdev.h"
#include "ide_priv.h"

enum { SK_NONE = 0, SK_NOT_READY = 2, SK_MEDIUM_ERROR = 3, SK_ILLEGAL_REQUEST = 5 };
enum {
    ASC_NONE = 0x00,
    ASC_READ_ERROR = 0x11,
    ASC_INVALID_OPCODE = 0x20,
    ASC_LBA_OUT_OF_RANGE = 0x21,
    ASC_INVALID_FIELD = 0x24,
    ASC_SAVING_NOT_SUPPORTED = 0x39,
};
enum { REASON_COD = 1, REASON_IO = 2 };

static u32 be16(const u8 *p) { return (u32)p[0] << 8 | p[1]; }
static u32 be32(const u8 *p) { return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3]; }
static void put16(u8 *p, u32 v) { p[0] = (u8)(v >> 8); p[1] = (u8)v; }
static void put32(u8 *p, u32 v) { put16(p, v >> 16); put16(p + 2, v); }

static u32 capacity(const struct drive *d)
{
    return (u32)(blockdev_size(d->bd) / CD_SECTOR);
}

void atapi_identify(struct channel *c, struct drive *d, unsigned index)
{
    u16 w[256];
    memset(w, 0, sizeof w);
    char serial[21];
    snprintf(serial, sizeof serial, "UMBRA-CD%u", index);
    /* 15:14 = 10 ATAPI, 12:8 = 05 CD-ROM, 7 removable, 6:5 = 10 DRQ
     * within 50 us of PACKET, 1:0 = 00 12-byte packets. */
    w[0] = 0x85c0;
    ide_put_str(&w[10], 10, serial);
    ide_put_str(&w[23], 4, "1.0");
    ide_put_str(&w[27], 20, "UMBRA DVD-ROM");
    w[49] = 0x0200;                 /* LBA; no DMA */
    w[53] = 0x0006;                 /* words 64-70 and 88 valid */
    w[64] = 0x0003;                 /* PIO modes 3 and 4 */
    w[65] = w[66] = w[67] = w[68] = 120;
    w[71] = 30;                     /* PACKET to bus release, ns */
    w[72] = 30;
    w[80] = 0x001e;                 /* ATA/ATAPI-1 to -4 */
    w[82] = 0x4010;                 /* PACKET feature set */
    w[85] = 0x4010;
    for (unsigned i = 0; i < 256; i++) {
        c->buf[2 * i] = (u8)w[i];
        c->buf[2 * i + 1] = (u8)(w[i] >> 8);
    }
}

void atapi_packet(struct channel *c, struct drive *d)
{
    u16 limit = (u16)(c->lcyl | c->hcyl << 8);
    /* 0 is not a valid limit; an odd one is rounded down (MMC/ATAPI:
     * the device transfers an even count). */
    c->limit = (u16)((limit ? limit : 0xfffe) & ~1u);
    if (!c->limit)
        c->limit = 2;
    c->xfer = X_PACKET;
    c->pos = 0;
    c->len = 12;
    c->nsector = REASON_COD;
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
    d->error = 0;
}

/* Command done: good status, or CHECK CONDITION with (sense, asc). */
static void complete(struct channel *c, struct drive *d, u8 sense, u8 asc)
{
    c->xfer = X_NONE;
    c->nsector = REASON_IO | REASON_COD;
    d->sense = sense;
    d->asc = asc;
    if (sense == SK_NONE) {
        d->status = ST_DRDY | ST_DSC;
        d->error = 0;
    } else {
        d->status = ST_DRDY | ST_ERR;
        d->error = (u8)(sense << 4 | ER_ABRT);
    }
    ide_raise_irq(c);
}

/* Offer the next chunk of c->buf from c->pos. */
static void next_chunk(struct channel *c, struct drive *d)
{
    u32 n = c->reply_len - c->pos;
    if (n > c->limit)
        n = c->limit;
    c->len = c->pos + n;
    c->lcyl = (u8)n;
    c->hcyl = (u8)(n >> 8);
    c->nsector = REASON_IO;
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
    ide_raise_irq(c);
}

/* Reply with the first `len` bytes of c->buf, at most `alloc` (the
 * command's allocation length). */
static void reply(struct channel *c, struct drive *d, u32 len, u32 alloc)
{
    if (len > alloc)
        len = alloc;
    if (len == 0) {
        complete(c, d, SK_NONE, ASC_NONE);
        return;
    }
    c->xfer = X_ATAPI_IN;
    c->reply_len = len;
    c->cd_left = 0;
    c->pos = 0;
    next_chunk(c, d);
}

/* Load the next sector of a READ into c->buf and offer it. */
static void read_next(struct channel *c, struct drive *d)
{
    if (blockdev_read(d->bd, c->cd_lba * (CD_SECTOR / BLK_SECTOR), CD_SECTOR / BLK_SECTOR,
                      c->buf) < 0) {
        complete(c, d, SK_MEDIUM_ERROR, ASC_READ_ERROR);
        return;
    }
    c->cd_lba++;
    c->cd_left--;
    c->reply_len = CD_SECTOR;
    c->pos = 0;
    next_chunk(c, d);
}

void atapi_chunk_done(struct channel *c, struct drive *d)
{
    if (c->pos < c->reply_len)
        next_chunk(c, d);
    else if (c->cd_left)
        read_next(c, d);
    else
        complete(c, d, SK_NONE, ASC_NONE);
}

static void start_read(struct channel *c, struct drive *d, u32 lba, u32 count)
{
    if ((u64)lba + count > capacity(d)) {
        complete(c, d, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
        return;
    }
    if (count == 0) {
        complete(c, d, SK_NONE, ASC_NONE);
        return;
    }
    c->xfer = X_ATAPI_IN;
    c->cd_lba = lba;
    c->cd_left = count;
    read_next(c, d);
}

/* An MSF address (minutes, seconds, frames of 1/75 s) from an LBA; LBA 0
 * is 00:02:00 (MMC-3, 4.2.3.1). */
static void put_msf(u8 *p, u32 lba)
{
    lba += 150;
    p[0] = 0;
    p[1] = (u8)(lba / (60 * 75));
    p[2] = (u8)(lba / 75 % 60);
    p[3] = (u8)(lba % 75);
}

static void put_addr(u8 *p, u32 lba, bool msf)
{
    if (msf)
        put_msf(p, lba);
    else
        put32(p, lba);
}

/* READ TOC/PMA/ATIP formats 0 (TOC) and 1 (session information) of a
 * one-track data disc. */
static void read_toc(struct channel *c, struct drive *d, const u8 *cdb)
{
    bool msf = cdb[1] & 2;
    unsigned format = cdb[2] & 0xf;
    if (!format)
        format = cdb[9] >> 6; /* the older place for it */
    u32 alloc = be16(&cdb[7]);
    u8 *b = c->buf;
    memset(b, 0, 32);
    if (format == 0) {
        unsigned track = cdb[6];
        if (track > 1 && track != 0xaa) {
            complete(c, d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
            return;
        }
        unsigned n = 4;
        b[2] = b[3] = 1; /* first and last track */
        if (track <= 1) {
            b[n + 1] = 0x14; /* ADR 1, data track */
            b[n + 2] = 1;
            put_addr(&b[n + 4], 0, msf);
            n += 8;
        }
        b[n + 1] = 0x14;
        b[n + 2] = 0xaa; /* lead-out */
        put_addr(&b[n + 4], capacity(d), msf);
        n += 8;
        put16(b, n - 2);
        reply(c, d, n, alloc);
    } else if (format == 1) {
        put16(b, 10);
        b[2] = b[3] = 1;
        b[5] = 0x14;
        b[6] = 1;
        put_addr(&b[8], 0, msf);
        reply(c, d, 12, alloc);
    } else {
        complete(c, d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
    }
}

/* MODE SENSE(10): the capabilities page (2Ah) and the error recovery
 * page (01h), current values. */
static void mode_sense(struct channel *c, struct drive *d, const u8 *cdb)
{
    unsigned page = cdb[2] & 0x3f, pc = cdb[2] >> 6;
    u32 alloc = be16(&cdb[7]);
    u8 *b = c->buf;
    if (pc == 3) {
        complete(c, d, SK_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED);
        return;
    }
    memset(b, 0, 64);
    b[2] = 0x70; /* medium type: door closed, no disc type given */
    unsigned n = 8;
    if (page == 0x01 || page == 0x3f) {
        b[n] = 0x01;
        b[n + 1] = 6;
        n += 8;
    }
    if (page == 0x2a || page == 0x3f) {
        u8 *p = &b[n];
        p[0] = 0x2a;
        p[1] = 0x12;
        p[2] = 0x01;         /* reads CD-R */
        p[4] = 0x71;         /* audio play, composite, digital ports, multi-session */
        p[5] = 0x00;
        p[6] = 0x29;         /* tray loading, eject, lock */
        put16(&p[8], 706);   /* max read speed, kB/s (4x) */
        put16(&p[10], 2);    /* volume levels */
        put16(&p[12], 512);  /* buffer, KiB */
        put16(&p[14], 706);
        n += 20;
    }
    if (n == 8) {
        complete(c, d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return;
    }
    put16(b, n - 2);
    reply(c, d, n, alloc);
}

void atapi_exec(struct channel *c, struct drive *d)
{
    u8 cdb[12];
    memcpy(cdb, c->buf, sizeof cdb);
    u8 *b = c->buf;
    if (c->feature & 1) { /* DMA data transfer: not offered */
        complete(c, d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return;
    }
    switch (cdb[0]) {
    case 0x00: /* TEST UNIT READY: the medium is always there */
    case 0x1b: /* START STOP UNIT */
    case 0x1e: /* PREVENT ALLOW MEDIUM REMOVAL */
    case 0x2b: /* SEEK(10) */
        complete(c, d, SK_NONE, ASC_NONE);
        break;
    case 0x03: { /* REQUEST SENSE: fixed format, the last command's */
        memset(b, 0, 18);
        b[0] = 0x70;
        b[2] = d->sense;
        b[7] = 10;
        b[12] = d->asc;
        reply(c, d, 18, cdb[4]);
        break;
    }
    case 0x12: /* INQUIRY: standard data */
        if (cdb[1] & 1) { /* vital product data pages: none */
            complete(c, d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
            break;
        }
        memset(b, 0, 36);
        b[0] = 0x05;  /* CD/DVD device */
        b[1] = 0x80;  /* removable */
        b[2] = 0x00;
        b[3] = 0x21;  /* ATAPI, response data format 1 */
        b[4] = 31;
        memcpy(&b[8], "UMBRA   ", 8);
        memcpy(&b[16], "DVD-ROM         ", 16);
        memcpy(&b[32], "1.0 ", 4);
        reply(c, d, 36, cdb[4]);
        break;
    case 0x25: /* READ CAPACITY: last LBA and block length */
        put32(b, capacity(d) ? capacity(d) - 1 : 0);
        put32(b + 4, CD_SECTOR);
        reply(c, d, 8, 8);
        break;
    case 0x28: /* READ(10) */
        start_read(c, d, be32(&cdb[2]), be16(&cdb[7]));
        break;
    case 0xa8: /* READ(12) */
        start_read(c, d, be32(&cdb[2]), be32(&cdb[6]));
        break;
    case 0x43:
        read_toc(c, d, cdb);
        break;
    case 0x5a:
        mode_sense(c, d, cdb);
        break;
    case 0x46: /* GET CONFIGURATION: the CD-ROM profile, current */
        memset(b, 0, 16);
        put32(b, 12);          /* data length after this field */
        put16(b + 6, 0x0008);  /* current profile: CD-ROM */
        put16(b + 8, 0x0000);  /* feature 0: profile list */
        b[10] = 0x03;          /* persistent, current */
        b[11] = 4;
        put16(b + 12, 0x0008);
        b[14] = 0x01;          /* current */
        reply(c, d, 16, be16(&cdb[7]));
        break;
    case 0x4a: /* GET EVENT STATUS NOTIFICATION, polled: nothing new */
        if (!(cdb[1] & 1)) {
            complete(c, d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
            break;
        }
        memset(b, 0, 8);
        put16(b, 6);
        b[2] = 0x04;           /* media class */
        b[3] = 0x10;           /* media class supported */
        b[5] = 0x02;           /* media present */
        reply(c, d, 8, be16(&cdb[7]));
        break;
    case 0xbd: /* MECHANISM STATUS: no changer, idle */
        memset(b, 0, 8);
        put16(b + 6, 0);
        reply(c, d, 8, be16(&cdb[8]));
        break;
    default:
        LOG(c->ide->log, UNIMP, "atapi: command %02x", cdb[0]);
        complete(c, d, SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
    }
}
