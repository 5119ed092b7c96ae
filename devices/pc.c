/*
 * The board: RAM, firmware mapping, debug devices, the interrupt and timer
 * chips of an ISA PC (8259A pair, 8254, MC146818), virtual time, and the
 * run loop that turns CPU exits (halt, shutdown, guest exit, instruction
 * limit) into a process outcome.
 *
 * Virtual time.  By default it follows CLOCK_MONOTONIC (the host clock), so
 * the guest's timers and wall clock keep host time.  With virtual_clock it
 * is deterministic: ns = (instructions retired + instruction times skipped
 * while idle) * ns_per_insn, so a run is reproducible.  The TSC ticks at
 * a nominal 100 MHz (one tick per PC_NS_PER_INSN) in step with the PIT:
 * icount + offset when an instruction takes PC_NS_PER_INSN, else derived
 * from "now".
 *
 * Run loop.  The CPU runs in slices that end at the earliest chip deadline;
 * between slices every chip timer is brought up to "now" (raising its IRQ)
 * and the 8259A output is already on the CPU's INTR line.  An idle CPU (HLT
 * with IF=1) skips to the next deadline, or sleeps until it in host mode;
 * with no deadline at all nothing can wake it, so the run ends as a halt.
 * The instruction limit is measured with the CPU's own retired count (plus
 * idle instruction times, so an idle guest cannot run forever).
 */
#define _POSIX_C_SOURCE 200809L
#include "pc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acpi_tables.h"
#include "cpu/cpu.h"
#include "debugdev.h"
#include "blockdev.h"
#include "fwcfg.h"
#include "ide.h"
#include "i8042.h"
#include "mmu/mmu.h"
#include "testdev.h"
#include "translate/block.h"
#include "uart.h"
#include "vga.h"

#define PC_MAX_SLICE (1u << 20)          /* instructions */
#define PC_HOST_MAX_SLEEP 10000000u      /* ns: bounds host-mode idling */

static u64 host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (u64)ts.tv_sec * 1000000000u + (u64)ts.tv_nsec;
}

static u64 pc_now(void *opaque)
{
    struct pc *pc = opaque;
    if (!pc->cfg.virtual_clock)
        return host_ns() - pc->host_t0;
    return (cpu_icount(pc->cpu) + pc->idle_insns) * pc->ns_per_insn;
}

/* The TSC counts time at its nominal rate (one tick per PC_NS_PER_INSN),
 * in step with the PIT and the local APIC timer whatever speed the CPU
 * runs at; with the default virtual rate that is one tick per
 * instruction, which the CPU counts itself. */
static bool tsc_from_clock(const struct pc *pc)
{
    return !pc->cfg.virtual_clock || pc->ns_per_insn != PC_NS_PER_INSN;
}

static u64 pc_tsc_base(void *opaque)
{
    return pc_now(opaque) / PC_NS_PER_INSN;
}

static void pc_isa_irq(void *opaque, unsigned irq, bool level)
{
    struct pc *pc = opaque;
    pic_set_irq(&pc->pic, irq, level);
    if (pc->cfg.apic)
        ioapic_set_irq(&pc->ioapic, irq == 0 ? 2 : irq, level);
}

/* The 8259A's INTR: to LINT0 of the local APIC, or straight to the CPU. */
static void pc_intr_line(void *opaque, unsigned irq, bool level)
{
    struct pc *pc = opaque;
    if (pc->cfg.apic)
        lapic_set_lint0(&pc->lapic, level);
    else
        cpu_set_irq(pc->cpu, level);
}

static int pc_intr_ack(void *opaque)
{
    struct pc *pc = opaque;
    if (pc->cfg.apic)
        return lapic_intr_ack(&pc->lapic);
    return pic_ack(&pc->pic);
}

/* ---- local APIC and I/O APIC (cfg.apic) ---- */

static void pc_cpu_intr(void *opaque, unsigned irq, bool level)
{
    struct pc *pc = opaque;
    (void)irq;
    cpu_set_irq(pc->cpu, level);
}

static int pc_extint_ack(void *opaque)
{
    struct pc *pc = opaque;
    return pic_ack(&pc->pic);
}

static void pc_nmi(void *opaque)
{
    struct pc *pc = opaque;
    cpu_raise_nmi(pc->cpu);
}

static void pc_apic_eoi(void *opaque, u8 vector)
{
    struct pc *pc = opaque;
    ioapic_eoi(&pc->ioapic, vector);
}

static void pc_apic_kick(void *opaque)
{
    pc_kick(opaque);
}

/* The APIC bus: one processor, so a message either names it or is lost. */
static bool pc_apic_message(void *opaque, u8 dest, bool logical, unsigned mode, u8 vector,
                            bool level)
{
    struct pc *pc = opaque;
    if (!lapic_match_dest(&pc->lapic, dest, logical))
        return false;
    return lapic_deliver(&pc->lapic, mode, vector, level);
}

/* The x87's FERR# reaches the PIC as IRQ13 on a PC (DOS-compatible error
 * reporting, CR0.NE clear); a write to port 0xF0 drops the request. */
static void pc_ferr(void *opaque, bool level)
{
    struct pc *pc = opaque;
    irq_set(&pc->isa_irq, 13, level);
}

static void port_f0_write(void *opaque, u16 port, u32 val, unsigned size)
{
    struct pc *pc = opaque;
    irq_set(&pc->isa_irq, 13, false);
}

static const struct io_ops port_f0_ops = { NULL, port_f0_write };

static void pc_apic_base_write(void *opaque, u64 value)
{
    struct pc *pc = opaque;
    if (pc->cfg.apic)
        lapic_set_base_msr(&pc->lapic, value);
}

static u64 lapic_timer(void *opaque, u64 now)
{
    return lapic_timer_update(opaque, now);
}

/* Whether INTR is asserted: an idle CPU has something to take. */
static bool pc_intr_pending(struct pc *pc)
{
    return pc->cfg.apic ? pc->lapic.out_level : pic_output(&pc->pic);
}

static int pc_init_apic(struct pc *pc)
{
    if (!pc->cfg.apic)
        return 0;
    struct lapic_ops ops = { pc, pc_extint_ack, pc_nmi, pc_apic_eoi, pc_apic_kick };
    lapic_init(&pc->lapic, (struct irq_sink){ pc_cpu_intr, pc }, (struct clock){ pc_now, pc },
               &ops);
    ioapic_init(&pc->ioapic, pc_apic_message, pc);
    cpu_set_apic_present(pc->cpu, true);
    if (lapic_map(&pc->lapic, pc->mmu) < 0 || ioapic_map(&pc->ioapic, pc->mmu) < 0 ||
        pc_add_timer(pc, lapic_timer, &pc->lapic) < 0)
        return -1;
    return 0;
}

/* ---- end local APIC and I/O APIC ---- */

static void pc_kick_cb(void *opaque)
{
    pc_kick(opaque);
}

static u64 pit_timer(void *opaque, u64 now)
{
    return pit_update(opaque, now);
}

static u64 rtc_timer(void *opaque, u64 now)
{
    return rtc_update(opaque, now);
}

void pc_request_exit(struct pc *pc, int exit_code)
{
    pc->exit_requested = true;
    pc->exit_code = exit_code;
    cpu_request_exit(pc->cpu);
}

void pc_kick(struct pc *pc)
{
    cpu_request_exit(pc->cpu);
}

int pc_add_timer(struct pc *pc, pc_timer_fn update, void *opaque)
{
    if (pc->n_timers == PC_MAX_TIMERS)
        return -1;
    pc->timers[pc->n_timers++] = (struct pc_timer){ update, opaque };
    return 0;
}

/* Interrupt controller and timers, wired to the CPU and the clock. */
static int pc_init_chips(struct pc *pc)
{
    pc->isa_irq = (struct irq_sink){ pc_isa_irq, pc };
    pc->clock = (struct clock){ pc_now, pc };
    if (pc_init_apic(pc) < 0)
        return -1;
    pic_init(&pc->pic, (struct irq_sink){ pc_intr_line, pc });
    cpu_set_callbacks(pc->cpu, &(struct cpu_callbacks){ .opaque = pc, .intr_ack = pc_intr_ack,
                                                         .ferr = pc_ferr,
                                                         .apic_base_write = pc_apic_base_write,
                                                         .tsc_base = tsc_from_clock(pc)
                                                                         ? pc_tsc_base
                                                                         : NULL });
    if (mmu_map_io(pc->mmu, 0xf0, 1, &port_f0_ops, pc) < 0)
        return -1;
    pit_init(&pc->pit, pc->isa_irq, pc->clock);
    pc->pit.kick = pc_kick_cb;
    pc->pit.kick_opaque = pc;
    i64 start = pc->cfg.rtc_base ? pc->cfg.rtc_base : (i64)time(NULL);
    rtc_init(&pc->rtc, pc->isa_irq, pc->clock, start, pc->cfg.ram_mib);
    pc->rtc.kick = pc_kick_cb;
    pc->rtc.kick_opaque = pc;
    if (pic_map(&pc->pic, pc->mmu) < 0 || pit_map(&pc->pit, pc->mmu) < 0 ||
        rtc_map(&pc->rtc, pc->mmu) < 0 || pc_add_timer(pc, pit_timer, &pc->pit) < 0 ||
        pc_add_timer(pc, rtc_timer, &pc->rtc) < 0)
        return -1;
    return 0;
}

/*
 * The reset line (keyboard controller command 0xFE, its output port's bit
 * 0, port 0x92 bit 0).  The CPU leaves its slice; the run loop must then
 * see reset_requested: with -no-reboot end the run with status 0,
 * otherwise cpu_reset() and reset the chips (i8042_reset, uart_reset of
 * each COM port, and the interrupt and timer chips).
 */
static void pc_reset_line(void *opaque)
{
    struct pc *pc = opaque;
    pc->reset_requested = true;
    cpu_request_exit(pc->cpu);
}

void pc_request_reset(struct pc *pc)
{
    pc_reset_line(pc);
}

void pc_set_debugger(struct pc *pc, const struct pc_debugger *d)
{
    pc->dbg = *d;
}

#define PC_UART_POLL_NS 1000000u /* host input and the receivers' timeout */

static u64 uart_timer(void *opaque, u64 now)
{
    struct pc *pc = opaque;
    bool again = false;
    for (unsigned i = 0; i < ARRAY_SIZE(pc->com); i++)
        again |= uart_poll_input(pc->com[i]);
    return again ? now + PC_UART_POLL_NS : TIME_NEVER;
}

/* PCI bus 0 with the i440FX, the PIIX3's ISA bridge and the VGA. */
static int pc_init_pci(struct pc *pc)
{
    if (pci_bus_init(&pc->pci, pc->mmu) < 0 || i440fx_init(&pc->i440fx, &pc->pci, pc->mmu) < 0 ||
        piix3_init(&pc->piix3, &pc->pci, pc->mmu, pc->isa_irq, pc_reset_line, pc) < 0)
        return -1;
    /* The VGA at 00:02.0, where QEMU's i440FX machine has it. */
    if (pc->vga && vga_pci_init(pc->vga, &pc->pci, PCI_DEVFN(2, 0)) < 0)
        return -1;
    return 0;
}

/* The IDE controller and the drives of the configuration.  A drive whose
 * image cannot be opened ends the set-up with a message naming it. */
static int pc_init_ide(struct pc *pc)
{
    if (!(pc->ide = ide_new(pc->mmu, &pc->pci, &pc->isa_irq, &pc->log)))
        return -1;
    for (unsigned i = 0; i < PC_MAX_DRIVES; i++) {
        const struct pc_drive *d = &pc->cfg.drive[i];
        if (!d->path)
            continue;
        char err[256];
        struct blockdev_opts o = { d->readonly || d->cdrom, d->snapshot };
        struct blockdev *bd = blockdev_open(d->path, &o, err, sizeof err);
        if (!bd) {
            fprintf(stderr, "umbra: %s %s: %s\n", d->flag ? d->flag : "-drive", d->path, err);
            return -2;
        }
        if (ide_attach(pc->ide, i, bd, d->cdrom) < 0) {
            blockdev_close(bd);
            return -1;
        }
    }
    return 0;
}

/* -boot: the boot order in CMOS as SeaBIOS reads it on QEMU's machine
 * (QEMU hw/i386/pc.c, set_boot_dev): 0x3D bits 3:0 the first device and
 * 7:4 the second, 0x38 bits 7:4 the third; 1 floppy, 2 disk, 3 CD-ROM,
 * 4 network.  Bit 0 of 0x38 set skips the floppy boot-signature check. */
static void pc_set_boot_order(struct pc *pc)
{
    const char *order = pc->cfg.boot_order ? pc->cfg.boot_order : "cad";
    u8 dev[3] = { 0, 0, 0 };
    for (unsigned i = 0; i < 3 && order[i]; i++) {
        const char *p = strchr("acdn", order[i]);
        dev[i] = p ? (u8)(p - "acdn" + 1) : 0;
    }
    pc->rtc.cmos[0x3d] = (u8)(dev[0] | dev[1] << 4);
    pc->rtc.cmos[0x38] = (u8)(dev[2] << 4 | 1);
}

/* What the firmware reads from fw_cfg beyond the standard items: how
 * IRQ0 reaches the I/O APIC, and the memory map (QEMU's "etc/e820": packed little-endian entries of u64
 * address, u64 length, u32 type, here one RAM entry from 0 as QEMU gives
 * it; the firmware carves the legacy holes out itself). */
static int pc_init_fwcfg(struct pc *pc)
{
    u8 e820[20] = { 0 };
    u64 ram = (u64)pc->cfg.ram_mib << 20;
    for (unsigned i = 0; i < 8; i++)
        e820[8 + i] = (u8)(ram >> (8 * i));
    e820[16] = 1; /* E820_RAM */
    /* The board wires ISA IRQ0 to I/O APIC pin 2 (pc_isa_irq): SeaBIOS
     * writes that into its MP table when "etc/irq0-override" is non-zero
     * (a little-endian integer, read with romfile_loadint). */
    static const u8 irq0_override[4] = { 1, 0, 0, 0 };
    if (fwcfg_add_file(pc->fwcfg, "etc/irq0-override", irq0_override, sizeof irq0_override) < 0)
        return -1;
    return fwcfg_add_file(pc->fwcfg, "etc/e820", e820, sizeof e820);
}

/* ---- ACPI (cfg.acpi) ---- */

static u64 pm_timer_cb(void *opaque, u64 now)
{
    return pm_update(opaque, now);
}

/* SLP_EN with the soft-off type: the run ends as a guest exit does. */
static void pc_power_off(void *opaque)
{
    pc_request_exit(opaque, 0);
}

/* The PM registers, and the tables for the firmware: the blobs and the
 * linker/loader script that places them (SeaBIOS runs it). */
static int pc_init_acpi(struct pc *pc)
{
    if (!pc->cfg.acpi)
        return 0;
    pm_init(&pc->pm, pc->isa_irq, pc->clock, pc_power_off, pc_kick_cb, pc);
    if (pm_map(&pc->pm, pc->mmu) < 0 || pc_add_timer(pc, pm_timer_cb, &pc->pm) < 0)
        return -1;
    struct acpi_config ac = { (u64)pc->cfg.ram_mib << 20, pc->cfg.apic };
    struct acpi_tables *t = pc->acpi_tables = malloc(sizeof *t);
    u8 loader[ACPI_LOADER_MAX];
    if (!t || acpi_tables_build(t, &ac) < 0)
        return -1;
    u32 loader_len = acpi_tables_loader(t, loader);
    if (fwcfg_add_file(pc->fwcfg, ACPI_FILE_TABLES, t->tables, t->tables_len) < 0 ||
        fwcfg_add_file(pc->fwcfg, ACPI_FILE_RSDP, t->rsdp, ACPI_RSDP_LEN) < 0 ||
        fwcfg_add_file(pc->fwcfg, ACPI_FILE_LOADER, loader, loader_len) < 0)
        return -1;
    return 0;
}

bool pc_power_button(struct pc *pc)
{
    if (!pc->cfg.acpi)
        return false;
    pm_power_button(&pc->pm);
    return true;
}

/* ---- end ACPI ---- */

struct pc *pc_new(const struct pc_config *cfg, u32 log_mask)
{
    struct pc *pc = calloc(1, sizeof *pc);
    if (!pc)
        return NULL;
    pc->cfg = *cfg;
    log_init(&pc->log);
    pc->log.mask = log_mask;
    pc->log.out = cfg->log_out;
    pc->host_t0 = host_ns();
    pc->ns_per_insn = cfg->ns_per_insn ? cfg->ns_per_insn : PC_NS_PER_INSN;
    pc->mmu = mmu_new(cfg->ram_mib << 20, &pc->cnt, &pc->log);
    if (!pc->mmu) {
        fprintf(stderr, "umbra: cannot reserve %u MiB of guest RAM\n", cfg->ram_mib);
        free(pc);
        return NULL;
    }
    /* -mmu and -mmu-contexts; 0 contexts means the default of 64. */
    mmu_configure(pc->mmu, cfg->mmu_flush ? MMU_FLUSH : MMU_SHADOW,
                  cfg->mmu_contexts ? cfg->mmu_contexts : 64);
    pc->cpu = cpu_new(pc->mmu, &pc->cnt, &pc->log);
    if (!pc->cpu)
        goto fail;
    /* -cpu: the model, then the reset state that depends on it (EDX). */
    cpu_set_model(pc->cpu, cfg->cpu_model);
    cpu_reset(pc->cpu);
    if (debugdev_init(pc) < 0 || pc_init_chips(pc) < 0)
        goto fail;
    if (!cfg->interp && !(pc->blocks = blocks_attach(pc->cpu, &pc->cnt)))
        goto fail;
    if (pc->blocks && !cfg->no_jit && blocks_enable_jit(pc->blocks) < 0)
        fprintf(stderr, "umbra: no memory for translated code; replaying blocks instead\n");

    /* ---- chips: serial, keyboard, test devices ---- */
    {
        static const u16 com_base[4] = { UART_COM1_BASE, UART_COM2_BASE, UART_COM3_BASE,
                                         UART_COM4_BASE };
        static const u8 com_irq[4] = { UART_COM1_IRQ, UART_COM2_IRQ, UART_COM3_IRQ,
                                       UART_COM4_IRQ };
        for (unsigned i = 0; i < 4; i++)
            if (!(pc->com[i] = uart_new(pc->mmu, com_base[i], com_irq[i], &pc->isa_irq, &pc->log)))
                goto fail;
        if (uart_attach(pc->com[0], cfg->serial) < 0) {
            pc_free(pc);
            return NULL;
        }
        pc->kbd = i8042_new(pc->mmu, &pc->isa_irq, pc_reset_line, pc, &pc->log);
        pc->testdev = testdev_new(pc->mmu, &pc->isa_irq);
        pc->fwcfg = fwcfg_new(pc->mmu, (u64)cfg->ram_mib << 20, 1);
        if (!pc->kbd || !pc->testdev || !pc->fwcfg || pc_add_timer(pc, uart_timer, pc) < 0)
            goto fail;
        if (cfg->vga && !(pc->vga = vga_new(pc->mmu, &pc->log)))
            goto fail;
    }
    /* ---- end ---- */

    if (pc_init_pci(pc) < 0 || pc_init_fwcfg(pc) < 0 || pc_init_acpi(pc) < 0)
        goto fail;
    {
        int rc = pc_init_ide(pc);
        if (rc == -2) {
            pc_free(pc);
            return NULL;
        }
        if (rc < 0)
            goto fail;
    }
    pc_set_boot_order(pc);

    return pc;
fail:
    fprintf(stderr, "umbra: cannot create the machine\n");
    pc_free(pc);
    return NULL;
}

void pc_free(struct pc *pc)
{
    if (!pc)
        return;
    for (unsigned i = 0; i < ARRAY_SIZE(pc->com); i++)
        uart_free(pc->com[i]);
    i8042_free(pc->kbd);
    testdev_free(pc->testdev);
    fwcfg_free(pc->fwcfg);
    ide_free(pc->ide);
    vga_free(pc->vga);
    free(pc->acpi_tables);
    blocks_free(pc->blocks);
    cpu_free(pc->cpu);
    mmu_free(pc->mmu);
    free(pc);
}

/* Bring every chip timer up to `now`; the earliest next deadline. */
static u64 pc_update_timers(struct pc *pc, u64 now)
{
    u64 next = TIME_NEVER;
    for (unsigned i = 0; i < pc->n_timers; i++) {
        u64 d = pc->timers[i].update(pc->timers[i].opaque, now);
        if (d < next)
            next = d;
    }
    return next;
}

/* Instructions until `deadline` (at least one).  With the host clock the
 * nominal rate is an estimate: the run loop looks at the clock again when
 * the slice ends. */
static u64 insns_until(const struct pc *pc, u64 now, u64 deadline)
{
    if (deadline <= now)
        return 1;
    u64 ns = pc->cfg.virtual_clock ? pc->ns_per_insn : PC_NS_PER_INSN;
    return (deadline - now + ns - 1) / ns;
}

/* The CPU waits for an interrupt: let time pass to the next deadline.
 * Returns false when nothing can ever wake it. */
static bool pc_idle(struct pc *pc)
{
    u64 now = pc_now(pc);
    u64 next = pc_update_timers(pc, now);
    if (pc_intr_pending(pc))
        return true;
    if (next == TIME_NEVER)
        return false;
    if (next <= now)
        return true;
    if (!pc->cfg.virtual_clock) {
        /* Sleep, so an idle guest costs no host CPU and its timers fire
         * in host time; the bound keeps host input (polled by a timer)
         * responsive. */
        u64 ns = next - now < PC_HOST_MAX_SLEEP ? next - now : PC_HOST_MAX_SLEEP;
        nanosleep(&(struct timespec){ (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) }, NULL);
    } else {
        u64 skip = insns_until(pc, now, next);
        pc->idle_insns += skip;
        if (!tsc_from_clock(pc))
            cpu_advance_tsc(pc->cpu, skip);
    }
    return true;
}

/* The reset line: the CPU and every chip but the battery-backed RTC/CMOS
 * return to their power-on state. */
static void pc_system_reset(struct pc *pc)
{
    cpu_reset(pc->cpu);
    if (pc->blocks)
        blocks_flush(pc->blocks);
    cpu_set_irq(pc->cpu, false);
    if (pc->cfg.apic) {
        lapic_reset(&pc->lapic);
        ioapic_reset(&pc->ioapic);
    }
    pic_init(&pc->pic, pc->pic.out);
    if (pc->cfg.apic)
        lapic_set_lint0(&pc->lapic, pic_output(&pc->pic));
    struct pit fresh_pit = pc->pit;
    pit_init(&pc->pit, fresh_pit.irq, fresh_pit.clock);
    pc->pit.kick = fresh_pit.kick;
    pc->pit.kick_opaque = fresh_pit.kick_opaque;
    for (unsigned i = 0; i < ARRAY_SIZE(pc->com); i++)
        uart_reset(pc->com[i]);
    i8042_reset(pc->kbd);
    pci_bus_reset(&pc->pci);
    i440fx_reset(&pc->i440fx);
    piix3_reset(&pc->piix3);
    ide_reset(pc->ide);
    if (pc->vga)
        vga_reset(pc->vga);
    if (pc->cfg.acpi)
        pm_reset(&pc->pm);
}

/* The architectural state and a checksum of all of RAM (FNV-1a, 64-bit):
 * two runs that print the same lines reached the same machine state, which
 * is how the executors are compared over a whole boot. */
static void pc_dump_state(struct pc *pc, FILE *f)
{
    u64 h = 0xcbf29ce484222325ull;
    const u8 *ram = pc->mmu->ram;
    for (size_t k = 0; k < pc->mmu->ram_size; k++)
        h = (h ^ ram[k]) * 0x100000001b3ull;
    fprintf(f, "icount %llu\n", (unsigned long long)cpu_icount(pc->cpu));
    cpu_dump_state(pc->cpu, f);
    fprintf(f, "RAM fnv1a %016llx\n", (unsigned long long)h);
}

struct pc_result pc_run(struct pc *pc)
{
    struct pc_result r = { 0, false };
    const u64 limit = pc->cfg.max_insns;
    const u64 start = cpu_icount(pc->cpu) + pc->idle_insns;
    for (;;) {
        u64 now = pc_now(pc);
        u64 next = pc_update_timers(pc, now);
        u64 slice = PC_MAX_SLICE;
        if (next != TIME_NEVER && insns_until(pc, now, next) < slice)
            slice = insns_until(pc, now, next);
        if (limit) {
            u64 done = cpu_icount(pc->cpu) + pc->idle_insns - start;
            if (done >= limit) {
                fprintf(stderr, "umbra: instruction limit reached\n");
                r.exit_code = 4;
                break;
            }
            if (limit - done < slice)
                slice = limit - done;
        }
        if (pc->dbg.poll) {
            u64 most = pc->dbg.poll(pc->dbg.opaque);
            if (!most) {
                r.exit_code = 0;
                break;
            }
            if (most < slice)
                slice = most;
        }
        /* A reset asked for while the debugger held the machine comes
         * before any further instruction. */
        enum cpu_exit e = pc->reset_requested ? CPU_EXIT_REQUEST : cpu_run(pc->cpu, slice);
        if (pc->dbg.after)
            pc->dbg.after(pc->dbg.opaque, e);
        if (pc->exit_requested) {
            r.exit_code = pc->exit_code;
            r.exited_by_guest = true;
            break;
        }
        if (pc->reset_requested) {
            pc->reset_requested = false;
            if (pc->cfg.no_reboot) {
                r.exit_code = 0;
                break;
            }
            pc_system_reset(pc);
            continue;
        }
        if (e == CPU_EXIT_SHUTDOWN) {
            fprintf(stderr, "umbra: triple fault; CPU state:\n");
            cpu_dump_state(pc->cpu, stderr);
            if (pc->cfg.no_reboot) {
                r.exit_code = 3;
                break;
            }
            /* Shutdown after a triple fault: the PC's chipset answers with
             * a system reset. */
            pc_system_reset(pc);
            continue;
        }
        if (e == CPU_EXIT_HALT) {
            fprintf(stderr, "umbra: CPU halted with interrupts disabled\n");
            r.exit_code = 0;
            break;
        }
        if (e == CPU_EXIT_IDLE && !pc_idle(pc)) {
            /* HLT with nothing left that could raise an interrupt. */
            r.exit_code = 0;
            break;
        }
    }
    fflush(pc->cfg.debugcon ? pc->cfg.debugcon : stdout);
    if (pc->dbg.ended)
        pc->dbg.ended(pc->dbg.opaque, r.exit_code);
    cpu_sync_counters(pc->cpu);
    if (pc->blocks)
        blocks_sync_counters(pc->blocks);
    if (pc->log.mask & (1u << LOG_MMU_STATS))
        counters_dump(&pc->cnt, pc->log.out ? pc->log.out : stderr);
    if (pc->log.mask & (1u << LOG_STATE))
        pc_dump_state(pc, pc->log.out ? pc->log.out : stderr);
    return r;
}
