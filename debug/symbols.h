/*
 * Guest symbols for the profiler: a sorted table of code addresses and
 * names, read from a Multiboot kernel's ELF symbol table or from a
 * System.map-format file.  Private to debug/.
 */
#ifndef UMBRA_DEBUG_SYMBOLS_H
#define UMBRA_DEBUG_SYMBOLS_H

#include <stdio.h>

#include "common/types.h"

struct sym {
    u32 addr;
    char *name;
};

struct symtab {
    struct sym *s;  /* sorted by addr */
    unsigned n, cap;
};

/* Add the code symbols of the ELF32 executable at `path` (every symbol
 * of .symtab defined in an executable section).  Returns how many were
 * added, 0 if the file is not an ELF32 image with a symbol table (not an
 * error: a bzImage has none), or -1 with a message naming `flag` and the
 * path on `err` if it cannot be read. */
int symtab_load_elf(struct symtab *t, const char *path, const char *flag, FILE *err) MUST_CHECK;
/* Add the text symbols (types T, t, W, w) of a System.map-format file:
 * "ADDR TYPE NAME" lines, ADDR hex.  Returns how many, or -1 with a
 * message naming `flag` and the path (unreadable, or no valid line). */
int symtab_load_map(struct symtab *t, const char *path, const char *flag, FILE *err) MUST_CHECK;
/* Sort after loading. */
void symtab_sort(struct symtab *t);
/* The symbol at or below `addr`, or NULL; *off gets addr - its address.
 * Symbols more than 1 MiB below are not taken. */
const struct sym *symtab_find(const struct symtab *t, u32 addr, u32 *off);
void symtab_free(struct symtab *t);

#endif
