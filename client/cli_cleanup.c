/* borgstore cleanup: removes the temp files ("<name>.<16 hex>.tmp") that an
 * interrupted store leaves inside a store. No listing shows them (backends
 * skip *.tmp), so cleanup reads the directory itself: it works on stores on
 * this machine (file://, serve://). Only temp files not modified for
 * --min-age seconds (default one hour) are removed, so a store still being
 * written by another process keeps its temp file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client/cli.h"

#define DEFAULT_MIN_AGE 3600

typedef struct sweep {
    const cli_opts *o;
    time_t cutoff; /* remove temp files modified before this */
    uint64_t removed, bytes, kept;
    int status;
} sweep;

static void sweep_dir(sweep *sw, int dfd, const char *dir, int depth)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        fprintf(stderr, "borgstore: cannot read %s: %s\n", dir, strerror(errno));
        sw->status = CLI_STORE_ERROR;
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        if (!strcmp(n, ".") || !strcmp(n, "..")) continue;
        struct stat st;
        if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, n);
        if (S_ISDIR(st.st_mode) && depth < CLI_STORE_DEPTH_MAX) {
            int sub = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) sweep_dir(sw, sub, path, depth + 1);
            continue;
        }
        if (!S_ISREG(st.st_mode) || !cli_is_store_temp(n)) continue;
        if (st.st_mtime >= sw->cutoff) {
            sw->kept++;
            continue;
        }
        if (unlinkat(dirfd(d), n, 0) < 0) {
            fprintf(stderr, "borgstore: cannot remove %s: %s\n", path, strerror(errno));
            sw->status = CLI_STORE_ERROR;
            continue;
        }
        sw->removed++;
        sw->bytes += (uint64_t)st.st_size;
        cli_verbose(sw->o, "removed %s (%llu bytes)", path, (unsigned long long)st.st_size);
    }
    closedir(d);
}

int cli_cmd_cleanup(bs_store *s, const cli_opts *o)
{
    (void)s;
    char *path = cli_local_path(o->url);
    if (!path) {
        fprintf(stderr, "borgstore: cleanup reads the store's directory itself, so it works "
                        "on stores on this machine (file://, serve://); for %s, run it on "
                        "the machine that holds the store\n", o->url);
        return CLI_STORE_ERROR;
    }
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        free(path);
        if (e == ENOENT || e == ENOTDIR) {
            fprintf(stderr, "borgstore: store does not exist: %s\n", o->url);
            return CLI_NO_STORE;
        }
        fprintf(stderr, "borgstore: cannot read %s: %s\n", o->url, strerror(e));
        return e == EACCES ? CLI_PERMISSION : CLI_STORE_ERROR;
    }
    sweep sw = {.o = o, .status = CLI_OK};
    int64_t min_age = o->min_age >= 0 ? o->min_age : DEFAULT_MIN_AGE;
    sw.cutoff = time(NULL) - (time_t)min_age;
    sweep_dir(&sw, fd, path, 0);
    free(path);
    if (o->json) {
        printf("{\"removed\": %llu, \"bytes\": %llu, \"kept\": %llu}\n",
               (unsigned long long)sw.removed, (unsigned long long)sw.bytes,
               (unsigned long long)sw.kept);
    } else {
        printf("removed %llu temp file%s (%llu bytes)\n", (unsigned long long)sw.removed,
               sw.removed == 1 ? "" : "s", (unsigned long long)sw.bytes);
        if (sw.kept)
            printf("kept %llu temp file%s modified in the last %lld s (a store in "
                   "progress?); --min-age 0 removes them too\n",
                   (unsigned long long)sw.kept, sw.kept == 1 ? "" : "s", (long long)min_age);
    }
    return sw.status;
}
