/* Command line (QEMU-style flags) and machine assembly. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pc.h"
#include "mmu/mmu.h"

static int load_bios(struct pc *pc, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "umbra: -bios %s: %s\n", path, strerror(errno));
        return -1;
    }
    static u8 buf[2u << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (n < 65536 || n > (2u << 20) || (n & 0xfff)) {
        fprintf(stderr, "umbra: -bios %s: size %zu is not a multiple of 4 KiB between 64 KiB and 2 MiB\n", path, n);
        return -1;
    }
    u32 size = (u32)n;
    if (mmu_map_rom(pc->mmu, (u32)(0x100000000ull - size), buf, size) < 0)
        return -1;
    u32 low = size < 0x20000 ? size : 0x20000;
    if (mmu_alias_rom(pc->mmu, 0x100000 - low, (u32)(0x100000000ull - low), low) < 0)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    struct pc_config cfg = { .ram_mib = 128 };
    const char *bios = NULL;
    u32 mask = 0;
    for (int k = 1; k < argc; k++) {
        if (!strcmp(argv[k], "-bios") && k + 1 < argc)
            bios = argv[++k];
        else if (!strcmp(argv[k], "-no-reboot"))
            cfg.no_reboot = true;
        else if (!strcmp(argv[k], "-d") && k + 1 < argc) {
            if (log_parse_mask(argv[++k], &mask) < 0)
                return 2;
        } else {
            fprintf(stderr, "umbra: unknown option '%s'\n", argv[k]);
            return 2;
        }
    }
    struct pc *pc = pc_new(&cfg, mask);
    if (!pc)
        return 2;
    if (bios && load_bios(pc, bios) < 0)
        return 2;
    struct pc_result r = pc_run(pc);
    pc_free(pc);
    return r.exit_code;
}
