/*
 * I/O permission checks (SDM vol. 1, 18.5 "Protected-mode I/O").
 *
 * Real mode: always allowed.  Protected mode with CPL <= IOPL: allowed.
 * Otherwise, and always in virtual-8086 mode, the I/O permission bitmap of
 * the current 32-bit TSS decides: the bitmap starts at the 16-bit offset
 * stored at TSS+0x66, and every bit for the ports accessed must be 0 and
 * lie within the TSS limit.  As the processor does, two bitmap bytes are
 * read (an access may span a byte boundary), so both must be in the limit.
 */
#include "cpu_state.h"
#include "mem.h"
#include "system.h"

#define TSS32_IOMAP_OFF 0x66
#define TSS32_MIN_LIMIT 0x67

void io_check(struct cpu *c, u16 port, unsigned size)
{
    if (!(c->mode & MODE_PE))
        return;
    if (!(c->mode & MODE_VM86) && c->cpl <= cpu_iopl(c))
        return;
    const struct seg *tr = &c->tr;
    /* A 32-bit TSS (available 9 or busy 11); a 16-bit TSS has no bitmap. */
    if (!(tr->flags & DESC_P) || (DESC_TYPE(tr->flags) & ~2u) != 9 ||
        tr->limit < TSS32_MIN_LIMIT)
        cpu_gp(c, 0);
    u32 map = (u32)sys_read(c, tr->base + TSS32_IOMAP_OFF, 2);
    u32 byte = map + port / 8u;
    if (byte + 1 > tr->limit)
        cpu_gp(c, 0);
    u32 bits = (u32)sys_read(c, tr->base + byte, 2);
    u32 mask = ((1u << size) - 1) << (port & 7);
    if (bits & mask)
        cpu_gp(c, 0);
}
