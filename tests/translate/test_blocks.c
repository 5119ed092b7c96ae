/*
 * The block executor against its oracle, the one-instruction interpreter.
 *
 * Blocks are a cache: whatever they replay must be what the interpreter
 * would have done instruction by instruction.  Without devices or
 * interrupts, cpu_run() with the same budget must retire the same
 * instructions and leave the same architectural state, so every test here
 * builds two identical machines, attaches the block executor to one of
 * them, runs both in the same chunks and compares registers, EFLAGS,
 * segments, control registers, the instruction count and all of RAM after
 * each chunk.
 *
 * The random programs mix the instruction shapes compiled code is made of
 * (register and memory moves, ALU, shifts, stack, branches, loops, calls,
 * string instructions) with stores into their own code and random bytes,
 * in real mode, flat 32-bit protected mode and with paging.  Faults go to
 * handlers that count them and resume at the next checkpoint of the
 * program, so a program keeps running after it faults.  The directed cases
 * cover what a stale cache would get wrong: code modified inside a cached
 * block, code replaced by a string move, a page remapped under a cached
 * block, budgets that end in the middle of a block, and whether the cache
 * is used at all.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu_state.h"
#include "mmu/mmu.h"
#include "system.h"
#include "translate/block.h"

/* test_jit.c builds this file again with the translator on: the same
 * cases then check translated code against the interpreter. */
#ifndef BLOCKS_JIT
#define BLOCKS_JIT 0
#endif

#define RAM_SIZE (1u << 20)

/* Physical layout of the protected-mode machines. */
#define GDT_BASE 0x1000u
#define IDT_BASE 0x1800u
#define TSS_BASE 0x2000u
#define PD_BASE 0x3000u
#define PT_BASE 0x4000u
#define STUB_BASE 0x8000u   /* 256 fault stubs, 16 bytes each */
#define STUB_COMMON 0x9000u /* what every stub ends in */
#define PROG_BASE 0x10000u
#define PROG_MAX 0x3000u
#define DATA_BASE 0x20000u  /* the data area the programs address */
#define DATA_PTR (DATA_BASE + 0x400u) /* EBP: base of [ebp+disp] forms */
#define RESUME_ADDR 0x2f000u /* where a fault resumes (a code address) */
#define FAULT_CNT 0x2f100u   /* a dword per vector */
#define PASSES_ADDR 0x2f008u /* passes left through a random program */
#define STACK_TOP 0x30000u

/* Real mode: code at CS=0x1000, data and stack in 0x2000. */
#define RM_CS 0x1000u
#define RM_DS 0x2000u
#define RM_SP 0xf000u
#define RM_RESUME 0xe000u    /* CS-relative */
#define RM_FAULT_CNT 0xe100u /* CS-relative, a word per vector */
#define RM_PASSES 0xe008u    /* CS-relative */
#define PASSES 6u
#define RM_STUBS 0xf000u     /* CS-relative, 8 bytes each */
#define RM_COMMON 0xf800u

enum mode_kind { MK_REAL, MK_FLAT32, MK_PAGED };

struct mach {
    struct counters cnt;
    struct logger log;
    struct mmu *m;
    struct cpu *c;
    struct blocks *blk; /* NULL: the interpreter */
};

/* a: the interpreter (oracle); b: the block executor. */
struct pair {
    struct mach a, b;
};

/* ---- machines ---- */

static void mach_open(struct mach *x)
{
    memset(&x->cnt, 0, sizeof x->cnt);
    log_init(&x->log);
    x->m = mmu_new(RAM_SIZE, &x->cnt, &x->log);
    ck_assert_ptr_nonnull(x->m);
    x->c = NULL;
    x->blk = NULL;
}

/*
 * Bring the bus back to a fresh state (zeroed RAM, no tracked pages, no
 * cached translations) and give it a new CPU, so one pair serves many
 * programs without the cost of building a bus each time.
 */
static void mach_fresh(struct mach *x, bool blocks)
{
    blocks_free(x->blk);
    cpu_free(x->c);
    memset(x->m->ram, 0, RAM_SIZE);
    for (u32 pfn = 0; pfn < RAM_SIZE >> PAGE_SHIFT; pfn++)
        x->m->page_flags[pfn] = PG_RAM;
    mmu_configure(x->m, MMU_SHADOW, 64);
    mmu_set_a20(x->m, true);
    mmu_flush_tlb(x->m);
    memset(&x->cnt, 0, sizeof x->cnt);
    x->c = cpu_new(x->m, &x->cnt, &x->log);
    ck_assert_ptr_nonnull(x->c);
    x->blk = NULL;
    if (blocks) {
        x->blk = blocks_attach(x->c, &x->cnt);
        ck_assert_ptr_nonnull(x->blk);
        if (BLOCKS_JIT)
            ck_assert_int_eq(blocks_enable_jit(x->blk), 0);
    }
}

static void mach_close(struct mach *x)
{
    blocks_free(x->blk);
    cpu_free(x->c);
    mmu_free(x->m);
}

static void pair_open(struct pair *p)
{
    mach_open(&p->a);
    mach_open(&p->b);
}

static void pair_fresh(struct pair *p)
{
    mach_fresh(&p->a, false);
    mach_fresh(&p->b, true);
}

static void pair_close(struct pair *p)
{
    mach_close(&p->a);
    mach_close(&p->b);
}

static void put32(u8 *ram, u32 at, u32 v)
{
    memcpy(ram + at, &v, 4);
}

static void put16(u8 *ram, u32 at, u16 v)
{
    memcpy(ram + at, &v, 2);
}

/*
 * Flat 32-bit protected mode at CPL 0 with a GDT (0x08 code, 0x10 data),
 * an IDT of 256 interrupt gates to counting stubs, and optionally paging
 * with an identity map of the first 4 MiB.  RAM is written directly: a
 * fresh bus tracks no pages.
 */
static void setup_pm(struct mach *x, u32 eip, bool paging)
{
    u8 *ram = x->m->ram;
    struct cpu *c = x->c;
    put32(ram, GDT_BASE + 8, 0x0000ffffu);
    put32(ram, GDT_BASE + 12, 0x00cf9b00u);
    put32(ram, GDT_BASE + 16, 0x0000ffffu);
    put32(ram, GDT_BASE + 20, 0x00cf9300u);
    for (u32 v = 0; v < 256; v++) {
        u32 stub = STUB_BASE + 16 * v;
        put32(ram, IDT_BASE + 8 * v, (stub & 0xffff) | 0x08u << 16);
        put32(ram, IDT_BASE + 8 * v + 4, (stub & 0xffff0000u) | 0x8e00u);
        /* inc dword [FAULT_CNT + 4v]; jmp STUB_COMMON */
        ram[stub] = 0xff;
        ram[stub + 1] = 0x05;
        put32(ram, stub + 2, FAULT_CNT + 4 * v);
        ram[stub + 6] = 0xe9;
        put32(ram, stub + 7, STUB_COMMON - (stub + 11));
    }
    /* mov esp, STACK_TOP; jmp [RESUME_ADDR] */
    ram[STUB_COMMON] = 0xbc;
    put32(ram, STUB_COMMON + 1, STACK_TOP);
    ram[STUB_COMMON + 5] = 0xff;
    ram[STUB_COMMON + 6] = 0x25;
    put32(ram, STUB_COMMON + 7, RESUME_ADDR);

    /* A TSS with the ring-0 stack, for faults taken at CPL 3. */
    put32(ram, TSS_BASE + 4, STACK_TOP);
    put32(ram, TSS_BASE + 8, 0x10);

    cpu_set_flat32(c, eip);
    seg_set(&c->tr, 0x18, TSS_BASE, 0x67, DESC_P | (0xbu << 8));
    cpu_set_gdtr(c, GDT_BASE, 0x17);
    c->idtr = (struct dtr){ IDT_BASE, 0x7ff };
    c->r[R_ESP] = STACK_TOP;
    if (paging) {
        put32(ram, PD_BASE, PT_BASE | 0x7);
        for (u32 k = 0; k < 1024; k++)
            put32(ram, PT_BASE + 4 * k, k << 12 | 0x7);
        c->cr3 = PD_BASE;
        c->cr0 |= 1u << 31;
        mmu_set_paging(x->m, c->cr0, c->cr3, c->cr4);
        cpu_update_mode(c);
    }
}

/* Real mode: CS = RM_CS, the data segments and SS = RM_DS, an IVT of
 * counting stubs that resume at the word at CS:RM_RESUME. */
static void setup_real(struct mach *x, u16 ip)
{
    u8 *ram = x->m->ram;
    struct cpu *c = x->c;
    const u32 cs_base = RM_CS << 4;
    for (u32 v = 0; v < 256; v++) {
        u32 off = RM_STUBS + 8 * v;
        put32(ram, 4 * v, off | RM_CS << 16);
        /* inc word [cs:RM_FAULT_CNT + 2v]; jmp RM_COMMON */
        ram[cs_base + off] = 0x2e;
        ram[cs_base + off + 1] = 0xff;
        ram[cs_base + off + 2] = 0x06;
        put16(ram, cs_base + off + 3, (u16)(RM_FAULT_CNT + 2 * v));
        ram[cs_base + off + 5] = 0xe9;
        put16(ram, cs_base + off + 6, (u16)(RM_COMMON - (off + 8)));
    }
    /* mov sp, RM_SP; jmp [cs:RM_RESUME] */
    const u8 common[] = { 0xbc, RM_SP & 0xff, RM_SP >> 8, 0x2e, 0xff, 0x26,
                          RM_RESUME & 0xff, RM_RESUME >> 8 };
    memcpy(ram + cs_base + RM_COMMON, common, sizeof common);
    seg_load_real(c, S_CS, RM_CS);
    for (unsigned s = 0; s < 6; s++)
        if (s != S_CS)
            seg_load_real(c, s, RM_DS);
    c->idtr = (struct dtr){ 0, 0x3ff };
    c->eip = ip;
    c->r[R_ESP] = RM_SP;
}

/* ---- comparison ---- */

static const char *const reg_name[CPU_REG__COUNT] = {
    "EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI", "EIP", "EFLAGS",
    "ES", "CS", "SS", "DS", "FS", "GS", "CR0", "CR2", "CR3", "CR4",
};

/*
 * Compare everything architectural.  `ctx` names the case (and the seed)
 * in the failure message.
 */
static void pair_compare(struct pair *p, const char *ctx, enum cpu_exit ea, enum cpu_exit eb)
{
    const struct cpu *a = p->a.c, *b = p->b.c;
    ck_assert_msg(ea == eb, "%s: cpu_run returned %d (interpreter) vs %d (blocks)", ctx, ea, eb);
    for (unsigned r = 0; r < CPU_REG__COUNT; r++) {
        u32 va = cpu_get_reg(a, r), vb = cpu_get_reg(b, r);
        ck_assert_msg(va == vb, "%s: %s %08x (interpreter) vs %08x (blocks), EIP %08x vs %08x", ctx,
                      reg_name[r], va, vb, a->eip, b->eip);
    }
    for (unsigned s = 0; s < 6; s++) {
        const struct seg *sa = &a->seg[s], *sb = &b->seg[s];
        ck_assert_msg(sa->sel == sb->sel && sa->base == sb->base && sa->limit == sb->limit &&
                          sa->flags == sb->flags,
                      "%s: segment %s differs: %04x/%08x/%08x/%08x vs %04x/%08x/%08x/%08x", ctx,
                      reg_name[CPU_ES + s], sa->sel, sa->base, sa->limit, sa->flags, sb->sel,
                      sb->base, sb->limit, sb->flags);
    }
    ck_assert_msg(a->cpl == b->cpl && a->mode == b->mode, "%s: CPL/mode %u/%x vs %u/%x", ctx,
                  a->cpl, a->mode, b->cpl, b->mode);
    ck_assert_msg(a->halted == b->halted && a->shutdown == b->shutdown,
                  "%s: halted/shutdown %d/%d vs %d/%d", ctx, a->halted, a->shutdown, b->halted,
                  b->shutdown);
    ck_assert_msg(cpu_icount(a) == cpu_icount(b), "%s: icount %llu vs %llu", ctx,
                  (unsigned long long)cpu_icount(a), (unsigned long long)cpu_icount(b));
    if (memcmp(p->a.m->ram, p->b.m->ram, RAM_SIZE) != 0) {
        u32 k = 0;
        while (p->a.m->ram[k] == p->b.m->ram[k])
            k++;
        ck_abort_msg("%s: RAM differs first at %05x: %02x (interpreter) vs %02x (blocks)", ctx, k,
                     p->a.m->ram[k], p->b.m->ram[k]);
    }
}

/* Run both machines with the same budgets, comparing after each. */
static void pair_run(struct pair *p, const char *ctx, const u64 *budgets, unsigned n)
{
    char msg[160];
    for (unsigned k = 0; k < n; k++) {
        enum cpu_exit ea = cpu_run(p->a.c, budgets[k]);
        enum cpu_exit eb = cpu_run(p->b.c, budgets[k]);
        snprintf(msg, sizeof msg, "%s, chunk %u (budget %llu)", ctx, k,
                 (unsigned long long)budgets[k]);
        pair_compare(p, msg, ea, eb);
        if (ea == CPU_EXIT_SHUTDOWN || ea == CPU_EXIT_HALT)
            break;
    }
}

/* ---- random programs ---- */

#define MAX_TEMPLATES 256u
#define MAX_FIX 512u

/* A forward branch: rel8 at `at`, aimed at the start of template `target`. */
struct fixup {
    u32 at;
    unsigned target;
};

struct gen {
    u64 rng;
    bool b32;          /* 32-bit code (else 16-bit real mode) */
    u32 base;          /* EIP of buf[0] */
    u8 buf[PROG_MAX];
    u32 len;
    u32 tstart[MAX_TEMPLATES + 1]; /* template starts: the branch targets */
    unsigned nt;
    struct fixup fix[MAX_FIX];
    unsigned nfix;
    u32 ckpt_at;       /* offset of the last checkpoint's resume operand */
    unsigned avoid;    /* registers the current template must not write */
};

static u32 rnd(struct gen *g)
{
    /* xorshift64*: small, seedable, the same on every host. */
    g->rng ^= g->rng >> 12;
    g->rng ^= g->rng << 25;
    g->rng ^= g->rng >> 27;
    return (u32)((g->rng * 0x2545f4914f6cdd1dull) >> 32);
}

static u32 below(struct gen *g, u32 n)
{
    return rnd(g) % n;
}

static void b8(struct gen *g, u32 v)
{
    if (g->len < PROG_MAX)
        g->buf[g->len++] = (u8)v;
}

static void b16(struct gen *g, u32 v)
{
    b8(g, v);
    b8(g, v >> 8);
}

static void b32(struct gen *g, u32 v)
{
    b16(g, v);
    b16(g, v >> 16);
}

/* An immediate of the current operand size `sz` (2 or 4). */
static void bimm(struct gen *g, unsigned sz, u32 v)
{
    if (sz == 4)
        b32(g, v);
    else
        b16(g, v);
}

/* A register the template may write: never ESP, never EBP in 32-bit code
 * (it points at the data area), never one in `avoid`. */
static unsigned pick_dst(struct gen *g)
{
    for (;;) {
        unsigned r = below(g, 8);
        if (r == R_ESP || (g->b32 && r == R_EBP) || (g->avoid & 1u << r))
            continue;
        return r;
    }
}

/* A memory operand: ModRM (with reg = 0) and what follows it. */
struct memop {
    u8 b[8];
    unsigned n;
};

/*
 * Choose a memory operand that stays inside the data area.  32-bit forms
 * are absolute, EBP-based or EBP plus an index register; the index is
 * masked by an AND emitted here first.  16-bit forms may be anything: the
 * data segment is 64 KiB of RAM.
 */
static void pick_mem(struct gen *g, struct memop *mo)
{
    mo->n = 0;
    if (!g->b32) {
        unsigned rm = below(g, 8);
        switch (below(g, 4)) {
        case 0: /* [disp16] */
            mo->b[mo->n++] = 0x06;
            mo->b[mo->n++] = (u8)rnd(g);
            mo->b[mo->n++] = (u8)rnd(g);
            break;
        case 1:
            mo->b[mo->n++] = (u8)(0x40 | rm);
            mo->b[mo->n++] = (u8)rnd(g);
            break;
        case 2:
            mo->b[mo->n++] = (u8)(0x80 | rm);
            mo->b[mo->n++] = (u8)rnd(g);
            mo->b[mo->n++] = (u8)rnd(g);
            break;
        default:
            mo->b[mo->n++] = (u8)(rm == 6 ? 7 : rm);
            break;
        }
        return;
    }
    u32 d;
    switch (below(g, 4)) {
    case 0: /* [disp32] */
        d = DATA_BASE + below(g, 0xff0);
        mo->b[mo->n++] = 0x05;
        memcpy(&mo->b[mo->n], &d, 4);
        mo->n += 4;
        break;
    case 1: /* [ebp+disp8] */
        mo->b[mo->n++] = 0x45;
        mo->b[mo->n++] = (u8)rnd(g);
        break;
    case 2: /* [ebp+disp32] */
        d = below(g, 0x600) - 0x300;
        mo->b[mo->n++] = 0x85;
        memcpy(&mo->b[mo->n], &d, 4);
        mo->n += 4;
        break;
    default: { /* [ebp+index*scale+disp8] */
        unsigned idx = pick_dst(g);
        if (below(g, 8) == 0)
            idx = 4; /* no index */
        else {
            b8(g, 0x83); /* and idx, 0x3f */
            b8(g, 0xe0 | idx);
            b8(g, 0x3f);
        }
        mo->b[mo->n++] = 0x44;
        mo->b[mo->n++] = (u8)(below(g, 4) << 6 | idx << 3 | R_EBP);
        mo->b[mo->n++] = (u8)rnd(g);
        break;
    }
    }
}

/* ModRM for `reg` with either a register (`rm` < 8) or the memory operand. */
static void modrm(struct gen *g, unsigned reg, bool mem, unsigned rm, const struct memop *mo)
{
    if (!mem) {
        b8(g, 0xc0 | reg << 3 | rm);
        return;
    }
    b8(g, mo->b[0] | reg << 3);
    for (unsigned k = 1; k < mo->n; k++)
        b8(g, mo->b[k]);
}

/*
 * An r/m operand: either a destination register or memory.  Emits any
 * masking instruction first, so call it before the opcode bytes.
 */
struct rm_op {
    bool mem;
    unsigned rm;
    struct memop mo;
};

static void pick_rm(struct gen *g, struct rm_op *o)
{
    o->mem = below(g, 2);
    o->rm = pick_dst(g);
    if (o->mem)
        pick_mem(g, &o->mo);
}

/* Maybe an operand-size prefix; returns the operand size in force. */
static unsigned opsize(struct gen *g)
{
    bool flip = below(g, 6) == 0;
    if (flip)
        b8(g, 0x66);
    return g->b32 != flip ? 4 : 2;
}

/* Instructions without control flow; `simple` also leaves out the stack
 * and string ones, for loop and call bodies. */
static void gen_plain(struct gen *g, bool simple)
{
    struct rm_op o;
    unsigned sz, r;
    switch (below(g, simple ? 12 : 17)) {
    case 0: /* mov r/m,r or r,r/m, byte or full; mov with moffs */
        if (below(g, 4) == 0) {
            opsize(g);
            b8(g, 0xa0 | below(g, 4));
            if (g->b32)
                b32(g, DATA_BASE + below(g, 0xff0));
            else
                b16(g, rnd(g));
            break;
        }
        pick_rm(g, &o);
        opsize(g);
        if (below(g, 2)) {
            b8(g, 0x88 | below(g, 2));
            modrm(g, below(g, 8), o.mem, o.rm, &o.mo);
        } else {
            b8(g, 0x8a | below(g, 2));
            modrm(g, pick_dst(g), o.mem, below(g, 8), &o.mo);
        }
        break;
    case 1: /* mov r,imm / mov r/m,imm */
        if (below(g, 2)) {
            sz = opsize(g);
            b8(g, 0xb8 | pick_dst(g));
            bimm(g, sz, rnd(g));
        } else {
            pick_rm(g, &o);
            sz = opsize(g);
            bool byte = below(g, 2);
            b8(g, byte ? 0xc6 : 0xc7);
            modrm(g, 0, o.mem, o.rm, &o.mo);
            if (byte)
                b8(g, rnd(g));
            else
                bimm(g, sz, rnd(g));
        }
        break;
    case 2: { /* ALU, the six classic forms */
        unsigned op = below(g, 8), form = below(g, 6);
        pick_rm(g, &o);
        sz = opsize(g);
        b8(g, op << 3 | form);
        if (form < 2)
            modrm(g, below(g, 8), o.mem, o.rm, &o.mo);
        else if (form < 4)
            modrm(g, pick_dst(g), o.mem, below(g, 8), &o.mo);
        else if (form == 4)
            b8(g, rnd(g));
        else
            bimm(g, sz, rnd(g));
        break;
    }
    case 3: /* group 1 with an immediate */
        pick_rm(g, &o);
        sz = opsize(g);
        r = below(g, 3);
        b8(g, 0x80 | (r == 2 ? 3 : r));
        modrm(g, below(g, 8), o.mem, o.rm, &o.mo);
        if (r == 1)
            bimm(g, sz, rnd(g));
        else
            b8(g, rnd(g));
        break;
    case 4: /* inc/dec */
        if (below(g, 2)) {
            opsize(g);
            b8(g, (below(g, 2) ? 0x40 : 0x48) | pick_dst(g));
        } else {
            pick_rm(g, &o);
            opsize(g);
            b8(g, 0xfe | below(g, 2));
            modrm(g, below(g, 2), o.mem, o.rm, &o.mo);
        }
        break;
    case 5: /* shifts and rotates by 1, CL or an immediate */
        pick_rm(g, &o);
        opsize(g);
        r = below(g, 3);
        b8(g, (r == 0 ? 0xc0 : r == 1 ? 0xd0 : 0xd2) | below(g, 2));
        modrm(g, below(g, 8), o.mem, o.rm, &o.mo);
        if (r == 0)
            b8(g, below(g, 40));
        break;
    case 6: { /* lea */
        struct memop mo;
        pick_mem(g, &mo);
        opsize(g);
        b8(g, 0x8d);
        modrm(g, pick_dst(g), true, 0, &mo);
        break;
    }
    case 7: /* movzx/movsx */
        pick_rm(g, &o);
        opsize(g);
        b8(g, 0x0f);
        b8(g, 0xb6 | below(g, 2) | (below(g, 2) << 3));
        modrm(g, pick_dst(g), o.mem, o.rm, &o.mo);
        break;
    case 8: /* imul forms */
        pick_rm(g, &o);
        sz = opsize(g);
        r = below(g, 3);
        if (r == 0) {
            b8(g, 0x0f);
            b8(g, 0xaf);
            modrm(g, pick_dst(g), o.mem, o.rm, &o.mo);
        } else {
            b8(g, r == 1 ? 0x6b : 0x69);
            modrm(g, pick_dst(g), o.mem, o.rm, &o.mo);
            if (r == 1)
                b8(g, rnd(g));
            else
                bimm(g, sz, rnd(g));
        }
        break;
    case 9: /* cmov */
        pick_rm(g, &o);
        opsize(g);
        b8(g, 0x0f);
        b8(g, 0x40 | below(g, 16));
        modrm(g, pick_dst(g), o.mem, o.rm, &o.mo);
        break;
    case 10: /* setcc */
        pick_rm(g, &o);
        b8(g, 0x0f);
        b8(g, 0x90 | below(g, 16));
        modrm(g, 0, o.mem, o.rm, &o.mo);
        break;
    case 11: /* xchg, neg/not/mul, bswap, flag instructions */
        switch (below(g, 5)) {
        case 0:
            pick_rm(g, &o);
            opsize(g);
            b8(g, 0x86 | below(g, 2));
            modrm(g, pick_dst(g), o.mem, o.rm, &o.mo);
            break;
        case 1:
            opsize(g);
            b8(g, 0x90 | pick_dst(g));
            break;
        case 2:
            if (g->avoid & (1u << R_EDX | 1u << R_EAX))
                break;
            pick_rm(g, &o);
            opsize(g);
            b8(g, 0xf6 | below(g, 2));
            /* not, neg, mul, imul; div and idiv are rarer (they fault) */
            r = below(g, 16);
            modrm(g, r < 14 ? 2 + r % 4 : 6 + r % 2, o.mem, o.rm, &o.mo);
            break;
        case 3:
            b8(g, 0x0f);
            b8(g, 0xc8 | pick_dst(g));
            break;
        default: {
            static const u8 fl[] = { 0xf8, 0xf9, 0xf5, 0xfc, 0xfd, 0x9e, 0x9f, 0x98, 0x99 };
            unsigned k = below(g, sizeof fl);
            if (fl[k] == 0x99 && (g->avoid & 1u << R_EDX))
                break; /* cdq writes EDX */
            b8(g, fl[k]);
            break;
        }
        }
        break;
    case 12: /* push then pop */
        r = below(g, 4);
        if (r == 0) {
            b8(g, 0x50 | below(g, 8));
        } else if (r == 1) {
            sz = g->b32 ? 4 : 2;
            if (below(g, 2)) {
                b8(g, 0x68);
                bimm(g, sz, rnd(g));
            } else {
                b8(g, 0x6a);
                b8(g, rnd(g));
            }
        } else if (r == 2) {
            struct memop mo;
            pick_mem(g, &mo);
            b8(g, 0xff);
            modrm(g, 6, true, 0, &mo);
        } else {
            b8(g, 0x9c); /* pushf; pop r */
        }
        if (below(g, 4)) {
            b8(g, 0x58 | pick_dst(g));
        } else {
            struct memop mo;
            pick_mem(g, &mo);
            b8(g, 0x8f);
            modrm(g, 0, true, 0, &mo);
        }
        break;
    case 13: /* string instructions with small counts */
        if (g->b32) {
            b8(g, 0xbe);
            b32(g, DATA_BASE + 0x100 + below(g, 0x600));
            b8(g, 0xbf);
            b32(g, DATA_BASE + 0x100 + below(g, 0x600));
            b8(g, 0xb9);
            b32(g, below(g, 17));
        } else {
            b8(g, 0xbe);
            b16(g, rnd(g));
            b8(g, 0xbf);
            b16(g, rnd(g));
            b8(g, 0xb9);
            b16(g, below(g, 17));
        }
        if (below(g, 3) == 0)
            b8(g, below(g, 2) ? 0xfc : 0xfd);
        r = below(g, 4);
        if (r)
            b8(g, r == 1 ? 0xf2 : 0xf3);
        {
            static const u8 so[] = { 0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf };
            opsize(g);
            b8(g, so[below(g, sizeof so)]);
        }
        break;
    case 14: /* bit tests with an immediate */
        pick_rm(g, &o);
        opsize(g);
        b8(g, 0x0f);
        b8(g, 0xba);
        modrm(g, 4 + below(g, 4), o.mem, o.rm, &o.mo);
        b8(g, rnd(g));
        break;
    case 15: /* a store into the program's own code */
        if (below(g, 3))
            break;
        if (g->b32) {
            b8(g, 0xc6);
            b8(g, 0x05);
            b32(g, g->base + below(g, g->len + 64));
        } else {
            b8(g, 0x2e);
            b8(g, 0xc6);
            b8(g, 0x06);
            b16(g, g->base + below(g, g->len + 64));
        }
        b8(g, rnd(g));
        break;
    default: /* random bytes */
        for (unsigned k = 1 + below(g, 6); k; k--)
            b8(g, rnd(g));
        break;
    }
}

/* A forward conditional (or unconditional) branch to a later template. */
static void gen_branch(struct gen *g)
{
    struct rm_op o;
    unsigned r;
    pick_rm(g, &o);
    opsize(g);
    b8(g, below(g, 2) ? 0x39 : 0x85); /* cmp or test r/m, r */
    modrm(g, below(g, 8), o.mem, o.rm, &o.mo);
    r = below(g, 10);
    b8(g, r < 8 ? 0x70 | below(g, 16) : r == 8 ? 0xeb : 0xe3); /* Jcc, JMP, JeCXZ */
    if (g->nfix < MAX_FIX)
        g->fix[g->nfix++] = (struct fixup){ g->len, g->nt + 1 + below(g, 6) };
    b8(g, 0);
}

/* A counted loop (LOOP on ECX, or DEC/JNZ on EDX) around a short body. */
static void gen_loop(struct gen *g)
{
    bool use_loop = below(g, 2);
    unsigned r = use_loop ? R_ECX : R_EDX;
    b8(g, 0xb8 | r);
    bimm(g, g->b32 ? 4 : 2, 1 + below(g, 6));
    u32 top = g->len;
    g->avoid = 1u << r;
    for (unsigned k = 1 + below(g, 3); k; k--)
        gen_plain(g, true);
    g->avoid = 0;
    if (!use_loop)
        b8(g, 0x48 | r);
    b8(g, use_loop ? 0xe2 : 0x75);
    i32 rel = (i32)top - (i32)(g->len + 1);
    b8(g, rel >= -128 ? (u32)rel : 0xfe); /* a too-long body spins to the budget */
}

/* call over a jmp into a short body ending in ret. */
static void gen_call(struct gen *g)
{
    if (g->b32) {
        b8(g, 0xe8);
        b32(g, 2);
    } else {
        b8(g, 0xe8);
        b16(g, 2);
    }
    b8(g, 0xeb);
    u32 rel_at = g->len;
    b8(g, 0);
    for (unsigned k = 1 + below(g, 3); k; k--)
        gen_plain(g, true);
    b8(g, 0xc3);
    u32 d = g->len - (rel_at + 1);
    if (rel_at < PROG_MAX)
        g->buf[rel_at] = (u8)(d < 128 ? d : 0);
}

/* Set the resume point of the previous checkpoint to here, and emit a
 * checkpoint whose resume point the next one fills in. */
static void gen_checkpoint(struct gen *g)
{
    u32 here = g->base + g->len;
    if (g->ckpt_at) {
        if (g->b32)
            memcpy(&g->buf[g->ckpt_at], &here, 4);
        else
            memcpy(&g->buf[g->ckpt_at], &(u16){ (u16)here }, 2);
    }
    if (g->b32) {
        b8(g, 0xc7); /* mov dword [RESUME_ADDR], imm32 */
        b8(g, 0x05);
        b32(g, RESUME_ADDR);
        g->ckpt_at = g->len;
        b32(g, 0);
    } else {
        b8(g, 0x2e); /* mov word [cs:RM_RESUME], imm16 */
        b8(g, 0xc7);
        b8(g, 0x06);
        b16(g, RM_RESUME);
        g->ckpt_at = g->len;
        b16(g, 0);
    }
}

/* Generate a program of `n` templates ending in HLT. */
static void gen_program(struct gen *g, unsigned n)
{
    g->len = 0;
    g->nt = 0;
    g->nfix = 0;
    g->ckpt_at = 0;
    g->avoid = 0;
    if (g->b32) {
        b8(g, 0xbd); /* mov ebp, DATA_PTR */
        b32(g, DATA_PTR);
    }
    gen_checkpoint(g);
    for (unsigned k = 0; k < n && g->len < PROG_MAX - 256; k++) {
        g->tstart[g->nt++] = g->len;
        switch (below(g, 12)) {
        case 0: case 1: gen_branch(g); break;
        case 2: gen_loop(g); break;
        case 3: gen_call(g); break;
        case 4: gen_checkpoint(g); break;
        default: gen_plain(g, false); break;
        }
    }
    g->tstart[g->nt] = g->len;
    gen_checkpoint(g);
    u32 end = g->base + g->len;
    if (g->b32)
        memcpy(&g->buf[g->ckpt_at], &end, 4);
    else
        memcpy(&g->buf[g->ckpt_at], &(u16){ (u16)end }, 2);
    /* Run the whole program several times, so most of it replays from
     * blocks recorded in an earlier pass, with other register values. */
    if (g->b32) {
        b8(g, 0xff); /* dec dword [PASSES_ADDR] */
        b8(g, 0x0d);
        b32(g, PASSES_ADDR);
        b8(g, 0x0f); /* jnz start */
        b8(g, 0x85);
        b32(g, -(g->len + 4));
    } else {
        b8(g, 0x2e); /* dec word [cs:RM_PASSES] */
        b8(g, 0xff);
        b8(g, 0x0e);
        b16(g, RM_PASSES);
        b8(g, 0x0f); /* jnz start */
        b8(g, 0x85);
        b16(g, -(g->len + 2));
    }
    b8(g, 0xf4);
    for (unsigned k = 0; k < g->nfix; k++) {
        const struct fixup *f = &g->fix[k];
        u32 to = g->tstart[f->target < g->nt ? f->target : g->nt];
        i32 rel = (i32)to - (i32)(f->at + 1);
        g->buf[f->at] = (u8)(rel >= -128 && rel <= 127 ? rel : 0);
    }
}

/* Load the program and random registers into both machines of `p`. */
static void load_program(struct pair *p, enum mode_kind mk, struct gen *g)
{
    u32 regs[8];
    for (unsigned r = 0; r < 8; r++)
        regs[r] = rnd(g);
    struct mach *ms[2] = { &p->a, &p->b };
    for (unsigned k = 0; k < 2; k++) {
        struct mach *x = ms[k];
        if (mk == MK_REAL) {
            setup_real(x, 0);
            memcpy(x->m->ram + (RM_CS << 4), g->buf, g->len);
        } else {
            setup_pm(x, PROG_BASE, mk == MK_PAGED);
            memcpy(x->m->ram + PROG_BASE, g->buf, g->len);
        }
        for (unsigned r = 0; r < 8; r++)
            if (r != R_ESP)
                x->c->r[r] = regs[r];
        if (mk == MK_REAL)
            put16(x->m->ram, (RM_CS << 4) + RM_PASSES, PASSES);
        else
            put32(x->m->ram, PASSES_ADDR, PASSES);
        /* Some data to move around. */
        for (u32 at = 0; at < 0x1000; at += 4)
            put32(x->m->ram, DATA_BASE + at, at * 0x9e3779b1u);
    }
}

static void random_programs(enum mode_kind mk, u64 first_seed, unsigned count)
{
    static const u64 budgets[] = { 1, 7, 50, 300, 2, 13, 1000, 5, 600 };
    static const char *const mode_name[] = { "real mode", "flat32", "paged" };
    struct pair p;
    struct gen *g = malloc(sizeof *g);
    ck_assert_ptr_nonnull(g);
    pair_open(&p);
    u64 replayed = 0, retired = 0, translated = 0;
    for (unsigned k = 0; k < count; k++) {
        u64 seed = first_seed + k;
        char ctx[96];
        snprintf(ctx, sizeof ctx, "%s seed %llu", mode_name[mk], (unsigned long long)seed);
        memset(g, 0, sizeof *g);
        g->rng = seed * 0x9e3779b97f4a7c15ull + 1;
        g->b32 = mk != MK_REAL;
        g->base = mk == MK_REAL ? 0 : PROG_BASE;
        gen_program(g, 20 + below(g, 60));
        pair_fresh(&p);
        load_program(&p, mk, g);
        pair_run(&p, ctx, budgets, sizeof budgets / sizeof budgets[0]);
        blocks_sync_counters(p.b.blk);
        replayed += p.b.cnt.v[CNT_blk_block_insns] + p.b.cnt.v[CNT_blk_jit_insns];
        translated += p.b.cnt.v[CNT_blk_jit_insns];
        retired += cpu_icount(p.b.c);
    }
    /* The comparison means little unless much of the code was replayed
     * from cached blocks (about two thirds is typical), and, with the
     * translator on, run as host code. */
    ck_assert_msg(replayed * 3 > retired, "%s: only %llu of %llu instructions replayed",
                  mode_name[mk], (unsigned long long)replayed, (unsigned long long)retired);
    if (BLOCKS_JIT)
        ck_assert_msg(translated * 4 > retired, "%s: only %llu of %llu instructions translated",
                      mode_name[mk], (unsigned long long)translated,
                      (unsigned long long)retired);
    pair_close(&p);
    free(g);
}

START_TEST(random_flat32)
{
    random_programs(MK_FLAT32, 1000, 400);
}
END_TEST

START_TEST(random_real)
{
    random_programs(MK_REAL, 2000, 400);
}
END_TEST

START_TEST(random_paged)
{
    random_programs(MK_PAGED, 3000, 400);
}
END_TEST

/* ---- directed cases ---- */

/* Both machines in flat 32-bit PM (optionally paged) running `code`. */
static void directed_setup(struct pair *p, const u8 *code, size_t n, bool paging)
{
    pair_fresh(p);
    struct mach *ms[2] = { &p->a, &p->b };
    for (unsigned k = 0; k < 2; k++) {
        setup_pm(ms[k], PROG_BASE, paging);
        for (unsigned r = 0; r < 8; r++)
            if (r != R_ESP)
                ms[k]->c->r[r] = 0;
        memcpy(ms[k]->m->ram + PROG_BASE, code, n);
        put32(ms[k]->m->ram, RESUME_ADDR, PROG_BASE + (u32)n - 1); /* the final HLT */
    }
}

static void run_until_halt(struct pair *p, const char *ctx)
{
    static const u64 budgets[] = { 3, 1, 17, 64, 1000, 5000, 20000 };
    pair_run(p, ctx, budgets, sizeof budgets / sizeof budgets[0]);
    ck_assert_msg(p->b.c->halted, "%s: did not reach HLT (EIP %08x)", ctx, p->b.c->eip);
}

/* Run to HLT and check that no exception was raised on the way. */
static void run_to_halt(struct pair *p, const char *ctx)
{
    run_until_halt(p, ctx);
    for (u32 v = 0; v < 32; v++) {
        u32 n;
        memcpy(&n, p->b.m->ram + FAULT_CNT + 4 * v, 4);
        ck_assert_msg(n == 0, "%s: vector %u raised %u times", ctx, v, n);
    }
}

/*
 * A store into the very next instruction of a straight-line block that is
 * already cached: the stored immediate must be what runs, every pass.
 *
 *   L:     mov [imm], bl        ; the next instruction's immediate
 *   imm-1: mov al, 0
 *          add edx, eax
 *          inc ebx
 *          dec ecx
 *          jnz L
 *          hlt
 */
START_TEST(smc_next_instruction)
{
    const u32 imm = PROG_BASE + 16 + 6 + 1;
    const u8 code[] = {
        0xb9, 5, 0, 0, 0,               /* mov ecx, 5 */
        0xbb, 1, 0, 0, 0,               /* mov ebx, 1 */
        0x31, 0xd2,                     /* xor edx, edx */
        0x31, 0xc0,                     /* xor eax, eax */
        0x90, 0x90,                     /* (pad: L at +16) */
        0x88, 0x1d, (u8)imm, (u8)(imm >> 8), (u8)(imm >> 16), 0, /* mov [imm], bl */
        0xb0, 0x00,                     /* mov al, 0 */
        0x01, 0xc2,                     /* add edx, eax */
        0x43,                           /* inc ebx */
        0x49,                           /* dec ecx */
        0x75, 0xf2,                     /* jnz L */
        0xf4,
    };
    struct pair p;
    pair_open(&p);
    directed_setup(&p, code, sizeof code, false);
    run_to_halt(&p, "store into the next instruction");
    ck_assert_uint_eq(p.b.c->r[R_EDX], 1 + 2 + 3 + 4 + 5);
    pair_close(&p);
}
END_TEST

/*
 * A loop body patched on the second pass by a subroutine on another page:
 * the cached block holding the body must not replay the old immediate.
 */
START_TEST(smc_patched_loop_body)
{
    const u32 patcher = PROG_BASE + 0x2000;
    /* L at +5; X (add edx, imm8) at +17 */
    const u32 x_imm = PROG_BASE + 17 + 2;
    u8 code[] = {
        0xb9, 4, 0, 0, 0,               /* mov ecx, 4 */
        0x83, 0xf9, 0x03,               /* L: cmp ecx, 3 */
        0x75, 0x05,                     /* jne X */
        0xe8, 0, 0, 0, 0,               /* call patcher */
        0x90, 0x90,                     /* (pad) */
        0x83, 0xc2, 0x01,               /* X: add edx, 1 */
        0xe2, 0xef,                     /* loop L */
        0xf4,
    };
    u32 rel = patcher - (PROG_BASE + 15);
    memcpy(&code[11], &rel, 4);
    code[9] = 0x07; /* jne over the call and pad to X */
    const u8 sub[] = { 0xc6, 0x05, (u8)x_imm, (u8)(x_imm >> 8), (u8)(x_imm >> 16), 0, 0x10,
                       0xc3 };
    struct pair p;
    pair_open(&p);
    directed_setup(&p, code, sizeof code, false);
    memcpy(p.a.m->ram + patcher, sub, sizeof sub);
    memcpy(p.b.m->ram + patcher, sub, sizeof sub);
    run_to_halt(&p, "loop body patched from elsewhere");
    ck_assert_uint_eq(p.b.c->r[R_EDX], 1 + 3 * 0x10);
    pair_close(&p);
}
END_TEST

/* Hand-assembled code at PROG_BASE. */
struct asmbuf {
    u8 b[256];
    size_t n;
};

static void ab_bytes(struct asmbuf *ab, const u8 *bytes, size_t len)
{
    ck_assert_uint_le(ab->n + len, sizeof ab->b);
    memcpy(ab->b + ab->n, bytes, len);
    ab->n += len;
}
#define AB(ab, ...) ab_bytes((ab), (const u8[]){ __VA_ARGS__ }, sizeof((const u8[]){ __VA_ARGS__ }))

static void ab_u32(struct asmbuf *ab, u32 v)
{
    ab_bytes(ab, (const u8 *)&v, 4);
}

/* call `target` (an absolute address) */
static void ab_call(struct asmbuf *ab, u32 target)
{
    AB(ab, 0xe8);
    ab_u32(ab, target - (PROG_BASE + (u32)ab->n + 4));
}

/* mov dword [at], v */
static void ab_store(struct asmbuf *ab, u32 at, u32 v)
{
    AB(ab, 0xc7, 0x05);
    ab_u32(ab, at);
    ab_u32(ab, v);
}

/*
 * Code replaced by REP MOVSB and then called: first the old routine runs
 * (and is cached), then each of two new routines is copied over it.
 */
START_TEST(smc_rep_movs)
{
    const u32 dst = PROG_BASE + 0x1000, src = DATA_BASE;
    struct asmbuf ab = { .n = 0 };
    ab_call(&ab, dst);                 /* eax = 1 */
    AB(&ab, 0x89, 0xc3);               /* mov ebx, eax */
    ab_call(&ab, dst);                 /* replayed this time */
    for (unsigned k = 0; k < 2; k++) {
        AB(&ab, 0xbe);                 /* mov esi, src + 8k */
        ab_u32(&ab, src + 8 * k);
        AB(&ab, 0xbf);                 /* mov edi, dst */
        ab_u32(&ab, dst);
        AB(&ab, 0xb9, 6, 0, 0, 0);     /* mov ecx, 6 */
        AB(&ab, 0xf3, 0xa4);           /* rep movsb */
        ab_call(&ab, dst);
        AB(&ab, 0x89, k ? 0xc2 : 0xc5); /* mov ebp/edx, eax */
    }
    AB(&ab, 0xf4);
    const u8 old_fn[] = { 0xb8, 1, 0, 0, 0, 0xc3 };
    const u8 new_fns[] = { 0xb8, 0x22, 0x22, 0, 0, 0xc3, 0, 0, 0xb8, 0x33, 0x33, 0, 0, 0xc3 };
    struct pair p;
    pair_open(&p);
    directed_setup(&p, ab.b, ab.n, false);
    struct mach *ms[2] = { &p.a, &p.b };
    for (unsigned k = 0; k < 2; k++) {
        memcpy(ms[k]->m->ram + dst, old_fn, sizeof old_fn);
        memcpy(ms[k]->m->ram + src, new_fns, sizeof new_fns);
    }
    run_to_halt(&p, "code written by rep movs");
    ck_assert_uint_eq(p.b.c->r[R_EBX], 1);
    ck_assert_uint_eq(p.b.c->r[R_EBP], 0x2222);
    ck_assert_uint_eq(p.b.c->r[R_EDX], 0x3333);
    pair_close(&p);
}
END_TEST

/*
 * A long REP MOVSB that, slices later, overwrites its own bytes.  Each
 * 4096-iteration slice re-executes the instruction, so it runs as a block
 * of its own, replayed and (with the translator) translated and linked to
 * itself; the slice that reaches its code moves the MMU epoch in the
 * middle of that block, and the next slice must decode what is there now:
 * INC EDX, INC EDX, HLT instead of the rest of the copy.
 *
 *   REP_AT-7: mov ecx, len ; REP_AT: rep movsb ; hlt
 * copying [SRC, SRC+len) to [DST, DST+len), where the last page of the
 * destination is the code page and the source holds that page with the
 * REP's two bytes replaced.
 */
START_TEST(smc_rep_overwrites_itself)
{
    const u32 code_page = PROG_BASE + 0x2000, rep_at = code_page + 0xff0;
    const u32 dst = code_page - 0x5000, len = 0x7000, src = 0x40000;
    u8 prog[32];
    unsigned n = 0;
    prog[n++] = 0xbe; memcpy(prog + n, &src, 4); n += 4;  /* mov esi, src */
    prog[n++] = 0xbf; memcpy(prog + n, &dst, 4); n += 4;  /* mov edi, dst */
    prog[n++] = 0xe9;                                     /* jmp to the tail */
    u32 rel = (rep_at - 5) - (PROG_BASE + n + 4);
    memcpy(prog + n, &rel, 4);
    n += 4;
    struct pair p;
    pair_open(&p);
    directed_setup(&p, prog, n, false);
    struct mach *ms[2] = { &p.a, &p.b };
    for (unsigned k = 0; k < 2; k++) {
        u8 *ram = ms[k]->m->ram;
        const u8 tail[] = { 0xb9, 0, 0, 0, 0, 0xf3, 0xa4, 0xf4 }; /* mov ecx; rep movsb; hlt */
        memcpy(ram + rep_at - 5, tail, sizeof tail);
        memcpy(ram + rep_at - 4, &len, 4);
        memcpy(ram + src, ram + dst, 0x6000);
        ram[src + (rep_at - dst)] = 0x42;     /* inc edx */
        ram[src + (rep_at - dst) + 1] = 0x42; /* inc edx */
        put32(ram, RESUME_ADDR, rep_at + 2);  /* the final HLT */
    }
    run_to_halt(&p, "rep movsb overwriting itself");
    ck_assert_uint_eq(p.b.c->r[R_EDX], 2);
    ck_assert_uint_gt(p.b.c->r[R_ECX], 0); /* the copy did not finish */
    pair_close(&p);
}
END_TEST

/*
 * A page-table edit maps another physical page at the linear address of
 * cached code; after INVLPG (and, the second time, a CR3 reload) a call to
 * the same linear address must run the new page's code.
 */
START_TEST(remap_code_page)
{
    const u32 lin = 0x50000, alt = 0x60000;
    const u32 pte = PT_BASE + 4 * (lin >> 12);
    struct asmbuf ab = { .n = 0 };
    ab_call(&ab, lin);
    ab_call(&ab, lin);                         /* replayed */
    AB(&ab, 0x89, 0xc3);                       /* mov ebx, eax */
    ab_store(&ab, pte, alt | 7);
    AB(&ab, 0x0f, 0x01, 0x3d);                 /* invlpg [lin] */
    ab_u32(&ab, lin);
    ab_call(&ab, lin);
    AB(&ab, 0x89, 0xc1);                       /* mov ecx, eax */
    ab_store(&ab, pte, lin | 7);
    AB(&ab, 0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8); /* mov eax, cr3; mov cr3, eax */
    ab_call(&ab, lin);
    AB(&ab, 0x89, 0xc2);                       /* mov edx, eax */
    AB(&ab, 0xf4);
    /* Both routines do some straight-line work so they form real blocks. */
    const u8 fn1[] = { 0xb8, 1, 0, 0, 0, 0x40, 0x40, 0x40, 0xc3 };  /* eax = 4 */
    const u8 fn2[] = { 0xb8, 10, 0, 0, 0, 0x40, 0x40, 0x40, 0xc3 }; /* eax = 13 */
    struct pair p;
    pair_open(&p);
    directed_setup(&p, ab.b, ab.n, true);
    struct mach *ms[2] = { &p.a, &p.b };
    for (unsigned k = 0; k < 2; k++) {
        memcpy(ms[k]->m->ram + lin, fn1, sizeof fn1);
        memcpy(ms[k]->m->ram + alt, fn2, sizeof fn2);
    }
    run_to_halt(&p, "remapped code page");
    ck_assert_uint_eq(p.b.c->r[R_EBX], 4);
    ck_assert_uint_eq(p.b.c->r[R_ECX], 13);
    ck_assert_uint_eq(p.b.c->r[R_EDX], 4);
    pair_close(&p);
}
END_TEST

/*
 * A link into global code (CR4.PGE, G set: a link for every address
 * space, a patched direct jump) whose target is then rewritten from
 * elsewhere: the code write moves the shared epoch, which must undo the
 * patched jump, or the calling block -- in a page nobody wrote, so still
 * good -- would jump straight into the old translation.
 *
 *   L: call lin ; add ebx, eax ; cmp edi, 10 ; jne S
 *      mov dword [lin + 1], 50
 *   S: dec edi ; jnz L
 *   lin: mov eax, 1 ; inc eax x3 ; ret
 */
START_TEST(rewritten_global_link_target)
{
    const u32 lin = 0x50000;
    struct asmbuf ab = { .n = 0 };
    AB(&ab, 0xbf, 20, 0, 0, 0);                 /* mov edi, 20 */
    u32 loop = (u32)ab.n;
    ab_call(&ab, lin);
    AB(&ab, 0x01, 0xc3);                        /* add ebx, eax */
    AB(&ab, 0x83, 0xff, 10);                    /* cmp edi, 10 */
    AB(&ab, 0x75, 10);                          /* jne S */
    AB(&ab, 0xc7, 0x05);                        /* mov dword [lin + 1], 50 */
    ab_u32(&ab, lin + 1);
    ab_u32(&ab, 50);
    AB(&ab, 0x4f);                              /* S: dec edi */
    AB(&ab, 0x75, (u8)(loop - (ab.n + 2)));     /* jnz loop */
    AB(&ab, 0xf4);
    const u8 fn[] = { 0xb8, 1, 0, 0, 0, 0x40, 0x40, 0x40, 0xc3 };
    struct pair p;
    pair_open(&p);
    directed_setup(&p, ab.b, ab.n, true);
    struct mach *ms[2] = { &p.a, &p.b };
    for (unsigned k = 0; k < 2; k++) {
        u8 *ram = ms[k]->m->ram;
        struct cpu *c = ms[k]->c;
        memcpy(ram + lin, fn, sizeof fn);
        for (u32 q = 0; q < 1024; q++)
            put32(ram, PT_BASE + 4 * q, q << 12 | 0x107); /* G */
        c->cr4 |= 1u << 7;                                /* PGE */
        mmu_set_paging(ms[k]->m, c->cr0, c->cr3, c->cr4);
        cpu_update_mode(c);
    }
    run_to_halt(&p, "rewritten target of a global link");
    /* 4 until the write (11 calls), then 53 (9 calls) */
    ck_assert_uint_eq(p.b.c->r[R_EBX], 11 * 4 + 9 * 53);
    pair_close(&p);
}
END_TEST

/*
 * A block ending in MOV CR3 falls through into the next instruction of its
 * own page, which the new address space maps to another physical page.
 * Its exit must not count as a link within the page: after the first
 * passes have linked it (same space), the switch must still run the other
 * page's code, and the switch back the first page's.
 *
 *   lin, alt:  mov cr3, esi ; mov eax, 1 or 10 ; inc eax x3 ; ret
 */
START_TEST(cr3_load_falls_through_to_other_page)
{
    const u32 lin = 0x50000, alt = 0x60000, pd2 = 0x70000, pt2 = 0x71000;
    struct asmbuf ab = { .n = 0 };
    AB(&ab, 0xbe);                              /* mov esi, PD_BASE */
    ab_u32(&ab, PD_BASE);
    AB(&ab, 0xbf, 20, 0, 0, 0);                 /* mov edi, 20 */
    u32 loop = (u32)ab.n;
    ab_call(&ab, lin);
    AB(&ab, 0x4f);                              /* dec edi */
    AB(&ab, 0x75, (u8)(loop - (ab.n + 2)));     /* jnz loop */
    AB(&ab, 0x89, 0xc3);                        /* mov ebx, eax */
    AB(&ab, 0xbe);                              /* mov esi, pd2 */
    ab_u32(&ab, pd2);
    ab_call(&ab, lin);
    AB(&ab, 0x89, 0xc1);                        /* mov ecx, eax */
    AB(&ab, 0xbe);                              /* mov esi, PD_BASE */
    ab_u32(&ab, PD_BASE);
    ab_call(&ab, lin);
    AB(&ab, 0x89, 0xc2);                        /* mov edx, eax */
    AB(&ab, 0xf4);
    const u8 fn1[] = { 0x0f, 0x22, 0xde, 0xb8, 1, 0, 0, 0, 0x40, 0x40, 0x40, 0xc3 };
    const u8 fn2[] = { 0x0f, 0x22, 0xde, 0xb8, 10, 0, 0, 0, 0x40, 0x40, 0x40, 0xc3 };
    struct pair p;
    pair_open(&p);
    directed_setup(&p, ab.b, ab.n, true);
    struct mach *ms[2] = { &p.a, &p.b };
    for (unsigned k = 0; k < 2; k++) {
        u8 *ram = ms[k]->m->ram;
        memcpy(ram + lin, fn1, sizeof fn1);
        memcpy(ram + alt, fn2, sizeof fn2);
        /* The second space: the same identity map but for lin -> alt. */
        put32(ram, pd2, pt2 | 0x7);
        for (u32 q = 0; q < 1024; q++)
            put32(ram, pt2 + 4 * q, (q << 12 == lin ? alt : q << 12) | 0x7);
    }
    run_to_halt(&p, "CR3 load falling through");
    ck_assert_uint_eq(p.b.c->r[R_EBX], 4);
    ck_assert_uint_eq(p.b.c->r[R_ECX], 13);
    ck_assert_uint_eq(p.b.c->r[R_EDX], 4);
    pair_close(&p);
}
END_TEST

/*
 * Blocks kept across an epoch change: an INVLPG of another code page (one
 * code was fetched from, so the epoch moves) leaves the routine's page
 * mapped and unwritten, so its blocks are kept; a store into the routine
 * followed by another such INVLPG must still run the new code.
 */
START_TEST(kept_across_epoch)
{
    const u32 lin = 0x50000, other = 0x70000;
    struct asmbuf ab = { .n = 0 };
    ab_call(&ab, other);                       /* a fetch translation of other */
    ab_call(&ab, lin);
    ab_call(&ab, lin);                         /* replayed */
    AB(&ab, 0x0f, 0x01, 0x3d);                 /* invlpg [other] */
    ab_u32(&ab, other);
    ab_call(&ab, lin);                         /* kept */
    AB(&ab, 0x89, 0xc3);                       /* mov ebx, eax */
    ab_store(&ab, lin + 1, 20);                /* mov eax, 1 becomes mov eax, 20 */
    AB(&ab, 0x0f, 0x01, 0x3d);                 /* invlpg [other] */
    ab_u32(&ab, other);
    ab_call(&ab, lin);
    AB(&ab, 0x89, 0xc1);                       /* mov ecx, eax */
    AB(&ab, 0xf4);
    const u8 fn[] = { 0xb8, 1, 0, 0, 0, 0x40, 0x40, 0x40, 0xc3 }; /* eax = 4 */
    struct pair p;
    pair_open(&p);
    directed_setup(&p, ab.b, ab.n, true);
    memcpy(p.a.m->ram + lin, fn, sizeof fn);
    memcpy(p.b.m->ram + lin, fn, sizeof fn);
    p.a.m->ram[other] = p.b.m->ram[other] = 0xc3; /* ret */
    run_to_halt(&p, "blocks across an epoch change");
    ck_assert_uint_eq(p.b.c->r[R_EBX], 4);
    ck_assert_uint_eq(p.b.c->r[R_ECX], 23);
    blocks_sync_counters(p.b.blk);
    ck_assert_uint_gt(p.b.cnt.v[CNT_blk_blocks_kept], 0);
    pair_close(&p);
}
END_TEST

/*
 * A store whose target moves into the block's own next instruction only
 * on a later pass: the block was recorded while the store hit data, so
 * only the check after each replayed instruction can end it.
 */
START_TEST(smc_store_target_moves)
{
    const u32 l = PROG_BASE + 7, imm = l + 3;
    const u8 code[] = {
        0xbf, (u8)DATA_BASE, (u8)(DATA_BASE >> 8), (u8)(DATA_BASE >> 16), 0, /* mov edi, DATA */
        0xeb, 0x00,                     /* jmp L: a block starts at L */
        0x88, 0x07,                     /* L: mov [edi], al */
        0xb0, 0x00,                     /* mov al, 0 (imm at L+3) */
        0x01, 0xc2,                     /* add edx, eax */
        0x41,                           /* inc ecx */
        0x8d, 0x41, 0x10,               /* lea eax, [ecx+0x10] */
        0xbf, (u8)imm, (u8)(imm >> 8), (u8)(imm >> 16), 0, /* mov edi, L+3 */
        0x83, 0xf9, 0x03,               /* cmp ecx, 3 */
        0x75, (u8)(l - (PROG_BASE + 27)), /* jne L */
        0xf4,
    };
    struct pair p;
    pair_open(&p);
    directed_setup(&p, code, sizeof code, false);
    /* One chunk: a budget running out while L is recorded would leave
     * a shorter block, ending at the store. */
    static const u64 budget[] = { 1000 };
    pair_run(&p, "store target moves into the block", budget, 1);
    run_to_halt(&p, "store target moves into the block");
    ck_assert_uint_eq(p.b.c->r[R_EDX], 0x11 + 0x12);
    pair_close(&p);
}
END_TEST

/*
 * A REP STOSB recorded with a small count and replayed with one larger
 * than a slice: the instruction runs again (EIP stays on it), so the rest
 * of the block must not run yet.
 */
START_TEST(rep_slice_in_cached_block)
{
    const u32 l = PROG_BASE + 7;
    const u8 code[] = {
        0xbe, 5, 0, 0, 0,               /* mov esi, 5 */
        0xeb, 0x00,                     /* jmp L */
        0xbf, (u8)DATA_BASE, (u8)(DATA_BASE >> 8), (u8)(DATA_BASE >> 16), 0, /* L: mov edi, DATA */
        0x89, 0xf1,                     /* mov ecx, esi */
        0xf3, 0xaa,                     /* rep stosb */
        0x43,                           /* inc ebx */
        0x81, 0xc6, 0x70, 0x17, 0, 0,   /* add esi, 6000 */
        0x83, 0xfb, 0x03,               /* cmp ebx, 3 */
        0x75, (u8)(l - (PROG_BASE + 28)), /* jne L */
        0xf4,
    };
    struct pair p;
    pair_open(&p);
    directed_setup(&p, code, sizeof code, false);
    p.a.c->r[R_EAX] = p.b.c->r[R_EAX] = 0x5a;
    run_to_halt(&p, "rep slice inside a cached block");
    ck_assert_uint_eq(p.b.c->r[R_EBX], 3);
    ck_assert_uint_eq(p.b.m->ram[DATA_BASE + 12004], 0x5a);
    ck_assert_uint_eq(p.b.m->ram[DATA_BASE + 12005], 0);
    pair_close(&p);
}
END_TEST

/*
 * Real mode: a block recorded at CS=1000:1000 is reached again through
 * CS=0101:FFF0, the same linear address, where IP wraps to 0 after 16
 * bytes.  The cached block runs past the wrap point, so it must not be
 * replayed; the interpreter continues at 0101:0000.
 */
START_TEST(real_mode_ip_wrap)
{
    const u32 lin = (RM_CS << 4) + 0x1000;
    struct pair p;
    pair_open(&p);
    pair_fresh(&p);
    struct mach *ms[2] = { &p.a, &p.b };
    for (unsigned k = 0; k < 2; k++) {
        u8 *ram = ms[k]->m->ram;
        setup_real(ms[k], 0x1000);
        memset(ram + lin, 0x40, 24);                 /* inc ax x 24 */
        const u8 jmp[] = { 0xea, 0xf0, 0xff, 0x01, 0x01 }; /* jmp 0101:fff0 */
        memcpy(ram + lin + 24, jmp, sizeof jmp);
        ram[0x1010] = 0x43;                          /* 0101:0000 inc bx */
        ram[0x1011] = 0xf4;                          /* hlt */
        for (unsigned r = 0; r < 8; r++)
            if (r != R_ESP)
                ms[k]->c->r[r] = 0;
    }
    run_to_halt(&p, "IP wrap in real mode");
    ck_assert_uint_eq(p.b.c->r[R_EAX], 24 + 16);
    ck_assert_uint_eq(p.b.c->r[R_EBX], 1);
    pair_close(&p);
}
END_TEST

/* Point CS of both machines at `base` with the given size and privilege
 * and continue at `eip`. */
static void pair_set_cs(struct pair *p, u32 base, bool big, unsigned dpl, u32 eip)
{
    struct mach *ms[2] = { &p->a, &p->b };
    for (unsigned k = 0; k < 2; k++) {
        struct cpu *c = ms[k]->c;
        u32 f = DESC_P | DESC_S | (u32)dpl << 13 | (big ? DESC_DB | DESC_G : 0);
        u32 limit = big ? 0xffffffffu : 0xffffu;
        for (unsigned s = 0; s < 6; s++)
            seg_set(&c->seg[s], (u16)(0x10 | dpl), 0, 0xffffffffu,
                    DESC_P | DESC_S | (u32)dpl << 13 | DESC_DB | DESC_G | (0x3u << 8));
        seg_set(&c->seg[S_CS], (u16)(0x08 | dpl), base, limit, f | (0xbu << 8));
        c->cpl = (u8)dpl;
        c->eip = eip;
        c->r[R_EAX] = 0;
        c->halted = false;
        cpu_update_mode(c);
    }
}

/*
 * The same linear address run as 32-bit code, as 16-bit code and at CPL 3
 * from a supervisor page: each needs its own decoding (or a fault), never
 * the block cached for another mode or privilege.
 */
START_TEST(mode_and_cpl_keys)
{
    const u32 x = 0x40000;
    /* 32-bit: mov eax, 0x40404040; hlt.  16-bit: mov ax, 0x4040; inc ax;
     * inc ax; hlt. */
    const u8 fn[] = { 0xb8, 0x40, 0x40, 0x40, 0x40, 0xf4 };
    const u8 halt = 0xf4;
    struct pair p;
    pair_open(&p);
    directed_setup(&p, &halt, 1, true);
    struct mach *ms[2] = { &p.a, &p.b };
    for (unsigned k = 0; k < 2; k++) {
        memcpy(ms[k]->m->ram + x, fn, sizeof fn);
        put32(ms[k]->m->ram, PT_BASE + 4 * (x >> 12), x | 0x3); /* supervisor only */
    }
    pair_set_cs(&p, 0, true, 0, x);
    run_to_halt(&p, "32-bit pass");
    ck_assert_uint_eq(p.b.c->r[R_EAX], 0x40404040);
    pair_set_cs(&p, 0, true, 0, x);
    run_to_halt(&p, "32-bit pass, replayed");
    pair_set_cs(&p, x, false, 0, 0);
    run_to_halt(&p, "16-bit pass");
    ck_assert_uint_eq(p.b.c->r[R_EAX], 0x4042);
    pair_set_cs(&p, 0, true, 3, x);
    run_until_halt(&p, "CPL 3 pass"); /* #PF, then the handler's HLT */
    ck_assert_uint_eq(p.b.c->r[R_EAX], 0);
    u32 pf;
    memcpy(&pf, p.b.m->ram + FAULT_CNT + 4 * EXC_PF, 4);
    ck_assert_uint_eq(pf, 1);
    pair_close(&p);
}
END_TEST

/*
 * A budget that ends inside a block retires exactly that many
 * instructions, from a cold cache, from a warm one, and when a run starts
 * in the middle of a cached block.
 */
START_TEST(budget_inside_block)
{
    u8 code[31];
    memset(code, 0x40, 30); /* inc eax */
    code[30] = 0xf4;
    static const u64 budgets[] = { 5, 1, 3 };
    struct pair p;
    pair_open(&p);
    directed_setup(&p, code, sizeof code, false);
    struct mach *ms[2] = { &p.a, &p.b };
    for (unsigned pass = 0; pass < 3; pass++) {
        u64 step = budgets[pass];
        for (unsigned k = 0; k < 2; k++) {
            ms[k]->c->eip = PROG_BASE;
            ms[k]->c->r[R_EAX] = 0;
        }
        for (u32 done = 0; done + step <= 30; done += (u32)step) {
            u64 before = cpu_icount(p.b.c);
            enum cpu_exit ea = cpu_run(p.a.c, step);
            enum cpu_exit eb = cpu_run(p.b.c, step);
            char ctx[64];
            snprintf(ctx, sizeof ctx, "budget %llu pass %u at %u", (unsigned long long)step,
                     pass, done);
            pair_compare(&p, ctx, ea, eb);
            ck_assert_int_eq(eb, CPU_EXIT_BUDGET);
            ck_assert_uint_eq(cpu_icount(p.b.c) - before, step);
            ck_assert_uint_eq(p.b.c->eip, PROG_BASE + done + step);
            ck_assert_uint_eq(p.b.c->r[R_EAX], done + step);
        }
    }
    /* The same budget twice over the same code: the second pass replays. */
    for (unsigned k = 0; k < 2; k++) {
        ms[k]->c->eip = PROG_BASE;
        ms[k]->c->r[R_EAX] = 0;
    }
    blocks_sync_counters(p.b.blk);
    u64 hits = p.b.cnt.v[CNT_blk_block_hits];
    for (u32 done = 0; done < 30; done += 5) {
        pair_compare(&p, "second 5-step pass", cpu_run(p.a.c, 5), cpu_run(p.b.c, 5));
        ck_assert_uint_eq(p.b.c->eip, PROG_BASE + done + 5);
    }
    blocks_sync_counters(p.b.blk);
    ck_assert_uint_gt(p.b.cnt.v[CNT_blk_block_hits], hits);
    pair_close(&p);
}
END_TEST

/*
 * CF and OF after ROL and ROR by 1, by an immediate and by CL, read back
 * with PUSHFD after each and summed, so a wrong flag shows in a register.
 *
 *   L:  rol eax, 1 / ror ebx, 7 / rol ebx, cl / ror eax, cl, each followed
 *       by pushfd; pop edx; and edx, OF|SF|ZF|AF|PF|CF; add esi/edi, edx
 *       add eax, ebx; loop L
 */
START_TEST(rotate_flags)
{
#define FLAGS_INTO(r) 0x9c, 0x5a, 0x81, 0xe2, 0xd5, 0x08, 0x00, 0x00, 0x01, (u8)(0xd0 | (r))
    const u8 code[] = {
        0xb9, 40, 0, 0, 0,                          /* mov ecx, 40 */
        0xb8, 0x01, 0x00, 0x00, 0x80,               /* mov eax, 0x80000001 */
        0xbb, 0x78, 0x56, 0x34, 0x92,               /* mov ebx, 0x92345678 */
        0xd1, 0xc0, FLAGS_INTO(R_ESI),              /* L: rol eax, 1 */
        0xc1, 0xcb, 0x07, FLAGS_INTO(R_EDI),        /* ror ebx, 7 */
        0xd3, 0xc3, FLAGS_INTO(R_ESI),              /* rol ebx, cl */
        0xd3, 0xc8, FLAGS_INTO(R_EDI),              /* ror eax, cl */
        0x01, 0xd8,                                 /* add eax, ebx */
        0xe2, (u8)-(2 + 2 + 10 + 2 + 10 + 3 + 10 + 2 + 10 + 2), /* loop L */
        0xf4,
    };
#undef FLAGS_INTO
    struct pair p;
    pair_open(&p);
    directed_setup(&p, code, sizeof code, false);
    run_to_halt(&p, "rotate flags");
    ck_assert_uint_ne(p.b.c->r[R_ESI], 0);
    ck_assert_uint_ne(p.b.c->r[R_EDI], 0);
    pair_close(&p);
}
END_TEST

/*
 * A store into a code line through a TLB entry already holding the page
 * for stores beside code: the routine is decoded, a store beside it fills
 * that entry, and the next store patches the routine's immediate through
 * the same entry.  The patched value must be what the next call returns.
 *
 *       mov ecx, 6
 *   L:  call B              ; B (0x20100): mov eax, imm32; ret
 *       add edx, eax
 *       mov [0x20800], ecx  ; beside B
 *       mov [0x20101], ecx  ; B's immediate
 *       loop L
 */
START_TEST(store_into_code_beside_store)
{
    const u8 code[] = {
        0xb9, 6, 0, 0, 0,                           /* mov ecx, 6 */
        0xe8, 0xf6, 0x00, 0x01, 0x00,               /* L: call 0x20100 */
        0x01, 0xc2,                                 /* add edx, eax */
        0x89, 0x0d, 0x00, 0x08, 0x02, 0x00,         /* mov [0x20800], ecx */
        0x89, 0x0d, 0x01, 0x01, 0x02, 0x00,         /* mov [0x20101], ecx */
        0xe2, 0xeb,                                 /* loop L */
        0xf4,
    };
    const u8 routine[] = { 0xb8, 0, 0, 0, 0, 0xc3 }; /* mov eax, 0; ret */
    _Static_assert(PROG_BASE == 0x10000u, "addresses in the code");
    struct pair p;
    pair_open(&p);
    directed_setup(&p, code, sizeof code, false);
    struct mach *ms[2] = { &p.a, &p.b };
    for (unsigned k = 0; k < 2; k++)
        memcpy(ms[k]->m->ram + 0x20100, routine, sizeof routine);
    run_to_halt(&p, "store into code beside a store");
    ck_assert_uint_eq(p.b.c->r[R_EDX], 6 + 5 + 4 + 3 + 2);
    ck_assert_uint_ge(p.b.cnt.v[CNT_mmu_code_writes], 6);
    pair_close(&p);
}
END_TEST

/*
 * A LOOP whose target is past the CS limit raises #GP(0) with ECX as it
 * was before the instruction.  The loop first runs with a 4 GiB limit, so
 * its block is translated; then CS's limit is cut below the target and
 * the block runs again from L with ECX = 5.
 *
 *       mov ecx, 5
 *   L:  inc edx
 *       loop F          ; F is at +0x40
 *       hlt
 *   F:  jmp L
 */
START_TEST(loop_past_cs_limit)
{
    u8 code[0x43] = {
        0xb9, 5, 0, 0, 0,                           /* mov ecx, 5 */
        0x42,                                       /* L: inc edx */
        0xe2, 0x40 - 8,                             /* loop F */
        0xf4,                                       /* hlt */
    };
    code[0x40] = 0xeb;
    code[0x41] = (u8)(5 - 0x42);                    /* F: jmp L */
    code[0x42] = 0xf4;
    struct pair p;
    pair_open(&p);
    directed_setup(&p, code, sizeof code, false);
    run_to_halt(&p, "loop within the limit");
    ck_assert_uint_eq(p.b.c->r[R_EDX], 5);
    struct mach *ms[2] = { &p.a, &p.b };
    for (unsigned k = 0; k < 2; k++) {
        struct cpu *c = ms[k]->c;
        struct seg *cs = &c->seg[S_CS];
        seg_set(cs, cs->sel, cs->base, PROG_BASE + 0x20, cs->flags);
        c->halted = false;
        c->eip = PROG_BASE + 5; /* L, whose block is translated */
        c->r[R_ECX] = 5;
        put32(ms[k]->m->ram, RESUME_ADDR, PROG_BASE + 8); /* the first HLT */
    }
    run_until_halt(&p, "loop past the limit");
    u32 gp;
    memcpy(&gp, p.b.m->ram + FAULT_CNT + 4 * 13, 4);
    ck_assert_uint_eq(gp, 1);
    ck_assert_uint_eq(p.b.c->r[R_ECX], 5);
    pair_close(&p);
}
END_TEST

/*
 * Stores next to running code: to another 16-byte line of the loop's own
 * 64-byte line and to another line of its page.  Neither touches a byte
 * code was decoded from, so nothing cached is dropped: no code-write
 * notice, no block recorded again.
 *
 *   L:  add edx, ecx
 *       mov [PROG_BASE + 0x30], ecx
 *       mov [PROG_BASE + 0x800], edx
 *       loop L
 */
START_TEST(store_near_code)
{
    const u8 code[] = {
        0xb9, 100, 0, 0, 0,                         /* mov ecx, 100 */
        0x31, 0xd2,                                 /* xor edx, edx */
        0x01, 0xca,                                 /* L: add edx, ecx */
        0x89, 0x0d, 0x30, 0x00, 0x01, 0x00,         /* mov [0x10030], ecx */
        0x89, 0x15, 0x00, 0x08, 0x01, 0x00,         /* mov [0x10800], edx */
        0xe2, 0xf0,                                 /* loop L */
        0xf4,
    };
    _Static_assert(PROG_BASE == 0x10000u, "addresses in the code");
    struct pair p;
    pair_open(&p);
    directed_setup(&p, code, sizeof code, false);
    run_to_halt(&p, "stores next to code");
    struct mach *ms[2] = { &p.a, &p.b };
    for (unsigned k = 0; k < 2; k++) {
        u32 near, far;
        memcpy(&near, ms[k]->m->ram + PROG_BASE + 0x30, 4);
        memcpy(&far, ms[k]->m->ram + PROG_BASE + 0x800, 4);
        ck_assert_uint_eq(near, 1);
        ck_assert_uint_eq(far, 5050);
        ck_assert_uint_eq(ms[k]->cnt.v[CNT_mmu_code_writes], 0);
        ck_assert_uint_ge(ms[k]->cnt.v[CNT_mmu_code_near_writes], 200);
        ck_assert(ms[k]->m->page_flags[PROG_BASE >> PAGE_SHIFT] & PG_CODE);
    }
    ck_assert_uint_le(p.b.cnt.v[CNT_cpu_decode_cache_misses] + p.b.cnt.v[CNT_blk_blocks_built], 20);
    ck_assert_uint_le(p.a.cnt.v[CNT_cpu_decode_cache_misses], 20);
    pair_close(&p);
}
END_TEST

/*
 * An instruction that straddles a page boundary is never cached: a JMP
 * rel32 at the last two bytes of the page, whose displacement's upper
 * bytes are on the next page, retargeted each pass by a store to that
 * next page only.
 *
 *   +0x000  mov ecx, 10 ; xor edx, edx ; jmp J
 *   +0x020  T1: add edx, 1    ; jmp C
 *   +0x120  T2: add edx, 0x10 ; jmp C
 *   +0x040  C:  xor byte [+0x1000], 1 ; dec ecx ; jnz J ; hlt
 *   +0xffe  J:  jmp T1 (or T2: displacement byte 1 is 0xf0 or 0xf1)
 */
START_TEST(insn_across_pages)
{
    static u8 code[0x1010];
    memset(code, 0x90, sizeof code);
    const u8 head[] = { 0xb9, 10, 0, 0, 0, 0x31, 0xd2, 0xe9, 0xf2, 0x0f, 0, 0 };
    const u8 t1[] = { 0x83, 0xc2, 0x01, 0xe9, 0x18, 0, 0, 0 };
    const u8 t2[] = { 0x83, 0xc2, 0x10, 0xe9, 0x18, 0xff, 0xff, 0xff };
    const u8 c[] = { 0x80, 0x35, 0x00, 0x10, 0x01, 0x00, 0x01, /* xor byte [0x11000], 1 */
                     0x49,                                     /* dec ecx */
                     0x0f, 0x85, 0xb0, 0x0f, 0, 0,             /* jnz J */
                     0xf4 };
    const u8 j[] = { 0xe9, 0x1d, 0xf0, 0xff, 0xff };
    memcpy(code, head, sizeof head);
    memcpy(code + 0x20, t1, sizeof t1);
    memcpy(code + 0x120, t2, sizeof t2);
    memcpy(code + 0x40, c, sizeof c);
    memcpy(code + 0xffe, j, sizeof j);
    code[sizeof code - 1] = 0xf4;
    struct pair p;
    pair_open(&p);
    directed_setup(&p, code, sizeof code, false);
    run_to_halt(&p, "instruction across a page boundary");
    ck_assert_uint_eq(p.b.c->r[R_EDX], 5 * 1 + 5 * 0x10);
    pair_close(&p);
}
END_TEST

/*
 * Code that keeps changing: a loop whose body's immediate is bumped from
 * another page every fourth pass.  Each bump drops the page's blocks; once
 * the page is hot-written they are replayed rather than translated again.
 *
 *   L:  test cl, 3 ; jnz X ; call patcher
 *   X:  add edx, imm8 ; loop L ; hlt
 *   patcher: inc byte [imm8] ; ret
 */
START_TEST(hot_written_code)
{
    const u32 patcher = PROG_BASE + 0x2000, imm = PROG_BASE + 19;
    u8 code[] = {
        0xb9, 64, 0, 0, 0,                /* mov ecx, 64 */
        0x31, 0xd2,                       /* xor edx, edx */
        0xf6, 0xc1, 0x03,                 /* L: test cl, 3 */
        0x75, 0x05,                       /* jnz X */
        0xe8, 0, 0, 0, 0,                 /* call patcher */
        0x83, 0xc2, 0x01,                 /* X: add edx, 1 */
        0xe2, 0xf1,                       /* loop L */
        0xf4,
    };
    u32 rel = patcher - (PROG_BASE + 17);
    memcpy(&code[13], &rel, 4);
    const u8 sub[] = { 0xfe, 0x05, (u8)imm, (u8)(imm >> 8), (u8)(imm >> 16), 0, 0xc3 };
    struct pair p;
    pair_open(&p);
    directed_setup(&p, code, sizeof code, false);
    memcpy(p.a.m->ram + patcher, sub, sizeof sub);
    memcpy(p.b.m->ram + patcher, sub, sizeof sub);
    run_to_halt(&p, "hot-written code");
    u32 want = 0, k = 1;
    for (u32 ecx = 64; ecx; ecx--) {
        if (!(ecx & 3))
            k++;
        want += k;
    }
    ck_assert_uint_eq(p.b.c->r[R_EDX], want);
    blocks_sync_counters(p.b.blk);
    ck_assert_uint_eq(p.b.cnt.v[CNT_blk_smc_hot_pages], 1);
    if (BLOCKS_JIT)
        ck_assert_uint_gt(p.b.cnt.v[CNT_blk_smc_replayed], 0);
    else
        ck_assert_uint_eq(p.b.cnt.v[CNT_blk_smc_replayed], 0);
    pair_close(&p);
}
END_TEST

/* A hot loop is replayed from the cache: many hits, few blocks built. */
START_TEST(counters_show_replays)
{
    const u8 code[] = {
        0xb9, 0xe8, 0x03, 0, 0,  /* mov ecx, 1000 */
        0x01, 0xc8,              /* L: add eax, ecx */
        0x31, 0xc3,              /* xor ebx, eax */
        0x42,                    /* inc edx */
        0x89, 0x45, 0x10,        /* mov [ebp+0x10], eax */
        0xe2, 0xf6,              /* loop L */
        0xf4,
    };
    struct pair p;
    pair_open(&p);
    directed_setup(&p, code, sizeof code, false);
    p.a.c->r[R_EBP] = p.b.c->r[R_EBP] = DATA_BASE;
    run_to_halt(&p, "hot loop");
    ck_assert_uint_eq(p.b.c->r[R_EDX], 1000);
    blocks_sync_counters(p.b.blk);
    const u64 *v = p.b.cnt.v;
    /* Translated blocks run linked to each other, so the dispatcher
     * counts few runs: count instructions instead. */
    if (!BLOCKS_JIT)
        ck_assert_uint_gt(v[CNT_blk_block_hits], 900);
    ck_assert_uint_gt(v[CNT_blk_block_insns] + v[CNT_blk_jit_insns], 0);
    ck_assert_uint_le(v[CNT_blk_block_insns] + v[CNT_blk_jit_insns], cpu_icount(p.b.c));
    ck_assert_uint_ge(v[CNT_blk_block_insns] + v[CNT_blk_jit_insns], 4 * 900);
    if (BLOCKS_JIT)
        ck_assert_uint_ge(v[CNT_blk_jit_insns], 4 * 900);
    ck_assert_uint_le(v[CNT_blk_blocks_built], 10);
    /* The interpreter has no block executor: nothing counted there. */
    ck_assert_uint_eq(p.a.cnt.v[CNT_blk_block_hits], 0);
    pair_close(&p);
}
END_TEST

/*
 * Flags an instruction writes that only a fault can see: a multiply or a
 * shift whose flags the next flag writer replaces, with a store between
 * that faults on its 25th pass (page 0x50000 not present), by then run
 * translated, inside one run slice of run_until_halt().  The EFLAGS the #PF pushes (compared with all of RAM) must
 * be the multiply's or the shift's.
 *
 *   L:  mov eax, 0xe0000003
 *       <producer>          ; imul eax, ecx / shl eax, 3 / mul ecx
 *       mov [esi], ebx
 *       add esi, 0x1000     ; writes every flag again
 *       jmp L
 */
START_TEST(flags_seen_by_fault)
{
    static const struct {
        const char *name;
        u8 op[3];
        unsigned len;
    } producers[] = {
        { "imul eax, ecx", { 0x0f, 0xaf, 0xc1 }, 3 },
        { "shl eax, 3", { 0xc1, 0xe0, 0x03 }, 3 },
        { "mul ecx", { 0xf7, 0xe1 }, 2 },
    };
    const u8 set_eax[] = { 0xb8, 0x03, 0x00, 0x00, 0xe0 }; /* mov eax, 0xe0000003 */
    for (unsigned v = 0; v < sizeof producers / sizeof producers[0]; v++) {
        u8 code[64];
        unsigned n = 0;
        const u8 head[] = {
            0xbe, 0x00, 0x80, 0x03, 0x00,       /* mov esi, 0x38000 */
            0xb9, 0xff, 0xff, 0xff, 0x7f,       /* mov ecx, 0x7fffffff */
        };
        memcpy(code, head, sizeof head);
        n = sizeof head;
        unsigned loop = n;
        memcpy(code + n, set_eax, sizeof set_eax);
        n += sizeof set_eax;
        memcpy(code + n, producers[v].op, producers[v].len);
        n += producers[v].len;
        const u8 tail[] = {
            0x89, 0x1e,                         /* mov [esi], ebx */
            0x81, 0xc6, 0x00, 0x10, 0x00, 0x00, /* add esi, 0x1000 */
            0xeb, 0x00,                         /* jmp L */
        };
        memcpy(code + n, tail, sizeof tail);
        n += sizeof tail;
        code[n - 1] = (u8)(loop - n);
        code[n++] = 0xf4;
        struct pair p;
        pair_open(&p);
        directed_setup(&p, code, n, true);
        put32(p.a.m->ram, PT_BASE + 4 * 0x50, 0);
        put32(p.b.m->ram, PT_BASE + 4 * 0x50, 0);
        run_until_halt(&p, producers[v].name);
        u32 faults, pushed;
        memcpy(&faults, p.b.m->ram + FAULT_CNT + 4 * EXC_PF, 4);
        ck_assert_msg(faults == 1, "%s: %u page faults", producers[v].name, faults);
        ck_assert_uint_eq(p.b.c->cr2, 0x50000);
        /* error code, EIP, CS, EFLAGS below the top of the stack */
        memcpy(&pushed, p.b.m->ram + STACK_TOP - 4, 4);
        ck_assert_msg(pushed & EFLAGS_CF, "%s: pushed EFLAGS %08x without CF", producers[v].name,
                      pushed);
        blocks_sync_counters(p.b.blk);
        if (BLOCKS_JIT)
            ck_assert_uint_gt(p.b.cnt.v[CNT_blk_jit_insns], 0);
        pair_close(&p);
    }
}
END_TEST

/*
 * Accesses through FS with a base (as Linux's per-CPU data and TLS):
 * loads and stores at offsets of the data area, in a hot loop, and on
 * the last pass a load at offset 0xfffffffe, whose offsets wrap past the
 * 4 GiB limit: #GP, though its linear bytes share one page.  A load from
 * a new page each pass misses the TLB in translated code.
 *
 *       mov fs, 0x20            ; base DATA_BASE + 0x10, limit 4 GiB
 *       mov ecx, 40
 *       mov edi, 0xfffffffe
 *   L:  mov eax, fs:[0x100] / add eax, ecx / mov fs:[0x104], eax
 *       mov edx, ecx / shl edx, 12 / mov edx, fs:[edx]   ; a page a pass
 *       mov fs:[ecx*4+0x400], edx
 *       mov ebx, 0x300 / cmp ecx, 1 / cmove ebx, edi
 *       mov esi, fs:[ebx]
 *       loop L
 *       hlt
 */
START_TEST(based_segment_access)
{
    const u8 code[] = {
        0x66, 0xb8, 0x20, 0x00,                     /* mov ax, 0x20 */
        0x8e, 0xe0,                                 /* mov fs, ax */
        0xb9, 40, 0, 0, 0,                          /* mov ecx, 40 */
        0xbf, 0xfe, 0xff, 0xff, 0xff,               /* mov edi, 0xfffffffe */
        0x64, 0xa1, 0x00, 0x01, 0x00, 0x00,         /* L: mov eax, fs:[0x100] */
        0x01, 0xc8,                                 /* add eax, ecx */
        0x64, 0xa3, 0x04, 0x01, 0x00, 0x00,         /* mov fs:[0x104], eax */
        0x89, 0xca,                                 /* mov edx, ecx */
        0xc1, 0xe2, 0x0c,                           /* shl edx, 12 */
        0x64, 0x8b, 0x12,                           /* mov edx, fs:[edx] */
        0x64, 0x89, 0x14, 0x8d, 0x00, 0x04, 0, 0,   /* mov fs:[ecx*4+0x400], edx */
        0xbb, 0x00, 0x03, 0x00, 0x00,               /* mov ebx, 0x300 */
        0x83, 0xf9, 0x01,                           /* cmp ecx, 1 */
        0x0f, 0x44, 0xdf,                           /* cmove ebx, edi */
        0x64, 0x8b, 0x33,                           /* mov esi, fs:[ebx] */
        0xe2, (u8)-(6 + 2 + 6 + 2 + 3 + 3 + 8 + 5 + 3 + 3 + 3 + 2), /* loop L */
        0xf4,
    };
    struct pair p;
    pair_open(&p);
    directed_setup(&p, code, sizeof code, true);
    struct mach *ms[2] = { &p.a, &p.b };
    const u32 base = DATA_BASE + 0x10;
    for (unsigned k = 0; k < 2; k++) {
        u8 *ram = ms[k]->m->ram;
        put32(ram, GDT_BASE + 0x20, 0x0000ffffu | (base & 0xffffu) << 16);
        put32(ram, GDT_BASE + 0x24, 0x00cf9300u | ((base >> 16) & 0xffu) | (base & 0xff000000u));
        cpu_set_gdtr(ms[k]->c, GDT_BASE, 0x27);
        for (u32 a = 0; a < 0x500; a += 4)
            put32(ram, DATA_BASE + a, a * 0x01010101u);
    }
    run_until_halt(&p, "FS with a base");
    u32 gp;
    memcpy(&gp, p.b.m->ram + FAULT_CNT + 4 * EXC_GP, 4);
    ck_assert_msg(gp == 1, "%u #GP, want 1 (the wrapping load)", gp);
    ck_assert_uint_eq(p.b.c->r[R_ECX], 1); /* faulted on the last pass */
    blocks_sync_counters(p.b.blk);
    if (BLOCKS_JIT)
        ck_assert_uint_gt(p.b.cnt.v[CNT_blk_jit_insns], 0);
    pair_close(&p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("translate_blocks");
    TCase *t = tcase_create("random");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, random_flat32);
    tcase_add_test(t, random_real);
    tcase_add_test(t, random_paged);
    suite_add_tcase(s, t);
    t = tcase_create("directed");
    tcase_add_test(t, smc_next_instruction);
    tcase_add_test(t, smc_patched_loop_body);
    tcase_add_test(t, smc_rep_movs);
    tcase_add_test(t, smc_rep_overwrites_itself);
    tcase_add_test(t, remap_code_page);
    tcase_add_test(t, kept_across_epoch);
    tcase_add_test(t, cr3_load_falls_through_to_other_page);
    tcase_add_test(t, rewritten_global_link_target);
    tcase_add_test(t, smc_store_target_moves);
    tcase_add_test(t, rep_slice_in_cached_block);
    tcase_add_test(t, real_mode_ip_wrap);
    tcase_add_test(t, mode_and_cpl_keys);
    tcase_add_test(t, budget_inside_block);
    tcase_add_test(t, counters_show_replays);
    tcase_add_test(t, store_near_code);
    tcase_add_test(t, loop_past_cs_limit);
    tcase_add_test(t, rotate_flags);
    tcase_add_test(t, store_into_code_beside_store);
    tcase_add_test(t, insn_across_pages);
    tcase_add_test(t, hot_written_code);
    tcase_add_test(t, flags_seen_by_fault);
    tcase_add_test(t, based_segment_access);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
