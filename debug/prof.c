/*
 * The profiler.  Every block run the block cache reports (trace.c passes
 * the events on) is counted in a table keyed by the block's linear
 * address and RAM page: runs, instructions retired, recordings (a block
 * is recorded again after its slot was reused or its page written),
 * translations and host code bytes.  Every PROF_SAMPLE_PERIOD runs the
 * guest's stack is sampled: the running block's function, then the
 * return addresses of the EBP chain ([EBP] the caller's EBP, [EBP+4] the
 * return address -- the i386 frame layout of the System V ABI), read by
 * peek (mmu_walk_peek, mmu_phys_peek), at most PROF_MAX_DEPTH frames,
 * stopping at EBP 0, an unmapped frame or a frame that does not move up
 * the stack.  The stack segment is taken to be flat.
 *
 * At exit (prof_finish) FILE gets JSON, FILE.folded the stacks in the
 * flame-graph tools' folded format ("outer;inner;leaf COUNT", root
 * first), and stderr a summary of the hottest blocks.
 */
#include "prof.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/counters.h"
#include "cpu/cpu.h"
#include "cpu/insn.h"
#include "debug.h"
#include "devices/pc.h"
#include "mmu/mmu.h"
#include "symbols.h"
#include "trace.h"
#include "translate/block.h"

#define PROF_SAMPLE_PERIOD 64u
#define PROF_MAX_DEPTH 32u
#define PROF_TOP 10u

/* How a run of a block ended: at its end, going on to the next address
 * (fall through) or elsewhere (a taken jump, a call, a return...); or
 * before its end (a store into code, a jump out of a handler). */
enum { EXIT_FALLTHROUGH, EXIT_BRANCH, EXIT_EARLY, EXIT__KINDS };
static const char *const exit_name[EXIT__KINDS] = { "fallthrough", "branch", "early" };
/* Why a block was recorded again: translate/block.h's causes, with an
 * empty slot (the cache forgot everything: a full code buffer, a reset)
 * named "flushed". */
static const char *const inval_name[] = {
    [BLK_CAUSE_EMPTY] = "flushed", [BLK_CAUSE_EVICTED] = "evicted",
    [BLK_CAUSE_CODE_WRITE] = "code_write", [BLK_CAUSE_REMAPPED] = "remapped",
};
#define INVAL__CAUSES 4

struct pblock {
    u32 lin, pfn;      /* the key; lin ~0 = empty */
    u32 mode, eip, n, bytes;
    u64 runs, insns, recorded, translated, host_bytes;
    u64 exits[EXIT__KINDS];
    u64 inval[INVAL__CAUSES];
};

struct pstack {
    char *key; /* folded frames, NULL = empty */
    u64 count;
};

struct prof {
    struct pc *pc;
    const char *path;
    struct symtab syms;
    struct pblock *b;
    u32 nb, capb;          /* used, slots (a power of two) */
    struct pstack *st;
    u32 nst, capst;
    u64 runs;              /* block runs seen */
    u64 samples;
    bool oom;              /* a table could not grow: counts are partial */
};

static u32 hash32(u32 a, u32 b)
{
    return (a * 0x9e3779b1u) ^ (b * 0x85ebca6bu) ^ (a >> 15);
}

static bool grow_blocks(struct prof *p)
{
    u32 cap = p->capb * 2;
    struct pblock *nb = malloc(cap * sizeof *nb);
    if (!nb)
        return false;
    for (u32 k = 0; k < cap; k++)
        nb[k].lin = ~0u, nb[k].pfn = ~0u;
    for (u32 k = 0; k < p->capb; k++) {
        struct pblock *o = &p->b[k];
        if (o->lin == ~0u && o->pfn == ~0u)
            continue;
        u32 h = hash32(o->lin, o->pfn) & (cap - 1);
        while (!(nb[h].lin == ~0u && nb[h].pfn == ~0u))
            h = (h + 1) & (cap - 1);
        nb[h] = *o;
    }
    free(p->b);
    p->b = nb;
    p->capb = cap;
    return true;
}

/* The record of the block in `e`, created if new; NULL if out of memory. */
static struct pblock *block_of(struct prof *p, const struct blk_event *e)
{
    if (e->lin == ~0u && e->pfn == ~0u)
        return NULL; /* the empty key */
    if (2 * (p->nb + 1) > p->capb && !grow_blocks(p)) {
        p->oom = true;
        return NULL;
    }
    u32 h = hash32(e->lin, e->pfn) & (p->capb - 1);
    for (;;) {
        struct pblock *b = &p->b[h];
        if (b->lin == e->lin && b->pfn == e->pfn)
            return b;
        if (b->lin == ~0u && b->pfn == ~0u) {
            *b = (struct pblock){ .lin = e->lin, .pfn = e->pfn };
            p->nb++;
            return b;
        }
        h = (h + 1) & (p->capb - 1);
    }
}

static void note_shape(struct pblock *b, const struct blk_event *e)
{
    b->mode = e->mode;
    b->eip = e->eip;
    if (e->n) {
        b->n = e->n;
        if (e->bytes)
            b->bytes = e->bytes;
    }
}

void prof_built(struct prof *p, const struct blk_event *e)
{
    struct pblock *b = block_of(p, e);
    if (b) {
        if (b->recorded && e->cause < INVAL__CAUSES)
            b->inval[e->cause]++;
        b->recorded++;
        note_shape(b, e);
    }
}

void prof_translated(struct prof *p, const struct blk_event *e)
{
    struct pblock *b = block_of(p, e);
    if (b) {
        b->translated++;
        b->host_bytes = e->host_len;
        note_shape(b, e);
    }
}

/* ---- stacks ---- */

static bool peek32(struct prof *p, u32 lin, u32 *v)
{
    struct pg_peek pk;
    u64 x;
    if (mmu_walk_peek(p->pc->mmu, cpu_get_reg(p->pc->cpu, CPU_CR3), lin, ACC_READ, false, &pk) <
            0 ||
        !mmu_phys_peek(p->pc->mmu, (u32)pk.gpa, 4, &x))
        return false;
    *v = (u32)x;
    return true;
}

/* The frame name of code address `a`: its symbol, or the address. */
static void frame_name(const struct prof *p, u32 a, char *buf, size_t size)
{
    u32 off;
    const struct sym *s = symtab_find(&p->syms, a, &off);
    if (s)
        snprintf(buf, size, "%s", s->name);
    else
        snprintf(buf, size, "0x%08x", a);
}

static u32 hash_str(const char *s)
{
    u32 h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (u8)*s) * 16777619u;
    return h;
}

static void count_stack(struct prof *p, char *key)
{
    if (2 * (p->nst + 1) > p->capst) {
        u32 cap = p->capst * 2;
        struct pstack *ns = calloc(cap, sizeof *ns);
        if (!ns) {
            p->oom = true;
            free(key);
            return;
        }
        for (u32 k = 0; k < p->capst; k++) {
            if (!p->st[k].key)
                continue;
            u32 h = hash_str(p->st[k].key) & (cap - 1);
            while (ns[h].key)
                h = (h + 1) & (cap - 1);
            ns[h] = p->st[k];
        }
        free(p->st);
        p->st = ns;
        p->capst = cap;
    }
    u32 h = hash_str(key) & (p->capst - 1);
    while (p->st[h].key && strcmp(p->st[h].key, key))
        h = (h + 1) & (p->capst - 1);
    if (p->st[h].key) {
        free(key);
    } else {
        p->st[h].key = key;
        p->nst++;
    }
    p->st[h].count++;
}

static void sample_stack(struct prof *p, const struct blk_event *e)
{
    u32 pcs[PROF_MAX_DEPTH];
    unsigned n = 0;
    pcs[n++] = e->lin;
    u32 ebp = cpu_get_reg(p->pc->cpu, CPU_EBP);
    while (n < PROF_MAX_DEPTH && ebp) {
        u32 next, ret;
        if (!peek32(p, ebp, &next) || !peek32(p, ebp + 4, &ret) || !ret)
            break;
        pcs[n++] = ret - 1; /* inside the call, not after it */
        if (next <= ebp)
            break;
        ebp = next;
    }
    size_t size = (size_t)n * 64 + 1, len = 0;
    char *key = malloc(size);
    if (!key) {
        p->oom = true;
        return;
    }
    key[0] = 0;
    for (unsigned k = n; k-- > 0;) {
        char name[64];
        frame_name(p, pcs[k], name, sizeof name);
        /* ';' separates frames and ' ' ends them in the folded format. */
        for (char *c = name; *c; c++)
            if (*c == ';' || *c == ' ')
                *c = '_';
        len += (size_t)snprintf(key + len, size - len, "%s%s", len ? ";" : "", name);
    }
    count_stack(p, key);
    p->samples++;
}

void prof_executed(struct prof *p, const struct blk_event *e)
{
    struct pblock *b = block_of(p, e);
    if (b) {
        b->runs++;
        b->insns += e->retired;
        if (!b->n)
            note_shape(b, e);
        /* the CPU is where the run left it */
        u32 next = cpu_get_reg(p->pc->cpu, CPU_EIP);
        u32 mask = (e->mode & MODE_CS32) ? ~0u : 0xffffu;
        b->exits[e->retired < b->n ? EXIT_EARLY
                 : next == ((e->eip + b->bytes) & mask) ? EXIT_FALLTHROUGH
                                                       : EXIT_BRANCH]++;
    }
    if (++p->runs % PROF_SAMPLE_PERIOD == 0)
        sample_stack(p, e);
}

/* ---- the report ---- */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((u8)*s < 0x20)
            fprintf(f, "\\u%04x", (u8)*s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static u64 block_phys(const struct prof *p, const struct pblock *b)
{
    if (b->pfn != BLK_NO_PFN)
        return (u64)b->pfn << 12 | (b->lin & 0xfff);
    return ~0ull;
}

/* Block `b`'s instructions as Capstone shows them, "0xADDR: mnemonic
 * operands", read again from guest memory; returns how many. */
static unsigned block_disasm(struct prof *p, const struct pblock *b, csh cs16, csh cs32,
                             char lines[32][256])
{
    u8 buf[32 * 15];
    u64 gpa;
    struct blk_event e = { .lin = b->lin, .pfn = b->pfn, .eip = b->eip, .mode = b->mode,
                           .n = b->n, .bytes = b->bytes };
    unsigned got = trace_block_bytes(p->pc, &e, buf, b->bytes < sizeof buf ? b->bytes : sizeof buf,
                                     &gpa);
    bool mode32 = b->mode & MODE_CS32;
    cs_insn *insn = NULL;
    size_t n = got ? cs_disasm(mode32 ? cs32 : cs16, buf, got, mode32 ? b->lin : b->eip,
                               b->n < 32 ? b->n : 32, &insn)
                   : 0;
    for (size_t k = 0; k < n; k++)
        snprintf(lines[k], 256, "0x%08llx: %s%s%s", (unsigned long long)insn[k].address,
                 insn[k].mnemonic, insn[k].op_str[0] ? " " : "", insn[k].op_str);
    if (n)
        cs_free(insn, n);
    return (unsigned)n;
}

static void json_block(FILE *f, struct prof *p, const struct pblock *b, csh cs16, csh cs32,
                       bool disasm)
{
    u32 off;
    const struct sym *s = symtab_find(&p->syms, b->lin, &off);
    u64 phys = block_phys(p, b);
    fprintf(f, "{\"lin\": %u, \"phys\": %lld, \"symbol\": ", b->lin,
            phys == ~0ull ? -1ll : (long long)phys);
    if (s) {
        char name[300];
        snprintf(name, sizeof name, "%s+0x%x", s->name, off);
        json_str(f, name);
    } else {
        fputs("null", f);
    }
    fprintf(f,
            ", \"mode\": %u, \"insns_per_block\": %u, \"bytes\": %u, \"executions\": %llu, "
            "\"insns_retired\": %llu, \"recorded\": %llu, \"rerecorded\": %llu, "
            "\"translations\": %llu, \"retranslations\": %llu, \"host_bytes\": %llu",
            (b->mode & MODE_CS32) ? 32 : 16, b->n, b->bytes, (unsigned long long)b->runs,
            (unsigned long long)b->insns, (unsigned long long)b->recorded,
            (unsigned long long)(b->recorded ? b->recorded - 1 : 0),
            (unsigned long long)b->translated,
            (unsigned long long)(b->translated ? b->translated - 1 : 0),
            (unsigned long long)b->host_bytes);
    fputs(", \"invalidations\": {", f);
    for (unsigned k = 0; k < INVAL__CAUSES; k++)
        fprintf(f, "%s\"%s\": %llu", k ? ", " : "", inval_name[k],
                (unsigned long long)b->inval[k]);
    fputs("}, \"exits\": {", f);
    for (unsigned k = 0; k < EXIT__KINDS; k++)
        fprintf(f, "%s\"%s\": %llu", k ? ", " : "", exit_name[k],
                (unsigned long long)b->exits[k]);
    fputc('}', f);
    if (disasm) {
        char lines[32][256];
        unsigned n = block_disasm(p, b, cs16, cs32, lines);
        fputs(", \"disasm\": [", f);
        for (unsigned k = 0; k < n; k++) {
            fputs(k ? ", " : "", f);
            json_str(f, lines[k]);
        }
        fputc(']', f);
    }
    fputc('}', f);
}

static int by_insns(const void *a, const void *b)
{
    const struct pblock *x = *(const struct pblock *const *)a, *y = *(const struct pblock *const *)b;
    if (x->insns != y->insns)
        return x->insns > y->insns ? -1 : 1;
    return x->runs > y->runs ? -1 : x->runs < y->runs;
}

/* Every block seen, hottest (most instructions retired) first. */
static const struct pblock **sorted_blocks(struct prof *p)
{
    const struct pblock **v = malloc((p->nb ? p->nb : 1) * sizeof *v);
    if (!v)
        return NULL;
    u32 n = 0;
    for (u32 k = 0; k < p->capb; k++)
        if (!(p->b[k].lin == ~0u && p->b[k].pfn == ~0u))
            v[n++] = &p->b[k];
    qsort(v, n, sizeof *v, by_insns);
    return v;
}

static int write_json(struct prof *p, const struct pblock **v, FILE *err)
{
    FILE *f = fopen(p->path, "w");
    if (!f) {
        fprintf(err, "umbra: -profile %s: %s\n", p->path, strerror(errno));
        return -1;
    }
    csh cs16 = 0, cs32 = 0;
    if (cs_open(CS_ARCH_X86, CS_MODE_16, &cs16) != CS_ERR_OK ||
        cs_open(CS_ARCH_X86, CS_MODE_32, &cs32) != CS_ERR_OK)
        fprintf(err, "umbra: -profile: Capstone cannot open an x86 disassembler\n");
    u64 total = 0;
    for (u32 k = 0; k < p->nb; k++)
        total += v[k]->insns;
    fprintf(f, "{\n\"icount\": %llu,\n\"block_insns\": %llu,\n\"block_runs\": %llu,\n"
               "\"stack_samples\": %llu,\n\"sample_period\": %u,\n\"symbols\": %u,\n"
               "\"partial\": %s,\n",
            (unsigned long long)cpu_icount(p->pc->cpu), (unsigned long long)total,
            (unsigned long long)p->runs, (unsigned long long)p->samples, PROF_SAMPLE_PERIOD,
            p->syms.n, p->oom ? "true" : "false");
    if (p->pc->blocks)
        blocks_sync_counters(p->pc->blocks);
    fputs("\"counters\": {", f);
    bool first = true;
    for (unsigned k = 0; k < CNT__COUNT; k++) {
        fprintf(f, "%s\n  ", first ? "" : ",");
        json_str(f, counter_name(k));
        fprintf(f, ": %llu", (unsigned long long)p->pc->cnt.v[k]);
        first = false;
    }
    fputs("\n},\n\"top\": [", f);
    for (u32 k = 0; k < p->nb && k < PROF_TOP; k++) {
        fputs(k ? ",\n  " : "\n  ", f);
        json_block(f, p, v[k], cs16, cs32, cs16 && cs32);
    }
    fputs("\n],\n\"blocks\": [", f);
    for (u32 k = 0; k < p->nb; k++) {
        fputs(k ? ",\n  " : "\n  ", f);
        json_block(f, p, v[k], 0, 0, false);
    }
    fputs("\n]\n}\n", f);
    if (cs16)
        cs_close(&cs16);
    if (cs32)
        cs_close(&cs32);
    if (fclose(f) != 0) {
        fprintf(err, "umbra: -profile %s: %s\n", p->path, strerror(errno));
        return -1;
    }
    return 0;
}

static int write_folded(struct prof *p, FILE *err)
{
    size_t len = strlen(p->path) + sizeof ".folded";
    char *path = malloc(len);
    if (!path)
        return -1;
    snprintf(path, len, "%s.folded", p->path);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(err, "umbra: -profile %s: %s\n", path, strerror(errno));
        free(path);
        return -1;
    }
    for (u32 k = 0; k < p->capst; k++)
        if (p->st[k].key)
            fprintf(f, "%s %llu\n", p->st[k].key, (unsigned long long)p->st[k].count);
    int rc = fclose(f) == 0 ? 0 : -1;
    if (rc < 0)
        fprintf(err, "umbra: -profile %s: %s\n", path, strerror(errno));
    free(path);
    return rc;
}

static void summary(struct prof *p, const struct pblock **v, FILE *out)
{
    fprintf(out, "profile: %llu block runs, %u blocks, %llu stack samples -> %s\n",
            (unsigned long long)p->runs, p->nb, (unsigned long long)p->samples, p->path);
    fprintf(out, "  %12s %14s  %-10s %s\n", "runs", "insns", "lin", "symbol");
    for (u32 k = 0; k < p->nb && k < PROF_TOP; k++) {
        u32 off;
        const struct sym *s = symtab_find(&p->syms, v[k]->lin, &off);
        fprintf(out, "  %12llu %14llu  0x%08x %s", (unsigned long long)v[k]->runs,
                (unsigned long long)v[k]->insns, v[k]->lin, s ? s->name : "?");
        if (s)
            fprintf(out, "+0x%x", off);
        fputc('\n', out);
    }
}

struct prof *prof_new(struct pc *pc, const struct prof_config *cfg, FILE *err)
{
    if (!pc->blocks) {
        fprintf(err, "umbra: -profile/-perfmap: needs the block executor (not -exec interp)\n");
        return NULL;
    }
    struct prof *p = calloc(1, sizeof *p);
    if (!p)
        goto oom;
    p->pc = pc;
    p->path = cfg->path;
    p->capb = 1024;
    p->capst = 64;
    p->b = malloc(p->capb * sizeof *p->b);
    p->st = calloc(p->capst, sizeof *p->st);
    if (!p->b || !p->st)
        goto oom;
    for (u32 k = 0; k < p->capb; k++)
        p->b[k].lin = ~0u, p->b[k].pfn = ~0u;
    if (cfg->kernel && symtab_load_elf(&p->syms, cfg->kernel, "-kernel", err) < 0)
        goto fail;
    if (cfg->symbols && symtab_load_map(&p->syms, cfg->symbols, "-profile-symbols", err) < 0)
        goto fail;
    symtab_sort(&p->syms);
    /* Fail now, not after the run, if the report cannot be written. */
    FILE *f = fopen(cfg->path, "w");
    if (!f) {
        fprintf(err, "umbra: -profile %s: %s\n", cfg->path, strerror(errno));
        goto fail;
    }
    fclose(f);
    return p;
oom:
    fprintf(err, "umbra: -profile %s: out of memory\n", cfg->path);
fail:
    prof_free(p);
    return NULL;
}

int prof_finish(struct prof *p, FILE *out)
{
    const struct pblock **v = sorted_blocks(p);
    if (!v) {
        fprintf(out, "umbra: -profile %s: out of memory\n", p->path);
        return -1;
    }
    int rc = write_json(p, v, out);
    if (write_folded(p, out) < 0)
        rc = -1;
    summary(p, v, out);
    free(v);
    return rc;
}

int prof_print_top(struct prof *p, unsigned top, FILE *out)
{
    const struct pblock **v = sorted_blocks(p);
    csh cs16 = 0, cs32 = 0;
    if (!v || cs_open(CS_ARCH_X86, CS_MODE_16, &cs16) != CS_ERR_OK ||
        cs_open(CS_ARCH_X86, CS_MODE_32, &cs32) != CS_ERR_OK) {
        free(v);
        if (cs16)
            cs_close(&cs16);
        return -1;
    }
    fprintf(out, "%llu block runs counted, %u blocks; the %u hottest (instructions retired):\n",
            (unsigned long long)p->runs, p->nb, top < p->nb ? top : p->nb);
    for (u32 k = 0; k < p->nb && k < top; k++) {
        const struct pblock *b = v[k];
        u32 off;
        const struct sym *s = symtab_find(&p->syms, b->lin, &off);
        fprintf(out, "#%u 0x%08x", k + 1, b->lin);
        if (s)
            fprintf(out, " %s+0x%x", s->name, off);
        fprintf(out, ": %llu runs, %llu insns, %llu translations\n", (unsigned long long)b->runs,
                (unsigned long long)b->insns, (unsigned long long)b->translated);
        char lines[32][256];
        unsigned n = block_disasm(p, b, cs16, cs32, lines);
        for (unsigned i = 0; i < n; i++)
            fprintf(out, "    %s\n", lines[i]);
    }
    free(v);
    cs_close(&cs16);
    cs_close(&cs32);
    return 0;
}

void prof_free(struct prof *p)
{
    if (!p)
        return;
    for (u32 k = 0; k < p->capst; k++)
        free(p->st ? p->st[k].key : NULL);
    free(p->st);
    free(p->b);
    symtab_free(&p->syms);
    free(p);
}

const char *prof_symbol_for(const struct prof *p, u32 lin, u32 *off)
{
    const struct sym *s = p ? symtab_find(&p->syms, lin, off) : NULL;
    return s ? s->name : NULL;
}
