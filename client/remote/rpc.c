/* The RPC client core (see rpc.h): request slots indexed by id, the send
 * path (headers into the output queue's arena, values borrowed from the
 * caller), and the pump that moves bytes both ways with a no-progress
 * timeout. Frames from the server are handled in rpc_recv.c. */
#include "client/remote/rpc_internal.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "bs_config.h"
#include "common/error.h"
#include "common/names.h"
#include "proto/frame.h"
#include "proto/limits.h"
#include "proto/outq.h"
#include "proto/value_out.h"

int64_t bs__rpc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void bs__reply_clear(bs__reply *r)
{
    free(r->value);
    free(r->entries);
    memset(r, 0, sizeof *r);
}

slot *bs__rpc_slot_of(bs__rpc *c, uint32_t id)
{
    if (!c->slots || !id) return NULL;
    slot *s = &c->slots[id & c->mask];
    return s->id == id && s->state != ST_FREE ? s : NULL;
}

static void slot_free(slot *s)
{
    bs__reply_clear(&s->reply);
    free(s->errmsg);
    memset(s, 0, sizeof *s);
}

void bs__rpc_complete(bs__rpc *c, slot *s)
{
    s->state = ST_DONE;
    c->inflight--;
    c->inflight_bytes -= s->bytes;
    if (c->receiving == s) c->receiving = NULL;
    if (s->discard) {
        if (s->reply.rc && c->deferred_count++ == 0) {
            c->deferred_rc = s->reply.rc;
            snprintf(c->deferred_msg, sizeof c->deferred_msg, "%s",
                     s->errmsg ? s->errmsg : bs_error_str(s->reply.rc));
        }
        slot_free(s);
        return;
    }
    c->done[c->done_tail++ & c->mask] = s->id;
}

/* Printable rendering of unexpected bytes (a shell banner, an error). */
void bs__rpc_printable(char *out, size_t cap, const uint8_t *p, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 < cap; i++) {
        uint8_t ch = p[i];
        if (ch == '\n') {
            if (i + 1 < n) { out[o++] = ' '; out[o++] = '|'; out[o++] = ' '; }
        } else if (ch == '\r' || ch == '\t') {
            out[o++] = ' ';
        } else {
            out[o++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
        }
    }
    out[o] = '\0';
}

/* The connection is unusable: every outstanding call ends with rc. */
int bs__rpc_fail(bs__rpc *c, int rc)
{
    if (c->phase == PH_BROKEN) return c->broken_rc;
    snprintf(c->broken_msg, sizeof c->broken_msg, "%s", bs_error_message());
    if (c->phase == PH_PREAMBLE && bs__inbuf_len(&c->in)) {
        char shown[BANNER_MAX];
        bs__rpc_printable(shown, sizeof shown, c->in.data + c->in.head, bs__inbuf_len(&c->in));
        size_t l = strlen(c->broken_msg);
        snprintf(c->broken_msg + l, sizeof c->broken_msg - l,
                 "; before the borgstore handshake it sent: \"%s\"", shown);
    }
    c->phase = PH_BROKEN;
    c->broken_rc = rc;
    bs__outq_free(&c->out); /* no borrowed value is touched after this */
    c->receiving = NULL;
    for (uint32_t i = 0; c->slots && i <= c->mask; i++) {
        slot *s = &c->slots[i];
        if (s->state != ST_SENT && s->state != ST_RECEIVING) continue;
        bs__reply_clear(&s->reply);
        s->reply.method = s->method;
        s->reply.rc = rc;
        free(s->errmsg);
        s->errmsg = strdup(c->broken_msg);
        bs__rpc_complete(c, s);
    }
    c->inflight = 0;
    c->inflight_bytes = 0;
    return bs__error_set_raw(rc, 0, c->broken_msg);
}

int bs__rpc_proto_fail(bs__rpc *c, const char *fmt, unsigned long long v)
{
    char msg[256];
    snprintf(msg, sizeof msg, fmt, v);
    bs__error_set(BS_ERR_PROTOCOL, "borgstore-serve broke the protocol: %s", msg);
    return bs__rpc_fail(c, BS_ERR_PROTOCOL);
}

/* ---- the pump ------------------------------------------------------------- */

/* Moves bytes both ways without blocking. 1: progress, 0: none, <0: broken. */
static int pump_once(bs__rpc *c)
{
    int progress = 0;
    while (bs__outq_pending(&c->out)) {
        struct iovec iov;
        bs__outq_iov(&c->out, &iov, 1);
        ssize_t n = c->t->ops->write(c->t, iov.iov_base, iov.iov_len);
        if (n < 0) return bs__rpc_fail(c, (int)n);
        if (n == 0) break;
        bs__outq_consume(&c->out, (size_t)n);
        progress = 1;
        /* the server reading our requests is progress, but only in
         * amounts that matter: a peer that takes a byte at a time does not
         * keep the deadline away */
        c->written += (uint64_t)n;
        if (c->written >= PROGRESS_BYTES || !bs__outq_pending(&c->out)) {
            c->last_progress = bs__rpc_now_ms();
            c->written = 0;
        }
    }
    for (;;) {
        int rc = bs__rpc_process_input(c);
        if (rc) return rc == BS_ERR_PROTOCOL && c->phase == PH_PREAMBLE ? rc : bs__rpc_fail(c, rc);
        uint8_t *p;
        size_t cap;
        uint32_t max = c->phase == PH_PREAMBLE ? 0 : c->phase == PH_READY ? c->o.max_frame
                                                                         : BS_FRAME_MIN;
        if ((rc = bs__inbuf_space(&c->in, max, &p, &cap))) return bs__rpc_fail(c, rc);
        if (!cap) continue;
        ssize_t n = c->t->ops->read(c->t, p, cap);
        if (n < 0) return bs__rpc_fail(c, (int)n);
        if (n == 0) break;
        bs__inbuf_wrote(&c->in, (size_t)n);
        progress = 1; /* but not for the deadline: only whole frames count */
    }
    return progress;
}

/* The reply deadline: timeout_ms since the wait began or the last real
 * progress (a whole frame other than LOG received, or a good part of our
 * output taken). Trickled bytes and LOG frames do not count. */
static int overdue(bs__rpc *c, int64_t *idle)
{
    *idle = bs__rpc_now_ms() - c->last_progress;
    if (*idle < c->o.timeout_ms) return 0;
    bs__error_set(BS_ERR_TIMEOUT, "no answer from borgstore-serve for %d.%d s (LOG frames "
                  "and partial frames do not count)", c->o.timeout_ms / 1000,
                  c->o.timeout_ms % 1000 / 100);
    return bs__rpc_fail(c, BS_ERR_TIMEOUT);
}

/* Pumps until done(c, arg), failure, or the reply deadline (overdue). */
static int pump_until(bs__rpc *c, bool (*done)(bs__rpc *, const void *), const void *arg)
{
    c->last_progress = bs__rpc_now_ms();
    for (;;) {
        int rc, pumped = pump_once(c);
        if (pumped < 0) return pumped;
        if (done(c, arg)) return 0;
        int64_t idle;
        if ((rc = overdue(c, &idle)) < 0) return rc;
        if (pumped > 0) continue;
        rc = c->t->ops->wait(c->t, true, bs__outq_pending(&c->out) > 0,
                             (int)(c->o.timeout_ms - idle));
        if (rc < 0) return bs__rpc_fail(c, rc);
    }
}

static bool is_ready(bs__rpc *c, const void *arg)
{
    (void)arg;
    return c->phase == PH_READY;
}

/* After a bad preamble: gather what else arrives for a moment, so the
 * message shows the whole banner or error, then fail. */
static int bad_preamble(bs__rpc *c)
{
    int64_t end = bs__rpc_now_ms() + BANNER_WAIT_MS;
    while (bs__inbuf_len(&c->in) < BANNER_MAX && bs__rpc_now_ms() < end) {
        uint8_t *p;
        size_t cap;
        if (bs__inbuf_space(&c->in, 0, &p, &cap) || !cap) break;
        ssize_t n = c->t->ops->read(c->t, p, cap);
        if (n < 0) break;
        if (n > 0) {
            bs__inbuf_wrote(&c->in, (size_t)n);
            continue;
        }
        if (c->t->ops->wait(c->t, true, false, (int)(end - bs__rpc_now_ms())) <= 0) break;
    }
    const char *tail = c->t->ops->stderr_tail(c->t);
    bs__error_set(BS_ERR_PROTOCOL,
                  "the remote side is not borgstore-serve (wrong command, or a shell that "
                  "prints text on login?)%s%s",
                  *tail ? "; its stderr: " : "", tail);
    return bs__rpc_fail(c, BS_ERR_PROTOCOL);
}

int bs__rpc_connect(bs__rpc **out, bs_transport *t, const bs__rpc_opts *opts)
{
    *out = NULL;
    bs__rpc *c = calloc(1, sizeof *c);
    if (!c) {
        t->ops->close(t);
        return bs__error_set(BS_ERR_NOMEM, NULL);
    }
    c->t = t;
    c->rx_hash = aligned_alloc(64, (sizeof *c->rx_hash + 63) / 64 * 64);
    if (!c->rx_hash || sodium_init() < 0) {
        free(c->rx_hash);
        free(c);
        t->ops->close(t);
        return bs__error_set(BS_ERR_NOMEM, NULL);
    }
    if (opts) c->o = *opts;
    if (c->o.timeout_ms <= 0) c->o.timeout_ms = DEFAULT_TIMEOUT_MS;
    if (c->o.max_frame < BS_FRAME_MIN) c->o.max_frame = BS_FRAME_DEFAULT;
    if (c->o.max_frame > BS_FRAME_CEIL) c->o.max_frame = BS_FRAME_CEIL;
    if (!c->o.max_value) c->o.max_value = DEFAULT_MAX_VALUE;
    if (!c->o.log_level) c->o.log_level = BS_LOG_WARNING;
    c->phase = PH_PREAMBLE;

    uint8_t pre[BS_PROTO_PREAMBLE_LEN];
    bs__preamble_put(pre);
    bs__req hello = {.method = BS_M_HELLO, .id = HELLO_ID};
    hello.hello.versions = 1u << BS_PROTO_VERSION;
    snprintf(hello.hello.impl, sizeof hello.hello.impl, "borgstore-c %s", BS_VERSION);
    hello.hello.features = BS_FEAT_ALL;
    hello.hello.max_frame = c->o.max_frame;
    hello.hello.max_value = c->o.max_value;
    hello.hello.log_level = (uint32_t)c->o.log_level;
    int rc = bs__buf_append(bs__outq_buf(&c->out), pre, sizeof pre);
    if (!rc) rc = bs__enc_req(bs__outq_buf(&c->out), &hello, BS_FRAME_MIN, false, NULL);
    if (!rc) rc = bs__outq_commit(&c->out);
    if (!rc) rc = pump_until(c, is_ready, NULL);
    if (rc == BS_ERR_PROTOCOL && c->phase == PH_PREAMBLE) rc = bad_preamble(c);
    if (rc) {
        char msg[BS_MESSAGE_MAX];
        snprintf(msg, sizeof msg, "%s", bs_error_message());
        bs__rpc_free(c);
        return bs__error_set_raw(rc, 0, msg);
    }
    *out = c;
    return 0;
}

void bs__rpc_free(bs__rpc *c)
{
    if (!c) return;
    if (c->phase == PH_READY) { /* flush what is queued (bounded), then EOF */
        int64_t end = bs__rpc_now_ms() + 2000;
        while (bs__outq_pending(&c->out) && bs__rpc_now_ms() < end && c->phase == PH_READY) {
            if (pump_once(c) == 0) c->t->ops->wait(c->t, false, true, 100);
        }
    }
    for (uint32_t i = 0; c->slots && i <= c->mask; i++) slot_free(&c->slots[i]);
    bs__outq_free(&c->out);
    c->t->ops->shutdown_write(c->t);
    c->t->ops->close(c->t);
    bs__inbuf_free(&c->in);
    free(c->slots);
    free(c->done);
    free(c->rx_hash);
    free(c);
}

const bs__hello *bs__rpc_server(const bs__rpc *c) { return &c->hello; }
bool bs__rpc_broken(const bs__rpc *c) { return c->phase == PH_BROKEN; }

int bs__rpc_error(const bs__rpc *c)
{
    return c->phase == PH_BROKEN ? bs__error_set_raw(c->broken_rc, 0, c->broken_msg) : 0;
}
size_t bs__rpc_inflight(const bs__rpc *c) { return c->inflight; }

/* ---- calls ----------------------------------------------------------------- */

typedef struct room { uint64_t bytes; } room;

static bool has_room(bs__rpc *c, const void *arg)
{
    uint64_t bytes = ((const room *)arg)->bytes;
    if (c->phase != PH_READY) return true;
    if (c->inflight >= c->window) return false;
    return c->inflight_bytes == 0 || c->inflight_bytes + bytes <= c->window_bytes;
}

int bs__rpc_submit(bs__rpc *c, const bs__req *req, uint32_t *id)
{
    return bs__rpc_submit_ex(c, req, false, id);
}

int bs__rpc_submit_ex(bs__rpc *c, const bs__req *req, bool copy, uint32_t *id)
{
    *id = 0;
    if (c->phase != PH_READY)
        return c->phase == PH_BROKEN ? bs__error_set_raw(c->broken_rc, 0, c->broken_msg)
                                     : bs__error_set(BS_ERR_INVALID, "not connected");
    bool with_value = req->method == BS_M_STORE || (req->method == BS_M_PING && req->has_data);
    room need = {REQ_OVERHEAD + (with_value ? req->data_len : 0)};
    if (!has_room(c, &need)) {
        int rc = pump_until(c, has_room, &need);
        if (rc) return rc;
        if (c->phase != PH_READY) return bs__error_set_raw(c->broken_rc, 0, c->broken_msg);
    }
    slot *s = NULL;
    for (uint32_t tries = 0; tries <= 2 * c->mask + 2; tries++) {
        /* ids increase; skip 0 and ids whose slot is still taken */
        uint32_t cand = c->next_id++;
        if (!cand) continue;
        if (c->slots[cand & c->mask].state == ST_FREE) {
            s = &c->slots[cand & c->mask];
            s->id = cand;
            break;
        }
    }
    if (!s) return bs__error_set(BS_ERR_INVALID, "too many completed calls not collected");
    bs__req r;
    memcpy(&r, req, offsetof(bs__req, name_buf)); /* the buffers are not needed */
    r.id = s->id;
    bool in_frames = with_value && req->data_len > bs__inline_max(c->peer_max_frame);
    if (req->method == BS_M_STORE) {
        r.size = (int64_t)req->data_len;
        r.has_data = true;
        if (!r.data) r.data = (const uint8_t *)"";
        /* inline: the hash goes in the header; in DATA frames it is
         * computed as the chunks go out and travels in the last one */
        r.hash = NULL;
        if (!in_frames) {
            bs__value_hash(s->hash, r.data, r.data_len);
            r.hash = s->hash;
        }
    }
    if (req->method == BS_M_PING && req->has_data && req->data_len > bs__inline_max(c->peer_max_frame)) {
        s->id = 0;
        return bs__error_set(BS_ERR_INVALID, "ping data too large");
    }
    bs_buf *arena = bs__outq_buf(&c->out);
    size_t before = bs__outq_pending(&c->out) + (arena->len - c->out.committed);
    int rc;
    if (in_frames) {
        r.has_data = false; /* header, then the value in DATA frames */
        /* copy: the caller's buffer is not kept, so the frames go out
         * from a private copy */
        uint8_t *own = NULL;
        if (copy && !(own = malloc(r.data_len))) {
            s->id = 0;
            return bs__error_set(BS_ERR_NOMEM, "no memory for a %zu-byte value", r.data_len);
        }
        if (own) memcpy(own, r.data, r.data_len);
        rc = bs__enc_req(arena, &r, c->peer_max_frame, false, NULL);
        if (rc) {
            free(own);
            s->id = 0;
            return rc == BS_ERR_NOMEM ? bs__rpc_fail(c, rc) : rc;
        }
        rc = bs__outq_value(&c->out, r.id, own ? own : r.data, r.data_len, c->peer_max_frame,
                            own ? free : NULL, own);
        if (rc) { /* the header is queued: the stream is no longer sound */
            s->id = 0;
            return bs__rpc_fail(c, rc);
        }
    } else {
        size_t tail;
        rc = bs__enc_req(arena, &r, c->peer_max_frame, !copy, &tail);
        if (!rc) rc = tail ? bs__outq_ref(&c->out, r.data, tail, NULL, NULL)
                           : bs__outq_commit(&c->out);
        if (rc) {
            s->id = 0;
            return rc == BS_ERR_NOMEM ? bs__rpc_fail(c, rc) : rc;
        }
    }
    s->state = ST_SENT;
    s->method = req->method;
    s->want_size = req->method == BS_M_LOAD ? req->size : BS_SIZE_ALL;
    s->bytes = bs__outq_pending(&c->out) - before;
    c->inflight++;
    c->inflight_bytes += s->bytes;
    *id = s->id;
    if (bs__outq_pending(&c->out) >= WRITE_EARLY) {
        int prc = pump_once(c);
        if (prc < 0) return 0; /* the failure is reported by the wait */
    }
    return 0;
}

/* ---- a store from a reader --------------------------------------------------- */

static bool out_empty(bs__rpc *c, const void *arg)
{
    (void)arg;
    return c->phase != PH_READY || !bs__outq_pending(&c->out);
}

/* n bytes from read into buf (a reader past its contract is an error). */
static int read_full(bs_read_fn read, void *ctx, uint8_t *buf, size_t n)
{
    for (size_t have = 0, got; have < n; have += got) {
        got = 0;
        int rc = read(ctx, buf + have, n - have, &got);
        if (rc) return rc;
        if (got == 0 || got > n - have)
            return bs__error_set(BS_ERR_IO, "the value's reader failed");
    }
    return 0;
}

/* Queues one DATA frame of id (the last one with the value's trailer) and
 * pumps until it is written, so buf can take the next chunk. */
static int send_chunk(bs__rpc *c, uint32_t id, const uint8_t *buf, size_t n, bool last,
                      crypto_generichash_state *h)
{
    crypto_generichash_update(h, buf, n);
    bs_buf *arena = bs__outq_buf(&c->out);
    int rc = last ? bs__enc_data_last(arena, id, n, c->peer_max_frame)
                  : bs__enc_data(arena, id, n, c->peer_max_frame);
    if (!rc) rc = bs__outq_ref(&c->out, buf, n, NULL, NULL);
    if (!rc && last) {
        uint8_t digest[BS_VALUE_HASH_LEN], trailer[BS_DATA_TRAILER_LEN];
        crypto_generichash_final(h, digest, sizeof digest);
        bs__data_trailer(trailer, digest);
        rc = bs__buf_append(arena, trailer, sizeof trailer);
        if (!rc) rc = bs__outq_commit(&c->out);
    }
    if (rc) return bs__rpc_fail(c, rc); /* the header is out: the stream is not sound */
    rc = pump_until(c, out_empty, NULL);
    if (!rc && c->phase != PH_READY) rc = bs__error_set_raw(c->broken_rc, 0, c->broken_msg);
    return rc;
}

int bs__rpc_store_from(bs__rpc *c, const char *name, uint64_t len, bs_read_fn read, void *ctx,
                       uint32_t *id)
{
    *id = 0;
    if (c->phase != PH_READY)
        return c->phase == PH_BROKEN ? bs__error_set_raw(c->broken_rc, 0, c->broken_msg)
                                     : bs__error_set(BS_ERR_INVALID, "not connected");
    size_t chunk = bs__chunk_max(c->peer_max_frame);
    if (len <= bs__inline_max(c->peer_max_frame) || len <= chunk) {
        /* small: one inline request from a copy, as bs__rpc_submit_ex */
        uint8_t *buf = malloc(len ? (size_t)len : 1);
        if (!buf) return bs__error_set(BS_ERR_NOMEM, "no memory for a %llu-byte value",
                                       (unsigned long long)len);
        int rc = read_full(read, ctx, buf, (size_t)len);
        bs__req r = {.method = BS_M_STORE, .name = name, .data = buf, .data_len = (size_t)len,
                     .has_data = true};
        if (!rc) rc = bs__rpc_submit_ex(c, &r, true, id);
        free(buf);
        return rc;
    }
    uint8_t *buf = malloc(chunk);
    crypto_generichash_state *h = aligned_alloc(64, (sizeof *h + 63) / 64 * 64);
    int rc = buf && h ? 0 : bs__error_set(BS_ERR_NOMEM, "no memory to stream a value");
    /* the first chunk before the header: a reader failing at once costs
     * nothing on the wire */
    if (!rc) rc = read_full(read, ctx, buf, chunk);
    room need = {REQ_OVERHEAD + len};
    if (!rc && !has_room(c, &need)) rc = pump_until(c, has_room, &need);
    if (!rc && c->phase != PH_READY) rc = bs__error_set_raw(c->broken_rc, 0, c->broken_msg);
    slot *s = NULL;
    for (uint32_t tries = 0; !rc && tries <= 2 * c->mask + 2; tries++) {
        uint32_t cand = c->next_id++;
        if (cand && c->slots[cand & c->mask].state == ST_FREE) {
            s = &c->slots[cand & c->mask];
            s->id = cand;
            break;
        }
    }
    if (!rc && !s) rc = bs__error_set(BS_ERR_INVALID, "too many completed calls not collected");
    if (!rc) {
        bs__req r = {.id = s->id, .method = BS_M_STORE, .name = name, .size = (int64_t)len};
        rc = bs__enc_req(bs__outq_buf(&c->out), &r, c->peer_max_frame, false, NULL);
        if (!rc) rc = bs__outq_commit(&c->out);
        if (rc) {
            s->id = 0;
            rc = rc == BS_ERR_NOMEM ? bs__rpc_fail(c, rc) : rc;
        }
    }
    if (rc) {
        free(buf);
        free(h);
        return rc;
    }
    s->state = ST_SENT;
    s->method = BS_M_STORE;
    s->want_size = BS_SIZE_ALL;
    s->bytes = REQ_OVERHEAD + len;
    c->inflight++;
    c->inflight_bytes += s->bytes;
    *id = s->id;
    crypto_generichash_init(h, NULL, 0, BS_VALUE_HASH_LEN);
    uint64_t left = len;
    size_t n = chunk;
    for (;;) {
        left -= n;
        if ((rc = send_chunk(c, s->id, buf, n, left == 0, h)) || left == 0) break;
        n = left < chunk ? (size_t)left : chunk;
        if ((rc = read_full(read, ctx, buf, n))) {
            /* the value is half sent and cannot be taken back: end the
             * connection, so the server drops it (its temp file goes) */
            rc = bs__rpc_fail(c, rc);
            break;
        }
    }
    free(buf);
    free(h);
    return rc;
}

static bool is_done(bs__rpc *c, const void *arg)
{
    const slot *s = arg;
    (void)c;
    return s->state == ST_DONE;
}

int bs__rpc_wait(bs__rpc *c, uint32_t id, bs__reply *out)
{
    memset(out, 0, sizeof *out);
    slot *s = bs__rpc_slot_of(c, id);
    if (!s || s->discard) return out->rc = bs__error_set(BS_ERR_INVALID, "no such call %u", id);
    if (s->state != ST_DONE) pump_until(c, is_done, s); /* a failure completes s too */
    *out = s->reply;
    out->tag = s->tag;
    memset(&s->reply, 0, sizeof s->reply);
    if (out->rc) bs__error_set_raw(out->rc, 0, s->errmsg ? s->errmsg : bs_error_str(out->rc));
    slot_free(s);
    return out->rc;
}

/* Next completed id not collected yet, or 0. */
static uint32_t next_done(bs__rpc *c)
{
    while (c->done_head != c->done_tail) {
        uint32_t id = c->done[c->done_head++ & c->mask];
        slot *s = bs__rpc_slot_of(c, id);
        if (s && s->state == ST_DONE && !s->discard) return id;
    }
    return 0;
}

int bs__rpc_poll(bs__rpc *c, uint32_t *id, int timeout_ms)
{
    *id = 0;
    if (!c->slots) return 0;
    int64_t end = timeout_ms < 0 ? INT64_MAX : bs__rpc_now_ms() + timeout_ms;
    c->last_progress = bs__rpc_now_ms();
    for (;;) {
        if ((*id = next_done(c))) return 1;
        if (c->phase == PH_BROKEN) return bs__error_set_raw(c->broken_rc, 0, c->broken_msg);
        if (c->inflight == 0) return 0;
        int rc = pump_once(c);
        if (rc < 0) continue; /* a failure that completed the calls */
        int64_t idle;
        if (overdue(c, &idle) < 0) continue;
        if (rc > 0) continue;
        int64_t now = bs__rpc_now_ms();
        if (now >= end) return 0;
        int64_t w = c->o.timeout_ms - idle;
        if (end - now < w) w = end - now;
        if ((rc = c->t->ops->wait(c->t, true, bs__outq_pending(&c->out) > 0, (int)w)) < 0)
            bs__rpc_fail(c, rc);
    }
}

void bs__rpc_discard(bs__rpc *c, uint32_t id)
{
    slot *s = bs__rpc_slot_of(c, id);
    if (!s) return;
    if (s->state == ST_DONE) {
        if (s->reply.rc && c->deferred_count++ == 0) {
            c->deferred_rc = s->reply.rc;
            snprintf(c->deferred_msg, sizeof c->deferred_msg, "%s",
                     s->errmsg ? s->errmsg : bs_error_str(s->reply.rc));
        }
        slot_free(s);
        return;
    }
    s->discard = true;
}

int bs__rpc_take_deferred(bs__rpc *c, size_t *failed)
{
    int rc = c->deferred_rc;
    if (rc) bs__error_set_raw(rc, 0, c->deferred_msg);
    if (failed) *failed = c->deferred_count;
    c->deferred_rc = 0;
    c->deferred_count = 0;
    return rc;
}

void bs__rpc_set_tag(bs__rpc *c, uint32_t id, uint64_t tag)
{
    slot *s = bs__rpc_slot_of(c, id);
    if (s) s->tag = tag;
}

static bool none_inflight(bs__rpc *c, const void *arg)
{
    (void)arg;
    return c->inflight == 0 || c->phase != PH_READY;
}

int bs__rpc_drain(bs__rpc *c)
{
    if (c->phase == PH_BROKEN) return bs__error_set_raw(c->broken_rc, 0, c->broken_msg);
    int rc = none_inflight(c, NULL) ? 0 : pump_until(c, none_inflight, NULL);
    if (!rc && c->phase == PH_BROKEN) rc = bs__error_set_raw(c->broken_rc, 0, c->broken_msg);
    return rc;
}

int bs__rpc_call(bs__rpc *c, const bs__req *req, bs__reply *out)
{
    uint32_t id;
    int rc = bs__rpc_submit(c, req, &id);
    if (rc) {
        memset(out, 0, sizeof *out);
        return out->rc = rc;
    }
    return bs__rpc_wait(c, id, out);
}
