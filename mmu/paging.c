/*
 * Guest page walk: 32-bit paging and PAE paging (Intel SDM vol. 3A, 4.3,
 * 4.4, 4.6, 4.7, 4.8, 4.10).
 *
 *   32-bit:  CR3[31:12] -> PDE[lin 31:22] -> PTE[lin 21:12]        (4 KiB)
 *                          PDE.PS with CR4.PSE                    (4 MiB)
 *   PAE:     PDPTE register[lin 31:30] -> PDE[lin 29:21] -> PTE[lin 20:12]
 *                                         PDE.PS                  (2 MiB)
 *
 * Reserved bits (checked only in present entries), for a processor with
 * MAXPHYADDR 36, no PSE-36 and no PAT:
 *
 *   32-bit PDE, 4 MiB      21:12        (only with CR4.PSE, as all below)
 *   32-bit PTE             7
 *   PAE PDPTE              63:36, 8:5, 2:1
 *   PAE PDE -> table       62:36        (+63 without EFER.NXE)
 *   PAE PDE, 2 MiB         62:36, 20:12 (+63 without EFER.NXE)
 *   PAE PTE                62:36, 7     (+63 without EFER.NXE)
 *
 * Invariants: a walk either fails without writing guest memory or
 * succeeds and then sets A on every entry used and D on the leaf for a
 * write.  A/D updates re-read the entry and OR the bits in, so a table
 * that maps itself (one entry used at two levels) keeps both updates.
 */
#include "paging.h"

#include "mmu.h"

#include <string.h>

/* CPUID advertises PAT but not PSE-36 (SDM 4.1.4): the PAT bits of
 * leaf entries select a PAT entry and are not reserved. */
#define PG_HAVE_PAT true

#define ADDR_36 0x0000000ffffff000ull /* PAE entry: bits 35:12 */
#define RSVD_HIGH (~0ull << PG_MAXPHYADDR)                 /* 63:36 */
#define RSVD_PDPTE (RSVD_HIGH | 0x1e6ull)                  /* + 8:5, 2:1 */
#define RSVD_PAE (RSVD_HIGH & ~PTE_XD)                       /* 62:36 */
#define RSVD_BIG_LOW 0x001fe000ull                         /* 2 MiB: 20:13 */
#define RSVD_4M 0x003fe000u                                /* 4 MiB: 21:13 */
#define PAT_BIG (1u << 12)
#define PAT_PTE (1u << 7)

int pg_load_pdptes(struct mmu *m, u32 cr3, u64 pdpte[4])
{
    int rc = 0;
    u32 base = cr3 & 0xffffffe0u;
    for (unsigned k = 0; k < 4; k++) {
        pdpte[k] = mmu_phys_read(m, base + 8 * k, 8);
        if ((pdpte[k] & PTE_P) && (pdpte[k] & RSVD_PDPTE))
            rc = -1;
    }
    return rc;
}

int pg_set_mode(struct pg_state *pg, struct mmu *m, u32 cr0, u32 cr3, u32 cr4, u32 efer)
{
    pg->enabled = (cr0 & (CR0_PG | CR0_PE)) == (CR0_PG | CR0_PE);
    pg->wp = cr0 & CR0_WP;
    pg->pse = cr4 & CR4_PSE;
    pg->pae = cr4 & CR4_PAE;
    pg->pge = cr4 & CR4_PGE;
    pg->nxe = efer & EFER_NXE;
    pg->smep = cr4 & CR4_SMEP;
    pg->smap = cr4 & CR4_SMAP;
    pg->cr3 = cr3;
    pg->efer = efer;
    if (pg->enabled && pg->pae)
        return pg_load_pdptes(m, cr3, pg->pdpte);
    return 0;
}

/* One paging-structure entry used by a walk. */
struct pg_level {
    u64 addr; /* guest physical address of the entry */
    u64 val;
};

struct pg_walk_state {
    bool peek;             /* read backed memory only (mmu_walk_peek) */
    struct pg_level lv[2]; /* the entries in memory: PDE, then PTE */
    unsigned n;
    u64 leaf;              /* the entry that maps the page */
    u64 gpa;
};

/* Entry read through the bus.  Tables beyond the 32-bit bus read as all
 * ones, like unbacked space below 4 GiB.  A peek reads RAM and ROM only:
 * an entry in MMIO space reads as all ones rather than reach a device. */
static u64 read_entry(struct mmu *m, const struct pg_walk_state *w, u64 addr, bool wide)
{
    if (addr >> 32)
        return ~0ull;
    if (w->peek) {
        u64 v;
        if (mmu_phys_peek(m, (u32)addr, wide ? 8 : 4, &v))
            return v;
        return wide ? ~0ull : 0xffffffffull;
    }
    return wide ? mmu_phys_read(m, (u32)addr, 8) : mmu_phys_read(m, (u32)addr, 4);
}

static void set_bits(struct mmu *m, u64 addr, u32 bits)
{
    if (addr >> 32)
        return;
    u32 cur = (u32)mmu_phys_read(m, (u32)addr, 4);
    if ((cur | bits) != cur)
        mmu_phys_write(m, (u32)addr, cur | bits, 4);
}

static int fault(const struct pg_state *pg, struct mmu_fault *f, u32 lin, int acc, bool user,
                 u32 why)
{
    f->lin = lin;
    f->err = why | (acc == ACC_WRITE ? PF_W : 0) | (user ? PF_U : 0);
    /* I/D is reported when fetches can fault for their own reasons:
     * execute-disable or SMEP (SDM 4.7). */
    if (acc == ACC_FETCH && ((pg->pae && pg->nxe) || pg->smep))
        f->err |= PF_ID;
    return -1;
}

/* Walk outcome: 0, WALK_NP, or the PF_* bits of a reserved-bit fault. */
#define WALK_NP (1u << 31)

static u32 check_entry(u64 e, u64 rsvd)
{
    if (!(e & PTE_P))
        return WALK_NP;
    return (e & rsvd) ? PF_P | PF_RSVD : 0;
}

static u32 walk_32(const struct pg_state *pg, struct mmu *m, u32 lin, struct pg_walk_state *w)
{
    u64 pde_addr = (pg->cr3 & PAGE_MASK) + ((lin >> 22) << 2);
    u64 pde = read_entry(m, w, pde_addr, false);
    w->lv[0] = (struct pg_level){ pde_addr, pde };
    w->n = 1;
    if (!(pde & PTE_P))
        return WALK_NP;
    if (pg->pse && (pde & PTE_PS)) {
        u32 rsvd = RSVD_4M | (PG_HAVE_PAT ? 0 : PAT_BIG);
        if (pde & rsvd)
            return PF_P | PF_RSVD;
        w->leaf = pde;
        w->gpa = (pde & 0xffc00000u) | (lin & 0x3fffffu);
        return 0;
    }
    /* Without CR4.PSE the PS bit is ignored: the PDE points to a table. */
    u64 pte_addr = (pde & PAGE_MASK) + (((lin >> 12) & 0x3ff) << 2);
    u64 pte = read_entry(m, w, pte_addr, false);
    w->lv[1] = (struct pg_level){ pte_addr, pte };
    w->n = 2;
    u32 why = check_entry(pte, (pg->pse && !PG_HAVE_PAT) ? PAT_PTE : 0);
    if (why)
        return why;
    w->leaf = pte;
    w->gpa = (pte & PAGE_MASK) | (lin & (PAGE_SIZE - 1));
    return 0;
}

static u32 walk_pae(const struct pg_state *pg, struct mmu *m, u32 lin, struct pg_walk_state *w)
{
    u64 xd_rsvd = pg->nxe ? 0 : PTE_XD;
    u64 pdpte = pg->pdpte[lin >> 30];
    w->n = 0;
    u32 why = check_entry(pdpte, RSVD_PDPTE);
    if (why)
        return why;
    u64 pde_addr = (pdpte & ADDR_36) + (((lin >> 21) & 0x1ff) << 3);
    u64 pde = read_entry(m, w, pde_addr, true);
    w->lv[0] = (struct pg_level){ pde_addr, pde };
    w->n = 1;
    if (pde & PTE_PS) {
        u64 rsvd = RSVD_PAE | xd_rsvd | RSVD_BIG_LOW | (PG_HAVE_PAT ? 0 : PAT_BIG);
        if ((why = check_entry(pde, rsvd)))
            return why;
        w->leaf = pde;
        w->gpa = (pde & ADDR_36 & ~0x1fffffull) | (lin & 0x1fffffu);
        return 0;
    }
    if ((why = check_entry(pde, RSVD_PAE | xd_rsvd)))
        return why;
    u64 pte_addr = (pde & ADDR_36) + (((lin >> 12) & 0x1ff) << 3);
    u64 pte = read_entry(m, w, pte_addr, true);
    w->lv[1] = (struct pg_level){ pte_addr, pte };
    w->n = 2;
    if ((why = check_entry(pte, RSVD_PAE | xd_rsvd | (PG_HAVE_PAT ? 0 : PAT_PTE))))
        return why;
    w->leaf = pte;
    w->gpa = (pte & ADDR_36) | (lin & (PAGE_SIZE - 1));
    return 0;
}

/* Access rights, SDM 4.6.  A supervisor-mode access (CPL < 3, or an
 * implicit one such as a descriptor-table read) to a user page: a fetch
 * faults with CR4.SMEP; a read or write faults with CR4.SMAP unless it is
 * explicit and EFLAGS.AC is set (4.6.1). */
static bool allowed(const struct pg_state *pg, u32 perm, int acc, bool user)
{
    if (user && !(perm & PG_PERM_USER))
        return false;
    if (!user && (perm & PG_PERM_USER)) {
        if (acc == ACC_FETCH ? pg->smep : pg->smap && !pg->smap_ac)
            return false;
    }
    if (acc == ACC_WRITE && !(perm & PG_PERM_WRITE) && (user || pg->wp))
        return false;
    if (acc == ACC_FETCH && (perm & PG_PERM_NX))
        return false;
    return true;
}

bool pg_perm_allows(const struct pg_state *pg, u32 perm, int acc, bool user)
{
    return allowed(pg, perm, acc, user);
}

int pg_walk(const struct pg_state *pg, struct mmu *m, u32 lin, int acc, bool user, u64 *gpa,
            u32 *perm, struct mmu_fault *f)
{
    return pg_walk_traced(pg, m, lin, acc, user, gpa, perm, f, NULL);
}

/* Effective rights of a walk that reached its leaf (SDM 4.6): they
 * combine over the entries in memory; PAE PDPTEs carry none. */
static u32 walk_perm(const struct pg_state *pg, const struct pg_walk_state *w)
{
    u32 p = PG_PERM_WRITE | PG_PERM_USER;
    for (unsigned k = 0; k < w->n; k++) {
        u64 e = w->lv[k].val;
        if (!(e & PTE_RW))
            p &= ~PG_PERM_WRITE;
        if (!(e & PTE_US))
            p &= ~PG_PERM_USER;
        if (pg->pae && pg->nxe && (e & PTE_XD))
            p |= PG_PERM_NX;
    }
    if (w->leaf & PTE_D)
        p |= PG_PERM_DIRTY;
    if (pg->pge && (w->leaf & PTE_G))
        p |= PG_PERM_GLOBAL;
    return p;
}

int pg_walk_traced(const struct pg_state *pg, struct mmu *m, u32 lin, int acc, bool user,
                   u64 *gpa, u32 *perm, struct mmu_fault *f, struct pg_trace *t)
{
    struct pg_walk_state w = { .peek = false };
    u32 why = pg->pae ? walk_pae(pg, m, lin, &w) : walk_32(pg, m, lin, &w);
    if (why == WALK_NP)
        return fault(pg, f, lin, acc, user, 0);
    if (why)
        return fault(pg, f, lin, acc, user, why);

    u32 p = walk_perm(pg, &w);
    if (!allowed(pg, p, acc, user))
        return fault(pg, f, lin, acc, user, PF_P);

    for (unsigned k = 0; k + 1 < w.n; k++)
        set_bits(m, w.lv[k].addr, PTE_A);
    set_bits(m, w.lv[w.n - 1].addr, PTE_A | (acc == ACC_WRITE ? PTE_D : 0));
    if (acc == ACC_WRITE)
        p |= PG_PERM_DIRTY;
    *gpa = w.gpa;
    *perm = p;
    if (t) {
        t->n = w.n;
        for (unsigned k = 0; k < w.n; k++)
            t->entry[k] = w.lv[k].addr;
        t->big = w.n == 1;
    }
    return 0;
}

int pg_walk_peek(const struct pg_state *cur, struct mmu *m, u32 cr3, u32 lin, int acc,
                 bool user, struct pg_peek *out)
{
    struct pg_state pg = *cur;
    memset(out, 0, sizeof *out);
    out->lin = lin;
    out->cr3 = cr3;
    out->paging = pg.enabled;
    out->pae = pg.pae;
    if (!pg.enabled) {
        out->gpa = lin;
        out->perm = PG_PERM_WRITE | PG_PERM_USER | PG_PERM_DIRTY;
        return 0;
    }
    pg.cr3 = cr3;
    if (pg.pae && cr3 != cur->cr3) {
        /* Another address space: its PDPTEs as a MOV to CR3 would load
         * them, read without side effects. */
        u32 base = cr3 & 0xffffffe0u;
        for (unsigned k = 0; k < 4; k++) {
            u64 v;
            pg.pdpte[k] = mmu_phys_peek(m, base + 8 * k, 8, &v) ? v : ~0ull;
        }
    }
    struct pg_walk_state w = { .peek = true };
    u32 why = pg.pae ? walk_pae(&pg, m, lin, &w) : walk_32(&pg, m, lin, &w);
    if (pg.pae) {
        out->lv[out->n++] = (struct pg_peek_level){ PG_LEVEL_PDPTE,
                                                    (cr3 & 0xffffffe0u) + 8 * (lin >> 30),
                                                    pg.pdpte[lin >> 30] };
    }
    for (unsigned k = 0; k < w.n; k++) {
        unsigned level = k == 0 ? PG_LEVEL_PDE : PG_LEVEL_PTE;
        out->lv[out->n++] = (struct pg_peek_level){ level, w.lv[k].addr, w.lv[k].val };
    }
    if (why == WALK_NP)
        return fault(&pg, &out->fault, lin, acc, user, 0);
    if (why)
        return fault(&pg, &out->fault, lin, acc, user, why);
    out->big = w.n == 1;
    out->perm = walk_perm(&pg, &w);
    out->gpa = w.gpa;
    if (!allowed(&pg, out->perm, acc, user))
        return fault(&pg, &out->fault, lin, acc, user, PF_P);
    return 0;
}
