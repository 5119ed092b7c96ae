/*
 * The gdb remote serial protocol stub (GDB manual, appendix E "GDB Remote
 * Serial Protocol"; target descriptions: appendix G).  One client at a
 * time on a listening socket; packets are read when the session's poll
 * finds the socket readable, so the stub runs in the CPU's thread between
 * slices and never while an instruction executes.
 *
 * Register numbering follows the target description sent in target.xml:
 *
 *    0-7   eax ecx edx ebx esp ebp esi edi     (gdb's i386 core feature)
 *    8-9   eip eflags
 *   10-15  cs ss ds es fs gs
 *   16-23  st0-st7 (10 bytes each)
 *   24-31  fctrl fstat ftag fiseg fioff foseg fooff fop
 *   32-     org.umbra.i386.sys: cr0 cr2 cr3 cr4 efer(64) gdtr_base
 *           gdtr_limit idtr_base idtr_limit ldtr tr, then base and limit
 *           of cs ss ds es fs gs
 *
 * Only the general registers, EIP and EFLAGS can be written; writes to
 * the others are accepted and ignored (a selector load would need the
 * descriptor checks of a real MOV).
 */
#define _GNU_SOURCE
#include "session.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cpu/cpu.h"
#include "mmu/mmu.h"

#define GDB_PKT_MAX 0x4000
#define GDB_SIGINT 2
#define GDB_SIGTRAP 5

struct gdb {
    struct dbg *d;
    int lfd, cfd;
    char unix_path[108]; /* removed at close, when ours */
    bool waiting;        /* gdb sent c/s and waits for a stop reply */
    int last_sig;
    char in[GDB_PKT_MAX + 8];
    size_t nin;
};

/* Segment order of gdb (cs ss ds es fs gs) -> cpu_sysregs.seg[] (ES CS SS DS FS GS). */
static const unsigned gdb_seg[6] = { 1, 2, 3, 0, 4, 5 };

#define REG_SYS 32
#define REG_COUNT (REG_SYS + 11 + 12)

static const char hexd[] = "0123456789abcdef";

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void put_hex(char *out, const u8 *b, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        out[2 * k] = hexd[b[k] >> 4];
        out[2 * k + 1] = hexd[b[k] & 15];
    }
    out[2 * n] = 0;
}

/* Decode hex into bytes; returns the count or -1. */
static long get_hex(const char *s, u8 *b, size_t max)
{
    size_t n = 0;
    while (s[0] && s[1] && n < max) {
        int hi = hexval(s[0]), lo = hexval(s[1]);
        if (hi < 0 || lo < 0)
            return -1;
        b[n++] = (u8)(hi << 4 | lo);
        s += 2;
    }
    return *s ? -1 : (long)n;
}

static bool parse_num(const char **p, u32 *v)
{
    u64 x = 0;
    const char *s = *p;
    if (hexval(*s) < 0)
        return false;
    while (hexval(*s) >= 0) {
        x = x << 4 | (u64)hexval(*s++);
        if (x > 0xffffffffull)
            return false;
    }
    *v = (u32)x;
    *p = s;
    return true;
}

static void send_raw(struct gdb *g, const char *s, size_t n)
{
    while (n && g->cfd >= 0) {
        ssize_t w = send(g->cfd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void send_packet(struct gdb *g, const char *payload)
{
    size_t n = strlen(payload);
    char *buf = malloc(n + 5);
    if (!buf)
        return;
    u8 sum = 0;
    buf[0] = '$';
    for (size_t k = 0; k < n; k++) {
        buf[k + 1] = payload[k];
        sum += (u8)payload[k];
    }
    buf[n + 1] = '#';
    buf[n + 2] = hexd[sum >> 4];
    buf[n + 3] = hexd[sum & 15];
    send_raw(g, buf, n + 4);
    free(buf);
}

/* ---- registers ---- */

/* Register `n` as little-endian bytes; returns its size (0: no such). */
static unsigned reg_get(struct gdb *g, unsigned n, u8 *b)
{
    struct cpu *c = g->d->cpu;
    struct cpu_sysregs s;
    cpu_get_sysregs(c, &s);
    u64 v;
    unsigned size = 4;
    if (n < 8)
        v = cpu_get_reg(c, (enum cpu_reg)(CPU_EAX + n));
    else if (n == 8)
        v = cpu_get_reg(c, CPU_EIP);
    else if (n == 9)
        v = s.eflags;
    else if (n < 16)
        v = s.seg[gdb_seg[n - 10]].sel;
    else if (n < 24) {
        memcpy(b, s.st[n - 16], 10);
        return 10;
    } else if (n < 32) {
        const u32 x87[8] = { s.fcw, s.fsw, s.ftw, s.fcs, s.fip, s.fds, s.fdp, s.fop };
        v = x87[n - 24];
    } else if (n < REG_SYS + 11) {
        switch (n - REG_SYS) {
        case 0: v = s.cr0; break;
        case 1: v = s.cr2; break;
        case 2: v = s.cr3; break;
        case 3: v = s.cr4; break;
        case 4: v = s.efer; size = 8; break;
        case 5: v = s.gdtr_base; break;
        case 6: v = s.gdtr_limit; break;
        case 7: v = s.idtr_base; break;
        case 8: v = s.idtr_limit; break;
        case 9: v = s.ldtr.sel; break;
        default: v = s.tr.sel; break;
        }
    } else if (n < REG_COUNT) {
        unsigned k = n - (REG_SYS + 11);
        const struct cpu_seg_view *sv = &s.seg[gdb_seg[k / 2]];
        v = k & 1 ? sv->limit : sv->base;
    } else {
        return 0;
    }
    for (unsigned k = 0; k < size; k++)
        b[k] = (u8)(v >> (8 * k));
    return size;
}

/* Set register `n` from little-endian bytes, as the CPU would load it
 * (cpu_set_sysreg, cpu_set_seg: a value it would fault on is refused).
 * Returns 0, or -1 if refused or there is no such register. */
static int reg_set(struct gdb *g, unsigned n, const u8 *b)
{
    struct cpu *c = g->d->cpu;
    u64 v = 0;
    for (unsigned k = 0; k < 8; k++)
        v |= (u64)b[k] << (8 * k);
    u32 v32 = (u32)v;
    static const enum cpu_sysreg sys[11] = {
        CPU_SR_CR0, CPU_SR_CR2, CPU_SR_CR3, CPU_SR_CR4, CPU_SR_EFER, CPU_SR_GDTR_BASE,
        CPU_SR_GDTR_LIMIT, CPU_SR_IDTR_BASE, CPU_SR_IDTR_LIMIT, CPU_SR_LDTR, CPU_SR_TR,
    };
    if (n < 8)
        cpu_set_reg(c, (enum cpu_reg)(CPU_EAX + n), v32);
    else if (n == 8)
        cpu_set_reg(c, CPU_EIP, v32);
    else if (n == 9)
        cpu_set_reg(c, CPU_EFLAGS, v32);
    else if (n < 16)
        return v32 > 0xffff ? -1 : cpu_set_seg(c, gdb_seg[n - 10], (u16)v32);
    else if (n < 32)
        cpu_set_x87(c, n - 16, b);
    else if (n < REG_SYS + 11)
        return cpu_set_sysreg(c, sys[n - REG_SYS], n == REG_SYS + 4 ? v : v32);
    else if (n < REG_COUNT)
        cpu_set_seg_cache(c, gdb_seg[(n - (REG_SYS + 11)) / 2], (n - (REG_SYS + 11)) & 1, v32);
    else
        return -1;
    return 0;
}

static void cmd_read_regs(struct gdb *g)
{
    char out[REG_COUNT * 20 + 1], *p = out;
    for (unsigned n = 0; n < REG_COUNT; n++) {
        u8 b[10];
        unsigned size = reg_get(g, n, b);
        put_hex(p, b, size);
        p += 2 * size;
    }
    send_packet(g, out);
}

static void cmd_write_regs(struct gdb *g, const char *hex)
{
    u8 b[REG_COUNT * 10];
    long n = get_hex(hex, b, sizeof b);
    if (n < 0) {
        send_packet(g, "E01");
        return;
    }
    /* Only registers whose value changes are set: reloading an unchanged
     * CR3 or selector would have effects (a TLB flush, an Accessed bit)
     * gdb did not ask for. */
    unsigned off = 0;
    bool refused = false;
    for (unsigned r = 0; r < REG_COUNT; r++) {
        u8 cur[10], val[10] = { 0 };
        unsigned size = reg_get(g, r, cur);
        if (off + size > (unsigned)n)
            break;
        memcpy(val, b + off, size);
        if (memcmp(cur, val, size) && reg_set(g, r, val) < 0)
            refused = true;
        off += size;
    }
    send_packet(g, refused ? "E02" : "OK");
}

/* ---- target description ---- */

static const char target_xml[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
    "<target version=\"1.0\">\n"
    "<architecture>i386</architecture>\n"
    "<feature name=\"org.gnu.gdb.i386.core\">\n"
    "<flags id=\"i386_eflags\" size=\"4\">\n"
    " <field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"\" start=\"1\" end=\"1\"/>\n"
    " <field name=\"PF\" start=\"2\" end=\"2\"/><field name=\"AF\" start=\"4\" end=\"4\"/>\n"
    " <field name=\"ZF\" start=\"6\" end=\"6\"/><field name=\"SF\" start=\"7\" end=\"7\"/>\n"
    " <field name=\"TF\" start=\"8\" end=\"8\"/><field name=\"IF\" start=\"9\" end=\"9\"/>\n"
    " <field name=\"DF\" start=\"10\" end=\"10\"/><field name=\"OF\" start=\"11\" end=\"11\"/>\n"
    " <field name=\"NT\" start=\"14\" end=\"14\"/><field name=\"RF\" start=\"16\" end=\"16\"/>\n"
    " <field name=\"VM\" start=\"17\" end=\"17\"/><field name=\"AC\" start=\"18\" end=\"18\"/>\n"
    " <field name=\"VIF\" start=\"19\" end=\"19\"/><field name=\"VIP\" start=\"20\" end=\"20\"/>\n"
    " <field name=\"ID\" start=\"21\" end=\"21\"/>\n"
    "</flags>\n"
    "<reg name=\"eax\" bitsize=\"32\" type=\"int32\" regnum=\"0\"/>\n"
    "<reg name=\"ecx\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"edx\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"ebx\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"esp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
    "<reg name=\"ebp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
    "<reg name=\"esi\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"edi\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"eip\" bitsize=\"32\" type=\"code_ptr\"/>\n"
    "<reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\"/>\n"
    "<reg name=\"cs\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"ds\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"es\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"fs\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "</feature>\n"
    "<feature name=\"org.umbra.i386.sys\">\n"
    "<reg name=\"cr0\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"cr2\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"cr3\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"cr4\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"efer\" bitsize=\"64\" type=\"int64\" group=\"system\"/>\n"
    "<reg name=\"gdtr_base\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"gdtr_limit\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"idtr_base\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"idtr_limit\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"ldtr\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"tr\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"cs_base\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"cs_limit\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"ss_base\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"ss_limit\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"ds_base\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"ds_limit\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"es_base\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"es_limit\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"fs_base\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"fs_limit\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"gs_base\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "<reg name=\"gs_limit\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
    "</feature>\n"
    "</target>\n";

static void cmd_xfer(struct gdb *g, const char *args)
{
    /* features:read:target.xml:OFF,LEN */
    const char *p = strstr(args, "target.xml:");
    u32 off, len;
    if (!p) {
        send_packet(g, "E00");
        return;
    }
    p += strlen("target.xml:");
    if (!parse_num(&p, &off) || *p++ != ',' || !parse_num(&p, &len)) {
        send_packet(g, "E01");
        return;
    }
    size_t total = sizeof target_xml - 1;
    if (off > total)
        off = (u32)total;
    if (len > GDB_PKT_MAX - 16)
        len = GDB_PKT_MAX - 16;
    size_t n = total - off < len ? total - off : len;
    char *out = malloc(n + 2);
    if (!out)
        return;
    out[0] = off + n < total ? 'm' : 'l';
    memcpy(out + 1, target_xml + off, n);
    out[n + 1] = 0;
    send_packet(g, out);
    free(out);
}

/* ---- memory ---- */

static void cmd_read_mem(struct gdb *g, const char *p)
{
    u32 addr, len;
    if (!parse_num(&p, &addr) || *p++ != ',' || !parse_num(&p, &len)) {
        send_packet(g, "E01");
        return;
    }
    if (len > GDB_PKT_MAX / 2 - 8)
        len = GDB_PKT_MAX / 2 - 8;
    u8 *b = malloc(len + 1);
    char *out = malloc(2 * len + 1);
    if (b && out && dbg_read(g->d, addr, b, len, g->d->phys) == 0) {
        put_hex(out, b, len);
        send_packet(g, out);
    } else {
        send_packet(g, "E14");
    }
    free(b);
    free(out);
}

static void cmd_write_mem(struct gdb *g, const char *p)
{
    u32 addr, len;
    if (!parse_num(&p, &addr) || *p++ != ',' || !parse_num(&p, &len) || *p++ != ':' ||
        len > GDB_PKT_MAX) {
        send_packet(g, "E01");
        return;
    }
    u8 *b = malloc(len + 1);
    long n = b ? get_hex(p, b, len) : -1;
    if (n != (long)len || dbg_write(g->d, addr, b, len, g->d->phys) < 0)
        send_packet(g, "E14");
    else
        send_packet(g, "OK");
    free(b);
}

/* ---- breakpoints ---- */

static void cmd_point(struct gdb *g, const char *p, bool insert)
{
    u32 type, addr, kind;
    if (!parse_num(&p, &type) || *p++ != ',' || !parse_num(&p, &addr) || *p++ != ',' ||
        !parse_num(&p, &kind)) {
        send_packet(g, "E01");
        return;
    }
    int rc;
    switch (type) {
    case 0:
    case 1:
        rc = insert ? dbg_bp_insert(g->d, addr) : dbg_bp_remove(g->d, addr);
        break;
    case WP_WRITE:
    case WP_READ:
    case WP_ACCESS:
        rc = insert ? dbg_wp_insert(g->d, addr, kind, (enum dbg_wp_type)type)
                    : dbg_wp_remove(g->d, addr, kind, (enum dbg_wp_type)type);
        break;
    default:
        send_packet(g, "");
        return;
    }
    send_packet(g, rc < 0 ? "E22" : "OK");
}

/* ---- monitor ---- */

static void cmd_rcmd(struct gdb *g, const char *hex)
{
    size_t n = strlen(hex) / 2;
    char *line = malloc(n + 1);
    if (!line || get_hex(hex, (u8 *)line, n) != (long)n) {
        free(line);
        send_packet(g, "E01");
        return;
    }
    line[n] = 0;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        free(line);
        send_packet(g, "E12");
        return;
    }
    mon_exec(g->d, line, f);
    fclose(f);
    /* Output in O packets of at most 1 KiB of text each. */
    for (size_t off = 0; off < len; off += 1024) {
        size_t k = len - off < 1024 ? len - off : 1024;
        char *pkt = malloc(2 * k + 2);
        if (!pkt)
            break;
        pkt[0] = 'O';
        put_hex(pkt + 1, (const u8 *)text + off, k);
        send_packet(g, pkt);
        free(pkt);
    }
    free(text);
    free(line);
    send_packet(g, "OK");
}

/* ---- run control ---- */

static void stop_reply(struct gdb *g, int sig, const char *extra)
{
    char buf[80];
    snprintf(buf, sizeof buf, "T%02x%s", sig, extra ? extra : "");
    send_packet(g, buf);
}

void gdb_console(struct gdb *g, const char *text)
{
    if (!g->waiting || g->cfd < 0)
        return;
    size_t n = strlen(text);
    char *pkt = malloc(2 * n + 4);
    if (!pkt)
        return;
    pkt[0] = 'O';
    put_hex(pkt + 1, (const u8 *)text, n);
    strcpy(pkt + 1 + 2 * n, "0a");
    send_packet(g, pkt);
    free(pkt);
}

void gdb_report_stop(struct gdb *g, int sig, const char *extra)
{
    g->last_sig = sig;
    if (!g->waiting || g->cfd < 0)
        return;
    g->waiting = false;
    stop_reply(g, sig, extra);
}

void gdb_report_exit(struct gdb *g, int code)
{
    if (g->cfd < 0)
        return;
    char buf[16];
    snprintf(buf, sizeof buf, "W%02x", code & 0xff);
    send_packet(g, buf);
    g->waiting = false;
    /* gdb acknowledges the packet; closing before its '+' arrives would
     * make that write fail and gdb report a broken connection instead of
     * the exit.  Wait for it, briefly. */
    struct pollfd p = { .fd = g->cfd, .events = POLLIN };
    if (poll(&p, 1, 2000) > 0) {
        char ack[16];
        if (recv(g->cfd, ack, sizeof ack, 0) < 0)
            return;
    }
}

static void resume(struct gdb *g, bool step)
{
    g->waiting = true;
    dbg_resume(g->d, step);
}

static void cmd_vcont(struct gdb *g, const char *p)
{
    if (!strcmp(p, "?")) {
        send_packet(g, "vCont;c;C;s;S");
        return;
    }
    if (*p != ';') {
        send_packet(g, "");
        return;
    }
    /* One thread: the first action applies. */
    char a = p[1];
    if (a == 'c' || a == 'C')
        resume(g, false);
    else if (a == 's' || a == 'S')
        resume(g, true);
    else
        send_packet(g, "E01");
}

static void disconnect(struct gdb *g)
{
    if (g->cfd >= 0)
        close(g->cfd);
    g->cfd = -1;
    g->nin = 0;
    g->waiting = false;
    /* Nothing is left armed behind a departed debugger. */
    dbg_clear_points(g->d);
    if (g->d->stopped)
        dbg_resume(g->d, false);
}

static void handle(struct gdb *g, char *pkt)
{
    struct dbg *d = g->d;
    switch (pkt[0]) {
    case '?':
        stop_reply(g, g->last_sig ? g->last_sig : GDB_SIGTRAP, "");
        return;
    case 'g': cmd_read_regs(g); return;
    case 'G': cmd_write_regs(g, pkt + 1); return;
    case 'p': {
        const char *p = pkt + 1;
        u32 n;
        u8 b[10];
        char out[24];
        unsigned size = parse_num(&p, &n) ? reg_get(g, n, b) : 0;
        if (!size) {
            send_packet(g, "E45");
            return;
        }
        put_hex(out, b, size);
        send_packet(g, out);
        return;
    }
    case 'P': {
        const char *p = pkt + 1;
        u32 n;
        u8 b[10] = { 0 };
        if (!parse_num(&p, &n) || *p++ != '=' || get_hex(p, b, sizeof b) < 0) {
            send_packet(g, "E01");
            return;
        }
        send_packet(g, reg_set(g, n, b) < 0 ? "E02" : "OK");
        return;
    }
    case 'm': cmd_read_mem(g, pkt + 1); return;
    case 'M': cmd_write_mem(g, pkt + 1); return;
    case 'c': case 'C': resume(g, false); return;
    case 's': case 'S': resume(g, true); return;
    case 'Z': cmd_point(g, pkt + 1, true); return;
    case 'z': cmd_point(g, pkt + 1, false); return;
    case 'H': send_packet(g, "OK"); return;
    case 'T': send_packet(g, "OK"); return;
    case 'D':
        send_packet(g, "OK");
        disconnect(g);
        return;
    case 'k':
        d->quit = true;
        disconnect(g);
        d->quit = true;
        d->stopped = false;
        return;
    case 'v':
        if (!strncmp(pkt, "vCont", 5)) {
            cmd_vcont(g, pkt + 5);
            return;
        }
        break;
    case 'q':
        if (!strncmp(pkt, "qSupported", 10)) {
            send_packet(g, "PacketSize=4000;qXfer:features:read+;vContSupported+");
            return;
        }
        if (!strncmp(pkt, "qXfer:features:read:", 20)) {
            cmd_xfer(g, pkt + 20);
            return;
        }
        if (!strncmp(pkt, "qRcmd,", 6)) {
            cmd_rcmd(g, pkt + 6);
            return;
        }
        if (!strcmp(pkt, "qAttached")) {
            send_packet(g, "1");
            return;
        }
        if (!strcmp(pkt, "qC")) {
            send_packet(g, "QC1");
            return;
        }
        if (!strcmp(pkt, "qfThreadInfo")) {
            send_packet(g, "m1");
            return;
        }
        if (!strcmp(pkt, "qsThreadInfo")) {
            send_packet(g, "l");
            return;
        }
        break;
    }
    send_packet(g, "");
}

/* Take every complete packet (and Ctrl-C) out of the input buffer. */
static void parse_input(struct gdb *g)
{
    size_t k = 0;
    while (k < g->nin && g->cfd >= 0) {
        char c = g->in[k];
        if (c == 0x03) {
            k++;
            if (!g->d->stopped)
                dbg_stop(g->d, GDB_SIGINT, "");
            continue;
        }
        if (c != '$') {
            k++; /* '+', '-' and noise */
            continue;
        }
        char *hash = memchr(g->in + k, '#', g->nin - k);
        if (!hash || (size_t)(hash - g->in) + 2 >= g->nin)
            break; /* incomplete */
        size_t start = k + 1, end = (size_t)(hash - g->in);
        u8 sum = 0;
        for (size_t i = start; i < end; i++)
            sum += (u8)g->in[i];
        int want = hexval(hash[1]) << 4 | hexval(hash[2]);
        k = end + 3;
        if (want != sum) {
            send_raw(g, "-", 1);
            continue;
        }
        send_raw(g, "+", 1);
        char *pkt = malloc(end - start + 1);
        if (!pkt)
            continue;
        memcpy(pkt, g->in + start, end - start);
        pkt[end - start] = 0;
        handle(g, pkt);
        free(pkt);
    }
    if (g->cfd < 0)
        return;
    memmove(g->in, g->in + k, g->nin - k);
    g->nin -= k;
    if (g->nin >= GDB_PKT_MAX) /* a packet too large to hold: drop it */
        g->nin = 0;
}

void gdb_input(struct gdb *g)
{
    if (g->cfd < 0) {
        g->cfd = accept4(g->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (g->cfd >= 0 && !g->d->stopped) {
            /* As with QEMU, a debugger that connects stops the machine. */
            g->d->stopped = true;
            g->last_sig = GDB_SIGTRAP;
        }
        return;
    }
    ssize_t n = recv(g->cfd, g->in + g->nin, GDB_PKT_MAX - g->nin, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        disconnect(g);
        return;
    }
    g->nin += (size_t)n;
    parse_input(g);
}

int gdb_fd(const struct gdb *g)
{
    return g->cfd >= 0 ? g->cfd : g->lfd;
}

struct gdb *gdb_open(struct dbg *d, const char *spec, FILE *err)
{
    struct gdb *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    char why[160];
    g->d = d;
    g->cfd = -1;
    g->lfd = chr_listen(spec, why, sizeof why);
    if (g->lfd < 0) {
        fprintf(err, "umbra: -gdb %s: %s\n", spec, why);
        free(g);
        return NULL;
    }
    if (!strncmp(spec, "unix:", 5))
        snprintf(g->unix_path, sizeof g->unix_path, "%.*s", (int)strcspn(spec + 5, ","),
                 spec + 5);
    return g;
}

void gdb_close(struct gdb *g)
{
    if (g->cfd >= 0)
        close(g->cfd);
    close(g->lfd);
    if (g->unix_path[0])
        unlink(g->unix_path);
    free(g);
}
