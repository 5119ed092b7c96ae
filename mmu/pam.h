/*
 * Shadow RAM routing of the legacy BIOS area (pam.c).  Private to mmu/:
 * mmu.c tells it of ROM mapped into the area and hands it the writes that
 * reach a page not backed by writable RAM there.
 */
#ifndef UMBRA_MMU_PAM_H
#define UMBRA_MMU_PAM_H

#include "common/types.h"

struct mmu;

/* ROM was just mapped or aliased at physical page `pfn` (flags and host
 * already set): if the page is in the legacy area it is what the bus
 * holds there. */
void mmu_legacy_rom_mapped(struct mmu *m, u32 pfn);
/* A write to a legacy-area page that is not writable RAM: true if the
 * chipset routes writes to the RAM below (they were made). */
bool mmu_legacy_write(struct mmu *m, u32 gpa, u64 val, unsigned size);
/* Free the ROM copies the page map no longer shows as owned (the chipset
 * routed their pages to RAM or dropped the owner flag); mmu_free() frees
 * the others through the page map. */
void mmu_legacy_free(struct mmu *m);

#endif
