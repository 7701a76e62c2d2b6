/* Preamble and frame handling (see frame.h). */
#include "proto/frame.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"

/* Bytes read beyond the current frame when there is room (read-ahead). */
#define READ_AHEAD (64u * 1024)

void bs__preamble_put(uint8_t out[BS_PROTO_PREAMBLE_LEN])
{
    memcpy(out, BS_PROTO_MAGIC, BS_PROTO_MAGIC_LEN);
    out[BS_PROTO_MAGIC_LEN] = BS_PROTO_VERSION;
}

int bs__preamble_check(const uint8_t in[BS_PROTO_PREAMBLE_LEN], unsigned *version)
{
    if (memcmp(in, BS_PROTO_MAGIC, BS_PROTO_MAGIC_LEN) != 0)
        return bs__error_set(BS_ERR_PROTOCOL, "peer did not send the borgstore magic");
    *version = in[BS_PROTO_MAGIC_LEN];
    if (*version == 0) return bs__error_set(BS_ERR_PROTOCOL, "peer offers protocol version 0");
    return 0;
}

int bs__frame_len_check(uint32_t len, uint32_t max_frame)
{
    if (len == 0) return bs__error_set(BS_ERR_PROTOCOL, "empty frame");
    if (len > max_frame)
        return bs__error_set(BS_ERR_PROTOCOL, "frame of %u bytes exceeds the limit of %u",
                             len, max_frame);
    return 0;
}

int bs__frame_begin(bs_buf *b, size_t *mark)
{
    static const uint8_t zero[BS_FRAME_HEADER];
    *mark = b->len;
    return bs__buf_append(b, zero, sizeof zero);
}

int bs__frame_end(bs_buf *b, size_t mark, size_t tail, uint32_t max_frame)
{
    size_t body = b->len - mark - BS_FRAME_HEADER;
    if (tail > max_frame || body > max_frame - tail || body + tail == 0) {
        b->len = mark;
        return bs__error_set(BS_ERR_PROTOCOL, "message of %zu bytes exceeds the frame limit %u",
                             body + tail, max_frame);
    }
    bs__be32_put(b->data + mark, (uint32_t)(body + tail));
    return 0;
}

int bs__inbuf_next(bs__inbuf *ib, uint32_t max_frame, const uint8_t **frame, size_t *len)
{
    size_t have = ib->tail - ib->head;
    if (have < BS_FRAME_HEADER) return 0;
    uint32_t n = bs__be32_get(ib->data + ib->head);
    int rc = bs__frame_len_check(n, max_frame);
    if (rc) return rc;
    if (have - BS_FRAME_HEADER < n) return 0;
    *frame = ib->data + ib->head + BS_FRAME_HEADER;
    *len = n;
    ib->head += BS_FRAME_HEADER + (size_t)n;
    if (ib->head == ib->tail) ib->head = ib->tail = 0; /* cheap reset; frame stays valid */
    return 1;
}

int bs__inbuf_space(bs__inbuf *ib, uint32_t max_frame, uint8_t **p, size_t *cap)
{
    size_t have = ib->tail - ib->head;
    size_t need = BS_FRAME_HEADER; /* bytes the head frame needs in total */
    if (have >= BS_FRAME_HEADER && max_frame) {
        uint32_t n = bs__be32_get(ib->data + ib->head);
        int rc = bs__frame_len_check(n, max_frame);
        if (rc) return rc;
        need += n;
    }
    size_t want = need > READ_AHEAD ? need : READ_AHEAD;
    if (ib->cap - ib->head < want || (ib->head && ib->cap - ib->tail < READ_AHEAD / 4)) {
        if (ib->head) {
            memmove(ib->data, ib->data + ib->head, have);
            ib->head = 0;
            ib->tail = have;
        }
        if (ib->cap < want) {
            uint8_t *d = realloc(ib->data, want);
            if (!d) return bs__error_set(BS_ERR_NOMEM, "no memory for a %zu-byte frame", want);
            ib->data = d;
            ib->cap = want;
        }
    }
    *p = ib->data + ib->tail;
    *cap = ib->cap - ib->tail;
    return 0;
}

void bs__inbuf_consume(bs__inbuf *ib, size_t n)
{
    ib->head += n;
    if (ib->head >= ib->tail) ib->head = ib->tail = 0;
}

void bs__inbuf_free(bs__inbuf *ib)
{
    free(ib->data);
    memset(ib, 0, sizeof *ib);
}
