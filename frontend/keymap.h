/*
 * Host keys to the bytes a PC keyboard sends: SDL scancodes (USB HID
 * usages) to IBM PC scancode set 1, which is what the guest reads from the
 * i8042 with translation on (devices/i8042.h).
 */
#ifndef UMBRA_FRONTEND_KEYMAP_H
#define UMBRA_FRONTEND_KEYMAP_H

#include <stddef.h>

#include "common/types.h"

/* The longest sequence one key event produces (Pause). */
#define KEYMAP_MAX_BYTES 6

/*
 * Write to `out` the set 1 bytes for SDL scancode `sc` being pressed
 * (`down`) or released.  Returns how many (0 for a key a PC keyboard
 * does not have).
 */
size_t keymap_set1(int sc, bool down, u8 out[KEYMAP_MAX_BYTES]);

#endif
