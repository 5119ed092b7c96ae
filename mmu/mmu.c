/*
 * Guest physical memory map, port I/O table, A20 gate, and the slow paths
 * behind the software TLB.
 *
 * Invariants:
 *  - page_host[pfn] is non-NULL only for RAM or ROM pages; it points at the
 *    first host byte of that 4 KiB page, inside a buffer we own.
 *  - A TLB write tag is set only for RAM pages without PG_CODE, so every
 *    store to ROM, MMIO, unbacked space or a tracked page reaches
 *    mmu_phys_write().
 *  - Guest physical addresses are 32 bits; every host access is bounded by
 *    the page it was looked up in.
 */
#include "mmu.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "paging.h"

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
    /* Anonymous mappings are reserved lazily: untouched guest RAM costs no
     * host memory. */
    m->ram = mmap(NULL, ram_size ? ram_size : PAGE_SIZE, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    m->page_flags = calloc(NPAGES, 1);
    m->page_host = calloc(NPAGES, sizeof *m->page_host);
    m->io_index = calloc(65536, 1);
    if (m->ram == MAP_FAILED || !m->page_flags || !m->page_host || !m->io_index) {
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
    tlb_flush_all(&m->tlb);
    return m;
}

void mmu_free(struct mmu *m)
{
    if (!m)
        return;
    if (m->ram)
        munmap(m->ram, m->ram_size ? m->ram_size : PAGE_SIZE);
    if (m->page_flags && m->page_host) {
        /* ROM copies are owned per region: free each distinct first page. */
        for (u32 pfn = 0; pfn < NPAGES; pfn++)
            if ((m->page_flags[pfn] & PG_ROM) && (m->page_flags[pfn] & 0x80))
                free(m->page_host[pfn]);
    }
    free(m->page_flags);
    free(m->page_host);
    free(m->io_index);
    free(m);
}

/* 0x80 in page_flags marks the page that owns a ROM allocation. */
#define PG_OWNER 0x80u

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
    }
    mmu_flush_tlb(m);
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
    }
    mmu_flush_tlb(m);
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
    mmu_flush_tlb(m);
    return 0;
}

int mmu_map_io(struct mmu *m, u16 first, unsigned count, const struct io_ops *ops, void *opaque)
{
    if (m->n_io == MMU_MAX_IO || count == 0 || first + count > 65536)
        return -1;
    unsigned slot = m->n_io++;
    m->io[slot] = *ops;
    m->io_opaque[slot] = opaque;
    for (unsigned p = first; p < first + count; p++)
        m->io_index[p] = (u8)slot;
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

static void phys_write_page(struct mmu *m, u32 gpa, u64 val, unsigned size)
{
    u32 pfn = gpa >> PAGE_SHIFT;
    u8 f = m->page_flags[pfn];
    if (f & PG_RAM) {
        memcpy(m->page_host[pfn] + (gpa & (PAGE_SIZE - 1)), &val, size);
        if (f & PG_CODE) {
            COUNT(m->cnt, mmu_code_writes);
            for (unsigned i = 0; i < m->n_code_sub; i++)
                m->code_sub[i].fn(m->code_sub[i].opaque, gpa, size);
            /* Subscribers drop what they derived from the page; it is
             * tracked again when code is next decoded from it. */
            m->page_flags[pfn] &= (u8)~PG_CODE;
            m->epoch++;
        }
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

void mmu_phys_copy_in(struct mmu *m, u32 gpa, const void *src, u32 len)
{
    const u8 *s = src;
    for (u32 i = 0; i < len; i++)
        mmu_phys_write(m, gpa + i, s[i], 1);
}

void mmu_phys_copy_out(struct mmu *m, u32 gpa, void *dst, u32 len)
{
    u8 *d = dst;
    for (u32 i = 0; i < len; i++)
        d[i] = (u8)mmu_phys_read(m, gpa + i, 1);
}

void mmu_flush_tlb(struct mmu *m)
{
    COUNT(m->cnt, tlb_flush_full);
    tlb_flush_all(&m->tlb);
    m->epoch++;
}

void mmu_set_a20(struct mmu *m, bool on)
{
    u32 mask = on ? 0xffffffffu : ~(1u << 20);
    if (mask != m->a20_mask) {
        m->a20_mask = mask;
        LOG(m->log, MMU, "A20 %s", on ? "enabled" : "disabled");
        mmu_flush_tlb(m);
    }
}

int mmu_set_paging(struct mmu *m, u32 cr0, u32 cr3, u32 cr4)
{
    int rc = pg_set_mode(&m->pg, m, cr0, cr3, cr4, m->pg.efer);
    if (rc < 0)
        LOG(m->log, GUEST_ERROR, "PAE paging with invalid PDPTEs at %08x", cr3);
    m->paging = m->pg.enabled;
    mmu_flush_tlb(m);
    return rc;
}

void mmu_set_efer(struct mmu *m, u32 efer)
{
    /* Only NXE matters to paging; the PDPTE registers are not reloaded. */
    m->pg.efer = efer;
    m->pg.nxe = efer & EFER_NXE;
    mmu_flush_tlb(m);
}

bool mmu_pdptes_valid(struct mmu *m, u32 cr3)
{
    u64 pdpte[4];
    return pg_load_pdptes(m, cr3, pdpte) == 0;
}

void mmu_set_nofill_pages(struct mmu *m, const u32 *pages, unsigned n)
{
    m->n_nofill = 0;
    for (unsigned k = 0; k < n && k < 4; k++)
        m->nofill[m->n_nofill++] = pages[k] & PAGE_MASK;
    mmu_flush_tlb(m);
}

static bool tlb_nofill(const struct mmu *m, u32 page)
{
    for (unsigned k = 0; k < m->n_nofill; k++)
        if (m->nofill[k] == page)
            return true;
    return false;
}

static void tlb_fill(struct mmu *m, u32 lin, u32 gpa, enum mmu_acc acc, u32 pte_perm)
{
    u32 pfn = gpa >> PAGE_SHIFT;
    u8 *host = m->page_host[pfn];
    if (!host)
        return;
    if (unlikely(m->n_nofill) && tlb_nofill(m, lin & PAGE_MASK))
        return;
    struct tlb_entry *e = tlb_entry_for(&m->tlb, lin);
    u32 page = lin & PAGE_MASK;
    uintptr_t addend = (uintptr_t)host - page;
    if (e->addend != addend || (e->tag[0] != page && e->tag[1] != page && e->tag[2] != page))
        e->tag[0] = e->tag[1] = e->tag[2] = TLB_INVALID;
    e->addend = addend;
    /* Callers only fill after pg_perm_allows_all(), which refuses a fetch
     * from an NX page, so no NX page ever gets a fetch tag. */
    if (acc == ACC_WRITE) {
        if ((m->page_flags[pfn] & (PG_RAM | PG_CODE)) == PG_RAM && (pte_perm & PG_PERM_DIRTY))
            e->tag[ACC_WRITE] = page;
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
        u64 wide;
        if (pg_walk(&m->pg, m, lin, acc, user, &wide, &perm, f) < 0)
            return -1;
        /* The bus is 32 bits wide; PAE can name frames above 4 GiB. */
        if (unlikely(wide >> 32))
            LOG(m->log, GUEST_ERROR, "access to %09llx beyond the 32-bit bus",
                (unsigned long long)wide);
        pa = (u32)wide;
    }
    pa &= m->a20_mask;
    *gpa = pa;
    /* Only supervisor-and-user-agnostic fills are cached while paging is
     * off; with paging on, the cached permission must hold for this
     * privilege, so user/supervisor fills go to the TLB only when the page
     * allows the access at either privilege. */
    if (!m->paging || pg_perm_allows_all(&m->pg, perm, acc))
        tlb_fill(m, lin, pa, acc, perm);
    return 0;
}

int mmu_lin_read(struct mmu *m, u32 lin, unsigned size, enum mmu_acc acc, bool user,
                 u64 *val, struct mmu_fault *f)
{
    u32 gpa0, gpa1;
    unsigned first = PAGE_SIZE - (lin & (PAGE_SIZE - 1));
    COUNT(m->cnt, tlb_miss_read);
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

void mmu_track_code(struct mmu *m, u32 gpa)
{
    u32 pfn = (gpa & m->a20_mask) >> PAGE_SHIFT;
    if (!(m->page_flags[pfn] & PG_RAM) || (m->page_flags[pfn] & PG_CODE))
        return;
    m->page_flags[pfn] |= PG_CODE;
    /* Withdraw write tags that point at this page. */
    u8 *host = m->page_host[pfn];
    for (unsigned i = 0; i < TLB_SIZE; i++) {
        struct tlb_entry *e = &m->tlb.e[i];
        if (e->tag[ACC_WRITE] != TLB_INVALID &&
            (u8 *)((uintptr_t)e->tag[ACC_WRITE] + e->addend) == host)
            e->tag[ACC_WRITE] = TLB_INVALID;
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
