/*
 * The ACPI tables of devices/acpi_tables.c: placed at an address, every
 * checksum holds and every pointer lands on the table it names; the FADT
 * describes devices/pm.c and the reset register; the MADT the board's
 * interrupt wiring.  The linker/loader script, run by an interpreter
 * written here from the command format, gives the same bytes as the
 * board's own placement.  iasl (acpica-tools) disassembles the DSDT and
 * the FADT and MADT: it must find no error and see \_S5 and the devices.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/counters.h"
#include "common/log.h"
#include "devices/acpi_tables.h"
#include "devices/pm.h"
#include "mmu/mmu.h"

#define GPA 0x7FE0000u

static struct acpi_tables t;
static u8 tab[ACPI_TABLES_MAX], rsdp[ACPI_RSDP_LEN];

static u32 rd32(const u8 *p) { return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24; }
static u16 rd16(const u8 *p) { return (u16)(p[0] | p[1] << 8); }
static u64 rd64(const u8 *p) { return rd32(p) | (u64)rd32(p + 4) << 32; }

static u8 sum(const u8 *p, u32 len)
{
    u8 s = 0;
    while (len--)
        s = (u8)(s + *p++);
    return s;
}

static void build(bool apic, u64 ram)
{
    struct acpi_config c = { ram, apic };
    ck_assert_int_eq(acpi_tables_build(&t, &c), 0);
    acpi_tables_place(&t, GPA, tab, rsdp);
}

/* The placed table at guest address `gpa`, checked to lie in the blob. */
static const u8 *table_at(u32 gpa, const char *sig)
{
    ck_assert_uint_ge(gpa, GPA);
    ck_assert_uint_le(gpa - GPA + 36, t.tables_len);
    const u8 *p = tab + (gpa - GPA);
    ck_assert_msg(!memcmp(p, sig, 4), "expected %s at 0x%x", sig, gpa);
    ck_assert_uint_le(gpa - GPA + rd32(p + 4), t.tables_len);
    ck_assert_msg(sum(p, rd32(p + 4)) == 0, "%s checksum", sig);
    return p;
}

START_TEST(rsdp_and_roots_reach_every_table)
{
    build(true, 256u << 20);
    ck_assert(!memcmp(rsdp, "RSD PTR ", 8));
    ck_assert_uint_eq(sum(rsdp, 20), 0);
    ck_assert_uint_eq(sum(rsdp, ACPI_RSDP_LEN), 0);
    ck_assert_uint_eq(rsdp[15], 2);
    ck_assert_uint_eq(rd32(rsdp + 20), ACPI_RSDP_LEN);
    const u8 *rsdt = table_at(rd32(rsdp + 16), "RSDT");
    ck_assert_uint_eq(rd64(rsdp + 24) >> 32, 0);
    const u8 *xsdt = table_at((u32)rd64(rsdp + 24), "XSDT");
    ck_assert_uint_eq(rd32(rsdt + 4), 36 + 2 * 4);
    ck_assert_uint_eq(rd32(xsdt + 4), 36 + 2 * 8);
    const char *want[2] = { "FACP", "APIC" };
    for (unsigned k = 0; k < 2; k++) {
        table_at(rd32(rsdt + 36 + 4 * k), want[k]);
        ck_assert_uint_eq(rd64(xsdt + 36 + 8 * k), rd32(rsdt + 36 + 4 * k));
    }
}
END_TEST

START_TEST(fadt_describes_pm_registers_and_reset)
{
    build(true, 256u << 20);
    const u8 *rsdt = table_at(rd32(rsdp + 16), "RSDT");
    const u8 *f = table_at(rd32(rsdt + 36), "FACP");
    ck_assert_uint_eq(rd32(f + 4), 244);
    ck_assert_uint_eq(f[8], 3);
    const u8 *dsdt = table_at(rd32(f + 40), "DSDT");
    ck_assert_uint_eq(rd64(f + 140), rd32(f + 40));
    u32 facs = rd32(f + 36);
    ck_assert_uint_eq(facs % 64, 0);
    ck_assert(!memcmp(tab + (facs - GPA), "FACS", 4));
    ck_assert_uint_eq(rd32(tab + (facs - GPA) + 4), 64);
    ck_assert_uint_eq(rd16(f + 46), PM_SCI_IRQ);
    ck_assert_uint_eq(rd32(f + 48), 0); /* no SMI_CMD: always ACPI mode */
    ck_assert_uint_eq(rd32(f + 56), PM_BASE + PM1_EVT_OFF);
    ck_assert_uint_eq(rd32(f + 64), PM_BASE + PM1_CNT_OFF);
    ck_assert_uint_eq(rd32(f + 76), PM_BASE + PM_TMR_OFF);
    ck_assert_uint_eq(f[88], 4);
    ck_assert_uint_eq(f[89], 2);
    ck_assert_uint_eq(f[91], 4);
    u32 flags = rd32(f + 112);
    ck_assert(flags & 1u << 10);   /* RESET_REG_SUP */
    ck_assert(!(flags & 1u << 8)); /* 24-bit timer */
    ck_assert(!(flags & 1u << 4)); /* fixed-feature power button */
    ck_assert_uint_eq(rd16(f + 109) & 2, 2); /* an 8042 */
    /* RESET_REG: system I/O, 8 bits at 0xCF9, value 6. */
    ck_assert_uint_eq(f[116], 1);
    ck_assert_uint_eq(f[117], 8);
    ck_assert_uint_eq(f[118], 0);
    ck_assert_uint_eq(rd64(f + 120), 0xCF9);
    ck_assert_uint_eq(f[128], 6);
    /* X_PM1a_EVT_BLK and X_PM_TMR_BLK match the 32-bit blocks. */
    ck_assert_uint_eq(f[148], 1);
    ck_assert_uint_eq(f[149], 32);
    ck_assert_uint_eq(rd64(f + 152), PM_BASE);
    ck_assert_uint_eq(rd64(f + 212), PM_BASE + PM_TMR_OFF);
    /* The DSDT's AML names \_S5 with the soft-off type. */
    const u8 s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, PM_SLP_TYP_S5, PM_SLP_TYP_S5 };
    ck_assert_ptr_nonnull(memmem(dsdt, rd32(dsdt + 4), s5, sizeof s5));
}
END_TEST

START_TEST(madt_matches_board_wiring)
{
    build(true, 256u << 20);
    const u8 *rsdt = table_at(rd32(rsdp + 16), "RSDT");
    const u8 *m = table_at(rd32(rsdt + 40), "APIC");
    ck_assert_uint_eq(rd32(m + 36), 0xFEE00000u);
    ck_assert_uint_eq(rd32(m + 40) & 1, 1);
    unsigned lapics = 0, ioapics = 0, nmis = 0;
    bool irq0 = false, sci = false;
    for (u32 off = 44; off < rd32(m + 4);) {
        const u8 *e = m + off;
        ck_assert_uint_ge(e[1], 2);
        switch (e[0]) {
        case 0: lapics++; ck_assert_uint_eq(rd32(e + 4) & 1, 1); break;
        case 1: ioapics++; ck_assert_uint_eq(rd32(e + 4), 0xFEC00000u); ck_assert_uint_eq(rd32(e + 8), 0); break;
        case 2:
            if (e[3] == 0) {
                irq0 = true;
                ck_assert_uint_eq(rd32(e + 4), 2);
            } else if (e[3] == PM_SCI_IRQ) {
                sci = true;
                ck_assert_uint_eq(rd32(e + 4), PM_SCI_IRQ);
                ck_assert_uint_eq(rd16(e + 8), 0x000D); /* active high, level */
            }
            break;
        case 4: nmis++; ck_assert_uint_eq(e[5], 1); break;
        default: ck_abort_msg("unexpected MADT entry type %u", e[0]);
        }
        off += e[1];
        ck_assert_uint_le(off, rd32(m + 4));
    }
    ck_assert_uint_eq(lapics, 1);
    ck_assert_uint_eq(ioapics, 1);
    ck_assert_uint_eq(nmis, 1);
    ck_assert(irq0 && sci);
}
END_TEST

START_TEST(no_apic_no_madt)
{
    build(false, 64u << 20);
    const u8 *rsdt = table_at(rd32(rsdp + 16), "RSDT");
    ck_assert_uint_eq(rd32(rsdt + 4), 36 + 4);
    table_at(rd32(rsdt + 36), "FACP");
    ck_assert_ptr_null(memmem(tab, t.tables_len, "APIC", 4));
}
END_TEST

/* ---- the linker/loader script, run as firmware would ---- */

struct file {
    const char *name;
    const u8 *blob;
    u32 len;
    u8 *mem;  /* where it was allocated, in `ram` */
    u32 addr;
};

static u8 ram[1u << 20];

static struct file *find(struct file *f, unsigned n, const char *name)
{
    for (unsigned k = 0; k < n; k++)
        if (!strncmp(f[k].name, name, ACPI_LOADER_NAME))
            return &f[k];
    ck_abort_msg("script names unknown file %.56s", name);
    return NULL;
}

START_TEST(loader_script_gives_the_same_tables)
{
    build(true, 512u << 20);
    u8 script[ACPI_LOADER_MAX];
    u32 len = acpi_tables_loader(&t, script);
    ck_assert_uint_eq(len % ACPI_LOADER_ENTRY, 0);
    ck_assert_uint_le(len, ACPI_LOADER_MAX);
    struct file f[2] = { { ACPI_FILE_TABLES, t.tables, t.tables_len, NULL, 0 },
                         { ACPI_FILE_RSDP, t.rsdp, ACPI_RSDP_LEN, NULL, 0 } };
    u32 high = 0x80000, fseg = 0xF0000 + 0x30; /* arbitrary, then aligned */
    unsigned allocs = 0;
    for (const u8 *e = script; e < script + len; e += ACPI_LOADER_ENTRY) {
        switch (rd32(e)) {
        case ACPI_LOADER_ALLOCATE: {
            struct file *x = find(f, 2, (const char *)e + 4);
            u32 align = rd32(e + 60);
            ck_assert(align && !(align & (align - 1)));
            u32 *next = e[64] == ACPI_ZONE_FSEG ? &fseg : &high;
            ck_assert(e[64] == ACPI_ZONE_FSEG || e[64] == ACPI_ZONE_HIGH);
            x->addr = (*next + align - 1) & ~(align - 1);
            *next = x->addr + x->len;
            x->mem = ram + x->addr;
            memcpy(x->mem, x->blob, x->len);
            allocs++;
            break;
        }
        case ACPI_LOADER_ADD_POINTER: {
            struct file *d = find(f, 2, (const char *)e + 4);
            struct file *s = find(f, 2, (const char *)e + 60);
            ck_assert_ptr_nonnull(d->mem);
            ck_assert_ptr_nonnull(s->mem);
            u32 off = rd32(e + 116);
            u8 size = e[120];
            ck_assert(size == 4 || size == 8);
            ck_assert_uint_le(off + size, d->len);
            u64 v = size == 8 ? rd64(d->mem + off) : rd32(d->mem + off);
            v += s->addr;
            for (unsigned i = 0; i < size; i++)
                d->mem[off + i] = (u8)(v >> 8 * i);
            break;
        }
        case ACPI_LOADER_ADD_CHECKSUM: {
            struct file *x = find(f, 2, (const char *)e + 4);
            u32 off = rd32(e + 60), start = rd32(e + 64), n = rd32(e + 68);
            ck_assert_uint_le(start + n, x->len);
            ck_assert_uint_lt(off, x->len);
            x->mem[off] = (u8)(x->mem[off] - sum(x->mem + start, n));
            break;
        }
        default:
            ck_abort_msg("unknown loader command %u", rd32(e));
        }
    }
    ck_assert_uint_eq(allocs, 2);
    ck_assert_uint_eq(f[1].addr % 16, 0);
    ck_assert_uint_ge(f[1].addr, 0xF0000);
    ck_assert_uint_eq(f[0].addr % 64, 0);
    u8 want_tab[ACPI_TABLES_MAX], want_rsdp[ACPI_RSDP_LEN];
    acpi_tables_place(&t, f[0].addr, want_tab, want_rsdp);
    ck_assert(!memcmp(f[0].mem, want_tab, t.tables_len));
    ck_assert(!memcmp(f[1].mem, want_rsdp, ACPI_RSDP_LEN));
}
END_TEST

START_TEST(install_writes_ram_once)
{
    struct counters cnt = { 0 };
    struct logger lg;
    log_init(&lg);
    struct mmu *m = mmu_new(1u << 20, &cnt, &lg);
    ck_assert_ptr_nonnull(m);
    build(true, 1u << 20);
    ck_assert_int_eq(acpi_tables_install(&t, m), 0);
    u8 got[ACPI_RSDP_LEN];
    mmu_phys_copy_out(m, ACPI_RSDP_GPA, got, sizeof got);
    ck_assert(!memcmp(got, "RSD PTR ", 8));
    ck_assert_uint_eq(sum(got, ACPI_RSDP_LEN), 0);
    ck_assert_uint_eq(rd32(got + 16) - ACPI_TABLES_GPA, t.rsdt);
    /* Something already there: nothing is written. */
    ck_assert_int_eq(acpi_tables_install(&t, m), -1);
    mmu_free(m);
}
END_TEST

/* ---- iasl as the oracle ---- */

/* Disassemble `len` bytes with iasl; the .dsl text (caller frees), or
 * NULL with the failure reported. */
static char *iasl_disassemble(const u8 *p, u32 len, const char *name)
{
    char dir[] = "/tmp/umbra-acpi-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256], cmd[600];
    snprintf(path, sizeof path, "%s/%s.dat", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, len, f), len);
    fclose(f);
    snprintf(cmd, sizeof cmd, "cd %s && iasl -d %s.dat >iasl.out 2>&1", dir, name);
    int rc = system(cmd);
    snprintf(path, sizeof path, "%s/%s.dsl", dir, name);
    f = fopen(path, "rb");
    char *text = NULL;
    if (f) {
        text = calloc(1, 1 << 16);
        ck_assert_ptr_nonnull(text);
        size_t n = fread(text, 1, (1 << 16) - 1, f);
        text[n] = 0;
        fclose(f);
    }
    snprintf(cmd, sizeof cmd, "cat %s/iasl.out; rm -rf %s", dir, dir);
    if (rc != 0 || !text) {
        if (system(cmd) != 0)
            fprintf(stderr, "(could not show iasl's output)\n");
        ck_abort_msg("iasl -d %s failed (status %d): is acpica-tools installed "
                     "(scripts/setup.sh)?", name, rc);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return text;
}

START_TEST(iasl_disassembles_dsdt)
{
    build(true, 256u << 20);
    const u8 *rsdt = table_at(rd32(rsdp + 16), "RSDT");
    const u8 *f = table_at(rd32(rsdt + 36), "FACP");
    const u8 *dsdt = table_at(rd32(f + 40), "DSDT");
    char *dsl = iasl_disassemble(dsdt, rd32(dsdt + 4), "dsdt");
    ck_assert_msg(strstr(dsl, "Name (_S5, Package (0x04)"), "no \\_S5 package:\n%s", dsl);
    ck_assert_msg(strstr(dsl, "Device (PCI0)"), "no PCI0:\n%s", dsl);
    ck_assert_msg(strstr(dsl, "EisaId (\"PNP0A03\")"), "no PNP0A03:\n%s", dsl);
    ck_assert_msg(strstr(dsl, "EisaId (\"PNP0303\")"), "no keyboard:\n%s", dsl);
    ck_assert_msg(strstr(dsl, "WordBusNumber"), "no bus range in _CRS:\n%s", dsl);
    ck_assert_msg(strstr(dsl, "0x10000000,         // Range Minimum") ||
                      strstr(dsl, "0x10000000, // Range Minimum"),
                  "no PCI memory window from the end of RAM:\n%s", dsl);
    ck_assert_msg(!strstr(dsl, "Error") && !strstr(dsl, "Incorrect"), "iasl complains:\n%s", dsl);
    free(dsl);
}
END_TEST

START_TEST(iasl_disassembles_fadt_and_madt)
{
    build(true, 256u << 20);
    const u8 *rsdt = table_at(rd32(rsdp + 16), "RSDT");
    const u8 *f = table_at(rd32(rsdt + 36), "FACP");
    char *dsl = iasl_disassemble(f, rd32(f + 4), "facp");
    ck_assert_msg(strstr(dsl, "PM1A Event Block Address : 0000000000000600") ||
                      strstr(dsl, "PM1A Event Block Address : 00000600"),
                  "FADT:\n%s", dsl);
    ck_assert_msg(strstr(dsl, "Reset Register Supported (V2) : 1"), "FADT:\n%s", dsl);
    ck_assert_msg(!strstr(dsl, "Error") && !strstr(dsl, "Incorrect"), "iasl complains:\n%s", dsl);
    free(dsl);
    const u8 *m = table_at(rd32(rsdt + 40), "APIC");
    dsl = iasl_disassemble(m, rd32(m + 4), "apic");
    ck_assert_msg(strstr(dsl, "Interrupt Source Override"), "MADT:\n%s", dsl);
    ck_assert_msg(!strstr(dsl, "Error") && !strstr(dsl, "Incorrect") && !strstr(dsl, "Unknown"),
                  "iasl complains:\n%s", dsl);
    free(dsl);
}
END_TEST

static Suite *acpi_suite(void)
{
    Suite *s = suite_create("acpi_tables");
    TCase *tc = tcase_create("tables");
    tcase_add_test(tc, rsdp_and_roots_reach_every_table);
    tcase_add_test(tc, fadt_describes_pm_registers_and_reset);
    tcase_add_test(tc, madt_matches_board_wiring);
    tcase_add_test(tc, no_apic_no_madt);
    tcase_add_test(tc, loader_script_gives_the_same_tables);
    tcase_add_test(tc, install_writes_ram_once);
    suite_add_tcase(s, tc);
    TCase *ti = tcase_create("iasl");
    tcase_add_test(ti, iasl_disassembles_dsdt);
    tcase_add_test(ti, iasl_disassembles_fadt_and_madt);
    suite_add_tcase(s, ti);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(acpi_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
