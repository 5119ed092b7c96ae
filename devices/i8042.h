/*
 * The 8042 keyboard controller (ports 0x60/0x64) with a PS/2 keyboard on
 * its first port and a PS/2 mouse on the auxiliary port, plus system
 * control port A (0x92), which shares the A20 gate and the reset line.
 */
#ifndef UMBRA_DEVICES_I8042_H
#define UMBRA_DEVICES_I8042_H

#include "common/log.h"
#include "common/types.h"
#include "devices/irq.h"

struct mmu;
struct i8042;

#define I8042_IRQ_KBD 1
#define I8042_IRQ_AUX 12

/* The board's reset line: asked for a system reset (the board resets the
 * CPU and the chips, or ends the run with -no-reboot). */
typedef void (*i8042_reset_fn)(void *opaque);

/*
 * Create the controller in its reset state and claim ports 0x60, 0x64 and
 * 0x92.  IRQ1 goes to line 1 of `sink` (copied); the A20 gate is `m`'s;
 * `reset` is called for a reset pulse.  `log` may be NULL.  Returns NULL
 * if out of memory or the port table is full.
 */
struct i8042 *i8042_new(struct mmu *m, const struct irq_sink *sink, i8042_reset_fn reset,
                        void *reset_opaque, struct logger *log) MUST_CHECK;
void i8042_free(struct i8042 *k);

/* Reset state (as after power-on): A20 enabled, queues empty, keyboard
 * enabled and scanning. */
void i8042_reset(struct i8042 *k);

/*
 * Key presses and releases from the display, in scancode set 1: what the
 * guest reads with the controller translating (config bit 6, set at reset
 * as a BIOS leaves it).  With translation off and the keyboard in set 2
 * (or 3) they are turned into the set 2 codes the keyboard would send.
 * Dropped while the keyboard has scanning disabled.
 */
void i8042_key_event(struct i8042 *k, const u8 *bytes, size_t n);

/*
 * Mouse motion and buttons from the display: `dx` right, `dy` up, `dz`
 * wheel (positive towards the user), `buttons` bit 0 left, 1 right, 2
 * middle.  Sent as one movement packet (3 bytes, 4 once the guest has
 * enabled the wheel) when the mouse is reporting in stream mode; dropped
 * otherwise.  Large motions are split into packets of at most 255.
 */
void i8042_mouse_event(struct i8042 *k, int dx, int dy, int dz, unsigned buttons);

#endif
