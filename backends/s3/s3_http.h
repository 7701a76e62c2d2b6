/* One S3 request over libcurl: URL and headers built from the config
 * (path-style for a given endpoint, virtual-host for AWS), signed with
 * SigV4 (s3_sign.c), sent, the reply collected with a size bound, S3's XML
 * error code read (s3_xml.c). Retries with backoff on 500/503/SlowDown and
 * dropped connections (every request we make is safe to repeat), and once
 * with the server's clock on RequestTimeTooSkewed. Also sets easy handles up
 * for the batch code (s3_batch.c) to drive in a multi handle. */
#ifndef BS_BACKENDS_S3_HTTP_H
#define BS_BACKENDS_S3_HTTP_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/s3/s3_config.h"
#include "backends/s3/s3_sign.h"
#include "common/buf.h"

typedef struct bs_s3_http {
    const bs_s3_config *cfg;
    char *base;     /* "scheme://host[:port]" requests go to */
    char *host;     /* the Host header: host[:port] */
    bool vhost;     /* bucket in the host name, not the path */
    long skew;      /* seconds to add to our clock (RequestTimeTooSkewed) */
    int tries;      /* attempts per request (BORGSTORE_S3_TRIES, default 5) */
    long backoff_ms;/* first retry delay (BORGSTORE_S3_BACKOFF_MS, default 100) */
    CURL *curl;     /* the single-request handle (kept: connection reuse) */
} bs_s3_http;

typedef struct bs_s3_req {
    const char *method;        /* GET HEAD PUT POST DELETE */
    const char *key;           /* object key, unencoded; NULL: the bucket */
    const bs_s3_query *query;
    size_t n_query;
    const void *body;
    size_t body_len;
    const char *range;         /* "bytes=a-b" or NULL */
    const char *copy_source;   /* object key to copy from (same bucket) or NULL */
    const char *content_md5;   /* base64, or NULL */
    size_t limit;              /* largest reply body accepted (0: 1 MiB) */
} bs_s3_req;

typedef struct bs_s3_resp {
    long status;
    bs_buf body;
    char code[64];       /* S3 error code of an error reply, or "" */
    int64_t length;      /* Content-Length of the reply, -1 if none */
    int64_t mtime_ns;    /* Last-Modified, 0 if none */
    char content_range[96];
    char date[64];       /* Date header, for the clock skew */
    char etag[128];      /* ETag header (multipart parts) */
    bool over;           /* the body went past limit */
} bs_s3_resp;

/* Sets h up for c (borrowed; must outlive h). 0 or BS_ERR_NOMEM. */
int bs__s3_http_init(bs_s3_http *h, const bs_s3_config *c);
void bs__s3_http_free(bs_s3_http *h);

/* Performs q with retries. 0 when the server answered (any status: see
 * r->status and r->code), or BS_ERR_CONNECTION / BS_ERR_NOMEM /
 * BS_ERR_PROTOCOL (reply too large). r is reset first; free its body with
 * bs__s3_resp_free. what names the call in messages (never a secret). */
int bs__s3_request(bs_s3_http *h, const bs_s3_req *q, bs_s3_resp *r, const char *what);

void bs__s3_resp_free(bs_s3_resp *r);

/* For the batch code: sets easy handle c up for q, signed now. *hdrs must
 * be freed with curl_slist_free_all after the transfer. 0 or an error. */
int bs__s3_prepare(bs_s3_http *h, CURL *c, const bs_s3_req *q, bs_s3_resp *r,
                   struct curl_slist **hdrs);
/* After c's transfer ended with cc: fills r->status and r->code; returns 0
 * (answered), BS_ERR_CONNECTION (dropped) or another error. */
int bs__s3_conclude(bs_s3_http *h, CURL *c, CURLcode cc, bs_s3_resp *r, const char *what);
/* Whether an answered request should be tried again (500, 503, SlowDown,
 * RequestTimeout, InternalError; RequestTimeTooSkewed after fixing the
 * clock). */
bool bs__s3_retryable(bs_s3_http *h, const bs_s3_resp *r);
/* Sleeps before attempt number attempt (1-based retry count). */
void bs__s3_backoff(const bs_s3_http *h, int attempt);

/* The error of a non-2xx answer as a code and message: 404 NoSuchKey ->
 * NOT_FOUND, NoSuchBucket -> DOES_NOT_EXIST, 403 -> PERMISSION, 416 ->
 * READ_RANGE, else IO. Returns the code. */
int bs__s3_error(const bs_s3_resp *r, const char *what, const char *name);

#endif
