/*
 * The executor contract: what the decoder produces and what an executor
 * (the interpreter loop, the block replay, translated code) may rely on.
 *
 * - The decoder fills a struct insn per instruction; i->fn is the handler,
 *   the one definition of the instruction's semantics.  An executor runs
 *   an instruction by calling i->fn(c, i) with, first:
 *     insn_eip = the instruction's EIP, insn_esp = ESP at its start, and
 *     icount = the instructions retired before it (all three are what the
 *     run loop puts back, or counts, when the handler faults);
 *     eip = the next instruction's EIP, unless the attributes say the
 *     handler leaves EIP alone (OPA_NOMEM, OPA_LOAD).
 *   After a handler that may transfer control or write memory, EIP other
 *   than the next instruction, or a moved MMU epoch, ends the executor's
 *   straight-line run.
 * - The attributes (OPA_*) come from the encoding table, cpu/opcodes.def
 *   (and opcodes_sse.def), plus OPA_NOMEM/OPA_LOAD from the decoder's
 *   choice of handler.  An instruction with OPA_END, OPA_MODE or OPA_PRIV
 *   ends a block: after it the run loop may have to look (cpu_must_look).
 * - The interrupt shadow: after STI, MOV SS and POP SS the executor
 *   returns; the run loop steps the next instruction itself and then
 *   takes what is pending, so every executor takes interrupts at the same
 *   instruction.
 */
#ifndef UMBRA_CPU_INSN_H
#define UMBRA_CPU_INSN_H

#include "common/types.h"

struct cpu;

/* Mode word: what a decoded instruction's meaning depends on. */
#define MODE_PE (1u << 0)
#define MODE_CS32 (1u << 1)
#define MODE_SS32 (1u << 2)
#define MODE_VM86 (1u << 3)
#define MODE_PG (1u << 4)

struct insn;
typedef void (*op_fn)(struct cpu *c, const struct insn *i);

/*
 * The decoded-instruction record.  The decoder fills it; the interpreter
 * (and later the translator) calls i->fn.  Effective address:
 *   ea = r[base] + (r[index] << scale) + disp, truncated to 16 bits if asz==2
 * with R_ZERO standing in for an absent base or index.
 */
struct insn {
    op_fn fn;
    u32 disp;
    u32 imm;     /* first immediate, sign-extended where the form says so */
    u32 imm2;    /* far pointer selector, ENTER nesting level */
    u16 opc;     /* opcode: 0x000-0x0ff one byte, 0x100-0x1ff after 0F */
    u16 attr;    /* OPA_* attributes from the encoding table */
    u8 len;      /* total length in bytes, prefixes included */
    u8 mod, reg, rm;
    u8 osz;      /* operand size in bytes (1 for byte forms) */
    u8 vsz;      /* the prefix-selected operand size, 2 or 4 */
    u8 asz;      /* address size, 2 or 4 */
    u8 seg;      /* segment of the memory operand */
    u8 segovr;   /* segment override prefix, or S_NONE */
    u8 rep;      /* 0, 0xf2 (REPNE) or 0xf3 (REP/REPE) */
    u8 lock;     /* LOCK prefix seen */
    u8 base, index, scale;
    u8 nprefix;  /* prefix bytes */
    u16 desc;    /* index of the encoding-table row */
    u8 feat;     /* SSE rows: SF_* of the row (sse.h), else 0 */
};

/* Block attributes and properties in the encoding table (opcodes.def). */
#define OPA_MODRM (1u << 0)     /* has a ModRM byte */
#define OPA_BYTE (1u << 1)      /* operand size is 1 byte */
#define OPA_LOCK (1u << 2)      /* LOCK allowed (memory destination only) */
#define OPA_END (1u << 3)       /* ends a translated block */
#define OPA_PRIV (1u << 4)      /* privileged / IOPL-sensitive */
#define OPA_MEMONLY (1u << 5)   /* ModRM must address memory (else #UD) */
#define OPA_REGONLY (1u << 6)   /* ModRM must be a register (else #UD) */
#define OPA_MODE (1u << 7)      /* may change the mode word */
#define OPA_JCC (1u << 8)       /* conditional jump: ends a block only when taken */
#define OPA_FPU (1u << 9)       /* x87 escape */
/* Set by the decoder, not in the table (ops_special.c): the chosen handler
 * cannot fault, touches no memory and leaves EIP alone (NOMEM), or may
 * fault but only reads memory and leaves EIP alone (LOAD). */
#define OPA_NOMEM (1u << 15)
#define OPA_LOAD (1u << 14)

/* After one of these the run loop may have to look before the next
 * instruction (cpu_must_look): they end a block (but a Jcc only when
 * taken), and translated code does not link past one run by its
 * handler. */
#define OPA_ENDS_BLOCK (OPA_END | OPA_MODE | OPA_PRIV)

/* Immediate kinds. */
enum imm_kind {
    IMM_NONE, IMM_B, IMM_BS, IMM_W, IMM_Z, IMM_ZS, IMM_V_AS, IMM_AP, IMM_WB, IMM_JB, IMM_JZ
};

/* Whether the run loop must look before the next instruction: an
 * interrupt it can take, an NMI, HLT, an exit request, the interrupt
 * shadow, or a reason to step one instruction at a time (TF, armed debug
 * breakpoints).  A request the CPU cannot take yet (IF clear) is no reason
 * to stop.  Executors call it between blocks. */
bool cpu_must_look(const struct cpu *c);

#endif
