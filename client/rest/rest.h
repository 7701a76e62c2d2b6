/* The REST v1 client's internal interface: one request, one response over a
 * channel, either HTTP framed by us over a byte pipe (a spawned server or an
 * ssh channel: rest_pipe.c) or libcurl over TCP (rest_curl.c). The backend
 * slots (rest_backend.c) only see this. */
#ifndef BS_CLIENT_REST_REST_H
#define BS_CLIENT_REST_REST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/rest/http_resp.h"
#include "client/transport.h"

#define BS_REST_ACCEPT "application/vnd.x.borgstore.rest.v1"
#define BS_REST_ERROR_BODY_MAX (64 * 1024) /* an error body kept for its message */

typedef struct bs__rest_req {
    const char *method;   /* "GET", "HEAD", "POST", "DELETE" */
    const char *target;   /* "/name?query", already percent-encoded */
    const char *hash_hex; /* X-Content-hash-sha256, or NULL */
    const char *range;    /* Range value ("bytes=a-b"), or NULL */
    const void *body;     /* sent as is (not copied) */
    size_t body_len;
} bs__rest_req;

typedef struct bs__rest_resp {
    bs__http_resp head;
    uint64_t body_max;    /* a successful body above this is refused */
    uint8_t *body;        /* malloc'd, NUL-terminated after body_len; NULL for HEAD */
    size_t body_len;
} bs__rest_resp;

typedef struct bs__rest_chan bs__rest_chan;
typedef struct bs__rest_chan_ops {
    /* Sends rq, receives the response into rs (any status). 0, or
     * BS_ERR_CONNECTION / BS_ERR_TIMEOUT (the connection is gone), or
     * BS_ERR_PROTOCOL (the server sent something wrong; the channel is
     * unusable), BS_ERR_NOMEM. */
    int (*exchange)(bs__rest_chan *c, const bs__rest_req *rq, bs__rest_resp *rs);
    void (*close)(bs__rest_chan *c);
} bs__rest_chan_ops;

struct bs__rest_chan {
    const bs__rest_chan_ops *ops;
};

/* HTTP over t (owned from now on, closed with the channel, also on error).
 * timeout_ms bounds every wait for the server to make progress. */
int bs__rest_pipe_new(bs__rest_chan **out, bs_transport *t, int timeout_ms);

/* libcurl to base_url ("http(s)://[user:pass@]host[:port][/prefix]"; the
 * target is appended). */
int bs__rest_curl_new(bs__rest_chan **out, const char *base_url, int timeout_ms);

/* Releases a response's body; rs may be reused. */
void bs__rest_resp_clear(bs__rest_resp *rs);

/* Writes the request head (request line and headers, as Python borgstore's
 * client sends them) into out; returns its length, or 0 when it does not
 * fit. content_length: whether to send Content-Length (POST and DELETE). */
size_t bs__rest_format_head(char *out, size_t cap, const bs__rest_req *rq);

#endif
