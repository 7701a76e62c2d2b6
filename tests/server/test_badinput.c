/* Hostile input: truncated frames, absurd lengths, random bytes, wrong
 * shapes, huge container headers. borgstore-serve must answer or exit
 * cleanly within a second under a 512 MiB address-space limit, never crash.
 * Also: a value arriving with the wrong hash is never stored, and killing
 * the server in the middle of a store leaves the item absent or whole. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
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

TestSuite(badinput, .init = setup, .fini = teardown, .timeout = 120);


/* Starts a limited server past the handshake with an open store. */
static void ready(srv *s)
{
    srv_start(s, NULL, dir, true);
    srv_handshake(s);
    if (srv_open(s, "open", store)) {
        cr_assert_eq(srv_open(s, "create", store), 0);
        cr_assert_eq(srv_open(s, "open", store), 0);
    }
}

/* Sends bytes, closes the input, and requires a clean exit: exit code 0
 * (plain EOF) or 5 (protocol error), never a signal. The 30 s deadline only
 * tells a hang from an exit (a loaded sanitizer build takes well over 1 s
 * at times); it measures nothing. Returns the code. */
static int feed_and_finish(srv *s, const void *bytes, size_t n)
{
    srv_send_raw(s, bytes, n);
    close(s->to);
    s->to = -1;
    int st = srv_wait(s, 30000);
    cr_assert_neq(st, -1, "server did not exit after the end of its input");
    cr_assert(WIFEXITED(st), "server died of signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    int code = WEXITSTATUS(st);
    cr_assert(code == 0 || code == 5, "exit code %d", code);
    srv_stop(s);
    return code;
}

/* Reads frames until an ERR arrives; returns its code (or 0 on EOF). */
static int next_error(srv *s)
{
    bs__env env;
    while (srv_recv(s, &env, 1000) == 1)
        if (env.kind == BS_KIND_ERR) return bs_error_from_wire(env.code);
    return 0;
}

Test(badinput, truncated_frames_end_cleanly)
{
    static const uint8_t cuts[][6] = {{0, 0}, {0, 0, 0, 9, 0x94}, {0, 0, 1}};
    static const size_t lens[] = {2, 5, 3};
    for (int i = 0; i < 3; i++) {
        srv s;
        ready(&s);
        cr_assert_eq(feed_and_finish(&s, cuts[i], lens[i]), 0, "EOF inside a frame is EOF");
    }
    /* a store whose DATA never comes */
    srv s;
    ready(&s);
    uint8_t h[BS_VALUE_HASH_LEN] = {0};
    bs__req r = {.method = BS_M_STORE, .name = "x", .size = 100000, .hash = h};
    srv_send(&s, &r);
    feed_and_finish(&s, "", 0);
}

Test(badinput, length_0xffffffff_is_refused_before_allocating)
{
    srv s;
    ready(&s);
    static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 0x94};
    srv_send_raw(&s, huge, sizeof huge);
    cr_assert_eq(next_error(&s), BS_ERR_PROTOCOL);
    cr_assert_eq(feed_and_finish(&s, "", 0), 5);
    /* before hello the limit is 64 KiB */
    srv_start(&s, NULL, dir, true);
    uint8_t pre[BS_PROTO_PREAMBLE_LEN];
    bs__preamble_put(pre);
    srv_send_raw(&s, pre, sizeof pre);
    static const uint8_t big[] = {0x00, 0x01, 0x00, 0x01};
    cr_assert_eq(feed_and_finish(&s, big, sizeof big), 5);
}

Test(badinput, random_bytes_never_crash_it)
{
    uint8_t junk[4096];
    for (uint64_t seed = 1; seed <= 12; seed++) {
        bs_test_fill(junk, sizeof junk, seed);
        srv s;
        if (seed % 3 == 0) { /* instead of the preamble */
            srv_start(&s, NULL, dir, true);
            cr_assert_eq(feed_and_finish(&s, junk, sizeof junk), 5);
            continue;
        }
        ready(&s);
        if (seed % 3 == 1) { /* small frame lengths, random bodies */
            for (size_t off = 0; off + 64 <= sizeof junk; off += 64) {
                junk[off] = junk[off + 1] = 0;
                junk[off + 2] = 0;
                junk[off + 3] = 60;
            }
        }
        feed_and_finish(&s, junk, sizeof junk);
    }
}

static void frame_of(bs_buf *b, const uint8_t *body, size_t n)
{
    size_t mark;
    bs__frame_begin(b, &mark);
    bs__buf_append(b, body, n);
    bs__frame_end(b, mark, 0, BS_FRAME_CEIL);
}

Test(badinput, valid_frames_of_the_wrong_shape_get_protocol_errors)
{
    static const uint8_t shapes[][16] = {
        {0x94, 0x01, 0xa1, 'x', 0x01, 0x80},          /* id is a string */
        {0x94, 0x01, 0x01, 0x08, 0x90},               /* args is an array */
        {0x93, 0x01, 0x01, 0x08},                     /* missing args */
        {0x91, 0x01},                                 /* a bare kind */
        {0xc0},                                       /* nil */
        {0xa5, 'h', 'e', 'l', 'l', 'o'},              /* a string */
        {0x93, 0x02, 0x01, 0x80},                     /* the client sends a result */
        {0x93, 0x04, 0x01, 0xc4, 0x01, 0x00},         /* DATA without a store */
    };
    static const size_t lens[] = {6, 5, 4, 2, 1, 6, 4, 6};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        srv s;
        ready(&s);
        bs_buf b = {0};
        frame_of(&b, shapes[i], lens[i]);
        srv_send_raw(&s, b.data, b.len);
        bs__buf_free(&b);
        cr_assert_eq(next_error(&s), BS_ERR_PROTOCOL, "shape %zu", i);
        feed_and_finish(&s, "", 0);
    }
}

Test(badinput, huge_container_headers_are_refused_cheaply)
{
    /* top level: array of 2^32-1 elements */
    static const uint8_t top[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01};
    /* inside args: {"sources": array32(0xffffffff)} for defrag, and a map32 */
    static const uint8_t inner[] = {0x94, 0x01, 0x05, 17, 0x81, 0xa7, 's', 'o', 'u', 'r', 'c',
                                    'e', 's', 0xdd, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t map32[] = {0x94, 0x01, 0x06, 8, 0xdf, 0xff, 0xff, 0xff, 0xff};
    const uint8_t *frames[] = {inner, map32, top};
    const size_t lens[] = {sizeof inner, sizeof map32, sizeof top};
    for (int i = 0; i < 3; i++) { /* malformed msgpack is a framing error */
        srv s;
        ready(&s);
        bs_buf b = {0};
        frame_of(&b, frames[i], lens[i]);
        srv_send_raw(&s, b.data, b.len);
        bs__buf_free(&b);
        cr_assert_eq(next_error(&s), BS_ERR_PROTOCOL, "case %d", i);
        cr_assert_eq(feed_and_finish(&s, "", 0), 5);
    }
}

/* One DATA frame of id; with hash, the value's last (hash appended). */
static void send_data(srv *s, uint32_t id, const char *chunk, const uint8_t *hash)
{
    bs_buf b = {0};
    size_t n = strlen(chunk);
    cr_assert_eq(hash ? bs__enc_data_last(&b, id, n, BS_FRAME_CEIL)
                      : bs__enc_data(&b, id, n, BS_FRAME_CEIL), 0);
    bs__buf_append(&b, chunk, n);
    if (hash) {
        uint8_t trailer[BS_DATA_TRAILER_LEN];
        bs__data_trailer(trailer, hash);
        bs__buf_append(&b, trailer, sizeof trailer);
    }
    srv_send_raw(s, b.data, b.len);
    bs__buf_free(&b);
}

static bool exists(srv *s, const char *name)
{
    bs__req r = {.method = BS_M_INFO, .name = name};
    bs__result res;
    cr_assert_eq(srv_call(s, &r, &res), 0, "%s", srv_last_error);
    return res.info.exists;
}

Test(badinput, a_value_in_data_frames_has_its_hash_in_the_last_frame_only)
{
    uint8_t h[BS_VALUE_HASH_LEN];
    bs__value_hash(h, "abcdefgh", 8);
    /* the last frame without the hash: the stream is unsound, nothing stored */
    srv s;
    ready(&s);
    bs__req r = {.method = BS_M_STORE, .name = "x", .size = 8};
    uint32_t id = srv_send(&s, &r);
    send_data(&s, id, "abcd", NULL);
    send_data(&s, id, "efgh", NULL);
    cr_assert_eq(next_error(&s), BS_ERR_PROTOCOL);
    cr_assert_eq(feed_and_finish(&s, "", 0), 5);
    /* a hash before the last frame */
    ready(&s);
    cr_assert(!exists(&s, "x"), "stored without its hash");
    id = srv_send(&s, &r);
    send_data(&s, id, "abcd", h);
    cr_assert_eq(next_error(&s), BS_ERR_PROTOCOL);
    cr_assert_eq(feed_and_finish(&s, "", 0), 5);
    /* a hash in the header as well: refused, the data swallowed, the
     * connection goes on */
    ready(&s);
    r.hash = h;
    id = srv_send(&s, &r);
    send_data(&s, id, "abcd", NULL);
    send_data(&s, id, "efgh", h);
    cr_assert_eq(next_error(&s), BS_ERR_PROTOCOL);
    cr_assert(!exists(&s, "x"));
    /* an empty value must be inline (no frames would carry its hash) */
    r = (bs__req){.method = BS_M_STORE, .name = "x", .size = 0};
    bs__result res;
    cr_assert_eq(srv_call(&s, &r, &res), BS_ERR_PROTOCOL);
    cr_assert(!exists(&s, "x"));
    /* and done right, it is stored */
    r = (bs__req){.method = BS_M_STORE, .name = "x", .size = 8};
    id = srv_send(&s, &r);
    send_data(&s, id, "abcd", NULL);
    send_data(&s, id, "efgh", h);
    bs__env env;
    cr_assert_eq(srv_recv(&s, &env, 5000), 1);
    cr_assert_eq(env.kind, BS_KIND_OK, "%.*s", (int)env.text_len, env.text);
    cr_assert(exists(&s, "x"));
    cr_assert_eq(feed_and_finish(&s, "", 0), 0);
}

Test(badinput, upload_mistakes_end_the_connection)
{
    /* DATA for another id */
    srv s;
    ready(&s);
    bs__req r = {.method = BS_M_STORE, .name = "x", .size = 10};
    uint32_t id = srv_send(&s, &r);
    bs_buf b = {0};
    bs__enc_data(&b, id + 1, 4, BS_FRAME_CEIL);
    bs__buf_append(&b, "abcd", 4);
    srv_send_raw(&s, b.data, b.len);
    bs__buf_free(&b);
    cr_assert_eq(next_error(&s), BS_ERR_PROTOCOL);
    cr_assert_eq(feed_and_finish(&s, "", 0), 5);
    /* more than announced */
    ready(&s);
    id = srv_send(&s, &r);
    bs__enc_data(&b, id, 11, BS_FRAME_CEIL);
    bs__buf_append(&b, "abcdefghijk", 11);
    srv_send_raw(&s, b.data, b.len);
    bs__buf_free(&b);
    cr_assert_eq(next_error(&s), BS_ERR_PROTOCOL);
    cr_assert_eq(feed_and_finish(&s, "", 0), 5);
    /* a declared size over the server's limit is swallowed, never buffered */
    ready(&s);
    r.size = (int64_t)BS_VALUE_DEFAULT + 1;
    id = srv_send(&s, &r);
    bs__enc_data(&b, id, 4, BS_FRAME_CEIL);
    bs__buf_append(&b, "abcd", 4);
    srv_send_raw(&s, b.data, b.len);
    bs__buf_free(&b);
    cr_assert_eq(feed_and_finish(&s, "", 0), 0);
}

Test(badinput, killing_the_server_mid_store_leaves_no_trace)
{
    size_t len = 8 * 1024 * 1024;
    uint8_t *val = malloc(len);
    bs_test_fill(val, len, 3);
    uint8_t h[BS_VALUE_HASH_LEN];
    bs__value_hash(h, val, len);
    for (int variant = 0; variant < 2; variant++) {
        srv s;
        ready(&s);
        bs__req r = {.method = BS_M_STORE, .name = "data/big", .size = (int64_t)len};
        uint32_t id = srv_send(&s, &r);
        size_t sent_until = variant == 0 ? len / 2 : len; /* half, or everything */
        size_t chunk = 512 * 1024;
        for (size_t off = 0; off < sent_until; off += chunk) {
            bs_buf b = {0};
            bool last = off + chunk == len;
            if (last) bs__enc_data_last(&b, id, chunk, BS_FRAME_CEIL);
            else bs__enc_data(&b, id, chunk, BS_FRAME_CEIL);
            srv_send_raw(&s, b.data, b.len);
            srv_send_raw(&s, val + off, chunk);
            if (last) {
                uint8_t trailer[BS_DATA_TRAILER_LEN];
                bs__data_trailer(trailer, h);
                srv_send_raw(&s, trailer, sizeof trailer);
            }
            bs__buf_free(&b);
        }
        kill(s.pid, SIGKILL);
        srv_stop(&s);
        /* a fresh server sees either nothing or the whole value */
        ready(&s);
        bs__req lr = {.method = BS_M_LIST, .name = "data"};
        bs__result res;
        int rc = srv_call(&s, &lr, &res);
        if (rc == 0) {
            size_t pos = 0;
            bs_item_info it;
            while (bs__list_entry_next(&res, &pos, &it) == 1)
                cr_assert(!strstr(it.name, ".tmp"), "listing shows %s", it.name);
        } else {
            cr_assert_eq(rc, BS_ERR_NOT_FOUND);
        }
        uint8_t *back;
        size_t blen;
        rc = srv_load(&s, "data/big", 0, BS_SIZE_ALL, &back, &blen);
        if (variant == 0) cr_assert_eq(rc, BS_ERR_NOT_FOUND, "half a value never appears");
        if (rc == 0) {
            cr_assert_eq(blen, len);
            cr_assert_eq(memcmp(back, val, len), 0, "complete when present");
            free(back);
        } else {
            cr_assert_eq(rc, BS_ERR_NOT_FOUND);
        }
        cr_assert_eq(srv_stop(&s), 0);
    }
    free(val);
}
