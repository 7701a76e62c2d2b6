/* The posix filesystem backend (file:///abs/path): items are files laid out
 * exactly as Python borgstore 0.6's posixfs, every parent resolved beneath a
 * dirfd of the base (posix_resolve.h) and cached (posix_dircache.h); values
 * go to a temp file renamed into place; quota and permissions are opt-in. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "backends/backend.h"
#include "backends/list_array.h"
#include "backends/permissions.h"
#include "backends/posix_dircache.h"
#include "backends/posix_resolve.h"
#include "backends/quota.h"
#include "common/error.h"
#include "common/hashing.h"
#include "common/names.h"
#include "common/url.h"

#define HASH_CHUNK (256 * 1024)
#define DEFRAG_CHUNK (1024 * 1024)
#define TMP_ATTEMPTS 16
#define TMP_NAME_BUF (BS_NAME_BUF + 32)
#define LOAD_GUESS (16 * 1024) /* first read of a load without fstat */
#define STREAM_CHUNK (1024 * 1024) /* store_from / load_to buffer */

typedef struct posixfs {
    bs_backend base;
    char *path;              /* absolute base path (never put into messages) */
    int basefd;              /* O_PATH dirfd of the base while open, else -1 */
    bool fsync;              /* cfg->fsync or BORGSTORE_FSYNC=1 */
    int64_t quota;           /* limit in bytes, 0: not enforced */
    bs_permissions *perms;   /* NULL: no restrictions */
    bs_dircache *dirs;       /* parent directory fds while open (may be NULL) */
    bool dirs_openat2;       /* resolution mode the cached fds were made with */
    bool short_read_eof;     /* the base's filesystem ends short reads only at EOF */
    uint64_t tmp_seed;       /* temp names: seed (random) + counter, mixed */
    uint64_t tmp_count;
    int parentfd;            /* placed store (bs__posixfs_new_at): its directory, else -1 */
    char *leaf;              /* the store's name in parentfd ("": parentfd itself) */
    int quotafd;             /* the quota account's directory, -1: the store's own */
    char *perm_prefix;       /* permissions match "prefix/name" (NULL: name) */
    int64_t qmin;            /* quota: an item counts at least this, a directory this */
} posixfs;

static posixfs *P(bs_backend *b) { return (posixfs *)b; }

/* Directory of the quota account: a placed store's account, or the store. */
static int qfd(const posixfs *p) { return p->quotafd >= 0 ? p->quotafd : p->basefd; }

/* errno of a failed operation on name -> code + message naming the item. */
static int fail(int err, const char *what, const char *name)
{
    if (err == EXDEV || err == ELOOP)
        return bs__error_set(BS_ERR_PERMISSION,
                             "%s %s: refusing to leave the store or follow a symlink", what,
                             name);
    return bs__error_errno(err, "%s %s", what, name);
}

static int check(posixfs *p, const char *name, const char *letters)
{
    if (!p->perms || !p->perm_prefix) return bs__permissions_check(p->perms, name, letters);
    /* a placed store below the root its permissions are anchored at */
    char full[2 * BS_NAME_BUF + 2];
    int n = snprintf(full, sizeof full, "%s%s%s", p->perm_prefix, *name ? "/" : "", name);
    if (n < 0 || (size_t)n >= sizeof full)
        return bs__error_set(BS_ERR_PERMISSION, "permissions: name too deep: %s", name);
    return bs__permissions_check(p->perms, full, letters);
}

/* Opens the store's base directory with flags: by its path, or (placed)
 * beneath the held parent directory without following a symlink there.
 * fd or -1 with errno (ENOTDIR also for a symlink). */
static int open_base(const posixfs *p, int flags)
{
    if (p->parentfd < 0) return open(p->path, flags | O_CLOEXEC);
    int fd = openat(p->parentfd, *p->leaf ? p->leaf : ".", flags | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))) {
        close(fd);
        errno = ENOTDIR;
        return -1;
    }
    return fd;
}

/* Splits name into its parent directory (into parent, "" for the root) and
 * returns the last component. */
static const char *split(const char *name, char parent[BS_NAME_BUF])
{
    const char *slash = strrchr(name, '/');
    if (!slash) {
        parent[0] = '\0';
        return name;
    }
    size_t n = (size_t)(slash - name);
    memcpy(parent, name, n);
    parent[n] = '\0';
    return slash + 1;
}

/* ---- parent directories --------------------------------------------------
 * A directory fd comes from the cache when it has one (*cached = true) and is
 * otherwise resolved beneath the base and put into the cache. A cached fd may
 * be stale: its directory removed (rmdir, destroy, another process) or moved.
 * A removed directory is empty and takes no new entries, so every answer
 * through it is "no such entry": callers treat ENOENT/ENOTDIR through a
 * cached fd as "ask again fresh" (forget_dir, then retry once). A moved
 * directory is caught by still_placed before anything is created in it. */

/* Runs an open-like call again after EMFILE/ENFILE with the cache emptied:
 * the cached fds must never starve the process of descriptors. */
static bool retry_emfile(posixfs *p, int fd)
{
    if (fd >= 0 || (errno != EMFILE && errno != ENFILE)) return false;
    int err = errno;
    if (bs__dircache_clear(p->dirs)) return true; /* pinned ones stay: maybe none freed */
    errno = err;
    return false;
}

/* O_PATH fd of directory rel ("" gives basefd itself). -1 with errno.
 * Release with close_dir. */
static int open_dir(posixfs *p, const char *rel, bool *cached)
{
    *cached = false;
    if (!*rel) return p->basefd;
    if (p->dirs && p->dirs_openat2 != bs__beneath_uses_openat2()) {
        /* cached under the other resolution rules (a test hook) */
        bs__dircache_clear(p->dirs);
        p->dirs_openat2 = bs__beneath_uses_openat2();
    }
    int fd = bs__dircache_lookup(p->dirs, rel);
    if (fd >= 0) {
        *cached = true;
        return fd;
    }
    do {
        fd = bs__beneath_open(p->basefd, rel, O_PATH | O_DIRECTORY, 0);
    } while (retry_emfile(p, fd));
    if (fd >= 0) bs__dircache_insert(p->dirs, rel, fd);
    return fd;
}

static void close_dir(posixfs *p, int fd)
{
    if (fd < 0 || fd == p->basefd) return;
    if (!bs__dircache_release(p->dirs, fd)) close(fd);
}

/* Releases fd and drops rel from the cache: the next open_dir is fresh. */
static void forget_dir(posixfs *p, int fd, const char *rel)
{
    close_dir(p, fd);
    bs__dircache_forget(p->dirs, rel);
}

/* ENOENT/ENOTDIR through a cached fd: maybe only the cache is out of date. */
static bool stale(bool cached, int err)
{
    return cached && (err == ENOENT || err == ENOTDIR);
}

/* Whether the cached fd of rel is still the directory at rel (one fstatat
 * from the base). Checked before creating anything through a cached fd, so
 * that a directory renamed away (out of the store, or elsewhere in it) never
 * receives new items. */
static bool still_placed(posixfs *p, int fd, const char *rel)
{
    dev_t dev;
    ino_t ino;
    struct stat st;
    if (bs__dircache_ident(p->dirs, fd, &dev, &ino) < 0) return false;
    /* following symlinks as openat2 would; this compares, it opens nothing */
    if (fstatat(p->basefd, rel, &st, 0) < 0) return false;
    return st.st_dev == dev && st.st_ino == ino;
}

/* Counts n directories just made for the quota (with p->qmin). Made is
 * made: when the count cannot be written, quota.hid is dropped so that the
 * next lock rescans (as bs__quota_unlock does). */
static void count_made_dirs(posixfs *p, unsigned n)
{
    if (!n || p->quota <= 0 || !p->qmin) return;
    bs_quota_lock q;
    if (bs__quota_lock(&q, qfd(p), p->qmin) == 0) {
        q.usage += (int64_t)n * p->qmin;
        if (bs__quota_unlock(&q, qfd(p), true, p->fsync) == 0) return;
    }
    (void)bs__quota_remove(qfd(p));
    bs__error_clear();
}

/* Directory rel for creating entries in: open_dir, but a cached fd is first
 * checked with still_placed (and resolved again when it fails); a missing
 * directory is created when make. fd, or -1 with errno. */
static int dir_for_create(posixfs *p, const char *rel, bool make)
{
    bool cached;
    int fd = open_dir(p, rel, &cached);
    if (fd >= 0 && cached && !still_placed(p, fd, rel)) {
        forget_dir(p, fd, rel);
        fd = open_dir(p, rel, &cached);
    }
    if (fd < 0 && errno == ENOENT && make) {
        unsigned made = 0, more;
        do {
            fd = bs__beneath_mkdirs(p->basefd, rel, p->fsync, &more);
            made += more;
        } while (retry_emfile(p, fd));
        int err = errno;
        count_made_dirs(p, made);
        if (fd >= 0) bs__dircache_insert(p->dirs, rel, fd); /* else close_dir closes it */
        errno = err;
    }
    return fd;
}

static int write_all(int fd, const uint8_t *data, size_t len)
{
    while (len) {
        size_t chunk = len > (1u << 30) ? (1u << 30) : len;
        ssize_t w = write(fd, data, chunk);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (w == 0) {
            errno = EIO;
            return -1;
        }
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Reads up to len bytes at off; *got is what was read (short at EOF). */
static int pread_all(int fd, uint8_t *buf, size_t len, off_t off, size_t *got)
{
    size_t done = 0;
    while (done < len) {
        size_t chunk = len - done > (1u << 30) ? (1u << 30) : len - done;
        ssize_t r = pread(fd, buf + done, chunk, off + (off_t)done);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (r == 0) break;
        done += (size_t)r;
    }
    *got = done;
    return 0;
}

static bool env_fsync(void)
{
    const char *v = getenv("BORGSTORE_FSYNC");
    return v && strcmp(v, "1") == 0;
}

/* ---- create / destroy / open / close ---------------------------------- */

/* mkdir -p of an absolute path (the trusted base path from the URL). */
static int mkdir_parents(const char *path)
{
    char *buf = strdup(path);
    if (!buf) return bs__error_set(BS_ERR_NOMEM, NULL);
    int rc = 0;
    for (char *s = buf + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char saved = *s;
            *s = '\0';
            if (mkdir(buf, 0777) < 0 && errno != EEXIST) {
                rc = bs__error_errno(errno, "creating the storage base path");
                break;
            }
            *s = saved;
            if (!saved) break;
        }
    }
    free(buf);
    return rc;
}

static int posixfs_create(bs_backend *b)
{
    posixfs *p = P(b);
    int rc = check(p, "", "wW");
    if (rc) return rc;
    if (p->parentfd < 0 && (rc = mkdir_parents(p->path))) return rc;
    if (p->parentfd >= 0 && *p->leaf && mkdirat(p->parentfd, p->leaf, 0777) < 0) {
        if (errno != EEXIST) return bs__error_errno(errno, "creating the storage base path");
    } else if (p->parentfd >= 0 && *p->leaf && p->quotafd >= 0 && p->quota > 0 && p->qmin) {
        /* a new directory in a shared account (placed and checked by the
         * server): the next lock counts it by a scan */
        (void)bs__quota_remove(p->quotafd);
    }
    int fd = open_base(p, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        if (errno == ENOTDIR)
            return bs__error_set(BS_ERR_ALREADY_EXISTS,
                                 "storage base path exists and is not a directory");
        return bs__error_errno(errno, "opening the storage base path");
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        int err = errno;
        close(fd);
        return bs__error_errno(err, "listing the storage base path");
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            rc = bs__error_set(BS_ERR_ALREADY_EXISTS, "storage base path is not empty");
            break;
        }
    }
    closedir(d);
    return rc;
}

/* Removes everything inside dirfd, never following symlinks. */
static int remove_contents(int dirfd, int depth)
{
    if (depth > 64) return bs__error_set(BS_ERR_IO, "destroy: directories nested too deeply");
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return bs__error_errno(errno, "destroy: listing a directory");
    DIR *d = fdopendir(fd);
    if (!d) {
        int err = errno;
        close(fd);
        return bs__error_errno(err, "destroy: listing a directory");
    }
    int rc = 0;
    struct dirent *de;
    while (!rc && (de = readdir(d))) {
        const char *n = de->d_name;
        if (!strcmp(n, ".") || !strcmp(n, "..")) continue;
        struct stat st;
        if (fstatat(dirfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno != ENOENT) rc = bs__error_errno(errno, "destroy: %s", n);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd, n, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                rc = bs__error_errno(errno, "destroy: %s", n);
                break;
            }
            rc = remove_contents(sub, depth + 1);
            close(sub);
            if (!rc && unlinkat(dirfd, n, AT_REMOVEDIR) < 0 && errno != ENOENT)
                rc = bs__error_errno(errno, "destroy: removing directory %s", n);
        } else if (unlinkat(dirfd, n, 0) < 0 && errno != ENOENT) {
            rc = bs__error_errno(errno, "destroy: removing %s", n);
        }
    }
    closedir(d);
    return rc;
}

static int posixfs_destroy(bs_backend *b)
{
    posixfs *p = P(b);
    int rc = check(p, "", "D");
    if (rc) return rc;
    int fd = open_base(p, O_PATH | O_DIRECTORY);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return bs__error_set(BS_ERR_DOES_NOT_EXIST, "storage base path does not exist");
        return bs__error_errno(errno, "opening the storage base path");
    }
    rc = remove_contents(fd, 0);
    close(fd);
    /* like Python: the base directory itself may stay when it cannot be
     * removed (create accepts an existing empty one) */
    if (!rc && p->parentfd < 0) (void)rmdir(p->path);
    else if (!rc && *p->leaf) (void)unlinkat(p->parentfd, p->leaf, AT_REMOVEDIR);
    /* a shared account no longer matches: the next open rescans it */
    if (!rc && p->quotafd >= 0) (void)bs__quota_remove(p->quotafd);
    return rc;
}

/* Whether fd is on a local filesystem known to return a short read from a
 * regular file only at its end, so that load may skip fstat for small values.
 * FUSE, network filesystems and anything unknown keep the fstat. */
static bool local_fs(int fd)
{
    static const unsigned long known[] = {
        0xEF53,     /* ext2/3/4 */
        0x58465342, /* xfs */
        0x9123683E, /* btrfs */
        0x01021994, /* tmpfs */
        0xF2F52010, /* f2fs */
        0x2FC12FC1, /* zfs */
    };
    struct statfs sf;
    if (fstatfs(fd, &sf) < 0) return false;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if ((unsigned long)sf.f_type == known[i]) return true;
    return false;
}

static int posixfs_open(bs_backend *b)
{
    posixfs *p = P(b);
    int fd = open_base(p, O_PATH | O_DIRECTORY);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return bs__error_set(BS_ERR_DOES_NOT_EXIST,
                                 "storage base path does not exist or is not a directory");
        return bs__error_errno(errno, "opening the storage base path");
    }
    p->basefd = fd;
    p->dirs = bs__dircache_new(bs__dircache_default_cap()); /* NULL: uncached */
    p->dirs_openat2 = bs__beneath_uses_openat2();
    p->short_read_eof = local_fs(fd);
    if (p->quota > 0) {
        /* establish quota.hid now (scanning when missing), as Python does */
        bs_quota_lock q;
        int account = p->quotafd >= 0 ? p->quotafd : fd;
        int rc = bs__quota_lock(&q, account, p->qmin);
        if (!rc) rc = bs__quota_unlock(&q, account, false, p->fsync);
        if (rc) {
            bs__dircache_free(p->dirs);
            p->dirs = NULL;
            close(fd);
            p->basefd = -1;
            return rc;
        }
    } else {
        /* untracked now: a stale counter must not be trusted later */
        (void)bs__quota_remove(fd);
    }
    return 0;
}

static int posixfs_close(bs_backend *b)
{
    posixfs *p = P(b);
    bs__dircache_free(p->dirs); /* no cached fd outlives close */
    p->dirs = NULL;
    if (p->basefd >= 0) close(p->basefd);
    p->basefd = -1;
    return 0;
}

/* ---- directories --------------------------------------------------------- */

static int quota_precheck(posixfs *p, const char *name, int64_t old, uint64_t len);

static int posixfs_mkdir(bs_backend *b, const char *name)
{
    posixfs *p = P(b);
    int rc = check(p, name, "w");
    if (rc) return rc;
    if (p->quota > 0 && p->qmin) { /* a new directory counts p->qmin: one must fit */
        int fd = bs__beneath_open(p->basefd, name, O_PATH | O_DIRECTORY, 0);
        if (fd >= 0) close(fd);
        else if ((rc = quota_precheck(p, name, 0, 0))) return rc;
    }
    unsigned made;
    int fd = bs__beneath_mkdirs(p->basefd, name, p->fsync, &made);
    int err = errno;
    count_made_dirs(p, made);
    errno = err;
    if (fd < 0 && (errno == ENOTDIR || errno == EEXIST))
        return bs__error_set(BS_ERR_IO, "mkdir %s: exists and is not a directory", name);
    if (fd < 0) return fail(errno, "mkdir", name);
    close(fd);
    return 0;
}

static int posixfs_rmdir(bs_backend *b, const char *name)
{
    posixfs *p = P(b);
    int rc = check(p, name, "wD");
    if (rc) return rc;
    char parent[BS_NAME_BUF];
    const char *leaf = split(name, parent);
    bool cached;
    int dfd, r, err;
    for (;;) {
        if ((dfd = open_dir(p, parent, &cached)) < 0) return fail(errno, "rmdir", name);
        r = unlinkat(dfd, leaf, AT_REMOVEDIR);
        err = errno;
        if (r == 0 || !stale(cached, err)) break;
        forget_dir(p, dfd, parent);
    }
    if (r == 0 || err == ENOENT) bs__dircache_forget_tree(p->dirs, name); /* gone */
    if (r < 0) {
        close_dir(p, dfd);
        if (err == ENOTEMPTY || err == EEXIST)
            return bs__error_set(BS_ERR_IO, "rmdir %s: directory not empty", name);
        if (err == ENOTDIR)
            return bs__error_set(BS_ERR_IO, "rmdir %s: not a directory", name);
        return fail(err, "rmdir", name);
    }
    if (p->fsync && bs__fsync_dir(dfd) < 0) rc = fail(errno, "rmdir", name);
    close_dir(p, dfd);
    if (!rc && p->quota > 0 && p->qmin) { /* a directory counted p->qmin */
        bs_quota_lock q;
        if (!(rc = bs__quota_lock(&q, qfd(p), p->qmin))) {
            q.usage -= p->qmin;
            rc = bs__quota_unlock(&q, qfd(p), true, p->fsync);
        }
    }
    return rc;
}

/* ---- info / load / hash ---------------------------------------------------- */

static int posixfs_info(bs_backend *b, const char *name, bs_item_info *out)
{
    posixfs *p = P(b);
    int rc = check(p, name, "lr");
    if (rc) return rc;
    char parent[BS_NAME_BUF];
    const char *leaf = split(name, parent);
    out->exists = false;
    struct stat st;
    bool cached;
    int r, err;
    for (;;) {
        int dfd = open_dir(p, parent, &cached);
        if (dfd < 0) {
            if (errno == ENOENT || errno == ENOTDIR) return 0;
            return fail(errno, "info", name);
        }
        r = fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW);
        err = errno;
        if (r == 0 || !stale(cached, err)) {
            close_dir(p, dfd);
            break;
        }
        forget_dir(p, dfd, parent); /* "missing" is only believed fresh */
    }
    if (r < 0) {
        if (err == ENOENT || err == ENOTDIR) return 0;
        return fail(err, "info", name);
    }
    if (S_ISLNK(st.st_mode)) return fail(ELOOP, "info", name);
    out->exists = true;
    out->directory = S_ISDIR(st.st_mode);
    out->size = out->directory ? 0 : (uint64_t)st.st_size;
    out->atime_ns = (int64_t)st.st_atim.tv_sec * 1000000000 + st.st_atim.tv_nsec;
    out->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    return 0;
}

/* Opens the item name for reading, never through a symlink, never blocking
 * on a FIFO; what it is is not checked yet. fd or a negative code. */
static int open_leaf(posixfs *p, const char *name, const char *what)
{
    char parent[BS_NAME_BUF];
    const char *leaf = split(name, parent);
    int fd;
    for (;;) {
        bool cached;
        int dfd = open_dir(p, parent, &cached);
        if (dfd < 0) {
            fd = -1;
            break;
        }
        do {
            fd = openat(dfd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        } while ((fd < 0 && errno == EINTR) || retry_emfile(p, fd));
        int err = errno;
        if (fd >= 0 || !stale(cached, err)) {
            close_dir(p, dfd);
            errno = err;
            break;
        }
        forget_dir(p, dfd, parent);
    }
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return bs__error_set(BS_ERR_NOT_FOUND, "%s", name);
        return fail(errno, what, name);
    }
    return fd;
}

static int not_regular(const char *what, const char *name, bool dir)
{
    return bs__error_set(BS_ERR_IO, "%s %s: %s", what, name,
                         dir ? "is a directory" : "not a regular file");
}

/* open_leaf, and the item must be a regular file. Fills *st. fd or a
 * negative code. */
static int open_item(posixfs *p, const char *name, const char *what, struct stat *st)
{
    int fd = open_leaf(p, name, what);
    if (fd < 0) return fd;
    if (fstat(fd, st) < 0) {
        int err = errno;
        close(fd);
        return fail(err, what, name);
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return not_regular(what, name, S_ISDIR(st->st_mode));
    }
    return fd;
}

/* load without fstat (see posixfs_load): one pread of at most LOAD_GUESS
 * bytes at offset into a fresh buffer. *got < *cap with *got > 0, or
 * *got == size asked for, is the whole answer. 0 or a negative code. */
static int load_guessed(int fd, const char *name, int64_t offset, int64_t size,
                        uint8_t **buf, size_t *cap, size_t *got)
{
    *cap = size == BS_SIZE_ALL ? LOAD_GUESS : (size_t)size;
    if (!(*buf = malloc(*cap ? *cap : 1)))
        return bs__error_set(BS_ERR_NOMEM, "load %s: %zu bytes", name, *cap);
    ssize_t r;
    do {
        r = pread(fd, *buf, *cap, (off_t)offset);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        int err = errno;
        free(*buf);
        *buf = NULL;
        /* pread refuses what load must refuse: directories and FIFOs */
        if (err == EISDIR || err == ESPIPE) return not_regular("load", name, err == EISDIR);
        return fail(err, "load", name);
    }
    *got = (size_t)r;
    return 0;
}

static int posixfs_load(bs_backend *b, const char *name, int64_t offset, int64_t size,
                        uint8_t **out, size_t *out_len)
{
    posixfs *p = P(b);
    int rc = check(p, name, "r");
    if (rc) return rc;
    int fd = open_leaf(p, name, "load");
    if (fd < 0) return fd;
    uint8_t *buf = NULL;
    size_t got = 0, cap = 0;
    /* Small values skip fstat: where a short read of a regular file means
     * its end (p->short_read_eof), a partly filled guess is the whole value
     * and a filled one with an explicit size is the whole range. An empty
     * or a full answer to "all" still asks fstat. */
    /* (a guess that would read past the largest file offset is left to the
     * exact path below: pread refuses such a range with EINVAL) */
    if (p->short_read_eof && offset >= 0 && offset <= INT64_MAX - LOAD_GUESS &&
        (size == BS_SIZE_ALL || size <= LOAD_GUESS)) {
        if ((rc = load_guessed(fd, name, offset, size, &buf, &cap, &got))) {
            close(fd);
            return rc;
        }
        if (got > 0 && (got < cap || size != BS_SIZE_ALL)) {
            close(fd);
            if (got < cap) { /* give the slack back; failing to is harmless */
                uint8_t *nb = realloc(buf, got);
                if (nb) buf = nb;
            }
            *out = buf;
            *out_len = got;
            return 0;
        }
    }
    struct stat st;
    if (fstat(fd, &st) < 0) rc = fail(errno, "load", name);
    else if (!S_ISREG(st.st_mode)) rc = not_regular("load", name, S_ISDIR(st.st_mode));
    if (rc) {
        free(buf);
        close(fd);
        return rc;
    }
    int64_t fsize = st.st_size, start = offset;
    if (offset < 0) {
        start = fsize + offset;
        if (start < 0) {
            free(buf);
            close(fd);
            return bs__error_set(BS_ERR_READ_RANGE,
                                 "load %s: offset %lld is before the start (size %lld)", name,
                                 (long long)offset, (long long)fsize);
        }
    }
    uint64_t avail = start < fsize ? (uint64_t)(fsize - start) : 0;
    uint64_t want = size == BS_SIZE_ALL || (uint64_t)size > avail ? avail : (uint64_t)size;
    if (p->base.value_max && want > p->base.value_max) { /* before reading it */
        free(buf);
        close(fd);
        return bs__value_too_large("load", name, want, p->base.value_max);
    }
    if (want > SIZE_MAX - 1) {
        free(buf);
        close(fd);
        return bs__error_set(BS_ERR_NOMEM, "load %s: too large", name);
    }
    /* what a guessed read already has (from the same start) is kept */
    if (got > want) got = (size_t)want;
    uint8_t *nb = realloc(buf, want ? (size_t)want : 1);
    if (!nb) {
        free(buf);
        close(fd);
        return bs__error_set(BS_ERR_NOMEM, "load %s: %llu bytes", name, (unsigned long long)want);
    }
    buf = nb;
    size_t more = 0;
    if (want > got && pread_all(fd, buf + got, (size_t)want - got, (off_t)start + (off_t)got,
                                &more) < 0) {
        int err = errno;
        free(buf);
        close(fd);
        return fail(err, "load", name);
    }
    close(fd);
    *out = buf;
    *out_len = got + more; /* shorter only when the file shrank meanwhile */
    return 0;
}

static int posixfs_hash(bs_backend *b, const char *name, bs_hash_alg alg,
                        char hex[BS_HASH_HEX_SIZE])
{
    posixfs *p = P(b);
    int rc = check(p, name, "r");
    if (rc) return rc;
    bs_hash_ctx ctx;
    if ((rc = bs__hash_check(alg))) return rc;
    struct stat st;
    int fd = open_item(p, name, "hash", &st);
    if (fd < 0) return fd;
    uint8_t *buf = malloc(HASH_CHUNK);
    if (!buf) {
        close(fd);
        return bs__error_set(BS_ERR_NOMEM, "hash %s", name);
    }
    if ((rc = bs__hash_init(&ctx, alg))) {
        free(buf);
        close(fd);
        return rc;
    }
    off_t off = 0;
    for (;;) {
        size_t got;
        if (pread_all(fd, buf, HASH_CHUNK, off, &got) < 0) {
            rc = fail(errno, "hash", name);
            break;
        }
        if (!got) break;
        bs__hash_update(&ctx, buf, got);
        off += (off_t)got;
    }
    free(buf);
    close(fd);
    if (rc) {
        bs__hash_abort(&ctx);
        return rc;
    }
    uint8_t digest[BS_HASH_MAX_BYTES];
    size_t n = bs__hash_final(&ctx, digest);
    bs__hex(hex, digest, n);
    return 0;
}

/* ---- store / delete / move / defrag -------------------------------------- */

/* What a value of len bytes counts for the quota: at least p->qmin. */
static int64_t charge(const posixfs *p, int64_t len)
{
    return len < p->qmin ? p->qmin : len;
}

/* Bytes that replacing or removing the entry st frees (as bs__quota_scan
 * counts it: regular files, and directories when p->qmin is set). */
static int64_t counted_size(const posixfs *p, const struct stat *st)
{
    if (S_ISDIR(st->st_mode)) return p->qmin;
    return S_ISREG(st->st_mode) ? charge(p, (int64_t)st->st_size) : 0;
}

/* Next temp name number: splitmix64 of seed + counter, distinct within the
 * backend and unpredictable across processes, without a getrandom call per
 * store. */
static uint64_t next_tmp_id(posixfs *p)
{
    uint64_t z = p->tmp_seed + ++p->tmp_count * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Creates a fresh temp file "<stem>.<16 hex digits>.tmp" in dfd: a name no
 * valid item can have, so it is never listed or addressed. fd or -1/errno. */
static int create_temp(posixfs *p, int dfd, const char *stem, char tmp[TMP_NAME_BUF])
{
    for (int i = 0; i < TMP_ATTEMPTS; i++) {
        /* a collision: maybe a forked twin with the same seed, so reseed */
        if (i) randombytes_buf(&p->tmp_seed, sizeof p->tmp_seed);
        snprintf(tmp, TMP_NAME_BUF, "%s.%016llx" BS_TMP_SUFFIX, stem,
                 (unsigned long long)next_tmp_id(p));
        int fd;
        do {
            fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        } while ((fd < 0 && errno == EINTR) || retry_emfile(p, fd));
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    errno = EEXIST;
    return -1;
}

/* fsync (when configured) and close a temp file; 0 or -1/errno. */
static int finish_temp(posixfs *p, int fd)
{
    int rc = 0;
    if (p->fsync) {
        do {
            rc = fsync(fd);
        } while (rc < 0 && errno == EINTR);
    }
    int err = errno;
    if (close(fd) < 0 && !rc) return -1;
    errno = err;
    return rc;
}

/* Reads the quota usage (lock taken and released): the early, cheap refusal
 * of a value that cannot fit. 0 or BS_ERR_QUOTA / other codes. */
static int quota_precheck(posixfs *p, const char *name, int64_t old, uint64_t len)
{
    bs_quota_lock q;
    int rc = bs__quota_lock(&q, qfd(p), p->qmin);
    if (rc) return rc;
    int64_t usage = q.usage;
    if ((rc = bs__quota_unlock(&q, qfd(p), false, p->fsync))) return rc;
    if (len > (uint64_t)INT64_MAX || usage - old + charge(p, (int64_t)len) > p->quota)
        return bs__error_set(BS_ERR_QUOTA, "%s: %llu bytes would exceed the quota (%lld of %lld "
                             "bytes in use)", name, (unsigned long long)len, (long long)usage,
                             (long long)p->quota);
    return 0;
}

/* renameat that refuses to replace a planted symlink at the target. Tries
 * RENAME_NOREPLACE first: a new target (the usual case, e.g. soft delete)
 * then needs no look at it. 0 or -1/errno (ELOOP for a symlink). */
static int rename_checked(int sfd, const char *sleaf, int dfd, const char *dleaf)
{
    if (renameat2(sfd, sleaf, dfd, dleaf, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EEXIST && errno != EINVAL && errno != ENOSYS) return -1;
    /* exists, or the filesystem / kernel cannot tell */
    struct stat st;
    if (fstatat(dfd, dleaf, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
        errno = ELOOP;
        return -1;
    }
    return renameat(sfd, sleaf, dfd, dleaf);
}

/* rename that never replaces the target: RENAME_NOREPLACE, or link + unlink
 * where the filesystem lacks it (files only). 0 or -1/errno (EEXIST when
 * the target exists). */
static int rename_noreplace(int sfd, const char *sleaf, int dfd, const char *dleaf)
{
    if (renameat2(sfd, sleaf, dfd, dleaf, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -1;
    if (linkat(sfd, sleaf, dfd, dleaf, 0) < 0) return -1;
    (void)unlinkat(sfd, sleaf, 0);
    return 0;
}

/* Whether name may be overwritten (W): when not, a target that appears
 * after the permission check must make the commit fail, not be replaced. */
static bool may_replace(posixfs *p, const char *name)
{
    /* a refusal sets the thread's message: only read after a failure,
     * and the caller's own failure then sets it again */
    return !p->perms || check(p, name, "W") == 0;
}

static int exists_without_w(const char *what, const char *name)
{
    return bs__error_set(BS_ERR_PERMISSION, "%s %s: it exists now, and overwriting needs "
                         "permission 'W'", what, name);
}

/* Renames the finished temp file tmp (in tdfd) to leaf in dfd. With quota,
 * under the lock: checks the limit against the size being replaced as it is
 * now, renames, and records the new usage, so concurrent processes stay
 * exact. On failure the temp file is removed and nothing changed. */
static int commit_temp(posixfs *p, int tdfd, const char *tmp, int dfd, const char *leaf,
                       int64_t len, const char *name)
{
    bs_quota_lock q = {.fd = -1};
    int rc = 0;
    struct stat st;
    if (p->quota > 0) {
        if ((rc = bs__quota_lock(&q, qfd(p), p->qmin))) goto fail;
        int64_t old = 0;
        if (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0) old = counted_size(p, &st);
        if (q.usage - old + charge(p, len) > p->quota) {
            rc = bs__error_set(BS_ERR_QUOTA, "%s: %lld bytes would exceed the quota (%lld of "
                               "%lld bytes in use)", name, (long long)len, (long long)q.usage,
                               (long long)p->quota);
            goto fail;
        }
        q.usage += charge(p, len) - old;
    }
    /* a planted symlink is not replaced (ELOOP); without W nothing is */
    bool replace = may_replace(p, name);
    if ((replace ? rename_checked(tdfd, tmp, dfd, leaf)
                 : rename_noreplace(tdfd, tmp, dfd, leaf)) < 0) {
        rc = errno == EISDIR ? bs__error_set(BS_ERR_IO, "store %s: is a directory", name)
             : !replace && errno == EEXIST ? exists_without_w("store", name)
                                           : fail(errno, "store", name);
        goto fail;
    }
    rc = bs__quota_unlock(&q, qfd(p), true, p->fsync);
    if (p->fsync && bs__fsync_dir(dfd) < 0 && !rc) rc = fail(errno, "store", name);
    return rc;
fail:
    bs__quota_unlock(&q, qfd(p), false, p->fsync);
    unlinkat(tdfd, tmp, 0);
    return rc;
}

/* Directory dparent for creating entries in (see dir_for_create), made when
 * missing. fd (maybe basefd) or a negative code naming name. */
static int dir_for_write(posixfs *p, const char *dparent, const char *what, const char *name)
{
    int dfd = dir_for_create(p, dparent, true);
    if (dfd >= 0) return dfd;
    if (errno == ENOTDIR || errno == EEXIST)
        return bs__error_set(BS_ERR_IO, "%s %s: a parent is not a directory", what, name);
    return fail(errno, what, name);
}

/* Writes len bytes from read into fd; a reader error lands in *rrc. */
static int copy_in(int fd, uint64_t len, bs_read_fn read, void *ctx, int *rrc)
{
    uint8_t *buf = malloc(len < STREAM_CHUNK ? (len ? (size_t)len : 1) : STREAM_CHUNK);
    if (!buf) {
        errno = ENOMEM;
        return -1;
    }
    int rc = 0;
    while (len && !rc) {
        size_t got = 0, want = len < STREAM_CHUNK ? (size_t)len : STREAM_CHUNK;
        if ((*rrc = read(ctx, buf, want, &got)) || got == 0 || got > want) {
            if (!*rrc) *rrc = bs__error_set(BS_ERR_IO, "the value's reader failed");
            rc = -1;
            break;
        }
        rc = write_all(fd, buf, got);
        len -= got;
    }
    free(buf);
    return rc;
}

/* store, with the bytes at data or (data NULL) from read. */
static int store_common(bs_backend *b, const char *name, const void *data, uint64_t len,
                        bs_read_fn read, void *ctx)
{
    posixfs *p = P(b);
    char parent[BS_NAME_BUF];
    const char *leaf = split(name, parent);
    int rc = 0;
    int dfd = dir_for_create(p, parent, false);
    if (dfd < 0 && errno != ENOENT) {
        if (errno == ENOTDIR)
            return bs__error_set(BS_ERR_IO, "store %s: a parent is not a directory", name);
        return fail(errno, "store", name);
    }
    /* whether it exists matters for permissions and quota only; commit_temp
     * refuses a planted symlink in any case */
    if (p->perms || p->quota > 0) {
        struct stat st;
        bool exists = dfd >= 0 && fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0;
        rc = check(p, name, exists ? "W" : "wW");
        if (!rc && exists && S_ISLNK(st.st_mode)) rc = fail(ELOOP, "store", name);
        if (!rc && p->quota > 0)
            rc = quota_precheck(p, name, exists ? counted_size(p, &st) : 0, len);
        if (rc) {
            close_dir(p, dfd);
            return rc;
        }
    }
    /* like Python: try the directory as it is, create it when missing, and
     * retry once when it vanished meanwhile */
    char tmp[TMP_NAME_BUF];
    int fd = -1;
    for (int attempt = 0; attempt < 2 && fd < 0; attempt++) {
        if (dfd < 0 && (dfd = dir_for_write(p, parent, "store", name)) < 0) return dfd;
        fd = create_temp(p, dfd, leaf, tmp);
        if (fd < 0 && errno == ENOENT && *parent && attempt == 0) {
            forget_dir(p, dfd, parent);
            dfd = -1;
        } else if (fd < 0) {
            rc = fail(errno, "store", name);
            close_dir(p, dfd);
            return rc;
        }
    }
    int rrc = 0;
    int wrc = data ? write_all(fd, data, (size_t)len) : copy_in(fd, len, read, ctx, &rrc);
    if (wrc < 0) {
        int err = errno;
        close(fd);
        errno = err;
    } else {
        wrc = finish_temp(p, fd); /* closes fd */
    }
    if (wrc < 0) {
        int err = errno;
        unlinkat(dfd, tmp, 0);
        close_dir(p, dfd);
        return rrc ? rrc : fail(err, "store", name);
    }
    rc = commit_temp(p, dfd, tmp, dfd, leaf, (int64_t)len, name);
    close_dir(p, dfd);
    return rc;
}

static int posixfs_store(bs_backend *b, const char *name, const void *data, size_t len)
{
    return store_common(b, name, data, len, NULL, NULL);
}

static int posixfs_store_from(bs_backend *b, const char *name, uint64_t len, bs_read_fn read,
                              void *ctx)
{
    return store_common(b, name, NULL, len, read, ctx);
}

/* load, the bytes going to sink in STREAM_CHUNK pieces from one open file
 * (a value replaced meanwhile is still read whole, the old one). */
static int posixfs_load_to(bs_backend *b, const char *name, int64_t offset, int64_t size,
                           const bs_load_sink *sink)
{
    posixfs *p = P(b);
    int rc = check(p, name, "r");
    if (rc) return rc;
    int fd = open_leaf(p, name, "load");
    if (fd < 0) return fd;
    struct stat st;
    if (fstat(fd, &st) < 0) rc = fail(errno, "load", name);
    else if (!S_ISREG(st.st_mode)) rc = not_regular("load", name, S_ISDIR(st.st_mode));
    int64_t fsize = rc ? 0 : st.st_size, start = offset < 0 ? fsize + offset : offset;
    if (!rc && start < 0)
        rc = bs__error_set(BS_ERR_READ_RANGE, "load %s: offset %lld is before the start "
                           "(size %lld)", name, (long long)offset, (long long)fsize);
    uint64_t avail = start < fsize ? (uint64_t)(fsize - start) : 0;
    uint64_t want = size == BS_SIZE_ALL || (uint64_t)size > avail ? avail : (uint64_t)size;
    uint8_t *buf = rc ? NULL : malloc(want < STREAM_CHUNK ? (want ? (size_t)want : 1)
                                                          : STREAM_CHUNK);
    if (!rc && !buf) rc = bs__error_set(BS_ERR_NOMEM, "load %s", name);
    if (!rc) rc = sink->begin(sink->ctx, want);
    for (uint64_t done = 0; !rc && done < want;) {
        size_t n = want - done < STREAM_CHUNK ? (size_t)(want - done) : STREAM_CHUNK, got = 0;
        if (pread_all(fd, buf, n, (off_t)(start + (int64_t)done), &got) < 0)
            rc = fail(errno, "load", name);
        else if (got == 0)
            rc = bs__error_set(BS_ERR_IO, "load %s: the file shrank while read", name);
        else
            rc = sink->data(sink->ctx, buf, got);
        done += got;
    }
    free(buf);
    close(fd);
    return rc;
}

static int posixfs_delete(bs_backend *b, const char *name)
{
    posixfs *p = P(b);
    int rc = check(p, name, "D");
    if (rc) return rc;
    char parent[BS_NAME_BUF];
    const char *leaf = split(name, parent);
    bs_quota_lock q = {.fd = -1};
    if (p->quota > 0 && (rc = bs__quota_lock(&q, qfd(p), p->qmin))) return rc;
    int64_t size = 0;
    int dfd, r, err;
    for (;;) {
        bool cached;
        if ((dfd = open_dir(p, parent, &cached)) < 0) {
            err = errno;
            bs__quota_unlock(&q, qfd(p), false, p->fsync);
            if (err == ENOENT || err == ENOTDIR)
                return bs__error_set(BS_ERR_NOT_FOUND, "%s", name);
            return fail(err, "delete", name);
        }
        struct stat st;
        if (p->quota > 0 && fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0)
            size = counted_size(p, &st);
        /* a planted symlink may be deleted: that removes the link, not its target */
        r = unlinkat(dfd, leaf, 0);
        err = errno;
        if (r == 0 || !stale(cached, err)) break;
        forget_dir(p, dfd, parent);
    }
    if (r < 0) {
        bs__quota_unlock(&q, qfd(p), false, p->fsync);
        close_dir(p, dfd);
        if (err == ENOENT || err == ENOTDIR) return bs__error_set(BS_ERR_NOT_FOUND, "%s", name);
        if (err == EISDIR) return bs__error_set(BS_ERR_IO, "delete %s: is a directory", name);
        return fail(err, "delete", name);
    }
    q.usage -= size;
    rc = bs__quota_unlock(&q, qfd(p), size != 0, p->fsync);
    if (p->fsync && bs__fsync_dir(dfd) < 0 && !rc) rc = fail(errno, "delete", name);
    close_dir(p, dfd);
    return rc;
}

static int posixfs_move(bs_backend *b, const char *cur, const char *dst)
{
    posixfs *p = P(b);
    int rc = check(p, cur, "D");
    if (rc) return rc;
    char sparent[BS_NAME_BUF], dparent[BS_NAME_BUF];
    const char *sleaf = split(cur, sparent);
    const char *dleaf = split(dst, dparent);
    struct stat sst, dst_st;
    int sfd, dfd = -1;
    for (;;) {
        bool cached;
        if ((sfd = open_dir(p, sparent, &cached)) < 0) {
            if (errno == ENOENT || errno == ENOTDIR)
                return bs__error_set(BS_ERR_NOT_FOUND, "%s", cur);
            return fail(errno, "move", cur);
        }
        if (fstatat(sfd, sleaf, &sst, AT_SYMLINK_NOFOLLOW) == 0) break;
        int err = errno;
        if (!stale(cached, err)) {
            close_dir(p, sfd);
            return err == ENOENT || err == ENOTDIR ? bs__error_set(BS_ERR_NOT_FOUND, "%s", cur)
                                                   : fail(err, "move", cur);
        }
        forget_dir(p, sfd, sparent);
    }
    if (S_ISLNK(sst.st_mode)) {
        rc = fail(ELOOP, "move", cur);
        goto out;
    }
    /* Within one directory (soft delete) nothing enters it: the fd that just
     * found the source will do. Into another one, the target directory is
     * checked like a store's. */
    if (strcmp(sparent, dparent) == 0) dfd = sfd;
    else dfd = dir_for_create(p, dparent, false);
    if (dfd < 0 && errno != ENOENT) {
        rc = errno == ENOTDIR ? bs__error_set(BS_ERR_IO, "move to %s: a parent is not a "
                                              "directory", dst)
                              : fail(errno, "move to", dst);
        goto out;
    }
    bool look = p->perms || p->quota > 0; /* else rename_checked looks when needed */
    if (look) {
        bool exists = dfd >= 0 && fstatat(dfd, dleaf, &dst_st, AT_SYMLINK_NOFOLLOW) == 0;
        if ((rc = check(p, dst, exists ? "W" : "wW"))) goto out;
        if (exists && S_ISLNK(dst_st.st_mode)) {
            rc = fail(ELOOP, "move to", dst);
            goto out;
        }
    }
    if (dfd < 0 && (dfd = dir_for_write(p, dparent, "move to", dst)) < 0) {
        rc = dfd;
        goto out;
    }
    bs_quota_lock q = {.fd = -1};
    int64_t replaced = 0;
    if (p->quota > 0) {
        if ((rc = bs__quota_lock(&q, qfd(p), p->qmin))) goto out;
        /* a replaced target stops counting (unless it is the source itself) */
        if (fstatat(dfd, dleaf, &dst_st, AT_SYMLINK_NOFOLLOW) == 0 &&
            fstatat(sfd, sleaf, &sst, AT_SYMLINK_NOFOLLOW) == 0 &&
            !(dst_st.st_ino == sst.st_ino && dst_st.st_dev == sst.st_dev))
            replaced = counted_size(p, &dst_st);
    }
    bool replace = may_replace(p, dst);
    if ((!replace ? rename_noreplace(sfd, sleaf, dfd, dleaf)
         : look   ? renameat(sfd, sleaf, dfd, dleaf)
                  : rename_checked(sfd, sleaf, dfd, dleaf)) < 0) {
        int err = errno;
        bs__quota_unlock(&q, qfd(p), false, p->fsync);
        rc = err == ENOENT ? bs__error_set(BS_ERR_NOT_FOUND, "%s", cur)
             : err == ELOOP ? fail(ELOOP, "move to", dst)
             : err == EEXIST && !replace ? exists_without_w("move to", dst)
                                         : fail(err, "move", cur);
        goto out;
    }
    q.usage -= replaced;
    rc = bs__quota_unlock(&q, qfd(p), replaced != 0, p->fsync);
    if (p->fsync && (bs__fsync_dir(dfd) < 0 || (sfd != dfd && bs__fsync_dir(sfd) < 0)) && !rc)
        rc = fail(errno, "move", cur);
out:
    if (dfd >= 0 && dfd != sfd) close_dir(p, dfd);
    close_dir(p, sfd);
    return rc;
}

/* Copies size bytes at offset of the open source fd into the temp file out,
 * feeding them to ctx when non-NULL. 0 or a negative code. */
static int copy_block(int in, const bs_defrag_source *s, int out, uint8_t *buf,
                      bs_hash_ctx *ctx)
{
    uint64_t done = 0;
    while (done < s->size) {
        size_t want = s->size - done > DEFRAG_CHUNK ? DEFRAG_CHUNK : (size_t)(s->size - done);
        size_t got;
        if (pread_all(in, buf, want, (off_t)(s->offset + done), &got) < 0)
            return fail(errno, "defrag: reading", s->name);
        if (got < want) /* the source shrank after it was checked */
            return bs__error_set(BS_ERR_READ_RANGE, "defrag: %s is shorter than %llu bytes",
                                 s->name, (unsigned long long)(s->offset + s->size));
        if (ctx) bs__hash_update(ctx, buf, got);
        if (write_all(out, buf, got) < 0) return fail(errno, "defrag: writing", "target");
        done += got;
    }
    return 0;
}

/* Streams the blocks into a temp file (no whole-value buffer), then names it
 * (target, or ns/hex nested at levels) and commits it like a store. All
 * permissions are checked before anything is written, as in Python; no
 * directory is created before the quota allows the result. */
static int posixfs_defrag(bs_backend *b, const bs_defrag_source *src, size_t n,
                          const char *target, bs_hash_alg alg, const char *ns, int levels,
                          char out_name[BS_NAME_BUF])
{
    posixfs *p = P(b);
    int rc = 0;
    char probe[BS_NAME_BUF], tparent[BS_NAME_BUF];
    size_t ns_len = ns ? strlen(ns) : 0;
    while (ns_len && ns[ns_len - 1] == '/') ns_len--;
    if (target) {
        snprintf(probe, sizeof probe, "%s", target);
        split(target, tparent);
    } else {
        /* a stand-in for the content-named target in the namespace */
        snprintf(probe, sizeof probe, "%.*s%s0", (int)ns_len, ns ? ns : "", ns_len ? "/" : "");
        snprintf(tparent, sizeof tparent, "%.*s", (int)ns_len, ns ? ns : "");
    }
    if ((rc = check(p, probe, "wW"))) return rc;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if ((rc = check(p, src[i].name, "r"))) return rc;
        if (src[i].size > (uint64_t)INT64_MAX - total || src[i].offset > (uint64_t)INT64_MAX)
            return bs__error_set(BS_ERR_INVALID, "defrag: block %zu is out of range", i);
        total += src[i].size;
    }
    if (p->quota > 0) {
        /* nothing is written before the result is known to fit: a replaced
         * target frees its bytes (a content-named one is counted as new) */
        int64_t old = 0;
        if (target) {
            char tp[BS_NAME_BUF];
            const char *tl = split(target, tp);
            bool cached;
            int cur = open_dir(p, tp, &cached);
            struct stat tst;
            if (cur >= 0 && fstatat(cur, tl, &tst, AT_SYMLINK_NOFOLLOW) == 0)
                old = counted_size(p, &tst);
            close_dir(p, cur);
        }
        if ((rc = quota_precheck(p, probe, old, total))) return rc;
    }
    bs_hash_ctx ctx = {0}; /* started below, once the temp file exists */
    if (!target && (rc = bs__hash_check(alg))) return rc;

    /* the temp file goes where the result will be, or to the root while
     * that directory does not exist yet */
    int tdfd = dir_for_create(p, tparent, false);
    if (tdfd < 0 && errno == ENOENT) tdfd = p->basefd;
    if (tdfd < 0) {
        if (errno == ENOTDIR)
            return bs__error_set(BS_ERR_IO, "defrag to %s: a parent is not a directory", probe);
        return fail(errno, "defrag to", probe);
    }
    char tmp[TMP_NAME_BUF];
    int out = create_temp(p, tdfd, "defrag", tmp);
    if (out < 0) {
        rc = fail(errno, "defrag to", probe);
        close_dir(p, tdfd);
        return rc;
    }
    int dfd = -1;
    uint8_t *buf = malloc(DEFRAG_CHUNK);
    if (!buf) rc = bs__error_set(BS_ERR_NOMEM, "defrag");
    else if (!target) rc = bs__hash_init(&ctx, alg);
    for (size_t i = 0; i < n && !rc; i++) {
        struct stat st;
        int in = open_item(p, src[i].name, "defrag: reading", &st);
        if (in < 0) {
            rc = in;
            break;
        }
        if (src[i].offset + src[i].size > (uint64_t)st.st_size)
            rc = bs__error_set(BS_ERR_READ_RANGE,
                               "Read range error from %s (requested %llu bytes at offset "
                               "%llu, got %llu)", src[i].name, (unsigned long long)src[i].size,
                               (unsigned long long)src[i].offset,
                               src[i].offset >= (uint64_t)st.st_size
                                   ? 0ULL
                                   : (unsigned long long)((uint64_t)st.st_size - src[i].offset));
        else
            rc = copy_block(in, &src[i], out, buf, target ? NULL : &ctx);
        close(in);
    }
    free(buf);
    if (!rc) {
        int frc = finish_temp(p, out); /* closes out */
        out = -1;
        if (frc < 0) rc = fail(errno, "defrag: writing", probe);
    }
    if (rc) goto done;

    if (target) {
        snprintf(out_name, BS_NAME_BUF, "%s", target);
    } else {
        uint8_t digest[BS_HASH_MAX_BYTES];
        char hex[BS_HASH_HEX_SIZE];
        bs__hex(hex, digest, bs__hash_final(&ctx, digest));
        if ((rc = bs__defrag_target_name(out_name, hex, ns, levels)) ||
            (rc = bs__name_validate(out_name)))
            goto done;
    }
    /* the exact name is known now: overwrite needs W, as for store */
    char parent[BS_NAME_BUF];
    const char *leaf = split(out_name, parent);
    struct stat st;
    int cur = dir_for_create(p, parent, false); /* a checked answer: it decides W */
    bool exists = cur >= 0 && fstatat(cur, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0;
    close_dir(p, cur);
    if ((rc = check(p, out_name, exists ? "W" : "wW"))) goto done;
    if (p->quota > 0 &&
        (rc = quota_precheck(p, out_name, exists ? counted_size(p, &st) : 0, total)))
        goto done;
    if ((dfd = dir_for_write(p, parent, "defrag to", out_name)) < 0) {
        rc = dfd;
        goto done;
    }
    rc = commit_temp(p, tdfd, tmp, dfd, leaf, (int64_t)total, out_name);
    tmp[0] = '\0'; /* committed, or removed by commit_temp */
done:
    bs__hash_abort(&ctx); /* no-op after final */
    if (out >= 0) close(out);
    if (rc && tmp[0]) unlinkat(tdfd, tmp, 0);
    if (rc) out_name[0] = '\0';
    if (dfd >= 0) close_dir(p, dfd);
    close_dir(p, tdfd);
    return rc;
}

/* ---- list --------------------------------------------------------------- */

static int posixfs_list_begin(bs_backend *b, const char *name, bs_list_iter **out)
{
    posixfs *p = P(b);
    int rc = check(p, name, "l");
    if (rc) return rc;
    int fd = bs__beneath_open(p->basefd, name, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return bs__error_set(BS_ERR_NOT_FOUND, "%s", *name ? name : "(root)");
        return fail(errno, "list", name);
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        int err = errno;
        close(fd);
        return fail(err, "list", name);
    }
    bs_list_array *it = bs__list_array_new();
    if (!it) {
        closedir(d);
        return bs__error_set(BS_ERR_NOMEM, "list %s", name);
    }
    size_t cap = 0;
    struct dirent *de;
    for (;;) {
        errno = 0;
        if (!(de = readdir(d))) {
            if (errno) rc = fail(errno, "list", name);
            break;
        }
        const char *n = de->d_name;
        /* "." passes name validation; ".." and *.tmp / *.hid do not */
        if (!strcmp(n, ".") || !bs__name_is_valid(n)) continue;
        struct stat st;
        if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT) continue;
            rc = fail(errno, "list", name);
            break;
        }
        if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) continue; /* symlinks etc. */
        if (p->base.list_max && it->n >= p->base.list_max) { /* stop reading: bounded memory */
            rc = bs__error_set(BS_ERR_INVALID, "list %s: more than %zu entries, over the "
                               "server's list memory limit", *name ? name : "(root)",
                               p->base.list_max);
            break;
        }
        if (it->n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            if (p->base.list_max && ncap > p->base.list_max) ncap = p->base.list_max;
            bs_item_info *ni = realloc(it->items, ncap * sizeof *ni);
            if (!ni) {
                rc = bs__error_set(BS_ERR_NOMEM, "list %s", name);
                break;
            }
            it->items = ni;
            cap = ncap;
        }
        bs_item_info *e = &it->items[it->n++];
        memset(e, 0, sizeof *e);
        memcpy(e->name, n, strlen(n) + 1); /* valid names are <= BS_NAME_MAX */
        e->exists = true;
        e->directory = S_ISDIR(st.st_mode);
        e->size = e->directory ? 0 : (uint64_t)st.st_size;
        e->atime_ns = (int64_t)st.st_atim.tv_sec * 1000000000 + st.st_atim.tv_nsec;
        e->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    }
    closedir(d);
    if (rc) {
        bs__list_array_free(it);
        return rc;
    }
    bs__list_array_sort(it);
    *out = &it->base;
    return 0;
}

/* ---- quota / free / constructor ------------------------------------------ */

static int posixfs_quota(bs_backend *b, bs_quota *out)
{
    posixfs *p = P(b);
    out->limit = out->usage = -1;
    if (p->quota <= 0) return 0; /* not tracked (no quota.hid is kept) */
    bs_quota_lock q;
    int rc = bs__quota_lock(&q, qfd(p), p->qmin);
    if (rc) return rc;
    int64_t usage = q.usage;
    if ((rc = bs__quota_unlock(&q, qfd(p), false, p->fsync))) return rc;
    out->limit = p->quota;
    out->usage = usage;
    return 0;
}

static void posixfs_free(bs_backend *b)
{
    posixfs *p = P(b);
    bs__dircache_free(p->dirs);
    if (p->basefd >= 0) close(p->basefd);
    bs__permissions_free(p->perms);
    if (p->parentfd >= 0) close(p->parentfd);
    if (p->quotafd >= 0) close(p->quotafd);
    free(p->leaf);
    free(p->perm_prefix);
    free(p->path);
    free(p);
}

static const bs_backend_ops posixfs_ops = {
    .version = BS_BACKEND_OPS_VERSION,
    .scheme = "file",
    .create = posixfs_create,
    .destroy = posixfs_destroy,
    .open = posixfs_open,
    .close = posixfs_close,
    .mkdir = posixfs_mkdir,
    .rmdir = posixfs_rmdir,
    .info = posixfs_info,
    .load = posixfs_load,
    .store = posixfs_store,
    .delete = posixfs_delete,
    .move = posixfs_move,
    .list_begin = posixfs_list_begin,
    .hash = posixfs_hash,
    .defrag = posixfs_defrag,
    .quota = posixfs_quota,
    .free = posixfs_free,
    .store_from = posixfs_store_from,
    .load_to = posixfs_load_to,
};

int bs__posixfs_new(bs_backend **out, const char *url, const bs_backend_config *cfg)
{
    *out = NULL;
    if (sodium_init() < 0) return bs__error_set(BS_ERR_IO, "libsodium failed to initialize");
    bs_url u;
    int rc = bs__url_parse(&u, url);
    if (rc) return rc;
    if (strcmp(u.scheme, "file") != 0 || !u.path || u.path[0] != '/') {
        bs__url_clear(&u);
        return bs__error_set(BS_ERR_URL_INVALID, "expected file:///absolute/path: %s", url);
    }
    if (cfg->quota > (uint64_t)INT64_MAX) {
        bs__url_clear(&u);
        return bs__error_set(BS_ERR_INVALID, "quota too large");
    }
    posixfs *p = calloc(1, sizeof *p);
    if (!p) {
        bs__url_clear(&u);
        return bs__error_set(BS_ERR_NOMEM, NULL);
    }
    /* strip trailing slashes (but keep "/") */
    size_t len = strlen(u.path);
    while (len > 1 && u.path[len - 1] == '/') u.path[--len] = '\0';
    p->path = u.path;
    u.path = NULL;
    bs__url_clear(&u);
    p->basefd = -1;
    p->parentfd = p->quotafd = -1;
    p->fsync = cfg->fsync || env_fsync();
    p->quota = (int64_t)cfg->quota;
    if ((rc = bs__permissions_parse(&p->perms, cfg->permissions))) {
        free(p->path);
        free(p);
        return rc;
    }
    randombytes_buf(&p->tmp_seed, sizeof p->tmp_seed);
    p->base.ops = &posixfs_ops;
    *out = &p->base;
    return 0;
}

int bs__posixfs_new_at(bs_backend **out, const bs_posix_place *pl, const bs_backend_config *cfg)
{
    *out = NULL;
    bs_backend *b;
    int rc = bs__posixfs_new(&b, "file:///", cfg); /* the path is never used */
    if (rc) return rc;
    posixfs *p = P(b);
    p->parentfd = fcntl(pl->parentfd, F_DUPFD_CLOEXEC, 0);
    if (pl->quotafd >= 0) p->quotafd = fcntl(pl->quotafd, F_DUPFD_CLOEXEC, 0);
    p->leaf = strdup(pl->leaf ? pl->leaf : "");
    if (pl->perm_prefix && *pl->perm_prefix) p->perm_prefix = strdup(pl->perm_prefix);
    p->qmin = pl->quota_min;
    if (p->parentfd < 0 || (pl->quotafd >= 0 && p->quotafd < 0))
        rc = bs__error_errno(errno, "placing the store");
    else if (!p->leaf || (pl->perm_prefix && *pl->perm_prefix && !p->perm_prefix))
        rc = bs__error_set(BS_ERR_NOMEM, NULL);
    else if (strchr(p->leaf, '/') || !strcmp(p->leaf, ".") || !strcmp(p->leaf, ".."))
        rc = bs__error_set(BS_ERR_INVALID, "placing the store: not one path component");
    if (rc) {
        posixfs_free(b);
        return rc;
    }
    *out = b;
    return 0;
}
