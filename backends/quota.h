/* Storage quota of the posix backend: the usage in bytes, persisted as
 * decimal text in quota.hid at the store root (as Python borgstore 0.6),
 * read and rewritten under an flock of that file so that concurrent
 * processes keep it exact; rebuilt by a scan when missing or invalid. */
#ifndef BS_BACKENDS_QUOTA_H
#define BS_BACKENDS_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

#define BS_QUOTA_FILE "quota.hid"
/* The usage as borgstore-serve counts it (floor > 0, see bs__quota_scan),
 * kept apart so that quota.hid stays what Python and the library count.
 * Both are read and written under the flock of quota.hid; a change counted
 * in one voids the other (quota.serve.hid removed, quota.hid holding
 * "void"), which its next reader rebuilds by a scan. */
#define BS_QUOTA_FILE_SERVE "quota.serve.hid"

/* A held quota lock and the usage read under it. */
typedef struct bs_quota_lock {
    int fd;        /* the locked quota.hid; -1 when not held */
    int64_t usage; /* bytes in use; update it, then bs__quota_unlock(.., true) */
    bool scanned;  /* usage came from a scan (file missing or invalid) */
    int64_t floor; /* as passed to bs__quota_lock */
    bool other;    /* floor > 0: quota.hid holds a count (to be voided on a change) */
} bs_quota_lock;

/* Takes the exclusive lock (creating quota.hid when missing) and reads the
 * usage, scanning the store (with floor, see bs__quota_scan) when the file
 * is missing or does not hold a decimal number. Returns 0 or BS_ERR_IO /
 * BS_ERR_PERMISSION (message names quota.hid). */
int bs__quota_lock(bs_quota_lock *q, int basefd, int64_t floor);

/* Writes q->usage (when write, or when it came from a scan) atomically
 * (temp file + rename, fsynced with do_fsync) and releases the lock.
 * When that write fails (disk full) quota.hid is removed instead, so the
 * next lock rescans; callers have committed their change by then, so this
 * is not an error. Always releases. Returns 0 or a BS_ERR_* code. */
int bs__quota_unlock(bs_quota_lock *q, int basefd, bool write, bool do_fsync);

/* Sum of the sizes of all regular files below basefd, excluding *.hid and
 * *.tmp, never following symlinks. With floor > 0 every file counts at
 * least floor bytes, and every directory below basefd floor bytes (what
 * borgstore-serve's stores count). 0 or BS_ERR_*. */
int bs__quota_scan(int basefd, int64_t floor, int64_t *out);

/* Removes quota.hid and quota.serve.hid (Python removes quota.hid when a
 * store is opened without quota). Missing is fine. 0 or -1 with errno. */
int bs__quota_remove(int basefd);

#endif
