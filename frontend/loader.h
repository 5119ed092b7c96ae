/*
 * Image loaders: reading files, the firmware ROM (-bios), Multiboot and
 * Linux kernels (-kernel/-initrd/-append).  Every loader validates its input
 * completely before touching guest memory and reports problems as a
 * message naming what is wrong, which the caller prefixes with the flag
 * and file name.
 */
#ifndef UMBRA_FRONTEND_LOADER_H
#define UMBRA_FRONTEND_LOADER_H

#include <stddef.h>

#include "common/types.h"

struct mmu;

/* A loader's explanation of a failure ("no Multiboot header in ..."). */
struct load_error {
    char msg[256];
};

/*
 * Read a whole file into a malloc'd buffer (*data, *size).  Files larger
 * than `max` bytes are refused.  Returns 0, or -1 with e->msg set (the
 * strerror text for a failed open, as "No such file or directory").
 */
int load_file(const char *path, size_t max, u8 **data, size_t *size,
              struct load_error *e) MUST_CHECK;

/*
 * Map a firmware image: 64 KiB to 2 MiB, a multiple of 4 KiB, ending at
 * 4 GiB, with its last 128 KiB (or all of it if smaller) aliased to end at
 * 1 MiB.  Returns 0 or -1 with e->msg set.
 */
int bios_map(struct mmu *m, const u8 *data, size_t size, struct load_error *e) MUST_CHECK;

/* A Multiboot module: the bytes of the file and the string the guest sees. */
struct mb_module {
    const char *string;   /* "path [args]" as given to -initrd */
    const u8 *data;
    size_t size;
};

/* Where a loaded Multiboot kernel starts and what it was given. */
struct mb_boot {
    u32 entry;            /* EIP */
    u32 info;             /* EBX: the Multiboot information structure */
    u32 kernel_start;     /* lowest byte loaded */
    u32 kernel_end;       /* one past the last byte loaded or zeroed (bss) */
    u32 mods_start;       /* first module (0 if none) */
    u32 info_end;         /* one past everything the loader wrote */
};

#define MB_HEADER_MAGIC 0x1BADB002u
#define MB_BOOT_MAGIC 0x2BADB002u
#define MB_SEARCH 8192u

/*
 * Load a Multiboot v1 kernel image (Multiboot specification 0.6.96) into
 * guest RAM with its modules, command line, memory map and information
 * structure.  `cmdline` is the full command line the guest sees.
 * Returns 0 and fills *b, or -1 with e->msg set; on error guest memory may
 * hold part of the image but nothing runs.
 */
int mb_load(struct mmu *m, const u8 *img, size_t size, const char *cmdline,
            const struct mb_module *mods, unsigned n_mods, struct mb_boot *b,
            struct load_error *e) MUST_CHECK;

/* What -kernel, -initrd and -append name, with the files already read. */
struct kernel_request {
    const char *path;              /* -kernel as given */
    const u8 *img;
    size_t size;
    const char *append;            /* -append, or NULL */
    const struct mb_module *mods;  /* -initrd files */
    unsigned n_mods;
};

struct cpu;

/*
 * Load a kernel by its format and set the CPU at its entry point: the
 * Linux boot protocol when the image has the "HdrS" setup header (the
 * -initrd files are concatenated into its initrd, the command line is
 * -append alone), Multiboot otherwise (the command line starts with the
 * kernel's path, each -initrd file is a module).  Returns 0 or -1 with
 * e->msg set.
 */
int kernel_boot(struct cpu *c, struct mmu *m, const struct kernel_request *k,
                struct load_error *e) MUST_CHECK;

#endif
