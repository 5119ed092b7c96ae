/*
 * The translator against the interpreter, in lockstep: every case of
 * test_blocks.c (random programs in real mode, flat 32-bit and paged
 * protected mode with faults, self-modifying code, remapped pages, budgets
 * inside blocks) with hot blocks translated to host code, comparing all
 * architectural state and all of RAM after every chunk.
 */
#define BLOCKS_JIT 1
#include "test_blocks.c"
