/* quota.hid: lock, read, scan and atomically rewrite the usage counter of a
 * posix store (see quota.h). The lock is an flock on quota.hid itself;
 * since the file is replaced by rename, a waiter re-checks after getting the
 * lock that its fd is still the file at that name, and retries if not. */
#include "backends/quota.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/posix_resolve.h"
#include "common/error.h"
#include "common/names.h"

#define MAX_SCAN_DEPTH 64
#define MAX_LOCK_RETRIES 1000

static int scan_dir(int dirfd, int depth, int64_t floor, int64_t *total)
{
    if (depth > MAX_SCAN_DEPTH)
        return bs__error_set(BS_ERR_IO, "quota scan: directories nested too deeply");
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return bs__error_errno(errno, "quota scan");
    DIR *d = fdopendir(fd);
    if (!d) {
        int err = errno;
        close(fd);
        return bs__error_errno(err, "quota scan");
    }
    int rc = 0;
    struct dirent *de;
    while (!rc) {
        errno = 0;
        if (!(de = readdir(d))) {
            if (errno) rc = bs__error_errno(errno, "quota scan");
            break;
        }
        const char *n = de->d_name;
        if (!strcmp(n, ".") || !strcmp(n, "..")) continue;
        struct stat st;
        if (fstatat(dirfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT) continue; /* vanished meanwhile */
            rc = bs__error_errno(errno, "quota scan");
            break;
        }
        if (S_ISREG(st.st_mode)) {
            if (!bs__ends_with(n, BS_TMP_SUFFIX) && !bs__ends_with(n, BS_HID_SUFFIX))
                *total += st.st_size < floor ? floor : st.st_size;
        } else if (S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd, n, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                if (errno == ENOENT) continue;
                rc = bs__error_errno(errno, "quota scan");
                break;
            }
            *total += floor;
            rc = scan_dir(sub, depth + 1, floor, total);
            close(sub);
        }
    }
    closedir(d);
    return rc;
}

int bs__quota_scan(int basefd, int64_t floor, int64_t *out)
{
    int64_t total = 0;
    int rc = scan_dir(basefd, 0, floor, &total);
    *out = rc ? 0 : total;
    return rc;
}

/* Decimal digits, optionally surrounded by whitespace. */
static bool parse_usage(const char *s, int64_t *out)
{
    while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t') s++;
    if (*s < '0' || *s > '9') return false;
    int64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (INT64_MAX - (*s - '0')) / 10) return false;
        v = v * 10 + (*s - '0');
    }
    while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t') s++;
    if (*s) return false;
    *out = v;
    return true;
}

static int flock_retry(int fd, int op)
{
    int rc;
    do {
        rc = flock(fd, op);
    } while (rc < 0 && errno == EINTR);
    return rc;
}

int bs__quota_lock(bs_quota_lock *q, int basefd, int64_t floor)
{
    q->fd = -1;
    q->usage = 0;
    q->scanned = false;
    q->other = false;
    for (int attempt = 0; attempt < MAX_LOCK_RETRIES; attempt++) {
        int fd = openat(basefd, BS_QUOTA_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
            fd = openat(basefd, BS_QUOTA_FILE, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        0600);
            if (fd < 0 && errno == EEXIST) continue;
        }
        if (fd < 0) return bs__error_errno(errno, "opening " BS_QUOTA_FILE);
        if (flock_retry(fd, LOCK_EX) < 0) {
            int err = errno;
            close(fd);
            return bs__error_errno(err, "locking " BS_QUOTA_FILE);
        }
        /* still the file at that name? (another process may have replaced
         * it while we waited for the lock) */
        struct stat mine, named;
        if (fstat(fd, &mine) < 0) {
            int err = errno;
            close(fd);
            return bs__error_errno(err, "checking " BS_QUOTA_FILE);
        }
        if (fstatat(basefd, BS_QUOTA_FILE, &named, AT_SYMLINK_NOFOLLOW) < 0 ||
            named.st_ino != mine.st_ino || named.st_dev != mine.st_dev) {
            close(fd); /* releases the lock */
            continue;
        }
        if (floor) { /* whether the lock file holds a count (void it on a change) */
            char own[32];
            ssize_t m;
            do {
                m = pread(fd, own, sizeof own - 1, 0);
            } while (m < 0 && errno == EINTR);
            own[m > 0 ? m : 0] = '\0';
            int64_t ignored;
            q->other = m > 0 && parse_usage(own, &ignored);
        }
        char buf[32];
        ssize_t n = -1;
        int vfd = floor ? openat(basefd, BS_QUOTA_FILE_SERVE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                        : fd;
        if (vfd < 0 && errno == ENOENT) n = 0; /* counted by a scan below */
        else if (vfd >= 0) {
            do {
                n = pread(vfd, buf, sizeof buf - 1, 0);
            } while (n < 0 && errno == EINTR);
        }
        int err = errno;
        if (vfd >= 0 && vfd != fd) close(vfd);
        if (n < 0) {
            close(fd);
            return bs__error_errno(err, "reading %s", floor ? BS_QUOTA_FILE_SERVE : BS_QUOTA_FILE);
        }
        buf[n] = '\0';
        q->fd = fd;
        q->floor = floor;
        if (!parse_usage(buf, &q->usage)) {
            int rc = bs__quota_scan(basefd, floor, &q->usage);
            if (rc) {
                close(fd);
                q->fd = -1;
                return rc;
            }
            q->scanned = true;
        }
        return 0;
    }
    return bs__error_set(BS_ERR_IO, "could not lock " BS_QUOTA_FILE " (keeps being replaced)");
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Replaces the file name in basefd with text (temp file + rename). */
static int write_text(int basefd, const char *name, const char *text, bool do_fsync)
{
    char tmp[64];
    size_t len = strlen(text);
    uint8_t rnd[8];
    randombytes_buf(rnd, sizeof rnd);
    snprintf(tmp, sizeof tmp, "quota.%02x%02x%02x%02x%02x%02x%02x%02x" BS_TMP_SUFFIX, rnd[0],
             rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    int fd = openat(basefd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return bs__error_errno(errno, "writing %s", name);
    int rc = write_all(fd, text, len);
    if (!rc && do_fsync) rc = fsync(fd);
    int err = errno;
    if (close(fd) < 0 && !rc) {
        rc = -1;
        err = errno;
    }
    if (!rc && renameat(basefd, tmp, basefd, name) < 0) {
        rc = -1;
        err = errno;
    }
    if (rc) {
        unlinkat(basefd, tmp, 0);
        return bs__error_errno(err, "writing %s", name);
    }
    if (do_fsync && bs__fsync_dir(basefd) < 0) return bs__error_errno(errno, "syncing %s", name);
    return 0;
}

int bs__quota_unlock(bs_quota_lock *q, int basefd, bool write, bool do_fsync)
{
    if (q->fd < 0) return 0;
    int rc = 0;
    const char *mine = q->floor ? BS_QUOTA_FILE_SERVE : BS_QUOTA_FILE;
    char text[32];
    snprintf(text, sizeof text, "%" PRId64, q->usage < 0 ? 0 : q->usage);
    if ((write || q->scanned) && write_text(basefd, mine, text, do_fsync)) {
        /* The change being counted is already in place (a rename or unlink
         * that cannot be taken back), so failing now would misreport it; a
         * full disk is the usual cause. Dropping quota.hid instead, still
         * under the lock, makes the next locker rescan: the count stays
         * exact and unlinking needs no space. */
        rc = unlinkat(basefd, mine, 0) < 0 && errno != ENOENT
                 ? bs__error_errno(errno, "writing %s", mine)
                 : 0;
        if (!rc) bs__error_clear();
    }
    /* the other count misses this change now: its next reader rescans
     * (quota.hid is voided, not removed: it is the lock file, and must stay
     * for a read-only filesystem) */
    if (write && !q->floor) (void)unlinkat(basefd, BS_QUOTA_FILE_SERVE, 0);
    if (write && q->floor && q->other) (void)write_text(basefd, BS_QUOTA_FILE, "void", do_fsync);
    close(q->fd); /* releases the flock */
    q->fd = -1;
    return rc;
}

int bs__quota_remove(int basefd)
{
    if (unlinkat(basefd, BS_QUOTA_FILE, 0) < 0 && errno != ENOENT) return -1;
    if (unlinkat(basefd, BS_QUOTA_FILE_SERVE, 0) < 0 && errno != ENOENT) return -1;
    return 0;
}
