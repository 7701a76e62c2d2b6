/* borgstore destroy: removes a store only when it looks like one, and asks
 * first on a terminal. Python borgstore writes no marker file, so a store is
 * recognised by its layout: namespace directories, nesting directories of
 * two hex digits holding keys that start with them, items with valid names,
 * soft-deleted ".del" items, our own temp files and quota.hid at the root.
 * Every backend is checked through its listing (which shows valid names
 * only); a store on this machine (file://, serve://) is also read directly,
 * which sees every entry (symlinks, names borgstore cannot write). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/cli.h"
#include "common/error.h"
#include "common/url.h"
#include "common/names.h"
#include "common/url.h"

/* Directory listings a scan makes at most: a store whose first this many
 * directories are store-shaped is taken as one (a level-2 store precreated
 * has 65,536 directories; listing them all over ssh would take minutes). */
#define SCAN_LISTS_MAX 4096

typedef struct scan {
    size_t lists;
    char why[BS_NAME_BUF * 3]; /* first thing found that a store does not hold */
} scan;

static bool is_hex2(const char *n)
{
    return strlen(n) == 2 && isxdigit((unsigned char)n[0]) && isxdigit((unsigned char)n[1]) &&
           !isupper((unsigned char)n[0]) && !isupper((unsigned char)n[1]);
}

static int foreign(scan *sc, const char *dir, const char *name, const char *what)
{
    snprintf(sc->why, sizeof sc->why, "%s%s%s %s", dir, *dir ? "/" : "", name, what);
    return 1;
}

/* Checks one entry's place in the layout. dir is its parent ("" the root),
 * nest the hex digits of the nesting directories above it ("" when not in
 * one). 0 when it fits, 1 (with sc->why) when not. */
static int check_entry(scan *sc, const char *dir, const char *nest, int depth, const char *name,
                       bool directory)
{
    if (depth == 0 && !directory)
        return foreign(sc, dir, name, "is a file at the top level (a store keeps items in "
                                      "namespace directories)");
    if (directory && depth + 1 > CLI_STORE_DEPTH_MAX)
        return foreign(sc, dir, name, "is nested deeper than a store's directories");
    if (*nest && directory && !is_hex2(name))
        return foreign(sc, dir, name, "is inside a nesting directory but is not one");
    if (*nest && !directory && strncmp(name, nest, strlen(nest)) != 0)
        return foreign(sc, dir, name, "does not start with its nesting directories' digits");
    return 0;
}

/* ---- through the backend listing ------------------------------------------ */

static int scan_backend(scan *sc, bs_backend *b, const char *dir, const char *nest, int depth)
{
    if (++sc->lists > SCAN_LISTS_MAX) return 0;
    bs_list_iter *it;
    int rc = bs_backend_list_begin(b, dir, &it);
    if (rc) return rc == BS_ERR_NOT_FOUND && depth == 0 ? 0 : rc;
    bs_item_info e;
    while ((rc = bs_backend_list_next(it, &e)) == 1) {
        if ((rc = check_entry(sc, dir, nest, depth, e.name, e.directory))) break;
        if (!e.directory) continue;
        char sub[2 * BS_NAME_BUF], subnest[2 * BS_STORE_LEVEL_MAX + 1] = "";
        snprintf(sub, sizeof sub, "%s%s%s", dir, *dir ? "/" : "", e.name);
        if (strlen(sub) >= BS_NAME_BUF)
            rc = foreign(sc, dir, e.name, "is nested deeper than a store's directories");
        if (rc) break;
        bool nesting = depth > 0 && is_hex2(e.name) && strlen(nest) < 2 * BS_STORE_LEVEL_MAX;
        if (nesting) {
            size_t nl = strlen(nest);
            memcpy(subnest, nest, nl);
            memcpy(subnest + nl, e.name, 3);
        }
        if ((rc = scan_backend(sc, b, sub, subnest, depth + 1))) break;
    }
    bs_backend_list_end(it);
    return rc;
}

/* ---- a store on this machine: every entry ----------------------------------- */

bool cli_is_store_temp(const char *n)
{
    size_t len = strlen(n), tail = 1 + 16 + strlen(BS_TMP_SUFFIX);
    if (len <= tail || !bs__ends_with(n, BS_TMP_SUFFIX) || n[len - tail] != '.') return false;
    for (size_t i = len - tail + 1; i < len - strlen(BS_TMP_SUFFIX); i++)
        if (!isxdigit((unsigned char)n[i]) || isupper((unsigned char)n[i])) return false;
    char stem[BS_NAME_BUF];
    if (len - tail >= sizeof stem) return false;
    memcpy(stem, n, len - tail);
    stem[len - tail] = '\0';
    return bs__name_is_valid(stem);
}

static int scan_local(scan *sc, int dfd, const char *dir, int depth)
{
    if (++sc->lists > SCAN_LISTS_MAX) return 0;
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return bs__error_errno(errno, "reading %s", *dir ? dir : "the store directory");
    }
    int rc = 0;
    struct dirent *de;
    while (!rc && (errno = 0, de = readdir(d))) {
        const char *n = de->d_name;
        if (!strcmp(n, ".") || !strcmp(n, "..")) continue;
        struct stat st;
        if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT) continue;
            rc = bs__error_errno(errno, "reading %s", n);
            break;
        }
        bool ours = bs__name_is_valid(n) || cli_is_store_temp(n) ||
                    (depth == 0 && !strcmp(n, "quota.hid"));
        if (!ours) rc = foreign(sc, dir, n, "is not a name borgstore writes");
        else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
            rc = foreign(sc, dir, n, "is neither a file nor a directory");
        if (rc || !S_ISDIR(st.st_mode)) continue;
        if (depth + 1 > CLI_STORE_DEPTH_MAX) {
            rc = foreign(sc, dir, n, "is nested deeper than a store's directories");
            break;
        }
        int sub = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
            rc = bs__error_errno(errno, "reading %s", n);
            break;
        }
        char subdir[PATH_MAX];
        if (snprintf(subdir, sizeof subdir, "%s%s%s", dir, *dir ? "/" : "", n) >=
            (int)sizeof subdir) {
            close(sub);
            rc = foreign(sc, dir, n, "is nested deeper than a store's directories");
            break;
        }
        rc = scan_local(sc, sub, subdir, depth + 1);
    }
    if (!rc && errno) rc = bs__error_errno(errno, "reading %s", *dir ? dir : "the store directory");
    closedir(d);
    return rc;
}

char *cli_local_path(const char *url)
{
    bs_url u;
    if (bs__url_parse(&u, url)) return NULL;
    char *path = NULL;
    if ((!strcmp(u.scheme, "file") || !strcmp(u.scheme, "serve")) && u.path)
        path = strdup(u.path);
    bs__url_clear(&u);
    return path;
}

int cli_store_shape(bs_store *s, const char *url, char *why, size_t why_cap)
{
    scan sc = {0};
    int rc = 0;
    char *path = cli_local_path(url);
    if (path) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) rc = scan_local(&sc, fd, "", 0);
        free(path);
        if (rc) goto out;
        sc.lists = 0;
    }
    bs_backend *b = bs_store_backend(s);
    if ((rc = bs_backend_open(b))) {
        /* a missing store is destroy's own error to report */
        return rc == BS_ERR_DOES_NOT_EXIST ? 0 : rc;
    }
    rc = scan_backend(&sc, b, "", "", 0);
    int rc2 = bs_backend_close(b);
    if (rc == 0) rc = rc2;
out:
    if (rc == 1) snprintf(why, why_cap, "%s", sc.why);
    return rc;
}

/* Asks on the terminal; true when the answer is "y" or "yes". */
static bool confirm(const char *url)
{
    fprintf(stderr, "borgstore: destroy %s and everything in it? [y/N] ", url);
    fflush(stderr);
    char line[64];
    if (!fgets(line, sizeof line, stdin)) {
        fputc('\n', stderr);
        return false;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return !strcasecmp(line, "y") || !strcasecmp(line, "yes");
}

int cli_cmd_destroy(bs_store *s, const cli_opts *o)
{
    char why[BS_NAME_BUF * 3];
    int rc = cli_store_shape(s, o->url, why, sizeof why);
    if (rc == 1) {
        fprintf(stderr, "borgstore: not a store, refusing to destroy %s: %s\n", o->url, why);
        return CLI_NOT_A_STORE;
    }
    if (rc) return cli_fail(rc);
    if (!o->yes && isatty(STDIN_FILENO)) {
        if (!confirm(o->url)) {
            fputs("borgstore: destroy cancelled\n", stderr);
            return CLI_CANCELLED;
        }
    }
    if ((rc = bs_store_destroy(s))) return cli_fail(rc);
    char shown[1024]; /* no credentials (s3:KEY:SECRET@, http://user:pass@) */
    bs__url_redacted(shown, sizeof shown, o->url);
    cli_verbose(o, "destroyed %s", shown);
    return CLI_OK;
}
