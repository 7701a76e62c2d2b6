/* Name resolution beneath a base directory fd (see posix_resolve.h): the one
 * place where the posix backend turns an item name into a file descriptor,
 * so that the containment rule lives in a single function. */
#include "backends/posix_resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "borgstore/backend.h"

/* 1: use openat2, 0: kernel lacks it (ENOSYS), set once and then only read. */
static atomic_int have_openat2 = 1;
static atomic_bool forced_fallback = false;

bool bs__beneath_uses_openat2(void)
{
    return atomic_load(&have_openat2) && !atomic_load(&forced_fallback);
}

void bs__beneath_force_fallback(bool on) { atomic_store(&forced_fallback, on); }

static int sys_openat2(int dirfd, const char *path, int flags, mode_t mode)
{
#ifdef SYS_openat2
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)(unsigned)flags;
    /* the kernel refuses a mode without O_CREAT / O_TMPFILE */
    how.mode = (flags & (O_CREAT | __O_TMPFILE)) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    /* EAGAIN: a concurrent rename could have allowed an escape and the
     * kernel refused; retrying is what it asks for (bounded, though) */
    int fd, tries = 0;
    do {
        fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    } while (fd < 0 && (errno == EINTR || (errno == EAGAIN && ++tries < 64)));
    return fd;
#else
    (void)dirfd; (void)path; (void)flags; (void)mode;
    errno = ENOSYS;
    return -1;
#endif
}

/* After an openat(O_NOFOLLOW) failure on comp: report a symlink as ELOOP,
 * whatever errno the kernel chose (ENOTDIR for O_DIRECTORY, ELOOP else). */
static int refine_errno(int dirfd, const char *comp, int err)
{
    struct stat st;
    if ((err == ENOTDIR || err == ELOOP) &&
        fstatat(dirfd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        return ELOOP;
    return err;
}

static int openat_retry(int dirfd, const char *path, int flags, mode_t mode)
{
    int fd;
    do {
        fd = openat(dirfd, path, flags, mode);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

/* The fallback: every component opened with O_NOFOLLOW, so no symlink is
 * ever followed; names are validated (no "..", no leading '/'), so the walk
 * cannot climb out lexically either. */
static int walk_open(int basefd, const char *rel, int flags, mode_t mode)
{
    char buf[BS_NAME_BUF];
    size_t len = strlen(rel);
    if (len >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, rel, len + 1);
    int cur = basefd;
    char *comp = buf;
    for (;;) {
        char *slash = strchr(comp, '/');
        if (!slash) break;
        *slash = '\0';
        int next = openat_retry(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
        int err = next < 0 ? refine_errno(cur, comp, errno) : 0;
        if (cur != basefd) close(cur);
        if (next < 0) {
            errno = err;
            return -1;
        }
        cur = next;
        comp = slash + 1;
    }
    int fd = openat_retry(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
    int err = fd < 0 ? refine_errno(cur, comp, errno) : 0;
    if (fd >= 0 && (flags & O_PATH)) {
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
            close(fd);
            fd = -1;
            err = ELOOP;
        }
    }
    if (cur != basefd) close(cur);
    if (fd < 0) errno = err;
    return fd;
}

int bs__beneath_open(int basefd, const char *rel, int flags, mode_t mode)
{
    if (!rel || !*rel) rel = ".";
    if (rel[0] == '/') { /* names are validated; this is a last line only */
        errno = EXDEV;
        return -1;
    }
    if (bs__beneath_uses_openat2()) {
        int fd = sys_openat2(basefd, rel, flags | O_CLOEXEC, mode);
        if (fd >= 0 || errno != ENOSYS) return fd;
        atomic_store(&have_openat2, 0);
    }
    return walk_open(basefd, rel, flags, mode);
}

int bs__fsync_dir(int dirfd)
{
    int fd = openat_retry(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0) return -1;
    int rc;
    do {
        rc = fsync(fd);
    } while (rc < 0 && errno == EINTR);
    int err = errno;
    close(fd);
    errno = err;
    return rc;
}

int bs__beneath_mkdirs(int basefd, const char *rel, bool do_fsync, unsigned *created)
{
    if (created) *created = 0;
    int fd = bs__beneath_open(basefd, rel, O_PATH | O_DIRECTORY, 0);
    if (fd >= 0 || errno != ENOENT) return fd;

    /* Walk the prefixes, resolving each one the same way as above and
     * creating what is missing inside the directory resolved before it. */
    char buf[BS_NAME_BUF];
    size_t len = strlen(rel);
    if (len >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, rel, len + 1);
    int parent = basefd;
    size_t start = 0;
    for (;;) {
        size_t end = start;
        while (buf[end] && buf[end] != '/') end++;
        char saved = buf[end];
        buf[end] = '\0';
        const char *comp = buf + start;
        int next = bs__beneath_open(basefd, buf, O_PATH | O_DIRECTORY, 0);
        if (next < 0 && errno == ENOENT) {
            if (mkdirat(parent, comp, 0777) == 0) {
                if (created) (*created)++;
                if (do_fsync && bs__fsync_dir(parent) < 0) {
                    int err = errno;
                    if (parent != basefd) close(parent);
                    errno = err;
                    return -1;
                }
            } else if (errno != EEXIST) {
                int err = errno;
                if (parent != basefd) close(parent);
                errno = err;
                return -1;
            }
            next = bs__beneath_open(basefd, buf, O_PATH | O_DIRECTORY, 0);
        }
        int err = errno;
        if (parent != basefd) close(parent);
        if (next < 0) {
            errno = err;
            return -1;
        }
        parent = next;
        if (!saved) return parent;
        buf[end] = saved;
        start = end + 1;
    }
}
