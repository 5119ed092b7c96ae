/*
 * Intel 8259A programmable interrupt controller, the PC/AT pair: master at
 * 0x20/0x21 driving the CPU's INTR, slave at 0xA0/0xA1 cascaded into master
 * IR2, plus the edge/level control registers (ELCR) at 0x4D0/0x4D1.
 * Follows the Intel 8259A datasheet (ICW1-ICW4, OCW1-OCW3, priority
 * resolution, INTA sequence) and the PIIX ELCR.
 *
 * Model:
 *   - `lines` holds each input's level.  An edge-triggered input latches a
 *     request in IRR on a rising edge and the request stays until INTA; a
 *     level-triggered one (ELCR bit or ICW1 LTIM) has IRR follow the line.
 *   - Priority: IR (priority_add + k) & 7 has rank k, 0 highest; a request
 *     wins only against a strictly lower-ranked in-service level.
 *   - The slave's "has an interrupt" output is the master's IR2 request,
 *     sampled as a level.
 *   - INTA with no request left (masked or a level line dropped after INTR
 *     rose) returns the IR7 vector without setting ISR: spurious IRQ7/15.
 *   - From power-on until its first ICW sequence completes a chip presents
 *     nothing: the datasheet defines no operating state before ICW1, and
 *     ICW1 resets the edge sense, so levels seen before it (the 8254's OUT
 *     is high from power-on) request nothing.  A chip being initialized
 *     again is silent until its last ICW.
 */
#include "pic.h"

#include <string.h>

#include "mmu/mmu.h"

#define PIC_MASTER 0
#define PIC_SLAVE 1
#define PIC_CASCADE_IR 2

/* Rank (0 = highest) of the best IR in `mask`, 8 if none. */
static unsigned priority_of(const struct pic8259 *s, u8 mask)
{
    if (!mask)
        return 8;
    unsigned k = 0;
    while (!(mask & (1u << ((k + s->priority_add) & 7))))
        k++;
    return k;
}

/* The IR this chip would present on INTR, or -1. */
static int chip_pending(const struct pic8259 *s, bool master)
{
    if (!s->initialized || s->init_step)
        return -1;
    unsigned req = priority_of(s, s->irr & ~s->imr);
    if (req == 8)
        return -1;
    u8 in_service = s->isr;
    if (s->special_mask)
        in_service &= ~s->imr;   /* SMM: masked levels do not block */
    if (master && s->sfnm)
        in_service &= ~(1u << PIC_CASCADE_IR); /* SFNM: nested slave requests */
    if (req < priority_of(s, in_service))
        return (int)((req + s->priority_add) & 7);
    return -1;
}

static bool is_level(const struct pic8259 *s, unsigned ir)
{
    return s->ltim || (s->elcr & (1u << ir));
}

static void chip_set_line(struct pic8259 *s, unsigned ir, bool level)
{
    u8 bit = (u8)(1u << ir);
    if (is_level(s, ir)) {
        if (level)
            s->irr |= bit;
        else
            s->irr &= (u8)~bit;
    } else if (level && !(s->lines & bit)) {
        s->irr |= bit;
    }
    if (level)
        s->lines |= bit;
    else
        s->lines &= (u8)~bit;
}

/* Propagate the slave output into master IR2, then INTR to the CPU. */
static void pic_update(struct pic *p)
{
    /* The slave's INT is sampled as a level: a second slave request must
     * reach the master even when AEOI or SFNM keep the slave's INT high. */
    struct pic8259 *m = &p->c[PIC_MASTER];
    u8 bit = 1u << PIC_CASCADE_IR;
    if (chip_pending(&p->c[PIC_SLAVE], false) >= 0) {
        m->irr |= bit;
        m->lines |= bit;
    } else {
        m->irr &= (u8)~bit;
        m->lines &= (u8)~bit;
    }
    bool out = chip_pending(&p->c[PIC_MASTER], true) >= 0;
    if (out != p->out_level) {
        p->out_level = out;
        irq_set(&p->out, 0, out);
    }
}

/* INTA on one chip for IR `ir`. */
static void chip_ack(struct pic8259 *s, unsigned ir)
{
    if (s->aeoi) {
        if (s->rotate_aeoi)
            s->priority_add = (u8)((ir + 1) & 7);
    } else {
        s->isr |= (u8)(1u << ir);
    }
    if (!is_level(s, ir))
        s->irr &= (u8)~(1u << ir);
}

/* ICW1: the datasheet's initialization: IMR and ISR cleared, IR7 lowest
 * priority, special mask mode off, IRR read selected, edge sense reset (an
 * input already high must go low before it requests again). */
static void chip_icw1(struct pic8259 *s, u8 val)
{
    u8 elcr = s->elcr, elcr_mask = s->elcr_mask, lines = s->lines;
    memset(s, 0, sizeof *s);
    s->elcr = elcr;
    s->elcr_mask = elcr_mask;
    s->lines = lines;
    s->init_step = 1;
    s->icw4_needed = val & 0x01;
    s->single = val & 0x02;
    s->ltim = val & 0x08;
    s->irr = s->ltim ? lines : (u8)(lines & elcr);
}

static void chip_ocw2(struct pic8259 *s, u8 val)
{
    unsigned cmd = val >> 5, ir = val & 7;
    switch (cmd) {
    case 0: /* rotate in AEOI mode: clear */
    case 4: /* rotate in AEOI mode: set */
        s->rotate_aeoi = cmd == 4;
        break;
    case 1: /* non-specific EOI */
    case 5: { /* rotate on non-specific EOI */
        unsigned k = priority_of(s, s->isr);
        if (k == 8)
            break;
        ir = (k + s->priority_add) & 7;
        s->isr &= (u8)~(1u << ir);
        if (cmd == 5)
            s->priority_add = (u8)((ir + 1) & 7);
        break;
    }
    case 3: /* specific EOI */
        s->isr &= (u8)~(1u << ir);
        break;
    case 6: /* set priority: IR becomes the lowest */
        s->priority_add = (u8)((ir + 1) & 7);
        break;
    case 7: /* rotate on specific EOI */
        s->isr &= (u8)~(1u << ir);
        s->priority_add = (u8)((ir + 1) & 7);
        break;
    default: /* 2: no operation */
        break;
    }
}

static void chip_write(struct pic8259 *s, bool odd, u8 val)
{
    if (!odd) {
        if (val & 0x10) {
            chip_icw1(s, val);
        } else if (val & 0x08) { /* OCW3 */
            if (val & 0x04)
                s->poll = true;
            if (val & 0x02)
                s->read_isr = val & 0x01;
            if (val & 0x40)
                s->special_mask = (val >> 5) & 1;
        } else {
            chip_ocw2(s, val);
        }
        return;
    }
    switch (s->init_step) {
    case 0: /* OCW1 */
        s->imr = val;
        return;
    case 1: /* ICW2: vector base (8086 mode ignores the low three bits) */
        s->vector_base = val & 0xf8;
        s->init_step = s->single ? (s->icw4_needed ? 3 : 0) : 2;
        break;
    case 2: /* ICW3: cascade wiring, fixed on the PC */
        s->init_step = s->icw4_needed ? 3 : 0;
        break;
    default: /* ICW4 */
        s->aeoi = val & 0x02;
        s->sfnm = val & 0x10;
        s->init_step = 0;
        break;
    }
    if (s->init_step == 0)
        s->initialized = true; /* the last ICW */
}

/* Poll command: acknowledge as INTA would and report 0x80 | IR, or 0. */
static u8 chip_poll(struct pic *p, unsigned n)
{
    struct pic8259 *s = &p->c[n];
    int ir = chip_pending(s, n == PIC_MASTER);
    if (ir < 0)
        return 0;
    chip_ack(s, (unsigned)ir);
    return (u8)(0x80 | ir);
}

static u32 pic_read(void *opaque, u16 port, unsigned size)
{
    struct pic *p = opaque;
    unsigned n = port >= 0xa0 ? PIC_SLAVE : PIC_MASTER;
    struct pic8259 *s = &p->c[n];
    if (s->poll) {
        s->poll = false;
        u8 v = chip_poll(p, n);
        pic_update(p);
        return v;
    }
    if (port & 1)
        return s->imr;
    return s->read_isr ? s->isr : s->irr;
}

static void pic_write(void *opaque, u16 port, u32 val, unsigned size)
{
    struct pic *p = opaque;
    chip_write(&p->c[port >= 0xa0 ? PIC_SLAVE : PIC_MASTER], port & 1, (u8)val);
    pic_update(p);
}

static u32 elcr_read(void *opaque, u16 port, unsigned size)
{
    struct pic *p = opaque;
    return p->c[port & 1].elcr;
}

static void elcr_write(void *opaque, u16 port, u32 val, unsigned size)
{
    struct pic *p = opaque;
    struct pic8259 *s = &p->c[port & 1];
    s->elcr = (u8)val & s->elcr_mask;
    /* A line that became level triggered requests while it is high. */
    for (unsigned ir = 0; ir < 8; ir++)
        if (is_level(s, ir) && (s->lines & (1u << ir)))
            s->irr |= (u8)(1u << ir);
    pic_update(p);
}

static const struct io_ops pic_ops = { pic_read, pic_write };
static const struct io_ops elcr_ops = { elcr_read, elcr_write };

void pic_init(struct pic *p, struct irq_sink out)
{
    memset(p, 0, sizeof *p);
    p->out = out;
    /* IRQ0-2 (timer, keyboard, cascade) and IRQ8/13 (RTC, FPU) are
     * always edge triggered on the PIIX. */
    p->c[PIC_MASTER].elcr_mask = 0xf8;
    p->c[PIC_SLAVE].elcr_mask = 0xde;
}

int pic_map(struct pic *p, struct mmu *m)
{
    if (mmu_map_io(m, 0x20, 2, &pic_ops, p) < 0 || mmu_map_io(m, 0xa0, 2, &pic_ops, p) < 0 ||
        mmu_map_io(m, 0x4d0, 2, &elcr_ops, p) < 0)
        return -1;
    return 0;
}

void pic_set_irq(struct pic *p, unsigned irq, bool level)
{
    if (irq >= 16 || irq == PIC_CASCADE_IR)
        return; /* IR2 of the master is the cascade input */
    chip_set_line(&p->c[irq >> 3], irq & 7, level);
    pic_update(p);
}

int pic_ack(struct pic *p)
{
    struct pic8259 *m = &p->c[PIC_MASTER], *sl = &p->c[PIC_SLAVE];
    int ir = chip_pending(m, true);
    int vec;
    if (ir < 0) {
        vec = m->vector_base + 7; /* spurious: ISR untouched */
    } else if (ir == PIC_CASCADE_IR) {
        int ir2 = chip_pending(sl, false);
        if (ir2 >= 0) {
            chip_ack(sl, (unsigned)ir2);
            vec = sl->vector_base + ir2;
        } else {
            vec = sl->vector_base + 7; /* spurious on the slave */
        }
        chip_ack(m, PIC_CASCADE_IR);
    } else {
        chip_ack(m, (unsigned)ir);
        vec = m->vector_base + ir;
    }
    pic_update(p);
    return vec;
}

bool pic_output(const struct pic *p)
{
    return p->out_level;
}
