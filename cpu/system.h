/*
 * System-level services shared by the semantics files: segment loading,
 * far transfers, interrupt and exception delivery, task switching.
 * (SDM vol. 3A chapters 3, 5, 6 and 7.)
 */
#ifndef UMBRA_CPU_SYSTEM_H
#define UMBRA_CPU_SYSTEM_H

#include "cpu_state.h"

/* Fill a descriptor cache and derive its limit window and access rights. */
void seg_set(struct seg *sg, u16 sel, u32 base, u32 limit, u32 flags);
/* Descriptor cache from the two raw descriptor dwords. */
void seg_set_desc(struct seg *sg, u16 sel, u32 lo, u32 hi);
/* Real-mode / v86 load: base = sel << 4. */
void seg_load_real(struct cpu *c, unsigned s, u16 sel);
/*
 * Load segment register s (not CS) with `sel` as MOV/POP/LxS do, with
 * every protected-mode check (#GP(sel), #NP(sel), #SS(sel)).
 */
void seg_load(struct cpu *c, unsigned s, u16 sel);

/* A debugger's store of segment register s's cached base and limit; in
 * protected mode the limit window and rights follow the cached
 * attributes, elsewhere the rights stay as the last load left them. */
void seg_set_cache(struct cpu *c, unsigned s, u32 base, u32 limit);

/* Read the two dwords of the descriptor `sel` names (GDT or LDT).
 * Returns false if the selector is outside the table's limit. */
bool desc_read(struct cpu *c, u16 sel, u32 *lo, u32 *hi);

/* Set the Accessed bit of descriptor `sel` (raw high dword `hi`) in its
 * table, as a segment load does.  May fault (#PF on the table). */
void desc_set_accessed(struct cpu *c, u16 sel, u32 hi);
/* Commit CS from a checked descriptor with RPL = CPL = `cpl`. */
void seg_commit_cs(struct cpu *c, u16 sel, u32 lo, u32 hi, unsigned cpl);
/* After a return to an outer ring: null ES/DS/FS/GS whose descriptor the
 * new CPL may not use (data or non-conforming code with DPL < CPL). */
void seg_null_outer(struct cpu *c);

/*
 * A stack being built by a control transfer before it becomes SS:ESP, so
 * every push can fault while the architectural SS and ESP are untouched.
 * stk_cur() starts from the current SS:ESP; tss_inner_stack() from the
 * SS:ESP of an inner ring in the current TSS (with the #TS/#SS checks of
 * SDM vol. 3A, 6.12.1).  stk_commit() makes it SS:ESP.
 */
struct stk {
    struct seg ss;
    u32 esp;     /* full ESP; only the low 16 bits move on a 16-bit stack */
    bool big;    /* 32-bit stack (SS.B) */
    bool user;   /* pushes are CPL-3 accesses */
    u32 err;     /* error code of #SS when a push leaves the segment */
};
void stk_cur(struct cpu *c, struct stk *s);
void tss_inner_stack(struct cpu *c, unsigned dpl, u32 ext, struct stk *s);
void stk_push(struct cpu *c, struct stk *s, u32 v, unsigned size);
void stk_commit(struct cpu *c, const struct stk *s);

/* MOV CRn, r32 (n = 0, 2, 3, 4; #UD otherwise) and WRMSR to IA32_EFER,
 * with their checks (#GP(0)) and their effects on the MMU and the mode. */
void cpu_write_cr(struct cpu *c, unsigned n, u32 v);
void cpu_write_efer(struct cpu *c, u64 v);

/* Far control transfers.  `osz` is the operand size (2 or 4). */
void cpu_far_jump(struct cpu *c, u16 sel, u32 off, unsigned osz);
void cpu_far_call(struct cpu *c, u16 sel, u32 off, unsigned osz);
void cpu_far_return(struct cpu *c, unsigned osz, u16 pop_bytes);
void cpu_iret(struct cpu *c, unsigned osz);

/* How an interrupt or exception came about (decides DPL checks, which
 * EIP is pushed, v86 redirection). */
enum int_source {
    INT_EXT,    /* external interrupt or NMI */
    INT_EXC,    /* processor exception (fault or trap) */
    INT_SOFT,   /* INT n: gate DPL checked against CPL, IOPL-sensitive in v86 */
    INT_SOFT_EXC, /* INT3 / INTO: gate DPL checked, not IOPL-sensitive */
    INT_ICEBP,  /* INT1 (F1): like an external event for DPL purposes */
};
/* Deliver vector `vec`.  EIP pushed is c->eip (the caller sets it to the
 * faulting or the next instruction).  Raises on a fault during delivery. */
void cpu_interrupt(struct cpu *c, unsigned vec, enum int_source src, bool has_err, u32 err);

/* Task switch reasons (SDM vol. 3A, 7.3). */
enum task_reason { TASK_JMP, TASK_CALL, TASK_IRET, TASK_INT };
void task_switch(struct cpu *c, u16 sel, u32 lo, u32 hi, enum task_reason why, bool has_err,
                 u32 err);

/* I/O permission: raises #GP(0) unless CPL <= IOPL or the TSS bitmap allows
 * `size` bytes at `port` (always allowed in real mode). */
void io_check(struct cpu *c, u16 port, unsigned size);

/*
 * Debug-register breakpoints (SDM vol. 3A, 17.2-17.3; ops_system.c).
 * dr_update() recomputes the armed flags and the MMU's no-TLB pages after
 * DR0-3/DR7 change (or at reset).  dbg_insn_check() runs before an
 * instruction when an execute breakpoint is armed and raises the #DB
 * fault on a match (suppressed, once, by EFLAGS.RF).  dbg_data_access()
 * runs on the memory slow path when a data breakpoint is armed and adds
 * matching DR6.Bn bits to dr6_pending (the trap is taken after the
 * instruction, or after the next one for MOV SS / POP SS).
 */
#define DR6_BS (1u << 14) /* single step */
void dr_update(struct cpu *c);
void dbg_insn_check(struct cpu *c);
void dbg_data_access(struct cpu *c, u32 lin, unsigned size, bool write);

#endif
