/*
 * File reading and the firmware ROM mapping.  The PC's reset vector is
 * FFFF:FFF0 physical 0xFFFFFFF0 (SDM vol. 3A 9.1.4), so the firmware is
 * mapped to end at 4 GiB; its top 128 KiB also appear below 1 MiB
 * (0xE0000-0xFFFFF) where real-mode code and the legacy BIOS entry points
 * expect them, as the chipset's shadow aliases do on real boards.
 * kernel_boot() picks the kernel loader by the image's format, the way
 * QEMU's -kernel does: a Linux setup header wins over a Multiboot header.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cpu/cpu.h"
#include "linux.h"
#include "loader.h"
#include "mmu/mmu.h"

#define BIOS_MIN (64u << 10)
#define BIOS_MAX (2u << 20)
#define BIOS_LOW_ALIAS (128u << 10)

static int fail(struct load_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct load_error *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int load_file(const char *path, size_t max, u8 **data, size_t *size, struct load_error *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(e, "%s", strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) < 0) {
        fail(e, "%s", strerror(errno));
        fclose(f);
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        fclose(f);
        return fail(e, "%s", strerror(EISDIR));
    }
    if (!S_ISREG(st.st_mode)) {
        fclose(f);
        return fail(e, "not a regular file");
    }
    if ((u64)st.st_size > max) {
        fclose(f);
        return fail(e, "file is too large (%lld bytes; at most %zu)", (long long)st.st_size, max);
    }
    size_t n = (size_t)st.st_size;
    u8 *buf = malloc(n ? n : 1);
    if (!buf) {
        fclose(f);
        return fail(e, "out of memory reading %zu bytes", n);
    }
    size_t got = fread(buf, 1, n, f);
    bool err = ferror(f);
    fclose(f);
    if (err || got != n) {
        free(buf);
        return fail(e, "read error (%zu of %zu bytes read)", got, n);
    }
    *data = buf;
    *size = n;
    return 0;
}

int bios_map(struct mmu *m, const u8 *data, size_t size, struct load_error *e)
{
    if (size < BIOS_MIN || size > BIOS_MAX || (size & 0xfff))
        return fail(e, "size %zu is not a multiple of 4 KiB between 64 KiB and 2 MiB", size);
    u32 sz = (u32)size;
    u32 base = (u32)(0x100000000ull - sz);
    if (mmu_map_rom(m, base, data, sz) < 0)
        return fail(e, "cannot map the firmware at 0x%08x", base);
    u32 low = sz < BIOS_LOW_ALIAS ? sz : BIOS_LOW_ALIAS;
    if (mmu_alias_rom(m, 0x100000 - low, (u32)(0x100000000ull - low), low) < 0)
        return fail(e, "cannot alias the firmware below 1 MiB");
    return 0;
}

static int boot_multiboot(struct cpu *c, struct mmu *m, const struct kernel_request *k,
                          struct load_error *e)
{
    /* The kernel sees its own path first, as QEMU passes it. */
    const char *append = k->append ? k->append : "";
    size_t len = strlen(k->path) + 1 + strlen(append) + 1;
    char *cmdline = malloc(len);
    if (!cmdline)
        return fail(e, "out of memory");
    snprintf(cmdline, len, "%s%s%s", k->path, *append ? " " : "", append);
    struct mb_boot b;
    int rc = mb_load(m, k->img, k->size, cmdline, k->mods, k->n_mods, &b, e);
    free(cmdline);
    if (rc < 0)
        return -1;
    cpu_set_flat32(c, b.entry);
    cpu_set_reg(c, CPU_EAX, MB_BOOT_MAGIC);
    cpu_set_reg(c, CPU_EBX, b.info);
    return 0;
}

int kernel_boot(struct cpu *c, struct mmu *m, const struct kernel_request *k,
                struct load_error *e)
{
    if (!linux_is_bzimage(k->img, k->size))
        return boot_multiboot(c, m, k, e);
    struct linux_boot b;
    if (linux_load(m, k->img, k->size, k->append ? k->append : "", k->mods, k->n_mods, &b,
                   e) < 0)
        return -1;
    linux_enter(c, &b);
    return 0;
}
