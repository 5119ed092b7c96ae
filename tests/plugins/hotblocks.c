/*
 * Example plugin: counts block runs by linear address and, at exit,
 * writes the `top` (default 5) most run blocks to the file `out`
 * ("LIN RUNS INSNS" lines, hex address, hottest first).
 *   -plugin libhotblocks.so,out=FILE[,top=N]
 */
#include <stdio.h>
#include <stdlib.h>

#include "umbra-plugin.h"

#define SLOTS (1u << 16)

struct slot {
    uint32_t lin;
    uint64_t runs, insns;
};

static struct slot table[SLOTS];
static unsigned used;
static const char *out_path;
static unsigned top = 5;

const unsigned umbra_plugin_version = UMBRA_PLUGIN_VERSION;

static void on_exec(uint32_t lin, uint64_t retired)
{
    uint32_t h = (lin * 0x9e3779b1u) >> 16;
    while (table[h].runs && table[h].lin != lin)
        h = (h + 1) & (SLOTS - 1);
    if (!table[h].runs) {
        if (used == SLOTS / 2)
            return; /* full: later blocks are not counted */
        used++;
        table[h].lin = lin;
    }
    table[h].runs++;
    table[h].insns += retired;
}

static int by_runs(const void *a, const void *b)
{
    const struct slot *x = a, *y = b;
    return x->runs < y->runs ? 1 : x->runs > y->runs ? -1 : 0;
}

static void on_exit_(uint32_t status)
{
    FILE *f = fopen(out_path, "w");
    if (!f) {
        perror(out_path);
        return;
    }
    qsort(table, SLOTS, sizeof table[0], by_runs);
    for (unsigned k = 0; k < top && table[k].runs; k++)
        fprintf(f, "%08x %llu %llu\n", table[k].lin, (unsigned long long)table[k].runs,
                (unsigned long long)table[k].insns);
    fprintf(f, "exit %u\n", status);
    fclose(f);
}

int umbra_plugin_install(const struct umbra_api *api, void *ctx)
{
    out_path = api->arg(ctx, "out");
    const char *t = api->arg(ctx, "top");
    if (!out_path) {
        fprintf(stderr, "hotblocks: needs out=FILE\n");
        return 1;
    }
    if (t)
        top = (unsigned)strtoul(t, NULL, 0);
    if (api->register_cb(ctx, UMBRA_EV_BLOCK_EXEC, "lin,retired", (void (*)(void))on_exec) ||
        api->register_cb(ctx, UMBRA_EV_EXIT, "status", (void (*)(void))on_exit_))
        return 1;
    return 0;
}
