/*
 * PIIX3 IDE: two ATA channels in compatibility mode and the bus-master
 * DMA engine, following ATA/ATAPI-6 (T13 1410D) for the command set and
 * register protocol and SFF-8038i (Bus Master Programming Interface for
 * IDE ATA Controllers) with the PIIX3 datasheet (Intel 290550, 2.7) for
 * DMA.
 *
 * Command block (base 0x1F0 / 0x170) and control block (0x3F6 / 0x376):
 *
 *   +0 data (16-bit PIO)        +4 LBA mid / cylinder low
 *   +1 error / features         +5 LBA high / cylinder high
 *   +2 sector count             +6 device/head: bit 4 DEV, bit 6 LBA
 *   +3 LBA low / sector         +7 status (read: clears INTRQ) / command
 *   ctl: alternate status (read) / device control: bit 1 nIEN, bit 2
 *   SRST, bit 7 HOB (read the previous "high order" bytes of an LBA48
 *   command's registers)
 *
 * The task file is shared by both devices of a channel (both see every
 * write); status and error belong to the selected one.  A channel with no
 * drive reads 0, and an absent slave's status reads 0, as on QEMU's PIIX.
 *
 * Commands complete at once (the host does the I/O synchronously), so BSY
 * is never seen.  PIO data moves one DRQ block at a time (one sector, or
 * the SET MULTIPLE count for the MULTIPLE commands); INTRQ is raised for
 * each block of a read, for each block after the first of a write, and at
 * the end of a write or a non-data command; reading the status register
 * lowers it, and nIEN masks it.
 *
 * Bus master (BAR4, 8 bytes per channel): +0 command (bit 0 start, bit 3
 * direction: 1 = the device writes memory), +2 status (bit 0 active, bit
 * 1 error and bit 2 interrupt write-1-to-clear, bits 5-6 "drive DMA
 * capable" scratch), +4 the physical address of the PRD table.  A PRD
 * entry is a dword address (bit 0 ignored), a 16-bit byte count (0 means
 * 64 KiB, bit 0 ignored) and bit 31 of its second dword marking the last
 * entry.  The table walk stays inside its 64 KiB-aligned block and stops
 * after the last entry; every byte moves through the guest's physical
 * bus (mmu_phys_copy_in/out), so DMA can only touch guest physical
 * addresses, with writes to unbacked space dropped as on the bus.
 * Completion per SFF-8038i table 2: transfer done and table exhausted:
 * interrupt set, active clear; table longer than the transfer: interrupt
 * and active set; table shorter: active clear and no interrupt, the
 * device left waiting with DRQ (a driver times out, as on hardware).
 */
#include "ide.h"

#include <stdlib.h>
#include <string.h>

#include "devices/blockdev.h"
#include "ide_priv.h"
#include "mmu/mmu.h"

static const u16 cmd_base[2] = { 0x1f0, 0x170 };
static const u16 ctl_port[2] = { 0x3f6, 0x376 };
static const unsigned ch_irq[2] = { 14, 15 };

struct drive *ide_cur(struct channel *c)
{
    return &c->drive[(c->select >> 4) & 1];
}

static void update_irq(struct channel *c)
{
    irq_set(&c->ide->isa, c->irq, c->intrq && !(c->ctl & CTL_NIEN));
}

/* The device asserts INTRQ; the bus master's interrupt bit follows the
 * line's rising edge (SFF-8038i, status bit 2). */
void ide_raise_irq(struct channel *c)
{
    c->intrq = true;
    c->bm_status |= BM_INTR;
    update_irq(c);
}

static void lower_irq(struct channel *c)
{
    c->intrq = false;
    update_irq(c);
}

/* ---- addressing ---- */

/* The starting sector and count of the command in the task file; false
 * for a CHS address naming sector 0 or lying past the geometry. */
static bool decode_addr(struct channel *c, struct drive *d, bool lba48, u64 *lba, u32 *count)
{
    c->lba48 = lba48;
    c->chs = false;
    if (lba48) {
        *lba = (u64)c->hob_hcyl << 40 | (u64)c->hob_lcyl << 32 | (u64)c->hob_sector << 24 |
               (u64)c->hcyl << 16 | (u64)c->lcyl << 8 | c->sector;
        u32 n = (u32)c->hob_nsector << 8 | c->nsector;
        *count = n ? n : 65536;
        return true;
    }
    *count = c->nsector ? c->nsector : 256;
    if (c->select & 0x40) {
        *lba = (u64)(c->select & 0xf) << 24 | (u64)c->hcyl << 16 | (u64)c->lcyl << 8 | c->sector;
        return true;
    }
    c->chs = true;
    u32 cyl = (u32)c->hcyl << 8 | c->lcyl, head = c->select & 0xf;
    if (c->sector == 0 || c->sector > d->cur_spt || head >= d->cur_heads)
        return false;
    *lba = ((u64)cyl * d->cur_heads + head) * d->cur_spt + c->sector - 1;
    return true;
}

/* Leave the address of sector `lba` in the task file (the last sector
 * moved, or the one that failed), in the command's addressing form. */
static void set_addr(struct channel *c, struct drive *d, u64 lba)
{
    if (c->lba48) {
        c->sector = (u8)lba;
        c->lcyl = (u8)(lba >> 8);
        c->hcyl = (u8)(lba >> 16);
        c->hob_sector = (u8)(lba >> 24);
        c->hob_lcyl = (u8)(lba >> 32);
        c->hob_hcyl = (u8)(lba >> 40);
    } else if (!c->chs) {
        c->sector = (u8)lba;
        c->lcyl = (u8)(lba >> 8);
        c->hcyl = (u8)(lba >> 16);
        c->select = (u8)((c->select & 0xf0) | ((lba >> 24) & 0xf));
    } else {
        u32 per_cyl = (u32)d->cur_heads * d->cur_spt;
        u32 cyl = (u32)(lba / per_cyl), rem = (u32)(lba % per_cyl);
        c->lcyl = (u8)cyl;
        c->hcyl = (u8)(cyl >> 8);
        c->select = (u8)((c->select & 0xf0) | (rem / d->cur_spt));
        c->sector = (u8)(rem % d->cur_spt + 1);
    }
}

/* ---- command completion ---- */

static void cmd_ok(struct channel *c, struct drive *d)
{
    c->xfer = X_NONE;
    d->status = ST_DRDY | ST_DSC;
    d->error = 0;
    ide_raise_irq(c);
}

static void cmd_error(struct channel *c, struct drive *d, u8 err)
{
    c->xfer = X_NONE;
    d->status = ST_DRDY | ST_ERR;
    d->error = err;
    ide_raise_irq(c);
}

void ide_set_signature(struct channel *c, struct drive *d)
{
    c->nsector = c->sector = 1;
    c->lcyl = d->cdrom ? 0x14 : 0;
    c->hcyl = d->cdrom ? 0xeb : 0;
}

/* ---- IDENTIFY DEVICE ---- */

void ide_put_str(u16 *w, unsigned words, const char *s)
{
    /* ATA strings: two characters per word, the first in the high byte,
     * padded with spaces. */
    size_t n = strlen(s);
    for (unsigned i = 0; i < words * 2; i++) {
        u8 ch = i < n ? (u8)s[i] : ' ';
        if (i & 1)
            w[i / 2] |= ch;
        else
            w[i / 2] = (u16)(ch << 8);
    }
}

static void identify(struct channel *c, struct drive *d, unsigned index)
{
    u16 w[256];
    memset(w, 0, sizeof w);
    char serial[21];
    snprintf(serial, sizeof serial, "UMBRA-HD%u", index);
    u64 lba28 = d->sectors < 0x0fffffff ? d->sectors : 0x0fffffff;
    u32 cur_cap = (u32)d->cyls * d->cur_heads * d->cur_spt;
    w[0] = 0x0040;                  /* fixed device */
    w[1] = d->cyls;
    w[3] = d->heads;
    w[6] = d->spt;
    ide_put_str(&w[10], 10, serial);
    ide_put_str(&w[23], 4, "1.0");
    ide_put_str(&w[27], 20, "UMBRA HARDDISK");
    w[47] = 0x8000 | MAX_MULT;      /* READ/WRITE MULTIPLE, up to 16 */
    w[49] = 0x0300;                 /* LBA and DMA supported */
    w[50] = 0x4000;
    w[51] = w[52] = 0x0200;         /* PIO mode 2 timing */
    w[53] = 0x0007;                 /* words 54-58, 64-70 and 88 valid */
    w[54] = d->cyls;
    w[55] = d->cur_heads;
    w[56] = d->cur_spt;
    w[57] = (u16)cur_cap;
    w[58] = (u16)(cur_cap >> 16);
    w[59] = d->mult ? 0x100 | d->mult : 0;
    w[60] = (u16)lba28;
    w[61] = (u16)(lba28 >> 16);
    w[63] = 0x0407;                 /* multiword DMA 0-2, mode 2 selected */
    w[64] = 0x0003;                 /* PIO modes 3 and 4 */
    w[65] = w[66] = w[67] = w[68] = 120;
    w[80] = 0x00f0;                 /* ATA-4 to ATA-7 */
    w[82] = 0x4020;                 /* write cache */
    w[83] = 0x7400;                 /* LBA48, FLUSH CACHE (EXT) */
    w[84] = 0x4000;
    w[85] = (u16)(0x4000 | (d->wcache ? 0x20 : 0));
    w[86] = 0x3400;
    w[87] = 0x4000;
    w[88] = 0x003f;                 /* UDMA 0-5 supported, none selected */
    for (unsigned i = 0; i < 4; i++)
        w[100 + i] = (u16)(d->sectors >> (16 * i));
    for (unsigned i = 0; i < 256; i++) {
        c->buf[2 * i] = (u8)w[i];
        c->buf[2 * i + 1] = (u8)(w[i] >> 8);
    }
}

/* ---- PIO transfers ---- */

static void pio_in_block(struct channel *c, struct drive *d)
{
    u32 n = c->remaining < c->block ? c->remaining : c->block;
    if (blockdev_read(d->bd, c->lba, n, c->buf) < 0) {
        set_addr(c, d, c->lba);
        cmd_error(c, d, ER_UNC | ER_ABRT);
        return;
    }
    c->pos = 0;
    c->len = n * BLK_SECTOR;
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
    ide_raise_irq(c);
}

static void pio_out_block(struct channel *c, struct drive *d)
{
    u32 n = c->remaining < c->block ? c->remaining : c->block;
    c->pos = 0;
    c->len = n * BLK_SECTOR;
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
}

/* The guest has read or written the whole DRQ block. */
static void pio_block_done(struct channel *c)
{
    struct drive *d = ide_cur(c);
    u32 n = c->len / BLK_SECTOR;
    if (c->xfer == X_PIO_OUT && blockdev_write(d->bd, c->lba, n, c->buf) < 0) {
        set_addr(c, d, c->lba);
        cmd_error(c, d, ER_ABRT);
        return;
    }
    c->lba += n;
    c->remaining -= n;
    set_addr(c, d, c->lba - 1);
    if (c->remaining == 0) {
        bool was_out = c->xfer == X_PIO_OUT;
        c->xfer = X_NONE;
        d->status = ST_DRDY | ST_DSC;
        if (was_out)
            ide_raise_irq(c);
        return;
    }
    if (c->xfer == X_PIO_IN)
        pio_in_block(c, d);
    else {
        pio_out_block(c, d);
        ide_raise_irq(c);
    }
}

/* Start a sector transfer; the range is checked before any data moves. */
static void start_rw(struct channel *c, struct drive *d, bool lba48, enum xfer x, u32 block)
{
    u64 lba;
    u32 count;
    if (!decode_addr(c, d, lba48, &lba, &count) || lba > d->sectors ||
        count > d->sectors - lba) {
        cmd_error(c, d, ER_IDNF | ER_ABRT);
        return;
    }
    if ((x == X_PIO_OUT || x == X_DMA_OUT) && blockdev_readonly(d->bd)) {
        cmd_error(c, d, ER_ABRT);
        return;
    }
    c->lba = lba;
    c->remaining = count;
    c->block = block;
    c->xfer = x;
    d->error = 0;
    if (x == X_PIO_IN)
        pio_in_block(c, d);
    else if (x == X_PIO_OUT)
        pio_out_block(c, d);
    else
        d->status = ST_DRDY | ST_DSC | ST_DRQ; /* waits for the DMA engine */
}

/* ---- bus-master DMA ---- */

static void dma_run(struct channel *c);

/* Start a one-block PIO data-in of c->buf (IDENTIFY and the like). */
static void pio_in_buffer(struct channel *c, struct drive *d)
{
    c->xfer = X_PIO_IN;
    c->remaining = 0; /* not a disk transfer: no address to update */
    c->block = 1;
    c->pos = 0;
    c->len = BLK_SECTOR;
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
    ide_raise_irq(c);
}

/* The ATA commands a packet device (ATAPI, ATA/ATAPI-6 6.x) answers; any
 * other aborts with the packet signature in the task file, which is how
 * a host tells a CD-ROM drive from a disk. */
static void exec_packet_device_cmd(struct channel *c, struct drive *d, unsigned di, u8 cmd)
{
    switch (cmd) {
    case 0xa0: /* PACKET */
        atapi_packet(c, d);
        break;
    case 0xa1: /* IDENTIFY PACKET DEVICE */
        atapi_identify(c, d, (unsigned)(c - c->ide->ch) * 2 + di);
        pio_in_buffer(c, d);
        break;
    case 0x08: /* DEVICE RESET: signature, DRDY clear, no interrupt */
        c->xfer = X_NONE;
        ide_set_signature(c, d);
        d->status = 0;
        d->error = 0x01;
        break;
    case 0xef: case 0xe5: case 0xe0: case 0xe1: case 0xe6: case 0x00:
        if (cmd == 0xe5)
            c->nsector = 0xff;
        cmd_ok(c, d);
        break;
    case 0x90:
        d->error = 0x01;
        ide_set_signature(c, d);
        d->status = 0;
        ide_raise_irq(c);
        break;
    default:
        ide_set_signature(c, d);
        cmd_error(c, d, ER_ABRT);
    }
}

static void exec_cmd(struct channel *c, u8 cmd)
{
    unsigned di = (c->select >> 4) & 1;
    struct drive *d = &c->drive[di];
    if (!d->bd)
        return; /* no device answers */
    c->xfer_unit = (u8)di;
    lower_irq(c);
    if (d->cdrom) {
        exec_packet_device_cmd(c, d, di, cmd);
        return;
    }
    switch (cmd) {
    case 0xec: /* IDENTIFY DEVICE */
        identify(c, d, (unsigned)(c - c->ide->ch) * 2 + di);
        pio_in_buffer(c, d);
        break;
    case 0x20: case 0x21: start_rw(c, d, false, X_PIO_IN, 1); break;
    case 0x24: start_rw(c, d, true, X_PIO_IN, 1); break;
    case 0x30: case 0x31: start_rw(c, d, false, X_PIO_OUT, 1); break;
    case 0x34: start_rw(c, d, true, X_PIO_OUT, 1); break;
    case 0xc4: case 0x29: case 0xc5: case 0x39:
        if (!d->mult) {
            cmd_error(c, d, ER_ABRT);
            break;
        }
        start_rw(c, d, cmd == 0x29 || cmd == 0x39, cmd == 0xc4 || cmd == 0x29 ? X_PIO_IN : X_PIO_OUT,
                 d->mult);
        break;
    case 0xc8: case 0xc9: case 0x25: case 0xca: case 0xcb: case 0x35:
        start_rw(c, d, cmd == 0x25 || cmd == 0x35,
                 cmd == 0xc8 || cmd == 0xc9 || cmd == 0x25 ? X_DMA_IN : X_DMA_OUT, 1);
        if (c->xfer != X_NONE && (c->bm_cmd & BM_START))
            dma_run(c);
        break;
    case 0x40: case 0x41: case 0x42: { /* READ VERIFY SECTORS (EXT) */
        u64 lba;
        u32 count;
        if (!decode_addr(c, d, cmd == 0x42, &lba, &count) || lba > d->sectors ||
            count > d->sectors - lba) {
            cmd_error(c, d, ER_IDNF | ER_ABRT);
            break;
        }
        set_addr(c, d, lba + count - 1);
        cmd_ok(c, d);
        break;
    }
    case 0xc6: /* SET MULTIPLE MODE */
        if (c->nsector > MAX_MULT || (c->nsector & (c->nsector - 1))) {
            cmd_error(c, d, ER_ABRT);
            break;
        }
        d->mult = c->nsector;
        cmd_ok(c, d);
        break;
    case 0x91: /* INITIALIZE DEVICE PARAMETERS */
        if (c->nsector == 0) {
            cmd_error(c, d, ER_ABRT);
            break;
        }
        d->cur_heads = (u16)((c->select & 0xf) + 1);
        d->cur_spt = c->nsector;
        cmd_ok(c, d);
        break;
    case 0xe7: case 0xea: /* FLUSH CACHE (EXT) */
        if (blockdev_flush(d->bd) < 0)
            cmd_error(c, d, ER_ABRT);
        else
            cmd_ok(c, d);
        break;
    case 0xef: /* SET FEATURES */
        switch (c->feature) {
        case 0x02: case 0x82:
            d->wcache = c->feature == 0x02;
            cmd_ok(c, d);
            break;
        case 0x03: case 0x05: case 0x85: case 0x55: case 0xaa: case 0x66: case 0xcc:
        case 0x31: case 0x42: case 0xc2:
            cmd_ok(c, d);
            break;
        default:
            cmd_error(c, d, ER_ABRT);
        }
        break;
    case 0xf8: case 0x27: /* READ NATIVE MAX ADDRESS (EXT) */
        c->lba48 = cmd == 0x27;
        c->chs = false;
        set_addr(c, d, d->sectors - 1);
        cmd_ok(c, d);
        break;
    case 0xe5: /* CHECK POWER MODE: active */
        c->nsector = 0xff;
        cmd_ok(c, d);
        break;
    case 0x90: /* EXECUTE DEVICE DIAGNOSTIC */
        for (unsigned i = 0; i < 2; i++)
            if (c->drive[i].bd) {
                c->drive[i].error = 0x01;
                c->drive[i].status = c->drive[i].cdrom ? 0 : ST_DRDY | ST_DSC;
            }
        ide_set_signature(c, d);
        c->select &= 0xe0;
        ide_raise_irq(c);
        break;
    case 0x70: case 0xe0: case 0xe1: case 0xe2: case 0xe3: case 0xe6:
    case 0x94: case 0x95: case 0x96: case 0x97:
        cmd_ok(c, d);
        break;
    default:
        if ((cmd & 0xf0) == 0x10) { /* RECALIBRATE */
            cmd_ok(c, d);
            break;
        }
        LOG(c->ide->log, UNIMP, "ide: command %02x", cmd);
        cmd_error(c, d, ER_ABRT);
    }
}

/* Run the device's DMA transfer through the PRD table. */
static void dma_run(struct channel *c)
{
    /* DMARQ comes from the device running the command, whichever device
     * the host has selected since. */
    struct drive *d = &c->drive[c->xfer_unit];
    struct mmu *m = c->ide->mmu;
    if (!(c->ide->pci.cfg[PCI_COMMAND] & PCI_COMMAND_MASTER)) {
        c->bm_status &= (u8)~BM_ACTIVE; /* no bus cycles: the device waits */
        return;
    }
    bool to_mem = c->xfer == X_DMA_IN;
    u64 bytes = (u64)c->remaining * BLK_SECTOR;
    u64 done = 0;
    u32 sec_off = BLK_SECTOR;      /* offset in c->buf's current sector */
    u64 lba = c->lba;
    bool eot = false, failed = false;
    u32 len = 0;
    u32 table = c->bm_prd & ~3u;
    for (unsigned i = 0; i < 8192 && !eot && done < bytes && !failed; i++) {
        u32 ent = (table & ~0xffffu) | ((table + 8 * i) & 0xffffu);
        u32 addr = (u32)mmu_phys_read(m, ent, 4) & ~1u;
        u32 w1 = (u32)mmu_phys_read(m, ent + 4, 4);
        len = w1 & 0xfffe;
        if (!len)
            len = 0x10000;
        eot = w1 >> 31;
        while (len && done < bytes) {
            if (sec_off == BLK_SECTOR) {
                if (to_mem && blockdev_read(d->bd, lba, 1, c->buf) < 0) {
                    failed = true;
                    break;
                }
                sec_off = 0;
            }
            u32 n = BLK_SECTOR - sec_off;
            if (n > len)
                n = len;
            if (to_mem)
                mmu_phys_copy_in(m, addr, c->buf + sec_off, n);
            else
                mmu_phys_copy_out(m, addr, c->buf + sec_off, n);
            addr += n;
            len -= n;
            sec_off += n;
            done += n;
            if (sec_off == BLK_SECTOR) {
                if (!to_mem && blockdev_write(d->bd, lba, 1, c->buf) < 0) {
                    failed = true;
                    break;
                }
                lba++;
            }
        }
    }
    c->lba = lba;
    if (failed) {
        set_addr(c, d, lba);
        c->bm_status = (u8)((c->bm_status | BM_ERROR | BM_INTR) & ~BM_ACTIVE);
        cmd_error(c, d, to_mem ? (ER_UNC | ER_ABRT) : ER_ABRT);
        return;
    }
    if (done < bytes) {
        /* The table ran out first: the engine stops, the device waits. */
        c->remaining -= (u32)(done / BLK_SECTOR);
        c->bm_status &= (u8)~BM_ACTIVE;
        return;
    }
    set_addr(c, d, lba - 1);
    c->remaining = 0;
    c->xfer = X_NONE;
    d->status = ST_DRDY | ST_DSC;
    d->error = 0;
    /* Table exhausted exactly: the engine is done; longer: it stays
     * active, and the interrupt says the device finished. */
    if (eot && len == 0)
        c->bm_status &= (u8)~BM_ACTIVE;
    ide_raise_irq(c);
}

/* ---- ports ---- */

static struct channel *chan_of(struct ide *s, u16 port, u16 *reg)
{
    for (unsigned i = 0; i < 2; i++) {
        if ((unsigned)(port - cmd_base[i]) < 8u) {
            *reg = (u16)(port - cmd_base[i]);
            return &s->ch[i];
        }
        if (port == ctl_port[i]) {
            *reg = 8;
            return &s->ch[i];
        }
    }
    return NULL;
}

/* The selected device is the one with the transfer in progress.  A host
 * that selects the other device in the middle of a transfer (ATA forbids
 * it while BSY or DRQ is set) reaches a device with nothing to move; the
 * transfer goes on once the first is selected again. */
static bool xfer_selected(const struct channel *c)
{
    return ((c->select >> 4) & 1) == c->xfer_unit;
}

static u32 data_read(struct channel *c, unsigned size)
{
    if ((c->xfer != X_PIO_IN && c->xfer != X_ATAPI_IN) || c->pos >= c->len ||
        !xfer_selected(c))
        return 0xffffffffu >> (32 - 8 * size);
    u32 v = 0;
    for (unsigned i = 0; i < size && c->pos < c->len; i++)
        v |= (u32)c->buf[c->pos++] << (8 * i);
    if (c->pos == c->len && c->xfer == X_ATAPI_IN) {
        atapi_chunk_done(c, ide_cur(c));
    } else if (c->pos == c->len) {
        if (c->remaining == 0) { /* IDENTIFY and other one-block data */
            c->xfer = X_NONE;
            ide_cur(c)->status = ST_DRDY | ST_DSC;
        } else {
            pio_block_done(c);
        }
    }
    return v;
}

static void data_write(struct channel *c, u32 val, unsigned size)
{
    if ((c->xfer != X_PIO_OUT && c->xfer != X_PACKET) || c->pos >= c->len ||
        !xfer_selected(c))
        return;
    for (unsigned i = 0; i < size && c->pos < c->len; i++)
        c->buf[c->pos++] = (u8)(val >> (8 * i));
    if (c->pos == c->len && c->xfer == X_PACKET)
        atapi_exec(c, ide_cur(c));
    else if (c->pos == c->len)
        pio_block_done(c);
}

static u32 ide_read(void *opaque, u16 port, unsigned size)
{
    struct ide *s = opaque;
    u16 reg = 0;
    struct channel *c = chan_of(s, port, &reg);
    if (!c || (!c->drive[0].bd && !c->drive[1].bd))
        return 0;
    struct drive *d = ide_cur(c);
    bool hob = c->ctl & CTL_HOB;
    switch (reg) {
    case 0: return data_read(c, size);
    case 1: return hob ? c->hob_feature : d->error;
    case 2: return hob ? c->hob_nsector : c->nsector;
    case 3: return hob ? c->hob_sector : c->sector;
    case 4: return hob ? c->hob_lcyl : c->lcyl;
    case 5: return hob ? c->hob_hcyl : c->hcyl;
    case 6: return c->select;
    case 7:
        if (!d->bd)
            return 0;
        lower_irq(c);
        return d->status;
    default: /* alternate status */
        return d->bd ? d->status : 0;
    }
}

static void soft_reset(struct channel *c)
{
    c->xfer = X_NONE;
    c->remaining = 0;
    lower_irq(c);
    c->select = 0xa0;
    for (unsigned i = 0; i < 2; i++) {
        struct drive *d = &c->drive[i];
        d->status = d->bd && !d->cdrom ? ST_DRDY | ST_DSC : 0;
        d->error = 0x01;
        d->mult = 0;
    }
    ide_set_signature(c, &c->drive[0]);
}

static void ide_write(void *opaque, u16 port, u32 val, unsigned size)
{
    struct ide *s = opaque;
    u16 reg = 0;
    struct channel *c = chan_of(s, port, &reg);
    if (!c)
        return;
    u8 v = (u8)val;
    if (reg >= 1 && reg <= 5)
        c->ctl &= (u8)~CTL_HOB;
    switch (reg) {
    case 0: data_write(c, val, size); break;
    case 1: c->hob_feature = c->feature; c->feature = v; break;
    case 2: c->hob_nsector = c->nsector; c->nsector = v; break;
    case 3: c->hob_sector = c->sector; c->sector = v; break;
    case 4: c->hob_lcyl = c->lcyl; c->lcyl = v; break;
    case 5: c->hob_hcyl = c->hcyl; c->hcyl = v; break;
    case 6:
        c->select = (u8)(v | 0xa0);
        update_irq(c);
        break;
    case 7: exec_cmd(c, v); break;
    default: {
        bool was_reset = c->ctl & CTL_SRST;
        c->ctl = v;
        if ((v & CTL_SRST) && !was_reset) {
            for (unsigned i = 0; i < 2; i++)
                c->drive[i].status = c->drive[i].bd ? ST_BSY : 0;
        } else if (!(v & CTL_SRST) && was_reset) {
            soft_reset(c);
        }
        update_irq(c);
    }
    }
}

static const struct io_ops ide_ops = { ide_read, ide_write };

static u32 bm_read(void *opaque, u16 port, unsigned size)
{
    struct ide *s = opaque;
    u32 base = s->pci.bar[4].addr;
    u32 off = (u32)port - base;
    struct channel *c = &s->ch[(off >> 3) & 1];
    u32 v = 0;
    for (unsigned i = 0; i < size; i++) {
        unsigned r = (off + i) & 7;
        u8 b = r == 0 ? c->bm_cmd : r == 2 ? c->bm_status : r >= 4 ? (u8)(c->bm_prd >> (8 * (r - 4))) : 0;
        v |= (u32)b << (8 * i);
    }
    return v;
}

static void bm_write(void *opaque, u16 port, u32 val, unsigned size)
{
    struct ide *s = opaque;
    u32 base = s->pci.bar[4].addr;
    u32 off = (u32)port - base;
    struct channel *c = &s->ch[(off >> 3) & 1];
    for (unsigned i = 0; i < size; i++) {
        unsigned r = (off + i) & 7;
        u8 b = (u8)(val >> (8 * i));
        if (r == 0) {
            bool start = (b & BM_START) && !(c->bm_cmd & BM_START);
            if (!(b & BM_START))
                c->bm_status &= (u8)~BM_ACTIVE; /* stopping aborts the engine */
            c->bm_cmd = b & (BM_START | BM_TO_MEM);
            if (start) {
                c->bm_status |= BM_ACTIVE;
                if (c->xfer == X_DMA_IN || c->xfer == X_DMA_OUT)
                    dma_run(c);
            }
        } else if (r == 2) {
            c->bm_status = (u8)((c->bm_status & ~(b & (BM_ERROR | BM_INTR)) & ~0x60) | (b & 0x60));
        } else if (r >= 4) {
            unsigned sh = 8 * (r - 4);
            c->bm_prd = (c->bm_prd & ~(0xffu << sh)) | (u32)b << sh;
            c->bm_prd &= ~3u;
        }
    }
}

static const struct io_ops bm_ops = { bm_read, bm_write };

/* ---- lifecycle ---- */

void ide_reset(struct ide *s)
{
    for (unsigned i = 0; i < 2; i++) {
        struct channel *c = &s->ch[i];
        c->ctl = 0;
        c->bm_cmd = c->bm_status = 0;
        c->bm_prd = 0;
        for (unsigned k = 0; k < 2; k++) {
            struct drive *d = &c->drive[k];
            d->cur_heads = d->heads;
            d->cur_spt = d->spt;
            d->wcache = true;
        }
        soft_reset(c);
    }
}

struct ide *ide_new(struct mmu *m, struct pci_bus *bus, const struct irq_sink *isa,
                    struct logger *log)
{
    struct ide *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->mmu = m;
    s->isa = *isa;
    s->log = log;
    for (unsigned i = 0; i < 2; i++) {
        s->ch[i].ide = s;
        s->ch[i].irq = ch_irq[i];
    }
    /* Class 01/01/80: IDE, both channels in compatibility mode, bus
     * master capable. */
    pci_dev_init(&s->pci, 0x8086, 0x7010, 0x010180, 0x00);
    s->pci.opaque = s;
    pci_set_bar(&s->pci, 4, PCI_BAR_IO, 16, &bm_ops, NULL);
    /* IDETIM (0x40-0x43): decode enables and timings, scratch here. */
    for (unsigned k = 0x40; k < 0x44; k++)
        s->pci.wmask[k] = 0xff;
    ide_reset(s);
    if (pci_register(bus, &s->pci, PCI_DEVFN(1, 1)) < 0 ||
        mmu_map_io(m, 0x1f0, 8, &ide_ops, s) < 0 || mmu_map_io(m, 0x170, 8, &ide_ops, s) < 0 ||
        mmu_map_io(m, 0x3f6, 1, &ide_ops, s) < 0 || mmu_map_io(m, 0x376, 1, &ide_ops, s) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

int ide_attach(struct ide *s, unsigned index, struct blockdev *bd, bool cdrom)
{
    if (index > 3)
        return -1;
    struct channel *c = &s->ch[index / 2];
    struct drive *d = &c->drive[index & 1];
    if (d->bd)
        return -1;
    d->bd = bd;
    d->cdrom = cdrom;
    d->sectors = blockdev_sectors(bd);
    /* The usual translation: 16 heads, 63 sectors, at most 16383
     * cylinders (ATA-6 annex: IDENTIFY words 1, 3, 6). */
    d->heads = 16;
    d->spt = 63;
    u64 cyls = d->sectors / (16 * 63);
    d->cyls = (u16)(cyls > 16383 ? 16383 : cyls ? cyls : 1);
    d->cur_heads = d->heads;
    d->cur_spt = d->spt;
    d->wcache = true;
    d->status = cdrom ? 0 : ST_DRDY | ST_DSC;
    d->error = 0x01;
    return 0;
}

void ide_free(struct ide *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < 4; i++)
        blockdev_close(s->ch[i / 2].drive[i & 1].bd);
    free(s);
}
