/*
 * Code-write tracking by line (mmu.h, mmu_track_code): a store to a page
 * code was decoded from tells the subscribers and moves the epoch only if
 * it touches one of the 16-byte lines the decodes came from, whatever
 * path it takes (CPU slow path, DMA copies, physical writes).  Anything
 * else is an ordinary write that leaves the page tracked.
 */
#include <check.h>
#include <stdlib.h>

#include "common/counters.h"
#include "common/log.h"
#include "mmu/mmu.h"

/* ---- fixture: a bus with one subscriber that records notices ---- */

static struct counters cnt;
static struct logger lg;
static struct mmu *m;

struct notices {
    unsigned n;
    u32 gpa;
    unsigned size;
};
static struct notices heard;

static void on_code_write(void *opaque, u32 gpa, unsigned size)
{
    struct notices *h = opaque;
    h->n++;
    h->gpa = gpa;
    h->size = size;
}

static void setup(void)
{
    cnt = (struct counters){ 0 };
    heard = (struct notices){ 0 };
    log_init(&lg);
    m = mmu_new(1u << 20, &cnt, &lg);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(mmu_subscribe_code_writes(m, on_code_write, &heard), 0);
}

static void teardown(void)
{
    mmu_free(m);
    m = NULL;
}

#define PAGE 0x5000u

static bool tracked(u32 gpa)
{
    return m->page_flags[gpa >> PAGE_SHIFT] & PG_CODE;
}

/* Store `size` bytes at `gpa` and report whether the subscribers heard of
 * it, checking the epoch moved exactly when they did. */
static bool store_notifies(u32 gpa, unsigned size)
{
    unsigned before = heard.n;
    u32 epoch = m->epoch;
    mmu_phys_write(m, gpa, 0x1122334455667788ull, size);
    bool told = heard.n != before;
    ck_assert_int_eq(told, m->epoch != epoch);
    return told;
}

/* ---- tests ---- */

START_TEST(test_other_line_is_plain_write)
{
    mmu_track_code(m, PAGE + 0x00, 5);
    ck_assert(tracked(PAGE));
    ck_assert(!store_notifies(PAGE + 0x800, 4));
    ck_assert(!store_notifies(PAGE + 0x10, 4));
    ck_assert(!store_notifies(PAGE + 0xff8, 8));
    /* Still tracked, the data landed, and the counters tell them apart. */
    ck_assert(tracked(PAGE));
    ck_assert_uint_eq(mmu_phys_read(m, PAGE + 0x800, 4), 0x55667788u);
    ck_assert_uint_eq(cnt.v[CNT_mmu_code_near_writes], 3);
    ck_assert_uint_eq(cnt.v[CNT_mmu_code_writes], 0);
}
END_TEST

START_TEST(test_code_line_write_notifies)
{
    mmu_track_code(m, PAGE + 0x40, 3);
    /* Past the instruction but in its line: lines are the unit. */
    ck_assert(store_notifies(PAGE + 0x4c, 1));
    ck_assert_uint_eq(heard.gpa, PAGE + 0x4c);
    ck_assert_uint_eq(heard.size, 1);
    /* The page is untracked until code is decoded from it again. */
    ck_assert(!tracked(PAGE));
    ck_assert(!store_notifies(PAGE + 0x40, 1));
    mmu_track_code(m, PAGE + 0x40, 3);
    ck_assert(store_notifies(PAGE + 0x41, 2));
    ck_assert_uint_eq(cnt.v[CNT_mmu_code_writes], 2);
}
END_TEST

START_TEST(test_write_spanning_two_lines)
{
    mmu_track_code(m, PAGE + 0x20, 3); /* line 2 */
    ck_assert(!store_notifies(PAGE + 0x1c, 4)); /* line 1 only */
    ck_assert(store_notifies(PAGE + 0x1e, 4));  /* lines 1 and 2 */
    mmu_track_code(m, PAGE + 0x20, 3);
    ck_assert(store_notifies(PAGE + 0x2e, 8));  /* lines 2 and 3 */
}
END_TEST

START_TEST(test_insn_spanning_two_lines)
{
    /* Bytes 0x0e..0x13: lines 0 and 1. */
    mmu_track_code(m, PAGE + 0x0e, 6);
    ck_assert(!store_notifies(PAGE + 0x20, 4));
    ck_assert(store_notifies(PAGE + 0x12, 1));
    mmu_track_code(m, PAGE + 0x0e, 6);
    ck_assert(store_notifies(PAGE + 0x00, 1));
    /* Lines 63 and 64 sit in different words of the map. */
    mmu_track_code(m, PAGE + 0x3f8, 15);
    ck_assert(!store_notifies(PAGE + 0x3e0, 8));
    ck_assert(!store_notifies(PAGE + 0x410, 8));
    ck_assert(store_notifies(PAGE + 0x400, 1));
    mmu_track_code(m, PAGE + 0x3f8, 15);
    ck_assert(store_notifies(PAGE + 0x3f0, 8));
    /* The last line of the page. */
    mmu_track_code(m, PAGE + 0xffe, 2);
    ck_assert(!store_notifies(PAGE + 0xfe8, 8));
    ck_assert(store_notifies(PAGE + 0xff0, 1));
}
END_TEST

START_TEST(test_write_across_pages)
{
    /* Code at the start of the next page: a store straddling into it. */
    mmu_track_code(m, PAGE + 0x1000, 2);
    ck_assert(!store_notifies(PAGE + 0xff8, 8));
    ck_assert(store_notifies(PAGE + 0xffe, 4));
    ck_assert_uint_eq(heard.gpa, PAGE + 0x1000);
    /* Code at the end of the first page. */
    mmu_track_code(m, PAGE + 0xffc, 4);
    ck_assert(store_notifies(PAGE + 0xffe, 4));
    ck_assert_uint_eq(heard.gpa, PAGE + 0xffe);
}
END_TEST

START_TEST(test_dma_and_linear_writes)
{
    static const u8 data[32] = { 1, 2, 3 };
    mmu_track_code(m, PAGE + 0x100, 7);
    unsigned before = heard.n;
    u32 epoch = m->epoch;
    mmu_phys_copy_in(m, PAGE + 0x200, data, sizeof data);
    ck_assert_uint_eq(heard.n, before);
    ck_assert_uint_eq(m->epoch, epoch);
    mmu_phys_copy_in(m, PAGE + 0xf0, data, sizeof data);
    ck_assert_uint_gt(heard.n, before);
    ck_assert_uint_ne(m->epoch, epoch);
    /* A CPU store on the slow path (paging off: linear = physical). */
    mmu_track_code(m, PAGE + 0x100, 7);
    struct mmu_fault f;
    before = heard.n;
    epoch = m->epoch;
    ck_assert_int_eq(mmu_lin_write(m, PAGE + 0x300, 4, 7, false, &f), 0);
    ck_assert_uint_eq(heard.n, before);
    ck_assert_uint_eq(m->epoch, epoch);
    ck_assert_int_eq(mmu_lin_write(m, PAGE + 0x104, 2, 7, false, &f), 0);
    ck_assert_uint_eq(heard.n, before + 1);
    ck_assert_uint_ne(m->epoch, epoch);
}
END_TEST

/* After the first slow-path store to a code page, its TLB entry lets the
 * next ones skip the translation; they must still see every code line,
 * including lines tracked after the entry was filled. */
START_TEST(test_repeated_linear_writes)
{
    struct mmu_fault f;
    mmu_track_code(m, PAGE + 0x100, 7);
    for (unsigned k = 0; k < 4; k++) {
        u32 epoch = m->epoch;
        ck_assert_int_eq(mmu_lin_write(m, PAGE + 0x300 + 4 * k, 4, k, false, &f), 0);
        ck_assert_uint_eq(m->epoch, epoch);
        ck_assert_uint_eq(mmu_phys_read(m, PAGE + 0x300 + 4 * k, 4), k);
    }
    ck_assert_uint_eq(heard.n, 0);
    mmu_track_code(m, PAGE + 0x308, 2);
    ck_assert_int_eq(mmu_lin_write(m, PAGE + 0x308, 4, 9, false, &f), 0);
    ck_assert_uint_eq(heard.n, 1);
    ck_assert_uint_eq(mmu_phys_read(m, PAGE + 0x308, 4), 9);
    /* Untracked now: plain writes, with or without the TLB's help. */
    ck_assert_int_eq(mmu_lin_write(m, PAGE + 0x100, 4, 5, false, &f), 0);
    ck_assert_uint_eq(heard.n, 1);
    mmu_track_code(m, PAGE + 0x100, 7);
    ck_assert_int_eq(mmu_lin_write(m, PAGE + 0x104, 1, 6, false, &f), 0);
    ck_assert_uint_eq(heard.n, 2);
    ck_assert_uint_eq(cnt.v[CNT_mmu_code_near_writes], 4);
}
END_TEST

START_TEST(test_is_code_write)
{
    ck_assert(!mmu_is_code_write(m, PAGE + 0x100, 1));
    mmu_track_code(m, PAGE + 0x100, 1);
    ck_assert(mmu_is_code_write(m, PAGE + 0x10f, 1));
    ck_assert(mmu_is_code_write(m, PAGE + 0xfc, 8));
    ck_assert(!mmu_is_code_write(m, PAGE + 0x110, 8));
    ck_assert(!mmu_is_code_write(m, PAGE + 0xf8, 8));
    /* Pages that are not RAM are never tracked. */
    mmu_track_code(m, 0x200000u, 4);
    ck_assert(!tracked(0x200000u));
}
END_TEST

static Suite *codelines_suite(void)
{
    Suite *s = suite_create("codelines");
    TCase *tc = tcase_create("lines");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_other_line_is_plain_write);
    tcase_add_test(tc, test_code_line_write_notifies);
    tcase_add_test(tc, test_write_spanning_two_lines);
    tcase_add_test(tc, test_insn_spanning_two_lines);
    tcase_add_test(tc, test_write_across_pages);
    tcase_add_test(tc, test_dma_and_linear_writes);
    tcase_add_test(tc, test_repeated_linear_writes);
    tcase_add_test(tc, test_is_code_write);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(codelines_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
