/*
 * Guest physical memory map, port I/O table, A20 gate, and the slow paths
 * behind the software TLB.
 *
 * Invariants:
 *  - page_host[pfn] is non-NULL only for RAM or ROM pages; it points at the
 *    first host byte of that 4 KiB page, inside a buffer we own.
 *  - A TLB write tag is set only for RAM pages without PG_CODE or PG_PT,
 *    so every store to ROM, MMIO, unbacked space or a tracked page reaches
 *    mmu_phys_write().
 *  - A code_wtag (tlb.h) is set only for RAM pages whose only tracking
 *    is PG_CODE, for a write the translation allows; it is withdrawn with
 *    the write tag when the page becomes PG_PT or PG_CODE again, and a
 *    store through it still checks the code lines.
 *  - code_lines[pfn] is zero unless page pfn has PG_CODE; every byte some
 *    cached decode came from lies in a line whose bit is set, so a store
 *    that misses all set lines leaves every cached decode true.
 *  - tlb[0] holds only tags a supervisor access may use, tlb[1] only tags
 *    a CPL 3 access may use; each fill goes to the TLB of its privilege.
 *  - With MMU_SHADOW, L1 entries are filled from the current shadow
 *    context (shadow.c) or a fresh guest walk; SDM 4.10.4 decides what a
 *    change of CR0/CR3/CR4 drops from L1.
 *  - Guest physical addresses are 32 bits; every host access is bounded by
 *    the page it was looked up in.
 */
#include "mmu.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "pam.h"
#include "paging.h"
#include "shadow.h"

#define NPAGES (1u << 20)

struct mmu *mmu_new(u32 ram_size, struct counters *cnt, struct logger *log)
{
    struct mmu *m = aligned_alloc(64, (sizeof *m + 63) & ~(size_t)63);
    if (!m)
        return NULL;
    memset(m, 0, sizeof *m);
    ram_size = (ram_size + PAGE_SIZE - 1) & PAGE_MASK;
    m->ram_size = ram_size;
    m->cnt = cnt;
    m->log = log;
    m->a20_mask = 0xffffffffu;
    m->shared_lo = ~0u; /* no shared code noted */
    /* Anonymous mappings are reserved lazily: untouched guest RAM costs no
     * host memory. */
    m->ram = mmap(NULL, ram_size ? ram_size : PAGE_SIZE, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
#ifdef MADV_HUGEPAGE
    /* Guest RAM in 2 MiB host pages where the host allows it: a guest that
     * sweeps tens of MiB (the kernel's decompressor) then costs far fewer
     * host TLB misses.  Only pages the guest touches are backed. */
    if (m->ram != MAP_FAILED && ram_size)
        (void)madvise(m->ram, ram_size, MADV_HUGEPAGE);
#endif
    m->page_flags = calloc(NPAGES, 1);
    m->page_host = calloc(NPAGES, sizeof *m->page_host);
    m->code_lines = calloc((size_t)(ram_size ? ram_size >> PAGE_SHIFT : 1) * MMU_CODE_LINE_WORDS,
                           sizeof *m->code_lines);
    m->wfill = calloc(ram_size ? ram_size >> PAGE_SHIFT : 1, sizeof *m->wfill);
    m->io_index = calloc(65536, 1);
    if (m->ram == MAP_FAILED || !m->page_flags || !m->page_host || !m->code_lines ||
        !m->wfill || !m->io_index) {
        if (m->ram == MAP_FAILED)
            m->ram = NULL;
        mmu_free(m);
        return NULL;
    }
    for (u32 pfn = 0; pfn < ram_size >> PAGE_SHIFT; pfn++) {
        m->page_flags[pfn] = PG_RAM;
        m->page_host[pfn] = m->ram + ((size_t)pfn << PAGE_SHIFT);
    }
    m->n_io = 1; /* slot 0 means "unclaimed" */
    for (unsigned k = 0; k < 2; k++) {
        m->tlb[k].nused = TLB_SIZE; /* zeroed memory: sweep every entry */
        tlb_flush_all(&m->tlb[k]);
    }
    m->policy = MMU_SHADOW;
    m->sh = shadow_new(64);
    if (!m->sh) {
        mmu_free(m);
        return NULL;
    }
    return m;
}

void mmu_free(struct mmu *m)
{
    if (!m)
        return;
    if (m->ram)
        munmap(m->ram, m->ram_size ? m->ram_size : PAGE_SIZE);
    if (m->page_flags && m->page_host) {
        /* ROM copies are owned per region: free each distinct first page
         * (one the chipset has routed away is freed by its record). */
        mmu_legacy_free(m);
        for (u32 pfn = 0; pfn < NPAGES; pfn++)
            if ((m->page_flags[pfn] & PG_ROM) && (m->page_flags[pfn] & 0x80))
                free(m->page_host[pfn]);
    }
    shadow_free(m->sh);
    free(m->page_flags);
    free(m->page_host);
    free(m->code_lines);
    free(m->wfill);
    free(m->io_index);
    free(m);
}

/* 0x80 in page_flags marks the page that owns a ROM allocation. */
#define PG_OWNER 0x80u

/* The memory map changed: nothing cached from walks may survive. */
static void flush_everything(struct mmu *m)
{
    if (m->sh)
        shadow_clear_all(m);
    mmu_flush_tlb(m);
}

int mmu_map_rom(struct mmu *m, u32 base, const void *data, u32 size)
{
    if ((base | size) & (PAGE_SIZE - 1) || size == 0 || (u64)base + size > (1ull << 32))
        return -1;
    u8 *copy = malloc(size);
    if (!copy)
        return -1;
    memcpy(copy, data, size);
    for (u32 off = 0; off < size; off += PAGE_SIZE) {
        u32 pfn = (base + off) >> PAGE_SHIFT;
        m->page_flags[pfn] = PG_ROM | (off == 0 ? PG_OWNER : 0);
        m->page_host[pfn] = copy + off;
        mmu_legacy_rom_mapped(m, pfn);
    }
    flush_everything(m);
    return 0;
}

int mmu_alias_rom(struct mmu *m, u32 base, u32 src, u32 size)
{
    if ((base | src | size) & (PAGE_SIZE - 1) || (u64)base + size > (1ull << 32) ||
        (u64)src + size > (1ull << 32))
        return -1;
    for (u32 off = 0; off < size; off += PAGE_SIZE)
        if (!(m->page_flags[(src + off) >> PAGE_SHIFT] & PG_ROM))
            return -1;
    for (u32 off = 0; off < size; off += PAGE_SIZE) {
        u32 pfn = (base + off) >> PAGE_SHIFT;
        m->page_flags[pfn] = PG_ROM;
        m->page_host[pfn] = m->page_host[(src + off) >> PAGE_SHIFT];
        mmu_legacy_rom_mapped(m, pfn);
    }
    flush_everything(m);
    return 0;
}

int mmu_map_mmio(struct mmu *m, u32 base, u32 size, const struct mmio_ops *ops, void *opaque)
{
    if (m->n_mmio == MMU_MAX_REGIONS || (base | size) & (PAGE_SIZE - 1) || size == 0 ||
        (u64)base + size > (1ull << 32))
        return -1;
    m->mmio[m->n_mmio++] = (struct mmu_region){ base, size, ops, opaque };
    for (u32 off = 0; off < size; off += PAGE_SIZE) {
        u32 pfn = (base + off) >> PAGE_SHIFT;
        m->page_flags[pfn] = PG_MMIO;
        m->page_host[pfn] = NULL;
    }
    flush_everything(m);
    return 0;
}

int mmu_map_ram(struct mmu *m, u32 base, u8 *host, u32 size)
{
    if ((base | size | (uintptr_t)host) & (PAGE_SIZE - 1) || size == 0 ||
        (u64)base + size > (1ull << 32) || base < m->ram_size)
        return -1;
    for (u32 off = 0; off < size; off += PAGE_SIZE) {
        u32 pfn = (base + off) >> PAGE_SHIFT;
        m->page_flags[pfn] = PG_RAM;
        m->page_host[pfn] = host + off;
    }
    flush_everything(m);
    return 0;
}

void mmu_unmap(struct mmu *m, u32 base, u32 size)
{
    base &= PAGE_MASK;
    for (u64 a = base; a < (u64)base + size && a < (1ull << 32); a += PAGE_SIZE) {
        u32 pfn = (u32)(a >> PAGE_SHIFT);
        if (a < m->ram_size || (m->page_flags[pfn] & PG_ROM))
            continue;
        m->page_flags[pfn] = 0;
        m->page_host[pfn] = NULL;
    }
    flush_everything(m);
}

int mmu_map_io(struct mmu *m, u16 first, unsigned count, const struct io_ops *ops, void *opaque)
{
    if (count == 0 || first + count > 65536)
        return -1;
    unsigned slot = 1;
    while (slot < m->n_io && !(m->io[slot].read == ops->read && m->io[slot].write == ops->write &&
                               m->io_opaque[slot] == opaque))
        slot++;
    if (slot == m->n_io) {
        if (m->n_io == MMU_MAX_IO)
            return -1;
        m->n_io++;
        m->io[slot] = *ops;
        m->io_opaque[slot] = opaque;
    }
    for (unsigned p = first; p < first + count; p++)
        m->io_index[p] = (u8)slot;
    return 0;
}

void mmu_unmap_io(struct mmu *m, u16 first, unsigned count)
{
    for (unsigned p = first; p < first + count && p < 65536; p++)
        m->io_index[p] = 0;
}

int mmu_unmap_mmio(struct mmu *m, u32 base)
{
    unsigned i = 0;
    while (i < m->n_mmio && m->mmio[i].base != base)
        i++;
    if (i == m->n_mmio)
        return -1;
    struct mmu_region r = m->mmio[i];
    m->mmio[i] = m->mmio[--m->n_mmio];
    for (u32 off = 0; off < r.size; off += PAGE_SIZE) {
        u32 pfn = (r.base + off) >> PAGE_SHIFT;
        bool ram = (u64)(pfn + 1) << PAGE_SHIFT <= m->ram_size;
        m->page_flags[pfn] = ram ? PG_RAM : 0;
        m->page_host[pfn] = ram ? m->ram + ((size_t)pfn << PAGE_SHIFT) : NULL;
    }
    flush_everything(m);
    return 0;
}

u32 mmu_io_read(struct mmu *m, u16 port, unsigned size)
{
    unsigned slot = m->io_index[port];
    COUNT(m->cnt, io_reads);
    if (slot && m->io[slot].read) {
        u32 v = m->io[slot].read(m->io_opaque[slot], port, size);
        LOG(m->log, IO, "in%u  %04x -> %x", size * 8, port, v);
        return v;
    }
    LOG(m->log, UNIMP, "read from unclaimed port %04x", port);
    return size_mask(size);
}

void mmu_io_write(struct mmu *m, u16 port, u32 val, unsigned size)
{
    unsigned slot = m->io_index[port];
    COUNT(m->cnt, io_writes);
    LOG(m->log, IO, "out%u %04x <- %x", size * 8, port, val & size_mask(size));
    if (slot && m->io[slot].write)
        m->io[slot].write(m->io_opaque[slot], port, val & size_mask(size), size);
    else
        LOG(m->log, UNIMP, "write %x to unclaimed port %04x", val, port);
}

static struct mmu_region *find_mmio(struct mmu *m, u32 gpa)
{
    for (unsigned i = 0; i < m->n_mmio; i++)
        if (gpa - m->mmio[i].base < m->mmio[i].size)
            return &m->mmio[i];
    return NULL;
}

/* One access that stays inside one physical page. */
static u64 phys_read_page(struct mmu *m, u32 gpa, unsigned size)
{
    u32 pfn = gpa >> PAGE_SHIFT;
    u8 *host = m->page_host[pfn];
    if (host) {
        u64 v = 0;
        memcpy(&v, host + (gpa & (PAGE_SIZE - 1)), size);
        return v;
    }
    if (m->page_flags[pfn] & PG_MMIO) {
        struct mmu_region *r = find_mmio(m, gpa);
        COUNT(m->cnt, mmu_mmio_reads);
        if (r && r->ops->read) {
            if (size == 8)
                return r->ops->read(r->opaque, gpa - r->base, 4) |
                       (u64)r->ops->read(r->opaque, gpa - r->base + 4, 4) << 32;
            return r->ops->read(r->opaque, gpa - r->base, size);
        }
    }
    COUNT(m->cnt, mmu_unbacked);
    return size == 8 ? ~0ull : size_mask(size);
}

/* Move the epoch on: whatever was cached from fetch translations or code
 * bytes is checked again before its next use, so nothing that was noted
 * for the old epoch matters any more. */
static void epoch_move(struct mmu *m)
{
    m->global_epoch++;
    m->epoch++;
    if (m->code_gone_any) {
        memset(m->code_gone, 0, sizeof m->code_gone);
        m->code_gone_any = false;
    }
    m->fetch_untagged = false;
}

/* Move the epoch of the address space with L1 tag `tag` on: what was
 * derived from its fetch translations is stale, other spaces' is not. */
static void space_move(struct mmu *m, u32 tag)
{
    m->space_epoch[tag >> 1]++;
    if (tag == m->tlb[0].ctx)
        m->epoch++;
}

/* Move both epochs on: also what holds in every address space is stale. */
static void shared_move(struct mmu *m)
{
    epoch_move(m);
    m->shared_epoch++;
    m->shared_lo = ~0u;
    m->shared_hi = 0;
    if (m->shared_moved)
        m->shared_moved(m->shared_moved_opaque);
}

void mmu_on_shared_move(struct mmu *m, void (*fn)(void *opaque), void *opaque)
{
    m->shared_moved = fn;
    m->shared_moved_opaque = opaque;
}

static inline unsigned code_gone_bit(u32 lin)
{
    return (lin >> PAGE_SHIFT) & (MMU_CODE_GONE_BITS - 1);
}

void mmu_note_shared_code(struct mmu *m, u32 lin)
{
    lin &= PAGE_MASK;
    if (lin < m->shared_lo)
        m->shared_lo = lin;
    if (lin > m->shared_hi)
        m->shared_hi = lin;
}

/* The fetch translation of linear page `lin` left the L1 without the epoch
 * moving (another page took its entry): what was derived from it in this
 * epoch is still in use, so a later drop of the page must move the epoch. */
static void code_gone_note(struct mmu *m, u32 lin)
{
    unsigned b = code_gone_bit(lin);
    m->code_gone[b >> 6] |= 1ull << (b & 63);
    m->code_gone_any = true;
}

static inline bool code_gone_test(const struct mmu *m, u32 lin)
{
    unsigned b = code_gone_bit(lin);
    return (m->code_gone[b >> 6] >> (b & 63)) & 1;
}

/* After dropping L1 translations of the linear pages [lo, lo + npages
 * pages) (all pages when npages is 0): `fetched` says whether a dropped
 * entry could fetch code.  Blocks, links and decoded instructions depend
 * only on fetch translations, so the epoch moves only if one of those may
 * have changed: a data page's mapping changing leaves them alone.  Only
 * the space of tag `tag` is concerned, unless `invalidates_global` (an
 * INVLPG or a remap, of the one page at `lo`) and that page holds code
 * noted as shared: a global
 * translation changes only through INVLPG or a full flush (the shadow
 * flushes the L1 when it zaps a global entry). */
static void code_drop_done(struct mmu *m, u32 tag, bool fetched, u32 lo, u32 npages,
                           bool invalidates_global)
{
    /* (An empty span has shared_lo above shared_hi.) */
    if (invalidates_global && (lo & PAGE_MASK) >= m->shared_lo && (lo & PAGE_MASK) <= m->shared_hi) {
        shared_move(m);
        return;
    }
    if (!fetched && m->code_gone_any) {
        if (npages && npages <= 16) {
            for (u32 p = 0; p < npages && !fetched; p++)
                fetched = code_gone_test(m, lo + p * PAGE_SIZE);
        } else {
            fetched = true;
        }
    }
    if (fetched || m->fetch_untagged)
        space_move(m, tag);
}

/* Bit `k` of a page's line map: line k holds bytes some decode came from. */
static inline u64 *line_word(const struct mmu *m, u32 pfn, unsigned k)
{
    return &m->code_lines[(size_t)pfn * MMU_CODE_LINE_WORDS + (k >> 6)];
}

/* Whether [off, off + size) of page pfn (size 1..16, inside the page)
 * touches a code line.  Such a range spans at most two lines. */
static inline bool lines_hit(const struct mmu *m, u32 pfn, u32 off, unsigned size)
{
    unsigned first = off >> MMU_CODE_LINE_SHIFT;
    unsigned last = (off + size - 1) >> MMU_CODE_LINE_SHIFT;
    return ((*line_word(m, pfn, first) >> (first & 63)) & 1) ||
           ((*line_word(m, pfn, last) >> (last & 63)) & 1);
}

bool mmu_is_code_write(const struct mmu *m, u32 gpa, unsigned size)
{
    u32 pfn = gpa >> PAGE_SHIFT;
    return (m->page_flags[pfn] & PG_CODE) && lines_hit(m, pfn, gpa & (PAGE_SIZE - 1), size);
}

/* A store (already made) to a page code was decoded from.  Only one that
 * touches a code line can have changed a cached decode: the others cost
 * nothing more than the slow path that brought them here. */
static void code_page_written(struct mmu *m, u32 gpa, unsigned size)
{
    u32 pfn = gpa >> PAGE_SHIFT;
    if (!lines_hit(m, pfn, gpa & (PAGE_SIZE - 1), size)) {
        COUNT(m->cnt, mmu_code_near_writes);
        return;
    }
    COUNT(m->cnt, mmu_code_writes);
    for (unsigned i = 0; i < m->n_code_sub; i++)
        m->code_sub[i].fn(m->code_sub[i].opaque, gpa, size);
    /* Subscribers drop what they derived from the page; its lines are
     * tracked again as code is next decoded from it. */
    m->page_flags[pfn] &= (u8)~PG_CODE;
    memset(line_word(m, pfn, 0), 0, MMU_CODE_LINE_WORDS * sizeof(u64));
    shared_move(m);
}

/* A write to a tracked page-table page, for the event hook: the entry it
 * starts in, as the current mode sizes entries. */
static void note_pte_write(struct mmu *m, u32 gpa, u32 win, const u8 *old, const u8 *cur)
{
    unsigned esz = m->pg.pae ? 8 : 4;
    u32 off = (gpa & (PAGE_SIZE - 1) & ~(esz - 1)) - win;
    struct mmu_event e = { .kind = MMU_EV_PTE_WRITE, .cr3 = m->pg.cr3,
                           .addr = gpa & ~(esz - 1) };
    if (off + esz > 16)
        return;
    memcpy(&e.old, old + off, esz);
    memcpy(&e.new, cur + off, esz);
    m->ev_fn(m->ev_opaque, &e);
}

static void phys_write_page(struct mmu *m, u32 gpa, u64 val, unsigned size)
{
    u32 pfn = gpa >> PAGE_SHIFT;
    u8 f = m->page_flags[pfn];
    if (f & PG_RAM) {
        u8 *host = m->page_host[pfn];
        if (unlikely(f & PG_PT)) {
            /* A guest page-table page: compare the entries around the
             * write before and after, so the shadow can zap exactly what
             * changed. */
            u32 win = gpa & ~7u & (PAGE_SIZE - 1);
            unsigned len = PAGE_SIZE - win < 16 ? PAGE_SIZE - win : 16;
            u8 old[16] = { 0 }, cur[16] = { 0 };
            memcpy(old, host + win, len);
            memcpy(host + (gpa & (PAGE_SIZE - 1)), &val, size);
            memcpy(cur, host + win, len);
            if (unlikely(m->ev_fn))
                note_pte_write(m, gpa, win, old, cur);
            if (m->sh)
                shadow_write_trap(m, gpa, size, (gpa & PAGE_MASK) | win, old, cur);
        } else {
            memcpy(host + (gpa & (PAGE_SIZE - 1)), &val, size);
        }
        if (unlikely(f & PG_CODE))
            code_page_written(m, gpa, size);
        return;
    }
    if (f & PG_MMIO) {
        struct mmu_region *r = find_mmio(m, gpa);
        COUNT(m->cnt, mmu_mmio_writes);
        if (r && r->ops->write) {
            if (size == 8) {
                r->ops->write(r->opaque, gpa - r->base, (u32)val, 4);
                r->ops->write(r->opaque, gpa - r->base + 4, (u32)(val >> 32), 4);
            } else {
                r->ops->write(r->opaque, gpa - r->base, (u32)val, size);
            }
        }
        return;
    }
    if (unlikely(pfn - (MMU_LEGACY_BASE >> PAGE_SHIFT) < MMU_LEGACY_PAGES) &&
        mmu_legacy_write(m, gpa, val, size))
        return;
    if (!(f & PG_ROM))
        COUNT(m->cnt, mmu_unbacked);
}

u64 mmu_phys_read(struct mmu *m, u32 gpa, unsigned size)
{
    gpa &= m->a20_mask;
    unsigned first = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
    if (likely(first >= size))
        return phys_read_page(m, gpa, size);
    u64 lo = phys_read_page(m, gpa, first);
    u64 hi = phys_read_page(m, (gpa + first) & m->a20_mask, size - first);
    return lo | hi << (first * 8);
}

void mmu_phys_write(struct mmu *m, u32 gpa, u64 val, unsigned size)
{
    gpa &= m->a20_mask;
    unsigned first = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
    if (likely(first >= size)) {
        phys_write_page(m, gpa, val, size);
        return;
    }
    phys_write_page(m, gpa, val, first);
    phys_write_page(m, (gpa + first) & m->a20_mask, val >> (first * 8), size - first);
}

bool mmu_phys_peek(const struct mmu *m, u32 gpa, unsigned size, u64 *val)
{
    u64 v = 0;
    for (unsigned k = 0; k < size; k++) {
        u32 a = (gpa + k) & m->a20_mask;
        const u8 *host = m->page_host[a >> PAGE_SHIFT];
        if (!host)
            return false;
        v |= (u64)host[a & (PAGE_SIZE - 1)] << (8 * k);
    }
    *val = v;
    return true;
}

int mmu_walk_peek(struct mmu *m, u32 cr3, u32 lin, enum mmu_acc acc, bool user,
                  struct pg_peek *out)
{
    return pg_walk_peek(&m->pg, m, cr3, lin, acc, user, out);
}

void mmu_phys_copy_in(struct mmu *m, u32 gpa, const void *src, u32 len)
{
    const u8 *s = src;
    for (u32 i = 0; i < len; i++)
        mmu_phys_write(m, gpa + i, s[i], 1);
    if (unlikely(m->ev_fn) && len)
        m->ev_fn(m->ev_opaque, &(struct mmu_event){ .kind = MMU_EV_DEV_WRITE, .cr3 = m->pg.cr3,
                                                    .addr = gpa, .len = len });
}

void mmu_phys_copy_out(struct mmu *m, u32 gpa, void *dst, u32 len)
{
    u8 *d = dst;
    for (u32 i = 0; i < len; i++)
        d[i] = (u8)mmu_phys_read(m, gpa + i, 1);
}

/* ---- L1 maintenance (also used by shadow.c) ---- */

void mmu_l1_flush(struct mmu *m, bool keep_global)
{
    if (!keep_global)
        m->l1_unbacked = false;
    for (unsigned k = 0; k < 2; k++) {
        if (keep_global)
            tlb_flush_nonglobal(&m->tlb[k]);
        else
            tlb_flush_all(&m->tlb[k]);
    }
    shared_move(m);
}

static u32 tag_salt(u32 tag);

/* The RAM page behind host page `host`, or -1 (ROM, or not backed). */
static inline long ram_page_of(const struct mmu *m, const u8 *host)
{
    if (!host || host < m->ram || host >= m->ram + m->ram_size)
        return -1;
    return (long)((size_t)(host - m->ram) >> PAGE_SHIFT);
}

/* A write entry (tag `page` in either TLB) now points at `host`. */
static inline void wfill_note(struct mmu *m, const u8 *host, u32 page)
{
    long r = ram_page_of(m, host);
    if (r < 0)
        return;
    u32 *w = &m->wfill[r];
    *w = !*w || *w == (page | 1) ? page | 1 : WFILL_MANY;
}

void mmu_l1_withdraw_write(struct mmu *m, u32 pfn)
{
    u8 *host = m->page_host[pfn];
    if (!host)
        return;
    long r = ram_page_of(m, host);
    if (r >= 0 && m->wfill[r] != WFILL_MANY) {
        /* RAM written through one L1 tag at most: look there only. */
        u32 v = m->wfill[r], page = v & ~1u;
        m->wfill[r] = 0;
        if (!v)
            return;
        for (unsigned k = 0; k < 2; k++) {
            struct tlb_entry *e = tlb_entry_at(&m->tlb[k], page, tag_salt(page & (PAGE_SIZE - 1)));
            uintptr_t addend = (uintptr_t)host - (page & PAGE_MASK);
            if (e->addend != addend)
                continue;
            if (e->tag[ACC_WRITE] == page)
                e->tag[ACC_WRITE] = TLB_INVALID;
            if (e->code_wtag == page)
                e->code_wtag = TLB_INVALID;
        }
        return;
    }
    if (r >= 0)
        m->wfill[r] = 0;
    for (unsigned k = 0; k < 2; k++) {
        for (unsigned i = 0; i < TLB_SIZE; i++) {
            struct tlb_entry *e = &m->tlb[k].e[i];
            u32 tag = e->tag[ACC_WRITE];
            if (!(tag & 1) && (u8 *)((uintptr_t)(tag & PAGE_MASK) + e->addend) == host)
                e->tag[ACC_WRITE] = TLB_INVALID;
            tag = e->code_wtag;
            if (!(tag & 1) && (u8 *)((uintptr_t)(tag & PAGE_MASK) + e->addend) == host)
                e->code_wtag = TLB_INVALID;
        }
    }
}

static u32 slot_tag(unsigned slot)
{
    return slot ? (((slot - 1) % (L1_TAGS - 1)) + 1) << 1 : 0;
}

static u32 tag_salt(u32 tag)
{
    return (tag >> 1) * 0x9e5u; /* spread address spaces over the indices */
}

/* Drop the L1 entries (both TLBs) of address-space tag `tag` for the
 * linear pages [lo, lo + npages pages), or all of its entries when npages
 * is 0. */
static void l1_drop_pages(struct mmu *m, u32 tag, u32 lo, u32 npages)
{
    lo &= PAGE_MASK;
    u64 span = (u64)npages << PAGE_SHIFT;
    bool fetched = false;
    for (unsigned k = 0; k < 2; k++) {
        struct tlb *t = &m->tlb[k];
        if (npages && npages <= 16) {
            for (u32 p = 0; p < npages; p++)
                fetched |= tlb_drop_page_in(t, lo + p * PAGE_SIZE, tag, tag_salt(tag));
            continue;
        }
        for (unsigned i = 0; i < TLB_SIZE; i++) {
            struct tlb_entry *e = &t->e[i];
            for (unsigned a = 0; a < 3; a++) {
                u32 et = e->tag[a];
                if (!(et & 1) && (et & (PAGE_SIZE - 1)) == tag &&
                    (!npages || (u64)((et & PAGE_MASK) - lo) < span)) {
                    fetched |= tlb_entry_fetches(e);
                    tlb_entry_clear(e);
                    break;
                }
            }
        }
    }
    code_drop_done(m, tag, fetched, lo, npages, false);
}

void mmu_l1_drop_range(struct mmu *m, u32 lo, u32 npages)
{
    l1_drop_pages(m, m->tlb[0].ctx, lo, npages);
}

void mmu_l1_drop_slot(struct mmu *m, unsigned slot, u32 lo, u32 npages)
{
    u32 tag = slot_tag(slot);
    if (m->l1_owner[tag >> 1] != slot)
        return; /* its entries were dropped when the tag changed hands */
    l1_drop_pages(m, tag, lo, npages);
}

void mmu_l1_drop_list(struct mmu *m, unsigned slot, bool current, const u32 *pages, unsigned n)
{
    u32 tag = current ? m->tlb[0].ctx : slot_tag(slot);
    if (!current && m->l1_owner[tag >> 1] != slot)
        return; /* its entries were dropped when the tag changed hands */
    u32 salt = tag_salt(tag);
    bool fetched = false;
    for (unsigned k = 0; k < 2; k++)
        for (unsigned p = 0; p < n; p++)
            fetched |= tlb_drop_page_in(&m->tlb[k], pages[p], tag, salt);
    if (!fetched && m->code_gone_any)
        for (unsigned p = 0; p < n && !fetched; p++)
            fetched = code_gone_test(m, pages[p]);
    if (fetched || m->fetch_untagged)
        space_move(m, tag);
}

void mmu_l1_select(struct mmu *m, unsigned slot)
{
    u32 tag = slot_tag(slot);
    if (m->l1_unbacked) {
        /* Translations no shadow entry backs must not outlive a CR3 load. */
        l1_drop_pages(m, m->tlb[0].ctx, 0, 0);
        m->l1_unbacked = false;
    }
    if (m->l1_owner[tag >> 1] != slot) {
        /* More shadow slots than tags: the tag changes hands. */
        l1_drop_pages(m, tag, 0, 0);
        m->l1_owner[tag >> 1] = slot;
    }
    for (unsigned k = 0; k < 2; k++) {
        m->tlb[k].ctx = tag;
        m->tlb[k].salt = tag_salt(tag);
    }
    /* Each space's epoch only grows, so the value is one this space has
     * never had before unless nothing it depends on changed since. */
    m->epoch = m->global_epoch + m->space_epoch[tag >> 1];
}

void mmu_sync_counters(struct mmu *m)
{
    for (unsigned a = 0; a < 3; a++)
        m->cnt->v[CNT_tlb_hit_read + a] = m->tlb[0].hits[a] + m->tlb[1].hits[a];
}

void mmu_flush_tlb(struct mmu *m)
{
    COUNT(m->cnt, tlb_flush_full);
    if (m->sh)
        shadow_clear_global(m);
    mmu_l1_flush(m, false);
}

void mmu_set_a20(struct mmu *m, bool on)
{
    u32 mask = on ? 0xffffffffu : ~(1u << 20);
    if (mask != m->a20_mask) {
        m->a20_mask = mask;
        LOG(m->log, MMU, "A20 %s", on ? "enabled" : "disabled");
        COUNT(m->cnt, flush_a20);
        flush_everything(m);
    }
}

int mmu_set_paging(struct mmu *m, u32 cr0, u32 cr3, u32 cr4)
{
    struct pg_state old = m->pg;
    int rc = pg_set_mode(&m->pg, m, cr0, cr3, cr4, m->pg.efer);
    if (unlikely(m->obs.cr3_load) && old.cr3 != m->pg.cr3)
        m->obs.cr3_load(m->obs.opaque, old.cr3, m->pg.cr3);
    if (rc < 0)
        LOG(m->log, GUEST_ERROR, "PAE paging with invalid PDPTEs at %08x", cr3);
    const struct pg_state *pg = &m->pg;
    m->paging = pg->enabled;
    bool cr0_change = old.enabled != pg->enabled || old.wp != pg->wp;
    bool cr4_change = old.pae != pg->pae || old.pse != pg->pse || old.pge != pg->pge ||
                      old.smep != pg->smep || old.smap != pg->smap;
    /* Paging stays on and only CR0.WP and/or CR4.PGE changed. */
    bool pge_wp_only = m->sh && old.enabled && pg->enabled && (cr0_change || cr4_change) &&
                       old.pae == pg->pae && old.pse == pg->pse && old.smep == pg->smep &&
                       old.smap == pg->smap;
    if (pge_wp_only) {
        /* SDM 4.10.4.1: such a change invalidates every TLB entry, global
         * ones too -- so all of L1 goes, and global shadow entries are
         * used again only where they are known to match (shadow.c).  The
         * shadow entries of the current context stay: they are not TLB
         * entries but a copy of the guest's tables that write tracking
         * keeps exact, and they hold the guest's rights, which WP is
         * applied to at each use (SDM 4.6), so the context is the same. */
        if (old.wp != pg->wp)
            COUNT(m->cnt, wp_toggle_kept);
        if (old.pge != pg->pge)
            COUNT(m->cnt, pge_toggle_kept);
        shadow_flush_global(m);
        mmu_l1_flush(m, false);
    } else if (!pg->enabled || cr0_change || cr4_change) {
        /* SDM 4.10.4.1: a change of CR0.PG/WP or CR4.PAE/PSE/PGE drops
         * every translation, global ones too (and so does one of
         * CR4.SMEP/SMAP here: the TLB holds what they allowed).  With paging off there is
         * nothing worth keeping in L1 either. */
        if (cr0_change)
            COUNT(m->cnt, flush_cr0);
        else if (cr4_change)
            COUNT(m->cnt, flush_cr4);
        mmu_flush_tlb(m);
    } else {
        /* A MOV to CR3 (or a CR0/CR4 write that changes nothing paging
         * depends on, which the CPU reports the same way): global entries
         * stay with CR4.PGE. */
        COUNT(m->cnt, flush_cr3);
        /* With shadows the L1 just changes address-space tag (below). */
        if (!m->sh)
            mmu_l1_flush(m, pg->pge);
    }
    if (m->sh) {
        if (pg->enabled)
            shadow_select(m);
        else
            shadow_deselect(m);
    }
    /* The CPU reports CR0/CR4 writes only when they change paging, so a
     * report that changes neither is a MOV to CR3. */
    if (unlikely(m->ev_fn) && (pg->cr3 != old.cr3 || !(cr0_change || cr4_change)))
        m->ev_fn(m->ev_opaque, &(struct mmu_event){ .kind = MMU_EV_CR3, .cr3 = pg->cr3,
                                                    .addr = pg->cr3 });
    return rc;
}

void mmu_set_observer(struct mmu *m, const struct mmu_observer *o)
{
    m->obs = o ? *o : (struct mmu_observer){ 0 };
}

void mmu_set_efer(struct mmu *m, u32 efer)
{
    /* Only NXE matters to paging; the PDPTE registers are not reloaded. */
    if (efer == m->pg.efer)
        return;
    m->pg.efer = efer;
    m->pg.nxe = efer & EFER_NXE;
    COUNT(m->cnt, flush_efer);
    flush_everything(m);
    if (m->sh && m->pg.enabled)
        shadow_select(m); /* NXE is part of a PAE context's key */
}

void mmu_set_event_hook(struct mmu *m, mmu_event_fn fn, void *opaque)
{
    m->ev_fn = fn;
    m->ev_opaque = opaque;
}

void mmu_note_page_fault(struct mmu *m, const struct mmu_fault *f)
{
    if (m->ev_fn)
        m->ev_fn(m->ev_opaque, &(struct mmu_event){ .kind = MMU_EV_PF, .cr3 = m->pg.cr3,
                                                    .addr = f->lin, .err = f->err });
}

void mmu_invlpg(struct mmu *m, u32 lin)
{
    if (unlikely(m->ev_fn))
        m->ev_fn(m->ev_opaque, &(struct mmu_event){ .kind = MMU_EV_INVLPG, .cr3 = m->pg.cr3,
                                                    .addr = lin });
    COUNT(m->cnt, flush_invlpg);
    bool fetched = tlb_drop_page(&m->tlb[0], lin);
    fetched |= tlb_drop_page(&m->tlb[1], lin);
    if (m->sh)
        shadow_invlpg(m, lin);
    code_drop_done(m, m->tlb[0].ctx, fetched, lin & PAGE_MASK, 1, true);
}

void mmu_configure(struct mmu *m, enum mmu_policy p, unsigned max_contexts)
{
    if (m->sh) {
        shadow_clear_all(m);
        shadow_free(m->sh);
        m->sh = NULL;
    }
    m->policy = p;
    if (p == MMU_SHADOW) {
        m->sh = shadow_new(max_contexts ? max_contexts : 64);
        if (!m->sh) {
            LOG(m->log, MMU, "no memory for shadow tables: flush policy");
            m->policy = MMU_FLUSH;
        }
    }
    mmu_flush_tlb(m);
    memset(m->l1_owner, 0, sizeof m->l1_owner);
    mmu_l1_select(m, 0);
    if (m->sh && m->pg.enabled)
        shadow_select(m);
}

bool mmu_pdptes_valid(struct mmu *m, u32 cr3)
{
    u64 pdpte[4];
    return pg_load_pdptes(m, cr3, pdpte) == 0;
}

void mmu_set_nofill_pages(struct mmu *m, const u32 *pages, unsigned n)
{
    m->n_nofill = 0;
    for (unsigned k = 0; k < n && k < MMU_MAX_NOFILL; k++)
        m->nofill[m->n_nofill++] = pages[k] & PAGE_MASK;
    mmu_flush_tlb(m);
}

void mmu_set_nofill_data(struct mmu *m, bool on)
{
    m->nofill_data = on;
    mmu_flush_tlb(m);
}

static bool tlb_nofill(const struct mmu *m, u32 page)
{
    for (unsigned k = 0; k < m->n_nofill; k++)
        if (m->nofill[k] == page)
            return true;
    return false;
}

/* Cache a translation the access `acc` at privilege `user` was just
 * granted, in that privilege's TLB. */
static void tlb_fill(struct mmu *m, u32 lin, u32 gpa, enum mmu_acc acc, bool user, u32 perm)
{
    u32 pfn = gpa >> PAGE_SHIFT;
    u8 *host = m->page_host[pfn];
    if (!host || (unlikely(m->nofill_data) && acc != ACC_FETCH) ||
        (unlikely(m->n_nofill) && tlb_nofill(m, lin & PAGE_MASK))) {
        /* Code fetched through a translation the L1 does not hold: no
         * drop would tell that it changed. */
        if (acc == ACC_FETCH)
            m->fetch_untagged = true;
        return;
    }
    /* Under SMAP a supervisor data access to a user page is allowed or
     * not by EFLAGS.AC at the time, which the TLB does not see: such
     * accesses always take the slow path. */
    if (!user && (perm & PG_PERM_USER) && m->pg.smap && acc != ACC_FETCH)
        return;
    struct tlb *t = &m->tlb[user];
    struct tlb_entry *e = tlb_entry_for(t, lin);
    u32 page = (lin & PAGE_MASK) | t->ctx;
    uintptr_t addend = (uintptr_t)host - (lin & PAGE_MASK);
    if (e->addend != addend || (e->tag[0] != page && e->tag[1] != page && e->tag[2] != page)) {
        if (tlb_entry_fetches(e)) {
            if (e->tag[ACC_FETCH] == page) /* the same page, mapped elsewhere now */
                code_drop_done(m, t->ctx, true, lin & PAGE_MASK, 1, true);
            else
                code_gone_note(m, e->tag[ACC_FETCH]);
        }
        tlb_entry_clear(e);
        tlb_note_fill(t, (unsigned)(e - t->e));
    }
    e->addend = addend;
    e->flags = (perm & PG_PERM_GLOBAL) ? TLB_GLOBAL : 0;
    /* Callers only fill for an access the translation allows, so no NX
     * page gets a fetch tag and no read-only page a write tag. */
    if (acc == ACC_WRITE) {
        u8 f = m->page_flags[pfn] & (PG_RAM | PG_CODE | PG_PT);
        if (f == PG_RAM && (perm & PG_PERM_DIRTY)) {
            e->tag[ACC_WRITE] = page;
            wfill_note(m, host, page);
        } else if (f == (PG_RAM | PG_CODE) && (perm & PG_PERM_DIRTY)) {
            e->code_wtag = page;
            wfill_note(m, host, page);
        }
        e->tag[ACC_READ] = page;
    } else {
        e->tag[acc] = page;
    }
}

int mmu_translate(struct mmu *m, u32 lin, enum mmu_acc acc, bool user, u32 *gpa,
                  struct mmu_fault *f)
{
    u32 perm = PG_PERM_DIRTY;
    u32 pa = lin;
    if (m->paging) {
        u32 page;
        if (m->sh && shadow_lookup(m, lin, &page, &perm) &&
            pg_perm_allows(&m->pg, perm, acc, user) &&
            (acc != ACC_WRITE || (perm & PG_PERM_DIRTY))) {
            /* The entry is what a walk would find now (write tracking
             * zaps it otherwise), its A bits are set, and D too if it
             * allows writes: the walk would change nothing. */
            COUNT(m->cnt, spt_hits);
            pa = page | (lin & (PAGE_SIZE - 1));
        } else {
            u64 wide;
            struct pg_trace t;
            if (m->sh)
                COUNT(m->cnt, spt_misses);
            COUNT(m->cnt, guest_walks);
            if (pg_walk_traced(&m->pg, m, lin, acc, user, &wide, &perm, f, &t) < 0) {
                LOG(m->log, MMU, "walk %08x acc %d%s: fault err %x", lin, acc,
                    user ? " user" : "", f->err);
                return -1;
            }
            LOG(m->log, MMU, "walk %08x acc %d%s -> %08llx perm %x", lin, acc,
                user ? " user" : "", (unsigned long long)wide, perm);
            /* The bus is 32 bits wide; PAE can name frames above 4 GiB. */
            if (unlikely(wide >> 32))
                LOG(m->log, GUEST_ERROR, "access to %09llx beyond the 32-bit bus",
                    (unsigned long long)wide);
            pa = (u32)wide;
            if (m->sh && !shadow_insert(m, lin, pa & PAGE_MASK, perm, &t))
                m->l1_unbacked = true;
        }
    }
    pa &= m->a20_mask;
    *gpa = pa;
    tlb_fill(m, lin, pa, acc, user, m->paging ? perm : PG_PERM_DIRTY);
    return 0;
}

int mmu_lin_read(struct mmu *m, u32 lin, unsigned size, enum mmu_acc acc, bool user,
                 u64 *val, struct mmu_fault *f)
{
    u32 gpa0, gpa1;
    unsigned first = PAGE_SIZE - (lin & (PAGE_SIZE - 1));
    m->cnt->v[CNT_tlb_miss_read + acc]++; /* read, write, fetch are consecutive */
    if (mmu_translate(m, lin, acc, user, &gpa0, f) < 0)
        return -1;
    if (likely(first >= size)) {
        *val = mmu_phys_read(m, gpa0, size);
        return 0;
    }
    if (mmu_translate(m, lin + first, acc, user, &gpa1, f) < 0)
        return -1;
    *val = mmu_phys_read(m, gpa0, first) | mmu_phys_read(m, gpa1, size - first) << (first * 8);
    return 0;
}

int mmu_lin_write(struct mmu *m, u32 lin, unsigned size, u64 val, bool user,
                  struct mmu_fault *f)
{
    u32 gpa0, gpa1 = 0;
    unsigned first = PAGE_SIZE - (lin & (PAGE_SIZE - 1));
    COUNT(m->cnt, tlb_miss_write);
    u8 *host = tlb_code_write_host(&m->tlb[user], lin, size);
    if (host) {
        /* A store beside code: allowed and dirty already (the entry says
         * so), and if it misses the code lines nothing else is owed. */
        u32 gpa = (u32)(host - m->ram);
        if (!lines_hit(m, gpa >> PAGE_SHIFT, gpa & (PAGE_SIZE - 1), size)) {
            /* (The page may have been untracked since the fill.) */
            if (m->page_flags[gpa >> PAGE_SHIFT] & PG_CODE)
                COUNT(m->cnt, mmu_code_near_writes);
            memcpy(host, &val, size);
            return 0;
        }
    }
    if (mmu_translate(m, lin, ACC_WRITE, user, &gpa0, f) < 0)
        return -1;
    if (first < size && mmu_translate(m, lin + first, ACC_WRITE, user, &gpa1, f) < 0)
        return -1;
    if (likely(first >= size)) {
        mmu_phys_write(m, gpa0, val, size);
    } else {
        mmu_phys_write(m, gpa0, val, first);
        mmu_phys_write(m, gpa1, val >> (first * 8), size - first);
    }
    return 0;
}

void mmu_track_code(struct mmu *m, u32 gpa, unsigned len)
{
    u32 pfn = gpa >> PAGE_SHIFT;
    if (gpa >= m->ram_size || !(m->page_flags[pfn] & PG_RAM))
        return;
    if (!(m->page_flags[pfn] & PG_CODE)) {
        /* Start from no lines, whoever cleared the flag. */
        memset(line_word(m, pfn, 0), 0, MMU_CODE_LINE_WORDS * sizeof(u64));
        m->page_flags[pfn] |= PG_CODE;
        mmu_l1_withdraw_write(m, pfn);
    }
    u32 off = gpa & (PAGE_SIZE - 1);
    for (unsigned k = off >> MMU_CODE_LINE_SHIFT; k <= (off + len - 1) >> MMU_CODE_LINE_SHIFT; k++)
        *line_word(m, pfn, k) |= 1ull << (k & 63);
}

void mmu_unsubscribe_code_writes(struct mmu *m, mmu_write_notify_fn fn, void *opaque)
{
    for (unsigned i = 0; i < m->n_code_sub; i++) {
        if (m->code_sub[i].fn == fn && m->code_sub[i].opaque == opaque) {
            m->code_sub[i] = m->code_sub[--m->n_code_sub];
            return;
        }
    }
}

int mmu_subscribe_code_writes(struct mmu *m, mmu_write_notify_fn fn, void *opaque)
{
    if (m->n_code_sub == MMU_MAX_WRITE_SUBSCRIBERS)
        return -1;
    m->code_sub[m->n_code_sub].fn = fn;
    m->code_sub[m->n_code_sub].opaque = opaque;
    m->n_code_sub++;
    return 0;
}
