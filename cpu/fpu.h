/*
 * x87 FPU state and the helpers the x87 instruction handlers share
 * (SDM vol. 1, chapter 8).  Private to cpu/.
 *
 * The eight data registers are kept as the 80-bit images the hardware
 * stores (64-bit significand with explicit integer bit, 15-bit exponent,
 * sign), indexed by physical register number R0..R7; ST(i) is
 * R[(TOP + i) & 7].  Keeping raw images makes FSAVE/FRSTOR and
 * FXSAVE/FXRSTOR round-trip every encoding exactly (NaN payloads,
 * denormals, pseudo-denormals, unsupported formats).
 *
 * Arithmetic runs on the host's x87 (fpu.c): the guest state is loaded
 * into the host FPU with FRSTOR, the very instruction runs, and FNSAVE
 * brings the state back.  That gives P6-exact results, condition codes,
 * stack faults and masked/unmasked exception responses for free.
 */
#ifndef UMBRA_CPU_FPU_H
#define UMBRA_CPU_FPU_H

#include "common/types.h"

/* Status word (SDM vol. 1, 8.1.3). */
#define FSW_IE (1u << 0)
#define FSW_DE (1u << 1)
#define FSW_ZE (1u << 2)
#define FSW_OE (1u << 3)
#define FSW_UE (1u << 4)
#define FSW_PE (1u << 5)
#define FSW_SF (1u << 6)
#define FSW_ES (1u << 7)
#define FSW_C0 (1u << 8)
#define FSW_C1 (1u << 9)
#define FSW_C2 (1u << 10)
#define FSW_TOP_SHIFT 11
#define FSW_TOP (7u << FSW_TOP_SHIFT)
#define FSW_C3 (1u << 14)
#define FSW_B (1u << 15)
#define FSW_EXC 0x3fu      /* the six exception flags */
#define FSW_STICKY 0x7fu   /* exception flags and SF: only ever OR-ed in */

/* Control word (SDM vol. 1, 8.1.5): masks 0-5, PC 8-9, RC 10-11, and the
 * 287 infinity bit 12, which a P6 keeps but ignores; bit 6 reads as 1. */
#define FCW_MASKS 0x3fu
#define FCW_WRITABLE 0x1f3fu
#define FCW_FIXED 0x0040u
#define FCW_INIT 0x037fu

/* Tag values in the full tag word (SDM vol. 1, 8.1.7). */
enum { FTAG_VALID = 0, FTAG_ZERO = 1, FTAG_SPECIAL = 2, FTAG_EMPTY = 3 };

struct fpu {
    u8 reg[8][10];     /* physical registers R0..R7, 80-bit images */
    u16 cw;            /* control word */
    u16 sw;            /* status word, TOP included */
    u8 valid;          /* abridged tags: bit n set = Rn not empty */
    bool ferr;         /* FERR# level last reported to the board */
    u16 fop;           /* last non-control opcode: (first byte & 7) << 8 | ModRM */
    u16 fcs, fds;      /* selectors of the last instruction and operand */
    u32 fip, fdp;      /* their offsets */
};

/*
 * The 32-bit protected-mode FSAVE image (SDM vol. 1, figures 8-9 and 8-10),
 * the form the host's FRSTOR/FNSAVE take in 64-bit mode.  st[k] is ST(k).
 */
struct fpu_image {
    u32 cw, sw, tw;
    u32 fip;
    u32 fcs_fop;       /* FCS in bits 0-15, FOP in 16-26 */
    u32 fdp;
    u32 fds;
    u8 st[8][10];
} __attribute__((packed));
_Static_assert(sizeof(struct fpu_image) == 108, "FSAVE image is 108 bytes");

static inline unsigned fpu_top(const struct fpu *f) { return (f->sw >> FSW_TOP_SHIFT) & 7; }

/* Processor RESET state (SDM vol. 3A, table 9-1): CW 0040H, tags 5555H
 * (all registers +0.0, valid). */
void fpu_reset(struct fpu *f);
/* FNINIT: CW 037FH, SW 0, all tags empty, pointers cleared. */
void fpu_init(struct fpu *f);
/* Tag of an 80-bit image by its class (valid, zero, special). */
unsigned fpu_classify(const u8 v[10]);
/* The full 16-bit tag word, computed from register contents. */
u16 fpu_tag_word(const struct fpu *f);
/* Abridged tags from a full tag word (anything but 11b is non-empty). */
u8 fpu_valid_from_tw(u16 tw);
/* Recompute ES and B from the exception flags and the masks. */
void fpu_update_es(struct fpu *f);

/* Guest state to the FSAVE image (pointer fields zero) and back (the
 * pointer fields of `img` are ignored). */
void fpu_to_image(const struct fpu *f, struct fpu_image *img);
void fpu_from_image(struct fpu *f, const struct fpu_image *img);

struct cpu;
/* A waiting x87 (or MMX) instruction with an unmasked x87 exception
 * pending: #MF with CR0.NE, else FERR# to the board (fpu_ops.c). */
void fpu_check_pending(struct cpu *c);

/*
 * Run x87 instruction `esc` (0-7 for D8-DF) with ModRM `modrm` on the host
 * FPU, with `img` as the state before and after.  A memory form's operand
 * is the buffer `mem` (at least 10 bytes).  `eflags` supplies the
 * condition flags FCMOVcc reads; returns the host's arithmetic flags
 * after the instruction (FCOMI and friends write them).  The caller must
 * only pass encodings the host can execute: no #UD forms.
 */
u32 fpu_host_exec(struct fpu_image *img, unsigned esc, unsigned modrm, u8 *mem, u32 eflags);

#endif
