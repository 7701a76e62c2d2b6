/* REST over TCP with libcurl (http:// and https://): one easy handle kept
 * for the connection's reuse, one request at a time. The response head is
 * fed to the same bounded parser as the pipe's; the body goes into one
 * buffer sized by Content-Length (or grown up to the cap when a proxy
 * sends it chunked). Credentials in the URL become HTTP Basic auth. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/rest/rest.h"
#include "common/error.h"

typedef struct curl_chan {
    bs__rest_chan base;
    CURL *h;
    char *base_url;
    int timeout_ms;
    /* the exchange in progress */
    bs__rest_resp *rs;
    size_t cap;
    int rc; /* an error the callbacks found */
    bool head_only;
} curl_chan;

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
    curl_chan *c = ctx;
    size_t len = size * n, used;
    /* a new head (after 100 Continue, a redirect, or an auth round) starts over */
    if (c->rs->head.done && len >= 5 && !memcmp(data, "HTTP/", 5)) bs__http_resp_init(&c->rs->head);
    int rc = bs__http_resp_head(&c->rs->head, data, len, &used);
    if (rc < 0) {
        c->rc = rc;
        return 0;
    }
    return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    curl_chan *c = ctx;
    bs__rest_resp *rs = c->rs;
    size_t len = size * n;
    const bs__http_resp *h = &rs->head;
    bool ok = h->status >= 200 && h->status < 300;
    uint64_t max = ok ? rs->body_max : BS_REST_ERROR_BODY_MAX;
    if (rs->body_len + len > max || (h->has_length && rs->body_len + len > h->content_length)) {
        c->rc = bs__error_set(BS_ERR_PROTOCOL, "REST server sent more body bytes (status %d) "
                              "than %llu", h->status,
                              (unsigned long long)(h->has_length && h->content_length < max
                                                       ? h->content_length : max));
        return 0;
    }
    if (rs->body_len + len + 1 > c->cap) {
        size_t want = h->has_length ? (size_t)h->content_length + 1 : (rs->body_len + len) * 2 + 1;
        if (want < rs->body_len + len + 1) want = rs->body_len + len + 1;
        uint8_t *p = realloc(rs->body, want);
        if (!p) {
            c->rc = bs__error_set(BS_ERR_NOMEM, "REST response body");
            return 0;
        }
        rs->body = p;
        c->cap = want;
    }
    memcpy(rs->body + rs->body_len, data, len);
    rs->body_len += len;
    return len;
}

static int curl_exchange(bs__rest_chan *bc, const bs__rest_req *rq, bs__rest_resp *rs)
{
    curl_chan *c = (curl_chan *)bc;
    bs__rest_resp_clear(rs);
    bs__http_resp_init(&rs->head);
    c->rs = rs;
    c->cap = 0;
    c->rc = 0;
    size_t ul = strlen(c->base_url) + strlen(rq->target) + 1;
    char *url = malloc(ul);
    if (!url) return bs__error_set(BS_ERR_NOMEM, NULL);
    snprintf(url, ul, "%s%s", c->base_url, rq->target);
    struct curl_slist *hdr = NULL, *tmp;
    char line[256];
    bool ok = (hdr = curl_slist_append(NULL, "Accept: " BS_REST_ACCEPT)) &&
              (tmp = curl_slist_append(hdr, "Expect:")) && (hdr = tmp);
    if (ok && rq->hash_hex) {
        snprintf(line, sizeof line, "X-Content-hash-sha256: %s", rq->hash_hex);
        ok = (tmp = curl_slist_append(hdr, line)) && (hdr = tmp);
    }
    if (ok && rq->range) {
        snprintf(line, sizeof line, "Range: %s", rq->range);
        ok = (tmp = curl_slist_append(hdr, line)) && (hdr = tmp);
    }
    if (!ok) {
        curl_slist_free_all(hdr);
        free(url);
        return bs__error_set(BS_ERR_NOMEM, NULL);
    }
    CURL *h = c->h;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    if (!strcmp(rq->method, "HEAD")) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(rq->method, "GET")) { /* POST and DELETE carry a (maybe empty) body */
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body_len ? rq->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
        if (strcmp(rq->method, "POST")) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
    }
    CURLcode cc = curl_easy_perform(h);
    curl_slist_free_all(hdr);
    free(url);
    int rc = c->rc;
    if (!rc && cc != CURLE_OK) {
        int code = cc == CURLE_OPERATION_TIMEDOUT ? BS_ERR_TIMEOUT
                 : cc == CURLE_OUT_OF_MEMORY      ? BS_ERR_NOMEM
                 : cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL ? BS_ERR_URL_INVALID
                 : cc == CURLE_WEIRD_SERVER_REPLY ? BS_ERR_PROTOCOL
                                                  : BS_ERR_CONNECTION;
        rc = bs__error_set(code, "REST over HTTP: %s", curl_easy_strerror(cc));
    }
    if (!rc && !rs->head.done) rc = bs__error_set(BS_ERR_PROTOCOL, "REST server sent no response head");
    if (!rc && strcmp(rq->method, "HEAD") && rs->head.has_length &&
        rs->body_len != rs->head.content_length)
        rc = bs__error_set(BS_ERR_CONNECTION, "REST response body cut short after %zu of %llu bytes",
                           rs->body_len, (unsigned long long)rs->head.content_length);
    if (!rc && strcmp(rq->method, "HEAD") && !rs->body && !(rs->body = malloc(1)))
        rc = bs__error_set(BS_ERR_NOMEM, NULL);
    if (rc) {
        bs__rest_resp_clear(rs);
        return rc;
    }
    if (rs->body) rs->body[rs->body_len] = '\0';
    return 0;
}

static void curl_close(bs__rest_chan *bc)
{
    curl_chan *c = (curl_chan *)bc;
    curl_easy_cleanup(c->h);
    free(c->base_url);
    free(c);
}

static const bs__rest_chan_ops curl_ops = {.exchange = curl_exchange, .close = curl_close};

int bs__rest_curl_new(bs__rest_chan **out, const char *base_url, int timeout_ms)
{
    *out = NULL;
    static bool inited;
    if (!inited) { /* thread-safe in libcurl >= 7.84 */
        curl_global_init(CURL_GLOBAL_DEFAULT);
        inited = true;
    }
    curl_chan *c = calloc(1, sizeof *c);
    if (!c || !(c->base_url = strdup(base_url)) || !(c->h = curl_easy_init())) {
        if (c) free(c->base_url);
        free(c);
        return bs__error_set(BS_ERR_NOMEM, "REST over HTTP");
    }
    c->base.ops = &curl_ops;
    c->timeout_ms = timeout_ms;
    CURL *h = c->h;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    /* a stall, not a slow transfer, ends a request: under 1 byte/s for the timeout */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)(timeout_ms + 999) / 1000);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    *out = &c->base;
    return 0;
}
