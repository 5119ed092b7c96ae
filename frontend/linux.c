/*
 * Linux boot protocol loader (Documentation/x86/boot.rst and
 * zero-page.rst in the kernel source), doing what a boot loader using the
 * 32-bit entry point does, as QEMU's -kernel does for a bzImage without
 * running the real-mode setup code.
 *
 *   image:  [boot sector][setup_sects * 512 setup code][protected-mode kernel]
 *            ^0x1F1 setup header                        ^ (setup_sects + 1) * 512
 *
 * Guest memory after loading:
 *
 *   0x10000   GDT: null, null, 0x10 flat code, 0x18 flat data
 *   0x20000   command line (cmd_line_ptr)
 *   0x90000   zero page (struct boot_params, 4 KiB), ESI at entry
 *   0x100000  protected-mode kernel (code32_start)
 *   top       initrd, page-aligned, as high as the kernel allows
 *
 * The kernel's decompressor moves itself to its run-time address (the
 * load address aligned up to kernel_alignment, at least pref_address) and
 * needs init_size bytes there, so the initrd must lie above that too.
 *
 * Invariants: the header is fully checked and every placement is checked
 * against the RAM size, in 64-bit arithmetic, before guest memory is
 * written; no byte of the file is read outside [0, size).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "linux.h"
#include "mmu/mmu.h"

#define SECTOR 512u
#define PAGE 4096u
#define EBDA_START 0x9FC00u
#define HOLE_START 0xA0000u
#define BIOS_START 0xF0000u
#define MIB (1u << 20)
/* A 32-bit kernel maps 896 MiB of low memory; the initrd must lie there. */
#define LOWMEM_END (896u * MIB)
/* The header fields this loader reads all lie below this offset. */
#define HDR_READ_END 0x264u
/* The largest setup header the zero page has room for (edd_mbr_sig_buffer follows). */
#define HDR_MAX_END 0x290u
#define DEFAULT_INITRD_MAX 0x37FFFFFFu
#define DEFAULT_CMDLINE_MAX 255u
#define GDT_LIMIT (4u * 8 - 1)

/* loadflags (boot.rst, "Details of Header Fields"). */
enum {
    LF_LOADED_HIGH = 1u << 0,
    LF_CAN_USE_HEAP = 1u << 7,
};

/* struct boot_params offsets (zero-page.rst, struct screen_info). */
enum {
    BP_EXT_MEM_K = 0x002,
    BP_VIDEO_MODE = 0x006,
    BP_VIDEO_COLS = 0x007,
    BP_VIDEO_LINES = 0x00E,
    BP_VIDEO_ISVGA = 0x00F,
    BP_VIDEO_POINTS = 0x010,
    BP_ALT_MEM_K = 0x1E0,
    BP_E820_ENTRIES = 0x1E8,
    BP_SENTINEL = 0x1EF,
    BP_TYPE_OF_LOADER = 0x210,
    BP_LOADFLAGS = 0x211,
    BP_RAMDISK_IMAGE = 0x218,
    BP_RAMDISK_SIZE = 0x21C,
    BP_HEAP_END_PTR = 0x224,
    BP_CMD_LINE_PTR = 0x228,
    BP_E820_TABLE = 0x2D0,
    BP_SIZE = 0x1000,
};
#define E820_ENTRY 20u
#define E820_RAM 1u
#define E820_RESERVED 2u
/* End of the setup heap, relative to the zero page, below the EBDA. */
#define HEAP_END 0xDE00u

static int fail(struct load_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct load_error *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

static u16 rd16(const u8 *p)
{
    return (u16)(p[0] | p[1] << 8);
}

static u32 rd32(const u8 *p)
{
    return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static void wr16(u8 *p, u16 v)
{
    p[0] = (u8)v;
    p[1] = (u8)(v >> 8);
}

static void wr32(u8 *p, u32 v)
{
    wr16(p, (u16)v);
    wr16(p + 2, (u16)(v >> 16));
}

static void wr64(u8 *p, u64 v)
{
    wr32(p, (u32)v);
    wr32(p + 4, (u32)(v >> 32));
}

static u64 align_up(u64 v, u64 a)
{
    return (v + a - 1) & ~(a - 1);
}

static u64 min64(u64 a, u64 b)
{
    return a < b ? a : b;
}

static u64 max64(u64 a, u64 b)
{
    return a > b ? a : b;
}

bool linux_is_bzimage(const u8 *img, size_t size)
{
    return size >= 0x206 && !memcmp(img + 0x202, "HdrS", 4);
}

int linux_parse_header(const u8 *img, size_t size, struct linux_header *h, struct load_error *e)
{
    if (!linux_is_bzimage(img, size))
        return fail(e, "no Linux setup header (\"HdrS\" at offset 0x202)");
    if (size < HDR_READ_END)
        return fail(e, "file truncated: %zu bytes, the Linux setup header alone needs %u",
                    size, HDR_READ_END);
    memset(h, 0, sizeof *h);
    h->boot_flag = rd16(img + 0x1FE);
    if (h->boot_flag != 0xAA55)
        return fail(e, "bad boot flag 0x%04x at offset 0x1fe (expected 0xaa55)", h->boot_flag);
    h->version = rd16(img + 0x206);
    if (h->version < LINUX_MIN_VERSION)
        return fail(e, "Linux boot protocol %u.%02u is too old: a bzImage with protocol "
                       "2.04 or newer is needed",
                    h->version >> 8, h->version & 0xff);
    h->setup_sects = img[0x1F1] ? img[0x1F1] : 4;
    h->setup_size = (h->setup_sects + 1u) * SECTOR;
    if (h->setup_size >= size)
        return fail(e, "file truncated: the setup code takes %u sectors (%u bytes) but the "
                       "file has only %zu bytes, leaving no protected-mode kernel",
                    h->setup_sects, h->setup_size, size);
    /* syssize counts the protected-mode kernel in 16-byte units (32 bits
     * wide since protocol 2.04); a copy cut short would be entered and
     * fault in its decompressor. */
    h->syssize = rd32(img + 0x1F4);
    if ((u64)h->syssize * 16 > size - h->setup_size)
        return fail(e, "file truncated: the setup header gives a %llu-byte protected-mode "
                       "kernel (syssize 0x%x) after %u bytes of setup code, but the file "
                       "has only %zu bytes in all",
                    (unsigned long long)h->syssize * 16, h->syssize, h->setup_size, size);
    h->loadflags = img[0x211];
    if (!(h->loadflags & LF_LOADED_HIGH))
        return fail(e, "not a bzImage (LOADED_HIGH is clear in loadflags 0x%02x); zImage "
                       "kernels loaded at 0x10000 are not supported",
                    h->loadflags);
    h->code32_start = rd32(img + 0x214);
    h->initrd_addr_max = rd32(img + 0x22C);
    if (!h->initrd_addr_max)
        h->initrd_addr_max = DEFAULT_INITRD_MAX;
    if (h->version >= 0x0205) {
        h->kernel_alignment = rd32(img + 0x230);
        h->relocatable = img[0x234];
    }
    h->cmdline_size = h->version >= 0x0206 ? rd32(img + 0x238) : DEFAULT_CMDLINE_MAX;
    if (h->version >= 0x020A) {
        h->pref_address = (u64)rd32(img + 0x258) | (u64)rd32(img + 0x25C) << 32;
        h->init_size = rd32(img + 0x260);
    }
    /* The header ends where the short jump at 0x200 lands. */
    u32 end = img[0x200] == 0xEB ? 0x202u + img[0x201] : HDR_READ_END;
    if (end < HDR_READ_END)
        end = HDR_READ_END;
    h->header_end = (u32)min64(min64(end, HDR_MAX_END), h->setup_size);
    if (h->relocatable && (h->kernel_alignment == 0 ||
                           (h->kernel_alignment & (h->kernel_alignment - 1))))
        return fail(e, "relocatable kernel with kernel_alignment 0x%x, which is not a power "
                       "of two",
                    h->kernel_alignment);
    return 0;
}

/* Where the protected-mode kernel goes and what it will occupy. */
static int plan_kernel(const struct linux_header *h, size_t size, u32 ram, struct linux_boot *b,
                       struct load_error *e)
{
    u64 load = h->code32_start;
    if (load < LINUX_KERNEL_GPA)
        return fail(e, "code32_start 0x%x lies below 1 MiB", h->code32_start);
    u64 len = size - h->setup_size;
    if (load + len > ram)
        return fail(e, "the kernel (%llu bytes at 0x%llx) does not fit in the %u MiB of guest "
                       "RAM",
                    (unsigned long long)len, (unsigned long long)load, ram >> 20);
    /* The decompressor's target (arch/x86/boot/compressed/head_32.S). */
    u64 run = h->version >= 0x020A ? h->pref_address : load;
    if (h->relocatable)
        run = max64(align_up(load, h->kernel_alignment), run);
    u64 run_end = run + h->init_size;
    if (run_end > ram)
        return fail(e, "the kernel needs RAM up to 0x%llx (init_size 0x%x at 0x%llx) but "
                       "guest RAM is %u MiB; give it at least %llu MiB",
                    (unsigned long long)run_end, h->init_size, (unsigned long long)run,
                    ram >> 20, (unsigned long long)((run_end + MIB - 1) >> 20));
    b->entry = (u32)load;
    b->kernel_end = (u32)(load + len);
    b->runtime_start = (u32)run;
    b->runtime_end = (u32)run_end;
    return 0;
}

/* The initrd's size: the parts concatenated, each starting 4-byte aligned. */
static u64 initrd_total(const struct mb_module *mods, unsigned n)
{
    u64 total = 0;
    for (unsigned k = 0; k < n; k++)
        total = align_up(total, 4) + mods[k].size;
    return total;
}

/* As high as possible below the kernel's limit, above what the kernel uses. */
static int plan_initrd(const struct linux_header *h, u64 total, u32 ram, struct linux_boot *b,
                       struct load_error *e)
{
    b->initrd = 0;
    b->initrd_size = 0;
    if (!total)
        return 0;
    if (total >= ram)
        return fail(e, "the initrd is %llu bytes, more than the %u MiB of guest RAM",
                    (unsigned long long)total, ram >> 20);
    u64 top = min64(min64((u64)h->initrd_addr_max + 1, ram), LOWMEM_END);
    u64 floor = align_up(max64(b->kernel_end, b->runtime_end), PAGE);
    u64 at = top >= total ? (top - total) & ~(u64)(PAGE - 1) : 0;
    if (top < total || at < floor)
        return fail(e, "the initrd (%llu bytes) does not fit in guest RAM between the "
                       "kernel's end 0x%llx and 0x%llx; give the guest more memory (-m)",
                    (unsigned long long)total, (unsigned long long)floor,
                    (unsigned long long)top);
    b->initrd = (u32)at;
    b->initrd_size = (u32)total;
    return 0;
}

/* BIOS-style memory map (zero-page.rst, e820_table). */
static unsigned build_e820(u8 *bp, u32 ram)
{
    const struct {
        u64 base, end;
        u32 type;
    } map[] = {
        { 0, EBDA_START, E820_RAM },
        { EBDA_START, HOLE_START, E820_RESERVED },
        { BIOS_START, LINUX_KERNEL_GPA, E820_RESERVED },
        { LINUX_KERNEL_GPA, ram, E820_RAM },
    };
    unsigned n = 0;
    for (unsigned k = 0; k < ARRAY_SIZE(map); k++) {
        if (map[k].end <= map[k].base)
            continue;
        u8 *p = bp + BP_E820_TABLE + n++ * E820_ENTRY;
        wr64(p, map[k].base);
        wr64(p + 8, map[k].end - map[k].base);
        wr32(p + 16, map[k].type);
    }
    bp[BP_E820_ENTRIES] = (u8)n;
    return n;
}

/* The zero page: the image's setup header plus what the loader tells the kernel. */
static unsigned build_boot_params(u8 *bp, const u8 *img, const struct linux_header *h,
                                  const struct linux_boot *b, u32 ram)
{
    memset(bp, 0, BP_SIZE);
    memcpy(bp + LINUX_HDR_OFF, img + LINUX_HDR_OFF, h->header_end - LINUX_HDR_OFF);
    /* An 80x25 colour text console, as the BIOS leaves it. */
    bp[BP_VIDEO_MODE] = 3;
    bp[BP_VIDEO_COLS] = 80;
    bp[BP_VIDEO_LINES] = 25;
    bp[BP_VIDEO_ISVGA] = 1;
    wr16(bp + BP_VIDEO_POINTS, 16);
    u32 ext_k = ram > LINUX_KERNEL_GPA ? (ram - LINUX_KERNEL_GPA) >> 10 : 0;
    wr16(bp + BP_EXT_MEM_K, (u16)min64(ext_k, 0xFFFF));
    wr32(bp + BP_ALT_MEM_K, ext_k);
    /* A non-zero sentinel tells the kernel the loader did not clear the page. */
    bp[BP_SENTINEL] = 0;
    bp[BP_TYPE_OF_LOADER] = LINUX_LOADER_TYPE;
    bp[BP_LOADFLAGS] = (u8)(h->loadflags | LF_CAN_USE_HEAP);
    wr16(bp + BP_HEAP_END_PTR, HEAP_END);
    wr32(bp + BP_RAMDISK_IMAGE, b->initrd);
    wr32(bp + BP_RAMDISK_SIZE, b->initrd_size);
    wr32(bp + BP_CMD_LINE_PTR, LINUX_CMDLINE_GPA);
    return build_e820(bp, ram);
}

/* Flat 4 GiB code (0x10) and data (0x18) descriptors (SDM vol. 3A 3.4.5). */
static void build_gdt(u8 *gdt)
{
    memset(gdt, 0, GDT_LIMIT + 1);
    wr64(gdt + LINUX_BOOT_CS, 0x00CF9B000000FFFFull);
    wr64(gdt + LINUX_BOOT_DS, 0x00CF93000000FFFFull);
}

/* Plain RAM, nothing decoded yet: write the host buffer directly. */
static void ram_copy(struct mmu *m, u64 gpa, const void *src, u64 len)
{
    if (len && ALWAYS(gpa + len <= m->ram_size))
        memcpy(m->ram + gpa, src, len);
}

int linux_load(struct mmu *m, const u8 *img, size_t size, const char *cmdline,
               const struct mb_module *initrd, unsigned n_initrd, struct linux_boot *b,
               struct load_error *e)
{
    const u32 ram = m->ram_size;
    struct linux_boot nb = { 0 };
    if (linux_parse_header(img, size, &nb.hdr, e) < 0)
        return -1;
    const struct linux_header *h = &nb.hdr;
    size_t cmd_len = strlen(cmdline);
    if (cmd_len > h->cmdline_size)
        return fail(e, "the command line is %zu bytes; this kernel accepts at most %u",
                    cmd_len, h->cmdline_size);
    if (LINUX_CMDLINE_GPA + cmd_len + 1 > LINUX_BOOT_PARAMS_GPA)
        return fail(e, "the command line is %zu bytes, too long for the space below the "
                       "zero page",
                    cmd_len);
    if (plan_kernel(h, size, ram, &nb, e) < 0)
        return -1;
    if (plan_initrd(h, initrd_total(initrd, n_initrd), ram, &nb, e) < 0)
        return -1;
    nb.boot_params = LINUX_BOOT_PARAMS_GPA;

    u8 *bp = malloc(BP_SIZE);
    if (!bp)
        return fail(e, "out of memory");
    nb.e820_entries = build_boot_params(bp, img, h, &nb, ram);
    u8 gdt[GDT_LIMIT + 1];
    build_gdt(gdt);

    /* Everything fits: write guest memory. */
    ram_copy(m, nb.entry, img + h->setup_size, size - h->setup_size);
    u64 at = nb.initrd;
    for (unsigned k = 0; k < n_initrd; k++) {
        u64 start = nb.initrd + align_up(at - nb.initrd, 4);
        if (start > at)
            memset(m->ram + at, 0, start - at);
        ram_copy(m, start, initrd[k].data, initrd[k].size);
        at = start + initrd[k].size;
    }
    ram_copy(m, LINUX_CMDLINE_GPA, cmdline, cmd_len + 1);
    ram_copy(m, LINUX_GDT_GPA, gdt, sizeof gdt);
    ram_copy(m, LINUX_BOOT_PARAMS_GPA, bp, BP_SIZE);
    free(bp);
    *b = nb;
    return 0;
}

void linux_enter(struct cpu *c, const struct linux_boot *b)
{
    cpu_set_flat32_sel(c, b->entry, LINUX_BOOT_CS, LINUX_BOOT_DS);
    cpu_set_gdtr(c, LINUX_GDT_GPA, GDT_LIMIT);
    cpu_set_mtrr_default_wb(c);
    for (enum cpu_reg r = CPU_EAX; r <= CPU_EDI; r++)
        cpu_set_reg(c, r, 0);
    cpu_set_reg(c, CPU_ESI, b->boot_params);
    /* The protocol gives no stack; the free conventional memory under the
     * zero page is a harmless one. */
    cpu_set_reg(c, CPU_ESP, b->boot_params);
}
