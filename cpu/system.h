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

/* Read the two dwords of the descriptor `sel` names (GDT or LDT).
 * Returns false if the selector is outside the table's limit. */
bool desc_read(struct cpu *c, u16 sel, u32 *lo, u32 *hi);

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

#endif
