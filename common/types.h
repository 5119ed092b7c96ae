/*
 * Fixed-width types, branch hints and always-on checks shared by every
 * module.  Nothing here knows about any other part of Umbra.
 */
#ifndef UMBRA_COMMON_TYPES_H
#define UMBRA_COMMON_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t i8;
typedef int16_t i16;
typedef int32_t i32;
typedef int64_t i64;

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define NOINLINE __attribute__((noinline))
#define ALWAYS_INLINE inline __attribute__((always_inline))
#define COLD __attribute__((cold))
#define NORETURN __attribute__((noreturn))
#define MUST_CHECK __attribute__((warn_unused_result))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void umbra_check_failed(const char *file, int line, const char *expr) COLD;

/*
 * ALWAYS(x) and NEVER(x) stay on in release builds: they report a broken
 * invariant of our own (never a guest error) and evaluate to x so the caller
 * can still recover.
 */
#define ALWAYS(x) (likely(x) ? 1 : (umbra_check_failed(__FILE__, __LINE__, #x), 0))
#define NEVER(x) (unlikely(x) ? (umbra_check_failed(__FILE__, __LINE__, #x), 1) : 0)

/* Sign-extend the low `bits` bits of v. */
static inline u32 sext(u32 v, unsigned bits)
{
    unsigned s = 32 - bits;
    return (u32)((i32)(v << s) >> s);
}

/* Mask of the low `bytes` bytes (1, 2 or 4). */
static inline u32 size_mask(unsigned bytes)
{
    return bytes >= 4 ? 0xffffffffu : (1u << (bytes * 8)) - 1;
}

#endif
