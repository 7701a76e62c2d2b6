/* Fuzz target: message decoding. The first byte picks a method, the rest is
 * a frame's msgpack bytes. They go through the generic skipper, the envelope
 * decoder and, as a request and as a result of that method, the body
 * decoders. Whatever decodes must survive a round trip: encoding the decoded
 * message and decoding it again gives the same fields. */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"

#include "common/error.h"
#include "proto/frame.h"
#include "proto/mp.h"
#include "proto/msg.h"

static const uint8_t *lo, *hi; /* the input: every view must lie inside */

static void inside(const void *p, size_t n, const char *what)
{
    if (!n) return;
    const uint8_t *b = p;
    FUZZ_CHECK(b >= lo && b + n <= hi, "%s points outside the input", what);
}

static bool str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool bin_eq(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    return an == bn && (!an || !memcmp(a, b, an));
}

/* Encodes one message with enc and returns the body of the frame it made
 * (decoded by env); the frame lives in b. */
static void reframe(bs_buf *b, unsigned kind, bs__env *env)
{
    FUZZ_CHECK(b->len > BS_FRAME_HEADER, "empty frame");
    FUZZ_CHECK(bs__be32_get(b->data) == b->len - BS_FRAME_HEADER, "frame length");
    int rc = bs__env_decode(b->data + BS_FRAME_HEADER, b->len - BS_FRAME_HEADER, env);
    FUZZ_CHECK(rc == 0, "own frame does not decode: %s", bs_error_message());
    FUZZ_CHECK(env->kind == kind && env->id == 7, "kind %u id %u", env->kind, env->id);
}

static bs_defrag_source srcs[BS_DEFRAG_MAX];
static char src_names[BS_DEFRAG_MAX][BS_NAME_BUF];
static bs_item_info ents[BS_LIST_PAGE_CEIL];

static void req_check(uint64_t method, const uint8_t *body, size_t len)
{
    static bs__req q, q2;
    int rc = bs__req_decode(&q, method, body, len);
    if (rc) {
        FUZZ_CHECK(rc == BS_ERR_PROTOCOL || rc == BS_ERR_INVALID, "request rc %d", rc);
        return;
    }
    FUZZ_CHECK(method < BS_M_COUNT, "unknown method %llu decoded", (unsigned long long)method);
    inside(q.data, q.data_len, "data");
    if (q.hash) inside(q.hash, BS_VALUE_HASH_LEN, "hash");
    inside(q.sources_raw, q.sources_raw_len, "sources");
    if (q.name) FUZZ_CHECK(strlen(q.name) < BS_NAME_BUF, "name length");
    if (q.path) FUZZ_CHECK(strlen(q.path) < BS_PATH_MAX, "path length");
    size_t pos = 0, n = 0;
    for (;;) {
        FUZZ_CHECK(n <= q.n_sources && n < BS_DEFRAG_MAX + 1, "too many sources");
        int got = n < BS_DEFRAG_MAX ? bs__defrag_source_next(&q, &pos, src_names[n], &srcs[n].offset,
                                                             &srcs[n].size)
                                    : 0;
        if (got == 0) break;
        FUZZ_CHECK(got == 1, "a decoded source does not walk (%d)", got);
        srcs[n].name = src_names[n];
        n++;
    }
    FUZZ_CHECK(n == q.n_sources, "walked %zu of %zu sources", n, q.n_sources);

    /* round trip */
    if ((method == BS_M_HASH && !q.alg) || (method == BS_M_STORE && !q.hash)) return;
    bs__req e = q;
    e.id = 7;
    e.sources = srcs;
    bs_buf b = {0};
    rc = bs__enc_req(&b, &e, BS_FRAME_CEIL, false, NULL);
    FUZZ_CHECK(rc == 0, "decoded request does not encode: %s", bs_error_message());
    bs__env env;
    reframe(&b, BS_KIND_REQ, &env);
    FUZZ_CHECK(env.method == method, "method %llu", (unsigned long long)env.method);
    rc = bs__req_decode(&q2, method, env.body, env.body_len);
    FUZZ_CHECK(rc == 0, "re-encoded request does not decode: %s", bs_error_message());
    switch (method) {
    case BS_M_HELLO:
        FUZZ_CHECK(q.hello.versions == q2.hello.versions && q.hello.features == q2.hello.features &&
                       q.hello.max_frame == q2.hello.max_frame &&
                       q.hello.max_value == q2.hello.max_value &&
                       q.hello.log_level == q2.hello.log_level &&
                       !strcmp(q.hello.impl, q2.hello.impl),
                   "hello differs");
        break;
    case BS_M_PING:
        FUZZ_CHECK(q.has_data == q2.has_data && bin_eq(q.data, q.data_len, q2.data, q2.data_len),
                   "ping data differs");
        break;
    case BS_M_CREATE: case BS_M_DESTROY: case BS_M_OPEN:
        FUZZ_CHECK(str_eq(q.path, q2.path), "path differs");
        break;
    case BS_M_MKDIR: case BS_M_RMDIR: case BS_M_INFO: case BS_M_DELETE:
        FUZZ_CHECK(str_eq(q.name, q2.name), "name differs");
        break;
    case BS_M_LOAD:
        FUZZ_CHECK(str_eq(q.name, q2.name) && q.offset == q2.offset && q.size == q2.size,
                   "load differs");
        break;
    case BS_M_STORE:
        FUZZ_CHECK(str_eq(q.name, q2.name) && q.size == q2.size &&
                       !memcmp(q.hash, q2.hash, BS_VALUE_HASH_LEN) && q.has_data == q2.has_data &&
                       bin_eq(q.data, q.data_len, q2.data, q2.data_len),
                   "store differs");
        break;
    case BS_M_MOVE:
        FUZZ_CHECK(str_eq(q.name, q2.name) && str_eq(q.dst, q2.dst), "move differs");
        break;
    case BS_M_LIST:
        FUZZ_CHECK(str_eq(q.name, q2.name) && q.limit == q2.limit && str_eq(q.after, q2.after),
                   "list differs");
        break;
    case BS_M_LIST_NEXT:
        FUZZ_CHECK(q.cursor == q2.cursor && q.limit == q2.limit, "list_next differs");
        break;
    case BS_M_LIST_END:
        FUZZ_CHECK(q.cursor == q2.cursor, "list_end differs");
        break;
    case BS_M_HASH:
        FUZZ_CHECK(str_eq(q.name, q2.name) && str_eq(q.alg, q2.alg), "hash differs");
        break;
    case BS_M_DEFRAG: {
        FUZZ_CHECK(str_eq(q.target, q2.target) && str_eq(q.alg, q2.alg) && str_eq(q.ns, q2.ns) &&
                       q.levels == q2.levels && q.n_sources == q2.n_sources,
                   "defrag differs");
        size_t p2 = 0;
        for (size_t i = 0; i < n; i++) {
            char nm[BS_NAME_BUF];
            uint64_t off, sz;
            FUZZ_CHECK(bs__defrag_source_next(&q2, &p2, nm, &off, &sz) == 1, "source %zu", i);
            FUZZ_CHECK(!strcmp(nm, srcs[i].name) && off == srcs[i].offset && sz == srcs[i].size,
                       "source %zu differs", i);
        }
        break;
    }
    default:
        break;
    }
    bs__buf_free(&b);
}

static void res_check(uint32_t method, const uint8_t *body, size_t len)
{
    static bs__result r, r2;
    int rc = bs__result_decode(&r, method, body, len);
    if (rc) {
        FUZZ_CHECK(rc == BS_ERR_PROTOCOL, "result rc %d", rc);
        return;
    }
    inside(r.data, r.data_len, "data");
    if (r.hash) inside(r.hash, BS_VALUE_HASH_LEN, "hash");
    inside(r.entries_raw, r.entries_raw_len, "entries");
    FUZZ_CHECK(memchr(r.hex, '\0', sizeof r.hex) && memchr(r.name, '\0', sizeof r.name),
               "unterminated string");
    size_t pos = 0, n = 0;
    for (;;) {
        FUZZ_CHECK(n <= r.n_entries && n < BS_LIST_PAGE_CEIL + 1, "too many entries");
        int got = n < BS_LIST_PAGE_CEIL ? bs__list_entry_next(&r, &pos, &ents[n]) : 0;
        if (got == 0) break;
        FUZZ_CHECK(got == 1, "a decoded entry does not walk (%d)", got);
        n++;
    }
    FUZZ_CHECK(n == r.n_entries, "walked %zu of %zu entries", n, r.n_entries);
    if (method >= BS_M_COUNT || (method == BS_M_LOAD && !r.hash)) return;

    /* round trip */
    bs__result e = r;
    e.entries = ents;
    bs_buf b = {0};
    rc = bs__enc_ok(&b, 7, method, &e, BS_FRAME_CEIL, false, NULL);
    FUZZ_CHECK(rc == 0, "decoded result does not encode: %s", bs_error_message());
    bs__env env;
    reframe(&b, BS_KIND_OK, &env);
    rc = bs__result_decode(&r2, method, env.body, env.body_len);
    FUZZ_CHECK(rc == 0, "re-encoded result does not decode: %s", bs_error_message());
    const bs__hello *h = &r.hello, *h2 = &r2.hello;
    switch (method) {
    case BS_M_HELLO:
        FUZZ_CHECK(h->version == h2->version && !strcmp(h->impl, h2->impl) &&
                       h->features == h2->features && h->max_frame == h2->max_frame &&
                       h->max_value == h2->max_value && h->max_inflight == h2->max_inflight &&
                       h->max_inflight_bytes == h2->max_inflight_bytes &&
                       h->max_name == h2->max_name && h->list_page == h2->list_page &&
                       h->max_defrag == h2->max_defrag &&
                       !strcmp(h->permissions, h2->permissions) && h->quota == h2->quota &&
                       h->read_only == h2->read_only && h->pinned == h2->pinned,
                   "hello result differs");
        break;
    case BS_M_INFO:
        FUZZ_CHECK(r.info.exists == r2.info.exists && r.info.directory == r2.info.directory &&
                       r.info.size == r2.info.size && r.info.atime_ns == r2.info.atime_ns,
                   "info differs");
        break;
    case BS_M_LOAD:
        FUZZ_CHECK(r.value_size == r2.value_size && !memcmp(r.hash, r2.hash, BS_VALUE_HASH_LEN) &&
                       r.has_data == r2.has_data &&
                       bin_eq(r.data, r.data_len, r2.data, r2.data_len),
                   "load result differs");
        break;
    case BS_M_PING:
        FUZZ_CHECK(r.has_data == r2.has_data && bin_eq(r.data, r.data_len, r2.data, r2.data_len),
                   "ping result differs");
        break;
    case BS_M_LIST: case BS_M_LIST_NEXT: {
        FUZZ_CHECK(r.n_entries == r2.n_entries && r.has_cursor == r2.has_cursor &&
                       (!r.has_cursor || r.cursor == r2.cursor),
                   "list result differs");
        size_t p2 = 0;
        for (size_t i = 0; i < n; i++) {
            bs_item_info it;
            FUZZ_CHECK(bs__list_entry_next(&r2, &p2, &it) == 1, "entry %zu", i);
            FUZZ_CHECK(!strcmp(it.name, ents[i].name) && it.directory == ents[i].directory &&
                           it.size == ents[i].size && it.atime_ns == ents[i].atime_ns,
                       "entry %zu differs", i);
        }
        break;
    }
    case BS_M_HASH:
        FUZZ_CHECK(!strcmp(r.hex, r2.hex), "hex differs");
        break;
    case BS_M_DEFRAG:
        FUZZ_CHECK(!strcmp(r.name, r2.name), "name differs");
        break;
    case BS_M_QUOTA:
        FUZZ_CHECK(r.quota.limit == r2.quota.limit && r.quota.usage == r2.quota.usage,
                   "quota differs");
        break;
    default:
        break;
    }
    bs__buf_free(&b);
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint64_t method = data[0] < 0xf0 ? data[0] % BS_M_COUNT : 1000 + data[0];
    const uint8_t *body = data + 1;
    size_t len = size - 1;
    lo = body;
    hi = body + len;

    bs__mp r;
    bs__mp_init(&r, body, len);
    (void)bs__mp_skip(&r, BS_MP_DEPTH_MAX);
    FUZZ_CHECK(r.p >= body && r.p <= hi, "skip left the buffer");

    bs__env env;
    if (bs__env_decode(body, len, &env) == 0) {
        FUZZ_CHECK(env.kind >= BS_KIND_REQ && env.kind <= BS_KIND_LOG, "kind %u", env.kind);
        inside(env.body, env.body_len, "body");
        inside(env.text, env.text_len, "text");
        inside(env.data, env.data_len, "data");
        if (env.kind == BS_KIND_DATA) FUZZ_CHECK(env.data_len > 0, "empty DATA chunk");
        if (env.hash) {
            FUZZ_CHECK(env.kind == BS_KIND_DATA, "a hash outside DATA");
            inside(env.hash, BS_VALUE_HASH_LEN, "trailing hash");
        }
        if (env.kind == BS_KIND_REQ) req_check(env.method, env.body, env.body_len);
        if (env.kind == BS_KIND_OK) res_check((uint32_t)method, env.body, env.body_len);
    }
    req_check(method, body, len);
    res_check((uint32_t)method, body, len);
    return 0;
}
