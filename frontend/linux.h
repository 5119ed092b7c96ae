/*
 * The x86 Linux boot protocol (Documentation/x86/boot.rst in the kernel
 * source): loading a bzImage, its initrd and command line, and entering
 * the kernel's 32-bit entry point as a boot loader would.
 */
#ifndef UMBRA_FRONTEND_LINUX_H
#define UMBRA_FRONTEND_LINUX_H

#include <stddef.h>

#include "common/types.h"
#include "loader.h"

struct cpu;
struct mmu;

/* Fixed places in low memory the loader uses (all below the EBDA). */
#define LINUX_GDT_GPA 0x10000u
#define LINUX_CMDLINE_GPA 0x20000u
#define LINUX_BOOT_PARAMS_GPA 0x90000u
#define LINUX_KERNEL_GPA 0x100000u

/* Boot protocol segment selectors (boot.rst, "32-bit Boot Protocol"). */
#define LINUX_BOOT_CS 0x10u
#define LINUX_BOOT_DS 0x18u

/* Offsets in the image and in struct boot_params (zero-page.rst). */
#define LINUX_HDR_OFF 0x1f1u
#define LINUX_MIN_VERSION 0x0204u
#define LINUX_LOADER_TYPE 0xffu /* "undefined" boot loader */
#define LINUX_E820_MAX 128u

/* The setup header fields the loader reads (boot.rst, "The Real-Mode Kernel Header"). */
struct linux_header {
    u8 setup_sects;        /* 0x1f1, 0 means 4 */
    u32 syssize;           /* 0x1f4, in 16-byte units */
    u16 boot_flag;         /* 0x1fe, 0xAA55 */
    u16 version;           /* 0x206 */
    u8 loadflags;          /* 0x211 */
    u32 code32_start;      /* 0x214 */
    u32 initrd_addr_max;   /* 0x22c (2.03+) */
    u32 kernel_alignment;  /* 0x230 (2.05+) */
    u8 relocatable;        /* 0x234 (2.05+) */
    u32 cmdline_size;      /* 0x238 (2.06+) */
    u64 pref_address;      /* 0x258 (2.10+) */
    u32 init_size;         /* 0x260 (2.10+) */
    u32 setup_size;        /* (setup_sects + 1) * 512: where the 32-bit kernel starts */
    u32 header_end;        /* one past the setup header in the image */
};

/* What linux_load() did, for the CPU set-up and for tests. */
struct linux_boot {
    struct linux_header hdr;
    u32 entry;            /* EIP: code32_start */
    u32 boot_params;      /* ESI */
    u32 kernel_end;       /* one past the loaded protected-mode kernel */
    u32 runtime_start;    /* where the kernel decompresses itself to */
    u32 runtime_end;      /* runtime_start + init_size */
    u32 initrd;           /* ramdisk_image, 0 if none */
    u32 initrd_size;
    unsigned e820_entries;
};

/* True if the image carries the Linux "HdrS" setup header signature. */
bool linux_is_bzimage(const u8 *img, size_t size);

/*
 * Parse the setup header at 0x1F1 and check it: boot flag, signature,
 * protocol 2.04 or newer, LOADED_HIGH, setup sectors inside the file.
 * Returns 0 or -1 with e->msg set.
 */
int linux_parse_header(const u8 *img, size_t size, struct linux_header *h,
                       struct load_error *e) MUST_CHECK;

/*
 * Load a bzImage into guest RAM: the protected-mode kernel at 1 MiB, the
 * initrd (the `n_initrd` parts concatenated, each 4-byte aligned; may be
 * 0) at the top of low memory, the command line, a GDT with the boot
 * selectors and a filled zero page (struct boot_params).  Checks
 * everything against the RAM size first; on error nothing useful is in
 * guest memory and *b is unset.  Returns 0 or -1 with e->msg set.
 */
int linux_load(struct mmu *m, const u8 *img, size_t size, const char *cmdline,
               const struct mb_module *initrd, unsigned n_initrd, struct linux_boot *b,
               struct load_error *e) MUST_CHECK;

/*
 * Put the CPU in the state the 32-bit boot protocol asks for: flat
 * protected mode, paging and interrupts off, CS = 0x10, DS/ES/SS = 0x18,
 * GDTR on the loader's GDT, ESI = boot_params, EBX/EBP/EDI = 0,
 * EIP = code32_start.
 */
void linux_enter(struct cpu *c, const struct linux_boot *b);

#endif
