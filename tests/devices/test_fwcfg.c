/*
 * fw_cfg through ports 0x510/0x511: the signature, the ID, RAM size and
 * CPU counts in little-endian, the empty file directory, unknown keys,
 * and the data offset reset by each selector write.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/counters.h"
#include "common/log.h"
#include "devices/fwcfg.h"
#include "mmu/mmu.h"

#define RAM_SIZE (3ull << 30)

static struct counters cnt;
static struct logger lg;
static struct mmu *m;
static struct fwcfg *f;

static void setup(void)
{
    cnt = (struct counters){ 0 };
    log_init(&lg);
    m = mmu_new(1u << 20, &cnt, &lg);
    ck_assert_ptr_nonnull(m);
    f = fwcfg_new(m, RAM_SIZE, 1);
    ck_assert_ptr_nonnull(f);
}

static void teardown(void)
{
    fwcfg_free(f);
    mmu_free(m);
}

static void select_key(u16 key)
{
    mmu_io_write(m, FWCFG_PORT_SEL, key, 2);
}

/* Read n bytes of the selected item, one port read each, little-endian. */
static u64 read_le(unsigned n)
{
    u64 v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (u64)mmu_io_read(m, FWCFG_PORT_DATA, 1) << (8 * i);
    return v;
}

START_TEST(signature)
{
    select_key(FW_CFG_SIGNATURE);
    char sig[5] = { 0 };
    for (unsigned i = 0; i < 4; i++)
        sig[i] = (char)mmu_io_read(m, FWCFG_PORT_DATA, 1);
    ck_assert_str_eq(sig, "QEMU");
    ck_assert_uint_eq(mmu_io_read(m, FWCFG_PORT_DATA, 1), 0); /* past the end */
    /* Selecting again starts over. */
    select_key(FW_CFG_SIGNATURE);
    ck_assert_uint_eq(mmu_io_read(m, FWCFG_PORT_DATA, 1), 'Q');
    ck_assert_uint_eq(mmu_io_read(m, FWCFG_PORT_DATA, 1), 'E');
    select_key(FW_CFG_ID);
    ck_assert_uint_eq(read_le(4), 1); /* traditional interface, no DMA */
}
END_TEST

START_TEST(numbers)
{
    select_key(FW_CFG_RAM_SIZE);
    ck_assert_uint_eq(read_le(8), RAM_SIZE);
    select_key(FW_CFG_NB_CPUS);
    ck_assert_uint_eq(read_le(2), 1);
    select_key(FW_CFG_MAX_CPUS);
    ck_assert_uint_eq(read_le(2), 1);
    select_key(FW_CFG_FILE_DIR);
    ck_assert_uint_eq(read_le(4), 0);
    select_key(0x0042);
    ck_assert_uint_eq(read_le(4), 0);
    /* Writes to the data port change nothing. */
    select_key(FW_CFG_RAM_SIZE | 0x4000);
    mmu_io_write(m, FWCFG_PORT_DATA, 0x12, 1);
    select_key(FW_CFG_RAM_SIZE);
    ck_assert_uint_eq(read_le(8), RAM_SIZE);
}
END_TEST

START_TEST(added_items)
{
    ck_assert_int_eq(fwcfg_add(f, FW_CFG_NB_CPUS, "\x04\x00", 2), 0);
    ck_assert_int_eq(fwcfg_add(f, 0x8003, "abc", 3), 0);
    select_key(FW_CFG_NB_CPUS);
    ck_assert_uint_eq(read_le(2), 4);
    select_key(0x8003);
    ck_assert_uint_eq(read_le(4), 'a' | 'b' << 8 | 'c' << 16);
}
END_TEST

/* Read n bytes of the selected item, big-endian (the file directory). */
static u32 read_be(unsigned n)
{
    u32 v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | mmu_io_read(m, FWCFG_PORT_DATA, 1);
    return v;
}

/* Look `name` up in the directory as firmware does; its key and size. */
static bool find_file(const char *name, u16 *key, u32 *size)
{
    select_key(FW_CFG_FILE_DIR);
    u32 n = read_be(4);
    bool found = false;
    for (u32 i = 0; i < n; i++) {
        u32 sz = read_be(4);
        u16 k = (u16)read_be(2);
        read_be(2);
        char nm[FWCFG_MAX_NAME];
        for (unsigned j = 0; j < FWCFG_MAX_NAME; j++)
            nm[j] = (char)mmu_io_read(m, FWCFG_PORT_DATA, 1);
        ck_assert_int_eq(nm[FWCFG_MAX_NAME - 1], 0);
        if (!strcmp(nm, name)) {
            *key = k;
            *size = sz;
            found = true;
        }
    }
    return found;
}

START_TEST(files)
{
    u16 key;
    u32 size;
    ck_assert(!find_file("bootorder", &key, &size));
    ck_assert_int_eq(fwcfg_add_file(f, "etc/e820", "0123456789abcdefghij", 20), 0);
    ck_assert_int_eq(fwcfg_add_file(f, "bootorder", "/x@1\n", 5), 0);
    ck_assert_int_eq(fwcfg_add_file(f, "etc/boot-fail-wait", "\x10\x27\0\0", 4), 0);
    /* Sorted by name: bootorder, etc/boot-fail-wait, etc/e820. */
    select_key(FW_CFG_FILE_DIR);
    ck_assert_uint_eq(read_be(4), 3);
    ck_assert_uint_eq(read_be(4), 5);
    ck_assert_uint_eq(read_be(2), FW_CFG_FILE_FIRST + 1);
    ck_assert(find_file("etc/e820", &key, &size));
    ck_assert_uint_eq(key, FW_CFG_FILE_FIRST);
    ck_assert_uint_eq(size, 20);
    select_key(key);
    ck_assert_uint_eq(read_le(4), '0' | '1' << 8 | '2' << 16 | '3' << 24);
    /* Replacing a file keeps its key and updates its size. */
    ck_assert_int_eq(fwcfg_add_file(f, "bootorder", "/y@2\n/z\n", 8), 0);
    ck_assert(find_file("bootorder", &key, &size));
    ck_assert_uint_eq(key, FW_CFG_FILE_FIRST + 1);
    ck_assert_uint_eq(size, 8);
    select_key(key);
    ck_assert_uint_eq(read_le(4), '/' | 'y' << 8 | '@' << 16 | '2' << 24);
    /* Names that do not fit the directory are refused. */
    char longname[FWCFG_MAX_NAME + 1];
    memset(longname, 'a', FWCFG_MAX_NAME);
    longname[FWCFG_MAX_NAME] = 0;
    ck_assert_int_eq(fwcfg_add_file(f, longname, "x", 1), -1);
    ck_assert_int_eq(fwcfg_add_file(f, "", "x", 1), -1);
}
END_TEST

static Suite *fwcfg_suite(void)
{
    Suite *s = suite_create("fwcfg");
    TCase *tc = tcase_create("items");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, signature);
    tcase_add_test(tc, numbers);
    tcase_add_test(tc, added_items);
    tcase_add_test(tc, files);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fwcfg_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
