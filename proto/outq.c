/* Output queue (see outq.h). */
#include "proto/outq.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

/* Reclaim arena space once this much has been written in front of live data. */
#define ARENA_SLACK (256u * 1024)

/* Room for n more segments. */
static int seg_room_n(bs__outq *q, size_t n)
{
    if (q->seg_cap - q->seg_tail >= n) return 0;
    if (q->seg_head > 0) {
        memmove(q->segs, q->segs + q->seg_head, (q->seg_tail - q->seg_head) * sizeof *q->segs);
        q->seg_tail -= q->seg_head;
        q->seg_head = 0;
        if (q->seg_cap - q->seg_tail >= n) return 0;
    }
    size_t cap = q->seg_cap ? q->seg_cap * 2 : 16;
    while (cap - q->seg_tail < n) cap *= 2;
    bs__outseg *s = realloc(q->segs, cap * sizeof *s);
    if (!s) return bs__error_set(BS_ERR_NOMEM, "output queue");
    q->segs = s;
    q->seg_cap = cap;
    return 0;
}

static int seg_room(bs__outq *q) { return seg_room_n(q, 1); }

int bs__outq_reserve(bs__outq *q, size_t nsegs, size_t arena_bytes)
{
    /* +1: pending arena bytes may need a segment of their own */
    if (seg_room_n(q, nsegs + 1) || bs__buf_reserve(&q->arena, arena_bytes))
        return bs__error_set(BS_ERR_NOMEM, "output queue");
    return 0;
}

int bs__outq_commit(bs__outq *q)
{
    size_t n = q->arena.len - q->committed;
    if (!n) return 0;
    if (q->seg_tail > q->seg_head) {
        bs__outseg *last = &q->segs[q->seg_tail - 1];
        if (!last->ext && last->off + last->len == q->committed) {
            last->len += n;
            q->committed += n;
            q->pending += n;
            return 0;
        }
    }
    if (seg_room(q)) {
        q->arena.len = q->committed;
        return BS_ERR_NOMEM;
    }
    q->segs[q->seg_tail++] = (bs__outseg){.ext = NULL, .off = q->committed, .len = n};
    q->committed += n;
    q->pending += n;
    return 0;
}

int bs__outq_ref(bs__outq *q, const void *p, size_t n, void (*release)(void *), void *ctx)
{
    return bs__outq_ref_prepared(q, p, n, NULL, release, ctx);
}

int bs__outq_ref_prepared(bs__outq *q, const void *p, size_t n,
                          void (*prepare)(void *, const uint8_t *, size_t),
                          void (*release)(void *), void *ctx)
{
    int rc = bs__outq_commit(q);
    if (!rc && n == 0) { /* nothing to write: done at once */
        if (release) release(ctx);
        return 0;
    }
    if (!rc) rc = seg_room(q);
    if (rc) {
        if (release) release(ctx);
        return rc;
    }
    q->segs[q->seg_tail++] =
        (bs__outseg){.ext = p, .len = n, .release = release, .prepare = prepare, .ctx = ctx};
    q->pending += n;
    return 0;
}

int bs__outq_iov(bs__outq *q, struct iovec *iov, int max)
{
    int n = 0;
    for (size_t i = q->seg_head; i < q->seg_tail && n < max; i++) {
        bs__outseg *s = &q->segs[i];
        if (!s->len) continue;
        if (s->prepare) {
            if (n > 0) break; /* prepared once it is next: after this write */
            s->prepare(s->ctx, s->ext, s->len);
            s->prepare = NULL;
        }
        iov[n].iov_base = (void *)(s->ext ? s->ext : q->arena.data + s->off);
        iov[n].iov_len = s->len;
        n++;
    }
    return n;
}

/* Once no segment refers to the arena's front, move live bytes down. */
static void arena_reclaim(bs__outq *q)
{
    size_t first = q->committed; /* lowest arena offset still referenced */
    for (size_t i = q->seg_head; i < q->seg_tail; i++)
        if (!q->segs[i].ext) {
            first = q->segs[i].off;
            break;
        }
    if (first == 0) return;
    if (first == q->arena.len) { /* nothing live at all */
        q->arena.len = q->committed = 0;
        return;
    }
    if (first < ARENA_SLACK || first < q->arena.len / 2) return;
    memmove(q->arena.data, q->arena.data + first, q->arena.len - first);
    q->arena.len -= first;
    q->committed -= first;
    for (size_t i = q->seg_head; i < q->seg_tail; i++)
        if (!q->segs[i].ext) q->segs[i].off -= first;
}

void bs__outq_consume(bs__outq *q, size_t n)
{
    q->pending -= n;
    while (n && q->seg_head < q->seg_tail) {
        bs__outseg *s = &q->segs[q->seg_head];
        size_t take = n < s->len ? n : s->len;
        if (s->ext) s->ext += take;
        else s->off += take;
        s->len -= take;
        n -= take;
        if (s->len) break;
        if (s->release) s->release(s->ctx);
        q->seg_head++;
    }
    if (q->seg_head == q->seg_tail) q->seg_head = q->seg_tail = 0;
    arena_reclaim(q);
}

void bs__outq_free(bs__outq *q)
{
    for (size_t i = q->seg_head; i < q->seg_tail; i++)
        if (q->segs[i].release) q->segs[i].release(q->segs[i].ctx);
    free(q->segs);
    bs__buf_free(&q->arena);
    memset(q, 0, sizeof *q);
}
