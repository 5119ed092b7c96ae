/*
 * The Intel MultiProcessor Specification 1.4 tables a BIOS leaves for the
 * operating system: the floating pointer ("_MP_") and the configuration
 * table ("PCMP") describing one processor, the ISA bus, the I/O APIC and
 * how the ISA IRQs and the local APIC's LINT pins are wired.
 */
#ifndef UMBRA_FRONTEND_MPTABLE_H
#define UMBRA_FRONTEND_MPTABLE_H

#include "common/types.h"

struct mmu;

/* The last KiB of base memory (639 KiB), which the memory maps given to
 * kernels mark reserved and which Linux scans for "_MP_". */
#define MPTABLE_GPA 0x9FC00u
#define MPTABLE_MAX 1024u
#define MPTABLE_IOAPIC_ID 1u

/* Build the floating pointer and the configuration table right after it
 * into `buf` (MPTABLE_MAX bytes), addressed as if at guest `gpa`.
 * Returns the number of bytes used. */
u32 mptable_build(u8 *buf, u32 gpa);
/* Build the tables and copy them to MPTABLE_GPA.  Returns -1 (writing
 * nothing) when a loaded image already occupies that KiB. */
int mptable_write(struct mmu *m);

#endif
