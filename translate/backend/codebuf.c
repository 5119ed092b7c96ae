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
    b->fd = memfd_create("umbra-code", MFD_CLOEXEC);
    if (b->fd < 0)
        return -1;
    if (ftruncate(b->fd, (off_t)size) < 0)
        goto fail;
    b->rw = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
    if (b->rw == MAP_FAILED) {
        b->rw = NULL;
        goto fail;
    }
    b->rx = mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_SHARED, b->fd, 0);
    if (b->rx == MAP_FAILED) {
        b->rx = NULL;
        goto fail;
    }
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
    if (b->fd >= 0)
        close(b->fd);
    b->rw = b->rx = NULL;
    b->fd = -1;
}

void codebuf_drop_writes(struct codebuf *b, size_t from, size_t to)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    from = (from + page - 1) & ~(page - 1);
    to &= ~(page - 1);
    /* MADV_DONTNEED on a shared mapping only unmaps: the memfd keeps the
     * pages.  Failing leaves them mapped, which is merely bigger. */
    if (to > from)
        (void)madvise(b->rw + from, to - from, MADV_DONTNEED);
}

void codebuf_patch(struct codebuf *b, u8 *at, const void *bytes, size_t n)
{
    off_t off = (off_t)(at - b->rw);
    if (pwrite(b->fd, bytes, n, off) != (ssize_t)n) {
        /* Not expected of a memfd; the mapping still does it. */
        memcpy(at, bytes, n);
    }
}
