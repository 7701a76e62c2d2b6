/* Framing: the connection preamble (magic + version) and length-prefixed
 * frames (4-byte big-endian length, then exactly one msgpack value). The
 * input buffer checks a frame's length against the limit before it grows to
 * hold it. No I/O: callers read into the space it hands out. */
#ifndef BS_PROTO_FRAME_H
#define BS_PROTO_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "proto/limits.h"

static inline void bs__be32_put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline uint32_t bs__be32_get(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Our preamble: magic followed by BS_PROTO_VERSION. */
void bs__preamble_put(uint8_t out[BS_PROTO_PREAMBLE_LEN]);

/* Checks a peer's preamble. 0 and *version (its highest version), or
 * BS_ERR_PROTOCOL when the magic is wrong. */
int bs__preamble_check(const uint8_t in[BS_PROTO_PREAMBLE_LEN], unsigned *version);

/* Checks a frame's length field: 1..max_frame, else BS_ERR_PROTOCOL. */
int bs__frame_len_check(uint32_t len, uint32_t max_frame);

/* Starts a frame in b (reserves the length field); *mark remembers where. */
int bs__frame_begin(bs_buf *b, size_t *mark);

/* Ends the frame started at mark: its length is what was appended since,
 * plus tail bytes the caller sends separately right after. Returns 0, or
 * BS_ERR_PROTOCOL when the frame would exceed max_frame (b is then rolled
 * back to mark). */
int bs__frame_end(bs_buf *b, size_t mark, size_t tail, uint32_t max_frame);

/* Input buffer: bytes read but not yet consumed, split into frames. */
typedef struct bs__inbuf {
    uint8_t *data;
    size_t cap;
    size_t head; /* first unconsumed byte */
    size_t tail; /* end of the bytes read */
} bs__inbuf;

/* Next complete frame: 1 with *frame / *len (the msgpack bytes, valid until
 * the next bs__inbuf_space), 0 when more bytes are needed, or
 * BS_ERR_PROTOCOL for a length outside 1..max_frame. */
int bs__inbuf_next(bs__inbuf *ib, uint32_t max_frame, const uint8_t **frame, size_t *len);

/* Space to read into, at least enough for the frame now at the head (whose
 * length is checked against max_frame first) and at most a read-ahead
 * window besides, so the buffer never grows past max(frame, 64 KiB) plus
 * that window. Returns 0 with *p / *cap (*cap is 0 only while complete
 * frames wait to be taken), BS_ERR_PROTOCOL for an over-long frame, or
 * BS_ERR_NOMEM. max_frame 0 reads raw bytes (the preamble) unchecked. */
int bs__inbuf_space(bs__inbuf *ib, uint32_t max_frame, uint8_t **p, size_t *cap);

/* Records n bytes read into the space. */
static inline void bs__inbuf_wrote(bs__inbuf *ib, size_t n) { ib->tail += n; }

/* Unconsumed bytes. */
static inline size_t bs__inbuf_len(const bs__inbuf *ib) { return ib->tail - ib->head; }

/* Takes n raw bytes from the head (preamble). */
void bs__inbuf_consume(bs__inbuf *ib, size_t n);

void bs__inbuf_free(bs__inbuf *ib);

#endif
