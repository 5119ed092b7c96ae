/*
 * Shadow page tables (L2) with write tracking and a reverse map, in the
 * manner of a software hypervisor's shadow MMU (KVM's mmu.rst describes the
 * same ideas).  Architectural ground: Intel SDM vol. 3A, 4.10 (caching of
 * translations: what a TLB may keep, what MOV to CR3/CR4 and INVLPG must
 * drop) and 4.8 (accessed and dirty flags).
 *
 *   context  = one guest address space: CR3 plus the mode bits that change
 *              how its tables read (PAE, PSE, NXE).  Up to max_ctx live
 *              in slots 1..max_ctx, replaced least recently used first.
 *              Slot 0 holds the global entries (CR4.PGE and G), shared by
 *              all contexts.  CR0.WP is not part of the key: an entry
 *              holds the guest's rights (R/W and U/S of every level), and
 *              WP only decides how a supervisor write reads them (SDM
 *              4.6), which pg_perm_allows() applies at each use.  So a
 *              toggle of WP keeps the context and all its entries.
 *   serial   = a number given to a context each time it starts afresh
 *              (created, or emptied).  A global entry remembers the serial
 *              of the context whose walk made it and the global epoch it
 *              was made or last confirmed in.  A change of CR4.PGE or
 *              CR0.WP flushes global translations (SDM 4.10.4.1) by moving
 *              the epoch on: an entry of an older epoch is used again only
 *              in the context it came from, whose tables write tracking has
 *              kept it equal to (a walk there would find it unchanged, with
 *              A, and D if it grants writes, already set); elsewhere it is
 *              walked again, as after a flush.  With CR4.PGE clear the
 *              same rule lets the context that made a global entry use it
 *              as an ordinary one, and no other context sees it.
 *   entry    = linear page -> guest physical page + PG_PERM_* bits, found
 *              in a two-level table (1024 leaves of 1024 entries, leaves
 *              allocated on first use).  An entry exists only for a walk
 *              that succeeded (so set A on every entry it used); without
 *              PG_PERM_DIRTY it never grants a write, so the first write
 *              walks again and sets D.
 *   record   = reverse map: "guest page `gfn` is the page directory (level
 *              0) or a page table (level 1) from which entries of context
 *              `ctx` covering linear `base`.. were derived".  Chained per
 *              guest page.  A record whose context has since been cleared
 *              (generation moved on) is dead and unlinked when met.
 *
 * Invariants:
 *  - every entry was derived from tables in RAM pages that carry PG_PT and
 *    a live record for its context and linear range, so every write to
 *    those tables (CPU stores on the slow path, DMA, loaders: all through
 *    mmu_phys_write) reaches shadow_write_trap() and zaps it;
 *  - a PG_PT page never has an L1 write tag (mmu.c withholds it);
 *  - memory is bounded: at most MAX_LEAVES leaves and MAX_RECS records,
 *    beyond which contexts are emptied.
 */
#include "shadow.h"

#include <stdlib.h>
#include <string.h>

#include "mmu.h"

#define NPAGES (1u << 20)
#define LEAF_ENTRIES 1024u
#define MAX_LEAVES 2048u        /* 16 MiB of leaves */
#define MAX_RECS (1u << 18)
#define FLOOD_LIMIT 4           /* writes without a walk before unshadowing */
#define SPTE_VALID (1u << 31)   /* in spte.perm, above the PG_PERM_* bits */
#define SPTE_PERM 0x1fu         /* the PG_PERM_* bits of spte.perm */

/*
 * A global entry (slot 0) also carries where and when it was made:
 *
 *   spte.pa:    31..12 guest physical page | 11..0 global epoch (low bits)
 *   spte.perm:  31 SPTE_VALID | 30..8 origin serial | 4..0 PG_PERM_*
 */
#define SPTE_SERIAL_SHIFT 8
#define SPTE_SERIAL_MAX (1u << 23) /* serials run 1 .. SPTE_SERIAL_MAX - 1 */
#define GEPOCH_MASK 0xfffu

/* Mode bits of a context key (CR0.WP is deliberately absent, above). */
#define KEY_PAE 1u
#define KEY_PSE 2u
#define KEY_NXE 8u

struct spte {
    u32 pa;   /* guest physical page address */
    u32 perm; /* PG_PERM_* | SPTE_VALID */
};

struct spt_leaf {
    unsigned nvalid;
    struct spte e[LEAF_ENTRIES];
};

struct sctx {
    bool live;
    u32 cr3;       /* key: table base */
    u32 mode;      /* key: KEY_* */
    u32 gen;       /* bumped when emptied: its records die */
    u32 serial;    /* renewed when emptied: global entries' origin */
    u64 stamp;     /* LRU clock */
    u64 pdpte[4];  /* PAE: the PDPTE registers the entries were built with */
    unsigned nleaves;
    u64 hits;      /* lookups answered by this context's entries */
    struct spt_leaf *dir[1024];
};

struct rrec {
    u32 gfn;
    u32 base;   /* first linear address the table page covers */
    u32 gen;
    u16 ctx;
    u8 level;   /* 0: page directory, 1: page table */
    u8 pae;     /* 8-byte entries */
    u32 next;   /* index + 1 of the next record of gfn, 0 = end */
};

struct shadow {
    unsigned max_ctx;
    struct sctx *ctx;    /* [0] global, [1..max_ctx] contexts */
    int cur;             /* current slot, or -1 with paging off */
    u64 clock;
    unsigned nleaves;
    struct rrec *rec;
    u32 nrec, caprec;
    u32 free_rec;        /* index + 1, chained through next */
    u32 *head;           /* per guest page: index + 1 of its first record */
    u8 *flood;           /* per guest page: trapped writes since a walk */
    u16 hint[256];       /* slot last found for a hash of (CR3, mode) */
    u32 serial;          /* last serial given to a context */
    u32 gepoch;          /* global epoch: moved on by PGE/WP changes */
};

static unsigned ctx_hash(u32 cr3, u32 mode)
{
    return ((cr3 >> 5) ^ (cr3 >> 13) ^ mode) & 255;
}

struct shadow *shadow_new(unsigned max_contexts)
{
    if (max_contexts < 1)
        max_contexts = 1;
    struct shadow *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->max_ctx = max_contexts;
    s->ctx = calloc(max_contexts + 1, sizeof *s->ctx);
    s->head = calloc(NPAGES, sizeof *s->head);
    s->flood = calloc(NPAGES, 1);
    s->cur = -1;
    if (!s->ctx || !s->head || !s->flood) {
        shadow_free(s);
        return NULL;
    }
    s->ctx[0].live = true;
    return s;
}

static void ctx_reserial(struct shadow *s);

static void ctx_empty(struct shadow *s, struct sctx *c)
{
    for (unsigned i = 0; i < 1024; i++) {
        if (c->dir[i]) {
            free(c->dir[i]);
            c->dir[i] = NULL;
            s->nleaves--;
        }
    }
    c->nleaves = 0;
    c->gen++;
    /* Its tables may differ from now on (PDPTEs reloaded, a new CR3, or
     * simply nothing tracked any more): global entries it made are not
     * confirmed by it any longer. */
    if (c != &s->ctx[0]) {
        if (s->serial + 1 >= SPTE_SERIAL_MAX)
            ctx_reserial(s);
        c->serial = ++s->serial;
    }
}

/* Serials ran out: start them again at 1.  Global entries keep their
 * translation but forget their origin (serial 0 is nobody's), so no new
 * context can pass for the one that made them. */
static void ctx_reserial(struct shadow *s)
{
    struct sctx *g = &s->ctx[0];
    for (unsigned i = 0; i < 1024; i++) {
        struct spt_leaf *l = g->dir[i];
        for (unsigned j = 0; l && j < LEAF_ENTRIES; j++)
            l->e[j].perm &= SPTE_VALID | SPTE_PERM;
    }
    s->serial = 0;
    for (unsigned k = 1; k <= s->max_ctx; k++)
        s->ctx[k].serial = ++s->serial;
}

void shadow_free(struct shadow *s)
{
    if (!s)
        return;
    if (s->ctx)
        for (unsigned k = 0; k <= s->max_ctx; k++)
            ctx_empty(s, &s->ctx[k]);
    free(s->ctx);
    free(s->rec);
    free(s->head);
    free(s->flood);
    free(s);
}

static bool rec_live(const struct shadow *s, const struct rrec *r)
{
    return s->ctx[r->ctx].live && s->ctx[r->ctx].gen == r->gen;
}

/* Empty slot `k`; if its entries may sit in L1, flush L1 too (their
 * records die with the generation, so nothing would zap them later). */
static void slot_empty(struct mmu *m, unsigned k)
{
    struct shadow *s = m->sh;
    ctx_empty(s, &s->ctx[k]);
    if (k == 0)
        mmu_l1_flush(m, false); /* global entries sit under every L1 tag */
    else
        mmu_l1_drop_slot(m, k, 0, 0);
}

void shadow_clear_global(struct mmu *m)
{
    ctx_empty(m->sh, &m->sh->ctx[0]);
}

void shadow_clear_all(struct mmu *m)
{
    struct shadow *s = m->sh;
    for (u32 i = 0; i < s->nrec; i++) {
        u32 gfn = s->rec[i].gfn;
        s->head[gfn] = 0;
        s->flood[gfn] = 0;
        m->page_flags[gfn] &= (u8)~PG_PT;
    }
    s->nrec = 0;
    s->free_rec = 0;
    for (unsigned k = 0; k <= s->max_ctx; k++)
        ctx_empty(s, &s->ctx[k]);
}

/* ---- contexts ---- */

static u32 mode_key(const struct pg_state *pg)
{
    return (pg->pae ? KEY_PAE : 0) | (pg->pse ? KEY_PSE : 0) | (pg->pae && pg->nxe ? KEY_NXE : 0);
}

void shadow_select(struct mmu *m)
{
    struct shadow *s = m->sh;
    const struct pg_state *pg = &m->pg;
    u32 cr3 = pg->pae ? pg->cr3 & 0xffffffe0u : pg->cr3 & PAGE_MASK;
    u32 mode = mode_key(pg);
    unsigned victim = 0, k;
    s->clock++;
    /* A switch back to a known address space usually finds it through the
     * hint; otherwise the scan also picks the least recently used slot. */
    k = s->hint[ctx_hash(cr3, mode)];
    if (k && k <= s->max_ctx && s->ctx[k].live && s->ctx[k].cr3 == cr3 && s->ctx[k].mode == mode)
        goto found;
    for (k = 1; k <= s->max_ctx; k++) {
        struct sctx *c = &s->ctx[k];
        if (c->live && c->cr3 == cr3 && c->mode == mode)
            break;
        if (!victim || (s->ctx[victim].live && (!c->live || c->stamp < s->ctx[victim].stamp)))
            victim = k;
    }
    if (k <= s->max_ctx) {
        s->hint[ctx_hash(cr3, mode)] = (u16)k;
found:;
        struct sctx *c = &s->ctx[k];
        COUNT(m->cnt, ctx_reused);
        /* The PDPTE registers were reloaded: entries built through other
         * PDPTEs no longer describe this address space. */
        if (pg->pae && memcmp(c->pdpte, pg->pdpte, sizeof c->pdpte)) {
            ctx_empty(s, c);
            mmu_l1_drop_slot(m, k, 0, 0);
            memcpy(c->pdpte, pg->pdpte, sizeof c->pdpte);
        }
        c->stamp = s->clock;
        s->cur = (int)k;
        mmu_l1_select(m, k);
        LOG(m->log, MMU, "shadow: switch to kept context %u cr3=%08x", k, cr3);
        return;
    }
    struct sctx *c = &s->ctx[victim];
    if (c->live) {
        COUNT(m->cnt, ctx_evicted);
        LOG(m->log, MMU, "shadow: evict context cr3=%08x", c->cr3);
    }
    ctx_empty(s, c);
    mmu_l1_drop_slot(m, victim, 0, 0);
    c->live = true;
    c->hits = 0;
    c->cr3 = cr3;
    c->mode = mode;
    c->stamp = s->clock;
    memcpy(c->pdpte, pg->pdpte, sizeof c->pdpte);
    s->cur = (int)victim;
    s->hint[ctx_hash(cr3, mode)] = (u16)victim;
    mmu_l1_select(m, victim);
    COUNT(m->cnt, ctx_created);
    LOG(m->log, MMU, "shadow: new context %u cr3=%08x", victim, cr3);
}

void shadow_deselect(struct mmu *m)
{
    m->sh->cur = -1;
    mmu_l1_select(m, 0);
}

/* ---- entries ---- */

static struct spte *spte_find(struct sctx *c, u32 lin)
{
    struct spt_leaf *l = c->dir[lin >> 22];
    if (!l)
        return NULL;
    struct spte *e = &l->e[(lin >> PAGE_SHIFT) & (LEAF_ENTRIES - 1)];
    return (e->perm & SPTE_VALID) ? e : NULL;
}

/* Whether global entry `e` may be used in the current context: made in
 * this global epoch (while CR4.PGE is set: it then survives CR3 loads),
 * or made by a walk of this very context, whose tables it still matches
 * (write tracking), so that a walk now would find the same translation
 * and set no A/D bit.  With CR4.PGE it is then confirmed for the epoch. */
static bool global_usable(struct shadow *s, struct spte *e, bool pge)
{
    if (pge && (e->pa & GEPOCH_MASK) == (s->gepoch & GEPOCH_MASK))
        return true;
    if ((e->perm >> SPTE_SERIAL_SHIFT & (SPTE_SERIAL_MAX - 1)) != s->ctx[s->cur].serial)
        return false;
    if (pge)
        e->pa = (e->pa & PAGE_MASK) | (s->gepoch & GEPOCH_MASK);
    return true;
}

bool shadow_lookup(struct mmu *m, u32 lin, u32 *pa_page, u32 *perm)
{
    struct shadow *s = m->sh;
    if (s->cur < 0)
        return false;
    u32 drop = 0;
    unsigned slot = (unsigned)s->cur;
    struct spte *e = spte_find(&s->ctx[s->cur], lin);
    if (!e) {
        slot = 0;
        e = spte_find(&s->ctx[0], lin);
        if (e && !global_usable(s, e, m->pg.pge))
            e = NULL;
        /* Without CR4.PGE the G bit means nothing (SDM 4.10.2.4): the
         * translation is an ordinary one of this context. */
        if (!m->pg.pge)
            drop = PG_PERM_GLOBAL;
    }
    if (!e)
        return false;
    s->ctx[slot].hits++;
    *pa_page = e->pa & PAGE_MASK;
    *perm = e->perm & SPTE_PERM & ~drop;
    return true;
}

void shadow_flush_global(struct mmu *m)
{
    struct shadow *s = m->sh;
    s->gepoch++;
    /* The epoch stored in an entry has 12 bits: before it comes round
     * again, drop every global entry that might pass for a new one. */
    if (!(s->gepoch & GEPOCH_MASK))
        slot_empty(m, 0);
}

/* Zap the entries of slot `k` for the linear pages [lo, lo + n pages);
 * L1 follows when it may hold them.  Returns the number zapped. */
#define ZAP_LIST 16u

static unsigned zap_range(struct mmu *m, unsigned k, u32 lo, u32 npages)
{
    struct shadow *s = m->sh;
    struct sctx *c = &s->ctx[k];
    unsigned zapped = 0;
    /* The pages zapped, while few: dropping their L1 entries one by one
     * beats a scan of both TLBs, and leaves the rest of the range's code
     * linked (a page table rewritten whole maps only a few pages). */
    u32 list[ZAP_LIST];
    unsigned nlist = 0;
    bool listed = true;
    u32 first = lo >> PAGE_SHIFT, end = first + npages; /* page numbers */
    for (u32 p = first; p < end;) {
        u32 leaf_end = (p | (LEAF_ENTRIES - 1)) + 1;
        u32 stop = leaf_end < end ? leaf_end : end;
        struct spt_leaf *l = c->dir[p >> 10];
        if (l && l->nvalid) {
            bool whole = p == (p & ~(LEAF_ENTRIES - 1)) && stop == leaf_end;
            if (whole && (!listed || nlist + l->nvalid > ZAP_LIST)) {
                listed = false;
                zapped += l->nvalid;
            } else {
                for (u32 q = p; q < stop; q++) {
                    struct spte *e = &l->e[q & (LEAF_ENTRIES - 1)];
                    if (e->perm & SPTE_VALID) {
                        e->perm = 0;
                        l->nvalid--;
                        zapped++;
                        if (nlist < ZAP_LIST)
                            list[nlist++] = q << PAGE_SHIFT;
                        else
                            listed = false;
                    }
                }
            }
            if (whole) {
                free(l);
                c->dir[p >> 10] = NULL;
                c->nleaves--;
                s->nleaves--;
            }
        }
        p = stop;
    }
    m->cnt->v[CNT_spt_zapped] += zapped;
    /* L1 entries of this slot were filled from its entries (or from walks
     * the shadow could not keep, whose staleness SDM 4.10.4.3 allows until
     * INVLPG or a CR3 load), so with nothing zapped there is nothing to
     * drop -- and the decoded-instruction cache keeps its epoch. */
    if (zapped) {
        if (k == 0)
            mmu_l1_flush(m, false); /* global entries sit under every L1 tag */
        else if (listed)
            mmu_l1_drop_list(m, k, (int)k == s->cur, list, nlist);
        else if ((int)k == s->cur)
            mmu_l1_drop_range(m, lo, npages);
        else
            mmu_l1_drop_slot(m, k, lo, npages);
    }
    if (zapped)
        LOG(m->log, MMU, "shadow: zap %08x +%u pages in context %u: %u entries", lo, npages, k,
            zapped);
    return zapped;
}

/* Make room for one more leaf. */
static void leaf_budget(struct mmu *m)
{
    struct shadow *s = m->sh;
    while (s->nleaves >= MAX_LEAVES) {
        unsigned victim = 0;
        for (unsigned k = 1; k <= s->max_ctx; k++)
            if ((int)k != s->cur && s->ctx[k].nleaves &&
                (!victim || s->ctx[k].stamp < s->ctx[victim].stamp))
                victim = k;
        if (!victim) {
            COUNT(m->cnt, flush_flood);
            slot_empty(m, 0);
            if (s->cur > 0)
                slot_empty(m, (unsigned)s->cur);
            return;
        }
        slot_empty(m, victim);
    }
}

static u32 rec_alloc(struct mmu *m)
{
    struct shadow *s = m->sh;
    if (s->free_rec) {
        u32 i = s->free_rec - 1;
        s->free_rec = s->rec[i].next;
        return i;
    }
    if (s->nrec == s->caprec) {
        u32 cap = s->caprec ? s->caprec * 2 : 1024;
        struct rrec *r = cap <= MAX_RECS ? realloc(s->rec, cap * sizeof *r) : NULL;
        if (!r) {
            COUNT(m->cnt, flush_flood);
            shadow_clear_all(m);
            mmu_l1_flush(m, false);
            return UINT32_MAX;
        }
        s->rec = r;
        s->caprec = cap;
    }
    return s->nrec++;
}

/* Note that slot k's entries for `base`.. derive from page gfn at `level`.
 * Returns false if the page cannot be tracked (not RAM). */
static bool rec_add(struct mmu *m, unsigned k, u32 gfn, u32 base, unsigned level, bool pae)
{
    struct shadow *s = m->sh;
    if (!(m->page_flags[gfn] & PG_RAM))
        return false;
    s->flood[gfn] = 0;
    u32 gen = s->ctx[k].gen;
    for (u32 *link = &s->head[gfn]; *link;) {
        struct rrec *r = &s->rec[*link - 1];
        if (!rec_live(s, r)) {
            u32 dead = *link;
            *link = r->next;
            r->next = s->free_rec;
            s->free_rec = dead;
            continue;
        }
        if (r->ctx == k && r->gen == gen && r->base == base && r->level == level &&
            r->pae == pae)
            goto tracked;
        link = &r->next;
    }
    u32 i = rec_alloc(m);
    if (i == UINT32_MAX)
        return false;
    s->rec[i] = (struct rrec){ gfn, base, s->ctx[k].gen, (u16)k, (u8)level, pae, s->head[gfn] };
    s->head[gfn] = i + 1;
tracked:
    if (!(m->page_flags[gfn] & PG_PT)) {
        m->page_flags[gfn] |= PG_PT;
        mmu_l1_withdraw_write(m, gfn);
    }
    return true;
}

bool shadow_insert(struct mmu *m, u32 lin, u32 pa_page, u32 perm, const struct pg_trace *t)
{
    struct shadow *s = m->sh;
    if (s->cur < 0)
        return false;
    unsigned k = (perm & PG_PERM_GLOBAL) ? 0 : (unsigned)s->cur;
    bool pae = m->pg.pae;
    LOG(m->log, MMU, "shadow: fill %08x -> %08x perm %x in context %u", lin & PAGE_MASK,
        pa_page, perm, k);
    u32 gen = s->ctx[k].gen;
    for (unsigned lv = 0; lv < t->n; lv++) {
        if (t->entry[lv] >> 32)
            return false;
        u32 gfn = ((u32)t->entry[lv] & m->a20_mask) >> PAGE_SHIFT;
        u32 base = lv == 0 ? (pae ? lin & 0xc0000000u : 0)
                           : (pae ? lin & 0xffe00000u : lin & 0xffc00000u);
        if (!rec_add(m, k, gfn, base, lv, pae))
            return false;
    }
    /* Making room may empty this very slot: its new records are then dead
     * and the entry must not be made. */
    struct sctx *c = &s->ctx[k];
    struct spt_leaf *l = c->dir[lin >> 22];
    if (!l) {
        leaf_budget(m);
        if (c->gen != gen)
            return false;
        l = calloc(1, sizeof *l);
        if (!l)
            return false;
        c->dir[lin >> 22] = l;
        c->nleaves++;
        s->nleaves++;
    }
    struct spte *e = &l->e[(lin >> PAGE_SHIFT) & (LEAF_ENTRIES - 1)];
    if (!(e->perm & SPTE_VALID))
        l->nvalid++;
    if (k == 0) {
        /* An entry the context made while CR4.PGE was clear would be
         * found first and hide this one. */
        struct spte *own = spte_find(&s->ctx[s->cur], lin);
        if (own) {
            own->perm = 0;
            s->ctx[s->cur].dir[lin >> 22]->nvalid--;
        }
    }
    e->pa = pa_page;
    e->perm = perm | SPTE_VALID;
    if (k == 0) {
        e->pa |= s->gepoch & GEPOCH_MASK;
        e->perm |= s->ctx[s->cur].serial << SPTE_SERIAL_SHIFT;
    }
    return true;
}

void shadow_invlpg(struct mmu *m, u32 lin)
{
    struct shadow *s = m->sh;
    if (s->cur > 0)
        zap_range(m, (unsigned)s->cur, lin & PAGE_MASK, 1);
    zap_range(m, 0, lin & PAGE_MASK, 1);
}

/* ---- write tracking ---- */

/*
 * Whether a change to page `gfn`, a table behind record `r`, may leave
 * entries derived through it stale.  Global entries (slot 0) derived
 * through a (non-PAE) page directory are left alone when that directory
 * does not run now, or when CR4.PGE makes them global translations: a
 * global translation outlives CR3 loads and stays until INVLPG or a CR4
 * change invalidates it, whatever is written to the tables behind it
 * (SDM Vol. 3A, 4.10.2.4 and 4.10.4.1).  Directories are written all the
 * time (a process maps page tables, exits, and its directory is freed and
 * reused), and zapping a global entry flushes every address space's L1.
 * The page tables behind global entries still zap as written.  Without
 * PGE the entries of slot 0 serve the context that made them only, as
 * ordinary ones, and its directory zaps them.
 */
static bool rec_matters(const struct mmu *m, const struct rrec *r, u32 gfn)
{
    return r->ctx != 0 || r->level != 0 || r->pae ||
           (!m->pg.pge && gfn == m->pg.cr3 >> PAGE_SHIFT);
}

/* Drop everything derived from page gfn and stop tracking it. */
static void unshadow_page(struct mmu *m, u32 gfn)
{
    struct shadow *s = m->sh;
    while (s->head[gfn]) {
        u32 i = s->head[gfn] - 1;
        struct rrec r = s->rec[i];
        s->head[gfn] = r.next;
        s->rec[i].next = s->free_rec;
        s->free_rec = i + 1;
        if (rec_live(s, &r) && rec_matters(m, &r, gfn)) {
            u32 span = r.level ? (r.pae ? 512u : 1024u) : (r.pae ? 512u * 512u : 1u << 20);
            zap_range(m, r.ctx, r.base, span);
        }
    }
    s->flood[gfn] = 0;
    m->page_flags[gfn] &= (u8)~PG_PT;
}

static u64 entry_at(const u8 *buf, unsigned off, unsigned esz)
{
    u64 v = 0;
    memcpy(&v, buf + off, esz);
    return v;
}

void shadow_write_trap(struct mmu *m, u32 gpa, unsigned size, u32 win, const u8 *old,
                       const u8 *cur)
{
    struct shadow *s = m->sh;
    u32 gfn = gpa >> PAGE_SHIFT;
    COUNT(m->cnt, wt_traps);
    if (unlikely(m->obs.pt_write))
        m->obs.pt_write(m->obs.opaque, gpa, size);
    if (!memcmp(old, cur, 16))
        return; /* nothing changed: every entry derived still holds */
    if (++s->flood[gfn] >= FLOOD_LIMIT) {
        COUNT(m->cnt, wt_flood);
        LOG(m->log, MMU, "shadow: write flooding, unshadow page %05x", gfn);
        unshadow_page(m, gfn);
        return;
    }
    u32 off = gpa & (PAGE_SIZE - 1);
    for (u32 *link = &s->head[gfn]; *link;) {
        struct rrec *r = &s->rec[*link - 1];
        if (!rec_live(s, r)) {
            u32 dead = *link;
            *link = r->next;
            r->next = s->free_rec;
            s->free_rec = dead;
            continue;
        }
        if (!rec_matters(m, r, gfn)) {
            link = &r->next;
            continue;
        }
        unsigned esz = r->pae ? 8 : 4;
        u32 span = r->level ? 1u : (r->pae ? 512u : 1024u); /* pages per entry */
        for (u32 j = off / esz; j <= (off + size - 1) / esz; j++) {
            unsigned at = j * esz - (win & (PAGE_SIZE - 1));
            u64 was = entry_at(old, at, esz), now = entry_at(cur, at, esz);
            /* Setting A or D invalidates nothing: entries exist only with
             * A set, and one built while D was clear grants no write. */
            u64 diff = was ^ now;
            if (!diff || (!(diff & ~(u64)(PTE_A | PTE_D)) && (now & diff) == diff))
                continue;
            zap_range(m, r->ctx, r->base + j * span * PAGE_SIZE, span);
        }
        link = &r->next;
    }
    if (!s->head[gfn]) {
        s->flood[gfn] = 0;
        m->page_flags[gfn] &= (u8)~PG_PT;
    }
}

/* ---- read-only view for the monitor ---- */

unsigned mmu_shadow_contexts(const struct mmu *m, struct mmu_shadow_ctx *out, unsigned max)
{
    const struct shadow *s = m->sh;
    unsigned n = 0;
    if (!s)
        return 0;
    for (unsigned k = 0; k <= s->max_ctx && n < max; k++) {
        const struct sctx *c = &s->ctx[k];
        if (k && !c->live)
            continue;
        u32 entries = 0;
        for (unsigned d = 0; d < 1024; d++)
            if (c->dir[d])
                entries += c->dir[d]->nvalid;
        out[n++] = (struct mmu_shadow_ctx){
            .slot = k, .cr3 = c->cr3, .pae = c->mode & KEY_PAE, .pse = c->mode & KEY_PSE,
            .nxe = c->mode & KEY_NXE, .current = (int)k == s->cur,
            .age = k ? s->clock - c->stamp : 0, .entries = entries, .leaves = c->nleaves,
            .hits = c->hits,
        };
    }
    return n;
}
