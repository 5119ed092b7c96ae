/*
 * Screendumps: the VGA picture (vga_render.c) as an 8-bit RGB PNG, written
 * with Debian's libpng, and a text mode screen's characters as a text
 * file.  Used by -screendump-at-exit, -textdump-at-exit and the monitor's
 * screendump command.
 */
#include "vga.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libpng reports errors by long-jumping to the setjmp in png_jmpbuf; the
 * variables live across it, hence volatile. */
static int write_png(FILE *f, const struct vga_surface *s, u8 *volatile row)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, s->w, s->h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (unsigned y = 0; y < s->h; y++) {
        const u32 *src = &s->px[(size_t)y * s->w];
        for (unsigned x = 0; x < s->w; x++) {
            row[3 * x] = (u8)(src[x] >> 16);
            row[3 * x + 1] = (u8)(src[x] >> 8);
            row[3 * x + 2] = (u8)src[x];
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

int vga_screendump(const struct vga *v, const char *path)
{
    struct vga_surface s = { malloc((size_t)VGA_MAX_W * VGA_MAX_H * sizeof(u32)), 0, 0 };
    u8 *row = malloc((size_t)VGA_MAX_W * 3);
    int rc = -1;
    if (!s.px || !row) {
        fprintf(stderr, "umbra: screendump %s: out of memory\n", path);
        goto out;
    }
    vga_render(v, &s, true);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "umbra: screendump %s: %s\n", path, strerror(errno));
        goto out;
    }
    rc = write_png(f, &s, row);
    if (fclose(f) != 0)
        rc = -1;
    if (rc < 0)
        fprintf(stderr, "umbra: screendump %s: cannot write the PNG file\n", path);
out:
    free(row);
    free(s.px);
    return rc;
}

int vga_textdump(const struct vga *v, const char *path)
{
    u8 *cells = malloc(VGA_TEXT_MAX_CELLS);
    if (!cells) {
        fprintf(stderr, "umbra: textdump %s: out of memory\n", path);
        return -1;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "umbra: textdump %s: %s\n", path, strerror(errno));
        free(cells);
        return -1;
    }
    unsigned cols, rows;
    if (!vga_text_cells(v, cells, &cols, &rows)) {
        struct vga_surface s = { malloc((size_t)VGA_MAX_W * VGA_MAX_H * sizeof(u32)), 0, 0 };
        if (s.px)
            vga_render(v, &s, true);
        fprintf(f, "(graphics mode %ux%u)\n", s.w, s.h);
        free(s.px);
    }
    for (unsigned r = 0; r < rows; r++) {
        const u8 *line = &cells[(size_t)r * cols];
        unsigned n = cols;
        while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == 0))
            n--;
        for (unsigned c = 0; c < n; c++)
            fputc(line[c] >= 0x20 && line[c] < 0x7f ? line[c] : line[c] == 0 ? ' ' : '.', f);
        fputc('\n', f);
    }
    int rc = ferror(f) ? -1 : 0;
    if (fclose(f) != 0)
        rc = -1;
    if (rc < 0)
        fprintf(stderr, "umbra: textdump %s: write error\n", path);
    free(cells);
    return rc;
}
