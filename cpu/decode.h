/*
 * The table-driven decoder.  Fills a struct insn from instruction bytes;
 * shared by the interpreter, the translator and the tests.
 */
#ifndef UMBRA_CPU_DECODE_H
#define UMBRA_CPU_DECODE_H

#include "cpu_state.h"

/* One row of the encoding table (opcodes.def). */
struct op_row {
    u16 opc;
    i8 reg;          /* -1, or the ModRM.reg value of a group member */
    u8 imm;          /* enum imm_kind */
    u16 attr;        /* OPA_* */
    u8 pfx;          /* PFX_ANY, or the mandatory prefix of an SSE row */
    u8 feat;         /* SF_* of an SSE row (sse.h), else 0 */
    const char *mnem;
    const char *operands;
    const char *handler;
    op_fn fn;
};

enum dec_status {
    DEC_OK = 0,
    DEC_UD,     /* invalid opcode, bad LOCK, register form of a memory-only op */
    DEC_GP,     /* longer than 15 bytes or past the CS limit */
    DEC_TRUNC,  /* (buffer decoding only) ran out of bytes */
};

/* Build the opcode maps (idempotent, thread-safe).  cpu_new() calls it. */
void dec_init(void);

/* The encoding table, in definition order. */
const struct op_row *dec_rows(size_t *count);

/*
 * Decode from a byte buffer, for tests and tools.  `code32` selects the
 * default operand and address size.  Returns a dec_status; on DEC_OK, i->len
 * is the instruction length.  On DEC_UD, i->len is the length consumed so
 * far (prefixes, opcode and any ModRM bytes).
 */
enum dec_status dec_decode_buf(const u8 *buf, size_t n, bool code32, struct insn *i);

/*
 * Decode the instruction at CS:EIP of the CPU.  Raises #GP, #PF or #UD
 * through cpu_raise().  Only called from the run loop.  Returns true if
 * every byte came from one directly mapped page, which is then write
 * tracked, so the record may be cached until the MMU's epoch changes.
 */
bool dec_decode_cpu(struct cpu *c, struct insn *i);

#endif
