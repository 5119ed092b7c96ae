/*
 * libFuzzer harness for the PCI board's chips: the i440FX host bridge and
 * its PAM registers, the PIIX3 (PIRQ routers, reset control), the PIIX3
 * IDE with bus-master DMA, the ATAPI CD-ROM and the VGA.  Each input
 * builds a fresh board (devices/pc.c, 2 MiB of RAM, no firmware, the CPU
 * never runs) with four drives:
 *
 *   index 0  ATA disk, read-write, 64 sectors (rewritten before each input)
 *   index 1  ATAPI CD-ROM, an ISO of 12 sectors and a partial one
 *   index 2  ATA disk, snapshot, 15 sectors and a partial one
 *   index 3  none
 *
 * and runs the input as a program of operations.  An operation is a kind
 * byte (low 4 bits) followed by its operands; a short input reads as
 * zeros.  The kinds:
 *
 *   0 port write      port selector, size, value
 *   1 port read       port selector, size
 *   2 PCI cfg write   function (see pick_devfn), register, size, value
 *                     (through 0xCF8/0xCFC)
 *   3 PCI cfg read    function, register, size
 *   4 VGA memory write  offset in 0xA0000-0xBFFFF, value
 *   5 VGA memory read   offset
 *   6 memory write    address, length, bytes (RAM, MMIO, ROM, anywhere)
 *   7 PRD table       table address, entries (address, byte count, EOT)
 *   8 DMA command     BAR4 and command register, channel, drive, command,
 *                     LBA, count, PRD table address, bus-master start
 *   9 ATAPI packet    channel/drive, byte count limit, features, 12 bytes,
 *                     then data reads
 *  10 memory read     address, size
 *  11 render          the VGA picture (at most twice per input)
 *  12 timers          bring every chip timer to a later "now"
 *  13 ATA PIO         channel/drive, command, registers, data reads/writes
 *  14 any port        a 16-bit port number, size, value, read or write
 *  15 VGA burst       a run of VGA register index/data writes
 *
 * Addresses come from a mode byte (see pick_addr): low RAM, the end of
 * RAM, the VGA window, the BIOS area, the linear framebuffer, the top of
 * the address space, just past RAM, or any 32-bit value.
 *
 * Property: nothing the guest does through ports and memory crashes the
 * host, and no access leaves guest memory (AddressSanitizer and
 * UndefinedBehaviorSanitizer, non-recovering, check every run).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/pc.h"
#include "devices/vga.h"
#include "mmu/mmu.h"

#define RAM_MIB 2u
#define RAM_SIZE (RAM_MIB << 20)
#define DISK0_BYTES (64u * 512)
#define CD_BYTES (12u * 2048 + 1000)
#define DISK2_BYTES (15u * 512 + 300)

struct rd {
    const u8 *p;
    size_t n;
};

static u32 take(struct rd *r, unsigned bytes)
{
    u32 v = 0;
    for (unsigned k = 0; k < bytes && r->n; k++, r->n--)
        v |= (u32)*r->p++ << (8 * k);
    return v;
}

static unsigned take_size(struct rd *r)
{
    static const unsigned sz[4] = { 1, 2, 4, 2 };
    return sz[take(r, 1) & 3];
}

/* Image files, made once per process. */
static char disk0_path[64], cd_path[64], disk2_path[64];
static u8 disk0_data[DISK0_BYTES];
static struct vga_surface surface;

static void make_image(char *path, const char *tmpl, const u8 *data, size_t len)
{
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(path, 64, "%s/%s", dir, tmpl);
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
        perror(path);
        abort();
    }
    close(fd);
}

static void remove_images(void)
{
    unlink(disk0_path);
    unlink(cd_path);
    unlink(disk2_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static u8 buf[CD_BYTES];
    for (unsigned i = 0; i < DISK0_BYTES; i++)
        disk0_data[i] = (u8)(i * 7 + (i >> 9));
    make_image(disk0_path, "umbra-fuzz-hda-XXXXXX", disk0_data, DISK0_BYTES);
    /* An ISO-like image: a primary volume descriptor at sector 16 would
     * be past the end, so the bytes only need to be recognisable. */
    for (unsigned i = 0; i < CD_BYTES; i++)
        buf[i] = (u8)(i >> 11 ^ i);
    memcpy(buf + 2048, "\x01" "CD001" "\x01", 7);
    make_image(cd_path, "umbra-fuzz-cd-XXXXXX", buf, CD_BYTES);
    for (unsigned i = 0; i < DISK2_BYTES; i++)
        buf[i] = (u8)~i;
    make_image(disk2_path, "umbra-fuzz-hdc-XXXXXX", buf, DISK2_BYTES);
    atexit(remove_images);
    surface.px = malloc(sizeof(u32) * VGA_MAX_W * VGA_MAX_H);
    if (!surface.px)
        abort();
    return 0;
}

/* The rewritten image is the same before every input, so a run repeats. */
static void reset_disk0(void)
{
    int fd = open(disk0_path, O_WRONLY);
    if (fd < 0 || pwrite(fd, disk0_data, DISK0_BYTES, 0) != (ssize_t)DISK0_BYTES)
        abort();
    close(fd);
}

static u32 pick_addr(struct rd *r)
{
    unsigned mode = take(r, 1) & 7;
    switch (mode) {
    case 0: return (take(r, 2) << 4) % RAM_SIZE;              /* low RAM */
    case 1: return RAM_SIZE - 1 - (take(r, 2) & 0xfff);       /* end of RAM */
    case 2: return 0xa0000 + (take(r, 3) & 0x1ffff);          /* VGA window */
    case 3: return 0xc0000 + (take(r, 3) & 0x3ffff);          /* BIOS area */
    case 4: return VGA_LFB_DEFAULT + (take(r, 3) & 0xffffff); /* framebuffer */
    case 5: return 0xffffffffu - take(r, 2);                  /* top of 4 GiB */
    case 6: return RAM_SIZE + take(r, 2);                     /* past RAM */
    default: return take(r, 4);
    }
}

/* The ports the chips answer on; index 0xff and above wrap. */
static const u16 port_table[] = {
    0xcf8, 0xcf9, 0xcfa, 0xcfb, 0xcfc, 0xcfd, 0xcfe, 0xcff,
    0x1f0, 0x1f1, 0x1f2, 0x1f3, 0x1f4, 0x1f5, 0x1f6, 0x1f7, 0x3f6, 0x3f7,
    0x170, 0x171, 0x172, 0x173, 0x174, 0x175, 0x176, 0x177, 0x376, 0x377,
    0x3b4, 0x3b5, 0x3ba, 0x3c0, 0x3c1, 0x3c2, 0x3c3, 0x3c4, 0x3c5, 0x3c6,
    0x3c7, 0x3c8, 0x3c9, 0x3ca, 0x3cc, 0x3ce, 0x3cf, 0x3d4, 0x3d5, 0x3da,
    0x1ce, 0x1cf, 0x1d0,
};

struct fz {
    struct pc *pc;
    struct mmu *m;
    u16 bm_base;   /* where the harness last placed BAR4 */
    unsigned renders;
    u64 now;
};

static u16 pick_port(struct fz *f, struct rd *r)
{
    unsigned sel = take(r, 1);
    if (sel < ARRAY_SIZE(port_table))
        return port_table[sel];
    if (sel >= 0xf0)                       /* the bus-master registers */
        return (u16)(f->bm_base + (sel & 0xf));
    return (u16)(0x3b0 + (sel & 0x3f));   /* the whole VGA range */
}

static void port_write(struct fz *f, u16 port, unsigned size, u32 v)
{
    mmu_io_write(f->m, port, v & (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1), size);
}

static u32 cfg_addr(u8 devfn, u8 reg)
{
    return 0x80000000u | (u32)devfn << 8 | (reg & 0xfcu);
}

static void cfg_write(struct fz *f, u8 devfn, u8 reg, unsigned size, u32 v)
{
    mmu_io_write(f->m, 0xcf8, cfg_addr(devfn, reg), 4);
    port_write(f, (u16)(0xcfc + (reg & 3)), size, v);
}

static u32 cfg_read(struct fz *f, u8 devfn, u8 reg, unsigned size)
{
    mmu_io_write(f->m, 0xcf8, cfg_addr(devfn, reg), 4);
    return mmu_io_read(f->m, (u16)(0xcfc + (reg & 3)), size);
}

/* Functions worth most of the config cycles: 00.0 host bridge, 01.0 ISA
 * bridge, 01.1 IDE, 01.3 (power management on a PIIX4), 02.0 to 05.0;
 * with bit 7 set the next byte is any device and function. */
static u8 pick_devfn(struct rd *r)
{
    static const u8 fns[8] = { 0x00, 0x08, 0x09, 0x0b, 0x10, 0x18, 0x20, 0x28 };
    u8 b = (u8)take(r, 1);
    return b & 0x80 ? (u8)take(r, 1) : fns[b & 7];
}

#define IDE_DEVFN 0x09

/* Program BAR4 and the command register (I/O, bus master, or not). */
static void place_bm(struct fz *f, struct rd *r)
{
    u8 b = (u8)take(r, 1);
    u16 base = (u16)(0xc000 + ((b & 0x3f) << 4));
    if (b & 0x40)
        base = (u16)take(r, 2);
    cfg_write(f, IDE_DEVFN, 0x20, 4, base | 1u);
    cfg_write(f, IDE_DEVFN, 0x04, 2, b & 0x80 ? 0x01 : 0x05);
    f->bm_base = (u16)(cfg_read(f, IDE_DEVFN, 0x20, 4) & 0xfff0);
}

static void write_prd(struct fz *f, struct rd *r)
{
    u32 table = pick_addr(r);
    unsigned n = (take(r, 1) & 3) + 1;
    for (unsigned i = 0; i < n; i++) {
        u32 addr = pick_addr(r);
        u32 cnt = take(r, 2);
        u32 flags = take(r, 1) & 0x80 ? 0x80000000u : 0;
        if (i == n - 1)
            flags = 0x80000000u;
        mmu_phys_write(f->m, table + 8 * i, addr, 4);
        mmu_phys_write(f->m, table + 8 * i + 4, cnt | flags, 4);
    }
}

static void select_drive(struct fz *f, u16 base, u8 b)
{
    port_write(f, (u16)(base + 6), 1, 0xe0 | (b & 0x10));
}

static const u8 dma_cmds[4] = { 0xc8, 0xca, 0x25, 0x35 };

static void dma_command(struct fz *f, struct rd *r)
{
    u8 sel = (u8)take(r, 1);
    if (sel & 0x80 || !f->bm_base)
        place_bm(f, r);
    unsigned ch = sel & 1;
    u16 base = ch ? 0x170 : 0x1f0;
    select_drive(f, base, sel & 2 ? 0x10 : 0);
    u8 cmd = sel & 0x40 ? (u8)take(r, 1) : dma_cmds[(sel >> 2) & 3];
    bool ext = cmd == 0x25 || cmd == 0x35;
    u32 lba = take(r, 1), cnt = take(r, 1);
    if (ext) {
        port_write(f, (u16)(base + 2), 1, cnt >> 4);
        port_write(f, (u16)(base + 3), 1, 0);
        port_write(f, (u16)(base + 4), 1, 0);
        port_write(f, (u16)(base + 5), 1, 0);
    }
    port_write(f, (u16)(base + 2), 1, cnt);
    port_write(f, (u16)(base + 3), 1, lba);
    port_write(f, (u16)(base + 4), 1, 0);
    port_write(f, (u16)(base + 5), 1, 0);
    u16 bm = (u16)(f->bm_base + 8 * ch);
    port_write(f, (u16)(bm + 4), 4, pick_addr(r));
    port_write(f, (u16)(bm + 2), 1, 0x06);   /* clear interrupt and error */
    bool to_mem = !(cmd == 0xca || cmd == 0x35);
    u8 start = (u8)take(r, 1);
    /* Start before or after the command, as drivers do either. */
    if (start & 1)
        port_write(f, bm, 1, (to_mem ? 0x08 : 0) | 1);
    port_write(f, (u16)(base + 7), 1, cmd);
    if (!(start & 1))
        port_write(f, bm, 1, (start & 2 ? 0 : to_mem ? 0x08 : 0) | 1);
    mmu_io_read(f->m, (u16)(bm + 2), 1);
    mmu_io_read(f->m, (u16)(base + 7), 1);
    if (start & 4)
        port_write(f, bm, 1, 0);
}

/* MMC commands the drive knows, so packets reach them often. */
static const u8 mmc_ops[] = {
    0x00, 0x03, 0x12, 0x25, 0x28, 0xa8, 0x43, 0x5a, 0x46, 0x4a, 0xbd, 0x1b,
    0x1e, 0x2b, 0x51, 0xbe,
};

static void atapi_packet(struct fz *f, struct rd *r)
{
    u8 sel = (u8)take(r, 1);
    u16 base = sel & 1 ? 0x170 : 0x1f0;
    select_drive(f, base, sel & 2 ? 0 : 0x10);  /* usually the CD (index 1) */
    u32 limit = take(r, 2);
    port_write(f, (u16)(base + 1), 1, sel & 4 ? 1 : 0);   /* DMA bit */
    port_write(f, (u16)(base + 4), 1, limit & 0xff);
    port_write(f, (u16)(base + 5), 1, limit >> 8);
    port_write(f, (u16)(base + 7), 1, 0xa0);
    u8 pkt[12];
    for (unsigned i = 0; i < 12; i++)
        pkt[i] = (u8)take(r, 1);
    if (!(sel & 8))
        pkt[0] = mmc_ops[pkt[0] % ARRAY_SIZE(mmc_ops)];
    for (unsigned i = 0; i < 12; i += 2)
        port_write(f, base, 2, pkt[i] | (u32)pkt[i + 1] << 8);
    unsigned reads = take(r, 2) & 0x7ff;
    unsigned size = sel & 0x10 ? 4 : 2;
    for (unsigned i = 0; i < reads; i++) {
        mmu_io_read(f->m, base, size);
        if ((i & 63) == 63)
            mmu_io_read(f->m, (u16)(base + 7), 1);
    }
    mmu_io_read(f->m, (u16)(base + 2), 1);
    mmu_io_read(f->m, (u16)(base + 7), 1);
}

static const u8 ata_cmds[] = {
    0x20, 0x24, 0x29, 0x30, 0x34, 0x39, 0xc4, 0xc5, 0xc6, 0x40, 0x42, 0xec,
    0xa1, 0xef, 0xe7, 0xea, 0x91, 0xf8, 0x27, 0xe0, 0xe5, 0x08, 0x10, 0xc8,
};

static void ata_pio(struct fz *f, struct rd *r)
{
    u8 sel = (u8)take(r, 1);
    u16 base = sel & 1 ? 0x170 : 0x1f0;
    u8 cmd = (u8)take(r, 1);
    if (!(sel & 0x80))
        cmd = ata_cmds[cmd % ARRAY_SIZE(ata_cmds)];
    for (unsigned reg = 1; reg <= 5; reg++)
        port_write(f, (u16)(base + reg), 1, take(r, 1));
    port_write(f, (u16)(base + 6), 1, take(r, 1) | (sel & 0x40 ? 0xa0 : 0xe0));
    port_write(f, (u16)(base + 7), 1, cmd);
    unsigned n = take(r, 2) & 0x7ff;
    unsigned size = sel & 0x10 ? 4 : 2;
    bool wr = sel & 0x20;
    for (unsigned i = 0; i < n; i++) {
        if (wr)
            port_write(f, base, size, i * 0x01010101u);
        else
            mmu_io_read(f->m, base, size);
    }
    mmu_io_read(f->m, (u16)(base + 7), 1);
    if (sel & 8) {   /* software reset through SRST */
        port_write(f, (u16)(base + 0x206), 1, 0x04);
        port_write(f, (u16)(base + 0x206), 1, sel & 4 ? 0x02 : 0);
    }
}

static void mem_write(struct fz *f, struct rd *r)
{
    u32 addr = pick_addr(r);
    unsigned len = take(r, 1);
    if (len & 0x80) {
        mmu_phys_write(f->m, addr, take(r, 4), take_size(r));
        return;
    }
    u8 buf[128];
    len &= 0x7f;
    if (len > r->n)
        len = (unsigned)r->n;
    memcpy(buf, r->p, len);
    r->p += len;
    r->n -= len;
    mmu_phys_copy_in(f->m, addr, buf, len);
}

static void vga_burst(struct fz *f, struct rd *r)
{
    static const u16 idx_ports[] = { 0x3c4, 0x3ce, 0x3d4, 0x3b4, 0x3c0, 0x3c8, 0x1ce };
    unsigned n = (take(r, 1) & 15) + 1;
    for (unsigned i = 0; i < n; i++) {
        u8 which = (u8)take(r, 1);
        u16 p = idx_ports[which % ARRAY_SIZE(idx_ports)];
        if (p == 0x1ce) {
            port_write(f, 0x1ce, 2, take(r, 1) & 0xf);
            port_write(f, 0x1cf, 2, take(r, 2));
        } else if (p == 0x3c0) {
            mmu_io_read(f->m, 0x3da, 1);
            port_write(f, 0x3c0, 1, take(r, 1));
            port_write(f, 0x3c0, 1, take(r, 1));
        } else if (p == 0x3c8) {
            port_write(f, 0x3c8, 1, take(r, 1));
            for (unsigned k = 0; k < 3; k++)
                port_write(f, 0x3c9, 1, take(r, 1));
        } else {
            port_write(f, p, 1, take(r, 1));
            port_write(f, (u16)(p + 1), 1, take(r, 1));
        }
    }
}

static void run_timers(struct fz *f, struct rd *r)
{
    f->now += (u64)take(r, 2) * 1000 + 1;
    for (unsigned i = 0; i < f->pc->n_timers; i++)
        f->pc->timers[i].update(f->pc->timers[i].opaque, f->now);
}

static void step(struct fz *f, struct rd *r)
{
    u8 op = (u8)take(r, 1);
    switch (op & 15) {
    case 0: {
        u16 port = pick_port(f, r);
        unsigned size = take_size(r);
        port_write(f, port, size, take(r, 4));
        break;
    }
    case 1: {
        u16 port = pick_port(f, r);
        mmu_io_read(f->m, port, take_size(r));
        break;
    }
    case 2: {
        u8 devfn = pick_devfn(r);
        u8 reg = (u8)take(r, 1);
        unsigned size = take_size(r);
        cfg_write(f, devfn, reg, size, take(r, 4));
        if (devfn == IDE_DEVFN && (reg & 0xfc) == 0x20)
            f->bm_base = (u16)(cfg_read(f, IDE_DEVFN, 0x20, 4) & 0xfff0);
        break;
    }
    case 3: {
        u8 devfn = pick_devfn(r);
        u8 reg = (u8)take(r, 1);
        cfg_read(f, devfn, reg, take_size(r));
        break;
    }
    case 4:
        mmu_phys_write(f->m, 0xa0000 + (take(r, 3) & 0x1ffff), take(r, 1), 1);
        break;
    case 5:
        mmu_phys_read(f->m, 0xa0000 + (take(r, 3) & 0x1ffff), take_size(r));
        break;
    case 6:
        mem_write(f, r);
        break;
    case 7:
        write_prd(f, r);
        break;
    case 8:
        dma_command(f, r);
        break;
    case 9:
        atapi_packet(f, r);
        break;
    case 10: {
        u32 addr = pick_addr(r);
        if (op & 0x80) {
            u8 buf[256];
            mmu_phys_copy_out(f->m, addr, buf, take(r, 1));
        } else {
            mmu_phys_read(f->m, addr, take_size(r));
        }
        break;
    }
    case 11:
        if (f->pc->vga && f->renders < 2) {
            f->renders++;
            vga_render(f->pc->vga, &surface, op & 0x80);
        }
        break;
    case 12:
        run_timers(f, r);
        break;
    case 13:
        ata_pio(f, r);
        break;
    case 14: {
        u16 port = (u16)take(r, 2);
        unsigned size = take_size(r);
        if (op & 0x80)
            mmu_io_read(f->m, port, size);
        else
            port_write(f, port, size, take(r, 4));
        break;
    }
    default:
        vga_burst(f, r);
        break;
    }
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
    reset_disk0();
    struct pc_config cfg = {
        .ram_mib = RAM_MIB,
        .no_reboot = true,
        .debugcon_off = true,
        .interp = true,
        .mmu_contexts = 1,  /* the CPU never runs: keep set-up cheap */
        .virtual_clock = true,
        .rtc_base = 1700000000,
        .apic = true,
        .vga = true,
        .drive = {
            { disk0_path, "-hda", false, false, false },
            { cd_path, "-hdb", true, true, false },
            { disk2_path, "-hdc", false, false, true },
        },
    };
    struct pc *pc = pc_new(&cfg, 0);
    if (!pc)
        abort();
    struct fz f = { .pc = pc, .m = pc->mmu };
    struct rd r = { data, size };
    for (unsigned n = 0; r.n && n < 512; n++)
        step(&f, &r);
    pc_free(pc);
    return 0;
}
