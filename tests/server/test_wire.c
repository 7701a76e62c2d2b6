/* The wire rules docs/protocol.md states, each pinned against the real
 * borgstore-serve over pipes: the drain bound when the client closes its
 * side without reading, ids and the in-flight window, load ranges at the
 * int64 edges, and the documented outcome of each malformed shape. */
#include <criterion/criterion.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "proto/mp.h"
#include "tests/helpers/testutil.h"

static char *dir;
static char store[4096];

static void setup(void)
{
    dir = bs_test_tmpdir();
    snprintf(store, sizeof store, "%s/store", dir);
}

static void teardown(void)
{
    bs_test_rmtree(dir);
    free(dir);
}

TestSuite(wire, .init = setup, .fini = teardown, .timeout = 90);

static void start_open_args(srv *s, const char *const *args)
{
    srv_start(s, args, dir, false);
    srv_handshake(s);
    cr_assert_eq(srv_open(s, "create", store), 0, "%s", srv_last_error);
    cr_assert_eq(srv_open(s, "open", store), 0, "%s", srv_last_error);
}

static void start_open(srv *s) { start_open_args(s, NULL); }

/* Next frame other than LOG (1), or 0 on EOF / -1 on timeout. */
static int next(srv *s, bs__env *env)
{
    int rc;
    while ((rc = srv_recv(s, env, 5000)) == 1 && env->kind == BS_KIND_LOG) {
    }
    return rc;
}

/* ---- 10: the drain bound ------------------------------------------------ */

/* Waits up to timeout_ms for the server to exit without reading its output
 * (srv_wait reads it): the wait status, or -1 (then it is killed). */
static int wait_unread(srv *s, int timeout_ms)
{
    int pfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
    cr_assert_geq(pfd, 0, "pidfd_open");
    struct pollfd pf = {.fd = pfd, .events = POLLIN};
    int ready = poll(&pf, 1, timeout_ms);
    close(pfd);
    int st;
    if (ready != 1) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &st, 0);
        s->status = st;
        return -1;
    }
    cr_assert_eq(waitpid(s->pid, &st, 0), s->pid);
    s->status = st;
    return st;
}

/* A 1 MiB value, then n loads of it sent without reading a reply: far more
 * output than the pipes and the server's high-water mark hold. */
static void back_up_output(srv *s, int n)
{
    size_t len = 1024 * 1024;
    uint8_t *val = malloc(len);
    bs_test_fill(val, len, 3);
    cr_assert_eq(srv_store_chunked(s, "big", val, len, 500000), 0, "%s", srv_last_error);
    free(val);
    for (int i = 0; i < n; i++) {
        bs__req r = {.method = BS_M_LOAD, .name = "big", .size = BS_SIZE_ALL};
        srv_send(s, &r);
    }
}

Test(wire, closing_stdin_with_output_backed_up_ends_after_the_drain_timeout)
{
    /* before: POLLHUP on stdin and EAGAIN on stdout, forever, at 100% CPU */
    srv s;
    static const char *const args[] = {"--drain-timeout", "1", NULL};
    start_open_args(&s, args);
    back_up_output(&s, 16);
    close(s.to);
    s.to = -1;
    int st = wait_unread(&s, 60000); /* generous: the bound is 1 s without progress */
    cr_assert_neq(st, -1, "the server did not exit after its client closed and stopped reading");
    cr_assert(WIFEXITED(st), "died of signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    char err[4096];
    srv_stderr(&s, err, sizeof err);
    cr_assert_eq(WEXITSTATUS(st), 8, "the drain exit code, not %d: %s", WEXITSTATUS(st), err);
    cr_assert(strstr(err, "stopped reading"), "%s", err);
    srv_stop(&s);
}

Test(wire, a_client_that_closes_stdin_and_reads_on_gets_every_reply)
{
    srv s;
    start_open(&s);
    back_up_output(&s, 16);
    close(s.to);
    s.to = -1;
    for (int i = 0; i < 16; i++) {
        bs__env env;
        cr_assert_eq(next(&s, &env), 1, "reply %d", i);
        cr_assert_eq(env.kind, BS_KIND_OK, "reply %d", i);
        bs__result res;
        cr_assert_eq(bs__result_decode(&res, BS_M_LOAD, env.body, env.body_len), 0);
        for (uint64_t got = 0; got < res.value_size; got += env.data_len) {
            cr_assert_eq(next(&s, &env), 1);
            cr_assert_eq(env.kind, BS_KIND_DATA);
        }
    }
    cr_assert_eq(srv_stop(&s), 0);
}

Test(wire, drain_timeout_is_checked_at_startup)
{
    srv s;
    static const char *const args[] = {"--drain-timeout", "0", NULL};
    srv_start(&s, args, dir, false);
    int st = srv_wait(&s, 10000);
    cr_assert(WIFEXITED(st));
    cr_assert_eq(WEXITSTATUS(st), 3);
    srv_stop(&s);
}

/* ---- 11: ids and the in-flight window ------------------------------------ */

/* Sends r with the given id (0 and repeats included). */
static void send_id(srv *s, bs__req *r, uint32_t id)
{
    bs_buf b = {0};
    size_t tail;
    r->id = id;
    cr_assert_eq(bs__enc_req(&b, r, BS_FRAME_CEIL, false, &tail), 0, "%s", bs_error_message());
    cr_assert(srv_send_raw(s, b.data, b.len));
    bs__buf_free(&b);
}

/* The server's preamble, consumed from s->in. */
static void take_preamble(srv *s)
{
    while (bs__inbuf_len(&s->in) < BS_PROTO_PREAMBLE_LEN) {
        uint8_t *space;
        size_t cap;
        cr_assert_eq(bs__inbuf_space(&s->in, 0, &space, &cap), 0);
        struct pollfd pf = {.fd = s->from, .events = POLLIN};
        cr_assert_gt(poll(&pf, 1, 5000), 0, "no preamble from the server");
        ssize_t n = read(s->from, space, BS_PROTO_PREAMBLE_LEN - bs__inbuf_len(&s->in));
        cr_assert_gt(n, 0);
        bs__inbuf_wrote(&s->in, (size_t)n);
    }
    bs__inbuf_consume(&s->in, BS_PROTO_PREAMBLE_LEN);
}

/* Reads to EOF: the first ERR's code and id (-1 when none came), counting
 * the OK replies before it. */
static int first_error(srv *s, uint32_t *id, int *oks, char *text, size_t cap)
{
    bs__env env;
    int code = -1;
    *oks = 0;
    while (next(s, &env) == 1) {
        if (env.kind == BS_KIND_OK && code == -1) (*oks)++;
        if (env.kind == BS_KIND_ERR && code == -1) {
            code = bs_error_from_wire(env.code);
            *id = env.id;
            snprintf(text, cap, "%.*s", (int)env.text_len, env.text);
        }
    }
    return code;
}

/* Two 1 MiB loads nobody reads yet: the pipe fills and what follows stays
 * queued in the server, in flight. */
static void fill_pipe(srv *s)
{
    back_up_output(s, 2);
}

Test(wire, request_id_0_is_a_framing_error)
{
    srv s;
    start_open(&s);
    bs__req p = {.method = BS_M_PING};
    send_id(&s, &p, 0);
    uint32_t id = 99;
    int oks;
    char text[1024];
    cr_assert_eq(first_error(&s, &id, &oks, text, sizeof text), BS_ERR_PROTOCOL);
    cr_assert_eq(id, 0);
    cr_assert(strstr(text, "id 0"), "%s", text);
    cr_assert_eq(srv_stop(&s), 5, "the connection ends with the protocol exit code");
}

Test(wire, hello_with_id_0_is_a_framing_error)
{
    srv s;
    srv_start(&s, NULL, dir, false);
    uint8_t pre[BS_PROTO_PREAMBLE_LEN];
    bs__preamble_put(pre);
    cr_assert(srv_send_raw(&s, pre, sizeof pre));
    bs__req h = {.method = BS_M_HELLO};
    h.hello.versions = 1u << BS_PROTO_VERSION;
    h.hello.max_frame = BS_FRAME_DEFAULT;
    send_id(&s, &h, 0);
    take_preamble(&s);
    uint32_t id = 99;
    int oks;
    char text[1024];
    cr_assert_eq(first_error(&s, &id, &oks, text, sizeof text), BS_ERR_PROTOCOL);
    cr_assert_eq(oks, 0, "no hello answer");
    cr_assert_eq(srv_stop(&s), 5);
}

Test(wire, an_id_still_in_flight_cannot_be_reused)
{
    srv s;
    start_open(&s);
    fill_pipe(&s);
    bs__req p = {.method = BS_M_PING};
    send_id(&s, &p, 1000);
    send_id(&s, &p, 1000);
    uint32_t id = 0;
    int oks;
    char text[1024];
    cr_assert_eq(first_error(&s, &id, &oks, text, sizeof text), BS_ERR_PROTOCOL);
    cr_assert_eq(id, 1000);
    cr_assert(strstr(text, "still in flight"), "%s", text);
    cr_assert_eq(oks, 2 + 1, "the loads and the first ping are answered");
    cr_assert_eq(srv_stop(&s), 5);
}

Test(wire, an_id_may_be_reused_once_answered)
{
    srv s;
    start_open(&s);
    for (int i = 0; i < 3; i++) {
        bs__req p = {.method = BS_M_PING};
        send_id(&s, &p, 7);
        bs__env env;
        cr_assert_eq(next(&s, &env), 1);
        cr_assert_eq(env.kind, BS_KIND_OK);
        cr_assert_eq(env.id, 7);
    }
    cr_assert_eq(srv_stop(&s), 0);
}

Test(wire, max_inflight_is_enforced)
{
    srv s;
    static const char *const args[] = {"--max-inflight", "8", NULL};
    start_open_args(&s, args);
    cr_assert_eq(s.hello.max_inflight, 8);
    fill_pipe(&s);
    for (uint32_t i = 0; i < 40; i++) {
        bs__req p = {.method = BS_M_PING};
        send_id(&s, &p, 5000 + i);
    }
    uint32_t id = 0;
    int oks;
    char text[1024];
    cr_assert_eq(first_error(&s, &id, &oks, text, sizeof text), BS_ERR_PROTOCOL);
    cr_assert(strstr(text, "max_inflight"), "%s", text);
    cr_assert_leq(oks, 8, "never more than the window answered before the refusal");
    cr_assert_eq(srv_stop(&s), 5);
}

/* ---- 12: load ranges at the int64 edges ---------------------------------- */

Test(wire, load_ranges_at_the_int64_edge_give_what_exists)
{
    /* before: pread refused offset + length past 2^63 with EINVAL (ERR 6) */
    srv s;
    start_open(&s);
    cr_assert_eq(srv_store(&s, "v", "hello", 5), 0, "%s", srv_last_error);
    static const struct { int64_t off, size; const char *want; } cases[] = {
        {INT64_MAX, BS_SIZE_ALL, ""},
        {INT64_MAX - 1, 10, ""},
        {INT64_MAX - 100000, BS_SIZE_ALL, ""},
        {(int64_t)1 << 62, INT64_MAX, ""},
        {2, INT64_MAX, "llo"},
        {0, INT64_MAX, "hello"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *v;
        size_t len;
        int rc = srv_load(&s, "v", cases[i].off, cases[i].size, &v, &len);
        cr_assert_eq(rc, 0, "case %zu: %s", i, srv_last_error);
        cr_assert_eq(len, strlen(cases[i].want), "case %zu", i);
        cr_assert_eq(memcmp(v, cases[i].want, len), 0, "case %zu", i);
        free(v);
    }
    cr_assert_eq(srv_stop(&s), 0);
}

Test(wire, defrag_sources_of_the_wrong_type_are_a_protocol_error)
{
    srv s;
    start_open(&s);
    /* [1, id, 17, {"sources": "data/aa", "target": "x"}] */
    bs_buf b = {0};
    bs__mpw w;
    bs__mpw_init(&w, &b);
    msgpack_pack_array(&w.pk, 4);
    msgpack_pack_uint8(&w.pk, 1);
    msgpack_pack_uint32(&w.pk, 4242);
    msgpack_pack_uint8(&w.pk, BS_M_DEFRAG);
    msgpack_pack_map(&w.pk, 2);
    bs__mpw_cstr(&w, "sources");
    bs__mpw_cstr(&w, "data/aa");
    bs__mpw_cstr(&w, "target");
    bs__mpw_cstr(&w, "x");
    uint8_t len[4];
    bs__be32_put(len, (uint32_t)b.len);
    cr_assert(srv_send_raw(&s, len, 4));
    cr_assert(srv_send_raw(&s, b.data, b.len));
    bs__buf_free(&b);
    bs__env env;
    cr_assert_eq(next(&s, &env), 1);
    cr_assert_eq(env.kind, BS_KIND_ERR);
    cr_assert_eq(env.id, 4242);
    cr_assert_eq(bs_error_from_wire(env.code), BS_ERR_PROTOCOL);
    cr_assert_eq(srv_simple(&s, BS_M_PING, NULL), 0, "the connection goes on");
    cr_assert_eq(srv_stop(&s), 0);
}

/* ---- 13: each documented outcome ------------------------------------------ */

/* Frames msgpack bytes and sends them. */
static void send_msg(srv *s, const bs_buf *b)
{
    uint8_t len[4];
    bs__be32_put(len, (uint32_t)b->len);
    cr_assert(srv_send_raw(s, len, 4));
    cr_assert(srv_send_raw(s, b->data, b->len));
}

/* Starts the server and sends a hello with these limits (id 1); returns the
 * reply's code (0: OK). */
static int hello_with(srv *s, uint64_t max_frame, uint64_t max_value)
{
    bs_buf b = {0};
    bs__mpw w;
    bs__mpw_init(&w, &b);
    msgpack_pack_array(&w.pk, 4);
    msgpack_pack_uint8(&w.pk, 1);
    msgpack_pack_uint32(&w.pk, s->next_id++);
    msgpack_pack_uint8(&w.pk, BS_M_HELLO);
    msgpack_pack_map(&w.pk, max_value ? 3 : 2);
    bs__mpw_cstr(&w, "versions");
    msgpack_pack_array(&w.pk, 1);
    msgpack_pack_uint8(&w.pk, BS_PROTO_VERSION);
    bs__mpw_cstr(&w, "max_frame");
    msgpack_pack_uint64(&w.pk, max_frame);
    if (max_value) {
        bs__mpw_cstr(&w, "max_value");
        msgpack_pack_uint64(&w.pk, max_value);
    }
    send_msg(s, &b);
    bs__buf_free(&b);
    bs__env env;
    cr_assert_eq(next(s, &env), 1, "no hello answer");
    if (env.kind == BS_KIND_ERR) return bs_error_from_wire(env.code);
    cr_assert_eq(env.kind, BS_KIND_OK);
    bs__result res;
    cr_assert_eq(bs__result_decode(&res, BS_M_HELLO, env.body, env.body_len), 0);
    s->hello = res.hello;
    return 0;
}

static void start_raw(srv *s, const char *const *args)
{
    srv_start(s, args, dir, false);
    uint8_t pre[BS_PROTO_PREAMBLE_LEN];
    bs__preamble_put(pre);
    cr_assert(srv_send_raw(s, pre, sizeof pre));
    take_preamble(s);
}

/* Exit code after sending bytes and closing stdin (the server's output is
 * read meanwhile). */
static int exit_after(srv *s, const void *bytes, size_t n)
{
    if (n) srv_send_raw(s, bytes, n);
    return srv_stop(s);
}

Test(wire, stderr_carries_the_log_lines_at_the_operators_level)
{
    srv s;
    static const char *const args[] = {"--log-level", "debug", NULL};
    start_open_args(&s, args);
    cr_assert_eq(srv_simple(&s, BS_M_PING, NULL), 0);
    char err[8192];
    srv_stderr(&s, err, sizeof err); /* written before the reply */
    cr_assert(strstr(err, "borgstore-serve["), "%s", err);
    cr_assert(strstr(err, " debug: "), "%s", err);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(wire, preamble_outcomes_and_exit_codes)
{
    srv s;
    srv_start(&s, NULL, dir, false);
    cr_assert_eq(exit_after(&s, NULL, 0), 0, "EOF before any byte: a normal end");
    srv_start(&s, NULL, dir, false);
    cr_assert_eq(exit_after(&s, "\x89" "BST", 4), 5, "EOF inside the preamble");
    srv_start(&s, NULL, dir, false);
    cr_assert_eq(exit_after(&s, "\x89" "BSTORE\x00", 8), 5, "version byte 0");
    srv_start(&s, NULL, dir, false);
    cr_assert_eq(exit_after(&s, "SSH-2.0-x", 9), 5, "not the magic");
}

Test(wire, eof_inside_a_frame_ends_with_code_0)
{
    srv s;
    start_open(&s);
    cr_assert_eq(exit_after(&s, "\x00\x00\x00\x10\x94\x01", 6), 0);
}

Test(wire, hello_max_frame_above_64_mib_is_accepted_and_2_pow_32_is_invalid)
{
    srv s;
    start_raw(&s, NULL);
    cr_assert_eq(hello_with(&s, 1ull << 32, 0), BS_ERR_INVALID, "2^32 and above");
    cr_assert_eq(hello_with(&s, 100ull << 20, 0), 0, "the connection stayed; 100 MiB is fine");
    cr_assert_eq(srv_simple(&s, BS_M_PING, NULL), 0);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(wire, a_refused_hello_leaves_the_connection_open)
{
    srv s;
    start_raw(&s, NULL);
    /* versions of the wrong type: PROTOCOL, and hello may come again */
    bs_buf b = {0};
    bs__mpw w;
    bs__mpw_init(&w, &b);
    msgpack_pack_array(&w.pk, 4);
    msgpack_pack_uint8(&w.pk, 1);
    msgpack_pack_uint8(&w.pk, 1);
    msgpack_pack_uint8(&w.pk, BS_M_HELLO);
    msgpack_pack_map(&w.pk, 2);
    bs__mpw_cstr(&w, "versions");
    bs__mpw_cstr(&w, "2");
    bs__mpw_cstr(&w, "max_frame");
    msgpack_pack_uint32(&w.pk, BS_FRAME_DEFAULT);
    send_msg(&s, &b);
    bs__buf_free(&b);
    bs__env env;
    cr_assert_eq(next(&s, &env), 1);
    cr_assert_eq(env.kind, BS_KIND_ERR);
    cr_assert_eq(bs_error_from_wire(env.code), BS_ERR_PROTOCOL);
    s.next_id = 2;
    cr_assert_eq(hello_with(&s, BS_FRAME_DEFAULT, 0), 0);
    cr_assert_eq(srv_stop(&s), 0);
    /* while a max_frame below 64 KiB ends it */
    start_raw(&s, NULL);
    cr_assert_eq(hello_with(&s, 1000, 0), BS_ERR_INVALID);
    bs__env e2;
    cr_assert_eq(next(&s, &e2), 0, "EOF");
    cr_assert_eq(srv_stop(&s), 5);
}

/* [1, <id>, <method>, <args>] with each element's msgpack given raw. */
static int malformed_req(const uint8_t *elems, size_t n, uint32_t *err_id)
{
    srv s;
    start_open(&s);
    bs_buf b = {0};
    bs__buf_append(&b, "\x94\x01", 2);
    bs__buf_append(&b, elems, n);
    send_msg(&s, &b);
    bs__buf_free(&b);
    int oks;
    char text[1024];
    int code = first_error(&s, err_id, &oks, text, sizeof text);
    cr_assert_eq(srv_stop(&s), 5, "a framing error ends the connection (%s)", text);
    return code;
}

Test(wire, malformed_request_shapes_are_framing_errors_with_id_0)
{
    uint32_t id = 99;
    /* method a str */
    cr_assert_eq(malformed_req((const uint8_t *)"\x05\xa1x\x80", 4, &id), BS_ERR_PROTOCOL);
    cr_assert_eq(id, 0);
    /* args an array */
    id = 99;
    cr_assert_eq(malformed_req((const uint8_t *)"\x05\x01\x90", 3, &id), BS_ERR_PROTOCOL);
    cr_assert_eq(id, 0);
    /* id 2^32 */
    id = 99;
    cr_assert_eq(malformed_req((const uint8_t *)"\xcf\x00\x00\x00\x01\x00\x00\x00\x00\x01\x80", 11,
                               &id), BS_ERR_PROTOCOL);
    cr_assert_eq(id, 0);
    /* id negative */
    id = 99;
    cr_assert_eq(malformed_req((const uint8_t *)"\xff\x01\x80", 3, &id), BS_ERR_PROTOCOL);
    cr_assert_eq(id, 0);
}

Test(wire, argument_errors_get_their_code_and_the_connection_goes_on)
{
    srv s;
    start_open(&s);
    bs__result res;
    /* a required key missing: 12. [1, 77, info, {}] */
    bs_buf b = {0};
    bs__buf_append(&b, "\x94\x01\x4d\x08\x80", 5);
    send_msg(&s, &b);
    bs__buf_free(&b);
    bs__env env;
    cr_assert_eq(next(&s, &env), 1);
    cr_assert_eq(env.kind, BS_KIND_ERR);
    cr_assert_eq(env.id, 77);
    cr_assert_eq(bs_error_from_wire(env.code), BS_ERR_PROTOCOL, "info without name");
    bs__req r;
    /* negative sizes: 6 */
    r = (bs__req){.method = BS_M_LOAD, .name = "x", .size = -2};
    cr_assert_eq(srv_call(&s, &r, &res), BS_ERR_INVALID, "load size -2");
    r = (bs__req){.method = BS_M_STORE, .name = "x", .size = -5};
    cr_assert_eq(srv_call(&s, &r, &res), BS_ERR_INVALID, "store size -5");
    /* an inline store needs its hash: 12 */
    r = (bs__req){.method = BS_M_STORE, .name = "x", .size = 3, .data = (const uint8_t *)"abc",
                  .data_len = 3, .has_data = true};
    cr_assert_eq(srv_call(&s, &r, &res), BS_ERR_PROTOCOL, "inline store without hash");
    /* rmdir of a non-empty directory: 14 */
    cr_assert_eq(srv_store(&s, "d/x", "v", 1), 0, "%s", srv_last_error);
    cr_assert_eq(srv_simple(&s, BS_M_RMDIR, "d"), BS_ERR_IO);
    /* list_end on an unknown cursor: OK */
    r = (bs__req){.method = BS_M_LIST_END, .cursor = 12345};
    cr_assert_eq(srv_call(&s, &r, &res), 0);
    /* list_next on one: 6 */
    r = (bs__req){.method = BS_M_LIST_NEXT, .cursor = 12345};
    cr_assert_eq(srv_call(&s, &r, &res), BS_ERR_INVALID);
    cr_assert_eq(srv_simple(&s, BS_M_PING, NULL), 0);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(wire, a_misplaced_hash_has_two_outcomes)
{
    srv s;
    start_open(&s);
    /* in the header of a value in DATA frames: the value is received and
     * dropped, ERR 12, and the connection goes on */
    uint8_t val[100000], h[BS_VALUE_HASH_LEN];
    memset(val, 'a', sizeof val);
    bs__value_hash(h, val, sizeof val);
    bs__req r = {.method = BS_M_STORE, .name = "v", .size = sizeof val, .hash = h};
    uint32_t id = srv_send(&s, &r);
    bs_buf b = {0};
    cr_assert_eq(bs__enc_data_last(&b, id, sizeof val, BS_FRAME_CEIL), 0);
    uint8_t trailer[BS_DATA_TRAILER_LEN];
    bs__data_trailer(trailer, h);
    cr_assert(srv_send_raw(&s, b.data, b.len) && srv_send_raw(&s, val, sizeof val) &&
              srv_send_raw(&s, trailer, sizeof trailer));
    bs__buf_free(&b);
    bs__env env;
    cr_assert_eq(next(&s, &env), 1);
    cr_assert_eq(env.kind, BS_KIND_ERR);
    cr_assert_eq(env.id, id);
    cr_assert_eq(bs_error_from_wire(env.code), BS_ERR_PROTOCOL);
    cr_assert_eq(srv_simple(&s, BS_M_INFO, "v"), 0, "the connection goes on");
    /* missing from the last DATA frame: a framing error, the connection ends */
    r = (bs__req){.method = BS_M_STORE, .name = "v", .size = sizeof val};
    id = srv_send(&s, &r);
    cr_assert_eq(bs__enc_data(&b, id, sizeof val, BS_FRAME_CEIL), 0);
    cr_assert(srv_send_raw(&s, b.data, b.len) && srv_send_raw(&s, val, sizeof val));
    bs__buf_free(&b);
    int oks;
    char text[1024];
    uint32_t eid = 0;
    cr_assert_eq(first_error(&s, &eid, &oks, text, sizeof text), BS_ERR_PROTOCOL);
    cr_assert_eq(eid, id);
    cr_assert_eq(srv_stop(&s), 5);
}

Test(wire, load_above_the_clients_max_value_is_invalid)
{
    srv s;
    start_raw(&s, NULL);
    cr_assert_eq(hello_with(&s, BS_FRAME_DEFAULT, 1000), 0);
    cr_assert_eq(srv_open(&s, "create", store), 0, "%s", srv_last_error);
    cr_assert_eq(srv_open(&s, "open", store), 0, "%s", srv_last_error);
    uint8_t v[2000] = {0};
    cr_assert_eq(srv_store(&s, "v", v, sizeof v), 0, "%s", srv_last_error);
    uint8_t *out;
    size_t len;
    cr_assert_eq(srv_load(&s, "v", 0, BS_SIZE_ALL, &out, &len), BS_ERR_INVALID);
    cr_assert_eq(srv_load(&s, "v", 0, 1000, &out, &len), 0, "a range within the limit is fine");
    free(out);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(wire, ping_echoes_only_what_fits_the_clients_frame_inline)
{
    srv s;
    start_raw(&s, NULL);
    cr_assert_eq(hello_with(&s, BS_FRAME_MIN, 0), 0);
    size_t fits = bs__inline_max(BS_FRAME_MIN);
    static uint8_t buf[BS_FRAME_MIN + 1];
    bs__req p = {.method = BS_M_PING, .data = buf, .data_len = fits, .has_data = true};
    bs__result res;
    cr_assert_eq(srv_call(&s, &p, &res), 0);
    cr_assert_eq(res.data_len, fits);
    p.data_len = fits + 1;
    cr_assert_eq(srv_call(&s, &p, &res), BS_ERR_INVALID);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(wire, list_limit_is_capped_at_list_page)
{
    srv s;
    start_open(&s);
    uint32_t page = s.hello.list_page;
    cr_assert_eq(page, 1000);
    for (uint32_t i = 0; i <= page; i++) { /* pipelined within the window */
        if (i && i % 100 == 0)
            for (int j = 0; j < 100; j++) {
                bs__env env;
                cr_assert_eq(next(&s, &env), 1);
                cr_assert_eq(env.kind, BS_KIND_OK, "store %u", i - 100 + j);
            }
        char name[32];
        snprintf(name, sizeof name, "%05u", i);
        uint8_t h[BS_VALUE_HASH_LEN];
        bs__value_hash(h, "", 0);
        bs__req r = {.method = BS_M_STORE, .name = name, .size = 0, .hash = h,
                     .data = (const uint8_t *)"", .has_data = true};
        srv_send(&s, &r);
    }
    for (uint32_t i = page / 100 * 100; i <= page; i++) {
        bs__env env;
        cr_assert_eq(next(&s, &env), 1);
        cr_assert_eq(env.kind, BS_KIND_OK, "store %u", i);
    }
    bs__req r = {.method = BS_M_LIST, .name = "", .limit = 100000};
    bs__result res;
    cr_assert_eq(srv_call(&s, &r, &res), 0, "%s", srv_last_error);
    cr_assert_eq(res.n_entries, page, "capped at list_page");
    cr_assert(res.has_cursor);
    r = (bs__req){.method = BS_M_LIST, .name = "", .limit = 3};
    cr_assert_eq(srv_call(&s, &r, &res), 0);
    cr_assert_eq(res.n_entries, 3);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(wire, messages_show_an_absolute_looking_name_as_path)
{
    srv s;
    start_open(&s);
    cr_assert_neq(srv_simple(&s, BS_M_INFO, "/a"), 0);
    cr_assert(strstr(srv_last_error, "<path>"), "%s", srv_last_error);
    cr_assert_null(strstr(srv_last_error, "/a"), "%s", srv_last_error);
    cr_assert_eq(srv_stop(&s), 0);
}
