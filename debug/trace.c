/*
 * Block-level tracing: -d in_asm (guest code of each block as it is
 * built), out_asm (host code of each translation), exec (each block run),
 * nochain (translated blocks never linked), restricted by -dfilter to
 * blocks whose first byte lies in one of the ranges.
 *
 * The tracer is the block cache's observer (translate/block.h); with
 * exec or nochain every translated block returns to the dispatcher, so
 * each run is reported.  Guest bytes are read as the debugger reads them
 * (mmu_walk_peek, mmu_phys_peek): tracing changes no guest state.
 * Disassembly is Capstone's, Intel syntax, 16- or 32-bit per the block's
 * mode word (MODE_CS32), 64-bit for host code.
 */
#include "trace.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu/cpu.h"
#include "cpu/insn.h"
#include "debug.h"
#include "devices/pc.h"
#include "mmu/mmu.h"
#include "plugin.h"
#include "prof.h"
#include "translate/block.h"

struct tracer {
    struct pc *pc;
    FILE *out;
    u32 mask;
    struct trace_ranges ranges;
    csh cs16, cs32, cs64;
    struct prof *prof; /* the profiler, fed the same events, or NULL */
    struct prof *syms; /* where -perfmap finds symbols, or NULL */
    FILE *perfmap;     /* -perfmap, or NULL */
    struct plugins *plugins; /* fed block events, or NULL */
};

/* ---- -dfilter ---- */

static int parse_hex(const char *s, const char **end, u64 *v)
{
    char *e;
    errno = 0;
    if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))
        return -1;
    unsigned long long x = strtoull(s, &e, 16);
    if (errno || e == s || x > 0xffffffffull)
        return -1;
    *v = x;
    *end = e;
    return 0;
}

/* One item: A+LEN, A-LEN (the LEN bytes ending at A, as QEMU reads it)
 * or A..B (B included).  Numbers are hex, with or without 0x. */
static int parse_range(const char *s, u64 *lo, u64 *hi)
{
    const char *e;
    u64 a, b;
    if (parse_hex(s, &e, &a) < 0)
        return -1;
    if (e[0] == '.' && e[1] == '.') {
        if (parse_hex(e + 2, &e, &b) < 0 || *e || b < a)
            return -1;
        *lo = a;
        *hi = b + 1;
    } else if (*e == '+' || *e == '-') {
        char op = *e;
        if (parse_hex(e + 1, &e, &b) < 0 || *e || b == 0)
            return -1;
        if (op == '+') {
            *lo = a;
            *hi = a + b;
        } else {
            if (b > a + 1)
                return -1;
            *lo = a + 1 - b;
            *hi = a + 1;
        }
    } else {
        return -1;
    }
    return 0;
}

int dbg_parse_dfilter(const char *spec, struct trace_ranges *r, FILE *err)
{
    const char *p = spec;
    r->n = 0;
    for (;;) {
        size_t len = strcspn(p, ",");
        char item[64];
        if (len == 0 || len >= sizeof item || r->n == TRACE_MAX_RANGES) {
            fprintf(err, "umbra: -dfilter %s: %s\n", spec,
                    r->n == TRACE_MAX_RANGES ? "too many ranges (at most 32)"
                                             : "empty or overlong range");
            return -1;
        }
        memcpy(item, p, len);
        item[len] = 0;
        if (parse_range(item, &r->lo[r->n], &r->hi[r->n]) < 0) {
            fprintf(err, "umbra: -dfilter %s: bad range '%s' (expected ADDR+LEN, ADDR-LEN or "
                         "ADDR..LAST, hex)\n", spec, item);
            return -1;
        }
        r->n++;
        if (!p[len])
            return 0;
        p += len + 1;
    }
}

bool trace_in_ranges(const struct trace_ranges *r, u32 lin)
{
    if (!r->n)
        return true;
    for (unsigned k = 0; k < r->n; k++)
        if (lin >= r->lo[k] && lin < r->hi[k])
            return true;
    return false;
}

/* ---- reading a block ---- */

unsigned trace_block_bytes(struct pc *pc, const struct blk_event *e, u8 *buf, unsigned max,
                           u64 *gpa)
{
    u64 base;
    if (e->pfn != BLK_NO_PFN) {
        base = (u64)e->pfn << PAGE_SHIFT | (e->lin & ~PAGE_MASK);
    } else {
        struct pg_peek p;
        if (mmu_walk_peek(pc->mmu, cpu_get_reg(pc->cpu, CPU_CR3), e->lin, ACC_FETCH, false,
                          &p) < 0) {
            *gpa = ~0ull;
            return 0;
        }
        base = p.gpa;
    }
    *gpa = base;
    unsigned n = 0;
    for (; n < max; n++) {
        u64 v;
        if (!mmu_phys_peek(pc->mmu, (u32)(base + n), 1, &v))
            break;
        buf[n] = (u8)v;
    }
    return n;
}

/* ---- the hooks ---- */

static FILE *out(const struct tracer *t)
{
    return t->out ? t->out : stderr;
}

static void print_insns(FILE *f, csh cs, const u8 *code, size_t len, u64 addr, size_t max)
{
    cs_insn *insn;
    size_t n = cs_disasm(cs, code, len, addr, max, &insn);
    size_t done = 0;
    for (size_t k = 0; k < n; k++) {
        fprintf(f, "0x%08llx:  %s%s%s\n", (unsigned long long)insn[k].address,
                insn[k].mnemonic, insn[k].op_str[0] ? " " : "", insn[k].op_str);
        done += insn[k].size;
    }
    if (n)
        cs_free(insn, n);
    if (done < len)
        fprintf(f, "0x%08llx:  (%zu bytes Capstone does not decode)\n",
                (unsigned long long)(addr + done), len - done);
}

static void on_built(void *opaque, const struct blk_event *e)
{
    struct tracer *t = opaque;
    if (t->prof)
        prof_built(t->prof, e);
    if (t->plugins)
        plugins_block_built(t->plugins, e);
    if (!(t->mask & (1u << LOG_IN_ASM)) || !trace_in_ranges(&t->ranges, e->lin))
        return;
    u8 buf[32 * 15];
    u64 gpa;
    unsigned len = e->bytes < sizeof buf ? e->bytes : sizeof buf;
    unsigned got = trace_block_bytes(t->pc, e, buf, len, &gpa);
    FILE *f = out(t);
    bool cs32 = e->mode & MODE_CS32;
    fprintf(f, "IN: lin=0x%08x phys=0x%08llx mode=%u insns=%u bytes=%u\n", e->lin,
            (unsigned long long)gpa, cs32 ? 32 : 16, e->n, e->bytes);
    /* 16-bit code is shown at its EIP (Capstone wraps at 64 KiB). */
    print_insns(f, cs32 ? t->cs32 : t->cs16, buf, got, cs32 ? e->lin : e->eip, e->n);
    fputc('\n', f);
}

/* perf(1) names code that has no file from /tmp/perf-PID.map: "START
 * SIZE NAME" lines, hex (tools/perf/Documentation/jit-interface.txt). */
static void perfmap_line(struct tracer *t, const struct blk_event *e)
{
    u32 off;
    const char *s = prof_symbol_for(t->syms, e->lin, &off);
    if (s)
        fprintf(t->perfmap, "%lx %x guest_%08x_%s+0x%x\n", (unsigned long)(uintptr_t)e->host,
                e->host_len, e->lin, s, off);
    else
        fprintf(t->perfmap, "%lx %x guest_%08x\n", (unsigned long)(uintptr_t)e->host,
                e->host_len, e->lin);
}

static void on_translated(void *opaque, const struct blk_event *e)
{
    struct tracer *t = opaque;
    if (t->prof)
        prof_translated(t->prof, e);
    if (t->perfmap)
        perfmap_line(t, e);
    if (!(t->mask & (1u << LOG_OUT_ASM)) || !trace_in_ranges(&t->ranges, e->lin))
        return;
    FILE *f = out(t);
    fprintf(f, "OUT: lin=0x%08x insns=%u host=%p size=%u\n", e->lin, e->n, e->host,
            e->host_len);
    print_insns(f, t->cs64, e->host, e->host_len, (u64)(uintptr_t)e->host, 0);
    fputc('\n', f);
}

static void on_executed(void *opaque, const struct blk_event *e)
{
    struct tracer *t = opaque;
    if (t->prof)
        prof_executed(t->prof, e);
    if (t->plugins)
        plugins_block_executed(t->plugins, e);
    if (!(t->mask & (1u << LOG_EXEC)) || !trace_in_ranges(&t->ranges, e->lin))
        return;
    u64 gpa = e->pfn != BLK_NO_PFN ? ((u64)e->pfn << PAGE_SHIFT | (e->lin & ~PAGE_MASK)) : ~0ull;
    if (gpa == ~0ull) {
        u8 b;
        trace_block_bytes(t->pc, e, &b, 0, &gpa);
    }
    fprintf(out(t), "Trace: lin=0x%08x phys=0x%08llx eip=%08x icount=%llu insns=%llu\n", e->lin,
            (unsigned long long)gpa, e->eip, (unsigned long long)e->icount,
            (unsigned long long)e->retired);
}

struct tracer *tracer_new(struct pc *pc, const struct trace_config *tc, FILE *err)
{
    struct tracer *t = calloc(1, sizeof *t);
    if (!t) {
        fprintf(err, "umbra: -d: out of memory\n");
        return NULL;
    }
    u32 mask = tc->mask;
    bool prof = tc->prof && tc->profile;
    bool plug = plugins_want_blocks(tc->plugins);
    t->pc = pc;
    t->out = pc->log.out;
    t->mask = mask;
    t->ranges = tc->ranges;
    t->prof = prof ? tc->prof : NULL;
    t->syms = tc->prof;
    t->plugins = plug ? tc->plugins : NULL;
    if (cs_open(CS_ARCH_X86, CS_MODE_16, &t->cs16) != CS_ERR_OK ||
        cs_open(CS_ARCH_X86, CS_MODE_32, &t->cs32) != CS_ERR_OK ||
        cs_open(CS_ARCH_X86, CS_MODE_64, &t->cs64) != CS_ERR_OK) {
        fprintf(err, "umbra: -d: Capstone cannot open an x86 disassembler\n");
        tracer_free(t);
        return NULL;
    }
    if (tc->perfmap) {
        char path[64];
        snprintf(path, sizeof path, "/tmp/perf-%d.map", (int)getpid());
        if (!(t->perfmap = fopen(path, "w"))) {
            fprintf(err, "umbra: -perfmap: %s: %s\n", path, strerror(errno));
            tracer_free(t);
            return NULL;
        }
        setvbuf(t->perfmap, NULL, _IOLBF, 0);
        size_t len;
        const void *thunks = pc->blocks ? blocks_host_thunks(pc->blocks, &len) : NULL;
        if (thunks)
            fprintf(t->perfmap, "%lx %zx umbra_memory_thunks\n", (unsigned long)(uintptr_t)thunks,
                    len);
    }
    if (pc->blocks) {
        struct blocks_observer o = {
            .opaque = t,
            .built = (mask & (1u << LOG_IN_ASM)) || prof || plug ? on_built : NULL,
            .translated = (mask & (1u << LOG_OUT_ASM)) || prof || t->perfmap ? on_translated
                                                                               : NULL,
            .executed = (mask & (1u << LOG_EXEC)) || prof || plug ? on_executed : NULL,
            .nochain = (mask & (1u << LOG_NOCHAIN)) != 0,
        };
        blocks_set_observer(pc->blocks, &o);
    }
    return t;
}

void tracer_free(struct tracer *t)
{
    if (!t)
        return;
    if (t->pc->blocks)
        blocks_set_observer(t->pc->blocks, NULL);
    if (t->perfmap)
        fclose(t->perfmap);
    if (t->cs16)
        cs_close(&t->cs16);
    if (t->cs32)
        cs_close(&t->cs32);
    if (t->cs64)
        cs_close(&t->cs64);
    free(t);
}
