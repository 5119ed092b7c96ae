/*
 * 16550A UART (National Semiconductor / TI PC16550D datasheet).  The PC
 * has four: COM1 0x3F8 IRQ4, COM2 0x2F8 IRQ3, COM3 0x3E8 IRQ4, COM4 0x2E8
 * IRQ3.  Transmission is instant: a byte written to THR reaches the
 * backend at once and THR is empty again.
 */
#ifndef UMBRA_DEVICES_UART_H
#define UMBRA_DEVICES_UART_H

#include <stdio.h>

#include "common/log.h"
#include "common/types.h"
#include "devices/irq.h"

struct mmu;
struct uart;

#define UART_COM1_BASE 0x3f8
#define UART_COM2_BASE 0x2f8
#define UART_COM3_BASE 0x3e8
#define UART_COM4_BASE 0x2e8
#define UART_COM1_IRQ 4
#define UART_COM2_IRQ 3
#define UART_COM3_IRQ 4
#define UART_COM4_IRQ 3

/*
 * Create a UART in the reset state and claim its eight ports at `base`.
 * Its interrupt output drives ISA line `irq` of `sink` (copied).  No
 * backend is attached: output is dropped, nothing is received.  `log`
 * may be NULL.  Returns NULL if out of memory or the port table is full.
 */
struct uart *uart_new(struct mmu *m, u16 base, unsigned irq, const struct irq_sink *sink,
                      struct logger *log) MUST_CHECK;
/* Free the UART; closes a file the UART opened itself (uart_attach). */
void uart_free(struct uart *u);

/* Registers to their reset values (MR pin); the backend stays attached. */
void uart_reset(struct uart *u);

/*
 * Attach a backend: transmitted bytes go to `out` (NULL: dropped) and
 * uart_poll_input() reads `in_fd` (-1: no input).  The caller keeps
 * ownership of both.
 */
void uart_set_backend(struct uart *u, FILE *out, int in_fd);

/*
 * Attach the backend named by a -serial argument: NULL or "none",
 * "stdio" (stdout, and stdin as input), or "file:PATH" (created or
 * truncated; output only).  Returns 0, or -1 after a message on stderr
 * naming the argument.
 */
int uart_attach(struct uart *u, const char *spec) MUST_CHECK;

/*
 * Bytes arriving on the serial line, in order.  A byte that finds the
 * receive FIFO (or, with FIFOs off, the holding register) full is an
 * overrun: LSR.OE is set and the byte is lost, as on the chip.
 */
void uart_receive(struct uart *u, const u8 *buf, size_t n);
/* How many bytes the receiver can take now without an overrun. */
size_t uart_rx_room(const struct uart *u);

/*
 * Called by the board periodically: reads what the input backend has
 * ready (at most uart_rx_room() bytes, so host input is never lost),
 * flushes output, and runs the receiver's character timeout: data left
 * below the trigger level for a whole poll period raises the timeout
 * interrupt (the chip's "4 character times" of silence).  Returns true
 * while the UART needs further polls (input attached, or data waiting
 * for its timeout); the board may stop polling when it returns false
 * until the guest next runs.
 */
bool uart_poll_input(struct uart *u);

#endif
