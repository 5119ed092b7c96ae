/*
 * Command-line parsing (frontend/cli.c): defaults, every flag's accepted
 * and refused forms, and the rules that tie flags together.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "frontend/cli.h"

struct parsed {
    struct cli_options o;
    enum cli_status st;
    char out[8192];
    char err[1024];
};

/* Parse a NULL-terminated list of arguments (argv[0] is supplied). */
static void parse(struct parsed *p, const char *const *args)
{
    char *argv[32] = { "umbra" };
    int argc = 1;
    for (; args[argc - 1]; argc++)
        argv[argc] = (char *)args[argc - 1];
    memset(p, 0, sizeof *p);
    FILE *out = fmemopen(p->out, sizeof p->out - 1, "w");
    FILE *err = fmemopen(p->err, sizeof p->err - 1, "w");
    p->st = cli_parse(argc, argv, &p->o, out, err);
    fclose(out);
    fclose(err);
}

#define PARSE(p, ...) parse((p), (const char *const[]){ __VA_ARGS__, NULL })

START_TEST(defaults)
{
    struct parsed p;
    parse(&p, (const char *const[]){ NULL });
    ck_assert_int_eq(p.st, CLI_RUN);
    ck_assert_uint_eq(p.o.ram_mib, 128);
    ck_assert_int_eq(p.o.debugcon.kind, CHR_STDIO);
    ck_assert(!p.o.no_reboot);
    ck_assert_ptr_null(p.o.kernel);
    ck_assert_uint_eq(p.o.icount_limit, 0);
    ck_assert(!p.o.mmu_flush);
    ck_assert_uint_eq(p.o.mmu_contexts, 64);
    ck_assert(!p.o.interp);
    ck_assert(!p.o.no_jit); /* translation is the default */
}
END_TEST

START_TEST(exec_flag)
{
    struct parsed p;
    PARSE(&p, "-exec", "interp");
    ck_assert_int_eq(p.st, CLI_RUN);
    ck_assert(p.o.interp);
    ck_assert(p.o.no_jit);
    PARSE(&p, "-exec", "interp", "--exec", "block");
    ck_assert_int_eq(p.st, CLI_RUN);
    ck_assert(!p.o.interp);
    ck_assert(p.o.no_jit);
    PARSE(&p, "-exec", "block", "-exec", "jit");
    ck_assert_int_eq(p.st, CLI_RUN);
    ck_assert(!p.o.interp);
    ck_assert(!p.o.no_jit);
    PARSE(&p, "-exec", "tcg");
    ck_assert_int_eq(p.st, CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(p.err, "-exec tcg"));
    PARSE(&p, "-exec");
    ck_assert_int_eq(p.st, CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(p.err, "-exec"));
}
END_TEST

START_TEST(rtc_flag)
{
    struct parsed p;
    PARSE(&p, "-rtc", "base=2020-01-02T03:04:05");
    ck_assert_int_eq(p.st, CLI_RUN);
    ck_assert_int_eq(p.o.rtc_base, 1577934245);
    PARSE(&p, "-rtc", "base=1999-12-31");
    ck_assert_int_eq(p.st, CLI_RUN);
    ck_assert_int_eq(p.o.rtc_base, 946598400);
    PARSE(&p, "-rtc", "base=utc");
    ck_assert_int_eq(p.st, CLI_RUN);
    ck_assert_int_eq(p.o.rtc_base, 0);
    PARSE(&p, "-rtc", "base=2020-13-01");
    ck_assert_int_eq(p.st, CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(p.err, "base=2020-13-01"));
    PARSE(&p, "-rtc", "now");
    ck_assert_int_eq(p.st, CLI_ERROR);
}
END_TEST

START_TEST(mmu_flags)
{
    struct parsed p;
    PARSE(&p, "-mmu", "flush", "-mmu-contexts", "4096");
    ck_assert_int_eq(p.st, CLI_RUN);
    ck_assert(p.o.mmu_flush);
    ck_assert_uint_eq(p.o.mmu_contexts, 4096);
    PARSE(&p, "-mmu", "flush", "--mmu", "shadow", "-mmu-contexts", "1");
    ck_assert_int_eq(p.st, CLI_RUN);
    ck_assert(!p.o.mmu_flush);
    ck_assert_uint_eq(p.o.mmu_contexts, 1);
    /* Refusals name the flag and the bad value. */
    PARSE(&p, "-mmu", "nested");
    ck_assert_int_eq(p.st, CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(p.err, "-mmu nested"));
    static const char *const bad[] = { "0", "4097", "-1", "12x", "", "99999999999999999999" };
    for (unsigned k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        PARSE(&p, "-mmu-contexts", bad[k]);
        ck_assert_int_eq(p.st, CLI_ERROR);
        char want[64];
        snprintf(want, sizeof want, "-mmu-contexts %s:", bad[k]);
        ck_assert_ptr_nonnull(strstr(p.err, want));
    }
    PARSE(&p, "-mmu");
    ck_assert_int_eq(p.st, CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(p.err, "-mmu"));
}
END_TEST

START_TEST(clock_flag)
{
    struct parsed p;
    parse(&p, (const char *const[]){ NULL });
    ck_assert(p.o.host_clock); /* host time by default, as QEMU */
    PARSE(&p, "-clock", "virtual");
    ck_assert_int_eq(p.st, CLI_RUN);
    ck_assert(!p.o.host_clock);
    ck_assert_uint_eq(p.o.icount_ns, 0); /* the board's 10 ns */
    PARSE(&p, "-clock", "virtual", "-clock", "host");
    ck_assert(p.o.host_clock);
    PARSE(&p, "-clock", "wall");
    ck_assert_int_eq(p.st, CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(p.err, "-clock wall"));
    /* QEMU's -icount: 2^N ns per instruction, deterministic. */
    PARSE(&p, "-icount", "shift=3");
    ck_assert_int_eq(p.st, CLI_RUN);
    ck_assert(!p.o.host_clock);
    ck_assert_uint_eq(p.o.icount_ns, 8);
    PARSE(&p, "-icount", "0");
    ck_assert_int_eq(p.st, CLI_RUN);
    ck_assert_uint_eq(p.o.icount_ns, 1);
    PARSE(&p, "-icount", "shift=10");
    ck_assert_uint_eq(p.o.icount_ns, 1024);
    PARSE(&p, "-icount", "shift=2", "-clock", "virtual");
    ck_assert(!p.o.host_clock);
    ck_assert_uint_eq(p.o.icount_ns, 0);
    static const char *const bad[] = { "shift=11", "auto", "shift=auto", "shift=", "3,sleep=on",
                                       "-1" };
    for (unsigned k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        PARSE(&p, "-icount", bad[k]);
        ck_assert_int_eq(p.st, CLI_ERROR);
        char want[64];
        snprintf(want, sizeof want, "-icount %s:", bad[k]);
        ck_assert_ptr_nonnull(strstr(p.err, want));
    }
}
END_TEST

START_TEST(images_and_flags)
{
    struct parsed p;
    PARSE(&p, "-kernel", "k.elf", "-initrd", "a,b c", "-append", "x y", "-bios", "b.bin",
          "-no-reboot", "--m", "64", "-icount-limit", "1000", "-nographic", "-display", "none",
          "-d", "post,int", "-D", "log.txt");
    ck_assert_int_eq(p.st, CLI_RUN);
    ck_assert_str_eq(p.o.kernel, "k.elf");
    ck_assert_str_eq(p.o.initrd, "a,b c");
    ck_assert_str_eq(p.o.append, "x y");
    ck_assert_str_eq(p.o.bios, "b.bin");
    ck_assert(p.o.no_reboot);
    ck_assert_uint_eq(p.o.ram_mib, 64);
    ck_assert_uint_eq(p.o.icount_limit, 1000);
    ck_assert_uint_eq(p.o.log_mask, (1u << LOG_POST) | (1u << LOG_INT));
    ck_assert_str_eq(p.o.log_file, "log.txt");
}
END_TEST

START_TEST(memory_sizes)
{
    struct parsed p;
    PARSE(&p, "-m", "3072");
    ck_assert_int_eq(p.st, CLI_RUN);
    ck_assert_uint_eq(p.o.ram_mib, 3072);
    PARSE(&p, "-m", "1G");
    ck_assert_uint_eq(p.o.ram_mib, 1024);
    PARSE(&p, "-m", "256M");
    ck_assert_uint_eq(p.o.ram_mib, 256);
    static const char *const bad[] = { "0", "abc", "3073", "-5", "12x", "", "99999999999999999999" };
    for (unsigned k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        PARSE(&p, "-m", bad[k]);
        ck_assert_int_eq(p.st, CLI_ERROR);
        char want[64];
        snprintf(want, sizeof want, "-m %s:", bad[k]);
        ck_assert_msg(strstr(p.err, want), "'%s' lacks '%s'", p.err, want);
    }
}
END_TEST

START_TEST(chardevs)
{
    struct parsed p;
    PARSE(&p, "-debugcon", "file:/tmp/x", "-serial", "stdio");
    ck_assert_int_eq(p.st, CLI_RUN);
    ck_assert_int_eq(p.o.debugcon.kind, CHR_FILE);
    ck_assert_str_eq(p.o.debugcon.path, "/tmp/x");
    ck_assert(p.o.serial_given);
    ck_assert_int_eq(p.o.serial.kind, CHR_STDIO);
    PARSE(&p, "-debugcon", "none");
    ck_assert_int_eq(p.o.debugcon.kind, CHR_NONE);
    PARSE(&p, "-debugcon", "tcp:1234");
    ck_assert_int_eq(p.st, CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(p.err, "-debugcon tcp:1234"));
    PARSE(&p, "-serial", "file:");
    ck_assert_int_eq(p.st, CLI_ERROR);
    PARSE(&p, "-display", "gtk");
    ck_assert_int_eq(p.st, CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(p.err, "-display gtk"));
    PARSE(&p, "-display", "sdl");
    ck_assert_int_eq(p.st, CLI_RUN);
    ck_assert_int_eq(p.o.display, DISPLAY_SDL);
    PARSE(&p, "-display", "sdl", "-nographic");
    ck_assert_int_eq(p.o.display, DISPLAY_NONE);
    PARSE(&p, "-kernel", "k");
    ck_assert_int_eq(p.o.display, DISPLAY_DEFAULT);
    ck_assert(p.o.vga);
    ck_assert_ptr_null(p.o.screendump);
    PARSE(&p, "-vga", "none", "-screendump-at-exit", "s.png");
    ck_assert(!p.o.vga);
    ck_assert_str_eq(p.o.screendump, "s.png");
    PARSE(&p, "-vga", "cirrus");
    ck_assert_int_eq(p.st, CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(p.err, "-vga cirrus"));
}
END_TEST

START_TEST(errors_name_the_flag)
{
    struct parsed p;
    PARSE(&p, "-frobnicate");
    ck_assert_int_eq(p.st, CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(p.err, "-frobnicate"));
    PARSE(&p, "-kernel");
    ck_assert_int_eq(p.st, CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(p.err, "-kernel"));
    PARSE(&p, "stray.elf");
    ck_assert_int_eq(p.st, CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(p.err, "stray.elf"));
    PARSE(&p, "-icount-limit", "0");
    ck_assert_int_eq(p.st, CLI_ERROR);
    PARSE(&p, "-icount-limit", "ten");
    ck_assert_int_eq(p.st, CLI_ERROR);
    PARSE(&p, "-d", "nosuchcategory");
    ck_assert_int_eq(p.st, CLI_ERROR);
}
END_TEST

START_TEST(help_version_and_log_list)
{
    struct parsed p;
    PARSE(&p, "--help");
    ck_assert_int_eq(p.st, CLI_DONE);
    static const char *const flags[] = { "-kernel", "-initrd", "-append", "-bios", "-m ",
                                         "-no-reboot", "-d ", "-D ", "-nographic", "-display",
                                         "-serial", "-debugcon", "-icount-limit", "-version",
                                         "-mmu shadow|flush", "-mmu-contexts N" };
    for (unsigned k = 0; k < sizeof flags / sizeof flags[0]; k++)
        ck_assert_msg(strstr(p.out, flags[k]), "help lacks %s", flags[k]);
    PARSE(&p, "-h");
    ck_assert_int_eq(p.st, CLI_DONE);
    ck_assert_ptr_nonnull(strstr(p.out, "-kernel"));
    PARSE(&p, "-version");
    ck_assert_int_eq(p.st, CLI_DONE);
    ck_assert_ptr_nonnull(strstr(p.out, UMBRA_VERSION));
    PARSE(&p, "-d", "help");
    ck_assert_int_eq(p.st, CLI_DONE);
    ck_assert_ptr_nonnull(strstr(p.out, "post"));
    ck_assert_ptr_nonnull(strstr(p.out, "mmu-stats"));
}
END_TEST

static int check_images(const char *const *args, char *err, size_t len)
{
    struct parsed p;
    parse(&p, args);
    ck_assert_int_eq(p.st, CLI_RUN);
    FILE *f = fmemopen(err, len - 1, "w");
    memset(err, 0, len);
    int rc = cli_check_images(&p.o, "/x/demo.bin", f);
    fclose(f);
    return rc;
}

START_TEST(image_rules)
{
    char err[512];
    /* Nothing given: the default firmware boots. */
    ck_assert_int_eq(check_images((const char *const[]){ NULL }, err, sizeof err), 0);
    ck_assert_int_eq(check_images((const char *const[]){ "-initrd", "m", "-bios", "b", NULL },
                                  err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "-initrd"));
    ck_assert_int_eq(check_images((const char *const[]){ "-append", "x", "-bios", "b", NULL },
                                  err, sizeof err), -1);
    ck_assert_int_eq(check_images((const char *const[]){ "-bios", "b", NULL }, err, sizeof err),
                     0);
    ck_assert_int_eq(check_images((const char *const[]){ "-kernel", "k", "-initrd", "m", NULL },
                                  err, sizeof err), 0);
}
END_TEST

START_TEST(firmware_path)
{
    struct parsed p;
    char buf[256];
    parse(&p, (const char *const[]){ NULL });
    ck_assert_str_eq(cli_firmware_path(&p.o, buf, sizeof buf),
                     CLI_FIRMWARE_DIR "/" CLI_FIRMWARE_FILE);
    parse(&p, (const char *const[]){ "-L", "/opt/fw", NULL });
    ck_assert_str_eq(cli_firmware_path(&p.o, buf, sizeof buf), "/opt/fw/bios-256k.bin");
    parse(&p, (const char *const[]){ "-L", "/opt/fw", "-bios", "my.rom", NULL });
    ck_assert_str_eq(cli_firmware_path(&p.o, buf, sizeof buf), "my.rom");
    parse(&p, (const char *const[]){ "-kernel", "k", NULL });
    ck_assert_ptr_null(cli_firmware_path(&p.o, buf, sizeof buf));
}
END_TEST

/* The VGA BIOS: from the firmware directory, or -vga-bios; none when no
 * firmware runs or there is no VGA. */
START_TEST(vga_bios_path)
{
    struct parsed p;
    char buf[256];
    parse(&p, (const char *const[]){ NULL });
    ck_assert_str_eq(cli_vga_bios_path(&p.o, buf, sizeof buf),
                     CLI_FIRMWARE_DIR "/" CLI_VGA_BIOS_FILE);
    parse(&p, (const char *const[]){ "-L", "/opt/fw", "-bios", "my.rom", NULL });
    ck_assert_str_eq(cli_vga_bios_path(&p.o, buf, sizeof buf), "/opt/fw/vgabios-stdvga.bin");
    parse(&p, (const char *const[]){ "-L", "/opt/fw", "-vga-bios", "v.rom", NULL });
    ck_assert_str_eq(cli_vga_bios_path(&p.o, buf, sizeof buf), "v.rom");
    parse(&p, (const char *const[]){ "-kernel", "k", "-vga-bios", "v.rom", NULL });
    ck_assert_ptr_null(cli_vga_bios_path(&p.o, buf, sizeof buf));
    parse(&p, (const char *const[]){ "-kernel", "k", "-bios", "b", NULL });
    ck_assert_str_eq(cli_vga_bios_path(&p.o, buf, sizeof buf),
                     CLI_FIRMWARE_DIR "/" CLI_VGA_BIOS_FILE);
    parse(&p, (const char *const[]){ "-vga", "none", NULL });
    ck_assert_ptr_null(cli_vga_bios_path(&p.o, buf, sizeof buf));
    char err[256];
    ck_assert_int_eq(check_images((const char *const[]){ "-vga", "none", "-vga-bios", "v", NULL },
                                  err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "-vga-bios v: there is no display adapter"));
}
END_TEST

START_TEST(drives)
{
    struct parsed p;
    PARSE(&p, "-hdb", "b.img", "-drive", "file=c.img,format=raw,if=ide,index=2,readonly=on",
          "-drive", "snapshot=on,file=d.img", "-snapshot", "-boot", "order=dc,menu=on");
    ck_assert_int_eq(p.st, CLI_RUN);
    ck_assert_str_eq(p.o.drive[1].file, "b.img");
    ck_assert_str_eq(p.o.drive[1].flag, "-hdb");
    ck_assert_str_eq(p.o.drive[2].file, "c.img");
    ck_assert(p.o.drive[2].readonly && !p.o.drive[2].snapshot);
    /* No index: the first free position. */
    ck_assert_str_eq(p.o.drive[0].file, "d.img");
    ck_assert(p.o.drive[0].snapshot && !p.o.drive[0].readonly);
    ck_assert_ptr_null(p.o.drive[3].file);
    ck_assert(p.o.snapshot);
    ck_assert_str_eq(p.o.boot_order, "dc");
    /* file= before other options gets its own copy of the name. */
    PARSE(&p, "-drive", "file=x.img,index=3");
    ck_assert_int_eq(p.st, CLI_RUN);
    ck_assert_str_eq(p.o.drive[3].file, "x.img");
    PARSE(&p, "-boot", "c");
    ck_assert_str_eq(p.o.boot_order, "c");
    /* -cdrom is the secondary master, read-only. */
    PARSE(&p, "-cdrom", "cd.iso", "-drive", "file=e.iso,media=cdrom");
    ck_assert_int_eq(p.st, CLI_RUN);
    ck_assert_str_eq(p.o.drive[2].file, "cd.iso");
    ck_assert(p.o.drive[2].cdrom && p.o.drive[2].readonly);
    ck_assert(p.o.drive[0].cdrom && p.o.drive[0].readonly);
    PARSE(&p, "-hdc", "d.img", "-cdrom", "cd.iso");
    ck_assert_int_eq(p.st, CLI_ERROR);

    PARSE(&p, "-hda", "a.img", "-drive", "file=b.img,index=0");
    ck_assert_int_eq(p.st, CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(p.err, "IDE index 0 is already a.img"));
    PARSE(&p, "-drive", "file=b.img,format=qcow2");
    ck_assert_int_eq(p.st, CLI_ERROR);
    PARSE(&p, "-drive", "file=b.img,if=virtio");
    ck_assert_int_eq(p.st, CLI_ERROR);
    PARSE(&p, "-drive", "file=b.img,index=4");
    ck_assert_int_eq(p.st, CLI_ERROR);
    PARSE(&p, "-drive", "index=1");
    ck_assert_int_eq(p.st, CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(p.err, "no file="));
    PARSE(&p, "-drive", "file=b.img,readonly=maybe");
    ck_assert_int_eq(p.st, CLI_ERROR);
    PARSE(&p, "-boot", "order=cz");
    ck_assert_int_eq(p.st, CLI_ERROR);
    PARSE(&p, "-hda", "1", "-hdb", "2", "-hdc", "3", "-hdd", "4", "-drive", "file=5");
    ck_assert_int_eq(p.st, CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(p.err, "all four"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("frontend-cli");
    TCase *t = tcase_create("parse");
    tcase_add_test(t, defaults);
    tcase_add_test(t, images_and_flags);
    tcase_add_test(t, firmware_path);
    tcase_add_test(t, vga_bios_path);
    tcase_add_test(t, drives);
    tcase_add_test(t, mmu_flags);
    tcase_add_test(t, exec_flag);
    tcase_add_test(t, rtc_flag);
    tcase_add_test(t, clock_flag);
    tcase_add_test(t, memory_sizes);
    tcase_add_test(t, chardevs);
    tcase_add_test(t, errors_name_the_flag);
    tcase_add_test(t, help_version_and_log_list);
    tcase_add_test(t, image_rules);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
