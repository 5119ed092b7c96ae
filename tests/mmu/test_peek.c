/*
 * mmu_walk_peek: the side-effect-free walk the debugger uses.  Each case
 * builds guest tables by hand and checks the entries reported at every
 * level, the physical address or the page-fault error code (SDM vol. 3A,
 * 4.3, 4.4, 4.7), and that nothing changed: no A/D bit set, no walk
 * counted, nothing cached (the next real translation still walks), and
 * the results agree with the real walker (mmu_translate under
 * MMU_FLUSH) where both succeed or both fault.
 */
#include <check.h>
#include <string.h>

#include "common/counters.h"
#include "common/log.h"
#include "mmu/mmu.h"
#include "mmu/paging.h"

#define RAM (8u << 20)
#define CR0_ON (CR0_PE | CR0_PG)
#define URW (PTE_P | PTE_RW | PTE_US)

static struct logger lg;
static struct counters cnt;

static struct mmu *make(void)
{
    cnt = (struct counters){ 0 };
    struct mmu *m = mmu_new(RAM, &cnt, &lg);
    ck_assert_ptr_nonnull(m);
    return m;
}

static void w32(struct mmu *m, u32 gpa, u32 v) { mmu_phys_write(m, gpa, v, 4); }
static u32 r32(struct mmu *m, u32 gpa) { return (u32)mmu_phys_read(m, gpa, 4); }
static void w64(struct mmu *m, u32 gpa, u64 v) { mmu_phys_write(m, gpa, v, 8); }

/* 32-bit tables: PD at 0x10000, PT at 0x11000; lin 0x00400000 + n pages
 * maps to 0x200000 + n pages. */
static void tables_32(struct mmu *m, u32 pte_flags)
{
    w32(m, 0x10000 + 1 * 4, 0x11000 | URW);
    for (u32 n = 0; n < 4; n++)
        w32(m, 0x11000 + n * 4, (0x200000 + n * 0x1000) | pte_flags);
}

START_TEST(peek_32_no_side_effects)
{
    struct mmu *m = make();
    tables_32(m, URW);
    ck_assert_int_eq(mmu_set_paging(m, CR0_ON, 0x10000, 0), 0);
    u64 walks = cnt.v[CNT_guest_walks];
    struct pg_peek p;
    ck_assert_int_eq(mmu_walk_peek(m, 0x10000, 0x00402345, ACC_WRITE, true, &p), 0);
    ck_assert_uint_eq(p.gpa, 0x202345);
    ck_assert_uint_eq(p.n, 2);
    ck_assert_uint_eq(p.lv[0].level, PG_LEVEL_PDE);
    ck_assert_uint_eq(p.lv[0].addr, 0x10004);
    ck_assert_uint_eq(p.lv[0].val, 0x11000 | URW);
    ck_assert_uint_eq(p.lv[1].level, PG_LEVEL_PTE);
    ck_assert_uint_eq(p.lv[1].addr, 0x11008);
    ck_assert_uint_eq(p.lv[1].val, 0x202000 | URW);
    ck_assert(p.perm & PG_PERM_WRITE);
    ck_assert(!(p.perm & PG_PERM_DIRTY));
    /* A and D stay clear in both entries, nothing was walked or cached. */
    ck_assert_uint_eq(r32(m, 0x10004) & (PTE_A | PTE_D), 0);
    ck_assert_uint_eq(r32(m, 0x11008) & (PTE_A | PTE_D), 0);
    ck_assert_uint_eq(cnt.v[CNT_guest_walks], walks);
    /* The real walker, for contrast: it sets A and D, and the peek then
     * reports the same translation with the new entry values. */
    u32 gpa;
    struct mmu_fault f;
    ck_assert_int_eq(mmu_translate(m, 0x00402345, ACC_WRITE, true, &gpa, &f), 0);
    ck_assert_uint_eq(gpa, p.gpa);
    ck_assert_uint_gt(cnt.v[CNT_guest_walks], walks);
    ck_assert_uint_eq(r32(m, 0x11008) & (PTE_A | PTE_D), PTE_A | PTE_D);
    ck_assert_int_eq(mmu_walk_peek(m, 0x10000, 0x00402345, ACC_READ, false, &p), 0);
    ck_assert_uint_eq(p.lv[1].val, 0x202000 | URW | PTE_A | PTE_D);
    ck_assert(p.perm & PG_PERM_DIRTY);
    mmu_free(m);
}
END_TEST

START_TEST(peek_32_not_cached)
{
    /* A peek leaves L1 and the shadow alone: the first real access after
     * it still misses and walks. */
    struct mmu *m = make();
    tables_32(m, URW);
    ck_assert_int_eq(mmu_set_paging(m, CR0_ON, 0x10000, 0), 0);
    struct pg_peek p;
    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(mmu_walk_peek(m, 0x10000, 0x00401000, ACC_READ, false, &p), 0);
    u64 walks = cnt.v[CNT_guest_walks];
    u32 gpa;
    struct mmu_fault f;
    ck_assert_int_eq(mmu_translate(m, 0x00401000, ACC_READ, false, &gpa, &f), 0);
    ck_assert_uint_eq(cnt.v[CNT_guest_walks], walks + 1);
    mmu_free(m);
}
END_TEST

START_TEST(peek_32_faults)
{
    struct mmu *m = make();
    tables_32(m, PTE_P | PTE_US); /* read-only user pages */
    w32(m, 0x11000 + 2 * 4, 0);   /* page 2 not present */
    ck_assert_int_eq(mmu_set_paging(m, CR0_ON | CR0_WP, 0x10000, 0), 0);
    struct pg_peek p;
    /* Not present at the PTE: error code has P clear; both levels shown. */
    ck_assert_int_eq(mmu_walk_peek(m, 0x10000, 0x00402010, ACC_READ, true, &p), -1);
    ck_assert_uint_eq(p.fault.lin, 0x00402010);
    ck_assert_uint_eq(p.fault.err, PF_U);
    ck_assert_uint_eq(p.n, 2);
    /* Not present at the PDE: one level. */
    ck_assert_int_eq(mmu_walk_peek(m, 0x10000, 0x00c00000, ACC_WRITE, false, &p), -1);
    ck_assert_uint_eq(p.fault.err, PF_W);
    ck_assert_uint_eq(p.n, 1);
    /* Protection: a user write to a read-only page. */
    ck_assert_int_eq(mmu_walk_peek(m, 0x10000, 0x00401000, ACC_WRITE, true, &p), -1);
    ck_assert_uint_eq(p.fault.err, PF_P | PF_W | PF_U);
    /* The real walker reports the same error codes. */
    u32 gpa;
    struct mmu_fault f;
    ck_assert_int_eq(mmu_translate(m, 0x00401000, ACC_WRITE, true, &gpa, &f), -1);
    ck_assert_uint_eq(f.err, PF_P | PF_W | PF_U);
    ck_assert_int_eq(mmu_translate(m, 0x00402010, ACC_READ, true, &gpa, &f), -1);
    ck_assert_uint_eq(f.err, PF_U);
    mmu_free(m);
}
END_TEST

START_TEST(peek_pse_and_other_cr3)
{
    struct mmu *m = make();
    /* CR3 A = 0x10000 (current), CR3 B = 0x20000 with a 4 MiB page. */
    tables_32(m, URW);
    w32(m, 0x20000 + 1 * 4, 0x00400000 | PTE_P | PTE_RW | PTE_PS);
    ck_assert_int_eq(mmu_set_paging(m, CR0_ON, 0x10000, CR4_PSE), 0);
    struct pg_peek p;
    ck_assert_int_eq(mmu_walk_peek(m, 0x20000, 0x00512345, ACC_READ, false, &p), 0);
    ck_assert(p.big);
    ck_assert_uint_eq(p.n, 1);
    ck_assert_uint_eq(p.gpa, 0x00512345);
    ck_assert_uint_eq(r32(m, 0x20004) & PTE_A, 0);
    /* The current address space is unchanged. */
    ck_assert_int_eq(mmu_walk_peek(m, 0x10000, 0x00400004, ACC_READ, false, &p), 0);
    ck_assert_uint_eq(p.gpa, 0x200004);
    mmu_free(m);
}
END_TEST

START_TEST(peek_pae_nx)
{
    struct mmu *m = make();
    /* PDPT at 0x30000, PD at 0x31000, PT at 0x32000.  lin 0x40001000 (PDPTE
     * 1, PDE 0, PTE 1) -> 0x345000, execute-disabled. */
    w64(m, 0x30000 + 8, 0x31000 | PTE_P);
    w64(m, 0x31000, 0x32000 | URW);
    w64(m, 0x32000 + 8, 0x345000 | URW | PTE_XD);
    /* A 2 MiB page at lin 0x40200000 -> 0x600000. */
    w64(m, 0x31000 + 8, 0x600000 | PTE_P | PTE_RW | PTE_PS);
    mmu_set_efer(m, EFER_NXE);
    ck_assert_int_eq(mmu_set_paging(m, CR0_ON, 0x30000, CR4_PAE), 0);
    struct pg_peek p;
    ck_assert_int_eq(mmu_walk_peek(m, 0x30000, 0x40001abc, ACC_READ, false, &p), 0);
    ck_assert(p.pae);
    ck_assert_uint_eq(p.n, 3);
    ck_assert_uint_eq(p.lv[0].level, PG_LEVEL_PDPTE);
    ck_assert_uint_eq(p.lv[0].addr, 0x30008);
    ck_assert_uint_eq(p.lv[1].addr, 0x31000);
    ck_assert_uint_eq(p.lv[2].addr, 0x32008);
    ck_assert_uint_eq(p.lv[2].val, 0x345000 | URW | PTE_XD);
    ck_assert_uint_eq(p.gpa, 0x345abc);
    ck_assert(p.perm & PG_PERM_NX);
    ck_assert_int_eq(mmu_walk_peek(m, 0x30000, 0x40001abc, ACC_FETCH, false, &p), -1);
    ck_assert_uint_eq(p.fault.err, PF_P | PF_ID);
    ck_assert_int_eq(mmu_walk_peek(m, 0x30000, 0x40234567, ACC_WRITE, false, &p), 0);
    ck_assert(p.big);
    ck_assert_uint_eq(p.gpa, 0x634567);
    ck_assert_uint_eq(mmu_phys_read(m, 0x31008, 8) & (PTE_A | PTE_D), 0);
    ck_assert_uint_eq(mmu_phys_read(m, 0x32008, 8) & PTE_A, 0);
    /* A PDPTE that is not present: one level, error code 0. */
    ck_assert_int_eq(mmu_walk_peek(m, 0x30000, 0x00001000, ACC_READ, false, &p), -1);
    ck_assert_uint_eq(p.n, 1);
    ck_assert_uint_eq(p.fault.err, 0);
    mmu_free(m);
}
END_TEST

START_TEST(peek_paging_off_and_mmio)
{
    struct mmu *m = make();
    struct pg_peek p;
    ck_assert_int_eq(mmu_walk_peek(m, 0, 0x123456, ACC_READ, false, &p), 0);
    ck_assert(!p.paging);
    ck_assert_uint_eq(p.gpa, 0x123456);
    ck_assert_uint_eq(p.n, 0);
    /* A directory beyond RAM reads as all ones (reserved bits set with
     * PSE): the peek faults instead of reading a device. */
    u64 v;
    ck_assert(!mmu_phys_peek(m, 0xfee00000, 4, &v));
    ck_assert(mmu_phys_peek(m, 0x1000, 4, &v));
    ck_assert_int_eq(mmu_set_paging(m, CR0_ON, 0x10000, 0), 0);
    ck_assert_int_eq(mmu_walk_peek(m, 0xfee00000, 0x1000, ACC_READ, false, &p), 0);
    ck_assert_uint_eq(p.lv[0].val, 0xffffffffu);
    mmu_free(m);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("mmu_peek");
    TCase *t = tcase_create("peek");
    tcase_add_test(t, peek_32_no_side_effects);
    tcase_add_test(t, peek_32_not_cached);
    tcase_add_test(t, peek_32_faults);
    tcase_add_test(t, peek_pse_and_other_cr3);
    tcase_add_test(t, peek_pae_nx);
    tcase_add_test(t, peek_paging_off_and_mmio);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
