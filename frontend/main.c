/*
 * The umbra program: parse the command line (cli.c), build the board
 * (devices/pc.c), load the firmware and/or a Multiboot or Linux kernel
 * (loader.c, multiboot.c, linux.c) and run.  Every configuration error is
 * reported here with the flag and file it concerns, and ends the process
 * with status 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cpu/cpu.h"
#include "debug/debug.h"
#include "display_sdl.h"
#include "devices/acpi_tables.h"
#include "devices/pc.h"
#include "devices/uart.h"
#include "devices/vga.h"
#include "loader.h"
#include "mptable.h"
#include "mmu/mmu.h"
#include "term.h"

#ifndef UMBRA_DEMO_BIN
#define UMBRA_DEMO_BIN "build/roms/demo.bin"
#endif

#define EXIT_USAGE 2
/* The -d items the tracer (debug/trace.c) serves. */
#define BLOCK_LOG_ITEMS \
    (1u << LOG_IN_ASM | 1u << LOG_OUT_ASM | 1u << LOG_EXEC | 1u << LOG_NOCHAIN)
#define KERNEL_MAX ((size_t)1 << 30)
#define BIOS_FILE_MAX ((size_t)16 << 20)

/* Files the run owns, closed at exit. */
struct run_files {
    FILE *log;
    FILE *debugcon;
};

/* A file written when the run ends: find out now, not after the run,
 * that there is nothing to dump or that it cannot be written. */
static int check_dump_file(const char *flag, const char *path, bool vga)
{
    if (!path)
        return 0;
    if (!vga) {
        fprintf(stderr, "umbra: %s %s: there is no display adapter (-vga none)\n", flag, path);
        return -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "umbra: %s %s: %s\n", flag, path, strerror(errno));
        return -1;
    }
    fclose(f);
    return 0;
}

static int open_outputs(const struct cli_options *o, struct run_files *rf, struct pc_config *cfg)
{
    if (o->log_file) {
        rf->log = fopen(o->log_file, "w");
        if (!rf->log) {
            fprintf(stderr, "umbra: -D %s: %s\n", o->log_file, strerror(errno));
            return -1;
        }
        setvbuf(rf->log, NULL, _IOLBF, 0);
        cfg->log_out = rf->log;
    }
    if (o->debugcon.kind == CHR_FILE) {
        rf->debugcon = fopen(o->debugcon.path, "w");
        if (!rf->debugcon) {
            fprintf(stderr, "umbra: -debugcon %s: %s\n", o->debugcon.spec, strerror(errno));
            return -1;
        }
        cfg->debugcon = rf->debugcon;
    }
    cfg->debugcon_off = o->debugcon.kind == CHR_NONE;
    cfg->serial = o->serial.spec; /* opened by the board's COM1 */
    if (check_dump_file("-screendump-at-exit", o->screendump, o->vga) < 0 ||
        check_dump_file("-textdump-at-exit", o->textdump, o->vga) < 0)
        return -1;
    return 0;
}

/* The default firmware is missing: say what it is and what else runs. */
static void no_default_firmware(const char *path, const char *why)
{
    fprintf(stderr,
            "umbra: firmware %s: %s\n"
            "Install Debian's seabios package, name another directory with -L DIR, "
            "or give -bios FILE or -kernel FILE (see --help).\n"
            "To boot Debian's i386 kernel to a shell: bash scripts/run.sh (source tree);\n"
            "scripts/fetch-guest.sh puts it in cache/guest, then by hand:\n"
            "  umbra -kernel cache/guest/vmlinuz -initrd cache/guest/initrd.img -m 256 \\\n"
            "    -append \"console=ttyS0 umbra.shell=1\" -serial stdio -no-reboot\n"
            "To boot the demo guest: umbra -bios %s -no-reboot\n",
            path, why, UMBRA_DEMO_BIN);
}

/* -display: SDL by default only where a display server can be reached. */
static bool want_sdl(const struct cli_options *o)
{
    if (o->display != DISPLAY_DEFAULT)
        return o->display == DISPLAY_SDL;
    const char *x = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");
    return o->vga && ((x && *x) || (w && *w));
}

/* The window, or NULL with no display.  Returns -1 if one was asked for
 * explicitly and cannot be opened. */
static int open_display(struct pc *pc, const struct cli_options *o, struct sdl_display **d)
{
    *d = NULL;
    if (!want_sdl(o))
        return 0;
    if (!pc->vga) {
        fprintf(stderr, "umbra: -display sdl: there is no display adapter (-vga none)\n");
        return -1;
    }
    *d = sdl_display_new(pc, stderr);
    if (*d || o->display == DISPLAY_DEFAULT) {
        if (!*d)
            fprintf(stderr, "umbra: running without a window (-display none)\n");
        return 0;
    }
    return -1;
}

static int load_bios(struct pc *pc, const char *path, bool is_default)
{
    struct load_error e;
    u8 *data;
    size_t size;
    int rc = load_file(path, BIOS_FILE_MAX, &data, &size, &e);
    if (rc == 0) {
        rc = bios_map(pc->mmu, data, size, &e);
        free(data);
    }
    if (rc < 0 && is_default)
        no_default_firmware(path, e.msg);
    else if (rc < 0)
        fprintf(stderr, "umbra: -bios %s: %s\n", path, e.msg);
    return rc;
}

/* The VGA BIOS for the VGA's expansion ROM: the firmware copies it
 * below 1 MiB and runs it, which sets up the screen. */
static int load_vga_bios(struct pc *pc, const char *path, bool is_default)
{
    struct load_error e;
    u8 *data;
    size_t size;
    if (load_file(path, VGA_ROM_MAX, &data, &size, &e) < 0) {
        fprintf(stderr, "umbra: %s %s: %s\n", is_default ? "VGA BIOS" : "-vga-bios", path, e.msg);
        if (is_default)
            fprintf(stderr, "Install Debian's seabios package, name another directory with "
                            "-L DIR or the file with -vga-bios FILE, or give -vga none.\n");
        return -1;
    }
    int rc = size ? vga_set_rom(pc->vga, data, size) : -1;
    if (rc < 0)
        fprintf(stderr, "umbra: %s %s: the file is empty\n", is_default ? "VGA BIOS" : "-vga-bios",
                path);
    free(data);
    return rc;
}

/* The modules named by -initrd: "path [args],path [args]...". */
struct module_set {
    struct mb_module *mod;
    char **strings;
    unsigned n;
};

static void free_modules(struct module_set *ms)
{
    for (unsigned k = 0; k < ms->n; k++) {
        free((void *)ms->mod[k].data);
        free(ms->strings[k]);
    }
    free(ms->mod);
    free(ms->strings);
}

static int load_modules(const char *list, size_t max, struct module_set *ms)
{
    *ms = (struct module_set){ 0 };
    if (!list)
        return 0;
    unsigned cap = 1;
    for (const char *p = list; *p; p++)
        cap += *p == ',';
    ms->mod = calloc(cap, sizeof *ms->mod);
    ms->strings = calloc(cap, sizeof *ms->strings);
    if (!ms->mod || !ms->strings) {
        fprintf(stderr, "umbra: -initrd: out of memory\n");
        return -1;
    }
    for (const char *p = list;;) {
        size_t len = strcspn(p, ",");
        char *s = strndup(p, len);
        if (!s) {
            fprintf(stderr, "umbra: -initrd: out of memory\n");
            return -1;
        }
        /* The string holds the path and the module's arguments; the
         * file is the first word, as with QEMU. */
        char *path = strndup(s, strcspn(s, " "));
        struct load_error e;
        u8 *data = NULL;
        size_t size = 0;
        int rc = path && *path ? load_file(path, max, &data, &size, &e) : -1;
        if (rc < 0)
            fprintf(stderr, "umbra: -initrd %s: %s\n", path && *path ? path : "''",
                    path && *path ? e.msg : "empty module name");
        free(path);
        if (rc < 0) {
            free(s);
            return -1;
        }
        ms->strings[ms->n] = s;
        ms->mod[ms->n++] = (struct mb_module){ s, data, size };
        if (!p[len])
            break;
        p += len + 1;
    }
    return 0;
}

static int load_kernel(struct pc *pc, const struct cli_options *o)
{
    struct load_error e;
    struct module_set ms;
    u8 *img = NULL;
    size_t size;
    int rc = -1;
    if (load_file(o->kernel, KERNEL_MAX, &img, &size, &e) < 0) {
        fprintf(stderr, "umbra: -kernel %s: %s\n", o->kernel, e.msg);
        return -1;
    }
    if (load_modules(o->initrd, pc->mmu->ram_size, &ms) < 0)
        goto out;
    struct kernel_request k = { o->kernel, img, size, o->append, ms.mod, ms.n };
    if (kernel_boot(pc->cpu, pc->mmu, &k, &e) < 0) {
        fprintf(stderr, "umbra: -kernel %s: %s\n", o->kernel, e.msg);
        goto out;
    }
    rc = 0;
out:
    free_modules(&ms);
    free(img);
    return rc;
}

int main(int argc, char **argv)
{
    struct cli_options o;
    switch (cli_parse(argc, argv, &o, stdout, stderr)) {
    case CLI_DONE:
        return 0;
    case CLI_ERROR:
        return EXIT_USAGE;
    case CLI_RUN:
        break;
    }
    if (cli_check_images(&o, UMBRA_DEMO_BIN, stderr) < 0)
        return EXIT_USAGE;

    struct run_files rf = { NULL, NULL };
    struct pc_config cfg = {
        .ram_mib = o.ram_mib,
        .no_reboot = o.no_reboot,
        .max_insns = o.icount_limit,
        .mmu_flush = o.mmu_flush,
        .mmu_contexts = o.mmu_contexts,
        .interp = o.interp,
        .no_jit = o.no_jit,
        .apic = o.apic,
        .acpi = o.acpi,
        .virtual_clock = !o.host_clock,
        .ns_per_insn = o.icount_ns,
        .rtc_base = o.rtc_base,
        .cpu_model = o.cpu_model,
        .boot_order = o.boot_order[0] ? o.boot_order : NULL,
        .vga = o.vga,
    };
    for (unsigned i = 0; i < CLI_MAX_DRIVES && i < PC_MAX_DRIVES; i++)
        cfg.drive[i] = (struct pc_drive){ o.drive[i].file, o.drive[i].flag, o.drive[i].cdrom,
                                          o.drive[i].readonly,
                                          o.drive[i].snapshot || o.snapshot };
    struct pc *pc = NULL;
    struct dbg *dbg = NULL;
    struct sdl_display *display = NULL;
    struct tracer *tracer = NULL;
    struct prof *prof = NULL;
    struct plugins *plugins = NULL;
    int status = EXIT_USAGE;
    if (open_outputs(&o, &rf, &cfg) < 0)
        goto out;
    pc = pc_new(&cfg, o.log_mask);
    if (!pc)
        goto out;
    char fw_buf[4096];
    const char *fw = cli_firmware_path(&o, fw_buf, sizeof fw_buf);
    if (fw && load_bios(pc, fw, !o.bios) < 0)
        goto out;
    char vga_buf[4096];
    const char *vga_rom = cli_vga_bios_path(&o, vga_buf, sizeof vga_buf);
    if (vga_rom && load_vga_bios(pc, vga_rom, !o.vga_bios) < 0)
        goto out;
    if (o.kernel && load_kernel(pc, &o) < 0)
        goto out;
    /* Without firmware the loader stands in for the BIOS's MP tables. */
    if (o.kernel && o.apic && mptable_write(pc->mmu) < 0)
        fprintf(stderr, "umbra: -kernel %s: the image covers 0x%x, where the MP table goes; "
                        "the guest finds no APIC configuration\n", o.kernel, MPTABLE_GPA);
    /* Likewise for the ACPI tables, which firmware would take from fw_cfg. */
    if (o.kernel && !fw && pc->acpi_tables && acpi_tables_install(pc->acpi_tables, pc->mmu) < 0)
        fprintf(stderr, "umbra: -kernel %s: the image covers 0x%x, where the ACPI tables go; "
                        "the guest finds none\n", o.kernel, ACPI_RSDP_GPA);
    /* -serial mon:stdio: the monitor reads the terminal and passes COM1's
     * bytes on through a pipe the UART reads. */
    int mux[2] = { -1, -1 };
    if (o.serial_mux) {
        if (o.monitor) {
            fprintf(stderr, "umbra: -serial mon:stdio: the terminal already holds the "
                            "monitor, so -monitor %s cannot\n", o.monitor);
            goto out;
        }
        if (pipe(mux) < 0 || fcntl(mux[0], F_SETFL, O_NONBLOCK) < 0 ||
            fcntl(mux[1], F_SETFL, O_NONBLOCK) < 0) {
            fprintf(stderr, "umbra: -serial mon:stdio: %s\n", strerror(errno));
            goto out;
        }
        uart_set_backend(pc->com[0], stdout, mux[0]);
    }
    const char *monitor = o.serial_mux ? "stdio" : o.monitor;
    if (o.gdb_wait && !o.gdb && !monitor) {
        fprintf(stderr, "umbra: -S: nothing could start the machine; give -gdb, -s or -monitor\n");
        goto out;
    }
    if (o.gdb || monitor || o.gdb_wait || o.paging_history) {
        struct dbg_config dc = { o.gdb, o.gdb_wait, monitor, o.paging_history,
                                 o.serial_mux ? mux[1] : 0, o.kernel, o.profile_symbols };
        if (!(dbg = dbg_new(pc, &dc, stderr)))
            goto out;
    }
    /* A terminal that a serial port reads is put in raw mode. */
    if (o.serial.kind == CHR_STDIO)
        term_raw_begin(!o.serial_mux);
    if (open_display(pc, &o, &display) < 0)
        goto out;
    if (o.profile_symbols && !o.profile && !o.perfmap) {
        fprintf(stderr, "umbra: -profile-symbols %s: needs -profile or -perfmap\n",
                o.profile_symbols);
        goto out;
    }
    if (o.profile || o.perfmap) {
        /* -perfmap alone uses the profiler only for its symbols. */
        struct prof_config pcf = { o.profile ? o.profile : "/dev/null", o.kernel,
                                   o.profile_symbols };
        if (!(prof = prof_new(pc, &pcf, stderr)))
            goto out;
    }
    if (o.n_plugins && !(plugins = plugins_load(pc, o.plugin, o.n_plugins, stderr)))
        goto out;
    if ((o.log_mask & BLOCK_LOG_ITEMS) || o.dfilter || o.profile || o.perfmap ||
        plugins_want_blocks(plugins)) {
        struct trace_config tc = { .mask = o.log_mask, .prof = prof, .profile = o.profile != NULL,
                                   .perfmap = o.perfmap, .plugins = plugins };
        if (o.dfilter && dbg_parse_dfilter(o.dfilter, &tc.ranges, stderr) < 0)
            goto out;
        if (!(tracer = tracer_new(pc, &tc, stderr)))
            goto out;
    }
    if (o.profile)
        dbg_set_profiler(dbg, prof);
    status = pc_run(pc).exit_code;
    plugins_exit(plugins, status);
    if (o.profile && prof_finish(prof, stderr) < 0 && status != EXIT_USAGE)
        status = EXIT_USAGE;
    if (o.screendump && vga_screendump(pc->vga, o.screendump) < 0)
        status = EXIT_USAGE;
    if (o.textdump && vga_textdump(pc->vga, o.textdump) < 0)
        status = EXIT_USAGE;
out:
    tracer_free(tracer);
    prof_free(prof);
    plugins_free(plugins);
    dbg_free(dbg);
    term_restore();
    sdl_display_free(display);
    pc_free(pc);
    if (rf.log)
        fclose(rf.log);
    if (rf.debugcon)
        fclose(rf.debugcon);
    return status;
}
