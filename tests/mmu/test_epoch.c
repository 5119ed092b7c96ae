/*
 * When the MMU epoch moves (mmu.h): what is cached from fetch translations
 * (decoded instructions, blocks, links) goes stale only when one of them
 * may have changed.  A drop of a page code was never fetched through
 * leaves the epoch alone; a drop of one that was -- still in the L1, or
 * pushed out of it by another page since -- moves it; a drop in another
 * address space moves only that space's epoch; what holds in every space
 * (shared_epoch) moves with full flushes and with invalidations of pages
 * noted as shared code.
 */
#include <check.h>
#include <stdlib.h>

#include "common/counters.h"
#include "common/log.h"
#include "mmu/mmu.h"
#include "mmu/shadow.h"

static struct counters cnt;
static struct logger lg;
static struct mmu *m;

static void setup(void)
{
    cnt = (struct counters){ 0 };
    log_init(&lg);
    m = mmu_new(16u << 20, &cnt, &lg);
    ck_assert_ptr_nonnull(m);
}

static void teardown(void)
{
    mmu_free(m);
    m = NULL;
}

#define CODE 0x5000u
#define DATA 0x9000u
/* The page that takes CODE's L1 entry (same index: TLB_SIZE pages on). */
#define RIVAL (CODE + (TLB_SIZE << PAGE_SHIFT))

static void touch(u32 lin, enum mmu_acc acc)
{
    u32 gpa;
    struct mmu_fault f;
    ck_assert_int_eq(mmu_translate(m, lin, acc, false, &gpa, &f), 0);
    ck_assert_uint_eq(gpa, lin); /* paging is off */
}

START_TEST(test_data_page_drop_keeps_epoch)
{
    touch(CODE, ACC_FETCH);
    touch(DATA, ACC_READ);
    touch(DATA, ACC_WRITE);
    u32 e = m->epoch;
    mmu_invlpg(m, DATA);
    ck_assert_uint_eq(m->epoch, e);
    /* Nothing was cached for it: dropping it again changes nothing. */
    mmu_invlpg(m, DATA + 0x10000);
    ck_assert_uint_eq(m->epoch, e);
}
END_TEST

START_TEST(test_code_page_drop_moves_epoch)
{
    touch(CODE, ACC_FETCH);
    u32 e = m->epoch, shared = m->shared_epoch;
    mmu_invlpg(m, CODE);
    ck_assert_uint_ne(m->epoch, e);
    /* Not noted as shared: links that hold everywhere stay. */
    ck_assert_uint_eq(m->shared_epoch, shared);
}
END_TEST

START_TEST(test_evicted_code_page_still_moves_epoch)
{
    touch(CODE, ACC_FETCH);
    u32 e = m->epoch;
    touch(RIVAL, ACC_READ); /* takes CODE's entry */
    ck_assert_uint_eq(m->epoch, e);
    /* The L1 no longer holds CODE, but what was derived from it does. */
    mmu_invlpg(m, CODE);
    ck_assert_uint_ne(m->epoch, e);
}
END_TEST

START_TEST(test_shared_code)
{
    touch(CODE, ACC_FETCH);
    touch(DATA, ACC_FETCH);
    mmu_note_shared_code(m, CODE);
    u32 shared = m->shared_epoch;
    mmu_invlpg(m, DATA); /* code, but not shared */
    ck_assert_uint_eq(m->shared_epoch, shared);
    mmu_invlpg(m, CODE);
    ck_assert_uint_ne(m->shared_epoch, shared);
    /* Moving it forgets the notes: invalidating CODE again only moves
     * the epoch of the address space, if anything. */
    shared = m->shared_epoch;
    touch(CODE, ACC_FETCH);
    mmu_invlpg(m, CODE);
    ck_assert_uint_eq(m->shared_epoch, shared);
    /* A full flush moves both. */
    u32 e = m->epoch;
    mmu_l1_flush(m, false);
    ck_assert_uint_ne(m->shared_epoch, shared);
    ck_assert_uint_ne(m->epoch, e);
}
END_TEST

START_TEST(test_spaces_move_apart)
{
    mmu_l1_select(m, 1);
    touch(CODE, ACC_FETCH);
    u32 e1 = m->epoch;
    mmu_l1_select(m, 2);
    touch(CODE, ACC_FETCH);
    u32 e2 = m->epoch;
    /* A drop in space 1 while space 2 runs. */
    mmu_l1_drop_slot(m, 1, CODE, 1);
    ck_assert_uint_eq(m->epoch, e2);
    mmu_l1_select(m, 1);
    ck_assert_uint_ne(m->epoch, e1);
    mmu_l1_select(m, 2);
    ck_assert_uint_eq(m->epoch, e2);
    /* Data pages of space 2 dropped: its epoch stays. */
    touch(DATA, ACC_READ);
    mmu_l1_drop_slot(m, 2, DATA, 1);
    ck_assert_uint_eq(m->epoch, e2);
    mmu_l1_drop_slot(m, 2, CODE, 1);
    ck_assert_uint_ne(m->epoch, e2);
}
END_TEST

static Suite *epoch_suite(void)
{
    Suite *s = suite_create("epoch");
    TCase *tc = tcase_create("epoch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_data_page_drop_keeps_epoch);
    tcase_add_test(tc, test_code_page_drop_moves_epoch);
    tcase_add_test(tc, test_evicted_code_page_still_moves_epoch);
    tcase_add_test(tc, test_shared_code);
    tcase_add_test(tc, test_spaces_move_apart);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(epoch_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
