/*
 * struct cpu and the helpers every semantics file shares.  Private to cpu/
 * (and to tests that drive the CPU directly).
 *
 * Conventions:
 *  - Operand sizes are in bytes (1, 2, 4).  Handlers are size-generic and
 *    take the size from the decoded instruction.
 *  - cpu_raise() never returns: it long-jumps to the run loop, which puts
 *    EIP and ESP back to the values at the start of the instruction and
 *    delivers the exception.  So a handler must do every access that can
 *    fault before it changes registers other than ESP (fault first, commit
 *    last).  String instructions commit per iteration, which is what makes
 *    them restartable.
 *  - EFLAGS.OSZAPC are lazy (see flags.h); everything else lives in eflags.
 */
#ifndef UMBRA_CPU_STATE_H
#define UMBRA_CPU_STATE_H

#include <setjmp.h>

#include "common/counters.h"
#include "common/log.h"
#include "common/types.h"
#include "cpu.h"
#include "insn.h"
#include "fpu.h"
#include "sse.h"
#include "mmu/mmu.h"

/* General registers (index 8 is a constant zero used by EA calculation). */
enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI, R_ZERO };
/* Segment registers in encoding order; S_NONE = no override. */
enum { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS, S_NONE = 7 };

/* EFLAGS bits (SDM vol. 1, 3.4.3). */
#define EFLAGS_CF (1u << 0)
#define EFLAGS_FIXED (1u << 1)
#define EFLAGS_PF (1u << 2)
#define EFLAGS_AF (1u << 4)
#define EFLAGS_ZF (1u << 6)
#define EFLAGS_SF (1u << 7)
#define EFLAGS_TF (1u << 8)
#define EFLAGS_IF (1u << 9)
#define EFLAGS_DF (1u << 10)
#define EFLAGS_OF (1u << 11)
#define EFLAGS_IOPL (3u << 12)
#define EFLAGS_NT (1u << 14)
#define EFLAGS_RF (1u << 16)
#define EFLAGS_VM (1u << 17)
#define EFLAGS_AC (1u << 18)
#define EFLAGS_VIF (1u << 19)
#define EFLAGS_VIP (1u << 20)
#define EFLAGS_ID (1u << 21)
#define EFLAGS_OSZAPC (EFLAGS_CF | EFLAGS_PF | EFLAGS_AF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_OF)
/* Bits software can ever change on a P6 (the rest read as fixed). */
#define EFLAGS_MASK 0x003f7fd5u

/* Control register bits (SDM vol. 3A, 2.5). */
#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR0_ET (1u << 4)
#define CR0_NE (1u << 5)
#define CR0_AM (1u << 18)
#define CR0_NW (1u << 29)
#define CR0_CD (1u << 30)
#define CR4_VME (1u << 0)
#define CR4_PVI (1u << 1)
#define CR4_TSD (1u << 2)
#define CR4_DE (1u << 3)
#define CR4_PAE (1u << 5)
#define CR4_PGE (1u << 7)
#define CR4_PCE (1u << 8)
#define CR4_OSFXSR (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define CR4_UMIP (1u << 11)

/* Exception vectors. */
enum {
    EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5, EXC_UD = 6,
    EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12, EXC_GP = 13,
    EXC_PF = 14, EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19
};

/*
 * Segment descriptor cache.  `flags` keeps bits 8..23 of the descriptor's
 * high dword:
 *   15 P | 14-13 DPL | 12 S | 11-8 type ; 23 G | 22 D/B | 21 L | 20 AVL
 * as (dword1 & 0x00f0ff00).  lo/hi give the valid offset range after
 * expand-down is applied, so a limit check is two compares.
 */
struct seg {
    u32 base;
    u32 limit;   /* byte-granular limit */
    u32 flags;   /* descriptor bits, see above */
    u32 lo, hi;  /* valid offsets [lo, hi] */
    u16 sel;
    u8 ok;       /* SEGOK_* access rights usable right now */
    u8 flat;     /* `ok` if base 0 and every offset valid, else 0 */
    u8 big;      /* `ok` if every offset is valid, whatever the base */
};
#define SEGOK_READ 1u
#define SEGOK_WRITE 2u

#define DESC_P (1u << 15)
#define DESC_S (1u << 12)
#define DESC_DB (1u << 22)
#define DESC_G (1u << 23)
#define DESC_DPL(f) (((f) >> 13) & 3)
#define DESC_TYPE(f) (((f) >> 8) & 15)
/* For S=1: type bit 3 = code; data: bit 2 expand-down, bit 1 writable;
 * code: bit 2 conforming, bit 1 readable; bit 0 accessed. */
#define DESC_CODE (1u << 11)

struct dtr {
    u32 base;
    u16 limit;
};



/*
 * Decoded-instruction cache: direct-mapped on the linear address of the
 * instruction.  A line is valid while its key (mode word and CPL) matches
 * and the MMU epoch has not moved, i.e. no TLB flush and no write to a
 * line code was decoded from.
 */
#define IC_LINES 8192u
struct icache_line {
    u32 lin;
    u32 key;     /* cpu_code_key(); ~0 = empty */
    u32 epoch;
    struct insn i;
};
struct icache {
    struct icache_line line[IC_LINES];
};

struct cpu {
    /* ---- hot: registers, EIP, flags, mode ---- */
    u32 r[9];          /* EAX..EDI, then R_ZERO (always 0) */
    u32 eip;
    u32 eflags;        /* OSZAPC stale while lf_live */
    u32 lf_res;        /* last result, sign-extended to 32 bits */
    u32 lf_aux;        /* bit 31 CF, bit 30 CF^OF, bit 3 AF; or (LF_HOST)
                        * LAHF's byte in bits 8-15, OF in bit 0 */
    u8 lf_live;        /* where OSZAPC are: LF_PLAIN, LF_LAZY, LF_HOST */
    u8 cpl;
    u32 mode;          /* MODE_* */
    struct seg seg[6];
    struct seg ldtr, tr;
    struct dtr gdtr, idtr;
    struct tlb *tlb;   /* the L1 TLB for the current CPL (mmu tlb[cpl == 3]) */
    struct icache *ic; /* decoded instructions */

    /* ---- per-instruction ---- */
    u32 insn_eip;      /* EIP at the start of the current instruction */
    u32 insn_esp;      /* ESP at the start, restored on a fault */

    /* ---- system registers ---- */
    u32 cr0, cr2, cr3, cr4;
    u32 dr[8];
    u64 tsc_offset;    /* TSC = icount + tsc_offset */
    u32 sysenter_cs, sysenter_esp, sysenter_eip;
    u64 apic_base;
    bool apic_present; /* the board has a local APIC: CPUID reports it */
    u64 mtrr[32];      /* MTRR MSRs read back what was written */
    u64 mtrr_def_type;
    u64 pat;           /* IA32_PAT (0x277) */
#define PAT_POWER_ON 0x0007040600070406ull /* WB WT UC- UC, twice (11.12.4) */
    u64 misc_enable;
    u64 platform_id;   /* IA32_PLATFORM_ID (0x17) */
    u64 bios_sign_id;  /* IA32_BIOS_SIGN_ID (0x8B) */
    u64 efer;          /* IA32_EFER (0xC0000080): only NXE is writable */
    /* Debug breakpoints armed by DR7 (recomputed by dr_update()): keeps the
     * breakpoint checks off the fast path. */
    bool dbg_insn_armed;  /* some enabled execute breakpoint */
    bool dbg_data_armed;  /* some enabled data read/write breakpoint, or a
                           * debugger watchpoint */
    /* Debugger watchpoints (cpu_set_watchpoints) and the first access to
     * one since the debugger last looked (cpu_take_watch_hit). */
    struct cpu_watch watch[CPU_MAX_WATCH];
    unsigned n_watch;
    u32 bp[CPU_MAX_BP];  /* cpu_set_breakpoints */
    unsigned n_bp;
    bool step_next;      /* an executor left the next instruction to the
                          * run loop: a breakpoint is near */
    bool watch_hit;
    unsigned watch_hit_index;
    u32 watch_hit_lin;
    bool watch_hit_write;

    /* ---- FPU and SSE ---- */
    struct fpu fpu;    /* x87 state (fpu.h) */
    union xmm xmm[8];  /* XMM0-XMM7 (sse.h) */
    u32 mxcsr;         /* SSE control and status (sse.h, MXCSR_*) */
    const struct cpu_model *model; /* what CPUID reports (cpu_set_model) */
    u32 feat_edx;      /* CPUID.1:EDX as reported, cached from the model */

    /* ---- run-loop state ---- */
    u64 icount;        /* instructions retired */
    u64 ic_hits;       /* decoded-instruction cache hits */
    bool irq_line;     /* INTR asserted */
    bool nmi_pending;
    bool nmi_blocked;  /* inside an NMI handler until IRET */
    bool halted;
    bool inhibit_irq;  /* one-instruction shadow after STI / MOV SS */
    bool exit_request;
    /* Translated code goes from block to block without the run loop while
     * icount stays below this; the executor sets it, and anything the run
     * loop must see (an interrupt line, NMI, exit request) zeroes it. */
    u64 exec_limit;
    bool shutdown;     /* triple fault happened */
    bool delivering;   /* an exception is being delivered */
    u8 deliver_vec;
    u32 dr6_pending;   /* DR6 bits owed by debug traps of this instruction */
    bool ss_loaded;    /* this instruction was MOV SS / POP SS */
    u32 dr6_held;      /* traps of a MOV SS / POP SS, owed after the next */
    int exc_vec;       /* exception being raised */
    int exc_first;     /* the exception an instruction raised first (a
                        * fault during its delivery does not change it) */
    u32 exc_err;
    bool exc_has_err;
    jmp_buf jb;

    /* ---- collaborators ---- */
    struct mmu *mmu;
    struct counters *cnt;
    struct logger *log;
    struct cpu_callbacks cb;
    cpu_exec_fn exec_fn;  /* cpu_set_executor() */
    void *exec_opaque;
    cpu_exception_fn exc_hook; /* cpu_set_exception_hook(), or NULL */
    void *exc_opaque;
    cpu_insn_fn insn_hook;     /* cpu_set_insn_hook(), or NULL */
    void *insn_opaque;
    cpu_access_fn acc_hook;    /* cpu_set_access_hook(), or NULL */
    void *acc_opaque;
};

/* ---- exceptions (exec.c) ---- */
NORETURN void cpu_raise(struct cpu *c, int vec, u32 err);
NORETURN void cpu_raise_noerr(struct cpu *c, int vec);
#define cpu_ud(c) cpu_raise_noerr((c), EXC_UD)
#define cpu_gp(c, e) cpu_raise((c), EXC_GP, (e))

static inline bool cpu_pe(const struct cpu *c) { return c->mode & MODE_PE; }
static inline bool cpu_vm86(const struct cpu *c) { return c->mode & MODE_VM86; }
static inline unsigned cpu_iopl(const struct cpu *c) { return (c->eflags >> 12) & 3; }
/* What decoded code depends on besides its bytes: the mode word, the CPL
 * and the L1 address-space tag.  Keys the decoded-instruction cache and
 * the block cache; never ~0, which marks an empty line. */
static inline u32 cpu_code_key(const struct cpu *c)
{
    return c->mode | (u32)c->cpl << 8 | c->tlb->ctx << 16;
}

/* A debugger breakpoint lies in the `bytes` bytes from `lin`.  Executors
 * look only while n_bp is set: a block they would run that holds one
 * makes them return with step_next set, and the run loop steps the next
 * instruction itself (or stops before it); a block being recorded ends
 * before one. */
static inline bool cpu_bp_in(const struct cpu *c, u32 lin, u32 bytes)
{
    for (unsigned k = 0; k < c->n_bp; k++)
        if (c->bp[k] - lin < bytes)
            return true;
    return false;
}

/* Recompute the mode word after CR0, CS, SS or VM changed. */
void cpu_update_mode(struct cpu *c);

#endif
