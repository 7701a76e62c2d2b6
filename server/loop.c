/* The connection loop of borgstore-serve: frames in on stdin, frames out on
 * stdout, both non-blocking under one ppoll. It reads ahead while replies
 * are being written and stops reading while too much output waits, so a
 * client that does not read cannot make the server buffer without bound.
 * SIGHUP/SIGTERM/SIGINT end it cleanly; SIGPIPE is ignored (EPIPE ends it). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/serve.h"

#define SERVE_PIPE_BYTES (1 << 20) /* the unprivileged maximum, /proc/sys/fs/pipe-max-size */

static volatile sig_atomic_t got_signal;

static void on_signal(int sig) { got_signal = sig; }

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void setup_signals(sigset_t *wait_mask)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: ppoll returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* blocked except inside ppoll, so a signal is never missed between the
     * flag check and the wait, and never interrupts a backend call */
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, wait_mask);
    sigdelset(wait_mask, SIGHUP);
    sigdelset(wait_mask, SIGTERM);
    sigdelset(wait_mask, SIGINT);
}

/* Printable rendering of bytes that should have been a preamble. */
static void show_bytes(char *out, size_t cap, const uint8_t *p, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, p[i] >= 0x20 && p[i] < 0x7f ? "%c" : "\\x%02x",
                              p[i]);
    out[o] = '\0';
}

/* Takes complete frames while output is not backed up. */
static int process(serve *s, bool *preamble_ok, size_t high_water)
{
    while (!s->fatal && bs__outq_pending(&s->out) < high_water) {
        if (!*preamble_ok) {
            if (bs__inbuf_len(&s->in) < BS_PROTO_PREAMBLE_LEN) return 0;
            unsigned v;
            const uint8_t *p = s->in.data + s->in.head;
            if (bs__preamble_check(p, &v)) {
                char shown[64];
                show_bytes(shown, sizeof shown, p, BS_PROTO_PREAMBLE_LEN);
                serve_log(s, BS_LOG_ERROR, "the peer is not a borgstore client (it sent \"%s\")",
                          shown);
                return SERVE_EXIT_PROTOCOL;
            }
            bs__inbuf_consume(&s->in, BS_PROTO_PREAMBLE_LEN);
            *preamble_ok = true;
            continue;
        }
        const uint8_t *f;
        size_t len;
        uint32_t max = s->hello_done ? s->opt->max_frame : BS_FRAME_MIN;
        int rc = bs__inbuf_next(&s->in, max, &f, &len);
        if (rc < 0) {
            char msg[BS_MESSAGE_MAX];
            snprintf(msg, sizeof msg, "bad frame: %s", bs_error_message());
            serve_log(s, BS_LOG_ERROR, "ending the connection: %s", msg);
            serve_reply_err(s, 0, BS_ERR_PROTOCOL, msg);
            s->fatal = true;
            return 0;
        }
        if (rc == 0) return 0;
        serve_frame(s, f, len);
        serve_inflight_settle(s);
    }
    return 0;
}

int serve_loop(serve *s)
{
    sigset_t wait_mask;
    setup_signals(&wait_mask);
    int fl0 = fcntl(0, F_GETFL), fl1 = fcntl(1, F_GETFL);
    if (fl0 < 0 || fl1 < 0) {
        serve_log(s, BS_LOG_ERROR, "stdin/stdout are not open");
        return SERVE_EXIT_IO;
    }
    fcntl(0, F_SETFL, fl0 | O_NONBLOCK);
    fcntl(1, F_SETFL, fl1 | O_NONBLOCK);
    /* sshd talks to us through pipes of 64 KiB, 0.2 ms of transfer: while
     * we hash or read the next chunk of a value it would sit idle. Larger
     * pipes let it work on the previous chunk meanwhile. Best effort: not a
     * pipe (serve:// uses a socketpair), or a lower system limit, is fine. */
    (void)fcntl(0, F_SETPIPE_SZ, SERVE_PIPE_BYTES);
    (void)fcntl(1, F_SETPIPE_SZ, SERVE_PIPE_BYTES);

    uint8_t pre[BS_PROTO_PREAMBLE_LEN];
    bs__preamble_put(pre);
    bs__buf_append(bs__outq_buf(&s->out), pre, sizeof pre);
    bs__outq_commit(&s->out);

    size_t high_water = 2 * (size_t)s->opt->max_frame;
    bool preamble_ok = false, eof = false;
    /* hup: the client closed its side while we were not reading (output
     * backed up). fd 0 then reports POLLHUP whatever we ask for, so it is
     * left out of the poll until we read again, and the drain clock runs. */
    bool hup = false;
    int64_t drain_since = -1; /* ending: when output last made progress */
    int64_t drain_ms = (int64_t)s->opt->drain_timeout * 1000;
    int code = SERVE_EXIT_OK;
    for (;;) {
        if (got_signal) {
            serve_log(s, BS_LOG_INFO, "got signal %d, ending", (int)got_signal);
            break;
        }
        int rc = process(s, &preamble_ok, high_water);
        if (rc) {
            code = rc;
            break;
        }
        if (s->fatal) code = SERVE_EXIT_PROTOCOL;
        size_t pending = bs__outq_pending(&s->out);
        if (pending) {
            struct iovec iov[64];
            int n = bs__outq_iov(&s->out, iov, 64);
            ssize_t w = writev(1, iov, n);
            if (w > 0) {
                bs__outq_consume(&s->out, (size_t)w);
                s->out_written += (uint64_t)w;
                pending = bs__outq_pending(&s->out);
                if (drain_since >= 0) drain_since = now_ms();
            } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                if (errno != EPIPE) {
                    serve_log(s, BS_LOG_ERROR, "writing to stdout: %s", strerror(errno));
                    code = SERVE_EXIT_IO;
                }
                break; /* the client went away */
            }
        }
        if ((s->fatal || eof) && !pending) {
            if (eof && !preamble_ok && bs__inbuf_len(&s->in)) {
                char shown[64];
                show_bytes(shown, sizeof shown, s->in.data + s->in.head, bs__inbuf_len(&s->in));
                serve_log(s, BS_LOG_ERROR, "the peer is not a borgstore client (it sent \"%s\")",
                          shown);
                code = SERVE_EXIT_PROTOCOL;
            } else if (eof && !s->fatal && (bs__inbuf_len(&s->in) || s->up.active))
                serve_log(s, BS_LOG_WARNING, "the client closed the connection inside a %s",
                          s->up.active ? "value upload" : "frame");
            break;
        }
        bool want_read = !eof && !s->fatal && pending < high_water;
        uint8_t *space = NULL;
        size_t cap = 0;
        uint32_t max = !preamble_ok ? 0 : s->hello_done ? s->opt->max_frame : BS_FRAME_MIN;
        if (want_read && bs__inbuf_space(&s->in, max, &space, &cap)) {
            char msg[BS_MESSAGE_MAX];
            snprintf(msg, sizeof msg, "bad frame: %s", bs_error_message());
            serve_log(s, BS_LOG_ERROR, "ending the connection: %s", msg);
            serve_reply_err(s, 0, BS_ERR_PROTOCOL, msg);
            s->fatal = true;
            continue;
        }
        if (!cap) want_read = false;
        if (!want_read && !pending) continue; /* frames wait in the buffer */
        bool ending = s->fatal || eof || hup;
        struct timespec drain, *limit = NULL;
        if (ending && pending) { /* output must move within --drain-timeout */
            int64_t now = now_ms();
            if (drain_since < 0) drain_since = now;
            int64_t left = drain_since + drain_ms - now;
            if (left <= 0) {
                serve_log(s, BS_LOG_WARNING, "the client closed the connection and stopped "
                          "reading; dropping %zu bytes of replies after %d s", pending,
                          s->opt->drain_timeout);
                if (!s->fatal) code = SERVE_EXIT_DRAIN;
                break;
            }
            drain.tv_sec = (time_t)(left / 1000);
            drain.tv_nsec = (long)(left % 1000) * 1000000L;
            limit = &drain;
        }
        /* while not reading, fd 0 is polled (for nothing but a hang-up)
         * only until it hangs up */
        struct pollfd fds[2] = {{.fd = want_read || (!eof && !hup) ? 0 : -1,
                                 .events = want_read ? POLLIN : POLLRDHUP},
                                {.fd = 1, .events = pending ? POLLOUT : 0}};
        rc = ppoll(fds, 2, limit, &wait_mask);
        if (rc < 0) {
            if (errno == EINTR) continue;
            serve_log(s, BS_LOG_ERROR, "poll: %s", strerror(errno));
            code = SERVE_EXIT_IO;
            break;
        }
        if (rc == 0) continue; /* the drain clock decides above */
        if ((fds[1].revents & (POLLERR | POLLHUP)) && !(fds[1].revents & POLLOUT)) break;
        if (!want_read && (fds[0].revents & (POLLHUP | POLLERR | POLLRDHUP))) hup = true;
        if (want_read && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t r = read(0, space, cap);
            if (r > 0) {
                bs__inbuf_wrote(&s->in, (size_t)r);
            } else if (r == 0) {
                eof = true;
            } else if (errno != EAGAIN && errno != EINTR) {
                if (errno != ECONNRESET)
                    serve_log(s, BS_LOG_ERROR, "reading stdin: %s", strerror(errno));
                eof = true;
            }
        }
    }
    fcntl(0, F_SETFL, fl0);
    fcntl(1, F_SETFL, fl1);
    return code;
}
