/* Local output files of the borgstore CLI (get FILE, get-many, export),
 * written atomically: into "FILE.XXXXXX.tmp" next to FILE, renamed over it
 * when complete, so an interrupted command never leaves FILE half written.
 * The temp files being written are registered for the SIGINT/SIGTERM/SIGHUP
 * handler, which removes them before the process dies of the signal. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/cli.h"

/* Temp files the handler removes: a slot is in use when its path is set.
 * Written with the signals blocked, so the handler never sees half a path. */
#define OUT_SLOTS 8
static char slots[OUT_SLOTS][PATH_MAX];

static void on_signal(int sig)
{
    for (int i = 0; i < OUT_SLOTS; i++)
        if (slots[i][0]) unlink(slots[i]);
    /* die of the signal, so the parent sees why (exit status 128 + sig) */
    signal(sig, SIG_DFL);
    raise(sig);
}

static const int handled[] = {SIGINT, SIGTERM, SIGHUP};

void cli_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++)
        sigaddset(&sa.sa_mask, handled[i]);
    for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++)
        sigaction(handled[i], &sa, NULL);
}

static void block(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++)
        sigaddset(&set, handled[i]);
    sigprocmask(SIG_BLOCK, &set, old);
}

static void unregister(cli_out *out)
{
    if (out->slot < 0) return;
    sigset_t old;
    block(&old);
    slots[out->slot][0] = '\0';
    sigprocmask(SIG_SETMASK, &old, NULL);
    out->slot = -1;
}

void cli_make_parents(char *path, size_t from)
{
    for (char *p = path + from; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        mkdir(path, 0777);
        *p = '/';
    }
}

/* Creates the temp file for out->path (registered before the signals are
 * let through again). 0 or -1 with errno. */
static int create_temp(cli_out *out)
{
    if (snprintf(out->tmp, sizeof out->tmp, "%s.XXXXXX.tmp", out->path) >=
        (int)sizeof out->tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    sigset_t old;
    block(&old);
    int slot = -1;
    for (int i = 0; i < OUT_SLOTS && slot < 0; i++)
        if (!slots[i][0]) slot = i;
    int fd = -1;
    if (slot < 0) {
        errno = EMFILE;
    } else if ((fd = mkstemps(out->tmp, 4)) >= 0) {
        memcpy(slots[slot], out->tmp, strlen(out->tmp) + 1);
        out->slot = slot;
    }
    int e = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return fd;
}

int cli_out_open(cli_out *out, const char *path, size_t parents_from)
{
    memset(out, 0, sizeof *out);
    out->fd = -1;
    out->slot = -1;
    if (strlen(path) >= sizeof out->path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(out->path, path, strlen(path) + 1);
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        /* /dev/null, a fifo, a terminal: write into it, never replace it */
        out->fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        out->direct = true;
        return out->fd < 0 ? -1 : 0;
    }
    /* an existing file keeps its permission bits, a new one gets 0666 - umask */
    if (stat(path, &st) == 0) {
        out->mode = st.st_mode & 07777;
    } else {
        mode_t um = umask(0);
        umask(um);
        out->mode = 0666 & ~um;
    }
    out->fd = create_temp(out);
    if (out->fd < 0 && errno == ENOENT && parents_from) {
        cli_make_parents(out->path, parents_from);
        out->fd = create_temp(out);
    }
    return out->fd < 0 ? -1 : 0;
}

int cli_out_commit(cli_out *out, const char **what)
{
    int r = 0, e = 0;
    *what = "write";
    if (!out->direct && fchmod(out->fd, out->mode)) {
        r = -1;
        e = errno;
    }
    if (close(out->fd) && !r) {
        r = -1;
        e = errno;
    }
    out->fd = -1;
    if (!r && !out->direct && rename(out->tmp, out->path)) {
        *what = "replace";
        r = -1;
        e = errno;
    }
    if (r && !out->direct) unlink(out->tmp);
    unregister(out);
    errno = e;
    return r;
}

void cli_out_abort(cli_out *out)
{
    if (out->fd >= 0) close(out->fd);
    out->fd = -1;
    if (!out->direct && out->slot >= 0) unlink(out->tmp);
    unregister(out);
}
