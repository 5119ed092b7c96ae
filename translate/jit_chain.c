/*
 * Chaining and indirect lookups: a direct exit goes on through its cell
 * to the successor linked in the current epoch and address space; RET
 * and indirect jumps look their target up in a small cache; what is
 * missing is left for the dispatcher to fill (jit_link_pending).
 */
#include "jit_priv.h"

/* Go on at the block linked to this exit's cell, if it was linked in
 * the current epoch; else leave the cell for the dispatcher to link. */
void tx_emit_chain(struct tx *t, const u8 *epi, bool after_priv)
{
    struct x64 *e = &t->e;
    struct jit *j = t->j;
    if (j->cells_used == j->ncells) {
        t->too_many = true;
        return;
    }
    struct jit_cell *cell = &j->cells[j->cells_used++];
    cell->target = (u64)(uintptr_t)codebuf_exec_addr(&j->buf, j->shared_exit);
    cell->epoch = ~0u;
    /* After an instruction that may load CR3 the block's own page may map
     * elsewhere: no link from there counts as a link within the page. */
    cell->page = after_priv ? 1 : t->page;
    /* The epoch now, not at entry: a handler in this block may have moved
     * it, and the successor runs under it. */
    x64_load(e, 4, X_R12, x64_m(X_R13, 0));
    /* A link for every address space patches this jump straight to the
     * successor (jit_link_pending); unlinked, it goes on below. */
    long direct = x64_jmp(e, NULL);
    cell->direct = e->start + direct;
    x64_patch_rel32(e->start, direct, e->p);
    /* A translation serves every address space that maps its page, so
     * any other link holds in the epoch and address space it was made in.
     * (A cell whose patched jump was undone keeps CELL_ANY_SPACE, which no
     * address space matches: it is linked again.) */
    x64_mov_ri64(e, X_RAX, (u64)(uintptr_t)cell);
    x64_alu_rm(e, XA_CMP, 4, X_R12, x64_m(X_RAX, (i32)offsetof(struct jit_cell, epoch)));
    long unlinked = x64_jcc(e, 5 /* ne */, NULL);
    x64_load(e, 8, X_RCX, CPU(tlb));
    x64_load(e, 4, X_RCX, x64_m(X_RCX, (i32)offsetof(struct tlb, ctx)));
    x64_alu_rm(e, XA_CMP, 4, X_RCX, x64_m(X_RAX, (i32)offsetof(struct jit_cell, ctx)));
    long other_space = x64_jcc(e, 5 /* ne */, NULL);
    x64_jmp_m(e, x64_m(X_RAX, 0));
    x64_patch_rel32(e->start, unlinked, e->p);
    x64_patch_rel32(e->start, other_space, e->p);
    x64_mov_ri64(e, X_RCX, (u64)(uintptr_t)&j->pending);
    x64_store(e, 8, x64_m(X_RCX, 0), X_RAX);
    x64_jmp(e, epi);
}

/* Go on at the block the indirect-target cache holds for the current
 * EIP, if any; else leave the entry for the dispatcher to fill. */
void tx_emit_indirect(struct tx *t, const u8 *epi)
{
    struct x64 *e = &t->e;
    struct jit *j = t->j;
    x64_load(e, 4, X_R12, x64_m(X_R13, 0)); /* as in emit_chain */
    x64_load(e, 4, X_RAX, CPU(eip));
    x64_mov_rr(e, 4, X_RCX, X_RAX);
    x64_shift_ri(e, XS_SHR, 4, X_RCX, IND_BITS);
    x64_alu_rr(e, XA_XOR, 4, X_RCX, X_RAX);
    x64_alu_ri(e, XA_AND, 4, X_RCX, IND_SIZE - 1);
    x64_shift_ri(e, XS_SHL, 4, X_RCX, 5);
    x64_mov_ri64(e, X_RDX, (u64)(uintptr_t)j->ind);
    x64_lea64(e, X_RDX, (struct x64_mem){ X_RDX, X_RCX, 1, 0 });
    long miss[5];
    x64_alu_rm(e, XA_CMP, 4, X_RAX, x64_m(X_RDX, (i32)offsetof(struct jit_ind, eip)));
    miss[0] = x64_jcc(e, 5, NULL);
    /* An entry for every address space (IND_ANY_SPACE) holds in the
     * shared epoch; the mode and CPL are this block's. */
    const u32 mode_cpl = cpu_code_key(t->c) & 0xffffu;
    x64_alu_mi(e, XA_CMP, 4, x64_m(X_RDX, (i32)offsetof(struct jit_ind, key)),
               mode_cpl | IND_ANY_SPACE);
    long specific = x64_jcc(e, 5, NULL);
    x64_load(e, 4, X_RCX, x64_m(X_R13, SHARED_EPOCH_OFF));
    x64_alu_rm(e, XA_CMP, 4, X_RCX, x64_m(X_RDX, (i32)offsetof(struct jit_ind, epoch)));
    miss[1] = x64_jcc(e, 5, NULL);
    long check_cs = x64_jmp(e, NULL);
    x64_patch_rel32(e->start, specific, e->p);
    x64_alu_rm(e, XA_CMP, 4, X_R12, x64_m(X_RDX, (i32)offsetof(struct jit_ind, epoch)));
    miss[2] = x64_jcc(e, 5, NULL);
    /* The code key of now (cpu_code_key): the mode and CPL are this
     * block's, the address space is whichever runs it. */
    x64_load(e, 8, X_RCX, CPU(tlb));
    x64_load(e, 4, X_RCX, x64_m(X_RCX, (i32)offsetof(struct tlb, ctx)));
    x64_shift_ri(e, XS_SHL, 4, X_RCX, 16);
    x64_alu_ri(e, XA_OR, 4, X_RCX, mode_cpl);
    x64_alu_rm(e, XA_CMP, 4, X_RCX, x64_m(X_RDX, (i32)offsetof(struct jit_ind, key)));
    miss[3] = x64_jcc(e, 5, NULL);
    x64_patch_rel32(e->start, check_cs, e->p);
    x64_load(e, 4, X_RCX, CPU(seg[S_CS].base));
    x64_alu_rm(e, XA_CMP, 4, X_RCX, x64_m(X_RDX, (i32)offsetof(struct jit_ind, cs_base)));
    miss[4] = x64_jcc(e, 5, NULL);
    x64_jmp_m(e, x64_m(X_RDX, (i32)offsetof(struct jit_ind, target)));
    for (unsigned k = 0; k < 5; k++)
        x64_patch_rel32(e->start, miss[k], e->p);
    x64_mov_ri64(e, X_RCX, (u64)(uintptr_t)&j->pending_ind);
    x64_store(e, 8, x64_m(X_RCX, 0), X_RDX);
    x64_jmp(e, epi);
}

/* Whether the code at `lin` is fetched through a global translation,
 * which serves every address space (CR4.PGE). */
static bool fetch_is_global(const struct cpu *c, u32 lin)
{
    const struct tlb_entry *te = tlb_entry_for(c->tlb, lin);
    return tlb_entry_hits(c->tlb, te, lin, 1, ACC_FETCH) && (te->flags & TLB_GLOBAL);
}

static void jit_link_indirect(struct jit *j, void *chain, u32 epoch)
{
    struct jit_ind *d = j->pending_ind;
    if (!d)
        return;
    const struct cpu *c = j->c;
    struct mmu *m = c->mmu;
    u32 lin = c->seg[S_CS].base + c->eip;
    *d = (struct jit_ind){ .eip = c->eip, .epoch = epoch, .target = (u64)(uintptr_t)chain,
                           .key = cpu_code_key(c), .cs_base = c->seg[S_CS].base };
    if (epoch == m->epoch && fetch_is_global(c, lin)) {
        mmu_note_shared_code(m, lin);
        d->epoch = m->shared_epoch;
        d->key = (d->key & 0xffffu) | IND_ANY_SPACE;
    }
    j->pending_ind = NULL;
}

void jit_link_pending(struct jit *j, void *chain, u32 epoch)
{
    jit_link_indirect(j, chain, epoch);
    struct jit_cell *cell = j->pending;
    if (!cell)
        return;
    const struct cpu *c = j->c;
    struct mmu *m = c->mmu;
    u32 lin = c->seg[S_CS].base + c->eip;
    bool global = fetch_is_global(c, lin);
    cell->target = (u64)(uintptr_t)chain;
    if (epoch == m->epoch && ((lin & PAGE_MASK) == cell->page || global)) {
        if (global)
            mmu_note_shared_code(m, lin);
        cell->ctx = CELL_ANY_SPACE;
        /* Straight there from now on, until the shared epoch moves. */
        const u8 *at = codebuf_exec_addr(&j->buf, cell->direct);
        i32 rel = (i32)((const u8 *)chain - (at + 4));
        codebuf_patch(&j->buf, cell->direct, &rel, 4);
        j->patched[j->npatched++] = (u32)(cell - j->cells);
    } else {
        cell->epoch = epoch;
        cell->ctx = c->tlb->ctx;
    }
    j->pending = NULL;
}

void jit_drop_pending(struct jit *j)
{
    j->pending = NULL;
    j->pending_ind = NULL;
}

/* The shared epoch moved: every direct jump patched to a successor goes
 * back to the checks after it (rel32 0: the next instruction). */
void jit_unpatch_all(struct jit *j)
{
    static const u8 zero[4];
    for (u32 k = 0; k < j->npatched; k++)
        codebuf_patch(&j->buf, j->cells[j->patched[k]].direct, zero, 4);
    j->npatched = 0;
}
