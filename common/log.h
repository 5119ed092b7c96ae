/*
 * Logging with a category mask.  A logger belongs to a machine (no globals):
 * every module that logs holds a pointer to its machine's logger.  The mask
 * test is inline and marked unlikely, so a disabled category costs a load
 * and a branch.
 */
#ifndef UMBRA_COMMON_LOG_H
#define UMBRA_COMMON_LOG_H

#include <stdarg.h>
#include <stdio.h>

#include "types.h"

#define LOG_CATEGORIES(X)                                   \
    X(CPU, "cpu", "CPU mode changes and notable events")    \
    X(INT, "int", "interrupts and exceptions delivered")    \
    X(EXEC, "exec", "blocks executed (instructions under -exec interp)") \
    X(IN_ASM, "in_asm", "guest code of each block built, disassembled") \
    X(OUT_ASM, "out_asm", "host code of each block translated, disassembled") \
    X(NOCHAIN, "nochain", "never link translated blocks: each returns to the dispatcher") \
    X(MMU, "mmu", "memory map and paging events")           \
    X(IO, "io", "port I/O")                                 \
    X(POST, "post", "POST codes written to port 0x80")      \
    X(GUEST_ERROR, "guest_error", "guest misuse of hardware") \
    X(UNIMP, "unimp", "unimplemented hardware touched")     \
    X(MMU_STATS, "mmu-stats", "print counters at exit")     \
    X(STATE, "state", "print the CPU state and a checksum of RAM at exit")

enum log_cat {
#define X(id, name, desc) LOG_##id,
    LOG_CATEGORIES(X)
#undef X
    LOG__COUNT
};

struct logger {
    u32 mask;   /* bit per enum log_cat */
    FILE *out;  /* NULL means stderr */
    u32 limited; /* messages dropped by rate limiting */
};

void log_init(struct logger *lg);
void log_printf(struct logger *lg, enum log_cat cat, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Parse a comma-separated category list ("int,io" or "help").
 * Returns 0 on success, -1 naming the bad item on stderr.
 */
int log_parse_mask(const char *list, u32 *mask) MUST_CHECK;
void log_list_categories(FILE *f);

#define LOG_ON(lg, cat) unlikely((lg) && ((lg)->mask & (1u << LOG_##cat)))
#define LOG(lg, cat, ...)                                   \
    do {                                                    \
        if (LOG_ON(lg, cat))                                \
            log_printf((lg), LOG_##cat, __VA_ARGS__);       \
    } while (0)

#endif
