/*
 * The x87 FPU checked against the host's x87.
 *
 * Every x87 instruction form (all D8-DF register forms the SDM defines and
 * every non-control memory form) runs from random states: random TOP,
 * tags, condition codes, precision and rounding control, exception masks
 * (some unmasked), register values drawn from every class (zeros,
 * denormals, pseudo-denormals, unnormals, infinities, QNaN/SNaN with
 * payloads, huge and tiny exponents, integers) and random memory operands
 * (floats of every class, integers, packed BCD with bad digits).  The
 * state goes into Umbra with a guest FRSTOR, the instruction runs through
 * cpu_step, and a guest FNSAVE takes the state out; the host does the same
 * with its own FRSTOR/FNSAVE around the very same instruction bytes (a
 * memory operand is [esi] in Umbra and [rsi] on the host).  The full
 * 80-bit registers, control, status and tag words, the stored memory and
 * the EFLAGS of FCOMI/FCMOVcc must agree.
 *
 * Then the things the host cannot show by example: environment layouts in
 * real mode, the last-instruction pointers, #NM with CR0.EM/TS/MP, #MF and
 * FERR# after an unmasked divide by zero, #UD forms and a faulting store
 * leaving the stack unchanged.  The generator has a fixed seed.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cpu_fixture.h"
#include "fpu.h"
#include "system.h"

#define IMG_ADDR 0x4000u
#define DATA_ADDR 0x3000u
#define N_PER_FORM 300

/* ---- random numbers (xorshift64*) ---- */

static u64 rng_next(u64 *s)
{
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

static void put_ext(u8 *p, u64 sig, unsigned se)
{
    memcpy(p, &sig, 8);
    p[8] = (u8)se, p[9] = (u8)(se >> 8);
}

/* A random 80-bit value from a random class. */
static void rand_ext(u64 *s, u8 *p)
{
    u64 r = rng_next(s), sig = rng_next(s);
    unsigned sign = (r & 1) << 15, exp;
    switch ((r >> 1) % 14) {
    case 0: put_ext(p, 0, sign); return;
    case 1: put_ext(p, sig >> 1 >> (r >> 8 & 63), sign); return;            /* denormal */
    case 2: put_ext(p, sig | 1ull << 63, sign); return;                     /* pseudo-denormal */
    case 3: put_ext(p, 1ull << 63, sign | 0x7fff); return;                   /* infinity */
    case 4: put_ext(p, sig | 3ull << 62, sign | 0x7fff); return;             /* QNaN */
    case 5: put_ext(p, ((sig | 1) & ~(1ull << 62)) | 1ull << 63, sign | 0x7fff); return; /* SNaN */
    case 6: put_ext(p, 3ull << 62, 0xffff); return;                           /* indefinite */
    case 7: exp = 0x3fff + (unsigned)(r >> 8 & 127) - 64; break;
    case 8: exp = 1 + (unsigned)(r >> 8) % 0x7ffe; break;
    case 9: exp = (r >> 8 & 1) ? 0x7ffe - (unsigned)(r >> 9 & 15) : 1 + (unsigned)(r >> 9 & 15); break;
    case 10: {                                                                /* integer */
        unsigned bits = 1 + (unsigned)(r >> 8) % 64;
        sig = (sig >> (64 - bits)) | 1ull << (bits - 1);
        exp = 0x3fff + bits - 1;
        sig <<= 64 - bits;
        break;
    }
    case 11: put_ext(p, sig >> 1, sign | (1 + (unsigned)(r >> 8) % 0x7ffe)); return; /* unnormal */
    case 12: put_ext(p, sig >> 1, sign | 0x7fff); return;                    /* pseudo-NaN/inf */
    default: exp = 0x3fff + (unsigned)(r >> 8 & 7) - 3; break;
    }
    put_ext(p, sig | 1ull << 63, sign | exp);
}

/* A memory operand of `n` bytes. */
static void rand_mem(u64 *s, u8 *p, unsigned esc, unsigned reg)
{
    u64 r = rng_next(s);
    for (unsigned k = 0; k < 16; k++)
        p[k] = (u8)rng_next(s);
    bool bcd = esc == 7 && reg == 4;
    bool fp = esc == 0 || esc == 4 || ((esc == 1 || esc == 5) && reg == 0) || (esc == 3 && reg == 5);
    if (bcd) {
        for (unsigned k = 0; k < 9; k++) {
            unsigned lo = (unsigned)(rng_next(s) % 10), hi = (unsigned)(rng_next(s) % 10);
            p[k] = (u8)(hi << 4 | lo);
        }
        if (r % 8 == 0)
            p[r >> 8 & 7] |= 0xa0; /* an invalid digit */
        p[9] = (r >> 16 & 1) ? 0x80 : 0;
    } else if (fp && r % 4 != 0) {
        u8 e[10];
        rand_ext(s, e);
        u64 sig;
        memcpy(&sig, e, 8);
        unsigned se = e[8] | e[9] << 8, ex = se & 0x7fff, sg = se >> 15;
        if (esc == 3) {
            memcpy(p, e, 10);
        } else if (esc == 0 || esc == 1) {
            u32 ex32 = ex == 0x7fff ? 0xff : ex == 0 ? 0 : (ex - 0x3fff + 127) & 0xff;
            u32 v = sg << 31 | ex32 << 23 | (u32)(sig >> 40 & 0x7fffff);
            memcpy(p, &v, 4);
        } else {
            u64 ex64 = ex == 0x7fff ? 0x7ff : ex == 0 ? 0 : (ex - 0x3fff + 1023) & 0x7ff;
            u64 v = (u64)sg << 63 | ex64 << 52 | (sig >> 11 & 0xfffffffffffffull);
            memcpy(p, &v, 8);
        }
    } else if (r % 4 == 0) {
        /* small integers */
        i64 v = (i64)(rng_next(s) % 2001) - 1000;
        memcpy(p, &v, 8);
    }
}

/* A random state in the FSAVE image form.  Exception flags are only set
 * where masked, so nothing is pending when the instruction starts. */
static void rand_state(u64 *s, struct fpu_image *img)
{
    u64 r = rng_next(s);
    unsigned masks = (r & 3) ? 0x3f : (unsigned)(r >> 2 & 0x3f);
    unsigned cw = masks | 0x40 | (unsigned)(r >> 8 & 0xf) << 8 | (unsigned)(r >> 12 & 1) << 12;
    unsigned sw = (unsigned)(r >> 16) & (FSW_TOP | FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3);
    sw |= (unsigned)(r >> 32) & masks;
    unsigned tw = 0;
    for (unsigned n = 0; n < 8; n++)
        if ((rng_next(s) % 5) == 0)
            tw |= 3u << (2 * n);
    img->cw = 0xffff0000u | cw;
    img->sw = 0xffff0000u | sw;
    img->tw = 0xffff0000u | tw;
    img->fip = img->fcs_fop = img->fdp = 0;
    img->fds = 0xffff0000u;
    for (unsigned k = 0; k < 8; k++)
        rand_ext(s, img->st[k]);
}

/* ---- the host side ---- */

struct host {
    u8 *code;
};

/* Code: push rdx; popfq; frstor [rdi]; <insn>; fnsave [rdi]; pushfq;
 * pop rax; ret.  Returns the host's arithmetic flags. */
static u32 host_run(struct host *h, const u8 *insn, unsigned len, struct fpu_image *img, u8 *mem,
                    u32 eflags)
{
    u8 *p = h->code;
    *p++ = 0x52, *p++ = 0x9d, *p++ = 0xdd, *p++ = 0x27;
    memcpy(p, insn, len);
    p += len;
    *p++ = 0xdd, *p++ = 0x37, *p++ = 0x9c, *p++ = 0x58, *p++ = 0xc3;
    u64 (*fn)(void *, void *, u64) = (u64 (*)(void *, void *, u64))(uintptr_t)h->code;
    return (u32)fn(img, mem, (eflags & EFLAGS_OSZAPC) | 0x202) & EFLAGS_OSZAPC;
}

static void host_init(struct host *h)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert(p != MAP_FAILED);
    h->code = p;
}

static void host_fini(struct host *h) { munmap(h->code, 4096); }

/* ---- the Umbra side ---- */

/* FRSTOR [IMG_ADDR]; <insn>; FNSAVE [IMG_ADDR] (or o16 forms). */
static int umbra_run(struct fixture *fx, const u8 *insn, unsigned len, struct fpu_image *img,
                     u8 *mem, u32 *eflags)
{
    u8 code[32];
    unsigned n = 0;
    code[n++] = 0xdd, code[n++] = 0x25;
    memcpy(code + n, &(u32){ IMG_ADDR }, 4), n += 4;
    memcpy(code + n, insn, len), n += len;
    code[n++] = 0xdd, code[n++] = 0x35;
    memcpy(code + n, &(u32){ IMG_ADDR }, 4), n += 4;
    mmu_phys_copy_in(fx->m, IMG_ADDR, img, sizeof *img);
    mmu_phys_copy_in(fx->m, DATA_ADDR, mem, 16);
    fx->c->r[R_ESI] = DATA_ADDR;
    fx->c->eflags = EFLAGS_FIXED | (*eflags & EFLAGS_OSZAPC);
    fx->c->lf_live = false;
    int v = fx_run(fx, code, n, 3);
    mmu_phys_copy_out(fx->m, IMG_ADDR, img, sizeof *img);
    mmu_phys_copy_out(fx->m, DATA_ADDR, mem, 16);
    *eflags = get_eflags(fx->c) & EFLAGS_OSZAPC;
    return v;
}

/* ---- which forms exist (SDM vol. 2, tables A-8..A-22) ---- */

static bool reg_form_ud(unsigned esc, unsigned m)
{
    unsigned r = (m >> 3) & 7;
    switch (esc) {
    case 1:
        return (r == 2 && m != 0xd0) || m == 0xe2 || m == 0xe3 || m == 0xe6 || m == 0xe7 ||
               m == 0xef;
    case 2: return r >= 4 && m != 0xe9;
    case 3: return m >= 0xf8 || (m >= 0xe5 && m <= 0xe7);
    case 5: return r >= 6;
    case 6: return r == 3 && m != 0xd9;
    case 7: return (m >= 0xe1 && m <= 0xe7) || m >= 0xf8;
    default: return false;
    }
}

/* Memory forms that load or store an operand (not control, not #UD). */
static int mem_form_size(unsigned esc, unsigned reg)
{
    static const int sz[8][8] = {
        { 4, 4, 4, 4, 4, 4, 4, 4 }, { 4, 0, 4, 4, 0, 0, 0, 0 },
        { 4, 4, 4, 4, 4, 4, 4, 4 }, { 4, 0, 4, 4, 0, 10, 0, 10 },
        { 8, 8, 8, 8, 8, 8, 8, 8 }, { 8, 0, 8, 8, 0, 0, 0, 0 },
        { 2, 2, 2, 2, 2, 2, 2, 2 }, { 2, 0, 2, 2, 10, 8, 10, 8 },
    };
    return sz[esc][reg];
}

static void compare_images(const struct fpu_image *u, const struct fpu_image *h, const char *what)
{
    char buf[160];
    snprintf(buf, sizeof buf, "%s: cw %04x/%04x sw %04x/%04x tw %04x/%04x", what, u->cw & 0xffff,
             h->cw & 0xffff, u->sw & 0xffff, h->sw & 0xffff, u->tw & 0xffff, h->tw & 0xffff);
    ck_assert_msg((u->cw & 0xffff) == (h->cw & 0xffff), "%s", buf);
    ck_assert_msg((u->sw & 0xffff) == (h->sw & 0xffff), "%s", buf);
    ck_assert_msg((u->tw & 0xffff) == (h->tw & 0xffff), "%s", buf);
    for (unsigned k = 0; k < 8; k++)
        ck_assert_msg(!memcmp(u->st[k], h->st[k], 10), "%s: ST(%u) differs", what, k);
}

/* One instruction from `n` random states on both sides. */
static void oracle_form(struct fixture *fx, struct host *h, u64 *seed, const u8 *insn,
                        unsigned len, unsigned n)
{
    for (unsigned t = 0; t < n; t++) {
        struct fpu_image in, hi, ui;
        u8 hm[16], um[16];
        rand_state(seed, &in);
        rand_mem(seed, hm, insn[0] & 7, (insn[1] >> 3) & 7);
        memcpy(um, hm, 16);
        hi = ui = in;
        u32 fl = (u32)rng_next(seed) & EFLAGS_OSZAPC, ufl = fl;
        u32 hfl = host_run(h, insn, len, &hi, hm, fl);
        int v = umbra_run(fx, insn, len, &ui, um, &ufl);
        char what[64];
        snprintf(what, sizeof what, "%02x %02x case %u", insn[0], insn[1], t);
        ck_assert_msg(v == -1, "%s: exception %d", what, v);
        compare_images(&ui, &hi, what);
        ck_assert_msg(!memcmp(um, hm, 16), "%s: memory differs", what);
        ck_assert_msg(ufl == hfl, "%s: eflags %x/%x", what, ufl, hfl);
    }
}

static struct fixture fx;
static struct host hst;

static void setup(void)
{
    fx_init(&fx);
    host_init(&hst);
}

static void teardown(void)
{
    host_fini(&hst);
    fx_fini(&fx);
}

START_TEST(test_register_forms)
{
    u64 seed = 0x9e3779b97f4a7c15ull + (u64)_i;
    unsigned esc = (unsigned)_i;
    for (unsigned m = 0xc0; m <= 0xff; m++) {
        u8 insn[2] = { (u8)(0xd8 + esc), (u8)m };
        if (reg_form_ud(esc, m)) {
            ck_assert_int_eq(fx_run(&fx, insn, 2, 1), EXC_UD);
            continue;
        }
        if (esc == 7 && m == 0xe0)
            continue; /* FNSTSW AX: test_control */
        oracle_form(&fx, &hst, &seed, insn, 2, N_PER_FORM);
    }
}
END_TEST

START_TEST(test_memory_forms)
{
    u64 seed = 0x1234567887654321ull;
    for (unsigned esc = 0; esc < 8; esc++)
        for (unsigned reg = 0; reg < 8; reg++) {
            if (!mem_form_size(esc, reg))
                continue;
            u8 insn[2] = { (u8)(0xd8 + esc), (u8)(reg << 3 | 6) };
            oracle_form(&fx, &hst, &seed, insn, 2, 4 * N_PER_FORM);
        }
}
END_TEST

/* FSAVE/FSTENV images in 16- and 32-bit protected-mode layout against
 * the host's, and FXSAVE against the host's. */
START_TEST(test_layouts)
{
    u64 seed = 42;
    for (unsigned t = 0; t < 500; t++) {
        struct fpu_image in;
        rand_state(&seed, &in);
        /* host: frstor [rdi]; o16 fnsave [rsi] / fnstenv [rsi] / fxsave [rsi] */
        static const u8 forms[][3] = { { 0x66, 0xdd, 0x36 }, { 0x66, 0xd9, 0x36 },
                                       { 0xd9, 0x36, 0x90 }, { 0x0f, 0xae, 0x06 } };
        for (unsigned f = 0; f < 4; f++) {
            struct fpu_image hi = in, ui = in;
            _Alignas(16) u8 hm[512], um[512];
            memset(hm, 0xcc, sizeof hm);
            memset(um, 0xcc, sizeof um);
            host_run(&hst, forms[f], 3, &hi, hm, 0);
            /* Umbra: frstor [IMG]; the form with [esi]; then read memory */
            u8 code[16] = { 0xdd, 0x25 };
            memcpy(code + 2, &(u32){ IMG_ADDR }, 4);
            memcpy(code + 6, forms[f], 3);
            mmu_phys_copy_in(fx.m, IMG_ADDR, &ui, sizeof ui);
            mmu_phys_copy_in(fx.m, DATA_ADDR, um, sizeof um);
            fx.c->r[R_ESI] = DATA_ADDR;
            ck_assert_int_eq(fx_run(&fx, code, 9, 2), -1);
            mmu_phys_copy_out(fx.m, DATA_ADDR, um, sizeof um);
            if (f == 0) {
                for (unsigned o = 0; o < 6; o += 2)
                    ck_assert_msg(!memcmp(um + o, hm + o, 2), "o16 fnsave word %u", o);
                ck_assert(!memcmp(um + 14, hm + 14, 80));
                ck_assert(um[94] == 0xcc);
            } else if (f == 1 || f == 2) {
                unsigned step = f == 1 ? 2 : 4;
                for (unsigned o = 0; o < 3 * step; o += step)
                    ck_assert_msg(!memcmp(um + o, hm + o, 2), "fnstenv word %u", o);
                /* FNSTENV masks all exceptions */
                ck_assert_uint_eq(fx.c->fpu.cw & 0x3f, 0x3f);
            } else {
                ck_assert(!memcmp(um, hm, 5)); /* FCW FSW FTW */
                for (unsigned k = 0; k < 8; k++)
                    ck_assert_msg(!memcmp(um + 32 + 16 * k, hm + 32 + 16 * k, 10), "fxsave st%u", k);
                /* FXRSTOR brings the same state back */
                struct fpu before = fx.c->fpu;
                fpu_init(&fx.c->fpu);
                ck_assert_int_eq(fx_run(&fx, (const u8[]){ 0x0f, 0xae, 0x0e }, 3, 1), -1);
                ck_assert(!memcmp(&before, &fx.c->fpu, sizeof before));
            }
        }
    }
    /* FXSAVE to a misaligned address: #GP */
    fx.c->r[R_ESI] = DATA_ADDR + 8;
    ck_assert_int_eq(fx_run(&fx, (const u8[]){ 0x0f, 0xae, 0x06 }, 3, 1), EXC_GP);
}
END_TEST

/* Environment in real mode: linear instruction and operand pointers. */
START_TEST(test_real_mode_env)
{
    struct cpu *c = fx.c;
    c->cr0 &= ~CR0_PE;
    cpu_update_mode(c);
    c->seg[S_CS].sel = 0;
    c->seg[S_DS].sel = 0x0100;
    c->seg[S_DS].base = 0x1000;
    /* fld dword [0x2000] (DS base 0x1000 -> linear 0x3000); fnstenv [0x3000] */
    static const u8 code[] = { 0xd9, 0x06, 0x00, 0x20, 0x26, 0xd9, 0x36, 0x00, 0x30 };
    fx_wr(&fx, 0x3000, 0x3f800000, 4);
    u32 cw = c->fpu.cw;
    ck_assert_int_eq(fx_run(&fx, code, sizeof code, 2), -1);
    u32 fip = CODE_ADDR, fdp = 0x3000;
    ck_assert_uint_eq(fx_rd(&fx, 0x3000, 2), cw);
    ck_assert_uint_eq(c->fpu.cw, cw | FCW_MASKS);
    ck_assert_uint_eq(fx_rd(&fx, 0x3006, 2), fip & 0xffff);
    ck_assert_uint_eq(fx_rd(&fx, 0x3008, 2), ((fip >> 16) & 0xf) << 12 | 0x106);
    ck_assert_uint_eq(fx_rd(&fx, 0x300a, 2), fdp & 0xffff);
    ck_assert_uint_eq(fx_rd(&fx, 0x300c, 2) >> 12, (fdp >> 16) & 0xf);
    /* 32-bit real layout: o32 fnstenv [0x3000] */
    static const u8 code32[] = { 0x26, 0x66, 0xd9, 0x36, 0x00, 0x30 };
    ck_assert_int_eq(fx_run(&fx, code32, sizeof code32, 1), -1);
    ck_assert_uint_eq(fx_rd(&fx, 0x300c, 2), fip & 0xffff);
    ck_assert_uint_eq(fx_rd(&fx, 0x3010, 4), (fip >> 16) << 12 | 0x106);
    ck_assert_uint_eq(fx_rd(&fx, 0x3014, 2), fdp & 0xffff);
    /* FLDENV of a 16-bit real image with a 20-bit FIP, and back */
    u8 env[14] = { 0x7f, 0x03, 0x00, 0x38, 0xff, 0xff, 0x45, 0x23, 0x55, 0x11, 0x78, 0x56, 0x00, 0x90 };
    mmu_phys_copy_in(fx.m, 0x3000, env, sizeof env);
    static const u8 ld_st[] = { 0x26, 0xd9, 0x26, 0x00, 0x30, 0x26, 0xd9, 0x36, 0x00, 0x30 };
    ck_assert_int_eq(fx_run(&fx, ld_st, sizeof ld_st, 1), -1);
    ck_assert_uint_eq(c->fpu.fip, 0x12345);
    ck_assert_uint_eq(c->fpu.fop, 0x155);
    ck_assert_uint_eq(c->fpu.fdp, 0x95678);
    ck_assert_uint_eq(fpu_top(&c->fpu), 7);
    mmu_phys_copy_in(fx.m, 0x3000, (u8[14]){ 0 }, 14);
    ck_assert_int_eq(fx_run(&fx, ld_st + 5, 5, 1), -1);
    u8 back[14];
    mmu_phys_copy_out(fx.m, 0x3000, back, sizeof back);
    ck_assert_msg(!memcmp(back, env, sizeof env), "real-mode FSTENV round trip");
}
END_TEST

/* FIP/FCS/FOP/FDP/FDS in the 32-bit protected layout. */
START_TEST(test_pointers)
{
    /* fninit; fild word [esi+4]; fstsw ax; fnstenv [esi+0x40] */
    static const u8 code[] = { 0xdb, 0xe3, 0xdf, 0x46, 0x04, 0xdf, 0xe0, 0xd9, 0x76, 0x40 };
    fx.c->r[R_ESI] = DATA_ADDR;
    fx_wr(&fx, DATA_ADDR + 4, 7, 2);
    ck_assert_int_eq(fx_run(&fx, code, sizeof code, 4), -1);
    u32 e = DATA_ADDR + 0x40;
    ck_assert_uint_eq(fx_rd(&fx, e + 12, 4), CODE_ADDR + 2);
    ck_assert_uint_eq(fx_rd(&fx, e + 16, 4), fx.c->seg[S_CS].sel | 0x746u << 16);
    ck_assert_uint_eq(fx_rd(&fx, e + 20, 4), DATA_ADDR + 4);
    ck_assert_uint_eq(fx_rd(&fx, e + 24, 2), fx.c->seg[S_DS].sel);
    /* FNSTSW AX saw TOP = 7 after one push */
    ck_assert_uint_eq((fx.c->r[R_EAX] >> 11) & 7, 7);
    ck_assert_uint_eq(fx.c->r[R_EAX] & 0xffff, fx_rd(&fx, e + 4, 2));
}
END_TEST

/* #NM by CR0.EM/TS/MP (SDM vol. 3A, table 2-2), #UD forms. */
START_TEST(test_nm_ud)
{
    struct cpu *c = fx.c;
    static const u8 fld1[] = { 0xd9, 0xe8 }, fwait[] = { 0x9b };
    c->cr0 |= CR0_EM;
    ck_assert_int_eq(fx_run(&fx, fld1, 2, 1), EXC_NM);
    ck_assert_int_eq(fx_run(&fx, fwait, 1, 1), -1);
    c->cr0 = (c->cr0 & ~CR0_EM) | CR0_TS;
    ck_assert_int_eq(fx_run(&fx, fld1, 2, 1), EXC_NM);
    ck_assert_int_eq(fx_run(&fx, fwait, 1, 1), -1);
    c->cr0 |= CR0_MP;
    ck_assert_int_eq(fx_run(&fx, fwait, 1, 1), EXC_NM);
    ck_assert_int_eq(fx_run(&fx, (const u8[]){ 0x0f, 0xae, 0x06 }, 3, 1), EXC_NM);
    c->cr0 &= ~CR0_TS;
    ck_assert_int_eq(fx_run(&fx, fld1, 2, 1), -1);
    ck_assert_int_eq(fx_run(&fx, fwait, 1, 1), -1);
    /* FISTTP (SSE3) and reserved memory forms */
    fx.c->r[R_ESI] = DATA_ADDR;
    ck_assert_int_eq(fx_run(&fx, (const u8[]){ 0xdb, 0x0e }, 2, 1), EXC_UD);
    ck_assert_int_eq(fx_run(&fx, (const u8[]){ 0xdd, 0x0e }, 2, 1), EXC_UD);
    ck_assert_int_eq(fx_run(&fx, (const u8[]){ 0xdf, 0x0e }, 2, 1), EXC_UD);
    ck_assert_int_eq(fx_run(&fx, (const u8[]){ 0xd9, 0x0e }, 2, 1), EXC_UD);
    ck_assert_int_eq(fx_run(&fx, (const u8[]){ 0xdd, 0x2e }, 2, 1), EXC_UD);
}
END_TEST

struct ferr_log {
    int calls;
    bool level;
};

static void ferr_cb(void *opaque, bool level)
{
    struct ferr_log *l = opaque;
    l->calls++;
    l->level = level;
}

/* Unmasked divide by zero: ES set, #MF at the next waiting instruction
 * with CR0.NE, FERR# without it; FNCLEX drops FERR#. */
START_TEST(test_mf_ferr)
{
    struct cpu *c = fx.c;
    /* fninit; fldcw [esi]; fld1; fldz; fdivp st1 */
    static const u8 setup_code[] = { 0xdb, 0xe3, 0xd9, 0x2e, 0xd9, 0xe8, 0xd9, 0xee, 0xde, 0xf9 };
    static const u8 fwait[] = { 0x9b }, fnclex[] = { 0xdb, 0xe2 }, fld1[] = { 0xd9, 0xe8 };
    c->r[R_ESI] = DATA_ADDR;
    fx_wr(&fx, DATA_ADDR, FCW_INIT & ~FSW_ZE, 2);
    c->cr0 |= CR0_NE;
    ck_assert_int_eq(fx_run(&fx, setup_code, sizeof setup_code, 5), -1);
    ck_assert(c->fpu.sw & FSW_ZE);
    ck_assert(c->fpu.sw & FSW_ES);
    ck_assert(c->fpu.sw & FSW_B);
    /* the stack still holds both operands: destination unchanged, no pop */
    ck_assert_uint_eq(fpu_top(&c->fpu), 6);
    ck_assert_int_eq(fx_run(&fx, fwait, 1, 1), EXC_MF);
    ck_assert_int_eq(fx_run(&fx, fld1, 2, 1), EXC_MF);
    ck_assert_uint_eq(fpu_top(&c->fpu), 6);
    ck_assert_int_eq(fx_run(&fx, fnclex, 2, 1), -1);
    ck_assert_int_eq(fx_run(&fx, fwait, 1, 1), -1);

    /* without NE: FERR# to the board, the instruction proceeds */
    c->cr0 &= ~CR0_NE;
    struct ferr_log log = { 0, false };
    struct cpu_callbacks cb = c->cb;
    cb.opaque = &log;
    cb.ferr = ferr_cb;
    cpu_set_callbacks(c, &cb);
    ck_assert_int_eq(fx_run(&fx, setup_code, sizeof setup_code, 5), -1);
    ck_assert_int_eq(log.calls, 0);
    ck_assert_int_eq(fx_run(&fx, fwait, 1, 1), -1);
    ck_assert_int_eq(log.calls, 1);
    ck_assert(log.level);
    ck_assert_int_eq(fx_run(&fx, fnclex, 2, 1), -1);
    ck_assert_int_eq(log.calls, 2);
    ck_assert(!log.level);
}
END_TEST

/* A store that faults leaves the stack and memory unchanged. */
START_TEST(test_store_fault)
{
    struct cpu *c = fx.c;
    /* fninit; fld1; fldpi */
    static const u8 setup_code[] = { 0xdb, 0xe3, 0xd9, 0xe8, 0xd9, 0xeb };
    ck_assert_int_eq(fx_run(&fx, setup_code, sizeof setup_code, 3), -1);
    struct fpu before = c->fpu;
    c->r[R_ESI] = 0xffc;
    fx_wr(&fx, 0xffc, 0x11223344, 4);
    seg_set(&c->seg[S_DS], 0x10, 0, 0x1001, DESC_P | DESC_S | DESC_DB | (0x3u << 8));
    /* fstp qword [esi]: bytes 0xffc..0x1003 cross the limit: #GP */
    ck_assert_int_eq(fx_run(&fx, (const u8[]){ 0xdd, 0x1e }, 2, 1), EXC_GP);
    ck_assert(!memcmp(&before, &c->fpu, sizeof before));
    ck_assert_uint_eq(fx_rd(&fx, 0xffc, 4), 0x11223344);
    /* fstp tword [esi] and fbstp [esi] too */
    ck_assert_int_eq(fx_run(&fx, (const u8[]){ 0xdb, 0x3e }, 2, 1), EXC_GP);
    ck_assert_int_eq(fx_run(&fx, (const u8[]){ 0xdf, 0x36 }, 2, 1), EXC_GP);
    ck_assert(!memcmp(&before, &c->fpu, sizeof before));
    /* within the limit it pops */
    c->r[R_ESI] = 0xff0;
    ck_assert_int_eq(fx_run(&fx, (const u8[]){ 0xdd, 0x1e }, 2, 1), -1);
    ck_assert_uint_eq(fpu_top(&c->fpu), (fpu_top(&before) + 1) & 7);
}
END_TEST

START_TEST(test_reset_state)
{
    fpu_reset(&fx.c->fpu);
    ck_assert_uint_eq(fx.c->fpu.cw, 0x0040);
    ck_assert_uint_eq(fpu_tag_word(&fx.c->fpu), 0x5555);
    fpu_init(&fx.c->fpu);
    ck_assert_uint_eq(fx.c->fpu.cw, 0x037f);
    ck_assert_uint_eq(fpu_tag_word(&fx.c->fpu), 0xffff);
}
END_TEST

static Suite *fpu_suite(void)
{
    Suite *s = suite_create("fpu");
    TCase *tc = tcase_create("oracle");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_register_forms, 0, 8);
    tcase_add_test(tc, test_memory_forms);
    tcase_add_test(tc, test_layouts);
    suite_add_tcase(s, tc);
    TCase *t2 = tcase_create("system");
    tcase_add_checked_fixture(t2, setup, teardown);
    tcase_add_test(t2, test_real_mode_env);
    tcase_add_test(t2, test_pointers);
    tcase_add_test(t2, test_nm_ud);
    tcase_add_test(t2, test_mf_ferr);
    tcase_add_test(t2, test_store_fault);
    tcase_add_test(t2, test_reset_state);
    suite_add_tcase(s, t2);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fpu_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
