/* Path restrictions of borgstore-serve: a client path is resolved once
 * (symlinks followed for the part that exists, nothing allowed to exist past
 * it) and must then lie inside a --restrict-to-path prefix (separator
 * terminated, so /srv/a does not admit /srv/a2) and equal a
 * --restrict-to-repository when those are given. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/serve.h"

#define MAX_COMPONENTS 256

static int not_allowed(const char *why)
{
    return bs__error_set(BS_ERR_PERMISSION, "path not allowed: %s", why);
}

int serve_resolve(char *out, const char *path)
{
    if (!path || !*path) return bs__error_set(BS_ERR_INVALID, "empty path");
    char full[PATH_MAX];
    if (path[0] == '/') {
        if (strlen(path) >= sizeof full) return bs__error_set(BS_ERR_INVALID, "path too long");
        strcpy(full, path);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd)) return bs__error_errno(errno, "working directory");
        int n = snprintf(full, sizeof full, "%s/%s", cwd, path);
        if (n < 0 || (size_t)n >= sizeof full) return bs__error_set(BS_ERR_INVALID, "path too long");
    }
    /* components, refusing . and .. outright (no lexical games) */
    char *comp[MAX_COMPONENTS];
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(full, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (!strcmp(t, ".") || !strcmp(t, "..")) return not_allowed("'.' and '..' are refused");
        if (n == MAX_COMPONENTS) return bs__error_set(BS_ERR_INVALID, "path too deep");
        comp[n++] = t;
    }
    /* longest prefix that exists, canonicalized */
    char prefix[PATH_MAX], real[PATH_MAX];
    size_t k = n;
    for (;;) {
        size_t len = 0;
        prefix[0] = '/';
        prefix[1] = '\0';
        for (size_t i = 0; i < k; i++) {
            int w = snprintf(prefix + len, sizeof prefix - len, "/%s", comp[i]);
            if (w < 0 || (size_t)w >= sizeof prefix - len)
                return bs__error_set(BS_ERR_INVALID, "path too long");
            len += (size_t)w;
        }
        if (realpath(prefix, real)) break;
        if (errno != ENOENT || k == 0) return not_allowed("it cannot be resolved");
        k--;
    }
    size_t len = strlen(real);
    for (size_t i = k; i < n; i++) {
        if (i == k) { /* realpath said ENOENT: must not exist even as a symlink */
            char probe[PATH_MAX];
            struct stat st;
            int w = snprintf(probe, sizeof probe, "%s/%s", strcmp(real, "/") ? real : "",
                             comp[i]);
            if (w < 0 || (size_t)w >= sizeof probe)
                return bs__error_set(BS_ERR_INVALID, "path too long");
            if (lstat(probe, &st) == 0) return not_allowed("it contains a dangling symlink");
        }
        int w = snprintf(real + len, PATH_MAX - len, "%s%s", len == 1 ? "" : "/", comp[i]);
        if (w < 0 || (size_t)w >= PATH_MAX - len)
            return bs__error_set(BS_ERR_INVALID, "path too long");
        len += (size_t)w;
    }
    memcpy(out, real, len + 1);
    return 0;
}

/* Whether path lies in or at dir (both resolved). */
static bool under(const char *path, const char *dir)
{
    size_t d = strlen(dir);
    if (d == 1 && dir[0] == '/') return true;
    return strncmp(path, dir, d) == 0 && (path[d] == '\0' || path[d] == '/');
}

int serve_allowed(const serve_opts *o, const char *resolved)
{
    if (o->n_restrict_paths) {
        bool ok = false;
        for (size_t i = 0; i < o->n_restrict_paths && !ok; i++)
            ok = under(resolved, o->restrict_paths[i]);
        if (!ok) return not_allowed("outside --restrict-to-path");
    }
    if (o->n_restrict_repos) {
        bool ok = false;
        for (size_t i = 0; i < o->n_restrict_repos && !ok; i++)
            ok = strcmp(resolved, o->restrict_repos[i]) == 0;
        if (!ok) return not_allowed("not the --restrict-to-repository");
    }
    return 0;
}
