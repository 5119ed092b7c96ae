/*
 * QEMU's pc-testdev (hw/misc/pc-testdev.c in the QEMU source, "QEMU x86
 * ISA testdev"), the device kvm-unit-tests use to check interrupt
 * routing and instruction emulation.  The facts kept here, from that
 * source:
 *
 *   0xE0-0xE3  a 32-bit scratch register; an access of n bytes at port
 *              0xE0+k reads or writes its bytes k..k+n-1
 *   0xE4-0xE7  "flush page": a 4-byte write of a physical address makes
 *              the host drop its mapping of that page, so the next guest
 *              access takes the slow path; other sizes are ignored
 *   0xE8-0xEB  the same scratch register, byte-addressed likewise
 *   0x2000+n   n = 0..23: a 1-byte write sets ISA IRQ line n to (v != 0);
 *              write-only
 *   0xFF000000 64 KiB of MMIO scratch memory: reads return what was
 *              written
 *
 * Umbra keeps port 0xE9 for the debug console (QEMU's isa-debugcon), so
 * the second scratch window claims 0xE8, 0xEA and 0xEB only.  The flush
 * port flushes the whole TLB: the closest equivalent here, since every
 * later access to the page is translated afresh.
 */
#include "testdev.h"

#include <stdlib.h>
#include <string.h>

#include "mmu/mmu.h"

struct testdev {
    u32 scratch;
    u8 iomem[TESTDEV_IOMEM_SIZE];
    struct mmu *mmu;
    struct irq_sink sink;
};

/* Mask of the register bytes an access of `size` at byte `k` covers. */
static u32 scratch_mask(unsigned k, unsigned size)
{
    u32 m = size_mask(size) << (8 * k);
    return m;
}

static u32 scratch_read(void *opaque, u16 port, unsigned size)
{
    struct testdev *t = opaque;
    unsigned k = port & 3;
    return (t->scratch & scratch_mask(k, size)) >> (8 * k);
}

static void scratch_write(void *opaque, u16 port, u32 val, unsigned size)
{
    struct testdev *t = opaque;
    unsigned k = port & 3;
    u32 m = scratch_mask(k, size);
    t->scratch = (t->scratch & ~m) | ((val << (8 * k)) & m);
}

static void flush_write(void *opaque, u16 port, u32 val, unsigned size)
{
    struct testdev *t = opaque;
    if (size == 4)
        mmu_flush_tlb(t->mmu);
}

static void irq_write(void *opaque, u16 port, u32 val, unsigned size)
{
    struct testdev *t = opaque;
    if (size == 1)
        irq_set(&t->sink, port - TESTDEV_IRQ_PORT, val != 0);
}

static u32 iomem_read(void *opaque, u32 offset, unsigned size)
{
    struct testdev *t = opaque;
    u32 v = 0;
    if (offset + size <= TESTDEV_IOMEM_SIZE)
        memcpy(&v, t->iomem + offset, size);
    return v;
}

static void iomem_write(void *opaque, u32 offset, u32 val, unsigned size)
{
    struct testdev *t = opaque;
    if (offset + size <= TESTDEV_IOMEM_SIZE)
        memcpy(t->iomem + offset, &val, size);
}

static const struct io_ops scratch_ops = { scratch_read, scratch_write };
static const struct io_ops flush_ops = { NULL, flush_write };
static const struct io_ops irq_ops = { NULL, irq_write };
static const struct mmio_ops iomem_ops = { iomem_read, iomem_write };

struct testdev *testdev_new(struct mmu *m, const struct irq_sink *sink)
{
    struct testdev *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->mmu = m;
    t->sink = *sink;
    if (mmu_map_io(m, 0xe0, 4, &scratch_ops, t) < 0 || mmu_map_io(m, 0xe4, 4, &flush_ops, t) < 0 ||
        mmu_map_io(m, 0xe8, 1, &scratch_ops, t) < 0 || mmu_map_io(m, 0xea, 2, &scratch_ops, t) < 0 ||
        mmu_map_io(m, TESTDEV_IRQ_PORT, TESTDEV_IRQ_LINES, &irq_ops, t) < 0 ||
        mmu_map_mmio(m, TESTDEV_IOMEM_BASE, TESTDEV_IOMEM_SIZE, &iomem_ops, t) < 0) {
        free(t);
        return NULL;
    }
    return t;
}

void testdev_free(struct testdev *t)
{
    free(t);
}
