/* Output queue: bytes waiting to be written, as a list of segments that are
 * either encoded headers in an owned arena or borrowed views of a caller's
 * value (written from where they lie, released when done). Adjacent arena
 * bytes merge into one segment so many small frames go out in one write.
 * No I/O: callers fetch an iovec and report how much was written. */
#ifndef BS_PROTO_OUTQ_H
#define BS_PROTO_OUTQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/buf.h"

typedef struct bs__outseg {
    const uint8_t *ext; /* borrowed bytes, or NULL: arena bytes at off */
    size_t off;
    size_t len;         /* bytes still to write */
    void (*release)(void *ctx);
    /* runs once, just before the bytes are first handed out for writing */
    void (*prepare)(void *ctx, const uint8_t *p, size_t n);
    void *ctx;
} bs__outseg;

typedef struct bs__outq {
    bs_buf arena;
    size_t committed;   /* arena bytes already in segments */
    bs__outseg *segs;
    size_t seg_head, seg_tail, seg_cap;
    size_t pending;     /* bytes in segments not yet written */
} bs__outq;

/* Where encoders append; call bs__outq_commit afterwards. */
static inline bs_buf *bs__outq_buf(bs__outq *q) { return &q->arena; }

/* Queues the bytes appended to the arena since the last commit.
 * 0 or BS_ERR_NOMEM (then those bytes are dropped). */
int bs__outq_commit(bs__outq *q);

/* Queues n borrowed bytes at p (after committing pending arena bytes).
 * release(ctx), when non-NULL, runs once they are written or the queue is
 * freed. 0 or BS_ERR_NOMEM (release is then called at once). */
int bs__outq_ref(bs__outq *q, const void *p, size_t n, void (*release)(void *), void *ctx);

/* Like bs__outq_ref, and prepare(ctx, p, n) runs once, in queue order, when
 * these bytes are next to be written (see bs__outq_iov). */
int bs__outq_ref_prepared(bs__outq *q, const void *p, size_t n,
                          void (*prepare)(void *, const uint8_t *, size_t),
                          void (*release)(void *), void *ctx);

/* Makes room for nsegs more segments and arena_bytes more arena bytes, so
 * that queuing them cannot fail. 0 or BS_ERR_NOMEM. */
int bs__outq_reserve(bs__outq *q, size_t nsegs, size_t arena_bytes);

static inline size_t bs__outq_pending(const bs__outq *q) { return q->pending; }

/* Up to max iovecs describing the next bytes to write; returns the count.
 * A segment with a prepare hook is handed out only once it is next in line
 * (its hook runs then); the iovecs stop before it until then. So preparing
 * a value (hashing) is spread over the writes, overlapping the bytes ahead
 * of it still in the pipe, instead of preceding them all. */
int bs__outq_iov(bs__outq *q, struct iovec *iov, int max);

/* Drops the first n bytes (n <= pending), releasing finished segments. */
void bs__outq_consume(bs__outq *q, size_t n);

/* Releases everything, calling pending release callbacks. */
void bs__outq_free(bs__outq *q);

#endif
