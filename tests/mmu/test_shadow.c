/*
 * Shadow page tables and write tracking (mmu/shadow.c) against the flush
 * policy, which walks the guest tables on every L1 miss and is the oracle
 * here, plus directed tests of what the shadow promises: no walks when a
 * known address space comes back, exact invalidation on a page-table
 * write, sharing of kernel tables and global pages across contexts, write
 * flooding, LRU eviction, no L1 write tag on a tracked page, and CR4.PGE
 * and CR0.WP toggles that keep the shadow (walk counts).  The random
 * differential runs also toggle CR0.WP, CR4.PSE/PGE/SMEP/SMAP and EFER.NXE
 * (PGE and WP also off and on again around accesses) and mark accesses as
 * made with EFLAGS.AC or not.
 *
 * Architecture: Intel SDM vol. 3A, 4.10 (what may be cached and what MOV
 * to CR3/CR4 and INVLPG drop) and 4.8 (A/D bits).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/counters.h"
#include "common/log.h"
#include "mmu/mmu.h"
#include "mmu/paging.h"

#define RAM (8u << 20)
#define CR0_ON (CR0_PE | CR0_PG)
#define URW (PTE_P | PTE_RW | PTE_US)

static struct logger lg;

static struct mmu *make(struct counters *cnt, enum mmu_policy p, unsigned contexts)
{
    *cnt = (struct counters){ 0 };
    struct mmu *m = mmu_new(RAM, cnt, &lg);
    ck_assert_ptr_nonnull(m);
    mmu_configure(m, p, contexts);
    return m;
}

static void w32(struct mmu *m, u32 gpa, u32 v)
{
    mmu_phys_write(m, gpa, v, 4);
}

static u32 r32(struct mmu *m, u32 gpa)
{
    return (u32)mmu_phys_read(m, gpa, 4);
}

/* Translate, asserting success; returns the physical address. */
static u32 xlate(struct mmu *m, u32 lin, enum mmu_acc acc, bool user)
{
    u32 gpa;
    struct mmu_fault f;
    ck_assert_msg(mmu_translate(m, lin, acc, user, &gpa, &f) == 0, "fault at %08x err %x", lin,
                  f.err);
    return gpa;
}

/* ---- differential: shadow against flush ---- */

/* Physical layout of the random address spaces. */
#define N_AS 4
#define N_PT 8
#define PD_BASE 0x100000u                  /* N_AS page directories */
#define PT_BASE (PD_BASE + N_AS * 0x1000u) /* N_PT page tables */
#define KPT (PT_BASE + N_PT * 0x1000u)     /* the kernel's table, shared */
#define TBL_END (KPT + 0x1000u)
#define DATA_BASE 0x200000u
#define N_DATA 32
#define KSLOT 0x300u                       /* PDE index of the kernel */
#define PDPT_BASE 0x130000u                /* PAE: N_AS PDPTs, 32 bytes each */

static u64 rng_state;

static u32 rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (u32)(rng_state >> 11);
}

static u32 pick(u32 n)
{
    return rnd() % n;
}

static u32 table_page(unsigned k) /* 0..N_AS+N_PT */
{
    return k < N_AS ? PD_BASE + k * 0x1000u : k < N_AS + N_PT ? PT_BASE + (k - N_AS) * 0x1000u
                                                              : KPT;
}

/* A random paging-structure entry.  With `pge_safe`, G is never set and
 * the frame is never the kernel table (only the kernel table holds global
 * entries, and only through the kernel slot, identical in every space). */
static u32 rnd_entry(bool is_pde, bool in_kpt, bool pge_safe)
{
    u32 frame, r = pick(100);
    if (is_pde && r < 70) /* mostly a table, sometimes data read as one */
        frame = table_page(N_AS + pick(N_PT));
    else if (r < 75)
        frame = DATA_BASE + pick(N_DATA) * 0x1000u;
    else if (r < 90)
        frame = table_page(pick(N_AS + N_PT + (pge_safe ? 0 : 1)));
    else if (r < 95)
        frame = pick(2) ? 0x400000u : 0; /* 4 MiB aligned, for PS */
    else
        frame = rnd() & PAGE_MASK; /* anywhere, beyond RAM too */
    u32 v = frame;
    v |= pick(100) < 92 ? PTE_P : 0;
    v |= pick(3) ? PTE_RW : 0;
    v |= pick(4) ? PTE_US : 0;
    v |= pick(3) == 0 ? PTE_A : 0;
    v |= pick(3) == 0 ? PTE_D : 0;
    if (is_pde)
        v |= pick(100) < 12 ? PTE_PS : 0;
    else
        v |= pick(100) < 3 ? PTE_PS : 0; /* PAT bit: reserved with PSE */
    if (!pge_safe || (in_kpt && !is_pde))
        v |= pick(4) == 0 ? PTE_G : 0;
    return v;
}

/* A random PAE entry: the low dword as above, the high one mostly clear,
 * sometimes XD, an address bit beyond 4 GiB or a reserved bit. */
static u64 rnd_entry64(bool is_pde)
{
    u64 hi = 0;
    u32 r = pick(100);
    if (r < 12)
        hi = 0x80000000u;
    else if (r < 15)
        hi = 1u << pick(4);
    else if (r < 17)
        hi = 1u << (4 + pick(27));
    return hi << 32 | rnd_entry(is_pde, false, false);
}

struct pair {
    struct mmu *s, *f; /* shadow, flush */
    struct counters cs, cf;
    u32 cr0, cr4, cr3;
    bool pge_safe, pae;
};

static void both_paging(struct pair *p)
{
    ck_assert_int_eq(mmu_set_paging(p->s, p->cr0, p->cr3, p->cr4),
                     mmu_set_paging(p->f, p->cr0, p->cr3, p->cr4));
}

static void both_write_phys(struct pair *p, u32 gpa, u32 v, unsigned size)
{
    mmu_phys_write(p->s, gpa, v, size);
    mmu_phys_write(p->f, gpa, v, size);
}

/* Translations cached in L1 may legitimately be stale after a table edit
 * (until INVLPG or a CR3 load); both sides drop them so the comparison is
 * exact. */
static void both_flush(struct pair *p)
{
    mmu_flush_tlb(p->s);
    mmu_flush_tlb(p->f);
}

static void build_spaces_pae(struct pair *p)
{
    for (unsigned a = 0; a < N_AS; a++) {
        u32 pd = PD_BASE + a * 0x1000u;
        /* PDPTE 0 and 3 share the space's directory. */
        both_write_phys(p, PDPT_BASE + 32 * a, pd | PTE_P, 4);
        both_write_phys(p, PDPT_BASE + 32 * a + 24, pd | PTE_P, 4);
        for (u32 i = 0; i < 4; i++) {
            u64 v = rnd_entry64(true) | PTE_P;
            both_write_phys(p, pd + 8 * i, (u32)v, 4);
            both_write_phys(p, pd + 8 * i + 4, (u32)(v >> 32), 4);
        }
    }
    for (unsigned t = 0; t <= N_PT; t++)
        for (u32 i = 0; i < 16; i++) {
            u64 v = rnd_entry64(false);
            both_write_phys(p, table_page(N_AS + t) + 8 * i, (u32)v, 4);
            both_write_phys(p, table_page(N_AS + t) + 8 * i + 4, (u32)(v >> 32), 4);
        }
}

static void build_spaces(struct pair *p)
{
    for (unsigned k = 0; k < N_AS + N_PT + 1; k++)
        for (u32 i = 0; i < 1024; i++)
            both_write_phys(p, table_page(k) + 4 * i, 0, 4);
    if (p->pae) {
        build_spaces_pae(p);
        return;
    }
    for (unsigned a = 0; a < N_AS; a++) {
        u32 pd = PD_BASE + a * 0x1000u;
        for (u32 i = 0; i < 4; i++)
            both_write_phys(p, pd + 4 * i, rnd_entry(true, false, p->pge_safe) | PTE_P, 4);
        /* A already set: a global entry used instead of a walk leaves this
         * PDE alone, so it must not differ between spaces. */
        both_write_phys(p, pd + 4 * KSLOT, KPT | PTE_P | PTE_RW | PTE_A, 4);
    }
    for (unsigned t = 0; t < N_PT; t++)
        for (u32 i = 0; i < 16; i++)
            both_write_phys(p, PT_BASE + t * 0x1000u + 4 * i, rnd_entry(false, false, p->pge_safe),
                            4);
    for (u32 i = 0; i < 16; i++)
        both_write_phys(p, KPT + 4 * i, rnd_entry(false, true, p->pge_safe) & ~PTE_US, 4);
}

static u32 rnd_lin_pae(void)
{
    u32 pdpti = pick(2) ? 0 : 3;
    u32 pdi = pick(8) == 0 ? pick(512) : pick(4);
    u32 pti = pick(8) == 0 ? pick(512) : pick(16);
    return pdpti << 30 | pdi << 21 | pti << 12 | pick(4096);
}

static u32 rnd_lin(void)
{
    u32 pdi = pick(6) == 0 ? KSLOT : pick(4);
    u32 pti = pick(8) == 0 ? pick(1024) : pick(16);
    return pdi << 22 | pti << 12 | pick(4096);
}

static void cmp_access(struct pair *p, u32 lin, int op, bool user, unsigned size, unsigned step)
{
    struct mmu_fault fs = { 0 }, ff = { 0 };
    if (op == ACC_WRITE) {
        u32 gs = 0, gf = 0;
        int rs = mmu_translate(p->s, lin, ACC_WRITE, user, &gs, &fs);
        int rf = mmu_translate(p->f, lin, ACC_WRITE, user, &gf, &ff);
        ck_assert_msg(rs == rf, "step %u: write %08x user %d: shadow %d flush %d", step, lin, user,
                      rs, rf);
        if (rs < 0) {
            ck_assert_msg(fs.err == ff.err && fs.lin == ff.lin, "step %u: err %x vs %x", step,
                          fs.err, ff.err);
            return;
        }
        ck_assert_msg(gs == gf, "step %u: write %08x -> %08x vs %08x", step, lin, gs, gf);
        bool table = gs >= PD_BASE && gs < TBL_END;
        if (table && p->pge_safe)
            return;
        u32 v = rnd();
        /* Data writes never set G in a table entry (bit 8 of a dword). */
        for (unsigned b = 0; b < size; b++)
            if (((lin + b) & 3) == 1)
                v &= ~(1u << (8 * b));
        ck_assert_int_eq(mmu_lin_write(p->s, lin, size, v, user, &fs), 0);
        ck_assert_int_eq(mmu_lin_write(p->f, lin, size, v, user, &ff), 0);
        if (table)
            both_flush(p);
        return;
    }
    u64 vs = 0, vf = 0;
    int rs = mmu_lin_read(p->s, lin, size, (enum mmu_acc)op, user, &vs, &fs);
    int rf = mmu_lin_read(p->f, lin, size, (enum mmu_acc)op, user, &vf, &ff);
    ck_assert_msg(rs == rf, "step %u: acc %d %08x user %d: shadow %d flush %d", step, op, lin, user,
                  rs, rf);
    if (rs < 0)
        ck_assert_msg(fs.err == ff.err && fs.lin == ff.lin, "step %u: err %x vs %x", step, fs.err,
                      ff.err);
    else
        ck_assert_msg(vs == vf, "step %u: read %08x: %llx vs %llx", step, lin,
                      (unsigned long long)vs, (unsigned long long)vf);
}

/* If the shadow side's L1 would let `acc` at `lin` through without asking
 * the MMU, the flush side must allow it too and reach the same bytes.
 * (Tables are only edited with both TLBs flushed after, so no L1 entry is
 * legitimately stale here.)  An L1 hit means A, and D for a write, are
 * already set, so the flush side's walk changes no memory. */
static void cmp_l1(struct pair *p, u32 lin, int acc, bool user, unsigned step)
{
    u8 *h = tlb_peek(&p->s->tlb[user], lin, 1, (enum mmu_acc)acc);
    if (!h)
        return;
    u32 gpa;
    struct mmu_fault f;
    ck_assert_msg(mmu_translate(p->f, lin, (enum mmu_acc)acc, user, &gpa, &f) == 0,
                  "step %u: L1 lets acc %d at %08x user %d through, the walk faults %x", step,
                  acc, lin, user, f.err);
    ck_assert_msg(h == p->s->page_host[gpa >> PAGE_SHIFT] + (gpa & (PAGE_SIZE - 1)),
                  "step %u: L1 maps %08x elsewhere", step, lin);
}

/* Turn CR4.PGE (only where global pages are identical in every space) or
 * CR0.WP off or on, or off and on again with accesses in between, as
 * Linux's global TLB flush does. */
static void toggle_pge_wp(struct pair *p, unsigned step)
{
    u32 bit = p->pge_safe && pick(2) ? CR4_PGE : CR0_WP;
    u32 *reg = bit == CR4_PGE ? &p->cr4 : &p->cr0;
    *reg ^= bit;
    both_paging(p);
    if (pick(2)) {
        unsigned n = pick(4);
        for (unsigned i = 0; i < n; i++)
            cmp_access(p, p->pae ? rnd_lin_pae() & ~0xfffu : rnd_lin() & ~0xfffu, (int)pick(3),
                       pick(2), 4, step);
        *reg ^= bit;
        both_paging(p);
    }
    for (unsigned i = 0; i < 4; i++)
        cmp_l1(p, p->pae ? rnd_lin_pae() : rnd_lin(), (int)pick(3), pick(2), step);
}

static void differential(u64 seed, bool pge_safe, bool pae, unsigned contexts, unsigned steps)
{
    struct pair p = { 0 };
    rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
    p.s = make(&p.cs, MMU_SHADOW, contexts);
    p.f = make(&p.cf, MMU_FLUSH, 0);
    p.pge_safe = pge_safe;
    p.pae = pae;
    build_spaces(&p);
    p.cr0 = CR0_ON;
    p.cr4 = (pge_safe ? CR4_PGE : 0) | (pae ? CR4_PAE : 0);
    p.cr3 = pae ? PDPT_BASE : PD_BASE;
    if (pae && pick(2)) {
        mmu_set_efer(p.s, EFER_NXE);
        mmu_set_efer(p.f, EFER_NXE);
    }
    both_paging(&p);
    for (unsigned step = 0; step < steps; step++) {
        u32 r = pick(100);
        if (r < 6 && pae) {
            /* Edit a PAE entry (either half or all of it), or a PDPTE. */
            unsigned k = pick(N_AS + N_PT + 1);
            u32 idx = pick(8) == 0 ? pick(512) : pick(k < N_AS ? 4 : 16);
            u64 v = rnd_entry64(k < N_AS);
            u32 at = table_page(k) + 8 * idx;
            if (pick(20) == 0) {
                at = PDPT_BASE + 32 * pick(N_AS) + 8 * pick(4);
                v = pick(4) ? table_page(pick(N_AS)) | PTE_P : rnd();
            }
            u32 how = pick(4);
            if (how == 0)
                both_write_phys(&p, at, (u32)v, 4);
            else if (how == 1)
                both_write_phys(&p, at + 4, (u32)(v >> 32), 4);
            else {
                mmu_phys_write(p.s, at, v, 8);
                mmu_phys_write(p.f, at, v, 8);
            }
            both_flush(&p);
        } else if (r < 6) {
            /* Edit a table entry, biased to the entries in use. */
            unsigned k = pick(N_AS + N_PT + 1);
            u32 page = table_page(k), idx;
            if (k < N_AS) {
                idx = pick(8) == 0 ? pick(1024) : pick(4);
                if (pge_safe && idx == KSLOT)
                    idx = 0;
            } else {
                idx = pick(8) == 0 ? pick(1024) : pick(16);
            }
            u32 v = rnd_entry(k < N_AS, page == KPT, pge_safe);
            if (page == KPT && pge_safe)
                v &= ~PTE_US;
            both_write_phys(&p, page + 4 * idx, v, pick(4) ? 4 : 1 + pick(2));
            both_flush(&p);
        } else if (r < 86) {
            static const unsigned sizes[] = { 1, 2, 4 };
            unsigned size = sizes[pick(3)];
            u32 lin = pae ? rnd_lin_pae() : rnd_lin();
            if ((lin & 0xfff) > 0x1000 - size)
                lin -= size;
            /* An explicit access with EFLAGS.AC or not (matters under
             * CR4.SMAP, toggled below). */
            bool ac = pick(2);
            mmu_set_smap_ac(p.s, ac);
            mmu_set_smap_ac(p.f, ac);
            int op = (int)pick(3);
            bool user = pick(2);
            cmp_l1(&p, lin, op, user, step);
            cmp_access(&p, lin, op, user, size, step);
        } else if (r < 91) {
            p.cr3 = pae ? PDPT_BASE + 32 * pick(N_AS) : PD_BASE + pick(N_AS) * 0x1000u;
            both_paging(&p);
        } else if (r < 94) {
            toggle_pge_wp(&p, step);
        } else if (r < 96) {
            u32 what = pick(5);
            if (what == 3)
                p.cr4 ^= CR4_SMEP;
            else if (what == 4)
                p.cr4 ^= CR4_SMAP;
            else if (what == 0)
                p.cr0 ^= CR0_WP;
            else if (what == 1 && pae) {
                u32 efer = p.s->pg.efer ^ EFER_NXE;
                mmu_set_efer(p.s, efer);
                mmu_set_efer(p.f, efer);
            } else if (what == 1)
                p.cr4 ^= CR4_PSE;
            else if (pge_safe)
                p.cr4 ^= CR4_PGE;
            both_paging(&p);
        } else if (r < 99) {
            u32 lin = pae ? rnd_lin_pae() : rnd_lin();
            mmu_invlpg(p.s, lin);
            mmu_invlpg(p.f, lin);
        } else {
            both_flush(&p);
        }
    }
    ck_assert_int_eq(memcmp(p.s->ram, p.f->ram, RAM), 0);
    /* The shadow saved walks (or the test exercised nothing). */
    ck_assert_uint_gt(p.cs.v[CNT_spt_hits], 200);
    ck_assert_uint_lt(p.cs.v[CNT_guest_walks], p.cf.v[CNT_guest_walks]);
    ck_assert_uint_gt(p.cs.v[CNT_wt_traps], 0);
    ck_assert_uint_gt(p.cs.v[CNT_wp_toggle_kept], 0);
    if (pge_safe)
        ck_assert_uint_gt(p.cs.v[CNT_pge_toggle_kept], 0);
    mmu_free(p.s);
    mmu_free(p.f);
}

START_TEST(diff_random)
{
    differential((u64)_i + 1, false, false, 64, 20000);
}
END_TEST

START_TEST(diff_random_global)
{
    differential((u64)_i + 101, true, false, 64, 20000);
}
END_TEST

START_TEST(diff_random_few_contexts)
{
    /* Two contexts for four spaces: eviction and re-creation all along. */
    differential((u64)_i + 201, _i & 1, false, 2, 20000);
}
END_TEST

START_TEST(diff_random_pae)
{
    /* PAE: 8-byte entries written whole or by halves, XD with EFER.NXE
     * toggling, PDPTE edits picked up at the next CR3 load. */
    differential((u64)_i + 301, false, true, _i & 1 ? 3 : 64, 20000);
}
END_TEST

START_TEST(diff_random_toggles)
{
    /* Global pages, CR4.PGE and CR0.WP toggled often, few contexts. */
    differential((u64)_i + 401, true, false, _i & 1 ? 2 : 64, 20000);
}
END_TEST

/* ---- directed tests ---- */

#define PD1 0x10000u
#define PD2 0x11000u
#define PD3 0x12000u
#define PTU 0x20000u /* user table for 0x00400000.. (PDE 1) */
#define PTU2 0x21000u
#define PTK 0x22000u /* kernel table for 0xC0000000.. */
#define FR 0x300000u /* data frames */
#define ULIN 0x00400000u
#define KLIN 0xc0000000u

static struct counters cnt;

/* PD with PDE 1 -> pt (user) and PDE 0x300 -> PTK (kernel). */
static void make_pd(struct mmu *m, u32 pd, u32 pt)
{
    for (u32 i = 0; i < 1024; i++)
        w32(m, pd + 4 * i, 0);
    w32(m, pd + 4, pt | URW);
    w32(m, pd + 4 * 0x300, PTK | PTE_P | PTE_RW);
}

static void make_pt(struct mmu *m, u32 pt, u32 frame, u32 flags, unsigned n)
{
    for (u32 i = 0; i < 1024; i++)
        w32(m, pt + 4 * i, i < n ? (frame + i * 0x1000u) | flags : 0);
}

static struct mmu *three_spaces(enum mmu_policy pol, unsigned contexts)
{
    struct mmu *m = make(&cnt, pol, contexts);
    make_pd(m, PD1, PTU);
    make_pd(m, PD2, PTU2);
    make_pd(m, PD3, PTU);
    make_pt(m, PTU, FR, URW, 16);
    make_pt(m, PTU2, FR + 0x40000, URW, 16);
    make_pt(m, PTK, FR + 0x80000, PTE_P | PTE_RW, 16);
    ck_assert_int_eq(mmu_set_paging(m, CR0_ON, PD1, 0), 0);
    return m;
}

static void touch(struct mmu *m, u32 base, unsigned n, bool user)
{
    for (unsigned i = 0; i < n; i++)
        xlate(m, base + i * 0x1000u, ACC_READ, user);
}

/* Returns the walks a switch PD1 -> PD2 -> PD1 and touching costs. */
static u64 switch_back_walks(enum mmu_policy pol)
{
    struct mmu *m = three_spaces(pol, 64);
    touch(m, ULIN, 8, true);
    touch(m, KLIN, 4, false);
    mmu_set_paging(m, CR0_ON, PD2, 0);
    touch(m, ULIN, 8, true);
    u64 before = cnt.v[CNT_guest_walks];
    mmu_set_paging(m, CR0_ON, PD1, 0);
    touch(m, ULIN, 8, true);
    touch(m, KLIN, 4, false);
    ck_assert_uint_eq(xlate(m, ULIN + 0x3000, ACC_READ, true), FR + 0x3000);
    u64 walks = cnt.v[CNT_guest_walks] - before;
    mmu_free(m);
    return walks;
}

START_TEST(switch_back_no_walks)
{
    ck_assert_uint_eq(switch_back_walks(MMU_SHADOW), 0);
    ck_assert_uint_eq(cnt.v[CNT_ctx_reused], 1);
    ck_assert_uint_eq(cnt.v[CNT_ctx_created], 2);
    ck_assert_uint_eq(switch_back_walks(MMU_FLUSH), 13); /* mmu_translate never consults L1 */
}
END_TEST

START_TEST(pte_write_zaps_one)
{
    struct mmu *m = three_spaces(MMU_SHADOW, 64);
    touch(m, ULIN, 8, true);
    u64 zapped = cnt.v[CNT_spt_zapped], traps = cnt.v[CNT_wt_traps];
    w32(m, PTU + 3 * 4, (FR + 0x10000) | URW);
    ck_assert_uint_eq(cnt.v[CNT_spt_zapped] - zapped, 1);
    ck_assert_uint_eq(cnt.v[CNT_wt_traps] - traps, 1);
    /* The stale L1 entry went with it: no flush needed to see the edit. */
    ck_assert_uint_eq(xlate(m, ULIN + 0x3000, ACC_READ, true), FR + 0x10000);
    mmu_flush_tlb(m);
    u64 walks = cnt.v[CNT_guest_walks];
    for (unsigned i = 0; i < 8; i++)
        if (i != 3)
            ck_assert_uint_eq(xlate(m, ULIN + i * 0x1000u, ACC_READ, true), FR + i * 0x1000u);
    ck_assert_uint_eq(cnt.v[CNT_guest_walks], walks);
    /* Rewriting an entry with its own value, or only setting A/D, keeps
     * everything. */
    w32(m, PTU + 4, r32(m, PTU + 4));
    w32(m, PTU + 4, r32(m, PTU + 4) | PTE_D);
    ck_assert_uint_eq(cnt.v[CNT_spt_zapped] - zapped, 1);
    /* A PDE write drops the whole 4 MiB range it covered. */
    w32(m, PD1 + 4, PTU2 | URW);
    ck_assert_uint_eq(cnt.v[CNT_spt_zapped] - zapped, 9);
    ck_assert_uint_eq(xlate(m, ULIN, ACC_READ, true), FR + 0x40000);
    mmu_free(m);
}
END_TEST

START_TEST(shared_kernel_table)
{
    struct mmu *m = three_spaces(MMU_SHADOW, 64);
    const u32 pds[3] = { PD1, PD2, PD3 };
    for (unsigned k = 0; k < 3; k++) {
        mmu_set_paging(m, CR0_ON, pds[k], 0);
        ck_assert_uint_eq(xlate(m, KLIN + 0x2000, ACC_READ, false), FR + 0x82000);
        xlate(m, KLIN + 0x1000, ACC_READ, false);
    }
    u64 zapped = cnt.v[CNT_spt_zapped];
    w32(m, PTK + 2 * 4, (FR + 0xa0000) | PTE_P | PTE_RW);
    ck_assert_uint_eq(cnt.v[CNT_spt_zapped] - zapped, 3);
    u64 walks = cnt.v[CNT_guest_walks];
    for (unsigned k = 0; k < 3; k++) {
        mmu_set_paging(m, CR0_ON, pds[k], 0);
        ck_assert_uint_eq(xlate(m, KLIN + 0x2000, ACC_READ, false), FR + 0xa0000);
        ck_assert_uint_eq(xlate(m, KLIN + 0x1000, ACC_READ, false), FR + 0x81000);
    }
    ck_assert_uint_eq(cnt.v[CNT_guest_walks] - walks, 3);
    mmu_free(m);
}
END_TEST

START_TEST(write_flooding)
{
    struct mmu *m = three_spaces(MMU_SHADOW, 64);
    touch(m, ULIN, 4, true);
    ck_assert(m->page_flags[PTU >> 12] & PG_PT);
    for (u32 k = 0; k < 4; k++)
        w32(m, PTU + (100 + k) * 4, k + 1); /* entries nothing was built from */
    ck_assert_uint_eq(cnt.v[CNT_wt_flood], 1);
    ck_assert(!(m->page_flags[PTU >> 12] & PG_PT));
    u64 traps = cnt.v[CNT_wt_traps];
    w32(m, PTU + 200 * 4, 7);
    ck_assert_uint_eq(cnt.v[CNT_wt_traps], traps); /* untracked now */
    /* The entries derived from it went too: next access walks... */
    mmu_flush_tlb(m);
    u64 walks = cnt.v[CNT_guest_walks];
    xlate(m, ULIN, ACC_READ, true);
    ck_assert_uint_eq(cnt.v[CNT_guest_walks] - walks, 1);
    /* ...and the walk shadows the page again. */
    ck_assert(m->page_flags[PTU >> 12] & PG_PT);
    w32(m, PTU, (FR + 0x5000) | URW);
    ck_assert_uint_eq(cnt.v[CNT_wt_traps], traps + 1);
    ck_assert_uint_eq(xlate(m, ULIN, ACC_READ, true), FR + 0x5000);
    mmu_free(m);
}
END_TEST

START_TEST(lru_eviction)
{
    struct mmu *m = make(&cnt, MMU_SHADOW, 4);
    make_pt(m, PTU, FR, URW, 16);
    for (u32 k = 0; k < 6; k++) {
        u32 pd = 0x40000 + k * 0x1000;
        make_pd(m, pd, PTU);
        mmu_set_paging(m, CR0_ON, pd, 0);
        touch(m, ULIN, 2, true);
    }
    ck_assert_uint_eq(cnt.v[CNT_ctx_created], 6);
    ck_assert_uint_eq(cnt.v[CNT_ctx_evicted], 2);
    /* The most recent is still known: no walks. */
    mmu_set_paging(m, CR0_ON, 0x40000 + 4 * 0x1000, 0);
    ck_assert_uint_eq(cnt.v[CNT_ctx_reused], 1);
    u64 walks = cnt.v[CNT_guest_walks];
    touch(m, ULIN, 2, true);
    ck_assert_uint_eq(cnt.v[CNT_guest_walks], walks);
    /* The first was evicted: created again, and walked. */
    mmu_set_paging(m, CR0_ON, 0x40000, 0);
    ck_assert_uint_eq(cnt.v[CNT_ctx_created], 7);
    ck_assert_uint_eq(cnt.v[CNT_ctx_evicted], 3);
    touch(m, ULIN, 2, true);
    ck_assert_uint_eq(cnt.v[CNT_guest_walks], walks + 2);
    /* A write to the shared table still reaches every live context. */
    w32(m, PTU, (FR + 0x9000) | URW);
    mmu_set_paging(m, CR0_ON, 0x40000 + 4 * 0x1000, 0);
    ck_assert_uint_eq(xlate(m, ULIN, ACC_READ, true), FR + 0x9000);
    mmu_free(m);
}
END_TEST

/* An L1 entry of an address space that is not current dies with the
 * shadow entry behind it when the guest edits the table. */
START_TEST(l1_tags_follow_table_edits)
{
    struct mmu *m = three_spaces(MMU_SHADOW, 64);
    ck_assert_int_eq(mmu_set_paging(m, CR0_ON, PD1, 0), 0);
    xlate(m, ULIN, ACC_READ, true);
    ck_assert_ptr_nonnull(tlb_lookup(&m->tlb[1], ULIN, 4, ACC_READ));
    mmu_set_paging(m, CR0_ON, PD2, 0);
    w32(m, PTU, (FR + 0x7000) | URW);
    mmu_set_paging(m, CR0_ON, PD1, 0);
    ck_assert_ptr_null(tlb_lookup(&m->tlb[1], ULIN, 4, ACC_READ));
    ck_assert_uint_eq(xlate(m, ULIN, ACC_READ, true), FR + 0x7000);
    mmu_free(m);
}
END_TEST

START_TEST(global_survives_cr3)
{
    struct mmu *m = three_spaces(MMU_SHADOW, 64);
    make_pt(m, PTK, FR + 0x80000, PTE_P | PTE_RW | PTE_G, 1024);
    ck_assert_int_eq(mmu_set_paging(m, CR0_ON, PD1, CR4_PGE), 0);
    const u32 kx = KLIN;
    xlate(m, kx, ACC_READ, false);
    xlate(m, ULIN, ACC_READ, true);
    ck_assert_ptr_nonnull(tlb_lookup(&m->tlb[0], kx, 4, ACC_READ));
    ck_assert_ptr_nonnull(tlb_lookup(&m->tlb[1], ULIN, 4, ACC_READ));
    mmu_set_paging(m, CR0_ON, PD2, CR4_PGE);
    ck_assert_ptr_null(tlb_lookup(&m->tlb[1], ULIN, 4, ACC_READ));
    /* The global page is answered in the new space without a walk. */
    u64 walks = cnt.v[CNT_guest_walks];
    ck_assert_uint_eq(xlate(m, kx, ACC_READ, false), FR + 0x80000);
    ck_assert_uint_eq(cnt.v[CNT_guest_walks], walks);
    ck_assert_ptr_nonnull(tlb_lookup(&m->tlb[0], kx, 4, ACC_READ));
    /* L1 entries are tagged by address space: back in the first space
     * both of its entries are still there. */
    mmu_set_paging(m, CR0_ON, PD1, CR4_PGE);
    ck_assert_ptr_nonnull(tlb_lookup(&m->tlb[0], kx, 4, ACC_READ));
    ck_assert_ptr_nonnull(tlb_lookup(&m->tlb[1], ULIN, 4, ACC_READ));
    /* A third space has no L1 entry for it yet; the shared global
     * shadow answers without a walk. */
    mmu_set_paging(m, CR0_ON, PD3, CR4_PGE);
    ck_assert_ptr_null(tlb_lookup(&m->tlb[0], kx, 4, ACC_READ));
    walks = cnt.v[CNT_guest_walks];
    ck_assert_uint_eq(xlate(m, kx, ACC_READ, false), FR + 0x80000);
    ck_assert_uint_eq(cnt.v[CNT_guest_walks], walks);
    /* INVLPG drops global entries too. */
    mmu_invlpg(m, kx);
    ck_assert_ptr_null(tlb_lookup(&m->tlb[0], kx, 4, ACC_READ));
    xlate(m, kx, ACC_READ, false);
    ck_assert_uint_eq(cnt.v[CNT_guest_walks], walks + 1);
    /* Turning CR4.PGE off drops them everywhere. */
    mmu_set_paging(m, CR0_ON, PD3, 0);
    ck_assert_ptr_null(tlb_lookup(&m->tlb[0], kx, 4, ACC_READ));
    mmu_free(m);
}
END_TEST

START_TEST(tracked_page_no_write_tag)
{
    struct mmu *m = three_spaces(MMU_SHADOW, 64);
    /* ULIN + 0xf000 maps the user page table itself, writable, dirty. */
    w32(m, PTU + 15 * 4, PTU | URW | PTE_A | PTE_D);
    touch(m, ULIN, 4, true);
    u32 self = ULIN + 0xf000;
    ck_assert_uint_eq(xlate(m, self, ACC_WRITE, true), PTU);
    ck_assert_ptr_null(tlb_lookup(&m->tlb[1], self, 4, ACC_WRITE));
    ck_assert_ptr_nonnull(tlb_lookup(&m->tlb[1], self, 4, ACC_READ));
    /* A data page does get one (D set by the write walk). */
    xlate(m, ULIN + 0x1000, ACC_WRITE, true);
    ck_assert_ptr_nonnull(tlb_lookup(&m->tlb[1], ULIN + 0x1000, 4, ACC_WRITE));
    /* The store through the table's own mapping is trapped and retargets
     * page 2 at once. */
    u64 traps = cnt.v[CNT_wt_traps];
    struct mmu_fault f;
    ck_assert_int_eq(mmu_lin_write(m, self + 2 * 4, 4, (FR + 0x20000) | URW, true, &f), 0);
    ck_assert_uint_eq(cnt.v[CNT_wt_traps], traps + 1);
    ck_assert_uint_eq(xlate(m, ULIN + 0x2000, ACC_READ, true), FR + 0x20000);
    mmu_free(m);
}
END_TEST

START_TEST(privilege_split)
{
    struct mmu *m = three_spaces(MMU_SHADOW, 64);
    /* A supervisor-only page is cached for the kernel, never for CPL 3. */
    xlate(m, KLIN, ACC_READ, false);
    ck_assert_ptr_nonnull(tlb_lookup(&m->tlb[0], KLIN, 4, ACC_READ));
    ck_assert_ptr_null(tlb_lookup(&m->tlb[1], KLIN, 4, ACC_READ));
    u32 gpa;
    struct mmu_fault f;
    ck_assert_int_eq(mmu_translate(m, KLIN, ACC_READ, true, &gpa, &f), -1);
    ck_assert_uint_eq(f.err, PF_P | PF_U);
    /* A read-only user page: with WP clear the kernel may write it, the
     * user may not; each TLB says so. */
    w32(m, PTU + 5 * 4, (FR + 0x5000) | PTE_P | PTE_US | PTE_A | PTE_D);
    xlate(m, ULIN + 0x5000, ACC_WRITE, false);
    ck_assert_ptr_nonnull(tlb_lookup(&m->tlb[0], ULIN + 0x5000, 4, ACC_WRITE));
    ck_assert_int_eq(mmu_translate(m, ULIN + 0x5000, ACC_WRITE, true, &gpa, &f), -1);
    ck_assert_uint_eq(f.err, PF_P | PF_W | PF_U);
    ck_assert_ptr_null(tlb_lookup(&m->tlb[1], ULIN + 0x5000, 4, ACC_WRITE));
    mmu_free(m);
}
END_TEST

START_TEST(dirty_bit_fidelity)
{
    struct mmu *m = three_spaces(MMU_SHADOW, 64);
    xlate(m, ULIN + 0x4000, ACC_READ, true);
    ck_assert_uint_eq(r32(m, PTU + 4 * 4) & (PTE_A | PTE_D), PTE_A);
    mmu_flush_tlb(m);
    u64 walks = cnt.v[CNT_guest_walks];
    xlate(m, ULIN + 0x4000, ACC_READ, true);
    ck_assert_uint_eq(cnt.v[CNT_guest_walks], walks);
    /* The entry was built with D clear: the first write walks, sets D. */
    xlate(m, ULIN + 0x4000, ACC_WRITE, true);
    ck_assert_uint_eq(cnt.v[CNT_guest_walks], walks + 1);
    ck_assert_uint_eq(r32(m, PTU + 4 * 4) & (PTE_A | PTE_D), PTE_A | PTE_D);
    mmu_flush_tlb(m);
    xlate(m, ULIN + 0x4000, ACC_WRITE, true);
    ck_assert_uint_eq(cnt.v[CNT_guest_walks], walks + 1);
    /* The guest clears D: the entry goes, the next write sets D again. */
    w32(m, PTU + 4 * 4, r32(m, PTU + 4 * 4) & ~PTE_D);
    xlate(m, ULIN + 0x4000, ACC_WRITE, true);
    ck_assert_uint_eq(r32(m, PTU + 4 * 4) & PTE_D, PTE_D);
    mmu_free(m);
}
END_TEST

START_TEST(recursive_directory)
{
    struct mmu *m = three_spaces(MMU_SHADOW, 64);
    /* PDE 0x3ff maps the directory as a table: 0xFFC00000 + 4 KiB * i is
     * the table of PDE i, 0xFFFFF000 the directory itself. */
    w32(m, PD1 + 0x3ff * 4, PD1 | PTE_P | PTE_RW);
    const u32 pt_win = 0xffc00000u + 1 * 0x1000u; /* PTU through PDE 1 */
    ck_assert_uint_eq(xlate(m, ULIN + 0x6000, ACC_READ, true), FR + 0x6000);
    ck_assert_uint_eq(xlate(m, pt_win, ACC_READ, false), PTU);
    ck_assert_uint_eq(xlate(m, 0xfffff000u, ACC_READ, false), PD1);
    struct mmu_fault f;
    ck_assert_int_eq(mmu_lin_write(m, pt_win + 6 * 4, 4, (FR + 0x30000) | URW, false, &f), 0);
    ck_assert_uint_eq(xlate(m, ULIN + 0x6000, ACC_READ, true), FR + 0x30000);
    /* Unmapping the directory's own window through itself. */
    ck_assert_int_eq(mmu_lin_write(m, 0xfffff000u + 0x3ff * 4, 4, 0, false, &f), 0);
    u32 gpa;
    ck_assert_int_eq(mmu_translate(m, 0xfffff000u, ACC_READ, false, &gpa, &f), -1);
    mmu_free(m);
}
END_TEST

START_TEST(tables_outside_ram)
{
    struct mmu *m = make(&cnt, MMU_SHADOW, 64);
    /* A PDE pointing beyond RAM reads all ones there: present, every
     * reserved bit... a walk result the shadow must not keep. */
    w32(m, PD1, 0);
    w32(m, PD1 + 4, 0xf0000000u | URW);
    ck_assert_int_eq(mmu_set_paging(m, CR0_ON, PD1, 0), 0);
    u32 gpa;
    struct mmu_fault f;
    int rc = mmu_translate(m, ULIN, ACC_READ, false, &gpa, &f);
    mmu_flush_tlb(m);
    u64 walks = cnt.v[CNT_guest_walks];
    ck_assert_int_eq(mmu_translate(m, ULIN, ACC_READ, false, &gpa, &f), rc);
    ck_assert_uint_eq(cnt.v[CNT_guest_walks], walks + 1);
    ck_assert_uint_eq(cnt.v[CNT_spt_hits], 0);
    /* Many CR3 values: the LRU bounds the contexts. */
    for (u32 k = 0; k < 1000; k++)
        mmu_set_paging(m, CR0_ON, 0x100000 + k * 0x1000, 0);
    ck_assert_uint_eq(cnt.v[CNT_ctx_evicted], 1000 + 1 - 64);
    mmu_free(m);
}
END_TEST

START_TEST(a20_and_efer_drop_everything)
{
    struct mmu *m = three_spaces(MMU_SHADOW, 64);
    touch(m, ULIN, 4, true);
    mmu_set_paging(m, CR0_ON, PD2, 0);
    touch(m, ULIN, 4, true);
    ck_assert(m->page_flags[PTU >> 12] & PG_PT);
    mmu_set_a20(m, false);
    mmu_set_a20(m, true);
    ck_assert_uint_eq(cnt.v[CNT_flush_a20], 2);
    ck_assert(!(m->page_flags[PTU >> 12] & PG_PT));
    ck_assert_ptr_null(tlb_lookup(&m->tlb[1], ULIN, 4, ACC_READ));
    /* Both spaces walk again. */
    u64 walks = cnt.v[CNT_guest_walks];
    touch(m, ULIN, 4, true);
    mmu_set_paging(m, CR0_ON, PD1, 0);
    touch(m, ULIN, 4, true);
    ck_assert_uint_eq(cnt.v[CNT_guest_walks], walks + 8);
    mmu_set_efer(m, EFER_NXE);
    ck_assert_uint_eq(cnt.v[CNT_flush_efer], 1);
    touch(m, ULIN, 4, true);
    ck_assert_uint_eq(cnt.v[CNT_guest_walks], walks + 12);
    /* The flush policy keeps no shadow at all. */
    mmu_configure(m, MMU_FLUSH, 0);
    ck_assert_ptr_null(m->sh);
    ck_assert(!(m->page_flags[PTU >> 12] & PG_PT));
    mmu_set_paging(m, CR0_ON, PD1, 0);
    touch(m, ULIN, 4, true);
    ck_assert(!(m->page_flags[PTU >> 12] & PG_PT));
    ck_assert_uint_eq(cnt.v[CNT_guest_walks], walks + 16);
    mmu_free(m);
}
END_TEST

#define PTK2 0x23000u /* another kernel table, for PD2 */

START_TEST(pge_toggle_keeps_shadow)
{
    struct mmu *m = three_spaces(MMU_SHADOW, 64);
    make_pt(m, PTK, FR + 0x80000, PTE_P | PTE_RW | PTE_G, 16);
    make_pt(m, PTK2, FR + 0xc0000, PTE_P | PTE_RW | PTE_G, 16);
    w32(m, PD2 + 4 * 0x300, PTK2 | PTE_P | PTE_RW);
    ck_assert_int_eq(mmu_set_paging(m, CR0_ON, PD1, CR4_PGE), 0);
    touch(m, KLIN, 4, false);
    touch(m, ULIN, 8, true);
    u64 walks = cnt.v[CNT_guest_walks], created = cnt.v[CNT_ctx_created];
    u64 kept = cnt.v[CNT_pge_toggle_kept];
    /* Linux's global flush: PGE off, then on.  Every L1 entry goes
     * (SDM 4.10.4.1), the shadow stays. */
    mmu_set_paging(m, CR0_ON, PD1, 0);
    ck_assert_ptr_null(tlb_peek(&m->tlb[0], KLIN, 4, ACC_READ));
    ck_assert_ptr_null(tlb_peek(&m->tlb[1], ULIN, 4, ACC_READ));
    /* With PGE off the global page is an ordinary one of this space. */
    ck_assert_uint_eq(xlate(m, KLIN + 0x1000, ACC_READ, false), FR + 0x81000);
    mmu_set_paging(m, CR0_ON, PD1, CR4_PGE);
    ck_assert_ptr_null(tlb_peek(&m->tlb[0], KLIN + 0x1000, 4, ACC_READ));
    for (unsigned i = 0; i < 4; i++)
        ck_assert_uint_eq(xlate(m, KLIN + i * 0x1000u, ACC_READ, false),
                          FR + 0x80000 + i * 0x1000u);
    for (unsigned i = 0; i < 8; i++)
        ck_assert_uint_eq(xlate(m, ULIN + i * 0x1000u, ACC_READ, true), FR + i * 0x1000u);
    ck_assert_uint_eq(cnt.v[CNT_guest_walks], walks);
    ck_assert_uint_eq(cnt.v[CNT_ctx_created], created);
    ck_assert_uint_eq(cnt.v[CNT_pge_toggle_kept], kept + 2);
    ck_assert_uint_eq(cnt.v[CNT_flush_cr4], 0);
    /* Confirmed in the new epoch, the global page survives a CR3 load. */
    mmu_set_paging(m, CR0_ON, PD2, CR4_PGE);
    ck_assert_uint_eq(xlate(m, KLIN, ACC_READ, false), FR + 0x80000);
    ck_assert_uint_eq(cnt.v[CNT_guest_walks], walks);
    /* A toggle in PD2 drops it: PD2's own tables say otherwise. */
    mmu_set_paging(m, CR0_ON, PD2, 0);
    ck_assert_uint_eq(xlate(m, KLIN, ACC_READ, false), FR + 0xc0000);
    mmu_set_paging(m, CR0_ON, PD2, CR4_PGE);
    ck_assert_uint_eq(xlate(m, KLIN + 0x2000, ACC_READ, false), FR + 0xc2000);
    ck_assert_uint_eq(cnt.v[CNT_guest_walks], walks + 2);
    /* Back in PD1, a toggle brings PD1's own global pages back without
     * walks, except the one PD2 replaced (PD2 walked the other with PGE
     * off, as an ordinary page of its own). */
    mmu_set_paging(m, CR0_ON, PD1, CR4_PGE);
    mmu_set_paging(m, CR0_ON, PD1, 0);
    mmu_set_paging(m, CR0_ON, PD1, CR4_PGE);
    for (unsigned i = 0; i < 4; i++)
        ck_assert_uint_eq(xlate(m, KLIN + i * 0x1000u, ACC_READ, false),
                          FR + 0x80000 + i * 0x1000u);
    ck_assert_uint_eq(cnt.v[CNT_guest_walks], walks + 3);
    /* A PTE changed without INVLPG is seen after the toggle. */
    w32(m, PTK + 4, (FR + 0x90000) | PTE_P | PTE_RW | PTE_G);
    mmu_set_paging(m, CR0_ON, PD1, 0);
    mmu_set_paging(m, CR0_ON, PD1, CR4_PGE);
    ck_assert_uint_eq(xlate(m, KLIN + 0x1000, ACC_READ, false), FR + 0x90000);
    mmu_free(m);
}
END_TEST

/* The rights of a supervisor write to a read-only page, and the walks
 * paid, across WP toggles under policy `pol`. */
static u64 wp_toggles(enum mmu_policy pol)
{
    const u32 wp_on = CR0_ON | CR0_WP;
    struct mmu *m = three_spaces(pol, 64);
    /* Read-only kernel and user pages, A and D already set. */
    make_pt(m, PTK, FR + 0x80000, PTE_P | PTE_A | PTE_D, 16);
    make_pt(m, PTU, FR, PTE_P | PTE_US | PTE_A | PTE_D, 16);
    ck_assert_int_eq(mmu_set_paging(m, wp_on, PD1, 0), 0);
    touch(m, KLIN, 4, false);
    touch(m, ULIN, 4, true);
    u64 walks = cnt.v[CNT_guest_walks], created = cnt.v[CNT_ctx_created];
    u64 kept = cnt.v[CNT_wp_toggle_kept], full = cnt.v[CNT_flush_cr0];
    u32 gpa;
    struct mmu_fault f;
    for (unsigned round = 0; round < 3; round++) {
        /* WP=1: supervisor writes to read-only pages fault (SDM 4.6). */
        ck_assert_int_eq(mmu_translate(m, KLIN + 0x1000, ACC_WRITE, false, &gpa, &f), -1);
        ck_assert_uint_eq(f.err, PF_P | PF_W);
        ck_assert_int_eq(mmu_translate(m, ULIN + 0x1000, ACC_WRITE, false, &gpa, &f), -1);
        ck_assert_uint_eq(f.err, PF_P | PF_W);
        mmu_set_paging(m, CR0_ON, PD1, 0);
        /* WP=0: they succeed; user writes still fault. */
        ck_assert_uint_eq(xlate(m, KLIN + 0x1000, ACC_WRITE, false), FR + 0x81000);
        ck_assert_uint_eq(xlate(m, ULIN + 0x2000, ACC_WRITE, false), FR + 0x2000);
        ck_assert_int_eq(mmu_translate(m, ULIN + 0x2000, ACC_WRITE, true, &gpa, &f), -1);
        ck_assert_uint_eq(f.err, PF_P | PF_W | PF_U);
        mmu_set_paging(m, wp_on, PD1, 0);
        /* The write tag granted under WP=0 is gone. */
        ck_assert_ptr_null(tlb_peek(&m->tlb[0], KLIN + 0x1000, 4, ACC_WRITE));
        touch(m, KLIN, 4, false);
        touch(m, ULIN, 4, true);
    }
    if (pol == MMU_SHADOW) {
        ck_assert_uint_eq(cnt.v[CNT_ctx_created], created);
        ck_assert_uint_eq(cnt.v[CNT_wp_toggle_kept], kept + 6);
        ck_assert_uint_eq(cnt.v[CNT_flush_cr0], full);
    }
    u64 paid = cnt.v[CNT_guest_walks] - walks;
    mmu_free(m);
    return paid;
}

START_TEST(wp_toggle_keeps_shadow)
{
    /* The shadow walks only for the refused writes (a fault is always
     * walked, to report it exactly): three per round. */
    ck_assert_uint_eq(wp_toggles(MMU_SHADOW), 9);
    ck_assert_uint_gt(wp_toggles(MMU_FLUSH), 9 + 3 * 8);
}
END_TEST

static Suite *shadow_suite(void)
{
    Suite *s = suite_create("shadow");
    TCase *tc = tcase_create("differential");
    tcase_add_loop_test(tc, diff_random, 0, 6);
    tcase_add_loop_test(tc, diff_random_global, 0, 6);
    tcase_add_loop_test(tc, diff_random_few_contexts, 0, 4);
    tcase_add_loop_test(tc, diff_random_pae, 0, 6);
    tcase_add_loop_test(tc, diff_random_toggles, 0, 6);
    suite_add_tcase(s, tc);
    tc = tcase_create("directed");
    tcase_add_test(tc, switch_back_no_walks);
    tcase_add_test(tc, pte_write_zaps_one);
    tcase_add_test(tc, shared_kernel_table);
    tcase_add_test(tc, write_flooding);
    tcase_add_test(tc, lru_eviction);
    tcase_add_test(tc, l1_tags_follow_table_edits);
    tcase_add_test(tc, global_survives_cr3);
    tcase_add_test(tc, tracked_page_no_write_tag);
    tcase_add_test(tc, privilege_split);
    tcase_add_test(tc, dirty_bit_fidelity);
    tcase_add_test(tc, recursive_directory);
    tcase_add_test(tc, tables_outside_ram);
    tcase_add_test(tc, a20_and_efer_drop_everything);
    tcase_add_test(tc, pge_toggle_keeps_shadow);
    tcase_add_test(tc, wp_toggle_keeps_shadow);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    log_init(&lg);
    SRunner *sr = srunner_create(shadow_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
