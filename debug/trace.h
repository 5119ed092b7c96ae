/*
 * Block-level tracing (-d in_asm,out_asm,exec,nochain, -dfilter), private
 * to debug/.  The tracer watches the block cache (translate/block.h) and
 * writes to the machine's log file.
 */
#ifndef UMBRA_DEBUG_TRACE_H
#define UMBRA_DEBUG_TRACE_H

#include <stdio.h>

#include "common/types.h"
#include "debug.h"

struct pc;
struct blk_event;

/* Whether `lin` passes the filter. */
bool trace_in_ranges(const struct trace_ranges *r, u32 lin);

/* The block's guest bytes (at most `max`) into `buf`, read without side
 * effects through its RAM page or the current paging.  Returns how many
 * were read; *gpa gets the physical address of the first, or ~0. */
unsigned trace_block_bytes(struct pc *pc, const struct blk_event *e, u8 *buf, unsigned max,
                           u64 *gpa);

#endif
