/*
 * The PC board: creates the bus (mmu/), the CPU and the chips, wires them
 * together and runs the machine.  frontend/ builds a struct cpu_model;

struct pc_config from
 * the command line and calls pc_new()/pc_run().
 */
#ifndef UMBRA_DEVICES_PC_H
#define UMBRA_DEVICES_PC_H

#include <stdio.h>

#include "common/counters.h"
#include "common/log.h"
#include "common/types.h"
#include "devices/i440fx.h"
#include "devices/ioapic.h"
#include "devices/irq.h"
#include "devices/lapic.h"
#include "devices/pci.h"
#include "devices/pic.h"
#include "devices/piix3.h"
#include "devices/pit.h"
#include "devices/pm.h"
#include "devices/rtc.h"

struct cpu;
struct mmu;
struct uart;
struct i8042;
struct testdev;
struct fwcfg;
struct vga;
struct blocks;
struct ide;
struct acpi_tables;

/* A drive on the IDE controller (-hda..-hdd, -drive). */
struct pc_drive {
    const char *path;     /* image file; NULL = no drive at this index */
    const char *flag;     /* the flag that named it, for messages */
    bool cdrom;           /* media=cdrom: an ATAPI CD-ROM drive */
    bool readonly;        /* readonly=on (always for a CD) */
    bool snapshot;        /* writes kept in memory, the file untouched */
};

#define PC_MAX_DRIVES 4

struct pc_config {
    u32 ram_mib;          /* -m */
    bool no_reboot;       /* -no-reboot: reset/triple fault ends the run */
    u64 max_insns;        /* -icount-limit: 0 = unlimited */
    FILE *debugcon;       /* where port 0xE9 and 0x402 output goes (NULL = stdout) */
    bool debugcon_off;    /* -debugcon none: that output is dropped */
    FILE *log_out;        /* -D: log destination (NULL = stderr) */
    const char *serial;   /* -serial backend for COM1 (NULL = none) */
    bool mmu_flush;       /* -mmu flush: no shadow address spaces kept */
    u32 mmu_contexts;     /* -mmu-contexts: shadow address spaces (0 = 64) */
    bool interp;          /* -exec interp: no block executor */
    bool no_jit;          /* -exec block: blocks replayed, not translated */
    bool virtual_clock;   /* time from the retired-instruction count, not
                           * CLOCK_MONOTONIC (the default when false) */
    u32 ns_per_insn;      /* virtual_clock: ns per instruction, 0 = PC_NS_PER_INSN */
    i64 rtc_base;         /* RTC start, epoch seconds; 0 = host wall clock */
    bool apic;            /* a local APIC and an I/O APIC (-no-apic: none) */
    bool acpi;            /* ACPI power management hardware and tables
                           * (-no-acpi: neither) */
    bool vga;             /* a standard VGA with the Bochs VBE extension
                           * (-vga std); false: no display adapter */
    const struct cpu_model *cpu_model; /* -cpu NAME; NULL = the default */
    struct pc_drive drive[PC_MAX_DRIVES]; /* IDE index 0-3 */
    const char *boot_order; /* -boot: device letters (a floppy, c disk,
                             * d CD-ROM, n network), NULL = "cad" */
};

/* Outcome of a run. */
struct pc_result {
    int exit_code;        /* process exit status the frontend should use */
    bool exited_by_guest; /* the guest wrote the exit port */
};

/* Nanoseconds of virtual time per retired instruction with the virtual
 * clock's default rate (100 MIPS nominal); also the period of the TSC and
 * of the local APIC's bus clock (100 MHz) whatever the clock. */
#define PC_NS_PER_INSN 10u

/* A chip with a timer: brought up to `now`, returns its next deadline
 * (ns of virtual time) or TIME_NEVER. */
typedef u64 (*pc_timer_fn)(void *opaque, u64 now);

struct pc_timer {
    pc_timer_fn update;
    void *opaque;
};

#define PC_MAX_TIMERS 8

/*
 * A debugger driving the run loop (debug/ registers one; the board knows
 * it only through these calls).  `poll` runs before every slice and may
 * block while the debugger holds the machine stopped; it returns the most
 * instructions the next slice may run (1: one at a time, so breakpoints
 * can be checked before each), or 0 to end the run.  `after` runs after
 * every slice with the CPU's exit reason; `ended` once, when the run
 * ends for any reason, with the exit status.
 */
struct pc_debugger {
    void *opaque;
    u64 (*poll)(void *opaque);
    void (*after)(void *opaque, int cpu_exit);
    void (*ended)(void *opaque, int exit_code);
};

struct pc {
    struct pc_config cfg;
    struct counters cnt;
    struct logger log;
    struct mmu *mmu;
    struct blocks *blocks; /* block executor; NULL with -exec interp */
    struct cpu *cpu;
    bool exit_requested;
    int exit_code;
    bool reset_requested;

    /* Interrupts and time for the chips. */
    struct irq_sink isa_irq;   /* ISA IRQ 0-15 -> the 8259A pair (and I/O APIC) */
    struct clock clock;        /* virtual time, ns */
    u64 idle_insns;            /* instruction times skipped while idle */
    u64 host_t0;               /* host clock: CLOCK_MONOTONIC at power-on */
    u32 ns_per_insn;           /* virtual clock: ns per instruction */
    struct pc_timer timers[PC_MAX_TIMERS];
    unsigned n_timers;

    struct pic pic;
    struct pit pit;
    struct rtc rtc;
    /* With cfg.apic: the CPU's local APIC (the 8259A's INTR on LINT0)
     * and the I/O APIC (ISA IRQ n on pin n, IRQ0 on pin 2). */
    struct lapic lapic;
    struct ioapic ioapic;

    /* Serial ports (COM1-4), keyboard controller, pc-testdev, fw_cfg. */
    struct uart *com[4];
    struct i8042 *kbd;
    struct testdev *testdev;
    struct fwcfg *fwcfg;

    struct pc_debugger dbg;    /* dbg.poll NULL: no debugger */
    /* PCI bus 0: the i440FX host bridge (00.0) and the PIIX3 ISA bridge
     * (01.0) whose PIRQ routers take PCI interrupts to ISA IRQs. */
    struct pci_bus pci;
    struct i440fx i440fx;
    struct piix3 piix3;
    struct ide *ide;           /* PIIX3 IDE, 00:01.1 */
    struct vga *vga;           /* NULL without cfg.vga */
    /* With cfg.acpi: the ACPI PM registers (SCI on IRQ 9) and the tables
     * describing the board, also given to the firmware through fw_cfg. */
    struct pm pm;
    struct acpi_tables *acpi_tables; /* NULL without cfg.acpi */
};

/* Create a machine.  NULL (and a message on stderr) on failure. */
struct pc *pc_new(const struct pc_config *cfg, u32 log_mask) MUST_CHECK;
void pc_free(struct pc *pc);
/*
 * Run until the guest exits, halts for good, shuts down or reaches the
 * instruction limit.  Exit statuses: guest exit device (v << 1) | 1;
 * HLT with interrupts off 0; triple fault with no_reboot 3; limit 4.
 */
struct pc_result pc_run(struct pc *pc);
/* Attach a debugger to the run loop (replaces any earlier one). */
void pc_set_debugger(struct pc *pc, const struct pc_debugger *d);
/* Pull the reset line, as the keyboard controller's 0xFE command does:
 * the run loop resets the machine (or ends the run with -no-reboot). */
void pc_request_reset(struct pc *pc);

/* Press the ACPI power button (PWRBTN_STS, an SCI if the guest enabled
 * it), as QEMU's system_powerdown does.  Returns false when the machine
 * has no ACPI (-no-acpi). */
bool pc_power_button(struct pc *pc);

/* Register a chip timer; the run loop calls it at or after each deadline it
 * reports.  Returns 0 or -1 (table full). */
int pc_add_timer(struct pc *pc, pc_timer_fn update, void *opaque) MUST_CHECK;
/* End the run from outside the guest (the display window was closed):
 * pc_run() returns `exit_code` once the CPU leaves its slice, through the
 * same path as a guest exit. */
void pc_request_exit(struct pc *pc, int exit_code);
/* A chip's deadline moved earlier (a register write): the CPU leaves its
 * slice so the run loop recomputes deadlines. */
void pc_kick(struct pc *pc);

#endif
