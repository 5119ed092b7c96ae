/*
 * ACPI tables for the board (ACPI Specification 6.5, chapter 5 for the
 * tables, chapter 20 for AML, section 6.4 for resource descriptors).
 *
 *   rsdp blob:   RSDP (revision 2, 36 bytes) -> RSDT, XSDT
 *   tables blob: FACS (64-byte aligned, first) | DSDT | FADT | MADT | RSDT | XSDT
 *
 * The blobs hold offsets into the tables blob where a table points to
 * another; acpi_tables_place() or the firmware's loader adds the blob's
 * address and then computes the checksums, inner tables before the RSDT
 * and XSDT that list them, and the RSDP's 20-byte checksum before its
 * extended one.
 *
 * What is described is the board of devices/pc.c: the PM registers of
 * devices/pm.h with the SCI on IRQ 9, the reset register at 0xCF9 (PIIX3
 * reset control, value 6: a hard reset), one processor with its local
 * APIC, the I/O APIC with ISA IRQ n on pin n but IRQ0 on pin 2, the i440FX
 * PCI root bridge and the PIIX3's keyboard controller.  The FADT says
 * there is no SMI_CMD port (always in ACPI mode), a 24-bit PM timer, the
 * power button as a fixed feature, no sleep button, no C2/C3.
 */
#include "acpi_tables.h"

#include <string.h>

#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "devices/pm.h"
#include "mmu/mmu.h"

#define HDR_LEN 36u
#define FACS_LEN 64u
#define FADT_LEN 244u    /* revision 3 (ACPI 2.0 layout, still current) */
#define FADT_REVISION 3u
#define MADT_IOAPIC_ID 1u /* as in the MP tables */
#define RESET_PORT 0xCF9u
#define RESET_VALUE 0x06u /* PIIX3 reset control: SRST | RCPU */
#define PCI_WINDOW_END 0xFEBFFFFFu /* below the I/O APIC */
#define AML_MAX 768u

static void wr16(u8 *p, u16 v) { p[0] = (u8)v; p[1] = (u8)(v >> 8); }
static void wr32(u8 *p, u32 v) { wr16(p, (u16)v); wr16(p + 2, (u16)(v >> 16)); }

/* ---- AML (chapter 20) ---- */

struct aml {
    u8 b[AML_MAX];
    u32 len;
    bool overflow;
};

static void aml_put(struct aml *a, const void *p, u32 n)
{
    if (a->len + n > AML_MAX) {
        a->overflow = true;
        return;
    }
    memcpy(a->b + a->len, p, n);
    a->len += n;
}

static void aml_byte(struct aml *a, u8 v)
{
    aml_put(a, &v, 1);
}

/* PkgLength (20.2.4) for `body` bytes that follow it: the encoded value
 * counts its own bytes too.  One byte holds up to 63; otherwise bits 7:6
 * give the number of following bytes, bits 3:0 the low nibble. */
static void aml_pkglen(struct aml *a, u32 body)
{
    if (body + 1 <= 0x3F) {
        aml_byte(a, (u8)(body + 1));
        return;
    }
    for (u32 n = 1; n <= 3; n++) {
        u32 total = body + 1 + n;
        if (total < (1u << (4 + 8 * n))) {
            aml_byte(a, (u8)(n << 6 | (total & 0xF)));
            for (u32 k = 0; k < n; k++)
                aml_byte(a, (u8)(total >> (4 + 8 * k)));
            return;
        }
    }
    a->overflow = true;
}

/* `op` (1 or 2 bytes), PkgLength, then `body` (for Scope and Device the
 * body starts with the NameString). */
static void aml_package_op(struct aml *a, const u8 *op, u32 oplen, const struct aml *body)
{
    a->overflow |= body->overflow;
    aml_put(a, op, oplen);
    aml_pkglen(a, body->len);
    aml_put(a, body->b, body->len);
}

/* An integer in its shortest encoding (20.2.3). */
static void aml_int(struct aml *a, u32 v)
{
    if (v <= 1) {
        aml_byte(a, (u8)v); /* ZeroOp, OneOp */
    } else if (v <= 0xFF) {
        aml_byte(a, 0x0A);
        aml_byte(a, (u8)v);
    } else if (v <= 0xFFFF) {
        u8 w[3] = { 0x0B };
        wr16(w + 1, (u16)v);
        aml_put(a, w, 3);
    } else {
        u8 d[5] = { 0x0C };
        wr32(d + 1, v);
        aml_put(a, d, 5);
    }
}

/* Name (seg, ...): NameOp, a 4-character NameSeg; the value follows. */
static void aml_name(struct aml *a, const char *seg)
{
    aml_byte(a, 0x08);
    aml_put(a, seg, 4);
}

/* A compressed EISA ID ("PNP0A03"): three letters in 5 bits each, then
 * four hex digits, stored big-endian (6.1.5). */
static u32 eisa_id(const char *id)
{
    u16 vendor = (u16)((id[0] - 0x40) << 10 | (id[1] - 0x40) << 5 | (id[2] - 0x40));
    u32 product = 0;
    for (unsigned k = 3; k < 7; k++) {
        char c = id[k];
        product = product << 4 | (u32)(c <= '9' ? c - '0' : c - 'A' + 10);
    }
    return (u32)(vendor >> 8) | (u32)(vendor & 0xFF) << 8 | (product >> 8) << 16 |
           (product & 0xFF) << 24;
}

static void aml_name_eisa(struct aml *a, const char *seg, const char *id)
{
    aml_name(a, seg);
    aml_int(a, eisa_id(id));
}

/* Name (seg, Buffer () { bytes }): BufferOp, PkgLength, size, bytes. */
static void aml_name_buffer(struct aml *a, const char *seg, const struct aml *bytes)
{
    struct aml body = { .len = 0 };
    aml_int(&body, bytes->len);
    aml_put(&body, bytes->b, bytes->len);
    body.overflow |= bytes->overflow;
    aml_name(a, seg);
    aml_package_op(a, (const u8[]){ 0x11 }, 1, &body);
}

/* Device (seg) { body }: the body given without its name. */
static void aml_device(struct aml *a, const char *seg, const struct aml *inner)
{
    struct aml body = { .len = 0 };
    aml_put(&body, seg, 4);
    aml_put(&body, inner->b, inner->len);
    body.overflow |= inner->overflow;
    aml_package_op(a, (const u8[]){ 0x5B, 0x82 }, 2, &body);
}

/* ---- resource descriptors (6.4) ---- */

/* I/O port descriptor, 16-bit decode, fixed at `port` (6.4.2.5). */
static void res_io(struct aml *r, u16 port, u8 len)
{
    u8 d[8] = { 0x47, 0x01 };
    wr16(d + 2, port);
    wr16(d + 4, port);
    d[6] = 1;
    d[7] = len;
    aml_put(r, d, sizeof d);
}

/* IRQ descriptor without flags: edge, active high (6.4.2.1). */
static void res_irq(struct aml *r, unsigned irq)
{
    u8 d[3] = { 0x22 };
    wr16(d + 1, (u16)(1u << irq));
    aml_put(r, d, sizeof d);
}

/* General flags of a bridge's window: it produces the range, decodes it
 * positively, minimum and maximum fixed (6.4.3.5.4). */
#define ADDR_WINDOW_FLAGS 0x0C

/* Word address space descriptor (6.4.3.5.3): type 1 I/O, 2 bus numbers. */
static void res_word(struct aml *r, u8 type, u8 type_flags, u16 min, u16 max)
{
    u8 d[16] = { 0x88, 13, 0, type, ADDR_WINDOW_FLAGS, type_flags };
    wr16(d + 8, min);
    wr16(d + 10, max);
    wr16(d + 14, (u16)(max - min + 1));
    aml_put(r, d, sizeof d);
}

/* DWord memory descriptor (6.4.3.5.2), cacheable, read-write. */
static void res_dword_mem(struct aml *r, u32 min, u32 max)
{
    u8 d[26] = { 0x87, 23, 0, 0, ADDR_WINDOW_FLAGS, 0x03 };
    wr32(d + 10, min);
    wr32(d + 14, max);
    wr32(d + 22, max - min + 1);
    aml_put(r, d, sizeof d);
}

static void res_end(struct aml *r)
{
    aml_byte(r, 0x79);
    aml_byte(r, 0); /* checksum 0: treated as valid */
}

/* ---- the DSDT's contents ---- */

/* \_SB.PCI0.ISA: the PIIX3 function 0 with the i8042's keyboard and mouse
 * (SeaBIOS sets up its keyboard only when it finds PNP0303 here). */
static void dsdt_isa(struct aml *a)
{
    struct aml kbd = { .len = 0 }, mou = { .len = 0 }, isa = { .len = 0 }, r = { .len = 0 };
    aml_name_eisa(&kbd, "_HID", "PNP0303");
    res_io(&r, 0x60, 1);
    res_io(&r, 0x64, 1);
    res_irq(&r, 1);
    res_end(&r);
    aml_name_buffer(&kbd, "_CRS", &r);

    r.len = 0;
    aml_name_eisa(&mou, "_HID", "PNP0F13");
    res_irq(&r, 12);
    res_end(&r);
    aml_name_buffer(&mou, "_CRS", &r);

    aml_name(&isa, "_ADR");
    aml_int(&isa, 0x00010000); /* device 1, function 0 */
    aml_device(&isa, "KBD_", &kbd);
    aml_device(&isa, "MOU_", &mou);
    aml_device(a, "ISA_", &isa);
}

/* \_SB.PCI0: the host bridge, bus 0, and the windows it forwards: all
 * I/O but the configuration ports, the VGA memory, and memory from the
 * end of RAM up to the I/O APIC. */
static void dsdt_pci0(struct aml *a, const struct acpi_config *c)
{
    struct aml pci = { .len = 0 }, r = { .len = 0 };
    aml_name_eisa(&pci, "_HID", "PNP0A03");
    aml_name(&pci, "_ADR");
    aml_int(&pci, 0);
    res_word(&r, 2, 0, 0x00, 0xFF);
    res_io(&r, 0xCF8, 8); /* the bridge's own configuration ports */
    res_word(&r, 1, 0x03, 0x0000, 0x0CF7);
    res_word(&r, 1, 0x03, 0x0D00, 0xFFFF);
    res_dword_mem(&r, 0xA0000, 0xBFFFF);
    if (c->ram_below_4g < PCI_WINDOW_END)
        res_dword_mem(&r, (u32)c->ram_below_4g, PCI_WINDOW_END);
    res_end(&r);
    aml_name_buffer(&pci, "_CRS", &r);
    dsdt_isa(&pci);
    aml_device(a, "PCI0", &pci);
}

static void dsdt_body(struct aml *a, const struct acpi_config *c)
{
    /* \_S5: SLP_TYPa, SLP_TYPb and two reserved values (7.4.2). */
    struct aml s5 = { .len = 0 };
    aml_byte(&s5, 4);
    for (unsigned k = 0; k < 4; k++)
        aml_int(&s5, k < 2 ? PM_SLP_TYP_S5 : 0);
    aml_name(a, "_S5_");
    aml_package_op(a, (const u8[]){ 0x12 }, 1, &s5);

    struct aml sb = { .len = 0 };
    aml_put(&sb, "\\_SB_", 5);
    dsdt_pci0(&sb, c);
    aml_package_op(a, (const u8[]){ 0x10 }, 1, &sb);
}

/* ---- tables ---- */

struct builder {
    struct acpi_tables *t;
    bool overflow;
};

/* Reserve `len` zeroed bytes of the tables blob at `align`. */
static u32 alloc(struct builder *b, u32 len, u32 align)
{
    u32 at = (b->t->tables_len + align - 1) & ~(align - 1);
    if (at + len > ACPI_TABLES_MAX) {
        b->overflow = true;
        return 0;
    }
    b->t->tables_len = at + len;
    return at;
}

static void add_pointer(struct builder *b, enum acpi_blob blob, u32 offset, u8 size, u32 target)
{
    struct acpi_tables *t = b->t;
    if (t->n_ptr == ACPI_MAX_POINTERS) {
        b->overflow = true;
        return;
    }
    u8 *p = (blob == ACPI_BLOB_RSDP ? t->rsdp : t->tables) + offset;
    wr32(p, target);
    if (size == 8)
        wr32(p + 4, 0);
    t->ptr[t->n_ptr++] = (struct acpi_pointer){ (u8)blob, size, offset };
}

static void add_checksum(struct builder *b, enum acpi_blob blob, u32 offset, u32 start, u32 len)
{
    struct acpi_tables *t = b->t;
    if (t->n_sum == ACPI_MAX_CHECKSUMS) {
        b->overflow = true;
        return;
    }
    t->sum[t->n_sum++] = (struct acpi_checksum){ (u8)blob, offset, start, len };
}

/* The common header (5.2.6); its checksum is added to the list. */
static u8 *header(struct builder *b, u32 at, const char *sig, u32 len, u8 rev, const char *table_id)
{
    u8 *h = b->t->tables + at;
    memcpy(h, sig, 4);
    wr32(h + 4, len);
    h[8] = rev;
    memcpy(h + 10, "UMBRA ", 6);
    memcpy(h + 16, table_id, 8);
    wr32(h + 24, 1);
    memcpy(h + 28, "UMBR", 4);
    wr32(h + 32, 1);
    add_checksum(b, ACPI_BLOB_TABLES, at + 9, at, len);
    return h;
}

/* Generic address structure (5.2.3.2) for `bytes` at I/O port `port`. */
static void gas_io(u8 *g, u16 port, u8 bytes)
{
    memset(g, 0, 12);
    if (!port)
        return;
    g[0] = 1; /* system I/O */
    g[1] = (u8)(bytes * 8);
    wr32(g + 4, port);
}

/* FADT (5.2.9), revision 3, 244 bytes. */
static void build_fadt(struct builder *b, u32 at)
{
    u8 *f = header(b, at, "FACP", FADT_LEN, FADT_REVISION, "UMBRAFAC");
    struct acpi_tables *t = b->t;
    wr16(f + 46, PM_SCI_IRQ);
    /* 48 SMI_CMD, 52 ACPI_ENABLE, 53 ACPI_DISABLE: 0, always ACPI mode. */
    wr32(f + 56, PM_BASE + PM1_EVT_OFF);
    wr32(f + 64, PM_BASE + PM1_CNT_OFF);
    wr32(f + 76, PM_BASE + PM_TMR_OFF);
    f[88] = 4;             /* PM1_EVT_LEN */
    f[89] = 2;             /* PM1_CNT_LEN */
    f[91] = 4;             /* PM_TMR_LEN */
    wr16(f + 96, 0x0FFF);  /* P_LVL2_LAT > 100: no C2 */
    wr16(f + 98, 0x0FFF);  /* P_LVL3_LAT > 1000: no C3 */
    f[108] = 0x32;         /* CENTURY: the RTC's century byte */
    wr16(f + 109, 0x0003); /* IAPC_BOOT_ARCH: LEGACY_DEVICES, 8042 */
    /* Flags: WBINVD, PROC_C1, SLP_BUTTON (none as a fixed feature),
     * FIX_RTC (no RTC_STS wake), RESET_REG_SUP. */
    wr32(f + 112, 1u << 0 | 1u << 2 | 1u << 5 | 1u << 6 | 1u << 10);
    gas_io(f + 116, RESET_PORT, 1);
    f[128] = RESET_VALUE;
    /* 64-bit forms of the DSDT pointer and of the blocks, equal to the
     * 32-bit ones.  X_FIRMWARE_CTRL stays 0, so the FACS is named once
     * (FIRMWARE_CTRL is used when it is 0). */
    gas_io(f + 148, PM_BASE + PM1_EVT_OFF, 4);
    gas_io(f + 172, PM_BASE + PM1_CNT_OFF, 2);
    gas_io(f + 208, PM_BASE + PM_TMR_OFF, 4);
    add_pointer(b, ACPI_BLOB_TABLES, at + 36, 4, t->facs);
    add_pointer(b, ACPI_BLOB_TABLES, at + 40, 4, t->dsdt);
    add_pointer(b, ACPI_BLOB_TABLES, at + 140, 8, t->dsdt);
}

/* MADT (5.2.12): the local APIC, the I/O APIC, the IRQ0 and SCI
 * overrides, NMI on LINT1. */
static u32 madt_entries(u8 *p)
{
    u8 *q = p;
    /* Processor local APIC: UID 0, APIC ID 0, enabled. */
    q[0] = 0, q[1] = 8, q[2] = 0, q[3] = 0;
    wr32(q + 4, 1);
    q += 8;
    /* I/O APIC: GSI 0 is pin 0. */
    q[0] = 1, q[1] = 12, q[2] = MADT_IOAPIC_ID, q[3] = 0;
    wr32(q + 4, IOAPIC_DEFAULT_BASE);
    wr32(q + 8, 0);
    q += 12;
    /* Interrupt source overrides: ISA IRQ0 on GSI 2 (flags conforming);
     * the SCI on GSI 9, active high and level-triggered as pm.c drives
     * it (polarity 01, trigger mode 11). */
    static const struct { u8 irq, gsi; u16 flags; } iso[] = { { 0, 2, 0 },
                                                            { PM_SCI_IRQ, PM_SCI_IRQ, 0x000D } };
    for (unsigned k = 0; k < ARRAY_SIZE(iso); k++) {
        q[0] = 2, q[1] = 10, q[2] = 0, q[3] = iso[k].irq;
        wr32(q + 4, iso[k].gsi);
        wr16(q + 8, iso[k].flags);
        q += 10;
    }
    /* Local APIC NMI: every processor (UID 0xFF), LINT1. */
    q[0] = 4, q[1] = 6, q[2] = 0xFF;
    wr16(q + 3, 0);
    q[5] = 1;
    q += 6;
    return (u32)(q - p);
}

static void build_madt(struct builder *b)
{
    u8 tmp[64];
    u32 n = madt_entries(tmp);
    u32 len = HDR_LEN + 8 + n;
    u32 at = b->t->madt = alloc(b, len, 4);
    if (b->overflow)
        return;
    u8 *m = header(b, at, "APIC", len, 1, "UMBRAAPI");
    wr32(m + 36, LAPIC_DEFAULT_BASE);
    wr32(m + 40, 1); /* PCAT_COMPAT: an 8259A pair is present */
    memcpy(m + 44, tmp, n);
}

static void build_dsdt(struct builder *b, const struct acpi_config *c)
{
    struct aml body = { .len = 0 };
    dsdt_body(&body, c);
    if (body.overflow) {
        b->overflow = true;
        return;
    }
    u32 len = HDR_LEN + body.len;
    u32 at = b->t->dsdt = alloc(b, len, 4);
    if (b->overflow)
        return;
    /* Revision 2: integers are 64 bits wide. */
    u8 *d = header(b, at, "DSDT", len, 2, "UMBRADSD");
    memcpy(d + HDR_LEN, body.b, body.len);
}

/* RSDT (32-bit entries) and XSDT (64-bit) listing the FADT and MADT. */
static void build_roots(struct builder *b)
{
    struct acpi_tables *t = b->t;
    u32 list[2] = { t->fadt, t->madt };
    u32 n = t->madt ? 2 : 1;
    u32 at = t->rsdt = alloc(b, HDR_LEN + 4 * n, 4);
    if (b->overflow)
        return;
    header(b, at, "RSDT", HDR_LEN + 4 * n, 1, "UMBRARSD");
    for (u32 k = 0; k < n; k++)
        add_pointer(b, ACPI_BLOB_TABLES, at + HDR_LEN + 4 * k, 4, list[k]);
    at = t->xsdt = alloc(b, HDR_LEN + 8 * n, 8);
    if (b->overflow)
        return;
    header(b, at, "XSDT", HDR_LEN + 8 * n, 1, "UMBRAXSD");
    for (u32 k = 0; k < n; k++)
        add_pointer(b, ACPI_BLOB_TABLES, at + HDR_LEN + 8 * k, 8, list[k]);
}

/* RSDP (5.2.5.3), revision 2. */
static void build_rsdp(struct builder *b)
{
    u8 *r = b->t->rsdp;
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, "UMBRA ", 6);
    r[15] = 2;
    wr32(r + 20, ACPI_RSDP_LEN);
    add_pointer(b, ACPI_BLOB_RSDP, 16, 4, b->t->rsdt);
    add_pointer(b, ACPI_BLOB_RSDP, 24, 8, b->t->xsdt);
    add_checksum(b, ACPI_BLOB_RSDP, 8, 0, 20);
    add_checksum(b, ACPI_BLOB_RSDP, 32, 0, ACPI_RSDP_LEN);
}

int acpi_tables_build(struct acpi_tables *t, const struct acpi_config *c)
{
    memset(t, 0, sizeof *t);
    struct builder b = { t, false };
    /* FACS (5.2.10), version 1: no checksum; the OS finds it aligned. */
    t->facs = alloc(&b, FACS_LEN, 64);
    memcpy(t->tables + t->facs, "FACS", 4);
    wr32(t->tables + t->facs + 4, FACS_LEN);
    t->tables[t->facs + 32] = 1;
    build_dsdt(&b, c);
    if (b.overflow)
        return -1;
    t->fadt = alloc(&b, FADT_LEN, 4);
    if (b.overflow)
        return -1;
    build_fadt(&b, t->fadt);
    if (c->apic)
        build_madt(&b);
    if (b.overflow)
        return -1;
    build_roots(&b);
    if (b.overflow)
        return -1;
    build_rsdp(&b);
    return b.overflow ? -1 : 0;
}

static u8 sum8(const u8 *p, u32 len)
{
    u8 s = 0;
    for (u32 k = 0; k < len; k++)
        s = (u8)(s + p[k]);
    return s;
}

void acpi_tables_place(const struct acpi_tables *t, u32 tables_gpa, u8 *tables, u8 *rsdp)
{
    memcpy(tables, t->tables, t->tables_len);
    memcpy(rsdp, t->rsdp, ACPI_RSDP_LEN);
    for (unsigned k = 0; k < t->n_ptr; k++) {
        const struct acpi_pointer *p = &t->ptr[k];
        u8 *f = (p->blob == ACPI_BLOB_RSDP ? rsdp : tables) + p->offset;
        u64 v = 0;
        for (unsigned i = 0; i < p->size; i++)
            v |= (u64)f[i] << 8 * i;
        v += tables_gpa;
        for (unsigned i = 0; i < p->size; i++)
            f[i] = (u8)(v >> 8 * i);
    }
    for (unsigned k = 0; k < t->n_sum; k++) {
        const struct acpi_checksum *s = &t->sum[k];
        u8 *blob = s->blob == ACPI_BLOB_RSDP ? rsdp : tables;
        blob[s->offset] = (u8)(blob[s->offset] - sum8(blob + s->start, s->len));
    }
}

static const char *blob_name(u8 blob)
{
    return blob == ACPI_BLOB_RSDP ? ACPI_FILE_RSDP : ACPI_FILE_TABLES;
}

static u8 *loader_entry(u8 *out, u32 *len, u32 command)
{
    u8 *e = out + *len;
    memset(e, 0, ACPI_LOADER_ENTRY);
    wr32(e, command);
    *len += ACPI_LOADER_ENTRY;
    return e;
}

u32 acpi_tables_loader(const struct acpi_tables *t, u8 *out)
{
    u32 len = 0;
    u8 *e = loader_entry(out, &len, ACPI_LOADER_ALLOCATE);
    strcpy((char *)e + 4, ACPI_FILE_RSDP);
    wr32(e + 60, 16);
    e[64] = ACPI_ZONE_FSEG;
    e = loader_entry(out, &len, ACPI_LOADER_ALLOCATE);
    strcpy((char *)e + 4, ACPI_FILE_TABLES);
    wr32(e + 60, 64); /* the FACS's alignment */
    e[64] = ACPI_ZONE_HIGH;
    for (unsigned k = 0; k < t->n_ptr; k++) {
        e = loader_entry(out, &len, ACPI_LOADER_ADD_POINTER);
        strcpy((char *)e + 4, blob_name(t->ptr[k].blob));
        strcpy((char *)e + 60, ACPI_FILE_TABLES);
        wr32(e + 116, t->ptr[k].offset);
        e[120] = t->ptr[k].size;
    }
    for (unsigned k = 0; k < t->n_sum; k++) {
        e = loader_entry(out, &len, ACPI_LOADER_ADD_CHECKSUM);
        strcpy((char *)e + 4, blob_name(t->sum[k].blob));
        wr32(e + 60, t->sum[k].offset);
        wr32(e + 64, t->sum[k].start);
        wr32(e + 68, t->sum[k].len);
    }
    return len;
}

int acpi_tables_install(const struct acpi_tables *t, struct mmu *m)
{
    u8 tables[ACPI_TABLES_MAX], rsdp[ACPI_RSDP_LEN];
    u8 now[ACPI_TABLES_GPA - ACPI_RSDP_GPA + ACPI_TABLES_MAX];
    _Static_assert(ACPI_RSDP_GPA + ACPI_RSDP_LEN <= ACPI_TABLES_GPA, "RSDP overlaps the tables");
    mmu_phys_copy_out(m, ACPI_RSDP_GPA, now, ACPI_TABLES_GPA - ACPI_RSDP_GPA + t->tables_len);
    for (u32 k = 0; k < ACPI_TABLES_GPA - ACPI_RSDP_GPA + t->tables_len; k++)
        if (now[k])
            return -1;
    acpi_tables_place(t, ACPI_TABLES_GPA, tables, rsdp);
    mmu_phys_copy_in(m, ACPI_RSDP_GPA, rsdp, ACPI_RSDP_LEN);
    mmu_phys_copy_in(m, ACPI_TABLES_GPA, tables, t->tables_len);
    return 0;
}
