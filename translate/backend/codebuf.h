/*
 * Memory for translated code, never writable and executable at once.
 *
 * One piece of shared anonymous memory is mapped twice: a read-write view
 * the emitter writes into and a read-execute view the CPU runs, at another
 * address.  Code is position
 * independent inside the buffer (relative jumps between blocks, absolute
 * addresses only for calls out), so what is written at offset k of the
 * write view runs at offset k of the execute view.
 *
 * Allocation is the owner's: it bumps `used`, and when the buffer is
 * full it forgets every translation and winds `used` back.
 */
#ifndef UMBRA_TRANSLATE_BACKEND_CODEBUF_H
#define UMBRA_TRANSLATE_BACKEND_CODEBUF_H

#include <stddef.h>

#include "common/types.h"

struct codebuf {
    u8 *rw;      /* write view */
    u8 *rx;      /* execute view (same bytes) */
    size_t size; /* bytes in each view */
    size_t used; /* bytes handed out */
    unsigned patches; /* since the write view last let its pages go */
};

/* Patches between two sweeps of the write view (codebuf_patch). */
#define CODEBUF_PATCH_SWEEP 256

/* Map a buffer of `size` bytes (rounded up to pages).  Returns 0, or -1
 * with errno set if the host refuses the mappings. */
int codebuf_init(struct codebuf *b, size_t size) MUST_CHECK;
void codebuf_free(struct codebuf *b);

/* Unmap the write view's whole pages in [from, to) (byte offsets).  The
 * bytes stay, the execute view still maps them and a later write maps
 * them again; until then the process does not count them twice in its
 * resident set. */
void codebuf_drop_writes(struct codebuf *b, size_t from, size_t to);

/* Write `n` bytes at write-view address `at`: small patches to code
 * already written, whose pages codebuf_drop_writes() let go.  The pages
 * a patch maps into the write view again are let go together, every
 * CODEBUF_PATCH_SWEEP patches, so at most that many stay counted twice. */
void codebuf_patch(struct codebuf *b, u8 *at, const void *bytes, size_t n);

/* The execute-view address of a write-view address. */
static inline void *codebuf_exec_addr(const struct codebuf *b, const u8 *rw)
{
    return b->rx + (rw - b->rw);
}

#endif
