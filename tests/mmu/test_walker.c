/*
 * Guest page walker against a reference model of Intel SDM vol. 3A
 * chapter 4 (4.3 32-bit paging, 4.4 PAE paging, 4.6 access rights, 4.7
 * page-fault error codes, 4.8 A/D bits), for a processor with PAT,
 * without PSE-36 and with MAXPHYADDR 36.
 *
 * The permission matrix builds page tables in guest RAM for every
 * combination of page size, U/S and R/W at each level, CR0.WP, CPL,
 * access type, EFER.NXE, CR4.SMEP, CR4.SMAP with and without an
 * EFLAGS.AC override, XD at each level and a broken entry (reserved
 * bit or not present) at each level, and compares the walker with the
 * reference below: fault or not, the error code, the physical address,
 * the reported permissions and the A/D bits left in guest memory.  The
 * reference is written from the SDM's tables, separately from the
 * walker's masks.
 */
#include <check.h>
#include <stdlib.h>

#include "common/counters.h"
#include "common/log.h"
#include "mmu/mmu.h"
#include "mmu/paging.h"

/* ---- fixture ---- */

static struct counters cnt;
static struct logger lg;
static struct mmu *m;

static void setup(void)
{
    cnt = (struct counters){ 0 };
    log_init(&lg);
    m = mmu_new(8u << 20, &cnt, &lg);
    ck_assert_ptr_nonnull(m);
}

static void teardown(void)
{
    mmu_free(m);
    m = NULL;
}

/* ---- layout of the tables the tests build ---- */

#define PD32 0x10000u   /* 32-bit page directory */
#define PT32 0x11000u   /* 32-bit page table */
#define PDPT 0x12020u   /* PAE PDPT: CR3 bits 31:5, not page aligned */
#define PDPAE 0x13000u  /* PAE page directory */
#define PTPAE 0x14000u  /* PAE page table */
#define FRAME4K 0x123000u
#define FRAME4M 0xc00000u
#define FRAME2M 0x600000u
#define LIN 0x4a5b6c7du /* non-zero index at every level, PDPTE 1 */

enum mode { M_4K, M_4M, M_PAE4K, M_PAE2M, M__COUNT };
enum bad { B_OK, B_RSVD, B_NP };
enum { ACC_N = 3 };

/* Reference: is `bit` reserved in a present entry?  `kind` is the entry's
 * role.  From the "reserved bits" lists of SDM 4.3 and 4.4.2 with PAT (the
 * PAT bits, 12 of a large page and 7 of a PTE, are not reserved), no
 * PSE-36, MAXPHYADDR 36. */
enum kind { K_PDE32_PT, K_PDE32_4M, K_PTE32, K_PDPTE, K_PDE_PT, K_PDE_2M, K_PTE };

static bool ref_reserved(enum kind k, bool pse, bool nxe, unsigned bit)
{
    bool high = bit >= 36 && (bit <= 62 || !nxe); /* 62:M, and XD without NXE */
    switch (k) {
    case K_PDE32_PT:
        return false;
    case K_PDE32_4M:
        return pse && bit >= 13 && bit <= 21;
    case K_PTE32:
        return false;
    case K_PDPTE:
        return bit == 1 || bit == 2 || (bit >= 5 && bit <= 8) || bit >= 36;
    case K_PDE_PT:
        return high;
    case K_PDE_2M:
        return high || (bit >= 13 && bit <= 20);
    case K_PTE:
        return high;
    }
    return false;
}

/* Bits the matrix sets to break an entry: some reserved, some ignored. */
static const unsigned cand_bits[][10] = {
    [K_PDE32_PT] = { 6, 8, 9, 11 },
    [K_PDE32_4M] = { 12, 13, 17, 21, 9, 11 },
    [K_PTE32] = { 7, 9, 10, 11 },
    [K_PDPTE] = { 1, 2, 5, 8, 36, 45, 62, 3, 4, 11 },
    [K_PDE_PT] = { 36, 51, 62, 6, 8, 9 },
    [K_PDE_2M] = { 12, 13, 20, 36, 62, 9, 10 },
    [K_PTE] = { 7, 36, 51, 62, 9, 10, 11 },
};
static const unsigned cand_n[] = { 4, 6, 4, 10, 6, 7, 7 };

/* Entries a mode walks, in order, with where each lives. */
struct level {
    enum kind kind;
    u32 addr;     /* guest physical address of the entry */
    u32 next;     /* what a non-leaf entry points to, or the leaf frame */
    bool in_mem;  /* false for the PDPTE: a register, carries no rights */
};

static unsigned mode_levels(enum mode md, struct level lv[3])
{
    u32 pd32 = PD32 + ((LIN >> 22) << 2), pt32 = PT32 + (((LIN >> 12) & 0x3ff) << 2);
    u32 pdpte = PDPT + ((LIN >> 30) << 3);
    u32 pde = PDPAE + (((LIN >> 21) & 0x1ff) << 3), pte = PTPAE + (((LIN >> 12) & 0x1ff) << 3);
    switch (md) {
    case M_4K:
        lv[0] = (struct level){ K_PDE32_PT, pd32, PT32, true };
        lv[1] = (struct level){ K_PTE32, pt32, FRAME4K, true };
        return 2;
    case M_4M:
        lv[0] = (struct level){ K_PDE32_4M, pd32, FRAME4M, true };
        return 1;
    case M_PAE4K:
        lv[0] = (struct level){ K_PDPTE, pdpte, PDPAE, false };
        lv[1] = (struct level){ K_PDE_PT, pde, PTPAE, true };
        lv[2] = (struct level){ K_PTE, pte, FRAME4K, true };
        return 3;
    default:
        lv[0] = (struct level){ K_PDPTE, pdpte, PDPAE, false };
        lv[1] = (struct level){ K_PDE_2M, pde, FRAME2M, true };
        return 2;
    }
}

static u64 expected_gpa(enum mode md)
{
    switch (md) {
    case M_4K:
    case M_PAE4K:
        return FRAME4K | (LIN & 0xfff);
    case M_4M:
        return FRAME4M | (LIN & 0x3fffff);
    default:
        return FRAME2M | (LIN & 0x1fffff);
    }
}

struct tcase {
    enum mode md;
    bool pse, wp, user, nxe, pge, g, dpre;
    bool smep, smap, ac; /* ac: an explicit access with EFLAGS.AC set */
    int acc;
    u32 us, rw, nx;   /* bit k: the flag in walk level k */
    u8 bad[3];        /* enum bad per walk level */
    unsigned bitno[3]; /* bit set by B_RSVD (and, harmlessly, by B_NP) */
};

/* Access rules of SDM 4.6 as a table: what each access needs of the
 * combined rights (SMEP and SMAP are applied in reference()). */
enum { NEED_U = 1, NEED_W = 2, NEED_W_IF_WP = 4, NEED_X = 8 };
static const u8 access_rules[2][ACC_N] = {
    /* supervisor */ { [ACC_READ] = 0, [ACC_WRITE] = NEED_W_IF_WP, [ACC_FETCH] = NEED_X },
    /* user */ { [ACC_READ] = NEED_U, [ACC_WRITE] = NEED_U | NEED_W, [ACC_FETCH] = NEED_U | NEED_X },
};

struct outcome {
    bool fault;
    u32 err;
    u32 perm; /* on success */
};

static struct outcome reference(const struct tcase *t)
{
    struct level lv[3];
    unsigned n = mode_levels(t->md, lv);
    bool pae = t->md >= M_PAE4K;
    /* I/D is reported when NX (PAE with NXE) or SMEP is enabled (4.7). */
    u32 acc_bits = (t->acc == ACC_WRITE ? 2u : 0) | (t->user ? 4u : 0) |
                   (t->acc == ACC_FETCH && ((pae && t->nxe) || t->smep) ? 16u : 0);
    bool all_u = true, all_w = true, any_x = false;
    for (unsigned k = 0; k < n; k++) {
        if (t->bad[k] == B_NP)
            return (struct outcome){ true, acc_bits, 0 };
        bool rsvd = t->bad[k] == B_RSVD && ref_reserved(lv[k].kind, t->pse, t->nxe, t->bitno[k]);
        if (lv[k].in_mem && pae && (t->nx >> k & 1) && !t->nxe)
            rsvd = true; /* XD is reserved without NXE */
        if (rsvd)
            return (struct outcome){ true, 1u | 8u | acc_bits, 0 };
        if (lv[k].in_mem) {
            all_u &= t->us >> k & 1;
            all_w &= t->rw >> k & 1;
            any_x |= pae && t->nxe && (t->nx >> k & 1);
        }
    }
    u8 need = access_rules[t->user][t->acc];
    bool ok = !((need & NEED_U) && !all_u) && !((need & NEED_W) && !all_w) &&
              !((need & NEED_W_IF_WP) && t->wp && !all_w) && !((need & NEED_X) && any_x);
    /* 4.6.1: a supervisor access to a user page.  SMEP forbids fetches;
     * SMAP forbids reads and writes unless explicit with EFLAGS.AC. */
    if (!t->user && all_u) {
        if (t->acc == ACC_FETCH && t->smep)
            ok = false;
        if (t->acc != ACC_FETCH && t->smap && !t->ac)
            ok = false;
    }
    if (!ok)
        return (struct outcome){ true, 1u | acc_bits, 0 };
    u32 perm = (all_w ? PG_PERM_WRITE : 0) | (all_u ? PG_PERM_USER : 0) |
               (any_x ? PG_PERM_NX : 0) | (t->pge && t->g ? PG_PERM_GLOBAL : 0) |
               (t->acc == ACC_WRITE || t->dpre ? PG_PERM_DIRTY : 0);
    return (struct outcome){ false, 0, perm };
}

/* Write the tables for `t`; returns the initial entry values in init[]. */
static void build(const struct tcase *t, u64 init[3])
{
    struct level lv[3];
    unsigned n = mode_levels(t->md, lv);
    bool pae = t->md >= M_PAE4K;
    for (unsigned k = 0; k < n; k++) {
        bool leaf = k == n - 1;
        u64 e = lv[k].next | PTE_P;
        if (lv[k].in_mem) {
            e |= (t->us >> k & 1 ? PTE_US : 0) | (t->rw >> k & 1 ? PTE_RW : 0);
            if (t->nx >> k & 1)
                e |= 1ull << 63;
            if (leaf && t->g)
                e |= PTE_G;
            if (leaf && t->dpre)
                e |= PTE_D;
        }
        if (t->md == M_4M || (t->md == M_PAE2M && k == 1))
            e |= PTE_PS;
        if (t->bad[k] != B_OK)
            e |= 1ull << t->bitno[k];
        if (t->bad[k] == B_NP)
            e &= ~(u64)PTE_P;
        init[k] = e;
        mmu_phys_write(m, lv[k].addr, e, pae ? 8 : 4);
    }
}

static u32 mode_cr4(const struct tcase *t)
{
    return (t->pse ? CR4_PSE : 0) | (t->md >= M_PAE4K ? CR4_PAE : 0) | (t->pge ? CR4_PGE : 0) |
           (t->smep ? CR4_SMEP : 0) | (t->smap ? CR4_SMAP : 0);
}

static u32 mode_cr3(enum mode md)
{
    return (md >= M_PAE4K ? PDPT : PD32) | 0x18; /* PWT/PCD are not address bits */
}

static void run_case(const struct tcase *t, unsigned *n_fault, unsigned *n_ok)
{
    struct level lv[3];
    unsigned n = mode_levels(t->md, lv);
    bool pae = t->md >= M_PAE4K;
    u64 init[3];
    build(t, init);

    struct pg_state pg = { 0 };
    u32 cr0 = CR0_PE | CR0_PG | (t->wp ? CR0_WP : 0);
    int rc = pg_set_mode(&pg, m, cr0, mode_cr3(t->md), mode_cr4(t), t->nxe ? EFER_NXE : 0);
    bool pdpte_bad = pae && t->bad[0] == B_RSVD &&
                     ref_reserved(K_PDPTE, t->pse, t->nxe, t->bitno[0]);
    ck_assert_int_eq(rc, pdpte_bad ? -1 : 0);
    pg.smap_ac = t->ac;

    struct outcome want = reference(t);
    u64 gpa = 0;
    u32 perm = 0;
    struct mmu_fault f = { 0, 0 };
    int got = pg_walk(&pg, m, LIN, t->acc, t->user, &gpa, &perm, &f);
    if (want.fault) {
        ck_assert_msg(got == -1, "mode %d acc %d user %d: expected #PF %x, got success",
                      t->md, t->acc, t->user, want.err);
        ck_assert_msg(f.err == want.err, "mode %d: error code %x, expected %x", t->md, f.err,
                      want.err);
        ck_assert_uint_eq(f.lin, LIN);
        (*n_fault)++;
    } else {
        ck_assert_msg(got == 0, "mode %d acc %d user %d wp %d nxe %d: unexpected #PF %x",
                      t->md, t->acc, t->user, t->wp, t->nxe, f.err);
        ck_assert_uint_eq(gpa, expected_gpa(t->md));
        ck_assert_msg(perm == want.perm, "mode %d: perm %x, expected %x", t->md, perm,
                      want.perm);
        (*n_ok)++;
    }
    for (unsigned k = 0; k < n; k++) {
        u64 now = mmu_phys_read(m, lv[k].addr, pae ? 8 : 4);
        u64 exp = init[k];
        if (!want.fault && lv[k].in_mem) {
            exp |= PTE_A;
            if (k == n - 1 && t->acc == ACC_WRITE)
                exp |= PTE_D;
        }
        ck_assert_msg(now == exp, "mode %d level %u: entry %llx, expected %llx", t->md, k,
                      (unsigned long long)now, (unsigned long long)exp);
    }
}

/* Enumerate the matrix for one mode. */
static void run_mode(enum mode md, bool pse)
{
    struct level lv[3];
    unsigned n = mode_levels(md, lv);
    bool pae = md >= M_PAE4K;
    unsigned mem_mask = 0, nbad = 1;
    for (unsigned k = 0; k < n; k++) {
        if (lv[k].in_mem)
            mem_mask |= 1u << k;
        nbad *= 3;
    }
    unsigned serial = 0, n_fault = 0, n_ok = 0;
    for (u32 us = 0; us < 8; us++) {
        if (us & ~mem_mask)
            continue;
        for (u32 rw = 0; rw < 8; rw++) {
            if (rw & ~mem_mask)
                continue;
            for (u32 nx = 0; nx < 8; nx++) {
                if (nx & ~(pae ? mem_mask : 0))
                    continue;
                for (unsigned b = 0; b < nbad; b++) {
                    for (unsigned x = 0; x < 2 * 2 * 2 * ACC_N * 8; x++) {
                        struct tcase t = { .md = md, .pse = pse, .us = us, .rw = rw, .nx = nx };
                        t.wp = x & 1;
                        t.user = x >> 1 & 1;
                        t.nxe = x >> 2 & 1;
                        t.acc = (int)(x >> 3) % ACC_N;
                        unsigned prot = (x >> 3) / ACC_N;
                        t.smep = prot & 1;
                        t.smap = prot >> 1 & 1;
                        t.ac = prot >> 2 & 1;
                        /* Secondary dimensions cycle with the serial number
                         * so every value meets every primary combination
                         * over the run. */
                        t.pge = serial & 1;
                        t.g = serial >> 1 & 1;
                        t.dpre = (serial / 5) & 1;
                        unsigned bb = b;
                        for (unsigned k = 0; k < n; k++) {
                            t.bad[k] = (u8)(bb % 3);
                            bb /= 3;
                            t.bitno[k] = cand_bits[lv[k].kind][(serial + k * 7) % cand_n[lv[k].kind]];
                        }
                        run_case(&t, &n_fault, &n_ok);
                        serial++;
                    }
                }
            }
        }
    }
    /* The matrix must exercise both outcomes in quantity. */
    ck_assert_uint_gt(n_fault, serial / 50);
    ck_assert_uint_gt(n_ok, serial / 50);
}

START_TEST(matrix_32_4k)
{
    run_mode(M_4K, _i);
}
END_TEST

START_TEST(matrix_32_4m)
{
    run_mode(M_4M, true);
}
END_TEST

START_TEST(matrix_pae_4k)
{
    run_mode(M_PAE4K, _i);
}
END_TEST

START_TEST(matrix_pae_2m)
{
    run_mode(M_PAE2M, _i);
}
END_TEST

/* ---- single features ---- */

static void set_mode32(struct pg_state *pg, u32 cr4)
{
    ck_assert_int_eq(pg_set_mode(pg, m, CR0_PE | CR0_PG, PD32, cr4, 0), 0);
}

/* SDM 4.3: without CR4.PSE, PDE.PS is ignored and the PDE points to a
 * page table; with it, the same PDE maps a 4 MiB page. */
START_TEST(ps_ignored_without_pse)
{
    /* A 4 MiB-aligned table address, so the PDE is also a valid 4 MiB
     * mapping (bits 21:12 clear). */
    const u32 pt = 0x400000u;
    u32 pde_addr = PD32 + ((LIN >> 22) << 2);
    u32 pte_addr = pt + (((LIN >> 12) & 0x3ff) << 2);
    mmu_phys_write(m, pde_addr, pt | PTE_P | PTE_RW | PTE_US | PTE_PS, 4);
    mmu_phys_write(m, pte_addr, FRAME4K | PTE_P | PTE_RW | PTE_US, 4);
    struct pg_state pg = { 0 };
    struct mmu_fault f;
    u64 gpa;
    u32 perm;

    set_mode32(&pg, 0);
    ck_assert_int_eq(pg_walk(&pg, m, LIN, ACC_WRITE, true, &gpa, &perm, &f), 0);
    ck_assert_uint_eq(gpa, FRAME4K | (LIN & 0xfff));
    ck_assert_uint_eq(mmu_phys_read(m, pte_addr, 4) & (PTE_A | PTE_D), PTE_A | PTE_D);
    /* D in a PDE that points to a table is not touched. */
    ck_assert_uint_eq(mmu_phys_read(m, pde_addr, 4) & (PTE_A | PTE_D), PTE_A);

    set_mode32(&pg, CR4_PSE);
    ck_assert_int_eq(pg_walk(&pg, m, LIN, ACC_WRITE, true, &gpa, &perm, &f), 0);
    ck_assert_uint_eq(gpa, pt | (LIN & 0x3fffff));
    ck_assert_uint_eq(mmu_phys_read(m, pde_addr, 4) & (PTE_A | PTE_D), PTE_A | PTE_D);

    /* The same PDE with table bits in 21:12 is a reserved-bit fault. */
    mmu_phys_write(m, pde_addr, PT32 | PTE_P | PTE_RW | PTE_US | PTE_PS, 4);
    ck_assert_int_eq(pg_walk(&pg, m, LIN, ACC_READ, true, &gpa, &perm, &f), -1);
    ck_assert_uint_eq(f.err, PF_P | PF_RSVD | PF_U);
    set_mode32(&pg, 0);
    ck_assert_int_eq(pg_walk(&pg, m, LIN, ACC_READ, true, &gpa, &perm, &f), -1);
    ck_assert_uint_eq(f.err, PF_U); /* PT32 holds no PTE here: not present */
}
END_TEST

START_TEST(global_reported_only_with_pge)
{
    u32 pde_addr = PD32 + ((LIN >> 22) << 2);
    u32 pte_addr = PT32 + (((LIN >> 12) & 0x3ff) << 2);
    /* G on the PDE that points to a table is ignored. */
    mmu_phys_write(m, pde_addr, PT32 | PTE_P | PTE_RW | PTE_G, 4);
    mmu_phys_write(m, pte_addr, FRAME4K | PTE_P | PTE_RW, 4);
    struct pg_state pg = { 0 };
    struct mmu_fault f;
    u64 gpa;
    u32 perm;
    set_mode32(&pg, CR4_PGE);
    ck_assert_int_eq(pg_walk(&pg, m, LIN, ACC_READ, false, &gpa, &perm, &f), 0);
    ck_assert_uint_eq(perm & PG_PERM_GLOBAL, 0);
    mmu_phys_write(m, pte_addr, FRAME4K | PTE_P | PTE_RW | PTE_G, 4);
    ck_assert_int_eq(pg_walk(&pg, m, LIN, ACC_READ, false, &gpa, &perm, &f), 0);
    ck_assert_uint_eq(perm & PG_PERM_GLOBAL, PG_PERM_GLOBAL);
    set_mode32(&pg, 0);
    ck_assert_int_eq(pg_walk(&pg, m, LIN, ACC_READ, false, &gpa, &perm, &f), 0);
    ck_assert_uint_eq(perm & PG_PERM_GLOBAL, 0);
}
END_TEST

/* SDM 4.4.1: PDPTEs are loaded with CR3; a present one with a reserved
 * bit makes the load fail (the CPU raises #GP(0)). */
START_TEST(pdpte_reserved_at_load)
{
    const u32 cr0 = CR0_PE | CR0_PG;
    struct pg_state pg = { 0 };
    for (unsigned bit = 0; bit < 64; bit++) {
        for (unsigned slot = 0; slot < 4; slot++) {
            for (unsigned k = 0; k < 4; k++)
                mmu_phys_write(m, PDPT + 8 * k, (u64)PDPAE | PTE_P, 8);
            u64 e = (u64)PDPAE | PTE_P | (1ull << bit);
            mmu_phys_write(m, PDPT + 8 * slot, e, 8);
            bool bad = ref_reserved(K_PDPTE, false, false, bit);
            ck_assert_int_eq(pg_set_mode(&pg, m, cr0, PDPT, CR4_PAE, 0), bad ? -1 : 0);
            ck_assert(mmu_pdptes_valid(m, PDPT) == !bad);
            /* Not present: reserved bits are not checked. */
            mmu_phys_write(m, PDPT + 8 * slot, e & ~(u64)PTE_P, 8);
            ck_assert(mmu_pdptes_valid(m, PDPT));
        }
    }
    /* Paging off or PAE off: no PDPTEs are loaded, nothing to refuse. */
    mmu_phys_write(m, PDPT, (u64)PDPAE | PTE_P | PTE_RW, 8);
    ck_assert_int_eq(mmu_set_paging(m, cr0, PDPT, CR4_PAE), -1);
    ck_assert_int_eq(mmu_set_paging(m, CR0_PE, PDPT, CR4_PAE), 0);
    ck_assert_int_eq(mmu_set_paging(m, cr0, PDPT, 0), 0);
}
END_TEST

/* The PDPTE registers keep their values until the next load. */
START_TEST(pdptes_cached_until_reload)
{
    u32 pde_addr = PDPAE + (((LIN >> 21) & 0x1ff) << 3);
    u32 pdpte_addr = PDPT + ((LIN >> 30) << 3);
    mmu_phys_write(m, pdpte_addr, (u64)PDPAE | PTE_P, 8);
    mmu_phys_write(m, pde_addr, (u64)FRAME2M | PTE_P | PTE_PS | PTE_RW, 8);
    struct pg_state pg = { 0 };
    struct mmu_fault f;
    u64 gpa;
    u32 perm;
    ck_assert_int_eq(pg_set_mode(&pg, m, CR0_PE | CR0_PG, PDPT, CR4_PAE, 0), 0);
    mmu_phys_write(m, pdpte_addr, 0, 8);
    ck_assert_int_eq(pg_walk(&pg, m, LIN, ACC_READ, false, &gpa, &perm, &f), 0);
    ck_assert_uint_eq(gpa, FRAME2M | (LIN & 0x1fffff));
    ck_assert_uint_eq(mmu_phys_read(m, pdpte_addr, 8), 0); /* no A bit in PDPTEs */
    ck_assert_int_eq(pg_set_mode(&pg, m, CR0_PE | CR0_PG, PDPT, CR4_PAE, 0), 0);
    ck_assert_int_eq(pg_walk(&pg, m, LIN, ACC_READ, false, &gpa, &perm, &f), -1);
    ck_assert_uint_eq(f.err, 0);
}
END_TEST

/* A page table beyond RAM reads as all ones: present with reserved bits
 * under PAE, so the walk reports RSVD. */
START_TEST(table_outside_ram)
{
    u32 pdpte_addr = PDPT + ((LIN >> 30) << 3);
    mmu_phys_write(m, pdpte_addr, (u64)0xf0000000u | PTE_P, 8);
    struct pg_state pg = { 0 };
    struct mmu_fault f;
    u64 gpa;
    u32 perm;
    ck_assert_int_eq(pg_set_mode(&pg, m, CR0_PE | CR0_PG, PDPT, CR4_PAE, EFER_NXE), 0);
    ck_assert_int_eq(pg_walk(&pg, m, LIN, ACC_WRITE, true, &gpa, &perm, &f), -1);
    ck_assert_uint_eq(f.err, PF_P | PF_RSVD | PF_W | PF_U);
}
END_TEST

/* Through mmu_translate and the TLB: a fetch from an NX page faults with
 * I/D, and reading the page first must not leave a fetch tag behind. */
START_TEST(nx_through_tlb)
{
    u32 pdpte_addr = PDPT + ((LIN >> 30) << 3);
    u32 pde_addr = PDPAE + (((LIN >> 21) & 0x1ff) << 3);
    u32 pte_addr = PTPAE + (((LIN >> 12) & 0x1ff) << 3);
    mmu_phys_write(m, pdpte_addr, (u64)PDPAE | PTE_P, 8);
    mmu_phys_write(m, pde_addr, (u64)PTPAE | PTE_P | PTE_RW | PTE_US, 8);
    mmu_phys_write(m, pte_addr, FRAME4K | PTE_P | PTE_RW | PTE_US | PTE_D | PTE_XD, 8);
    mmu_set_efer(m, EFER_NXE);
    ck_assert_int_eq(mmu_set_paging(m, CR0_PE | CR0_PG, PDPT, CR4_PAE), 0);
    u32 gpa;
    struct mmu_fault f;
    ck_assert_int_eq(mmu_translate(m, LIN, ACC_READ, true, &gpa, &f), 0);
    ck_assert_uint_eq(gpa, FRAME4K | (LIN & 0xfff));
    ck_assert_ptr_nonnull(tlb_lookup(&m->tlb[1], LIN, 1, ACC_READ));
    ck_assert_ptr_null(tlb_lookup(&m->tlb[1], LIN, 1, ACC_FETCH));
    ck_assert_int_eq(mmu_translate(m, LIN, ACC_FETCH, true, &gpa, &f), -1);
    ck_assert_uint_eq(f.err, PF_P | PF_U | PF_ID);
    ck_assert_int_eq(mmu_translate(m, LIN, ACC_FETCH, false, &gpa, &f), -1);
    ck_assert_uint_eq(f.err, PF_P | PF_ID);
    ck_assert_ptr_null(tlb_lookup(&m->tlb[1], LIN, 1, ACC_FETCH));

    /* Without NXE bit 63 is reserved. */
    mmu_set_efer(m, 0);
    ck_assert_int_eq(mmu_translate(m, LIN, ACC_READ, true, &gpa, &f), -1);
    ck_assert_uint_eq(f.err, PF_P | PF_RSVD | PF_U);

    /* Clear XD: fetches are allowed and cached. */
    mmu_phys_write(m, pte_addr, FRAME4K | PTE_P | PTE_RW | PTE_US | PTE_D, 8);
    mmu_set_efer(m, EFER_NXE);
    ck_assert_int_eq(mmu_translate(m, LIN, ACC_FETCH, true, &gpa, &f), 0);
    ck_assert_ptr_nonnull(tlb_lookup(&m->tlb[1], LIN, 1, ACC_FETCH));
}
END_TEST

static Suite *walker_suite(void)
{
    Suite *s = suite_create("walker");
    TCase *tc = tcase_create("matrix");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, matrix_32_4k, 0, 2);
    tcase_add_test(tc, matrix_32_4m);
    tcase_add_loop_test(tc, matrix_pae_4k, 0, 2);
    tcase_add_loop_test(tc, matrix_pae_2m, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("features");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, ps_ignored_without_pse);
    tcase_add_test(tc, global_reported_only_with_pge);
    tcase_add_test(tc, pdpte_reserved_at_load);
    tcase_add_test(tc, pdptes_cached_until_reload);
    tcase_add_test(tc, table_outside_ram);
    tcase_add_test(tc, nx_through_tlb);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(walker_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
