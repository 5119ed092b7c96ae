/*
 * Local APIC of a single P6-class processor in xAPIC mode (SDM vol. 3A
 * chapter 10: 10.4 enabling and IA32_APIC_BASE, 10.5 the LVT and the
 * timer, 10.6 the ICR, 10.8 acceptance, priority, EOI, 10.9 spurious
 * interrupts).
 *
 * Interrupt path.  A message (LVT, I/O APIC or self-IPI) sets its IRR bit
 * and its TMR bit for level triggering.  INTR to the CPU is asserted while
 * the highest IRR vector's priority class exceeds the PPR's, or while LINT0
 * is programmed ExtINT, unmasked and the 8259A's INTR is high.  On acknowledge
 * the APIC vector wins; otherwise the 8259A is asked (ExtINT); otherwise the
 * spurious vector is returned without touching the ISR.
 *
 * When the APIC is hardware-disabled (IA32_APIC_BASE bit 11 clear) or
 * software-disabled (SVR bit 8 clear, the state after reset) LINT0 and
 * LINT1 pass straight through as INTR and NMI: firmware and bare-metal
 * programs that never touch the APIC see a plain 8259A machine.
 *
 * Timer.  It counts bus clocks (LAPIC_BUS_NS each) divided by the DCR and
 * is computed from virtual time: the current count is derived from the
 * time the period began, never ticked.
 */
#include "lapic.h"

#include <string.h>

#include "mmu/mmu.h"

/* Register offsets in the 4 KiB page (SDM vol. 3A table 10-1). */
enum {
    REG_ID = 0x020,
    REG_VERSION = 0x030,
    REG_TPR = 0x080,
    REG_APR = 0x090,
    REG_PPR = 0x0A0,
    REG_EOI = 0x0B0,
    REG_LDR = 0x0D0,
    REG_DFR = 0x0E0,
    REG_SVR = 0x0F0,
    REG_ISR = 0x100,
    REG_TMR = 0x180,
    REG_IRR = 0x200,
    REG_ESR = 0x280,
    REG_ICR_LO = 0x300,
    REG_ICR_HI = 0x310,
    REG_LVT_TIMER = 0x320,
    REG_LVT_LINT0 = 0x350,
    REG_LVT_LINT1 = 0x360,
    REG_LVT_ERROR = 0x370,
    REG_TIMER_ICR = 0x380,
    REG_TIMER_CCR = 0x390,
    REG_TIMER_DCR = 0x3E0,
};

/* ESR bits (SDM vol. 3A figure 10-9). */
#define ESR_SEND_ILLEGAL (1u << 5)
#define ESR_RECV_ILLEGAL (1u << 6)
#define ESR_ILLEGAL_REG (1u << 7)

/* Writable LVT bits: vector, delivery mode, polarity, trigger, mask,
 * timer mode. */
static const u32 lvt_writable[LVT_COUNT] = {
    [LVT_TIMER] = 0x000300FFu & ~(1u << 18), /* one-shot or periodic */
    [LVT_LINT0] = 0x0001A7FFu,
    [LVT_LINT1] = 0x0001A7FFu,
    [LVT_ERROR] = 0x000100FFu,
};

static int highest_bit(const u32 v[8])
{
    for (int w = 7; w >= 0; w--)
        if (v[w])
            return w * 32 + 31 - __builtin_clz(v[w]);
    return -1;
}

static void set_bit(u32 v[8], unsigned n) { v[n >> 5] |= 1u << (n & 31); }
static void clear_bit(u32 v[8], unsigned n) { v[n >> 5] &= ~(1u << (n & 31)); }
static bool test_bit(const u32 v[8], unsigned n) { return v[n >> 5] >> (n & 31) & 1; }

bool lapic_active(const struct lapic *l)
{
    return l->hw_enabled && (l->svr & APIC_SVR_ENABLE);
}

/* Processor priority (SDM 10.8.3.1). */
static u32 lapic_ppr(const struct lapic *l)
{
    int isrv = highest_bit(l->isr);
    u32 isr_class = isrv < 0 ? 0 : (u32)isrv & 0xF0;
    return (l->tpr & 0xF0) >= isr_class ? l->tpr & 0xFF : isr_class;
}

/* The IRR vector the CPU would take now, or -1. */
static int lapic_pending(const struct lapic *l)
{
    int irrv = highest_bit(l->irr);
    if (irrv < 0 || ((u32)irrv & 0xF0) <= (lapic_ppr(l) & 0xF0))
        return -1;
    return irrv;
}

static unsigned lvt_mode(u32 lvt) { return (lvt >> 8) & 7; }

/* LINT0 is a virtual wire for the 8259A and its INTR is high. */
static bool extint_ready(const struct lapic *l)
{
    u32 lvt = l->lvt[LVT_LINT0];
    return l->lint0 && !(lvt & APIC_LVT_MASKED) && lvt_mode(lvt) == APIC_DM_EXTINT;
}

static void lapic_update(struct lapic *l)
{
    bool level = lapic_active(l) ? lapic_pending(l) >= 0 || extint_ready(l) : l->lint0;
    l->out_level = level;
    irq_set(&l->out, 0, level);
}

/* Accept a fixed interrupt into the IRR (SDM 10.8.4). */
static void lapic_accept(struct lapic *l, u8 vector, bool level);

static void lapic_error(struct lapic *l, u32 bits)
{
    l->esr_pending |= bits;
    u32 lvt = l->lvt[LVT_ERROR];
    if (!(lvt & APIC_LVT_MASKED) && (lvt & 0xFF) >= 16)
        lapic_accept(l, (u8)lvt, false);
}

static void lapic_accept(struct lapic *l, u8 vector, bool level)
{
    if (vector < 16) {
        lapic_error(l, ESR_RECV_ILLEGAL);
        return;
    }
    set_bit(l->irr, vector);
    if (level)
        set_bit(l->tmr, vector);
    else
        clear_bit(l->tmr, vector);
    lapic_update(l);
}

bool lapic_deliver(struct lapic *l, unsigned mode, u8 vector, bool level)
{
    if (!lapic_active(l))
        return false;
    switch (mode) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWEST:
        lapic_accept(l, vector, level);
        return true;
    case APIC_DM_NMI:
        l->ops.nmi(l->ops.opaque);
        return true;
    default:
        /* SMI, INIT and start-up mean nothing to the only processor;
         * ExtINT messages are not routed here. */
        return true;
    }
}

bool lapic_match_dest(const struct lapic *l, u8 dest, bool logical)
{
    if (!logical)
        return dest == 0xFF || dest == l->id;
    if (dest == 0xFF)
        return true;
    u8 ldr = (u8)(l->ldr >> 24);
    if ((l->dfr >> 28) == 0xF) /* flat model: one bit per APIC */
        return (ldr & dest) != 0;
    /* Cluster model: high nibble names the cluster, low the members. */
    return (ldr >> 4) == (dest >> 4) && (ldr & dest & 0x0F) != 0;
}

/* ---- timer ---- */

static u64 timer_tick_ns(const struct lapic *l)
{
    unsigned v = (l->timer_dcr & 3) | ((l->timer_dcr >> 1) & 4);
    return (u64)LAPIC_BUS_NS * (v == 7 ? 1u : 2u << v);
}

static u64 timer_period_ns(const struct lapic *l)
{
    return (u64)l->timer_initial * timer_tick_ns(l);
}

static u32 timer_current(struct lapic *l, u64 now)
{
    lapic_timer_update(l, now);
    if (!l->timer_armed)
        return 0;
    u64 ticks = (now - l->timer_start) / timer_tick_ns(l);
    return ticks >= l->timer_initial ? 0 : l->timer_initial - (u32)ticks;
}

u64 lapic_timer_update(struct lapic *l, u64 now)
{
    if (!l->timer_armed)
        return TIME_NEVER;
    u64 period = timer_period_ns(l);
    if (now >= l->timer_start && now - l->timer_start >= period) {
        u32 lvt = l->lvt[LVT_TIMER];
        if (lvt & APIC_LVT_PERIODIC)
            l->timer_start += (now - l->timer_start) / period * period;
        else
            l->timer_armed = false;
        /* Periods missed while the board was away coalesce into one
         * interrupt, as a busy IRR bit would coalesce them anyway. */
        if (!(lvt & APIC_LVT_MASKED) && lapic_active(l))
            lapic_accept(l, (u8)lvt, false);
    }
    return l->timer_armed ? l->timer_start + period : TIME_NEVER;
}

static void lapic_kick(struct lapic *l)
{
    if (l->ops.kick)
        l->ops.kick(l->ops.opaque);
}

/* ---- EOI, ICR ---- */

static void lapic_eoi(struct lapic *l)
{
    int v = highest_bit(l->isr);
    if (v < 0)
        return;
    clear_bit(l->isr, (unsigned)v);
    if (test_bit(l->tmr, (unsigned)v) && l->ops.eoi)
        l->ops.eoi(l->ops.opaque, (u8)v);
    lapic_update(l);
}

/* An IPI: with one processor only messages that reach ourselves matter. */
static void lapic_send_ipi(struct lapic *l)
{
    u32 lo = l->icr_lo;
    unsigned mode = lvt_mode(lo), shorthand = (lo >> 18) & 3;
    bool self;
    switch (shorthand) {
    case 0: self = lapic_match_dest(l, (u8)(l->icr_hi >> 24), lo & (1u << 11)); break;
    case 1: case 2: self = true; break;
    default: self = false; break;
    }
    if ((mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST) && (lo & 0xFF) < 16) {
        lapic_error(l, ESR_SEND_ILLEGAL);
        return;
    }
    if (self)
        lapic_deliver(l, mode, (u8)lo, false);
}

/* ---- registers ---- */

static void lapic_sw_disable(struct lapic *l)
{
    for (unsigned k = 0; k < LVT_COUNT; k++)
        l->lvt[k] |= APIC_LVT_MASKED;
}

u32 lapic_read(struct lapic *l, u32 offset)
{
    u32 reg = offset & 0xFF0;
    if (reg >= REG_ISR && reg < REG_ISR + 0x80)
        return l->isr[(reg - REG_ISR) >> 4];
    if (reg >= REG_TMR && reg < REG_TMR + 0x80)
        return l->tmr[(reg - REG_TMR) >> 4];
    if (reg >= REG_IRR && reg < REG_IRR + 0x80)
        return l->irr[(reg - REG_IRR) >> 4];
    switch (reg) {
    case REG_ID: return (u32)l->id << 24;
    case REG_VERSION: return LAPIC_VERSION;
    case REG_TPR: return l->tpr;
    case REG_APR: return 0;
    case REG_PPR: return lapic_ppr(l);
    case REG_LDR: return l->ldr;
    case REG_DFR: return l->dfr;
    case REG_SVR: return l->svr;
    case REG_ESR: return l->esr;
    case REG_ICR_LO: return l->icr_lo & ~(1u << 12); /* always idle */
    case REG_ICR_HI: return l->icr_hi;
    case REG_LVT_TIMER: return l->lvt[LVT_TIMER];
    case REG_LVT_LINT0: return l->lvt[LVT_LINT0];
    case REG_LVT_LINT1: return l->lvt[LVT_LINT1];
    case REG_LVT_ERROR: return l->lvt[LVT_ERROR];
    case REG_TIMER_ICR: return l->timer_initial;
    case REG_TIMER_CCR: return timer_current(l, clock_now(&l->clock));
    case REG_TIMER_DCR: return l->timer_dcr;
    default: return 0;
    }
}

static void lapic_write_lvt(struct lapic *l, unsigned k, u32 val)
{
    if (k == LVT_TIMER) /* settle the old mode before switching */
        lapic_timer_update(l, clock_now(&l->clock));
    u32 v = (l->lvt[k] & ~lvt_writable[k]) | (val & lvt_writable[k]);
    if (!(l->svr & APIC_SVR_ENABLE))
        v |= APIC_LVT_MASKED; /* software-disabled: masks stay set */
    l->lvt[k] = v;
    if (k == LVT_TIMER)
        lapic_kick(l);
    lapic_update(l);
}

void lapic_write(struct lapic *l, u32 offset, u32 val)
{
    u32 reg = offset & 0xFF0;
    switch (reg) {
    case REG_ID: l->id = (u8)(val >> 24); break;
    case REG_TPR: l->tpr = val & 0xFF; lapic_update(l); break;
    case REG_EOI: lapic_eoi(l); break;
    case REG_LDR: l->ldr = val & 0xFF000000u; break;
    case REG_DFR: l->dfr = val | 0x0FFFFFFFu; break;
    case REG_SVR:
        l->svr = val & 0x3FF;
        if (!(val & APIC_SVR_ENABLE))
            lapic_sw_disable(l);
        lapic_update(l);
        break;
    case REG_ESR:
        /* A write latches the errors since the last one (SDM 10.5.3). */
        l->esr = l->esr_pending;
        l->esr_pending = 0;
        break;
    case REG_ICR_LO: l->icr_lo = val & 0x000CDFFFu; lapic_send_ipi(l); break;
    case REG_ICR_HI: l->icr_hi = val & 0xFF000000u; break;
    case REG_LVT_TIMER: lapic_write_lvt(l, LVT_TIMER, val); break;
    case REG_LVT_LINT0: lapic_write_lvt(l, LVT_LINT0, val); break;
    case REG_LVT_LINT1: lapic_write_lvt(l, LVT_LINT1, val); break;
    case REG_LVT_ERROR: lapic_write_lvt(l, LVT_ERROR, val); break;
    case REG_TIMER_ICR:
        l->timer_initial = val;
        l->timer_start = clock_now(&l->clock);
        l->timer_armed = val != 0;
        lapic_kick(l);
        break;
    case REG_TIMER_DCR: {
        /* Keep the current count across a change of divisor. */
        u64 now = clock_now(&l->clock);
        u32 cur = timer_current(l, now);
        l->timer_dcr = val & 0xB;
        if (l->timer_armed)
            l->timer_start = now - (u64)(l->timer_initial - cur) * timer_tick_ns(l);
        lapic_kick(l);
        break;
    }
    case REG_VERSION: case REG_APR: case REG_PPR: case REG_TIMER_CCR:
        break; /* read-only */
    default:
        if (reg < REG_ISR || reg >= REG_IRR + 0x80)
            lapic_error(l, ESR_ILLEGAL_REG);
        break;
    }
}

/* ---- inputs and acknowledge ---- */

void lapic_set_lint0(struct lapic *l, bool level)
{
    bool rising = level && !l->lint0;
    l->lint0 = level;
    u32 lvt = l->lvt[LVT_LINT0];
    if (rising && lapic_active(l) && !(lvt & APIC_LVT_MASKED)) {
        if (lvt_mode(lvt) == APIC_DM_NMI)
            l->ops.nmi(l->ops.opaque);
        else if (lvt_mode(lvt) == APIC_DM_FIXED)
            lapic_accept(l, (u8)lvt, false);
    }
    lapic_update(l);
}

void lapic_set_lint1(struct lapic *l, bool level)
{
    bool rising = level && !l->lint1;
    l->lint1 = level;
    if (!rising)
        return;
    u32 lvt = l->lvt[LVT_LINT1];
    if (!lapic_active(l))
        l->ops.nmi(l->ops.opaque); /* the NMI pin, as without an APIC */
    else if (!(lvt & APIC_LVT_MASKED))
        lapic_deliver(l, lvt_mode(lvt), (u8)lvt, false);
}

int lapic_intr_ack(struct lapic *l)
{
    if (!lapic_active(l))
        return l->ops.extint_ack(l->ops.opaque);
    int v = lapic_pending(l);
    if (v >= 0) {
        clear_bit(l->irr, (unsigned)v);
        set_bit(l->isr, (unsigned)v);
        lapic_update(l);
        return v;
    }
    if (extint_ready(l))
        return l->ops.extint_ack(l->ops.opaque);
    /* The request vanished between INTR and INTA (SDM 10.9). */
    return (int)(l->svr & 0xFF);
}

/* ---- reset, MSR, bus ---- */

void lapic_reset(struct lapic *l)
{
    l->base = LAPIC_DEFAULT_BASE;
    l->hw_enabled = true;
    l->id = 0;
    l->tpr = 0;
    l->ldr = 0;
    l->dfr = 0xFFFFFFFFu;
    l->svr = 0xFF;
    l->esr = l->esr_pending = 0;
    l->icr_lo = l->icr_hi = 0;
    memset(l->irr, 0, sizeof l->irr);
    memset(l->isr, 0, sizeof l->isr);
    memset(l->tmr, 0, sizeof l->tmr);
    for (unsigned k = 0; k < LVT_COUNT; k++)
        l->lvt[k] = APIC_LVT_MASKED;
    l->timer_initial = 0;
    l->timer_dcr = 0;
    l->timer_start = 0;
    l->timer_armed = false;
    lapic_update(l);
}

void lapic_init(struct lapic *l, struct irq_sink out, struct clock clock,
                const struct lapic_ops *ops)
{
    memset(l, 0, sizeof *l);
    l->out = out;
    l->clock = clock;
    l->ops = *ops;
    lapic_reset(l);
}

void lapic_set_base_msr(struct lapic *l, u64 msr)
{
    bool enable = msr & APIC_BASE_ENABLE;
    if (l->hw_enabled && !enable) {
        bool lint0 = l->lint0, lint1 = l->lint1;
        lapic_reset(l);
        l->lint0 = lint0;
        l->lint1 = lint1;
    }
    l->base = (u32)msr & 0xFFFFF000u;
    l->hw_enabled = enable;
    lapic_update(l);
}

/* The page is claimed at the reset base; a relocated or disabled APIC
 * leaves it reading as an unclaimed bus. */
static u32 lapic_mmio_read(void *opaque, u32 offset, unsigned size)
{
    struct lapic *l = opaque;
    if (!l->hw_enabled || l->base != LAPIC_DEFAULT_BASE)
        return size == 4 ? ~0u : (1u << (size * 8)) - 1;
    u32 v = lapic_read(l, offset & ~3u) >> ((offset & 3) * 8);
    return size == 4 ? v : v & ((1u << (size * 8)) - 1);
}

static void lapic_mmio_write(void *opaque, u32 offset, u32 val, unsigned size)
{
    struct lapic *l = opaque;
    (void)size;
    if (!l->hw_enabled || l->base != LAPIC_DEFAULT_BASE)
        return;
    lapic_write(l, offset & ~3u, val << ((offset & 3) * 8));
}

static const struct mmio_ops lapic_mmio = { lapic_mmio_read, lapic_mmio_write };

int lapic_map(struct lapic *l, struct mmu *m)
{
    return mmu_map_mmio(m, LAPIC_DEFAULT_BASE, 0x1000, &lapic_mmio, l);
}
