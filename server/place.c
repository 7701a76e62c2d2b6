/* Placing a store beneath the restriction roots (see place.h): resolve and
 * check the client's path once as text (restrict.c), then reach it from a
 * root opened at startup with openat(O_NOFOLLOW) per component, so that the
 * check and the use can never name different directories. */
#include "server/place.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/permissions.h"
#include "backends/quota.h"

typedef struct serve_root {
    char *path;    /* resolved restriction (a prefix, or an exact repository) */
    bool repo;     /* --restrict-to-repository */
    bool implicit; /* "/" standing in for no restriction: no shared account */
    int fd;        /* O_PATH of the deepest ancestor of path that existed */
    size_t fd_len; /* length of that ancestor's path (a prefix of path) */
} serve_root;

struct serve_roots {
    serve_root *r;
    size_t n;
    bool perm_map; /* --permissions with at least one entry */
};

static int root_add(struct serve_roots *rs, const char *path, bool repo)
{
    serve_root *n = realloc(rs->r, (rs->n + 1) * sizeof *n);
    if (!n) return bs__error_set(BS_ERR_NOMEM, NULL);
    rs->r = n;
    serve_root *r = &rs->r[rs->n];
    if (!(r->path = strdup(path))) return bs__error_set(BS_ERR_NOMEM, NULL);
    r->repo = repo;
    r->implicit = false;
    /* the deepest existing ancestor: the root itself when it exists */
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (;;) {
        r->fd = open(buf, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (r->fd >= 0) break;
        char *slash = strrchr(buf, '/');
        if (errno != ENOENT || !slash) {
            int err = errno;
            free(r->path);
            return bs__error_errno(err, "opening a restriction root");
        }
        if (slash == buf) slash[1] = '\0';
        else *slash = '\0';
    }
    r->fd_len = strlen(buf);
    rs->n++;
    return 0;
}

int serve_roots_open(serve_opts *o)
{
    struct serve_roots *rs = calloc(1, sizeof *rs);
    if (!rs) return bs__error_set(BS_ERR_NOMEM, NULL);
    o->roots = rs;
    bs_permissions *perms = NULL;
    if (bs__permissions_parse(&perms, o->permissions)) return -1;
    rs->perm_map = bs__permissions_count(perms) > 0;
    bs__permissions_free(perms);
    int rc = 0;
    for (size_t i = 0; i < o->n_restrict_repos && !rc; i++)
        rc = root_add(rs, o->restrict_repos[i], true);
    for (size_t i = 0; i < o->n_restrict_paths && !rc; i++)
        rc = root_add(rs, o->restrict_paths[i], false);
    if (!rc && rs->n == 0 && !(rc = root_add(rs, "/", false))) rs->r[0].implicit = true;
    return rc;
}

void serve_roots_close(serve_opts *o)
{
    struct serve_roots *rs = o->roots;
    if (!rs) return;
    for (size_t i = 0; i < rs->n; i++) {
        close(rs->r[i].fd);
        free(rs->r[i].path);
    }
    free(rs->r);
    free(rs);
    o->roots = NULL;
}

/* Whether path lies in or at dir (both resolved). */
static bool under(const char *path, const char *dir)
{
    size_t d = strlen(dir);
    if (d == 1 && dir[0] == '/') return true;
    return strncmp(path, dir, d) == 0 && (path[d] == '\0' || path[d] == '/');
}

/* The root a checked path is placed from: its repository when those are
 * given (the path equals one), else the first prefix it lies under. */
static const serve_root *root_for(const struct serve_roots *rs, const char *resolved)
{
    for (size_t i = 0; i < rs->n; i++)
        if (rs->r[i].repo && !strcmp(rs->r[i].path, resolved)) return &rs->r[i];
    for (size_t i = 0; i < rs->n; i++)
        if (!rs->r[i].repo && under(resolved, rs->r[i].path)) return &rs->r[i];
    return NULL;
}

/* Number of components of the path part p (no leading '/'). */
static size_t count_components(const char *p)
{
    size_t n = 0;
    for (const char *c = p; *c;) {
        while (*c == '/') c++;
        if (!*c) break;
        n++;
        while (*c && *c != '/') c++;
    }
    return n;
}

/* One step down: comp beneath dirfd, never through a symlink; created
 * first when missing and make (*made set). O_PATH fd or a negative code. */
static int step(int dirfd, const char *comp, bool make, bool *made)
{
    int fd = openat(dirfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && make) {
        if (mkdirat(dirfd, comp, 0777) == 0) *made = true;
        else if (errno != EEXIST) return bs__error_errno(errno, "creating the storage base path");
        fd = openat(dirfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
        if (errno == ENOENT)
            return bs__error_set(BS_ERR_DOES_NOT_EXIST, "storage base path does not exist");
        if (errno == ENOTDIR || errno == ELOOP)
            return bs__error_set(BS_ERR_PERMISSION,
                                 "path not allowed: a component is not a directory (or changed)");
        return bs__error_errno(errno, "opening the storage base path");
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) { /* O_PATH|O_NOFOLLOW on a symlink */
        close(fd);
        return bs__error_set(BS_ERR_PERMISSION,
                             "path not allowed: a component is not a directory (or changed)");
    }
    return fd;
}

/* Before create makes dirs directories in the shared account at quotafd:
 * each counts SERVE_QUOTA_MIN, and they must fit. 0 or BS_ERR_QUOTA. */
static int quota_room(int quotafd, const serve_opts *o, size_t dirs)
{
    bs_quota_lock q;
    int rc = bs__quota_lock(&q, quotafd, SERVE_QUOTA_MIN);
    if (rc) return rc;
    int64_t usage = q.usage;
    if ((rc = bs__quota_unlock(&q, quotafd, false, false))) return rc;
    if (usage + (int64_t)dirs * SERVE_QUOTA_MIN > (int64_t)o->quota)
        return bs__error_set(BS_ERR_QUOTA, "create: %zu directories would exceed the quota "
                             "(%lld of %llu bytes in use)", dirs, (long long)usage,
                             (unsigned long long)o->quota);
    return 0;
}

/* The permissions anchor below a --restrict-to-path root: each directory
 * directly below the root is one store, so a deeper store's names are
 * matched as "<rest of its path>/name". 0, or BS_ERR_PERMISSION for the
 * root itself (it would hold other stores under names no entry covers). */
static int anchor(serve_place *out, const serve_root *root, const char *resolved)
{
    const char *rel = resolved + (strcmp(root->path, "/") ? strlen(root->path) : 0);
    while (*rel == '/') rel++;
    if (!*rel)
        return bs__error_set(BS_ERR_PERMISSION, "path not allowed: with --permissions, the "
                             "stores are the directories directly below --restrict-to-path");
    const char *rest = strchr(rel, '/');
    snprintf(out->prefix, sizeof out->prefix, "%s", rest ? rest + 1 : "");
    return 0;
}

int serve_place_store(serve_place *out, const serve_opts *o, const char *path, bool make)
{
    memset(out, 0, sizeof *out);
    out->parentfd = out->quotafd = -1;
    int rc = serve_resolve(out->resolved, path);
    if (!rc) rc = serve_allowed(o, out->resolved);
    if (rc) return rc;
    const struct serve_roots *rs = o->roots;
    const serve_root *root = rs ? root_for(rs, out->resolved) : NULL;
    if (!root) return bs__error_set(BS_ERR_PERMISSION, "path not allowed: no root for it");
    if (rs->perm_map && !root->repo && (rc = anchor(out, root, out->resolved))) return rc;

    const char *rel = out->resolved + root->fd_len;
    while (*rel == '/') rel++;
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", rel);
    size_t n = count_components(buf);
    /* a shared quota account: the --restrict-to-path root, for stores below it */
    size_t k_root = root->repo || root->implicit ? SIZE_MAX : count_components(root->path + root->fd_len);
    if (n == 0) {
        out->parentfd = fcntl(root->fd, F_DUPFD_CLOEXEC, 0);
        if (out->parentfd < 0) return bs__error_errno(errno, "placing the store");
        return 0;
    }
    int cur = root->fd;
    size_t i = 0;
    char *save = NULL;
    bool checked = false, made = false;
    for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save), i++) {
        if (i == k_root && n > k_root && o->quota) {
            out->quotafd = fcntl(cur, F_DUPFD_CLOEXEC, 0);
            if (out->quotafd < 0) rc = bs__error_errno(errno, "placing the store");
        }
        struct stat st;
        if (!rc && make && out->quotafd >= 0 && !checked &&
            fstatat(cur, c, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
            checked = true; /* this one and every one below it are new */
            rc = quota_room(out->quotafd, o, n - i);
        }
        if (rc) break;
        if (i == n - 1) { /* the store itself: the backend opens or creates it */
            snprintf(out->leaf, sizeof out->leaf, "%s", c);
            out->parentfd = cur == root->fd ? fcntl(cur, F_DUPFD_CLOEXEC, 0) : cur;
            if (out->parentfd < 0) rc = bs__error_errno(errno, "placing the store");
            cur = -1;
            break;
        }
        int next = step(cur, c, make, &made);
        if (cur != root->fd) close(cur);
        if (next < 0) {
            rc = next;
            cur = -1;
            break;
        }
        cur = next;
    }
    if (cur >= 0 && cur != root->fd) close(cur);
    if (made && out->quotafd >= 0) (void)bs__quota_remove(out->quotafd); /* rescanned */
    if (rc) serve_place_release(out);
    return rc;
}

void serve_place_release(serve_place *pl)
{
    if (pl->parentfd >= 0) close(pl->parentfd);
    if (pl->quotafd >= 0) close(pl->quotafd);
    pl->parentfd = pl->quotafd = -1;
}
