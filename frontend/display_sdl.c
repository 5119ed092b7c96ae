/*
 * SDL2 display.  The board calls the refresh as a chip timer: at most
 * SDL_DISPLAY_HZ times a second of guest time it drains SDL's event queue
 * (keys, mouse, window close) and redraws the VGA picture.  With no VGA
 * write since the last frame (vga_take_changes) and the same blink phase
 * nothing is rendered; a rendered picture equal to the one shown (the
 * framebuffer of a dispi mode is written unseen, so it is rendered every
 * frame) is neither uploaded nor presented.
 *
 * Input: keys go to the i8042 as scancode set 1 (keymap.c) whatever the
 * grab; mouse motion and buttons only while grabbed, when SDL's relative
 * mode gives unbounded motion.  Ctrl+Alt+G grabs and releases; the window
 * title says which.
 */
#include "display_sdl.h"

#include <SDL2/SDL.h>
#include <stdlib.h>
#include <string.h>

#include "devices/i8042.h"
#include "devices/pc.h"
#include "devices/vga.h"
#include "keymap.h"

#define FRAME_NS (1000000000u / SDL_DISPLAY_HZ)
/* Text blink and cursor phase: about what a VGA's 16-frame cursor
 * blink at 70 Hz gives. */
#define BLINK_MS 233u

struct sdl_display {
    struct pc *pc;
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    unsigned tex_w, tex_h;
    struct vga_surface cur;     /* the picture being drawn */
    u32 *shown;                 /* the picture on screen */
    unsigned shown_w, shown_h;
    bool dirty;                 /* redraw even if the picture is the same */
    bool blink_on;              /* the blink phase last drawn */
    bool grabbed;
    bool ctrl, alt;             /* held, as seen in key events */
    bool swallow_g;             /* the G of Ctrl+Alt+G is still down */
    unsigned buttons;           /* PS/2 order: left, right, middle */
    u64 next_frame;             /* guest ns */
};

static const char TITLE[] = "Umbra";
static const char TITLE_GRABBED[] = "Umbra - Press Ctrl+Alt+G to release grab";

static void set_grab(struct sdl_display *d, bool on)
{
    d->grabbed = on;
    SDL_SetRelativeMouseMode(on ? SDL_TRUE : SDL_FALSE);
    SDL_SetWindowGrab(d->win, on ? SDL_TRUE : SDL_FALSE);
    SDL_SetWindowTitle(d->win, on ? TITLE_GRABBED : TITLE);
}

static void on_key(struct sdl_display *d, const SDL_KeyboardEvent *e)
{
    bool down = e->type == SDL_KEYDOWN;
    SDL_Scancode sc = e->keysym.scancode;
    /* Modifiers as the key events say, not the host's modifier map,
     * which may not call any key Alt. */
    if (sc == SDL_SCANCODE_LCTRL || sc == SDL_SCANCODE_RCTRL)
        d->ctrl = down;
    else if (sc == SDL_SCANCODE_LALT || sc == SDL_SCANCODE_RALT)
        d->alt = down;
    if (down && sc == SDL_SCANCODE_G && d->ctrl && d->alt) {
        set_grab(d, !d->grabbed);
        d->swallow_g = true;
        return;
    }
    if (!down && sc == SDL_SCANCODE_G && d->swallow_g) {
        d->swallow_g = false;
        return;
    }
    u8 bytes[KEYMAP_MAX_BYTES];
    size_t n = keymap_set1(sc, down, bytes);
    if (n)
        i8042_key_event(d->pc->kbd, bytes, n);
}

static unsigned ps2_button(u8 sdl_button)
{
    switch (sdl_button) {
    case SDL_BUTTON_LEFT: return 1;
    case SDL_BUTTON_RIGHT: return 2;
    case SDL_BUTTON_MIDDLE: return 4;
    default: return 0;
    }
}

static void poll_events(struct sdl_display *d)
{
    SDL_Event e;
    while (SDL_PollEvent(&e)) {
        switch (e.type) {
        case SDL_QUIT:
            pc_request_exit(d->pc, 0);
            break;
        case SDL_KEYDOWN:
        case SDL_KEYUP:
            on_key(d, &e.key);
            break;
        case SDL_MOUSEMOTION:
            if (d->grabbed)
                i8042_mouse_event(d->pc->kbd, e.motion.xrel, -e.motion.yrel, 0, d->buttons);
            break;
        case SDL_MOUSEBUTTONDOWN:
        case SDL_MOUSEBUTTONUP:
            if (!d->grabbed)
                break;
            if (e.type == SDL_MOUSEBUTTONDOWN)
                d->buttons |= ps2_button(e.button.button);
            else
                d->buttons &= ~ps2_button(e.button.button);
            i8042_mouse_event(d->pc->kbd, 0, 0, 0, d->buttons);
            break;
        case SDL_MOUSEWHEEL:
            /* PS/2 wheel: positive is towards the user. */
            if (d->grabbed)
                i8042_mouse_event(d->pc->kbd, 0, 0, -e.wheel.y, d->buttons);
            break;
        case SDL_WINDOWEVENT:
            if (e.window.event == SDL_WINDOWEVENT_EXPOSED ||
                e.window.event == SDL_WINDOWEVENT_SIZE_CHANGED)
                d->dirty = true;
            else if (e.window.event == SDL_WINDOWEVENT_FOCUS_LOST && d->grabbed)
                set_grab(d, false);
            break;
        default:
            break;
        }
    }
}

static void present(struct sdl_display *d)
{
    struct vga_surface *s = &d->cur;
    bool blink_on = (SDL_GetTicks() / BLINK_MS) % 2 == 0;
    /* Nothing written and the same blink phase: the same picture. */
    if (!vga_take_changes(d->pc->vga) && blink_on == d->blink_on && !d->dirty)
        return;
    d->blink_on = blink_on;
    vga_render(d->pc->vga, s, blink_on);
    size_t bytes = (size_t)s->w * s->h * sizeof(u32);
    bool same_size = s->w == d->shown_w && s->h == d->shown_h;
    if (!d->dirty && same_size && !memcmp(s->px, d->shown, bytes))
        return;
    if (s->w != d->tex_w || s->h != d->tex_h) {
        SDL_Texture *t = SDL_CreateTexture(d->ren, SDL_PIXELFORMAT_RGB888,
                                           SDL_TEXTUREACCESS_STREAMING, (int)s->w, (int)s->h);
        if (!t)
            return;
        if (d->tex)
            SDL_DestroyTexture(d->tex);
        d->tex = t;
        d->tex_w = s->w;
        d->tex_h = s->h;
        /* A new mode: the window takes its size; the picture is scaled
         * to whatever size the user gives it later. */
        SDL_SetWindowSize(d->win, (int)s->w, (int)s->h);
        SDL_RenderSetLogicalSize(d->ren, (int)s->w, (int)s->h);
    }
    SDL_UpdateTexture(d->tex, NULL, s->px, (int)(s->w * sizeof(u32)));
    SDL_RenderClear(d->ren);
    SDL_RenderCopy(d->ren, d->tex, NULL, NULL);
    SDL_RenderPresent(d->ren);
    memcpy(d->shown, s->px, bytes);
    d->shown_w = s->w;
    d->shown_h = s->h;
    d->dirty = false;
}

/* The board's timer: events and a frame, then the next frame's time. */
static u64 refresh(void *opaque, u64 now)
{
    struct sdl_display *d = opaque;
    if (now < d->next_frame)
        return d->next_frame;
    poll_events(d);
    present(d);
    d->next_frame = now + FRAME_NS;
    return d->next_frame;
}

struct sdl_display *sdl_display_new(struct pc *pc, FILE *err)
{
    struct sdl_display *d = calloc(1, sizeof *d);
    size_t px = (size_t)VGA_MAX_W * VGA_MAX_H;
    if (!d || !(d->cur.px = malloc(px * sizeof(u32))) || !(d->shown = malloc(px * sizeof(u32)))) {
        fprintf(err, "umbra: -display sdl: out of memory\n");
        sdl_display_free(d);
        return NULL;
    }
    d->pc = pc;
    d->dirty = true;
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) < 0) {
        fprintf(err, "umbra: -display sdl: cannot open a window: %s\n", SDL_GetError());
        free(d->cur.px);
        free(d->shown);
        free(d);
        return NULL;
    }
    d->win = SDL_CreateWindow(TITLE, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, 640, 480,
                              SDL_WINDOW_RESIZABLE);
    if (d->win)
        d->ren = SDL_CreateRenderer(d->win, -1, 0);
    if (!d->ren || pc_add_timer(pc, refresh, d) < 0) {
        fprintf(err, "umbra: -display sdl: cannot open a window: %s\n",
                d->ren ? "too many timers" : SDL_GetError());
        sdl_display_free(d);
        return NULL;
    }
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "nearest");
    return d;
}

void sdl_display_free(struct sdl_display *d)
{
    if (!d)
        return;
    if (d->tex)
        SDL_DestroyTexture(d->tex);
    if (d->ren)
        SDL_DestroyRenderer(d->ren);
    if (d->win)
        SDL_DestroyWindow(d->win);
    if (SDL_WasInit(SDL_INIT_VIDEO))
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
    free(d->cur.px);
    free(d->shown);
    free(d);
}
