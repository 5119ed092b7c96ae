/*
 * Plugins (-plugin FILE.so[,key=value...]), through libffi.
 *
 * A plugin is dlopen()ed, its umbra_plugin_version checked against
 * UMBRA_PLUGIN_VERSION (umbra-plugin.h) and its umbra_plugin_install
 * called with the API.  Each registration names the values its callback
 * takes; one libffi call interface (ffi_prep_cif) is prepared for it
 * then, and each event calls the callback through ffi_call with exactly
 * those values (libffi manual, "The Basics").  Events come from the
 * block cache's observer (through the tracer, trace.c), the MMU's
 * observer (CR3 loads, page-table writes), the CPU's exception hook and
 * the end of the run.  Only the sources some registration asked for are
 * hooked, so a plugin that wants no block events leaves blocks linked.
 */
#include "plugin.h"

#include <dlfcn.h>
#include <ffi.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "devices/pc.h"
#include "mmu/mmu.h"
#include "translate/block.h"
#include "umbra-plugin.h"

#define PLUGIN_MAX 8
#define PLUGIN_MAX_ARGS 16
#define PLUGIN_MAX_REGS 64

/* The values an event can pass; U64 ones are uint64_t, others uint32_t. */
#define PLUGIN_VALUES(X)  \
    X(LIN, "lin", 0)      \
    X(PHYS, "phys", 0)    \
    X(EIP, "eip", 0)      \
    X(INSNS, "insns", 0)  \
    X(BYTES, "bytes", 0)  \
    X(RETIRED, "retired", 1) \
    X(CR3, "cr3", 0)      \
    X(ICOUNT, "icount", 1) \
    X(OLD, "old", 0)      \
    X(NEW, "new", 0)      \
    X(PADDR, "paddr", 0)  \
    X(SIZE, "size", 0)    \
    X(VECTOR, "vector", 0) \
    X(ERROR, "error", 0)  \
    X(CR2, "cr2", 0)      \
    X(STATUS, "status", 0) \
    X(WRITE, "write", 0)  \
    X(VALUE, "value", 1)

enum pv {
#define X(id, name, wide) PV_##id,
    PLUGIN_VALUES(X)
#undef X
    PV__COUNT
};
static const char *const pv_name[] = {
#define X(id, name, wide) name,
    PLUGIN_VALUES(X)
#undef X
};
static const bool pv_wide[] = {
#define X(id, name, wide) wide,
    PLUGIN_VALUES(X)
#undef X
};

#define B(v) (1u << PV_##v)
/* Which values each event has. */
static const u32 ev_values[UMBRA_EV__COUNT] = {
    [UMBRA_EV_BLOCK_BUILT] = B(LIN) | B(PHYS) | B(EIP) | B(INSNS) | B(BYTES) | B(CR3) | B(ICOUNT),
    [UMBRA_EV_BLOCK_EXEC] = B(LIN) | B(PHYS) | B(EIP) | B(INSNS) | B(RETIRED) | B(CR3) | B(ICOUNT),
    [UMBRA_EV_CR3_LOAD] = B(OLD) | B(NEW) | B(EIP) | B(ICOUNT),
    [UMBRA_EV_PT_WRITE] = B(PADDR) | B(SIZE) | B(EIP) | B(CR3) | B(ICOUNT),
    [UMBRA_EV_EXCEPTION] = B(VECTOR) | B(ERROR) | B(CR2) | B(EIP) | B(CR3) | B(ICOUNT),
    [UMBRA_EV_EXIT] = B(STATUS) | B(ICOUNT),
    [UMBRA_EV_INSN] = B(EIP) | B(LIN) | B(CR3) | B(ICOUNT),
    [UMBRA_EV_MEM] = B(LIN) | B(PADDR) | B(SIZE) | B(WRITE) | B(VALUE) | B(EIP) | B(CR3) | B(ICOUNT),
};
static const char *const ev_name[UMBRA_EV__COUNT] = {
    "block built", "block executed", "CR3 load", "page-table write", "exception", "exit",
    "instruction", "memory access",
};

struct plugin_reg {
    enum umbra_event ev;
    void (*fn)(void);
    ffi_cif cif;
    ffi_type *types[PV__COUNT];
    u8 val[PV__COUNT];
    unsigned n;
};

struct plugin {
    void *dl;
    char *spec;                 /* a copy, cut into path, keys and values */
    const char *path;
    const char *key[PLUGIN_MAX_ARGS], *value[PLUGIN_MAX_ARGS];
    unsigned nargs;
};

struct plugins {
    struct pc *pc;
    struct plugin p[PLUGIN_MAX];
    unsigned np;
    struct plugin_reg r[PLUGIN_MAX_REGS];
    unsigned nr;
    u32 events;                 /* bit per enum umbra_event registered */
    struct plugin *installing;
    FILE *err;
};

/* ---- the API ---- */

static const char *api_arg(void *ctx, const char *key)
{
    struct plugin *p = ((struct plugins *)ctx)->installing;
    for (unsigned k = 0; p && k < p->nargs; k++)
        if (!strcmp(p->key[k], key))
            return p->value[k];
    return NULL;
}

static int api_register(void *ctx, enum umbra_event ev, const char *values, void (*fn)(void))
{
    struct plugins *ps = ctx;
    const char *who = ps->installing ? ps->installing->path : "plugin";
    if ((unsigned)ev >= UMBRA_EV__COUNT || !fn) {
        fprintf(ps->err, "umbra: -plugin %s: registers an unknown event %d\n", who, (int)ev);
        return -1;
    }
    if (ps->nr == PLUGIN_MAX_REGS) {
        fprintf(ps->err, "umbra: -plugin %s: more than %u registrations\n", who,
                PLUGIN_MAX_REGS);
        return -1;
    }
    struct plugin_reg *r = &ps->r[ps->nr];
    *r = (struct plugin_reg){ .ev = ev, .fn = fn };
    for (const char *p = values ? values : ""; *p;) {
        size_t len = strcspn(p, ",");
        unsigned v;
        for (v = 0; v < PV__COUNT; v++)
            if (strlen(pv_name[v]) == len && !strncmp(p, pv_name[v], len))
                break;
        if (v == PV__COUNT || !(ev_values[ev] & (1u << v)) || r->n == PV__COUNT) {
            fprintf(ps->err, "umbra: -plugin %s: the %s event has no value '%.*s'\n", who,
                    ev_name[ev], (int)len, p);
            return -1;
        }
        r->val[r->n] = (u8)v;
        r->types[r->n++] = pv_wide[v] ? &ffi_type_uint64 : &ffi_type_uint32;
        p += len;
        if (*p == ',')
            p++;
    }
    if (ffi_prep_cif(&r->cif, FFI_DEFAULT_ABI, r->n, &ffi_type_void, r->types) != FFI_OK) {
        fprintf(ps->err, "umbra: -plugin %s: libffi refused the call interface\n", who);
        return -1;
    }
    ps->nr++;
    ps->events |= 1u << ev;
    return 0;
}

static int api_read_reg(void *ctx, const char *name, uint32_t *v)
{
    static const struct { const char *name; enum cpu_reg r; } regs[] = {
        { "eax", CPU_EAX }, { "ecx", CPU_ECX }, { "edx", CPU_EDX }, { "ebx", CPU_EBX },
        { "esp", CPU_ESP }, { "ebp", CPU_EBP }, { "esi", CPU_ESI }, { "edi", CPU_EDI },
        { "eip", CPU_EIP }, { "eflags", CPU_EFLAGS }, { "cr0", CPU_CR0 }, { "cr2", CPU_CR2 },
        { "cr3", CPU_CR3 }, { "cr4", CPU_CR4 },
    };
    struct plugins *ps = ctx;
    for (size_t k = 0; k < sizeof regs / sizeof regs[0]; k++)
        if (!strcmp(regs[k].name, name)) {
            *v = cpu_get_reg(ps->pc->cpu, regs[k].r);
            return 0;
        }
    return -1;
}

static int api_read_mem(void *ctx, uint32_t lin, void *buf, uint32_t len)
{
    struct plugins *ps = ctx;
    u32 cr3 = cpu_get_reg(ps->pc->cpu, CPU_CR3);
    u8 *out = buf;
    for (u32 k = 0; k < len; k++) {
        struct pg_peek pk;
        u64 v;
        if (mmu_walk_peek(ps->pc->mmu, cr3, lin + k, ACC_READ, false, &pk) < 0 ||
            !mmu_phys_peek(ps->pc->mmu, (u32)pk.gpa, 1, &v))
            return -1;
        out[k] = (u8)v;
    }
    return 0;
}

/* ---- events ---- */

static void fire(struct plugins *ps, enum umbra_event ev, const u64 *vals)
{
    for (unsigned k = 0; k < ps->nr; k++) {
        struct plugin_reg *r = &ps->r[k];
        if (r->ev != ev)
            continue;
        u32 narrow[PV__COUNT];
        void *args[PV__COUNT];
        for (unsigned a = 0; a < r->n; a++) {
            if (pv_wide[r->val[a]]) {
                args[a] = (void *)&vals[r->val[a]];
            } else {
                narrow[a] = (u32)vals[r->val[a]];
                args[a] = &narrow[a];
            }
        }
        ffi_arg ret;
        ffi_call(&r->cif, r->fn, &ret, args);
    }
}

/* Fire `ev` with the values in v and the CPU's CR3 and count as they are
 * now. */
static void fire_now(struct plugins *ps, enum umbra_event ev, u64 *v)
{
    v[PV_CR3] = cpu_get_reg(ps->pc->cpu, CPU_CR3);
    v[PV_ICOUNT] = cpu_icount(ps->pc->cpu);
    fire(ps, ev, v);
}

static void block_values(struct plugins *ps, const struct blk_event *e, u64 *v)
{
    v[PV_LIN] = e->lin;
    v[PV_PHYS] = e->pfn != BLK_NO_PFN ? ((u64)e->pfn << 12 | (e->lin & 0xfff)) : 0xffffffffu;
    v[PV_EIP] = e->eip;
    v[PV_INSNS] = e->n;
    v[PV_BYTES] = e->bytes;
    v[PV_RETIRED] = e->retired;
    v[PV_CR3] = cpu_get_reg(ps->pc->cpu, CPU_CR3);
    v[PV_ICOUNT] = e->icount;
}

void plugins_block_built(struct plugins *ps, const struct blk_event *e)
{
    if (!(ps->events & (1u << UMBRA_EV_BLOCK_BUILT)))
        return;
    u64 v[PV__COUNT] = { 0 };
    block_values(ps, e, v);
    fire(ps, UMBRA_EV_BLOCK_BUILT, v);
}

void plugins_block_executed(struct plugins *ps, const struct blk_event *e)
{
    if (!(ps->events & (1u << UMBRA_EV_BLOCK_EXEC)))
        return;
    u64 v[PV__COUNT] = { 0 };
    block_values(ps, e, v);
    fire(ps, UMBRA_EV_BLOCK_EXEC, v);
}

static void on_cr3(void *opaque, u32 old, u32 cr3)
{
    struct plugins *ps = opaque;
    u64 v[PV__COUNT] = { 0 };
    v[PV_OLD] = old;
    v[PV_NEW] = cr3;
    v[PV_EIP] = cpu_get_reg(ps->pc->cpu, CPU_EIP);
    fire_now(ps, UMBRA_EV_CR3_LOAD, v);
}

static void on_pt_write(void *opaque, u32 gpa, unsigned size)
{
    struct plugins *ps = opaque;
    u64 v[PV__COUNT] = { 0 };
    v[PV_PADDR] = gpa;
    v[PV_SIZE] = size;
    v[PV_EIP] = cpu_get_reg(ps->pc->cpu, CPU_EIP);
    fire_now(ps, UMBRA_EV_PT_WRITE, v);
}

static void on_exception(void *opaque, unsigned vec, u32 err, u32 cr2, u32 eip)
{
    struct plugins *ps = opaque;
    u64 v[PV__COUNT] = { 0 };
    v[PV_VECTOR] = vec;
    v[PV_ERROR] = err;
    v[PV_CR2] = cr2;
    v[PV_EIP] = eip;
    fire_now(ps, UMBRA_EV_EXCEPTION, v);
}

static void on_insn(void *opaque, u32 eip, u32 lin)
{
    struct plugins *ps = opaque;
    u64 v[PV__COUNT] = { 0 };
    v[PV_EIP] = eip;
    v[PV_LIN] = lin;
    fire_now(ps, UMBRA_EV_INSN, v);
}

static void on_access(void *opaque, u32 lin, unsigned size, bool write, u64 value)
{
    struct plugins *ps = opaque;
    u64 v[PV__COUNT] = { 0 };
    u32 cr3 = cpu_get_reg(ps->pc->cpu, CPU_CR3);
    struct pg_peek pk;
    v[PV_LIN] = lin;
    /* the access succeeded, so the walk finds the page (no side effect) */
    v[PV_PADDR] = mmu_walk_peek(ps->pc->mmu, cr3, lin, ACC_READ, false, &pk) == 0 ||
                          ((pk.fault.err & PF_P) && pk.n)
                      ? (u32)pk.gpa
                      : 0xffffffffu;
    v[PV_SIZE] = size;
    v[PV_WRITE] = write;
    v[PV_VALUE] = value;
    v[PV_EIP] = cpu_insn_eip(ps->pc->cpu);
    fire_now(ps, UMBRA_EV_MEM, v);
}

void plugins_exit(struct plugins *ps, int status)
{
    if (!ps)
        return;
    u64 v[PV__COUNT] = { 0 };
    v[PV_STATUS] = (u32)status;
    v[PV_ICOUNT] = cpu_icount(ps->pc->cpu);
    fire(ps, UMBRA_EV_EXIT, v);
}

bool plugins_want_blocks(const struct plugins *ps)
{
    return ps && (ps->events & (1u << UMBRA_EV_BLOCK_BUILT | 1u << UMBRA_EV_BLOCK_EXEC));
}

/* ---- loading ---- */

static int load_one(struct plugins *ps, struct plugin *p, const char *spec, FILE *err)
{
    if (!(p->spec = strdup(spec))) {
        fprintf(err, "umbra: -plugin %s: out of memory\n", spec);
        return -1;
    }
    char *save = NULL;
    p->path = strtok_r(p->spec, ",", &save);
    if (!p->path || !*p->path) {
        fprintf(err, "umbra: -plugin '%s': no file name\n", spec);
        return -1;
    }
    for (char *kv; (kv = strtok_r(NULL, ",", &save));) {
        char *eq = strchr(kv, '=');
        if (!eq || eq == kv || p->nargs == PLUGIN_MAX_ARGS) {
            fprintf(err, "umbra: -plugin %s: bad argument '%s' (expected key=value, at most "
                         "%u)\n", spec, kv, PLUGIN_MAX_ARGS);
            return -1;
        }
        *eq = 0;
        p->key[p->nargs] = kv;
        p->value[p->nargs++] = eq + 1;
    }
    /* dlopen searches the library path for a bare name; a plugin is a file. */
    char path[4096];
    snprintf(path, sizeof path, "%s%s", strchr(p->path, '/') ? "" : "./", p->path);
    if (!(p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL))) {
        fprintf(err, "umbra: -plugin %s: %s\n", p->path, dlerror());
        return -1;
    }
    const unsigned *version = dlsym(p->dl, "umbra_plugin_version");
    int (*install)(const struct umbra_api *, void *);
    *(void **)&install = dlsym(p->dl, "umbra_plugin_install");
    if (!version || !install) {
        fprintf(err, "umbra: -plugin %s: not an Umbra plugin (no umbra_plugin_version or "
                     "umbra_plugin_install)\n", p->path);
        return -1;
    }
    if (*version != UMBRA_PLUGIN_VERSION) {
        fprintf(err, "umbra: -plugin %s: built for plugin interface %u, this is %u\n",
                p->path, *version, UMBRA_PLUGIN_VERSION);
        return -1;
    }
    static const struct umbra_api api = { UMBRA_PLUGIN_VERSION, api_arg, api_register,
                                          api_read_reg, api_read_mem };
    ps->installing = p;
    int rc = install(&api, ps);
    ps->installing = NULL;
    if (rc) {
        fprintf(err, "umbra: -plugin %s: refused to load (install returned %d)\n", p->path, rc);
        return -1;
    }
    return 0;
}

struct plugins *plugins_load(struct pc *pc, const char *const *specs, unsigned n, FILE *err)
{
    if (n > PLUGIN_MAX) {
        fprintf(err, "umbra: -plugin: at most %u plugins\n", PLUGIN_MAX);
        return NULL;
    }
    struct plugins *ps = calloc(1, sizeof *ps);
    if (!ps) {
        fprintf(err, "umbra: -plugin: out of memory\n");
        return NULL;
    }
    ps->pc = pc;
    ps->err = err;
    for (unsigned k = 0; k < n; k++) {
        ps->np++;
        if (load_one(ps, &ps->p[k], specs[k], err) < 0) {
            plugins_free(ps);
            return NULL;
        }
    }
    if (plugins_want_blocks(ps) && !pc->blocks) {
        fprintf(err, "umbra: -plugin: block events need the block executor (not -exec "
                     "interp)\n");
        plugins_free(ps);
        return NULL;
    }
    if (ps->events & (1u << UMBRA_EV_CR3_LOAD | 1u << UMBRA_EV_PT_WRITE)) {
        struct mmu_observer o = {
            ps,
            ps->events & (1u << UMBRA_EV_CR3_LOAD) ? on_cr3 : NULL,
            ps->events & (1u << UMBRA_EV_PT_WRITE) ? on_pt_write : NULL,
        };
        mmu_set_observer(pc->mmu, &o);
    }
    if (ps->events & (1u << UMBRA_EV_EXCEPTION))
        cpu_set_exception_hook(pc->cpu, on_exception, ps);
    if (ps->events & (1u << UMBRA_EV_INSN))
        cpu_set_insn_hook(pc->cpu, on_insn, ps);
    if (ps->events & (1u << UMBRA_EV_MEM))
        cpu_set_access_hook(pc->cpu, on_access, ps);
    return ps;
}

void plugins_free(struct plugins *ps)
{
    if (!ps)
        return;
    mmu_set_observer(ps->pc->mmu, NULL);
    cpu_set_exception_hook(ps->pc->cpu, NULL, NULL);
    cpu_set_insn_hook(ps->pc->cpu, NULL, NULL);
    if (ps->events & (1u << UMBRA_EV_MEM))
        cpu_set_access_hook(ps->pc->cpu, NULL, NULL);
    for (unsigned k = 0; k < ps->np; k++) {
        if (ps->p[k].dl)
            dlclose(ps->p[k].dl);
        free(ps->p[k].spec);
    }
    free(ps);
}
