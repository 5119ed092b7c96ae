/*
 * The CPU's public contract: an opaque state, a run loop with a budget,
 * interrupt lines, register access for the board, the loaders and tests,
 * and a state dump.  Memory and port I/O go through the mmu/ bus it is given;
 * the CPU never names a device.
 */
#ifndef UMBRA_CPU_CPU_H
#define UMBRA_CPU_CPU_H

#include <stdio.h>

#include "common/counters.h"
#include "common/log.h"
#include "common/types.h"

struct cpu;
struct mmu;

/* Why cpu_run() returned. */
enum cpu_exit {
    CPU_EXIT_BUDGET = 0, /* executed the budget */
    CPU_EXIT_HALT,       /* HLT with interrupts disabled: stopped for good */
    CPU_EXIT_IDLE,       /* HLT waiting for an interrupt */
    CPU_EXIT_SHUTDOWN,   /* triple fault: the board decides reset or exit */
    CPU_EXIT_REQUEST,    /* cpu_request_exit() was called */
    CPU_EXIT_BREAK,      /* reached a debugger breakpoint (not run) */
};

/* Register numbers for cpu_get_reg()/cpu_set_reg(). */
enum cpu_reg {
    CPU_EAX, CPU_ECX, CPU_EDX, CPU_EBX, CPU_ESP, CPU_EBP, CPU_ESI, CPU_EDI,
    CPU_EIP, CPU_EFLAGS,
    CPU_ES, CPU_CS, CPU_SS, CPU_DS, CPU_FS, CPU_GS,
    CPU_CR0, CPU_CR2, CPU_CR3, CPU_CR4,
    CPU_REG__COUNT
};

struct cpu_callbacks {
    void *opaque;
    /* Interrupt acknowledge: the vector of the pending maskable interrupt. */
    int (*intr_ack)(void *opaque);
    /* FERR# (x87 error output) changed level; the PC routes it to IRQ13.
     * May be NULL. */
    void (*ferr)(void *opaque, bool level);
    /* WRMSR to IA32_APIC_BASE stored `value` (base, enable bit 11); the
     * board moves or disables its local APIC.  May be NULL. */
    void (*apic_base_write)(void *opaque, u64 value);
    /* The time base the TSC counts (ticks since power-on).  NULL: the
     * retired-instruction count, one tick each. */
    u64 (*tsc_base)(void *opaque);
};

/* Create a CPU on bus `m`, in the reset state.  NULL if out of memory. */
struct cpu *cpu_new(struct mmu *m, struct counters *cnt, struct logger *log) MUST_CHECK;
void cpu_free(struct cpu *c);
void cpu_set_callbacks(struct cpu *c, const struct cpu_callbacks *cb);
/* Whether the machine has a local APIC: CPUID leaf 1 reports it (EDX bit
 * 9) only then.  Off after cpu_new(). */
void cpu_set_apic_present(struct cpu *c, bool present);

/*
 * A processor model for -cpu NAME: the identification and feature bits the
 * real part reports (SDM vol. 2, CPUID, tables 3-8 to 3-20).  CPUID
 * reports the model's bits that Umbra implements (cpu_model_features), so
 * a model never advertises hardware that is not there.
 */
struct cpu_model {
    const char *name;      /* -cpu NAME, as QEMU spells it */
    const char *desc;      /* one line for -cpu help */
    u32 signature;         /* CPUID.1:EAX: stepping, model, family */
    u32 ebx1;              /* CPUID.1:EBX: CLFLUSH line size (bits 15-8) */
    u32 edx1, ecx1;        /* CPUID.1:EDX/ECX as the real processor reports */
    u32 ext_edx;           /* CPUID.80000001H:EDX */
    const char *brand;     /* CPUID.80000002H-80000004H, or NULL: no leaves */
    u32 ebx7, ecx7;        /* CPUID.(7,0):EBX/ECX (SMEP, SMAP, UMIP) */
};

/* The models, default first; `*n` gets the count. */
const struct cpu_model *cpu_models(size_t *n);
/* The model called `name` (case-sensitive), or NULL. */
const struct cpu_model *cpu_model_find(const char *name);
/* Select the model; call before the machine runs (cpu_new() picks the
 * default, the first of cpu_models()). */
void cpu_set_model(struct cpu *c, const struct cpu_model *m);
/* CPUID.1:EDX as this CPU reports it (the model's bits Umbra implements,
 * APIC only with a local APIC). */
u32 cpu_feature_edx(const struct cpu *c);

/* Power-on/reset state: real mode, CS:IP = F000:FFF0, CS base FFFF0000. */
void cpu_reset(struct cpu *c);
/* Flat 32-bit protected mode at CPL 0 (as a Multiboot loader leaves it):
 * CS/DS/ES/FS/GS/SS base 0 limit 4 GiB, interrupts off, paging off. */
void cpu_set_flat32(struct cpu *c, u32 eip);
/* The same with the given selectors: CS = `cs`, the data segments = `ds`
 * (the Linux 32-bit boot protocol wants 0x10 and 0x18).  The selectors
 * must name flat descriptors in the GDT set with cpu_set_gdtr(). */
void cpu_set_flat32_sel(struct cpu *c, u32 eip, u16 cs, u16 ds);
/* What PC firmware leaves in the MTRRs for the operating system: all of
 * memory write-back by default, MTRRs enabled (IA32_MTRR_DEF_TYPE = E |
 * WB, as SeaBIOS sets it).  A direct kernel boot calls it in the
 * firmware's place; without it Linux finds the MTRRs off and leaves PAT
 * unused. */
void cpu_set_mtrr_default_wb(struct cpu *c);
/* Load GDTR, as a boot loader's LGDT does before handing over. */
void cpu_set_gdtr(struct cpu *c, u32 base, u16 limit);

/*
 * A multi-instruction executor (the block translator): called by the run
 * loop in place of its one-instruction step when nothing needs watching
 * per instruction (no single-stepping, no armed debug breakpoints, no
 * execution log).  It runs at least one and at most `max` instructions at
 * CS:EIP with the CPU's own handlers, keeping icount, insn_eip and
 * insn_esp as the loop does, so a fault lands in the loop's handler.  The
 * loop takes interrupts only between calls, so the executor returns after
 * any instruction that may change them.  NULL: interpret one at a time.
 */
typedef void (*cpu_exec_fn)(void *opaque, struct cpu *c, u64 max);
void cpu_set_executor(struct cpu *c, cpu_exec_fn fn, void *opaque);
/* Called as each exception is delivered (debug/'s plugins), after the
 * double-fault rules chose `vec`: the error code, CR2 (meaningful for
 * vector 14) and the faulting instruction's EIP.  NULL: no hook. */
typedef void (*cpu_exception_fn)(void *opaque, unsigned vec, u32 err, u32 cr2, u32 eip);
void cpu_set_exception_hook(struct cpu *c, cpu_exception_fn fn, void *opaque);
/* Called before each instruction starts (CS:EIP at `eip`, linear `lin`);
 * while set, every instruction runs in the interpreter.  NULL removes. */
typedef void (*cpu_insn_fn)(void *opaque, u32 eip, u32 lin);
void cpu_set_insn_hook(struct cpu *c, cpu_insn_fn fn, void *opaque);
/* Called after each data access an instruction makes through a segment
 * (not fetches, not the implicit accesses to descriptor tables, the TSS
 * or an interrupt's stack frame) succeeds: `value` is what was read or
 * written.  While set, the TLB caches no data translation, so every
 * access takes the slow path; executors keep running.  NULL removes. */
typedef void (*cpu_access_fn)(void *opaque, u32 lin, unsigned size, bool write, u64 value);
void cpu_set_access_hook(struct cpu *c, cpu_access_fn fn, void *opaque);

/* Run at most `budget` instructions.  Returns why it stopped. */
enum cpu_exit cpu_run(struct cpu *c, u64 budget);
/* Execute exactly one instruction (or deliver one pending event). */
enum cpu_exit cpu_step(struct cpu *c);

void cpu_set_irq(struct cpu *c, bool level);
void cpu_raise_nmi(struct cpu *c);
void cpu_request_exit(struct cpu *c);

u32 cpu_get_reg(const struct cpu *c, enum cpu_reg r);
void cpu_set_reg(struct cpu *c, enum cpu_reg r, u32 v);
/* Total instructions retired. */
u64 cpu_icount(const struct cpu *c);
/* Copy the counts the CPU and its TLBs keep privately (instructions,
 * decode-cache and L1 hits) into the counter registry. */
void cpu_sync_counters(struct cpu *c);
/* Advance the time-stamp counter by `ticks` without retiring instructions
 * (the board skipped virtual time while the CPU was idle). */
void cpu_advance_tsc(struct cpu *c, u64 ticks);
void cpu_dump_state(struct cpu *c, FILE *f);

/* A segment register as its descriptor cache holds it. */
struct cpu_seg_view {
    u16 sel;
    u32 base, limit;  /* limit in bytes */
    u32 flags;        /* descriptor high dword & 0x00f0ff00 */
};

/* What a debugger shows beyond cpu_get_reg() (cpu_get_sysregs). */
struct cpu_sysregs {
    struct cpu_seg_view seg[6]; /* ES, CS, SS, DS, FS, GS */
    struct cpu_seg_view ldtr, tr;
    u32 gdtr_base, idtr_base;
    u16 gdtr_limit, idtr_limit;
    u32 cr0, cr2, cr3, cr4;
    u64 efer;
    unsigned cpl;
    u32 eflags;
    u8 st[8][10];     /* ST(0)..ST(7), 80-bit images */
    u16 fcw, fsw, ftw; /* ftw: the full tag word, 2 bits per register */
    u16 fop, fcs, fds;
    u32 fip, fdp;
};

/* A debugger watchpoint: accesses by instructions (not fetches) to
 * [lin, lin + len) of the kinds asked for.  Checked where the data
 * breakpoints of DR7 are: the pages are kept out of the TLB, so every
 * access to them takes the slow path, string instructions included. */
#define CPU_MAX_WATCH 4
struct cpu_watch {
    u32 lin, len;
    bool read, write;
};

/* Replace the debugger's watchpoints (n <= CPU_MAX_WATCH; len >= 1).
 * While any is set, instructions run through the interpreter.  An access
 * to one records a hit (the first since cpu_take_watch_hit) and ends
 * cpu_run() after the instruction, with CPU_EXIT_REQUEST. */
void cpu_set_watchpoints(struct cpu *c, const struct cpu_watch *w, unsigned n);
/* The hit recorded since the last call: true with the watchpoint's index,
 * the accessed linear address and whether it was a write. */
bool cpu_take_watch_hit(struct cpu *c, unsigned *index, u32 *lin, bool *write);

/* The debugger's breakpoints: linear addresses (CS base + EIP) the CPU
 * stops before (CPU_EXIT_BREAK), except at the first instruction of a
 * cpu_run() (which is how the debugger steps off one).  Executors run as
 * usual elsewhere, unlinked: each block is checked against the list
 * (cpu_bp_in), and one that holds a breakpoint is left to the run loop,
 * which steps it. */
#define CPU_MAX_BP 64
void cpu_set_breakpoints(struct cpu *c, const u32 *lin, unsigned n);

/* EIP at the start of the instruction executing now (for hooks called
 * from inside one), or of the last one. */
u32 cpu_insn_eip(const struct cpu *c);

/* Copy the state above out of the CPU.  Any caller; no side effect. */
void cpu_get_sysregs(const struct cpu *c, struct cpu_sysregs *s);

/*
 * The debugger's edits of that state, for a CPU that is not running.
 * Each is made as the instruction that makes it would (MOV CRn, WRMSR,
 * MOV Sreg, LLDT, LTR), with its checks and its effects on the MMU and
 * the mode; what that instruction would fault on is refused instead
 * (-1, nothing changed, nothing delivered).  The descriptor caches' base
 * and limit and GDTR/IDTR are plain stores, as a debugger expects.
 */
enum cpu_sysreg {
    CPU_SR_CR0, CPU_SR_CR2, CPU_SR_CR3, CPU_SR_CR4, CPU_SR_EFER,
    CPU_SR_GDTR_BASE, CPU_SR_GDTR_LIMIT, CPU_SR_IDTR_BASE, CPU_SR_IDTR_LIMIT,
    CPU_SR_LDTR, CPU_SR_TR,
};
int cpu_set_sysreg(struct cpu *c, enum cpu_sysreg r, u64 v) MUST_CHECK;
/* Load segment register s (0-5: ES, CS, SS, DS, FS, GS) with `sel`; CS
 * in protected mode takes a present code descriptor and its RPL becomes
 * the CPL (nonconforming: RPL must equal DPL). */
int cpu_set_seg(struct cpu *c, unsigned s, u16 sel) MUST_CHECK;
/* Store the cached base (limit false) or limit of segment register s. */
void cpu_set_seg_cache(struct cpu *c, unsigned s, bool limit, u32 v);
/* x87 register n in gdb's order: 0-7 ST(i) (10 bytes), then FCW, FSW
 * (TOP included), the full tag word, FCS, FIP, FDS, FDP, FOP. */
void cpu_set_x87(struct cpu *c, unsigned n, const u8 *b);

#endif
