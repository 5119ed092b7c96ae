/*
 * Debug ports every bare-metal test relies on:
 *   0x80  POST code (logged with -d post)
 *   0xE9  debug console: bytes written go to the console (QEMU -debugcon)
 *   0x402 the same console at the port QEMU's firmware builds write their
 *         log to (SeaBIOS CONFIG_DEBUG_IO, DEBUG_IO_PORT 0x402)
 *   0xF4  exit device: writing v ends the run with status (v << 1) | 1
 *         (QEMU's isa-debug-exit convention)
 */
#include "debugdev.h"

#include "devices/pc.h"
#include "mmu/mmu.h"

static u32 e9_read(void *opaque, u16 port, unsigned size)
{
    return 0xe9; /* Bochs/QEMU report the port number to detect the device */
}

static void e9_write(void *opaque, u16 port, u32 val, unsigned size)
{
    struct pc *pc = opaque;
    if (pc->cfg.debugcon_off)
        return;
    FILE *f = pc->cfg.debugcon ? pc->cfg.debugcon : stdout;
    fputc((int)(val & 0xff), f);
    if ((val & 0xff) == '\n')
        fflush(f);
}

static void exit_write(void *opaque, u16 port, u32 val, unsigned size)
{
    struct pc *pc = opaque;
    pc->exit_requested = true;
    pc->exit_code = (int)(((val & 0x7f) << 1) | 1);
    cpu_request_exit(pc->cpu);
}

static void post_write(void *opaque, u16 port, u32 val, unsigned size)
{
    struct pc *pc = opaque;
    LOG(&pc->log, POST, "POST code %02x", val & 0xff);
}

static u32 post_read(void *opaque, u16 port, unsigned size)
{
    return 0xff;
}

static const struct io_ops e9_ops = { e9_read, e9_write };
static const struct io_ops exit_ops = { NULL, exit_write };
static const struct io_ops post_ops = { post_read, post_write };

int debugdev_init(struct pc *pc)
{
    if (mmu_map_io(pc->mmu, 0xe9, 1, &e9_ops, pc) < 0 ||
        mmu_map_io(pc->mmu, 0x402, 1, &e9_ops, pc) < 0 ||
        mmu_map_io(pc->mmu, 0xf4, 1, &exit_ops, pc) < 0 ||
        mmu_map_io(pc->mmu, 0x80, 1, &post_ops, pc) < 0)
        return -1;
    return 0;
}
