/*
 * The dual-mapped code buffer (see codebuf.h).
 */
#define _GNU_SOURCE
#include "codebuf.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int codebuf_init(struct codebuf *b, size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size = (size + page - 1) & ~(page - 1);
    b->rw = b->rx = NULL;
    b->size = size;
    b->used = 0;
    /* Shared anonymous memory, which /proc/PID/maps names "/dev/zero":
     * perf(1) reads /tmp/perf-PID.map only for mappings it takes for
     * anonymous ("//anon", "/dev/zero...", "/anon_hugepage"), not for a
     * memfd's.  mremap() with an old size of 0 maps the same pages of a
     * shared mapping a second time (mremap(2)). */
    b->rw = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (b->rw == MAP_FAILED) {
        b->rw = NULL;
        return -1;
    }
    b->rx = mremap(b->rw, 0, size, MREMAP_MAYMOVE);
    if (b->rx == MAP_FAILED) {
        /* Where that is refused (valgrind, for one), a memfd mapped
         * twice does the same, only perf does not name its code. */
        b->rx = NULL;
        munmap(b->rw, size);
        b->rw = NULL;
        int fd = memfd_create("umbra-code", MFD_CLOEXEC);
        if (fd < 0)
            return -1;
        if (ftruncate(fd, (off_t)size) == 0) {
            void *rw = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            void *rx = mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
            b->rw = rw == MAP_FAILED ? NULL : rw;
            b->rx = rx == MAP_FAILED ? NULL : rx;
        }
        close(fd);
        if (!b->rw || !b->rx)
            goto fail;
        b->patches = 0;
        return 0;
    }
    if (mprotect(b->rx, size, PROT_READ | PROT_EXEC) < 0)
        goto fail;
    b->patches = 0;
    return 0;
fail:
    codebuf_free(b);
    return -1;
}

void codebuf_free(struct codebuf *b)
{
    if (b->rw)
        munmap(b->rw, b->size);
    if (b->rx)
        munmap(b->rx, b->size);
    b->rw = b->rx = NULL;
}

void codebuf_drop_writes(struct codebuf *b, size_t from, size_t to)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    from = (from + page - 1) & ~(page - 1);
    to &= ~(page - 1);
    /* MADV_DONTNEED on a shared mapping only unmaps: the shared memory
     * keeps the pages.  Failing leaves them mapped, which is merely bigger. */
    if (to > from)
        (void)madvise(b->rw + from, to - from, MADV_DONTNEED);
}

void codebuf_patch(struct codebuf *b, u8 *at, const void *bytes, size_t n)
{
    /* Through the write view, which maps the page again; the pages that
     * patches mapped are let go all at once every CODEBUF_PATCH_SWEEP
     * patches (the kernel refuses to write a shared read-only mapping
     * through /proc/self/mem, and a system call per patch would cost more
     * than the patch). */
    memcpy(at, bytes, n);
    if (++b->patches >= CODEBUF_PATCH_SWEEP) {
        b->patches = 0;
        (void)madvise(b->rw, b->size, MADV_DONTNEED);
    }
}
