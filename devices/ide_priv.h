/*
 * Private to the IDE controller (ide.c) and its ATAPI packet interface
 * (atapi.c): the channel and drive state and the helpers both use.
 */
#ifndef UMBRA_DEVICES_IDE_PRIV_H
#define UMBRA_DEVICES_IDE_PRIV_H

#include "devices/ide.h"

enum {
    ST_ERR = 0x01, ST_DRQ = 0x08, ST_DSC = 0x10, ST_DF = 0x20, ST_DRDY = 0x40, ST_BSY = 0x80,
};
enum { ER_ABRT = 0x04, ER_IDNF = 0x10, ER_UNC = 0x40 };
enum { CTL_NIEN = 0x02, CTL_SRST = 0x04, CTL_HOB = 0x80 };
enum { BM_START = 0x01, BM_TO_MEM = 0x08 };
enum { BM_ACTIVE = 0x01, BM_ERROR = 0x02, BM_INTR = 0x04 };

#define MAX_MULT 16u
#define BUF_SIZE (MAX_MULT * BLK_SECTOR)

/* The transfer in progress: ATA PIO or DMA, or ATAPI (the 12-byte
 * command packet going out, then its data coming in). */
enum xfer { X_NONE, X_PIO_IN, X_PIO_OUT, X_DMA_IN, X_DMA_OUT, X_PACKET, X_ATAPI_IN };

#define CD_SECTOR 2048u

struct drive {
    struct blockdev *bd;   /* NULL: no drive */
    bool cdrom;
    u64 sectors;
    u16 cyls, heads, spt;  /* default translation (IDENTIFY words 1, 3, 6) */
    u16 cur_heads, cur_spt;/* INITIALIZE DEVICE PARAMETERS */
    u8 status, error;
    u8 mult;               /* SET MULTIPLE count, 0 = disabled */
    bool wcache;
    u8 sense, asc;         /* ATAPI: sense key and additional sense code
                            * of the last command (REQUEST SENSE) */
};

struct channel {
    struct ide *ide;
    struct drive drive[2];
    unsigned irq;
    /* Task file; hob_* hold the previous write of each register. */
    u8 feature, nsector, sector, lcyl, hcyl, select;
    u8 hob_feature, hob_nsector, hob_sector, hob_lcyl, hob_hcyl;
    u8 ctl;
    bool intrq;            /* the selected device asserts INTRQ */
    /* The transfer in progress, and the device (0 or 1) that accepted the
     * command: only that device answers the data port, and only while it
     * is selected. */
    enum xfer xfer;
    u8 xfer_unit;
    bool lba48, chs;
    u64 lba;               /* next sector */
    u32 remaining;         /* sectors still to move */
    u32 block;             /* sectors per DRQ block */
    u8 buf[BUF_SIZE];
    u32 pos, len;          /* PIO data buffer cursor and the end of the
                            * current DRQ block or ATAPI chunk */
    /* ATAPI reply: c->buf[0, reply_len) holds it (or the current 2048-byte
     * sector of a READ, cd_left more to come from cd_lba), handed out in
     * chunks of at most `limit` bytes (the host's byte count limit). */
    u32 reply_len;
    u16 limit;
    u64 cd_lba;
    u32 cd_left;
    /* Bus master. */
    u8 bm_cmd, bm_status;
    u32 bm_prd;
};

struct ide {
    struct pci_dev pci;
    struct channel ch[2];
    struct mmu *mmu;
    struct irq_sink isa;
    struct logger *log;
};

/* The drive the device/head register selects. */
struct drive *ide_cur(struct channel *c);
/* The selected device asserts INTRQ (seen unless nIEN). */
void ide_raise_irq(struct channel *c);
/* The reset signature: 01/01/00/00, or 01/01/14/EB for a packet device. */
void ide_set_signature(struct channel *c, struct drive *d);
/* An ATA string: two characters per word, the first in the high byte,
 * padded with spaces. */
void ide_put_str(u16 *w, unsigned words, const char *s);

/* atapi.c: IDENTIFY PACKET DEVICE into c->buf; PACKET (0xA0) accepted:
 * wait for the command packet; the packet is in c->buf: run it; the
 * host has read the current DRQ chunk of an ATAPI reply. */
void atapi_identify(struct channel *c, struct drive *d, unsigned index);
void atapi_packet(struct channel *c, struct drive *d);
void atapi_exec(struct channel *c, struct drive *d);
void atapi_chunk_done(struct channel *c, struct drive *d);

#endif
