/*
 * 8042 keyboard controller with a PS/2 keyboard, after the IBM PC AT
 * Technical Reference ("Keyboard Controller") and the IBM PS/2 Hardware
 * Interface Technical Reference ("Keyboard/Auxiliary Device Controller",
 * "Keyboard" command set), and system control port A (0x92) of the PS/2
 * and later chipsets.
 *
 *   status (read 0x64)            config byte (controller RAM 0)
 *   0 OBF  output buffer full     0 IRQ1 on keyboard data
 *   1 IBF  input buffer full      1 IRQ12 on auxiliary data
 *   2 SYS  system flag            2 SYS flag
 *   3 A2   last write was 0x64    4 keyboard clock disabled
 *   4 INH  keyboard not inhibited 5 auxiliary clock disabled
 *   5 AUXB aux data in buffer     6 translate to scancode set 1
 *
 *   output port (D0/D1): 0 reset line (0 = reset), 1 A20 gate,
 *   4 keyboard OBF, 5 aux OBF, 6/7 keyboard clock/data
 *
 * The controller consumes each write at once, so IBF is never seen set.
 * Bytes for the guest wait in three queues feeding the one-byte output
 * buffer: controller replies first, then keyboard bytes (held back while
 * the keyboard clock is disabled), then mouse bytes (held back while the
 * auxiliary clock is disabled; they set AUXB).  IRQ1 follows "output
 * buffer full with keyboard data and config bit 0", IRQ12 "output buffer
 * full with aux data and config bit 1".
 *
 * The auxiliary port has a PS/2 mouse (IBM PS/2 Hardware Interface
 * Technical Reference, "Pointing Device"): commands reach it through D4,
 * D3 loops a byte back as if the mouse had sent it.  In stream mode with
 * reporting enabled (F4) it sends 3-byte movement packets; after the
 * sample-rate sequence 200, 100, 80 it identifies as a wheel mouse
 * (ID 3, the IntelliMouse extension) and adds a fourth byte.
 *
 * A20 is enabled when either the output port or port 0x92 enables it,
 * as chipsets combine the two.
 */
#include "i8042.h"

#include <stdlib.h>

#include "mmu/mmu.h"

#define QUEUE_SIZE 16

enum {
    ST_OBF = 0x01,
    ST_SYS = 0x04,
    ST_CMD = 0x08,
    ST_UNLOCKED = 0x10,
    ST_AUXB = 0x20,

    CFG_KBD_INT = 0x01,
    CFG_AUX_INT = 0x02,
    CFG_SYS = 0x04,
    CFG_KBD_DISABLE = 0x10,
    CFG_AUX_DISABLE = 0x20,
    CFG_XLATE = 0x40,
    /* What a BIOS leaves: translating, keyboard interrupt on, no mouse. */
    CFG_RESET = CFG_KBD_INT | CFG_SYS | CFG_AUX_DISABLE | CFG_XLATE,

    OUT_RESET = 0x01, /* 0 asserts the reset line */
    OUT_A20 = 0x02,
    OUT_KBD_OBF = 0x10,
    OUT_AUX_OBF = 0x20,
    OUT_POWER_ON = 0xc0 | OUT_A20 | OUT_RESET,

    P92_RESET = 0x01,
    P92_A20 = 0x02,

    KBD_ACK = 0xfa,
    KBD_RESEND = 0xfe,
    KBD_BAT_OK = 0xaa,
};

struct queue {
    u8 b[QUEUE_SIZE];
    unsigned head, count;
};

struct i8042 {
    /* controller */
    u8 status;
    u8 ram[32];          /* ram[0] is the config byte */
    u8 outport;
    u8 port92;
    u8 obuf;             /* output buffer; valid when status has OBF */
    u8 pending_cmd;      /* controller command waiting for its data byte */
    struct queue ctrl_q; /* controller replies */
    struct queue kbd_q;  /* bytes sent by the keyboard */
    struct queue aux_q;  /* bytes sent by the mouse */
    bool irq_level;
    bool aux_irq_level;
    /* keyboard */
    bool scanning;
    u8 kbd_pending;      /* keyboard command waiting for its argument */
    u8 scancode_set;
    u8 leds, typematic;
    u8 kbd_last;         /* last byte sent, for Resend */
    /* mouse */
    bool reporting;      /* stream mode data reporting (F4/F5) */
    bool remote;         /* remote mode (F0): packets only on request */
    bool scale21;        /* 2:1 scaling (E7); reported, not applied */
    u8 aux_pending;      /* mouse command waiting for its argument */
    u8 sample_rate, resolution;
    u8 rates[3];         /* the last three sample rates set */
    u8 mouse_id;         /* 0, or 3 after the wheel sequence */
    unsigned mouse_buttons;
    /* wiring */
    struct mmu *mmu;
    struct irq_sink sink;
    i8042_reset_fn reset;
    void *reset_opaque;
    struct logger *log;
};

/* ---- queues and the output buffer ---- */

static void q_push(struct queue *q, u8 b)
{
    if (q->count < QUEUE_SIZE)
        q->b[(q->head + q->count++) % QUEUE_SIZE] = b;
}

static u8 q_pop(struct queue *q)
{
    u8 b = q->b[q->head];
    q->head = (q->head + 1) % QUEUE_SIZE;
    q->count--;
    return b;
}

static u8 config(const struct i8042 *k)
{
    return k->ram[0];
}

static void update_irq(struct i8042 *k)
{
    bool full = k->status & ST_OBF, aux = k->status & ST_AUXB;
    bool level = full && !aux && (config(k) & CFG_KBD_INT);
    if (level != k->irq_level) {
        k->irq_level = level;
        irq_set(&k->sink, I8042_IRQ_KBD, level);
    }
    level = full && aux && (config(k) & CFG_AUX_INT);
    if (level != k->aux_irq_level) {
        k->aux_irq_level = level;
        irq_set(&k->sink, I8042_IRQ_AUX, level);
    }
}

/* Move the next waiting byte into an empty output buffer. */
static void refill(struct i8042 *k)
{
    if (!(k->status & ST_OBF)) {
        if (k->ctrl_q.count) {
            k->obuf = q_pop(&k->ctrl_q);
            k->status |= ST_OBF;
        } else if (k->kbd_q.count && !(config(k) & CFG_KBD_DISABLE)) {
            k->obuf = q_pop(&k->kbd_q);
            k->status |= ST_OBF;
        } else if (k->aux_q.count && !(config(k) & CFG_AUX_DISABLE)) {
            k->obuf = q_pop(&k->aux_q);
            k->status |= ST_OBF | ST_AUXB;
        }
    }
    update_irq(k);
}

static void reply(struct i8042 *k, u8 b)
{
    q_push(&k->ctrl_q, b);
    refill(k);
}

static void kbd_send(struct i8042 *k, u8 b)
{
    k->kbd_last = b;
    q_push(&k->kbd_q, b);
    refill(k);
}

/* ---- A20 and reset ---- */

static void update_a20(struct i8042 *k)
{
    mmu_set_a20(k->mmu, (k->outport & OUT_A20) || (k->port92 & P92_A20));
}

static void request_reset(struct i8042 *k)
{
    LOG(k->log, CPU, "system reset requested by the keyboard controller");
    if (k->reset)
        k->reset(k->reset_opaque);
}

static void write_outport(struct i8042 *k, u8 val)
{
    k->outport = val;
    update_a20(k);
    if (!(val & OUT_RESET))
        request_reset(k);
}

/* ---- the keyboard ---- */

/* Replies pass through the controller's set 2 -> set 1 translation; of
 * the bytes the keyboard answers with, only these change. */
static u8 xlate(const struct i8042 *k, u8 b)
{
    if (!(config(k) & CFG_XLATE))
        return b;
    switch (b) {
    case 0x01: return 0x43;
    case 0x02: return 0x41;
    case 0x03: return 0x3f;
    case 0x83: return 0x41;
    default: return b;
    }
}

static void kbd_defaults(struct i8042 *k)
{
    k->scancode_set = 2;
    k->typematic = 0x2b; /* 10.9 cps, 500 ms */
    k->kbd_pending = 0;
}

static void kbd_argument(struct i8042 *k, u8 cmd, u8 arg)
{
    switch (cmd) {
    case 0xed:
        k->leds = arg & 7;
        kbd_send(k, KBD_ACK);
        break;
    case 0xf3:
        k->typematic = arg & 0x7f;
        kbd_send(k, KBD_ACK);
        break;
    default: /* 0xf0: select or report the scancode set */
        if (arg > 3) {
            kbd_send(k, KBD_RESEND);
            break;
        }
        kbd_send(k, KBD_ACK);
        if (arg == 0)
            kbd_send(k, xlate(k, k->scancode_set));
        else
            k->scancode_set = arg;
        break;
    }
}

/* A byte written to port 0x60 with no controller command pending. */
static void kbd_write(struct i8042 *k, u8 b)
{
    if (k->kbd_pending) {
        u8 cmd = k->kbd_pending;
        k->kbd_pending = 0;
        kbd_argument(k, cmd, b);
        return;
    }
    switch (b) {
    case 0xed: /* set LEDs */
    case 0xf3: /* set typematic rate */
    case 0xf0: /* scancode set */
        k->kbd_pending = b;
        kbd_send(k, KBD_ACK);
        break;
    case 0xee: /* echo */
        kbd_send(k, 0xee);
        break;
    case 0xf2: /* identify: MF2 keyboard */
        kbd_send(k, KBD_ACK);
        kbd_send(k, 0xab);
        kbd_send(k, xlate(k, 0x83));
        break;
    case 0xf4: /* enable scanning; the keyboard clears its buffer */
        k->kbd_q.count = 0;
        k->scanning = true;
        kbd_send(k, KBD_ACK);
        break;
    case 0xf5: /* disable scanning and restore defaults */
        kbd_defaults(k);
        k->scanning = false;
        kbd_send(k, KBD_ACK);
        break;
    case 0xf6: /* restore defaults */
        kbd_defaults(k);
        kbd_send(k, KBD_ACK);
        break;
    case 0xf7: case 0xf8: case 0xf9: case 0xfa:
    case 0xfb: case 0xfc: case 0xfd: /* set 3 key types: accepted */
        kbd_send(k, KBD_ACK);
        break;
    case 0xfe: /* resend */
        kbd_send(k, k->kbd_last);
        break;
    case 0xff: /* reset and basic assurance test */
        k->kbd_q.count = 0;
        kbd_defaults(k);
        k->scanning = true;
        kbd_send(k, KBD_ACK);
        kbd_send(k, KBD_BAT_OK);
        break;
    default:
        LOG(k->log, GUEST_ERROR, "i8042: unknown keyboard command %02x", b);
        kbd_send(k, KBD_RESEND);
        break;
    }
}

/* Set 1 code -> set 2 code: the inverse of the controller's translation
 * (IBM PS/2 Hardware Interface Technical Reference, "Keyboards", scan
 * code sets 1 and 2).  0xE0-prefixed keys use the same table; the three
 * Windows keys exist only with the prefix. */
static const u8 set1_to_set2[0x80] = {
    0x00, 0x76, 0x16, 0x1e, 0x26, 0x25, 0x2e, 0x36, 0x3d, 0x3e, 0x46, 0x45, 0x4e, 0x55, 0x66, 0x0d,
    0x15, 0x1d, 0x24, 0x2d, 0x2c, 0x35, 0x3c, 0x43, 0x44, 0x4d, 0x54, 0x5b, 0x5a, 0x14, 0x1c, 0x1b,
    0x23, 0x2b, 0x34, 0x33, 0x3b, 0x42, 0x4b, 0x4c, 0x52, 0x0e, 0x12, 0x5d, 0x1a, 0x22, 0x21, 0x2a,
    0x32, 0x31, 0x3a, 0x41, 0x49, 0x4a, 0x59, 0x7c, 0x11, 0x29, 0x58, 0x05, 0x06, 0x04, 0x0c, 0x03,
    0x0b, 0x83, 0x0a, 0x01, 0x09, 0x77, 0x7e, 0x6c, 0x75, 0x7d, 0x7b, 0x6b, 0x73, 0x74, 0x79, 0x69,
    0x72, 0x7a, 0x70, 0x71, 0x00, 0x00, 0x61, 0x78, 0x07, 0x00, 0x00, 0x1f, 0x27, 0x2f, 0x00, 0x00,
};

void i8042_key_event(struct i8042 *k, const u8 *bytes, size_t n)
{
    if (!k->scanning)
        return;
    /* Without the controller's translation the guest hears the keyboard's
     * own set 2 codes (a break is F0 and the make code). */
    bool set2 = !(config(k) & CFG_XLATE) && k->scancode_set != 1;
    for (size_t i = 0; i < n; i++) {
        u8 b = bytes[i];
        if (!set2 || b == 0xe0 || b == 0xe1) {
            kbd_send(k, b);
            continue;
        }
        if (b & 0x80)
            kbd_send(k, 0xf0);
        kbd_send(k, set1_to_set2[b & 0x7f]);
    }
}

/* ---- the mouse ---- */

static void aux_send(struct i8042 *k, u8 b)
{
    q_push(&k->aux_q, b);
    refill(k);
}

static void mouse_defaults(struct i8042 *k)
{
    k->sample_rate = 100;
    k->resolution = 2; /* 4 counts/mm */
    k->scale21 = false;
    k->reporting = false;
    k->remote = false;
    k->aux_pending = 0;
}

/* One movement packet from the motion given (already within -256..255). */
static void mouse_packet(struct i8042 *k, int dx, int dy, int dz)
{
    unsigned n = k->mouse_id == 3 ? 4 : 3;
    if (QUEUE_SIZE - k->aux_q.count < n)
        return; /* the guest is not reading: drop whole packets */
    u8 b0 = (u8)(0x08 | (k->mouse_buttons & 7) | (dx < 0 ? 0x10 : 0) | (dy < 0 ? 0x20 : 0));
    aux_send(k, b0);
    aux_send(k, (u8)dx);
    aux_send(k, (u8)dy);
    if (n == 4)
        aux_send(k, (u8)(dz < -8 ? -8 : dz > 7 ? 7 : dz) & 0x0f);
}

static int clamp_step(int v)
{
    return v < -255 ? -255 : v > 255 ? 255 : v;
}

void i8042_mouse_event(struct i8042 *k, int dx, int dy, int dz, unsigned buttons)
{
    k->mouse_buttons = buttons & 7;
    if (!k->reporting || k->remote)
        return;
    do {
        int sx = clamp_step(dx), sy = clamp_step(dy);
        mouse_packet(k, sx, sy, dz);
        dx -= sx;
        dy -= sy;
        dz = 0;
    } while (dx || dy);
}

static void mouse_argument(struct i8042 *k, u8 cmd, u8 arg)
{
    if (cmd == 0xe8) {
        k->resolution = arg & 3;
    } else { /* 0xf3 */
        k->sample_rate = arg;
        k->rates[0] = k->rates[1];
        k->rates[1] = k->rates[2];
        k->rates[2] = arg;
        if (k->rates[0] == 200 && k->rates[1] == 100 && k->rates[2] == 80)
            k->mouse_id = 3;
    }
    aux_send(k, KBD_ACK);
}

/* A byte for the mouse (controller command D4). */
static void mouse_write(struct i8042 *k, u8 b)
{
    if (k->aux_pending) {
        u8 cmd = k->aux_pending;
        k->aux_pending = 0;
        mouse_argument(k, cmd, b);
        return;
    }
    switch (b) {
    case 0xe6: /* scaling 1:1 */
    case 0xe7: /* scaling 2:1 */
        k->scale21 = b == 0xe7;
        aux_send(k, KBD_ACK);
        break;
    case 0xe8: /* set resolution */
    case 0xf3: /* set sample rate */
        k->aux_pending = b;
        aux_send(k, KBD_ACK);
        break;
    case 0xe9: /* status request */
        aux_send(k, KBD_ACK);
        aux_send(k, (u8)((k->remote ? 0x40 : 0) | (k->reporting ? 0x20 : 0) |
                         (k->scale21 ? 0x10 : 0) | (k->mouse_buttons & 1 ? 4 : 0) |
                         (k->mouse_buttons & 4 ? 2 : 0) | (k->mouse_buttons & 2 ? 1 : 0)));
        aux_send(k, k->resolution);
        aux_send(k, k->sample_rate);
        break;
    case 0xea: /* stream mode */
    case 0xf0: /* remote mode */
        k->remote = b == 0xf0;
        aux_send(k, KBD_ACK);
        break;
    case 0xeb: /* read data: a packet of no motion */
        aux_send(k, KBD_ACK);
        mouse_packet(k, 0, 0, 0);
        break;
    case 0xec: /* reset wrap mode: never entered */
        aux_send(k, KBD_ACK);
        break;
    case 0xf2: /* identify */
        aux_send(k, KBD_ACK);
        aux_send(k, k->mouse_id);
        break;
    case 0xf4:
    case 0xf5:
        k->reporting = b == 0xf4;
        aux_send(k, KBD_ACK);
        break;
    case 0xf6:
        mouse_defaults(k);
        aux_send(k, KBD_ACK);
        break;
    case 0xff: /* reset: self-test passed, ID 0 */
        k->aux_q.count = 0;
        mouse_defaults(k);
        k->mouse_id = 0;
        aux_send(k, KBD_ACK);
        aux_send(k, KBD_BAT_OK);
        aux_send(k, 0x00);
        break;
    default: /* wrap mode (EE) and unknown commands */
        LOG(k->log, GUEST_ERROR, "i8042: unsupported mouse command %02x", b);
        aux_send(k, KBD_RESEND);
        break;
    }
}

/* ---- the controller ---- */

static void write_config(struct i8042 *k, u8 val)
{
    k->ram[0] = val;
    k->status = (u8)((k->status & ~ST_SYS) | (val & CFG_SYS));
    refill(k); /* enabling the keyboard clock may release its bytes */
}

static void controller_data(struct i8042 *k, u8 cmd, u8 val)
{
    switch (cmd) {
    case 0xd1:
        write_outport(k, val);
        break;
    case 0xd2: /* as if sent by the keyboard */
        q_push(&k->kbd_q, val);
        refill(k);
        break;
    case 0xd3: /* as if sent by the mouse */
        aux_send(k, val);
        break;
    case 0xd4: /* to the mouse */
        mouse_write(k, val);
        break;
    default: /* 0x60-0x7f: controller RAM */
        if (cmd == 0x60)
            write_config(k, val);
        else
            k->ram[cmd & 0x1f] = val;
        break;
    }
}

static void controller_command(struct i8042 *k, u8 cmd)
{
    k->pending_cmd = 0;
    if (cmd >= 0x20 && cmd <= 0x3f) {
        reply(k, k->ram[cmd & 0x1f]);
        return;
    }
    if ((cmd >= 0x60 && cmd <= 0x7f) || (cmd >= 0xd1 && cmd <= 0xd4)) {
        k->pending_cmd = cmd;
        return;
    }
    if (cmd >= 0xf0) {
        /* Pulse the output port lines whose bits are 0; bit 0 is reset. */
        if (!(cmd & 1))
            request_reset(k);
        return;
    }
    switch (cmd) {
    case 0xa4: /* password installed? */
        reply(k, 0xf1);
        break;
    case 0xa7:
        write_config(k, config(k) | CFG_AUX_DISABLE);
        break;
    case 0xa8:
        write_config(k, config(k) & ~CFG_AUX_DISABLE);
        break;
    case 0xa9: /* aux interface test: lines OK */
    case 0xab: /* keyboard interface test: lines OK */
        reply(k, 0x00);
        break;
    case 0xaa: /* self-test */
        k->status |= ST_SYS;
        reply(k, 0x55);
        break;
    case 0xad:
        write_config(k, config(k) | CFG_KBD_DISABLE);
        break;
    case 0xae:
        write_config(k, config(k) & ~CFG_KBD_DISABLE);
        break;
    case 0xd0: {
        u8 v = k->outport & ~(OUT_KBD_OBF | OUT_AUX_OBF);
        if (k->status & ST_OBF)
            v |= (k->status & ST_AUXB) ? OUT_AUX_OBF : OUT_KBD_OBF;
        reply(k, v);
        break;
    }
    default:
        LOG(k->log, UNIMP, "i8042: controller command %02x", cmd);
        break;
    }
}

static u32 i8042_io_read(void *opaque, u16 port, unsigned size)
{
    struct i8042 *k = opaque;
    if (port == 0x64)
        return k->status;
    /* Port 0x60: reading empties the buffer; with nothing new it holds
     * the last byte, as the chip does. */
    u8 v = k->obuf;
    k->status &= (u8)~(ST_OBF | ST_AUXB);
    /* Drop IRQ1 before the next byte raises it: an edge-triggered 8259
     * must see a new edge for each byte. */
    update_irq(k);
    refill(k);
    return v;
}

static void i8042_io_write(void *opaque, u16 port, u32 val, unsigned size)
{
    struct i8042 *k = opaque;
    if (port == 0x64) {
        k->status |= ST_CMD;
        controller_command(k, (u8)val);
        return;
    }
    k->status &= (u8)~ST_CMD;
    if (k->pending_cmd) {
        u8 cmd = k->pending_cmd;
        k->pending_cmd = 0;
        controller_data(k, cmd, (u8)val);
        return;
    }
    /* Sending to the keyboard turns its clock back on. */
    if (config(k) & CFG_KBD_DISABLE)
        write_config(k, config(k) & ~CFG_KBD_DISABLE);
    kbd_write(k, (u8)val);
}

static u32 port92_read(void *opaque, u16 port, unsigned size)
{
    struct i8042 *k = opaque;
    return k->port92;
}

static void port92_write(void *opaque, u16 port, u32 val, unsigned size)
{
    struct i8042 *k = opaque;
    u8 old = k->port92;
    k->port92 = (u8)val;
    update_a20(k);
    if ((val & P92_RESET) && !(old & P92_RESET))
        request_reset(k); /* fast reset: on the bit's rising edge */
}

static const struct io_ops i8042_ops = { i8042_io_read, i8042_io_write };
static const struct io_ops port92_ops = { port92_read, port92_write };

/* ---- life cycle ---- */

void i8042_reset(struct i8042 *k)
{
    k->status = ST_UNLOCKED | ST_SYS;
    for (unsigned i = 0; i < sizeof k->ram; i++)
        k->ram[i] = 0;
    k->ram[0] = CFG_RESET;
    k->outport = OUT_POWER_ON;
    k->port92 = 0;
    k->obuf = 0;
    k->pending_cmd = 0;
    k->ctrl_q.count = k->kbd_q.count = k->aux_q.count = 0;
    kbd_defaults(k);
    mouse_defaults(k);
    k->mouse_id = 0;
    k->mouse_buttons = 0;
    k->rates[0] = k->rates[1] = k->rates[2] = 0;
    k->scanning = true;
    k->leds = 0;
    k->kbd_last = 0;
    update_a20(k);
    update_irq(k);
}

struct i8042 *i8042_new(struct mmu *m, const struct irq_sink *sink, i8042_reset_fn reset,
                        void *reset_opaque, struct logger *log)
{
    struct i8042 *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->mmu = m;
    k->sink = *sink;
    k->reset = reset;
    k->reset_opaque = reset_opaque;
    k->log = log;
    i8042_reset(k);
    if (mmu_map_io(m, 0x60, 1, &i8042_ops, k) < 0 || mmu_map_io(m, 0x64, 1, &i8042_ops, k) < 0 ||
        mmu_map_io(m, 0x92, 1, &port92_ops, k) < 0) {
        free(k);
        return NULL;
    }
    return k;
}

void i8042_free(struct i8042 *k)
{
    free(k);
}
