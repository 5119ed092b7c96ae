/*
 * A small SSE2 workload for the Linux guest (scripts/initramfs/init runs
 * it as /bin/sse2check).  Built as a static i386 program with
 * -msse2 -mfpmath=sse; boot_test.sh runs the same binary on the host and
 * compares the line it prints.  Packed and scalar double and single
 * arithmetic (with denormals and a division by zero), conversions, and the
 * 128-bit integer operations, and MMX (between x87 arithmetic that EMMS
 * must leave intact) all feed one FNV-1a checksum, and the final MXCSR
 * (its sticky exception flags) is printed beside it.
 */
#include <emmintrin.h>
#include <mmintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint32_t fnv(uint32_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t k = 0; k < n; k++)
        h = (h ^ b[k]) * 16777619u;
    return h;
}

static uint32_t mix128(uint32_t h, __m128i v)
{
    unsigned char b[16];
    _mm_storeu_si128((__m128i *)b, v);
    return fnv(h, b, sizeof b);
}

int main(void)
{
    uint32_t h = 2166136261u;
    /* Doubles: a damped recurrence through mul/add/sqrt/div, packed. */
    __m128d x = _mm_set_pd(0.3, 1.7), y = _mm_set_pd(-2.5, 1e-300);
    for (int k = 0; k < 2000; k++) {
        __m128d t = _mm_add_pd(_mm_mul_pd(x, x), y);
        x = _mm_div_pd(_mm_sqrt_pd(_mm_max_pd(t, _mm_set1_pd(1e-310))), _mm_set_pd(1.0001, 0.9999));
        y = _mm_sub_pd(_mm_mul_pd(y, _mm_set1_pd(0.5)), _mm_min_pd(x, _mm_set1_pd(3.0)));
        h = mix128(h, _mm_castpd_si128(x));
        h = mix128(h, _mm_cvttpd_epi32(_mm_mul_pd(y, _mm_set1_pd(1e6))));
    }
    /* Singles: reciprocal-free arithmetic into denormals, and a 1/0. */
    __m128 f = _mm_set_ps(1e-30f, -3.5f, 7.25f, 1e30f);
    for (int k = 0; k < 500; k++) {
        f = _mm_mul_ps(f, _mm_set_ps(0.75f, -1.01f, 0.999f, 1.0001f));
        f = _mm_add_ps(f, _mm_cvtepi32_ps(_mm_set_epi32(k, -k, 3, 0)));
        h = mix128(h, _mm_castps_si128(f));
        h = mix128(h, _mm_cvtps_epi32(_mm_mul_ps(f, _mm_set1_ps(1000.0f))));
    }
    volatile double zero = 0.0;
    double inf = 1.0 / zero;
    h = fnv(h, &inf, sizeof inf);
    /* Integers: multiply-add, saturation, averages, SAD, packs, shifts,
     * shuffles and compares over a byte pattern. */
    __m128i a = _mm_set_epi8(1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12, 13, -14, 15, -16);
    __m128i b = _mm_set1_epi16(0x1234);
    for (int k = 0; k < 1000; k++) {
        __m128i m = _mm_madd_epi16(a, b);
        __m128i s = _mm_adds_epi16(a, _mm_mullo_epi16(b, _mm_set1_epi16((short)k)));
        __m128i u = _mm_subs_epu8(_mm_avg_epu8(a, b), _mm_sad_epu8(a, b));
        __m128i p = _mm_packs_epi32(m, _mm_srai_epi32(s, 3));
        p = _mm_xor_si128(p, _mm_packus_epi16(u, _mm_slli_epi16(s, 1)));
        p = _mm_add_epi64(p, _mm_mul_epu32(p, _mm_shuffle_epi32(u, 0x4e)));
        p = _mm_unpackhi_epi8(p, _mm_cmpgt_epi8(p, a));
        a = _mm_xor_si128(_mm_shufflehi_epi16(_mm_shufflelo_epi16(p, 0x1b), 0xb1),
                          _mm_srli_si128(b, 3));
        b = _mm_add_epi8(b, _mm_slli_si128(a, 5));
        h = mix128(h, a);
        h ^= (uint32_t)_mm_movemask_epi8(b) << (k & 15);
    }
    /* MMX, aliased on the x87 registers: x87 work before and after. */
    volatile double xa = 1.25;
    double xs = 0;
    __m64 ma = _mm_set_pi16(1, -2, 300, -4000), mb = _mm_set1_pi16(77);
    for (int k = 0; k < 300; k++) {
        xs += xa * k;
        ma = _mm_adds_pi16(_mm_mullo_pi16(ma, mb), _mm_srli_pi32(mb, 3));
        mb = _mm_xor_si64(_mm_unpacklo_pi8(mb, ma), _mm_cmpgt_pi16(ma, mb));
        __m64 v = _mm_xor_si64(ma, mb);
        h = fnv(h, &v, sizeof v);
    }
    _mm_empty();
    h = fnv(h, &xs, sizeof xs);
    printf("sse2: checksum %08x mxcsr %04x\n", h, _mm_getcsr());
    return 0;
}
