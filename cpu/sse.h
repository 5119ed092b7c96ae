/*
 * SSE and SSE2 state and the helpers their handlers share (SDM vol. 1,
 * chapters 10 and 11).  Private to cpu/.
 *
 *   MXCSR (SDM vol. 1, 10.2.3):
 *   15 FZ | 14-13 RC | 12 PM 11 UM 10 OM 9 ZM 8 DM 7 IM | 6 DAZ | 5 PE 4 UE 3 OE 2 ZE 1 DE 0 IE
 *
 * Floating-point arithmetic runs on the host's SSE unit (sse_host.c): the
 * guest's rounding, FZ and DAZ are loaded with every exception masked, and
 * the flags the host raised are merged into the guest MXCSR.  An unmasked
 * flag then becomes #XM (CR4.OSXMMEXCPT=1) or #UD with the destination
 * left unchanged (SDM vol. 1, 11.5).
 *
 * MMX (SDM vol. 1, chapter 9; mmx.c): MM0-MM7 alias the significands of
 * the x87 physical registers R0-R7.  Every MMX instruction but EMMS sets
 * TOP to 0 and tags every register valid, and a write to MMn sets the
 * exponent and sign of Rn to all ones; EMMS tags every register empty.
 */
#ifndef UMBRA_CPU_SSE_H
#define UMBRA_CPU_SSE_H

#include "common/types.h"

union xmm {
    u8 b[16];
    u16 w[8];
    u32 d[4];
    u64 q[2];
} __attribute__((aligned(16)));

#define MXCSR_IE (1u << 0)
#define MXCSR_DE (1u << 1)
#define MXCSR_ZE (1u << 2)
#define MXCSR_OE (1u << 3)
#define MXCSR_UE (1u << 4)
#define MXCSR_PE (1u << 5)
#define MXCSR_FLAGS 0x3fu
#define MXCSR_DAZ (1u << 6)
#define MXCSR_MASKS (0x3fu << 7)
#define MXCSR_RC (3u << 13)
#define MXCSR_FZ (1u << 15)
#define MXCSR_RESET 0x1f80u
/* Bits FXRSTOR/LDMXCSR accept (MXCSR_MASK in the FXSAVE image): DAZ is
 * implemented (SDM vol. 1, 11.6.6). */
#define MXCSR_MASK_VALUE 0xffffu
/* Pre-computation exceptions (SDM vol. 1, 11.5.1): an unmasked one stops
 * the operation before any post-computation flag (OE, UE, PE) is set. */
#define MXCSR_PRE (MXCSR_IE | MXCSR_DE | MXCSR_ZE)

/* Feature and check classes of an SSE encoding-table row (opcodes_sse.def):
 * the CPUID bit it needs and whether it touches SIMD state (then CR0.EM,
 * CR4.OSFXSR and CR0.TS apply). */
#define SF_SSE 1u
#define SF_SSE2 2u
#define SF_STATE 4u
#define SF_MMX 8u     /* uses MMX registers: #MF on a pending x87 exception */

/* Mandatory-prefix classes of an SSE row: none, 66, F3, F2. */
enum { PFX_ANY = 0, PFX_NP = 1, PFX_66 = 2, PFX_F3 = 3, PFX_F2 = 4 };

/* CPUID.1:EDX bits the SSE code tests. */
#define CPUID_EDX_MMX (1u << 23)
#define CPUID_EDX_FXSR (1u << 24)
#define CPUID_EDX_SSE (1u << 25)
#define CPUID_EDX_SSE2 (1u << 26)

struct cpu;
struct insn;

/*
 * The checks every SSE/SSE2 instruction makes before anything else, in the
 * order of the SDM's exception tables (vol. 2, 2.5; vol. 3A, table 2-2 and
 * 13.1): #UD if the model lacks the feature; for state instructions #UD if
 * CR0.EM=1 or CR4.OSFXSR=0, then #NM if CR0.TS=1.
 */
void sse_enter(struct cpu *c, const struct insn *i);

/* The same checks for a row without SF_* in the table: `feat` is SF_*. */
void sse_check(struct cpu *c, unsigned feat);

/*
 * The W operand: XMM[rm], or `size` bytes (4, 8 or 16) of memory
 * zero-extended.  `aligned`: a 16-byte memory operand must be 16-byte
 * aligned, else #GP(0) (SDM vol. 1, 11.4.1).  Faults before any change.
 */
void sse_read_w(struct cpu *c, const struct insn *i, unsigned size, bool aligned, union xmm *out);
/* Store the low `size` bytes of `v` to the memory operand (all of it is
 * probed first); `aligned` as for sse_read_w. */
void sse_write_m(struct cpu *c, const struct insn *i, const union xmm *v, unsigned size,
                 bool aligned);

/* MMn as a 64-bit value; writing it, with the exponent and sign of the
 * aliased x87 register set to all ones (SDM vol. 1, 9.5). */
u64 mm_get(const struct cpu *c, unsigned n);
void mm_set(struct cpu *c, unsigned n, u64 v);
/* The x87-to-MMX transition every MMX instruction but EMMS makes, after
 * its last possible fault: TOP = 0, every register tagged valid. */
void mmx_transition(struct cpu *c);

/* #XM if CR4.OSXMMEXCPT=1, else #UD (SDM vol. 3A, 6.15 interrupt 19). */
NORETURN void sse_simd_fault(struct cpu *c);

/* Reset state: XMM registers zero, MXCSR 1F80H (SDM vol. 3A, table 9-1). */
void sse_reset(struct cpu *c);

/*
 * FXSAVE/FXRSTOR's SSE part of the 512-byte image `b`: bytes 24-31 MXCSR
 * and MXCSR_MASK, 160-287 XMM0-7.  sse_fxrstor() returns false (the caller
 * raises #GP(0)) if the MXCSR image sets a reserved bit; it writes nothing
 * then.
 */
void sse_fxsave(const struct cpu *c, u8 *b);
bool sse_fxrstor(struct cpu *c, const u8 *b);

#endif
