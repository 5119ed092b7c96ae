/*
 * A standard VGA adapter with the Bochs VBE "dispi" extension: the card
 * QEMU calls "std VGA" (PCI 1234:1111).  Registers at 0x3B4-0x3DF, the
 * legacy window at 0xA0000-0xBFFFF, the dispi ports 0x1CE/0x1CF, and
 * 16 MiB of video memory that doubles as the linear framebuffer.
 *
 * vga.c models the chip (what the guest reads and writes); vga_render.c
 * turns its state into an RGB picture; vga_png.c writes that picture as a
 * PNG file.  Nothing here knows about SDL.
 */
#ifndef UMBRA_DEVICES_VGA_H
#define UMBRA_DEVICES_VGA_H

#include "common/log.h"
#include "common/types.h"
#include "devices/pci.h"

struct mmu;

#define VGA_VRAM_SIZE (16u << 20)
/* Where the linear framebuffer sits until a PCI BAR moves it (QEMU's
 * isa-vga and Bochs use the same default). */
#define VGA_LFB_DEFAULT 0xe0000000u

/* Bochs VBE "dispi" registers (Bochs vbe.h, QEMU hw/display/vga.h). */
enum {
    VBE_INDEX_ID = 0,
    VBE_INDEX_XRES,
    VBE_INDEX_YRES,
    VBE_INDEX_BPP,
    VBE_INDEX_ENABLE,
    VBE_INDEX_BANK,
    VBE_INDEX_VIRT_WIDTH,
    VBE_INDEX_VIRT_HEIGHT,
    VBE_INDEX_X_OFFSET,
    VBE_INDEX_Y_OFFSET,
    VBE_INDEX_VIDEO_MEMORY_64K,
    VBE_INDEX_COUNT,
};
#define VBE_ENABLED 0x01
#define VBE_GETCAPS 0x02
#define VBE_8BIT_DAC 0x20
#define VBE_LFB_ENABLED 0x40
#define VBE_NOCLEARMEM 0x80
#define VBE_ID0 0xb0c0
#define VBE_ID5 0xb0c5
/* Largest mode accepted (Bochs vbe.h VBE_DISPI_MAX_XRES/YRES). */
#define VBE_MAX_XRES 2560u
#define VBE_MAX_YRES 1600u

struct vga {
    /* Video memory: planar byte `o` of plane `p` is vram[o * 4 + p]; the
     * dispi modes and the framebuffer use it as one linear buffer. */
    u8 *vram;

    u8 misc;            /* misc output (0x3C2 write, 0x3CC read) */
    u8 seq_index, seq[8];
    u8 gc_index, gc[16];
    u8 crtc_index, crtc[32];
    u8 ar_index;        /* bits 0-4 index, bit 5 palette address source */
    bool ar_flip;       /* attribute port 0x3C0: false = next write is an index */
    u8 ar[32];
    u8 feature;         /* feature control */
    u8 latch[4];        /* one byte per plane, loaded by reads */

    /* DAC: 256 entries of 6-bit (8-bit with VBE_8BIT_DAC) R, G, B. */
    u8 dac[256][3];
    u8 dac_read_index, dac_write_index;
    u8 dac_sub;         /* 0-2: the component the next data access is */
    bool dac_reading;   /* state reported at 0x3C7: last index written was read */
    u8 dac_cache[3];    /* the entry being written, committed on its third byte */
    u8 pel_mask;

    u32 retrace;        /* input status 1 reads: toggles retrace bits */

    /* Bochs VBE dispi. */
    u16 vbe_index;
    u16 vbe[VBE_INDEX_COUNT];
    u32 vbe_start;      /* byte offset of the displayed picture in vram */
    u32 vbe_pitch;      /* bytes per line of the virtual screen */

    bool touched;       /* a register or the window was written since
                         * vga_take_changes() last looked */
    u32 lfb_base;       /* guest physical base of the framebuffer, 0 = none */
    struct pci_dev pci; /* the PCI function (vga_pci.c), once registered */
    u8 *rom;            /* copy of the VGA BIOS behind the ROM BAR, or NULL */
    struct mmu *mmu;
    struct logger *log;
};

/*
 * Create the adapter, claim its ports and the 0xA0000-0xBFFFF window on
 * `m`, and map the framebuffer at VGA_LFB_DEFAULT.  Returns NULL if out of
 * memory or the bus tables are full.  `log` may be NULL.
 */
struct vga *vga_new(struct mmu *m, struct logger *log) MUST_CHECK;
void vga_free(struct vga *v);
/* Power-on register state (all zero, dispi off); memory is kept. */
void vga_reset(struct vga *v);
/* Move the linear framebuffer to `base` (a PCI BAR write), 0 to unmap it.
 * Returns 0, or -1 if it cannot be placed there (overlaps RAM, unaligned);
 * the old mapping is removed either way. */
int vga_map_lfb(struct vga *v, u32 base) MUST_CHECK;

/* Port and memory accessors (also what the unit tests drive). */
u32 vga_ioport_read(struct vga *v, u16 port);
void vga_ioport_write(struct vga *v, u16 port, u8 val);
u8 vga_mem_read(struct vga *v, u32 offset);            /* offset from 0xA0000 */
void vga_mem_write(struct vga *v, u32 offset, u8 val);

/*
 * Whether the picture may have changed since the last call: true after
 * any register or window write, and always while a dispi mode is shown
 * (the CPU writes the framebuffer directly, unseen).  Clears the record.
 * A display uses it to skip rendering an unchanged screen.
 */
bool vga_take_changes(struct vga *v);

/* ---- the PCI function (vga_pci.c) ---- */

/* PCI identity of QEMU's std VGA (QEMU docs/specs/standard-vga.rst). */
#define VGA_PCI_VENDOR 0x1234
#define VGA_PCI_DEVICE 0x1111
#define VGA_PCI_CLASS 0x030000 /* display controller, VGA compatible */
/* Largest VGA BIOS image accepted (an option ROM runs below 1 MiB). */
#define VGA_ROM_MAX (256u << 10)

/*
 * Put the adapter on `bus` at `devfn` with BAR0 the framebuffer (16 MiB
 * prefetchable memory): once the BAR decodes, or stops decoding, the
 * framebuffer follows it (vga_map_lfb).  Until then it stays where
 * vga_new() put it.  Returns 0, or -1 if the slot is taken.
 */
int vga_pci_init(struct vga *v, struct pci_bus *bus, u8 devfn) MUST_CHECK;
/* Give the function an expansion ROM (the VGA BIOS): `len` bytes (at
 * most VGA_ROM_MAX) are copied.  Returns 0, or -1 when too large or out
 * of memory.  Call before the machine runs. */
int vga_set_rom(struct vga *v, const u8 *rom, size_t len) MUST_CHECK;

/* ---- rendering (vga_render.c) ---- */

/* A picture, 0x00RRGGBB per pixel, rows `w` pixels apart. */
struct vga_surface {
    u32 *px;
    unsigned w, h;
};

/* Largest picture the adapter can show (the largest dispi mode). */
#define VGA_MAX_W VBE_MAX_XRES
#define VGA_MAX_H VBE_MAX_YRES

/*
 * Draw the current screen into `s` (s->px holds VGA_MAX_W * VGA_MAX_H
 * pixels), setting s->w and s->h.  `blink_on` is the phase of the blinking
 * text attribute and cursor.  A screen turned off (SR1 bit 5, attribute
 * palette address source clear) is drawn black at its size; registers
 * that describe no picture (as at power-on) give 640x480 black.
 */
void vga_render(const struct vga *v, struct vga_surface *s, bool blink_on);

/*
 * The characters of a text mode screen: `rows` lines of `cols` bytes
 * each (the character codes, attributes left out) into `out` (at least
 * VGA_TEXT_MAX_CELLS bytes), read from plane 0 at the CRT controller's
 * start address, as vga_render() draws them.  Returns false, with no
 * cells, when the adapter shows graphics or no picture.
 */
#define VGA_TEXT_MAX_CELLS (256u * 256u)
bool vga_text_cells(const struct vga *v, u8 *out, unsigned *cols, unsigned *rows);
/* Write the text screen to `path`: one line per row, trailing blanks
 * dropped, NUL as a blank, other bytes outside printable ASCII as '.'.  In a graphics mode the
 * file holds one line "(graphics mode WxH)".  Returns 0, or -1 after a
 * message on stderr naming `path`. */
int vga_textdump(const struct vga *v, const char *path) MUST_CHECK;

/* Write the current screen as an RGB PNG file.  Returns 0, or -1 after a
 * message on stderr naming `path`. */
int vga_screendump(const struct vga *v, const char *path) MUST_CHECK;

#endif
