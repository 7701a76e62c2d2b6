/* HTTP/1.1 over a byte pipe (a spawned REST server, or one on an ssh
 * channel): one request, then exactly one response read by Content-Length,
 * as Python borgstore's stdio client does. Bodies go straight from the
 * caller's buffer and straight into the one buffer handed back. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/rest/rest.h"
#include "common/error.h"

#define RBUF 65536

typedef struct pipe_chan {
    bs__rest_chan base;
    bs_transport *t;
    int timeout_ms;
    bool broken;
    uint8_t rbuf[RBUF]; /* bytes read past the head */
    size_t rpos, rlen;
} pipe_chan;

void bs__rest_resp_clear(bs__rest_resp *rs)
{
    free(rs->body);
    rs->body = NULL;
    rs->body_len = 0;
}

size_t bs__rest_format_head(char *out, size_t cap, const bs__rest_req *rq)
{
    bool post = !strcmp(rq->method, "POST") || !strcmp(rq->method, "DELETE");
    char extra[256] = "";
    if (rq->hash_hex) snprintf(extra, sizeof extra, "X-Content-hash-sha256: %s\r\n", rq->hash_hex);
    if (rq->range)
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra), "Range: %s\r\n", rq->range);
    char len[48] = "";
    if (post || rq->body_len) snprintf(len, sizeof len, "Content-Length: %zu\r\n", rq->body_len);
    int n = snprintf(out, cap,
                     "%s %s HTTP/1.1\r\nAccept: " BS_REST_ACCEPT "\r\nConnection: keep-alive\r\n"
                     "%s%s\r\n",
                     rq->method, rq->target, extra, len);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static int fail(pipe_chan *c, int rc)
{
    c->broken = true;
    return rc;
}

/* Waits for the pipe; 0 when ready, BS_ERR_TIMEOUT after timeout_ms without
 * progress. */
static int await(pipe_chan *c, bool rd, bool wr)
{
    int rc = c->t->ops->wait(c->t, rd, wr, c->timeout_ms);
    if (rc < 0) return fail(c, rc);
    if (rc == 0)
        return fail(c, bs__error_set(BS_ERR_TIMEOUT, "REST server did not answer within %d s",
                                     c->timeout_ms / 1000));
    return 0;
}

/* Reads what is there into rbuf (which must be empty). */
static int fill(pipe_chan *c)
{
    for (;;) {
        ssize_t n = c->t->ops->read(c->t, c->rbuf, sizeof c->rbuf);
        if (n < 0) return fail(c, (int)n);
        if (n > 0) {
            c->rpos = 0;
            c->rlen = (size_t)n;
            return 0;
        }
        int rc = await(c, true, false);
        if (rc) return rc;
    }
}

/* Sends len bytes; stops early (returning 1) when the server answers while
 * we are still sending (it refused the request before reading its body). */
static int send_all(pipe_chan *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        ssize_t n = c->t->ops->write(c->t, p, len);
        if (n < 0) return fail(c, (int)n);
        p += n;
        len -= (size_t)n;
        if (n > 0) continue;
        int rc = await(c, true, true);
        if (rc) return rc;
        ssize_t r = c->t->ops->read(c->t, c->rbuf, sizeof c->rbuf);
        if (r < 0) return fail(c, (int)r);
        if (r > 0) {
            c->rpos = 0;
            c->rlen = (size_t)r;
            return 1;
        }
    }
    return 0;
}

static int read_head(pipe_chan *c, bs__http_resp *h)
{
    for (;;) {
        if (c->rpos == c->rlen) {
            int rc = fill(c);
            if (rc) return rc;
        }
        size_t used;
        int rc = bs__http_resp_head(h, c->rbuf + c->rpos, c->rlen - c->rpos, &used);
        c->rpos += used;
        if (rc < 0) return fail(c, rc);
        if (rc == 1) return 0;
    }
}

static int read_body(pipe_chan *c, bs__rest_resp *rs, bool ok)
{
    bs__http_resp *h = &rs->head;
    if (!h->has_length)
        return fail(c, bs__error_set(BS_ERR_PROTOCOL, "REST server sent %s (status %d)",
                                     h->chunked ? "a chunked body, not a Content-Length"
                                                : "no Content-Length",
                                     h->status));
    uint64_t max = ok ? rs->body_max : BS_REST_ERROR_BODY_MAX;
    if (h->content_length > max || h->content_length >= SIZE_MAX)
        return fail(c, bs__error_set(BS_ERR_PROTOCOL,
                                     "REST server announced %llu body bytes (status %d), more "
                                     "than the %llu expected",
                                     (unsigned long long)h->content_length, h->status,
                                     (unsigned long long)max));
    size_t len = (size_t)h->content_length;
    rs->body = malloc(len + 1);
    if (!rs->body) return fail(c, bs__error_set(BS_ERR_NOMEM, "REST response body"));
    size_t got = 0;
    while (got < len) {
        size_t have = c->rlen - c->rpos;
        if (have) {
            size_t k = have < len - got ? have : len - got;
            memcpy(rs->body + got, c->rbuf + c->rpos, k);
            c->rpos += k;
            got += k;
            continue;
        }
        ssize_t n = c->t->ops->read(c->t, rs->body + got, len - got);
        if (n < 0) {
            bs__error_saved e;
            bs__error_save(&e);
            return fail(c, bs__error_set(BS_ERR_CONNECTION,
                                         "REST response body cut short after %zu of %zu bytes: %s",
                                         got, len, e.msg));
        }
        got += (size_t)n;
        if (n == 0) {
            int rc = await(c, true, false);
            if (rc) return rc;
        }
    }
    rs->body[len] = '\0';
    rs->body_len = len;
    return 0;
}

static int pipe_exchange(bs__rest_chan *bc, const bs__rest_req *rq, bs__rest_resp *rs)
{
    pipe_chan *c = (pipe_chan *)bc;
    bs__rest_resp_clear(rs);
    bs__http_resp_init(&rs->head);
    if (c->broken) return bs__error_set(BS_ERR_CONNECTION, "REST connection is broken");
    if (c->rpos != c->rlen)
        return fail(c, bs__error_set(BS_ERR_PROTOCOL, "REST server sent bytes nobody asked for"));
    char head[2048];
    size_t hl = bs__rest_format_head(head, sizeof head, rq);
    if (!hl) return bs__error_set(BS_ERR_INVALID, "REST request line too long");
    int rc = send_all(c, head, hl);
    if (rc == 0 && rq->body_len) rc = send_all(c, rq->body, rq->body_len);
    if (rc < 0) return rc;
    bool early = rc == 1; /* answered before the whole request went out */
    if ((rc = read_head(c, &rs->head))) return rc;
    bool ok = rs->head.status >= 200 && rs->head.status < 300;
    if (strcmp(rq->method, "HEAD") && (rc = read_body(c, rs, ok))) return rc;
    if (early) c->broken = true; /* the rest of our body would be read as a request */
    return 0;
}

static void pipe_close(bs__rest_chan *bc)
{
    pipe_chan *c = (pipe_chan *)bc;
    c->t->ops->close(c->t);
    free(c);
}

static const bs__rest_chan_ops pipe_ops = {.exchange = pipe_exchange, .close = pipe_close};

int bs__rest_pipe_new(bs__rest_chan **out, bs_transport *t, int timeout_ms)
{
    *out = NULL;
    pipe_chan *c = calloc(1, sizeof *c);
    if (!c) {
        t->ops->close(t);
        return bs__error_set(BS_ERR_NOMEM, "REST channel");
    }
    c->base.ops = &pipe_ops;
    c->t = t;
    c->timeout_ms = timeout_ms;
    *out = &c->base;
    return 0;
}
