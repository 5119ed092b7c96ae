/*
 * Example plugin: counts the instructions the guest starts and logs the
 * data accesses that touch [lo, hi] (linear), to the file `out`:
 *   mem R|W LIN PADDR SIZE VALUE eip EIP
 *   insns N icount M exit STATUS
 *   -plugin libmemwatch.so,out=FILE,lo=HEX,hi=HEX
 */
#include <stdio.h>
#include <stdlib.h>

#include "umbra-plugin.h"

static FILE *out;
static uint32_t lo, hi;
static unsigned long long insns;

const unsigned umbra_plugin_version = UMBRA_PLUGIN_VERSION;

static void on_insn(void)
{
    insns++;
}

static void on_mem(uint32_t lin, uint32_t paddr, uint32_t size, uint32_t write, uint64_t value,
                   uint32_t eip)
{
    if (lin + size - 1 < lo || lin > hi)
        return;
    fprintf(out, "mem %c %08x %08x %u %llx eip %08x\n", write ? 'W' : 'R', lin, paddr, size,
            (unsigned long long)value, eip);
}

static void on_exit_(uint32_t status, uint64_t icount)
{
    fprintf(out, "insns %llu icount %llu exit %u\n", insns, (unsigned long long)icount, status);
    fclose(out);
}

int umbra_plugin_install(const struct umbra_api *a, void *ctx)
{
    const char *path = a->arg(ctx, "out"), *l = a->arg(ctx, "lo"), *h = a->arg(ctx, "hi");
    if (!path || !l || !h || !(out = fopen(path, "w"))) {
        fprintf(stderr, "memwatch: needs out=FILE (writable), lo=HEX and hi=HEX\n");
        return 1;
    }
    lo = (uint32_t)strtoul(l, NULL, 16);
    hi = (uint32_t)strtoul(h, NULL, 16);
    if (a->register_cb(ctx, UMBRA_EV_INSN, "", (void (*)(void))on_insn) ||
        a->register_cb(ctx, UMBRA_EV_MEM, "lin,paddr,size,write,value,eip",
                       (void (*)(void))on_mem) ||
        a->register_cb(ctx, UMBRA_EV_EXIT, "status,icount", (void (*)(void))on_exit_))
        return 1;
    return 0;
}
