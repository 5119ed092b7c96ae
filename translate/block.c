/*
 * The block cache and its executor (see block.h).
 */
#include "block.h"

#include <stdlib.h>
#include <string.h>

#include "cpu/cpu_state.h"
#include "cpu/decode.h"
#include "jit.h"

#define TR_BITS 12
#define TR_BLOCKS (1u << TR_BITS)
#define TR_MAX_INSNS 32u


/* A block: its header shares a cache line with its first instructions,
 * which a hit reads right after the header. */
struct tr_block {
    u32 lin;   /* linear address of the first instruction */
    u32 key;   /* cpu_code_key(); ~0 = empty */
    u32 epoch; /* MMU epoch when recorded */
    u8 n;      /* instructions recorded (0: not usable) */
    u8 open;   /* recording stopped for the budget: go on after a replay */
    u16 bytes; /* their total length */
    u32 pfn;   /* the RAM page the block's bytes are on, or NO_PFN */
    u32 gen;   /* that page's code-write generation when recorded */
    void *host; /* translated code, or NULL */
    void *chain; /* its entry for a linked predecessor */
    u32 eip;    /* EIP of the first instruction when translated: the
                 * code has EIPs built in, and in real mode one linear
                 * address has many CS:IP names */
    u32 runs;   /* replays since it was recorded whole */
    struct insn ins[TR_MAX_INSNS];
};

#define NO_PFN ~0u

/*
 * Translations outlive the block slot they were made from: a slot is
 * direct-mapped and reused by whatever block hashes to it, while the code
 * it was translated from is usually still there.  This larger table finds
 * a translation by the block's address and key; it is good while its RAM
 * page is mapped at that address and has not been written since (as for a
 * block kept across an epoch change).
 */
#define TH_BITS 16
#define TH_SIZE (1u << TH_BITS)
struct tr_host {
    u32 lin, key, eip;
    u32 pfn, gen;   /* the RAM page of the code and its write generation */
    u16 n, bytes;
    void *host, *chain;
};

/* Code-line writes to one RAM page, to spot code that keeps changing. */
struct smc_page {
    u64 last;  /* instruction count at the last one */
    u32 count; /* how many came no more than SMC_WINDOW apart */
};

struct blocks {
    struct cpu *c;
    struct counters *cnt;
    struct tr_block *blk; /* TR_BLOCKS, direct-mapped on the start address */
    u32 *gen;             /* per RAM page: writes to its code lines */
    struct smc_page *smc; /* per RAM page */
    u32 npages;
    u64 hits;             /* blocks replayed from the cache */
    u64 hit_insns;        /* instructions retired by replays */
    u64 kept;             /* blocks kept across an epoch change */
    struct jit *jit;      /* the translator, or NULL: replay only */
    u64 jit_runs;         /* blocks run as translated code */
    u64 jit_insns;        /* instructions they retired */
    struct tr_host *th;   /* TH_SIZE translations, with the translator */
};

/* Replays of a whole block before it is translated: code that runs once
 * (start-up, the decompressor's set-up) is not worth translating. */
#define JIT_HOT 2u
/* Hot-written code.  A page whose code lines were written SMC_HOT times,
 * each within SMC_WINDOW instructions of the one before, loses its
 * translations at once every time it is written again: its blocks are
 * replayed instead of translated until SMC_WINDOW instructions pass
 * without such a write.  Retranslating after every write would cost far
 * more than the replays it saves. */
#define SMC_HOT 8u
#define SMC_WINDOW (1ull << 20)
/* The code buffer: enough for the Linux boot's working set. */
#define JIT_BUFFER (64u << 20)

static inline struct tr_block *slot(struct blocks *t, u32 lin)
{
    return &t->blk[(lin * 0x9e3779b1u) >> (32 - TR_BITS)];
}

static inline struct tr_host *host_slot(struct blocks *t, u32 lin, u32 key)
{
    return &t->th[((lin ^ key * 0x85ebca6bu) * 0x9e3779b1u) >> (32 - TH_BITS)];
}

/*
 * Keeping blocks across an epoch change.  The MMU epoch moves on every TLB
 * flush or drop and every write to a page code was decoded from, which
 * invalidates every block; most of those events (a page-table edit, a CR3
 * load) leave most blocks' code exactly as it was.  A block whose key
 * matches but whose epoch is old is therefore still good if the fetch TLB
 * maps its address to the same RAM page as when it was recorded (so its
 * bytes come from the same place, with fetch permission at this CPL) and
 * no write has reached that page since (its generation, counted from the
 * MMU's code-write notices, is unchanged).  Anything else is recorded
 * again.
 */
static void code_written(void *opaque, u32 gpa, unsigned size)
{
    struct blocks *t = opaque;
    u32 pfn = gpa >> PAGE_SHIFT;
    (void)size;
    if (pfn >= t->npages)
        return;
    t->gen[pfn]++;
    struct smc_page *s = &t->smc[pfn];
    u64 now = t->c->icount;
    if (now - s->last > SMC_WINDOW)
        s->count = 0;
    s->last = now;
    if (++s->count == SMC_HOT)
        COUNT(t->cnt, blk_smc_hot_pages);
}

/* Whether the code of page `pfn` keeps being rewritten (see SMC_HOT). */
static bool smc_hot(const struct blocks *t, const struct cpu *c, u32 pfn)
{
    const struct smc_page *s = &t->smc[pfn];
    return s->count >= SMC_HOT && c->icount - s->last <= SMC_WINDOW;
}

/* The RAM page the fetch TLB maps `lin` to, or NO_PFN. */
static u32 fetch_pfn(const struct cpu *c, u32 lin)
{
    const u8 *h = tlb_peek(c->tlb, lin, 1, ACC_FETCH);
    const struct mmu *m = c->mmu;
    if (!h || h < m->ram || h >= m->ram + m->ram_size)
        return NO_PFN;
    return (u32)((h - m->ram) >> PAGE_SHIFT);
}

static bool still_valid(const struct blocks *t, const struct cpu *c, const struct tr_block *b,
                        u32 lin)
{
    return b->pfn != NO_PFN && fetch_pfn(c, lin) == b->pfn && t->gen[b->pfn] == b->gen;
}

static bool keep_across_epoch(struct blocks *t, const struct cpu *c, struct tr_block *b, u32 lin)
{
    if (!still_valid(t, c, b, lin))
        return false;
    b->epoch = c->mmu->epoch;
    t->kept++;
    return true;
}

/* Replay a cached block: up to `max` of its instructions.  Returns true if
 * all of them ran and EIP is right after the last.  `mask` wraps EIP in
 * 16-bit code (the caller passes a constant, so 32-bit code does no
 * masking). */
static ALWAYS_INLINE bool replay(struct blocks *t, struct cpu *c, struct tr_block *b, u64 max,
                                 u32 mask)
{
    const u32 epoch = b->epoch;
    const struct mmu *m = c->mmu;
    const struct insn *ip = b->ins;
    const struct insn *end = ip + (max < b->n ? max : b->n);
    const u64 first = c->icount;
    u64 count = first;
    u32 eip = c->eip, next;
    bool whole = max >= b->n;
    t->hits++;
    for (;;) {
        next = (eip + ip->len) & mask;
        if (ip->attr & OPA_NOMEM) {
            /* Cannot fault, touches no memory, leaves EIP alone: nothing
             * to note for a fault and nothing to check afterwards. */
            ip->fn(c, ip);
            count++;
        } else if (ip->attr & OPA_LOAD) {
            /* May fault, so the fault needs its start; but it writes no
             * memory and leaves EIP alone, so nothing to check. */
            c->insn_eip = eip;
            c->insn_esp = c->r[R_ESP];
            c->icount = count;
            ip->fn(c, ip);
            count++;
        } else {
            c->insn_eip = eip;
            c->insn_esp = c->r[R_ESP];
            c->eip = next;
            c->icount = count; /* a fault retires the instructions before */
            ip->fn(c, ip);
            count++;
            if (unlikely(c->eip != next || m->epoch != epoch)) {
                whole = false;
                break;
            }
        }
        if (++ip == end) {
            c->eip = next;
            break;
        }
        eip = next;
    }
    c->icount = count;
    t->hit_insns += count - first;
    return whole;
}


/* Run instructions from CS:EIP one at a time, as the interpreter would,
 * and append them to `b`, whose last instruction ends right before EIP.
 * A fault, or the end of the budget, leaves the block open: the
 * instructions recorded so far are kept, and the next replay that runs
 * them all goes on recording. */
static void record(struct blocks *t, struct cpu *c, struct tr_block *b, u64 max)
{
    const u32 mask = (c->mode & MODE_CS32) ? ~0u : 0xffffu;
    const u32 epoch = b->epoch;
    const u32 cs_base = c->seg[S_CS].base;
    struct insn *ins = b->ins;
    b->open = true;
    for (u64 done = 0; done < max; done++) {
        u32 eip = c->eip;
        c->insn_eip = eip;
        c->insn_esp = c->r[R_ESP];
        struct insn *ip = &ins[b->n];
        bool keep = dec_decode_cpu(c, ip);
        u32 next = (eip + ip->len) & mask;
        if (keep) {
            if (b->n == 0) {
                /* The decode has just tracked the page and filled the
                 * fetch TLB. */
                b->pfn = fetch_pfn(c, b->lin);
                if (b->pfn != NO_PFN)
                    b->gen = t->gen[b->pfn];
            }
            b->n++;
            b->bytes += ip->len;
        }
        c->eip = next;
        ip->fn(c, ip);
        c->icount++;
        if (!keep || ((ip->attr & OPA_ENDS_BLOCK) && !(ip->attr & OPA_JCC)) || c->eip != next ||
            c->mmu->epoch != epoch || b->n == TR_MAX_INSNS ||
            ((cs_base + next) ^ b->lin) & PAGE_MASK || next < eip) {
            b->open = false;
            return;
        }
    }
}


/* Translate a hot block.  When the code buffer is full every
 * translation is forgotten and the buffer starts again. */
static void translate(struct blocks *t, struct tr_block *b, u32 eip)
{
    b->eip = eip;
    b->host = jit_translate(t->jit, b->ins, b->n, b->eip, &b->chain);
    if (b->host) {
        if (b->pfn != NO_PFN) {
            struct tr_host *h = host_slot(t, b->lin, b->key);
            /* The generation the records were decoded in: if the page
             * has been written since, the entry is never used. */
            *h = (struct tr_host){ b->lin, b->key, eip, b->pfn, b->gen, b->n, b->bytes,
                                   b->host, b->chain };
        }
        return;
    }
    for (unsigned k = 0; k < TR_BLOCKS; k++) {
        t->blk[k].host = NULL;
        t->blk[k].runs = 0;
    }
    memset(t->th, 0, TH_SIZE * sizeof *t->th);
    jit_reset(t->jit);
    COUNT(t->cnt, blk_jit_flushes);
}

/* Run translated code at CS:EIP.  The exit that led here may link to it;
 * a linked run ends at the budget or when an event zeroes exec_limit. */
static void run_host(struct blocks *t, struct cpu *c, void *host, void *chain, u64 end)
{
    u64 before = c->icount;
    jit_link_pending(t->jit, chain, c->mmu->epoch);
    c->exec_limit = end;
    t->jit_runs++;
    jit_run(host, c);
    t->jit_insns += c->icount - before;
}

/* A translation of the block at `lin` that is still good, or NULL. */
static struct tr_host *find_host(struct blocks *t, struct cpu *c, u32 lin, u32 key, u64 left)
{
    struct tr_host *h = host_slot(t, lin, key);
    if (h->host && h->lin == lin && h->key == key && h->eip == c->eip && h->n <= left &&
        c->eip + h->bytes - 1 <= c->seg[S_CS].limit && t->gen[h->pfn] == h->gen &&
        fetch_pfn(c, lin) == h->pfn)
        return h;
    return NULL;
}

/* Run blocks one after another until `max` instructions are retired or
 * the run loop has something to look at. */
static void blocks_exec(void *opaque, struct cpu *c, u64 max)
{
    struct blocks *t = opaque;
    const u64 end = c->icount + max;
    if (t->jit)
        jit_drop_pending(t->jit);
    do {
        const struct seg *cs = &c->seg[S_CS];
        u32 lin = cs->base + c->eip;
        u32 key = cpu_code_key(c);
        struct tr_block *b = slot(t, lin);
        if (likely(b->lin == lin && b->key == key && b->n &&
                   c->eip + b->bytes - 1 <= cs->limit) &&
            (likely(b->epoch == c->mmu->epoch) || keep_across_epoch(t, c, b, lin))) {
            if (b->host && end - c->icount >= b->n && c->eip == b->eip) {
                run_host(t, c, b->host, b->chain, end);
                continue;
            }
            if (t->jit)
                jit_drop_pending(t->jit);
            u32 eip = c->eip;
            bool whole = (c->mode & MODE_CS32) ? replay(t, c, b, end - c->icount, ~0u)
                                               : replay(t, c, b, end - c->icount, 0xffffu);
            if (unlikely(b->open)) {
                if (whole && c->icount < end)
                    record(t, c, b, end - c->icount);
            } else if (t->jit && ++b->runs >= JIT_HOT) {
                if (b->pfn != NO_PFN && smc_hot(t, c, b->pfn)) {
                    /* Ask again after as many replays. */
                    b->runs = 0;
                    COUNT(t->cnt, blk_smc_replayed);
                } else {
                    translate(t, b, eip);
                }
            }
        } else {
            struct tr_host *h;
            if (t->jit && (h = find_host(t, c, lin, key, end - c->icount))) {
                COUNT(t->cnt, blk_jit_found);
                run_host(t, c, h->host, h->chain, end);
                continue;
            }
            COUNT(t->cnt, blk_blocks_built);
            if (t->jit)
                jit_drop_pending(t->jit);
            b->lin = lin;
            b->key = key;
            b->epoch = c->mmu->epoch;
            b->n = 0;
            b->bytes = 0;
            b->pfn = NO_PFN;
            b->host = NULL;
            b->runs = 0;
            record(t, c, b, end - c->icount);
        }
    } while (c->icount < end && !cpu_must_look(c));
}

struct blocks *blocks_attach(struct cpu *c, struct counters *cnt)
{
    struct blocks *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->blk = malloc(TR_BLOCKS * sizeof *t->blk);
    if (!t->blk) {
        free(t);
        return NULL;
    }
    t->c = c;
    t->cnt = cnt;
    t->npages = c->mmu->ram_size >> PAGE_SHIFT;
    t->gen = calloc(t->npages ? t->npages : 1, sizeof *t->gen);
    t->smc = calloc(t->npages ? t->npages : 1, sizeof *t->smc);
    if (!t->gen || !t->smc || mmu_subscribe_code_writes(c->mmu, code_written, t) < 0) {
        free(t->gen);
        free(t->smc);
        free(t->blk);
        free(t);
        return NULL;
    }
    blocks_flush(t);
    cpu_set_executor(c, blocks_exec, t);
    return t;
}

void blocks_free(struct blocks *t)
{
    if (!t)
        return;
    cpu_set_executor(t->c, NULL, NULL);
    jit_free(t->jit);
    free(t->th);
    mmu_unsubscribe_code_writes(t->c->mmu, code_written, t);
    free(t->gen);
    free(t->smc);
    free(t->blk);
    free(t);
}

void blocks_flush(struct blocks *t)
{
    for (unsigned k = 0; k < TR_BLOCKS; k++) {
        t->blk[k].key = ~0u;
        t->blk[k].n = 0;
        t->blk[k].open = false;
        t->blk[k].pfn = NO_PFN;
        t->blk[k].host = NULL;
        t->blk[k].runs = 0;
    }
    if (t->jit) {
        memset(t->th, 0, TH_SIZE * sizeof *t->th);
        jit_reset(t->jit);
    }
}

int blocks_enable_jit(struct blocks *t)
{
    if (t->jit)
        return 0;
    t->th = calloc(TH_SIZE, sizeof *t->th);
    if (!t->th || !(t->jit = jit_new(t->c, JIT_BUFFER))) {
        free(t->th);
        t->th = NULL;
        return -1;
    }
    return 0;
}

void blocks_sync_counters(struct blocks *t)
{
    t->cnt->v[CNT_blk_block_hits] = t->hits;
    t->cnt->v[CNT_blk_block_insns] = t->hit_insns;
    t->cnt->v[CNT_blk_blocks_kept] = t->kept;
    t->cnt->v[CNT_blk_jit_runs] = t->jit_runs;
    t->cnt->v[CNT_blk_jit_insns] = t->jit_insns;
    if (t->jit) {
        const struct jit_stats *st = jit_stats(t->jit);
        t->cnt->v[CNT_blk_jit_blocks] = st->blocks;
        t->cnt->v[CNT_blk_jit_guest_insns] = st->guest_insns;
        t->cnt->v[CNT_blk_jit_native_insns] = st->native_insns;
        t->cnt->v[CNT_blk_jit_host_bytes] = st->host_bytes;
        t->cnt->v[CNT_blk_jit_ns] = st->ns;
    }
}
