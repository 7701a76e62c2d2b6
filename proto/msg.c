/* Envelope, method table, and per-key encoding/decoding of messages (see
 * msg.h and docs/protocol.md). Requests and results share one key table so
 * each key has exactly one wire spelling and one type per direction. */
#include "proto/msg.h"

#include <sodium.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "proto/frame.h"
#include "proto/mp.h"

#define K(x) BS_KBIT(BS_K_##x)

static const bs__method_info methods[BS_M_COUNT] = {
    [BS_M_HELLO] = {"hello", 0, K(VERSIONS) | K(MAX_FRAME)},
    [BS_M_PING] = {"ping", BS_MF_PREOPEN | BS_MF_RETRY, 0},
    [BS_M_CREATE] = {"create", BS_MF_PREOPEN | BS_MF_WRITES, K(PATH)},
    [BS_M_DESTROY] = {"destroy", BS_MF_PREOPEN | BS_MF_WRITES, K(PATH)},
    [BS_M_OPEN] = {"open", BS_MF_PREOPEN, K(PATH)},
    [BS_M_CLOSE] = {"close", BS_MF_OPEN, 0},
    [BS_M_MKDIR] = {"mkdir", BS_MF_OPEN | BS_MF_WRITES | BS_MF_RETRY, K(NAME)},
    [BS_M_RMDIR] = {"rmdir", BS_MF_OPEN | BS_MF_WRITES | BS_MF_RETRY | BS_MF_GONE_IS_DONE,
                    K(NAME)},
    [BS_M_INFO] = {"info", BS_MF_OPEN | BS_MF_RETRY, K(NAME)},
    [BS_M_LOAD] = {"load", BS_MF_OPEN | BS_MF_RETRY, K(NAME)},
    [BS_M_STORE] = {"store", BS_MF_OPEN | BS_MF_WRITES | BS_MF_RETRY, K(NAME) | K(SIZE)},
    [BS_M_DELETE] = {"delete", BS_MF_OPEN | BS_MF_WRITES | BS_MF_RETRY | BS_MF_GONE_IS_DONE,
                     K(NAME)},
    [BS_M_MOVE] = {"move", BS_MF_OPEN | BS_MF_WRITES | BS_MF_RETRY | BS_MF_GONE_IS_DONE,
                   K(NAME) | K(DST)},
    [BS_M_LIST] = {"list", BS_MF_OPEN | BS_MF_RETRY, K(NAME)},
    [BS_M_LIST_NEXT] = {"list_next", BS_MF_OPEN, K(CURSOR)},
    [BS_M_LIST_END] = {"list_end", BS_MF_OPEN, K(CURSOR)},
    [BS_M_HASH] = {"hash", BS_MF_OPEN | BS_MF_RETRY, K(NAME) | K(ALG)},
    [BS_M_DEFRAG] = {"defrag", BS_MF_OPEN | BS_MF_WRITES | BS_MF_RETRY, K(SOURCES)},
    [BS_M_QUOTA] = {"quota", BS_MF_OPEN | BS_MF_RETRY, 0},
};

/* Keys every result of a method must carry. */
static const uint64_t result_required[BS_M_COUNT] = {
    [BS_M_HELLO] = K(VERSION) | K(MAX_FRAME) | K(MAX_VALUE) | K(MAX_INFLIGHT),
    [BS_M_INFO] = K(EXISTS),
    [BS_M_LOAD] = K(SIZE),
    [BS_M_LIST] = K(ENTRIES),
    [BS_M_LIST_NEXT] = K(ENTRIES),
    [BS_M_HASH] = K(HEX),
    [BS_M_DEFRAG] = K(NAME),
    [BS_M_QUOTA] = K(LIMIT) | K(USAGE),
};

const bs__method_info *bs__method_get(uint64_t m)
{
    return m < BS_M_COUNT ? &methods[m] : NULL;
}

static const char *const key_names[BS_K_COUNT] = {
    [BS_K_NAME] = "name", [BS_K_DST] = "dst", [BS_K_PATH] = "path",
    [BS_K_OFFSET] = "offset", [BS_K_SIZE] = "size", [BS_K_HASH] = "hash",
    [BS_K_DATA] = "data", [BS_K_LIMIT] = "limit", [BS_K_AFTER] = "after",
    [BS_K_CURSOR] = "cursor", [BS_K_ALG] = "alg", [BS_K_SOURCES] = "sources",
    [BS_K_TARGET] = "target", [BS_K_NS] = "ns", [BS_K_LEVELS] = "levels",
    [BS_K_VERSIONS] = "versions", [BS_K_IMPL] = "impl", [BS_K_FEATURES] = "features",
    [BS_K_MAX_FRAME] = "max_frame", [BS_K_MAX_VALUE] = "max_value",
    [BS_K_LOG_LEVEL] = "log_level", [BS_K_VERSION] = "version",
    [BS_K_MAX_INFLIGHT] = "max_inflight", [BS_K_MAX_INFLIGHT_BYTES] = "max_inflight_bytes",
    [BS_K_MAX_NAME] = "max_name", [BS_K_LIST_PAGE] = "list_page",
    [BS_K_MAX_DEFRAG] = "max_defrag", [BS_K_PERMISSIONS] = "permissions",
    [BS_K_QUOTA] = "quota", [BS_K_READ_ONLY] = "read_only", [BS_K_PINNED] = "pinned",
    [BS_K_EXISTS] = "exists", [BS_K_DIR] = "dir", [BS_K_ATIME] = "atime",
    [BS_K_HEX] = "hex", [BS_K_ENTRIES] = "entries", [BS_K_USAGE] = "usage", [BS_K_MTIME] = "mtime",
};

/* Key id of a wire key, or -1 when unknown. */
static int key_lookup(const char *s, size_t len)
{
    for (int k = 0; k < BS_K_COUNT; k++)
        if (strlen(key_names[k]) == len && memcmp(key_names[k], s, len) == 0) return k;
    return -1;
}

static const char *const feature_names[] = {"integrity", "list-cursor", "log", "mtime"};

unsigned bs__feature_parse(const char *s, size_t len)
{
    for (unsigned i = 0; i < sizeof feature_names / sizeof feature_names[0]; i++)
        if (strlen(feature_names[i]) == len && memcmp(feature_names[i], s, len) == 0)
            return 1u << i;
    return 0;
}

void bs__value_hash(uint8_t out[BS_VALUE_HASH_LEN], const void *data, size_t len)
{
    if (sodium_init() < 0) abort(); /* idempotent; cannot fail on a sane system */
    crypto_generichash(out, BS_VALUE_HASH_LEN, data, len, NULL, 0);
}

/* ---- envelope ---------------------------------------------------------- */

static int proto_err(const char *what)
{
    return bs__error_set(BS_ERR_PROTOCOL, "%s", what);
}

static int read_id(bs__mp *r, uint32_t *id)
{
    uint64_t v;
    if (bs__mp_uint(r, &v) || v > UINT32_MAX) return proto_err("bad message id");
    *id = (uint32_t)v;
    return 0;
}

/* A map body: checked for structure, returned as a view. */
static int read_body(bs__mp *r, const uint8_t **body, size_t *len)
{
    const uint8_t *start = r->p;
    if (bs__mp_peek(r) != BS_MP_MAP) return proto_err("message body must be a map");
    int rc = bs__mp_skip(r, BS_MP_DEPTH_MAX - 1);
    if (rc) return rc;
    *body = start;
    *len = (size_t)(r->p - start);
    return 0;
}

int bs__env_decode(const uint8_t *frame, size_t len, bs__env *out)
{
    memset(out, 0, sizeof *out);
    bs__mp r;
    bs__mp_init(&r, frame, len);
    uint32_t n;
    uint64_t kind, v;
    int rc = bs__mp_array(&r, &n, 8);
    if (rc) return rc;
    if (n < 1 || bs__mp_uint(&r, &kind)) return proto_err("message must start with its kind");
    out->kind = kind > 255 ? 0 : (unsigned)kind;
    switch (out->kind) {
    case BS_KIND_REQ:
        if (n != 4) return proto_err("request must have 4 elements");
        if ((rc = read_id(&r, &out->id))) return rc;
        if (bs__mp_uint(&r, &out->method)) return proto_err("bad method id");
        rc = read_body(&r, &out->body, &out->body_len);
        break;
    case BS_KIND_OK:
        if (n != 3) return proto_err("result must have 3 elements");
        if ((rc = read_id(&r, &out->id))) return rc;
        rc = read_body(&r, &out->body, &out->body_len);
        break;
    case BS_KIND_ERR:
        if (n != 4) return proto_err("error must have 4 elements");
        if ((rc = read_id(&r, &out->id))) return rc;
        if (bs__mp_uint(&r, &v) || v > UINT32_MAX) return proto_err("bad error code");
        out->code = (unsigned)v;
        rc = bs__mp_str(&r, &out->text, &out->text_len);
        break;
    case BS_KIND_DATA:
        if (n != 3 && n != 4) return proto_err("data must have 3 or 4 elements");
        if ((rc = read_id(&r, &out->id))) return rc;
        rc = bs__mp_bin(&r, &out->data, &out->data_len);
        if (!rc && out->data_len == 0) rc = proto_err("empty data chunk");
        if (!rc && n == 4) {
            size_t hlen;
            if (bs__mp_bin(&r, &out->hash, &hlen) || hlen != BS_VALUE_HASH_LEN)
                rc = proto_err("the hash of a data chunk must be a 32-byte bin");
        }
        break;
    case BS_KIND_LOG:
        if (n != 3) return proto_err("log must have 3 elements");
        if (bs__mp_uint(&r, &v) || v > 100) return proto_err("bad log level");
        out->level = (unsigned)v;
        rc = bs__mp_str(&r, &out->text, &out->text_len);
        break;
    default:
        return proto_err("unknown message kind");
    }
    if (rc) return rc;
    if (r.p != r.end) return proto_err("trailing bytes after the message");
    return 0;
}

/* ---- decoding helpers --------------------------------------------------- */

/* A str copied NUL-terminated into buf (cap bytes). Too long or holding a
 * NUL: BS_ERR_INVALID naming the key. nil: *dst stays NULL when nil_ok. */
static int copy_str(bs__mp *r, int key, char *buf, size_t cap, const char **dst, bool nil_ok)
{
    if (nil_ok && bs__mp_nil(r)) {
        *dst = NULL;
        return 0;
    }
    const char *s;
    size_t len;
    if (bs__mp_str(r, &s, &len))
        return bs__error_set(BS_ERR_PROTOCOL, "'%s' must be a string", key_names[key]);
    if (len >= cap)
        return bs__error_set(BS_ERR_INVALID, "'%s' is too long (%zu bytes, max %zu)",
                             key_names[key], len, cap - 1);
    if (memchr(s, '\0', len))
        return bs__error_set(BS_ERR_INVALID, "'%s' contains a NUL byte", key_names[key]);
    memcpy(buf, s, len);
    buf[len] = '\0';
    *dst = buf;
    return 0;
}

static int want_uint(bs__mp *r, int key, uint64_t max, uint64_t *v)
{
    if (bs__mp_uint(r, v))
        return bs__error_set(BS_ERR_PROTOCOL, "'%s' must be a non-negative integer",
                             key_names[key]);
    if (*v > max)
        return bs__error_set(BS_ERR_INVALID, "'%s' is out of range", key_names[key]);
    return 0;
}

static int want_int(bs__mp *r, int key, int64_t *v)
{
    if (bs__mp_int(r, v))
        return bs__error_set(BS_ERR_PROTOCOL, "'%s' must be an integer", key_names[key]);
    return 0;
}

static int want_bool(bs__mp *r, int key, bool *v)
{
    if (bs__mp_bool(r, v))
        return bs__error_set(BS_ERR_PROTOCOL, "'%s' must be a boolean", key_names[key]);
    return 0;
}

static int want_hash(bs__mp *r, int key, const uint8_t **h)
{
    size_t len;
    if (bs__mp_bin(r, h, &len) || len != BS_VALUE_HASH_LEN)
        return bs__error_set(BS_ERR_PROTOCOL, "'%s' must be %d bytes of binary",
                             key_names[key], BS_VALUE_HASH_LEN);
    return 0;
}

static int want_bin(bs__mp *r, int key, const uint8_t **p, size_t *len)
{
    if (bs__mp_bin(r, p, len))
        return bs__error_set(BS_ERR_PROTOCOL, "'%s' must be binary", key_names[key]);
    return 0;
}

/* Start of the next key: its id (-1 unknown), refusing duplicates. */
static int next_key(bs__mp *r, uint64_t *present, int *key)
{
    const char *s;
    size_t len;
    if (bs__mp_str(r, &s, &len)) return proto_err("map keys must be strings");
    *key = key_lookup(s, len);
    if (*key >= 0) {
        if (*present & BS_KBIT(*key))
            return bs__error_set(BS_ERR_PROTOCOL, "duplicate key '%s'", key_names[*key]);
        *present |= BS_KBIT(*key);
    }
    return 0;
}

static int missing(uint64_t required, uint64_t present, const char *what)
{
    uint64_t miss = required & ~present;
    if (!miss) return 0;
    int k = __builtin_ctzll(miss);
    return bs__error_set(BS_ERR_PROTOCOL, "%s lacks '%s'", what, key_names[k]);
}

static int versions_mask(bs__mp *r, uint32_t *mask)
{
    uint32_t n;
    uint64_t v;
    if (bs__mp_array(r, &n, 32)) return proto_err("'versions' must be a short array");
    *mask = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (bs__mp_uint(r, &v)) return proto_err("'versions' must hold integers");
        if (v < 32) *mask |= 1u << v;
    }
    return 0;
}

static int features(bs__mp *r, unsigned *flags)
{
    uint32_t n;
    const char *s;
    size_t len;
    if (bs__mp_array(r, &n, BS_FEATURES_MAX)) return proto_err("'features' must be a short array");
    *flags = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (bs__mp_str(r, &s, &len)) return proto_err("'features' must hold strings");
        *flags |= bs__feature_parse(s, len);
    }
    return 0;
}

static void impl_copy(bs__mp *r, char impl[BS_IMPL_MAX], int *rc)
{
    const char *s;
    size_t len;
    if (bs__mp_str(r, &s, &len)) {
        *rc = proto_err("'impl' must be a string");
        return;
    }
    if (len >= BS_IMPL_MAX) len = BS_IMPL_MAX - 1;
    for (size_t i = 0; i < len; i++) /* informational: printable ASCII only */
        impl[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    impl[len] = '\0';
}

/* One [name, offset, size] defrag source. */
static int defrag_source(bs__mp *r, char name[BS_NAME_BUF], uint64_t *off, uint64_t *size)
{
    uint32_t n;
    const char *dummy;
    if (bs__mp_array(r, &n, 3) || n != 3)
        return proto_err("defrag source must be [name, offset, size]");
    int rc = copy_str(r, BS_K_SOURCES, name, BS_NAME_BUF, &dummy, false);
    if (!rc) rc = want_uint(r, BS_K_OFFSET, INT64_MAX, off);
    if (!rc) rc = want_uint(r, BS_K_SIZE, INT64_MAX, size);
    return rc;
}

/* One [name, dir, size, atime] list entry, or [name, dir, size, atime,
 * mtime] from a server that saw the client's "mtime" feature. */
static int list_entry(bs__mp *r, bs_item_info *out)
{
    uint32_t n;
    const char *dummy;
    if (bs__mp_array(r, &n, 5) || (n != 4 && n != 5))
        return proto_err("list entry must be [name, dir, size, atime(, mtime)]");
    memset(out, 0, sizeof *out);
    int rc = copy_str(r, BS_K_ENTRIES, out->name, sizeof out->name, &dummy, false);
    if (!rc) rc = want_bool(r, BS_K_DIR, &out->directory);
    if (!rc) rc = want_uint(r, BS_K_SIZE, UINT64_MAX, &out->size);
    if (!rc) rc = want_int(r, BS_K_ATIME, &out->atime_ns);
    if (!rc && n == 5) rc = want_int(r, BS_K_MTIME, &out->mtime_ns);
    out->exists = true;
    return rc;
}

/* ---- requests ---------------------------------------------------------- */

int bs__req_decode(bs__req *out, uint64_t method, const uint8_t *body, size_t len)
{
    memset(out, 0, offsetof(bs__req, name_buf));
    out->size = BS_SIZE_ALL;
    const bs__method_info *mi = bs__method_get(method);
    if (!mi) return bs__error_set(BS_ERR_PROTOCOL, "unknown method %llu",
                                  (unsigned long long)method);
    out->method = (uint32_t)method;
    bs__mp r;
    bs__mp_init(&r, body, len);
    uint32_t n;
    int rc = bs__mp_map(&r, &n, 64);
    if (rc) return rc;
    for (uint32_t i = 0; i < n && !rc; i++) {
        int k;
        uint64_t u;
        if ((rc = next_key(&r, &out->present, &k))) break;
        switch (k) {
        case BS_K_NAME:
            rc = copy_str(&r, k, out->name_buf, BS_NAME_BUF, &out->name, false);
            break;
        case BS_K_DST:
            rc = copy_str(&r, k, out->dst_buf, BS_NAME_BUF, &out->dst, false);
            break;
        case BS_K_TARGET:
            rc = copy_str(&r, k, out->target_buf, BS_NAME_BUF, &out->target, true);
            break;
        case BS_K_NS:
            rc = copy_str(&r, k, out->ns_buf, BS_NAME_BUF, &out->ns, true);
            break;
        case BS_K_AFTER:
            rc = copy_str(&r, k, out->after_buf, BS_NAME_BUF, &out->after, true);
            break;
        case BS_K_ALG:
            rc = copy_str(&r, k, out->alg_buf, sizeof out->alg_buf, &out->alg, true);
            break;
        case BS_K_PATH:
            rc = copy_str(&r, k, out->path_buf, BS_PATH_MAX, &out->path, false);
            break;
        case BS_K_OFFSET: rc = want_int(&r, k, &out->offset); break;
        case BS_K_SIZE: rc = want_int(&r, k, &out->size); break;
        case BS_K_HASH: rc = want_hash(&r, k, &out->hash); break;
        case BS_K_DATA:
            rc = want_bin(&r, k, &out->data, &out->data_len);
            out->has_data = !rc;
            break;
        case BS_K_LIMIT:
            rc = want_uint(&r, k, UINT32_MAX, &u);
            out->limit = (uint32_t)u;
            break;
        case BS_K_CURSOR: rc = want_uint(&r, k, UINT64_MAX, &out->cursor); break;
        case BS_K_LEVELS:
            rc = want_uint(&r, k, 255, &u);
            out->levels = (uint32_t)u;
            break;
        case BS_K_SOURCES: {
            uint32_t cnt;
            if (bs__mp_peek(&r) != BS_MP_ARRAY) { /* a wrong type, not a value out of range */
                rc = proto_err("'sources' must be an array");
                break;
            }
            if (bs__mp_array(&r, &cnt, BS_DEFRAG_MAX)) {
                rc = bs__error_set(BS_ERR_INVALID, "'sources' must be an array of at most %u",
                                   BS_DEFRAG_MAX);
                break;
            }
            out->sources_raw = r.p;
            out->n_sources = cnt;
            char name[BS_NAME_BUF];
            uint64_t off, sz;
            for (uint32_t j = 0; j < cnt && !rc; j++) rc = defrag_source(&r, name, &off, &sz);
            out->sources_raw_len = (size_t)(r.p - out->sources_raw);
            break;
        }
        case BS_K_VERSIONS: rc = versions_mask(&r, &out->hello.versions); break;
        case BS_K_IMPL: impl_copy(&r, out->hello.impl, &rc); break;
        case BS_K_FEATURES: rc = features(&r, &out->hello.features); break;
        case BS_K_MAX_FRAME:
            rc = want_uint(&r, k, UINT32_MAX, &u);
            out->hello.max_frame = (uint32_t)u;
            break;
        case BS_K_MAX_VALUE: rc = want_uint(&r, k, UINT64_MAX, &out->hello.max_value); break;
        case BS_K_LOG_LEVEL:
            rc = want_uint(&r, k, 100, &u);
            out->hello.log_level = (uint32_t)u;
            break;
        default: /* unknown or result-only key: skipped */
            rc = bs__mp_skip(&r, BS_MP_DEPTH_MAX - 2);
            break;
        }
    }
    if (!rc && r.p != r.end) rc = proto_err("trailing bytes after the arguments");
    if (!rc) rc = missing(mi->required, out->present, mi->name);
    if (!rc && method == BS_M_STORE && out->size < 0)
        rc = bs__error_set(BS_ERR_INVALID, "store size must not be negative");
    if (!rc && method == BS_M_STORE && out->has_data && (uint64_t)out->size != out->data_len)
        rc = bs__error_set(BS_ERR_PROTOCOL, "store size does not match the inline data");
    return rc;
}

int bs__defrag_source_next(const bs__req *req, size_t *pos, char name[BS_NAME_BUF],
                           uint64_t *offset, uint64_t *size)
{
    if (*pos >= req->sources_raw_len) return 0;
    bs__mp r;
    bs__mp_init(&r, req->sources_raw + *pos, req->sources_raw_len - *pos);
    int rc = defrag_source(&r, name, offset, size);
    if (rc) return rc;
    *pos = (size_t)(r.p - req->sources_raw);
    return 1;
}

/* ---- results ----------------------------------------------------------- */

int bs__result_decode(bs__result *out, uint32_t method, const uint8_t *body, size_t len)
{
    memset(out, 0, sizeof *out);
    out->quota.limit = out->quota.usage = -1;
    bs__mp r;
    bs__mp_init(&r, body, len);
    uint32_t n;
    int rc = bs__mp_map(&r, &n, 64);
    if (rc) return rc;
    bs__hello *h = &out->hello;
    for (uint32_t i = 0; i < n && !rc; i++) {
        int k;
        uint64_t u;
        const char *dummy;
        if ((rc = next_key(&r, &out->present, &k))) break;
        switch (k) {
        case BS_K_SIZE:
            rc = want_uint(&r, k, UINT64_MAX, &out->value_size);
            out->info.size = out->value_size;
            break;
        case BS_K_HASH: rc = want_hash(&r, k, &out->hash); break;
        case BS_K_DATA:
            rc = want_bin(&r, k, &out->data, &out->data_len);
            out->has_data = !rc;
            break;
        case BS_K_EXISTS: rc = want_bool(&r, k, &out->info.exists); break;
        case BS_K_DIR: rc = want_bool(&r, k, &out->info.directory); break;
        case BS_K_ATIME: rc = want_int(&r, k, &out->info.atime_ns); break;
        case BS_K_MTIME: rc = want_int(&r, k, &out->info.mtime_ns); break;
        case BS_K_HEX: rc = copy_str(&r, k, out->hex, sizeof out->hex, &dummy, false); break;
        case BS_K_NAME: rc = copy_str(&r, k, out->name, sizeof out->name, &dummy, false); break;
        case BS_K_LIMIT: rc = want_int(&r, k, &out->quota.limit); break;
        case BS_K_USAGE: rc = want_int(&r, k, &out->quota.usage); break;
        case BS_K_CURSOR:
            if (bs__mp_nil(&r)) {
                out->has_cursor = false;
            } else {
                rc = want_uint(&r, k, UINT64_MAX, &out->cursor);
                out->has_cursor = !rc;
            }
            break;
        case BS_K_ENTRIES: {
            uint32_t cnt;
            if (bs__mp_array(&r, &cnt, BS_LIST_PAGE_CEIL)) {
                rc = proto_err("'entries' must be an array within the page limit");
                break;
            }
            out->entries_raw = r.p;
            out->n_entries = cnt;
            bs_item_info tmp;
            for (uint32_t j = 0; j < cnt && !rc; j++) rc = list_entry(&r, &tmp);
            out->entries_raw_len = (size_t)(r.p - out->entries_raw);
            break;
        }
        case BS_K_VERSION:
            rc = want_uint(&r, k, 255, &u);
            h->version = (uint32_t)u;
            break;
        case BS_K_IMPL: impl_copy(&r, h->impl, &rc); break;
        case BS_K_FEATURES: rc = features(&r, &h->features); break;
        case BS_K_MAX_FRAME:
            rc = want_uint(&r, k, UINT32_MAX, &u);
            h->max_frame = (uint32_t)u;
            break;
        case BS_K_MAX_VALUE: rc = want_uint(&r, k, UINT64_MAX, &h->max_value); break;
        case BS_K_MAX_INFLIGHT:
            rc = want_uint(&r, k, UINT32_MAX, &u);
            h->max_inflight = (uint32_t)u;
            break;
        case BS_K_MAX_INFLIGHT_BYTES:
            rc = want_uint(&r, k, UINT64_MAX, &h->max_inflight_bytes);
            break;
        case BS_K_MAX_NAME:
            rc = want_uint(&r, k, UINT32_MAX, &u);
            h->max_name = (uint32_t)u;
            break;
        case BS_K_LIST_PAGE:
            rc = want_uint(&r, k, UINT32_MAX, &u);
            h->list_page = (uint32_t)u;
            break;
        case BS_K_MAX_DEFRAG:
            rc = want_uint(&r, k, UINT32_MAX, &u);
            h->max_defrag = (uint32_t)u;
            break;
        case BS_K_PERMISSIONS:
            rc = copy_str(&r, k, h->permissions, sizeof h->permissions, &dummy, true);
            if (!rc && !dummy) h->permissions[0] = '\0';
            break;
        case BS_K_QUOTA: rc = want_uint(&r, k, UINT64_MAX, &h->quota); break;
        case BS_K_READ_ONLY: rc = want_bool(&r, k, &h->read_only); break;
        case BS_K_PINNED: rc = want_bool(&r, k, &h->pinned); break;
        default: rc = bs__mp_skip(&r, BS_MP_DEPTH_MAX - 2); break;
        }
    }
    if (rc == BS_ERR_INVALID) { /* the server's fault: a protocol error, same detail */
        bs__error_saved why;
        bs__error_save(&why);
        rc = bs__error_set(BS_ERR_PROTOCOL, "%s", why.msg);
    }
    if (!rc && r.p != r.end) rc = proto_err("trailing bytes after the result");
    if (!rc && method < BS_M_COUNT) {
        const bs__method_info *mi = bs__method_get(method);
        rc = missing(result_required[method], out->present, mi->name);
    }
    return rc;
}

int bs__list_entry_next(const bs__result *res, size_t *pos, bs_item_info *out)
{
    if (*pos >= res->entries_raw_len) return 0;
    bs__mp r;
    bs__mp_init(&r, res->entries_raw + *pos, res->entries_raw_len - *pos);
    int rc = list_entry(&r, out);
    if (rc) return rc;
    *pos = (size_t)(r.p - res->entries_raw);
    return 1;
}

/* ---- encoding ---------------------------------------------------------- */

enum ftype { F_STR, F_UINT, F_INT, F_BOOL, F_BIN, F_NIL, F_VERSIONS, F_FEATURES,
             F_SOURCES, F_ENTRIES };

typedef struct field {
    int key;
    enum ftype type;
    const char *s;
    uint64_t u;
    int64_t i;
    const void *p;
    size_t n;
} field;

typedef struct fields {
    field f[24];
    int n;
} fields;

static void add(fields *fs, int key, enum ftype type)
{
    field *f = &fs->f[fs->n++];
    memset(f, 0, sizeof *f);
    f->key = key;
    f->type = type;
}
static void add_str(fields *fs, int key, const char *s)
{
    add(fs, key, F_STR);
    fs->f[fs->n - 1].s = s;
}
static void add_uint(fields *fs, int key, uint64_t u)
{
    add(fs, key, F_UINT);
    fs->f[fs->n - 1].u = u;
}
static void add_int(fields *fs, int key, int64_t i)
{
    add(fs, key, F_INT);
    fs->f[fs->n - 1].i = i;
}
static void add_bool(fields *fs, int key, bool b)
{
    add(fs, key, F_BOOL);
    fs->f[fs->n - 1].u = b;
}
static void add_bin(fields *fs, int key, const void *p, size_t n)
{
    add(fs, key, F_BIN);
    fs->f[fs->n - 1].p = p;
    fs->f[fs->n - 1].n = n;
}

static void put_entries(bs__mpw *w, const bs_item_info *e, size_t n, bool mtime)
{
    msgpack_pack_array(&w->pk, n);
    for (size_t i = 0; i < n; i++) {
        msgpack_pack_array(&w->pk, mtime ? 5 : 4);
        bs__mpw_cstr(w, e[i].name);
        if (e[i].directory) msgpack_pack_true(&w->pk);
        else msgpack_pack_false(&w->pk);
        msgpack_pack_uint64(&w->pk, e[i].size);
        msgpack_pack_int64(&w->pk, e[i].atime_ns);
        if (mtime) msgpack_pack_int64(&w->pk, e[i].mtime_ns);
    }
}

/* Writes the map; a trailing bin with a tail only gets its header. */
static void put_fields(bs__mpw *w, const fields *fs, size_t tail)
{
    msgpack_pack_map(&w->pk, (size_t)fs->n);
    for (int i = 0; i < fs->n; i++) {
        const field *f = &fs->f[i];
        bs__mpw_cstr(w, key_names[f->key]);
        switch (f->type) {
        case F_STR: bs__mpw_cstr(w, f->s); break;
        case F_UINT: msgpack_pack_uint64(&w->pk, f->u); break;
        case F_INT: msgpack_pack_int64(&w->pk, f->i); break;
        case F_BOOL:
            if (f->u) msgpack_pack_true(&w->pk);
            else msgpack_pack_false(&w->pk);
            break;
        case F_NIL: msgpack_pack_nil(&w->pk); break;
        case F_BIN:
            msgpack_pack_bin(&w->pk, f->n);
            if (!(tail && i == fs->n - 1)) msgpack_pack_bin_body(&w->pk, f->p, f->n);
            break;
        case F_VERSIONS: {
            uint32_t mask = (uint32_t)f->u;
            msgpack_pack_array(&w->pk, (size_t)__builtin_popcount(mask));
            for (unsigned v = 0; v < 32; v++)
                if (mask & (1u << v)) msgpack_pack_uint32(&w->pk, v);
            break;
        }
        case F_FEATURES: {
            const unsigned known = sizeof feature_names / sizeof feature_names[0];
            unsigned flags = (unsigned)f->u, cnt = 0;
            for (unsigned b = 0; b < known; b++) cnt += (flags >> b) & 1;
            msgpack_pack_array(&w->pk, cnt);
            for (unsigned b = 0; b < known; b++)
                if (flags & (1u << b)) bs__mpw_cstr(w, feature_names[b]);
            break;
        }
        case F_SOURCES: {
            const bs_defrag_source *s = f->p;
            msgpack_pack_array(&w->pk, f->n);
            for (size_t j = 0; j < f->n; j++) {
                msgpack_pack_array(&w->pk, 3);
                bs__mpw_cstr(w, s[j].name);
                msgpack_pack_uint64(&w->pk, s[j].offset);
                msgpack_pack_uint64(&w->pk, s[j].size);
            }
            break;
        }
        case F_ENTRIES: put_entries(w, f->p, f->n, f->u != 0); break;
        }
    }
}

/* Envelope prefix [kind, id, (method,)] then the map, as one frame. */
static int enc_frame(bs_buf *out, unsigned kind, uint32_t id, int64_t method,
                     const fields *fs, size_t tail, uint32_t max_frame)
{
    size_t mark;
    int rc = bs__frame_begin(out, &mark);
    if (rc) return rc;
    bs__mpw w;
    bs__mpw_init(&w, out);
    msgpack_pack_array(&w.pk, method >= 0 ? 4 : 3);
    msgpack_pack_uint8(&w.pk, (uint8_t)kind);
    msgpack_pack_uint32(&w.pk, id);
    if (method >= 0) msgpack_pack_uint32(&w.pk, (uint32_t)method);
    put_fields(&w, fs, tail);
    if (w.err) {
        out->len = mark;
        return bs__error_set(w.err, "cannot encode a message");
    }
    return bs__frame_end(out, mark, tail, max_frame);
}

static void hello_fields(fields *fs, const bs__hello *h, bool result)
{
    if (result) add_uint(fs, BS_K_VERSION, h->version);
    else {
        add(fs, BS_K_VERSIONS, F_VERSIONS);
        fs->f[fs->n - 1].u = h->versions;
    }
    add_str(fs, BS_K_IMPL, h->impl);
    add(fs, BS_K_FEATURES, F_FEATURES);
    fs->f[fs->n - 1].u = h->features;
    add_uint(fs, BS_K_MAX_FRAME, h->max_frame);
    add_uint(fs, BS_K_MAX_VALUE, h->max_value);
    if (!result) {
        add_uint(fs, BS_K_LOG_LEVEL, h->log_level);
        return;
    }
    add_uint(fs, BS_K_MAX_INFLIGHT, h->max_inflight);
    add_uint(fs, BS_K_MAX_INFLIGHT_BYTES, h->max_inflight_bytes);
    add_uint(fs, BS_K_MAX_NAME, h->max_name);
    add_uint(fs, BS_K_LIST_PAGE, h->list_page);
    add_uint(fs, BS_K_MAX_DEFRAG, h->max_defrag);
    if (h->permissions[0]) add_str(fs, BS_K_PERMISSIONS, h->permissions);
    else add(fs, BS_K_PERMISSIONS, F_NIL);
    add_uint(fs, BS_K_QUOTA, h->quota);
    add_bool(fs, BS_K_READ_ONLY, h->read_only);
    add_bool(fs, BS_K_PINNED, h->pinned);
}

int bs__enc_req(bs_buf *out, const bs__req *r, uint32_t max_frame, bool inline_tail,
                size_t *tail)
{
    fields fs = {.n = 0};
    size_t t = 0;
    if (tail) *tail = 0;
    switch (r->method) {
    case BS_M_HELLO:
        hello_fields(&fs, &r->hello, false);
        break;
    case BS_M_PING:
        if (r->has_data) add_bin(&fs, BS_K_DATA, r->data, r->data_len);
        break;
    case BS_M_CREATE: case BS_M_DESTROY: case BS_M_OPEN:
        add_str(&fs, BS_K_PATH, r->path ? r->path : "");
        break;
    case BS_M_CLOSE: case BS_M_QUOTA:
        break;
    case BS_M_MKDIR: case BS_M_RMDIR: case BS_M_INFO: case BS_M_DELETE:
        add_str(&fs, BS_K_NAME, r->name);
        break;
    case BS_M_LOAD:
        add_str(&fs, BS_K_NAME, r->name);
        if (r->offset) add_int(&fs, BS_K_OFFSET, r->offset);
        if (r->size != BS_SIZE_ALL) add_int(&fs, BS_K_SIZE, r->size);
        break;
    case BS_M_STORE:
        add_str(&fs, BS_K_NAME, r->name);
        add_int(&fs, BS_K_SIZE, r->size);
        if (r->hash) add_bin(&fs, BS_K_HASH, r->hash, BS_VALUE_HASH_LEN);
        if (r->has_data) { /* data last: it may be the frame's tail */
            add_bin(&fs, BS_K_DATA, r->data, r->data_len);
            if (inline_tail) t = r->data_len;
        }
        break;
    case BS_M_MOVE:
        add_str(&fs, BS_K_NAME, r->name);
        add_str(&fs, BS_K_DST, r->dst);
        break;
    case BS_M_LIST:
        add_str(&fs, BS_K_NAME, r->name);
        if (r->limit) add_uint(&fs, BS_K_LIMIT, r->limit);
        if (r->after) add_str(&fs, BS_K_AFTER, r->after);
        break;
    case BS_M_LIST_NEXT: case BS_M_LIST_END:
        add_uint(&fs, BS_K_CURSOR, r->cursor);
        if (r->limit && r->method == BS_M_LIST_NEXT) add_uint(&fs, BS_K_LIMIT, r->limit);
        break;
    case BS_M_HASH:
        add_str(&fs, BS_K_NAME, r->name);
        add_str(&fs, BS_K_ALG, r->alg);
        break;
    case BS_M_DEFRAG:
        add(&fs, BS_K_SOURCES, F_SOURCES);
        fs.f[fs.n - 1].p = r->sources;
        fs.f[fs.n - 1].n = r->n_sources;
        if (r->target) add_str(&fs, BS_K_TARGET, r->target);
        if (r->alg) add_str(&fs, BS_K_ALG, r->alg);
        if (r->ns) add_str(&fs, BS_K_NS, r->ns);
        add_uint(&fs, BS_K_LEVELS, r->levels);
        break;
    default:
        return bs__error_set(BS_ERR_INVALID, "cannot encode method %u", r->method);
    }
    if (r->method == BS_M_PING && r->has_data && inline_tail) t = r->data_len;
    int rc = enc_frame(out, BS_KIND_REQ, r->id, r->method, &fs, t, max_frame);
    if (!rc && tail) *tail = t;
    return rc;
}

int bs__enc_ok(bs_buf *out, uint32_t id, uint32_t method, const bs__result *res,
               uint32_t max_frame, bool inline_tail, size_t *tail)
{
    fields fs = {.n = 0};
    size_t t = 0;
    if (tail) *tail = 0;
    switch (method) {
    case BS_M_HELLO:
        hello_fields(&fs, &res->hello, true);
        break;
    case BS_M_INFO:
        add_bool(&fs, BS_K_EXISTS, res->info.exists);
        add_bool(&fs, BS_K_DIR, res->info.directory);
        add_uint(&fs, BS_K_SIZE, res->info.size);
        add_int(&fs, BS_K_ATIME, res->info.atime_ns);
        add_int(&fs, BS_K_MTIME, res->info.mtime_ns);
        break;
    case BS_M_LOAD:
        add_uint(&fs, BS_K_SIZE, res->value_size);
        if (res->hash) add_bin(&fs, BS_K_HASH, res->hash, BS_VALUE_HASH_LEN);
        if (res->has_data) {
            add_bin(&fs, BS_K_DATA, res->data, res->data_len);
            if (inline_tail) t = res->data_len;
        }
        break;
    case BS_M_PING:
        if (res->has_data) {
            add_bin(&fs, BS_K_DATA, res->data, res->data_len);
            if (inline_tail) t = res->data_len;
        }
        break;
    case BS_M_LIST: case BS_M_LIST_NEXT:
        add(&fs, BS_K_ENTRIES, F_ENTRIES);
        fs.f[fs.n - 1].p = res->entries;
        fs.f[fs.n - 1].n = res->n_entries;
        fs.f[fs.n - 1].u = res->entries_mtime;
        if (res->has_cursor) add_uint(&fs, BS_K_CURSOR, res->cursor);
        else add(&fs, BS_K_CURSOR, F_NIL);
        break;
    case BS_M_HASH:
        add_str(&fs, BS_K_HEX, res->hex);
        break;
    case BS_M_DEFRAG:
        add_str(&fs, BS_K_NAME, res->name);
        break;
    case BS_M_QUOTA:
        add_int(&fs, BS_K_LIMIT, res->quota.limit);
        add_int(&fs, BS_K_USAGE, res->quota.usage);
        break;
    default: /* create, destroy, open, close, mkdir, rmdir, store, delete, move, list_end */
        break;
    }
    int rc = enc_frame(out, BS_KIND_OK, id, -1, &fs, t, max_frame);
    if (!rc && tail) *tail = t;
    return rc;
}

int bs__enc_err(bs_buf *out, uint32_t id, int code, const char *msg)
{
    size_t mark, len = strnlen(msg ? msg : "", BS_MESSAGE_MAX);
    int rc = bs__frame_begin(out, &mark);
    if (rc) return rc;
    bs__mpw w;
    bs__mpw_init(&w, out);
    msgpack_pack_array(&w.pk, 4);
    msgpack_pack_uint8(&w.pk, BS_KIND_ERR);
    msgpack_pack_uint32(&w.pk, id);
    msgpack_pack_uint32(&w.pk, bs_error_to_wire(code));
    msgpack_pack_str(&w.pk, len);
    msgpack_pack_str_body(&w.pk, msg ? msg : "", len);
    if (w.err) {
        out->len = mark;
        return bs__error_set(w.err, "cannot encode an error");
    }
    return bs__frame_end(out, mark, 0, BS_FRAME_MIN);
}

static int enc_data(bs_buf *out, uint32_t id, size_t chunk_len, bool last, uint32_t max_frame)
{
    size_t mark;
    int rc = bs__frame_begin(out, &mark);
    if (rc) return rc;
    bs__mpw w;
    bs__mpw_init(&w, out);
    msgpack_pack_array(&w.pk, last ? 4 : 3);
    msgpack_pack_uint8(&w.pk, BS_KIND_DATA);
    msgpack_pack_uint32(&w.pk, id);
    msgpack_pack_bin(&w.pk, chunk_len);
    if (w.err) {
        out->len = mark;
        return bs__error_set(w.err, "cannot encode data");
    }
    return bs__frame_end(out, mark, chunk_len + (last ? BS_DATA_TRAILER_LEN : 0), max_frame);
}

int bs__enc_data(bs_buf *out, uint32_t id, size_t chunk_len, uint32_t max_frame)
{
    return enc_data(out, id, chunk_len, false, max_frame);
}

int bs__enc_data_last(bs_buf *out, uint32_t id, size_t chunk_len, uint32_t max_frame)
{
    return enc_data(out, id, chunk_len, true, max_frame);
}

void bs__data_trailer(uint8_t out[BS_DATA_TRAILER_LEN], const uint8_t hash[BS_VALUE_HASH_LEN])
{
    out[0] = 0xc4; /* bin8 */
    out[1] = BS_VALUE_HASH_LEN;
    memcpy(out + 2, hash, BS_VALUE_HASH_LEN);
}

int bs__enc_log(bs_buf *out, unsigned level, const char *msg)
{
    size_t mark, len = strnlen(msg, BS_MESSAGE_MAX);
    int rc = bs__frame_begin(out, &mark);
    if (rc) return rc;
    bs__mpw w;
    bs__mpw_init(&w, out);
    msgpack_pack_array(&w.pk, 3);
    msgpack_pack_uint8(&w.pk, BS_KIND_LOG);
    msgpack_pack_uint8(&w.pk, (uint8_t)level);
    msgpack_pack_str(&w.pk, len);
    msgpack_pack_str_body(&w.pk, msg, len);
    if (w.err) {
        out->len = mark;
        return bs__error_set(w.err, "cannot encode a log line");
    }
    return bs__frame_end(out, mark, 0, BS_FRAME_MIN);
}
