/*
 * QEMU firmware configuration device, guest-side interface as specified
 * in QEMU's docs/specs/fw_cfg.txt ("x86, x86_64 Register Locations";
 * "Firmware Configuration Items"), keys from QEMU's fw_cfg key header:
 *
 *   0x510  selector, 16-bit little-endian write; selecting an item resets
 *          the data offset to 0
 *   0x511  data, 8-bit: each read returns the next byte of the selected
 *          item and advances the offset; past the end reads give 0x00;
 *          writes are ignored (as in QEMU since v2.4)
 *
 *   key     item                                   encoding
 *   0x0000  FW_CFG_SIGNATURE  "QEMU"                4 bytes
 *   0x0001  FW_CFG_ID         bit 0 traditional     32-bit LE; bit 1 (DMA)
 *                             interface                 clear: no DMA port
 *   0x0003  FW_CFG_RAM_SIZE   bytes of RAM          64-bit LE
 *   0x0005  FW_CFG_NB_CPUS    CPUs present          16-bit LE
 *   0x000f  FW_CFG_MAX_CPUS   CPUs possible         16-bit LE
 *   0x0019  FW_CFG_FILE_DIR   file count, entries   32-bit BE count, then
 *                                                   per file (64 bytes):
 *                                                   u32 BE size, u16 BE key,
 *                                                   u16 0, char name[56]
 *   0x0020+ named files ("etc/e820", "bootorder", ...), keys in the order
 *           they were added, directory sorted by name
 *
 * An unknown key selects an empty item: its data reads as 0x00.  Bit 14
 * (write channel) and bit 15 (architecture-local) are part of the key.
 */
#include "fwcfg.h"

#include <stdlib.h>
#include <string.h>

#include "mmu/mmu.h"

#define MAX_ITEMS 64
#define MAX_FILES 32
#define DIR_ENTRY 64

struct fwcfg_item {
    u16 key;
    u32 len;
    u8 *data;
};

struct fwcfg {
    struct fwcfg_item items[MAX_ITEMS];
    unsigned n_items;
    const struct fwcfg_item *cur; /* selected item, NULL if unknown */
    u32 offset;
    struct {
        char name[FWCFG_MAX_NAME];
        u16 key;
        u32 len;
    } files[MAX_FILES];             /* sorted by name */
    unsigned n_files;
};

static const struct fwcfg_item *find(const struct fwcfg *f, u16 key)
{
    for (unsigned i = 0; i < f->n_items; i++)
        if (f->items[i].key == key)
            return &f->items[i];
    return NULL;
}

int fwcfg_add(struct fwcfg *f, u16 key, const void *data, u32 len)
{
    struct fwcfg_item *it = (struct fwcfg_item *)find(f, key);
    if (!it) {
        if (f->n_items == MAX_ITEMS)
            return -1;
        it = &f->items[f->n_items++];
        *it = (struct fwcfg_item){ key, 0, NULL };
    }
    u8 *copy = malloc(len ? len : 1);
    if (!copy)
        return -1;
    memcpy(copy, data, len);
    free(it->data);
    it->data = copy;
    it->len = len;
    f->cur = NULL;
    f->offset = 0;
    return 0;
}

static u8 data_byte(struct fwcfg *f)
{
    if (!f->cur || f->offset >= f->cur->len)
        return 0;
    return f->cur->data[f->offset++];
}

static u32 fwcfg_io_read(void *opaque, u16 port, unsigned size)
{
    struct fwcfg *f = opaque;
    if (port != FWCFG_PORT_DATA)
        return 0; /* the selector is write-only */
    u32 v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (u32)data_byte(f) << (8 * i);
    return v;
}

static void fwcfg_io_write(void *opaque, u16 port, u32 val, unsigned size)
{
    struct fwcfg *f = opaque;
    if (port != FWCFG_PORT_SEL)
        return;
    f->cur = find(f, (u16)val);
    f->offset = 0;
}

static void put_be(u8 *p, u64 v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (u8)(v >> (8 * (n - 1 - i)));
}

/* Rebuild FW_CFG_FILE_DIR from the file table. */
static int write_dir(struct fwcfg *f)
{
    u32 len = 4 + f->n_files * DIR_ENTRY;
    u8 *dir = calloc(1, len);
    if (!dir)
        return -1;
    put_be(dir, f->n_files, 4);
    for (unsigned i = 0; i < f->n_files; i++) {
        u8 *e = dir + 4 + i * DIR_ENTRY;
        put_be(e, f->files[i].len, 4);
        put_be(e + 4, f->files[i].key, 2);
        memcpy(e + 8, f->files[i].name, FWCFG_MAX_NAME);
    }
    int rc = fwcfg_add(f, FW_CFG_FILE_DIR, dir, len);
    free(dir);
    return rc;
}

int fwcfg_add_file(struct fwcfg *f, const char *name, const void *data, u32 len)
{
    size_t nlen = strlen(name);
    if (nlen == 0 || nlen >= FWCFG_MAX_NAME)
        return -1;
    unsigned i = 0;
    while (i < f->n_files && strcmp(f->files[i].name, name) < 0)
        i++;
    if (i < f->n_files && !strcmp(f->files[i].name, name)) {
        if (fwcfg_add(f, f->files[i].key, data, len) < 0)
            return -1;
        f->files[i].len = len;
        return write_dir(f);
    }
    if (f->n_files == MAX_FILES)
        return -1;
    u16 key = (u16)(FW_CFG_FILE_FIRST + f->n_files);
    if (fwcfg_add(f, key, data, len) < 0)
        return -1;
    memmove(&f->files[i + 1], &f->files[i], (f->n_files - i) * sizeof f->files[0]);
    memset(f->files[i].name, 0, FWCFG_MAX_NAME);
    memcpy(f->files[i].name, name, nlen);
    f->files[i].key = key;
    f->files[i].len = len;
    f->n_files++;
    return write_dir(f);
}

static const struct io_ops fwcfg_ops = { fwcfg_io_read, fwcfg_io_write };

static void put_le(u8 *p, u64 v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (u8)(v >> (8 * i));
}

struct fwcfg *fwcfg_new(struct mmu *m, u64 ram_size, u16 nb_cpus)
{
    struct fwcfg *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    u8 id[4], ram[8], cpus[2];
    static const u8 no_files[4] = { 0, 0, 0, 0 };
    put_le(id, 1, 4);
    put_le(ram, ram_size, 8);
    put_le(cpus, nb_cpus, 2);
    if (fwcfg_add(f, FW_CFG_SIGNATURE, "QEMU", 4) < 0 || fwcfg_add(f, FW_CFG_ID, id, 4) < 0 ||
        fwcfg_add(f, FW_CFG_RAM_SIZE, ram, 8) < 0 || fwcfg_add(f, FW_CFG_NB_CPUS, cpus, 2) < 0 ||
        fwcfg_add(f, FW_CFG_MAX_CPUS, cpus, 2) < 0 ||
        fwcfg_add(f, FW_CFG_FILE_DIR, no_files, 4) < 0 ||
        mmu_map_io(m, FWCFG_PORT_SEL, 2, &fwcfg_ops, f) < 0) {
        fwcfg_free(f);
        return NULL;
    }
    return f;
}

void fwcfg_free(struct fwcfg *f)
{
    if (!f)
        return;
    for (unsigned i = 0; i < f->n_items; i++)
        free(f->items[i].data);
    free(f);
}
