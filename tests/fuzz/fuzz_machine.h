/*
 * The machine a fuzz input describes, shared by the harnesses that run
 * guest code (fuzz_cpu.c, fuzz_blocks.c).
 *
 * Input layout:
 *
 *   byte 0      mode: bits 0-1 = 0 real mode, 1 flat 16-bit PM, 2 flat
 *               32-bit PM, 3 virtual-8086 under a flat 32-bit monitor (TSS
 *               at 0x2000, ring-0 stack at 0x9000); bit 2 = paging on
 *               (identity map, random PTE flags); bit 3 = CPL 3 (flat PM
 *               only); bits 4-5 IOPL; bit 6 = CR4.VME and CR4.PVI; bit 7
 *               = CR4.PGE (paging only), with G set in the PTEs whose flag
 *               byte has bit 7
 *   bytes 1-32  EAX..EDI
 *   bytes 33-36 EFLAGS (TF/VM cleared so the mode stays what byte 0 says)
 *   bytes 37-292  GDT contents (32 descriptors) at 0x1000
 *   bytes 293-548 IDT contents (32 gates) at 0x1100, also copied to the
 *               real-mode IVT at 0
 *   bytes 549-552 PTE flag pattern (paging only)
 *   rest        code, placed at 0x10000 (CS base) and repeated through the
 *               64 KiB after it, so jumps land on fuzzer-chosen bytes
 *
 *
 * Missing header bytes read as zero.  The machine has 2 MiB of RAM, so the
 * guest can also touch unbacked physical space.
 */
#ifndef UMBRA_TESTS_FUZZ_MACHINE_H
#define UMBRA_TESTS_FUZZ_MACHINE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cpu/cpu_state.h"
#include "cpu/flags.h"
#include "cpu/system.h"

#define RAM_SIZE (2u << 20)
#define GDT_BASE 0x1000u
#define IDT_BASE 0x1100u
#define TSS_BASE 0x2000u
#define PD_BASE 0x3000u
#define PT_BASE 0x4000u
#define CODE_BASE 0x10000u
#define CODE_SPAN 0x10000u

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
 * A bus is built once per process and wiped before every input: building
 * one walks 2^20 page slots, which costs far more than a run.  libFuzzer's
 * entry point has no context argument, so the harnesses keep their buses
 * in function-local statics.  Every input gets zeroed RAM, cleared page
 * flags, no write subscribers, dropped shadow state and a flushed TLB, and
 * the harness makes a brand-new CPU, so runs do not depend on each other.
 */
struct bus {
    struct counters cnt;
    struct logger lg;
    struct mmu *m;
};

/* Build `b` on first use, then wipe it.  false if out of memory. */
static bool bus_wipe(struct bus *b)
{
    if (!b->m) {
        log_init(&b->lg);
        b->m = mmu_new(RAM_SIZE, &b->cnt, &b->lg);
        if (!b->m)
            return false;
    }
    struct mmu *m = b->m;
    memset(m->ram, 0, RAM_SIZE);
    for (u32 pfn = 0; pfn < RAM_SIZE >> PAGE_SHIFT; pfn++)
        m->page_flags[pfn] = PG_RAM;
    m->n_code_sub = 0;
    /* Few shadow contexts: cheap to drop, and eviction happens. */
    mmu_configure(m, MMU_SHADOW, 4);
    mmu_set_a20(m, true);
    mmu_flush_tlb(m);
    return true;
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
        u32 pte = (k << 12) | f | (f & 0x80 ? 0x100 : 0); /* G beside PAT */
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
            if (s->mode & 0x80)
                c->cr4 |= CR4_PGE;
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

#endif
