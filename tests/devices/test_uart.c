/*
 * 16550A UART through its port callbacks on a real bus, with a fake ISA
 * interrupt line: the probe sequence Linux's 8250 driver runs (scratch
 * IER, loopback with MSR mirroring MCR, FIFO detection through IIR), the
 * divisor latch, FIFO trigger levels and the character timeout, the THRE
 * interrupt, IIR priorities, OUT2 gating and the backends.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/counters.h"
#include "common/log.h"
#include "devices/uart.h"
#include "mmu/mmu.h"

#define B UART_COM1_BASE
enum { RBR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

struct fake_irq {
    bool level[32];
    unsigned rises[32];
};

static void fake_set(void *opaque, unsigned irq, bool level)
{
    struct fake_irq *f = opaque;
    if (level && !f->level[irq])
        f->rises[irq]++;
    f->level[irq] = level;
}

static struct counters cnt;
static struct logger lg;
static struct mmu *m;
static struct fake_irq irqs;
static struct uart *u;
static FILE *out;

static void setup(void)
{
    cnt = (struct counters){ 0 };
    log_init(&lg);
    irqs = (struct fake_irq){ 0 };
    m = mmu_new(1u << 20, &cnt, &lg);
    ck_assert_ptr_nonnull(m);
    struct irq_sink sink = { fake_set, &irqs };
    u = uart_new(m, B, UART_COM1_IRQ, &sink, &lg);
    ck_assert_ptr_nonnull(u);
    out = tmpfile();
    ck_assert_ptr_nonnull(out);
    uart_set_backend(u, out, -1);
}

static void teardown(void)
{
    uart_free(u);
    fclose(out);
    mmu_free(m);
}

static u8 rd(unsigned reg)
{
    return (u8)mmu_io_read(m, (u16)(B + reg), 1);
}

static void wr(unsigned reg, u8 v)
{
    mmu_io_write(m, (u16)(B + reg), v, 1);
}

static bool line(void)
{
    return irqs.level[UART_COM1_IRQ];
}

/* What the backend received so far. */
static size_t output(char *buf, size_t cap)
{
    fflush(out);
    long end = ftell(out);
    rewind(out);
    size_t n = fread(buf, 1, cap - 1, out);
    buf[n] = 0;
    fseek(out, end, SEEK_SET);
    return n;
}

START_TEST(probe_like_linux)
{
    /* Scratch test of IER: only bits 3:0 exist on a 16550A. */
    wr(IER, 0);
    ck_assert_uint_eq(rd(IER) & 0x0f, 0);
    wr(IER, 0x0f);
    ck_assert_uint_eq(rd(IER) & 0x0f, 0x0f);
    wr(IER, 0xff);
    ck_assert_uint_eq(rd(IER), 0x0f);
    wr(IER, 0);
    wr(SCR, 0x5a);
    ck_assert_uint_eq(rd(SCR), 0x5a);
    /* Loopback: MSR's lines mirror MCR's outputs. */
    wr(MCR, 0x10);
    ck_assert_uint_eq(rd(MSR) & 0xf0, 0);
    wr(MCR, 0x10 | 0x0a); /* RTS, OUT2 -> CTS, DCD */
    ck_assert_uint_eq(rd(MSR) & 0xf0, 0x90);
    wr(MCR, 0x1f);
    ck_assert_uint_eq(rd(MSR) & 0xf0, 0xf0);
    wr(MCR, 0x15); /* DTR, OUT1 -> DSR, RI */
    ck_assert_uint_eq(rd(MSR) & 0xf0, 0x60);
    /* Data written in loopback comes back and never reaches the line. */
    wr(RBR, 'Z');
    ck_assert_uint_eq(rd(LSR) & 0x01, 1);
    ck_assert_uint_eq(rd(RBR), 'Z');
    ck_assert_uint_eq(rd(LSR) & 0x61, 0x60);
    char buf[16];
    ck_assert_uint_eq(output(buf, sizeof buf), 0);
    wr(MCR, 0);
    /* FIFO detection: IIR bits 7:6 = 11 with FIFOs on, 00 off. */
    ck_assert_uint_eq(rd(IIR), 0x01);
    wr(FCR, 0x01);
    ck_assert_uint_eq(rd(IIR) >> 6, 3);
    ck_assert_uint_eq(rd(IIR) & 0x20, 0); /* no 64-byte FIFO */
    wr(FCR, 0);
    ck_assert_uint_eq(rd(IIR) >> 6, 0);
}
END_TEST

START_TEST(msr_deltas)
{
    rd(MSR);
    wr(MCR, 0x10 | 0x0f); /* loopback, all outputs on */
    u8 v = rd(MSR);
    ck_assert_uint_eq(v & 0xf0, 0xf0);
    ck_assert_uint_eq(v & 0x0f, 0); /* CTS/DSR/DCD were already on; RI
                                     * rose, which is no TERI */
    wr(MCR, 0x10 | 0x0a); /* DSR and RI fall */
    v = rd(MSR);
    ck_assert_uint_eq(v & 0x0f, 0x02 | 0x04); /* DDSR, TERI */
    ck_assert_uint_eq(rd(MSR) & 0x0f, 0);     /* reading clears deltas */
}
END_TEST

START_TEST(divisor_latch)
{
    wr(IER, 0x05);
    wr(LCR, 0x83);
    wr(0, 0x01);
    wr(1, 0x02);
    ck_assert_uint_eq(rd(0), 0x01);
    ck_assert_uint_eq(rd(1), 0x02);
    wr(LCR, 0x03);
    ck_assert_uint_eq(rd(LCR), 0x03);
    ck_assert_uint_eq(rd(IER), 0x05); /* IER untouched by DLM writes */
    wr(0, 'x');                        /* THR again, not DLL */
    wr(LCR, 0x80);
    ck_assert_uint_eq(rd(0), 0x01);
    ck_assert_uint_eq(rd(1), 0x02);
    wr(LCR, 0);
    char buf[16];
    ck_assert_uint_eq(output(buf, sizeof buf), 1);
    ck_assert_str_eq(buf, "x");
}
END_TEST

START_TEST(fifo_trigger_levels)
{
    static const struct { u8 fcr; unsigned level; } t[] = {
        { 0x01, 1 }, { 0x41, 4 }, { 0x81, 8 }, { 0xc1, 14 },
    };
    wr(MCR, 0x08);
    wr(IER, 0x01);
    for (unsigned k = 0; k < 4; k++) {
        wr(FCR, t[k].fcr | 0x02);
        u8 data[16];
        for (unsigned i = 0; i < 16; i++)
            data[i] = (u8)(k * 16 + i);
        uart_receive(u, data, t[k].level - 1);
        ck_assert_uint_eq(rd(IIR), 0xc1);
        ck_assert(!line());
        uart_receive(u, data + t[k].level - 1, 1);
        ck_assert_uint_eq(rd(IIR), 0xc4);
        ck_assert(line());
        for (unsigned i = 0; i < t[k].level; i++) {
            ck_assert_uint_eq(rd(LSR) & 1, 1);
            ck_assert_uint_eq(rd(RBR), data[i]);
        }
        ck_assert_uint_eq(rd(LSR) & 1, 0);
        ck_assert(!line());
        ck_assert_uint_eq(rd(IIR), 0xc1);
    }
}
END_TEST

START_TEST(fifo_timeout_and_overrun)
{
    wr(MCR, 0x08);
    wr(IER, 0x01);
    wr(FCR, 0x81 | 0x02); /* trigger 8 */
    const u8 three[3] = { 'a', 'b', 'c' };
    uart_receive(u, three, 3);
    ck_assert_uint_eq(rd(IIR), 0xc1);
    uart_poll_input(u); /* data arrived during this period */
    ck_assert(!line());
    uart_poll_input(u); /* a silent period: character timeout */
    ck_assert(line());
    ck_assert_uint_eq(rd(IIR), 0xcc);
    ck_assert_uint_eq(rd(RBR), 'a');
    ck_assert(!line()); /* reading RBR clears the timeout */
    uart_poll_input(u);
    uart_poll_input(u);
    ck_assert_uint_eq(rd(IIR), 0xcc);
    ck_assert_uint_eq(rd(RBR), 'b');
    ck_assert_uint_eq(rd(RBR), 'c');
    uart_poll_input(u);
    uart_poll_input(u);
    ck_assert_uint_eq(rd(IIR), 0xc1); /* empty FIFO: no timeout */

    /* Seventeen bytes into sixteen places: the last is lost, OE says so. */
    u8 data[17];
    for (unsigned i = 0; i < 17; i++)
        data[i] = (u8)(0x40 + i);
    ck_assert_uint_eq(uart_rx_room(u), 16);
    uart_receive(u, data, 17);
    ck_assert_uint_eq(uart_rx_room(u), 0);
    ck_assert_uint_eq(rd(LSR) & 0x03, 0x03);
    ck_assert_uint_eq(rd(LSR) & 0x02, 0); /* OE clears on read */
    for (unsigned i = 0; i < 16; i++)
        ck_assert_uint_eq(rd(RBR), data[i]);
    ck_assert_uint_eq(rd(LSR) & 1, 0);

    /* Without FIFOs the RBR holds one byte; a second overwrites it. */
    wr(FCR, 0);
    ck_assert_uint_eq(uart_rx_room(u), 1);
    uart_receive(u, three, 2);
    ck_assert_uint_eq(rd(IIR), 0x04);
    ck_assert_uint_eq(rd(LSR) & 0x03, 0x03);
    ck_assert_uint_eq(rd(RBR), 'b');
}
END_TEST

START_TEST(thre_interrupt)
{
    wr(MCR, 0x08);
    ck_assert_uint_eq(rd(LSR) & 0x60, 0x60);
    ck_assert(!line());
    wr(IER, 0x02); /* ETBEI with THR empty: THRE fires */
    ck_assert(line());
    ck_assert_uint_eq(rd(IIR), 0x02);
    /* Reading IIR acknowledged it. */
    ck_assert(!line());
    ck_assert_uint_eq(rd(IIR), 0x01);
    /* Linux's check for UARTs that do not re-assert THRE. */
    wr(IER, 0);
    wr(IER, 0x02);
    ck_assert_uint_eq(rd(IIR), 0x02);
    /* Each byte sent leaves THR empty again at once. */
    wr(RBR, 'o');
    ck_assert(line());
    wr(RBR, 'k');
    ck_assert_uint_eq(rd(IIR), 0x02);
    ck_assert_uint_eq(rd(IIR), 0x01);
    ck_assert_uint_eq(irqs.rises[UART_COM1_IRQ], 3);
    char buf[16];
    output(buf, sizeof buf);
    ck_assert_str_eq(buf, "ok");
}
END_TEST

START_TEST(iir_priorities)
{
    wr(MCR, 0x08);
    wr(IER, 0x0f);
    /* THRE pending; make a modem change, data and an overrun too. */
    wr(MCR, 0x18);
    wr(MCR, 0x08); /* leaving loopback changes the lines: deltas */
    u8 two[2] = { 1, 2 };
    uart_receive(u, two, 2); /* 16450 mode: overrun */
    ck_assert_uint_eq(rd(IIR), 0x06); /* line status first */
    rd(LSR);
    ck_assert_uint_eq(rd(IIR), 0x04); /* then received data */
    rd(RBR);
    ck_assert_uint_eq(rd(IIR), 0x02); /* then THRE (read clears it) */
    ck_assert_uint_eq(rd(IIR), 0x00); /* then modem status */
    ck_assert(line());
    rd(MSR);
    ck_assert_uint_eq(rd(IIR), 0x01);
    ck_assert(!line());
}
END_TEST

START_TEST(out2_gates_irq)
{
    wr(IER, 0x02);
    ck_assert_uint_eq(rd(IIR), 0x02); /* pending inside the chip... */
    wr(IER, 0);
    wr(IER, 0x02);
    ck_assert(!line()); /* ...but OUT2 is off */
    wr(MCR, 0x08);
    ck_assert(line());
    wr(MCR, 0x18); /* loopback forces OUT2 inactive */
    ck_assert(!line());
    wr(MCR, 0x08);
    ck_assert(line());
    wr(MCR, 0x00);
    ck_assert(!line());
}
END_TEST

START_TEST(output_reaches_backend)
{
    const char *s = "Linux version\r\n";
    for (const char *p = s; *p; p++)
        wr(0, (u8)*p);
    char buf[64];
    ck_assert_uint_eq(output(buf, sizeof buf), strlen(s));
    ck_assert_str_eq(buf, s);
    /* Port width: a 16-bit OUT to THR/IER is two byte writes. */
    mmu_io_write(m, B + 7, 0x55, 1);
    ck_assert_uint_eq(mmu_io_read(m, B + 6, 2) >> 8, 0x55);
}
END_TEST

START_TEST(input_backend_and_attach)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    uart_set_backend(u, out, p[0]);
    wr(FCR, 0x01);
    ck_assert_int_eq(write(p[1], "hello world, twenty", 19), 19);
    uart_poll_input(u);
    /* Only what fits in the FIFO is taken: nothing is lost. */
    ck_assert_uint_eq(uart_rx_room(u), 0);
    char got[20] = { 0 };
    for (unsigned i = 0; i < 16; i++)
        got[i] = (char)rd(RBR);
    uart_poll_input(u);
    for (unsigned i = 16; i < 19; i++)
        got[i] = (char)rd(RBR);
    ck_assert_str_eq(got, "hello world, twenty");
    ck_assert_uint_eq(rd(LSR) & 0x02, 0);
    close(p[1]);
    uart_poll_input(u); /* end of input */
    ck_assert_uint_eq(rd(LSR) & 1, 0);
    close(p[0]);

    char path[] = "/tmp/umbra_uart_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char spec[64];
    snprintf(spec, sizeof spec, "file:%s", path);
    ck_assert_int_eq(uart_attach(u, spec), 0);
    wr(0, 'Q');
    ck_assert_int_eq(uart_attach(u, "none"), 0); /* closes the file */
    wr(0, 'R');
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char buf[8] = { 0 };
    ck_assert_uint_eq(fread(buf, 1, sizeof buf - 1, f), 1);
    ck_assert_str_eq(buf, "Q");
    fclose(f);
    unlink(path);
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w");
    ck_assert_int_eq(uart_attach(u, "tcp:1"), -1);
    ck_assert_int_eq(uart_attach(u, "file:/nonexistent/dir/x"), -1);
    fclose(stderr);
    stderr = saved;
    uart_set_backend(u, out, -1);
}
END_TEST

START_TEST(four_ports)
{
    struct irq_sink sink = { fake_set, &irqs };
    struct uart *com2 = uart_new(m, UART_COM2_BASE, UART_COM2_IRQ, &sink, &lg);
    ck_assert_ptr_nonnull(com2);
    mmu_io_write(m, UART_COM2_BASE + 7, 0x22, 1);
    wr(SCR, 0x11);
    ck_assert_uint_eq(mmu_io_read(m, UART_COM2_BASE + 7, 1), 0x22);
    ck_assert_uint_eq(rd(SCR), 0x11);
    mmu_io_write(m, UART_COM2_BASE + MCR, 0x08, 1);
    mmu_io_write(m, UART_COM2_BASE + IER, 0x02, 1);
    ck_assert(irqs.level[UART_COM2_IRQ]);
    ck_assert(!line());
    uart_free(com2);
}
END_TEST

static Suite *uart_suite(void)
{
    Suite *s = suite_create("uart");
    TCase *tc = tcase_create("registers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, probe_like_linux);
    tcase_add_test(tc, msr_deltas);
    tcase_add_test(tc, divisor_latch);
    tcase_add_test(tc, four_ports);
    suite_add_tcase(s, tc);
    tc = tcase_create("fifo");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, fifo_trigger_levels);
    tcase_add_test(tc, fifo_timeout_and_overrun);
    suite_add_tcase(s, tc);
    tc = tcase_create("interrupts");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, thre_interrupt);
    tcase_add_test(tc, iir_priorities);
    tcase_add_test(tc, out2_gates_irq);
    suite_add_tcase(s, tc);
    tc = tcase_create("backends");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, output_reaches_backend);
    tcase_add_test(tc, input_backend_and_attach);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(uart_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
