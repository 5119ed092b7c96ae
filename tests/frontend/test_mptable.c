/*
 * MP tables: the floating pointer and the configuration table are parsed
 * back as an operating system would (signatures, lengths, checksums,
 * entry counts) and the wiring they describe is checked entry by entry.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/counters.h"
#include "common/log.h"
#include "frontend/mptable.h"
#include "mmu/mmu.h"

static u16 rd16(const u8 *p) { return (u16)(p[0] | p[1] << 8); }
static u32 rd32(const u8 *p) { return rd16(p) | (u32)rd16(p + 2) << 16; }

static u8 sum(const u8 *p, u32 len)
{
    u8 s = 0;
    for (u32 k = 0; k < len; k++)
        s = (u8)(s + p[k]);
    return s;
}

/* What a parser collects from the entries. */
struct parsed {
    unsigned cpus, buses, ioapics, intsrc, lintsrc;
    int pin_of_irq[16];  /* -1 = no entry */
    u32 ioapic_addr;
    u8 ioapic_id;
    int lint_kind[2];    /* interrupt type on LINT0/LINT1 */
    bool bsp;
};

/* Walk the table at `gpa` inside `img` (addressed from `base`). */
static void parse(const u8 *img, u32 base, u32 mpc_gpa, struct parsed *out)
{
    const u8 *mpc = img + (mpc_gpa - base);
    ck_assert_mem_eq(mpc, "PCMP", 4);
    u16 len = rd16(mpc + 4);
    ck_assert_uint_eq(mpc[6], 4);
    ck_assert_uint_eq(sum(mpc, len), 0);
    ck_assert_uint_eq(rd32(mpc + 36), 0xFEE00000u);
    u16 count = rd16(mpc + 34);
    memset(out, 0, sizeof *out);
    for (unsigned k = 0; k < 16; k++)
        out->pin_of_irq[k] = -1;
    out->lint_kind[0] = out->lint_kind[1] = -1;
    const u8 *p = mpc + 44, *end = mpc + len;
    for (unsigned e = 0; e < count; e++) {
        ck_assert(p < end);
        switch (p[0]) {
        case 0:
            out->cpus++;
            out->bsp = (p[3] & 3) == 3;
            ck_assert_uint_eq(rd32(p + 4) >> 8 & 0xF, 6);
            p += 20;
            break;
        case 1:
            out->buses++;
            ck_assert_mem_eq(p + 2, "ISA   ", 6);
            p += 8;
            break;
        case 2:
            out->ioapics++;
            out->ioapic_id = p[1];
            ck_assert_uint_eq(p[2], 0x11);
            ck_assert_uint_eq(p[3] & 1, 1);
            out->ioapic_addr = rd32(p + 4);
            p += 8;
            break;
        case 3:
            out->intsrc++;
            ck_assert_uint_eq(p[1], 0); /* vectored */
            ck_assert_uint_eq(p[6], out->ioapic_id);
            ck_assert_int_eq(out->pin_of_irq[p[5]], -1);
            out->pin_of_irq[p[5]] = p[7];
            p += 8;
            break;
        case 4:
            out->lintsrc++;
            ck_assert_uint_eq(p[6], 0xFF);
            ck_assert_uint_lt(p[7], 2);
            out->lint_kind[p[7]] = p[1];
            p += 8;
            break;
        default:
            ck_abort_msg("unknown entry type %u", p[0]);
        }
    }
    ck_assert(p == end);
}

START_TEST(floating_pointer)
{
    u8 buf[MPTABLE_MAX];
    u32 len = mptable_build(buf, 0x9FC00);
    ck_assert_uint_le(len, 1024);
    ck_assert_mem_eq(buf, "_MP_", 4);
    ck_assert_uint_eq(buf[8], 1);
    ck_assert_uint_eq(buf[9], 4);
    ck_assert_uint_eq(sum(buf, 16), 0);
    ck_assert_uint_eq(buf[11], 0); /* a configuration table follows */
    ck_assert_uint_eq(buf[12] & 0x80, 0); /* virtual-wire mode, no IMCR */
    u32 mpc = rd32(buf + 4);
    ck_assert_uint_ge(mpc, 0x9FC00 + 16);
    ck_assert_uint_le(mpc + rd16(buf + (mpc - 0x9FC00) + 4), 0x9FC00 + len);
}
END_TEST

START_TEST(configuration_entries)
{
    u8 buf[MPTABLE_MAX];
    mptable_build(buf, 0x9FC00);
    struct parsed t;
    parse(buf, 0x9FC00, rd32(buf + 4), &t);
    ck_assert_uint_eq(t.cpus, 1);
    ck_assert(t.bsp);
    ck_assert_uint_eq(t.buses, 1);
    ck_assert_uint_eq(t.ioapics, 1);
    ck_assert_uint_eq(t.ioapic_addr, 0xFEC00000u);
    ck_assert_int_eq(t.pin_of_irq[0], 2);
    ck_assert_int_eq(t.pin_of_irq[2], -1);
    for (int irq = 1; irq < 16; irq++)
        if (irq != 2)
            ck_assert_int_eq(t.pin_of_irq[irq], irq);
    ck_assert_uint_eq(t.intsrc, 15);
    ck_assert_int_eq(t.lint_kind[0], 3); /* ExtINT */
    ck_assert_int_eq(t.lint_kind[1], 1); /* NMI */
}
END_TEST

START_TEST(written_to_base_memory)
{
    struct counters cnt = { 0 };
    struct logger lg;
    log_init(&lg);
    struct mmu *m = mmu_new(1u << 20, &cnt, &lg);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(mptable_write(m), 0);
    /* Linux scans 639 KiB..640 KiB on 16-byte boundaries for "_MP_". */
    u8 kib[1024];
    mmu_phys_copy_out(m, 639 * 1024, kib, sizeof kib);
    int found = -1;
    for (unsigned off = 0; off < sizeof kib; off += 16)
        if (!memcmp(kib + off, "_MP_", 4) && sum(kib + off, 16) == 0) {
            found = (int)off;
            break;
        }
    ck_assert_int_ge(found, 0);
    struct parsed t;
    parse(kib, 639 * 1024, rd32(kib + found + 4), &t);
    ck_assert_uint_eq(t.cpus, 1);
    mmu_free(m);

    /* A loaded image there is left alone. */
    m = mmu_new(1u << 20, &cnt, &lg);
    ck_assert_ptr_nonnull(m);
    mmu_phys_write(m, MPTABLE_GPA + 100, 0xC3, 1);
    ck_assert_int_eq(mptable_write(m), -1);
    mmu_phys_copy_out(m, MPTABLE_GPA, kib, sizeof kib);
    ck_assert_uint_eq(kib[0], 0);
    ck_assert_uint_eq(kib[100], 0xC3);
    mmu_free(m);
}
END_TEST

static Suite *mptable_suite(void)
{
    Suite *s = suite_create("mptable");
    TCase *tc = tcase_create("tables");
    tcase_add_test(tc, floating_pointer);
    tcase_add_test(tc, configuration_entries);
    tcase_add_test(tc, written_to_base_memory);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(mptable_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
