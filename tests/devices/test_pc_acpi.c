/*
 * ACPI on the board: a guest that writes SLP_EN with the \_S5 type ends
 * the run with status 0 as a guest exit does; the power button (the
 * monitor's system_powerdown) sets PWRBTN_STS and raises the SCI once
 * enabled; the firmware finds the table files in fw_cfg.  With -no-acpi
 * (cfg.acpi false) none of it is there.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "devices/acpi_tables.h"
#include "devices/fwcfg.h"
#include "devices/pc.h"
#include "mmu/mmu.h"

/* mov dx, 0x604; mov ax, SLP_EN | S5 << 10; out dx, ax;
 * mov al, 1; out 0xf4, al (exit status 3 if still running); hlt */
static const u8 prog[] = {
    0x66, 0xBA, 0x04, 0x06, 0x66, 0xB8, 0x00, 0x20, 0x66, 0xEF, 0xB0, 0x01, 0xE6, 0xF4, 0xF4,
};

static struct pc *board(bool acpi)
{
    struct pc_config cfg = { .ram_mib = 2, .no_reboot = true, .debugcon_off = true,
                             .rtc_base = 1, .apic = true, .acpi = acpi, .virtual_clock = true };
    struct pc *pc = pc_new(&cfg, 0);
    ck_assert_ptr_nonnull(pc);
    mmu_phys_copy_in(pc->mmu, 0x1000, prog, sizeof prog);
    cpu_set_flat32(pc->cpu, 0x1000);
    return pc;
}

START_TEST(s5_ends_the_run_with_status_0)
{
    struct pc *pc = board(true);
    struct pc_result r = pc_run(pc);
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert(r.exited_by_guest);
    ck_assert_uint_lt(cpu_icount(pc->cpu), 4); /* the OUT to 0xF4 never ran */
    pc_free(pc);

    pc = board(false);
    r = pc_run(pc);
    ck_assert_int_eq(r.exit_code, 3); /* no PM registers: the program ran on */
    pc_free(pc);
}
END_TEST

START_TEST(power_button_raises_the_sci)
{
    struct pc *pc = board(true);
    ck_assert(pc_power_button(pc));
    ck_assert_uint_eq(mmu_io_read(pc->mmu, 0x600, 2), 0x0100);
    ck_assert(!pc->pm.sci);
    mmu_io_write(pc->mmu, 0x602, 0x0100, 2);
    ck_assert(pc->pm.sci);
    mmu_io_write(pc->mmu, 0x600, 0x0100, 2);
    ck_assert(!pc->pm.sci);
    pc_free(pc);

    pc = board(false);
    ck_assert(!pc_power_button(pc));
    ck_assert_uint_eq(mmu_io_read(pc->mmu, 0x600, 2), 0xFFFF);
    pc_free(pc);
}
END_TEST

/* The fw_cfg directory, read through the ports as firmware reads it:
 * whether `name` is listed. */
static bool fwcfg_has(struct pc *pc, const char *name)
{
    mmu_io_write(pc->mmu, FWCFG_PORT_SEL, FW_CFG_FILE_DIR, 2);
    u32 n = 0;
    for (unsigned k = 0; k < 4; k++)
        n = n << 8 | (mmu_io_read(pc->mmu, FWCFG_PORT_DATA, 1) & 0xFF);
    bool found = false;
    for (u32 e = 0; e < n; e++) {
        char entry[64];
        for (unsigned k = 0; k < sizeof entry; k++)
            entry[k] = (char)mmu_io_read(pc->mmu, FWCFG_PORT_DATA, 1);
        found |= !strncmp(entry + 8, name, FWCFG_MAX_NAME);
    }
    return found;
}

START_TEST(fwcfg_has_the_table_files)
{
    struct pc *pc = board(true);
    ck_assert(fwcfg_has(pc, ACPI_FILE_TABLES));
    ck_assert(fwcfg_has(pc, ACPI_FILE_RSDP));
    ck_assert(fwcfg_has(pc, ACPI_FILE_LOADER));
    ck_assert(fwcfg_has(pc, "etc/e820"));
    pc_free(pc);
    pc = board(false);
    ck_assert(!fwcfg_has(pc, ACPI_FILE_LOADER));
    ck_assert(fwcfg_has(pc, "etc/e820"));
    pc_free(pc);
}
END_TEST

static Suite *pc_acpi_suite(void)
{
    Suite *s = suite_create("pc_acpi");
    TCase *tc = tcase_create("board");
    tcase_add_test(tc, s5_ends_the_run_with_status_0);
    tcase_add_test(tc, power_button_raises_the_sci);
    tcase_add_test(tc, fwcfg_has_the_table_files);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pc_acpi_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
