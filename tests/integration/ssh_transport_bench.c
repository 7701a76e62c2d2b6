/* Measures the ssh:// transport against the OpenSSH client in one run:
 * 1 KiB echo round trips through `cat` and 64 MiB streamed both ways at once
 * (plus each direction alone). Not a test; run under with-sshd.sh:
 *   tests/integration/with-sshd.sh build/tests/integration/ssh_transport_bench [N] [MiB] */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "borgstore/errors.h"
#include "client/transport.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench: %s: %s\n", what, bs_error_message());
    exit(1);
}

/* One byte pipe: either our transport or an `ssh` child on pipes. */
typedef struct conn {
    bs_transport *t;
    pid_t pid;
    int in, out; /* child's stdin (we write), stdout (we read) */
} conn;

static conn open_transport(const char *cmd)
{
    conn p = {.in = -1, .out = -1};
    if (bs__transport_ssh(&p.t, NULL, getenv("BS_SSHD_ALIAS"), 0, NULL, cmd) < 0) die("connect");
    return p;
}

static conn open_openssh(const char *cmd)
{
    conn p = {.in = -1, .out = -1};
    int a[2], b[2];
    if (pipe(a) || pipe(b)) exit(1);
    p.pid = fork();
    if (p.pid == 0) {
        dup2(a[0], 0);
        dup2(b[1], 1);
        close(a[1]);
        close(b[0]);
        execlp("ssh", "ssh", "-F", getenv("BORGSTORE_SSH_CONFIG"), "-o", "BatchMode=yes",
               getenv("BS_SSHD_ALIAS"), cmd, (char *)NULL);
        _exit(127);
    }
    close(a[0]);
    close(b[1]);
    p.in = a[1];
    p.out = b[0];
    fcntl(p.in, F_SETFL, O_NONBLOCK);
    fcntl(p.out, F_SETFL, O_NONBLOCK);
    return p;
}

static ssize_t p_write(conn *p, const void *d, size_t n)
{
    if (p->t) return p->t->ops->write(p->t, d, n);
    ssize_t w = write(p->in, d, n);
    return w < 0 && errno == EAGAIN ? 0 : w;
}

static ssize_t p_read(conn *p, void *d, size_t n)
{
    if (p->t) return p->t->ops->read(p->t, d, n);
    ssize_t r = read(p->out, d, n);
    if (r == 0) return -1;
    return r < 0 && errno == EAGAIN ? 0 : r;
}

static void p_wait(conn *p, bool rd, bool wr)
{
    if (p->t) {
        if (p->t->ops->wait(p->t, rd, wr, 30000) != 1) die("wait");
        return;
    }
    struct pollfd f[2] = {{p->out, rd ? POLLIN : 0, 0}, {p->in, wr ? POLLOUT : 0, 0}};
    poll(f, wr && p->in >= 0 ? 2 : 1, 30000);
}

static void p_eof(conn *p)
{
    if (p->t)
        p->t->ops->shutdown_write(p->t);
    else if (p->in >= 0) {
        close(p->in);
        p->in = -1;
    }
}

static void p_close(conn *p)
{
    if (p->t) {
        p->t->ops->close(p->t);
        return;
    }
    if (p->in >= 0) close(p->in);
    close(p->out);
    waitpid(p->pid, NULL, 0);
}

static void xfer(conn *p, const uint8_t *out, size_t olen, uint8_t *in, size_t ilen)
{
    size_t w = 0, r = 0;
    while (w < olen || r < ilen) {
        bool progress = false;
        if (w < olen) {
            ssize_t n = p_write(p, out + w, olen - w);
            if (n < 0) die("write");
            w += (size_t)n;
            progress |= n > 0;
        }
        if (r < ilen) {
            ssize_t n = p_read(p, in + r, ilen - r);
            if (n < 0) die("read");
            r += (size_t)n;
            progress |= n > 0;
        }
        if (!progress) p_wait(p, r < ilen, w < olen);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void echo_bench(const char *name, conn p, int n)
{
    uint8_t out[1024], in[1024];
    double *t = malloc(sizeof(double) * (size_t)n);
    memset(out, 0x5a, sizeof out);
    xfer(&p, out, sizeof out, in, sizeof in); /* warm up */
    for (int i = 0; i < n; i++) {
        out[i % 1024] ^= 1;
        double t0 = now();
        xfer(&p, out, sizeof out, in, sizeof in);
        t[i] = now() - t0;
        if (memcmp(in, out, sizeof out)) die("echo mismatch");
    }
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    double sum = 0;
    for (int i = 0; i < n; i++) sum += t[i];
    printf("%-9s echo 1KiB x%d: median %.0f us, mean %.0f us, p99 %.0f us\n", name, n,
           t[n / 2] * 1e6, sum / n * 1e6, t[n * 99 / 100] * 1e6);
    free(t);
    p_close(&p);
}

/* Streams len bytes out and/or in; prints MiB/s. */
static void stream_bench(const char *name, const char *what, conn p, size_t out_len,
                         size_t in_len)
{
    enum { CHUNK = 1 << 20 };
    uint8_t *chunk = malloc(CHUNK), *rbuf = malloc(CHUNK);
    for (size_t i = 0; i < CHUNK; i++) chunk[i] = (uint8_t)(i * 131 + 7);
    size_t w = 0, r = 0;
    bool eof = false;
    double t0 = now();
    while (r < in_len || w < out_len) {
        bool progress = false;
        if (w < out_len) {
            size_t want = out_len - w < CHUNK - w % CHUNK ? out_len - w : CHUNK - w % CHUNK;
            ssize_t n = p_write(&p, chunk + w % CHUNK, want);
            if (n < 0) die("write");
            w += (size_t)n;
            progress |= n > 0;
        } else if (!eof) {
            p_eof(&p);
            eof = true;
        }
        if (r < in_len) {
            size_t want = in_len - r < CHUNK ? in_len - r : CHUNK;
            ssize_t n = p_read(&p, rbuf, want);
            if (n < 0) die("read");
            r += (size_t)n;
            progress |= n > 0;
        }
        if (!progress) p_wait(&p, r < in_len, w < out_len);
    }
    if (!eof) p_eof(&p);
    /* Until the remote command has consumed everything and exited. */
    for (;;) {
        ssize_t k = p_read(&p, rbuf, CHUNK);
        if (k < 0) break;
        if (k == 0) p_wait(&p, true, false);
    }
    double dt = now() - t0;
    size_t mib = (out_len > in_len ? out_len : in_len) >> 20;
    printf("%-9s %-22s %4zu MiB in %.2f s = %6.1f MiB/s%s\n", name, what, mib, dt, mib / dt,
           out_len && in_len ? " each way" : "");
    free(chunk);
    free(rbuf);
    p_close(&p);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    size_t len = (size_t)(argc > 2 ? atoi(argv[2]) : 64) << 20;
    char down[64];
    snprintf(down, sizeof down, "head -c %zu /dev/zero", len);
    signal(SIGPIPE, SIG_IGN);
    if (!getenv("BS_SSHD_ALIAS")) {
        fprintf(stderr, "run under tests/integration/with-sshd.sh\n");
        return 2;
    }
    for (int round = 0; round < 2; round++) {
        echo_bench("transport", open_transport("cat"), n);
        echo_bench("openssh", open_openssh("cat"), n);
        stream_bench("transport", "both ways through cat", open_transport("cat"), len, len);
        stream_bench("openssh", "both ways through cat", open_openssh("cat"), len, len);
        stream_bench("transport", "upload to /dev/null", open_transport("cat >/dev/null"), len,
                     0);
        stream_bench("openssh", "upload to /dev/null", open_openssh("cat >/dev/null"), len, 0);
        stream_bench("transport", "download", open_transport(down), 0, len);
        stream_bench("openssh", "download", open_openssh(down), 0, len);
    }
    return 0;
}
