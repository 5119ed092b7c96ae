/*
 * Command-line parsing with QEMU's flag spellings (qemu-options.hx), so a
 * QEMU command line for a bare-metal guest runs unchanged.  One table
 * lists every flag with its argument and help text; --help prints that
 * table, so the help cannot drift from what is accepted.  Both -flag and
 * --flag are accepted, as QEMU does.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "cpu/cpu.h"
#include "debug/debug.h"

typedef int (*cli_handler)(struct cli_options *o, const char *flag, const char *arg,
                           FILE *out, FILE *err);

struct cli_flag {
    const char *name;    /* without the leading dash */
    const char *metavar; /* NULL: the flag takes no argument */
    const char *help;
    cli_handler fn;
};

/* Parse a decimal u64 with nothing after it.  Returns 0 or -1. */
static int parse_u64(const char *s, u64 *v, const char **rest)
{
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno)
        return -1;
    *v = x;
    *rest = end;
    return 0;
}

static int set_chr(struct cli_chr *chr, const char *flag, const char *arg, FILE *err)
{
    chr->spec = arg;
    chr->path = NULL;
    if (!strcmp(arg, "stdio")) {
        chr->kind = CHR_STDIO;
    } else if (!strcmp(arg, "none") || !strcmp(arg, "null")) {
        chr->kind = CHR_NONE;
    } else if (!strncmp(arg, "file:", 5) && arg[5]) {
        chr->kind = CHR_FILE;
        chr->path = arg + 5;
    } else {
        fprintf(err, "umbra: %s %s: expected stdio, none or file:PATH\n", flag, arg);
        return -1;
    }
    return 0;
}

static int h_kernel(struct cli_options *o, const char *flag, const char *arg, FILE *out, FILE *err)
{
    o->kernel = arg;
    return 0;
}

static int h_initrd(struct cli_options *o, const char *flag, const char *arg, FILE *out, FILE *err)
{
    o->initrd = arg;
    return 0;
}

static int h_append(struct cli_options *o, const char *flag, const char *arg, FILE *out, FILE *err)
{
    o->append = arg;
    return 0;
}

static int h_bios(struct cli_options *o, const char *flag, const char *arg, FILE *out, FILE *err)
{
    o->bios = arg;
    return 0;
}

static int h_firmware_dir(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                          FILE *err)
{
    o->firmware_dir = arg;
    return 0;
}

static int set_drive(struct cli_options *o, const char *flag, int index, const char *file,
                     bool cdrom, bool readonly, bool snapshot, FILE *err)
{
    if (index < 0) {
        for (index = 0; index < (int)CLI_MAX_DRIVES && o->drive[index].file; index++)
            ;
        if (index == CLI_MAX_DRIVES) {
            fprintf(err, "umbra: %s %s: all four IDE drive positions are taken\n", flag, file);
            return -1;
        }
    }
    if (o->drive[index].file) {
        fprintf(err, "umbra: %s %s: IDE index %d is already %s\n", flag, file, index,
                o->drive[index].file);
        return -1;
    }
    o->drive[index] = (struct cli_drive){ file, flag, cdrom, readonly || cdrom, snapshot };
    return 0;
}

/* -cdrom FILE: an ISO image in an ATAPI CD-ROM drive at IDE index 2
 * (QEMU's secondary master). */
static int h_cdrom(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                   FILE *err)
{
    return set_drive(o, flag, 2, arg, true, true, false, err);
}

/* -hda/-hdb/-hdc/-hdd FILE: a raw disk image at IDE index 0-3. */
static int h_hdx(struct cli_options *o, const char *flag, const char *arg, FILE *out, FILE *err)
{
    const char *name = flag[1] == '-' ? flag + 2 : flag + 1;
    return set_drive(o, flag, name[2] - 'a', arg, false, false, false, err);
}

static int bool_opt(const char *flag, const char *key, const char *v, bool *b, FILE *err)
{
    if (!strcmp(v, "on"))
        *b = true;
    else if (!strcmp(v, "off"))
        *b = false;
    else {
        fprintf(err, "umbra: %s: %s=%s: expected on or off\n", flag, key, v);
        return -1;
    }
    return 0;
}

/* -drive file=F[,format=raw][,if=ide][,index=N][,media=disk|cdrom]
 *        [,readonly=on|off][,snapshot=on|off], QEMU's spelling. */
static int h_drive(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                   FILE *err)
{
    char buf[4096];
    if (strlen(arg) >= sizeof buf) {
        fprintf(err, "umbra: %s: argument too long\n", flag);
        return -1;
    }
    strcpy(buf, arg);
    const char *file = NULL;
    int index = -1;
    bool cdrom = false, ro = false, snap = false;
    for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) {
            fprintf(err, "umbra: %s %s: '%s' is not key=value\n", flag, arg, kv);
            return -1;
        }
        *eq = 0;
        const char *v = eq + 1;
        if (!strcmp(kv, "file")) {
            /* Point into argv, which outlives the options: the value
             * ends at the next comma of arg. */
            file = arg + (v - buf);
        } else if (!strcmp(kv, "format")) {
            if (strcmp(v, "raw")) {
                fprintf(err, "umbra: %s %s: format=%s: only raw images are supported\n", flag,
                        arg, v);
                return -1;
            }
        } else if (!strcmp(kv, "if")) {
            if (strcmp(v, "ide")) {
                fprintf(err, "umbra: %s %s: if=%s: only if=ide is supported\n", flag, arg, v);
                return -1;
            }
        } else if (!strcmp(kv, "index")) {
            if (!(v[0] >= '0' && v[0] <= '3' && !v[1])) {
                fprintf(err, "umbra: %s %s: index=%s: expected 0-3\n", flag, arg, v);
                return -1;
            }
            index = v[0] - '0';
        } else if (!strcmp(kv, "media")) {
            if (!strcmp(v, "cdrom"))
                cdrom = true;
            else if (!strcmp(v, "disk"))
                cdrom = false;
            else {
                fprintf(err, "umbra: %s %s: media=%s: expected disk or cdrom\n", flag, arg, v);
                return -1;
            }
        } else if (!strcmp(kv, "readonly")) {
            if (bool_opt(flag, kv, v, &ro, err) < 0)
                return -1;
        } else if (!strcmp(kv, "snapshot")) {
            if (bool_opt(flag, kv, v, &snap, err) < 0)
                return -1;
        } else {
            fprintf(err, "umbra: %s %s: unknown option '%s'\n", flag, arg, kv);
            return -1;
        }
    }
    if (!file || !*file || *file == ',') {
        fprintf(err, "umbra: %s %s: no file= given\n", flag, arg);
        return -1;
    }
    size_t len = strcspn(file, ",");
    if (file[len]) {
        /* Not the last option: the name needs its own copy. */
        char *copy = strndup(file, len);
        if (!copy) {
            fprintf(err, "umbra: %s: out of memory\n", flag);
            return -1;
        }
        file = copy; /* kept for the whole run, like argv */
    }
    return set_drive(o, flag, index, file, cdrom, ro, snap, err);
}

static int h_snapshot(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                      FILE *err)
{
    o->snapshot = true;
    return 0;
}

/* -boot [order=]DRIVES | once=DRIVES, with QEMU's letters: a floppy,
 * c first disk, d CD-ROM, n network.  Other suboptions (menu=, splash=,
 * reboot-timeout=, strict=) are accepted and ignored. */
static int h_boot(struct cli_options *o, const char *flag, const char *arg, FILE *out, FILE *err)
{
    char buf[256];
    if (strlen(arg) >= sizeof buf) {
        fprintf(err, "umbra: %s: argument too long\n", flag);
        return -1;
    }
    strcpy(buf, arg);
    for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        const char *letters = NULL;
        if (!strchr(kv, '='))
            letters = kv;
        else if (!strncmp(kv, "order=", 6) || !strncmp(kv, "once=", 5))
            letters = strchr(kv, '=') + 1;
        else if (!strncmp(kv, "menu=", 5) || !strncmp(kv, "splash=", 7) ||
                 !strncmp(kv, "splash-time=", 12) || !strncmp(kv, "reboot-timeout=", 15) ||
                 !strncmp(kv, "strict=", 7))
            continue;
        else {
            fprintf(err, "umbra: %s %s: unknown suboption '%s'\n", flag, arg, kv);
            return -1;
        }
        size_t n = strlen(letters);
        if (n == 0 || n >= sizeof o->boot_order || strspn(letters, "acdn") != n) {
            fprintf(err, "umbra: %s %s: expected drive letters a, c, d, n (e.g. -boot c "
                         "or -boot order=dc)\n", flag, arg);
            return -1;
        }
        strcpy(o->boot_order, letters);
    }
    return 0;
}

/* -m SIZE: MiB by default; QEMU's M and G suffixes are accepted too. */
static int h_mem(struct cli_options *o, const char *flag, const char *arg, FILE *out, FILE *err)
{
    u64 v;
    const char *rest;
    if (parse_u64(arg, &v, &rest) < 0 ||
        !(rest[0] == 0 || (rest[1] == 0 && strchr("MmGg", rest[0])))) {
        fprintf(err, "umbra: %s %s: not a size in MiB (e.g. -m 128)\n", flag, arg);
        return -1;
    }
    if (rest[0] == 'G' || rest[0] == 'g')
        v = v > CLI_MAX_RAM_MIB ? v : v * 1024;
    if (v == 0) {
        fprintf(err, "umbra: %s %s: the guest needs at least 1 MiB of RAM\n", flag, arg);
        return -1;
    }
    if (v > CLI_MAX_RAM_MIB) {
        fprintf(err, "umbra: %s %s: at most %u MiB of RAM is supported\n", flag, arg,
                CLI_MAX_RAM_MIB);
        return -1;
    }
    o->ram_mib = (u32)v;
    return 0;
}

static int h_no_reboot(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                       FILE *err)
{
    o->no_reboot = true;
    return 0;
}

static int h_no_apic(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                     FILE *err)
{
    o->apic = false;
    return 0;
}

static int h_no_acpi(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                     FILE *err)
{
    o->acpi = false;
    return 0;
}

static int h_apic(struct cli_options *o, const char *flag, const char *arg, FILE *out, FILE *err)
{
    o->apic = true;
    return 0;
}

static int h_clock(struct cli_options *o, const char *flag, const char *arg, FILE *out, FILE *err)
{
    if (!strcmp(arg, "virtual")) {
        o->host_clock = false;
        o->icount_ns = 0;
    } else if (!strcmp(arg, "host")) {
        o->host_clock = true;
    } else {
        fprintf(err, "umbra: %s %s: expected virtual or host\n", flag, arg);
        return -1;
    }
    return 0;
}

/* -rtc base=utc|YYYY-MM-DD[THH:MM:SS]: what the RTC reads at power-on
 * (QEMU's spelling).  A fixed date makes a run under -clock virtual
 * repeat exactly. */
static int h_rtc(struct cli_options *o, const char *flag, const char *arg, FILE *out, FILE *err)
{
    if (!strcmp(arg, "base=utc")) {
        o->rtc_base = 0;
        return 0;
    }
    struct tm tm = { 0 };
    char tail = 0;
    int n = sscanf(arg, "base=%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &tail);
    if ((n != 3 && n != 6) || tm.tm_year < 1970 || tm.tm_year > 2099 || tm.tm_mon < 1 ||
        tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 59) {
        fprintf(err, "umbra: %s %s: expected base=utc or base=YYYY-MM-DD[THH:MM:SS]\n", flag,
                arg);
        return -1;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    o->rtc_base = (i64)timegm(&tm);
    return 0;
}

/* -icount shift=N (QEMU's spelling; a bare N means the same): a
 * deterministic clock where each instruction takes 2^N ns.  QEMU's other
 * suboptions (auto, sleep, align, rr) have no counterpart here. */
static int h_icount_shift(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                          FILE *err)
{
    const char *n = !strncmp(arg, "shift=", 6) ? arg + 6 : arg;
    u64 v;
    const char *rest;
    if (parse_u64(n, &v, &rest) < 0 || *rest || v > CLI_ICOUNT_MAX_SHIFT) {
        fprintf(err, "umbra: %s %s: expected shift=N with N from 0 to %u (each instruction "
                     "takes 2^N ns)\n", flag, arg, CLI_ICOUNT_MAX_SHIFT);
        return -1;
    }
    o->host_clock = false;
    o->icount_ns = 1u << v;
    return 0;
}

static int h_debug(struct cli_options *o, const char *flag, const char *arg, FILE *out, FILE *err)
{
    if (!strcmp(arg, "help")) {
        fprintf(out, "Log categories for -d (comma-separated):\n");
        log_list_categories(out);
        return 1;
    }
    u32 mask = 0;
    if (log_parse_mask(arg, &mask) < 0)
        return -1;
    o->log_mask |= mask;
    return 0;
}

static int h_logfile(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                     FILE *err)
{
    o->log_file = arg;
    return 0;
}

static int h_dfilter(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                     FILE *err)
{
    struct trace_ranges r;
    if (dbg_parse_dfilter(arg, &r, err) < 0)
        return -1;
    o->dfilter = arg;
    return 0;
}

static int h_profile(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                     FILE *err)
{
    o->profile = arg;
    return 0;
}

static int h_profile_symbols(struct cli_options *o, const char *flag, const char *arg,
                             FILE *out, FILE *err)
{
    o->profile_symbols = arg;
    return 0;
}

static int h_perfmap(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                     FILE *err)
{
    o->perfmap = true;
    return 0;
}

static int h_plugin(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                    FILE *err)
{
    if (o->n_plugins == CLI_MAX_PLUGINS) {
        fprintf(err, "umbra: %s %s: at most %u plugins\n", flag, arg, CLI_MAX_PLUGINS);
        return -1;
    }
    o->plugin[o->n_plugins++] = arg;
    return 0;
}

/* -nographic: no window (the console stays where -serial puts it). */
static int h_nographic(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                       FILE *err)
{
    o->display = DISPLAY_NONE;
    return 0;
}

static int h_display(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                     FILE *err)
{
    /* QEMU accepts suboptions after a comma (sdl,gl=off); none apply here. */
    size_t n = strcspn(arg, ",");
    if (n == 3 && !strncmp(arg, "sdl", 3)) {
        o->display = DISPLAY_SDL;
    } else if (n == 4 && !strncmp(arg, "none", 4)) {
        o->display = DISPLAY_NONE;
    } else {
        fprintf(err, "umbra: %s %s: expected sdl or none\n", flag, arg);
        return -1;
    }
    return 0;
}

static int h_vga(struct cli_options *o, const char *flag, const char *arg, FILE *out, FILE *err)
{
    if (!strcmp(arg, "std")) {
        o->vga = true;
    } else if (!strcmp(arg, "none")) {
        o->vga = false;
    } else {
        fprintf(err, "umbra: %s %s: expected std or none\n", flag, arg);
        return -1;
    }
    return 0;
}

static int h_vga_bios(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                      FILE *err)
{
    o->vga_bios = arg;
    return 0;
}

static int h_textdump(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                      FILE *err)
{
    o->textdump = arg;
    return 0;
}

static int h_screendump(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                        FILE *err)
{
    o->screendump = arg;
    return 0;
}

static int h_serial(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                    FILE *err)
{
    o->serial_given = true;
    o->serial_mux = !strcmp(arg, "mon:stdio");
    return set_chr(&o->serial, flag, o->serial_mux ? "stdio" : arg, err);
}

static int h_debugcon(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                      FILE *err)
{
    return set_chr(&o->debugcon, flag, arg, err);
}

static int h_icount(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                    FILE *err)
{
    u64 v;
    const char *rest;
    if (parse_u64(arg, &v, &rest) < 0 || *rest || v == 0) {
        fprintf(err, "umbra: %s %s: expected a positive number of instructions\n", flag, arg);
        return -1;
    }
    o->icount_limit = v;
    return 0;
}

/* -mmu shadow|flush: how the virtual MMU handles a change of address space. */
static int h_mmu(struct cli_options *o, const char *flag, const char *arg, FILE *out, FILE *err)
{
    if (!strcmp(arg, "shadow")) {
        o->mmu_flush = false;
    } else if (!strcmp(arg, "flush")) {
        o->mmu_flush = true;
    } else {
        fprintf(err, "umbra: %s %s: expected shadow or flush\n", flag, arg);
        return -1;
    }
    return 0;
}

/* -exec jit|block|interp: blocks translated to host code, pre-decoded
 * blocks replayed through the handlers, or the plain one-instruction
 * interpreter (the reference both are tested against). */
static int h_exec(struct cli_options *o, const char *flag, const char *arg, FILE *out, FILE *err)
{
    if (!strcmp(arg, "jit")) {
        o->interp = false;
        o->no_jit = false;
    } else if (!strcmp(arg, "block")) {
        o->interp = false;
        o->no_jit = true;
    } else if (!strcmp(arg, "interp")) {
        o->interp = true;
        o->no_jit = true;
    } else {
        fprintf(err, "umbra: %s %s: expected jit, block or interp\n", flag, arg);
        return -1;
    }
    return 0;
}

static int h_mmu_contexts(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                          FILE *err)
{
    u64 v;
    const char *rest;
    if (parse_u64(arg, &v, &rest) < 0 || *rest || v == 0 || v > CLI_MMU_CONTEXTS_MAX) {
        fprintf(err, "umbra: %s %s: expected a number of address spaces from 1 to %u\n", flag,
                arg, CLI_MMU_CONTEXTS_MAX);
        return -1;
    }
    o->mmu_contexts = (u32)v;
    return 0;
}

/* -cpu NAME|help: the processor model CPUID describes (QEMU's names). */
static int h_cpu(struct cli_options *o, const char *flag, const char *arg, FILE *out, FILE *err)
{
    size_t n;
    const struct cpu_model *m = cpu_models(&n);
    if (!strcmp(arg, "help")) {
        fprintf(out, "Available CPU models:\n");
        for (size_t k = 0; k < n; k++)
            fprintf(out, "  %-10s %s\n", m[k].name, m[k].desc);
        return 1;
    }
    o->cpu_model = cpu_model_find(arg);
    if (!o->cpu_model) {
        fprintf(err, "umbra: %s %s: unknown CPU model (-cpu help lists them)\n", flag, arg);
        return -1;
    }
    return 0;
}

/* -gdb DEV, -s, -S, -monitor DEV: the debugger (debug/). */
static int h_gdb(struct cli_options *o, const char *flag, const char *arg, FILE *out, FILE *err)
{
    if (!dbg_gdb_spec_ok(arg, flag, err))
        return -1;
    o->gdb = arg;
    return 0;
}

static int h_gdb_default(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                         FILE *err)
{
    o->gdb = "tcp::1234";
    return 0;
}

static int h_gdb_wait(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                      FILE *err)
{
    o->gdb_wait = true;
    return 0;
}

static int h_monitor(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                     FILE *err)
{
    if (!dbg_monitor_spec_ok(arg, flag, err))
        return -1;
    o->monitor = arg;
    return 0;
}

#define CLI_HISTORY_MAX (1u << 20)

static int h_paging_history(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                            FILE *err)
{
    u64 v;
    const char *rest;
    if (parse_u64(arg, &v, &rest) < 0 || *rest || v == 0 || v > CLI_HISTORY_MAX) {
        fprintf(err, "umbra: %s %s: expected a number of events from 1 to %u\n", flag, arg,
                CLI_HISTORY_MAX);
        return -1;
    }
    o->paging_history = (u32)v;
    return 0;
}

static int h_help(struct cli_options *o, const char *flag, const char *arg, FILE *out, FILE *err)
{
    cli_usage(out);
    return 1;
}

static int h_version(struct cli_options *o, const char *flag, const char *arg, FILE *out,
                     FILE *err)
{
    fprintf(out, "umbra version " UMBRA_VERSION "\n");
    return 1;
}

static const struct cli_flag flags[] = {
    { "kernel", "FILE", "boot a Linux bzImage or a Multiboot kernel (ELF32, a.out kludge)",
      h_kernel },
    { "initrd", "FILE[,FILE...]", "initial ramdisk (Linux) or Multiboot modules",
      h_initrd },
    { "append", "STR", "kernel command line", h_append },
    { "bios", "FILE", "firmware image (64 KiB-2 MiB) mapped below 4 GiB and 1 MiB", h_bios },
    { "L", "DIR", "directory of the default firmware (" CLI_FIRMWARE_FILE ", default "
      CLI_FIRMWARE_DIR ")", h_firmware_dir },
    { "hda", "FILE", "raw disk image as IDE primary master (index 0)", h_hdx },
    { "hdb", "FILE", "raw disk image as IDE primary slave (index 1)", h_hdx },
    { "hdc", "FILE", "raw disk image as IDE secondary master (index 2)", h_hdx },
    { "hdd", "FILE", "raw disk image as IDE secondary slave (index 3)", h_hdx },
    { "cdrom", "FILE", "ISO image in an ATAPI CD-ROM drive (IDE index 2)", h_cdrom },
    { "drive", "file=F[,...]",
      "IDE drive: file=F,format=raw,if=ide,index=N,media=disk|cdrom,readonly=on|off,"
      "snapshot=on|off",
      h_drive },
    { "snapshot", NULL, "drive writes go to memory and are thrown away at exit", h_snapshot },
    { "boot", "[order=]DRIVES", "boot order: c first disk, d CD-ROM, a floppy, n network "
      "(default cad)", h_boot },
    { "m", "MiB", "guest RAM in MiB (default 128, at most 3072)", h_mem },
    { "cpu", "NAME|help",
      "processor model: umbra (default, SSE2), pentium2, pentium3, pentium4, qemu32, max",
      h_cpu },
    { "no-reboot", NULL, "exit (status 3) on triple fault instead of resetting", h_no_reboot },
    { "no-apic", NULL, "no local APIC, I/O APIC or MP table: an 8259A-only PC", h_no_apic },
    { "apic", NULL, "a local APIC, an I/O APIC and an MP table (the default)", h_apic },
    { "no-acpi", NULL,
      "no ACPI: neither the power management registers nor the tables (a guest cannot "
      "power itself off)",
      h_no_acpi },
    { "clock", "host|virtual",
      "guest time follows the host clock (default), or retired instructions, 10 ns each "
      "(reproducible)",
      h_clock },
    { "rtc", "base=utc|DATE", "RTC time at power-on: the host's (default) or DATE, YYYY-MM-DD[THH:MM:SS] UTC",
      h_rtc },
    { "icount", "shift=N",
      "reproducible time from retired instructions, 2^N ns each (N 0-10; shift=3 is 8 ns)",
      h_icount_shift },
    { "d", "LIST", "enable log categories (-d help lists them)", h_debug },
    { "D", "FILE", "write the log to FILE instead of stderr", h_logfile },
    { "dfilter", "RANGE[,RANGE...]",
      "-d in_asm/out_asm/exec only for blocks starting in ADDR+LEN, ADDR-LEN or ADDR..LAST (hex)",
      h_dfilter },
    { "profile", "FILE",
      "profile guest blocks: JSON report in FILE, folded stacks in FILE.folded, summary on stderr",
      h_profile },
    { "profile-symbols", "FILE", "guest symbols for -profile and -perfmap, System.map format",
      h_profile_symbols },
    { "perfmap", NULL, "name translated guest blocks in /tmp/perf-PID.map for perf(1)",
      h_perfmap },
    { "plugin", "FILE.so[,key=value...]",
      "load a plugin (debug/umbra-plugin.h); may be given up to 8 times", h_plugin },
    { "nographic", NULL, "no graphical display (there is none yet)", h_nographic },
    { "display", "none", "display backend; only none exists", h_display },
    { "nographic", NULL, "no window: the same as -display none", h_nographic },
    { "display", "sdl|none",
      "show the screen in an SDL window (default when DISPLAY or WAYLAND_DISPLAY is set) or "
      "nowhere",
      h_display },
    { "vga", "std|none", "standard VGA with Bochs VBE extensions (default), or no adapter",
      h_vga },
    { "vga-bios", "FILE", "the VGA's expansion ROM under firmware boot (default "
      CLI_VGA_BIOS_FILE " in the -L directory)", h_vga_bios },
    { "screendump-at-exit", "FILE", "write the screen as a PNG file when the run ends",
      h_screendump },
    { "textdump-at-exit", "FILE", "write the text-mode screen's characters when the run ends",
      h_textdump },
    { "serial", "stdio|mon:stdio|none|file:PATH",
      "backend of COM1; mon:stdio shares the terminal with the monitor (Ctrl-A h)",
      h_serial },
    { "debugcon", "stdio|none|file:PATH", "where port 0xE9 output goes (default stdio)",
      h_debugcon },
    { "icount-limit", "N", "stop after N instructions with exit status 4", h_icount },
    { "mmu", "shadow|flush",
      "on a CR3 load keep shadow page tables per address space (default), or flush all",
      h_mmu },
    { "mmu-contexts", "N", "shadow address spaces kept, 1-4096 (default 64)", h_mmu_contexts },
    { "exec", "jit|block|interp",
      "translate hot blocks to host code (default), replay pre-decoded blocks, or decode every instruction as it runs",
      h_exec },
    { "gdb", "tcp::PORT|unix:PATH", "gdb remote stub on 127.0.0.1:PORT or a unix socket",
      h_gdb },
    { "s", NULL, "shorthand for -gdb tcp::1234", h_gdb_default },
    { "S", NULL, "start stopped: wait for gdb's or the monitor's continue", h_gdb_wait },
    { "monitor", "stdio|unix:PATH|tcp:HOST:PORT",
      "monitor on the terminal or a socket (,server,nowait accepted; 'help' lists commands)",
      h_monitor },
    { "paging-history", "N",
      "keep the last N paging events (CR3 loads, page-table writes, INVLPG, #PF) for the monitor",
      h_paging_history },
    { "help", NULL, "print this help and exit (also -h)", h_help },
    { "version", NULL, "print the version and exit", h_version },
};

void cli_usage(FILE *f)
{
    fprintf(f, "usage: umbra [options]\n\nOptions:\n");
    for (size_t k = 0; k < ARRAY_SIZE(flags); k++) {
        char left[64];
        snprintf(left, sizeof left, "-%s%s%s", flags[k].name, flags[k].metavar ? " " : "",
                 flags[k].metavar ? flags[k].metavar : "");
        fprintf(f, "  %-31s %s\n", left, flags[k].help);
    }
    fprintf(f, "\nExit status: the guest's exit device value v gives (v << 1) | 1;\n"
               "0 after HLT with interrupts off or when the guest powers off (ACPI S5);\n"
               "2 for a usage or loading error;\n"
               "3 on triple fault with -no-reboot; 4 when -icount-limit is reached.\n");
}

static const struct cli_flag *find_flag(const char *arg)
{
    if (arg[0] != '-' || !arg[1])
        return NULL;
    const char *name = arg + 1;
    if (name[0] == '-' && name[1])
        name++;
    if (!strcmp(name, "h"))
        name = "help";
    for (size_t k = 0; k < ARRAY_SIZE(flags); k++)
        if (!strcmp(flags[k].name, name))
            return &flags[k];
    return NULL;
}

enum cli_status cli_parse(int argc, char **argv, struct cli_options *o, FILE *out, FILE *err)
{
    *o = (struct cli_options){
        .ram_mib = 128,
        .serial = { CHR_NONE, NULL, "none" },
        .debugcon = { CHR_STDIO, NULL, "stdio" },
        .mmu_contexts = CLI_MMU_CONTEXTS_DEFAULT,
        .apic = true,
        .acpi = true,
        .host_clock = true,
        .vga = true,
    };
    for (int k = 1; k < argc; k++) {
        const struct cli_flag *f = find_flag(argv[k]);
        if (!f) {
            if (argv[k][0] == '-')
                fprintf(err, "umbra: unknown option '%s' (try --help)\n", argv[k]);
            else
                fprintf(err, "umbra: unexpected argument '%s' (images are given with "
                             "-kernel or -bios; try --help)\n", argv[k]);
            return CLI_ERROR;
        }
        const char *arg = NULL;
        if (f->metavar) {
            if (k + 1 >= argc) {
                fprintf(err, "umbra: option '%s' needs an argument (%s)\n", argv[k], f->metavar);
                return CLI_ERROR;
            }
            arg = argv[++k];
        }
        int rc = f->fn(o, argv[f->metavar ? k - 1 : k], arg, out, err);
        if (rc < 0)
            return CLI_ERROR;
        if (rc > 0)
            return CLI_DONE;
    }
    return CLI_RUN;
}

int cli_check_images(const struct cli_options *o, const char *demo, FILE *err)
{
    if (!o->kernel && (o->initrd || o->append)) {
        fprintf(err, "umbra: %s is only allowed with -kernel\n", o->initrd ? "-initrd" : "-append");
        return -1;
    }
    if (o->vga_bios && !o->vga) {
        fprintf(err, "umbra: -vga-bios %s: there is no display adapter (-vga none)\n",
                o->vga_bios);
        return -1;
    }
    (void)demo;
    return 0;
}

const char *cli_firmware_path(const struct cli_options *o, char *buf, size_t len)
{
    if (o->bios)
        return o->bios;
    if (o->kernel)
        return NULL;
    snprintf(buf, len, "%s/%s", o->firmware_dir ? o->firmware_dir : CLI_FIRMWARE_DIR,
             CLI_FIRMWARE_FILE);
    return buf;
}

const char *cli_vga_bios_path(const struct cli_options *o, char *buf, size_t len)
{
    if (!o->vga || (o->kernel && !o->bios))
        return NULL;
    if (o->vga_bios)
        return o->vga_bios;
    snprintf(buf, len, "%s/%s", o->firmware_dir ? o->firmware_dir : CLI_FIRMWARE_DIR,
             CLI_VGA_BIOS_FILE);
    return buf;
}
