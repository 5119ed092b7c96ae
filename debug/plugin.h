/*
 * The plugin host, private to debug/ (the public side is umbra-plugin.h;
 * frontend/ uses debug.h).
 */
#ifndef UMBRA_DEBUG_PLUGIN_H
#define UMBRA_DEBUG_PLUGIN_H

#include "common/types.h"
#include "debug.h"

struct blk_event;

void plugins_block_built(struct plugins *ps, const struct blk_event *e);
void plugins_block_executed(struct plugins *ps, const struct blk_event *e);

#endif
