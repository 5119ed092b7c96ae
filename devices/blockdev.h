/*
 * A raw disk image behind an emulated drive: 512-byte sectors read and
 * written at byte offsets of a host file, a lock so two writers never
 * share an image, and an optional throw-away overlay (-snapshot).
 */
#ifndef UMBRA_DEVICES_BLOCKDEV_H
#define UMBRA_DEVICES_BLOCKDEV_H

#include <stddef.h>

#include "common/types.h"

#define BLK_SECTOR 512u

struct blockdev;

struct blockdev_opts {
    bool readonly;   /* the guest may not write (a CD, readonly=on) */
    bool snapshot;   /* writes go to memory and are lost at exit */
};

/*
 * Open `path`.  Read-write images take an exclusive lock (flock), read-only
 * ones and snapshots a shared lock, so a second writer is refused while
 * readers may share.  Returns NULL with a message in err (naming the
 * problem, not the file: the caller adds the flag and path).
 */
struct blockdev *blockdev_open(const char *path, const struct blockdev_opts *o, char *err,
                               size_t errlen) MUST_CHECK;
/* Flush (unless a snapshot) and close.  NULL is allowed. */
void blockdev_close(struct blockdev *b);

/* Size in bytes (a partial last sector reads as zeros past the end). */
u64 blockdev_size(const struct blockdev *b);
/* Sectors, rounded up. */
u64 blockdev_sectors(const struct blockdev *b);
bool blockdev_readonly(const struct blockdev *b);

/* Read / write `n` sectors at `lba` to / from buf.  Returns 0, or -1 if
 * the range leaves the image, the image is read-only, or the host failed
 * (an I/O error to report to the guest). */
int blockdev_read(struct blockdev *b, u64 lba, u32 n, void *buf) MUST_CHECK;
int blockdev_write(struct blockdev *b, u64 lba, u32 n, const void *buf) MUST_CHECK;
/* Make written data durable (fdatasync); a snapshot has nothing to do.
 * Returns 0 or -1. */
int blockdev_flush(struct blockdev *b) MUST_CHECK;

#endif
