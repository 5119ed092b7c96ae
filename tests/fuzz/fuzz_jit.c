/*
 * libFuzzer harness: the translator against the interpreter.  The block
 * harness (fuzz_blocks.c) with translation enabled on the second machine,
 * so blocks that run twice become host code and are compared, chunk by
 * chunk, with the one-instruction interpreter.
 */
#define FUZZ_JIT 1
#include "fuzz_blocks.c"
