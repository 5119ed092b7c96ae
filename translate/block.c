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
 * a translation by the block's linear address, mode and CPL -- not its
 * address space: it is good wherever its RAM page is mapped at that
 * address and has not been written since (as for a block kept across an
 * epoch change), so the kernel's code, mapped alike in every process, is
 * translated once.  Translated code checks the address space itself
 * where it links to other blocks (jit.c).
 */
#define TH_BITS 16             /* sets */
#define TH_WAYS 4u
#define TH_SIZE ((1u << TH_BITS) * TH_WAYS)
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
    struct tr_jump *jc;   /* JC_SIZE: the dispatcher's first look, with the
                           * translator */
    u8 *heat;             /* per set: recordings that hashed to it, so code that
                           * keeps losing its block slot is still translated */
    struct blocks_observer obs; /* debug/'s hooks (block.h) */
    bool watching;        /* built, executed or nochain: the slow dispatch below */
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
/* The code buffer: the Debian boot with its workloads writes about 55 MB
 * of translations and empties it twice; the two views of a larger buffer
 * would both count in the resident size. */
#define JIT_BUFFER (32u << 20)

static inline struct tr_block *slot(struct blocks *t, u32 lin)
{
    return &t->blk[(lin * 0x9e3779b1u) >> (32 - TR_BITS)];
}

/*
 * The jump cache: where the dispatcher looks first, a small direct-mapped
 * array of translations found by the slower paths (block slot, table of
 * translations), each good for the MMU epoch it was found in -- nothing
 * about the code or its mapping can have changed while the epoch stays.
 */
#define JC_BITS 15
#define JC_SIZE (1u << JC_BITS)
struct tr_jump {
    u32 lin, key, eip, epoch; /* key: the full cpu_code_key() */
    u32 last;                 /* EIP of the block's last byte (CS limit) */
    u32 n;                    /* instructions */
    void *host, *chain;
    u32 pfn, gen;             /* the code's RAM page and its write generation */
    const u8 *fetch;          /* where the fetch TLB put `lin` */
};

static inline struct tr_jump *jump_slot(struct blocks *t, u32 lin)
{
    return &t->jc[(lin ^ (lin >> JC_BITS)) & (JC_SIZE - 1)];
}

static inline void jump_fill(struct blocks *t, const struct cpu *c, u32 lin, u32 key, u32 bytes,
                             u32 n, void *host, void *chain, u32 pfn, u32 gen)
{
    *jump_slot(t, lin) = (struct tr_jump){ lin, key, c->eip, c->mmu->epoch, c->eip + bytes - 1,
                                           n, host, chain, pfn, gen,
                                           tlb_peek(c->tlb, lin, 1, ACC_FETCH) };
}

/* An entry found in an older epoch is still good if the fetch TLB maps
 * its address to the same place and its page was not written since
 * (page-table edits move the epoch often; they rarely touch code). */
static inline bool jump_still_good(struct blocks *t, const struct cpu *c, struct tr_jump *j)
{
    if (j->pfn == NO_PFN || !j->fetch || t->gen[j->pfn] != j->gen ||
        tlb_peek(c->tlb, j->lin, 1, ACC_FETCH) != j->fetch)
        return false;
    j->epoch = c->mmu->epoch;
    return true;
}

/* The part of cpu_code_key() a translation depends on: the mode word and
 * the CPL, not the address-space tag. */
#define KEY_SPACE_FREE 0xffffu

/* The set of TH_WAYS entries a block's translation may be in. */
static inline u32 host_set(u32 lin, u32 key)
{
    key &= KEY_SPACE_FREE;
    return ((lin ^ key * 0x85ebca6bu) * 0x9e3779b1u) >> (32 - TH_BITS);
}

/* Where to keep a new translation: its old entry, an empty one, one
 * whose page has been written since, or the next in turn. */
static struct tr_host *host_victim(struct blocks *t, const struct tr_block *b, u32 eip)
{
    struct tr_host *set = &t->th[host_set(b->lin, b->key) * TH_WAYS];
    struct tr_host *stale = NULL;
    for (unsigned w = 0; w < TH_WAYS; w++) {
        struct tr_host *h = &set[w];
        if (!h->host || (h->lin == b->lin && h->key == (b->key & KEY_SPACE_FREE) &&
                         h->eip == eip))
            return h;
        if (!stale && t->gen[h->pfn] != h->gen)
            stale = h;
    }
    return stale ? stale : &set[(b->lin >> 2) % TH_WAYS];
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
    struct mmu *m = c->mmu;
    if (!h) {
        /* Not in the fetch TLB yet (a new address space, say): translate
         * it as the fetch about to happen would, which fills the entry.
         * A fault here means only "not found"; the fetch raises it. */
        u32 gpa;
        struct mmu_fault f;
        if (mmu_translate(m, lin, ACC_FETCH, c->cpl == 3, &gpa, &f) < 0)
            return NO_PFN;
        h = tlb_peek(c->tlb, lin, 1, ACC_FETCH);
    }
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
    /* An open block resumed right at a breakpoint set since ends there;
     * further on, the check after each instruction ends it before one. */
    if (unlikely(c->n_bp) && cpu_bp_in(c, cs_base + c->eip, 1)) {
        b->open = false;
        return;
    }
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
            ((cs_base + next) ^ b->lin) & PAGE_MASK || next < eip ||
            (unlikely(c->n_bp) && cpu_bp_in(c, cs_base + next, 1))) {
            b->open = false;
            return;
        }
    }
}


/* Forget every translation: the slots' host code, the table of
 * translations, the jump cache (key ~0 is never a code key), and the code
 * buffer with the links and indirect entries in it. */
static void forget_translations(struct blocks *t)
{
    for (unsigned k = 0; k < TR_BLOCKS; k++) {
        t->blk[k].host = NULL;
        t->blk[k].runs = 0;
    }
    if (!t->jit)
        return;
    memset(t->th, 0, TH_SIZE * sizeof *t->th);
    memset(t->jc, 0xff, JC_SIZE * sizeof *t->jc);
    jit_reset(t->jit);
}

/* The observer's events for block `b`. */
static struct blk_event block_event(const struct cpu *c, const struct tr_block *b)
{
    return (struct blk_event){ .lin = b->lin, .pfn = b->pfn, .eip = c->eip, .mode = c->mode,
                               .n = b->n, .bytes = b->bytes, .icount = c->icount };
}

static void observe_translated(struct blocks *t, const struct tr_block *b, u64 bytes_before)
{
    struct blk_event e = block_event(t->c, b);
    e.eip = b->eip;
    e.host = b->host;
    e.host_len = (u32)(jit_stats(t->jit)->host_bytes - bytes_before);
    t->obs.translated(t->obs.opaque, &e);
}

/* Translate a hot block.  When the code buffer is full every
 * translation is forgotten and the buffer starts again. */
static void translate(struct blocks *t, struct tr_block *b, u32 eip)
{
    u64 bytes_before = jit_stats(t->jit)->host_bytes;
    b->eip = eip;
    b->host = jit_translate(t->jit, b->ins, b->n, b->eip, &b->chain);
    if (b->host) {
        if (unlikely(t->obs.translated))
            observe_translated(t, b, bytes_before);
        if (b->pfn != NO_PFN) {
            struct tr_host *h = host_victim(t, b, eip);
            /* The generation the records were decoded in: if the page
             * has been written since, the entry is never used. */
            *h = (struct tr_host){ b->lin, b->key & KEY_SPACE_FREE, eip, b->pfn, b->gen, b->n,
                                   b->bytes, b->host, b->chain };
        }
        return;
    }
    forget_translations(t);
    COUNT(t->cnt, blk_jit_flushes);
}

/* Translate a block unless its page's code keeps being rewritten: such
 * blocks are replayed, and asked about again after as many replays. */
static void translate_unless_hot(struct blocks *t, const struct cpu *c, struct tr_block *b,
                                 u32 eip)
{
    if (b->pfn != NO_PFN && smc_hot(t, c, b->pfn)) {
        b->runs = 0;
        COUNT(t->cnt, blk_smc_replayed);
        return;
    }
    translate(t, b, eip);
}

/* A block's run is over: tell the observer. */
static void observe_run(struct blocks *t, const struct cpu *c, u32 lin, u32 pfn, u32 eip,
                        u32 n, u64 before)
{
    struct blk_event e = { .lin = lin, .pfn = pfn, .eip = eip, .mode = c->mode, .n = n,
                           .icount = before, .retired = c->icount - before };
    t->obs.executed(t->obs.opaque, &e);
}

/* Translated code under an observer: never linked, and allowed to run
 * one block only (the chained entry of any successor bails out on
 * exec_limit), so every block comes back here. */
static NOINLINE void run_host_watched(struct blocks *t, struct cpu *c, void *host, u32 lin,
                                      u32 pfn, u32 n)
{
    u64 before = c->icount;
    u32 eip = c->eip;
    jit_drop_pending(t->jit);
    c->exec_limit = before + n;
    t->jit_runs++;
    jit_run(host, c);
    t->jit_insns += c->icount - before;
    if (t->obs.executed)
        observe_run(t, c, lin, pfn, eip, n, before);
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
    struct tr_host *set = &t->th[host_set(lin, key) * TH_WAYS];
    for (unsigned w = 0; w < TH_WAYS; w++) {
        struct tr_host *h = &set[w];
        if (h->host && h->lin == lin && h->key == (key & KEY_SPACE_FREE) && h->eip == c->eip)
            return h->n <= left && c->eip + h->bytes - 1 <= c->seg[S_CS].limit &&
                           t->gen[h->pfn] == h->gen && fetch_pfn(c, lin) == h->pfn
                       ? h
                       : NULL;
    }
    return NULL;
}

/* Why slot `b` no longer serves the block at `lin` with `key` (the
 * dispatcher found it unusable): enum blk_cause. */
static NOINLINE u8 rebuild_cause(const struct blocks *t, const struct tr_block *b, u32 lin,
                                 u32 key)
{
    if (!b->n || b->key == ~0u)
        return BLK_CAUSE_EMPTY;
    if (b->lin != lin || b->key != key)
        return BLK_CAUSE_EVICTED;
    if (b->pfn != NO_PFN && t->gen[b->pfn] != b->gen)
        return BLK_CAUSE_CODE_WRITE;
    return BLK_CAUSE_REMAPPED;
}

/* A block was just recorded from CS:`eip`, its instructions run. */
static NOINLINE void observe_built(struct blocks *t, struct cpu *c, const struct tr_block *b,
                                   u32 eip, u64 before, u8 cause)
{
    if (t->obs.built && b->n) {
        struct blk_event e = block_event(c, b);
        e.eip = eip;
        e.icount = before;
        e.cause = cause;
        t->obs.built(t->obs.opaque, &e);
    }
    if (t->obs.executed)
        observe_run(t, c, b->lin, b->pfn, eip, b->n, before);
}

/* Run a translation the dispatcher found: linked as usual, or alone
 * under an observer or with debugger breakpoints set (run_host_watched),
 * so that every block comes back here to be checked. */
static ALWAYS_INLINE void run_translation(struct blocks *t, struct cpu *c, bool solo, void *host,
                                          void *chain, u32 lin, u32 pfn, u32 n, u64 end)
{
    if (unlikely(solo))
        run_host_watched(t, c, host, lin, pfn, n);
    else
        run_host(t, c, host, chain, end);
}

/* A debugger breakpoint in the `bytes` of the block at `lin`: the run
 * loop must take the next instruction (cpu_state.h, step_next). */
static NOINLINE bool bp_ahead(struct cpu *c, u32 lin, u32 bytes)
{
    if (!cpu_bp_in(c, lin, bytes))
        return false;
    c->step_next = true;
    return true;
}

/* Run blocks one after another until `max` instructions are retired or
 * the run loop has something to look at. */
static void blocks_exec(void *opaque, struct cpu *c, u64 max)
{
    struct blocks *t = opaque;
    const u64 end = c->icount + max;
    /* Breakpoints and the observer change only between runs of the
     * executor: looked at once here, not per block. */
    const bool bps = c->n_bp != 0, solo = t->watching || bps;
    if (t->jit)
        jit_drop_pending(t->jit);
    do {
        const struct seg *cs = &c->seg[S_CS];
        u32 lin = cs->base + c->eip;
        u32 key = cpu_code_key(c);
        if (t->jc) {
            struct tr_jump *j = jump_slot(t, lin);
            if (likely(j->lin == lin && j->key == key && j->eip == c->eip &&
                       j->last <= cs->limit && j->n <= end - c->icount) &&
                (likely(j->epoch == c->mmu->epoch) || jump_still_good(t, c, j))) {
                if (unlikely(bps) && bp_ahead(c, lin, j->last - c->eip + 1))
                    return;
                run_translation(t, c, solo, j->host, j->chain, lin, j->pfn, j->n, end);
                continue;
            }
        }
        struct tr_block *b = slot(t, lin);
        if (likely(b->lin == lin && b->key == key && b->n &&
                   c->eip + b->bytes - 1 <= cs->limit) &&
            (likely(b->epoch == c->mmu->epoch) || keep_across_epoch(t, c, b, lin))) {
            if (unlikely(bps) && bp_ahead(c, lin, b->bytes))
                return;
            if (b->host && end - c->icount >= b->n && c->eip == b->eip) {
                jump_fill(t, c, lin, key, b->bytes, b->n, b->host, b->chain, b->pfn, b->gen);
                run_translation(t, c, solo, b->host, b->chain, lin, b->pfn, b->n, end);
                continue;
            }
            if (t->jit)
                jit_drop_pending(t->jit);
            u32 eip = c->eip;
            u64 before = c->icount;
            bool open = b->open;
            bool whole = (c->mode & MODE_CS32) ? replay(t, c, b, end - c->icount, ~0u)
                                               : replay(t, c, b, end - c->icount, 0xffffu);
            if (unlikely(open) && whole && c->icount < end)
                record(t, c, b, end - c->icount);
            if (unlikely(t->obs.executed))
                observe_run(t, c, lin, b->pfn, eip, b->n, before);
            if (!open && t->jit && ++b->runs >= JIT_HOT) {
                translate_unless_hot(t, c, b, eip);
            }
        } else {
            struct tr_host *h;
            if (t->jit && (h = find_host(t, c, lin, key, end - c->icount))) {
                if (unlikely(bps) && bp_ahead(c, lin, h->bytes))
                    return;
                COUNT(t->cnt, blk_jit_found);
                jump_fill(t, c, lin, key, h->bytes, h->n, h->host, h->chain, h->pfn, h->gen);
                run_translation(t, c, solo, h->host, h->chain, lin, h->pfn, h->n, end);
                continue;
            }
            /* (a block being recorded ends before any breakpoint) */
            if (unlikely(bps) && bp_ahead(c, lin, 1))
                return;
            COUNT(t->cnt, blk_blocks_built);
            if (t->jit)
                jit_drop_pending(t->jit);
            u8 cause = unlikely(t->watching) ? rebuild_cause(t, b, lin, key) : 0;
            b->lin = lin;
            b->key = key;
            b->epoch = c->mmu->epoch;
            b->n = 0;
            b->bytes = 0;
            b->pfn = NO_PFN;
            b->host = NULL;
            b->runs = 0;
            u32 eip = c->eip;
            u64 before = c->icount;
            record(t, c, b, end - c->icount);
            if (unlikely(t->watching))
                observe_built(t, c, b, eip, before, cause);
            /* Recorded again (its slot was reused since, or it came from
             * another address space): translate it now rather than after
             * two more replays it may never get.  Not code outside RAM
             * (ROM): its translation could not be found again. */
            if (t->jit && !b->open && b->n && b->pfn != NO_PFN) {
                u8 *heat = &t->heat[host_set(lin, key)];
                if (*heat < 255)
                    (*heat)++;
                if (*heat >= 2)
                    translate_unless_hot(t, c, b, eip);
            }
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
    free(t->heat);
    free(t->jc);
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
    }
    forget_translations(t);
}

int blocks_enable_jit(struct blocks *t)
{
    if (t->jit)
        return 0;
    t->th = malloc(TH_SIZE * sizeof *t->th);
    t->heat = calloc(1u << TH_BITS, 1);
    t->jc = malloc(JC_SIZE * sizeof *t->jc);
    if (!t->th || !t->heat || !t->jc || !(t->jit = jit_new(t->c, JIT_BUFFER))) {
        free(t->th);
        free(t->heat);
        free(t->jc);
        t->th = NULL;
        t->heat = NULL;
        t->jc = NULL;
        return -1;
    }
    forget_translations(t);
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

bool blocks_observed(const struct blocks *t)
{
    return t->obs.built || t->obs.translated || t->obs.executed || t->obs.nochain;
}

const void *blocks_host_thunks(const struct blocks *t, size_t *len)
{
    *len = 0;
    return t->jit ? jit_thunks(t->jit, len) : NULL;
}

void blocks_set_observer(struct blocks *t, const struct blocks_observer *o)
{
    t->obs = o ? *o : (struct blocks_observer){ 0 };
    t->watching = o && (o->built || o->executed || o->nochain);
}
