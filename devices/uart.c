/*
 * 16550A UART, after the PC16550D datasheet (National Semiconductor,
 * later TI): register set, 16-byte FIFOs, interrupt identification and
 * priorities (table "Interrupt Control Functions"), loopback (section
 * 8.6), and the PC wiring where MCR.OUT2 enables the interrupt output
 * onto the ISA bus.
 *
 *   off  DLAB=0 read / write   DLAB=1      notes
 *   0    RBR / THR             DLL
 *   1    IER                   DLM         IER bits 3:0 only (16550A)
 *   2    IIR / FCR                         IIR 7:6 = 11 with FIFOs on
 *   3    LCR                               bit 7 = DLAB
 *   4    MCR                               bit 4 loop, bit 3 OUT2
 *   5    LSR                               DR OE .. THRE TEMT
 *   6    MSR                               7:4 lines, 3:0 deltas
 *   7    SCR
 *
 * Invariants: the transmitter is always empty (transmission is instant),
 * so LSR.THRE and LSR.TEMT are always set and the THRE interrupt is
 * pending from every THR write (or ETBEI 0->1) until IIR reports it or
 * THR is written again.  The receive FIFO is a ring of rx_count bytes;
 * with FIFOs off it holds at most one byte (the RBR).  The chip never
 * reads the host clock: the character timeout is counted in calls of
 * uart_poll_input().
 */
#include "uart.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmu/mmu.h"

#define FIFO_SIZE 16

enum {
    IER_ERBFI = 0x01, /* received data available */
    IER_ETBEI = 0x02, /* THR empty */
    IER_ELSI = 0x04,  /* receiver line status */
    IER_EDSSI = 0x08, /* modem status */

    IIR_NONE = 0x01,
    IIR_RLS = 0x06,
    IIR_RDA = 0x04,
    IIR_CTI = 0x0c,   /* character timeout */
    IIR_THRE = 0x02,
    IIR_MSI = 0x00,
    IIR_FIFO = 0xc0,

    FCR_ENABLE = 0x01,
    FCR_CLEAR_RX = 0x02,
    FCR_CLEAR_TX = 0x04,

    LCR_DLAB = 0x80,

    MCR_DTR = 0x01,
    MCR_RTS = 0x02,
    MCR_OUT1 = 0x04,
    MCR_OUT2 = 0x08,
    MCR_LOOP = 0x10,

    LSR_DR = 0x01,
    LSR_OE = 0x02,
    LSR_PE = 0x04,
    LSR_FE = 0x08,
    LSR_BI = 0x10,
    LSR_THRE = 0x20,
    LSR_TEMT = 0x40,
    LSR_ERRORS = LSR_OE | LSR_PE | LSR_FE | LSR_BI,

    MSR_CTS = 0x10,
    MSR_DSR = 0x20,
    MSR_RI = 0x40,
    MSR_DCD = 0x80,
    /* A backend is a line with the far end ready: CTS, DSR and DCD. */
    MSR_CONNECTED = MSR_CTS | MSR_DSR | MSR_DCD,
};

struct uart {
    /* registers */
    u8 ier, lcr, mcr, lsr, msr, scr, fcr;
    u16 divisor;
    u8 rbr_last;          /* what RBR reads when the FIFO is empty */
    u8 rx[FIFO_SIZE];     /* receive FIFO ring */
    unsigned rx_head, rx_count;
    bool thr_pending;     /* THRE interrupt pending */
    bool timeout_pending; /* character timeout interrupt pending */
    bool rx_activity;     /* a byte arrived or was read since the last poll */
    bool irq_level;       /* level last driven on the ISA line */
    /* wiring */
    u16 base;
    unsigned irq;
    struct irq_sink sink;
    struct logger *log;
    /* backend */
    FILE *out;
    bool own_out;         /* out was opened by uart_attach */
    int in_fd;            /* -1: no input */
};

/* ---- interrupts ---- */

static unsigned rx_trigger(const struct uart *u)
{
    static const u8 levels[4] = { 1, 4, 8, 14 };
    return (u->fcr & FCR_ENABLE) ? levels[u->fcr >> 6] : 1;
}

/* The highest-priority pending source, as IIR bits 3:0. */
static u8 pending_iid(const struct uart *u)
{
    if ((u->ier & IER_ELSI) && (u->lsr & LSR_ERRORS))
        return IIR_RLS;
    if (u->ier & IER_ERBFI) {
        if (u->rx_count >= rx_trigger(u))
            return IIR_RDA;
        if (u->timeout_pending)
            return IIR_CTI;
    }
    if ((u->ier & IER_ETBEI) && u->thr_pending)
        return IIR_THRE;
    if ((u->ier & IER_EDSSI) && (u->msr & 0x0f))
        return IIR_MSI;
    return IIR_NONE;
}

/*
 * On a PC the INTR pin reaches the bus through a buffer enabled by OUT2.
 * In loopback the OUT pins are forced inactive, which disconnects it.
 */
static void update_irq(struct uart *u)
{
    bool level = pending_iid(u) != IIR_NONE && (u->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;
    if (level != u->irq_level) {
        u->irq_level = level;
        irq_set(&u->sink, u->irq, level);
    }
}

/* ---- modem lines ---- */

/* The modem inputs: the far end in normal mode, MCR's outputs in loopback. */
static u8 modem_lines(const struct uart *u)
{
    if (!(u->mcr & MCR_LOOP))
        return MSR_CONNECTED;
    u8 m = 0;
    if (u->mcr & MCR_RTS)
        m |= MSR_CTS;
    if (u->mcr & MCR_DTR)
        m |= MSR_DSR;
    if (u->mcr & MCR_OUT1)
        m |= MSR_RI;
    if (u->mcr & MCR_OUT2)
        m |= MSR_DCD;
    return m;
}

/* Latch new line states and the delta bits their changes set. */
static void update_msr(struct uart *u)
{
    u8 old = u->msr & 0xf0, now = modem_lines(u), delta = u->msr & 0x0f;
    u8 changed = old ^ now;
    if (changed & MSR_CTS)
        delta |= 0x01;
    if (changed & MSR_DSR)
        delta |= 0x02;
    if ((old & MSR_RI) && !(now & MSR_RI))
        delta |= 0x04; /* TERI: trailing edge only */
    if (changed & MSR_DCD)
        delta |= 0x08;
    u->msr = now | delta;
}

/* ---- receiver ---- */

static void rx_clear(struct uart *u)
{
    u->rx_head = u->rx_count = 0;
    u->timeout_pending = false;
    u->lsr &= (u8)~LSR_DR;
}

static unsigned rx_capacity(const struct uart *u)
{
    return (u->fcr & FCR_ENABLE) ? FIFO_SIZE : 1;
}

static void rx_push(struct uart *u, u8 b)
{
    if (u->rx_count == rx_capacity(u)) {
        /* FIFO mode: the byte in the shift register is lost.  16450 mode:
         * the new byte overwrites RBR.  Either way OE reports it. */
        u->lsr |= LSR_OE;
        if (!(u->fcr & FCR_ENABLE))
            u->rx[u->rx_head] = b;
    } else {
        u->rx[(u->rx_head + u->rx_count++) % FIFO_SIZE] = b;
    }
    u->lsr |= LSR_DR;
    u->rx_activity = true;
}

static u8 rx_pop(struct uart *u)
{
    if (u->rx_count) {
        u->rbr_last = u->rx[u->rx_head];
        u->rx_head = (u->rx_head + 1) % FIFO_SIZE;
        u->rx_count--;
    }
    if (!u->rx_count)
        u->lsr &= (u8)~LSR_DR;
    u->timeout_pending = false;
    u->rx_activity = true;
    return u->rbr_last;
}

void uart_receive(struct uart *u, const u8 *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rx_push(u, buf[i]);
    update_irq(u);
}

size_t uart_rx_room(const struct uart *u)
{
    return rx_capacity(u) - u->rx_count;
}

/* ---- transmitter ---- */

static void transmit(struct uart *u, u8 b)
{
    if (u->mcr & MCR_LOOP) {
        rx_push(u, b);
    } else if (u->out) {
        fputc(b, u->out);
        if (b == '\n')
            fflush(u->out);
    }
    /* THR and the shift register are empty again at once. */
    u->thr_pending = true;
}

/* ---- registers ---- */

static u8 reg_read(struct uart *u, unsigned off)
{
    u8 v;
    switch (off) {
    case 0:
        if (u->lcr & LCR_DLAB)
            return (u8)u->divisor;
        v = rx_pop(u);
        break;
    case 1:
        return (u->lcr & LCR_DLAB) ? (u8)(u->divisor >> 8) : u->ier;
    case 2:
        v = pending_iid(u);
        /* Reading IIR is how the THRE interrupt is acknowledged. */
        if (v == IIR_THRE)
            u->thr_pending = false;
        if (u->fcr & FCR_ENABLE)
            v |= IIR_FIFO;
        break;
    case 3:
        return u->lcr;
    case 4:
        return u->mcr;
    case 5:
        v = u->lsr;
        u->lsr &= (u8)~LSR_ERRORS;
        break;
    case 6:
        v = u->msr;
        u->msr &= 0xf0;
        break;
    default:
        return u->scr;
    }
    update_irq(u);
    return v;
}

static void write_fcr(struct uart *u, u8 val)
{
    if ((val ^ u->fcr) & FCR_ENABLE) {
        /* Switching FIFO mode resets both FIFOs. */
        rx_clear(u);
    }
    if (!(val & FCR_ENABLE)) {
        u->fcr = 0;
        return;
    }
    if (val & FCR_CLEAR_RX)
        rx_clear(u);
    if (val & FCR_CLEAR_TX)
        u->thr_pending = true; /* an emptied TX FIFO is "THR empty" */
    u->fcr = val & 0xc9; /* enable, DMA mode, trigger level */
}

static void reg_write(struct uart *u, unsigned off, u8 val)
{
    switch (off) {
    case 0:
        if (u->lcr & LCR_DLAB)
            u->divisor = (u16)((u->divisor & 0xff00) | val);
        else
            transmit(u, val);
        break;
    case 1:
        if (u->lcr & LCR_DLAB) {
            u->divisor = (u16)((u->divisor & 0x00ff) | val << 8);
        } else {
            u8 old = u->ier;
            u->ier = val & 0x0f;
            /* Enabling ETBEI with THR empty raises THRE again: Linux
             * relies on it to start transmission and to probe for
             * UARTs that fail to. */
            if ((u->ier ^ old) & IER_ETBEI)
                u->thr_pending = (u->ier & IER_ETBEI) && (u->lsr & LSR_THRE);
        }
        break;
    case 2:
        write_fcr(u, val);
        break;
    case 3:
        u->lcr = val;
        break;
    case 4:
        u->mcr = val & 0x1f;
        update_msr(u);
        break;
    case 5:
    case 6:
        LOG(u->log, GUEST_ERROR, "uart %x: write %02x to read-only register %u", u->base, val,
            off);
        break;
    default:
        u->scr = val;
        break;
    }
    update_irq(u);
}

/* Wider accesses are taken as successive byte registers. */
static u32 uart_io_read(void *opaque, u16 port, unsigned size)
{
    struct uart *u = opaque;
    u32 v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (u32)reg_read(u, (port - u->base + i) & 7) << (8 * i);
    return v;
}

static void uart_io_write(void *opaque, u16 port, u32 val, unsigned size)
{
    struct uart *u = opaque;
    for (unsigned i = 0; i < size; i++)
        reg_write(u, (port - u->base + i) & 7, (u8)(val >> (8 * i)));
}

static const struct io_ops uart_ops = { uart_io_read, uart_io_write };

/* ---- life cycle and backends ---- */

void uart_reset(struct uart *u)
{
    u->ier = u->lcr = u->mcr = u->scr = u->fcr = 0;
    u->lsr = LSR_THRE | LSR_TEMT;
    u->msr = MSR_CONNECTED;
    u->divisor = 12; /* 9600 baud from 1.8432 MHz; the datasheet leaves
                      * it undefined */
    u->rbr_last = 0;
    rx_clear(u);
    u->thr_pending = false;
    u->rx_activity = false;
    update_irq(u);
}

struct uart *uart_new(struct mmu *m, u16 base, unsigned irq, const struct irq_sink *sink,
                      struct logger *log)
{
    struct uart *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->base = base;
    u->irq = irq;
    u->sink = *sink;
    u->log = log;
    u->in_fd = -1;
    uart_reset(u);
    if (mmu_map_io(m, base, 8, &uart_ops, u) < 0) {
        free(u);
        return NULL;
    }
    return u;
}

void uart_free(struct uart *u)
{
    if (!u)
        return;
    if (u->own_out)
        fclose(u->out);
    else if (u->out)
        fflush(u->out);
    free(u);
}

void uart_set_backend(struct uart *u, FILE *out, int in_fd)
{
    if (u->own_out)
        fclose(u->out);
    u->own_out = false;
    u->out = out;
    u->in_fd = in_fd;
}

int uart_attach(struct uart *u, const char *spec)
{
    if (!spec || !strcmp(spec, "none")) {
        uart_set_backend(u, NULL, -1);
        return 0;
    }
    if (!strcmp(spec, "stdio")) {
        uart_set_backend(u, stdout, STDIN_FILENO);
        return 0;
    }
    if (!strncmp(spec, "file:", 5) && spec[5]) {
        FILE *f = fopen(spec + 5, "w");
        if (!f) {
            fprintf(stderr, "umbra: -serial %s: %s\n", spec, strerror(errno));
            return -1;
        }
        uart_set_backend(u, f, -1);
        u->own_out = true;
        return 0;
    }
    fprintf(stderr, "umbra: -serial %s: unknown backend (stdio, none or file:PATH)\n", spec);
    return -1;
}

static void read_input(struct uart *u)
{
    size_t room = uart_rx_room(u);
    if (u->in_fd < 0 || !room)
        return;
    struct pollfd p = { .fd = u->in_fd, .events = POLLIN };
    if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP)))
        return;
    u8 buf[FIFO_SIZE];
    ssize_t n = read(u->in_fd, buf, room);
    if (n > 0)
        uart_receive(u, buf, (size_t)n);
    else if (n == 0 || (errno != EAGAIN && errno != EINTR))
        u->in_fd = -1; /* end of input: stop polling */
}

bool uart_poll_input(struct uart *u)
{
    if (u->out)
        fflush(u->out);
    bool quiet = !u->rx_activity;
    u->rx_activity = false;
    read_input(u);
    bool waiting = u->rx_count && (u->fcr & FCR_ENABLE) && !u->timeout_pending;
    if (quiet && !u->rx_activity && waiting) {
        u->timeout_pending = true;
        update_irq(u);
        waiting = false;
    }
    return u->in_fd >= 0 || waiting;
}
