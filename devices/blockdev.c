/*
 * Raw image files for the disk drives.
 *
 * The image is used as it is: sector k is bytes [512k, 512k + 512) of the
 * file.  Locking uses flock(2) on the open file: LOCK_EX for a read-write
 * image, LOCK_SH for a read-only one or a snapshot, both non-blocking, so
 * a second Umbra (or any flock user) writing the same image is refused at
 * start-up instead of both corrupting it.
 *
 * Snapshot overlay: written sectors live in memory, in chunks of
 * CHUNK_SECTORS sectors allocated on first write, each with a bitmap of
 * the sectors it holds; a read takes each sector from the overlay if
 * present, else from the file.  The file is never written.
 */
#define _GNU_SOURCE
#include "blockdev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK_SECTORS 128u

struct chunk {
    u64 present[CHUNK_SECTORS / 64];
    u8 data[CHUNK_SECTORS * BLK_SECTOR];
};

struct blockdev {
    int fd;
    u64 size;
    bool readonly;
    bool snapshot;
    struct chunk **overlay; /* snapshot: one pointer per chunk */
    u64 n_chunks;
};

struct blockdev *blockdev_open(const char *path, const struct blockdev_opts *o, char *err,
                               size_t errlen)
{
    bool writable = !o->readonly && !o->snapshot;
    int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s", S_ISDIR(st.st_mode) ? strerror(EISDIR) : "not a regular file");
        close(fd);
        return NULL;
    }
    if (flock(fd, (writable ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            snprintf(err, errlen, "the image is in use by another process (locked)");
        else
            snprintf(err, errlen, "cannot lock the image: %s", strerror(errno));
        close(fd);
        return NULL;
    }
    struct blockdev *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        close(fd);
        return NULL;
    }
    b->fd = fd;
    b->size = (u64)st.st_size;
    b->readonly = o->readonly;
    b->snapshot = o->snapshot && !o->readonly;
    if (b->snapshot) {
        b->n_chunks = (blockdev_sectors(b) + CHUNK_SECTORS - 1) / CHUNK_SECTORS;
        b->overlay = calloc(b->n_chunks ? b->n_chunks : 1, sizeof *b->overlay);
        if (!b->overlay) {
            snprintf(err, errlen, "out of memory for the snapshot overlay");
            blockdev_close(b);
            return NULL;
        }
    }
    return b;
}

void blockdev_close(struct blockdev *b)
{
    if (!b)
        return;
    if (!b->readonly && !b->snapshot)
        (void)fdatasync(b->fd);
    close(b->fd);
    if (b->overlay)
        for (u64 i = 0; i < b->n_chunks; i++)
            free(b->overlay[i]);
    free(b->overlay);
    free(b);
}

u64 blockdev_size(const struct blockdev *b)
{
    return b->size;
}

u64 blockdev_sectors(const struct blockdev *b)
{
    return (b->size + BLK_SECTOR - 1) / BLK_SECTOR;
}

bool blockdev_readonly(const struct blockdev *b)
{
    return b->readonly;
}

static bool in_range(const struct blockdev *b, u64 lba, u32 n)
{
    u64 total = blockdev_sectors(b);
    return lba <= total && n <= total - lba;
}

/* One sector from the file (zeros past its end). */
static int file_read(struct blockdev *b, u64 lba, u8 *buf)
{
    u64 off = lba * BLK_SECTOR;
    memset(buf, 0, BLK_SECTOR);
    size_t want = off + BLK_SECTOR <= b->size ? BLK_SECTOR : (size_t)(b->size - off);
    size_t got = 0;
    while (got < want) {
        ssize_t r = pread(b->fd, buf + got, want - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

int blockdev_read(struct blockdev *b, u64 lba, u32 n, void *buf)
{
    if (!in_range(b, lba, n))
        return -1;
    u8 *p = buf;
    for (u32 i = 0; i < n; i++, p += BLK_SECTOR) {
        u64 s = lba + i;
        struct chunk *c = b->overlay ? b->overlay[s / CHUNK_SECTORS] : NULL;
        unsigned k = s % CHUNK_SECTORS;
        if (c && (c->present[k / 64] >> (k % 64) & 1))
            memcpy(p, c->data + k * BLK_SECTOR, BLK_SECTOR);
        else if (file_read(b, s, p) < 0)
            return -1;
    }
    return 0;
}

static int file_write(struct blockdev *b, u64 lba, const u8 *buf)
{
    u64 off = lba * BLK_SECTOR;
    /* The part of a partial last sector past the file's end is dropped:
     * the image keeps its size. */
    size_t want = off + BLK_SECTOR <= b->size ? BLK_SECTOR : (size_t)(b->size - off);
    size_t done = 0;
    while (done < want) {
        ssize_t r = pwrite(b->fd, buf + done, want - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

int blockdev_write(struct blockdev *b, u64 lba, u32 n, const void *buf)
{
    if (b->readonly || !in_range(b, lba, n))
        return -1;
    const u8 *p = buf;
    for (u32 i = 0; i < n; i++, p += BLK_SECTOR) {
        u64 s = lba + i;
        if (!b->snapshot) {
            if (file_write(b, s, p) < 0)
                return -1;
            continue;
        }
        struct chunk **c = &b->overlay[s / CHUNK_SECTORS];
        if (!*c && !(*c = calloc(1, sizeof **c)))
            return -1;
        unsigned k = s % CHUNK_SECTORS;
        memcpy((*c)->data + k * BLK_SECTOR, p, BLK_SECTOR);
        (*c)->present[k / 64] |= 1ull << (k % 64);
    }
    return 0;
}

int blockdev_flush(struct blockdev *b)
{
    if (b->readonly || b->snapshot)
        return 0;
    return fdatasync(b->fd) < 0 ? -1 : 0;
}
