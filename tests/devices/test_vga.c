/*
 * The VGA through its port and memory callbacks: the attribute
 * controller's flip-flop, DAC auto-increment, CRTC port decoding and
 * write protection, latches, write modes 0-3 with set/reset, rotate,
 * logical functions and bit mask, read mode 1, chain 4 and odd/even
 * addressing, the dispi registers and the framebuffer mapped as RAM.
 * Expected values follow FreeVGA's register descriptions.
 */
#include <check.h>
#include <stdlib.h>

#include "common/counters.h"
#include "common/log.h"
#include "devices/vga.h"
#include "mmu/mmu.h"

static struct counters cnt;
static struct logger lg;
static struct mmu *m;
static struct vga *v;

static void setup(void)
{
    cnt = (struct counters){ 0 };
    log_init(&lg);
    m = mmu_new(2u << 20, &cnt, &lg);
    ck_assert_ptr_nonnull(m);
    v = vga_new(m, &lg);
    ck_assert_ptr_nonnull(v);
}

static void teardown(void)
{
    vga_free(v);
    mmu_free(m);
}

static void out8(u16 port, u8 val)
{
    mmu_io_write(m, port, val, 1);
}

static u8 in8(u16 port)
{
    return (u8)mmu_io_read(m, port, 1);
}

static void gc(u8 i, u8 val)
{
    out8(0x3ce, i);
    out8(0x3cf, val);
}

static void seq(u8 i, u8 val)
{
    out8(0x3c4, i);
    out8(0x3c5, val);
}

/* Planar mode: sequential addresses, window at 0xA0000, all planes. */
static void planar(void)
{
    seq(2, 0x0f);
    seq(4, 0x06);
    gc(5, 0x00);
    gc(6, 0x05);
    gc(8, 0xff);
}

static u8 plane(unsigned p, u32 o)
{
    return v->vram[o * 4 + p];
}

START_TEST(attribute_flip_flop)
{
    in8(0x3da); /* misc = 0: input status 1 is at 0x3BA, not 0x3DA */
    out8(0x3c2, 0x01);
    in8(0x3da);
    out8(0x3c0, 0x02);          /* index */
    out8(0x3c0, 0x15);          /* data */
    ck_assert_uint_eq(v->ar[2], 0x15);
    out8(0x3c0, 0x03);          /* index again */
    ck_assert_uint_eq(in8(0x3c0), 0x03);
    /* A read of input status 1 puts the next write back to index. */
    in8(0x3da);
    out8(0x3c0, 0x04);
    out8(0x3c0, 0x2a);
    ck_assert_uint_eq(v->ar[4], 0x2a);
    ck_assert_uint_eq(v->ar[3], 0);
    /* With the palette address source set, palette registers are locked. */
    in8(0x3da);
    out8(0x3c0, 0x24);
    out8(0x3c0, 0x01);
    ck_assert_uint_eq(v->ar[4], 0x2a);
    ck_assert_uint_eq(in8(0x3c1), 0x2a);
}
END_TEST

START_TEST(dac_auto_increment)
{
    out8(0x3c8, 250);
    for (unsigned k = 0; k < 12; k++)
        out8(0x3c9, (u8)(k * 5 + 0x40)); /* 6 bits kept */
    ck_assert_uint_eq(in8(0x3c8), 254);
    ck_assert_uint_eq(v->dac[250][0], 0x00);
    ck_assert_uint_eq(v->dac[253][2], (11 * 5 + 0x40) & 0x3f);
    out8(0x3c7, 251);
    ck_assert_uint_eq(in8(0x3c7), 0x03);
    for (unsigned k = 3; k < 9; k++)
        ck_assert_uint_eq(in8(0x3c9), (k * 5 + 0x40) & 0x3f);
    /* Two entries read: the read index moved on to 253. */
    ck_assert_uint_eq(in8(0x3c9), (9 * 5 + 0x40) & 0x3f);
    /* The write index wraps from 255 to 0. */
    out8(0x3c8, 255);
    for (unsigned k = 0; k < 6; k++)
        out8(0x3c9, 7);
    ck_assert_uint_eq(v->dac[0][1], 7);
    ck_assert_uint_eq(in8(0x3c8), 1);
    ck_assert_uint_eq(in8(0x3c7), 0x00);
}
END_TEST

START_TEST(crtc_decoding_and_protect)
{
    out8(0x3c2, 0x00);                  /* monochrome: CRTC at 0x3B4 */
    out8(0x3b4, 0x0e);
    out8(0x3b5, 0x12);
    ck_assert_uint_eq(v->crtc[0x0e], 0x12);
    ck_assert_uint_eq(in8(0x3d5), 0xff);
    out8(0x3c2, 0x01);                  /* colour: CRTC at 0x3D4 */
    out8(0x3d4, 0x0e);
    ck_assert_uint_eq(in8(0x3d5), 0x12);
    out8(0x3b4, 0x0e);
    out8(0x3b5, 0x99);
    ck_assert_uint_eq(v->crtc[0x0e], 0x12);
    /* CR11 bit 7 write-protects CR00-CR07 except CR07 bit 4. */
    out8(0x3d4, 0x11);
    out8(0x3d5, 0x80);
    out8(0x3d4, 0x01);
    out8(0x3d5, 0x4f);
    ck_assert_uint_eq(v->crtc[1], 0);
    out8(0x3d4, 0x07);
    out8(0x3d5, 0xff);
    ck_assert_uint_eq(v->crtc[7], 0x10);
    /* A 16-bit OUT writes index and data. */
    mmu_io_write(m, 0x3d4, 0x3412, 2);
    ck_assert_uint_eq(v->crtc[0x12], 0x34);
}
END_TEST

START_TEST(write_mode_0)
{
    planar();
    /* Set/reset: planes 0 and 2 enabled for set/reset, value 0b0101. */
    gc(0, 0x05);
    gc(1, 0x05);
    mmu_phys_write(m, 0xa0010, 0x3c, 1);
    ck_assert_uint_eq(plane(0, 0x10), 0xff);
    ck_assert_uint_eq(plane(1, 0x10), 0x3c);
    ck_assert_uint_eq(plane(2, 0x10), 0xff);
    ck_assert_uint_eq(plane(3, 0x10), 0x3c);
    /* Rotate by 4, XOR with the latches, bit mask 0x0f. */
    gc(1, 0x00);
    (void)mmu_phys_read(m, 0xa0010, 1);         /* latches: ff 3c ff 3c */
    gc(3, 0x18 | 4);
    gc(8, 0x0f);
    mmu_phys_write(m, 0xa0010, 0x21, 1);        /* rotated: 0x12 */
    ck_assert_uint_eq(plane(0, 0x10), 0xf0 | ((0xff ^ 0x12) & 0x0f));
    ck_assert_uint_eq(plane(1, 0x10), 0x30 | ((0x3c ^ 0x12) & 0x0f));
    /* AND function; map mask limits the planes written. */
    seq(2, 0x02);
    gc(3, 0x08);
    gc(8, 0xff);
    (void)mmu_phys_read(m, 0xa0010, 1);
    mmu_phys_write(m, 0xa0010, 0xf0, 1);
    ck_assert_uint_eq(plane(1, 0x10), (0x30 | ((0x3c ^ 0x12) & 0x0f)) & 0xf0);
    ck_assert_uint_eq(plane(0, 0x10), 0xf0 | ((0xff ^ 0x12) & 0x0f));
}
END_TEST

START_TEST(write_modes_1_2_3)
{
    planar();
    for (unsigned p = 0; p < 4; p++)
        v->vram[0x20 * 4 + p] = (u8)(0x11 * (p + 1));
    /* Mode 1: the latches are copied whole. */
    gc(5, 0x01);
    (void)mmu_phys_read(m, 0xa0020, 1);
    mmu_phys_write(m, 0xa0030, 0x00, 1);
    for (unsigned p = 0; p < 4; p++)
        ck_assert_uint_eq(plane(p, 0x30), 0x11 * (p + 1));
    /* Mode 2: bit p of the value fills plane p; bit mask from latches. */
    gc(5, 0x02);
    gc(8, 0xc3);
    (void)mmu_phys_read(m, 0xa0020, 1);
    mmu_phys_write(m, 0xa0020, 0x09, 1);
    ck_assert_uint_eq(plane(0, 0x20), 0xc3 | (0x11 & 0x3c));
    ck_assert_uint_eq(plane(1, 0x20), 0x22 & 0x3c);
    ck_assert_uint_eq(plane(2, 0x20), 0x33 & 0x3c);
    ck_assert_uint_eq(plane(3, 0x20), 0xc3 | (0x44 & 0x3c));
    /* Mode 3: set/reset colour, the rotated value ANDed into the mask. */
    gc(5, 0x03);
    gc(0, 0x06);
    gc(8, 0xf0);
    gc(3, 0x01);                                /* rotate right by 1 */
    (void)mmu_phys_read(m, 0xa0040, 1);         /* latches 0 */
    mmu_phys_write(m, 0xa0040, 0x3c, 1);        /* rotated 0x1e; mask 0x10 */
    ck_assert_uint_eq(plane(0, 0x40), 0x00);
    ck_assert_uint_eq(plane(1, 0x40), 0x10);
    ck_assert_uint_eq(plane(2, 0x40), 0x10);
    ck_assert_uint_eq(plane(3, 0x40), 0x00);
}
END_TEST

START_TEST(read_modes)
{
    planar();
    v->vram[0x50 * 4 + 0] = 0xf0;
    v->vram[0x50 * 4 + 1] = 0xcc;
    v->vram[0x50 * 4 + 2] = 0xaa;
    v->vram[0x50 * 4 + 3] = 0x0f;
    gc(4, 2);                                   /* read map select */
    ck_assert_uint_eq(mmu_phys_read(m, 0xa0050, 1), 0xaa);
    /* Read mode 1: colour 0b0011 in planes 0-1 (2-3 don't care). */
    gc(5, 0x08);
    gc(2, 0x03);
    gc(7, 0x03);
    ck_assert_uint_eq(mmu_phys_read(m, 0xa0050, 1), 0xf0 & 0xcc);
    gc(7, 0x0f);
    ck_assert_uint_eq(mmu_phys_read(m, 0xa0050, 1), 0xf0 & 0xcc & ~0xaa & ~0x0f & 0xff);
}
END_TEST

START_TEST(chain4_and_odd_even)
{
    seq(2, 0x0f);
    seq(4, 0x0e);                               /* chain 4 */
    gc(6, 0x05);
    gc(8, 0xff);
    mmu_phys_write(m, 0xa0000 + 0x107, 0x5a, 1);
    ck_assert_uint_eq(plane(3, 0x104), 0x5a);
    ck_assert_uint_eq(mmu_phys_read(m, 0xa0000 + 0x107, 1), 0x5a);
    /* Odd/even at 0xB8000: even bytes to plane 0, odd to plane 1. */
    seq(4, 0x02);
    seq(2, 0x03);
    gc(5, 0x10);
    gc(6, 0x0e);
    mmu_phys_write(m, 0xb8000 + 6, 0x4241, 2);
    ck_assert_uint_eq(plane(0, 6), 0x41);
    ck_assert_uint_eq(plane(1, 6), 0x42);
    ck_assert_uint_eq(mmu_phys_read(m, 0xb8006, 2), 0x4241);
    /* Outside the selected window: open bus. */
    ck_assert_uint_eq(mmu_phys_read(m, 0xa0000, 1), 0xff);
}
END_TEST

static void dispi(u16 index, u16 val)
{
    mmu_io_write(m, 0x1ce, index, 2);
    mmu_io_write(m, 0x1cf, val, 2);
}

static u16 dispi_get(u16 index)
{
    mmu_io_write(m, 0x1ce, index, 2);
    return (u16)mmu_io_read(m, 0x1cf, 2);
}

START_TEST(dispi_and_framebuffer)
{
    ck_assert_uint_eq(dispi_get(VBE_INDEX_ID), VBE_ID5);
    ck_assert_uint_eq(dispi_get(VBE_INDEX_VIDEO_MEMORY_64K), 256);
    dispi(VBE_INDEX_ENABLE, VBE_GETCAPS);
    ck_assert_uint_eq(dispi_get(VBE_INDEX_XRES), VBE_MAX_XRES);
    dispi(VBE_INDEX_ENABLE, 0);
    dispi(VBE_INDEX_XRES, 800);
    dispi(VBE_INDEX_YRES, 600);
    dispi(VBE_INDEX_BPP, 16);
    v->vram[5] = 0x77;
    dispi(VBE_INDEX_ENABLE, VBE_ENABLED | VBE_LFB_ENABLED);
    ck_assert_uint_eq(v->vram[5], 0);           /* cleared without NOCLEARMEM */
    ck_assert_uint_eq(dispi_get(VBE_INDEX_VIRT_WIDTH), 800);
    ck_assert_uint_eq(dispi_get(VBE_INDEX_VIRT_HEIGHT), VGA_VRAM_SIZE / 1600);
    dispi(VBE_INDEX_XRES, 1024);                /* ignored while enabled */
    ck_assert_uint_eq(dispi_get(VBE_INDEX_XRES), 800);
    /* The framebuffer is RAM at its base; the window shows a bank. */
    mmu_phys_write(m, VGA_LFB_DEFAULT + 0x30004, 0xdeadbeef, 4);
    ck_assert_uint_eq(v->vram[0x30004], 0xef);
    dispi(VBE_INDEX_BANK, 3);
    ck_assert_uint_eq(mmu_phys_read(m, 0xa0004, 4), 0xdeadbeef);
    ck_assert(m->page_flags[VGA_LFB_DEFAULT >> 12] & PG_RAM);
    /* Moved (a PCI BAR): the old place reads as nothing. */
    ck_assert_int_eq(vga_map_lfb(v, 0xfd000000u), 0);
    ck_assert_uint_eq(mmu_phys_read(m, 0xfd030004u, 4), 0xdeadbeef);
    ck_assert_uint_eq(mmu_phys_read(m, VGA_LFB_DEFAULT + 0x30004, 4), 0xffffffffu);
    /* It may not cover guest RAM. */
    ck_assert_int_eq(vga_map_lfb(v, 0x100000), -1);
}
END_TEST

START_TEST(render_text_cell)
{
    /* An 8-dot character in a 2x1 text screen: the glyph from plane 2
     * in the foreground colour, the rest in the background colour. */
    out8(0x3c2, 0x01);
    seq(1, 0x01);
    v->crtc[0x01] = 1;                         /* two columns */
    v->crtc[0x09] = 0x07;                      /* 8 lines per row */
    v->crtc[0x12] = 7;                         /* 8 lines shown */
    v->crtc[0x13] = 1;
    v->crtc[0x0a] = 0x20;                      /* no cursor */
    v->ar_index = 0x20;
    for (unsigned i = 0; i < 16; i++)
        v->ar[i] = (u8)i;
    v->dac[1][0] = 63;                         /* colour 1: red */
    v->dac[2][2] = 63;                         /* colour 2: blue */
    v->vram[0] = 'A';
    v->vram[1] = 0x21;                         /* fg 1 on bg 2 */
    for (unsigned y = 0; y < 8; y++)
        v->vram[('A' * 32 + y) * 4 + 2] = (u8)(0x80 >> y);
    struct vga_surface s = { calloc((size_t)VGA_MAX_W * VGA_MAX_H, sizeof(u32)), 0, 0 };
    ck_assert_ptr_nonnull(s.px);
    vga_render(v, &s, true);
    ck_assert_uint_eq(s.w, 16);
    ck_assert_uint_eq(s.h, 8);
    for (unsigned y = 0; y < 8; y++)
        for (unsigned x = 0; x < 8; x++)
            ck_assert_uint_eq(s.px[y * 16 + x], x == y ? 0xff0000u : 0x0000ffu);
    free(s.px);
}
END_TEST

START_TEST(render_dispi_panning)
{
    /* 16x8 at 8 bpp on a 32-pixel-wide virtual screen shown from (4, 2):
     * surface pixel (x, y) is video memory byte (y + 2) * 32 + x + 4. */
    dispi(VBE_INDEX_XRES, 16);
    dispi(VBE_INDEX_YRES, 8);
    dispi(VBE_INDEX_BPP, 8);
    dispi(VBE_INDEX_ENABLE, VBE_ENABLED | VBE_8BIT_DAC);
    dispi(VBE_INDEX_VIRT_WIDTH, 32);
    dispi(VBE_INDEX_X_OFFSET, 4);
    dispi(VBE_INDEX_Y_OFFSET, 2);
    /* 16 MiB / 32 lines is more than the 16-bit register holds. */
    ck_assert_uint_eq(dispi_get(VBE_INDEX_VIRT_HEIGHT), 0xffff);
    for (unsigned i = 0; i < 256; i++) {
        v->dac[i][0] = (u8)i;
        v->dac[i][1] = (u8)(255 - i);
        v->dac[i][2] = 0x40;
    }
    for (unsigned k = 0; k < 32 * 16; k++)
        v->vram[k] = (u8)(k * 7);
    struct vga_surface s = { calloc((size_t)VGA_MAX_W * VGA_MAX_H, sizeof(u32)), 0, 0 };
    ck_assert_ptr_nonnull(s.px);
    vga_render(v, &s, true);
    ck_assert_uint_eq(s.w, 16);
    ck_assert_uint_eq(s.h, 8);
    for (unsigned y = 0; y < 8; y++)
        for (unsigned x = 0; x < 16; x++) {
            u8 c = (u8)(((y + 2) * 32 + x + 4) * 7);
            ck_assert_uint_eq(s.px[y * 16 + x], (u32)c << 16 | (u32)(255 - c) << 8 | 0x40);
        }
    /* 16 bpp: RGB 5:6:5, each field widened by repeating its top bits. */
    dispi(VBE_INDEX_ENABLE, 0);
    dispi(VBE_INDEX_BPP, 16);
    dispi(VBE_INDEX_ENABLE, VBE_ENABLED);
    v->vram[0] = 0x1f;                          /* blue 31 */
    v->vram[1] = 0xf8;                          /* red 31 */
    vga_render(v, &s, true);
    ck_assert_uint_eq(s.px[0], 0xff00ffu);
    free(s.px);
}
END_TEST

/* Whatever the guest writes, the picture stays inside the surface and
 * every access inside video memory (run under -DUMBRA_SANITIZE=ON this
 * also checks every index). */
START_TEST(random_registers_render_in_bounds)
{
    static const u16 ports[] = { 0x3c0, 0x3c2, 0x3c4, 0x3c5, 0x3c6, 0x3c7, 0x3c8, 0x3c9,
                                 0x3ce, 0x3cf, 0x3d4, 0x3d5, 0x3b4, 0x3b5, 0x3da };
    struct vga_surface s = { calloc((size_t)VGA_MAX_W * VGA_MAX_H, sizeof(u32)), 0, 0 };
    ck_assert_ptr_nonnull(s.px);
    u32 x = 12345;
    for (unsigned round = 0; round < 200; round++) {
        for (unsigned k = 0; k < 64; k++) {
            x = x * 1103515245u + 12345u;
            out8(ports[(x >> 16) % ARRAY_SIZE(ports)], (u8)(x >> 8));
            x = x * 1103515245u + 12345u;
            mmu_phys_write(m, 0xa0000 + (x >> 15) % 0x20000, x & 0xff, 1);
        }
        x = x * 1103515245u + 12345u;
        dispi((u16)((x >> 16) % VBE_INDEX_COUNT), (u16)(x >> 3));
        if (round % 4 == 0)
            dispi(VBE_INDEX_ENABLE, (u16)((x >> 8) & 0xff));
        vga_render(v, &s, round & 1);
        ck_assert(s.w >= 1 && s.w <= VGA_MAX_W);
        ck_assert(s.h >= 1 && s.h <= VGA_MAX_H);
    }
    free(s.px);
}
END_TEST

START_TEST(changes_are_recorded)
{
    ck_assert(vga_take_changes(v));            /* power-on: draw once */
    ck_assert(!vga_take_changes(v));
    (void)mmu_phys_read(m, 0xb8000, 1);        /* reads change nothing */
    (void)in8(0x3da);
    ck_assert(!vga_take_changes(v));
    gc(6, 0x0e);
    ck_assert(vga_take_changes(v));
    mmu_phys_write(m, 0xb8000, 0x41, 1);
    ck_assert(vga_take_changes(v));
    ck_assert(!vga_take_changes(v));
    /* A dispi mode: the framebuffer is written without the device
     * seeing it, so every frame may differ. */
    dispi(VBE_INDEX_ENABLE, VBE_ENABLED | VBE_LFB_ENABLED);
    ck_assert(vga_take_changes(v));
    ck_assert(vga_take_changes(v));
}
END_TEST


/* The PCI function: QEMU's std VGA identity, BAR0 sized as 16 MiB of
 * prefetchable memory, the framebuffer following it, the ROM BAR serving
 * the BIOS image. */
START_TEST(pci_function)
{
    struct pci_bus bus;
    ck_assert_int_eq(pci_bus_init(&bus, m), 0);
    ck_assert_int_eq(vga_pci_init(v, &bus, PCI_DEVFN(2, 0)), 0);
    u8 rom[3000];
    for (unsigned i = 0; i < sizeof rom; i++)
        rom[i] = (u8)(i * 7 + 1);
    ck_assert_int_eq(vga_set_rom(v, rom, sizeof rom), 0);
    const u8 fn = PCI_DEVFN(2, 0);
    ck_assert_uint_eq(pci_config_read(&bus, fn, PCI_VENDOR_ID, 4), 0x11111234u);
    ck_assert_uint_eq(pci_config_read(&bus, fn, PCI_CLASS_REVISION, 4) >> 8, 0x030000u);
    pci_config_write(&bus, fn, PCI_BAR0, 0xffffffffu, 4);
    ck_assert_uint_eq(pci_config_read(&bus, fn, PCI_BAR0, 4), 0xff000008u);
    pci_config_write(&bus, fn, PCI_ROM_ADDRESS, 0xfffffffeu, 4);
    ck_assert_uint_eq(pci_config_read(&bus, fn, PCI_ROM_ADDRESS, 4), 0xfffff000u);
    /* Programmed but not decoding: the framebuffer stays where it was. */
    pci_config_write(&bus, fn, PCI_BAR0, 0xfd000000u, 4);
    pci_config_write(&bus, fn, PCI_ROM_ADDRESS, 0xfebf0001u, 4);
    ck_assert_uint_eq(v->lfb_base, VGA_LFB_DEFAULT);
    pci_config_write(&bus, fn, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    ck_assert_uint_eq(v->lfb_base, 0xfd000000u);
    mmu_phys_write(m, 0xfd000010u, 0x5a, 1);
    ck_assert_uint_eq(v->vram[0x10], 0x5a);
    ck_assert_uint_eq(mmu_phys_read(m, VGA_LFB_DEFAULT + 0x10, 1), 0xff);
    ck_assert_uint_eq(mmu_phys_read(m, 0xfebf0000u + 100, 1), rom[100]);
    ck_assert_uint_eq(mmu_phys_read(m, 0xfebf0000u + 3000, 1), 0);
    /* Decoding off: no framebuffer anywhere; a reset does the same. */
    pci_config_write(&bus, fn, PCI_COMMAND, 0, 2);
    ck_assert_uint_eq(v->lfb_base, 0);
    ck_assert_uint_eq(mmu_phys_read(m, 0xfd000010u, 1), 0xff);
    pci_config_write(&bus, fn, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    ck_assert_uint_eq(v->lfb_base, 0xfd000000u);
    pci_bus_reset(&bus);
    ck_assert_uint_eq(v->lfb_base, 0);
    /* The legacy window does not depend on the command register. */
    planar();
    mmu_phys_write(m, 0xa0000, 0x3c, 1);
    ck_assert_uint_eq(plane(0, 0), 0x3c);
    /* A ROM too large for the area below 1 MiB is refused. */
    u8 *big = calloc(1, VGA_ROM_MAX + 1);
    ck_assert_ptr_nonnull(big);
    ck_assert_int_eq(vga_set_rom(v, big, VGA_ROM_MAX + 1), -1);
    free(big);
}
END_TEST

/* vga_text_cells(): the character bytes of plane 0 from the start
 * address, row by row with the CRTC offset as stride; none in graphics. */
START_TEST(text_cells)
{
    u8 *cells = malloc(VGA_TEXT_MAX_CELLS);
    ck_assert_ptr_nonnull(cells);
    unsigned cols, rows;
    ck_assert(!vga_text_cells(v, cells, &cols, &rows));  /* power-on: no picture */
    seq(1, 0x01);
    v->crtc[0x01] = 3;                         /* four columns */
    v->crtc[0x09] = 0x07;                      /* 8 lines per row */
    v->crtc[0x12] = 15;                        /* two rows */
    v->crtc[0x13] = 4;                         /* 8 addresses per row */
    v->crtc[0x17] = 0x40;                      /* byte mode */
    v->crtc[0x0d] = 2;                         /* start address 2 */
    for (unsigned o = 0; o < 32; o++) {
        v->vram[o * 4] = (u8)('a' + o);
        v->vram[o * 4 + 1] = 0x07;
    }
    ck_assert(vga_text_cells(v, cells, &cols, &rows));
    ck_assert_uint_eq(cols, 4);
    ck_assert_uint_eq(rows, 2);
    ck_assert_mem_eq(cells, "cdefklmn", 8);
    gc(6, 0x05);                               /* graphics */
    ck_assert(!vga_text_cells(v, cells, &cols, &rows));
    free(cells);
}
END_TEST

static Suite *vga_suite(void)
{
    Suite *s = suite_create("vga");
    TCase *tc = tcase_create("registers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, attribute_flip_flop);
    tcase_add_test(tc, dac_auto_increment);
    tcase_add_test(tc, crtc_decoding_and_protect);
    suite_add_tcase(s, tc);
    tc = tcase_create("memory");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, write_mode_0);
    tcase_add_test(tc, write_modes_1_2_3);
    tcase_add_test(tc, read_modes);
    tcase_add_test(tc, chain4_and_odd_even);
    tcase_add_test(tc, dispi_and_framebuffer);
    suite_add_tcase(s, tc);
    tc = tcase_create("render");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, render_text_cell);
    tcase_add_test(tc, render_dispi_panning);
    tcase_add_test(tc, random_registers_render_in_bounds);
    tcase_add_test(tc, changes_are_recorded);
    tcase_add_test(tc, text_cells);
    suite_add_tcase(s, tc);
    tc = tcase_create("pci");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, pci_function);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(vga_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
