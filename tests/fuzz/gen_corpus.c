/* Writes the seed corpus of every fuzz target (tests/fuzz/corpus/<target>/)
 * with the real encoders, so the seeds are valid conversations the fuzzer
 * mutates from. Not a test: run it by hand after a protocol change:
 *   build/tests/fuzz/fuzz_gen_corpus tests/fuzz/corpus */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "proto/frame.h"
#include "proto/msg.h"

static const char *root;

static void put(const char *target, const char *name, const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, target);
    if (mkdir(path, 0755) && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof path, "%s/%s/%s", root, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
        perror(path);
        exit(1);
    }
}

static void must(int rc, const char *what)
{
    if (rc) {
        fprintf(stderr, "encoding %s failed (%d)\n", what, rc);
        exit(1);
    }
}

/* ---- a client's side: requests --------------------------------------- */

typedef struct conv {
    bs_buf b;
    uint32_t id;
} conv;

static void conv_start(conv *c, uint8_t sel, uint32_t log_level)
{
    memset(c, 0, sizeof *c);
    bs__buf_append(&c->b, &sel, 1);
    uint8_t pre[BS_PROTO_PREAMBLE_LEN];
    bs__preamble_put(pre);
    bs__buf_append(&c->b, pre, sizeof pre);
    bs__req h = {.method = BS_M_HELLO, .id = c->id = 1};
    h.hello.versions = 1u << BS_PROTO_VERSION;
    snprintf(h.hello.impl, sizeof h.hello.impl, "seed");
    h.hello.features = BS_FEAT_ALL;
    h.hello.max_frame = BS_FRAME_DEFAULT;
    h.hello.max_value = 1u << 30;
    h.hello.log_level = log_level;
    must(bs__enc_req(&c->b, &h, BS_FRAME_MIN, false, NULL), "hello");
}

static void req(conv *c, bs__req r)
{
    r.id = ++c->id;
    must(bs__enc_req(&c->b, &r, BS_FRAME_DEFAULT, false, NULL), "request");
}

static void path_req(conv *c, uint32_t m, const char *path) { req(c, (bs__req){.method = m, .path = path}); }
static void name_req(conv *c, uint32_t m, const char *name) { req(c, (bs__req){.method = m, .name = name}); }

static uint8_t hashes[16][BS_VALUE_HASH_LEN];
static int nhash;

/* Appends the DATA frames of a value, the hash in the last one. */
static void data_frames(bs_buf *b, uint32_t id, const void *v, size_t n, size_t chunk,
                        const uint8_t *h)
{
    for (size_t off = 0; off < n; off += chunk) {
        size_t k = n - off < chunk ? n - off : chunk;
        bool last = off + k == n;
        must(last ? bs__enc_data_last(b, id, k, BS_FRAME_DEFAULT)
                  : bs__enc_data(b, id, k, BS_FRAME_DEFAULT), "data");
        bs__buf_append(b, (const uint8_t *)v + off, k);
        if (last) {
            uint8_t trailer[BS_DATA_TRAILER_LEN];
            bs__data_trailer(trailer, h);
            bs__buf_append(b, trailer, sizeof trailer);
        }
    }
}

static void store(conv *c, const char *name, const void *v, size_t n, size_t chunk)
{
    uint8_t *h = hashes[nhash++ % 16];
    bs__value_hash(h, v, n);
    bs__req r = {.method = BS_M_STORE, .name = name, .size = (int64_t)n,
                 .hash = chunk ? NULL : h, .data = v, .data_len = n, .has_data = chunk == 0};
    req(c, r);
    if (chunk) data_frames(&c->b, c->id, v, n, chunk, h);
}

static void conv_put(conv *c, const char *target, const char *name)
{
    put(target, name, c->b.data, c->b.len);
    bs__buf_free(&c->b);
}

static void serve_seeds(void)
{
    static uint8_t big[70000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 7 + i / 251);
    static const bs_defrag_source src[2] = {{"data/aa", 0, 3}, {"data/bb", 1, 100}};
    conv c;

    conv_start(&c, 0, 0); /* everything once */
    path_req(&c, BS_M_CREATE, "repo");
    path_req(&c, BS_M_OPEN, "repo");
    store(&c, "data/aa", "hello", 5, 0);
    store(&c, "data/bb", big, 3000, 1000);
    req(&c, (bs__req){.method = BS_M_LOAD, .name = "data/aa", .size = BS_SIZE_ALL});
    req(&c, (bs__req){.method = BS_M_LOAD, .name = "data/bb", .offset = 1, .size = 5});
    name_req(&c, BS_M_INFO, "data/aa");
    req(&c, (bs__req){.method = BS_M_LIST, .name = "data", .limit = 1});
    req(&c, (bs__req){.method = BS_M_LIST_NEXT, .cursor = 1});
    req(&c, (bs__req){.method = BS_M_LIST_END, .cursor = 1});
    req(&c, (bs__req){.method = BS_M_HASH, .name = "data/aa", .alg = "sha256"});
    req(&c, (bs__req){.method = BS_M_DEFRAG, .sources = src, .n_sources = 2, .ns = "data",
                      .alg = "sha256", .levels = 1});
    req(&c, (bs__req){.method = BS_M_DEFRAG, .sources = src, .n_sources = 1,
                      .target = "data/cc"});
    req(&c, (bs__req){.method = BS_M_MOVE, .name = "data/aa", .dst = "data/aa.del"});
    name_req(&c, BS_M_DELETE, "data/bb");
    name_req(&c, BS_M_MKDIR, "config/x");
    name_req(&c, BS_M_RMDIR, "config/x");
    req(&c, (bs__req){.method = BS_M_QUOTA});
    req(&c, (bs__req){.method = BS_M_PING, .data = (const uint8_t *)"ping", .data_len = 4,
                      .has_data = true});
    req(&c, (bs__req){.method = BS_M_CLOSE});
    path_req(&c, BS_M_DESTROY, "repo");
    conv_put(&c, "serve", "all_methods");

    conv_start(&c, 1, 0); /* read-only */
    path_req(&c, BS_M_CREATE, "repo");
    path_req(&c, BS_M_OPEN, "existing");
    req(&c, (bs__req){.method = BS_M_LOAD, .name = "data/aa", .size = BS_SIZE_ALL});
    store(&c, "data/aa", "x", 1, 0);
    name_req(&c, BS_M_LIST, "data");
    conv_put(&c, "serve", "read_only");

    conv_start(&c, 2, 0); /* small quota */
    path_req(&c, BS_M_CREATE, "q");
    path_req(&c, BS_M_OPEN, "q");
    store(&c, "data/a", big, 40000, 0);
    store(&c, "data/b", big, 40000, 0);
    req(&c, (bs__req){.method = BS_M_QUOTA});
    conv_put(&c, "serve", "quota");

    conv_start(&c, 4, 0); /* no delete */
    path_req(&c, BS_M_OPEN, "existing");
    store(&c, "data/a", "x", 1, 0);
    name_req(&c, BS_M_DELETE, "data/a");
    req(&c, (bs__req){.method = BS_M_MOVE, .name = "data/a", .dst = "data/b"});
    conv_put(&c, "serve", "no_delete");

    conv_start(&c, 8, 0); /* JSON permissions */
    path_req(&c, BS_M_OPEN, "existing");
    store(&c, "data/a", "x", 1, 0);
    store(&c, "data/a", "y", 1, 0);
    store(&c, "config/a", "x", 1, 0);
    name_req(&c, BS_M_DELETE, "config/cc");
    name_req(&c, BS_M_LIST, "");
    conv_put(&c, "serve", "json_permissions");

    conv_start(&c, 16, 0); /* pinned backend */
    path_req(&c, BS_M_CREATE, "ignored");
    path_req(&c, BS_M_OPEN, "ignored");
    store(&c, "a", "abc", 3, 0);
    name_req(&c, BS_M_LIST, "");
    conv_put(&c, "serve", "pinned");

    conv_start(&c, 32 | 64, 10); /* 64 KiB frames, debug log in-band */
    path_req(&c, BS_M_CREATE, "f");
    path_req(&c, BS_M_OPEN, "f");
    store(&c, "data/big", big, sizeof big, 60000);
    req(&c, (bs__req){.method = BS_M_LOAD, .name = "data/big", .size = BS_SIZE_ALL});
    name_req(&c, BS_M_INFO, "data/nope");
    conv_put(&c, "serve", "small_frames_debug");

    conv_start(&c, 0, 0); /* mistakes the server must answer */
    path_req(&c, BS_M_OPEN, "../etc");
    path_req(&c, BS_M_OPEN, "/etc");
    path_req(&c, BS_M_CREATE, "r");
    name_req(&c, BS_M_INFO, "x");
    path_req(&c, BS_M_OPEN, "r");
    name_req(&c, BS_M_INFO, "../x");
    name_req(&c, BS_M_INFO, "A");
    req(&c, (bs__req){.method = BS_M_LIST_NEXT, .cursor = 99});
    req(&c, (bs__req){.method = BS_M_HASH, .name = "x", .alg = "md5"});
    bs__req again = {.method = BS_M_HELLO, .id = 77};
    again.hello.versions = 1u << BS_PROTO_VERSION;
    again.hello.max_frame = BS_FRAME_MIN;
    must(bs__enc_req(&c.b, &again, BS_FRAME_MIN, false, NULL), "hello");
    static const uint8_t junk[] = {0, 0, 0, 3, 0x93, 0x01, 0xc1};
    bs__buf_append(&c.b, junk, sizeof junk);
    conv_put(&c, "serve", "mistakes");

    conv_start(&c, 0, 0); /* an upload cut short by another request */
    path_req(&c, BS_M_CREATE, "u");
    path_req(&c, BS_M_OPEN, "u");
    req(&c, (bs__req){.method = BS_M_STORE, .name = "data/u", .size = 10});
    must(bs__enc_data(&c.b, c.id, 4, BS_FRAME_DEFAULT), "data");
    bs__buf_append(&c.b, "abcd", 4);
    name_req(&c, BS_M_INFO, "data/u");
    conv_put(&c, "serve", "upload_interrupted");
}

/* Requests with ids chosen by hand: 0, a repeat, more than the window. */
static void id_seeds(void)
{
    conv c;
    conv_start(&c, 128, 0); /* max_inflight 2 */
    path_req(&c, BS_M_CREATE, "i");
    path_req(&c, BS_M_OPEN, "i");
    store(&c, "data/a", "abc", 3, 0);
    static const uint32_t ids[] = {9, 9, 10, 11, 12, 0, 13};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        bs__req r = {.method = i % 2 ? BS_M_PING : BS_M_LOAD, .name = "data/a",
                     .size = BS_SIZE_ALL, .id = ids[i]};
        must(bs__enc_req(&c.b, &r, BS_FRAME_DEFAULT, false, NULL), "request");
    }
    conv_put(&c, "serve", "ids_and_window");

    conv_start(&c, 0, 0); /* load ranges at the int64 edge, sources of the wrong type */
    path_req(&c, BS_M_CREATE, "e");
    path_req(&c, BS_M_OPEN, "e");
    store(&c, "data/a", "hello", 5, 0);
    req(&c, (bs__req){.method = BS_M_LOAD, .name = "data/a", .offset = INT64_MAX,
                      .size = BS_SIZE_ALL});
    req(&c, (bs__req){.method = BS_M_LOAD, .name = "data/a", .offset = 2, .size = INT64_MAX});
    req(&c, (bs__req){.method = BS_M_LOAD, .name = "data/a", .offset = INT64_MAX - 1,
                      .size = 10});
    /* [1, id, defrag, {"sources": "data/a", "target": "data/b"}] */
    static const uint8_t wrong[] = {0x94, 0x01, 0x63, BS_M_DEFRAG, 0x82,
                                    0xa7, 's', 'o', 'u', 'r', 'c', 'e', 's',
                                    0xa6, 'd', 'a', 't', 'a', '/', 'a',
                                    0xa6, 't', 'a', 'r', 'g', 'e', 't',
                                    0xa6, 'd', 'a', 't', 'a', '/', 'b'};
    uint8_t len[BS_FRAME_HEADER];
    bs__be32_put(len, sizeof wrong);
    bs__buf_append(&c.b, len, sizeof len);
    bs__buf_append(&c.b, wrong, sizeof wrong);
    conv_put(&c, "serve", "edges");
}

/* ---- a server's side: replies ------------------------------------------ */

static void ok(bs_buf *b, uint32_t id, uint32_t m, const bs__result *r)
{
    must(bs__enc_ok(b, id, m, r, BS_FRAME_DEFAULT, false, NULL), "result");
}

static void server_hello(bs_buf *b, uint32_t inflight)
{
    uint8_t pre[BS_PROTO_PREAMBLE_LEN];
    bs__preamble_put(pre);
    bs__buf_append(b, pre, sizeof pre);
    bs__result r = {0};
    bs__hello *h = &r.hello;
    h->version = BS_PROTO_VERSION;
    snprintf(h->impl, sizeof h->impl, "seed-server");
    h->features = BS_FEAT_ALL;
    h->max_frame = BS_FRAME_DEFAULT;
    h->max_value = BS_VALUE_DEFAULT;
    h->max_inflight = inflight;
    h->max_inflight_bytes = BS_INFLIGHT_BYTES_DEFAULT;
    h->max_name = BS_NAME_MAX;
    h->list_page = BS_LIST_PAGE_DEFAULT;
    h->max_defrag = BS_DEFRAG_MAX;
    ok(b, 1, BS_M_HELLO, &r);
}

/* Answers to the pipeline fuzz_reply.c sends (ids 2..16). */
static void replies(bs_buf *b, bool logs)
{
    uint32_t id = 2;
    bs__result r = {0};
    r.info = (bs_item_info){.exists = true, .size = 3, .atime_ns = 1700000000000000000};
    ok(b, id++, BS_M_INFO, &r);
    uint8_t h[BS_VALUE_HASH_LEN];
    bs__value_hash(h, "hello", 5);
    r = (bs__result){.value_size = 5, .hash = h, .data = (const uint8_t *)"hello", .data_len = 5,
                     .has_data = true};
    ok(b, id++, BS_M_LOAD, &r);
    if (logs) must(bs__enc_log(b, BS_LOG_WARNING, "a warning from the server"), "log");
    bs__value_hash(h, "abcd", 4);
    r = (bs__result){.value_size = 4};
    ok(b, id, BS_M_LOAD, &r);
    data_frames(b, id++, "abcd", 4, 2, h);
    bs_item_info e[3] = {{.name = "aa", .size = 3}, {.name = "bb", .directory = true},
                         {.name = "cc", .size = 9}};
    r = (bs__result){.entries = e, .n_entries = 2, .has_cursor = true, .cursor = 1};
    ok(b, id++, BS_M_LIST, &r);
    r = (bs__result){.entries = e + 2, .n_entries = 1};
    ok(b, id++, BS_M_LIST_NEXT, &r);
    r = (bs__result){0};
    memset(r.hex, 'a', 64);
    ok(b, id++, BS_M_HASH, &r);
    r = (bs__result){0};
    snprintf(r.name, sizeof r.name, "data/ab/abcdef");
    ok(b, id++, BS_M_DEFRAG, &r);
    r = (bs__result){.quota = {1000, 10}};
    ok(b, id++, BS_M_QUOTA, &r);
    r = (bs__result){.data = (const uint8_t *)"hel", .data_len = 3, .has_data = true};
    ok(b, id++, BS_M_PING, &r);
    r = (bs__result){0};
    ok(b, id++, BS_M_STORE, &r);
    must(bs__enc_err(b, id++, BS_ERR_NOT_FOUND, "data/ff: not found"), "err");
    ok(b, id++, BS_M_MOVE, &r);
    ok(b, id++, BS_M_MKDIR, &r);
    ok(b, id++, BS_M_LIST_END, &r);
    bs__value_hash(h, "", 0);
    r = (bs__result){.value_size = 0, .hash = h, .data = (const uint8_t *)"", .has_data = true};
    ok(b, id++, BS_M_LOAD, &r);
}

static void reply_seeds(void)
{
    /* read size, collection mode, window, LOG frames in between */
    static const struct { uint8_t piece, mode; uint32_t window; bool logs; } v[] = {
        {0, 0, 128, false}, {1, 1, 128, true}, {2, 2, 128, false}, {1, 0, 2, true},
        {3, 0, 128, false}, /* all at once: replies before requests, refused */
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        bs_buf b = {0};
        uint8_t sel[2] = {v[i].piece, v[i].mode};
        bs__buf_append(&b, sel, 2);
        server_hello(&b, v[i].window);
        replies(&b, v[i].logs);
        char name[32];
        snprintf(name, sizeof name, "pipeline_%zu", i);
        put("reply", name, b.data, b.len);
        bs__buf_free(&b);
    }
    bs_buf b = {0};
    bs__buf_append(&b, "\3\0", 2);
    uint8_t pre[BS_PROTO_PREAMBLE_LEN];
    bs__preamble_put(pre);
    bs__buf_append(&b, pre, sizeof pre);
    must(bs__enc_err(&b, 1, BS_ERR_UNSUPPORTED, "no common protocol version"), "err");
    put("reply", "hello_refused", b.data, b.len);
    bs__buf_free(&b);
    /* a hostile server: LOG frames before each answer, an ERR text full of
     * terminal escapes, list pages without entries that keep a cursor */
    b = (bs_buf){0};
    bs__buf_append(&b, "\1\0", 2);
    server_hello(&b, 128);
    for (uint32_t id = 2; id <= 16; id++) {
        for (int i = 0; i < 3; i++) must(bs__enc_log(&b, BS_LOG_WARNING, "busy"), "log");
        bs__result r = {.has_cursor = true, .cursor = 5};
        if (id == 5) ok(&b, id, BS_M_LIST, &r);
        else if (id == 6) ok(&b, id, BS_M_LIST_NEXT, &r);
        else must(bs__enc_err(&b, id, BS_ERR_NOT_FOUND, "gone\x1b[2J\x1b]0;t\x07\nfake: line"), "err");
    }
    put("reply", "hostile", b.data, b.len);
    bs__buf_free(&b);
    static const char banner[] = "\3\0Welcome to the machine\nbash: borgstore-serve: not found\n";
    put("reply", "banner", banner, sizeof banner - 1);
}

/* ---- single messages and frames ---------------------------------------- */

static void msg_seeds(void)
{
    static const bs_defrag_source src[2] = {{"data/aa", 0, 3}, {"data/bb", 1, 2}};
    uint8_t h[BS_VALUE_HASH_LEN];
    bs__value_hash(h, "abc", 3);
    bs__req reqs[] = {
        {.method = BS_M_HELLO, .hello = {.versions = 1u << BS_PROTO_VERSION, .impl = "x", .features = 7,
                                         .max_frame = BS_FRAME_DEFAULT, .log_level = 20}},
        {.method = BS_M_PING, .data = (const uint8_t *)"p", .data_len = 1, .has_data = true},
        {.method = BS_M_OPEN, .path = "/srv/repo"},
        {.method = BS_M_LOAD, .name = "data/aa", .offset = -3, .size = 2},
        {.method = BS_M_STORE, .name = "data/aa", .size = 3, .hash = h,
         .data = (const uint8_t *)"abc", .data_len = 3, .has_data = true},
        {.method = BS_M_MOVE, .name = "a", .dst = "b"},
        {.method = BS_M_LIST, .name = "data", .limit = 5, .after = "aa"},
        {.method = BS_M_LIST_NEXT, .cursor = 3, .limit = 2},
        {.method = BS_M_HASH, .name = "a", .alg = "blake2b"},
        {.method = BS_M_DEFRAG, .sources = src, .n_sources = 2, .target = "data/x", .levels = 2},
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        bs_buf b = {0};
        uint8_t m = (uint8_t)reqs[i].method;
        bs__buf_append(&b, &m, 1);
        reqs[i].id = 5;
        size_t mark = b.len;
        must(bs__enc_req(&b, &reqs[i], BS_FRAME_DEFAULT, false, NULL), "request");
        memmove(b.data + mark, b.data + mark + BS_FRAME_HEADER, b.len - mark - BS_FRAME_HEADER);
        b.len -= BS_FRAME_HEADER;
        char name[32];
        snprintf(name, sizeof name, "req_%02u", m);
        put("msg", name, b.data, b.len);
        bs__buf_free(&b);
    }
    bs_buf all = {0};
    server_hello(&all, 128);
    replies(&all, true);
    /* split the reply stream into frames, each a seed with a method byte */
    size_t off = BS_PROTO_PREAMBLE_LEN;
    static const uint8_t order[] = {BS_M_HELLO, BS_M_INFO, BS_M_LOAD, 0, BS_M_LOAD, BS_M_LOAD,
                                    BS_M_LOAD, BS_M_LIST, BS_M_LIST_NEXT, BS_M_HASH, BS_M_DEFRAG,
                                    BS_M_QUOTA, BS_M_PING, BS_M_STORE, BS_M_DELETE, BS_M_MOVE,
                                    BS_M_MKDIR, BS_M_LIST_END, BS_M_LOAD};
    for (size_t i = 0; off + BS_FRAME_HEADER <= all.len && i < sizeof order; i++) {
        uint32_t n = bs__be32_get(all.data + off);
        bs_buf b = {0};
        bs__buf_append(&b, &order[i], 1);
        bs__buf_append(&b, all.data + off + BS_FRAME_HEADER, n);
        char name[32];
        snprintf(name, sizeof name, "frame_%02zu", i);
        put("msg", name, b.data, b.len);
        bs__buf_free(&b);
        off += BS_FRAME_HEADER + n;
    }
    /* the frame target reads the same stream with selectors */
    bs_buf fr = {0};
    bs__buf_append(&fr, "\0\x85", 2);
    bs__buf_append(&fr, all.data + BS_PROTO_PREAMBLE_LEN, all.len - BS_PROTO_PREAMBLE_LEN);
    put("frame", "replies_whole", fr.data, fr.len > 3000 ? 3000 : fr.len);
    fr.data[0] = 3;
    fr.data[1] = 4;
    put("frame", "replies_pieces", fr.data, fr.len > 3000 ? 3000 : fr.len);
    bs__buf_free(&fr);
    bs__buf_free(&all);
    static const uint8_t bad[] = {0, 0x80, 0, 0, 0, 1, 0xc0, 0xff, 0xff, 0xff, 0xff, 0};
    put("frame", "bad_length", bad, sizeof bad);
    static const uint8_t zero[] = {1, 0x80, 0, 0, 0, 0};
    put("frame", "empty_frame", zero, sizeof zero);
}

static void text_seeds(void)
{
    static const char *const names[] = {"data/0123abcd", "", "config/manifest", "a/../b", "Data",
                                        "x.tmp", "/abs", "data//x", "quota.hid", "a\tb",
                                        "keys/repokey", "data/00/01/0001ff.del"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char n[16];
        snprintf(n, sizeof n, "name_%02zu", i);
        put("names", n, names[i], strlen(names[i]));
    }
    static const char *const urls[] = {"file:///tmp/x", "serve:///srv/a%20b",
                                       "ssh://user@host:2222/rel/repo", "ssh://[::1]:22//abs",
                                       "sftp://h/p", "rclone:remote:path/x",
                                       "ssh://-oProxyCommand=x/y", "file://relative",
                                       "serve:///%00", "ssh://u@h:0/x"};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        char n[16];
        snprintf(n, sizeof n, "url_%02zu", i);
        put("url", n, urls[i], strlen(urls[i]));
    }
#define S(x) {x, sizeof x - 1}
    static const struct { const char *s; size_t n; } perms[] = {
        S("borgbackup-all"), S("borgbackup-no-delete"), S("borgbackup-write-only"),
        S("borgbackup-read-only"), S("{}"),
        S("{\"\": \"lr\", \"data\": \"lrw\"}\0data/x\0config"),
        S("{\"a\\/b\": \"D\", \"x\": \"\"}\0a/b/c"), S("  {\"\":\"lrwWD\"}  "),
        S("{\"\": \"ll\"}")};
    for (size_t i = 0; i < sizeof perms / sizeof perms[0]; i++) {
        char n[16];
        snprintf(n, sizeof n, "perm_%02zu", i);
        put("permissions", n, perms[i].s, perms[i].n);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    root = argv[1];
    mkdir(root, 0755);
    serve_seeds();
    id_seeds();
    reply_seeds();
    msg_seeds();
    text_seeds();
    return 0;
}
