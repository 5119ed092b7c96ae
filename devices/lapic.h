/*
 * The processor's local APIC (xAPIC, memory-mapped at IA32_APIC_BASE,
 * 0xFEE00000 after reset): interrupt acceptance and priority, EOI, the
 * LVT (timer, LINT0, LINT1, error), self-IPIs through the ICR, and the
 * 8259A's INTR coming in on LINT0.
 */
#ifndef UMBRA_DEVICES_LAPIC_H
#define UMBRA_DEVICES_LAPIC_H

#include "common/types.h"
#include "devices/irq.h"

struct mmu;

#define LAPIC_DEFAULT_BASE 0xFEE00000u
#define LAPIC_VERSION 0x00030014u   /* integrated APIC, max LVT entry 3 */
/* The timer counts bus clocks: 100 MHz, one per PC_NS_PER_INSN. */
#define LAPIC_BUS_NS 10u

/* LVT slots. */
enum { LVT_TIMER, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_COUNT };

/* Delivery modes (ICR, LVT, I/O APIC redirection entries). */
enum {
    APIC_DM_FIXED = 0,
    APIC_DM_LOWEST = 1,
    APIC_DM_SMI = 2,
    APIC_DM_NMI = 4,
    APIC_DM_INIT = 5,
    APIC_DM_STARTUP = 6,
    APIC_DM_EXTINT = 7,
};

#define APIC_LVT_MASKED (1u << 16)
#define APIC_LVT_LEVEL (1u << 15)
#define APIC_LVT_PERIODIC (1u << 17)
#define APIC_SVR_ENABLE (1u << 8)
#define APIC_BASE_ENABLE (1u << 11)

struct lapic_ops {
    void *opaque;
    /* Interrupt acknowledge of the 8259A (for ExtINT). */
    int (*extint_ack)(void *opaque);
    /* NMI to the processor. */
    void (*nmi)(void *opaque);
    /* EOI of a level-triggered vector: broadcast to the I/O APIC. */
    void (*eoi)(void *opaque, u8 vector);
    /* A register write moved the timer deadline: recompute deadlines.
     * May be NULL. */
    void (*kick)(void *opaque);
};

struct lapic {
    u32 base;           /* IA32_APIC_BASE bits 31-12 */
    bool hw_enabled;    /* IA32_APIC_BASE bit 11 */
    u8 id;
    u32 tpr;
    u32 ldr, dfr;
    u32 svr;
    u32 esr;            /* what a read returns (latched by a write) */
    u32 esr_pending;    /* errors since the last ESR write */
    u32 icr_lo, icr_hi;
    u32 irr[8], isr[8], tmr[8];
    u32 lvt[LVT_COUNT];
    u32 timer_initial;  /* initial count register */
    u32 timer_dcr;      /* divide configuration */
    u64 timer_start;    /* ns when the current period began */
    bool timer_armed;   /* counting down (a one-shot stops at 0) */
    bool lint0, lint1;  /* input levels (LINT0 = 8259A INTR) */
    bool out_level;     /* INTR to the CPU */
    struct irq_sink out;
    struct clock clock;
    struct lapic_ops ops;
};

/* Power-on state: hardware-enabled at LAPIC_DEFAULT_BASE, software-
 * disabled (SVR = 0xFF), every LVT masked.  `out` is the CPU's INTR. */
void lapic_init(struct lapic *l, struct irq_sink out, struct clock clock,
                const struct lapic_ops *ops);
/* INIT/reset: registers to the power-on state, the input levels kept. */
void lapic_reset(struct lapic *l);
/* Claim the 4 KiB page at LAPIC_DEFAULT_BASE.  Returns 0 or -1. */
int lapic_map(struct lapic *l, struct mmu *m) MUST_CHECK;
/* IA32_APIC_BASE was written: base and global enable.  Disabling resets
 * the registers, as SDM vol. 3A 10.4.3 says. */
void lapic_set_base_msr(struct lapic *l, u64 msr);

/* MMIO registers at `offset` within the page (32-bit accesses). */
u32 lapic_read(struct lapic *l, u32 offset);
void lapic_write(struct lapic *l, u32 offset, u32 val);

/* LINT0 (the 8259A's INTR) and LINT1 input levels. */
void lapic_set_lint0(struct lapic *l, bool level);
void lapic_set_lint1(struct lapic *l, bool level);
/* An interrupt message (from the I/O APIC or an IPI).  Returns false when
 * the APIC does not accept it (software-disabled). */
bool lapic_deliver(struct lapic *l, unsigned mode, u8 vector, bool level);
/* Whether `dest` in physical or logical (flat/cluster) mode names us. */
bool lapic_match_dest(const struct lapic *l, u8 dest, bool logical);
/* The CPU acknowledges INTR: the vector to deliver (ExtINT asks the
 * 8259A; with nothing pending, the spurious vector). */
int lapic_intr_ack(struct lapic *l);
/* Whether the APIC is in the interrupt path (hardware and software
 * enabled); otherwise LINT0/LINT1 pass straight to INTR/NMI. */
bool lapic_active(const struct lapic *l);

/* Bring the timer up to `now`; the next deadline or TIME_NEVER. */
u64 lapic_timer_update(struct lapic *l, u64 now);

#endif
