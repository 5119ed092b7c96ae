/*
 * Segment descriptor caches and segment-register loads
 * (SDM vol. 3A, 3.4 "Logical and linear addresses", 5.5 "Privilege levels",
 * and the MOV/POP/LDS pseudo-code of vol. 2), plus the stack helpers the
 * control transfers share (6.12.1 "Exception- or interrupt-handler
 * procedures", 5.8.5 "Stack switching").
 *
 * Invariant: nothing here changes an architectural register before the
 * last access that can fault, except the explicit commit functions
 * (seg_commit_cs, stk_commit, seg_null_outer), which cannot fault.
 */
#include "cpu_state.h"
#include "mem.h"
#include "system.h"

static void seg_set_attrs(struct seg *sg, u16 sel, u32 base, u32 limit, u32 flags);

/* The memory fast path tests one byte for the common flat segment. */
static void seg_update_flat(struct seg *sg)
{
    sg->big = sg->lo == 0 && sg->hi == 0xffffffffu ? sg->ok : 0;
    sg->flat = sg->base == 0 ? sg->big : 0;
}

void seg_set(struct seg *sg, u16 sel, u32 base, u32 limit, u32 flags)
{
    seg_set_attrs(sg, sel, base, limit, flags);
    seg_update_flat(sg);
}

static void seg_set_attrs(struct seg *sg, u16 sel, u32 base, u32 limit, u32 flags)
{
    sg->sel = sel;
    sg->base = base;
    sg->limit = limit;
    sg->flags = flags;
    sg->ok = 0;
    sg->lo = 1;
    sg->hi = 0;
    if (!(flags & DESC_P) || !(flags & DESC_S))
        return;
    unsigned type = DESC_TYPE(flags);
    if (type & 8) { /* code */
        sg->ok = (type & 2) ? SEGOK_READ : 0;
        sg->lo = 0;
        sg->hi = limit;
    } else {
        sg->ok = SEGOK_READ | ((type & 2) ? SEGOK_WRITE : 0);
        if (type & 4) { /* expand-down */
            sg->lo = limit + 1;
            sg->hi = (flags & DESC_DB) ? 0xffffffffu : 0xffffu;
        } else {
            sg->lo = 0;
            sg->hi = limit;
        }
    }
}

void seg_set_desc(struct seg *sg, u16 sel, u32 lo, u32 hi)
{
    u32 base = (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000u);
    u32 limit = (lo & 0xffff) | (hi & 0x000f0000u);
    if (hi & DESC_G)
        limit = (limit << 12) | 0xfff;
    seg_set(sg, sel, base, limit, hi & 0x00f0ff00u);
}

void seg_load_real(struct cpu *c, unsigned s, u16 sel)
{
    struct seg *sg = &c->seg[s];
    if (c->mode & MODE_VM86) {
        seg_set(sg, sel, (u32)sel << 4, 0xffff, DESC_P | DESC_S | (3u << 13) | (0x3u << 8));
    } else {
        /* Real mode keeps the cached limit and attributes ("unreal" mode)
         * and performs no type checks. */
        sg->sel = sel;
        sg->base = (u32)sel << 4;
        sg->ok = SEGOK_READ | SEGOK_WRITE;
        sg->lo = 0;
        sg->hi = sg->limit;
        seg_update_flat(sg);
    }
    if (s == S_CS || s == S_SS)
        cpu_update_mode(c);
}

void seg_set_cache(struct cpu *c, unsigned s, u32 base, u32 limit)
{
    struct seg *sg = &c->seg[s];
    if ((c->mode & MODE_PE) && !(c->mode & MODE_VM86)) {
        seg_set(sg, sg->sel, base, limit, sg->flags);
    } else {
        /* as seg_load_real leaves it: the rights stay, the window is
         * [0, limit] */
        sg->base = base;
        sg->limit = limit;
        sg->lo = 0;
        sg->hi = limit;
        seg_update_flat(sg);
    }
    cpu_update_mode(c);
}

bool desc_read(struct cpu *c, u16 sel, u32 *lo, u32 *hi)
{
    u32 base, limit;
    if (sel & 4) {
        if (!(c->ldtr.flags & DESC_P) || (c->ldtr.sel & ~3) == 0)
            return false;
        base = c->ldtr.base;
        limit = c->ldtr.limit;
    } else {
        base = c->gdtr.base;
        limit = c->gdtr.limit;
    }
    u32 off = sel & ~7u;
    if (off + 7 > limit)
        return false;
    *lo = (u32)sys_read(c, base + off, 4);
    *hi = (u32)sys_read(c, base + off + 4, 4);
    return true;
}

/* Set the Accessed bit of a descriptor in memory, as loads do. */
void desc_set_accessed(struct cpu *c, u16 sel, u32 hi)
{
    if (hi & (1u << 8))
        return;
    u32 base = (sel & 4) ? c->ldtr.base : c->gdtr.base;
    sys_write(c, base + (sel & ~7u) + 4, hi | (1u << 8), 4);
}

void seg_load(struct cpu *c, unsigned s, u16 sel)
{
    if (!(c->mode & MODE_PE) || (c->mode & MODE_VM86)) {
        seg_load_real(c, s, sel);
        return;
    }
    u32 lo, hi;
    unsigned rpl = sel & 3, cpl = c->cpl;
    if ((sel & ~3u) == 0) {
        if (s == S_SS)
            cpu_gp(c, 0);
        /* A null selector makes the register unusable. */
        seg_set(&c->seg[s], sel, 0, 0, 0);
        return;
    }
    if (!desc_read(c, sel, &lo, &hi))
        cpu_gp(c, sel & 0xfffc);
    unsigned dpl = DESC_DPL(hi), type = DESC_TYPE(hi);
    if (!(hi & DESC_S))
        cpu_gp(c, sel & 0xfffc);
    if (s == S_SS) {
        /* Writable data segment with RPL = DPL = CPL. */
        if ((type & 8) || !(type & 2) || rpl != cpl || dpl != cpl)
            cpu_gp(c, sel & 0xfffc);
        if (!(hi & DESC_P))
            cpu_raise(c, EXC_SS, sel & 0xfffc);
    } else {
        /* Data or readable code; privilege unless conforming code. */
        if ((type & 0xa) == 0x8)
            cpu_gp(c, sel & 0xfffc);
        if (!((type & 0xc) == 0xc) && (rpl > dpl || cpl > dpl))
            cpu_gp(c, sel & 0xfffc);
        if (!(hi & DESC_P))
            cpu_raise(c, EXC_NP, sel & 0xfffc);
    }
    desc_set_accessed(c, sel, hi);
    seg_set_desc(&c->seg[s], sel, lo, hi | (1u << 8));
    if (s == S_SS)
        cpu_update_mode(c);
}

void seg_commit_cs(struct cpu *c, u16 sel, u32 lo, u32 hi, unsigned cpl)
{
    seg_set_desc(&c->seg[S_CS], (u16)((sel & ~3u) | cpl), lo, hi | (1u << 8));
    c->cpl = (u8)cpl;
    cpu_update_mode(c);
}

void seg_null_outer(struct cpu *c)
{
    static const unsigned segs[4] = { S_ES, S_DS, S_FS, S_GS };
    for (unsigned k = 0; k < 4; k++) {
        struct seg *sg = &c->seg[segs[k]];
        u32 f = sg->flags;
        bool conforming = (f & DESC_S) && (DESC_TYPE(f) & 0xc) == 0xc;
        if ((sg->sel & ~3u) == 0 || !(f & DESC_P))
            continue;
        if (!conforming && DESC_DPL(f) < c->cpl)
            seg_set(sg, 0, 0, 0, 0);
    }
}

void stk_cur(struct cpu *c, struct stk *s)
{
    s->ss = c->seg[S_SS];
    s->esp = c->r[R_ESP];
    s->big = stack32(c);
    s->user = c->cpl == 3;
    s->err = 0;
}

void stk_push(struct cpu *c, struct stk *s, u32 v, unsigned size)
{
    u32 mask = s->big ? 0xffffffffu : 0xffffu;
    u32 sp = (s->esp - size) & mask;
    u32 last = sp + size - 1;
    if (!(s->ss.ok & SEGOK_WRITE) || sp < s->ss.lo || last > s->ss.hi || last < sp)
        cpu_raise(c, EXC_SS, s->err);
    u32 lin = s->ss.base + sp;
    u8 *p = tlb_lookup(c->tlb, lin, size, ACC_WRITE);
    if (p) {
        store_host(p, v, size);
    } else {
        struct mmu_fault f;
        mmu_set_smap_ac(c->mmu, c->eflags & EFLAGS_AC);
        if (mmu_lin_write(c->mmu, lin, size, v, s->user, &f) < 0)
            cpu_page_fault(c, &f);
    }
    s->esp = (s->esp & ~mask) | sp;
}

void stk_commit(struct cpu *c, const struct stk *s)
{
    c->seg[S_SS] = s->ss;
    c->r[R_ESP] = s->esp;
    cpu_update_mode(c);
}

/*
 * SS:ESP for ring `dpl` from the current TSS (32-bit TSS: ESPn at 4+8n,
 * SSn at 8+8n; 16-bit TSS: SPn at 2+4n, SSn at 4+4n), with the checks of
 * the INT n and CALL pseudo-code: #TS for a bad selector or descriptor,
 * #SS when the segment is not present.
 */
void tss_inner_stack(struct cpu *c, unsigned dpl, u32 ext, struct stk *s)
{
    bool tss32 = DESC_TYPE(c->tr.flags) & 8;
    u32 off = tss32 ? 4 + dpl * 8 : 2 + dpl * 4;
    u32 need = tss32 ? off + 5 : off + 3;
    if (need > c->tr.limit)
        cpu_raise(c, EXC_TS, (c->tr.sel & 0xfffc) | ext);
    u32 esp;
    u16 ss;
    if (tss32) {
        esp = (u32)sys_read(c, c->tr.base + off, 4);
        ss = (u16)sys_read(c, c->tr.base + off + 4, 2);
    } else {
        esp = (u32)sys_read(c, c->tr.base + off, 2);
        ss = (u16)sys_read(c, c->tr.base + off + 2, 2);
    }
    u32 lo, hi;
    if ((ss & ~3u) == 0)
        cpu_raise(c, EXC_TS, ext);
    if (!desc_read(c, ss, &lo, &hi))
        cpu_raise(c, EXC_TS, (ss & 0xfffc) | ext);
    unsigned type = DESC_TYPE(hi);
    if ((ss & 3) != dpl || DESC_DPL(hi) != dpl || !(hi & DESC_S) || (type & 8) || !(type & 2))
        cpu_raise(c, EXC_TS, (ss & 0xfffc) | ext);
    if (!(hi & DESC_P))
        cpu_raise(c, EXC_SS, (ss & 0xfffc) | ext);
    desc_set_accessed(c, ss, hi);
    seg_set_desc(&s->ss, ss, lo, hi | (1u << 8));
    s->big = hi & DESC_DB;
    s->esp = esp;
    s->user = dpl == 3;
    s->err = (ss & 0xfffc) | ext;
}
