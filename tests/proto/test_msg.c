/* Messages: every method's arguments and results survive encode/decode, and
 * every malformed-input rule answers with the right code. */
#include <criterion/criterion.h>
#include <string.h>

#include "borgstore/errors.h"
#include "common/buf.h"
#include "proto/frame.h"
#include "proto/msg.h"
#include "proto/mp.h"

/* Encoded frame + tail bytes -> the msgpack bytes of that one frame. */
static bs_buf frame_bytes;

static const uint8_t *unframe(bs_buf *b, const void *tail, size_t tail_len, size_t *len)
{
    if (tail_len) bs__buf_append(b, tail, tail_len);
    uint32_t n = bs__be32_get(b->data);
    cr_assert_eq((size_t)n + 4, b->len, "length prefix covers header and tail");
    *len = n;
    return b->data + 4;
}

static void req_roundtrip(const bs__req *in, bool inline_tail, bs__req *out)
{
    bs__buf_free(&frame_bytes);
    size_t tail;
    cr_assert_eq(bs__enc_req(&frame_bytes, in, BS_FRAME_DEFAULT, inline_tail, &tail), 0,
                 "%s", bs_error_message());
    size_t len;
    const uint8_t *f = unframe(&frame_bytes, in->data, tail, &len);
    bs__env env;
    cr_assert_eq(bs__env_decode(f, len, &env), 0, "%s", bs_error_message());
    cr_assert_eq(env.kind, BS_KIND_REQ);
    cr_assert_eq(env.id, in->id);
    cr_assert_eq(env.method, in->method);
    cr_assert_eq(bs__req_decode(out, env.method, env.body, env.body_len), 0, "%s",
                 bs_error_message());
}

static void res_roundtrip(uint32_t method, const bs__result *in, bs__result *out)
{
    bs__buf_free(&frame_bytes);
    size_t tail;
    cr_assert_eq(bs__enc_ok(&frame_bytes, 77, method, in, BS_FRAME_DEFAULT, true, &tail), 0);
    size_t len;
    const uint8_t *f = unframe(&frame_bytes, in->data, tail, &len);
    bs__env env;
    cr_assert_eq(bs__env_decode(f, len, &env), 0, "%s", bs_error_message());
    cr_assert_eq(env.kind, BS_KIND_OK);
    cr_assert_eq(env.id, 77);
    cr_assert_eq(bs__result_decode(out, method, env.body, env.body_len), 0, "%s",
                 bs_error_message());
}

static uint8_t H[BS_VALUE_HASH_LEN];

Test(msg, hello_round_trips_both_ways)
{
    static bs__req in, out;
    in.method = BS_M_HELLO;
    in.id = 1;
    in.hello.versions = 1u << 1 | 1u << 3;
    strcpy(in.hello.impl, "borgstore-c test");
    in.hello.features = BS_FEAT_ALL;
    in.hello.max_frame = 123456;
    in.hello.max_value = 1ull << 40;
    in.hello.log_level = BS_LOG_INFO;
    req_roundtrip(&in, false, &out);
    cr_assert_eq(out.hello.versions, in.hello.versions);
    cr_assert_str_eq(out.hello.impl, "borgstore-c test");
    cr_assert_eq(out.hello.features, BS_FEAT_ALL);
    cr_assert_eq(out.hello.max_frame, 123456);
    cr_assert_eq(out.hello.max_value, 1ull << 40);
    cr_assert_eq(out.hello.log_level, BS_LOG_INFO);

    static bs__result r, o;
    r.hello = (bs__hello){.version = 1, .features = BS_FEAT_LOG, .max_frame = 65536,
                          .max_value = 99, .max_inflight = 7, .max_inflight_bytes = 1 << 20,
                          .max_name = 100, .list_page = 500, .max_defrag = 10,
                          .quota = 4096, .read_only = true, .pinned = false};
    strcpy(r.hello.impl, "borgstore-serve x");
    strcpy(r.hello.permissions, "{\"\": \"lr\"}");
    res_roundtrip(BS_M_HELLO, &r, &o);
    cr_assert_eq(o.hello.version, 1);
    cr_assert_eq(o.hello.features, BS_FEAT_LOG);
    cr_assert_eq(o.hello.max_inflight, 7);
    cr_assert_eq(o.hello.max_inflight_bytes, 1 << 20);
    cr_assert_eq(o.hello.list_page, 500);
    cr_assert_eq(o.hello.max_defrag, 10);
    cr_assert_eq(o.hello.quota, 4096);
    cr_assert(o.hello.read_only);
    cr_assert(!o.hello.pinned);
    cr_assert_str_eq(o.hello.permissions, "{\"\": \"lr\"}");
    cr_assert_str_eq(o.hello.impl, "borgstore-serve x");
}

Test(msg, simple_requests_round_trip)
{
    static bs__req in, out;
    const uint32_t named[] = {BS_M_MKDIR, BS_M_RMDIR, BS_M_INFO, BS_M_DELETE};
    for (int i = 0; i < 4; i++) {
        memset(&in, 0, sizeof in);
        in.method = named[i];
        in.id = 1000 + (uint32_t)i;
        in.name = "data/00/abc";
        req_roundtrip(&in, false, &out);
        cr_assert_str_eq(out.name, "data/00/abc");
    }
    const uint32_t pathed[] = {BS_M_CREATE, BS_M_DESTROY, BS_M_OPEN};
    for (int i = 0; i < 3; i++) {
        memset(&in, 0, sizeof in);
        in.method = pathed[i];
        in.id = UINT32_MAX;
        in.path = "/srv/backups/alice";
        req_roundtrip(&in, false, &out);
        cr_assert_str_eq(out.path, "/srv/backups/alice");
    }
    memset(&in, 0, sizeof in);
    in.method = BS_M_MOVE;
    in.name = "a";
    in.dst = "b/c";
    req_roundtrip(&in, false, &out);
    cr_assert_str_eq(out.name, "a");
    cr_assert_str_eq(out.dst, "b/c");
    memset(&in, 0, sizeof in);
    in.method = BS_M_HASH;
    in.name = "x";
    in.alg = "sha256";
    req_roundtrip(&in, false, &out);
    cr_assert_str_eq(out.alg, "sha256");
    in = (bs__req){.method = BS_M_QUOTA};
    req_roundtrip(&in, false, &out);
    in = (bs__req){.method = BS_M_CLOSE};
    req_roundtrip(&in, false, &out);
}

Test(msg, load_and_list_requests_round_trip)
{
    static bs__req in, out;
    in.method = BS_M_LOAD;
    in.name = "k";
    in.offset = -64;
    in.size = 17;
    req_roundtrip(&in, false, &out);
    cr_assert_eq(out.offset, -64);
    cr_assert_eq(out.size, 17);
    in.offset = 0;
    in.size = BS_SIZE_ALL;
    req_roundtrip(&in, false, &out);
    cr_assert_eq(out.offset, 0);
    cr_assert_eq(out.size, BS_SIZE_ALL, "absent size means all");

    memset(&in, 0, sizeof in);
    in.method = BS_M_LIST;
    in.name = "";
    in.limit = 10;
    in.after = "m";
    req_roundtrip(&in, false, &out);
    cr_assert_str_eq(out.name, "");
    cr_assert_eq(out.limit, 10);
    cr_assert_str_eq(out.after, "m");
    memset(&in, 0, sizeof in);
    in.method = BS_M_LIST_NEXT;
    in.cursor = 1ull << 50;
    req_roundtrip(&in, false, &out);
    cr_assert_eq(out.cursor, 1ull << 50);
    cr_assert_null(out.after);
}

Test(msg, store_with_inline_tail_and_without_data)
{
    static bs__req in, out;
    uint8_t value[3000];
    for (size_t i = 0; i < sizeof value; i++) value[i] = (uint8_t)(i * 31);
    bs__value_hash(H, value, sizeof value);
    in.method = BS_M_STORE;
    in.id = 9;
    in.name = "data/v";
    in.size = sizeof value;
    in.hash = H;
    in.data = value;
    in.data_len = sizeof value;
    in.has_data = true;
    req_roundtrip(&in, true, &out);
    cr_assert(out.has_data);
    cr_assert_eq(out.data_len, sizeof value);
    cr_assert_eq(memcmp(out.data, value, sizeof value), 0);
    cr_assert_eq(memcmp(out.hash, H, sizeof H), 0);
    cr_assert_lt(frame_bytes.len, sizeof value + 100, "no second copy of the value");

    in.has_data = false; /* value follows in DATA frames */
    req_roundtrip(&in, false, &out);
    cr_assert(!out.has_data);
    cr_assert_eq(out.size, 3000);
}

Test(msg, defrag_sources_round_trip)
{
    static bs__req in, out;
    bs_defrag_source src[3] = {{"a/1", 0, 10}, {"a/2", 5, 0}, {"b", 1ull << 40, 7}};
    in.method = BS_M_DEFRAG;
    in.sources = src;
    in.n_sources = 3;
    in.alg = "blake2b";
    in.ns = "data";
    in.levels = 2;
    req_roundtrip(&in, false, &out);
    cr_assert_eq(out.n_sources, 3);
    cr_assert_null(out.target);
    cr_assert_str_eq(out.ns, "data");
    cr_assert_eq(out.levels, 2);
    size_t pos = 0;
    char name[BS_NAME_BUF];
    uint64_t off, size;
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(bs__defrag_source_next(&out, &pos, name, &off, &size), 1);
        cr_assert_str_eq(name, src[i].name);
        cr_assert_eq(off, src[i].offset);
        cr_assert_eq(size, src[i].size);
    }
    cr_assert_eq(bs__defrag_source_next(&out, &pos, name, &off, &size), 0);
}

Test(msg, results_round_trip)
{
    static bs__result r, o;
    r.info = (bs_item_info){.exists = true, .directory = false, .size = 5000000000ull,
                            .atime_ns = -5, .mtime_ns = 1733333333123456789ll};
    res_roundtrip(BS_M_INFO, &r, &o);
    cr_assert(o.info.exists);
    cr_assert_eq(o.info.size, 5000000000ull);
    cr_assert_eq(o.info.atime_ns, -5);
    cr_assert_eq(o.info.mtime_ns, 1733333333123456789ll);

    memset(&r, 0, sizeof r);
    bs__value_hash(H, "abc", 3);
    r.value_size = 3;
    r.hash = H;
    r.data = (const uint8_t *)"abc";
    r.data_len = 3;
    r.has_data = true;
    res_roundtrip(BS_M_LOAD, &r, &o);
    cr_assert_eq(o.value_size, 3);
    cr_assert(o.has_data);
    cr_assert_eq(memcmp(o.data, "abc", 3), 0);
    cr_assert_eq(memcmp(o.hash, H, sizeof H), 0);

    memset(&r, 0, sizeof r);
    strcpy(r.hex, "00ff");
    res_roundtrip(BS_M_HASH, &r, &o);
    cr_assert_str_eq(o.hex, "00ff");
    memset(&r, 0, sizeof r);
    strcpy(r.name, "data/00/00aa");
    res_roundtrip(BS_M_DEFRAG, &r, &o);
    cr_assert_str_eq(o.name, "data/00/00aa");
    memset(&r, 0, sizeof r);
    r.quota = (bs_quota){.limit = -1, .usage = 42};
    res_roundtrip(BS_M_QUOTA, &r, &o);
    cr_assert_eq(o.quota.limit, -1);
    cr_assert_eq(o.quota.usage, 42);
    memset(&r, 0, sizeof r);
    res_roundtrip(BS_M_STORE, &r, &o);
}

Test(msg, list_page_round_trips)
{
    static bs__result r, o;
    bs_item_info e[3] = {{.name = "aa", .directory = true},
                         {.name = "bb", .size = 12, .atime_ns = 1700000000000000000ll},
                         {.name = "cc", .size = 0}};
    r.entries = e;
    r.n_entries = 3;
    r.has_cursor = true;
    r.cursor = 5;
    res_roundtrip(BS_M_LIST, &r, &o);
    cr_assert_eq(o.n_entries, 3);
    cr_assert(o.has_cursor);
    cr_assert_eq(o.cursor, 5);
    size_t pos = 0;
    bs_item_info it;
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(bs__list_entry_next(&o, &pos, &it), 1);
        cr_assert_str_eq(it.name, e[i].name);
        cr_assert_eq(it.directory, e[i].directory);
        cr_assert_eq(it.size, e[i].size);
        cr_assert_eq(it.atime_ns, e[i].atime_ns);
    }
    cr_assert_eq(bs__list_entry_next(&o, &pos, &it), 0);
    r.has_cursor = false;
    r.n_entries = 0;
    res_roundtrip(BS_M_LIST_NEXT, &r, &o);
    cr_assert(!o.has_cursor);
    cr_assert_eq(o.n_entries, 0);
}

/* Entries carry mtime only for a client that announced "mtime"; a client
 * reads both shapes (servers from before the feature send four). */
Test(msg, list_entries_carry_mtime_only_when_asked)
{
    static bs__result r, o;
    bs_item_info e[2] = {{.name = "aa", .size = 1, .atime_ns = 7, .mtime_ns = 9},
                         {.name = "bb", .size = 2, .atime_ns = 8, .mtime_ns = -3}};
    r.entries = e;
    r.n_entries = 2;
    for (int with = 0; with < 2; with++) {
        r.entries_mtime = with;
        res_roundtrip(BS_M_LIST, &r, &o);
        size_t pos = 0;
        bs_item_info it;
        for (int i = 0; i < 2; i++) {
            cr_assert_eq(bs__list_entry_next(&o, &pos, &it), 1);
            cr_assert_eq(it.atime_ns, e[i].atime_ns);
            cr_assert_eq(it.mtime_ns, with ? e[i].mtime_ns : 0, "entry %d with=%d: %lld", i,
                         with, (long long)it.mtime_ns);
        }
        cr_assert_eq(bs__list_entry_next(&o, &pos, &it), 0);
    }
    cr_assert_eq(bs__feature_parse("mtime", 5), BS_FEAT_MTIME);
}

Test(msg, err_data_log_envelopes)
{
    bs_buf b = {0};
    bs__env env;
    size_t len;
    cr_assert_eq(bs__enc_err(&b, 5, BS_ERR_NOT_FOUND, "object not found: x"), 0);
    const uint8_t *f = unframe(&b, NULL, 0, &len);
    cr_assert_eq(bs__env_decode(f, len, &env), 0);
    cr_assert_eq(env.kind, BS_KIND_ERR);
    cr_assert_eq(env.id, 5);
    cr_assert_eq(bs_error_from_wire(env.code), BS_ERR_NOT_FOUND);
    cr_assert_eq(env.text_len, strlen("object not found: x"));
    bs__buf_free(&b);

    cr_assert_eq(bs__enc_data(&b, 6, 4, BS_FRAME_MIN), 0);
    f = unframe(&b, "wxyz", 4, &len);
    cr_assert_eq(bs__env_decode(f, len, &env), 0);
    cr_assert_eq(env.kind, BS_KIND_DATA);
    cr_assert_eq(env.data_len, 4);
    cr_assert_eq(memcmp(env.data, "wxyz", 4), 0);
    bs__buf_free(&b);

    cr_assert_eq(bs__enc_log(&b, BS_LOG_WARNING, "careful"), 0);
    f = unframe(&b, NULL, 0, &len);
    cr_assert_eq(bs__env_decode(f, len, &env), 0);
    cr_assert_eq(env.kind, BS_KIND_LOG);
    cr_assert_eq(env.level, BS_LOG_WARNING);
    bs__buf_free(&b);
}

/* ---- malformed input ---- */

static int env_of(const uint8_t *p, size_t n)
{
    bs__env env;
    return bs__env_decode(p, n, &env);
}

Test(msg, envelope_rules)
{
    static const uint8_t not_array[] = {0x81, 0xa1, 'a', 1};
    static const uint8_t bad_kind[] = {0x93, 0x09, 1, 0x80};
    static const uint8_t short_req[] = {0x93, 0x01, 1, 0x80};
    static const uint8_t trailing[] = {0x93, 0x02, 1, 0x80, 0x00};
    static const uint8_t id_too_big[] = {0x93, 0x02, 0xcf, 0, 0, 0, 1, 0, 0, 0, 0, 0x80};
    static const uint8_t body_not_map[] = {0x93, 0x02, 1, 0x90};
    static const uint8_t empty_data[] = {0x93, 0x04, 1, 0xc4, 0x00};
    static const uint8_t str_data[] = {0x93, 0x04, 1, 0xa1, 'x'};
    static const uint8_t huge_body[] = {0x93, 0x02, 1, 0xdf, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t ok[] = {0x93, 0x02, 1, 0x80};
    cr_assert_eq(env_of(ok, sizeof ok), 0);
    cr_assert_eq(env_of(not_array, sizeof not_array), BS_ERR_PROTOCOL);
    cr_assert_eq(env_of(bad_kind, sizeof bad_kind), BS_ERR_PROTOCOL);
    cr_assert_eq(env_of(short_req, sizeof short_req), BS_ERR_PROTOCOL);
    cr_assert_eq(env_of(trailing, sizeof trailing), BS_ERR_PROTOCOL);
    cr_assert_eq(env_of(id_too_big, sizeof id_too_big), BS_ERR_PROTOCOL);
    cr_assert_eq(env_of(body_not_map, sizeof body_not_map), BS_ERR_PROTOCOL);
    cr_assert_eq(env_of(empty_data, sizeof empty_data), BS_ERR_PROTOCOL);
    cr_assert_eq(env_of(str_data, sizeof str_data), BS_ERR_PROTOCOL);
    cr_assert_eq(env_of(huge_body, sizeof huge_body), BS_ERR_PROTOCOL);
}

Test(msg, deep_nesting_in_a_body_is_refused)
{
    uint8_t f[64] = {0x93, 0x02, 1, 0x81, 0xa1, 'z'};
    size_t n = 6;
    for (int i = 0; i < 20; i++) f[n++] = 0x91;
    f[n++] = 0x01;
    cr_assert_eq(env_of(f, n), BS_ERR_PROTOCOL);
}

/* Builds a request body with msgpack-c's packer. */
static int decode_body(uint64_t method, void (*fill)(bs__mpw *), bs__req *out)
{
    bs_buf b = {0};
    bs__mpw w;
    bs__mpw_init(&w, &b);
    fill(&w);
    int rc = bs__req_decode(out, method, b.data, b.len);
    bs__buf_free(&b);
    return rc;
}

static void kv_str(bs__mpw *w, const char *k, const char *v)
{
    bs__mpw_cstr(w, k);
    bs__mpw_cstr(w, v);
}

static void name_is_int(bs__mpw *w) { msgpack_pack_map(&w->pk, 1); bs__mpw_cstr(w, "name"); msgpack_pack_int(&w->pk, 3); }
static void name_too_long(bs__mpw *w)
{
    char n[300];
    memset(n, 'a', sizeof n - 1);
    n[sizeof n - 1] = 0;
    msgpack_pack_map(&w->pk, 1);
    kv_str(w, "name", n);
}
static void name_with_nul(bs__mpw *w)
{
    msgpack_pack_map(&w->pk, 1);
    bs__mpw_cstr(w, "name");
    msgpack_pack_str(&w->pk, 3);
    msgpack_pack_str_body(&w->pk, "a\0b", 3);
}
static void dup_key(bs__mpw *w) { msgpack_pack_map(&w->pk, 2); kv_str(w, "name", "a"); kv_str(w, "name", "b"); }
static void no_name(bs__mpw *w) { msgpack_pack_map(&w->pk, 1); kv_str(w, "other", "a"); }
static void unknown_key(bs__mpw *w)
{
    msgpack_pack_map(&w->pk, 2);
    bs__mpw_cstr(w, "future");
    msgpack_pack_array(&w->pk, 2);
    msgpack_pack_nil(&w->pk);
    msgpack_pack_true(&w->pk);
    kv_str(w, "name", "ok");
}
static void short_hash(bs__mpw *w)
{
    msgpack_pack_map(&w->pk, 3);
    kv_str(w, "name", "a");
    bs__mpw_cstr(w, "size");
    msgpack_pack_int(&w->pk, 0);
    bs__mpw_cstr(w, "hash");
    msgpack_pack_bin(&w->pk, 2);
    msgpack_pack_bin_body(&w->pk, "ab", 2);
}
static void size_mismatch(bs__mpw *w)
{
    msgpack_pack_map(&w->pk, 4);
    kv_str(w, "name", "a");
    bs__mpw_cstr(w, "size");
    msgpack_pack_int(&w->pk, 5);
    bs__mpw_cstr(w, "hash");
    msgpack_pack_bin(&w->pk, 32);
    msgpack_pack_bin_body(&w->pk, H, 32);
    bs__mpw_cstr(w, "data");
    msgpack_pack_bin(&w->pk, 2);
    msgpack_pack_bin_body(&w->pk, "ab", 2);
}
static void negative_store_size(bs__mpw *w)
{
    msgpack_pack_map(&w->pk, 3);
    kv_str(w, "name", "a");
    bs__mpw_cstr(w, "size");
    msgpack_pack_int(&w->pk, -1);
    bs__mpw_cstr(w, "hash");
    msgpack_pack_bin(&w->pk, 32);
    msgpack_pack_bin_body(&w->pk, H, 32);
}
static void too_many_sources(bs__mpw *w)
{
    msgpack_pack_map(&w->pk, 1);
    bs__mpw_cstr(w, "sources");
    msgpack_pack_array(&w->pk, BS_DEFRAG_MAX + 1);
    for (unsigned i = 0; i < BS_DEFRAG_MAX + 1; i++) msgpack_pack_nil(&w->pk);
}
static void bad_source(bs__mpw *w)
{
    msgpack_pack_map(&w->pk, 1);
    bs__mpw_cstr(w, "sources");
    msgpack_pack_array(&w->pk, 1);
    msgpack_pack_array(&w->pk, 2);
    bs__mpw_cstr(w, "a");
    msgpack_pack_int(&w->pk, 1);
}
static void sources_not_an_array(bs__mpw *w)
{
    msgpack_pack_map(&w->pk, 1);
    bs__mpw_cstr(w, "sources");
    bs__mpw_cstr(w, "data/aa");
}

static void sources_a_map(bs__mpw *w)
{
    msgpack_pack_map(&w->pk, 1);
    bs__mpw_cstr(w, "sources");
    msgpack_pack_map(&w->pk, 0);
}

static void huge_sources_header(bs__mpw *w)
{
    static const char hdr[] = {(char)0xdd, (char)0xff, (char)0xff, (char)0xff, (char)0xff};
    msgpack_pack_map(&w->pk, 1);
    bs__mpw_cstr(w, "sources");
    bs__buf_append(w->buf, hdr, sizeof hdr);
}
static void trailing_after_map(bs__mpw *w) { msgpack_pack_map(&w->pk, 1); kv_str(w, "name", "a"); msgpack_pack_nil(&w->pk); }

Test(msg, argument_rules)
{
    static bs__req r;
    cr_assert_eq(decode_body(BS_M_INFO, name_is_int, &r), BS_ERR_PROTOCOL);
    cr_assert_eq(decode_body(BS_M_INFO, name_too_long, &r), BS_ERR_INVALID);
    cr_assert_eq(decode_body(BS_M_INFO, name_with_nul, &r), BS_ERR_INVALID);
    cr_assert_eq(decode_body(BS_M_INFO, dup_key, &r), BS_ERR_PROTOCOL);
    cr_assert_eq(decode_body(BS_M_INFO, no_name, &r), BS_ERR_PROTOCOL);
    cr_assert_eq(decode_body(BS_M_INFO, unknown_key, &r), 0, "%s", bs_error_message());
    cr_assert_str_eq(r.name, "ok");
    cr_assert_eq(decode_body(BS_M_STORE, short_hash, &r), BS_ERR_PROTOCOL);
    cr_assert_eq(decode_body(BS_M_STORE, size_mismatch, &r), BS_ERR_PROTOCOL);
    cr_assert_eq(decode_body(BS_M_STORE, negative_store_size, &r), BS_ERR_INVALID);
    cr_assert_eq(decode_body(BS_M_DEFRAG, too_many_sources, &r), BS_ERR_INVALID);
    cr_assert_eq(decode_body(BS_M_DEFRAG, bad_source, &r), BS_ERR_PROTOCOL);
    cr_assert_eq(decode_body(BS_M_DEFRAG, huge_sources_header, &r), BS_ERR_INVALID);
    cr_assert_eq(decode_body(BS_M_DEFRAG, sources_not_an_array, &r), BS_ERR_PROTOCOL,
                 "a wrong type is a protocol error");
    cr_assert_eq(decode_body(BS_M_DEFRAG, sources_a_map, &r), BS_ERR_PROTOCOL);
    cr_assert_eq(decode_body(BS_M_INFO, trailing_after_map, &r), BS_ERR_PROTOCOL);
    cr_assert_eq(decode_body(999, no_name, &r), BS_ERR_PROTOCOL, "unknown method");
    cr_assert_null(bs__method_get(BS_M_COUNT));
}

Test(msg, result_rules)
{
    static bs__result o;
    static const uint8_t empty_map[] = {0x80};
    cr_assert_eq(bs__result_decode(&o, BS_M_LOAD, empty_map, 1), BS_ERR_PROTOCOL,
                 "load result needs size and hash");
    cr_assert_eq(bs__result_decode(&o, BS_M_STORE, empty_map, 1), 0);
    /* entries over the page ceiling are refused from the header */
    static const uint8_t many[] = {0x81, 0xa7, 'e', 'n', 't', 'r', 'i', 'e', 's',
                                   0xdd, 0x00, 0x10, 0x00, 0x00};
    cr_assert_eq(bs__result_decode(&o, BS_M_LIST, many, sizeof many), BS_ERR_PROTOCOL);
    /* an over-long string in a result is the server's fault: protocol error */
    bs_buf b = {0};
    bs__mpw w;
    bs__mpw_init(&w, &b);
    msgpack_pack_map(&w.pk, 1);
    bs__mpw_cstr(&w, "hex");
    char longhex[400];
    memset(longhex, 'f', sizeof longhex - 1);
    longhex[sizeof longhex - 1] = 0;
    bs__mpw_cstr(&w, longhex);
    cr_assert_eq(bs__result_decode(&o, BS_M_HASH, b.data, b.len), BS_ERR_PROTOCOL);
    bs__buf_free(&b);
}

Test(msg, a_result_out_of_range_keeps_its_detail_as_a_protocol_error)
{
    /* the range check's own message is rewrapped, not formatted into itself */
    static bs__result o;
    bs_buf b = {0};
    bs__mpw w;
    bs__mpw_init(&w, &b);
    msgpack_pack_map(&w.pk, 1);
    bs__mpw_cstr(&w, "max_inflight");
    msgpack_pack_uint64(&w.pk, 1ull << 40);
    cr_assert_eq(bs__result_decode(&o, BS_M_HELLO, b.data, b.len), BS_ERR_PROTOCOL);
    const char *m = bs_error_message();
    cr_assert(strstr(m, "protocol error: ") == m, "%s", m);
    cr_assert(strstr(m, "'max_inflight' is out of range"), "%s", m);
    bs__buf_free(&b);
}

Test(msg, method_table_flags)
{
    cr_assert(bs__method_get(BS_M_PING)->flags & BS_MF_PREOPEN);
    cr_assert(bs__method_get(BS_M_OPEN)->flags & BS_MF_PREOPEN);
    cr_assert(!(bs__method_get(BS_M_LOAD)->flags & BS_MF_PREOPEN));
    cr_assert(bs__method_get(BS_M_STORE)->flags & BS_MF_WRITES);
    cr_assert(!(bs__method_get(BS_M_LOAD)->flags & BS_MF_WRITES));
    cr_assert(bs__method_get(BS_M_DELETE)->flags & BS_MF_GONE_IS_DONE);
    cr_assert(!(bs__method_get(BS_M_CREATE)->flags & BS_MF_RETRY));
    for (unsigned m = 0; m < BS_M_COUNT; m++) cr_assert_not_null(bs__method_get(m)->name);
}

Test(msg, value_hash_is_blake2b_256)
{
    /* BLAKE2b-256("abc") */
    static const uint8_t want[32] = {
        0xbd, 0xdd, 0x81, 0x3c, 0x63, 0x42, 0x39, 0x72, 0x31, 0x71, 0xef, 0x3f, 0xee, 0x98, 0x57, 0x9b,
        0x94, 0x96, 0x4e, 0x3b, 0xb1, 0xcb, 0x3e, 0x42, 0x72, 0x62, 0xc8, 0xc0, 0x68, 0xd5, 0x23, 0x19};
    uint8_t got[32];
    bs__value_hash(got, "abc", 3);
    cr_assert_eq(memcmp(got, want, 32), 0);
}

/* A deterministic smoke fuzz: mutations of valid frames and random bytes
 * through every decoder. Nothing may crash or read outside the buffer (the
 * ASan build checks that); results only need to be consistent. */
static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static void decode_everything(const uint8_t *p, size_t n)
{
    static bs__req rq;
    static bs__result rs;
    bs__env env;
    if (bs__env_decode(p, n, &env) == 0 && (env.kind == BS_KIND_REQ || env.kind == BS_KIND_OK)) {
        for (uint32_t m = 0; m < BS_M_COUNT; m++) {
            if (bs__req_decode(&rq, m, env.body, env.body_len) == 0) {
                size_t pos = 0;
                char name[BS_NAME_BUF];
                uint64_t off, size;
                while (bs__defrag_source_next(&rq, &pos, name, &off, &size) == 1) {
                }
            }
            if (bs__result_decode(&rs, m, env.body, env.body_len) == 0) {
                size_t pos = 0;
                bs_item_info it;
                while (bs__list_entry_next(&rs, &pos, &it) == 1) {
                }
            }
        }
    }
}

Test(msg, mutated_and_random_input_never_breaks_a_decoder)
{
    /* seeds: a store, a list result, a defrag request, a hello */
    bs_buf seeds[4] = {{0}};
    static bs__req r;
    uint8_t h[BS_VALUE_HASH_LEN] = {0};
    r = (bs__req){.method = BS_M_STORE, .id = 3, .name = "data/x", .size = 3, .hash = h,
                  .data = (const uint8_t *)"abc", .data_len = 3, .has_data = true};
    bs__enc_req(&seeds[0], &r, BS_FRAME_DEFAULT, false, NULL);
    static bs__result res;
    bs_item_info e[2] = {{.name = "a"}, {.name = "b", .directory = true}};
    res = (bs__result){.entries = e, .n_entries = 2, .has_cursor = true, .cursor = 9};
    bs__enc_ok(&seeds[1], 4, BS_M_LIST, &res, BS_FRAME_DEFAULT, false, NULL);
    bs_defrag_source src[2] = {{"a", 0, 1}, {"b", 2, 3}};
    r = (bs__req){.method = BS_M_DEFRAG, .sources = src, .n_sources = 2, .target = "t"};
    bs__enc_req(&seeds[2], &r, BS_FRAME_DEFAULT, false, NULL);
    r = (bs__req){.method = BS_M_HELLO};
    r.hello.versions = 2;
    r.hello.max_frame = BS_FRAME_MIN;
    strcpy(r.hello.impl, "x");
    bs__enc_req(&seeds[3], &r, BS_FRAME_DEFAULT, false, NULL);
    uint8_t buf[512];
    for (int iter = 0; iter < 40000; iter++) {
        bs_buf *sd = &seeds[iter % 4];
        size_t n = sd->len - 4;
        if (n > sizeof buf) n = sizeof buf;
        memcpy(buf, sd->data + 4, n);
        int flips = 1 + (int)(rnd() % 4);
        for (int k = 0; k < flips; k++) {
            switch (rnd() % 4) {
            case 0: buf[rnd() % n] = (uint8_t)rnd(); break;              /* change a byte */
            case 1: buf[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8)); break; /* flip a bit */
            case 2: n = 1 + rnd() % n; break;                            /* truncate */
            default: buf[rnd() % n] = (uint8_t[]){0xdd, 0xdf, 0xc6, 0xdb, 0xff, 0xc1}[rnd() % 6];
            }
        }
        /* decode from a heap copy of exactly n bytes, so ASan sees overreads */
        uint8_t *exact = malloc(n);
        memcpy(exact, buf, n);
        decode_everything(exact, n);
        free(exact);
    }
    for (int iter = 0; iter < 5000; iter++) {
        size_t n = 1 + rnd() % 64;
        uint8_t *exact = malloc(n);
        for (size_t i = 0; i < n; i++) exact[i] = (uint8_t)rnd();
        exact[0] = (uint8_t)(0x93 + rnd() % 2);
        decode_everything(exact, n);
        free(exact);
    }
    for (int i = 0; i < 4; i++) bs__buf_free(&seeds[i]);
}
