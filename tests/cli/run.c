/* Spawning the borgstore binary for the CLI tests (see run.h). */
#include "run.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

const char *bs_cli_path(void)
{
    static char path[4096];
    if (!path[0]) snprintf(path, sizeof path, "%s", bs_test_build_path("borgstore"));
    return path;
}

typedef struct sink {
    char *data;
    size_t len, cap;
} sink;

static void sink_add(sink *s, const char *p, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        while (s->len + n + 1 > s->cap) s->cap = s->cap ? s->cap * 2 : 4096;
        s->data = realloc(s->data, s->cap);
        cr_assert_not_null(s->data);
    }
    memcpy(s->data + s->len, p, n);
    s->len += n;
    s->data[s->len] = '\0';
}

static void nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

void run_argv(run_result *r, const void *in, size_t in_len, bool stderr_tty,
              const char *const argv[])
{
    memset(r, 0, sizeof *r);
    int pin[2], pout[2], perr[2];
    cr_assert_eq(pipe2(pin, O_CLOEXEC), 0);
    cr_assert_eq(pipe2(pout, O_CLOEXEC), 0);
    int err_slave = -1;
    if (stderr_tty) {
        int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        cr_assert_geq(m, 0);
        cr_assert_eq(grantpt(m), 0);
        cr_assert_eq(unlockpt(m), 0);
        err_slave = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
        cr_assert_geq(err_slave, 0);
        perr[0] = m;
        perr[1] = err_slave;
    } else {
        cr_assert_eq(pipe2(perr, O_CLOEXEC), 0);
    }
    signal(SIGPIPE, SIG_IGN);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(pin[0], 0);
        dup2(pout[1], 1);
        dup2(perr[1], 2);
        signal(SIGPIPE, SIG_DFL);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(pin[0]);
    close(pout[1]);
    close(perr[1]);
    nonblock(pin[1]);
    nonblock(pout[0]);
    nonblock(perr[0]);
    int in_fd = pin[1];
    size_t in_off = 0;
    if (in_len == 0) {
        close(in_fd);
        in_fd = -1;
    }
    sink out = {0}, err = {0};
    int open_outputs = 2;
    char buf[65536];
    while (open_outputs > 0 || in_fd >= 0) {
        struct pollfd fds[3] = {{pout[0], POLLIN, 0}, {perr[0], POLLIN, 0}, {in_fd, POLLOUT, 0}};
        int rc = poll(fds, 3, 30000);
        cr_assert_gt(rc, 0, "borgstore did not finish within 30 s");
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                sink_add(i ? &err : &out, buf, (size_t)n);
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                /* EOF (pipe) or EIO (pty after the child closed it) */
                close(fds[i].fd);
                if (i == 0) pout[0] = -1;
                else perr[0] = -1;
                open_outputs--;
            }
        }
        if (in_fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t n = write(in_fd, (const char *)in + in_off, in_len - in_off);
            if (n > 0) in_off += (size_t)n;
            if ((n < 0 && errno != EAGAIN && errno != EINTR) || in_off == in_len) {
                close(in_fd);
                in_fd = -1;
            }
        }
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r->out = out.data ? out.data : strdup("");
    r->out_len = out.len;
    r->err = err.data ? err.data : strdup("");
    r->err_len = err.len;
}

void run_free(run_result *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

void run_pty(run_result *r, const char *answer, const char *const argv[])
{
    memset(r, 0, sizeof *r);
    int pout[2];
    cr_assert_eq(pipe2(pout, O_CLOEXEC), 0);
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    cr_assert_geq(m, 0);
    cr_assert_eq(grantpt(m), 0);
    cr_assert_eq(unlockpt(m), 0);
    int slave = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
    cr_assert_geq(slave, 0);
    /* typed before the program reads: the line discipline keeps it */
    if (answer) cr_assert_eq(write(m, answer, strlen(answer)), (ssize_t)strlen(answer));
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(slave, 0);
        dup2(pout[1], 1);
        dup2(slave, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(pout[1]);
    close(slave);
    nonblock(pout[0]);
    nonblock(m);
    sink out = {0}, err = {0};
    int fds_open[2] = {pout[0], m};
    int open_outputs = 2;
    char buf[65536];
    while (open_outputs > 0) {
        struct pollfd fds[2] = {{fds_open[0], POLLIN, 0}, {fds_open[1], POLLIN, 0}};
        int rc = poll(fds, 2, 30000);
        cr_assert_gt(rc, 0, "borgstore did not finish within 30 s");
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                sink_add(i ? &err : &out, buf, (size_t)n);
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                close(fds[i].fd);
                fds_open[i] = -1;
                open_outputs--;
            }
        }
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r->out = out.data ? out.data : strdup("");
    r->out_len = out.len;
    r->err = err.data ? err.data : strdup("");
    r->err_len = err.len;
}
