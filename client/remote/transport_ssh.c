/* The ssh:// transport: a command (borgstore-serve) executed on an SSH
 * channel with libssh, driven non-blocking so that streaming both ways at
 * once never deadlocks. The session (config, known hosts, keys) comes from
 * common/ssh_session.c; the remote stderr is kept in a small ring for messages. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/ssh_session.h"
#include "client/transport.h"
#include "common/error.h"

#define STDERR_RING 4096
#define TAIL_MAX 1024
#define WRITE_CHUNK (256 * 1024)  /* at most this much per write call */
#define READ_CHUNK (1u << 30)
#define STDERR_DRAIN_EVERY 64     /* reads between stderr drains while data flows */
#define CLOSE_TIMEOUT 3           /* seconds for the goodbye in close */
#define EXIT_STATUS_WAIT_MS 500   /* how long a lost connection waits for the status */

typedef struct ssh_transport {
    bs_transport base;
    ssh_session session;
    ssh_channel channel;
    ssh_event event;
    unsigned reads;
    bool eof_sent;
    bool ended;        /* the connection is gone; end_msg says why */
    char end_msg[512];
    char label[300];
    char ring[STDERR_RING];
    size_t ring_pos; /* next byte goes here */
    size_t ring_len; /* bytes held, <= STDERR_RING */
    bool ring_wrapped;
    char tail[TAIL_MAX + 1];
} ssh_transport;

static void ring_put(ssh_transport *t, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        t->ring[t->ring_pos] = data[i];
        t->ring_pos = (t->ring_pos + 1) % STDERR_RING;
        if (t->ring_len < STDERR_RING)
            t->ring_len++;
        else
            t->ring_wrapped = true;
    }
}

/* Moves whatever the remote wrote to stderr into the ring (never blocks). */
static void drain_stderr(ssh_transport *t)
{
    char buf[1024];
    for (;;) {
        int n = ssh_channel_read_nonblocking(t->channel, buf, sizeof buf, 1);
        if (n <= 0) break;
        ring_put(t, buf, (size_t)n);
    }
}

/* The last TAIL_MAX bytes of stderr, starting at a line boundary when cut,
 * control characters replaced, trailing white space removed. */
static const char *build_tail(ssh_transport *t)
{
    size_t n = t->ring_len < TAIL_MAX ? t->ring_len : TAIL_MAX;
    size_t start = (t->ring_pos + STDERR_RING - n) % STDERR_RING;
    size_t k = 0;
    bool cut = n < t->ring_len || t->ring_wrapped;
    for (size_t i = 0; i < n; i++) {
        char c = t->ring[(start + i) % STDERR_RING];
        if (cut) {
            if (c == '\n') cut = false;
            continue;
        }
        if (c != '\n' && c != '\t' && ((unsigned char)c < 0x20 || c == 0x7f)) c = '?';
        t->tail[k++] = c;
    }
    while (k > 0 && (t->tail[k - 1] == '\n' || t->tail[k - 1] == ' ' || t->tail[k - 1] == '\t'))
        k--;
    t->tail[k] = '\0';
    return t->tail;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool session_broken(ssh_transport *t)
{
    return (ssh_get_status(t->session) & (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0;
}

/* Records the end of the connection: what libssh said, the remote exit
 * status when it arrives soon, and the end of stderr. Computed once; later
 * calls repeat the same message without waiting again. */
static int lost(ssh_transport *t, const char *detail)
{
    if (t->ended) return bs__error_set_raw(BS_ERR_CONNECTION, 0, t->end_msg);
    char why[256], status[200] = "", tail[300];
    snprintf(why, sizeof why, "%s", detail ? detail : "");
    int64_t deadline = now_ms() + EXIT_STATUS_WAIT_MS;
    int st = -1;
    while (!session_broken(t)) {
        drain_stderr(t);
        st = ssh_channel_get_exit_status(t->channel);
        if (st >= 0 || ssh_channel_is_closed(t->channel)) break;
        int64_t left = deadline - now_ms();
        if (left <= 0 || ssh_event_dopoll(t->event, (int)left) == SSH_ERROR) break;
    }
    if (st == 127) /* the shell's "command not found": the first contact's usual trouble */
        snprintf(status, sizeof status, " (remote exit status 127: command not found; install "
                                        "borgstore-serve on the server or set "
                                        "BORGSTORE_REMOTE_PATH to its path there)");
    else if (st >= 0)
        snprintf(status, sizeof status, " (remote exit status %d)", st);
    const char *full = build_tail(t);
    size_t len = strlen(full);
    snprintf(tail, sizeof tail, "%s%s", len >= sizeof tail ? "..." : "",
             len >= sizeof tail ? full + len - (sizeof tail - 4) : full);
    for (char *p = tail; *p; p++)
        if (*p == '\n' || *p == '\t') *p = ' ';
    int rc = bs__error_set(BS_ERR_CONNECTION, "ssh: connection to %s closed%s%s%s%s%s",
                           t->label, why[0] ? ": " : "", why, status,
                           tail[0] ? "; remote stderr: " : "", tail);
    snprintf(t->end_msg, sizeof t->end_msg, "%s", bs_error_message());
    t->ended = true;
    return rc;
}

static ssize_t sshtr_write(bs_transport *bt, const void *data, size_t len)
{
    ssh_transport *t = (ssh_transport *)bt;
    if (len == 0) return 0;
    if (!ssh_channel_is_open(t->channel) || session_broken(t)) return lost(t, NULL);
    if (t->eof_sent)
        return bs__error_set(BS_ERR_INVALID, "ssh: write after shutdown_write");
    /* Never more than the peer's window: then the write cannot block, and
     * libssh's output buffer stays bounded by the window. */
    uint32_t window = ssh_channel_window_size(t->channel);
    if (window == 0) return 0;
    size_t n = len < window ? len : window;
    if (n > WRITE_CHUNK) n = WRITE_CHUNK;
    int rc = ssh_channel_write(t->channel, data, (uint32_t)n);
    if (rc == SSH_ERROR) return lost(t, ssh_get_error(t->session));
    return rc < 0 ? 0 : rc;
}

static ssize_t sshtr_read(bs_transport *bt, void *buf, size_t cap)
{
    ssh_transport *t = (ssh_transport *)bt;
    if (cap == 0) return 0;
    uint32_t want = cap < READ_CHUNK ? (uint32_t)cap : READ_CHUNK;
    int n = ssh_channel_read_nonblocking(t->channel, buf, want, 0);
    if (n > 0) {
        if (++t->reads % STDERR_DRAIN_EVERY == 0) drain_stderr(t);
        return n;
    }
    drain_stderr(t);
    if ((n == 0 || n == SSH_AGAIN) && !ssh_channel_is_eof(t->channel) && !ssh_channel_is_closed(t->channel) &&
        !session_broken(t))
        return 0;
    return lost(t, n == SSH_ERROR ? ssh_get_error(t->session) : NULL);
}

static int sshtr_wait(bs_transport *bt, bool want_read, bool want_write, int timeout_ms)
{
    ssh_transport *t = (ssh_transport *)bt;
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : now_ms() + timeout_ms;
    for (;;) {
        drain_stderr(t);
        /* Ready also means "the next call reports the failure". */
        if (session_broken(t)) return 1;
        if (want_read && ssh_channel_poll(t->channel, 0) != 0) return 1;
        if (want_write &&
            (ssh_channel_window_size(t->channel) > 0 || !ssh_channel_is_open(t->channel)))
            return 1;
        int64_t left = deadline == INT64_MAX ? 1000 : deadline - now_ms();
        if (left <= 0) return 0;
        if (left > 1000) left = 1000;
        int rc = ssh_event_dopoll(t->event, (int)left);
        if (rc == SSH_ERROR && errno != EINTR && !session_broken(t))
            return bs__error_set(BS_ERR_CONNECTION, "ssh: waiting on %s failed: %s", t->label,
                                 ssh_get_error(t->session));
    }
}

static void sshtr_shutdown_write(bs_transport *bt)
{
    ssh_transport *t = (ssh_transport *)bt;
    if (t->eof_sent) return;
    t->eof_sent = true;
    if (ssh_channel_is_open(t->channel)) ssh_channel_send_eof(t->channel);
}

static const char *sshtr_stderr_tail(bs_transport *bt)
{
    ssh_transport *t = (ssh_transport *)bt;
    if (t->channel && !session_broken(t)) drain_stderr(t);
    return build_tail(t);
}

static void sshtr_close(bs_transport *bt)
{
    ssh_transport *t = (ssh_transport *)bt;
    if (!t) return;
    if (t->event) {
        ssh_event_remove_session(t->event, t->session);
        ssh_event_free(t->event);
    }
    if (t->channel) {
        /* A short, bounded goodbye: EOF and CLOSE flushed in blocking mode. */
        long timeout = CLOSE_TIMEOUT;
        ssh_options_set(t->session, SSH_OPTIONS_TIMEOUT, &timeout);
        ssh_set_blocking(t->session, 1);
        if (ssh_channel_is_open(t->channel) && !session_broken(t)) ssh_channel_close(t->channel);
        ssh_channel_free(t->channel);
    }
    bs__ssh_session_close(t->session);
    free(t);
}

static const bs_transport_ops ssh_transport_ops = {
    .write = sshtr_write,
    .read = sshtr_read,
    .wait = sshtr_wait,
    .shutdown_write = sshtr_shutdown_write,
    .stderr_tail = sshtr_stderr_tail,
    .close = sshtr_close,
};

int bs__transport_ssh(bs_transport **out, const char *user, const char *host, int port,
                      const char *ssh_config_file, const char *command)
{
    *out = NULL;
    if (!command || !*command) return bs__error_set(BS_ERR_INVALID, "ssh: no remote command");
    ssh_transport *t = calloc(1, sizeof *t);
    if (!t) return bs__error_set(BS_ERR_NOMEM, "ssh transport");
    t->base.ops = &ssh_transport_ops;
    int rc = bs__ssh_session_open(&t->session, user, host, port, ssh_config_file);
    if (rc < 0) {
        free(t);
        return rc;
    }
    bs__ssh_session_label(t->session, t->label, sizeof t->label);
    t->channel = ssh_channel_new(t->session);
    if (!t->channel) {
        rc = bs__error_set(BS_ERR_NOMEM, "ssh: cannot create a channel");
    } else if (ssh_channel_open_session(t->channel) != SSH_OK) {
        rc = bs__error_set(BS_ERR_CONNECTION, "ssh: cannot open a channel on %s: %s", t->label,
                           ssh_get_error(t->session));
    } else if (ssh_channel_request_exec(t->channel, command) != SSH_OK) {
        rc = bs__error_set(BS_ERR_CONNECTION, "ssh: %s refused to run '%s': %s", t->label,
                           command, ssh_get_error(t->session));
    } else if (!(t->event = ssh_event_new()) ||
               ssh_event_add_session(t->event, t->session) != SSH_OK) {
        rc = bs__error_set(BS_ERR_NOMEM, "ssh: cannot create an event loop");
    }
    if (rc < 0) {
        sshtr_close(&t->base);
        return rc;
    }
    ssh_set_blocking(t->session, 0);
    *out = &t->base;
    return 0;
}
