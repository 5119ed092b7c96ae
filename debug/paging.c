/*
 * Paging events as breakpoints, and the paging history.  The MMU reports
 * every CR3 load, write to a tracked page-table page (old and new entry),
 * INVLPG and page fault through its event hook (mmu_set_event_hook),
 * from inside the instruction that caused it.  Here each event is
 *
 *   recorded   in a ring of -paging-history N records, with the icount,
 *              CS:EIP of the instruction and CR3;
 *   matched    against the paging breakpoints: the first match asks the
 *              CPU to leave its slice after the instruction (for a #PF:
 *              at the handler's first instruction) and the session then
 *              stops, telling the monitor's client and gdb what happened.
 *
 * The hook is installed only while a breakpoint or the history needs it.
 * Events while the session is stopped (the debugger's own writes) are
 * neither recorded nor matched.
 */
#define _POSIX_C_SOURCE 200809L
#include "session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "mmu/mmu.h"

static const char *const kind_name[] = {
    [MMU_EV_CR3] = "cr3", [MMU_EV_PTE_WRITE] = "pte", [MMU_EV_INVLPG] = "invlpg",
    [MMU_EV_PF] = "pf",
};

static bool pte_match(u32 want, const struct mmu_event *e)
{
    unsigned esz = e->addr & 7 ? 4 : 8; /* 8-byte entries are 8-aligned */
    return want - e->addr < esz || (want & ~3u) == e->addr;
}

static bool pb_match(const struct dbg_pbreak *b, const struct mmu_event *e)
{
    if (b->kind != (int)e->kind)
        return false;
    switch (e->kind) {
    case MMU_EV_CR3: return b->any || e->addr == b->value;
    case MMU_EV_PTE_WRITE: return pte_match(b->value, e);
    case MMU_EV_PF: return e->addr >= b->lo && e->addr <= b->hi &&
                           (e->err & b->errmask) == b->errmask;
    default: return true;
    }
}

static void describe(struct dbg *d, const struct mmu_event *e, char *buf, size_t len)
{
    u32 eip = cpu_insn_eip(d->cpu);
    u32 cs = cpu_get_reg(d->cpu, CPU_CS);
    switch (e->kind) {
    case MMU_EV_CR3:
        snprintf(buf, len, "paging break: CR3 load 0x%08x at %04x:%08x", e->addr, cs, eip);
        break;
    case MMU_EV_PTE_WRITE:
        snprintf(buf, len, "paging break: PTE write at 0x%08x: 0x%llx -> 0x%llx at %04x:%08x",
                 e->addr, (unsigned long long)e->old, (unsigned long long)e->new, cs, eip);
        break;
    case MMU_EV_INVLPG:
        snprintf(buf, len, "paging break: INVLPG 0x%08x at %04x:%08x", e->addr, cs, eip);
        break;
    case MMU_EV_PF:
        snprintf(buf, len, "paging break: page fault at 0x%08x error 0x%x at %04x:%08x",
                 e->addr, e->err, cs, eip);
        break;
    case MMU_EV_DEV_WRITE: /* never a paging breakpoint (on_event) */
        snprintf(buf, len, "device write at 0x%08x", e->addr);
        break;
    }
}

static void on_event(void *opaque, const struct mmu_event *e)
{
    struct dbg *d = opaque;
    if (d->stopped)
        return;
    if (e->kind == MMU_EV_DEV_WRITE) { /* not a paging event: for watchpoints */
        dbg_dev_write(d, e->addr, e->len);
        return;
    }
    if (d->hist) {
        struct dbg_hist *h = &d->hist[d->hist_n % d->hist_cap];
        *h = (struct dbg_hist){ .seq = d->hist_n, .icount = cpu_icount(d->cpu),
                                .kind = (int)e->kind, .cs = (u16)cpu_get_reg(d->cpu, CPU_CS),
                                .eip = cpu_insn_eip(d->cpu), .cr3 = e->cr3, .addr = e->addr,
                                .err = e->err, .old = e->old, .new = e->new };
        d->hist_n++;
    }
    if (d->pb_hit)
        return;
    for (unsigned k = 0; k < d->n_pb; k++) {
        if (pb_match(&d->pb[k], e)) {
            d->pb_hit = true;
            describe(d, e, d->pb_msg, sizeof d->pb_msg);
            cpu_request_exit(d->cpu);
            return;
        }
    }
}

void dbg_paging_sync(struct dbg *d)
{
    bool need = d->hist || d->n_pb || d->n_wp;
    mmu_set_event_hook(d->mmu, need ? on_event : NULL, need ? d : NULL);
}

int dbg_history_init(struct dbg *d, u32 n)
{
    free(d->hist);
    d->hist = NULL;
    d->hist_cap = 0;
    d->hist_n = 0;
    if (n) {
        d->hist = calloc(n, sizeof *d->hist);
        if (!d->hist)
            return -1;
        d->hist_cap = n;
    }
    dbg_paging_sync(d);
    return 0;
}

static bool num32(const char *s, u32 *v)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (*end || errno || x > 0xffffffffull)
        return false;
    *v = (u32)x;
    return true;
}

static void list_breaks(struct dbg *d, FILE *out)
{
    if (!d->n_pb)
        fprintf(out, "no paging breakpoints\n");
    for (unsigned k = 0; k < d->n_pb; k++) {
        const struct dbg_pbreak *b = &d->pb[k];
        fprintf(out, "%u: %s", k, kind_name[b->kind]);
        if (b->kind == MMU_EV_CR3 && !b->any)
            fprintf(out, " 0x%08x", b->value);
        if (b->kind == MMU_EV_PTE_WRITE)
            fprintf(out, " 0x%08x", b->value);
        if (b->kind == MMU_EV_PF)
            fprintf(out, " 0x%08x-0x%08x errmask 0x%x", b->lo, b->hi, b->errmask);
        fprintf(out, "\n");
    }
}

void dbg_cmd_break(struct dbg *d, unsigned argc, char **argv, FILE *out)
{
    static const char usage[] = "usage: break cr3 [VALUE] | pte ADDR | pf [START END] [ERRMASK]"
                                " | invlpg | list | clear\n";
    if (argc < 2 || !strcmp(argv[1], "list")) {
        list_breaks(d, out);
        return;
    }
    if (!strcmp(argv[1], "clear")) {
        d->n_pb = 0;
        d->pb_hit = false;
        dbg_paging_sync(d);
        fprintf(out, "paging breakpoints cleared\n");
        return;
    }
    struct dbg_pbreak b = { .lo = 0, .hi = 0xffffffffu };
    const char *w = argv[1];
    if (!strcmp(w, "cr3")) {
        b.kind = MMU_EV_CR3;
        b.any = argc < 3;
        if (argc >= 3 && !num32(argv[2], &b.value)) {
            fputs(usage, out);
            return;
        }
    } else if (!strcmp(w, "pte")) {
        b.kind = MMU_EV_PTE_WRITE;
        if (argc < 3 || !num32(argv[2], &b.value)) {
            fputs(usage, out);
            return;
        }
    } else if (!strcmp(w, "pf")) {
        b.kind = MMU_EV_PF;
        bool ok = true;
        if (argc == 3 || argc == 5)
            ok = num32(argv[argc - 1], &b.errmask);
        if (argc >= 4)
            ok = ok && num32(argv[2], &b.lo) && num32(argv[3], &b.hi) && b.lo <= b.hi;
        if (!ok) {
            fputs(usage, out);
            return;
        }
    } else if (!strcmp(w, "invlpg")) {
        b.kind = MMU_EV_INVLPG;
    } else {
        fputs(usage, out);
        return;
    }
    if (d->n_pb == DBG_MAX_PBREAK) {
        fprintf(out, "too many paging breakpoints (%u)\n", DBG_MAX_PBREAK);
        return;
    }
    d->pb[d->n_pb++] = b;
    dbg_paging_sync(d);
    list_breaks(d, out);
}

void dbg_cmd_history(struct dbg *d, unsigned argc, char **argv, FILE *out)
{
    if (!d->hist) {
        fprintf(out, "no paging history (start with -paging-history N)\n");
        return;
    }
    int kind = -1;
    bool have_addr = false;
    u32 addr = 0;
    if (argc >= 2) {
        for (int k = 0; k < 4; k++)
            if (!strcmp(argv[1], kind_name[k]))
                kind = k;
        have_addr = argc >= 3 && num32(argv[2], &addr);
        if (kind < 0 || (argc >= 3 && !have_addr)) {
            fprintf(out, "usage: history [cr3 | pte [ADDR] | pf [VADDR] | invlpg]\n");
            return;
        }
    }
    u64 first = d->hist_n > d->hist_cap ? d->hist_n - d->hist_cap : 0;
    unsigned shown = 0;
    for (u64 s = first; s < d->hist_n; s++) {
        const struct dbg_hist *h = &d->hist[s % d->hist_cap];
        if (kind >= 0 && h->kind != kind)
            continue;
        if (have_addr && h->kind == MMU_EV_PTE_WRITE &&
            !pte_match(addr, &(struct mmu_event){ .addr = h->addr }))
            continue;
        if (have_addr && h->kind == MMU_EV_PF && (h->addr & PAGE_MASK) != (addr & PAGE_MASK))
            continue;
        fprintf(out, "#%llu icount=%llu %04x:%08x cr3=%08x ", (unsigned long long)h->seq,
                (unsigned long long)h->icount, h->cs, h->eip, h->cr3);
        switch (h->kind) {
        case MMU_EV_CR3: fprintf(out, "cr3 load 0x%08x\n", h->addr); break;
        case MMU_EV_PTE_WRITE:
            fprintf(out, "pte 0x%08x: 0x%llx -> 0x%llx\n", h->addr, (unsigned long long)h->old,
                    (unsigned long long)h->new);
            break;
        case MMU_EV_INVLPG: fprintf(out, "invlpg 0x%08x\n", h->addr); break;
        default: fprintf(out, "pf 0x%08x error 0x%x\n", h->addr, h->err); break;
        }
        shown++;
    }
    fprintf(out, "%u of %llu events shown (the last %u are kept)\n", shown,
            (unsigned long long)d->hist_n, d->hist_cap);
}
