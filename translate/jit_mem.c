/*
 * Memory accesses of translated code: the effective address, the calls
 * to the thunks, and the thunks themselves -- one per access size, kind
 * and segment, made once at the start of the code buffer, each doing the
 * L1 TLB hit path inline and tail-calling the C path for the rest.
 */
#include "jit_priv.h"

#include "mmu/mmu.h"

/* The call site's payload (tx_access): the instructions not yet
 * counted before this one, and its EIP.  Counted now, so that a fault,
 * a device reading the virtual clock or a hook sees the exact count. */
static ALWAYS_INLINE unsigned site_enter(struct cpu *c, const u8 *ret)
{
    c->insn_eip = (u32)ret[4] | (u32)ret[5] << 8 | (u32)ret[6] << 16 | (u32)ret[7] << 24;
    c->icount += ret[3];
    return ret[3];
}

/* The C path of the thunks: segment checks, TLB misses, MMIO, faults.
 * The translated code counts the instructions itself when the access
 * returns. */
static u32 jit_ld(struct cpu *c, u32 ea, u32 s, const u8 *ret, unsigned size)
{
    unsigned n = site_enter(c, ret);
    u32 v = mem_read(c, s, ea, size);
    c->icount -= n;
    return v;
}
static void jit_st(struct cpu *c, u32 ea, u32 v, u32 s, const u8 *ret, unsigned size)
{
    unsigned n = site_enter(c, ret);
    mem_write(c, s, ea, v, size);
    c->icount -= n;
}
static u32 jit_ld1(struct cpu *c, u32 ea, u32 s, const u8 *r) { return jit_ld(c, ea, s, r, 1); }
static u32 jit_ld2(struct cpu *c, u32 ea, u32 s, const u8 *r) { return jit_ld(c, ea, s, r, 2); }
static u32 jit_ld4(struct cpu *c, u32 ea, u32 s, const u8 *r) { return jit_ld(c, ea, s, r, 4); }
static void jit_st1(struct cpu *c, u32 ea, u32 v, u32 s, const u8 *r) { jit_st(c, ea, v, s, r, 1); }
static void jit_st2(struct cpu *c, u32 ea, u32 v, u32 s, const u8 *r) { jit_st(c, ea, v, s, r, 2); }
static void jit_st4(struct cpu *c, u32 ea, u32 v, u32 s, const u8 *r) { jit_st(c, ea, v, s, r, 4); }

static const void *const ld_fn[5] = { NULL, jit_ld1, jit_ld2, NULL, jit_ld4 };
static const void *const st_fn[5] = { NULL, jit_st1, jit_st2, NULL, jit_st4 };

static unsigned tx_size_index(unsigned size)
{
    return size == 4 ? 2 : size - 1;
}


/* ESI = the effective address of the memory operand of `i`. */
void tx_emit_ea(struct tx *t, const struct insn *i)
{
    struct x64 *e = &t->e;
    bool b = i->base != R_ZERO, x = i->index != R_ZERO;
    /* cached registers serve as they are */
    enum x64_reg hb = b ? tx_gr_host(t, i->base) : X_NONE;
    enum x64_reg hx = x ? tx_gr_host(t, i->index) : X_NONE;
    if (b && hb == X_NONE) {
        tx_gr_load(t, 4, X_RCX, i->base);
        hb = X_RCX;
    }
    if (x && hx == X_NONE) {
        tx_gr_load(t, 4, X_RDX, i->index);
        hx = X_RDX;
    }
    if (!b && !x)
        x64_mov_ri32(e, X_RSI, i->disp);
    else
        x64_lea32(e, X_RSI, (struct x64_mem){ hb, hx, (u8)(1u << i->scale), (i32)i->disp });
    if (i->asz == 2)
        x64_movzx_rr(e, 2, X_RSI, X_RSI);
}

/* EAX = the memory operand of `i` (zero-extended), through the MMU. */
void tx_emit_load(struct tx *t, const struct insn *i, unsigned k, u32 eip, unsigned size)
{
    tx_sync_access(t);
    tx_emit_ea(t, i);
    tx_access(t, size, i->seg, false, k, eip);
}

/* Store EDX (already loaded) to the memory operand at ESI. */
void tx_emit_store_call(struct tx *t, unsigned seg, unsigned size, unsigned k, u32 eip,
                        u32 next)
{
    tx_access(t, size, seg, true, k, eip);
    tx_check_epoch(t, k, next);
}

/* The L1 TLB hit path of cpu/mem.h for an access of `size` bytes at
 * ESI through segment `seg`: EAX = the value (loads) or EDX stored.
 * Jumps that miss are left in at[] for the caller to patch.  With
 * `based` (FS and GS, which Linux gives a base: per-CPU data, TLS) a
 * segment whose every offset is valid adds its base to ESI, after
 * checking that the access does not wrap around the offsets (#GP);
 * else the segment must be flat.  Clobbers RAX, RCX, RDI and the flags
 * (and ESI when based: at[1] then jumps with the linear address). */
static void emit_hit_path(struct x64 *e, unsigned size, unsigned seg, bool store, bool based,
                          long *at)
{
    enum mmu_acc acc = store ? ACC_WRITE : ACC_READ;
    at[2] = -1;
    if (based) {
        x64_test_mi(e, 1, CPU(seg[seg].big), store ? SEGOK_WRITE : SEGOK_READ);
        at[0] = x64_jcc(e, 4 /* e */, NULL);
        if (size > 1) {
            x64_lea32(e, X_RCX, x64_m(X_RSI, (i32)size - 1));
            x64_alu_rr(e, XA_CMP, 4, X_RCX, X_RSI);
            at[2] = x64_jcc(e, 2 /* b */, NULL);
        }
        x64_alu_rm(e, XA_ADD, 4, X_RSI, CPU(seg[seg].base));
    } else {
        x64_test_mi(e, 1, CPU(seg[seg].flat), store ? SEGOK_WRITE : SEGOK_READ);
        at[0] = x64_jcc(e, 4 /* e */, NULL);
    }
    x64_load(e, 8, X_RDI, CPU(tlb));
    x64_mov_rr(e, 4, X_RAX, X_RSI);
    x64_shift_ri(e, XS_SHR, 4, X_RAX, PAGE_SHIFT);
    x64_alu_rm(e, XA_XOR, 4, X_RAX, x64_m(X_RDI, (i32)offsetof(struct tlb, salt)));
    x64_alu_ri(e, XA_AND, 4, X_RAX, TLB_SIZE - 1);
    x64_shift_ri(e, XS_SHL, 4, X_RAX, 5);
    _Static_assert(sizeof(struct tlb_entry) == 32, "entry index shift");
    x64_lea32(e, X_RCX, x64_m(X_RSI, (i32)size - 1));
    x64_alu_ri(e, XA_AND, 4, X_RCX, PAGE_MASK);
    x64_alu_rm(e, XA_OR, 4, X_RCX, x64_m(X_RDI, (i32)offsetof(struct tlb, ctx)));
    struct x64_mem ent = { X_RDI, X_RAX, 1, 0 };
    ent.disp = (i32)(offsetof(struct tlb, e) + offsetof(struct tlb_entry, tag) + 4 * acc);
    x64_alu_rm(e, XA_CMP, 4, X_RCX, ent);
    at[1] = x64_jcc(e, 5 /* ne */, NULL);
    x64_alu_mi(e, XA_ADD, 8, x64_m(X_RDI, (i32)(offsetof(struct tlb, hits) + 8 * acc)), 1);
    ent.disp = (i32)(offsetof(struct tlb, e) + offsetof(struct tlb_entry, addend));
    x64_load(e, 8, X_RCX, ent);
    struct x64_mem host = { X_RCX, X_RSI, 1, 0 };
    if (store)
        x64_store(e, size, host, X_RDX);
    else if (size == 4)
        x64_load(e, 4, X_RAX, host);
    else
        x64_movzx_rm(e, size, X_RAX, host);
}

void tx_access(struct tx *t, unsigned size, unsigned seg, bool store, unsigned k, u32 eip)
{
    struct jit *j = t->j;
    unsigned z = tx_size_index(size);
    const u8 *thunk = store ? j->st_thunk[z][seg] : j->ld_thunk[z][seg];
    if (t->nslow == MAX_SLOW) {
        x64_call_rel(&t->e, thunk);
        x64_nop_payload(&t->e, (u8)(k - t->synced), eip);
        return;
    }
    struct slow_access *sl = &t->slow[t->nslow++];
    sl->based = seg == S_FS || seg == S_GS;
    sl->seg = (u8)seg;
    sl->wtag = store && !sl->based ? j->st_wtag[z][seg] : NULL;
    emit_hit_path(&t->e, size, seg, store, sl->based, sl->at);
    sl->thunk = thunk;
    sl->count = (u8)(k - t->synced);
    sl->eip = eip;
    sl->back = t->e.p;
}

void tx_emit_slow(struct tx *t)
{
    struct x64 *e = &t->e;
    for (unsigned n = 0; n < t->nslow; n++) {
        const struct slow_access *sl = &t->slow[n];
        if (sl->wtag) {
            /* A store whose write tag missed: the registers are what the
             * thunk has at that point, so it goes on from there. */
            x64_patch_rel32(e->start, sl->at[1], e->p);
            x64_call_rel(e, sl->wtag);
            x64_nop_payload(e, sl->count, sl->eip);
            x64_jmp(e, sl->back);
        }
        if (sl->based) {
            /* back to the offset, which the thunk takes */
            x64_patch_rel32(e->start, sl->at[1], e->p);
            x64_alu_rm(e, XA_SUB, 4, X_RSI, CPU(seg[sl->seg].base));
        }
        x64_patch_rel32(e->start, sl->at[0], e->p);
        if (!sl->based && !sl->wtag)
            x64_patch_rel32(e->start, sl->at[1], e->p);
        if (sl->at[2] >= 0)
            x64_patch_rel32(e->start, sl->at[2], e->p);
        x64_call_rel(e, sl->thunk);
        x64_nop_payload(e, sl->count, sl->eip);
        x64_jmp(e, sl->back);
    }
}


/*
 * A memory-access thunk: the L1 TLB hit path of cpu/mem.h in host code,
 * shared by every access of one size, kind and segment.
 *   in:  ESI = effective address, EDX = the value (stores)
 *   out: EAX = the value, zero-extended (loads)
 * A flat segment (`seg.flat` allows the access) makes the linear address
 * the effective address; the TLB tag of the access's last byte must match
 * the entry indexed by its first (so a page-crossing or wrapping access
 * misses).  Anything else -- a segment with a base or limit, a miss, MMIO,
 * a tracked or clean page -- tail-calls the C helper, which checks the
 * segment, takes the MMU's slow path and raises faults -- except a store
 * beside code, which the thunk finishes itself.  Clobbers RAX, RCX, RDX,
 * RSI and RDI; keeps R8-R11 and RBP.
 */
u8 *tx_emit_thunk(struct x64 *e, const struct mmu *m, unsigned size, unsigned seg, bool store,
                  u8 **wtag)
{
    u8 *start = e->p;
    long miss[3];
    emit_hit_path(e, size, seg, store, false, miss);
    long slow1 = miss[0], slow2 = miss[1];
    x64_ret(e);
    /* the entry the hit path indexed (RDI the TLB, RAX its offset) */
    struct x64_mem ent = { X_RDI, X_RAX, 1, 0 };
    x64_patch_rel32(e->start, slow2, e->p);
    if (wtag)
        *wtag = e->p;
    long slow3 = -1, slow4 = -1, slow5 = -1;
    if (store) {
        /* A page whose only tracking is code lines (code_wtag): a store
         * that misses every line decoded code came from goes straight to
         * RAM, as mmu_lin_write() would do it.  code_lines is one bit
         * string over all of RAM, bit gpa >> MMU_CODE_LINE_SHIFT. */
        ent.disp = (i32)(offsetof(struct tlb, e) + offsetof(struct tlb_entry, code_wtag));
        x64_alu_rm(e, XA_CMP, 4, X_RCX, ent);
        slow3 = x64_jcc(e, 5 /* ne */, NULL);
        ent.disp = (i32)(offsetof(struct tlb, e) + offsetof(struct tlb_entry, addend));
        x64_load(e, 8, X_RCX, ent);
        x64_lea64(e, X_RCX, (struct x64_mem){ X_RCX, X_RSI, 1, 0 });
        /* RSI (the slow path's input) is kept on the stack meanwhile */
        x64_push(e, X_RSI);
        x64_mov_ri64(e, X_RDI, (u64)(uintptr_t)m->ram);
        x64_mov_rr(e, 8, X_RAX, X_RCX);
        x64_alu_rr(e, XA_SUB, 8, X_RAX, X_RDI); /* the guest physical address */
        x64_mov_ri64(e, X_RDI, (u64)(uintptr_t)m->code_lines);
        x64_mov_rr(e, 8, X_RSI, X_RAX);
        x64_shift_ri(e, XS_SHR, 8, X_RSI, MMU_CODE_LINE_SHIFT);
        x64_bt_mr(e, x64_m(X_RDI, 0), X_RSI);
        slow4 = x64_jcc(e, 2 /* c */, NULL);
        if (size > 1) {
            x64_lea64(e, X_RSI, x64_m(X_RAX, (i32)size - 1));
            x64_shift_ri(e, XS_SHR, 8, X_RSI, MMU_CODE_LINE_SHIFT);
            x64_bt_mr(e, x64_m(X_RDI, 0), X_RSI);
            slow5 = x64_jcc(e, 2 /* c */, NULL);
        }
        /* counted as mmu_lin_write() counts it: only while still code */
        x64_mov_ri64(e, X_RDI, (u64)(uintptr_t)m->page_flags);
        x64_shift_ri(e, XS_SHR, 8, X_RAX, PAGE_SHIFT);
        x64_test_mi(e, 1, (struct x64_mem){ X_RDI, X_RAX, 1, 0 }, PG_CODE);
        long untracked = x64_jcc(e, 4 /* e */, NULL);
        x64_mov_ri64(e, X_RDI, (u64)(uintptr_t)&m->cnt->v[CNT_mmu_code_near_writes]);
        x64_alu_mi(e, XA_ADD, 8, x64_m(X_RDI, 0), 1);
        x64_patch_rel32(e->start, untracked, e->p);
        x64_pop(e, X_RSI);
        x64_store(e, size, x64_m(X_RCX, 0), X_RDX);
        x64_ret(e);
    }
    if (slow4 >= 0) {
        x64_patch_rel32(e->start, slow4, e->p);
        if (slow5 >= 0)
            x64_patch_rel32(e->start, slow5, e->p);
        x64_pop(e, X_RSI);
    }
    x64_patch_rel32(e->start, slow1, e->p);
    if (slow3 >= 0)
        x64_patch_rel32(e->start, slow3, e->p);
    /* The C path, keeping R8-R11 (the guest register cache; C keeps RBP) */
    x64_push(e, X_R8);
    x64_push(e, X_R9);
    x64_push(e, X_R10);
    x64_push(e, X_R11);
    x64_alu_ri(e, XA_SUB, 8, X_RSP, 8); /* 16-byte alignment at the call */
    /* the return address: the call site's payload follows it */
    x64_load(e, 8, store ? X_R8 : X_RCX, x64_m(X_RSP, 40));
    x64_mov_rr(e, 8, X_RDI, X_RBX);
    x64_mov_ri32(e, store ? X_RCX : X_RDX, seg);
    x64_call_abs(e, store ? st_fn[size] : ld_fn[size]);
    x64_alu_ri(e, XA_ADD, 8, X_RSP, 8);
    x64_pop(e, X_R11);
    x64_pop(e, X_R10);
    x64_pop(e, X_R9);
    x64_pop(e, X_R8);
    x64_ret(e);
    return start;
}
