/* Bounded msgpack reader and bs_buf-backed writer (see mp.h). The reader
 * follows the msgpack spec's format table byte for byte; it is written here
 * rather than taken from msgpack-c because msgpack-c's unpacker allocates
 * count * sizeof(msgpack_object) for a declared container before checking
 * that the bytes exist, and allocates per message even when they do. */
#include "proto/mp.h"

#include <string.h>

#include "common/error.h"

static int bad(const char *what)
{
    return bs__error_set(BS_ERR_PROTOCOL, "malformed msgpack: %s", what);
}

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

/* Reads an n-byte big-endian field after the tag byte. */
static int field(bs__mp *r, int n, uint64_t *v)
{
    *v = 0;
    if (bs__mp_left(r) < (size_t)n + 1) return bad("truncated value");
    *v = be(r->p + 1, n);
    r->p += 1 + n;
    return 0;
}

bs__mp_type bs__mp_peek(const bs__mp *r)
{
    if (r->p >= r->end) return BS_MP_NONE;
    uint8_t c = *r->p;
    if (c <= 0x7f || c >= 0xe0) return BS_MP_INT;
    if (c <= 0x8f) return BS_MP_MAP;
    if (c <= 0x9f) return BS_MP_ARRAY;
    if (c <= 0xbf) return BS_MP_STR;
    switch (c) {
    case 0xc0: return BS_MP_NIL;
    case 0xc1: return BS_MP_BAD;
    case 0xc2: case 0xc3: return BS_MP_BOOL;
    case 0xc4: case 0xc5: case 0xc6: return BS_MP_BIN;
    case 0xc7: case 0xc8: case 0xc9: return BS_MP_EXT;
    case 0xca: case 0xcb: return BS_MP_FLOAT;
    case 0xcc: case 0xcd: case 0xce: case 0xcf:
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: return BS_MP_INT;
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: return BS_MP_EXT;
    case 0xd9: case 0xda: case 0xdb: return BS_MP_STR;
    case 0xdc: case 0xdd: return BS_MP_ARRAY;
    default: return BS_MP_MAP; /* 0xde, 0xdf */
    }
}

/* Container header; per_elem is 1 for arrays, 2 for maps (key + value). */
static int container(bs__mp *r, uint32_t *n, uint32_t cap, int per_elem)
{
    if (r->p >= r->end) return bad("truncated container");
    uint8_t c = *r->p;
    uint64_t count = 0;
    int rc = 0;
    uint8_t fix_lo = per_elem == 1 ? 0x90 : 0x80;
    uint8_t tag16 = per_elem == 1 ? 0xdc : 0xde;
    if (c >= fix_lo && c <= fix_lo + 15) {
        count = c & 0x0f;
        r->p++;
    } else if (c == tag16) {
        rc = field(r, 2, &count);
    } else if (c == tag16 + 1) {
        rc = field(r, 4, &count);
    } else {
        return bad(per_elem == 1 ? "expected an array" : "expected a map");
    }
    if (rc) return rc;
    /* Each element takes at least one byte: a count the remaining bytes
     * cannot hold is refused here, before anyone sizes anything by it. */
    if (count > cap) return bad("container has too many elements");
    if (count * (uint64_t)per_elem > bs__mp_left(r))
        return bad("container count exceeds the bytes left");
    *n = (uint32_t)count;
    return 0;
}

int bs__mp_array(bs__mp *r, uint32_t *n, uint32_t cap) { return container(r, n, cap, 1); }
int bs__mp_map(bs__mp *r, uint32_t *n, uint32_t cap) { return container(r, n, cap, 2); }

/* Any integer: *neg tells the sign; *mag the value (two's complement for
 * negatives, as int64). */
static int integer(bs__mp *r, bool *neg, uint64_t *u)
{
    if (r->p >= r->end) return bad("truncated integer");
    uint8_t c = *r->p;
    uint64_t v = 0;
    int rc;
    if (c <= 0x7f) { *neg = false; *u = c; r->p++; return 0; }
    if (c >= 0xe0) { *neg = true; *u = (uint64_t)(int64_t)(int8_t)c; r->p++; return 0; }
    switch (c) {
    case 0xcc: rc = field(r, 1, &v); *neg = false; break;
    case 0xcd: rc = field(r, 2, &v); *neg = false; break;
    case 0xce: rc = field(r, 4, &v); *neg = false; break;
    case 0xcf: rc = field(r, 8, &v); *neg = false; break;
    case 0xd0: rc = field(r, 1, &v); v = (uint64_t)(int64_t)(int8_t)v; break;
    case 0xd1: rc = field(r, 2, &v); v = (uint64_t)(int64_t)(int16_t)v; break;
    case 0xd2: rc = field(r, 4, &v); v = (uint64_t)(int64_t)(int32_t)v; break;
    case 0xd3: rc = field(r, 8, &v); break;
    default: return bad("expected an integer");
    }
    if (rc) return rc;
    if (c >= 0xd0) *neg = (int64_t)v < 0;
    *u = v;
    return 0;
}

int bs__mp_uint(bs__mp *r, uint64_t *v)
{
    bool neg;
    int rc = integer(r, &neg, v);
    if (!rc && neg) return bad("expected a non-negative integer");
    return rc;
}

int bs__mp_int(bs__mp *r, int64_t *v)
{
    bool neg;
    uint64_t u;
    int rc = integer(r, &neg, &u);
    if (rc) return rc;
    if (!neg && u > INT64_MAX) return bad("integer out of range");
    *v = (int64_t)u;
    return 0;
}

int bs__mp_bool(bs__mp *r, bool *v)
{
    if (r->p >= r->end || (*r->p != 0xc2 && *r->p != 0xc3)) return bad("expected a boolean");
    *v = *r->p++ == 0xc3;
    return 0;
}

bool bs__mp_nil(bs__mp *r)
{
    if (r->p < r->end && *r->p == 0xc0) {
        r->p++;
        return true;
    }
    return false;
}

/* Bytes of a str (is_bin false) or bin value. */
static int bytes(bs__mp *r, bool is_bin, const uint8_t **p, size_t *len)
{
    if (r->p >= r->end) return bad("truncated string");
    uint8_t c = *r->p;
    uint64_t n = 0;
    int rc = 0;
    if (!is_bin && c >= 0xa0 && c <= 0xbf) {
        n = c & 0x1f;
        r->p++;
    } else if (c == (is_bin ? 0xc4 : 0xd9)) {
        rc = field(r, 1, &n);
    } else if (c == (is_bin ? 0xc5 : 0xda)) {
        rc = field(r, 2, &n);
    } else if (c == (is_bin ? 0xc6 : 0xdb)) {
        rc = field(r, 4, &n);
    } else {
        return bad(is_bin ? "expected binary data" : "expected a string");
    }
    if (rc) return rc;
    if (n > bs__mp_left(r)) return bad("string or binary runs past the end");
    *p = r->p;
    *len = (size_t)n;
    r->p += n;
    return 0;
}

int bs__mp_str(bs__mp *r, const char **s, size_t *len)
{
    const uint8_t *p;
    int rc = bytes(r, false, &p, len);
    if (!rc) *s = (const char *)p;
    return rc;
}

int bs__mp_bin(bs__mp *r, const uint8_t **p, size_t *len) { return bytes(r, true, p, len); }

static int skip_n(bs__mp *r, size_t n)
{
    if (n > bs__mp_left(r)) return bad("truncated value");
    r->p += n;
    return 0;
}

int bs__mp_skip(bs__mp *r, int depth)
{
    const uint8_t *p;
    size_t len;
    uint32_t n;
    uint64_t u = 0;
    bool b;
    int rc;
    switch (bs__mp_peek(r)) {
    case BS_MP_NONE: return bad("truncated value");
    case BS_MP_BAD: return bad("reserved byte 0xc1");
    case BS_MP_NIL: r->p++; return 0;
    case BS_MP_BOOL: return bs__mp_bool(r, &b);
    case BS_MP_INT: return integer(r, &b, &u);
    case BS_MP_FLOAT: return skip_n(r, *r->p == 0xca ? 5 : 9);
    case BS_MP_STR: return bytes(r, false, &p, &len);
    case BS_MP_BIN: return bytes(r, true, &p, &len);
    case BS_MP_EXT: {
        uint8_t c = *r->p;
        if (c >= 0xd4 && c <= 0xd8) return skip_n(r, 2 + ((size_t)1 << (c - 0xd4)));
        int w = c == 0xc7 ? 1 : c == 0xc8 ? 2 : 4;
        if ((rc = field(r, w, &u))) return rc;
        return skip_n(r, 1 + (size_t)u); /* type byte + data; u < 2^32 */
    }
    case BS_MP_ARRAY:
    case BS_MP_MAP: {
        bool is_map = bs__mp_peek(r) == BS_MP_MAP;
        if (depth <= 0) return bad("nested too deeply");
        if ((rc = container(r, &n, UINT32_MAX, is_map ? 2 : 1))) return rc;
        uint64_t items = is_map ? 2ull * n : n;
        for (uint64_t i = 0; i < items; i++)
            if ((rc = bs__mp_skip(r, depth - 1))) return rc;
        return 0;
    }
    }
    return bad("unknown type");
}

static int mpw_write(void *data, const char *buf, size_t len)
{
    bs__mpw *w = data;
    if (w->err) return -1;
    if (bs__buf_append(w->buf, buf, len)) {
        w->err = BS_ERR_NOMEM;
        return -1;
    }
    return 0;
}

void bs__mpw_init(bs__mpw *w, bs_buf *buf)
{
    w->buf = buf;
    w->err = 0;
    msgpack_packer_init(&w->pk, w, mpw_write);
}

void bs__mpw_cstr(bs__mpw *w, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(&w->pk, n);
    msgpack_pack_str_body(&w->pk, s, n);
}
