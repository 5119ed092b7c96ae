/*
 * The SDL2 window: shows the VGA picture, feeds host keys to the i8042's
 * keyboard and, while the pointer is grabbed (Ctrl+Alt+G), host mouse
 * motion and buttons to its PS/2 mouse.  Closing the window ends the run
 * as a guest exit does.
 */
#ifndef UMBRA_FRONTEND_DISPLAY_SDL_H
#define UMBRA_FRONTEND_DISPLAY_SDL_H

#include <stdio.h>

#include "common/types.h"

struct pc;
struct sdl_display;

/* Frames per second the window is refreshed at (when the picture changed). */
#define SDL_DISPLAY_HZ 60u

/*
 * Open the window for `pc` (which must have a VGA) and register the
 * refresh with the board's run loop.  Returns NULL after a message on
 * `err` when no window can be opened (no display server, SDL error).
 */
struct sdl_display *sdl_display_new(struct pc *pc, FILE *err);
void sdl_display_free(struct sdl_display *d);

#endif
