/* A bounded msgpack reader over one byte buffer, and a writer into a bs_buf.
 * The reader never allocates: every container count is checked against the
 * bytes left (each element needs at least one byte) and a per-call cap as
 * soon as its header is read, nesting is limited, and strings/bins are
 * returned as views into the buffer. Pure functions, easy to fuzz. */
#ifndef BS_PROTO_MP_H
#define BS_PROTO_MP_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

typedef struct bs__mp {
    const uint8_t *p;
    const uint8_t *end;
} bs__mp;

typedef enum bs__mp_type {
    BS_MP_NONE = 0, /* no bytes left */
    BS_MP_NIL,
    BS_MP_BOOL,
    BS_MP_INT, /* any integer, positive or negative */
    BS_MP_FLOAT,
    BS_MP_STR,
    BS_MP_BIN,
    BS_MP_ARRAY,
    BS_MP_MAP,
    BS_MP_EXT,
    BS_MP_BAD, /* 0xc1, the never-used byte */
} bs__mp_type;

static inline void bs__mp_init(bs__mp *r, const void *buf, size_t len)
{
    r->p = buf;
    r->end = r->p + len;
}

static inline size_t bs__mp_left(const bs__mp *r) { return (size_t)(r->end - r->p); }

/* Type of the next value without consuming it. */
bs__mp_type bs__mp_peek(const bs__mp *r);

/* Each reader consumes one value of its type and returns 0, or
 * BS_ERR_PROTOCOL (wrong type, truncated, count over cap or over the bytes
 * left) leaving the position unspecified. */
int bs__mp_array(bs__mp *r, uint32_t *n, uint32_t cap);
int bs__mp_map(bs__mp *r, uint32_t *n, uint32_t cap);
int bs__mp_uint(bs__mp *r, uint64_t *v);  /* non-negative integers only */
int bs__mp_int(bs__mp *r, int64_t *v);    /* integers within int64 */
int bs__mp_bool(bs__mp *r, bool *v);
int bs__mp_str(bs__mp *r, const char **s, size_t *len);
int bs__mp_bin(bs__mp *r, const uint8_t **p, size_t *len);
/* Consumes a nil and returns true, or leaves anything else and returns false. */
bool bs__mp_nil(bs__mp *r);
/* Skips one value of any type, containers nested at most depth deep
 * (depth 1: scalars and flat containers). */
int bs__mp_skip(bs__mp *r, int depth);

/* Writer: msgpack-c's packer appending to a bs_buf, with a sticky error so
 * call sites check once at the end. */
typedef struct bs__mpw {
    msgpack_packer pk;
    bs_buf *buf;
    int err; /* 0 or BS_ERR_NOMEM */
} bs__mpw;

void bs__mpw_init(bs__mpw *w, bs_buf *buf);
/* Convenience: a str from a C string. */
void bs__mpw_cstr(bs__mpw *w, const char *s);

#endif
