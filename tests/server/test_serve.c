/* borgstore-serve over pipes: handshake, the pre-open allowlist, every
 * method, values in DATA frames, pipelining, logs and clean exits. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
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

TestSuite(serve, .init = setup, .fini = teardown, .timeout = 60);

static void start_open(srv *s)
{
    srv_start(s, NULL, dir, false);
    srv_handshake(s);
    cr_assert_eq(srv_open(s, "create", store), 0, "%s", srv_last_error);
    cr_assert_eq(srv_open(s, "open", store), 0, "%s", srv_last_error);
}

Test(serve, hello_advertises_limits_and_what_is_enforced)
{
    srv s;
    srv_start(&s, NULL, dir, false);
    srv_handshake(&s);
    cr_assert_eq(s.hello.max_frame, BS_FRAME_DEFAULT);
    cr_assert_eq(s.hello.max_inflight, BS_INFLIGHT_DEFAULT);
    cr_assert_eq(s.hello.max_value, BS_VALUE_DEFAULT);
    cr_assert_eq(s.hello.max_name, BS_NAME_MAX);
    cr_assert_eq(s.hello.list_page, BS_LIST_PAGE_DEFAULT);
    cr_assert_eq(s.hello.features, BS_FEAT_ALL);
    cr_assert(!s.hello.read_only);
    cr_assert_eq(s.hello.quota, 0);
    cr_assert_str_eq(s.hello.permissions, "");
    cr_assert(!strncmp(s.hello.impl, "borgstore-serve ", 16));
    cr_assert_eq(srv_stop(&s), 0);

    const char *args[] = {"--read-only", "--quota", "5M", "--permissions",
                          "borgbackup-no-delete", "--max-frame", "131072",
                          "--restrict-to-path", dir, NULL};
    srv_start(&s, args, dir, false);
    srv_handshake(&s);
    cr_assert(s.hello.read_only);
    cr_assert_eq(s.hello.quota, 5000000);
    cr_assert_str_eq(s.hello.permissions, "borgbackup-no-delete");
    cr_assert_eq(s.hello.max_frame, 131072);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(serve, only_hello_create_open_destroy_ping_before_open)
{
    srv s;
    srv_start(&s, NULL, dir, false);
    srv_handshake(&s);
    const uint32_t after_open[] = {BS_M_MKDIR, BS_M_RMDIR, BS_M_INFO, BS_M_LOAD, BS_M_DELETE,
                                   BS_M_LIST};
    for (size_t i = 0; i < sizeof after_open / sizeof after_open[0]; i++)
        cr_assert_eq(srv_simple(&s, after_open[i], "x"), BS_ERR_MUST_BE_OPEN, "method %u",
                     after_open[i]);
    cr_assert_eq(srv_store(&s, "x", "v", 1), BS_ERR_MUST_BE_OPEN);
    bs__req r = {.method = BS_M_QUOTA};
    bs__result res;
    cr_assert_eq(srv_call(&s, &r, &res), BS_ERR_MUST_BE_OPEN);
    r = (bs__req){.method = BS_M_CLOSE};
    cr_assert_eq(srv_call(&s, &r, &res), BS_ERR_MUST_BE_OPEN);
    r = (bs__req){.method = BS_M_PING};
    cr_assert_eq(srv_call(&s, &r, &res), 0);
    cr_assert_eq(srv_open(&s, "open", store), BS_ERR_DOES_NOT_EXIST);
    cr_assert_eq(srv_open(&s, "create", store), 0);
    cr_assert_eq(srv_open(&s, "open", store), 0);
    cr_assert_eq(srv_open(&s, "create", store), BS_ERR_MUST_NOT_BE_OPEN);
    cr_assert_eq(srv_open(&s, "destroy", store), BS_ERR_MUST_NOT_BE_OPEN);
    cr_assert_eq(srv_simple(&s, BS_M_INFO, "x"), 0);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(serve, a_request_before_hello_ends_the_connection)
{
    srv s;
    srv_start(&s, NULL, dir, false);
    uint8_t pre[BS_PROTO_PREAMBLE_LEN];
    bs__preamble_put(pre);
    srv_send_raw(&s, pre, sizeof pre);
    bs__req r = {.method = BS_M_PING};
    srv_send(&s, &r);
    bs__env env;
    bs__inbuf_consume(&s.in, 0);
    /* skip the server's preamble */
    while (bs__inbuf_len(&s.in) < BS_PROTO_PREAMBLE_LEN) {
        uint8_t *sp;
        size_t cap;
        bs__inbuf_space(&s.in, 0, &sp, &cap);
        ssize_t n = read(s.from, sp, BS_PROTO_PREAMBLE_LEN - bs__inbuf_len(&s.in));
        cr_assert_gt(n, 0);
        bs__inbuf_wrote(&s.in, (size_t)n);
    }
    bs__inbuf_consume(&s.in, BS_PROTO_PREAMBLE_LEN);
    cr_assert_eq(srv_recv(&s, &env, 5000), 1);
    cr_assert_eq(env.kind, BS_KIND_ERR);
    cr_assert_eq(bs_error_from_wire(env.code), BS_ERR_PROTOCOL);
    int st = srv_wait(&s, 2000);
    cr_assert(WIFEXITED(st));
    cr_assert_eq(WEXITSTATUS(st), 5);
    srv_stop(&s);
}

Test(serve, every_method_works)
{
    srv s;
    start_open(&s);
    bs__req r;
    bs__result res;
    cr_assert_eq(srv_simple(&s, BS_M_MKDIR, "data"), 0);
    cr_assert_eq(srv_store(&s, "data/aa", "hello", 5), 0, "%s", srv_last_error);
    cr_assert_eq(srv_store(&s, "data/bb", "", 0), 0, "empty value: %s", srv_last_error);
    r = (bs__req){.method = BS_M_INFO, .name = "data/aa"};
    cr_assert_eq(srv_call(&s, &r, &res), 0);
    cr_assert(res.info.exists);
    cr_assert(!res.info.directory);
    cr_assert_eq(res.info.size, 5);
    r = (bs__req){.method = BS_M_INFO, .name = "data/zz"};
    cr_assert_eq(srv_call(&s, &r, &res), 0);
    cr_assert(!res.info.exists);
    uint8_t *v;
    size_t len;
    cr_assert_eq(srv_load(&s, "data/aa", 0, BS_SIZE_ALL, &v, &len), 0);
    cr_assert_eq(len, 5);
    cr_assert_eq(memcmp(v, "hello", 5), 0);
    free(v);
    cr_assert_eq(srv_load(&s, "data/aa", 1, 3, &v, &len), 0, "offset/size on the server");
    cr_assert_eq(len, 3);
    cr_assert_eq(memcmp(v, "ell", 3), 0);
    free(v);
    cr_assert_eq(srv_load(&s, "data/aa", -2, BS_SIZE_ALL, &v, &len), 0);
    cr_assert_eq(len, 2);
    cr_assert_eq(memcmp(v, "lo", 2), 0);
    free(v);
    cr_assert_eq(srv_load(&s, "data/aa", -9, BS_SIZE_ALL, &v, &len), BS_ERR_READ_RANGE);
    cr_assert_eq(srv_load(&s, "data/bb", 0, BS_SIZE_ALL, &v, &len), 0);
    cr_assert_eq(len, 0);
    free(v);
    cr_assert_eq(srv_load(&s, "data/none", 0, BS_SIZE_ALL, &v, &len), BS_ERR_NOT_FOUND);
    r = (bs__req){.method = BS_M_HASH, .name = "data/aa", .alg = "sha256"};
    cr_assert_eq(srv_call(&s, &r, &res), 0);
    cr_assert_str_eq(res.hex, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    r = (bs__req){.method = BS_M_HASH, .name = "data/aa", .alg = "md5"};
    cr_assert_eq(srv_call(&s, &r, &res), 0);
    cr_assert_str_eq(res.hex, "5d41402abc4b2a76b9719d911017c592");
    r = (bs__req){.method = BS_M_HASH, .name = "data/aa", .alg = "md4"};
    cr_assert_eq(srv_call(&s, &r, &res), BS_ERR_INVALID);
    r = (bs__req){.method = BS_M_MOVE, .name = "data/aa", .dst = "data/cc"};
    cr_assert_eq(srv_call(&s, &r, &res), 0);
    cr_assert_eq(srv_simple(&s, BS_M_DELETE, "data/aa"), BS_ERR_NOT_FOUND);
    bs_defrag_source src[2] = {{"data/cc", 0, 2}, {"data/cc", 3, 2}};
    r = (bs__req){.method = BS_M_DEFRAG, .sources = src, .n_sources = 2, .target = "data/dd"};
    cr_assert_eq(srv_call(&s, &r, &res), 0, "%s", srv_last_error);
    cr_assert_str_eq(res.name, "data/dd");
    cr_assert_eq(srv_load(&s, "data/dd", 0, BS_SIZE_ALL, &v, &len), 0);
    cr_assert_eq(len, 4);
    cr_assert_eq(memcmp(v, "helo", 4), 0);
    free(v);
    r = (bs__req){.method = BS_M_QUOTA};
    cr_assert_eq(srv_call(&s, &r, &res), 0);
    cr_assert_eq(res.quota.limit, -1);
    cr_assert_eq(srv_simple(&s, BS_M_DELETE, "data/cc"), 0);
    cr_assert_eq(srv_simple(&s, BS_M_DELETE, "data/dd"), 0);
    cr_assert_eq(srv_simple(&s, BS_M_DELETE, "data/bb"), 0);
    cr_assert_eq(srv_simple(&s, BS_M_RMDIR, "data"), 0);
    r = (bs__req){.method = BS_M_CLOSE};
    cr_assert_eq(srv_call(&s, &r, &res), 0);
    cr_assert_eq(srv_open(&s, "destroy", store), 0);
    cr_assert_eq(access(store, F_OK), -1, "destroyed");
    cr_assert_eq(srv_stop(&s), 0);
}

Test(serve, list_is_paged_with_cursors_and_after)
{
    srv s;
    start_open(&s);
    const char *names[] = {"d/a1", "d/a2", "d/a3", "d/a4", "d/a5"};
    for (int i = 0; i < 5; i++) cr_assert_eq(srv_store(&s, names[i], "x", 1), 0);
    cr_assert_eq(srv_simple(&s, BS_M_MKDIR, "d/sub"), 0);
    bs__req r = {.method = BS_M_LIST, .name = "d", .limit = 2};
    bs__result res;
    char seen[16][BS_NAME_BUF];
    int n = 0;
    cr_assert_eq(srv_call(&s, &r, &res), 0);
    for (;;) {
        cr_assert_leq(res.n_entries, 2);
        size_t pos = 0;
        bs_item_info it;
        while (bs__list_entry_next(&res, &pos, &it) == 1) strcpy(seen[n++], it.name);
        if (!res.has_cursor) break;
        r = (bs__req){.method = BS_M_LIST_NEXT, .cursor = res.cursor, .limit = 2};
        cr_assert_eq(srv_call(&s, &r, &res), 0, "%s", srv_last_error);
    }
    cr_assert_eq(n, 6);
    cr_assert_str_eq(seen[0], "a1");
    cr_assert_str_eq(seen[4], "a5");
    cr_assert_str_eq(seen[5], "sub");
    /* after: resume past a name (what a client does after reconnecting) */
    r = (bs__req){.method = BS_M_LIST, .name = "d", .after = "a3"};
    cr_assert_eq(srv_call(&s, &r, &res), 0);
    cr_assert_eq(res.n_entries, 3);
    cr_assert(!res.has_cursor);
    /* an abandoned cursor can be ended; an unknown one is refused */
    r = (bs__req){.method = BS_M_LIST, .name = "d", .limit = 1};
    cr_assert_eq(srv_call(&s, &r, &res), 0);
    cr_assert(res.has_cursor);
    uint64_t cur = res.cursor;
    r = (bs__req){.method = BS_M_LIST_END, .cursor = cur};
    cr_assert_eq(srv_call(&s, &r, &res), 0);
    r = (bs__req){.method = BS_M_LIST_NEXT, .cursor = cur};
    cr_assert_eq(srv_call(&s, &r, &res), BS_ERR_INVALID);
    r = (bs__req){.method = BS_M_LIST, .name = "nope"};
    cr_assert_eq(srv_call(&s, &r, &res), BS_ERR_NOT_FOUND);
    cr_assert_eq(srv_stop(&s), 0);
}

/* Only a client that announced "mtime" gets 5-element list entries; one
 * that did not (an older client) gets the 4 it can decode. */
Test(serve, list_entries_carry_mtime_for_clients_that_ask)
{
    for (int with = 0; with < 2; with++) {
        srv_hello_features = with ? BS_FEAT_ALL : BS_FEAT_ALL & ~BS_FEAT_MTIME;
        snprintf(store, sizeof store, "%s/store%d", dir, with);
        srv s;
        start_open(&s);
        cr_assert_eq(srv_store(&s, "locks/a", "x", 1), 0);
        bs__req r = {.method = BS_M_INFO, .name = "locks/a"};
        bs__result res;
        cr_assert_eq(srv_call(&s, &r, &res), 0);
        int64_t mtime = res.info.mtime_ns;
        cr_assert_gt(mtime, 0, "info carries mtime for every client");
        r = (bs__req){.method = BS_M_LIST, .name = "locks"};
        cr_assert_eq(srv_call(&s, &r, &res), 0);
        /* the raw entry (after the page's array header): fixarray 0x95 (5
         * elements) or 0x94 (4) */
        cr_assert_eq(res.n_entries, 1);
        cr_assert_eq(res.entries_raw[0], with ? 0x95 : 0x94);
        size_t pos = 0;
        bs_item_info it;
        cr_assert_eq(bs__list_entry_next(&res, &pos, &it), 1);
        cr_assert_eq(it.mtime_ns, with ? mtime : 0);
        cr_assert_eq(srv_stop(&s), 0);
    }
    srv_hello_features = BS_FEAT_ALL;
}

Test(serve, large_values_travel_in_data_frames_both_ways)
{
    srv s;
    start_open(&s);
    size_t len = 3 * 1024 * 1024 + 17;
    uint8_t *val = malloc(len);
    bs_test_fill(val, len, 42);
    cr_assert_eq(srv_store_chunked(&s, "big", val, len, 256 * 1024), 0, "%s", srv_last_error);
    uint8_t *back;
    size_t blen;
    cr_assert_eq(srv_load(&s, "big", 0, BS_SIZE_ALL, &back, &blen), 0);
    cr_assert_eq(blen, len);
    cr_assert_eq(memcmp(back, val, len), 0);
    free(back);
    cr_assert_eq(srv_load(&s, "big", 1000000, 2000000, &back, &blen), 0);
    cr_assert_eq(blen, 2000000);
    cr_assert_eq(memcmp(back, val + 1000000, blen), 0);
    free(back);
    free(val);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(serve, pipelined_requests_are_answered_by_id)
{
    srv s;
    start_open(&s);
    /* the whole window the server announces, no more: replies it has
     * queued but not yet written still count as in flight */
    enum { N = BS_INFLIGHT_DEFAULT };
    uint32_t ids[N];
    char name[32];
    uint8_t h[BS_VALUE_HASH_LEN];
    bs__value_hash(h, "v", 1);
    for (int i = 0; i < N; i++) { /* all sent before any reply is read */
        snprintf(name, sizeof name, "p/%03d", i);
        bs__req r = {.method = BS_M_STORE, .name = name, .size = 1, .hash = h, .data = (const uint8_t *)"v",
                     .data_len = 1, .has_data = true};
        ids[i] = srv_send(&s, &r);
    }
    for (int i = 0; i < N; i++) {
        bs__env env;
        cr_assert_eq(srv_recv(&s, &env, 5000), 1);
        cr_assert_eq(env.kind, BS_KIND_OK, "reply %d: kind %u code %u %.*s", i, env.kind, env.code, (int)env.text_len, env.text);
        cr_assert_eq(env.id, ids[i]);
    }
    bs__req r = {.method = BS_M_LIST, .name = "p"};
    bs__result res;
    cr_assert_eq(srv_call(&s, &r, &res), 0);
    cr_assert_eq(res.n_entries, N);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(serve, a_client_that_does_not_read_cannot_grow_the_server)
{
    /* many 512 KiB loads, no reads: the server stops reading once its
     * output backs up, and everything arrives once we read */
    srv s;
    start_open(&s);
    size_t len = 512 * 1024;
    uint8_t *val = malloc(len);
    bs_test_fill(val, len, 7);
    cr_assert_eq(srv_store_chunked(&s, "v", val, len, 200000), 0);
    enum { N = 64 };
    uint32_t first = 0;
    for (int i = 0; i < N; i++) {
        bs__req r = {.method = BS_M_LOAD, .name = "v", .size = BS_SIZE_ALL};
        uint32_t id = srv_send(&s, &r);
        if (!i) first = id;
    }
    for (int i = 0; i < N; i++) {
        bs__env env;
        cr_assert_eq(srv_recv(&s, &env, 5000), 1);
        cr_assert_eq(env.kind, BS_KIND_OK);
        cr_assert_eq(env.id, first + (uint32_t)i);
        bs__result res;
        cr_assert_eq(bs__result_decode(&res, BS_M_LOAD, env.body, env.body_len), 0);
        cr_assert_eq(res.value_size, len, "reply %d: %llu", i, (unsigned long long)res.value_size);
        cr_assert(res.has_data);
    }
    free(val);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(serve, unknown_methods_and_wrong_types_get_errors_and_the_connection_goes_on)
{
    srv s;
    start_open(&s);
    /* [1, id, 77, {}] */
    static const uint8_t unknown[] = {0, 0, 0, 5, 0x94, 0x01, 0x63, 77, 0x80};
    srv_send_raw(&s, unknown, sizeof unknown);
    bs__env env;
    cr_assert_eq(srv_recv(&s, &env, 5000), 1);
    cr_assert_eq(env.kind, BS_KIND_ERR);
    cr_assert_eq(env.id, 0x63);
    cr_assert_eq(bs_error_from_wire(env.code), BS_ERR_PROTOCOL);
    /* [1, id, INFO, {"name": 5}] */
    static const uint8_t wrong[] = {0, 0, 0, 11, 0x94, 0x01, 0x64, 8, 0x81, 0xa4, 'n', 'a', 'm', 'e', 5};
    srv_send_raw(&s, wrong, sizeof wrong);
    cr_assert_eq(srv_recv(&s, &env, 5000), 1);
    cr_assert_eq(env.kind, BS_KIND_ERR);
    cr_assert_eq(env.id, 0x64);
    cr_assert_eq(bs_error_from_wire(env.code), BS_ERR_PROTOCOL);
    /* a name the validator refuses */
    cr_assert_eq(srv_simple(&s, BS_M_INFO, "../etc/passwd"), BS_ERR_INVALID);
    cr_assert_eq(srv_simple(&s, BS_M_INFO, "/etc/passwd"), BS_ERR_INVALID);
    bs__req r = {.method = BS_M_PING};
    bs__result res;
    cr_assert_eq(srv_call(&s, &r, &res), 0, "still serving");
    cr_assert_eq(srv_stop(&s), 0);
}

Test(serve, store_with_a_wrong_hash_stores_nothing)
{
    srv s;
    start_open(&s);
    uint8_t bad[BS_VALUE_HASH_LEN] = {1, 2, 3};
    bs__req r = {.method = BS_M_STORE, .name = "x", .size = 5, .hash = bad,
                 .data = (const uint8_t *)"hello", .data_len = 5, .has_data = true};
    bs__result res;
    cr_assert_eq(srv_call(&s, &r, &res), BS_ERR_INTEGRITY);
    r = (bs__req){.method = BS_M_INFO, .name = "x"};
    cr_assert_eq(srv_call(&s, &r, &res), 0);
    cr_assert(!res.info.exists);
    /* the same through DATA frames (the hash in the last one) */
    cr_assert_eq(srv_store_chunked_hash(&s, "y", "hello", 5, 2, bad), BS_ERR_INTEGRITY);
    r = (bs__req){.method = BS_M_INFO, .name = "y"};
    cr_assert_eq(srv_call(&s, &r, &res), 0);
    cr_assert(!res.info.exists);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(serve, logs_arrive_in_band_and_messages_hide_server_paths)
{
    const char *args[] = {"--log-level", "debug", NULL};
    srv s;
    srv_start(&s, args, dir, false);
    uint8_t pre[BS_PROTO_PREAMBLE_LEN];
    bs__preamble_put(pre);
    srv_send_raw(&s, pre, sizeof pre);
    bs__req r = {.method = BS_M_HELLO};
    r.hello.versions = 1u << BS_PROTO_VERSION;
    r.hello.max_frame = BS_FRAME_MIN;
    r.hello.log_level = BS_LOG_DEBUG;
    /* skip the server's preamble */
    while (bs__inbuf_len(&s.in) < BS_PROTO_PREAMBLE_LEN) {
        uint8_t *sp;
        size_t cap;
        bs__inbuf_space(&s.in, 0, &sp, &cap);
        ssize_t n = read(s.from, sp, BS_PROTO_PREAMBLE_LEN - bs__inbuf_len(&s.in));
        cr_assert_gt(n, 0);
        bs__inbuf_wrote(&s.in, (size_t)n);
    }
    bs__inbuf_consume(&s.in, BS_PROTO_PREAMBLE_LEN);
    srv_send(&s, &r);
    bs__env env;
    int logs = 0;
    bool paths = false;
    r = (bs__req){.method = BS_M_OPEN, .path = store};
    srv_send(&s, &r);
    for (int got = 0; got < 2;) {
        cr_assert_eq(srv_recv(&s, &env, 5000), 1);
        if (env.kind == BS_KIND_LOG) {
            logs++;
            if (memmem(env.text, env.text_len, dir, strlen(dir))) paths = true;
            continue;
        }
        if (env.kind == BS_KIND_ERR) {
            cr_assert_eq(bs_error_from_wire(env.code), BS_ERR_DOES_NOT_EXIST);
            cr_assert_null(memmem(env.text, env.text_len, dir, strlen(dir)),
                           "error message leaks the server path: %.*s", (int)env.text_len, env.text);
        }
        got++;
    }
    cr_assert_gt(logs, 0, "debug lines came in-band");
    cr_assert(!paths, "log lines carry no absolute server path");
    cr_assert_eq(srv_stop(&s), 0);
}

Test(serve, exits_cleanly_on_eof_sighup_and_a_closed_output)
{
    srv s;
    start_open(&s);
    cr_assert_eq(srv_stop(&s), 0, "EOF");

    start_open(&s);
    kill(s.pid, SIGHUP);
    int st = srv_wait(&s, 2000);
    cr_assert(WIFEXITED(st), "not killed by the signal");
    cr_assert_eq(WEXITSTATUS(st), 0);
    srv_stop(&s);

    start_open(&s);
    close(s.from); /* the reader went away: the next reply hits EPIPE */
    s.from = open("/dev/null", 0);
    bs__req r = {.method = BS_M_PING};
    srv_send(&s, &r);
    st = srv_wait(&s, 2000);
    cr_assert(WIFEXITED(st), "SIGPIPE does not kill it");
    cr_assert_eq(WEXITSTATUS(st), 0);
    srv_stop(&s);
}
