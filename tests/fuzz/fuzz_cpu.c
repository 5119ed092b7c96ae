/*
 * libFuzzer harness for the interpreter and the decoder.
 *
 * One input is a machine state followed by code:
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
 * Missing header bytes read as zero.  The machine has 2 MiB of RAM, so the
 * guest can also touch unbacked physical space.  The property checked is
 * that nothing the guest does makes the host crash or access memory outside
 * the guest's RAM (AddressSanitizer and UBSan watch every step).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cpu/cpu_state.h"
#include "cpu/decode.h"
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
#define BUDGET 300

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

static void cur_bytes(struct cursor *cu, uint8_t *dst, size_t len)
{
    for (size_t k = 0; k < len; k++)
        dst[k] = cur_byte(cu);
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

static void build_paging(struct mmu *m, u32 flags)
{
    /* One page table identity-maps the first 4 MiB; the PTEs' low bits
     * cycle through the fuzzer's pattern, so some pages are absent,
     * read-only or supervisor-only. */
    u32 pde = PT_BASE | 0x7;
    mmu_phys_write(m, PD_BASE, pde, 4);
    for (u32 k = 0; k < 1024; k++) {
        u32 f = (flags >> ((k & 3) * 8)) & 0xff;
        /* The tables and the code page stay mapped, or nothing runs. */
        if (k < 0x20)
            f |= 0x7;
        mmu_phys_write(m, PT_BASE + 4 * k, (k << 12) | (f & 0xfff), 4);
    }
}

/*
 * The bus is built once per process and wiped before every input: creating
 * one allocates and walks 2^20 page slots, which costs far more than
 * running the guest.  libFuzzer's entry point has no context argument, so
 * the harness keeps the bus in a function-local static.  Every input gets
 * zeroed RAM, cleared page flags, no write subscribers, a flushed TLB and a
 * brand-new CPU, so runs do not depend on each other.
 */
struct bus {
    struct counters cnt;
    struct logger lg;
    struct mmu *m;
};

static struct bus *bus_get(void)
{
    static struct bus b;
    if (!b.m) {
        log_init(&b.lg);
        b.m = mmu_new(RAM_SIZE, &b.cnt, &b.lg);
        if (!b.m)
            return NULL;
    }
    memset(b.m->ram, 0, RAM_SIZE);
    for (u32 pfn = 0; pfn < RAM_SIZE >> PAGE_SHIFT; pfn++)
        b.m->page_flags[pfn] = PG_RAM;
    b.m->n_code_sub = 0;
    mmu_set_a20(b.m, true);
    mmu_flush_tlb(b.m);
    return &b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cursor cu = { data, size, 0 };
    uint8_t gdt[256], idt[256];

    /* The decoder alone, on the raw input, in both modes. */
    struct insn di;
    (void)dec_decode_buf(data, size, false, &di);
    (void)dec_decode_buf(data, size, true, &di);

    struct bus *b = bus_get();
    if (!b)
        return 0;
    struct mmu *m = b->m;
    struct cpu *c = cpu_new(m, &b->cnt, &b->lg);
    if (!c)
        return 0;

    uint8_t mode = cur_byte(&cu);
    for (unsigned r = 0; r < 8; r++)
        c->r[r] = cur_u32(&cu);
    u32 eflags = cur_u32(&cu) & ~(EFLAGS_TF | EFLAGS_VM);
    cur_bytes(&cu, gdt, sizeof gdt);
    cur_bytes(&cu, idt, sizeof idt);
    u32 pte_flags = cur_u32(&cu);

    /* A fresh machine tracks no pages yet, so RAM may be filled directly
     * (the byte-wise mmu_phys_copy_in would dominate the run time). */
    memcpy(m->ram + GDT_BASE, gdt, sizeof gdt);
    memcpy(m->ram + IDT_BASE, idt, sizeof idt);
    memcpy(m->ram, idt, sizeof idt);
    if (cu.off < size) {
        const uint8_t *code = data + cu.off;
        size_t len = size - cu.off;
        for (u32 at = 0; at < CODE_SPAN; at++)
            m->ram[CODE_BASE + at] = code[at % len];
    }

    unsigned kind = mode & 3;
    if (kind == 0) {
        /* Real mode with CS = 0x1000. */
        cpu_reset(c);
        for (unsigned r = 0; r < 8; r++)
            c->r[r] = cur_u32(&(struct cursor){ data, size, 1 + 4 * r });
        seg_load_real(c, S_CS, CODE_BASE >> 4);
        c->eip = 0;
        c->idtr = (struct dtr){ 0, 0x3ff };
    } else {
        cpu_set_flat32(c, 0);
        set_flat(c, kind >= 2, (mode & 8) && kind != 3 ? 3 : 0);
        c->gdtr = (struct dtr){ GDT_BASE, 0xff };
        c->idtr = (struct dtr){ IDT_BASE, 0xff };
        if (mode & 4) {
            build_paging(m, pte_flags);
            c->cr3 = PD_BASE;
            c->cr0 |= 1u << 31;
            mmu_set_paging(m, c->cr0, c->cr3, c->cr4);
        }
        if (mode & 0x40)
            c->cr4 |= CR4_VME | CR4_PVI;
        cpu_update_mode(c);
    }
    eflags = (eflags & ~EFLAGS_IOPL) | ((u32)(mode >> 4) & 3) << 12;
    if (kind == 3) {
        /* The monitor's TSS: ring-0 stack for interrupts out of v86, and
         * an I/O bitmap offset from the input. */
        seg_set(&c->tr, 0x18, TSS_BASE, 0x2067, DESC_P | (0xbu << 8));
        memcpy(m->ram + TSS_BASE + 4, &(u32){ 0x9000 }, 4);
        memcpy(m->ram + TSS_BASE + 8, &(u32){ 0x10 }, 4);
        memcpy(m->ram + TSS_BASE + 0x66, idt, 2);
        eflags |= EFLAGS_VM;
    }
    cpu_write_eflags(c, eflags, ~0u);
    if (kind == 3) {
        for (unsigned s = 0; s < 6; s++)
            seg_load_real(c, s, s == S_CS ? CODE_BASE >> 4 : (u16)(c->r[s] >> 16));
        c->eip = 0;
    }

    for (unsigned k = 0; k < 4; k++) {
        enum cpu_exit e = cpu_run(c, BUDGET / 4);
        if (e == CPU_EXIT_SHUTDOWN || e == CPU_EXIT_HALT)
            break;
        if (e == CPU_EXIT_IDLE) {
            /* HLT with IF set: wake it with an NMI so delivery runs too. */
            cpu_raise_nmi(c);
        }
    }

    cpu_free(c);
    return 0;
}
