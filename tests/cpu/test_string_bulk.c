/*
 * REP MOVS and REP STOS against a model of the instructions written here
 * one iteration at a time (SDM vol. 2, MOVS/STOS and REP): random
 * sizes, counts past one slice of the handler, overlapping source and
 * destination, both directions, and an ES limit that cuts a run short
 * with #GP.  The whole of RAM, ECX/ESI/EDI and the number of times the
 * instruction had to be executed must match the model.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_fixture.h"
#include "system.h"

#define RAM_SIZE (1u << 20)
#define AREA_LO 0x10000u
#define AREA_HI 0xf0000u
#define SLICE 4096u /* iterations per execution of a REP string instruction */

static u32 rng = 12345;

static u32 rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

struct model {
    u32 ecx, esi, edi;
    u32 runs;   /* executions of the instruction until it is done */
    bool fault; /* #GP from the ES limit */
};

/* One iteration at a time, on `ram`. */
static struct model model_run(u8 *ram, bool movs, unsigned sz, u32 eax, u32 ecx, u32 esi,
                              u32 edi, bool down, u32 es_limit)
{
    struct model m = { ecx, esi, edi, 0, false };
    i32 step = down ? -(i32)sz : (i32)sz;
    u32 done = 0;
    while (m.ecx) {
        if (m.edi + sz - 1 > es_limit) {
            m.fault = true;
            break;
        }
        if (movs)
            memmove(ram + m.edi, ram + m.esi, sz);
        else
            memcpy(ram + m.edi, &eax, sz);
        if (movs)
            m.esi += (u32)step;
        m.edi += (u32)step;
        m.ecx--;
        done++;
    }
    m.runs = m.fault ? done / SLICE + 1 : done ? (done + SLICE - 1) / SLICE : 1;
    return m;
}

START_TEST(rep_movs_stos_match_model)
{
    u8 *want = malloc(RAM_SIZE), *got = malloc(RAM_SIZE);
    ck_assert_ptr_nonnull(want);
    ck_assert_ptr_nonnull(got);
    for (unsigned round = 0; round < 300; round++) {
        struct fixture fx;
        fx_init(&fx);
        struct cpu *c = fx.c;
        for (u32 a = AREA_LO; a < AREA_HI; a += 4) {
            u32 v = rnd();
            memcpy(got + a, &v, 4);
        }
        mmu_phys_copy_in(fx.m, AREA_LO, got + AREA_LO, AREA_HI - AREA_LO);
        bool movs = rnd() & 1;
        unsigned sz = 1u << (rnd() % 3);
        bool down = rnd() % 8 == 0;
        u32 ecx = rnd() % 8 == 0 ? SLICE + rnd() % 3000 : rnd() % 1500;
        u32 span = ecx * sz + 8;
        u32 lo = AREA_LO + span, hi = AREA_HI - span;
        u32 esi = lo + rnd() % (hi - lo);
        u32 edi = rnd() % 3 == 0 ? esi + (u32)((i32)(rnd() % 33) - 16) : lo + rnd() % (hi - lo);
        u32 eax = rnd();
        u32 es_limit = 0xffffffffu;
        if (rnd() % 6 == 0 && !down)
            es_limit = edi + rnd() % (ecx * sz + 1);
        if (es_limit != 0xffffffffu)
            seg_set(&c->seg[S_ES], 0x10, 0, es_limit, DESC_P | DESC_S | DESC_DB | (0x3u << 8));
        mmu_phys_copy_out(fx.m, 0, want, RAM_SIZE);
        const u8 code[] = { down ? 0xfd : 0xfc, 0xf3, (u8)(movs ? 0xa4 : 0xaa) | (sz > 1),
                            0xfc, 0xf4 };
        const u8 code16[] = { down ? 0xfd : 0xfc, 0xf3, 0x66, (u8)(movs ? 0xa5 : 0xab), 0xfc,
                              0xf4 };
        const u8 *cb = sz == 2 ? code16 : code;
        size_t n = sz == 2 ? sizeof code16 : sizeof code;
        c->r[R_ECX] = ecx;
        c->r[R_ESI] = esi;
        c->r[R_EDI] = edi;
        c->r[R_EAX] = eax;
        /* CLD or STD, then the string instruction as often as it asks */
        ck_assert_int_eq(fx_run(&fx, cb, n, 1), -1);
        u32 at = c->eip, runs = 0;
        int exc = -1;
        while (c->eip == at && runs < 100) {
            c->exc_first = -1;
            c->shutdown = false;
            c->delivering = false;
            cpu_step(c);
            runs++;
            if (c->exc_first >= 0) {
                exc = c->exc_first;
                break;
            }
        }
        struct model m = model_run(want, movs, sz, eax, ecx, esi, edi, down, es_limit);
        mmu_phys_copy_out(fx.m, 0, got, RAM_SIZE);
        /* the code itself is the same on both sides */
        memcpy(want + CODE_ADDR, cb, n);
        const char *what = movs ? "movs" : "stos";
        ck_assert_msg(exc == (m.fault ? EXC_GP : -1), "round %u %s%u: exception %d", round, what,
                      sz, exc);
        ck_assert_msg(c->r[R_ECX] == m.ecx && c->r[R_ESI] == m.esi && c->r[R_EDI] == m.edi,
                      "round %u %s%u ecx %u esi %x edi %x: got %u %x %x, want %u %x %x", round,
                      what, sz, ecx, esi, edi, c->r[R_ECX], c->r[R_ESI], c->r[R_EDI], m.ecx,
                      m.esi, m.edi);
        ck_assert_msg(runs == m.runs, "round %u %s%u: executed %u times, want %u", round, what,
                      sz, runs, m.runs);
        ck_assert_msg(memcmp(want + AREA_LO, got + AREA_LO, AREA_HI - AREA_LO) == 0,
                      "round %u %s%u ecx %u esi %x edi %x: memory differs", round, what, sz,
                      ecx, esi, edi);
        fx_fini(&fx);
    }
    free(want);
    free(got);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cpu_string_bulk");
    TCase *t = tcase_create("model");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, rep_movs_stos_match_model);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
