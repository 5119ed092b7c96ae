/*
 * Data movement, stack, control-flow and string instructions, decoder
 * limits and the decoded-instruction cache, driven one instruction at a
 * time in flat 32-bit protected mode.
 */
#include <check.h>
#include <stdlib.h>

#include "cpu_fixture.h"
#include "system.h"

static struct fixture fx;
static void setup(void) { fx_init(&fx); }
static void teardown(void) { fx_fini(&fx); }
#define C (fx.c)
#define RUN(steps, ...)                                                       \
    ({                                                                        \
        static const u8 code_[] = { __VA_ARGS__ };                            \
        fx_run(&fx, code_, sizeof code_, (steps));                            \
    })

START_TEST(mov_lea_movx)
{
    C->r[R_EAX] = 0x12345678;
    C->r[R_EBX] = 0x100;
    ck_assert_int_eq(RUN(4, 0x8d, 0x4c, 0x58, 0x08, /* lea ecx,[eax+ebx*2+8] */
                        0x0f, 0xb6, 0xd0,          /* movzx edx,al */
                        0x0f, 0xbf, 0xf3,          /* movsx esi,bx */
                        0x66, 0x89, 0xc7),         /* mov di,ax */
                     -1);
    ck_assert_uint_eq(C->r[R_ECX], 0x12345678u + 0x200 + 8);
    ck_assert_uint_eq(C->r[R_EDX], 0x78);
    ck_assert_uint_eq(C->r[R_ESI], 0x100);
    ck_assert_uint_eq(C->r[R_EDI] & 0xffff, 0x5678);
    C->r[R_EBX] = 0x8001;
    C->r[R_EDI] = 0xaaaaaaaa;
    ck_assert_int_eq(RUN(2, 0x0f, 0xbf, 0xf3, 0x66, 0x89, 0xc7), -1);
    ck_assert_uint_eq(C->r[R_ESI], 0xffff8001u);
    ck_assert_uint_eq(C->r[R_EDI], 0xaaaa5678u); /* 16-bit write keeps the top */
}
END_TEST

START_TEST(mov_memory_and_byte_regs)
{
    C->r[R_EAX] = 0x11223344;
    ck_assert_int_eq(RUN(3, 0xa3, 0x00, 0x30, 0x00, 0x00, /* mov [0x3000],eax */
                        0x8a, 0x25, 0x01, 0x30, 0x00, 0x00, /* mov ah,[0x3001] */
                        0xc6, 0x05, 0x04, 0x30, 0x00, 0x00, 0x99), /* mov byte [0x3004],0x99 */
                     -1);
    ck_assert_uint_eq(fx_rd(&fx, 0x3000, 4), 0x11223344);
    ck_assert_uint_eq(C->r[R_EAX], (0x11223344 & 0xffff00ffu) | 0x3300);
    ck_assert_uint_eq(fx_rd(&fx, 0x3004, 1), 0x99);
}
END_TEST

START_TEST(stack_ops)
{
    C->r[R_EAX] = 1; C->r[R_ECX] = 2; C->r[R_EDX] = 3; C->r[R_EBX] = 4;
    C->r[R_EBP] = 6; C->r[R_ESI] = 7; C->r[R_EDI] = 8;
    ck_assert_int_eq(RUN(1, 0x60), -1); /* pusha */
    ck_assert_uint_eq(C->r[R_ESP], 0x8000 - 32);
    ck_assert_uint_eq(fx_rd(&fx, 0x8000 - 4, 4), 1);
    ck_assert_uint_eq(fx_rd(&fx, 0x8000 - 20, 4), 0x8000); /* original ESP */
    ck_assert_uint_eq(fx_rd(&fx, 0x8000 - 32, 4), 8);
    C->r[R_EAX] = C->r[R_EDI] = 0;
    ck_assert_int_eq(RUN(1, 0x61), -1); /* popa */
    ck_assert_uint_eq(C->r[R_EAX], 1);
    ck_assert_uint_eq(C->r[R_EDI], 8);
    ck_assert_uint_eq(C->r[R_ESP], 0x8000);
    ck_assert_int_eq(RUN(3, 0x6a, 0xfe,                  /* push -2 */
                        0x66, 0x68, 0x34, 0x12,          /* push word 0x1234 */
                        0x8f, 0x05, 0x00, 0x30, 0x00, 0x00), /* pop dword [0x3000] */
                     -1);
    ck_assert_uint_eq(fx_rd(&fx, 0x3000, 4), 0xfffe1234u);
    ck_assert_uint_eq(C->r[R_ESP], 0x8000 - 2);
}
END_TEST

START_TEST(enter_leave)
{
    C->r[R_EBP] = 0x7ff0;
    fx_wr(&fx, 0x7ff0 - 4, 0xdeadbeef, 4);
    ck_assert_int_eq(RUN(1, 0xc8, 0x10, 0x00, 0x02), -1); /* enter 16,2 */
    /* push ebp; copy one outer frame pointer; push the new frame */
    ck_assert_uint_eq(fx_rd(&fx, 0x7ffc, 4), 0x7ff0);
    ck_assert_uint_eq(fx_rd(&fx, 0x7ff8, 4), 0xdeadbeef);
    ck_assert_uint_eq(fx_rd(&fx, 0x7ff4, 4), 0x7ffc);
    ck_assert_uint_eq(C->r[R_EBP], 0x7ffc);
    ck_assert_uint_eq(C->r[R_ESP], 0x7ff4 - 16);
    ck_assert_int_eq(RUN(1, 0xc9), -1); /* leave */
    ck_assert_uint_eq(C->r[R_EBP], 0x7ff0);
    ck_assert_uint_eq(C->r[R_ESP], 0x8000);
}
END_TEST

START_TEST(control_flow)
{
    C->r[R_ECX] = 0;
    /* mov ecx,5 ; loop $ ; call +5 ; (5 bytes skipped) ; ret */
    static const u8 code[] = { 0xb9, 0x05, 0x00, 0x00, 0x00, 0xe2, 0xfe, 0xe8, 0x05, 0x00,
                               0x00, 0x00, 0x90, 0x90, 0x90, 0x90, 0x90, 0xc3 };
    ck_assert_int_eq(fx_run(&fx, code, sizeof code, 6), -1);
    ck_assert_uint_eq(C->r[R_ECX], 0);
    ck_assert_uint_eq(C->eip, CODE_ADDR + 7);
    fx.c->exc_first = -1;
    cpu_step(C); /* call */
    ck_assert_uint_eq(C->eip, CODE_ADDR + 17);
    ck_assert_uint_eq(fx_rd(&fx, C->r[R_ESP], 4), CODE_ADDR + 12);
    cpu_step(C); /* ret */
    ck_assert_uint_eq(C->eip, CODE_ADDR + 12);
    ck_assert_uint_eq(C->r[R_ESP], 0x8000);
    /* jcxz taken with ECX=0; jz not taken with ZF=0 */
    cpu_write_eflags(C, EFLAGS_FIXED, ~0u);
    ck_assert_int_eq(RUN(1, 0xe3, 0x10), -1);
    ck_assert_uint_eq(C->eip, CODE_ADDR + 2 + 0x10);
    ck_assert_int_eq(RUN(1, 0x74, 0x10), -1);
    ck_assert_uint_eq(C->eip, CODE_ADDR + 2);
    cpu_write_eflags(C, EFLAGS_FIXED | EFLAGS_ZF, ~0u);
    ck_assert_int_eq(RUN(1, 0x0f, 0x84, 0x00, 0x01, 0x00, 0x00), -1);
    ck_assert_uint_eq(C->eip, CODE_ADDR + 6 + 0x100);
}
END_TEST

START_TEST(flags_moves)
{
    cpu_write_eflags(C, EFLAGS_FIXED | EFLAGS_CF | EFLAGS_ZF, ~0u);
    C->r[R_EAX] = 0;
    C->r[R_EBX] = 0x55;
    ck_assert_int_eq(RUN(5, 0x9f,             /* lahf */
                        0x0f, 0x94, 0xc1,     /* sete cl */
                        0x0f, 0x42, 0xd3,     /* cmovb edx,ebx */
                        0x0f, 0x43, 0xf3,     /* cmovae esi,ebx */
                        0xf5),                /* cmc */
                     -1);
    ck_assert_uint_eq((C->r[R_EAX] >> 8) & 0xff, 0x43);
    ck_assert_uint_eq(C->r[R_ECX] & 0xff, 1);
    ck_assert_uint_eq(C->r[R_EDX], 0x55);
    ck_assert_uint_eq(C->r[R_ESI], 0);
    ck_assert(!(get_eflags(C) & EFLAGS_CF));
    C->r[R_EAX] = 0x8100; /* AH = SF|CF */
    ck_assert_int_eq(RUN(3, 0x9e, 0x9c, 0x58), -1); /* sahf; pushf; pop eax */
    ck_assert_uint_eq(C->r[R_EAX] & EFLAGS_OSZAPC, EFLAGS_SF | EFLAGS_CF);
    ck_assert_uint_eq(C->r[R_ESP], 0x8000);
}
END_TEST

START_TEST(conversions_and_xlat)
{
    C->r[R_EAX] = 0x80;
    ck_assert_int_eq(RUN(1, 0x66, 0x98), -1); /* cbw */
    ck_assert_uint_eq(C->r[R_EAX], 0xff80);
    ck_assert_int_eq(RUN(2, 0x98, 0x99), -1); /* cwde ; cdq */
    ck_assert_uint_eq(C->r[R_EAX], 0xffffff80u);
    ck_assert_uint_eq(C->r[R_EDX], 0xffffffffu);
    fx_wr(&fx, 0x3005, 0x42, 1);
    C->r[R_EBX] = 0x3000;
    C->r[R_EAX] = 5;
    ck_assert_int_eq(RUN(1, 0xd7), -1);
    ck_assert_uint_eq(C->r[R_EAX], 0x42);
    C->r[R_EAX] = 0x11; C->r[R_ECX] = 0x22;
    ck_assert_int_eq(RUN(2, 0x91, 0x87, 0xc1), -1); /* xchg ecx,eax twice */
    ck_assert_uint_eq(C->r[R_EAX], 0x11);
}
END_TEST

START_TEST(bound_raises_br)
{
    fx_wr(&fx, 0x3000, 10, 4);
    fx_wr(&fx, 0x3004, 20, 4);
    C->r[R_EAX] = 15;
    ck_assert_int_eq(RUN(1, 0x62, 0x05, 0x00, 0x30, 0x00, 0x00), -1);
    C->r[R_EAX] = 21;
    ck_assert_int_eq(RUN(1, 0x62, 0x05, 0x00, 0x30, 0x00, 0x00), EXC_BR);
}
END_TEST

START_TEST(string_ops)
{
    for (unsigned k = 0; k < 64; k++)
        fx_wr(&fx, 0x3000 + k, k * 3 + 1, 1);
    C->r[R_ESI] = 0x3000; C->r[R_EDI] = 0x4000; C->r[R_ECX] = 64;
    ck_assert_int_eq(RUN(1, 0xf3, 0xa4), -1); /* rep movsb */
    ck_assert_uint_eq(C->r[R_ECX], 0);
    ck_assert_uint_eq(C->r[R_ESI], 0x3040);
    ck_assert_uint_eq(C->r[R_EDI], 0x4040);
    for (unsigned k = 0; k < 64; k++)
        ck_assert_uint_eq(fx_rd(&fx, 0x4000 + k, 1), (k * 3 + 1) & 0xff);
    /* repe cmpsb stops after the first difference */
    fx_wr(&fx, 0x4000 + 10, 0, 1);
    C->r[R_ESI] = 0x3000; C->r[R_EDI] = 0x4000; C->r[R_ECX] = 64;
    ck_assert_int_eq(RUN(1, 0xf3, 0xa6), -1);
    ck_assert_uint_eq(C->r[R_ECX], 64 - 11);
    ck_assert(!(get_eflags(C) & EFLAGS_ZF));
    /* repne scasb finds a byte; std + rep stosd runs backwards */
    C->r[R_EAX] = (7 * 3 + 1);
    C->r[R_EDI] = 0x3000; C->r[R_ECX] = 64;
    ck_assert_int_eq(RUN(1, 0xf2, 0xae), -1);
    ck_assert_uint_eq(C->r[R_EDI], 0x3008);
    ck_assert(get_eflags(C) & EFLAGS_ZF);
    C->r[R_EAX] = 0xa5a5a5a5; C->r[R_EDI] = 0x500c; C->r[R_ECX] = 4;
    ck_assert_int_eq(RUN(3, 0xfd, 0xf3, 0xab, 0xfc), -1);
    ck_assert_uint_eq(C->r[R_EDI], 0x4ffc);
    ck_assert_uint_eq(fx_rd(&fx, 0x5000, 4), 0xa5a5a5a5u);
    ck_assert_uint_eq(fx_rd(&fx, 0x500c, 4), 0xa5a5a5a5u);
    ck_assert_uint_eq(fx_rd(&fx, 0x5010, 4), 0);
    /* lodsw with a 16-bit address size uses SI */
    C->r[R_ESI] = 0xabcd3000;
    ck_assert_int_eq(RUN(1, 0x67, 0x66, 0xad), -1);
    ck_assert_uint_eq(C->r[R_EAX] & 0xffff, 0x0401);
    ck_assert_uint_eq(C->r[R_ESI], 0xabcd3002u);
}
END_TEST

/* A REP MOVSB that runs past the DS limit faults with the remaining work
 * in ECX/ESI/EDI, and re-executing it after the cause is removed finishes
 * the copy. */
START_TEST(rep_fault_resumes)
{
    seg_set(&C->seg[S_DS], 0x10, 0, 0x300f, DESC_P | DESC_S | DESC_DB | (0x3u << 8));
    for (unsigned k = 0; k < 0x20; k++)
        fx_wr(&fx, 0x3000 + k, 0x80 + k, 1);
    C->r[R_ESI] = 0x3000; C->r[R_EDI] = 0x6000; C->r[R_ECX] = 0x20;
    ck_assert_int_eq(RUN(1, 0xf3, 0xa4), EXC_GP);
    ck_assert_uint_eq(C->r[R_ECX], 0x10);
    ck_assert_uint_eq(C->r[R_ESI], 0x3010);
    ck_assert_uint_eq(C->r[R_EDI], 0x6010);
    seg_set(&C->seg[S_DS], 0x10, 0, 0xffffffffu, DESC_P | DESC_S | DESC_DB | (0x3u << 8));
    ck_assert_int_eq(RUN(1, 0xf3, 0xa4), -1);
    ck_assert_uint_eq(C->r[R_ECX], 0);
    for (unsigned k = 0; k < 0x20; k++)
        ck_assert_uint_eq(fx_rd(&fx, 0x6000 + k, 1), 0x80 + k);
}
END_TEST

START_TEST(segment_limits)
{
    seg_set(&C->seg[S_DS], 0x10, 0, 0xfff, DESC_P | DESC_S | (0x3u << 8));
    ck_assert_int_eq(RUN(1, 0x8b, 0x05, 0xfc, 0x0f, 0x00, 0x00), -1); /* mov eax,[0xffc] */
    ck_assert_int_eq(RUN(1, 0x8b, 0x05, 0xfd, 0x0f, 0x00, 0x00), EXC_GP);
    seg_set(&C->seg[S_SS], 0x10, 0, 0x7fff, DESC_P | DESC_S | DESC_DB | (0x3u << 8));
    C->r[R_ESP] = 0x8000;
    ck_assert_int_eq(RUN(1, 0x50), -1); /* writes 0x7ffc..0x7fff: inside */
    C->r[R_ESP] = 0x8002;
    ck_assert_int_eq(RUN(1, 0x50), EXC_SS);
    ck_assert_uint_eq(C->r[R_ESP], 0x8002); /* restored */
    /* read-only data segment: writes fault, reads work */
    seg_set(&C->seg[S_ES], 0x18, 0, 0xffff, DESC_P | DESC_S | (0x1u << 8));
    ck_assert_int_eq(RUN(1, 0x26, 0x8b, 0x05, 0x00, 0x30, 0x00, 0x00), -1);
    ck_assert_int_eq(RUN(1, 0x26, 0x89, 0x05, 0x00, 0x30, 0x00, 0x00), EXC_GP);
}
END_TEST

START_TEST(decoder_limits)
{
    u8 code[32];
    memset(code, 0x66, 14);
    code[14] = 0x90;
    ck_assert_int_eq(fx_run(&fx, code, 15, 1), -1);
    ck_assert_uint_eq(C->eip, CODE_ADDR + 15);
    memset(code, 0x66, 15);
    code[15] = 0x90;
    ck_assert_int_eq(fx_run(&fx, code, 16, 1), EXC_GP);
    ck_assert_int_eq(RUN(1, 0x0f, 0x0b), EXC_UD);         /* ud2 */
    ck_assert_int_eq(RUN(1, 0xf0, 0x89, 0x03), EXC_UD);   /* lock mov */
    ck_assert_int_eq(RUN(1, 0x8d, 0xc0), EXC_UD);         /* lea with a register */
    ck_assert_int_eq(RUN(1, 0x8e, 0xc8), EXC_UD);         /* mov cs,ax */
}
END_TEST

START_TEST(self_modifying_code)
{
    /* 0x1000: mov byte [0x1021],2 ; jmp 0x1020 ... 0x1020: mov al,1 */
    static const u8 code[] = { 0xc6, 0x05, 0x21, 0x10, 0x00, 0x00, 0x02 };
    fx_wr(&fx, 0x1020, 0xb0, 1);
    fx_wr(&fx, 0x1021, 0x01, 1);
    C->eip = 0x1020;
    cpu_step(C);
    ck_assert_uint_eq(C->r[R_EAX] & 0xff, 1);
    ck_assert_int_eq(fx_run(&fx, code, sizeof code, 1), -1);
    C->eip = 0x1020;
    cpu_step(C);
    ck_assert_uint_eq(C->r[R_EAX] & 0xff, 2);
    /* and through a physical (DMA-style) write */
    mmu_phys_write(fx.m, 0x1021, 3, 1);
    C->eip = 0x1020;
    cpu_step(C);
    ck_assert_uint_eq(C->r[R_EAX] & 0xff, 3);
    ck_assert_uint_gt(fx.cnt.v[CNT_cpu_decode_cache_hits] + fx.cnt.v[CNT_cpu_decode_cache_misses], 0);
}
END_TEST

START_TEST(real_mode_basics)
{
    cpu_reset(C);
    ck_assert_uint_eq(C->seg[S_CS].base, 0xffff0000u);
    seg_load_real(C, S_CS, 0);
    C->eip = 0x1000;
    C->r[R_ESP] = 0x8000;
    seg_load_real(C, S_SS, 0);
    seg_load_real(C, S_DS, 0x100); /* base 0x1000 */
    /* mov ax,[0x2000] (DS:0x2000 = linear 0x3000); push ax; mov bx,sp */
    fx_wr(&fx, 0x3000, 0xbeef, 2);
    ck_assert_int_eq(RUN(3, 0xa1, 0x00, 0x20, 0x50, 0x89, 0xe3), -1);
    ck_assert_uint_eq(C->r[R_EAX] & 0xffff, 0xbeef);
    ck_assert_uint_eq(C->r[R_EBX] & 0xffff, 0x7ffe);
    ck_assert_uint_eq(fx_rd(&fx, 0x7ffe, 2), 0xbeef);
    /* a word access at offset 0xffff overruns the segment: #GP */
    ck_assert_int_eq(RUN(1, 0xa1, 0xff, 0xff), EXC_GP);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cpu_ops_basic");
    TCase *t = tcase_create("ops");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, mov_lea_movx);
    tcase_add_test(t, mov_memory_and_byte_regs);
    tcase_add_test(t, stack_ops);
    tcase_add_test(t, enter_leave);
    tcase_add_test(t, control_flow);
    tcase_add_test(t, flags_moves);
    tcase_add_test(t, conversions_and_xlat);
    tcase_add_test(t, bound_raises_br);
    tcase_add_test(t, string_ops);
    tcase_add_test(t, rep_fault_resumes);
    tcase_add_test(t, segment_limits);
    tcase_add_test(t, decoder_limits);
    tcase_add_test(t, self_modifying_code);
    tcase_add_test(t, real_mode_basics);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
