/*
 * QEMU's firmware configuration interface (fw_cfg) on its x86 ports:
 * selector 0x510 (16-bit, write), data 0x511 (byte reads advance the
 * offset).  Firmware and guests probe it for the "QEMU" signature.
 */
#ifndef UMBRA_DEVICES_FWCFG_H
#define UMBRA_DEVICES_FWCFG_H

#include "common/types.h"

struct mmu;
struct fwcfg;

#define FWCFG_PORT_SEL 0x510
#define FWCFG_PORT_DATA 0x511

/* Selector keys (QEMU docs/specs/fw_cfg.txt and include/standard-headers/
 * linux/qemu_fw_cfg.h). */
enum {
    FW_CFG_SIGNATURE = 0x0000,
    FW_CFG_ID = 0x0001,
    FW_CFG_RAM_SIZE = 0x0003,
    FW_CFG_NB_CPUS = 0x0005,
    FW_CFG_MAX_CPUS = 0x000f,
    FW_CFG_FILE_DIR = 0x0019,
    FW_CFG_FILE_FIRST = 0x0020, /* the first key given to a named file */
};

/* Longest file name, with its terminating NUL (the directory's field). */
#define FWCFG_MAX_NAME 56

/*
 * Create the device with the standard items (signature, ID = traditional
 * interface only, RAM size, CPU counts, an empty file directory) and claim
 * ports 0x510-0x511.  Returns NULL if out of memory or the port table is
 * full.
 */
struct fwcfg *fwcfg_new(struct mmu *m, u64 ram_size, u16 nb_cpus) MUST_CHECK;
void fwcfg_free(struct fwcfg *f);

/* Add or replace item `key` with a copy of `len` bytes.  Returns 0, or -1
 * if out of memory or the table is full. */
int fwcfg_add(struct fwcfg *f, u16 key, const void *data, u32 len) MUST_CHECK;

/*
 * Add or replace the named file (e.g. "etc/e820", "bootorder") with a
 * copy of `len` bytes: it gets the next free key from FW_CFG_FILE_FIRST
 * and an entry in the directory (FW_CFG_FILE_DIR), kept sorted by name as
 * QEMU keeps it.  Returns 0, or -1 if the name is empty or too long, or
 * out of memory or keys.
 */
int fwcfg_add_file(struct fwcfg *f, const char *name, const void *data, u32 len) MUST_CHECK;

#endif
