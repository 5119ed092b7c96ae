/*
 * The VGA's picture: what the CRT controller, attribute controller and DAC
 * make of video memory, drawn into an RGB surface at the mode's logical
 * resolution (one surface pixel per VGA pixel; no double scanning, no
 * doubled dots).
 *
 * Geometry (IBM VGA Technical Reference, CRT Controller Registers):
 *   width   (CR01 + 1) character clocks; 8 or 9 dots each (SR1 bit 0) in
 *           text, 8 pixels in 16-colour, 4 in 256-colour (GC5 bit 6)
 *   height  vertical display end (CR12, CR07 bits 1 and 6) + 1 scan lines,
 *           divided by the lines per row (CR09 bits 0-4, + 1) and by 2
 *           with double scanning (CR09 bit 7) in graphics modes
 *   memory  start address CR0C:CR0D, CR13 * 2 addresses per row; an
 *           address becomes a planar offset shifted left by 2 in
 *           doubleword mode (CR14 bit 6), by 1 in word mode (CR17 bit 6
 *           clear), as is in byte mode.
 * Colours: a 4-bit pixel or text colour goes through the attribute
 * palette (AR00-AR0F, with AR10 bit 7 and AR14 for bits 4-7) to a DAC
 * index; a 256-colour pixel indexes the DAC directly; the DAC entry is
 * masked by the PEL mask and widened from 6 to 8 bits.
 */
#include "vga.h"

#include <string.h>

#define BLANK_W 640u
#define BLANK_H 480u

static u32 dac_rgb(const struct vga *v, u8 index)
{
    const u8 *c = v->dac[index & v->pel_mask];
    if (v->vbe[VBE_INDEX_ENABLE] & VBE_8BIT_DAC)
        return (u32)c[0] << 16 | (u32)c[1] << 8 | c[2];
    u32 r = (u32)(c[0] << 2 | c[0] >> 4) & 0xff;
    u32 g = (u32)(c[1] << 2 | c[1] >> 4) & 0xff;
    u32 b = (u32)(c[2] << 2 | c[2] >> 4) & 0xff;
    return r << 16 | g << 8 | b;
}

/* A 4-bit colour through the attribute controller to a DAC index
 * (FreeVGA, Attribute Controller: Mode Control and Color Select). */
static u8 attr_index(const struct vga *v, unsigned colour)
{
    u8 c = v->ar[colour & 0x0f] & 0x3f;
    if (v->ar[0x10] & 0x80)
        c = (u8)((c & 0x0f) | (v->ar[0x14] & 0x03) << 4);
    return (u8)((c & 0x3f) | (v->ar[0x14] & 0x0c) << 4);
}

static void fill(struct vga_surface *s, unsigned w, unsigned h, u32 rgb)
{
    s->w = w;
    s->h = h;
    for (size_t k = 0; k < (size_t)w * h; k++)
        s->px[k] = rgb;
}

/* Planar offset of CRTC memory address `ma`. */
static u32 crtc_offset(const struct vga *v, u32 ma)
{
    if (v->crtc[0x14] & 0x40)
        ma <<= 2;
    else if (!(v->crtc[0x17] & 0x40))
        ma <<= 1;
    return ma & 0xffff;
}

static unsigned vdisp_lines(const struct vga *v)
{
    const u8 *cr = v->crtc;
    return (cr[0x12] | (cr[0x07] & 0x02) << 7 | (cr[0x07] & 0x40) << 3) + 1u;
}

/* A text mode's character grid and cell size; false when the registers
 * describe no picture that fits the largest surface. */
static bool text_geometry(const struct vga *v, unsigned *cols, unsigned *rows, unsigned *cw,
                          unsigned *ch)
{
    const u8 *cr = v->crtc;
    *cols = cr[0x01] + 1u;
    *cw = (v->seq[1] & 0x01) ? 8 : 9;
    *ch = (cr[0x09] & 0x1f) + 1u;
    unsigned lines = vdisp_lines(v);
    if (cr[0x09] & 0x80)
        lines /= 2;
    *rows = lines / *ch;
    return *rows != 0 && *cols * *cw <= VGA_MAX_W && *rows * *ch <= VGA_MAX_H;
}

static void render_text(const struct vga *v, struct vga_surface *s, bool blink_on)
{
    const u8 *cr = v->crtc;
    unsigned cols, rows, cw, ch;
    if (!text_geometry(v, &cols, &rows, &cw, &ch)) {
        fill(s, BLANK_W, BLANK_H, 0);
        return;
    }
    s->w = cols * cw;
    s->h = rows * ch;
    u32 start = (u32)cr[0x0c] << 8 | cr[0x0d];
    u32 stride = cr[0x13] * 2u;
    u32 cursor = (u32)cr[0x0e] << 8 | cr[0x0f];
    unsigned cur_first = cr[0x0a] & 0x1f, cur_last = cr[0x0b] & 0x1f;
    bool cursor_on = blink_on && !(cr[0x0a] & 0x20);
    /* Character map select (SR3): map A for attribute bit 3 set, map B
     * otherwise; map n starts at plane 2 offset (n & 3) * 16K + (n >> 2) * 8K. */
    unsigned map_a = ((v->seq[3] >> 5) & 1) << 2 | ((v->seq[3] >> 2) & 3);
    unsigned map_b = ((v->seq[3] >> 4) & 1) << 2 | (v->seq[3] & 3);
    u32 font_a = (map_a & 3) << 14 | (map_a >> 2) << 13;
    u32 font_b = (map_b & 3) << 14 | (map_b >> 2) << 13;
    bool blink_attr = v->ar[0x10] & 0x08;
    bool line_gfx = v->ar[0x10] & 0x04;
    for (unsigned row = 0; row < rows; row++) {
        for (unsigned col = 0; col < cols; col++) {
            u32 ma = start + row * stride + col;
            u32 o = crtc_offset(v, ma);
            u8 code = v->vram[o * 4], attr = v->vram[o * 4 + 1];
            unsigned fg = attr & 0x0f, bg = attr >> 4;
            if (blink_attr) {
                bg &= 7;
                if ((attr & 0x80) && !blink_on)
                    fg = bg;
            }
            u32 fg_rgb = dac_rgb(v, attr_index(v, fg));
            u32 bg_rgb = dac_rgb(v, attr_index(v, bg));
            u32 font = (attr & 0x08) ? font_a : font_b;
            bool is_cursor = cursor_on && (ma & 0xffff) == cursor;
            for (unsigned y = 0; y < ch; y++) {
                u8 bits = v->vram[((font + code * 32u + y) & 0xffff) * 4 + 2];
                if (is_cursor && y >= cur_first && y <= cur_last)
                    bits = 0xff;
                u32 *dst = &s->px[(size_t)(row * ch + y) * s->w + col * cw];
                for (unsigned x = 0; x < 8; x++)
                    dst[x] = (bits >> (7 - x)) & 1 ? fg_rgb : bg_rgb;
                if (cw == 9) {
                    /* The ninth dot repeats the eighth for the line-drawing
                     * characters 0xC0-0xDF when AR10 bit 2 asks for it. */
                    bool ext = line_gfx && code >= 0xc0 && code <= 0xdf && (bits & 1);
                    dst[8] = (ext || (is_cursor && y >= cur_first && y <= cur_last)) ? fg_rgb
                                                                                     : bg_rgb;
                }
            }
        }
    }
}

static void render_graphics(const struct vga *v, struct vga_surface *s)
{
    const u8 *cr = v->crtc;
    bool c256 = v->gc[5] & 0x40;
    unsigned w = (cr[0x01] + 1u) * (c256 ? 4 : 8);
    unsigned per_row = ((cr[0x09] & 0x1f) + 1u) * ((cr[0x09] & 0x80) ? 2 : 1);
    unsigned h = vdisp_lines(v) / per_row;
    if (h == 0 || w > VGA_MAX_W || h > VGA_MAX_H) {
        fill(s, BLANK_W, BLANK_H, 0);
        return;
    }
    s->w = w;
    s->h = h;
    u32 start = (u32)cr[0x0c] << 8 | cr[0x0d];
    u32 stride = cr[0x13] * 2u;
    u8 plane_enable = v->ar[0x12] & 0x0f;
    for (unsigned y = 0; y < h; y++) {
        u32 *dst = &s->px[(size_t)y * w];
        u32 row = start + y * stride;
        if (c256) {
            /* Each address gives four pixels, one from each plane. */
            for (unsigned x = 0; x < w; x++)
                dst[x] = dac_rgb(v, v->vram[crtc_offset(v, row + x / 4) * 4 + (x & 3)]);
            continue;
        }
        for (unsigned x = 0; x < w; x++) {
            const u8 *p = &v->vram[crtc_offset(v, row + x / 8) * 4];
            unsigned bit = 7 - (x & 7), c = 0;
            for (unsigned k = 0; k < 4; k++)
                c |= ((p[k] >> bit) & 1u) << k;
            dst[x] = dac_rgb(v, attr_index(v, c & plane_enable));
        }
    }
}

static u32 vbe_pixel(const struct vga *v, const u8 *p, unsigned bpp)
{
    switch (bpp) {
    case 8:
        return dac_rgb(v, p[0]);
    case 15: {
        u32 c = p[0] | (u32)p[1] << 8;
        u32 r = (c >> 10) & 31, g = (c >> 5) & 31, b = c & 31;
        return (r << 3 | r >> 2) << 16 | (g << 3 | g >> 2) << 8 | (b << 3 | b >> 2);
    }
    case 16: {
        u32 c = p[0] | (u32)p[1] << 8;
        u32 r = (c >> 11) & 31, g = (c >> 5) & 63, b = c & 31;
        return (r << 3 | r >> 2) << 16 | (g << 2 | g >> 4) << 8 | (b << 3 | b >> 2);
    }
    default: /* 24 and 32: B, G, R in memory order */
        return (u32)p[2] << 16 | (u32)p[1] << 8 | p[0];
    }
}

static void render_vbe(const struct vga *v, struct vga_surface *s)
{
    unsigned w = v->vbe[VBE_INDEX_XRES], h = v->vbe[VBE_INDEX_YRES];
    unsigned bpp = v->vbe[VBE_INDEX_BPP], bytes = (bpp + 7) / 8;
    s->w = w;
    s->h = h;
    for (unsigned y = 0; y < h; y++) {
        u64 line = (u64)v->vbe_start + (u64)y * v->vbe_pitch;
        u32 *dst = &s->px[(size_t)y * w];
        for (unsigned x = 0; x < w; x++) {
            u64 at = line + (u64)x * bytes;
            dst[x] = at + bytes <= VGA_VRAM_SIZE ? vbe_pixel(v, &v->vram[at], bpp) : 0;
        }
    }
}

void vga_render(const struct vga *v, struct vga_surface *s, bool blink_on)
{
    if (v->vbe[VBE_INDEX_ENABLE] & VBE_ENABLED) {
        render_vbe(v, s);
        return;
    }
    if (v->crtc[0x01] == 0) {
        fill(s, BLANK_W, BLANK_H, 0);
        return;
    }
    if (v->gc[6] & 0x01)
        render_graphics(v, s);
    else
        render_text(v, s, blink_on);
    /* Screen off, or the palette handed to the CPU (attribute index bit 5
     * clear): the display shows black. */
    if ((v->seq[1] & 0x20) || !(v->ar_index & 0x20))
        fill(s, s->w, s->h, 0);
}

bool vga_text_cells(const struct vga *v, u8 *out, unsigned *cols, unsigned *rows)
{
    unsigned cw, ch;
    *cols = *rows = 0;
    if ((v->vbe[VBE_INDEX_ENABLE] & VBE_ENABLED) || v->crtc[0x01] == 0 || (v->gc[6] & 0x01))
        return false;
    unsigned c, r;
    if (!text_geometry(v, &c, &r, &cw, &ch) || c * r > VGA_TEXT_MAX_CELLS)
        return false;
    const u8 *cr = v->crtc;
    u32 start = (u32)cr[0x0c] << 8 | cr[0x0d];
    u32 stride = cr[0x13] * 2u;
    for (unsigned row = 0; row < r; row++)
        for (unsigned col = 0; col < c; col++)
            out[row * c + col] = v->vram[crtc_offset(v, start + row * stride + col) * 4];
    *cols = c;
    *rows = r;
    return true;
}
