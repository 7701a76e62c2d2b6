/* Test harness for borgstore-serve (see harness.h). */
#include "harness.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/helpers/testutil.h"

char srv_last_error[1024];
unsigned srv_hello_features = BS_FEAT_ALL;

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

void srv_start(srv *s, const char *const *args, const char *cwd, bool limit_as)
{
    memset(s, 0, sizeof *s);
    s->status = -1;
    s->next_id = 1;
    int in[2], out[2], err[2];
    cr_assert_eq(pipe(in), 0);
    cr_assert_eq(pipe(out), 0);
    cr_assert_eq(pipe(err), 0);
    const char *exe = strdup(bs_test_build_path("borgstore-serve"));
    const char *argv[32] = {exe};
    int n = 1;
    for (int i = 0; args && args[i] && n < 31; i++) argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        for (int fd = 3; fd < 64; fd++) close(fd);
        if (cwd && chdir(cwd) != 0) _exit(120);
#ifndef UNDER_ASAN
        if (limit_as) {
            struct rlimit rl = {512ull << 20, 512ull << 20};
            setrlimit(RLIMIT_AS, &rl);
        }
#else
        (void)limit_as;
#endif
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    s->pid = pid;
    s->to = in[1];
    s->from = out[0];
    s->err = err[0];
    fcntl(s->err, F_SETFL, O_NONBLOCK);
    signal(SIGPIPE, SIG_IGN);
    free((void *)exe);
}

bool srv_send_raw(srv *s, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        struct pollfd pf = {.fd = s->to, .events = POLLOUT};
        int rc = poll(&pf, 1, 5000);
        cr_assert_gt(rc, 0, "server did not read its input within 5 s");
        ssize_t w = write(s->to, b, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return false;
        b += w;
        n -= (size_t)w;
    }
    return true;
}

int srv_recv(srv *s, bs__env *env, int timeout_ms)
{
    for (;;) {
        const uint8_t *f;
        size_t len;
        int rc = bs__inbuf_next(&s->in, BS_FRAME_CEIL, &f, &len);
        cr_assert_geq(rc, 0, "server sent a bad frame length");
        if (rc == 1) {
            cr_assert_eq(bs__env_decode(f, len, env), 0, "server sent a malformed frame: %s",
                         bs_error_message());
            return 1;
        }
        uint8_t *space;
        size_t cap;
        cr_assert_eq(bs__inbuf_space(&s->in, BS_FRAME_CEIL, &space, &cap), 0);
        struct pollfd pf = {.fd = s->from, .events = POLLIN};
        int prc = poll(&pf, 1, timeout_ms);
        if (prc == 0) return -1;
        ssize_t r = read(s->from, space, cap);
        if (r <= 0) return 0;
        bs__inbuf_wrote(&s->in, (size_t)r);
    }
}

/* Next frame that is not a LOG frame. */
static int recv_skip_logs(srv *s, bs__env *env)
{
    int rc;
    while ((rc = srv_recv(s, env, 5000)) == 1 && env->kind == BS_KIND_LOG) {
    }
    return rc;
}

void srv_handshake(srv *s)
{
    uint8_t pre[BS_PROTO_PREAMBLE_LEN];
    bs__preamble_put(pre);
    cr_assert(srv_send_raw(s, pre, sizeof pre));
    bs__req r = {.method = BS_M_HELLO};
    r.hello.versions = 1u << BS_PROTO_VERSION;
    strcpy(r.hello.impl, "test harness");
    r.hello.features = srv_hello_features;
    r.hello.max_frame = BS_FRAME_DEFAULT;
    r.hello.max_value = BS_VALUE_DEFAULT;
    r.hello.log_level = BS_LOG_CRITICAL;
    /* the server's preamble comes first */
    while (bs__inbuf_len(&s->in) < BS_PROTO_PREAMBLE_LEN) {
        uint8_t *space;
        size_t cap;
        cr_assert_eq(bs__inbuf_space(&s->in, 0, &space, &cap), 0);
        struct pollfd pf = {.fd = s->from, .events = POLLIN};
        cr_assert_gt(poll(&pf, 1, 5000), 0, "no preamble from the server");
        ssize_t n = read(s->from, space, BS_PROTO_PREAMBLE_LEN - bs__inbuf_len(&s->in));
        cr_assert_gt(n, 0, "server closed before its preamble");
        bs__inbuf_wrote(&s->in, (size_t)n);
    }
    unsigned v;
    cr_assert_eq(bs__preamble_check(s->in.data + s->in.head, &v), 0);
    bs__inbuf_consume(&s->in, BS_PROTO_PREAMBLE_LEN);
    bs__result res;
    cr_assert_eq(srv_call(s, &r, &res), 0, "hello: %s", srv_last_error);
    s->hello = res.hello;
    cr_assert_eq(s->hello.version, BS_PROTO_VERSION);
}

uint32_t srv_send(srv *s, bs__req *r)
{
    bs_buf b = {0};
    size_t tail;
    r->id = s->next_id++;
    bool inl = r->has_data && r->data_len <= bs__inline_max(BS_FRAME_MIN);
    cr_assert_eq(bs__enc_req(&b, r, BS_FRAME_CEIL, inl, &tail), 0, "%s", bs_error_message());
    cr_assert(srv_send_raw(s, b.data, b.len));
    if (tail) cr_assert(srv_send_raw(s, r->data, tail));
    bs__buf_free(&b);
    return r->id;
}

static int reply(srv *s, uint32_t id, uint32_t method, bs__result *res)
{
    bs__env env;
    int rc = recv_skip_logs(s, &env);
    cr_assert_eq(rc, 1, "no reply from the server (%s)", rc ? "timeout" : "EOF");
    cr_assert_eq(env.id, id, "reply for %u, expected %u", env.id, id);
    if (env.kind == BS_KIND_ERR) {
        snprintf(srv_last_error, sizeof srv_last_error, "%.*s", (int)env.text_len, env.text);
        return bs_error_from_wire(env.code);
    }
    cr_assert_eq(env.kind, BS_KIND_OK);
    cr_assert_eq(bs__result_decode(res, method, env.body, env.body_len), 0, "%s",
                 bs_error_message());
    srv_last_error[0] = '\0';
    return 0;
}

int srv_call(srv *s, bs__req *r, bs__result *res)
{
    uint32_t id = srv_send(s, r);
    return reply(s, id, r->method, res);
}

int srv_open(srv *s, const char *method, const char *path)
{
    bs__req r = {.path = path};
    r.method = !strcmp(method, "create") ? BS_M_CREATE : !strcmp(method, "open") ? BS_M_OPEN
                                                                                 : BS_M_DESTROY;
    bs__result res;
    return srv_call(s, &r, &res);
}

int srv_simple(srv *s, uint32_t method, const char *name)
{
    bs__req r = {.method = method, .name = name};
    bs__result res;
    return srv_call(s, &r, &res);
}

int srv_store(srv *s, const char *name, const void *data, size_t len)
{
    uint8_t h[BS_VALUE_HASH_LEN];
    bs__value_hash(h, data, len);
    bs__req r = {.method = BS_M_STORE, .name = name, .size = (int64_t)len, .hash = h,
                 .data = data, .data_len = len, .has_data = true};
    bs__result res;
    return srv_call(s, &r, &res);
}

int srv_store_chunked(srv *s, const char *name, const void *data, size_t len, size_t chunk)
{
    uint8_t h[BS_VALUE_HASH_LEN];
    bs__value_hash(h, data, len);
    return srv_store_chunked_hash(s, name, data, len, chunk, h);
}

int srv_store_chunked_hash(srv *s, const char *name, const void *data, size_t len, size_t chunk,
                           const uint8_t hash[BS_VALUE_HASH_LEN])
{
    bs__req r = {.method = BS_M_STORE, .name = name, .size = (int64_t)len};
    uint32_t id = srv_send(s, &r);
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        bool last = off + n == len;
        bs_buf b = {0};
        cr_assert_eq(last ? bs__enc_data_last(&b, id, n, BS_FRAME_CEIL)
                          : bs__enc_data(&b, id, n, BS_FRAME_CEIL), 0);
        uint8_t trailer[BS_DATA_TRAILER_LEN];
        bs__data_trailer(trailer, hash);
        bool ok = srv_send_raw(s, b.data, b.len) && srv_send_raw(s, (const uint8_t *)data + off, n) &&
                  (!last || srv_send_raw(s, trailer, sizeof trailer));
        bs__buf_free(&b);
        if (!ok) break;
    }
    bs__result res;
    return reply(s, id, BS_M_STORE, &res);
}

int srv_load(srv *s, const char *name, int64_t off, int64_t size, uint8_t **out, size_t *len)
{
    bs__req r = {.method = BS_M_LOAD, .name = name, .offset = off, .size = size};
    bs__result res;
    *out = NULL;
    *len = 0;
    int rc = srv_call(s, &r, &res);
    if (rc) return rc;
    uint8_t hash[BS_VALUE_HASH_LEN];
    /* inline: the hash in the result; DATA frames: in the last one */
    cr_assert_eq(res.has_data, res.hash != NULL, "the hash travels with an inline value only");
    if (res.hash) memcpy(hash, res.hash, sizeof hash);
    uint64_t total = res.value_size;
    uint8_t *buf = malloc(total ? total : 1);
    size_t got = 0;
    if (res.has_data) {
        cr_assert_eq(res.data_len, total);
        memcpy(buf, res.data, total);
        got = total;
    }
    while (got < total) {
        bs__env env;
        cr_assert_eq(recv_skip_logs(s, &env), 1);
        cr_assert_eq(env.kind, BS_KIND_DATA);
        cr_assert_eq(env.id, r.id);
        cr_assert_leq(env.data_len, total - got);
        memcpy(buf + got, env.data, env.data_len);
        got += env.data_len;
        cr_assert_eq(env.hash != NULL, got == total, "only the last DATA frame has the hash");
        if (env.hash) memcpy(hash, env.hash, sizeof hash);
    }
    uint8_t check[BS_VALUE_HASH_LEN];
    bs__value_hash(check, buf, total);
    cr_assert_eq(memcmp(check, hash, sizeof hash), 0, "load hash matches the bytes");
    *out = buf;
    *len = total;
    return 0;
}

int srv_wait(srv *s, int timeout_ms)
{
    if (s->status >= 0) return s->status;
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int st;
        pid_t p = waitpid(s->pid, &st, WNOHANG);
        if (p == s->pid) {
            s->status = st;
            return st;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms > timeout_ms) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &st, 0);
            s->status = st;
            return -1;
        }
        /* drain its output so it never blocks on a full pipe while exiting */
        struct pollfd pf[2] = {{.fd = s->from, .events = POLLIN}, {.fd = s->err, .events = POLLIN}};
        if (poll(pf, 2, 20) > 0) {
            char junk[65536];
            if (pf[0].revents & POLLIN) {
                uint8_t *space;
                size_t cap;
                if (!bs__inbuf_space(&s->in, 0, &space, &cap) && cap) {
                    ssize_t r = read(s->from, space, cap);
                    if (r > 0) bs__inbuf_wrote(&s->in, (size_t)r);
                } else if (read(s->from, junk, sizeof junk) < 0) {
                }
            }
            if (pf[0].revents & POLLHUP && !(pf[0].revents & POLLIN)) pf[0].fd = -1;
        }
    }
}

int srv_stop(srv *s)
{
    if (s->to >= 0) close(s->to);
    s->to = -1;
    int st = srv_wait(s, 5000);
    close(s->from);
    close(s->err);
    bs__inbuf_free(&s->in);
    if (st < 0) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

size_t srv_stderr(srv *s, char *buf, size_t cap)
{
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = read(s->err, buf + n, cap - 1 - n)) > 0) n += (size_t)r;
    buf[n] = '\0';
    return n;
}

int srv_reply(srv *s, uint32_t id, uint32_t method, bs__result *res)
{
    return reply(s, id, method, res);
}
