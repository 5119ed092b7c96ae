/*
 * Register and memory operand access for the semantics files.
 *
 * Memory goes: effective address -> segment check (limit, type, present)
 * -> linear address -> TLB hit (inline) or the MMU slow path.  Faults are
 * raised from here (#GP/#SS for segments, #PF from the MMU).
 */
#ifndef UMBRA_CPU_MEM_H
#define UMBRA_CPU_MEM_H

#include "cpu_state.h"

/* ---- registers ---- */

static inline u32 reg_read(const struct cpu *c, unsigned r, unsigned size)
{
    if (size == 1)
        return r < 4 ? c->r[r] & 0xff : (c->r[r - 4] >> 8) & 0xff;
    return size == 2 ? c->r[r] & 0xffff : c->r[r];
}

static inline void reg_write(struct cpu *c, unsigned r, u32 v, unsigned size)
{
    if (size == 4)
        c->r[r] = v;
    else if (size == 2)
        c->r[r] = (c->r[r] & 0xffff0000u) | (v & 0xffff);
    else if (r < 4)
        c->r[r] = (c->r[r] & 0xffffff00u) | (v & 0xff);
    else
        c->r[r - 4] = (c->r[r - 4] & 0xffff00ffu) | ((v & 0xff) << 8);
}

/* ---- linear memory ---- */

NORETURN void cpu_page_fault(struct cpu *c, const struct mmu_fault *f);
u64 lin_read_slow(struct cpu *c, u32 lin, unsigned size, enum mmu_acc acc) NOINLINE;
void lin_write_slow(struct cpu *c, u32 lin, u64 v, unsigned size) NOINLINE;
/* Supervisor-mode accesses (descriptor tables, TSS, IDT), whatever the CPL. */
u64 sys_read(struct cpu *c, u32 lin, unsigned size);
void sys_write(struct cpu *c, u32 lin, u64 v, unsigned size);

static inline u32 load_host(const u8 *p, unsigned size)
{
    if (size == 1)
        return *p;
    if (size == 2) {
        u16 v;
        __builtin_memcpy(&v, p, 2);
        return v;
    }
    u32 v;
    __builtin_memcpy(&v, p, 4);
    return v;
}

static inline void store_host(u8 *p, u32 v, unsigned size)
{
    if (size == 1)
        *p = (u8)v;
    else if (size == 2) {
        u16 w = (u16)v;
        __builtin_memcpy(p, &w, 2);
    } else
        __builtin_memcpy(p, &v, 4);
}

static inline u32 lin_read(struct cpu *c, u32 lin, unsigned size)
{
    u8 *p = tlb_lookup(c->tlb, lin, size, ACC_READ);
    if (likely(p))
        return load_host(p, size);
    return (u32)lin_read_slow(c, lin, size, ACC_READ);
}

static inline void lin_write(struct cpu *c, u32 lin, u32 v, unsigned size)
{
    u8 *p = tlb_lookup(c->tlb, lin, size, ACC_WRITE);
    if (likely(p))
        store_host(p, v, size);
    else
        lin_write_slow(c, lin, v, size);
}

/* ---- segmented memory ---- */

NORETURN void seg_fault(struct cpu *c, unsigned s);

/* Whether segment `sg` allows an access of `size` bytes at offset `ea` for
 * `need` (SEGOK_READ or SEGOK_WRITE); if so, *lin is its linear address.
 * A flat segment costs one test and the wrap-around check. */
static ALWAYS_INLINE bool seg_check(const struct seg *sg, u32 ea, unsigned size, unsigned need,
                                    u32 *lin)
{
    u32 last = ea + size - 1;
    if (likely(sg->flat & need)) {
        *lin = ea;
        return likely(last >= ea);
    }
    *lin = sg->base + ea;
    return (sg->ok & need) && ea >= sg->lo && last <= sg->hi && last >= ea;
}

/* Check an access of `size` bytes at offset `ea` of segment `s` for `need`
 * and return its linear address; #GP or #SS if the segment refuses it. */
static inline u32 seg_lin(struct cpu *c, unsigned s, u32 ea, unsigned size, unsigned need)
{
    u32 lin;
    if (unlikely(!seg_check(&c->seg[s], ea, size, need, &lin)))
        seg_fault(c, s);
    return lin;
}

static inline u32 mem_read(struct cpu *c, unsigned s, u32 ea, unsigned size)
{
    return lin_read(c, seg_lin(c, s, ea, size, SEGOK_READ), size);
}

static inline void mem_write(struct cpu *c, unsigned s, u32 ea, u32 v, unsigned size)
{
    lin_write(c, seg_lin(c, s, ea, size, SEGOK_WRITE), v, size);
}

u64 mem_read64(struct cpu *c, unsigned s, u32 ea);
void mem_write64(struct cpu *c, unsigned s, u32 ea, u64 v);
/* Fault now if a write of `size` bytes at s:ea would fault later. */
void mem_probe_write(struct cpu *c, unsigned s, u32 ea, unsigned size);

/* ---- ModRM operands ---- */

/*
 * Operand forms a handler can be specialized for.  The hottest handlers
 * are written once as an always-inline body taking the operand size and
 * the form as parameters; the generic entry point passes the decoded
 * values (RM_ANY: ModRM.mod and the address size looked at when it runs),
 * and the decoder may pick a copy compiled for a 32-bit operand with a
 * register (RM_REG) or a memory operand with 32-bit addressing (RM_MEM32),
 * in which the size and form tests fold away (ops_special.c).  RM_BASE32
 * is a memory operand with 32-bit addressing and no index register.
 */
enum rm_form { RM_ANY, RM_REG, RM_MEM32, RM_BASE32 };

static ALWAYS_INLINE bool rm_is_reg(const struct insn *i, enum rm_form f)
{
    return f == RM_ANY ? i->mod == 3 : f == RM_REG;
}

static ALWAYS_INLINE u32 insn_ea_f(const struct cpu *c, const struct insn *i, enum rm_form f)
{
    if (f == RM_BASE32)
        return c->r[i->base] + i->disp;
    u32 ea = c->r[i->base] + (c->r[i->index] << i->scale) + i->disp;
    return f == RM_ANY && i->asz == 2 ? ea & 0xffff : ea;
}

static ALWAYS_INLINE u32 rm_read_f(struct cpu *c, const struct insn *i, unsigned size,
                                   enum rm_form f)
{
    if (rm_is_reg(i, f))
        return reg_read(c, i->rm, size);
    return mem_read(c, i->seg, insn_ea_f(c, i, f), size);
}

static ALWAYS_INLINE void rm_write_f(struct cpu *c, const struct insn *i, u32 v, unsigned size,
                                     enum rm_form f)
{
    if (rm_is_reg(i, f))
        reg_write(c, i->rm, v, size);
    else
        mem_write(c, i->seg, insn_ea_f(c, i, f), v, size);
}

/* The ModRM operand as decoded, whatever its form. */
static inline u32 insn_ea(const struct cpu *c, const struct insn *i)
{
    return insn_ea_f(c, i, RM_ANY);
}

static inline u32 rm_read(struct cpu *c, const struct insn *i, unsigned size)
{
    return rm_read_f(c, i, size, RM_ANY);
}

static inline void rm_write(struct cpu *c, const struct insn *i, u32 v, unsigned size)
{
    rm_write_f(c, i, v, size, RM_ANY);
}

/*
 * The memory forms' fast path.  A specialized memory form first asks for a
 * host pointer through the L1 TLB alone: the segment allows the access,
 * it does not wrap, and the TLB holds the page for this kind of access
 * (for a write: writable, dirty, not tracked).  If anything is unusual the
 * answer is NULL and nothing has changed, and the body hands the whole
 * instruction to the generic handler (`slow`), which faults or takes the
 * MMU's slow path as usual.  The fast path then calls nothing, so it needs
 * no stack frame.  A read-modify-write asks for a write pointer: writable
 * data segments and pages are readable too.
 */
static ALWAYS_INLINE bool rm_fast(enum rm_form f)
{
    return f == RM_MEM32 || f == RM_BASE32;
}

static ALWAYS_INLINE u8 *mem_fast_ptr(struct cpu *c, unsigned s, u32 ea, unsigned size,
                                      unsigned need, enum mmu_acc acc)
{
    u32 lin;
    if (unlikely(!seg_check(&c->seg[s], ea, size, need, &lin)))
        return NULL;
    return tlb_lookup(c->tlb, lin, size, acc);
}

static ALWAYS_INLINE u8 *rm_fast_ptr(struct cpu *c, const struct insn *i, unsigned size,
                                     enum rm_form f, unsigned need, enum mmu_acc acc)
{
    return mem_fast_ptr(c, i->seg, insn_ea_f(c, i, f), size, need, acc);
}

/* Read the r/m operand for a body of form `f` into *v: a specialized
 * memory form through the L1 TLB alone (false if the instruction must go
 * to its generic handler instead), anything else the general way. */
static ALWAYS_INLINE bool rm_load(struct cpu *c, const struct insn *i, unsigned size,
                                  enum rm_form f, u32 *v)
{
    if (rm_fast(f)) {
        const u8 *p = rm_fast_ptr(c, i, size, f, SEGOK_READ, ACC_READ);
        if (unlikely(!p))
            return false;
        *v = load_host(p, size);
        return true;
    }
    *v = rm_read_f(c, i, size, f);
    return true;
}

/* Define handler `name` (generic) and name_dr / name_dm / name_db (32-bit
 * operand; register, 32-bit-addressed memory, memory at base+disp) from
 * body(c, i, size, form, slow), `slow` being the generic handler. */
#define OP_SPECIALIZED(name, body)                                                         \
    void name(struct cpu *c, const struct insn *i) { body(c, i, i->osz, RM_ANY, NULL); }   \
    void name##_dr(struct cpu *c, const struct insn *i) { body(c, i, 4, RM_REG, NULL); }   \
    void name##_dm(struct cpu *c, const struct insn *i) { body(c, i, 4, RM_MEM32, name); } \
    void name##_db(struct cpu *c, const struct insn *i) { body(c, i, 4, RM_BASE32, name); }

/* ---- stack ---- */

static inline bool stack32(const struct cpu *c) { return c->mode & MODE_SS32; }

static inline u32 sp_mask(const struct cpu *c) { return stack32(c) ? 0xffffffffu : 0xffffu; }

static inline void set_sp(struct cpu *c, u32 v)
{
    if (stack32(c))
        c->r[R_ESP] = v;
    else
        c->r[R_ESP] = (c->r[R_ESP] & 0xffff0000u) | (v & 0xffff);
}

static inline void push(struct cpu *c, u32 v, unsigned size)
{
    u32 sp = (c->r[R_ESP] - size) & sp_mask(c);
    mem_write(c, S_SS, sp, v, size);
    set_sp(c, sp);
}

static inline u32 pop(struct cpu *c, unsigned size)
{
    u32 sp = c->r[R_ESP] & sp_mask(c);
    u32 v = mem_read(c, S_SS, sp, size);
    set_sp(c, sp + size);
    return v;
}

/* Read the stack `off` bytes above the current top without popping. */
static inline u32 stack_peek(struct cpu *c, u32 off, unsigned size)
{
    return mem_read(c, S_SS, (c->r[R_ESP] + off) & sp_mask(c), size);
}

#endif
