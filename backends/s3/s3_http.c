/* One signed S3 request over libcurl, with retries: see s3_http.h. */
#include "backends/s3/s3_http.h"

#include <ctype.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "backends/s3/s3_xml.h"
#include "common/error.h"
#include "common/printable.h"

#define DEFAULT_LIMIT ((size_t)1 << 20)
#define LOW_SPEED_TIME 120 /* seconds without a byte before a transfer is dropped */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static long env_long(const char *name, long dflt, long lo, long hi)
{
    const char *v = getenv(name);
    if (!v || !*v) return dflt;
    char *end;
    long n = strtol(v, &end, 10);
    return *end || n < lo || n > hi ? dflt : n;
}

/* A bucket name that can be a DNS label (no dots, so TLS names match). */
static bool dns_safe(const char *b)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63 || !isalnum((unsigned char)b[0])) return false;
    for (const char *p = b; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-') return false;
    return true;
}

int bs__s3_http_init(bs_s3_http *h, const bs_s3_config *c)
{
    memset(h, 0, sizeof *h);
    h->cfg = c;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return bs__error_set(BS_ERR_IO, "s3: libcurl: %s", curl_easy_strerror(curl_init_rc));
    char buf[512];
    if (c->endpoint) {
        h->base = strdup(c->endpoint);
    } else {
        h->vhost = dns_safe(c->bucket);
        if (h->vhost)
            snprintf(buf, sizeof buf, "https://%s.s3.%s.amazonaws.com", c->bucket, c->region);
        else
            snprintf(buf, sizeof buf, "https://s3.%s.amazonaws.com", c->region);
        h->base = strdup(buf);
    }
    if (!h->base) return bs__error_set(BS_ERR_NOMEM, NULL);
    h->host = strdup(strstr(h->base, "://") + 3);
    h->curl = curl_easy_init();
    if (!h->host || !h->curl) {
        bs__s3_http_free(h);
        return bs__error_set(BS_ERR_NOMEM, NULL);
    }
    h->tries = (int)env_long("BORGSTORE_S3_TRIES", 5, 1, 100);
    h->backoff_ms = env_long("BORGSTORE_S3_BACKOFF_MS", 100, 0, 60000);
    return 0;
}

void bs__s3_http_free(bs_s3_http *h)
{
    if (h->curl) curl_easy_cleanup(h->curl);
    free(h->base);
    free(h->host);
    memset(h, 0, sizeof *h);
}

void bs__s3_resp_free(bs_s3_resp *r)
{
    bs__buf_free(&r->body);
}

static void resp_reset(bs_s3_resp *r)
{
    bs__buf_free(&r->body);
    memset(r, 0, sizeof *r);
    r->length = -1;
}

/* ---- curl callbacks -------------------------------------------------------- */

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    bs_s3_resp *r = ud;
    size_t len = size * n;
    size_t limit = (size_t)r->length; /* reused: set to the limit before the transfer */
    if (r->body.len + len > limit) {
        r->over = true;
        return 0;
    }
    if (bs__buf_append(&r->body, p, len) != 0) return 0;
    return len;
}

static void header_value(char *out, size_t cap, const char *v, size_t len)
{
    while (len && (*v == ' ' || *v == '\t')) v++, len--;
    while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' ')) len--;
    if (len >= cap) len = cap - 1;
    memcpy(out, v, len);
    out[len] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    bs_s3_resp *r = ud;
    size_t len = size * n;
    static const char cr[] = "content-range:", dt[] = "date:", et[] = "etag:";
    if (len > sizeof cr - 1 && strncasecmp(p, cr, sizeof cr - 1) == 0)
        header_value(r->content_range, sizeof r->content_range, p + sizeof cr - 1,
                     len - (sizeof cr - 1));
    else if (len > sizeof dt - 1 && strncasecmp(p, dt, sizeof dt - 1) == 0)
        header_value(r->date, sizeof r->date, p + sizeof dt - 1, len - (sizeof dt - 1));
    else if (len > sizeof et - 1 && strncasecmp(p, et, sizeof et - 1) == 0)
        header_value(r->etag, sizeof r->etag, p + sizeof et - 1, len - (sizeof et - 1));
    return len;
}

/* ---- building and signing ------------------------------------------------ */

static int add_header(struct curl_slist **l, const char *name, const char *value)
{
    char line[2048];
    int n = snprintf(line, sizeof line, "%s: %s", name, value);
    if (n < 0 || (size_t)n >= sizeof line) return BS_ERR_INVALID;
    struct curl_slist *x = curl_slist_append(*l, line);
    if (!x) return BS_ERR_NOMEM;
    *l = x;
    return 0;
}

/* The encoded path of the request: "/bucket[/key]" or, vhost, "/[key]". */
static int request_path(bs_s3_http *h, bs_buf *out, const char *key)
{
    if (!h->vhost) {
        if (bs__buf_append(out, "/", 1) || bs__s3_uri_encode(out, h->cfg->bucket, false))
            return BS_ERR_NOMEM;
        if (key && bs__buf_append(out, "/", 1)) return BS_ERR_NOMEM;
    } else if (bs__buf_append(out, "/", 1)) {
        return BS_ERR_NOMEM;
    }
    if (key && bs__s3_uri_encode(out, key, true)) return BS_ERR_NOMEM;
    return bs__buf_append(out, "", 1) ? BS_ERR_NOMEM : 0;
}

int bs__s3_prepare(bs_s3_http *h, CURL *c, const bs_s3_req *q, bs_s3_resp *r,
                   struct curl_slist **hdrs)
{
    const bs_s3_config *cfg = h->cfg;
    bs_buf path = {0}, query = {0}, url = {0}, authz = {0}, copy = {0};
    struct curl_slist *l = NULL;
    int rc = request_path(h, &path, q->key);
    if (!rc && q->n_query && (bs__s3_canonical_query(&query, q->query, q->n_query) ||
                              bs__buf_append(&query, "", 1)))
        rc = BS_ERR_NOMEM;
    if (!rc && q->copy_source) {
        /* "/bucket/key", encoded as a path */
        if (bs__buf_append(&copy, "/", 1) || bs__s3_uri_encode(&copy, cfg->bucket, false) ||
            bs__buf_append(&copy, "/", 1) || bs__s3_uri_encode(&copy, q->copy_source, true) ||
            bs__buf_append(&copy, "", 1))
            rc = BS_ERR_NOMEM;
    }
    char payload[65], date[17];
    if (!rc) {
        if (q->body_len)
            bs__s3_sha256_hex(payload, q->body, q->body_len);
        else
            memcpy(payload, BS_S3_EMPTY_SHA256, 65);
        bs__s3_amz_date(date, time(NULL) + h->skew);
        bs_s3_header sh[8];
        size_t n = 0;
        sh[n++] = (bs_s3_header){"host", h->host};
        sh[n++] = (bs_s3_header){"x-amz-content-sha256", payload};
        sh[n++] = (bs_s3_header){"x-amz-date", date};
        if (cfg->token) sh[n++] = (bs_s3_header){"x-amz-security-token", cfg->token};
        if (q->range) sh[n++] = (bs_s3_header){"range", q->range};
        if (q->copy_source) sh[n++] = (bs_s3_header){"x-amz-copy-source", (char *)copy.data};
        if (q->content_md5) sh[n++] = (bs_s3_header){"content-md5", q->content_md5};
        bs_s3_sign_req sr = {
            .method = q->method, .uri = (const char *)path.data, .query = q->query,
            .n_query = q->n_query, .headers = sh, .n_headers = n, .payload_hash = payload,
            .amz_date = date, .region = cfg->region, .service = "s3",
            .key_id = cfg->key_id, .secret = cfg->secret,
        };
        rc = bs__s3_authorization(&authz, &sr);
        for (size_t i = 0; i < n && !rc; i++) rc = add_header(&l, sh[i].name, sh[i].value);
        if (!rc) rc = add_header(&l, "Authorization", (const char *)authz.data);
        if (!rc) rc = add_header(&l, "Expect", ""); /* no 100-continue round trip */
        if (!rc) rc = add_header(&l, "Content-Type", "");
    }
    if (!rc) {
        if (bs__buf_append(&url, h->base, strlen(h->base)) ||
            bs__buf_append(&url, path.data, path.len - 1) ||
            (q->n_query && (bs__buf_append(&url, "?", 1) ||
                            bs__buf_append(&url, query.data, query.len - 1))) ||
            bs__buf_append(&url, "", 1))
            rc = BS_ERR_NOMEM;
    }
    if (!rc) {
        curl_easy_reset(c);
        curl_easy_setopt(c, CURLOPT_URL, (const char *)url.data);
        curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)LOW_SPEED_TIME);
        curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, l);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
        curl_easy_setopt(c, CURLOPT_FILETIME, 1L);
        if (strcmp(q->method, "HEAD") == 0) {
            curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        } else if (strcmp(q->method, "GET") != 0) {
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
            if (strcmp(q->method, "DELETE") != 0) {
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body_len ? q->body : "");
                curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
            }
        }
        /* on_data reads the limit from length until the transfer ends */
        r->length = (int64_t)(q->limit ? q->limit : DEFAULT_LIMIT);
    }
    bs__buf_free(&path);
    bs__buf_free(&query);
    bs__buf_free(&url);
    if (authz.data) sodium_memzero(authz.data, authz.len);
    bs__buf_free(&authz);
    bs__buf_free(&copy);
    if (rc) {
        curl_slist_free_all(l);
        return rc == BS_ERR_NOMEM ? bs__error_set(BS_ERR_NOMEM, NULL)
                                  : bs__error_set(rc, "s3: request too long");
    }
    *hdrs = l;
    return 0;
}

int bs__s3_conclude(bs_s3_http *h, CURL *c, CURLcode cc, bs_s3_resp *r, const char *what)
{
    (void)h;
    if (cc == CURLE_WRITE_ERROR && r->over)
        return bs__error_set(BS_ERR_PROTOCOL, "s3: %s: reply larger than %lld bytes", what,
                             (long long)r->length);
    if (cc == CURLE_WRITE_ERROR) return bs__error_set(BS_ERR_NOMEM, "s3: %s", what);
    if (cc != CURLE_OK)
        return bs__error_set(BS_ERR_CONNECTION, "s3: %s: %s", what, curl_easy_strerror(cc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_off_t cl = -1, ft = -1;
    curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
    curl_easy_getinfo(c, CURLINFO_FILETIME_T, &ft);
    r->length = cl;
    r->mtime_ns = ft > 0 ? (int64_t)ft * 1000000000 : 0;
    r->code[0] = '\0';
    if (r->status >= 300 && r->body.len) {
        bs_s3_span s = {(const char *)r->body.data, r->body.len};
        if (bs__s3_xml_text(s, "Code", r->code, sizeof r->code) < 0) r->code[0] = '\0';
    }
    return 0;
}

bool bs__s3_retryable(bs_s3_http *h, const bs_s3_resp *r)
{
    if (r->status == 500 || r->status == 502 || r->status == 503 || r->status == 504)
        return true;
    if (!strcmp(r->code, "SlowDown") || !strcmp(r->code, "InternalError") ||
        !strcmp(r->code, "RequestTimeout"))
        return true;
    if (!strcmp(r->code, "RequestTimeTooSkewed") && r->date[0]) {
        time_t server = curl_getdate(r->date, NULL);
        if (server <= 0) return false;
        h->skew = (long)(server - time(NULL));
        return true;
    }
    return false;
}

void bs__s3_backoff(const bs_s3_http *h, int attempt)
{
    long ms = h->backoff_ms;
    for (int i = 1; i < attempt && ms < 5000; i++) ms *= 2;
    if (ms <= 0) return;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int bs__s3_request(bs_s3_http *h, const bs_s3_req *q, bs_s3_resp *r, const char *what)
{
    for (int attempt = 1;; attempt++) {
        resp_reset(r);
        struct curl_slist *hdrs = NULL;
        int rc = bs__s3_prepare(h, h->curl, q, r, &hdrs);
        if (rc) return rc;
        CURLcode cc = curl_easy_perform(h->curl);
        curl_slist_free_all(hdrs);
        rc = bs__s3_conclude(h, h->curl, cc, r, what);
        bool again = rc == BS_ERR_CONNECTION || (rc == 0 && bs__s3_retryable(h, r));
        if (!again || attempt >= h->tries) return rc;
        bs__s3_backoff(h, attempt);
    }
}

int bs__s3_error(const bs_s3_resp *r, const char *what, const char *name)
{
    char msg[256] = "", shown[300], sname[512];
    if (r->body.len) {
        bs_s3_span s = {(const char *)r->body.data, r->body.len};
        if (bs__s3_xml_text(s, "Message", msg, sizeof msg) < 0) msg[0] = '\0';
    }
    bs__printable_str(shown, sizeof shown, msg);
    bs__printable_str(sname, sizeof sname, name ? name : "");
    int code = BS_ERR_IO;
    if (r->status == 404 && !strcmp(r->code, "NoSuchBucket"))
        code = BS_ERR_DOES_NOT_EXIST;
    else if (r->status == 404)
        code = BS_ERR_NOT_FOUND;
    else if (r->status == 401 || r->status == 403)
        code = BS_ERR_PERMISSION;
    else if (r->status == 416)
        code = BS_ERR_READ_RANGE;
    return bs__error_set(code, "s3: %s %s: HTTP %ld %s%s%s", what, sname, r->status,
                         r->code[0] ? r->code : "", shown[0] ? ": " : "", shown);
}
