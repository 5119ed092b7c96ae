/*
 * The VGA chip as the guest sees it: sequencer, CRT controller, graphics
 * controller, attribute controller, DAC, misc output and input status
 * registers, the 0xA0000-0xBFFFF memory window with its four planes, and
 * the Bochs VBE "dispi" extension with a 16 MiB linear framebuffer.
 *
 * Sources: IBM VGA Technical Reference (register descriptions), FreeVGA
 * ("VGA Chipset Reference": Graphics Registers, Sequencer, Attribute
 * Controller, DAC Operation), Bochs' vbe.h and docs for the dispi ports.
 *
 * Memory.  Plane p's byte at planar offset o (0..64K) is vram[o * 4 + p].
 * The CPU address inside the selected window (GC 6 bits 2-3) picks the
 * offset and planes as the sequencer's memory mode says:
 *   chain 4 (SR4 bit 3):        plane = A & 3, offset = A & ~3
 *   odd/even (SR4 bit 2 clear): planes of A's parity, offset = A & ~1
 *   planar:                     planes per map mask (write) or read map
 *                               select (read), offset = A
 * The CRTC reads planar memory back with the same offsets (dword mode for
 * chain 4, word mode for odd/even), so each mode's picture is where the
 * real chip would look for it.  With dispi enabled the window is a 64 KiB
 * bank of vram used linearly, and the framebuffer is all of vram.
 *
 * Invariants: every vram index is below VGA_VRAM_SIZE (planar offsets are
 * masked to 16 bits, the bank to 8); nothing the guest writes can make the
 * adapter touch memory outside vram.
 */
#include "vga.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mmu/mmu.h"

#define VGA_WINDOW_BASE 0xa0000u
#define VGA_WINDOW_SIZE 0x20000u

/* ---- memory window ---- */

static inline u8 ror8(u8 v, unsigned n)
{
    n &= 7;
    return (u8)((v >> n) | (v << ((8 - n) & 7)));
}

/* Offset of the access inside the window GC 6 selects, or -1 when the
 * address is outside it (FreeVGA, Miscellaneous Graphics Register). */
static int window_offset(const struct vga *v, u32 offset)
{
    static const u32 base[4] = { 0, 0, 0x10000, 0x18000 };
    static const u32 size[4] = { 0x20000, 0x10000, 0x8000, 0x8000 };
    unsigned map = (v->gc[6] >> 2) & 3;
    if (offset - base[map] >= size[map])
        return -1;
    return (int)(offset - base[map]);
}

static bool vbe_on(const struct vga *v)
{
    return v->vbe[VBE_INDEX_ENABLE] & VBE_ENABLED;
}

static void load_latches(struct vga *v, u32 o)
{
    memcpy(v->latch, &v->vram[(o & 0xffff) * 4], 4);
}

u8 vga_mem_read(struct vga *v, u32 offset)
{
    if (vbe_on(v)) {
        if (offset >= 0x10000)
            return 0xff;
        return v->vram[((u32)v->vbe[VBE_INDEX_BANK] << 16) + offset];
    }
    int a = window_offset(v, offset);
    if (a < 0)
        return 0xff;
    u32 o;
    unsigned plane;
    if (v->seq[4] & 0x08) {
        o = (u32)a & ~3u;
        plane = a & 3;
    } else if (v->gc[5] & 0x10) {
        /* Host odd/even read: A0 picks plane 0/1 or 2/3. */
        o = (u32)a & ~1u;
        plane = (v->gc[4] & 2) | (a & 1);
    } else {
        o = (u32)a;
        plane = v->gc[4] & 3;
    }
    load_latches(v, o);
    if (!(v->gc[5] & 0x08))
        return v->latch[plane];
    /* Read mode 1: a 1 for each pixel whose colour, over the planes not
     * ignored by Color Don't Care, equals Color Compare. */
    u8 diff = 0;
    for (unsigned p = 0; p < 4; p++) {
        if (!((v->gc[7] >> p) & 1))
            continue;
        u8 want = ((v->gc[2] >> p) & 1) ? 0xff : 0x00;
        diff |= v->latch[p] ^ want;
    }
    return (u8)~diff;
}

/* The four bytes write mode `gc[5] & 3` produces for the CPU byte `val`
 * (FreeVGA, Graphics Registers: Graphics Mode Register, write modes 0-3). */
static void write_pipeline(const struct vga *v, u8 val, u8 out[4])
{
    unsigned mode = v->gc[5] & 3;
    u8 sr = v->gc[0], esr = v->gc[1], mask = v->gc[8];
    unsigned func = (v->gc[3] >> 3) & 3;
    if (mode == 1) {
        memcpy(out, v->latch, 4);
        return;
    }
    u8 rot = ror8(val, v->gc[3] & 7);
    if (mode == 3)
        mask &= rot;
    for (unsigned p = 0; p < 4; p++) {
        u8 srb = ((sr >> p) & 1) ? 0xff : 0x00;
        u8 d;
        if (mode == 0)
            d = ((esr >> p) & 1) ? srb : rot;
        else if (mode == 2)
            d = ((val >> p) & 1) ? 0xff : 0x00;
        else
            d = srb;
        switch (func) {
        case 1: d &= v->latch[p]; break;
        case 2: d |= v->latch[p]; break;
        case 3: d ^= v->latch[p]; break;
        default: break;
        }
        out[p] = (u8)((d & mask) | (v->latch[p] & ~mask));
    }
}

void vga_mem_write(struct vga *v, u32 offset, u8 val)
{
    v->touched = true;
    if (vbe_on(v)) {
        if (offset < 0x10000)
            v->vram[((u32)v->vbe[VBE_INDEX_BANK] << 16) + offset] = val;
        return;
    }
    int a = window_offset(v, offset);
    if (a < 0)
        return;
    u32 o;
    u8 planes = v->seq[2] & 0x0f;
    if (v->seq[4] & 0x08) {
        o = (u32)a & ~3u;
        planes &= (u8)(1u << (a & 3));
    } else if (!(v->seq[4] & 0x04)) {
        /* Odd/even: even addresses reach planes 0 and 2, odd 1 and 3. */
        o = (u32)a & ~1u;
        planes &= (a & 1) ? 0x0a : 0x05;
    } else {
        o = (u32)a;
    }
    u8 out[4];
    write_pipeline(v, val, out);
    u8 *dst = &v->vram[(o & 0xffff) * 4];
    for (unsigned p = 0; p < 4; p++)
        if ((planes >> p) & 1)
            dst[p] = out[p];
}

static u32 window_read(void *opaque, u32 offset, unsigned size)
{
    u32 r = 0;
    for (unsigned k = 0; k < size; k++)
        r |= (u32)vga_mem_read(opaque, offset + k) << (8 * k);
    return r;
}

static void window_write(void *opaque, u32 offset, u32 val, unsigned size)
{
    for (unsigned k = 0; k < size; k++)
        vga_mem_write(opaque, offset + k, (u8)(val >> (8 * k)));
}

static const struct mmio_ops window_ops = { window_read, window_write };

/* ---- registers ---- */

/* The CRTC and input status 1 answer at 0x3Dx with a colour misc output
 * (bit 0 set) and at 0x3Bx with a monochrome one. */
static bool port_decoded(const struct vga *v, u16 port)
{
    if (port >= 0x3b0 && port <= 0x3bf)
        return !(v->misc & 1);
    if (port >= 0x3d0 && port <= 0x3df)
        return v->misc & 1;
    return true;
}

static u8 dac_mask(const struct vga *v)
{
    return (v->vbe[VBE_INDEX_ENABLE] & VBE_8BIT_DAC) ? 0xff : 0x3f;
}

u32 vga_ioport_read(struct vga *v, u16 port)
{
    if (!port_decoded(v, port))
        return 0xff;
    switch (port) {
    case 0x3c0:
        return v->ar_index;
    case 0x3c1:
        return v->ar[v->ar_index & 0x1f];
    case 0x3c2:
        return 0; /* input status 0: no switch sense, no pending retrace IRQ */
    case 0x3c4:
        return v->seq_index;
    case 0x3c5:
        return v->seq[v->seq_index & 7];
    case 0x3c6:
        return v->pel_mask;
    case 0x3c7:
        return v->dac_reading ? 0x03 : 0x00;
    case 0x3c8:
        return v->dac_write_index;
    case 0x3c9: {
        u8 c = v->dac[v->dac_read_index][v->dac_sub];
        if (++v->dac_sub == 3) {
            v->dac_sub = 0;
            v->dac_read_index++;
        }
        return c;
    }
    case 0x3ca:
        return v->feature;
    case 0x3cc:
        return v->misc;
    case 0x3ce:
        return v->gc_index;
    case 0x3cf:
        return v->gc[v->gc_index & 0x0f];
    case 0x3b4:
    case 0x3d4:
        return v->crtc_index;
    case 0x3b5:
    case 0x3d5:
        return v->crtc[v->crtc_index & 0x1f];
    case 0x3ba:
    case 0x3da:
        /* Input status 1: reading it sends 0x3C0 back to its index state.
         * Display-enable (bit 0) and vertical retrace (bit 3) toggle on
         * every read, so a guest waiting for either edge sees it. */
        v->ar_flip = false;
        v->retrace ^= 0x09;
        return v->retrace;
    default:
        return 0xff;
    }
}

static void ar_write(struct vga *v, u8 val)
{
    if (!v->ar_flip) {
        v->ar_index = val & 0x3f;
    } else {
        unsigned i = v->ar_index & 0x1f;
        /* The palette registers are locked while the palette address
         * source bit (index bit 5) lets the display read them. */
        if (i < 0x10 && !(v->ar_index & 0x20))
            v->ar[i] = val & 0x3f;
        else if (i >= 0x10 && i <= 0x14)
            v->ar[i] = val;
    }
    v->ar_flip = !v->ar_flip;
}

static void crtc_write(struct vga *v, u8 val)
{
    unsigned i = v->crtc_index & 0x1f;
    if (i > 0x18)
        return;
    /* CR11 bit 7 protects CR00-CR07, except CR07's line compare bit 8. */
    if ((v->crtc[0x11] & 0x80) && i <= 7) {
        if (i == 7)
            v->crtc[7] = (u8)((v->crtc[7] & ~0x10) | (val & 0x10));
        return;
    }
    v->crtc[i] = val;
}

static void dac_data_write(struct vga *v, u8 val)
{
    v->dac_cache[v->dac_sub] = val & dac_mask(v);
    if (++v->dac_sub == 3) {
        memcpy(v->dac[v->dac_write_index], v->dac_cache, 3);
        v->dac_sub = 0;
        v->dac_write_index++;
    }
}

void vga_ioport_write(struct vga *v, u16 port, u8 val)
{
    if (!port_decoded(v, port))
        return;
    v->touched = true;
    switch (port) {
    case 0x3c0:
        ar_write(v, val);
        break;
    case 0x3c2:
        v->misc = val;
        break;
    case 0x3c4:
        v->seq_index = val;
        break;
    case 0x3c5:
        if ((v->seq_index & 7) <= 4)
            v->seq[v->seq_index & 7] = val;
        break;
    case 0x3c6:
        v->pel_mask = val;
        break;
    case 0x3c7:
        v->dac_read_index = val;
        v->dac_sub = 0;
        v->dac_reading = true;
        break;
    case 0x3c8:
        v->dac_write_index = val;
        v->dac_sub = 0;
        v->dac_reading = false;
        break;
    case 0x3c9:
        dac_data_write(v, val);
        break;
    case 0x3ce:
        v->gc_index = val;
        break;
    case 0x3cf:
        if ((v->gc_index & 0x0f) <= 8)
            v->gc[v->gc_index & 0x0f] = val;
        break;
    case 0x3b4:
    case 0x3d4:
        v->crtc_index = val;
        break;
    case 0x3b5:
    case 0x3d5:
        crtc_write(v, val);
        break;
    case 0x3ba:
    case 0x3da:
        v->feature = val;
        break;
    default:
        LOG(v->log, UNIMP, "vga: write %02x to port %03x", val, port);
        break;
    }
}

static u32 regs_read(void *opaque, u16 port, unsigned size)
{
    u32 r = 0;
    for (unsigned k = 0; k < size; k++)
        r |= (vga_ioport_read(opaque, (u16)(port + k)) & 0xff) << (8 * k);
    return r;
}

/* A 16-bit OUT to an index port writes the index and then the data. */
static void regs_write(void *opaque, u16 port, u32 val, unsigned size)
{
    for (unsigned k = 0; k < size; k++)
        vga_ioport_write(opaque, (u16)(port + k), (u8)(val >> (8 * k)));
}

static const struct io_ops regs_ops = { regs_read, regs_write };

/* ---- Bochs VBE dispi ---- */

static unsigned vbe_bytes_pp(const struct vga *v)
{
    return (v->vbe[VBE_INDEX_BPP] + 7u) / 8u;
}

static bool vbe_bpp_valid(u16 bpp)
{
    return bpp == 8 || bpp == 15 || bpp == 16 || bpp == 24 || bpp == 32;
}

/* Derived geometry: pitch, virtual height, start of the picture. */
static void vbe_update(struct vga *v)
{
    u16 *r = v->vbe;
    unsigned bpp = vbe_bytes_pp(v);
    if (r[VBE_INDEX_VIRT_WIDTH] < r[VBE_INDEX_XRES])
        r[VBE_INDEX_VIRT_WIDTH] = r[VBE_INDEX_XRES];
    v->vbe_pitch = (u32)r[VBE_INDEX_VIRT_WIDTH] * bpp;
    u32 vh = v->vbe_pitch ? VGA_VRAM_SIZE / v->vbe_pitch : 0;
    r[VBE_INDEX_VIRT_HEIGHT] = (u16)(vh > 0xffff ? 0xffff : vh);
    v->vbe_start = (u32)r[VBE_INDEX_Y_OFFSET] * v->vbe_pitch + (u32)r[VBE_INDEX_X_OFFSET] * bpp;
}

static void vbe_enable(struct vga *v, u16 val)
{
    u16 *r = v->vbe;
    if (!(r[VBE_INDEX_ENABLE] & VBE_ENABLED)) {
        /* Out-of-range modes are brought into range, as Bochs does. */
        if (!vbe_bpp_valid(r[VBE_INDEX_BPP]))
            r[VBE_INDEX_BPP] = 8;
        r[VBE_INDEX_XRES] = (u16)((r[VBE_INDEX_XRES] + 7u) & ~7u);
        if (r[VBE_INDEX_XRES] == 0 || r[VBE_INDEX_XRES] > VBE_MAX_XRES)
            r[VBE_INDEX_XRES] = 640;
        if (r[VBE_INDEX_YRES] == 0 || r[VBE_INDEX_YRES] > VBE_MAX_YRES)
            r[VBE_INDEX_YRES] = 480;
        r[VBE_INDEX_VIRT_WIDTH] = r[VBE_INDEX_XRES];
        r[VBE_INDEX_X_OFFSET] = r[VBE_INDEX_Y_OFFSET] = 0;
        r[VBE_INDEX_BANK] = 0;
        vbe_update(v);
        if (!(val & VBE_NOCLEARMEM))
            memset(v->vram, 0, (size_t)v->vbe_pitch * r[VBE_INDEX_YRES]);
    }
    r[VBE_INDEX_ENABLE] = val & (VBE_ENABLED | VBE_8BIT_DAC | VBE_LFB_ENABLED | VBE_GETCAPS);
}

static u16 vbe_read(struct vga *v)
{
    u16 i = v->vbe_index;
    if (i == VBE_INDEX_VIDEO_MEMORY_64K)
        return VGA_VRAM_SIZE >> 16;
    if (i >= VBE_INDEX_COUNT)
        return 0;
    if (v->vbe[VBE_INDEX_ENABLE] & VBE_GETCAPS) {
        if (i == VBE_INDEX_XRES)
            return VBE_MAX_XRES;
        if (i == VBE_INDEX_YRES)
            return VBE_MAX_YRES;
        if (i == VBE_INDEX_BPP)
            return 32;
    }
    return v->vbe[i];
}

static void vbe_write(struct vga *v, u16 val)
{
    u16 *r = v->vbe;
    bool on = r[VBE_INDEX_ENABLE] & VBE_ENABLED;
    switch (v->vbe_index) {
    case VBE_INDEX_ID:
        if (val >= VBE_ID0 && val <= VBE_ID5)
            r[VBE_INDEX_ID] = val;
        break;
    case VBE_INDEX_XRES:
    case VBE_INDEX_YRES:
    case VBE_INDEX_BPP:
        /* The mode cannot change while it is displayed. */
        if (!on)
            r[v->vbe_index] = val;
        break;
    case VBE_INDEX_ENABLE:
        vbe_enable(v, val);
        break;
    case VBE_INDEX_BANK:
        r[VBE_INDEX_BANK] = val & ((VGA_VRAM_SIZE >> 16) - 1);
        break;
    case VBE_INDEX_VIRT_WIDTH:
        if (!on)
            break;
        if ((u32)val * vbe_bytes_pp(v) * r[VBE_INDEX_YRES] <= VGA_VRAM_SIZE)
            r[VBE_INDEX_VIRT_WIDTH] = val;
        vbe_update(v);
        break;
    case VBE_INDEX_X_OFFSET:
    case VBE_INDEX_Y_OFFSET:
        r[v->vbe_index] = val;
        if (on)
            vbe_update(v);
        break;
    default:
        break;
    }
}

static u32 dispi_read(void *opaque, u16 port, unsigned size)
{
    struct vga *v = opaque;
    return port == 0x1ce ? v->vbe_index : vbe_read(v);
}

static void dispi_write(void *opaque, u16 port, u32 val, unsigned size)
{
    struct vga *v = opaque;
    v->touched = true;
    if (port == 0x1ce)
        v->vbe_index = (u16)val;
    else
        vbe_write(v, (u16)val);
}

static const struct io_ops dispi_ops = { dispi_read, dispi_write };

bool vga_take_changes(struct vga *v)
{
    bool changed = v->touched || vbe_on(v);
    v->touched = false;
    return changed;
}

/* ---- lifecycle ---- */

void vga_reset(struct vga *v)
{
    memset(v->seq, 0, sizeof v->seq);
    memset(v->gc, 0, sizeof v->gc);
    memset(v->crtc, 0, sizeof v->crtc);
    memset(v->ar, 0, sizeof v->ar);
    memset(v->vbe, 0, sizeof v->vbe);
    v->misc = 0;
    v->seq_index = v->gc_index = v->crtc_index = v->ar_index = 0;
    v->ar_flip = false;
    v->feature = 0;
    v->dac_read_index = v->dac_write_index = v->dac_sub = 0;
    v->dac_reading = false;
    v->pel_mask = 0xff;
    v->vbe_index = 0;
    v->vbe[VBE_INDEX_ID] = VBE_ID5;
    v->vbe_start = v->vbe_pitch = 0;
    v->touched = true;
}

struct vga *vga_new(struct mmu *m, struct logger *log)
{
    struct vga *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->mmu = m;
    v->log = log;
    /* Page aligned, as the framebuffer is mapped into guest physical
     * space; zero, and backed only where the guest draws. */
    void *mem = mmap(NULL, VGA_VRAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (mem == MAP_FAILED) {
        free(v);
        return NULL;
    }
    v->vram = mem;
    vga_reset(v);
    if (mmu_map_io(m, 0x3b0, 0x30, &regs_ops, v) < 0 ||
        mmu_map_io(m, 0x1ce, 2, &dispi_ops, v) < 0 ||
        mmu_map_mmio(m, VGA_WINDOW_BASE, VGA_WINDOW_SIZE, &window_ops, v) < 0 ||
        vga_map_lfb(v, VGA_LFB_DEFAULT) < 0) {
        vga_free(v);
        return NULL;
    }
    return v;
}

int vga_map_lfb(struct vga *v, u32 base)
{
    if (v->lfb_base)
        mmu_unmap(v->mmu, v->lfb_base, VGA_VRAM_SIZE);
    v->lfb_base = 0;
    if (!base)
        return 0;
    if (mmu_map_ram(v->mmu, base, v->vram, VGA_VRAM_SIZE) < 0)
        return -1;
    v->lfb_base = base;
    return 0;
}

void vga_free(struct vga *v)
{
    if (!v)
        return;
    /* The bus must not keep pointing at memory about to be freed. */
    if (v->lfb_base)
        mmu_unmap(v->mmu, v->lfb_base, VGA_VRAM_SIZE);
    munmap(v->vram, VGA_VRAM_SIZE);
    free(v->rom);
    free(v);
}
