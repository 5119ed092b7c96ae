/*
 * The ACPI tables that describe the board (ACPI 6.5 chapter 5): RSDP,
 * RSDT and XSDT, FADT (the PM registers of devices/pm.h, the reset
 * register 0xCF9), FACS, MADT (with an APIC) and a DSDT in AML (\_S5, the
 * PCI root bridge with its windows, the ISA bridge's keyboard and mouse).
 *
 * They are built once as two position-independent blobs, "tables" (every
 * table but the RSDP) and "rsdp", plus the list of fields that hold a
 * pointer into "tables" and of checksums to compute once the blobs are
 * placed.  Either the board places them itself (acpi_tables_install, for
 * a directly loaded kernel), or the firmware does, following the
 * linker/loader script (acpi_tables_loader) given with the blobs through
 * fw_cfg, as SeaBIOS and OVMF do on QEMU (QEMU's hw/acpi/bios-linker-
 * loader.c documents the commands).
 */
#ifndef UMBRA_DEVICES_ACPI_TABLES_H
#define UMBRA_DEVICES_ACPI_TABLES_H

#include "common/types.h"

struct mmu;

#define ACPI_TABLES_MAX 2048u
#define ACPI_RSDP_LEN 36u
#define ACPI_MAX_POINTERS 16u
#define ACPI_MAX_CHECKSUMS 12u

/* fw_cfg file names (QEMU's). */
#define ACPI_FILE_TABLES "etc/acpi/tables"
#define ACPI_FILE_RSDP "etc/acpi/rsdp"
#define ACPI_FILE_LOADER "etc/table-loader"

/* Linker/loader commands: 128-byte little-endian entries. */
#define ACPI_LOADER_ENTRY 128u
#define ACPI_LOADER_NAME 56u
enum {
    ACPI_LOADER_ALLOCATE = 1,     /* file[56], u32 align, u8 zone */
    ACPI_LOADER_ADD_POINTER = 2,  /* dest[56], src[56], u32 offset, u8 size */
    ACPI_LOADER_ADD_CHECKSUM = 3, /* file[56], u32 offset, u32 start, u32 length */
};
enum { ACPI_ZONE_HIGH = 1, ACPI_ZONE_FSEG = 2 };
#define ACPI_LOADER_MAX (ACPI_LOADER_ENTRY * (2 + ACPI_MAX_POINTERS + ACPI_MAX_CHECKSUMS))

/* Where a directly loaded kernel finds them: the RSDP on a 16-byte
 * boundary of the BIOS area Linux scans (0xE0000-0xFFFFF), the tables
 * after it; the loaders' memory maps reserve 0xF0000-0xFFFFF. */
#define ACPI_RSDP_GPA 0xF0000u
#define ACPI_TABLES_GPA 0xF0100u

enum acpi_blob { ACPI_BLOB_TABLES, ACPI_BLOB_RSDP };

/* What the tables describe. */
struct acpi_config {
    u64 ram_below_4g;  /* bytes of RAM from 0: the PCI memory window follows */
    bool apic;         /* a local APIC and an I/O APIC: a MADT */
};

/* A `size`-byte little-endian field at `offset` of `blob` that holds an
 * offset into the tables blob, to which the blob's address is added. */
struct acpi_pointer {
    u8 blob;
    u8 size;
    u32 offset;
};

/* The byte at `offset` of `blob` is set so that [start, start+len) sums
 * to zero. */
struct acpi_checksum {
    u8 blob;
    u32 offset, start, len;
};

struct acpi_tables {
    u8 tables[ACPI_TABLES_MAX];
    u32 tables_len;
    u8 rsdp[ACPI_RSDP_LEN];
    struct acpi_pointer ptr[ACPI_MAX_POINTERS];
    unsigned n_ptr;
    struct acpi_checksum sum[ACPI_MAX_CHECKSUMS]; /* in the order to apply */
    unsigned n_sum;
    /* Where each table starts in the tables blob (madt 0 without one). */
    u32 facs, dsdt, fadt, madt, rsdt, xsdt;
};

/* Build the blobs for `c`.  Returns 0, or -1 if they do not fit (a bug). */
int acpi_tables_build(struct acpi_tables *t, const struct acpi_config *c) MUST_CHECK;
/* The blobs as they read at tables_gpa (tables_len bytes into `tables`)
 * and anywhere (ACPI_RSDP_LEN bytes into `rsdp`): pointers resolved,
 * checksums computed. */
void acpi_tables_place(const struct acpi_tables *t, u32 tables_gpa, u8 *tables, u8 *rsdp);
/* The linker/loader script for the fw_cfg files ACPI_FILE_TABLES and
 * ACPI_FILE_RSDP (RSDP in the F segment, tables in high memory).
 * Returns its length (at most ACPI_LOADER_MAX) written to `out`. */
u32 acpi_tables_loader(const struct acpi_tables *t, u8 *out);
/* Write the placed blobs to guest RAM at ACPI_RSDP_GPA and
 * ACPI_TABLES_GPA, for a kernel loaded without firmware.  Returns -1
 * (writing nothing) if that memory is not zero (a loaded image is there). */
int acpi_tables_install(const struct acpi_tables *t, struct mmu *m) MUST_CHECK;

#endif
