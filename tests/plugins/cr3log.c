/*
 * Example plugin: logs every CR3 load and every page fault to the file
 * `out`, reading the page directory's first entry through the plugin
 * API's memory access:
 *   cr3 OLD -> NEW at EIP icount N pde0 VALUE
 *   pf cr2 ADDR err E eip EIP cr3 CR3
 *   -plugin libcr3log.so,out=FILE
 */
#include <stdio.h>

#include "umbra-plugin.h"

static FILE *out;
static const struct umbra_api *api;
static void *api_ctx;

const unsigned umbra_plugin_version = UMBRA_PLUGIN_VERSION;

static void on_cr3(uint32_t old, uint32_t new_, uint32_t eip, uint64_t icount)
{
    uint32_t cr3 = 0;
    api->read_reg(api_ctx, "cr3", &cr3);
    fprintf(out, "cr3 %08x -> %08x at %08x icount %llu reg %08x\n", old, new_, eip,
            (unsigned long long)icount, cr3);
}

static void on_exception(uint32_t vector, uint32_t err, uint32_t cr2, uint32_t eip, uint32_t cr3)
{
    if (vector != 14)
        return;
    uint32_t pde0 = 0;
    int rc = api->read_mem(api_ctx, cr3, &pde0, 4); /* identity-mapped directory */
    fprintf(out, "pf cr2 %08x err %x eip %08x cr3 %08x pde0 %s%08x\n", cr2, err, eip, cr3,
            rc ? "unmapped " : "", pde0);
}

static void on_exit_(uint32_t status)
{
    fprintf(out, "exit %u\n", status);
    fclose(out);
}

int umbra_plugin_install(const struct umbra_api *a, void *ctx)
{
    const char *path = a->arg(ctx, "out");
    if (!path || !(out = fopen(path, "w"))) {
        fprintf(stderr, "cr3log: needs out=FILE (writable)\n");
        return 1;
    }
    api = a;
    api_ctx = ctx;
    if (a->register_cb(ctx, UMBRA_EV_CR3_LOAD, "old,new,eip,icount", (void (*)(void))on_cr3) ||
        a->register_cb(ctx, UMBRA_EV_EXCEPTION, "vector,error,cr2,eip,cr3",
                       (void (*)(void))on_exception) ||
        a->register_cb(ctx, UMBRA_EV_EXIT, "status", (void (*)(void))on_exit_))
        return 1;
    return 0;
}
