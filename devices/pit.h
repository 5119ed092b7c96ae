/*
 * Intel 8254 programmable interval timer (ports 0x40-0x43) and system
 * control port B (0x61: channel 2 gate, speaker data, refresh toggle and
 * channel 2 output).  Counts are computed from virtual time, never ticked.
 */
#ifndef UMBRA_DEVICES_PIT_H
#define UMBRA_DEVICES_PIT_H

#include "common/types.h"
#include "devices/irq.h"

struct mmu;

#define PIT_HZ 1193182u

struct pit_channel {
    u32 count;        /* initial count, 1..0x10000 */
    u8 mode;          /* 0..5 */
    u8 rw;            /* 1 lsb, 2 msb, 3 lsb then msb */
    bool bcd;
    bool gate;
    bool programmed;  /* a control word has been written since power-on */
    bool loaded;      /* a count has been written since the control word */
    bool triggered;   /* modes 1/5: the gate has triggered counting */
    bool counting;    /* ticks advance (not frozen by the gate) */
    bool null_count;  /* status bit 6 */
    bool write_hi;    /* rw 3: the next write is the MSB */
    bool read_hi;     /* rw 3: the next read is the MSB */
    u8 write_lsb;
    u8 latch_state;   /* count latch: 0 none, else rw-like state */
    u16 latched;
    bool status_latched;
    u8 status;
    u64 base_ticks;   /* ticks elapsed before start_ns */
    u64 start_ns;     /* when counting (re)started */
    u64 edge_ticks;   /* channel 0: ticks at the last IRQ0 update */
};

struct pit {
    struct pit_channel ch[3];
    bool speaker;          /* port 0x61 bit 1 */
    struct irq_sink irq;   /* IRQ0 */
    struct clock clock;    /* "now" for port accesses */
    /* Optional: called when a register write may have moved the deadline
     * earlier, so the board recomputes it. */
    void (*kick)(void *opaque);
    void *kick_opaque;
};

void pit_init(struct pit *p, struct irq_sink irq, struct clock clock);
/* Claim 0x40-0x43 and 0x61.  Returns 0 or -1. */
int pit_map(struct pit *p, struct mmu *m) MUST_CHECK;
/* Bring IRQ0 up to `now` (a rising edge of channel 0's output since the
 * last call pulses it).  Returns the next deadline (ns) or TIME_NEVER. */
u64 pit_update(struct pit *p, u64 now);
/* Output of channel `n` at `now`. */
bool pit_out(struct pit *p, unsigned n, u64 now);
/* Gate of channel 2 (port 0x61 bit 0). */
void pit_set_gate(struct pit *p, unsigned n, bool gate, u64 now);

#endif
