/* The spawn transport: runs a command (borgstore-serve for serve://, or
 * BORGSTORE_RSH's ssh) with a socketpair as its stdin and stdout and a pipe
 * as its stderr. A socketpair rather than two pipes so that writes can use
 * MSG_NOSIGNAL (a library must not touch the process's SIGPIPE handling);
 * the child sees an ordinary bidirectional byte stream. stderr is drained
 * whenever we touch the transport and its last lines kept for messages. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/transport.h"
#include "common/error.h"

#define RING 4096
#define TAIL_LINES 10
#define TAIL_MAX 1024
#define CLOSE_WAIT_MS 3000  /* for the child to exit after EOF */
#define TERM_WAIT_MS 1000   /* after SIGTERM */
#define SOCKET_BUFFER (1024 * 1024)

typedef struct spawn_transport {
    bs_transport base;
    pid_t pid;
    int fd;    /* our end of the socketpair */
    int errfd; /* child's stderr, -1 once at EOF */
    int status; /* wait status once reaped, else -1 */
    char name[64];
    char ring[RING]; /* last stderr bytes, oldest first */
    size_t ring_len;
    char tail[TAIL_MAX + 1];
} spawn_transport;

static spawn_transport *S(bs_transport *t) { return (spawn_transport *)t; }

static void drain_stderr(spawn_transport *t)
{
    char buf[4096];
    while (t->errfd >= 0) {
        ssize_t n = read(t->errfd, buf, sizeof buf);
        if (n > 0) {
            size_t k = (size_t)n;
            if (k >= RING) {
                memcpy(t->ring, buf + k - RING, RING);
                t->ring_len = RING;
            } else {
                if (t->ring_len + k > RING) {
                    size_t drop = t->ring_len + k - RING;
                    memmove(t->ring, t->ring + drop, t->ring_len - drop);
                    t->ring_len -= drop;
                }
                memcpy(t->ring + t->ring_len, buf, k);
                t->ring_len += k;
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        close(t->errfd); /* EOF or error */
        t->errfd = -1;
    }
}

static const char *spawn_stderr_tail(bs_transport *bt)
{
    spawn_transport *t = S(bt);
    drain_stderr(t);
    size_t start = t->ring_len, lines = 0;
    while (start > 0 && t->ring_len - start < TAIL_MAX) {
        if (t->ring[start - 1] == '\n' && start != t->ring_len && ++lines >= TAIL_LINES) break;
        start--;
    }
    size_t n = t->ring_len - start;
    while (n && (t->ring[start + n - 1] == '\n' || t->ring[start + n - 1] == '\r')) n--;
    size_t o = 0;
    for (size_t i = 0; i < n && o < TAIL_MAX; i++) {
        unsigned char c = (unsigned char)t->ring[start + i];
        t->tail[o++] = c == '\n' ? '|' : (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    t->tail[o] = '\0';
    return t->tail;
}

static void reap(spawn_transport *t, bool block)
{
    if (t->status >= 0 || t->pid <= 0) return;
    int st;
    if (waitpid(t->pid, &st, block ? 0 : WNOHANG) == t->pid) t->status = st;
}

static int64_t now_ms(void);

static int lost(spawn_transport *t, const char *what)
{
    /* the child is usually exiting: give it a moment so the message can
     * carry its exit status and last words */
    int64_t end = now_ms() + 200;
    while (reap(t, false), t->status < 0 && now_ms() < end) {
        struct pollfd pf = {.fd = t->errfd, .events = POLLIN};
        if (t->errfd >= 0 ? poll(&pf, 1, 10) > 0 : poll(NULL, 0, 10) >= 0) drain_stderr(t);
    }
    drain_stderr(t);
    char st[64] = "";
    if (t->status >= 0) {
        if (WIFEXITED(t->status))
            snprintf(st, sizeof st, " (exit status %d)", WEXITSTATUS(t->status));
        else if (WIFSIGNALED(t->status))
            snprintf(st, sizeof st, " (killed by signal %d)", WTERMSIG(t->status));
    }
    const char *tail = spawn_stderr_tail(&t->base);
    return bs__error_set(BS_ERR_CONNECTION, "%s %s%s%s%s", t->name, what, st,
                         *tail ? ": " : "", tail);
}

static ssize_t spawn_write(bs_transport *bt, const void *data, size_t len)
{
    spawn_transport *t = S(bt);
    ssize_t n = send(t->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) return n;
    if (errno == EAGAIN || errno == EINTR) return 0;
    return lost(t, errno == EPIPE || errno == ECONNRESET ? "closed the connection"
                                                         : "connection failed");
}

static ssize_t spawn_read(bs_transport *bt, void *buf, size_t cap)
{
    spawn_transport *t = S(bt);
    ssize_t n = recv(t->fd, buf, cap, MSG_DONTWAIT);
    if (n > 0) return n;
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (t->errfd >= 0) drain_stderr(t);
        return 0;
    }
    return lost(t, n == 0 || errno == ECONNRESET ? "closed the connection" : "connection failed");
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int spawn_wait(bs_transport *bt, bool want_read, bool want_write, int timeout_ms)
{
    spawn_transport *t = S(bt);
    int64_t end = timeout_ms < 0 ? INT64_MAX : now_ms() + timeout_ms;
    for (;;) {
        struct pollfd pf[2] = {
            {.fd = t->fd, .events = (short)((want_read ? POLLIN : 0) | (want_write ? POLLOUT : 0))},
            {.fd = t->errfd, .events = POLLIN},
        };
        int64_t left = end == INT64_MAX ? -1 : end - now_ms();
        if (left < 0 && end != INT64_MAX) left = 0;
        int rc = poll(pf, t->errfd >= 0 ? 2 : 1, left > INT_MAX ? INT_MAX : (int)left);
        if (rc < 0) {
            if (errno == EINTR) continue;
            return bs__error_errno(errno, "poll");
        }
        if (rc == 0) return 0;
        if (t->errfd >= 0 && pf[1].revents) drain_stderr(t);
        if (pf[0].revents) return 1;
        if (end != INT64_MAX && now_ms() >= end) return 0;
    }
}

static void spawn_shutdown_write(bs_transport *bt) { shutdown(S(bt)->fd, SHUT_WR); }

/* Waits up to ms for the child to exit, draining its output. */
static bool wait_exit(spawn_transport *t, int ms)
{
    int64_t end = now_ms() + ms;
    char junk[4096];
    for (;;) {
        reap(t, false);
        if (t->status >= 0) return true;
        int64_t left = end - now_ms();
        if (left <= 0) return false;
        struct pollfd pf[2] = {{.fd = t->fd, .events = POLLIN}, {.fd = t->errfd, .events = POLLIN}};
        int n = t->errfd >= 0 ? 2 : 1;
        if (t->fd < 0) pf[0].fd = -1;
        /* the child's exit shows as EOF on its output; poll at most 50 ms
         * at a time in case it exits without closing inherited copies */
        if (poll(pf, (nfds_t)n, left < 50 ? (int)left : 50) > 0) {
            if (pf[0].revents && t->fd >= 0 && recv(t->fd, junk, sizeof junk, MSG_DONTWAIT) == 0) {
                close(t->fd);
                t->fd = -1;
            }
            if (n == 2 && pf[1].revents) drain_stderr(t);
        }
    }
}

static void spawn_close(bs_transport *bt)
{
    spawn_transport *t = S(bt);
    if (t->fd >= 0) shutdown(t->fd, SHUT_WR);
    if (!wait_exit(t, CLOSE_WAIT_MS)) {
        kill(t->pid, SIGTERM);
        if (!wait_exit(t, TERM_WAIT_MS)) {
            kill(t->pid, SIGKILL);
            reap(t, true);
        }
    }
    if (t->fd >= 0) close(t->fd);
    if (t->errfd >= 0) close(t->errfd);
    free(t);
}

static const bs_transport_ops spawn_ops = {
    .write = spawn_write,
    .read = spawn_read,
    .wait = spawn_wait,
    .shutdown_write = spawn_shutdown_write,
    .stderr_tail = spawn_stderr_tail,
    .close = spawn_close,
};

/* argv[0] looked up in PATH (unless it holds a '/'), into out. */
static int find_program(char *out, size_t cap, const char *prog)
{
    if (strchr(prog, '/')) {
        if (access(prog, X_OK) != 0)
            return bs__error_set(BS_ERR_CONNECTION, "cannot run %s: %s", prog, strerror(errno));
        snprintf(out, cap, "%s", prog);
        return 0;
    }
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path;;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        int n = snprintf(out, cap, "%.*s%s%s", (int)len, p, len ? "/" : "", prog);
        struct stat st;
        if (n > 0 && (size_t)n < cap && stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
            access(out, X_OK) == 0)
            return 0;
        if (!colon) break;
        p = colon + 1;
    }
    return bs__error_set(BS_ERR_CONNECTION,
                         "cannot run %s: not found in PATH (set BORGSTORE_REMOTE_PATH)", prog);
}

int bs__transport_spawn(bs_transport **out, char *const argv[])
{
    *out = NULL;
    if (!argv || !argv[0] || !*argv[0])
        return bs__error_set(BS_ERR_INVALID, "no command to run");
    char prog[PATH_MAX];
    int rc = find_program(prog, sizeof prog, argv[0]);
    if (rc) return rc;
    spawn_transport *t = calloc(1, sizeof *t);
    if (!t) return bs__error_set(BS_ERR_NOMEM, NULL);
    t->base.ops = &spawn_ops;
    t->status = -1;
    const char *base = strrchr(argv[0], '/');
    snprintf(t->name, sizeof t->name, "%s", base ? base + 1 : argv[0]);
    int sv[2], ev[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        free(t);
        return bs__error_errno(errno, "socketpair");
    }
    if (pipe2(ev, O_CLOEXEC) != 0) {
        rc = bs__error_errno(errno, "pipe");
        close(sv[0]);
        close(sv[1]);
        free(t);
        return rc;
    }
    pid_t pid = fork();
    if (pid < 0) {
        rc = bs__error_errno(errno, "fork");
        close(sv[0]);
        close(sv[1]);
        close(ev[0]);
        close(ev[1]);
        free(t);
        return rc;
    }
    if (pid == 0) { /* child: only async-signal-safe calls from here on */
        dup2(sv[1], 0);
        dup2(sv[1], 1);
        dup2(ev[1], 2);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGINT, SIG_IGN); /* Ctrl-C is for the client, which shuts down cleanly */
        signal(SIGPIPE, SIG_DFL);
        execv(prog, argv);
        static const char msg[] = "cannot execute the remote command\n";
        if (write(2, msg, sizeof msg - 1) < 0) _exit(127);
        _exit(127);
    }
    close(sv[1]);
    close(ev[1]);
    t->pid = pid;
    t->fd = sv[0];
    /* larger socket buffers: fewer wake-ups while large values stream */
    int sz = SOCKET_BUFFER;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    t->errfd = ev[0];
    fcntl(t->errfd, F_SETFL, fcntl(t->errfd, F_GETFL) | O_NONBLOCK);
    *out = &t->base;
    return 0;
}
