/* Allocation bounds on hostile input, measured: malloc, calloc, realloc and
 * aligned_alloc of everything linked statically into this test are wrapped
 * (-Wl,--wrap) and counted while a decoder, the server's request handling
 * or the client's reply handling runs. Containers declaring 2^32-1
 * elements, lengths past the frame and deep nesting must cost nothing; a
 * frame may cost at most a small multiple of the frame limit. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "memtransport.h"

#include "client/remote/rpc.h"
#include "common/error.h"
#include "proto/frame.h"
#include "proto/mp.h"
#include "proto/msg.h"
#include "server/serve.h"
#include "tests/helpers/testutil.h"

/* ---- counting ------------------------------------------------------------ */

static bool counting;
static size_t total, biggest;

static void note(size_t n)
{
    if (!counting) return;
    total += n;
    if (n > biggest) biggest = n;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
void *__wrap_malloc(size_t n) { note(n); return __real_malloc(n); }
void *__wrap_calloc(size_t k, size_t n) { note(k * n); return __real_calloc(k, n); }
void *__wrap_realloc(void *p, size_t n) { note(n); return __real_realloc(p, n); }
void *__wrap_aligned_alloc(size_t a, size_t n) { note(n); return __real_aligned_alloc(a, n); }

static void count_start(void)
{
    total = biggest = 0;
    counting = true;
}

static size_t count_stop(void)
{
    counting = false;
    return total;
}

/* ---- hostile msgpack ------------------------------------------------------ */

/* Frames whose headers promise far more than they hold. */
static const struct hostile {
    const char *what;
    uint8_t bytes[16];
    size_t len;
} hostile[] = {
    {"array32 of 2^32-1", {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01}, 6},
    {"map32 of 2^32-1", {0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'a', 0x01}, 8},
    {"request with an array32 of 2^32-1 args", {0x94, 0x01, 0x02, 0x0a, 0xdd, 0xff, 0xff, 0xff, 0xff}, 9},
    {"request with a map32 of 2^32-1 args", {0x94, 0x01, 0x02, 0x0a, 0xdf, 0xff, 0xff, 0xff, 0xff}, 9},
    {"bin32 past the frame", {0x94, 0x01, 0x02, 0x01, 0x81, 0xa4, 'd', 'a', 't', 'a', 0xc6, 0xff, 0xff, 0xff, 0xf0, 0}, 16},
    {"str32 past the frame", {0x94, 0x01, 0x02, 0x08, 0x81, 0xa4, 'n', 'a', 'm', 'e', 0xdb, 0x7f, 0xff, 0xff, 0xff, 0}, 16},
    {"ext32 past the frame", {0x93, 0x04, 0x02, 0xc9, 0xff, 0xff, 0xff, 0xff, 0x01}, 9},
    {"array16 of 65535 in 3 bytes", {0xdc, 0xff, 0xff}, 3},
};

static void decode_everything(const uint8_t *f, size_t len)
{
    static bs__req q;
    static bs__result r;
    bs__env env;
    (void)bs__env_decode(f, len, &env);
    for (uint32_t m = 0; m < BS_M_COUNT; m++) {
        (void)bs__req_decode(&q, m, f, len);
        (void)bs__result_decode(&r, m, f, len);
    }
    bs__mp rd;
    bs__mp_init(&rd, f, len);
    (void)bs__mp_skip(&rd, BS_MP_DEPTH_MAX);
}

Test(alloc, huge_declared_containers_and_lengths_cost_nothing)
{
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        bs__env env;
        count_start();
        int rc = bs__env_decode(hostile[i].bytes, hostile[i].len, &env);
        decode_everything(hostile[i].bytes, hostile[i].len);
        size_t got = count_stop();
        cr_assert_eq(rc, BS_ERR_PROTOCOL, "%s accepted", hostile[i].what);
        cr_assert_eq(got, 0, "%s: %zu bytes allocated", hostile[i].what, got);
    }
}

Test(alloc, deep_nesting_is_refused_without_allocating)
{
    static uint8_t deep[100000];
    memset(deep, 0x91, sizeof deep - 1); /* [[[[...[nil]...]]]] */
    deep[sizeof deep - 1] = 0xc0;
    count_start();
    bs__env env;
    int rc = bs__env_decode(deep, sizeof deep, &env);
    decode_everything(deep, sizeof deep);
    bs__mp rd;
    bs__mp_init(&rd, deep, sizeof deep);
    int skip = bs__mp_skip(&rd, BS_MP_DEPTH_MAX);
    cr_assert_eq(count_stop(), 0);
    cr_assert_eq(rc, BS_ERR_PROTOCOL);
    cr_assert_eq(skip, BS_ERR_PROTOCOL, "nesting of 100000 accepted");
}

Test(alloc, frame_lengths_are_checked_before_the_buffer_grows)
{
    static const uint32_t lens[] = {0xffffffffu, BS_FRAME_DEFAULT + 1, 0};
    for (size_t i = 0; i < 3; i++) {
        bs__inbuf ib = {0};
        uint8_t *p;
        size_t cap;
        cr_assert_eq(bs__inbuf_space(&ib, BS_FRAME_DEFAULT, &p, &cap), 0);
        bs__be32_put(p, lens[i]);
        bs__inbuf_wrote(&ib, 4);
        count_start();
        int rc = bs__inbuf_space(&ib, BS_FRAME_DEFAULT, &p, &cap);
        const uint8_t *f;
        size_t len;
        int next = bs__inbuf_next(&ib, BS_FRAME_DEFAULT, &f, &len);
        cr_assert_eq(count_stop(), 0, "length %u made the buffer grow", lens[i]);
        cr_assert_eq(rc, BS_ERR_PROTOCOL);
        cr_assert_eq(next, BS_ERR_PROTOCOL);
        bs__inbuf_free(&ib);
    }
    /* a length within the limit: the buffer grows once, to that frame */
    bs__inbuf ib = {0};
    uint8_t *p;
    size_t cap;
    bs__inbuf_space(&ib, BS_FRAME_DEFAULT, &p, &cap);
    bs__be32_put(p, BS_FRAME_DEFAULT);
    bs__inbuf_wrote(&ib, 4);
    count_start();
    cr_assert_eq(bs__inbuf_space(&ib, BS_FRAME_DEFAULT, &p, &cap), 0);
    size_t got = count_stop();
    cr_assert_leq(got, BS_FRAME_DEFAULT + BS_FRAME_HEADER, "%zu bytes for one frame", got);
    bs__inbuf_free(&ib);
}

/* ---- the server ------------------------------------------------------------ */

static void frame_req(bs_buf *b, bs__req r)
{
    cr_assert_eq(bs__enc_req(b, &r, BS_FRAME_DEFAULT, false, NULL), 0);
}

/* Hands every frame of b to the server; returns the most one frame cost. */
static size_t serve_all(serve *s, bs_buf *b)
{
    size_t worst = 0;
    for (size_t off = 0; off + BS_FRAME_HEADER <= b->len;) {
        uint32_t n = bs__be32_get(b->data + off);
        count_start();
        serve_frame(s, b->data + off + BS_FRAME_HEADER, n);
        size_t got = count_stop();
        if (got > worst) worst = got;
        off += BS_FRAME_HEADER + n;
        struct iovec iov[64];
        while (bs__outq_pending(&s->out)) { /* the client reads everything */
            int k = bs__outq_iov(&s->out, iov, 64);
            size_t sum = 0;
            for (int i = 0; i < k; i++) sum += iov[i].iov_len;
            bs__outq_consume(&s->out, sum);
        }
    }
    bs__buf_free(b);
    return worst;
}

Test(alloc, a_request_costs_the_server_at_most_two_frames)
{
    char *dir = bs_test_tmpdir();
    char url[PATH_MAX + 16];
    snprintf(url, sizeof url, "file://%s/store", dir);
    serve_opts o = {.log_level = BS_LOG_CRITICAL, .log_fd = 2, .max_frame = BS_FRAME_DEFAULT,
                    .max_value = BS_VALUE_DEFAULT, .max_inflight = BS_INFLIGHT_DEFAULT,
                    .list_memory = SERVE_LIST_MEMORY_DEFAULT, .backend_url = url};
    static serve s;
    s.opt = &o;
    s.page = calloc(BS_LIST_PAGE_DEFAULT + 1, sizeof *s.page);
    cr_assert_eq(bs_backend_new(&s.backend, url, NULL), 0);
    bs_buf b = {0};
    bs__req h = {.method = BS_M_HELLO, .id = 1};
    h.hello.versions = 1u << BS_PROTO_VERSION;
    h.hello.max_frame = BS_FRAME_DEFAULT;
    frame_req(&b, h);
    frame_req(&b, (bs__req){.method = BS_M_CREATE, .id = 2, .path = "x"});
    frame_req(&b, (bs__req){.method = BS_M_OPEN, .id = 3, .path = "x"});
    serve_all(&s, &b);
    cr_assert(s.hello_done && bs_backend_is_open(s.backend));

    /* a store announcing 256 MiB, then 10 bytes of it */
    frame_req(&b, (bs__req){.method = BS_M_STORE, .id = 4, .name = "data/big",
                            .size = (int64_t)BS_VALUE_DEFAULT});
    cr_assert_eq(bs__enc_data(&b, 4, 10, BS_FRAME_DEFAULT), 0);
    bs__buf_append(&b, "0123456789", 10);
    size_t worst = serve_all(&s, &b);
    cr_assert(s.up.active, "the upload goes on");
    cr_assert_leq(worst, 2 * BS_FRAME_DEFAULT, "%zu bytes for 10 bytes of a value", worst);
    bs__buf_free(&s.up.value);
    memset(&s.up, 0, sizeof s.up);

    /* the most blocks a defrag may have, all of names that do not exist */
    static bs_defrag_source src[BS_DEFRAG_MAX];
    for (size_t i = 0; i < BS_DEFRAG_MAX; i++) src[i] = (bs_defrag_source){"data/nope", 0, 1};
    frame_req(&b, (bs__req){.method = BS_M_DEFRAG, .id = 5, .sources = src,
                            .n_sources = BS_DEFRAG_MAX, .target = "data/t"});
    size_t frame = b.len;
    worst = serve_all(&s, &b);
    cr_assert_leq(worst, 2 * BS_FRAME_DEFAULT, "%zu bytes for a %zu-byte defrag", worst, frame);

    /* a list of 10000 names per page asked for */
    frame_req(&b, (bs__req){.method = BS_M_LIST, .id = 6, .name = "", .limit = 10000});
    worst = serve_all(&s, &b);
    cr_assert_leq(worst, 2 * BS_FRAME_DEFAULT, "%zu bytes for a list", worst);
    serve_shutdown(&s);
    bs__outq_free(&s.out);
    bs_test_rmtree(dir);
    free(dir);
}

/* ---- the client ------------------------------------------------------------ */

static void ok(bs_buf *b, uint32_t id, uint32_t m, const bs__result *r)
{
    cr_assert_eq(bs__enc_ok(b, id, m, r, BS_FRAME_DEFAULT, false, NULL), 0);
}

Test(alloc, an_announced_value_costs_the_client_nothing_before_it_arrives)
{
    bs_buf b = {0};
    uint8_t pre[BS_PROTO_PREAMBLE_LEN];
    bs__preamble_put(pre);
    bs__buf_append(&b, pre, sizeof pre);
    bs__result hello = {0};
    hello.hello.version = BS_PROTO_VERSION;
    hello.hello.max_frame = BS_FRAME_DEFAULT;
    hello.hello.max_value = BS_VALUE_DEFAULT;
    hello.hello.max_inflight = 4;
    ok(&b, 1, BS_M_HELLO, &hello);
    size_t after_hello = b.len;
    bs__result load = {.value_size = 1u << 30}; /* 1 GiB, to follow in DATA */
    ok(&b, 2, BS_M_LOAD, &load);
    cr_assert_eq(bs__enc_data(&b, 2, 10, BS_FRAME_DEFAULT), 0);
    bs__buf_append(&b, "0123456789", 10);

    mem_transport t;
    mem_transport_init(&t, b.data, after_hello, 64);
    t.hold = true; /* until the request is out */
    bs__rpc *c;
    bs__rpc_opts opts = {.timeout_ms = 2000, .max_value = 1u << 30};
    cr_assert_eq(bs__rpc_connect(&c, &t.base, &opts), 0, "%s", bs_error_message());
    uint32_t id;
    bs__req q = {.method = BS_M_LOAD, .name = "data/x", .size = BS_SIZE_ALL};
    cr_assert_eq(bs__rpc_submit(c, &q, &id), 0);
    t.p = b.data + after_hello; /* now the server answers */
    t.left = b.len - after_hello;
    t.hold = false;
    bs__reply r;
    count_start();
    int rc = bs__rpc_wait(c, id, &r);
    size_t got = count_stop();
    cr_assert_eq(rc, BS_ERR_CONNECTION, "the value never completes: %s", bs_error_message());
    cr_assert_leq(got, 2 * BS_FRAME_DEFAULT, "%zu bytes for 10 bytes of a 1 GiB value", got);
    bs__reply_clear(&r);
    bs__rpc_free(c);
    bs__buf_free(&b);
}

Test(alloc, a_value_arriving_in_pieces_is_assembled_exactly)
{
    /* the growing buffer must still hold every byte: 3 MiB in 64 KiB DATA */
    size_t len = 3u << 20, chunk = 65536;
    uint8_t *val = malloc(len);
    bs_test_fill(val, len, 11);
    bs_buf b = {0};
    uint8_t pre[BS_PROTO_PREAMBLE_LEN];
    bs__preamble_put(pre);
    bs__buf_append(&b, pre, sizeof pre);
    bs__result hello = {0};
    hello.hello.version = BS_PROTO_VERSION;
    hello.hello.max_frame = BS_FRAME_DEFAULT;
    hello.hello.max_value = BS_VALUE_DEFAULT;
    hello.hello.max_inflight = 4;
    ok(&b, 1, BS_M_HELLO, &hello);
    size_t after_hello = b.len;
    uint8_t h[BS_VALUE_HASH_LEN];
    bs__value_hash(h, val, len);
    bs__result load = {.value_size = len};
    ok(&b, 2, BS_M_LOAD, &load);
    for (size_t off = 0; off < len; off += chunk) {
        bool last = off + chunk == len;
        cr_assert_eq(last ? bs__enc_data_last(&b, 2, chunk, BS_FRAME_DEFAULT)
                          : bs__enc_data(&b, 2, chunk, BS_FRAME_DEFAULT), 0);
        bs__buf_append(&b, val + off, chunk);
        if (last) { /* the hash ends the last frame */
            uint8_t trailer[BS_DATA_TRAILER_LEN];
            bs__data_trailer(trailer, h);
            bs__buf_append(&b, trailer, sizeof trailer);
        }
    }
    mem_transport t;
    mem_transport_init(&t, b.data, after_hello, 100000);
    t.hold = true;
    bs__rpc *c;
    cr_assert_eq(bs__rpc_connect(&c, &t.base, NULL), 0, "%s", bs_error_message());
    uint32_t id;
    bs__req q = {.method = BS_M_LOAD, .name = "data/x", .size = BS_SIZE_ALL};
    cr_assert_eq(bs__rpc_submit(c, &q, &id), 0);
    t.p = b.data + after_hello;
    t.left = b.len - after_hello;
    t.hold = false;
    bs__reply r;
    cr_assert_eq(bs__rpc_wait(c, id, &r), 0, "%s", bs_error_message());
    cr_assert_eq(r.value_len, len);
    cr_assert_eq(memcmp(r.value, val, len), 0);
    bs__reply_clear(&r);
    bs__rpc_free(c);
    bs__buf_free(&b);
    free(val);
}
