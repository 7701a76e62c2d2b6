/* Queues a value as DATA frames whose last frame carries the value's hash,
 * hashing each chunk just before it is written (an outq prepare hook): the
 * hash pass overlaps the transfer instead of preceding it, and the bytes go
 * out from the caller's buffer. Used for store requests and load results. */
#ifndef BS_PROTO_VALUE_OUT_H
#define BS_PROTO_VALUE_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "proto/outq.h"

/* Queues len (>= 1) bytes at data as the DATA frames of id for a peer
 * accepting max_frame. data must stay valid until release(ctx) runs (once
 * its last byte is written, or when the queue is freed). Returns 0, or
 * BS_ERR_NOMEM / BS_ERR_INVALID with nothing queued and release called. */
int bs__outq_value(bs__outq *q, uint32_t id, const uint8_t *data, size_t len, uint32_t max_frame,
                   void (*release)(void *), void *ctx);

#endif
