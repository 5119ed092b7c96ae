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
 * The input layout is the one fuzz_cpu.c reads, so its seeds serve here:
 *
 *   byte 0      mode: bits 0-1 = 0 real mode, 1 flat 16-bit PM, 2 flat
 *               32-bit PM, 3 virtual-8086 under a flat 32-bit monitor (TSS
 *               at 0x2000, ring-0 stack at 0x9000); bit 2 = paging on
 *               (identity map, random PTE flags); bit 3 = CPL 3 (flat PM
 *               only); bits 4-5 IOPL; bit 6 = CR4.VME and CR4.PVI
 *   bytes 1-32  EAX..EDI
 *   bytes 33-36 EFLAGS (TF/VM cleared so the mode stays what byte 0 says)
 *   bytes 37-292  GDT contents (32 descriptors) at 0x1000
 *   bytes 293-548 IDT contents (32 gates) at 0x1100, also copied to the
 *               real-mode IVT at 0
 *   bytes 549-552 PTE flag pattern (paging only)
 *   rest        code, placed at 0x10000 (CS base) and repeated through the
 *               64 KiB after it, so jumps land on fuzzer-chosen bytes
 *
 * Missing header bytes read as zero.  Code that loops runs the same bytes
 * again, which is what makes blocks replay; code that stores into the
 * repeated code exercises invalidation.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cpu/cpu_state.h"
#include "cpu/flags.h"
#include "cpu/system.h"
#include "translate/block.h"

#define RAM_SIZE (2u << 20)
#define GDT_BASE 0x1000u
#define IDT_BASE 0x1100u
#define TSS_BASE 0x2000u
#define PD_BASE 0x3000u
#define PT_BASE 0x4000u
#define CODE_BASE 0x10000u
#define CODE_SPAN 0x10000u

/* Uneven chunks, so budgets run out in the middle of blocks. */
static const u64 chunks[] = { 1, 3, 40, 7, 120, 1, 128 };

struct cursor {
    const uint8_t *p;
    size_t n, off;
};

static uint8_t cur_byte(struct cursor *cu)
{
    return cu->off < cu->n ? cu->p[cu->off++] : (cu->off++, 0);
}

static uint32_t cur_u32(struct cursor *cu)
{
    uint32_t v = 0;
    for (unsigned k = 0; k < 4; k++)
        v |= (uint32_t)cur_byte(cu) << (8 * k);
    return v;
}

/* The machine state an input describes. */
struct spec {
    uint8_t mode;
    uint32_t regs[8];
    uint32_t eflags;
    uint8_t gdt[256], idt[256];
    uint32_t pte_flags;
    const uint8_t *code;
    size_t code_len;
};

static void spec_parse(struct spec *s, const uint8_t *data, size_t size)
{
    struct cursor cu = { data, size, 0 };
    s->mode = cur_byte(&cu);
    for (unsigned r = 0; r < 8; r++)
        s->regs[r] = cur_u32(&cu);
    s->eflags = cur_u32(&cu) & ~(EFLAGS_TF | EFLAGS_VM);
    for (unsigned k = 0; k < 256; k++)
        s->gdt[k] = cur_byte(&cu);
    for (unsigned k = 0; k < 256; k++)
        s->idt[k] = cur_byte(&cu);
    s->pte_flags = cur_u32(&cu);
    s->code = cu.off < size ? data + cu.off : NULL;
    s->code_len = cu.off < size ? size - cu.off : 0;
}

/*
 * One machine's bus, built once per process and wiped before every input
 * (building a bus walks 2^20 page slots, far more than a run costs).
 * libFuzzer's entry point has no context argument, so the two buses live
 * in a function-local static.  Every input gets zeroed RAM, cleared page
 * flags, dropped shadow state, a flushed TLB and a brand-new CPU (and
 * block cache), so runs do not depend on each other.
 */
struct bus {
    struct counters cnt;
    struct logger lg;
    struct mmu *m;
};

static struct bus *buses_get(void)
{
    static struct bus b[2];
    for (unsigned k = 0; k < 2; k++) {
        if (!b[k].m) {
            log_init(&b[k].lg);
            b[k].m = mmu_new(RAM_SIZE, &b[k].cnt, &b[k].lg);
            if (!b[k].m)
                return NULL;
        }
        struct mmu *m = b[k].m;
        memset(m->ram, 0, RAM_SIZE);
        for (u32 pfn = 0; pfn < RAM_SIZE >> PAGE_SHIFT; pfn++)
            m->page_flags[pfn] = PG_RAM;
        m->n_code_sub = 0;
        /* Few shadow contexts: cheap to drop, and eviction happens. */
        mmu_configure(m, MMU_SHADOW, 4);
        mmu_set_a20(m, true);
        mmu_flush_tlb(m);
    }
    return b;
}

/* Flat segments at the privilege level `dpl`, 32- or 16-bit. */
static void set_flat(struct cpu *c, bool big, unsigned dpl)
{
    u32 db = big ? DESC_DB | DESC_G : 0;
    u32 limit = big ? 0xffffffffu : 0xffffu;
    u32 dplf = (u32)dpl << 13;
    for (unsigned s = 0; s < 6; s++)
        seg_set(&c->seg[s], (u16)(0x10 | dpl), 0, limit, DESC_P | DESC_S | db | dplf | (0x3u << 8));
    seg_set(&c->seg[S_CS], (u16)(0x08 | dpl), CODE_BASE, limit,
            DESC_P | DESC_S | db | dplf | (0xbu << 8));
    c->cpl = (u8)dpl;
}

/* One page table identity-maps the first 4 MiB; the PTEs' low bits cycle
 * through the input's pattern, except that the tables and the code stay
 * mapped. */
static void build_paging(u8 *ram, u32 flags)
{
    u32 pde = PT_BASE | 0x7;
    memcpy(ram + PD_BASE, &pde, 4);
    for (u32 k = 0; k < 1024; k++) {
        u32 f = (flags >> ((k & 3) * 8)) & 0xff;
        if (k < 0x20)
            f |= 0x7;
        u32 pte = (k << 12) | f;
        memcpy(ram + PT_BASE + 4 * k, &pte, 4);
    }
}

/* Put the machine on bus `m` into the state `s` describes.  RAM is
 * written directly: a freshly wiped bus tracks no pages. */
static void machine_setup(struct cpu *c, struct mmu *m, const struct spec *s)
{
    memcpy(m->ram + GDT_BASE, s->gdt, sizeof s->gdt);
    memcpy(m->ram + IDT_BASE, s->idt, sizeof s->idt);
    memcpy(m->ram, s->idt, sizeof s->idt);
    if (s->code_len) {
        /* Repeat the code by doubling copies: a byte loop here would
         * dominate the run under coverage instrumentation. */
        u8 *span = m->ram + CODE_BASE;
        size_t have = s->code_len < CODE_SPAN ? s->code_len : CODE_SPAN;
        memcpy(span, s->code, have);
        while (have < CODE_SPAN) {
            size_t n = have < CODE_SPAN - have ? have : CODE_SPAN - have;
            memcpy(span + have, span, n);
            have += n;
        }
    }
    for (unsigned r = 0; r < 8; r++)
        c->r[r] = s->regs[r];

    unsigned kind = s->mode & 3;
    if (kind == 0) {
        seg_load_real(c, S_CS, CODE_BASE >> 4);
        c->eip = 0;
        c->idtr = (struct dtr){ 0, 0x3ff };
    } else {
        cpu_set_flat32(c, 0);
        set_flat(c, kind >= 2, (s->mode & 8) && kind != 3 ? 3 : 0);
        c->gdtr = (struct dtr){ GDT_BASE, 0xff };
        c->idtr = (struct dtr){ IDT_BASE, 0xff };
        if (s->mode & 4) {
            build_paging(m->ram, s->pte_flags);
            c->cr3 = PD_BASE;
            c->cr0 |= 1u << 31;
            mmu_set_paging(m, c->cr0, c->cr3, c->cr4);
        }
        if (s->mode & 0x40)
            c->cr4 |= CR4_VME | CR4_PVI;
        cpu_update_mode(c);
    }
    u32 eflags = (s->eflags & ~EFLAGS_IOPL) | ((u32)(s->mode >> 4) & 3) << 12;
    if (kind == 3) {
        /* The monitor's TSS: ring-0 stack for interrupts out of v86, and
         * an I/O bitmap offset from the input. */
        seg_set(&c->tr, 0x18, TSS_BASE, 0x2067, DESC_P | (0xbu << 8));
        memcpy(m->ram + TSS_BASE + 4, &(u32){ 0x9000 }, 4);
        memcpy(m->ram + TSS_BASE + 8, &(u32){ 0x10 }, 4);
        memcpy(m->ram + TSS_BASE + 0x66, s->idt, 2);
        eflags |= EFLAGS_VM;
    }
    cpu_write_eflags(c, eflags, ~0u);
    if (kind == 3) {
        for (unsigned sg = 0; sg < 6; sg++)
            seg_load_real(c, sg, sg == S_CS ? CODE_BASE >> 4 : (u16)(c->r[sg] >> 16));
        c->eip = 0;
    }
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
