/*
 * IA-32 instruction decoder (SDM vol. 2, chapter 2 "Instruction format",
 * appendix A "Opcode map").
 *
 *   prefixes* (<=14) | opcode (1 or 0F+1) | ModRM | SIB | disp | imm
 *
 * The opcode maps are built once from opcodes.def.  Bytes come from a
 * fetch window: a host pointer and the number of bytes that may be read
 * from it directly (bounded by the page, the CS limit and the 15-byte
 * rule); anything past the window goes through a slow callback, which is
 * where a page-crossing fetch faults on the right address.
 */
#include "decode.h"
#include "ops_special.h"

#include <pthread.h>

#include "mem.h"
#include "ops.h"

static const struct op_row rows[] = {
#define OP(opc_, reg_, mnem_, ops_, fn_, imm_, attr_) \
    { (opc_), (reg_), (imm_), (attr_), PFX_ANY, 0, (mnem_), (ops_), #fn_, fn_ },
#define SSE(opc_, pfx_, reg_, mnem_, ops_, fn_, imm_, attr_, feat_) \
    { (opc_), (reg_), (imm_), (attr_), (pfx_), (feat_), (mnem_), (ops_), #fn_, fn_ },
#include "opcodes.def"
#include "opcodes_sse.def"
#undef SSE
#undef OP
};

#define NO_ROW 0xffff

/* Opcode maps: row index per opcode, and per (opcode, reg) for groups.
 * Written once under pthread_once, read-only afterwards. */
static struct {
    u16 map[512];
    u16 grp[512][8];
    bool is_grp[512];
    /* 0F opcodes selected by a mandatory prefix (opcodes_sse.def): row
     * per prefix class PFX_NP..PFX_F2, and per ModRM.reg for groups. */
    bool is_sse[256];
    bool sse_no_modrm[256]; /* EMMS: the opcode takes no ModRM byte */
    u16 sse[256][4];
    u16 sse_grp[256][4][8];
} tab;
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

static void build_tables(void)
{
    for (unsigned o = 0; o < 512; o++) {
        tab.map[o] = NO_ROW;
        for (unsigned r = 0; r < 8; r++)
            tab.grp[o][r] = NO_ROW;
    }
    for (unsigned o = 0; o < 256; o++)
        for (unsigned p = 0; p < 4; p++) {
            tab.sse[o][p] = NO_ROW;
            for (unsigned r = 0; r < 8; r++)
                tab.sse_grp[o][p][r] = NO_ROW;
        }
    for (unsigned k = 0; k < ARRAY_SIZE(rows); k++) {
        unsigned o = rows[k].opc;
        if (rows[k].pfx != PFX_ANY) {
            unsigned p = rows[k].pfx - PFX_NP;
            tab.is_sse[o & 0xff] = true;
            if (!(rows[k].attr & OPA_MODRM))
                tab.sse_no_modrm[o & 0xff] = true;
            if (rows[k].reg < 0)
                tab.sse[o & 0xff][p] = (u16)k;
            else
                tab.sse_grp[o & 0xff][p][rows[k].reg] = (u16)k;
        } else if (rows[k].reg < 0) {
            tab.map[o] = (u16)k;
        } else {
            tab.is_grp[o] = true;
            tab.grp[o][rows[k].reg] = (u16)k;
        }
    }
}

void dec_init(void)
{
    pthread_once(&tab_once, build_tables);
}

const struct op_row *dec_rows(size_t *count)
{
    dec_init();
    *count = ARRAY_SIZE(rows);
    return rows;
}

struct fetch {
    const u8 *p;     /* direct window */
    unsigned avail;  /* bytes readable from p */
    unsigned n;      /* bytes consumed */
    int status;      /* set by more() when it cannot supply a byte */
    u8 (*more)(struct fetch *f);
    struct cpu *c;
    u32 lin;         /* linear address of the first byte */
    u32 eip;
};

static inline u8 fbyte(struct fetch *f)
{
    if (likely(f->n < f->avail))
        return f->p[f->n++];
    return f->more(f);
}

static inline u32 fimm(struct fetch *f, unsigned size)
{
    u32 v = 0;
    if (likely(f->n + size <= f->avail)) {
        const u8 *q = f->p + f->n;
        f->n += size;
        if (size == 1)
            return q[0];
        if (size == 2)
            return (u32)q[0] | (u32)q[1] << 8;
        return (u32)q[0] | (u32)q[1] << 8 | (u32)q[2] << 16 | (u32)q[3] << 24;
    }
    for (unsigned k = 0; k < size; k++)
        v |= (u32)fbyte(f) << (8 * k);
    return v;
}

/* 16-bit ModRM forms (SDM vol. 2, table 2-1): base, index. */
static const u8 ea16_base[8] = { R_EBX, R_EBX, R_EBP, R_EBP, R_ESI, R_EDI, R_EBP, R_EBX };
static const u8 ea16_index[8] = { R_ESI, R_EDI, R_ESI, R_EDI, R_ZERO, R_ZERO, R_ZERO, R_ZERO };

static void decode_modrm(struct fetch *f, struct insn *i, u8 modrm)
{
    i->mod = modrm >> 6;
    i->reg = (modrm >> 3) & 7;
    i->rm = modrm & 7;
    i->base = R_ZERO;
    i->index = R_ZERO;
    i->scale = 0;
    i->disp = 0;
    if (i->mod == 3)
        return;
    u8 defseg = S_DS;
    if (i->asz == 2) {
        if (i->mod == 0 && i->rm == 6) {
            i->disp = fimm(f, 2);
        } else {
            i->base = ea16_base[i->rm];
            i->index = ea16_index[i->rm];
            if (i->base == R_EBP)
                defseg = S_SS;
            if (i->mod == 1)
                i->disp = sext(fbyte(f), 8);
            else if (i->mod == 2)
                i->disp = fimm(f, 2);
        }
    } else {
        if (i->rm == 4) {
            u8 sib = fbyte(f);
            i->scale = sib >> 6;
            i->index = (sib >> 3) & 7;
            if (i->index == R_ESP)
                i->index = R_ZERO;
            u8 b = sib & 7;
            if (b == R_EBP && i->mod == 0) {
                i->disp = fimm(f, 4);
            } else {
                i->base = b;
                if (b == R_ESP || b == R_EBP)
                    defseg = S_SS;
            }
        } else if (i->rm == 5 && i->mod == 0) {
            i->disp = fimm(f, 4);
        } else {
            i->base = i->rm;
            if (i->rm == R_EBP)
                defseg = S_SS;
        }
        if (i->mod == 1)
            i->disp = sext(fbyte(f), 8);
        else if (i->mod == 2)
            i->disp = fimm(f, 4);
    }
    i->seg = i->segovr != S_NONE ? i->segovr : defseg;
}

static void decode_imm(struct fetch *f, struct insn *i, unsigned kind)
{
    switch (kind) {
    case IMM_NONE: break;
    case IMM_B: i->imm = fbyte(f); break;
    case IMM_BS: case IMM_JB: i->imm = sext(fbyte(f), 8); break;
    case IMM_W: i->imm = fimm(f, 2); break;
    case IMM_Z: i->imm = fimm(f, i->vsz); break;
    case IMM_ZS: case IMM_JZ: i->imm = sext(fimm(f, i->vsz), i->vsz * 8); break;
    case IMM_V_AS: i->imm = fimm(f, i->asz); break;
    case IMM_AP:
        i->imm = fimm(f, i->vsz);
        i->imm2 = fimm(f, 2);
        break;
    case IMM_WB:
        i->imm = fimm(f, 2);
        i->imm2 = fbyte(f);
        break;
    }
}

static int decode_core(struct fetch *f, bool code32, struct insn *i)
{
    u8 b;
    i->vsz = code32 ? 4 : 2;
    i->asz = code32 ? 4 : 2;
    i->segovr = S_NONE;
    i->rep = 0;
    i->lock = 0;
    i->imm = i->imm2 = 0;
    bool has66 = false;
    for (;;) {
        b = fbyte(f);
        if (unlikely(f->status))
            return f->status;
        switch (b) {
        case 0x26: i->segovr = S_ES; continue;
        case 0x2e: i->segovr = S_CS; continue;
        case 0x36: i->segovr = S_SS; continue;
        case 0x3e: i->segovr = S_DS; continue;
        case 0x64: i->segovr = S_FS; continue;
        case 0x65: i->segovr = S_GS; continue;
        case 0x66: i->vsz = code32 ? 2 : 4; has66 = true; continue;
        case 0x67: i->asz = code32 ? 2 : 4; continue;
        case 0xf0: i->lock = 1; continue;
        case 0xf2: case 0xf3: i->rep = b; continue;
        }
        break;
    }
    i->nprefix = (u8)(f->n - 1);
    unsigned opc = b;
    if (b == 0x0f)
        opc = 0x100 | fbyte(f);
    i->opc = (u16)opc;
    i->seg = i->segovr != S_NONE ? i->segovr : S_DS;
    i->mod = 3;
    i->reg = i->rm = 0;
    i->base = i->index = R_ZERO;
    i->scale = 0;
    i->disp = 0;

    unsigned row = tab.map[opc];
    u8 modrm = 0;
    if (opc >= 0x100 && tab.is_sse[opc & 0xff]) {
        /* Mandatory prefix (SDM vol. 2, 2.1.2 and A.2.5): F2/F3 select
         * the form over 66; the rest only modify it. */
        unsigned p = i->rep == 0xf3 ? PFX_F3 : i->rep == 0xf2 ? PFX_F2 : has66 ? PFX_66 : PFX_NP;
        p -= PFX_NP;
        row = tab.sse[opc & 0xff][p];
        /* A ModRM byte follows unless the opcode has none (EMMS, with any
         * prefix: the length does not depend on the prefix). */
        if (!tab.sse_no_modrm[opc & 0xff]) {
            modrm = fbyte(f);
            if (row == NO_ROW)
                row = tab.sse_grp[opc & 0xff][p][(modrm >> 3) & 7];
        }
    } else if (tab.is_grp[opc]) {
        modrm = fbyte(f);
        row = tab.grp[opc][(modrm >> 3) & 7];
    } else if (row != NO_ROW && (rows[row].attr & OPA_MODRM)) {
        modrm = fbyte(f);
    }
    if (unlikely(f->status))
        return f->status;
    if (row == NO_ROW)
        return DEC_UD;
    const struct op_row *r = &rows[row];
    i->desc = (u16)row;
    i->feat = r->feat;
    i->attr = r->attr;
    i->fn = r->fn;
    /* MOV to/from CRn/DRn (0F 20-23) ignore ModRM.mod and always name a
     * register: no SIB or displacement follows (SDM vol. 2, MOV--Move
     * to/from Control Registers: "the 2 bits in the mod field are
     * ignored"). */
    if (unlikely(opc >= 0x120 && opc <= 0x123))
        modrm |= 0xc0;
    if (r->attr & OPA_MODRM)
        decode_modrm(f, i, modrm);
    else if (opc < 0x100 && (opc & 0xf8) != 0xd8)
        i->rm = opc & 7; /* register encoded in the opcode (Zv) */
    if (opc >= 0x1c8 && opc <= 0x1cf)
        i->rm = opc & 7; /* BSWAP */
    i->osz = (r->attr & OPA_BYTE) ? 1 : i->vsz;
    decode_imm(f, i, r->imm);
    i->len = (u8)f->n;
    if (unlikely(f->status))
        return f->status;
    if (unlikely(i->lock) && (!(r->attr & OPA_LOCK) || i->mod == 3))
        return DEC_UD;
    /* 0F 01 CA/CB (CLAC/STAC) are the register forms of SIDT's row that
     * exist; its handler tells them apart. */
    if (unlikely((r->attr & OPA_MEMONLY) && i->mod == 3) &&
        !(opc == 0x101 && (modrm == 0xca || modrm == 0xcb)))
        return DEC_UD;
    if (unlikely((r->attr & OPA_REGONLY) && i->mod != 3))
        return DEC_UD;
    ops_specialize(i);
    return DEC_OK;
}

/* ---- decoding from a buffer ---- */

static u8 buf_more(struct fetch *f)
{
    if (!f->status)
        f->status = f->n >= 15 ? DEC_GP : DEC_TRUNC;
    return 0;
}

enum dec_status dec_decode_buf(const u8 *buf, size_t n, bool code32, struct insn *i)
{
    pthread_once(&tab_once, build_tables);
    struct fetch f = { .p = buf, .avail = n < 15 ? (unsigned)n : 15, .more = buf_more };
    int st = decode_core(&f, code32, i);
    if (st == DEC_UD || st == DEC_OK)
        i->len = (u8)f.n;
    return st;
}

/* ---- decoding from guest memory ---- */

/* Past the window: check the 15-byte rule and the CS limit, then read one
 * byte through the MMU (this is where a straddling fetch faults). */
static u8 cpu_more(struct fetch *f)
{
    struct cpu *c = f->c;
    if (f->n >= 15)
        cpu_gp(c, 0);
    u32 off = f->eip + f->n;
    if (!cpu_vm86(c) && !(c->mode & MODE_CS32))
        off &= 0xffff;
    if (off > c->seg[S_CS].limit)
        cpu_gp(c, 0);
    u8 v = (u8)lin_read_slow(c, c->seg[S_CS].base + off, 1, ACC_FETCH);
    f->n++;
    return v;
}

bool dec_decode_cpu(struct cpu *c, struct insn *i)
{
    struct fetch f;
    u32 eip = c->eip;
    const struct seg *cs = &c->seg[S_CS];
    u32 lin = cs->base + eip;
    f.n = 0;
    f.status = 0;
    f.more = cpu_more;
    f.c = c;
    f.lin = lin;
    f.eip = eip;
    f.avail = 0;
    f.p = NULL;
    u8 *host = tlb_lookup(c->tlb, lin, 1, ACC_FETCH);
    if (!host) {
        u32 gpa;
        struct mmu_fault mf;
        if (mmu_translate(c->mmu, lin, ACC_FETCH, c->cpl == 3, &gpa, &mf) < 0)
            cpu_page_fault(c, &mf);
        host = tlb_lookup(c->tlb, lin, 1, ACC_FETCH);
    }
    if (host && eip <= cs->limit) {
        u32 page_left = PAGE_SIZE - (lin & (PAGE_SIZE - 1));
        u32 lim_left = cs->limit - eip + 1; /* 0 means 4 GiB */
        unsigned avail = 15;
        if (page_left < avail)
            avail = page_left;
        if (lim_left && lim_left < avail)
            avail = lim_left;
        /* 16-bit code: IP wraps inside the segment, so stop at 64 KiB. */
        if (!(c->mode & MODE_CS32) && 0x10000 - eip < avail)
            avail = 0x10000 - eip;
        f.p = host;
        f.avail = avail;
    }
    int st = decode_core(&f, c->mode & MODE_CS32, i);
    if (unlikely(st != DEC_OK)) {
        if (st == DEC_GP)
            cpu_gp(c, 0);
        cpu_ud(c);
    }
    if (f.n > f.avail || !host)
        return false; /* straddles a page or came from MMIO */
    /* Decoded bytes may be cached: have writes to their lines reported. */
    struct mmu *m = c->mmu;
    if (host >= m->ram && host < m->ram + m->ram_size)
        mmu_track_code(m, (u32)(host - m->ram), f.n);
    return true;
}
