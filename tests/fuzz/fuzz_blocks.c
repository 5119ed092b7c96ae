/*
 * libFuzzer harness: the block executor against the interpreter.
 *
 * Every input builds two identical machines; one runs with the block
 * executor attached (translate/block.h), the other interprets one
 * instruction at a time.  Without devices or interrupts both must retire
 * the same instructions and end in the same architectural state, so after
 * each of several cpu_run() chunks the harness compares the return value,
 * the general registers, EIP, EFLAGS, the segment registers (selector,
 * base, limit, attributes), CPL and mode, CR0/CR2/CR3/CR4, the halted and
 * shutdown state, the instruction count and all of RAM, and traps on the
 * first difference after printing it.
 *
 * The input layout is fuzz_cpu.c's (fuzz_machine.h), so its seeds serve
 * here.  Code that loops runs the same bytes again, which is what makes
 * blocks replay; code that stores into the repeated code exercises
 * invalidation.
 */
#include <stdio.h>

#include "fuzz_machine.h"
#include "translate/block.h"

/* fuzz_jit.c builds this harness again with translation on. */
#ifndef FUZZ_JIT
#define FUZZ_JIT 0
#endif

/* Uneven chunks, so budgets run out in the middle of blocks. */
static const u64 chunks[] = { 1, 3, 40, 7, 120, 1, 128 };

/* The two machines' buses (see struct bus). */
static struct bus *buses_get(void)
{
    static struct bus b[2];
    for (unsigned k = 0; k < 2; k++)
        if (!bus_wipe(&b[k]))
            return NULL;
    return b;
}

/* Report a divergence and stop: libFuzzer saves the input. */
#define DIVERGE(...)                                                          \
    do {                                                                      \
        fprintf(stderr, "fuzz_blocks: chunk %u: ", chunk);                    \
        fprintf(stderr, __VA_ARGS__);                                         \
        fputc('\n', stderr);                                                  \
        fprintf(stderr, "interpreter:\n");                                    \
        cpu_dump_state(a, stderr);                                            \
        fprintf(stderr, "blocks:\n");                                         \
        cpu_dump_state(b, stderr);                                            \
        __builtin_trap();                                                     \
    } while (0)

static void compare(struct cpu *a, struct cpu *b, enum cpu_exit ea, enum cpu_exit eb,
                    unsigned chunk)
{
    if (ea != eb)
        DIVERGE("cpu_run returned %d vs %d", ea, eb);
    for (unsigned r = 0; r < CPU_REG__COUNT; r++) {
        u32 va = cpu_get_reg(a, (enum cpu_reg)r), vb = cpu_get_reg(b, (enum cpu_reg)r);
        if (va != vb)
            DIVERGE("register %u: %08x vs %08x", r, va, vb);
    }
    for (unsigned s = 0; s < 6; s++) {
        const struct seg *sa = &a->seg[s], *sb = &b->seg[s];
        if (sa->sel != sb->sel || sa->base != sb->base || sa->limit != sb->limit ||
            sa->flags != sb->flags)
            DIVERGE("segment %u", s);
    }
    if (a->cpl != b->cpl || a->mode != b->mode)
        DIVERGE("CPL/mode %u/%x vs %u/%x", a->cpl, a->mode, b->cpl, b->mode);
    if (a->halted != b->halted || a->shutdown != b->shutdown)
        DIVERGE("halted/shutdown %d/%d vs %d/%d", a->halted, a->shutdown, b->halted, b->shutdown);
    if (cpu_icount(a) != cpu_icount(b))
        DIVERGE("icount %llu vs %llu", (unsigned long long)cpu_icount(a),
                (unsigned long long)cpu_icount(b));
    const u8 *ra = a->mmu->ram, *rb = b->mmu->ram;
    if (memcmp(ra, rb, RAM_SIZE) != 0) {
        u32 k = 0;
        while (ra[k] == rb[k])
            k++;
        DIVERGE("RAM at %06x: %02x vs %02x", k, ra[k], rb[k]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct spec s;
    spec_parse(&s, data, size);
    struct bus *bus = buses_get();
    if (!bus)
        return 0;
    struct cpu *a = cpu_new(bus[0].m, &bus[0].cnt, &bus[0].lg);
    struct cpu *b = cpu_new(bus[1].m, &bus[1].cnt, &bus[1].lg);
    struct blocks *blk = b ? blocks_attach(b, &bus[1].cnt) : NULL;
    if (FUZZ_JIT && blk && blocks_enable_jit(blk) < 0)
        __builtin_trap();
    if (!a || !blk) {
        cpu_free(a);
        cpu_free(b);
        return 0;
    }
    machine_setup(a, bus[0].m, &s);
    machine_setup(b, bus[1].m, &s);

    for (unsigned chunk = 0; chunk < sizeof chunks / sizeof chunks[0]; chunk++) {
        enum cpu_exit ea = cpu_run(a, chunks[chunk]);
        enum cpu_exit eb = cpu_run(b, chunks[chunk]);
        compare(a, b, ea, eb, chunk);
        if (ea == CPU_EXIT_SHUTDOWN || ea == CPU_EXIT_HALT)
            break;
        if (ea == CPU_EXIT_IDLE) {
            /* HLT with IF set: wake both with an NMI so delivery runs. */
            cpu_raise_nmi(a);
            cpu_raise_nmi(b);
        }
    }

    blocks_free(blk);
    cpu_free(a);
    cpu_free(b);
    return 0;
}
