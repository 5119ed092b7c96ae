/*
 * Multiboot v1 loader (Multiboot Specification 0.6.96, sections 3.1-3.3),
 * behaving as QEMU's -kernel does for such kernels (hw/i386/multiboot.c).
 *
 * The image is searched for the header in its first 8192 bytes.  With
 * header flag 16 the a.out-kludge address fields say what to copy where;
 * otherwise the file must be an ELF32 i386 executable and its PT_LOAD
 * segments are copied to p_paddr with their bss zeroed (ELF spec, "Program
 * Header").  Modules follow the kernel, page-aligned; the information
 * structure, memory map and strings follow the modules.
 *
 * Invariants: nothing is written to guest memory until the whole plan
 * (segments, modules, information area) has been checked to lie inside
 * RAM, outside the 0xA0000-0xFFFFF hole, and to fit without overlap; all
 * arithmetic on guest addresses is done in 64 bits so no sum can wrap.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "mmu/mmu.h"

#define MB_MAX_SEGS 64
#define HOLE_START 0xA0000u
#define HOLE_END 0x100000u
#define EBDA_START 0x9FC00u
#define BIOS_START 0xF0000u
#define MB_INFO_SIZE 88u
#define MB_MMAP_ENTRY 24u

/* Header flags (spec 3.1.2).  Bits 0-15 are mandatory: a loader that does
 * not understand one must refuse the kernel. */
enum {
    MBH_PAGE_ALIGN = 1u << 0,
    MBH_MEMORY_INFO = 1u << 1,
    MBH_VIDEO_MODE = 1u << 2,
    MBH_AOUT_KLUDGE = 1u << 16,
};

/* Information structure flags (spec 3.3). */
enum {
    MBI_MEMORY = 1u << 0,
    MBI_CMDLINE = 1u << 2,
    MBI_MODS = 1u << 3,
    MBI_MMAP = 1u << 6,
    MBI_LOADER_NAME = 1u << 9,
};

struct mb_header {
    u32 offset; /* in the file */
    u32 flags;
    u32 header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/* One range to copy from the file and zero-fill up to memsz. */
struct mb_seg {
    u64 gpa;
    u64 file_off;
    u64 filesz;
    u64 memsz;
};

struct mb_plan {
    struct mb_seg seg[MB_MAX_SEGS];
    unsigned n;
    u32 entry;
};

static int fail(struct load_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct load_error *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

static u32 rd32(const u8 *p)
{
    return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u16 rd16(const u8 *p)
{
    return (u16)(p[0] | p[1] << 8);
}

static void wr32(u8 *p, u32 v)
{
    p[0] = (u8)v;
    p[1] = (u8)(v >> 8);
    p[2] = (u8)(v >> 16);
    p[3] = (u8)(v >> 24);
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

static bool overlaps(u64 a, u64 alen, u64 b, u64 blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

static int find_header(const u8 *img, size_t size, struct mb_header *h, struct load_error *e)
{
    size_t end = size < MB_SEARCH ? size : MB_SEARCH;
    long bad_sum = -1;
    for (size_t off = 0; off + 12 <= end; off += 4) {
        if (rd32(img + off) != MB_HEADER_MAGIC)
            continue;
        u32 flags = rd32(img + off + 4);
        if ((u32)(MB_HEADER_MAGIC + flags + rd32(img + off + 8)) != 0) {
            if (bad_sum < 0)
                bad_sum = (long)off;
            continue;
        }
        h->offset = (u32)off;
        h->flags = flags;
        if (flags & MBH_AOUT_KLUDGE) {
            if (off + 32 > size)
                return fail(e, "file truncated inside the Multiboot header at offset 0x%zx",
                            off);
            h->header_addr = rd32(img + off + 12);
            h->load_addr = rd32(img + off + 16);
            h->load_end_addr = rd32(img + off + 20);
            h->bss_end_addr = rd32(img + off + 24);
            h->entry_addr = rd32(img + off + 28);
        }
        return 0;
    }
    if (bad_sum >= 0)
        return fail(e, "Multiboot header at offset 0x%lx has a bad checksum", bad_sum);
    if (size >= 0x206 && !memcmp(img + 0x202, "HdrS", 4))
        return fail(e, "Linux boot protocol not supported yet (no Multiboot header)");
    return fail(e, "no Multiboot header in the first %u bytes", MB_SEARCH);
}

/* The a.out kludge: header flag 16 (spec 3.1.3), checked as QEMU does. */
static int plan_aout(const struct mb_header *h, size_t size, struct mb_plan *p,
                     struct load_error *e)
{
    if (h->header_addr < h->load_addr)
        return fail(e, "Multiboot header_addr 0x%x is below load_addr 0x%x", h->header_addr,
                    h->load_addr);
    if (h->header_addr - h->load_addr > h->offset)
        return fail(e, "Multiboot load_addr 0x%x would start before the file", h->load_addr);
    u64 text_off = h->offset - (h->header_addr - h->load_addr);
    u64 load_size;
    if (h->load_end_addr) {
        if (h->load_end_addr < h->load_addr)
            return fail(e, "Multiboot load_end_addr 0x%x is below load_addr 0x%x",
                        h->load_end_addr, h->load_addr);
        load_size = h->load_end_addr - h->load_addr;
    } else {
        load_size = size - text_off;
    }
    if (text_off + load_size > size)
        return fail(e, "file truncated: the Multiboot header asks for %llu bytes from offset "
                       "0x%llx but the file has %zu",
                    (unsigned long long)load_size, (unsigned long long)text_off, size);
    u64 mem_size = load_size;
    if (h->bss_end_addr) {
        if ((u64)h->bss_end_addr < h->load_addr + load_size)
            return fail(e, "Multiboot bss_end_addr 0x%x is below the end of the loaded image",
                        h->bss_end_addr);
        mem_size = h->bss_end_addr - h->load_addr;
    }
    p->seg[0] = (struct mb_seg){ h->load_addr, text_off, load_size, mem_size };
    p->n = 1;
    p->entry = h->entry_addr;
    return 0;
}

/* ELF32 executable header and program headers (System V ABI, i386 supplement). */
static int plan_elf(const u8 *img, size_t size, struct mb_plan *p, struct load_error *e)
{
    if (size < 52 || memcmp(img, "\x7f" "ELF", 4))
        return fail(e, "not an ELF executable and the Multiboot header has no address fields "
                       "(flags bit 16)");
    if (img[4] == 2)
        return fail(e, "64-bit ELF kernels are not supported; build a 32-bit (ELF32 i386) one");
    if (img[4] != 1 || img[5] != 1)
        return fail(e, "not a little-endian ELF32 file");
    u16 type = rd16(img + 16), machine = rd16(img + 18);
    if (type != 2)
        return fail(e, "ELF type %u is not an executable (ET_EXEC)", type);
    if (machine != 3)
        return fail(e, "ELF machine %u is not i386", machine);
    u32 entry = rd32(img + 24), phoff = rd32(img + 28);
    u16 phentsize = rd16(img + 42), phnum = rd16(img + 44);
    if (phnum == 0)
        return fail(e, "ELF file has no program headers");
    if (phentsize < 32)
        return fail(e, "ELF program header size %u is too small", phentsize);
    if ((u64)phoff + (u64)phnum * phentsize > size)
        return fail(e, "file truncated: ELF program headers end beyond the file (%zu bytes)",
                    size);
    p->n = 0;
    p->entry = entry;
    bool entry_mapped = false;
    for (unsigned k = 0; k < phnum; k++) {
        const u8 *ph = img + phoff + (size_t)k * phentsize;
        if (rd32(ph) != 1 /* PT_LOAD */)
            continue;
        u32 off = rd32(ph + 4), vaddr = rd32(ph + 8), paddr = rd32(ph + 12);
        u32 filesz = rd32(ph + 16), memsz = rd32(ph + 20);
        if (!memsz)
            continue;
        if (filesz > memsz)
            return fail(e, "ELF segment %u: file size 0x%x exceeds its memory size 0x%x", k,
                        filesz, memsz);
        if ((u64)off + filesz > size)
            return fail(e, "file truncated: ELF segment %u needs bytes 0x%x-0x%llx, the file "
                           "has %zu",
                        k, off, (unsigned long long)off + filesz, size);
        if (p->n == MB_MAX_SEGS)
            return fail(e, "more than %u ELF PT_LOAD segments", MB_MAX_SEGS);
        p->seg[p->n++] = (struct mb_seg){ paddr, off, filesz, memsz };
        /* A kernel linked high gives a virtual entry point: use the physical
         * address of the segment that holds it, as QEMU does. */
        if (!entry_mapped && entry >= vaddr && (u64)entry < (u64)vaddr + memsz) {
            p->entry = paddr + (entry - vaddr);
            entry_mapped = true;
        }
    }
    if (!p->n)
        return fail(e, "ELF file has no loadable (PT_LOAD) segments");
    return 0;
}

/* A range the loader may write: inside RAM, outside the legacy hole. */
static int check_range(u64 gpa, u64 len, u32 ram, const char *what, struct load_error *e)
{
    if (gpa + len > ram)
        return fail(e, "%s at 0x%llx-0x%llx lies outside the %u MiB of guest RAM", what,
                    (unsigned long long)gpa, (unsigned long long)(gpa + len), ram >> 20);
    if (overlaps(gpa, len, HOLE_START, HOLE_END - HOLE_START))
        return fail(e, "%s at 0x%llx-0x%llx overlaps the video memory and BIOS area "
                       "0xa0000-0xfffff",
                    what, (unsigned long long)gpa, (unsigned long long)(gpa + len));
    return 0;
}

/* Find room for `len` bytes at or above *cursor, skipping the hole. */
static int place(u64 *cursor, u64 len, u64 align, u32 ram, const char *what, u64 *gpa,
                 struct load_error *e)
{
    u64 at = align_up(*cursor, align);
    if (overlaps(at, len ? len : 1, HOLE_START, HOLE_END - HOLE_START))
        at = HOLE_END;
    if (at + len > ram)
        return fail(e, "%s (%llu bytes) does not fit in the %u MiB of guest RAM after the "
                       "kernel",
                    what, (unsigned long long)len, ram >> 20);
    *gpa = at;
    *cursor = at + len;
    return 0;
}

/*
 * Copy into guest RAM.  Every range was checked to be plain RAM, and
 * nothing has been decoded yet, so no write-tracking subscriber needs to
 * hear of these stores: go straight to the host buffer.
 */
static void ram_copy(struct mmu *m, u64 gpa, const u8 *src, u64 len)
{
    if (len && ALWAYS(gpa + len <= m->ram_size))
        memcpy(m->ram + gpa, src, len);
}

static void ram_zero(struct mmu *m, u64 gpa, u64 len)
{
    if (len && ALWAYS(gpa + len <= m->ram_size))
        memset(m->ram + gpa, 0, len);
}

/* The BIOS memory map the kernel is given (spec 3.3, "mmap_*"). */
static unsigned build_mmap(u8 *out, u32 ram)
{
    static const struct {
        u64 base, end;
        u32 type;
    } fixed[] = {
        { 0, EBDA_START, 1 },
        { EBDA_START, HOLE_START, 2 },
        { BIOS_START, HOLE_END, 2 },
    };
    unsigned n = 0;
    for (unsigned k = 0; k < ARRAY_SIZE(fixed); k++, n++) {
        u8 *p = out + n * MB_MMAP_ENTRY;
        wr32(p, MB_MMAP_ENTRY - 4);
        wr64(p + 4, fixed[k].base);
        wr64(p + 12, fixed[k].end - fixed[k].base);
        wr32(p + 20, fixed[k].type);
    }
    if (ram > HOLE_END) {
        u8 *p = out + n++ * MB_MMAP_ENTRY;
        wr32(p, MB_MMAP_ENTRY - 4);
        wr64(p + 4, HOLE_END);
        wr64(p + 12, ram - HOLE_END);
        wr32(p + 20, 1);
    }
    return n;
}

static int check_plan(const struct mb_plan *p, u32 ram, struct load_error *e)
{
    for (unsigned k = 0; k < p->n; k++) {
        const struct mb_seg *s = &p->seg[k];
        char what[32];
        snprintf(what, sizeof what, "kernel segment %u", k);
        if (check_range(s->gpa, s->memsz, ram, what, e) < 0)
            return -1;
        for (unsigned j = 0; j < k; j++)
            if (overlaps(s->gpa, s->memsz, p->seg[j].gpa, p->seg[j].memsz))
                return fail(e, "kernel segments %u and %u overlap", j, k);
    }
    if (p->entry >= ram)
        return fail(e, "entry point 0x%x lies outside the %u MiB of guest RAM", p->entry,
                    ram >> 20);
    return 0;
}

int mb_load(struct mmu *m, const u8 *img, size_t size, const char *cmdline,
            const struct mb_module *mods, unsigned n_mods, struct mb_boot *b,
            struct load_error *e)
{
    const u32 ram = m->ram_size;
    struct mb_header h = { 0 };
    struct mb_plan *p = calloc(1, sizeof *p);
    if (!p)
        return fail(e, "out of memory");
    int rc = -1;
    u8 *info = NULL;
    u64 *mod_gpa = NULL;
    if (find_header(img, size, &h, e) < 0)
        goto out;
    /* Flags 0 and 1 are honoured (modules are always page-aligned and
     * memory information is always given); a video mode request is only a
     * preference, so it is ignored.  Any other mandatory bit is unknown. */
    if (h.flags & 0xfff8u) {
        fail(e, "Multiboot header requires features this loader lacks (flags 0x%x)", h.flags);
        goto out;
    }
    if ((h.flags & MBH_AOUT_KLUDGE ? plan_aout(&h, size, p, e) : plan_elf(img, size, p, e)) < 0)
        goto out;
    if (check_plan(p, ram, e) < 0)
        goto out;

    u64 lo = UINT64_MAX, hi = 0;
    for (unsigned k = 0; k < p->n; k++) {
        lo = p->seg[k].gpa < lo ? p->seg[k].gpa : lo;
        hi = p->seg[k].gpa + p->seg[k].memsz > hi ? p->seg[k].gpa + p->seg[k].memsz : hi;
    }

    /* Modules, page-aligned after the kernel (spec 3.1.2, flag 0). */
    u64 cursor = hi;
    mod_gpa = calloc(n_mods ? n_mods : 1, sizeof *mod_gpa);
    if (!mod_gpa) {
        fail(e, "out of memory");
        goto out;
    }
    for (unsigned k = 0; k < n_mods; k++) {
        char what[300];
        snprintf(what, sizeof what, "module '%s'", mods[k].string);
        if (place(&cursor, mods[k].size, 4096, ram, what, &mod_gpa[k], e) < 0)
            goto out;
    }

    /* Information area: info structure, memory map, module list, strings. */
    static const char loader_name[] = "umbra";
    u64 strings = strlen(cmdline) + 1 + sizeof loader_name;
    for (unsigned k = 0; k < n_mods; k++)
        strings += strlen(mods[k].string) + 1;
    const u64 mmap_off = MB_INFO_SIZE, mods_off = mmap_off + 4 * MB_MMAP_ENTRY,
              str_off = mods_off + 16ull * n_mods, area = str_off + strings;
    u64 info_gpa = 0;
    if (place(&cursor, area, 4096, ram, "the Multiboot information area", &info_gpa, e) < 0)
        goto out;
    info = calloc(1, area);
    if (!info) {
        fail(e, "out of memory");
        goto out;
    }
    unsigned n_mmap = build_mmap(info + mmap_off, ram);
    u64 s = str_off;
    wr32(info + 0, MBI_MEMORY | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_LOADER_NAME);
    wr32(info + 4, EBDA_START >> 10);
    wr32(info + 8, ram > HOLE_END ? (ram - HOLE_END) >> 10 : 0);
    wr32(info + 16, (u32)(info_gpa + s));
    memcpy(info + s, cmdline, strlen(cmdline) + 1);
    s += strlen(cmdline) + 1;
    wr32(info + 64, (u32)(info_gpa + s));
    memcpy(info + s, loader_name, sizeof loader_name);
    s += sizeof loader_name;
    wr32(info + 20, n_mods);
    wr32(info + 24, n_mods ? (u32)(info_gpa + mods_off) : 0);
    for (unsigned k = 0; k < n_mods; k++) {
        u8 *ent = info + mods_off + 16 * k;
        size_t len = strlen(mods[k].string) + 1;
        wr32(ent, (u32)mod_gpa[k]);
        wr32(ent + 4, (u32)(mod_gpa[k] + mods[k].size));
        wr32(ent + 8, (u32)(info_gpa + s));
        memcpy(info + s, mods[k].string, len);
        s += len;
    }
    wr32(info + 44, n_mmap * MB_MMAP_ENTRY);
    wr32(info + 48, (u32)(info_gpa + mmap_off));

    /* Everything fits: write guest memory. */
    for (unsigned k = 0; k < p->n; k++) {
        const struct mb_seg *sg = &p->seg[k];
        ram_copy(m, sg->gpa, img + sg->file_off, sg->filesz);
        ram_zero(m, sg->gpa + sg->filesz, sg->memsz - sg->filesz);
    }
    for (unsigned k = 0; k < n_mods; k++)
        ram_copy(m, mod_gpa[k], mods[k].data, mods[k].size);
    ram_copy(m, info_gpa, info, area);

    *b = (struct mb_boot){
        .entry = p->entry,
        .info = (u32)info_gpa,
        .kernel_start = (u32)lo,
        .kernel_end = (u32)hi,
        .mods_start = n_mods ? (u32)mod_gpa[0] : 0,
        .info_end = (u32)(info_gpa + area),
    };
    rc = 0;
out:
    free(info);
    free(mod_gpa);
    free(p);
    return rc;
}
