/*
 * Shadow RAM in the legacy BIOS area, 0xC0000-0xFFFFF.
 *
 * On a PC the chipset decides, per segment, whether this area reads and
 * writes the DRAM below it or is left to the bus (PCI, then ISA), where
 * the BIOS ROM and option ROMs answer.  The i440FX does it with its
 * Programmable Attribute Map registers (Intel 82441FX PMC datasheet,
 * 290549, section 3.2.18, PAM0-PAM6): a read-enable and a write-enable
 * bit per segment, so a segment is "bus", "read RAM / write bus" (the
 * BIOS write-protects its shadow copy so), "read bus / write RAM" (used
 * to copy a ROM onto the RAM below it) or plain RAM.  The firmware runs
 * from ROM, copies itself to the RAM below and then maps it read-only.
 *
 * Model.  Each 4 KiB page of the area has a mode (MMU_PAM_READ and/or
 * MMU_PAM_WRITE) and a record of the ROM the bus holds there.  The page
 * map expresses the mode with the flags the rest of mmu/ knows:
 *   READ|WRITE  PG_RAM, host = the RAM page                 (TLB-cacheable)
 *   READ        PG_ROM, host = the RAM page: reads direct, writes dropped
 *   WRITE       the bus's view for reads (PG_ROM with the ROM, or nothing);
 *               writes reach mmu_legacy_write(), which stores to RAM
 *   none        the bus's view: ROM or nothing (reads all ones)
 * A page only follows this once the chipset has set its mode; until then
 * it keeps what mmu_new() and the loaders made of it, so a machine
 * without a chipset driver (a kernel loaded directly) is unaffected.
 *
 * Invariant: a routing change drops every TLB entry, every shadow entry
 * and, through the code-write subscribers, every decoded block derived
 * from the page, because the bytes at those physical addresses changed.
 * RAM below 1 MiB is present when ram_size covers it; a page the guest
 * has no RAM for reads from the bus even with READ set.
 */
#include "pam.h"

#include <stdlib.h>
#include <string.h>

#include "mmu.h"
#include "shadow.h"

#define LEGACY_FIRST_PFN (MMU_LEGACY_BASE >> PAGE_SHIFT)
#define PG_OWNER 0x80u /* as in mmu.c: the page owns a ROM allocation */

static bool in_area(u32 pfn)
{
    return pfn - LEGACY_FIRST_PFN < MMU_LEGACY_PAGES;
}

void mmu_legacy_rom_mapped(struct mmu *m, u32 pfn)
{
    if (!in_area(pfn))
        return;
    unsigned k = pfn - LEGACY_FIRST_PFN;
    m->legacy_rom[k] = m->page_host[pfn];
    m->legacy_rom_owned[k] = (m->page_flags[pfn] & PG_OWNER) != 0;
    if (m->legacy_pam_on[k] && (m->legacy_pam[k] & MMU_PAM_READ)) {
        /* The ROM is behind the shadow RAM the chipset routes reads to. */
        m->page_flags[pfn] = (m->legacy_pam[k] & MMU_PAM_WRITE) ? PG_RAM : PG_ROM;
        m->page_host[pfn] = m->ram + ((size_t)pfn << PAGE_SHIFT);
    }
}

static bool has_ram(const struct mmu *m, u32 pfn)
{
    return ((u64)pfn + 1) << PAGE_SHIFT <= m->ram_size;
}

bool mmu_legacy_write(struct mmu *m, u32 gpa, u64 val, unsigned size)
{
    u32 pfn = gpa >> PAGE_SHIFT;
    unsigned k = pfn - LEGACY_FIRST_PFN;
    if (!m->legacy_pam_on[k] || !(m->legacy_pam[k] & MMU_PAM_WRITE) || !has_ram(m, pfn))
        return false;
    /* Not decodable from here (reads go to the bus), so nothing was
     * decoded or walked from these bytes: a plain store. */
    memcpy(m->ram + gpa, &val, size);
    return true;
}

/* The page's bytes as the CPU sees them may have changed: whatever was
 * decoded from it is stale. */
static void page_changed(struct mmu *m, u32 pfn)
{
    for (unsigned i = 0; i < m->n_code_sub; i++)
        m->code_sub[i].fn(m->code_sub[i].opaque, pfn << PAGE_SHIFT, PAGE_SIZE);
    if (has_ram(m, pfn))
        memset(&m->code_lines[(size_t)pfn * MMU_CODE_LINE_WORDS], 0,
               MMU_CODE_LINE_WORDS * sizeof(u64));
}

int mmu_set_pam(struct mmu *m, u32 base, u32 size, unsigned mode)
{
    if ((base | size) & (PAGE_SIZE - 1) || base < MMU_LEGACY_BASE ||
        (u64)base + size > MMU_LEGACY_BASE + ((u64)MMU_LEGACY_PAGES << PAGE_SHIFT))
        return -1;
    mode &= MMU_PAM_READ | MMU_PAM_WRITE;
    bool changed = false;
    for (u32 pfn = base >> PAGE_SHIFT; pfn < (base + size) >> PAGE_SHIFT; pfn++) {
        unsigned k = pfn - LEGACY_FIRST_PFN;
        if (m->legacy_pam_on[k] && m->legacy_pam[k] == mode)
            continue;
        m->legacy_pam_on[k] = true;
        m->legacy_pam[k] = (u8)mode;
        u8 flags;
        u8 *host;
        if ((mode & MMU_PAM_READ) && has_ram(m, pfn)) {
            flags = (mode & MMU_PAM_WRITE) ? PG_RAM : PG_ROM;
            host = m->ram + ((size_t)pfn << PAGE_SHIFT);
        } else {
            flags = m->legacy_rom[k] ? PG_ROM : 0;
            host = m->legacy_rom[k];
        }
        m->page_flags[pfn] = flags;
        m->page_host[pfn] = host;
        page_changed(m, pfn);
        changed = true;
    }
    if (changed) {
        if (m->sh)
            shadow_clear_all(m);
        mmu_flush_tlb(m);
    }
    return 0;
}

void mmu_legacy_free(struct mmu *m)
{
    for (unsigned k = 0; k < MMU_LEGACY_PAGES; k++) {
        u32 pfn = LEGACY_FIRST_PFN + k;
        if (m->legacy_rom_owned[k] && !(m->page_flags[pfn] & PG_OWNER))
            free(m->legacy_rom[k]);
    }
}
