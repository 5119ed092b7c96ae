/*
 * x87 FPU state helpers and the host-execution engine (SDM vol. 1,
 * chapter 8: data registers 8.1.2, status word 8.1.3, control word 8.1.5,
 * tag word 8.1.7; FSAVE image figures 8-9/8-10).
 *
 * Every x87 computation runs on the host's own x87: a table of small
 * stubs, one per (escape byte, ModRM form), each doing
 *
 *     push rdx; popfq          guest OSZAPC for FCMOVcc
 *     frstor [rdi]             the guest state
 *     <D8+esc> <ModRM>         the guest instruction ([rsi] for memory)
 *     fnsave [rdi]             state back; reinitializes the host FPU
 *     pushfq; pop rax; ret     flags for FCOMI/FUCOMI
 *
 * so results, condition codes, tag updates, stack faults, precision and
 * rounding control and both masked and unmasked exception responses are
 * the hardware's.  Invariants: the caller clears the guest's pending
 * exception flags in the image first (the host must never see an
 * unmasked pending exception at a waiting instruction, or it would
 * deliver SIGFPE), and FNSAVE leaves the host FPU in its FNINIT state,
 * which is what the C ABI expects.  The host runs x86-64, where FRSTOR and
 * FNSAVE without REX.W use the 108-byte 32-bit layout.
 */
#include <string.h>

#include "fpu.h"

/* Slot layout: 72 stubs of 16 bytes per escape byte, the 8 memory forms
 * (ModRM reg) first, then the 64 register forms (ModRM & 63). */
#define STUB_SIZE 16u
#define STUBS_PER_ESC 72u

__asm__(".pushsection .text\n"
        ".macro UMBRA_FPU_STUB op, modrm\n"
        "  .balign 16\n"
        "  push %rdx\n"
        "  popfq\n"
        "  frstor (%rdi)\n"
        "  .byte \\op, \\modrm\n"
        "  fnsave (%rdi)\n"
        "  pushfq\n"
        "  pop %rax\n"
        "  ret\n"
        ".endm\n"
        ".macro UMBRA_FPU_ESC op\n"
        "  .irp r, 0,1,2,3,4,5,6,7\n"
        "    UMBRA_FPU_STUB \\op, ((\\r << 3) | 6)\n"
        "  .endr\n"
        "  .irp r, 0,1,2,3,4,5,6,7\n"
        "    .irp m, 0,1,2,3,4,5,6,7\n"
        "      UMBRA_FPU_STUB \\op, (0xc0 | (\\r << 3) | \\m)\n"
        "    .endr\n"
        "  .endr\n"
        ".endm\n"
        "  .balign 16\n"
        "  .globl umbra_fpu_host_stubs\n"
        "  .hidden umbra_fpu_host_stubs\n"
        "umbra_fpu_host_stubs:\n"
        "  UMBRA_FPU_ESC 0xd8\n"
        "  UMBRA_FPU_ESC 0xd9\n"
        "  UMBRA_FPU_ESC 0xda\n"
        "  UMBRA_FPU_ESC 0xdb\n"
        "  UMBRA_FPU_ESC 0xdc\n"
        "  UMBRA_FPU_ESC 0xdd\n"
        "  UMBRA_FPU_ESC 0xde\n"
        "  UMBRA_FPU_ESC 0xdf\n"
        "  .purgem UMBRA_FPU_ESC\n"
        "  .purgem UMBRA_FPU_STUB\n"
        ".popsection\n");

void umbra_fpu_host_stubs(void);
typedef u64 (*fpu_stub_fn)(void *img, void *mem, u64 rflags);

u32 fpu_host_exec(struct fpu_image *img, unsigned esc, unsigned modrm, u8 *mem, u32 eflags)
{
    unsigned slot = modrm >= 0xc0 ? 8 + (modrm & 63) : (modrm >> 3) & 7;
    fpu_stub_fn fn = (fpu_stub_fn)((uintptr_t)umbra_fpu_host_stubs +
                                   (esc * STUBS_PER_ESC + slot) * STUB_SIZE);
    /* Only the arithmetic flags go in: TF or AC would trap on the host. */
    u64 fl = fn(img, mem, (eflags & 0x8d5u) | 0x202u);
    return (u32)fl & 0x8d5u;
}

void fpu_init(struct fpu *f)
{
    f->cw = FCW_INIT;
    f->sw = 0;
    f->valid = 0;
    f->fop = 0;
    f->fcs = f->fds = 0;
    f->fip = f->fdp = 0;
}

void fpu_reset(struct fpu *f)
{
    memset(f->reg, 0, sizeof f->reg);
    fpu_init(f);
    f->cw = FCW_FIXED;
    f->valid = 0xff;
    f->ferr = false;
}

unsigned fpu_classify(const u8 v[10])
{
    u64 sig;
    memcpy(&sig, v, 8);
    unsigned exp = (v[8] | v[9] << 8) & 0x7fff;
    if (exp == 0x7fff || exp == 0)
        return exp == 0 && sig == 0 ? FTAG_ZERO : FTAG_SPECIAL;
    /* Unnormals (integer bit clear) are unsupported: special. */
    return sig >> 63 ? FTAG_VALID : FTAG_SPECIAL;
}

u16 fpu_tag_word(const struct fpu *f)
{
    u16 tw = 0;
    for (unsigned n = 0; n < 8; n++) {
        unsigned t = f->valid >> n & 1 ? fpu_classify(f->reg[n]) : FTAG_EMPTY;
        tw |= (u16)(t << (2 * n));
    }
    return tw;
}

u8 fpu_valid_from_tw(u16 tw)
{
    u8 v = 0;
    for (unsigned n = 0; n < 8; n++)
        if (((tw >> (2 * n)) & 3) != FTAG_EMPTY)
            v |= (u8)(1u << n);
    return v;
}

void fpu_update_es(struct fpu *f)
{
    if (f->sw & ~f->cw & FSW_EXC)
        f->sw |= FSW_ES | FSW_B;
    else
        f->sw &= (u16)~(FSW_ES | FSW_B);
}

void fpu_to_image(const struct fpu *f, struct fpu_image *img)
{
    unsigned top = fpu_top(f);
    img->cw = 0xffff0000u | f->cw;
    img->sw = 0xffff0000u | f->sw;
    img->tw = 0xffff0000u | fpu_tag_word(f);
    img->fip = img->fcs_fop = img->fdp = 0;
    img->fds = 0xffff0000u;
    for (unsigned k = 0; k < 8; k++)
        memcpy(img->st[k], f->reg[(top + k) & 7], 10);
}

void fpu_from_image(struct fpu *f, const struct fpu_image *img)
{
    f->cw = (u16)((img->cw & FCW_WRITABLE) | FCW_FIXED);
    f->sw = (u16)img->sw;
    f->valid = fpu_valid_from_tw((u16)img->tw);
    unsigned top = fpu_top(f);
    for (unsigned k = 0; k < 8; k++)
        memcpy(f->reg[(top + k) & 7], img->st[k], 10);
}
