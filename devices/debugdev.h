#ifndef UMBRA_DEVICES_DEBUGDEV_H
#define UMBRA_DEVICES_DEBUGDEV_H

#include "cpu/cpu.h"

struct pc;
/* Claim ports 0x80, 0xE9 and 0xF4.  Returns 0 or -1. */
int debugdev_init(struct pc *pc) MUST_CHECK;

#endif
