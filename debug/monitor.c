/*
 * The monitor: QEMU-style commands over the machine's state, reachable
 * from gdb ("monitor ...", qRcmd) and from -monitor (stdio or a socket).
 * Every command reads through the lower modules' public interfaces:
 * registers from cpu_get_sysregs(), translations from the walker's
 * side-effect-free peek (mmu_walk_peek), shadow contexts from
 * mmu_shadow_contexts(), counters from the registry.  Nothing here
 * changes guest state except stop/cont/system_reset/system_powerdown/quit.
 *
 * Dumps over the whole address space are bounded (MON_MAX_LINES) so an
 * unbounded "info tlb" answers at once; a range narrows them.
 */
#define _GNU_SOURCE
#include "session.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cpu/cpu.h"
#include "debug.h"
#include "devices/pc.h"
#include "devices/vga.h"
#include "mmu/mmu.h"
#include "translate/block.h"

#define MON_MAX_LINES 4096u
#define MON_PROMPT "(umbra) "
#define MON_LINE_MAX 1024

struct mon {
    struct dbg *d;
    int lfd, cfd;       /* socket: listener and client; stdio: cfd = 0 */
    bool stdio;
    /* -serial mon:stdio: the terminal (raw) goes to COM1 through mux_fd
     * or, after Ctrl-A c, to the monitor, which then echoes what it gets */
    int mux_fd;         /* 0: no mux */
    bool mux_mon;       /* the monitor has the terminal */
    bool mux_esc;       /* Ctrl-A seen */
    char unix_path[108];
    char in[MON_LINE_MAX];
    size_t nin;
};

/* ---- argument parsing ---- */

/* A number: 0x hex, or decimal (QEMU's monitor reads bare numbers as
 * decimal; addresses are usually given in hex with 0x). */
static bool num(const char *s, u64 *v)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (*end || errno)
        return false;
    *v = x;
    return true;
}

static bool num32(const char *s, u32 *v)
{
    u64 x;
    if (!num(s, &x) || x > 0xffffffffull)
        return false;
    *v = (u32)x;
    return true;
}

/* ---- x / xp ---- */

static void cmd_x(struct dbg *d, const char *fmt, const char *arg, bool phys, FILE *out)
{
    u32 count = 1, size = 4, addr;
    char format = 'x';
    const char *p = fmt;
    if (*p == '/') {
        p++;
        if (*p >= '0' && *p <= '9')
            count = (u32)strtoul(p, (char **)&p, 10);
        for (; *p; p++) {
            switch (*p) {
            case 'x': case 'd': case 'u': case 'i': format = *p; break;
            case 'b': size = 1; break;
            case 'h': size = 2; break;
            case 'w': size = 4; break;
            case 'g': size = 8; break;
            default:
                fprintf(out, "invalid format '%c' (formats x d u i, sizes b h w g)\n", *p);
                return;
            }
        }
    }
    if (!num32(arg, &addr)) {
        fprintf(out, "usage: %s/FMT ADDR\n", phys ? "xp" : "x");
        return;
    }
    if (count == 0 || count > 4096)
        count = count ? 4096 : 1;
    if (format == 'i') {
        csh cs;
        if (cs_open(CS_ARCH_X86, CS_MODE_32, &cs) != CS_ERR_OK) {
            fprintf(out, "disassembler unavailable\n");
            return;
        }
        for (u32 k = 0; k < count; k++) {
            u8 b[16];
            u32 n = 16;
            while (n && dbg_read(d, addr, b, n, phys) < 0)
                n--;
            cs_insn *insn;
            if (!n || cs_disasm(cs, b, n, addr, 1, &insn) != 1) {
                fprintf(out, "0x%08x: (cannot access or decode)\n", addr);
                break;
            }
            fprintf(out, "0x%08x:  %s %s\n", addr, insn->mnemonic, insn->op_str);
            addr += insn->size;
            cs_free(insn, 1);
        }
        cs_close(&cs);
        return;
    }
    u32 per_line = size == 8 ? 2 : size == 4 ? 4 : 8;
    for (u32 k = 0; k < count; k++) {
        u32 a = addr + k * size;
        if (k % per_line == 0)
            fprintf(out, "%s%08x:", k ? "\n" : "", a);
        u8 b[8];
        if (dbg_read(d, a, b, size, phys) < 0) {
            fprintf(out, " Cannot access memory\n");
            return;
        }
        u64 v = 0;
        for (u32 i = 0; i < size; i++)
            v |= (u64)b[i] << (8 * i);
        if (format == 'x')
            fprintf(out, " 0x%0*llx", (int)size * 2, (unsigned long long)v);
        else if (format == 'u')
            fprintf(out, " %llu", (unsigned long long)v);
        else {
            i64 sv = size == 8 ? (i64)v : (i64)(v << (64 - 8 * size)) >> (64 - 8 * size);
            fprintf(out, " %lld", (long long)sv);
        }
    }
    fprintf(out, "\n");
}

/* ---- translations ---- */

static void entry_flags(u64 e, char *buf)
{
    snprintf(buf, 64, "%s%s%s%s%s%s%s%s%s", e & PTE_P ? "P" : "-", e & PTE_RW ? " W" : " R",
             e & PTE_US ? " U" : " S", e & PTE_A ? " A" : "", e & PTE_D ? " D" : "",
             e & PTE_PS ? " PS" : "", e & PTE_G ? " G" : "", e & PTE_XD ? " XD" : "",
             (e & 0x18) ? " PCD/PWT" : "");
}

static const char *level_name(unsigned level)
{
    return level == PG_LEVEL_PDPTE ? "PDPTE" : level == PG_LEVEL_PDE ? "PDE" : "PTE";
}

static void print_err(u32 err, FILE *out)
{
    fprintf(out, "0x%x (%s, %s, %s%s%s)", err, err & PF_P ? "protection" : "not present",
            err & PF_W ? "write" : "read", err & PF_U ? "user" : "supervisor",
            err & PF_RSVD ? ", reserved bit" : "", err & PF_ID ? ", fetch" : "");
}

static void cmd_walk(struct dbg *d, const char *a1, const char *a2, FILE *out)
{
    u32 lin, cr3 = cpu_get_reg(d->cpu, CPU_CR3);
    if (!num32(a1, &lin) || (a2 && !num32(a2, &cr3))) {
        fprintf(out, "usage: walk VADDR [CR3]\n");
        return;
    }
    struct pg_peek p;
    int rc = mmu_walk_peek(d->mmu, cr3, lin, ACC_READ, false, &p);
    if (!p.paging) {
        fprintf(out, "paging is off: linear 0x%08x is physical 0x%08x\n", lin, lin);
        return;
    }
    fprintf(out, "walk 0x%08x cr3=0x%08x (%s)\n", lin, cr3, p.pae ? "PAE" : "32-bit");
    for (unsigned k = 0; k < p.n; k++) {
        char f[64];
        entry_flags(p.lv[k].val, f);
        fprintf(out, "  %-5s at 0x%09llx = 0x%0*llx  %s\n", level_name(p.lv[k].level),
                (unsigned long long)p.lv[k].addr, p.pae ? 16 : 8,
                (unsigned long long)p.lv[k].val, f);
    }
    if (rc == 0) {
        fprintf(out, "  -> physical 0x%09llx (%s page, %s%s%s)\n", (unsigned long long)p.gpa,
                p.big ? (p.pae ? "2 MiB" : "4 MiB") : "4 KiB",
                p.perm & PG_PERM_USER ? "user" : "supervisor",
                p.perm & PG_PERM_WRITE ? " writable" : " read-only",
                p.perm & PG_PERM_NX ? " no-execute" : "");
    } else {
        fprintf(out, "  -> page fault, error code ");
        print_err(p.fault.err, out);
        fprintf(out, "\n");
    }
}

static void cmd_gva2gpa(struct dbg *d, const char *a, FILE *out)
{
    u32 lin, gpa;
    if (!num32(a, &lin)) {
        fprintf(out, "usage: gva2gpa ADDR\n");
        return;
    }
    if (dbg_lin_to_phys(d, 0, lin, &gpa))
        fprintf(out, "gpa: 0x%x\n", gpa);
    else
        fprintf(out, "Unmapped\n");
}

/* How much linear space a failed walk rules out: the span of the level
 * whose entry was not present (or the page). */
static u64 fault_span(const struct pg_peek *p)
{
    if (!p->n)
        return PAGE_SIZE;
    switch (p->lv[p->n - 1].level) {
    case PG_LEVEL_PDPTE: return 1ull << 30;
    case PG_LEVEL_PDE: return p->pae ? 1ull << 21 : 1ull << 22;
    default: return PAGE_SIZE;
    }
}

/* Parse the optional [START END] of info mem / info tlb. */
static bool range_args(const char *a1, const char *a2, u64 *lo, u64 *hi, FILE *out)
{
    *lo = 0;
    *hi = 1ull << 32;
    if (!a1)
        return true;
    u32 s, e;
    if (!num32(a1, &s) || !a2 || !num32(a2, &e) || e < s) {
        fprintf(out, "usage: info mem|tlb [START END]\n");
        return false;
    }
    *lo = s & PAGE_MASK;
    *hi = (u64)e + 1;
    return true;
}

static char perm_char(u32 perm, u32 bit, char c)
{
    return perm & bit ? c : '-';
}

/* info tlb (each page) or info mem (merged ranges of equal rights). */
static void cmd_mappings(struct dbg *d, const char *a1, const char *a2, bool merge, FILE *out)
{
    u64 lo, hi;
    if (!range_args(a1, a2, &lo, &hi, out))
        return;
    u32 cr3 = cpu_get_reg(d->cpu, CPU_CR3);
    struct pg_peek p;
    if (mmu_walk_peek(d->mmu, cr3, 0, ACC_READ, false, &p) == 0 && !p.paging) {
        fprintf(out, "paging is off\n");
        return;
    }
    unsigned lines = 0;
    u64 run_start = 0, run_end = 0;
    u32 run_perm = 0;
    bool in_run = false;
    for (u64 a = lo; a < hi;) {
        int rc = mmu_walk_peek(d->mmu, cr3, (u32)a, ACC_READ, false, &p);
        u64 span;
        if (rc != 0 && (!(p.fault.err & PF_P) || (p.fault.err & PF_RSVD))) {
            span = p.fault.err & PF_RSVD ? PAGE_SIZE : fault_span(&p);
            a = (a & ~(span - 1)) + span;
            if (in_run && merge) {
                fprintf(out, "%08llx-%08llx %08llx %c%c%c%c\n", (unsigned long long)run_start,
                        (unsigned long long)run_end, (unsigned long long)(run_end - run_start),
                        perm_char(run_perm, PG_PERM_USER, 'u'), 'r',
                        perm_char(run_perm, PG_PERM_WRITE, 'w'),
                        run_perm & PG_PERM_NX ? '-' : 'x');
                lines++;
                in_run = false;
            }
            continue;
        }
        span = PAGE_SIZE;
        u32 perm = p.perm & (PG_PERM_USER | PG_PERM_WRITE | PG_PERM_NX);
        if (merge) {
            if (in_run && run_end == a && run_perm == perm) {
                run_end = a + span;
            } else {
                if (in_run) {
                    fprintf(out, "%08llx-%08llx %08llx %c%c%c%c\n",
                            (unsigned long long)run_start, (unsigned long long)run_end,
                            (unsigned long long)(run_end - run_start),
                            perm_char(run_perm, PG_PERM_USER, 'u'), 'r',
                            perm_char(run_perm, PG_PERM_WRITE, 'w'),
                            run_perm & PG_PERM_NX ? '-' : 'x');
                    lines++;
                }
                in_run = true;
                run_start = a;
                run_end = a + span;
                run_perm = perm;
            }
        } else {
            char f[64];
            entry_flags(p.lv[p.n - 1].val, f);
            fprintf(out, "%08llx: %09llx %s\n", (unsigned long long)a,
                    (unsigned long long)(p.gpa & ~0xfffull), f);
            lines++;
        }
        a += span;
        if (lines >= MON_MAX_LINES) {
            fprintf(out, "... stopped after %u lines at 0x%08llx; give START END\n", lines,
                    (unsigned long long)a);
            return;
        }
    }
    if (in_run && merge)
        fprintf(out, "%08llx-%08llx %08llx %c%c%c%c\n", (unsigned long long)run_start,
                (unsigned long long)run_end, (unsigned long long)(run_end - run_start),
                perm_char(run_perm, PG_PERM_USER, 'u'), 'r',
                perm_char(run_perm, PG_PERM_WRITE, 'w'), run_perm & PG_PERM_NX ? '-' : 'x');
}

static void cmd_shadow(struct dbg *d, const char *a, FILE *out)
{
    u32 want = 0;
    if (a && !num32(a, &want)) {
        fprintf(out, "usage: info shadow [CR3]\n");
        return;
    }
    enum { MAX_CTX = 4097 }; /* -mmu-contexts at most 4096, and the global slot */
    struct mmu_shadow_ctx *ctx = malloc(MAX_CTX * sizeof *ctx);
    unsigned n = ctx ? mmu_shadow_contexts(d->mmu, ctx, MAX_CTX) : 0;
    if (!n) {
        fprintf(out, ctx ? "no shadow page tables (-mmu flush)\n" : "out of memory\n");
        free(ctx);
        return;
    }
    for (unsigned k = 0; k < n; k++) {
        const struct mmu_shadow_ctx *c = &ctx[k];
        if (a && (c->slot == 0 || c->cr3 != (want & (c->pae ? 0xffffffe0u : PAGE_MASK))))
            continue;
        if (c->slot == 0)
            fprintf(out, "global    entries=%u leaves=%u hits=%llu\n", c->entries, c->leaves,
                    (unsigned long long)c->hits);
        else
            fprintf(out, "slot %-4u cr3=0x%08x mode=%s%s%s age=%llu entries=%u leaves=%u "
                         "hits=%llu%s\n",
                    c->slot, c->cr3, c->pae ? "pae" : "32", c->pse ? ",pse" : "",
                    c->nxe ? ",nx" : "", (unsigned long long)c->age, c->entries, c->leaves,
                    (unsigned long long)c->hits, c->current ? " current" : "");
    }
    free(ctx);
}

static void cmd_tracked(struct dbg *d, FILE *out)
{
    const struct mmu *m = d->mmu;
    unsigned lines = 0;
    for (u32 pfn = 0; pfn < (1u << 20); pfn++) {
        u8 f = m->page_flags[pfn];
        if (!(f & (PG_PT | PG_CODE)))
            continue;
        fprintf(out, "0x%08x", pfn << PAGE_SHIFT);
        if (f & PG_PT)
            fprintf(out, " page-table (shadow entries derived from it)");
        if ((f & PG_CODE) && m->code_lines && (u64)pfn << PAGE_SHIFT < m->ram_size) {
            unsigned lc = 0;
            for (unsigned w = 0; w < MMU_CODE_LINE_WORDS; w++)
                lc += (unsigned)__builtin_popcountll(
                    m->code_lines[(size_t)pfn * MMU_CODE_LINE_WORDS + w]);
            fprintf(out, " code (%u of %u lines decoded from)", lc, PAGE_SIZE >> MMU_CODE_LINE_SHIFT);
        } else if (f & PG_CODE) {
            fprintf(out, " code");
        }
        fprintf(out, "\n");
        if (++lines >= MON_MAX_LINES) {
            fprintf(out, "... stopped after %u pages\n", lines);
            return;
        }
    }
    if (!lines)
        fprintf(out, "no page is write-tracked\n");
}

static void cmd_l1(struct dbg *d, FILE *out)
{
    const struct mmu *m = d->mmu;
    static const char acc[3] = { 'r', 'w', 'x' };
    unsigned lines = 0;
    for (unsigned t = 0; t < 2; t++) {
        fprintf(out, "L1 %s (current tag %u):\n", t ? "user (CPL 3)" : "supervisor (CPL 0-2)",
                m->tlb[t].ctx);
        for (unsigned k = 0; k < TLB_SIZE; k++) {
            const struct tlb_entry *e = &m->tlb[t].e[k];
            for (unsigned a = 0; a < 3; a++) {
                u32 tag = e->tag[a];
                if (tag == TLB_INVALID)
                    continue;
                u32 lin = tag & PAGE_MASK;
                uintptr_t host = (uintptr_t)lin + e->addend;
                long long gpa = -1;
                if (m->ram && host >= (uintptr_t)m->ram && host < (uintptr_t)m->ram + m->ram_size)
                    gpa = (long long)(host - (uintptr_t)m->ram);
                fprintf(out, "  [%4u] %c lin=0x%08x tag=%u", k, acc[a], lin, tag & ~PAGE_MASK);
                if (gpa >= 0)
                    fprintf(out, " gpa=0x%08llx", gpa);
                fprintf(out, "%s\n", e->flags & TLB_GLOBAL ? " global" : "");
                if (++lines >= MON_MAX_LINES) {
                    fprintf(out, "... stopped after %u entries\n", lines);
                    return;
                }
            }
        }
    }
}

static void cmd_info_regs(struct dbg *d, FILE *out)
{
    struct cpu_sysregs s;
    cpu_get_sysregs(d->cpu, &s);
    cpu_dump_state(d->cpu, out);
    fprintf(out, "EFER=%016llx CPL=%u\n", (unsigned long long)s.efer, s.cpl);
}

static void cmd_stats(struct dbg *d, FILE *out)
{
    cpu_sync_counters(d->cpu);
    if (d->pc->blocks)
        blocks_sync_counters(d->pc->blocks);
    for (unsigned k = 0; k < CNT__COUNT; k++)
        fprintf(out, "%-28s %12llu  %s\n", counter_name((enum counter_id)k),
                (unsigned long long)d->pc->cnt.v[k], counter_desc((enum counter_id)k));
}

/* info blocks [N]: the profiler's hottest blocks.  Without -profile the
 * first call starts counting (a profiler and a tracer of the monitor's
 * own, so blocks run unlinked from then on). */
static void cmd_blocks(struct dbg *d, const char *arg, FILE *out)
{
    u32 n = 10;
    if (arg && (!num32(arg, &n) || !n)) {
        fprintf(out, "usage: info blocks [N]\n");
        return;
    }
    struct prof *p = d->prof ? d->prof : d->own_prof;
    if (!p) {
        if (!d->pc->blocks) {
            fprintf(out, "info blocks: no blocks under -exec interp\n");
            return;
        }
        if (blocks_observed(d->pc->blocks)) {
            fprintf(out, "info blocks: a -d trace watches the blocks: start with -profile\n");
            return;
        }
        struct prof_config pc = { "/dev/null", d->kernel, d->symbols };
        struct trace_config tc = { .mask = 0 };
        if (!(d->own_prof = prof_new(d->pc, &pc, out)))
            return;
        tc.prof = d->own_prof;
        tc.profile = true;
        if (!(d->own_tracer = tracer_new(d->pc, &tc, out))) {
            prof_free(d->own_prof);
            d->own_prof = NULL;
            return;
        }
        fprintf(out, "counting block runs from now on (blocks run unlinked); ask again later\n");
        return;
    }
    if (prof_print_top(p, n, out) < 0)
        fprintf(out, "info blocks: out of memory\n");
}

static const char help_text[] =
    "help                    this list\n"
    "info registers          CPU registers\n"
    "info mem [START END]    mapped linear ranges with rights (urwx)\n"
    "info tlb [START END]    every mapped page: linear, physical, leaf flags\n"
    "info shadow [CR3]       shadow address spaces: CR3, mode, LRU age, entries, hits\n"
    "info tracked            guest pages under write tracking, and why\n"
    "info l1                 live software TLB entries with address-space tags\n"
    "info blocks [N]         the N (10) hottest blocks with their disassembly\n"
    "x/FMT ADDR              linear memory; FMT = [count][x|d|u|i][b|h|w|g]\n"
    "xp/FMT ADDR             physical memory, same format\n"
    "gva2gpa ADDR            linear to physical through the current tables\n"
    "walk VADDR [CR3]        each level of the walk, then the address or the fault\n"
    "phys on|off             gdb memory accesses take physical addresses\n"
    "break cr3 [VALUE]       stop after a CR3 load (of VALUE)\n"
    "break pte ADDR          stop after a write to the page-table entry at ADDR\n"
    "break pf [START END] [ERRMASK]  stop at the handler of a #PF in the range\n"
    "                        whose error code has every ERRMASK bit\n"
    "break invlpg            stop after an INVLPG\n"
    "break [list] | clear    list or remove the paging breakpoints\n"
    "history [cr3 | pte [ADDR] | pf [VADDR] | invlpg]  paging events (-paging-history)\n"
    "stats                   every counter\n"
    "screendump FILE         the screen as a PNG file (FILE relative to umbra's directory)\n"
    "stop, cont              hold or resume the machine\n"
    "system_reset            pull the reset line\n"
    "system_powerdown        press the ACPI power button\n"
    "quit                    end the run\n";

/* The picture as vga_render() draws it, written between two slices of
 * the run, so it is the screen at one instant of guest time. */
static void cmd_screendump(struct dbg *d, const char *path, FILE *out)
{
    if (!path) {
        fprintf(out, "usage: screendump FILE\n");
        return;
    }
    if (!d->pc->vga) {
        fprintf(out, "screendump: there is no display adapter (-vga none)\n");
        return;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(out, "screendump %s: %s\n", path, strerror(errno));
        return;
    }
    fclose(f);
    if (vga_screendump(d->pc->vga, path) < 0)
        fprintf(out, "screendump %s: cannot write the PNG file\n", path);
}

void mon_exec(struct dbg *d, const char *line, FILE *out)
{
    char buf[MON_LINE_MAX];
    snprintf(buf, sizeof buf, "%s", line);
    char *argv[6] = { 0 };
    unsigned argc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, " \t\r\n", &save); tok && argc < 6;
         tok = strtok_r(NULL, " \t\r\n", &save))
        argv[argc++] = tok;
    if (!argc)
        return;
    const char *cmd = argv[0];
    if (!strcmp(cmd, "help") || !strcmp(cmd, "?")) {
        fputs(help_text, out);
    } else if (!strcmp(cmd, "info") && argc >= 2) {
        const char *what = argv[1];
        if (!strcmp(what, "registers"))
            cmd_info_regs(d, out);
        else if (!strcmp(what, "mem"))
            cmd_mappings(d, argv[2], argv[3], true, out);
        else if (!strcmp(what, "tlb"))
            cmd_mappings(d, argv[2], argv[3], false, out);
        else if (!strcmp(what, "shadow"))
            cmd_shadow(d, argv[2], out);
        else if (!strcmp(what, "tracked"))
            cmd_tracked(d, out);
        else if (!strcmp(what, "l1"))
            cmd_l1(d, out);
        else if (!strcmp(what, "blocks"))
            cmd_blocks(d, argv[2], out);
        else
            fprintf(out, "unknown: info %s (try help)\n", what);
    } else if (!strncmp(cmd, "xp", 2) && (cmd[2] == '/' || !cmd[2])) {
        cmd_x(d, cmd + 2, argv[1], true, out);
    } else if (cmd[0] == 'x' && (cmd[1] == '/' || !cmd[1])) {
        cmd_x(d, cmd + 1, argv[1], false, out);
    } else if (!strcmp(cmd, "gva2gpa")) {
        cmd_gva2gpa(d, argv[1], out);
    } else if (!strcmp(cmd, "walk")) {
        cmd_walk(d, argv[1], argv[2], out);
    } else if (!strcmp(cmd, "phys")) {
        if (argv[1] && (!strcmp(argv[1], "on") || !strcmp(argv[1], "off")))
            d->phys = !strcmp(argv[1], "on");
        fprintf(out, "gdb memory accesses are %s\n", d->phys ? "physical" : "linear");
    } else if (!strcmp(cmd, "break")) {
        dbg_cmd_break(d, argc, argv, out);
    } else if (!strcmp(cmd, "history")) {
        dbg_cmd_history(d, argc, argv, out);
    } else if (!strcmp(cmd, "stats")) {
        cmd_stats(d, out);
    } else if (!strcmp(cmd, "screendump")) {
        cmd_screendump(d, argv[1], out);
    } else if (!strcmp(cmd, "stop")) {
        if (!d->stopped)
            dbg_stop(d, 2, "");
        fprintf(out, "stopped at eip=0x%08x\n", cpu_get_reg(d->cpu, CPU_EIP));
    } else if (!strcmp(cmd, "cont") || !strcmp(cmd, "c")) {
        if (d->stopped)
            dbg_resume(d, false);
        fprintf(out, "running\n");
    } else if (!strcmp(cmd, "system_reset")) {
        pc_request_reset(d->pc);
        fprintf(out, "reset requested\n");
    } else if (!strcmp(cmd, "system_powerdown")) {
        if (pc_power_button(d->pc))
            fprintf(out, "power button pressed\n");
        else
            fprintf(out, "no ACPI power button (-no-acpi)\n");
    } else if (!strcmp(cmd, "quit") || !strcmp(cmd, "q")) {
        d->quit = true;
        d->stopped = false;
    } else {
        fprintf(out, "unknown command: %s (try help)\n", cmd);
    }
}

/* ---- the -monitor endpoint ---- */

static void mon_write(struct mon *m, const char *s, size_t n)
{
    int fd = m->stdio ? 1 : m->cfd;
    while (n && fd >= 0) {
        ssize_t w = m->stdio ? write(fd, s, n) : send(fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void mon_puts(struct mon *m, const char *s)
{
    mon_write(m, s, strlen(s));
}

void mon_notify(struct mon *m, const char *line)
{
    if (!m->stdio && m->cfd < 0)
        return;
    mon_puts(m, line);
    mon_puts(m, "\n");
}

static void mon_line(struct mon *m, const char *line)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return;
    mon_exec(m->d, line, f);
    fclose(f);
    mon_write(m, text, len);
    free(text);
    if (!m->d->quit)
        mon_puts(m, MON_PROMPT);
}

/* The keys of -serial mon:stdio (QEMU's): Ctrl-A then c, x, h or Ctrl-A. */
static const char mux_help[] =
    "C-a h    print this help\r\n"
    "C-a x    exit the emulator\r\n"
    "C-a c    switch between console and monitor\r\n"
    "C-a C-a  sends C-a\r\n";

/* Route `n` terminal bytes at `p` (-serial mon:stdio): escapes are acted
 * on, COM1's bytes written to mux_fd, and the monitor's appended to its
 * line buffer (echoed, CR as end of line, DEL/BS erasing). */
static void mux_bytes(struct mon *m, const char *p, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)p[k];
        if (m->mux_esc) {
            m->mux_esc = false;
            if (c == 'c') {
                m->mux_mon = !m->mux_mon;
                if (m->mux_mon)
                    mon_puts(m, "\r\n" MON_PROMPT);
                continue;
            }
            if (c == 'x') {
                mon_puts(m, "\r\nterminating on C-a x\r\n");
                m->d->quit = true;
                return;
            }
            if (c == 'h') {
                mon_puts(m, mux_help);
                continue;
            }
            if (c != 1)
                continue;
        } else if (c == 1) {
            m->mux_esc = true;
            continue;
        }
        if (!m->mux_mon) {
            if (write(m->mux_fd, &c, 1) < 0) {
                /* COM1's pipe is full: the byte is lost, as on a UART */
            }
            continue;
        }
        if (c == 0x7f || c == 8) {
            if (m->nin > 0) {
                m->nin--;
                mon_puts(m, "\b \b");
            }
            continue;
        }
        if (c == '\r')
            c = '\n';
        if (c == '\n')
            mon_puts(m, "\r\n");
        else
            mon_write(m, (const char *)&c, 1);
        if (m->nin < sizeof m->in - 1)
            m->in[m->nin++] = (char)c;
    }
}

void mon_input(struct mon *m)
{
    if (!m->stdio && m->cfd < 0) {
        m->cfd = accept4(m->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (m->cfd >= 0)
            mon_puts(m, "Umbra monitor - type 'help' for more information\n" MON_PROMPT);
        return;
    }
    char raw[256];
    bool mux = m->mux_fd > 0;
    ssize_t n = mux ? read(m->cfd, raw, sizeof raw)
                    : read(m->cfd, m->in + m->nin, sizeof m->in - 1 - m->nin);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        if (!m->stdio)
            close(m->cfd);
        m->cfd = -1;
        m->nin = 0;
        return;
    }
    if (mux) {
        mux_bytes(m, raw, (size_t)n);
        if (m->d->quit)
            return;
    } else {
        m->nin += (size_t)n;
    }
    for (;;) {
        char *nl = memchr(m->in, '\n', m->nin);
        if (!nl) {
            if (m->nin == sizeof m->in - 1)
                m->nin = 0; /* a line too long: dropped */
            return;
        }
        *nl = 0;
        mon_line(m, m->in);
        size_t used = (size_t)(nl + 1 - m->in);
        memmove(m->in, nl + 1, m->nin - used);
        m->nin -= used;
    }
}

int mon_fd(const struct mon *m)
{
    return m->stdio || m->cfd >= 0 ? m->cfd : m->lfd;
}

struct mon *mon_open(struct dbg *d, const char *spec, int mux_fd, FILE *err)
{
    struct mon *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->d = d;
    m->cfd = -1;
    m->lfd = -1;
    if (!strcmp(spec, "stdio")) {
        m->stdio = true;
        m->cfd = 0;
        m->mux_fd = mux_fd;
        if (mux_fd <= 0)
            mon_puts(m, "Umbra monitor - type 'help' for more information\n" MON_PROMPT);
        return m;
    }
    char why[160];
    m->lfd = chr_listen(spec, why, sizeof why);
    if (m->lfd < 0) {
        fprintf(err, "umbra: -monitor %s: %s\n", spec, why);
        free(m);
        return NULL;
    }
    if (!strncmp(spec, "unix:", 5))
        snprintf(m->unix_path, sizeof m->unix_path, "%.*s", (int)strcspn(spec + 5, ","),
                 spec + 5);
    return m;
}

void mon_close(struct mon *m)
{
    if (!m->stdio && m->cfd >= 0)
        close(m->cfd);
    if (m->lfd >= 0)
        close(m->lfd);
    if (m->unix_path[0])
        unlink(m->unix_path);
    free(m);
}
