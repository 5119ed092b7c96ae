/*
 * Umbra's plugin interface.  A plugin is a shared object loaded with
 * -plugin FILE.so[,key=value...].  It exports
 *
 *     const unsigned umbra_plugin_version = UMBRA_PLUGIN_VERSION;
 *     int umbra_plugin_install(const struct umbra_api *api, void *ctx);
 *
 * Umbra refuses an object whose version differs from its own.  The
 * install function reads its arguments (api->arg), registers callbacks
 * (api->register_cb) and returns 0, or non-zero to refuse to load.
 *
 * A registration names an event and the values the callback takes, in
 * order, as a comma-separated list, e.g. "lin,icount".  Umbra prepares
 * a call interface for that list once and passes exactly those
 * arguments: each value is a uint32_t except icount, retired and value
 * (uint64_t).
 * Callbacks return void.
 *
 *   event                    values it may ask for
 *   UMBRA_EV_BLOCK_BUILT     lin phys eip insns bytes cr3 icount
 *   UMBRA_EV_BLOCK_EXEC      lin phys eip insns retired cr3 icount
 *   UMBRA_EV_CR3_LOAD        old new eip icount
 *   UMBRA_EV_PT_WRITE        paddr size eip cr3 icount
 *   UMBRA_EV_EXCEPTION       vector error cr2 eip cr3 icount
 *   UMBRA_EV_EXIT            status icount
 *   UMBRA_EV_INSN            eip lin cr3 icount
 *   UMBRA_EV_MEM             lin paddr size write value eip cr3 icount
 *
 * lin: linear address of a block's first instruction; phys: its physical
 * address (~0 if unknown); insns: instructions in the block; retired:
 * instructions the run retired; icount: instructions retired before the
 * event; paddr/size: the physical bytes written (PT_WRITE) or accessed
 * (MEM).  Block events make every block return to Umbra's dispatcher (as
 * -d nochain does).
 *
 * INSN comes before each instruction starts (eip: EIP, lin: CS base +
 * EIP); registering it makes every instruction run in the interpreter.
 * MEM comes after each data access an instruction makes through a
 * segment succeeds (not fetches, nor the CPU's own accesses to descriptor
 * tables, the TSS or an interrupt's stack frame): write is 1 for a
 * store, value what was read or stored, eip the instruction's; the
 * machine keeps its executors, but no data access takes the TLB's fast
 * path while it is registered.  Both are slow by nature.
 */
#ifndef UMBRA_PLUGIN_H
#define UMBRA_PLUGIN_H

#include <stdint.h>

#define UMBRA_PLUGIN_VERSION 1u

enum umbra_event {
    UMBRA_EV_BLOCK_BUILT,
    UMBRA_EV_BLOCK_EXEC,
    UMBRA_EV_CR3_LOAD,
    UMBRA_EV_PT_WRITE,
    UMBRA_EV_EXCEPTION,
    UMBRA_EV_EXIT,
    UMBRA_EV_INSN,
    UMBRA_EV_MEM,
    UMBRA_EV__COUNT
};

struct umbra_api {
    unsigned version; /* UMBRA_PLUGIN_VERSION */
    /* The value of key=value given after the file name, or NULL. */
    const char *(*arg)(void *ctx, const char *key);
    /* Register `fn` for `event` with the values listed in `values`
     * (NULL or "" for none).  Returns 0, or -1 (unknown event or value,
     * too many registrations); Umbra then names the problem on stderr. */
    int (*register_cb)(void *ctx, enum umbra_event event, const char *values, void (*fn)(void));
    /* A register by name: eax..edi, eip, eflags, cr0, cr2, cr3, cr4.
     * Returns 0 and *v, or -1 for an unknown name. */
    int (*read_reg)(void *ctx, const char *name, uint32_t *v);
    /* Guest memory at linear address `lin` through the current paging,
     * with no side effect.  Returns 0, or -1 if any byte is unmapped or
     * not RAM/ROM. */
    int (*read_mem)(void *ctx, uint32_t lin, void *buf, uint32_t len);
};

#endif
