/*
 * The Multiboot loader (frontend/multiboot.c) on images built in memory:
 * the a.out kludge and ELF32 paths, the information structure, modules,
 * and every kind of malformed image, which must be refused with a message
 * and without touching memory outside guest RAM.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/loader.h"
#include "mmu/mmu.h"

#define RAM_MIB 16u

struct fx {
    struct counters cnt;
    struct logger log;
    struct mmu *m;
    struct load_error e;
    struct mb_boot b;
};

static void fx_init(struct fx *f)
{
    memset(f, 0, sizeof *f);
    log_init(&f->log);
    f->m = mmu_new(RAM_MIB << 20, &f->cnt, &f->log);
    ck_assert_ptr_nonnull(f->m);
    /* Make zero-filling observable. */
    memset(f->m->ram, 0xAA, f->m->ram_size);
}

static u32 rd32(const u8 *p)
{
    u32 v;
    memcpy(&v, p, 4);
    return v;
}

static void wr32(u8 *p, u32 v)
{
    memcpy(p, &v, 4);
}

static void wr16(u8 *p, u16 v)
{
    memcpy(p, &v, 2);
}

static u32 guest32(struct fx *f, u32 gpa)
{
    return rd32(f->m->ram + gpa);
}

/* ---- a.out kludge images ---- */

/* Header at `off`, file loaded at load_addr with `len` bytes, bss to bss_end. */
static size_t make_aout(u8 *img, u32 off, u32 load_addr, u32 file_len, u32 bss_end, u32 entry,
                        u32 extra_flags)
{
    memset(img, 0x5A, file_len);
    u32 flags = 0x00010003u | extra_flags;
    wr32(img + off, MB_HEADER_MAGIC);
    wr32(img + off + 4, flags);
    wr32(img + off + 8, -(MB_HEADER_MAGIC + flags));
    wr32(img + off + 12, load_addr + off);      /* header_addr */
    wr32(img + off + 16, load_addr);
    wr32(img + off + 20, load_addr + file_len); /* load_end_addr */
    wr32(img + off + 24, bss_end);
    wr32(img + off + 28, entry);
    return file_len;
}

START_TEST(aout_loads_and_describes)
{
    struct fx f;
    fx_init(&f);
    static u8 img[0x3000];
    size_t n = make_aout(img, 0x40, 0x100000, 0x2345, 0x108000, 0x100060, 0);
    static const u8 m1[] = "first module";
    static const u8 m2[] = { 1, 2, 3 };
    struct mb_module mods[] = {
        { "m1.bin", m1, sizeof m1 },
        { "m2.bin x=1", m2, sizeof m2 },
    };
    ck_assert_int_eq(mb_load(f.m, img, n, "k.bin hello", mods, 2, &f.b, &f.e), 0);
    ck_assert_uint_eq(f.b.entry, 0x100060);
    ck_assert_uint_eq(f.b.kernel_start, 0x100000);
    ck_assert_uint_eq(f.b.kernel_end, 0x108000);
    ck_assert_int_eq(memcmp(f.m->ram + 0x100000, img, n), 0);
    for (u32 a = 0x100000 + 0x2345; a < 0x108000; a++)
        ck_assert_uint_eq(f.m->ram[a], 0);

    u32 info = f.b.info;
    ck_assert_uint_ge(info, f.b.kernel_end);
    ck_assert_uint_eq(guest32(&f, info) & 0x4D, 0x4D);
    ck_assert_uint_eq(guest32(&f, info + 4), 639);
    ck_assert_uint_eq(guest32(&f, info + 8), (RAM_MIB - 1) * 1024);
    ck_assert_str_eq((char *)f.m->ram + guest32(&f, info + 16), "k.bin hello");
    ck_assert_str_eq((char *)f.m->ram + guest32(&f, info + 64), "umbra");

    ck_assert_uint_eq(guest32(&f, info + 20), 2);
    u32 ml = guest32(&f, info + 24);
    u32 s1 = guest32(&f, ml), e1 = guest32(&f, ml + 4);
    u32 s2 = guest32(&f, ml + 16), e2 = guest32(&f, ml + 20);
    ck_assert_uint_eq(s1 & 0xfff, 0);
    ck_assert_uint_eq(s2 & 0xfff, 0);
    ck_assert_uint_ge(s1, f.b.kernel_end);
    ck_assert_uint_eq(e1 - s1, sizeof m1);
    ck_assert_uint_ge(s2, e1);
    ck_assert_uint_eq(e2 - s2, sizeof m2);
    ck_assert_int_eq(memcmp(f.m->ram + s1, m1, sizeof m1), 0);
    ck_assert_int_eq(memcmp(f.m->ram + s2, m2, sizeof m2), 0);
    ck_assert_str_eq((char *)f.m->ram + guest32(&f, ml + 8), "m1.bin");
    ck_assert_str_eq((char *)f.m->ram + guest32(&f, ml + 24), "m2.bin x=1");
    ck_assert_uint_ge(info, e2);

    /* Memory map: four entries covering RAM, with the low holes reserved. */
    ck_assert_uint_eq(guest32(&f, info + 44), 4 * 24);
    u32 mm = guest32(&f, info + 48);
    static const u32 want[4][3] = {
        { 0, 0x9FC00, 1 }, { 0x9FC00, 0x400, 2 }, { 0xF0000, 0x10000, 2 },
        { 0x100000, (RAM_MIB - 1) << 20, 1 },
    };
    for (unsigned k = 0; k < 4; k++) {
        u32 p = mm + 24 * k;
        ck_assert_uint_eq(guest32(&f, p), 20);
        ck_assert_uint_eq(guest32(&f, p + 4), want[k][0]);
        ck_assert_uint_eq(guest32(&f, p + 8), 0);
        ck_assert_uint_eq(guest32(&f, p + 12), want[k][1]);
        ck_assert_uint_eq(guest32(&f, p + 20), want[k][2]);
    }
    mmu_free(f.m);
}
END_TEST

/* load_end_addr = 0 means "to the end of the file". */
START_TEST(aout_load_to_end_of_file)
{
    struct fx f;
    fx_init(&f);
    static u8 img[0x1000];
    make_aout(img, 0, 0x200000, sizeof img, 0, 0x200020, 0);
    wr32(img + 20, 0);
    ck_assert_int_eq(mb_load(f.m, img, sizeof img, "k", NULL, 0, &f.b, &f.e), 0);
    ck_assert_uint_eq(f.b.kernel_end, 0x200000 + sizeof img);
    ck_assert_uint_eq(guest32(&f, f.b.info + 20), 0);
    mmu_free(f.m);
}
END_TEST

static void expect_error(const u8 *img, size_t n, const char *needle)
{
    struct fx f;
    fx_init(&f);
    ck_assert_int_eq(mb_load(f.m, img, n, "k", NULL, 0, &f.b, &f.e), -1);
    ck_assert_msg(strstr(f.e.msg, needle), "message '%s' lacks '%s'", f.e.msg, needle);
    mmu_free(f.m);
}

START_TEST(aout_errors)
{
    static u8 img[0x1000];
    make_aout(img, 0x20, 0x100000, sizeof img, 0, 0x100000, 0);
    wr32(img + 0x28, 0); /* checksum */
    expect_error(img, sizeof img, "bad checksum");

    make_aout(img, 0x20, 0x100000, sizeof img, 0, 0x100000, 0);
    wr32(img + 0x20 + 20, 0x100000 + 0x2000); /* load_end past the file */
    expect_error(img, sizeof img, "truncated");

    make_aout(img, 0x20, 0x100000, sizeof img, 0, 0x100000, 0);
    wr32(img + 0x20 + 12, 0x100000 + 0x100); /* header would precede the file */
    expect_error(img, sizeof img, "before the file");

    make_aout(img, 0x20, 0x100000, sizeof img, 0, 0x100000, 0);
    wr32(img + 0x20 + 24, 0x100800); /* bss_end inside the loaded image */
    expect_error(img, sizeof img, "bss_end_addr");

    make_aout(img, 0x20, 0xFFFFF000, sizeof img, 0, 0xFFFFF000, 0);
    expect_error(img, sizeof img, "outside");

    make_aout(img, 0x20, 0x100000, sizeof img, 0xFFFFFFF0, 0x100000, 0);
    expect_error(img, sizeof img, "outside");

    make_aout(img, 0x20, 0x9F000, sizeof img, 0, 0x9F000, 0);
    wr32(img + 0x20 + 20, 0xA1000);
    wr32(img + 0x20 + 20, 0); /* to end of file */
    wr32(img + 0x20 + 24, 0xA8000);
    expect_error(img, sizeof img, "0xa0000");

    make_aout(img, 0x20, 0x100000, sizeof img, 0, RAM_MIB << 20, 0);
    expect_error(img, sizeof img, "entry point");

    make_aout(img, 0x20, 0x100000, sizeof img, 0, 0x100000, 1u << 5);
    expect_error(img, sizeof img, "features");

    /* The file ends 16 bytes into the 32-byte header. */
    static u8 img2[0x2000];
    make_aout(img2, 0xff0, 0x100000, sizeof img2, 0, 0x100000, 0);
    expect_error(img2, 0x1000, "truncated");
}
END_TEST

START_TEST(not_multiboot)
{
    static u8 img[0x3000];
    memset(img, 0, sizeof img);
    expect_error(img, sizeof img, "no Multiboot header in the first 8192 bytes");
    expect_error(img, 0, "no Multiboot header");
    expect_error(img, 3, "no Multiboot header");
    /* A header beyond the search window does not count. */
    make_aout(img, 0x2000, 0x100000, sizeof img, 0, 0x100000, 0);
    expect_error(img, sizeof img, "no Multiboot header");
    memset(img, 0, sizeof img);
    memcpy(img + 0x202, "HdrS", 4);
    expect_error(img, sizeof img, "Linux boot protocol not supported yet");
}
END_TEST

START_TEST(module_does_not_fit)
{
    struct fx f;
    fx_init(&f);
    static u8 img[0x1000];
    make_aout(img, 0, 0x100000, sizeof img, 0, 0x100000, 0);
    size_t big = (RAM_MIB << 20) - 0x100000;
    u8 *data = calloc(1, big);
    ck_assert_ptr_nonnull(data);
    struct mb_module mod = { "big.img", data, big };
    ck_assert_int_eq(mb_load(f.m, img, sizeof img, "k", &mod, 1, &f.b, &f.e), -1);
    ck_assert_ptr_nonnull(strstr(f.e.msg, "big.img"));
    free(data);
    mmu_free(f.m);
}
END_TEST

/* ---- ELF32 images ---- */

#define ELF_PH 52
#define ELF_SEG_OFF 0x100

struct seg_spec {
    u32 vaddr, paddr, filesz, memsz;
};

/* An ELF32 i386 executable with a Multiboot header (flags 3) at ELF_SEG_OFF,
 * the start of the first segment; segment k's bytes are 0x10 + k. */
static size_t make_elf(u8 *img, size_t cap, u32 entry, const struct seg_spec *s, unsigned n)
{
    memset(img, 0, cap);
    memcpy(img, "\x7f" "ELF\x01\x01\x01", 7);
    wr16(img + 16, 2);
    wr16(img + 18, 3);
    wr32(img + 20, 1);
    wr32(img + 24, entry);
    wr32(img + 28, ELF_PH);
    wr16(img + 40, 52);
    wr16(img + 42, 32);
    wr16(img + 44, (u16)n);
    u32 off = ELF_SEG_OFF;
    for (unsigned k = 0; k < n; k++) {
        u8 *ph = img + ELF_PH + 32 * k;
        wr32(ph, 1);
        wr32(ph + 4, off);
        wr32(ph + 8, s[k].vaddr);
        wr32(ph + 12, s[k].paddr);
        wr32(ph + 16, s[k].filesz);
        wr32(ph + 20, s[k].memsz);
        ck_assert_uint_le(off + s[k].filesz, cap);
        memset(img + off, 0x10 + k, s[k].filesz);
        off += (s[k].filesz + 15) & ~15u;
    }
    wr32(img + ELF_SEG_OFF, MB_HEADER_MAGIC);
    wr32(img + ELF_SEG_OFF + 4, 3);
    wr32(img + ELF_SEG_OFF + 8, -(MB_HEADER_MAGIC + 3));
    return off;
}

START_TEST(elf_loads_segments)
{
    struct fx f;
    fx_init(&f);
    static u8 img[0x4000];
    const struct seg_spec s[] = {
        { 0xC0100000, 0x100000, 0x800, 0x800 },
        { 0xC0300000, 0x300000, 0x100, 0x5000 },
    };
    size_t n = make_elf(img, sizeof img, 0xC0100040, s, 2);
    ck_assert_int_eq(mb_load(f.m, img, n, "k", NULL, 0, &f.b, &f.e), 0);
    ck_assert_uint_eq(f.b.entry, 0x100040); /* virtual entry made physical */
    ck_assert_uint_eq(f.b.kernel_start, 0x100000);
    ck_assert_uint_eq(f.b.kernel_end, 0x305000);
    ck_assert_uint_eq(guest32(&f, 0x100000), MB_HEADER_MAGIC);
    ck_assert_uint_eq(f.m->ram[0x1007ff], 0x10);
    ck_assert_uint_eq(f.m->ram[0x100800], 0xAA);
    ck_assert_uint_eq(f.m->ram[0x3000ff], 0x11);
    for (u32 a = 0x300100; a < 0x305000; a++)
        ck_assert_uint_eq(f.m->ram[a], 0);
    ck_assert_uint_ge(f.b.info, 0x305000);
    mmu_free(f.m);
}
END_TEST

START_TEST(elf_errors)
{
    static u8 img[0x4000];
    const struct seg_spec ok[] = { { 0x100000, 0x100000, 0x800, 0x800 } };
    size_t n = make_elf(img, sizeof img, 0x100000, ok, 1);

    img[4] = 2;
    expect_error(img, n, "64-bit");
    make_elf(img, sizeof img, 0x100000, ok, 1);
    wr16(img + 18, 62);
    expect_error(img, n, "not i386");
    make_elf(img, sizeof img, 0x100000, ok, 1);
    wr16(img + 16, 3);
    expect_error(img, n, "not an executable");
    make_elf(img, sizeof img, 0x100000, ok, 1);
    img[0] = 0;
    expect_error(img, n, "not an ELF");
    make_elf(img, sizeof img, 0x100000, ok, 1);
    wr32(img + 28, 0x7ffffff0); /* program headers past the end */
    expect_error(img, n, "truncated");
    make_elf(img, sizeof img, 0x100000, ok, 1);
    wr16(img + 44, 0);
    expect_error(img, n, "no program headers");
    make_elf(img, sizeof img, 0x100000, ok, 1);
    wr32(img + ELF_PH, 4); /* PT_NOTE only */
    expect_error(img, n, "no loadable");
    make_elf(img, sizeof img, 0x100000, ok, 1);
    wr32(img + ELF_PH + 4, 0xFFFFFF00); /* p_offset beyond the file */
    expect_error(img, n, "truncated");
    make_elf(img, sizeof img, 0x100000, ok, 1);
    expect_error(img, 0x400, "truncated"); /* file cut inside the segment */

    const struct seg_spec bigger[] = { { 0x100000, 0x100000, 0x800, 0x400 } };
    n = make_elf(img, sizeof img, 0x100000, bigger, 1);
    expect_error(img, n, "exceeds its memory size");

    const struct seg_spec huge[] = { { 0x100000, 0x100000, 0x800, 0xFFFFF000 } };
    n = make_elf(img, sizeof img, 0x100000, huge, 1);
    expect_error(img, n, "outside");

    const struct seg_spec overlap[] = {
        { 0x100000, 0x100000, 0x800, 0x1000 },
        { 0x100800, 0x100800, 0x100, 0x100 },
    };
    n = make_elf(img, sizeof img, 0x100000, overlap, 2);
    expect_error(img, n, "overlap");
}
END_TEST

/* Every prefix of a valid image either loads or is refused; none crashes
 * or writes outside RAM (run under the sanitizers to see the latter). */
START_TEST(elf_every_truncation)
{
    static u8 img[0x1000];
    const struct seg_spec s[] = {
        { 0x100000, 0x100000, 0x300, 0x300 },
        { 0x200000, 0x200000, 0x200, 0x1000 },
    };
    size_t n = make_elf(img, sizeof img, 0x100000, s, 2);
    struct fx f;
    fx_init(&f);
    for (size_t len = 0; len <= n; len++) {
        int rc = mb_load(f.m, img, len, "k", NULL, 0, &f.b, &f.e);
        ck_assert_int_eq(rc, len == n ? 0 : -1);
        if (rc < 0)
            ck_assert_uint_gt(strlen(f.e.msg), 0);
    }
    mmu_free(f.m);
}
END_TEST

START_TEST(bios_sizes)
{
    struct fx f;
    fx_init(&f);
    u8 *rom = calloc(1, 2u << 20);
    ck_assert_ptr_nonnull(rom);
    ck_assert_int_eq(bios_map(f.m, rom, 1000, &f.e), -1);
    ck_assert_ptr_nonnull(strstr(f.e.msg, "size 1000"));
    ck_assert_int_eq(bios_map(f.m, rom, 60 << 10, &f.e), -1);
    ck_assert_int_eq(bios_map(f.m, rom, (64 << 10) + 1, &f.e), -1);
    ck_assert_int_eq(bios_map(f.m, rom, (2u << 20) + 4096, &f.e), -1);
    /* 256 KiB: the last 128 KiB appear at 0xE0000-0xFFFFF. */
    rom[(256 << 10) - 16] = 0xEA;
    rom[(128 << 10)] = 0x77;
    ck_assert_int_eq(bios_map(f.m, rom, 256 << 10, &f.e), 0);
    ck_assert_uint_eq(mmu_phys_read(f.m, 0xFFFFFFF0u, 1), 0xEA);
    ck_assert_uint_eq(mmu_phys_read(f.m, 0xFFFF0u, 1), 0xEA);
    ck_assert_uint_eq(mmu_phys_read(f.m, 0xE0000u, 1), 0x77);
    ck_assert_uint_eq(mmu_phys_read(f.m, 0xFFFC0000u + (128 << 10), 1), 0x77);
    free(rom);
    mmu_free(f.m);
}
END_TEST

static Suite *multiboot_suite(void)
{
    Suite *s = suite_create("frontend-loader");
    TCase *t = tcase_create("aout");
    tcase_add_test(t, aout_loads_and_describes);
    tcase_add_test(t, aout_load_to_end_of_file);
    tcase_add_test(t, aout_errors);
    tcase_add_test(t, not_multiboot);
    tcase_add_test(t, module_does_not_fit);
    suite_add_tcase(s, t);
    t = tcase_create("elf");
    tcase_add_test(t, elf_loads_segments);
    tcase_add_test(t, elf_errors);
    tcase_add_test(t, elf_every_truncation);
    suite_add_tcase(s, t);
    t = tcase_create("bios");
    tcase_add_test(t, bios_sizes);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(multiboot_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
