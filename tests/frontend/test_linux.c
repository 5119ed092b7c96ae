/*
 * The Linux boot protocol loader (frontend/linux.c) on bzImage files built
 * in memory: the zero page, command line, initrd placement and the CPU
 * state at the 32-bit entry point, every kind of malformed image or
 * impossible memory size, and (when scripts/fetch-guest.sh has been run)
 * Debian's real i386 kernel.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu/cpu.h"
#include "cpu_state.h"
#include "frontend/linux.h"
#include "frontend/loader.h"
#include "mmu/mmu.h"

#ifndef UMBRA_GUEST_CACHE
#define UMBRA_GUEST_CACHE "cache/guest"
#endif

#define MIB (1u << 20)
#define IMG_CAP (64u << 10)

struct fx {
    struct counters cnt;
    struct logger log;
    struct mmu *m;
    struct cpu *c;
    struct load_error e;
    struct linux_boot b;
};

static void fx_init(struct fx *f, u32 ram_mib, bool poison)
{
    memset(f, 0, sizeof *f);
    log_init(&f->log);
    f->m = mmu_new(ram_mib * MIB, &f->cnt, &f->log);
    ck_assert_ptr_nonnull(f->m);
    f->c = cpu_new(f->m, &f->cnt, &f->log);
    ck_assert_ptr_nonnull(f->c);
    /* Make every byte the loader writes (or must not write) observable. */
    if (poison)
        memset(f->m->ram, 0xAA, f->m->ram_size);
}

static void fx_free(struct fx *f)
{
    cpu_free(f->c);
    mmu_free(f->m);
}

static u16 rd16(const u8 *p)
{
    u16 v;
    memcpy(&v, p, 2);
    return v;
}

static u32 rd32(const u8 *p)
{
    u32 v;
    memcpy(&v, p, 4);
    return v;
}

static u64 rd64(const u8 *p)
{
    u64 v;
    memcpy(&v, p, 8);
    return v;
}

static void wr16(u8 *p, u16 v)
{
    memcpy(p, &v, 2);
}

static void wr32(u8 *p, u32 v)
{
    memcpy(p, &v, 4);
}

static void wr64(u8 *p, u64 v)
{
    memcpy(p, &v, 8);
}

/* The fields a synthetic bzImage is built from. */
struct bz {
    u8 setup_sects;
    u16 version;
    u8 loadflags;
    u32 payload;          /* protected-mode kernel bytes */
    u32 init_size;
    u32 kernel_alignment;
    u8 relocatable;
    u64 pref_address;
    u32 cmdline_size;
    u32 initrd_addr_max;
};

/* A modern relocatable kernel, as Debian's is, scaled down. */
static struct bz bz_default(void)
{
    return (struct bz){
        .setup_sects = 3,
        .version = 0x020F,
        .loadflags = 0x01,
        .payload = 0x3000,
        .init_size = 0x800000,
        .kernel_alignment = 0x1000000,
        .relocatable = 1,
        .pref_address = 0x1000000,
        .cmdline_size = 2047,
        .initrd_addr_max = 0x7FFFFFFF,
    };
}

static u8 payload_byte(u32 k)
{
    return (u8)(k * 7 + 3);
}

/* Build the image into img (IMG_CAP bytes); returns its size. */
static size_t make_bz(u8 *img, const struct bz *o)
{
    memset(img, 0, IMG_CAP);
    u32 setup = ((o->setup_sects ? o->setup_sects : 4) + 1u) * 512;
    ck_assert_uint_le(setup + o->payload, IMG_CAP);
    img[0x1F1] = o->setup_sects;
    wr32(img + 0x1F4, o->payload / 16);
    wr16(img + 0x1FE, 0xAA55);
    img[0x200] = 0xEB;
    img[0x201] = 0x6A; /* the header ends at 0x26C */
    memcpy(img + 0x202, "HdrS", 4);
    wr16(img + 0x206, o->version);
    wr16(img + 0x20E, 0x1234); /* kernel_version: must reach the zero page */
    img[0x211] = o->loadflags;
    wr32(img + 0x214, 0x100000);
    wr32(img + 0x22C, o->initrd_addr_max);
    wr32(img + 0x230, o->kernel_alignment);
    img[0x234] = o->relocatable;
    wr32(img + 0x238, o->cmdline_size);
    wr64(img + 0x258, o->pref_address);
    wr32(img + 0x260, o->init_size);
    for (u32 k = 0; k < o->payload; k++)
        img[setup + k] = payload_byte(k);
    return setup + o->payload;
}

static u8 *ram(struct fx *f, u32 gpa)
{
    return f->m->ram + gpa;
}

/* Load with one initrd part (or none if data is NULL). */
static int load1(struct fx *f, const u8 *img, size_t size, const char *cmdline, const u8 *data,
                 size_t data_size)
{
    struct mb_module mod = { "initrd", data, data_size };
    return linux_load(f->m, img, size, cmdline, &mod, data ? 1 : 0, &f->b, &f->e);
}

/* A failed load names the problem and leaves the zero page untouched. */
static void expect_error(struct fx *f, int rc, const char *needle)
{
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(f->e.msg, needle), "message '%s' lacks '%s'", f->e.msg, needle);
    if (f->m->ram_size > LINUX_BOOT_PARAMS_GPA)
        ck_assert_uint_eq(*ram(f, LINUX_BOOT_PARAMS_GPA + 0x210), 0xAA);
}

/* ---- a valid image ---- */

START_TEST(valid_loads_zero_page)
{
    struct fx f;
    fx_init(&f, 64, true);
    static u8 img[IMG_CAP];
    struct bz o = bz_default();
    size_t n = make_bz(img, &o);
    static u8 rd[0x5123];
    for (size_t k = 0; k < sizeof rd; k++)
        rd[k] = (u8)(k ^ 0x5A);
    ck_assert_int_eq(load1(&f, img, n, "console=ttyS0 quiet", rd, sizeof rd), 0);
    const u8 *bp = ram(&f, LINUX_BOOT_PARAMS_GPA);

    /* The kernel at 1 MiB, byte for byte. */
    ck_assert_uint_eq(f.b.entry, 0x100000);
    ck_assert_mem_eq(ram(&f, 0x100000), img + 4 * 512, o.payload);
    ck_assert_uint_eq(f.b.kernel_end, 0x100000 + o.payload);
    /* Relocatable, 16 MiB aligned: it decompresses to 16 MiB. */
    ck_assert_uint_eq(f.b.runtime_start, 0x1000000);
    ck_assert_uint_eq(f.b.runtime_end, 0x1800000);

    /* Setup header copied, loader fields filled. */
    ck_assert_mem_eq(bp + 0x202, "HdrS", 4);
    ck_assert_uint_eq(bp[0x1F1], 3);
    ck_assert_uint_eq(rd16(bp + 0x1FE), 0xAA55);
    ck_assert_uint_eq(rd16(bp + 0x206), 0x020F);
    ck_assert_uint_eq(rd16(bp + 0x20E), 0x1234);
    ck_assert_uint_eq(rd32(bp + 0x214), 0x100000);
    ck_assert_uint_eq(rd32(bp + 0x230), 0x1000000);
    ck_assert_uint_eq(rd32(bp + 0x260), 0x800000);
    ck_assert_uint_eq(bp[0x210], LINUX_LOADER_TYPE);
    ck_assert_uint_eq(bp[0x211], 0x81); /* LOADED_HIGH | CAN_USE_HEAP */
    ck_assert_uint_ne(rd16(bp + 0x224), 0);
    ck_assert_uint_eq(bp[0x1EF], 0); /* sentinel */
    /* Past the header the zero page is clear. */
    ck_assert_uint_eq(bp[0x26C], 0);
    ck_assert_uint_eq(bp[0xFFF], 0);

    /* Command line. */
    ck_assert_uint_eq(rd32(bp + 0x228), LINUX_CMDLINE_GPA);
    ck_assert_str_eq((const char *)ram(&f, LINUX_CMDLINE_GPA), "console=ttyS0 quiet");

    /* initrd: page-aligned, as high as RAM allows, bytes intact. */
    u32 at = rd32(bp + 0x218);
    ck_assert_uint_eq(at, f.b.initrd);
    ck_assert_uint_eq(rd32(bp + 0x21C), sizeof rd);
    ck_assert_uint_eq(at & 0xFFF, 0);
    ck_assert_uint_le(at + sizeof rd, 64 * MIB);
    ck_assert_uint_gt(at + sizeof rd + 0x1000, 64 * MIB);
    ck_assert_mem_eq(ram(&f, at), rd, sizeof rd);

    /* Memory map and sizes, consistent with -m 64. */
    ck_assert_uint_eq(bp[0x1E8], 4);
    ck_assert_uint_eq(f.b.e820_entries, 4);
    static const u64 want[4][3] = {
        { 0, 0x9FC00, 1 },
        { 0x9FC00, 0x400, 2 },
        { 0xF0000, 0x10000, 2 },
        { 0x100000, 63 * MIB, 1 },
    };
    for (unsigned k = 0; k < 4; k++) {
        const u8 *e = bp + 0x2D0 + 20 * k;
        ck_assert_uint_eq(rd64(e), want[k][0]);
        ck_assert_uint_eq(rd64(e + 8), want[k][1]);
        ck_assert_uint_eq(rd32(e + 16), want[k][2]);
    }
    ck_assert_uint_eq(rd32(bp + 0x2D0 + 20 * 4), 0);
    ck_assert_uint_eq(rd32(bp + 0x1E0), 63 * 1024); /* alt_mem_k */
    ck_assert_uint_eq(rd16(bp + 0x002), 63 * 1024); /* ext_mem_k */

    /* 80x25 VGA text. */
    ck_assert_uint_eq(bp[0x06], 3);
    ck_assert_uint_eq(bp[0x07], 80);
    ck_assert_uint_eq(bp[0x0E], 25);
    ck_assert_uint_eq(bp[0x0F], 1);
    ck_assert_uint_eq(rd16(bp + 0x10), 16);

    /* GDT: flat code at 0x10, flat data at 0x18. */
    ck_assert_uint_eq(rd64(ram(&f, LINUX_GDT_GPA + 0x10)), 0x00CF9B000000FFFFull);
    ck_assert_uint_eq(rd64(ram(&f, LINUX_GDT_GPA + 0x18)), 0x00CF93000000FFFFull);
    fx_free(&f);
}
END_TEST

START_TEST(entry_state_and_gdt_work)
{
    struct fx f;
    fx_init(&f, 32, true);
    static u8 img[IMG_CAP];
    struct bz o = bz_default();
    o.payload = 16;
    size_t n = make_bz(img, &o);
    /* mov eax,[esi+0x228]; mov bx,0x18; mov ds,bx; mov ss,bx; mov es,bx; hlt */
    static const u8 code[] = { 0x8B, 0x86, 0x28, 0x02, 0x00, 0x00, 0x66, 0xBB, 0x18, 0x00,
                               0x8E, 0xDB, 0x8E, 0xD3, 0x8E, 0xC3, 0xF4 };
    memcpy(img + 4 * 512, code, sizeof code);
    n = 4 * 512 + sizeof code;
    cpu_set_reg(f.c, CPU_EBX, 0x1234);
    cpu_set_reg(f.c, CPU_EDI, 0x5678);
    cpu_set_reg(f.c, CPU_EBP, 0x9ABC);
    ck_assert_int_eq(load1(&f, img, n, "", NULL, 0), 0);
    linux_enter(f.c, &f.b);

    ck_assert_uint_eq(cpu_get_reg(f.c, CPU_EIP), 0x100000);
    ck_assert_uint_eq(cpu_get_reg(f.c, CPU_ESI), LINUX_BOOT_PARAMS_GPA);
    ck_assert_uint_eq(cpu_get_reg(f.c, CPU_EBX), 0);
    ck_assert_uint_eq(cpu_get_reg(f.c, CPU_EBP), 0);
    ck_assert_uint_eq(cpu_get_reg(f.c, CPU_EDI), 0);
    ck_assert_uint_eq(cpu_get_reg(f.c, CPU_CS), LINUX_BOOT_CS);
    ck_assert_uint_eq(cpu_get_reg(f.c, CPU_DS), LINUX_BOOT_DS);
    ck_assert_uint_eq(cpu_get_reg(f.c, CPU_ES), LINUX_BOOT_DS);
    ck_assert_uint_eq(cpu_get_reg(f.c, CPU_SS), LINUX_BOOT_DS);
    u32 cr0 = cpu_get_reg(f.c, CPU_CR0);
    ck_assert(cr0 & CR0_PE);
    ck_assert(!(cr0 & CR0_PG));
    ck_assert(!(cpu_get_reg(f.c, CPU_EFLAGS) & EFLAGS_IF));
    ck_assert_uint_eq(f.c->gdtr.base, LINUX_GDT_GPA);
    ck_assert_uint_eq(f.c->gdtr.limit, 31);
    for (unsigned s = 0; s < 6; s++) {
        ck_assert_uint_eq(f.c->seg[s].base, 0);
        ck_assert_uint_eq(f.c->seg[s].limit, 0xFFFFFFFFu);
    }
    ck_assert(f.c->seg[S_CS].flags & DESC_DB);

    /* Run it: segment loads through the loader's GDT must succeed. */
    ck_assert_int_eq(cpu_run(f.c, 100), CPU_EXIT_HALT);
    ck_assert_uint_eq(cpu_get_reg(f.c, CPU_EIP), 0x100000 + sizeof code);
    ck_assert_uint_eq(cpu_get_reg(f.c, CPU_EAX), LINUX_CMDLINE_GPA);
    ck_assert_uint_eq(cpu_get_reg(f.c, CPU_DS), LINUX_BOOT_DS);
    ck_assert_uint_eq(f.c->seg[S_DS].limit, 0xFFFFFFFFu);
    fx_free(&f);
}
END_TEST

START_TEST(setup_sects_zero_means_four)
{
    struct fx f;
    fx_init(&f, 32, true);
    static u8 img[IMG_CAP];
    struct bz o = bz_default();
    o.setup_sects = 0;
    size_t n = make_bz(img, &o);
    ck_assert_int_eq(load1(&f, img, n, "", NULL, 0), 0);
    ck_assert_uint_eq(f.b.hdr.setup_sects, 4);
    ck_assert_uint_eq(f.b.hdr.setup_size, 5 * 512);
    ck_assert_mem_eq(ram(&f, 0x100000), img + 5 * 512, o.payload);
    /* No initrd: the fields say so. */
    ck_assert_uint_eq(rd32(ram(&f, LINUX_BOOT_PARAMS_GPA + 0x218)), 0);
    ck_assert_uint_eq(rd32(ram(&f, LINUX_BOOT_PARAMS_GPA + 0x21C)), 0);
    fx_free(&f);
}
END_TEST

START_TEST(initrd_parts_concatenate)
{
    struct fx f;
    fx_init(&f, 32, true);
    static u8 img[IMG_CAP];
    struct bz o = bz_default();
    size_t n = make_bz(img, &o);
    static const u8 a[5] = { 1, 2, 3, 4, 5 }, b[7] = { 11, 12, 13, 14, 15, 16, 17 };
    struct mb_module mods[2] = { { "a", a, sizeof a }, { "b", b, sizeof b } };
    ck_assert_int_eq(linux_load(f.m, img, n, "", mods, 2, &f.b, &f.e), 0);
    ck_assert_uint_eq(f.b.initrd_size, 8 + 7);
    const u8 *p = ram(&f, f.b.initrd);
    ck_assert_mem_eq(p, a, 5);
    ck_assert_uint_eq(p[5] | p[6] | p[7], 0); /* alignment padding */
    ck_assert_mem_eq(p + 8, b, 7);
    fx_free(&f);
}
END_TEST

START_TEST(initrd_below_limits)
{
    struct fx f;
    fx_init(&f, 64, true);
    static u8 img[IMG_CAP];
    struct bz o = bz_default();
    o.initrd_addr_max = 0x2FFFFFF;
    size_t n = make_bz(img, &o);
    static u8 rd[0x2000];
    ck_assert_int_eq(load1(&f, img, n, "", rd, sizeof rd), 0);
    ck_assert_uint_eq(f.b.initrd, 0x3000000 - 0x2000);
    fx_free(&f);

    /* Above 896 MiB a 32-bit kernel cannot reach it. */
    fx_init(&f, 1024, false);
    o = bz_default();
    n = make_bz(img, &o);
    ck_assert_int_eq(load1(&f, img, n, "", rd, sizeof rd), 0);
    ck_assert_uint_eq(f.b.initrd, 896 * MIB - 0x2000);
    const u8 *e = ram(&f, LINUX_BOOT_PARAMS_GPA + 0x2D0 + 3 * 20);
    ck_assert_uint_eq(rd64(e + 8), 1023ull * MIB);
    fx_free(&f);
}
END_TEST

START_TEST(kernel_boot_dispatches)
{
    struct fx f;
    fx_init(&f, 32, true);
    static u8 img[IMG_CAP];
    struct bz o = bz_default();
    size_t n = make_bz(img, &o);
    struct kernel_request k = { "vmlinuz", img, n, "root=/dev/ram0", NULL, 0 };
    ck_assert_int_eq(kernel_boot(f.c, f.m, &k, &f.e), 0);
    ck_assert_uint_eq(cpu_get_reg(f.c, CPU_EIP), 0x100000);
    ck_assert_uint_eq(cpu_get_reg(f.c, CPU_ESI), LINUX_BOOT_PARAMS_GPA);
    /* Linux gets -append alone, not the kernel's path. */
    ck_assert_str_eq((const char *)ram(&f, LINUX_CMDLINE_GPA), "root=/dev/ram0");
    k.append = NULL;
    ck_assert_int_eq(kernel_boot(f.c, f.m, &k, &f.e), 0);
    ck_assert_str_eq((const char *)ram(&f, LINUX_CMDLINE_GPA), "");
    /* Without "HdrS" the Multiboot loader decides. */
    memset(img + 0x202, 0, 4);
    ck_assert_int_eq(kernel_boot(f.c, f.m, &k, &f.e), -1);
    ck_assert_ptr_nonnull(strstr(f.e.msg, "Multiboot"));
    fx_free(&f);
}
END_TEST

/* ---- malformed images ---- */

START_TEST(header_errors)
{
    struct fx f;
    fx_init(&f, 32, true);
    static u8 img[IMG_CAP];
    struct bz o = bz_default();
    size_t n = make_bz(img, &o);

    /* Cut inside the header, and just after the setup code. */
    expect_error(&f, load1(&f, img, 0x230, "", NULL, 0), "file truncated");
    expect_error(&f, load1(&f, img, 4 * 512, "", NULL, 0), "file truncated");
    expect_error(&f, load1(&f, img, 4 * 512, "", NULL, 0), "3 sectors");
    /* Every cut before the payload is refused, none crashes. */
    for (size_t cut = 0x206; cut <= 4 * 512; cut += 37)
        ck_assert_int_eq(load1(&f, img, cut, "", NULL, 0), -1);

    o.setup_sects = 60;
    n = make_bz(img, &o);
    expect_error(&f, load1(&f, img, 4096, "", NULL, 0), "60 sectors");

    o = bz_default();
    o.version = 0x0203;
    n = make_bz(img, &o);
    expect_error(&f, load1(&f, img, n, "", NULL, 0), "2.03 is too old");

    o = bz_default();
    o.loadflags = 0;
    n = make_bz(img, &o);
    expect_error(&f, load1(&f, img, n, "", NULL, 0), "LOADED_HIGH");

    o = bz_default();
    o.kernel_alignment = 0x1800000;
    n = make_bz(img, &o);
    expect_error(&f, load1(&f, img, n, "", NULL, 0), "not a power of two");

    o = bz_default();
    n = make_bz(img, &o);
    wr16(img + 0x1FE, 0);
    expect_error(&f, load1(&f, img, n, "", NULL, 0), "boot flag");

    o = bz_default();
    o.cmdline_size = 10;
    n = make_bz(img, &o);
    expect_error(&f, load1(&f, img, n, "console=ttyS0", NULL, 0), "at most 10");
    ck_assert_int_eq(load1(&f, img, n, "0123456789", NULL, 0), 0);
    fx_free(&f);
}
END_TEST

/* ---- memory sizes ---- */

START_TEST(memory_errors)
{
    struct fx f;
    static u8 img[IMG_CAP];
    struct bz o = bz_default();
    size_t n = make_bz(img, &o);

    /* -m 1: nothing above 1 MiB for the kernel. */
    fx_init(&f, 1, true);
    expect_error(&f, load1(&f, img, n, "", NULL, 0), "does not fit in the 1 MiB");
    fx_free(&f);

    /* The image fits, but not what it decompresses to (16 MiB + 8 MiB). */
    fx_init(&f, 20, true);
    expect_error(&f, load1(&f, img, n, "", NULL, 0), "at least 24 MiB");
    fx_free(&f);

    /* Exactly enough. */
    fx_init(&f, 24, true);
    ck_assert_int_eq(load1(&f, img, n, "", NULL, 0), 0);
    fx_free(&f);

    /* An initrd larger than RAM, and one that only collides with the kernel. */
    fx_init(&f, 32, true);
    size_t big = 33u * MIB;
    u8 *rd = calloc(1, big);
    ck_assert_ptr_nonnull(rd);
    expect_error(&f, load1(&f, img, n, "", rd, big), "more than the 32 MiB");
    expect_error(&f, load1(&f, img, n, "", rd, 9u * MIB), "does not fit");
    ck_assert_int_eq(load1(&f, img, n, "", rd, 8u * MIB), 0);
    ck_assert_uint_eq(f.b.initrd, 24 * MIB);
    free(rd);
    fx_free(&f);
}
END_TEST

/* ---- Debian's kernel, when fetched ---- */

static u8 *read_all(const char *path, size_t *size)
{
    struct load_error e;
    u8 *data = NULL;
    if (load_file(path, (size_t)256 << 20, &data, size, &e) < 0)
        return NULL;
    return data;
}

START_TEST(debian_kernel)
{
    size_t size = 0, rd_size = 0;
    u8 *img = read_all(UMBRA_GUEST_CACHE "/vmlinuz", &size);
    ck_assert_ptr_nonnull(img);
    u8 *rd = read_all(UMBRA_GUEST_CACHE "/initrd.img", &rd_size);
    struct linux_header h;
    struct load_error e;
    ck_assert_msg(linux_parse_header(img, size, &h, &e) == 0, "%s", e.msg);
    ck_assert_uint_ge(h.version, 0x020F);
    ck_assert(h.loadflags & 1);
    ck_assert_uint_eq(h.code32_start, 0x100000);
    ck_assert(h.relocatable);
    ck_assert_uint_eq(h.kernel_alignment & (h.kernel_alignment - 1), 0);
    ck_assert_uint_gt(h.init_size, size - h.setup_size);
    ck_assert_uint_ge(h.cmdline_size, 255);
    /* A signed kernel carries its signature after the syssize bytes. */
    ck_assert_uint_le(h.syssize * 16ull, size - h.setup_size);
    ck_assert_uint_gt(h.syssize * 16ull, (size - h.setup_size) / 2);

    struct fx f;
    fx_init(&f, 256, false);
    struct mb_module mod = { "initrd.img", rd, rd_size };
    ck_assert_msg(linux_load(f.m, img, size, "console=ttyS0", &mod, rd ? 1 : 0, &f.b, &f.e) == 0,
                  "%s", f.e.msg);
    ck_assert_mem_eq(ram(&f, 0x100000), img + h.setup_size, 4096);
    if (rd) {
        ck_assert_uint_ge(f.b.initrd, f.b.runtime_end);
        ck_assert_mem_eq(ram(&f, f.b.initrd), rd, rd_size);
    }
    fx_free(&f);

    fx_init(&f, 1, false);
    ck_assert_int_eq(linux_load(f.m, img, size, "", NULL, 0, &f.b, &f.e), -1);
    ck_assert_ptr_nonnull(strstr(f.e.msg, "does not fit"));
    fx_free(&f);
    free(rd);
    free(img);
}
END_TEST

static Suite *linux_suite(void)
{
    Suite *s = suite_create("linux");
    TCase *t = tcase_create("load");
    tcase_add_test(t, valid_loads_zero_page);
    tcase_add_test(t, entry_state_and_gdt_work);
    tcase_add_test(t, setup_sects_zero_means_four);
    tcase_add_test(t, initrd_parts_concatenate);
    tcase_add_test(t, initrd_below_limits);
    tcase_add_test(t, kernel_boot_dispatches);
    suite_add_tcase(s, t);
    t = tcase_create("errors");
    tcase_add_test(t, header_errors);
    tcase_add_test(t, memory_errors);
    suite_add_tcase(s, t);
    if (access(UMBRA_GUEST_CACHE "/vmlinuz", R_OK) == 0) {
        t = tcase_create("debian");
        tcase_add_test(t, debian_kernel);
        suite_add_tcase(s, t);
    } else {
        printf("note: %s/vmlinuz is absent (run scripts/fetch-guest.sh); the Debian kernel "
               "test is not run\n",
               UMBRA_GUEST_CACHE);
    }
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(linux_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
