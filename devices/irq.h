/*
 * Interrupt lines and time for the chips.
 *
 * A chip raises or lowers an interrupt request through a struct irq_sink
 * (the board routes ISA IRQ n to the 8259A pair, and to the I/O APIC once
 * there is one).  Chips never read the host clock: they are told "now" in
 * nanoseconds of virtual time and report their next deadline, so tests can
 * drive them with a fake clock and the board can run deterministically.
 */
#ifndef UMBRA_DEVICES_IRQ_H
#define UMBRA_DEVICES_IRQ_H

#include "common/types.h"

typedef void (*irq_set_fn)(void *opaque, unsigned irq, bool level);

struct irq_sink {
    irq_set_fn set;
    void *opaque;
};

static inline void irq_set(const struct irq_sink *s, unsigned irq, bool level)
{
    if (s->set)
        s->set(s->opaque, irq, level);
}

/* Virtual time in nanoseconds. */
typedef u64 (*clock_now_fn)(void *opaque);

struct clock {
    clock_now_fn now;
    void *opaque;
};

static inline u64 clock_now(const struct clock *c)
{
    return c->now(c->opaque);
}

#define TIME_NEVER UINT64_MAX

#endif
