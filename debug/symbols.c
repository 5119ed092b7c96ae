/*
 * Guest symbols (symbols.h).  The ELF reader follows the ELF32 layout of
 * the System V ABI (gABI "Sections", "Symbol Table"): the section header
 * table at e_shoff, a SHT_SYMTAB section whose sh_link names its string
 * table, and symbols whose st_shndx names a section with SHF_EXECINSTR.
 * Every offset read is checked against the file's size.
 */
#include "symbols.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SYM_MAX_DISTANCE (1u << 20)

static int add(struct symtab *t, u32 addr, const char *name, size_t len)
{
    if (t->n == t->cap) {
        unsigned cap = t->cap ? t->cap * 2 : 256;
        struct sym *s = realloc(t->s, cap * sizeof *s);
        if (!s)
            return -1;
        t->s = s;
        t->cap = cap;
    }
    char *copy = strndup(name, len);
    if (!copy)
        return -1;
    t->s[t->n++] = (struct sym){ addr, copy };
    return 0;
}

static u32 rd32(const u8 *p)
{
    return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u16 rd16(const u8 *p)
{
    return (u16)(p[0] | p[1] << 8);
}

static int read_all(const char *path, u8 **data, size_t *size, const char *flag, FILE *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(err, "umbra: %s %s: %s\n", flag, path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    u8 *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fprintf(err, "umbra: %s %s: out of memory\n", flag, path);
            fclose(f);
            return -1;
        }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        u8 *more = realloc(buf, cap * 2);
        if (!more)
            free(buf);
        buf = more;
        cap *= 2;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(err, "umbra: %s %s: read error\n", flag, path);
        free(buf);
        return -1;
    }
    *data = buf;
    *size = n;
    return 0;
}

/* Section header `k` (40 bytes), or NULL if outside the file. */
static const u8 *shdr(const u8 *d, size_t size, u32 shoff, u16 shentsize, u32 k)
{
    u64 at = (u64)shoff + (u64)k * shentsize;
    return shentsize >= 40 && at + 40 <= size ? d + at : NULL;
}

static int load_elf_syms(struct symtab *t, const u8 *d, size_t size)
{
    if (size < 52 || memcmp(d, "\177ELF", 4) || d[4] != 1 || d[5] != 1)
        return 0;
    u32 shoff = rd32(d + 32);
    u16 shentsize = rd16(d + 46), shnum = rd16(d + 48);
    int added = 0;
    for (u32 k = 0; k < shnum; k++) {
        const u8 *sh = shdr(d, size, shoff, shentsize, k);
        if (!sh || rd32(sh + 4) != 2 /* SHT_SYMTAB */)
            continue;
        u32 off = rd32(sh + 16), len = rd32(sh + 20), link = rd32(sh + 24);
        const u8 *strsh = shdr(d, size, shoff, shentsize, link);
        if (!strsh || (u64)off + len > size)
            continue;
        u32 stroff = rd32(strsh + 16), strlen_ = rd32(strsh + 20);
        if ((u64)stroff + strlen_ > size)
            continue;
        for (u32 s = 0; s + 16 <= len; s += 16) {
            const u8 *e = d + off + s;
            u32 name = rd32(e), value = rd32(e + 4);
            u16 shndx = rd16(e + 14);
            unsigned type = e[12] & 0xf;
            if (!name || name >= strlen_ || shndx == 0 || shndx >= 0xff00 ||
                (type != 0 /* NOTYPE */ && type != 2 /* FUNC */))
                continue;
            const u8 *sec = shdr(d, size, shoff, shentsize, shndx);
            if (!sec || !(rd32(sec + 8) & 4 /* SHF_EXECINSTR */))
                continue;
            const char *nm = (const char *)d + stroff + name;
            size_t nlen = strnlen(nm, strlen_ - name);
            if (!nlen || add(t, value, nm, nlen) < 0)
                continue;
            added++;
        }
    }
    return added;
}

int symtab_load_elf(struct symtab *t, const char *path, const char *flag, FILE *err)
{
    u8 *d;
    size_t size;
    if (read_all(path, &d, &size, flag, err) < 0)
        return -1;
    int n = load_elf_syms(t, d, size);
    free(d);
    return n;
}

int symtab_load_map(struct symtab *t, const char *path, const char *flag, FILE *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(err, "umbra: %s %s: %s\n", flag, path, strerror(errno));
        return -1;
    }
    char line[512];
    int added = 0, lines = 0;
    while (fgets(line, sizeof line, f)) {
        char *e;
        unsigned long long a = strtoull(line, &e, 16);
        char type;
        char name[256];
        if (e == line || a > 0xffffffffull || sscanf(e, " %c %255s", &type, name) != 2)
            continue;
        lines++;
        if (type != 'T' && type != 't' && type != 'W' && type != 'w')
            continue;
        if (add(t, (u32)a, name, strlen(name)) == 0)
            added++;
    }
    fclose(f);
    if (!lines) {
        fprintf(err, "umbra: %s %s: no \"ADDR TYPE NAME\" line (not a System.map)\n", flag,
                path);
        return -1;
    }
    return added;
}

static int by_addr(const void *a, const void *b)
{
    const struct sym *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

void symtab_sort(struct symtab *t)
{
    if (t->n)
        qsort(t->s, t->n, sizeof *t->s, by_addr);
}

const struct sym *symtab_find(const struct symtab *t, u32 addr, u32 *off)
{
    unsigned lo = 0, hi = t->n;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (t->s[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo || addr - t->s[lo - 1].addr > SYM_MAX_DISTANCE)
        return NULL;
    *off = addr - t->s[lo - 1].addr;
    return &t->s[lo - 1];
}

void symtab_free(struct symtab *t)
{
    for (unsigned k = 0; k < t->n; k++)
        free(t->s[k].name);
    free(t->s);
    *t = (struct symtab){ 0 };
}
