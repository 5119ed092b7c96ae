/*
 * Run one IA-32 instruction natively on an x86-64 Linux host, in 32-bit
 * compatibility mode, so the very bytes Umbra decodes can be executed by
 * the host CPU (including DAA/DAS/AAA/AAS/AAM/AAD, invalid in 64-bit mode).
 *
 * One page range is mapped at a fixed low address ALU_BASE (below 1 MiB, so
 * a small Umbra machine can hold the same layout at the same addresses):
 *
 *   +0x0000  64-bit entry: save callee-saved registers and RSP, switch to
 *            a low stack, far-return to the 32-bit code selector (0x23)
 *   +0x0100  32-bit prologue: DS/ES = SS, EFLAGS and GPRs from the state
 *            block; then the instruction under test; then the epilogue:
 *            GPRs and EFLAGS to the state block, far-return to 0x33
 *   +0x0600  64-bit exit: restore RSP and registers, return
 *   +0x0800  state block (in: r[8], eflags; out: r[8], eflags; saved RSP)
 *   +0x0ff0  stack top (ESP while the instruction runs)
 *   +0x2000 .. +0x8000  data area for memory operands
 *
 * Linux keeps the flat 32-bit user code selector 0x23 and the 64-bit one
 * 0x33 in its GDT; SS (0x2b) is a flat data segment usable in both modes.
 */
#ifndef UMBRA_TESTS_ALU_HOST_H
#define UMBRA_TESTS_ALU_HOST_H

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define ALU_BASE 0x80000u
#define ALU_SPAN 0x8000u
#define ALU_CODE32 (ALU_BASE + 0x100u)
#define ALU_BACK64 (ALU_BASE + 0x600u)
#define ALU_IN (ALU_BASE + 0x800u)
#define ALU_IN_FL (ALU_IN + 0x20u)
#define ALU_OUT (ALU_BASE + 0x840u)
#define ALU_OUT_FL (ALU_OUT + 0x20u)
#define ALU_SAVE_RSP (ALU_BASE + 0x880u)
#define ALU_STACK (ALU_BASE + 0xff0u)
#define ALU_DATA_LO (ALU_BASE + 0x2000u)
#define ALU_DATA_HI (ALU_BASE + 0x8000u)
#define ALU_DATA_PTR (ALU_BASE + 0x5000u)

struct alu_host {
    uint8_t *page;          /* == (uint8_t *)ALU_BASE */
    unsigned insn_off;      /* where the instruction under test goes */
};

struct alu_emit {
    uint8_t *p;
};

static inline void alu_b(struct alu_emit *e, unsigned v) { *e->p++ = (uint8_t)v; }
static inline void alu_d(struct alu_emit *e, uint32_t v)
{
    memcpy(e->p, &v, 4);
    e->p += 4;
}

/* Map the page range and write the fixed code.  Returns 0 or -1. */
static inline int alu_host_init(struct alu_host *h)
{
    void *p = mmap((void *)(uintptr_t)ALU_BASE, ALU_SPAN, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED || p != (void *)(uintptr_t)ALU_BASE)
        return -1;
    h->page = p;
    struct alu_emit e = { h->page };
    static const uint8_t push_regs[] = { 0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57 };
    memcpy(e.p, push_regs, sizeof push_regs);
    e.p += sizeof push_regs;
    alu_b(&e, 0x48), alu_b(&e, 0x89), alu_b(&e, 0x24), alu_b(&e, 0x25), alu_d(&e, ALU_SAVE_RSP);
    alu_b(&e, 0xbc), alu_d(&e, ALU_STACK);        /* mov esp, imm32 */
    alu_b(&e, 0x6a), alu_b(&e, 0x23);              /* push 0x23 */
    alu_b(&e, 0x68), alu_d(&e, ALU_CODE32);        /* push code32 */
    alu_b(&e, 0x48), alu_b(&e, 0xcb);              /* retfq */

    e.p = h->page + (ALU_CODE32 - ALU_BASE);
    alu_b(&e, 0x16), alu_b(&e, 0x1f), alu_b(&e, 0x16), alu_b(&e, 0x07); /* DS = ES = SS */
    alu_b(&e, 0xff), alu_b(&e, 0x35), alu_d(&e, ALU_IN_FL);             /* push [in_fl] */
    alu_b(&e, 0x9d);                                                    /* popfd */
    for (unsigned r = 0; r < 8; r++) {
        if (r == 4)
            continue;
        alu_b(&e, 0x8b), alu_b(&e, 0x05 | r << 3), alu_d(&e, ALU_IN + 4 * r);
    }
    h->insn_off = (unsigned)(e.p - h->page);

    e.p = h->page + (ALU_BACK64 - ALU_BASE);
    alu_b(&e, 0x48), alu_b(&e, 0x8b), alu_b(&e, 0x24), alu_b(&e, 0x25), alu_d(&e, ALU_SAVE_RSP);
    static const uint8_t pop_regs[] = { 0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x5d, 0x5b, 0xc3 };
    memcpy(e.p, pop_regs, sizeof pop_regs);
    return 0;
}

static inline void alu_host_fini(struct alu_host *h)
{
    munmap(h->page, ALU_SPAN);
}

/* Place the instruction (followed by the epilogue) for the next run. */
static inline void alu_host_set_insn(struct alu_host *h, const uint8_t *code, unsigned len)
{
    struct alu_emit e = { h->page + h->insn_off };
    memcpy(e.p, code, len);
    e.p += len;
    alu_b(&e, 0x9c); /* pushfd */
    for (unsigned r = 0; r < 8; r++) {
        if (r == 4)
            continue;
        alu_b(&e, 0x89), alu_b(&e, 0x05 | r << 3), alu_d(&e, ALU_OUT + 4 * r);
    }
    alu_b(&e, 0x8f), alu_b(&e, 0x05), alu_d(&e, ALU_OUT_FL); /* pop [out_fl] */
    alu_b(&e, 0x6a), alu_b(&e, 0x33);                         /* push 0x33 */
    alu_b(&e, 0x68), alu_d(&e, ALU_BACK64);                   /* push back64 */
    alu_b(&e, 0xcb);                                          /* retf */
}

/* Run with registers r[8] (r[4] is ignored: ESP is ALU_STACK) and EFLAGS
 * `fl`; results in out[8] and *out_fl. */
static inline void alu_host_run(struct alu_host *h, const uint32_t r[8], uint32_t fl,
                                uint32_t out[8], uint32_t *out_fl)
{
    uint32_t *in = (uint32_t *)(uintptr_t)ALU_IN;
    memcpy(in, r, 32);
    in[8] = fl;
    void (*enter)(void) = (void (*)(void))(uintptr_t)h->page;
    __asm__ volatile("" ::: "memory");
    enter();
    __asm__ volatile("" ::: "memory");
    const uint32_t *o = (const uint32_t *)(uintptr_t)ALU_OUT;
    memcpy(out, o, 32);
    out[4] = ALU_STACK;
    *out_fl = o[8];
}

#endif
