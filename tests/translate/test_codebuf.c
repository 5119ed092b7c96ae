/*
 * The dual-mapped code buffer (translate/backend/codebuf.h): what is
 * written through the write view is what the execute view holds, after
 * the write view lets its pages go (codebuf_drop_writes) and after patches
 * made without it (codebuf_patch); the views are never writable and
 * executable at once; and dropped pages leave the write view's resident
 * set, so the process does not count translated code twice.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "translate/backend/codebuf.h"

#define SIZE (1u << 20)

/* Resident kB of the mapping that starts at `start`, from smaps. */
static long rss_kb(const void *start)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    bool in = false;
    long kb = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) { /* a mapping's first line */
            in = lo == (unsigned long)(uintptr_t)start;
            continue;
        }
        if (in && sscanf(line, "Rss: %ld kB", &kb) == 1)
            break;
    }
    fclose(f);
    ck_assert_int_ge(kb, 0);
    return kb;
}

/* Permissions of the mapping that starts at `start`, e.g. "r-xs", and
 * (if name) the path /proc/self/maps shows for it. */
static void perms_name(const void *start, char out[5], char name[256])
{
    FILE *f = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    out[0] = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char p[5] = "";
        int at = 0;
        if (sscanf(line, "%lx-%lx %4s %*x %*s %*u %n", &lo, &hi, p, &at) < 3 ||
            lo != (unsigned long)(uintptr_t)start)
            continue;
        memcpy(out, p, 5);
        if (name) {
            snprintf(name, 256, "%s", line + at);
            name[strcspn(name, "\n")] = 0;
        }
        break;
    }
    fclose(f);
}

static void perms(const void *start, char out[5])
{
    perms_name(start, out, NULL);
}

START_TEST(test_views_agree_after_drop_and_patch)
{
    struct codebuf b;
    ck_assert_int_eq(codebuf_init(&b, SIZE), 0);
    char p[5];
    perms(b.rw, p);
    ck_assert_str_eq(p, "rw-s");
    /* perf(1) takes code in a mapping named like this for anonymous, and
     * so names it from /tmp/perf-PID.map (-perfmap); a memfd's it does not */
    char name[256];
    perms_name(b.rx, p, name);
    ck_assert_str_eq(p, "r-xs");
    ck_assert_msg(!strncmp(name, "/dev/zero", 9), "execute view named '%s'", name);

    for (u32 k = 0; k < SIZE; k++)
        b.rw[k] = (u8)(k * 7 + 1);
    b.used = SIZE;
    long before = rss_kb(b.rw);
    ck_assert_int_ge(before, (long)(SIZE / 1024) - 4);
    codebuf_drop_writes(&b, 0, SIZE);
    ck_assert_int_lt(rss_kb(b.rw), before / 4);
    for (u32 k = 0; k < SIZE; k += 4093)
        ck_assert_uint_eq(b.rx[k], (u8)(k * 7 + 1));

    /* A patch is seen through the execute view at once.  Patches map
     * their pages into the write view again, at most CODEBUF_PATCH_SWEEP
     * of them: then every one is let go together. */
    long dropped = rss_kb(b.rw);
    const u8 rel[4] = { 0xde, 0xad, 0xbe, 0xef };
    codebuf_patch(&b, b.rw + 0x12345, rel, 4);
    ck_assert_mem_eq(b.rx + 0x12345, rel, 4);
    ck_assert_uint_eq(b.rx[0x12344], (u8)(0x12344 * 7 + 1));
    ck_assert_uint_eq(b.rx[0x12349], (u8)(0x12349 * 7 + 1));
    long most = dropped;
    for (u32 k = 1; k < CODEBUF_PATCH_SWEEP; k++) {
        u32 at = (k * 4096 + 8) % SIZE; /* a different page each time */
        codebuf_patch(&b, b.rw + at, rel, 4);
        ck_assert_mem_eq(b.rx + at, rel, 4);
        long now = rss_kb(b.rw);
        most = now > most ? now : most;
    }
    ck_assert_int_gt(most, dropped); /* the patches did map pages... */
    ck_assert_int_le(rss_kb(b.rw), dropped); /* ...and the last let them go */
    ck_assert_uint_eq(b.rx[8 + 4096 * 3 + 4], (u8)((8 + 4096 * 3 + 4) * 7 + 1));

    /* Only whole pages inside the range go: a partly written page at
     * either end stays mapped, and writing through the view still works. */
    b.rw[0x20010] = 0x5a;
    codebuf_drop_writes(&b, 0x20010, 0x20020);
    ck_assert_uint_eq(b.rx[0x20010], 0x5a);
    codebuf_free(&b);
}
END_TEST

static Suite *codebuf_suite(void)
{
    Suite *s = suite_create("codebuf");
    TCase *tc = tcase_create("codebuf");
    tcase_add_test(tc, test_views_agree_after_drop_and_patch);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(codebuf_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
