/*
 * The profiler (-profile FILE), private to debug/: per-block statistics
 * gathered from the block cache's events (fed by the tracer, trace.c),
 * folded guest stacks sampled by walking EBP frames, and the report.
 */
#ifndef UMBRA_DEBUG_PROF_H
#define UMBRA_DEBUG_PROF_H

#include "common/types.h"

struct prof;
struct blk_event;

void prof_built(struct prof *p, const struct blk_event *e);
void prof_translated(struct prof *p, const struct blk_event *e);
void prof_executed(struct prof *p, const struct blk_event *e);

#endif
