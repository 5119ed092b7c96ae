/*
 * The dual-mapped code buffer (see codebuf.h).
 */
#define _GNU_SOURCE
#include "codebuf.h"

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
