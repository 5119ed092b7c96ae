/*
 * Intel 8254 programmable interval timer: three 16-bit down counters on a
 * 1.193182 MHz clock (ports 0x40-0x42 data, 0x43 control word), plus the
 * PC's system control port B at 0x61 (bit 0 channel 2 gate, bit 1 speaker
 * data, bit 4 refresh toggle, bit 5 channel 2 output).  Follows the Intel
 * 8254 datasheet: modes 0-5, LSB/MSB/both access, counter latch and
 * read-back commands.  BCD counting is reported in the status but counts
 * in binary.
 *
 * Nothing ticks.  A counter is "ticks elapsed since its count was loaded",
 *   d(now) = base_ticks + floor((now - start_ns) * PIT_HZ / 1e9)
 * while counting, frozen at base_ticks while the gate holds it; the counter
 * value, the output and the next output edge are functions of d.  The count
 * load takes effect at the write (no extra CLK for loading), so in mode 0
 * OUT rises exactly `count` ticks after the last count byte.
 * After power-on a counter's mode and count are undefined (datasheet,
 * "Programming the 8254": a control word must precede the initial count):
 * it stays idle, OUT high, and ignores count bytes until its first control
 * word, so an unprogrammed PIT never requests IRQ0.
 * Channel 0's OUT drives IRQ0: pit_update() pulses the line for each
 * rising edge seen since the previous call (several missed periods make a
 * single request, as an unserviced IRR bit would) and reports the time of
 * the next rising edge.
 */
#include "pit.h"

#include <string.h>

#include "mmu/mmu.h"

#define NS_PER_SEC 1000000000ull
#define REFRESH_NS 15085u /* port 0x61 bit 4 toggles every 15.085 us */

static u64 ns_to_ticks(u64 ns)
{
    return (u64)((unsigned __int128)ns * PIT_HZ / NS_PER_SEC);
}

/* The first instant at which `ticks` clock periods have elapsed. */
static u64 ticks_to_ns(u64 ticks)
{
    return (u64)(((unsigned __int128)ticks * NS_PER_SEC + PIT_HZ - 1) / PIT_HZ);
}

static u64 ch_ticks(const struct pit_channel *c, u64 now)
{
    if (!c->counting)
        return c->base_ticks;
    return c->base_ticks + (now > c->start_ns ? ns_to_ticks(now - c->start_ns) : 0);
}

/* Rising edges of OUT in the first d ticks after the count was loaded
 * (monotonic in d; the next edge is where it next increases). */
static u64 ch_edges(const struct pit_channel *c, u64 d)
{
    switch (c->mode) {
    case 2:
    case 3:
        return d / c->count;
    case 4:
    case 5:
        return d >= c->count + 1;   /* strobe low for the tick at 0 */
    default:
        return d >= c->count;       /* modes 0/1: high at terminal count */
    }
}

/* Tick of the first rising edge after d, or UINT64_MAX. */
static u64 ch_next_edge(const struct pit_channel *c, u64 d)
{
    switch (c->mode) {
    case 2:
    case 3:
        return (d / c->count + 1) * c->count;
    case 4:
    case 5:
        return d < c->count + 1 ? c->count + 1 : UINT64_MAX;
    default:
        return d < c->count ? c->count : UINT64_MAX;
    }
}

static bool ch_out(const struct pit_channel *c, u64 now)
{
    if (!c->loaded)
        return c->mode != 0; /* mode 0 OUT goes low at the control word */
    if ((c->mode == 1 || c->mode == 5) && !c->triggered)
        return true;
    if ((c->mode == 2 || c->mode == 3) && !c->gate)
        return true;
    u64 d = ch_ticks(c, now);
    switch (c->mode) {
    case 2:
        return d % c->count != c->count - 1 || c->count == 1;
    case 3:
        return d % c->count < (c->count + 1) / 2;
    case 4:
    case 5:
        return d != c->count;
    default:
        return d >= c->count;
    }
}

static u16 ch_value(const struct pit_channel *c, u64 now)
{
    if (!c->loaded || ((c->mode == 1 || c->mode == 5) && !c->triggered))
        return (u16)c->count;
    u64 d = ch_ticks(c, now);
    switch (c->mode) {
    case 2:
        return (u16)(c->count - d % c->count);
    case 3: /* decrements by two, twice per period */
        return (u16)(c->count - (2 * d) % c->count);
    default:
        return (u16)(c->count - d);
    }
}

static void ch_start(struct pit_channel *c, u64 now, bool run)
{
    c->base_ticks = 0;
    c->start_ns = now;
    c->counting = run;
    c->edge_ticks = 0;
}

static void ch_load(struct pit_channel *c, u32 val, u64 now)
{
    if (val == 0)
        val = c->bcd ? 10000 : 0x10000;
    c->count = val;
    c->loaded = true;
    c->null_count = false;
    c->triggered = false;
    /* Modes 1/5 wait for a gate trigger; the others count while gated on. */
    ch_start(c, now, (c->mode != 1 && c->mode != 5) && c->gate);
}

static u8 ch_status(const struct pit_channel *c, u64 now)
{
    return (u8)(ch_out(c, now) << 7 | c->null_count << 6 | c->rw << 4 | c->mode << 1 | c->bcd);
}

static void ch_latch(struct pit_channel *c, u64 now)
{
    if (c->latch_state)
        return; /* a second latch before the read is ignored */
    c->latched = ch_value(c, now);
    c->latch_state = c->rw;
}

static void pit_irq_sync(struct pit *p, u64 now)
{
    irq_set(&p->irq, 0, ch_out(&p->ch[0], now));
}

static void pit_kick(struct pit *p)
{
    if (p->kick)
        p->kick(p->kick_opaque);
}

static void pit_control(struct pit *p, u8 val, u64 now)
{
    unsigned sel = val >> 6;
    if (sel == 3) { /* read-back: bit 5 = 0 latch count, bit 4 = 0 latch status */
        for (unsigned n = 0; n < 3; n++) {
            if (!(val & (2u << n)))
                continue;
            struct pit_channel *c = &p->ch[n];
            if (!(val & 0x20))
                ch_latch(c, now);
            if (!(val & 0x10) && !c->status_latched) {
                c->status = ch_status(c, now);
                c->status_latched = true;
            }
        }
        return;
    }
    struct pit_channel *c = &p->ch[sel];
    unsigned rw = (val >> 4) & 3;
    if (rw == 0) {
        ch_latch(c, now);
        return;
    }
    c->programmed = true;
    c->rw = (u8)rw;
    c->mode = (val >> 1) & 7;
    if (c->mode > 5)
        c->mode -= 4; /* 6 and 7 alias modes 2 and 3 */
    c->bcd = val & 1;
    c->loaded = false;
    c->null_count = true;
    c->write_hi = c->read_hi = false;
    c->latch_state = 0;
    c->counting = false;
    if (sel == 0) {
        pit_irq_sync(p, now);
        pit_kick(p);
    }
}

static void pit_data_write(struct pit *p, unsigned n, u8 val, u64 now)
{
    struct pit_channel *c = &p->ch[n];
    if (!c->programmed)
        return;
    switch (c->rw) {
    case 1:
        ch_load(c, val, now);
        break;
    case 2:
        ch_load(c, (u32)val << 8, now);
        break;
    default:
        if (!c->write_hi) {
            c->write_lsb = val;
            c->write_hi = true;
            if (c->mode == 0) { /* the first byte stops the count, OUT low */
                c->loaded = false;
                c->counting = false;
            }
            return;
        }
        c->write_hi = false;
        ch_load(c, c->write_lsb | (u32)val << 8, now);
        break;
    }
    if (n == 0) {
        pit_irq_sync(p, now);
        pit_kick(p);
    }
}

static u8 pit_data_read(struct pit *p, unsigned n, u64 now)
{
    struct pit_channel *c = &p->ch[n];
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    if (c->latch_state) {
        u8 v;
        if (c->latch_state == 2 || c->latch_state == 4) {
            v = (u8)(c->latched >> 8);
            c->latch_state = 0;
        } else if (c->latch_state == 1) {
            v = (u8)c->latched;
            c->latch_state = 0;
        } else {
            v = (u8)c->latched;
            c->latch_state = 4; /* LSB read; MSB next */
        }
        return v;
    }
    u16 v = ch_value(c, now);
    switch (c->rw) {
    case 1:
        return (u8)v;
    case 2:
        return (u8)(v >> 8);
    default:
        c->read_hi = !c->read_hi;
        return c->read_hi ? (u8)v : (u8)(v >> 8);
    }
}

void pit_set_gate(struct pit *p, unsigned n, bool gate, u64 now)
{
    struct pit_channel *c = &p->ch[n];
    if (gate == c->gate)
        return;
    bool rising = gate;
    switch (c->mode) {
    case 0:
    case 4: /* the gate suspends counting */
        if (c->loaded) {
            c->base_ticks = ch_ticks(c, now);
            c->start_ns = now;
            c->counting = rising;
        }
        break;
    case 2:
    case 3: /* low forces OUT high and stops; a rising edge reloads */
        if (c->loaded)
            ch_start(c, now, rising);
        break;
    default: /* 1, 5: a rising edge (re)triggers */
        if (c->loaded && rising) {
            c->triggered = true;
            ch_start(c, now, true);
        }
        break;
    }
    c->gate = gate;
}

static u32 pit_read(void *opaque, u16 port, unsigned size)
{
    struct pit *p = opaque;
    u64 now = clock_now(&p->clock);
    if (port == 0x61) {
        return (u32)(p->ch[2].gate | p->speaker << 1 | ((now / REFRESH_NS) & 1) << 4 |
                     ch_out(&p->ch[2], now) << 5);
    }
    if (port == 0x43)
        return 0xff; /* the control word register is write-only */
    return pit_data_read(p, port & 3, now);
}

static void pit_write(void *opaque, u16 port, u32 val, unsigned size)
{
    struct pit *p = opaque;
    u64 now = clock_now(&p->clock);
    if (port == 0x61) {
        p->speaker = val & 2;
        pit_set_gate(p, 2, val & 1, now);
    } else if (port == 0x43) {
        pit_control(p, (u8)val, now);
    } else {
        pit_data_write(p, port & 3, (u8)val, now);
    }
}

static const struct io_ops pit_ops = { pit_read, pit_write };

void pit_init(struct pit *p, struct irq_sink irq, struct clock clock)
{
    memset(p, 0, sizeof *p);
    p->irq = irq;
    p->clock = clock;
    for (unsigned n = 0; n < 3; n++) {
        p->ch[n].count = 0x10000;
        p->ch[n].rw = 3;
        p->ch[n].mode = 3;
        p->ch[n].gate = n != 2; /* channels 0 and 1 are gated on; 2 by 0x61 */
    }
    /* OUT of an unprogrammed counter is high: reprogramming it to a
     * periodic mode must not look like an edge. */
    irq_set(&p->irq, 0, ch_out(&p->ch[0], 0));
}

int pit_map(struct pit *p, struct mmu *m)
{
    if (mmu_map_io(m, 0x40, 4, &pit_ops, p) < 0 || mmu_map_io(m, 0x61, 1, &pit_ops, p) < 0)
        return -1;
    return 0;
}

bool pit_out(struct pit *p, unsigned n, u64 now)
{
    return ch_out(&p->ch[n], now);
}

u64 pit_update(struct pit *p, u64 now)
{
    struct pit_channel *c = &p->ch[0];
    if (!c->loaded || !c->counting)
        return TIME_NEVER;
    u64 d = ch_ticks(c, now);
    if (d > c->edge_ticks && ch_edges(c, d) > ch_edges(c, c->edge_ticks)) {
        irq_set(&p->irq, 0, false);
        irq_set(&p->irq, 0, true);
    }
    c->edge_ticks = d;
    irq_set(&p->irq, 0, ch_out(c, now));
    u64 next = ch_next_edge(c, d);
    if (next == UINT64_MAX)
        return TIME_NEVER;
    return c->start_ns + ticks_to_ns(next - c->base_ticks);
}
