/*
 * The command line: QEMU's spellings for the flags Umbra understands,
 * parsed into a struct cli_options.  Parsing opens no files; main.c does
 * that, so the parser can be tested with plain strings.
 */
#ifndef UMBRA_FRONTEND_CLI_H
#define UMBRA_FRONTEND_CLI_H

#include <stdio.h>

#include "common/types.h"

#define UMBRA_VERSION "0.1.0"
#define CLI_MAX_RAM_MIB 3072u
/* Firmware booted when neither -kernel nor -bios is given: SeaBIOS from
 * Debian's seabios package, looked for in -L DIR (default below). */
#define CLI_FIRMWARE_DIR "/usr/share/seabios"
#define CLI_FIRMWARE_FILE "bios-256k.bin"
/* The VGA's BIOS, in the same directory, from the same package. */
#define CLI_VGA_BIOS_FILE "vgabios-stdvga.bin"
/* -mmu-contexts: shadow address spaces kept (default, and bounds). */
#define CLI_MMU_CONTEXTS_DEFAULT 64u
#define CLI_MMU_CONTEXTS_MAX 4096u
/* -plugin: how many may be given. */
#define CLI_MAX_PLUGINS 8u

/* Where a character backend (-serial, -debugcon) sends its bytes. */
enum cli_chardev {
    CHR_STDIO,
    CHR_NONE,
    CHR_FILE,
};

struct cli_chr {
    enum cli_chardev kind;
    const char *path;     /* CHR_FILE only */
    const char *spec;     /* the argument as given, for messages */
};

/* A drive given with -hda..-hdd or -drive, at IDE index 0-3. */
struct cli_drive {
    const char *file;     /* NULL: no drive at this index */
    const char *flag;     /* the flag that gave it, for messages */
    bool cdrom;           /* media=cdrom */
    bool readonly;        /* readonly=on */
    bool snapshot;        /* snapshot=on (or -snapshot) */
};

#define CLI_MAX_DRIVES 4

/* -display: where the VGA picture is shown. */
enum cli_display {
    DISPLAY_DEFAULT, /* SDL when DISPLAY or WAYLAND_DISPLAY is set, else none */
    DISPLAY_NONE,
    DISPLAY_SDL,
};

struct cli_options {
    const char *kernel;   /* -kernel */
    const char *initrd;   /* -initrd: comma-separated module list */
    const char *append;   /* -append */
    const char *bios;     /* -bios */
    const char *firmware_dir; /* -L: where bios-256k.bin and the VGA BIOS
                               * are looked for (CLI_FIRMWARE_DIR) */
    u32 ram_mib;          /* -m */
    bool no_reboot;       /* -no-reboot */
    u32 log_mask;         /* -d */
    const char *log_file; /* -D */
    const char *dfilter;  /* -dfilter: block ranges for -d's block items */
    const char *profile;  /* -profile FILE: the profiler's report, or NULL */
    const char *profile_symbols; /* -profile-symbols: a System.map, or NULL */
    bool perfmap;         /* -perfmap: /tmp/perf-PID.map names translations */
    const char *plugin[CLI_MAX_PLUGINS]; /* -plugin FILE.so[,key=value...] */
    unsigned n_plugins;
    bool serial_given;
    bool serial_mux;      /* -serial mon:stdio: COM1 and the monitor share the
                           * terminal (Ctrl-A c switches) */
    struct cli_chr serial;   /* -serial */
    struct cli_chr debugcon; /* -debugcon */
    u64 icount_limit;     /* -icount-limit, 0 = none */
    bool mmu_flush;       /* -mmu flush: drop all translations on every CR3
                           * load instead of keeping shadow address spaces */
    bool interp;          /* -exec interp: no block executor */
    bool no_jit;          /* -exec block or interp: no translation */
    u32 mmu_contexts;     /* -mmu-contexts: shadow address spaces kept */
    bool apic;            /* local APIC + I/O APIC + MP table (-apic, -no-apic) */
    bool acpi;            /* ACPI PM registers and tables (-no-acpi clears) */
    bool host_clock;      /* -clock host (the default); false with -clock
                           * virtual or -icount */
    u32 icount_ns;        /* deterministic clock: ns per instruction, 0 =
                           * the board's default (10 ns, -clock virtual);
                           * 1 << N with -icount shift=N */
    i64 rtc_base;         /* -rtc base=DATE: epoch seconds; 0 = the host's time */
    const struct cpu_model *cpu_model; /* -cpu NAME; NULL = the default */
    const char *gdb;      /* -gdb DEV (-s: tcp::1234), NULL = no gdb stub */
    bool gdb_wait;        /* -S: start stopped */
    const char *monitor;  /* -monitor DEV, NULL = none */
    u32 paging_history;   /* -paging-history N: paging events kept, 0 = none */
    struct cli_drive drive[CLI_MAX_DRIVES]; /* IDE index 0-3 */
    bool snapshot;        /* -snapshot: every drive's writes are thrown away */
    char boot_order[8];   /* -boot: device letters from "acdn", "" = default */
    bool vga;             /* -vga std (default) or none */
    const char *vga_bios; /* -vga-bios: the VGA's expansion ROM, NULL =
                           * CLI_VGA_BIOS_FILE in the firmware directory */
    const char *textdump; /* -textdump-at-exit: text screen written at the end */
    const char *screendump; /* -screendump-at-exit: PNG written when the run ends */
    enum cli_display display; /* -display, -nographic */
};

/* -icount shift=N: the largest N accepted (as QEMU's). */
#define CLI_ICOUNT_MAX_SHIFT 10u

enum cli_status {
    CLI_RUN,   /* options parsed: boot the machine */
    CLI_DONE,  /* informational output printed (help, version): exit 0 */
    CLI_ERROR, /* a message naming the flag was printed: exit 2 */
};

/*
 * Parse argv.  Informational output goes to `out`, errors to `err`.
 * Does not check that an image was given; see cli_check_images().
 */
enum cli_status cli_parse(int argc, char **argv, struct cli_options *o, FILE *out,
                          FILE *err) MUST_CHECK;

/* Print the flag list, one line per flag. */
void cli_usage(FILE *f);

/*
 * Check the flags that only make sense together (-initrd and -append need
 * -kernel).  With neither -kernel nor -bios the machine boots the default
 * firmware (cli_firmware_path()).  Returns 0 or -1 after a message on
 * `err`; `demo` is the path of the built demo ROM to suggest.
 */
int cli_check_images(const struct cli_options *o, const char *demo, FILE *err) MUST_CHECK;

/* The firmware to map: -bios FILE, else DIR/bios-256k.bin with -L DIR
 * or CLI_FIRMWARE_DIR, or NULL with -kernel and no -bios.  Written into
 * buf (len bytes) when it is built from a directory. */
const char *cli_firmware_path(const struct cli_options *o, char *buf, size_t len);

/* The VGA BIOS given to the VGA's expansion ROM BAR: -vga-bios FILE, else
 * DIR/vgabios-stdvga.bin as for the firmware; NULL when no firmware runs
 * (-kernel alone) or there is no VGA (-vga none). */
const char *cli_vga_bios_path(const struct cli_options *o, char *buf, size_t len);

#endif
