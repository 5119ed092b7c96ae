/*
 * Intel 8259A programmable interrupt controller pair (master at 0x20/0x21,
 * slave at 0xA0/0xA1 cascaded on master IRQ2) with the PIIX edge/level
 * control registers at 0x4D0/0x4D1.
 */
#ifndef UMBRA_DEVICES_PIC_H
#define UMBRA_DEVICES_PIC_H

#include "common/types.h"
#include "devices/irq.h"

struct mmu;

/* One 8259A. */
struct pic8259 {
    u8 irr;           /* interrupt request register */
    u8 isr;           /* in-service register */
    u8 imr;           /* interrupt mask register (OCW1) */
    u8 lines;         /* current input levels (edge detection) */
    u8 elcr;          /* 1 = level triggered */
    u8 elcr_mask;     /* ELCR bits that may be set */
    u8 vector_base;   /* ICW2 & 0xF8 */
    u8 priority_add;  /* rotation: IR with highest priority */
    u8 init_step;     /* 0 = operational, 1..3 = expecting ICW2..ICW4 */
    bool initialized; /* an ICW sequence has completed since power-on */
    bool icw4_needed;
    bool single;      /* ICW1 SNGL */
    bool ltim;        /* ICW1 LTIM: all inputs level triggered */
    bool aeoi;        /* ICW4 AEOI */
    bool sfnm;        /* ICW4 special fully nested mode */
    bool rotate_aeoi; /* OCW2 rotate in automatic EOI mode */
    bool read_isr;    /* OCW3 RR/RIS: reads of the even port return ISR */
    bool poll;        /* OCW3 P: the next read is a poll */
    bool special_mask;/* OCW3 SMM */
};

struct pic {
    struct pic8259 c[2];   /* [0] master, [1] slave */
    struct irq_sink out;   /* INTR to the CPU (irq number 0) */
    bool out_level;
};

/* Power-on state; `out` receives the INTR line. */
void pic_init(struct pic *p, struct irq_sink out);
/* Claim 0x20/0x21, 0xA0/0xA1 and 0x4D0/0x4D1.  Returns 0 or -1. */
int pic_map(struct pic *p, struct mmu *m) MUST_CHECK;
/* Drive ISA input `irq` (0-15) to `level`. */
void pic_set_irq(struct pic *p, unsigned irq, bool level);
/* Interrupt acknowledge: the vector to deliver (the IR7 vector of the
 * master or slave when the request vanished: spurious).  Updates ISR/IRR. */
int pic_ack(struct pic *p);
/* Level of the INTR output. */
bool pic_output(const struct pic *p);

#endif
