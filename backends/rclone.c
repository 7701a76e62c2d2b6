/* The rclone backend (rclone:REMOTE:PATH, or rclone:/local/path): drives a
 * private `rclone rcd --rc-serve` child (rclone_proc.c) over its HTTP API
 * with libcurl, like Python borgstore's rclone backend: "operations" calls
 * with JSON bodies, uploadfile for values, ranged GETs of /[fs]/name for
 * loads. Replies are read with rclone_json.c. */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "backends/list_array.h"
#include "backends/rclone_json.h"
#include "backends/rclone_proc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/hashing.h"
#include "common/names.h"
#include "common/timestamp.h"

#define MIN_VERSION_TEXT "1.57.0"
static const int64_t min_version[3] = {1, 57, 0};
#define START_TIMEOUT_S 30 /* BORGSTORE_RCLONE_TIMEOUT overrides */
#define JSON_MAX ((size_t)256 << 20)
#define TRIES 3            /* loads and stores: 500s are tried again, like borgstore */
#define RESTARTS 1         /* a dead rclone is started again once per call */
#define LOW_SPEED_TIME 600 /* seconds without a byte before a request fails */
#define BATCH_WINDOW 16    /* requests at once in a batch (rcd serves them concurrently) */

typedef struct rclonefs {
    bs_backend base;
    char *fs;       /* what rclone gets as fs: the URL's rest, '/'-terminated */
    char *fs_json;  /* fs as a JSON string literal */
    char *fs_query; /* fs percent-encoded */
    char *fs_path;  /* its path part, kept out of messages */
    char *binary;   /* RCLONE_BINARY or "rclone" */
    bs_rclone_proc proc;
    bool running;     /* proc serving and checked (version, fsinfo) */
    bool ever_ran;    /* a restart may be tried */
    bool server_move; /* the remote renames server-side: temp + move */
    CURL *curl;
    CURLM *multi; /* batches: concurrent requests on the pool's handles */
    CURL *pool[BATCH_WINDOW];
    char base_url[64];  /* http://127.0.0.1:PORT/ */
    char *user, *pass;  /* random, in sodium_malloc memory */
    char err_text[512]; /* rclone's "error" of the last failed call, path-free */
    long status;        /* HTTP status of the last request */
} rclonefs;

static rclonefs *R(bs_backend *b)
{
    return (rclonefs *)b;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- small helpers ------------------------------------------------------- */

/* s as a JSON string literal (quoted, escaped); malloc'd or NULL. */
static char *json_quote(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(6 * n + 3);
    if (!out) return NULL;
    char *o = out;
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            *o++ = '\\';
            *o++ = (char)*p;
        } else if (*p < 0x20) {
            o += sprintf(o, "\\u%04x", *p);
        } else {
            *o++ = (char)*p;
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

/* Percent-encodes everything but unreserved characters (and '/' when
 * keep_slash). malloc'd or NULL. */
static char *pct(const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(3 * strlen(s) + 1);
    if (!out) return NULL;
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~' || (keep_slash && *p == '/')) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

static const char *split(const char *name, char parent[BS_NAME_BUF])
{
    const char *slash = strrchr(name, '/');
    if (!slash) {
        parent[0] = '\0';
        return name;
    }
    memcpy(parent, name, (size_t)(slash - name));
    parent[slash - name] = '\0';
    return slash + 1;
}

/* Copies rclone's error text into r->err_text with the store's own path
 * replaced, so no server path reaches a message. */
static void keep_error_text(rclonefs *r, const char *text)
{
    size_t k = 0, plen = r->fs_path ? strlen(r->fs_path) : 0;
    while (plen > 1 && r->fs_path[plen - 1] == '/')
        plen--;
    for (const char *p = text; *p && k + 1 < sizeof r->err_text;) {
        if (plen > 1 && strncmp(p, r->fs_path, plen) == 0) {
            static const char mark[] = "<store>";
            for (const char *m = mark; *m && k + 1 < sizeof r->err_text;)
                r->err_text[k++] = *m++;
            p += plen;
            continue;
        }
        unsigned char c = (unsigned char)*p++;
        r->err_text[k++] = c < 0x20 ? ' ' : (char)c;
    }
    r->err_text[k] = '\0';
}

static bool err_has(const rclonefs *r, const char *what)
{
    return strstr(r->err_text, what);
}

/* ---- HTTP ----------------------------------------------------------------- */

typedef struct sink {
    rclonefs *r;
    bs_buf buf;
    size_t limit;
    bs_hash_ctx *hash; /* hash instead of keeping the bytes */
    bool over;         /* more than limit arrived */
    long status;       /* HTTP status, as soon as the headers arrive */
    char content_range[128];
} sink;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t n = size * nmemb;
    if (s->hash && s->status / 100 == 2) { /* error bodies are kept, not hashed */
        bs__hash_update(s->hash, ptr, n);
        return n;
    }
    if (s->buf.len + n > s->limit) {
        s->over = true;
        return 0; /* aborts the transfer */
    }
    return bs__buf_append(&s->buf, ptr, n) ? 0 : n;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
    sink *s = ud;
    size_t n = size * nitems;
    static const char cr[] = "content-range:";
    if (!strncasecmp(buf, "HTTP/", 5)) {
        /* the status line: learn the status before the body arrives */
        long st = 0;
        const char *sp = memchr(buf, ' ', n);
        if (sp) st = strtol(sp + 1, NULL, 10);
        s->status = st;
        s->content_range[0] = '\0';
    } else if (n > sizeof cr - 1 && !strncasecmp(buf, cr, sizeof cr - 1)) {
        size_t v = sizeof cr - 1;
        while (v < n && buf[v] == ' ')
            v++;
        size_t len = n - v;
        while (len && (buf[v + len - 1] == '\r' || buf[v + len - 1] == '\n'))
            len--;
        if (len >= sizeof s->content_range) len = sizeof s->content_range - 1;
        memcpy(s->content_range, buf + v, len);
        s->content_range[len] = '\0';
    }
    return n;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a, (void)b, (void)c, (void)d;
    bs__rclone_drain(&((rclonefs *)ud)->proc); /* its log must never fill the pipe */
    return 0;
}

/* The daemon is gone or unreachable. */
static int lost(rclonefs *r, const char *what, const char *name, const char *why)
{
    char st[64];
    bool alive = bs__rclone_alive(&r->proc);
    r->running = false;
    return bs__error_set(BS_ERR_CONNECTION, "rclone: %s %s: %s (rclone %s); its log: %s", what,
                         name, why,
                         alive ? "running" : bs__rclone_exit_text(&r->proc, st, sizeof st),
                         bs__rclone_log_tail(&r->proc));
}

typedef struct request {
    const char *path;  /* after base_url */
    const char *json;  /* POST body, or NULL for a GET */
    curl_mime *mime;   /* multipart POST */
    const char *range; /* "bytes=..." or NULL */
} request;

/* Sets c up for q (after a reset). *hdrs is freed by the caller after the
 * transfer. 0 or BS_ERR_INVALID / NOMEM. */
static int prepare(rclonefs *r, CURL *c, const request *q, sink *s, struct curl_slist **hdrs,
                   const char *what, const char *name)
{
    char url[8192];
    int n = snprintf(url, sizeof url, "%s%s", r->base_url, q->path);
    if (n < 0 || (size_t)n >= sizeof url)
        return bs__error_set(BS_ERR_INVALID, "rclone: %s %s: request too long", what, name);
    curl_easy_reset(c);
    struct curl_slist *h = NULL, *h2;
    char range[96];
    if (q->json && (h2 = curl_slist_append(h, "Content-Type: application/json"))) h = h2;
    if (q->range) {
        snprintf(range, sizeof range, "Range: %s", q->range);
        if ((h2 = curl_slist_append(h, range))) h = h2;
    }
    if ((h2 = curl_slist_append(h, "Expect:"))) h = h2; /* no 100-continue round trip */
    *hdrs = h;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, r->user);
    curl_easy_setopt(c, CURLOPT_PASSWORD, r->pass);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)LOW_SPEED_TIME);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, r);
    if (q->mime) {
        curl_easy_setopt(c, CURLOPT_MIMEPOST, q->mime);
    } else if (q->json) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(q->json));
        curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, q->json);
    }
    s->status = 0;
    return 0;
}

/* After a transfer that ended with cc: 0 when the server answered (the
 * HTTP status, whatever it is, in r->status and s->status),
 * BS_ERR_CONNECTION when it could not be reached. */
static int conclude(rclonefs *r, CURL *c, CURLcode cc, sink *s, const char *what,
                    const char *name)
{
    bs__rclone_drain(&r->proc);
    if (cc == CURLE_WRITE_ERROR && s->over)
        return bs__error_set(BS_ERR_PROTOCOL, "rclone: %s %s: reply larger than %zu bytes",
                             what, name, s->limit);
    if (cc == CURLE_WRITE_ERROR)
        return bs__error_set(BS_ERR_NOMEM, "rclone: %s %s", what, name);
    /* rclone 1.60 declares the length of the range it could not serve on
     * its short error page: an error status with a short body is an answer */
    if (cc == CURLE_PARTIAL_FILE && s->status >= 400) cc = CURLE_OK;
    if (cc != CURLE_OK) return lost(r, what, name, curl_easy_strerror(cc));
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    r->status = s->status = code;
    return 0;
}

/* Performs q; r->status is the HTTP status. 0 when the server answered
 * (whatever the status), BS_ERR_CONNECTION when it could not be reached. */
static int perform(rclonefs *r, const request *q, sink *s, const char *what, const char *name)
{
    struct curl_slist *hdrs = NULL;
    r->status = 0;
    int rc = prepare(r, r->curl, q, s, &hdrs, what, name);
    if (rc) return rc;
    CURLcode cc = curl_easy_perform(r->curl);
    curl_slist_free_all(hdrs);
    return conclude(r, r->curl, cc, s, what, name);
}

/* The error of a non-2xx answer: rclone's "error" text (path-free) kept in
 * r->err_text, and the code. The one mapping from HTTP status and rclone's
 * texts to our codes; callers handle the answers that mean something else
 * for their call first. */
static int http_error(rclonefs *r, const sink *s, const char *what, const char *name)
{
    bs_json *doc = NULL;
    r->err_text[0] = '\0';
    if (s->buf.len &&
        bs__json_parse(&doc, (const char *)s->buf.data, s->buf.len, "rclone") == 0) {
        const char *e = bs__json_str(doc, bs__json_get(doc, bs__json_root(doc), "error"), NULL);
        if (e) keep_error_text(r, e);
    } else if (s->buf.len) {
        char text[256];
        size_t n = s->buf.len < sizeof text - 1 ? s->buf.len : sizeof text - 1;
        memcpy(text, s->buf.data, n);
        text[n] = '\0';
        keep_error_text(r, text);
    }
    bs__json_free(doc);
    bs__error_clear();
    long st = r->status;
    if (st == 404 || err_has(r, "no such file or directory") ||
        err_has(r, "object not found") || err_has(r, "directory not found"))
        return bs__error_set(BS_ERR_NOT_FOUND, "%s", name);
    if (st == 401)
        return bs__error_set(BS_ERR_PROTOCOL, "rclone: %s %s: rclone refused our credentials",
                             what, name);
    if (st == 403 || err_has(r, "permission denied"))
        return bs__error_set(BS_ERR_PERMISSION, "rclone: %s %s: %s", what, name, r->err_text);
    if (err_has(r, "didn't find section in config file"))
        return bs__error_set(BS_ERR_URL_INVALID,
                             "rclone: the remote of the URL is not configured (see 'rclone "
                             "config'): %s",
                             r->err_text);
    return bs__error_set(BS_ERR_IO, "rclone: %s %s: %s (HTTP %ld)", what, name,
                         r->err_text[0] ? r->err_text : "failed", st);
}

/* The reply in s to a call: on 200 parsed into *out (when out is
 * non-NULL); other answers give their code with r->err_text set. */
static int reply_json(rclonefs *r, sink *s, bs_json **out, const char *method, const char *what,
                      const char *name)
{
    if (out) *out = NULL;
    r->status = s->status;
    if (s->status != 200) return http_error(r, s, what, name);
    if (!out) return 0;
    return bs__json_parse(out, s->buf.data ? (const char *)s->buf.data : "", s->buf.len,
                          method);
}

/* POSTs an operations/... call with body; on 200 parses the reply into
 * *out (when out is non-NULL). Other answers: their code, r->status and
 * r->err_text set. */
static int call(rclonefs *r, const char *method, const char *body, bs_json **out,
                const char *what, const char *name)
{
    if (out) *out = NULL;
    sink s = {.r = r, .limit = JSON_MAX};
    request q = {.path = method, .json = body};
    int rc = perform(r, &q, &s, what, name);
    if (!rc) rc = reply_json(r, &s, out, method, what, name);
    bs__buf_free(&s.buf);
    return rc;
}

/* A JSON body {"fs": fs, "remote": name, extra...}; malloc'd. */
static char *body_fs_remote(rclonefs *r, const char *name, const char *extra)
{
    char *qn = json_quote(name), *out = NULL;
    if (qn &&
        asprintf(&out, "{\"fs\":%s,\"remote\":%s%s}", r->fs_json, qn, extra ? extra : "") < 0)
        out = NULL;
    free(qn);
    return out;
}

/* call() with {"fs","remote"} as the body. */
static int call_fs(rclonefs *r, const char *method, const char *name, const char *extra,
                   bs_json **out, const char *what)
{
    char *body = body_fs_remote(r, name, extra);
    if (!body) return bs__error_set(BS_ERR_NOMEM, "rclone: %s %s", what, name);
    int rc = call(r, method, body, out, what, *name ? name : "(root)");
    free(body);
    return rc;
}

/* ---- the daemon ----------------------------------------------------------- */

static void stop(rclonefs *r)
{
    bs__rclone_stop(&r->proc);
    r->running = false;
}

static int start_timeout_ms(void)
{
    const char *v = getenv("BORGSTORE_RCLONE_TIMEOUT");
    long s = v && *v ? strtol(v, NULL, 10) : START_TIMEOUT_S;
    if (s <= 0 || s > 3600) s = START_TIMEOUT_S;
    return (int)s * 1000;
}

/* Checks core/version against the minimum. */
static int check_version(rclonefs *r)
{
    bs_json *doc;
    int rc = call(r, "core/version", "{}", &doc, "version", "check");
    if (rc) return rc;
    bs_json_ref root = bs__json_root(doc);
    const char *v = bs__json_str(doc, bs__json_get(doc, root, "version"), NULL);
    bs_json_ref d = bs__json_first(doc, bs__json_get(doc, root, "decomposed"));
    int64_t have[3] = {0, 0, 0};
    for (int i = 0; i < 3 && d; i++, d = bs__json_next(doc, d))
        bs__json_int(doc, d, &have[i]);
    int cmp = 0;
    for (int i = 0; i < 3 && !cmp; i++)
        cmp = (have[i] > min_version[i]) - (have[i] < min_version[i]);
    if (cmp < 0)
        rc = bs__error_set(
            BS_ERR_UNSUPPORTED,
            "rclone: %s is %s, too old: borgstore needs rclone >= " MIN_VERSION_TEXT, r->binary,
            v ? v : "of an unknown version");
    bs__json_free(doc);
    return rc;
}

/* Whether the remote renames on the server (operations/fsinfo Features.Move). */
static int check_features(rclonefs *r)
{
    bs_json *doc;
    char *body = NULL;
    if (asprintf(&body, "{\"fs\":%s}", r->fs_json) < 0)
        return bs__error_set(BS_ERR_NOMEM, "rclone: fsinfo");
    int rc = call(r, "operations/fsinfo", body, &doc, "fsinfo", "(root)");
    free(body);
    if (rc) return rc;
    bool move = false;
    bs__json_bool(doc,
                  bs__json_get(doc, bs__json_get(doc, bs__json_root(doc), "Features"), "Move"),
                  &move);
    r->server_move = move;
    bs__json_free(doc);
    return 0;
}

static int start(rclonefs *r)
{
    if (r->running && bs__rclone_alive(&r->proc)) return 0;
    if (r->running) return lost(r, "calling", "rclone", "it exited");
    stop(r);
    uint8_t rnd[24];
    randombytes_buf(rnd, 8);
    bs__hex(r->user, rnd, 8);
    randombytes_buf(rnd, sizeof rnd);
    bs__hex(r->pass, rnd, sizeof rnd);
    sodium_memzero(rnd, sizeof rnd);
    int rc = bs__rclone_start(&r->proc, r->binary, r->user, r->pass, start_timeout_ms());
    if (rc) return rc;
    snprintf(r->base_url, sizeof r->base_url, "http://127.0.0.1:%d/", r->proc.port);
    if (!r->curl && !(r->curl = curl_easy_init())) {
        stop(r);
        return bs__error_set(BS_ERR_NOMEM, "rclone: libcurl");
    }
    if ((rc = check_version(r)) || (rc = check_features(r))) {
        stop(r);
        return rc;
    }
    r->running = true;
    r->ever_ran = true;
    return 0;
}

/* Whether a call that failed with rc is tried again with a new rclone. */
static bool restart(rclonefs *r, int rc, int *attempt)
{
    if (rc != BS_ERR_CONNECTION || !r->ever_ran || *attempt >= RESTARTS) return false;
    stop(r);
    (*attempt)++;
    return true;
}

#define WITH_RCLONE(r, call_expr)                                                              \
    do {                                                                                       \
        int attempt_ = 0;                                                                      \
        do {                                                                                   \
            rc = start(r);                                                                     \
            if (!rc) rc = (call_expr);                                                         \
        } while (restart(r, rc, &attempt_));                                                   \
    } while (0)

/* ---- create / destroy / open / close -------------------------------------- */

/* An rclone list/stat item's ModTime (RFC 3339) in ns, 0 when absent. */
static int64_t mtime_of(const bs_json *doc, bs_json_ref item)
{
    int64_t ns = 0;
    const char *t = bs__json_str(doc, bs__json_get(doc, item, "ModTime"), NULL);
    return t && bs__rfc3339_to_ns(t, &ns) ? ns : 0;
}

/* What a stat call gave (rc, and the reply when rc is 0) into *out: exists,
 * directory, size, mtime. Missing, a missing parent and a parent that is a
 * file all mean "does not exist". Takes doc. */
static int stat_result(rclonefs *r, int rc, bs_json *doc, bs_item_info *out)
{
    memset(out, 0, sizeof *out);
    if (rc == BS_ERR_NOT_FOUND || (rc == BS_ERR_IO && err_has(r, "not a directory"))) {
        bs__error_clear();
        return 0;
    }
    if (rc) return rc;
    bs_json_ref item = bs__json_get(doc, bs__json_root(doc), "item");
    if (bs__json_type(doc, item) == BS_JSON_OBJECT) { /* rclone 1.60: missing is "item": null */
        out->exists = true;
        bs__json_bool(doc, bs__json_get(doc, item, "IsDir"), &out->directory);
        int64_t sz = 0;
        if (!out->directory && bs__json_int(doc, bs__json_get(doc, item, "Size"), &sz) && sz > 0)
            out->size = (uint64_t)sz;
        out->mtime_ns = mtime_of(doc, item);
    }
    bs__json_free(doc);
    return 0;
}

/* ModTime is asked for: borg decides about stale locks by the store's mtime
 * (on the local backend rclone reads it from the same stat). */
#define STAT_OPT ",\"opt\":{\"noMimeType\":true}"

/* stat of name into *out (exists, directory, size, mtime). */
static int stat_item(rclonefs *r, const char *name, bs_item_info *out)
{
    bs_json *doc = NULL;
    int rc = call_fs(r, "operations/stat", name, STAT_OPT, &doc, "info");
    return stat_result(r, rc, doc, out);
}

static int do_create(rclonefs *r)
{
    bs_json *doc;
    int rc = call_fs(r, "operations/list", "", NULL, &doc, "create");
    if (rc == BS_ERR_NOT_FOUND) {
        bs__error_clear();
    } else if (rc == BS_ERR_IO && err_has(r, "not a directory")) {
        return bs__error_set(BS_ERR_ALREADY_EXISTS,
                             "storage base path exists and is not a directory");
    } else if (rc) {
        return rc;
    } else {
        bool empty = !bs__json_first(doc, bs__json_get(doc, bs__json_root(doc), "list"));
        bs__json_free(doc);
        if (!empty)
            return bs__error_set(BS_ERR_ALREADY_EXISTS, "storage base path is not empty");
    }
    return call_fs(r, "operations/mkdir", "", NULL, NULL, "create");
}

static int rclone_create(bs_backend *b)
{
    rclonefs *r = R(b);
    int rc;
    WITH_RCLONE(r, do_create(r));
    return rc;
}

static int do_destroy(rclonefs *r)
{
    bs_item_info st;
    int rc = stat_item(r, "", &st);
    if (rc) return rc;
    if (!st.exists || !st.directory)
        return bs__error_set(BS_ERR_DOES_NOT_EXIST, "storage base path does not exist");
    return call_fs(r, "operations/purge", "", NULL, NULL, "destroy");
}

static int rclone_destroy(bs_backend *b)
{
    rclonefs *r = R(b);
    int rc;
    WITH_RCLONE(r, do_destroy(r));
    return rc;
}

static int do_open(rclonefs *r)
{
    bs_item_info st;
    int rc = stat_item(r, "", &st);
    if (rc) return rc;
    if (!st.exists || !st.directory)
        return bs__error_set(BS_ERR_DOES_NOT_EXIST,
                             "storage base path does not exist or is not a directory");
    return 0;
}

static int rclone_open(bs_backend *b)
{
    rclonefs *r = R(b);
    int rc;
    WITH_RCLONE(r, do_open(r));
    if (rc) stop(r);
    return rc;
}

static int rclone_close(bs_backend *b)
{
    rclonefs *r = R(b);
    stop(r);
    r->ever_ran = false;
    return 0;
}

/* ---- directories / info ------------------------------------------------------ */

static int do_mkdir(rclonefs *r, const char *name)
{
    int rc = call_fs(r, "operations/mkdir", name, NULL, NULL, "mkdir");
    if (rc == BS_ERR_IO && err_has(r, "not a directory"))
        return bs__error_set(BS_ERR_IO, "mkdir %s: exists and is not a directory", name);
    return rc;
}

static int rclone_mkdir(bs_backend *b, const char *name)
{
    rclonefs *r = R(b);
    int rc;
    WITH_RCLONE(r, do_mkdir(r, name));
    return rc;
}

static int do_rmdir(rclonefs *r, const char *name)
{
    /* rclone's local rmdir also removes a file: look first */
    bs_item_info st;
    int rc = stat_item(r, name, &st);
    if (rc) return rc;
    if (!st.exists) return bs__error_set(BS_ERR_NOT_FOUND, "%s", name);
    if (!st.directory) return bs__error_set(BS_ERR_IO, "rmdir %s: not a directory", name);
    rc = call_fs(r, "operations/rmdir", name, NULL, NULL, "rmdir");
    if (rc == BS_ERR_IO && err_has(r, "not empty"))
        return bs__error_set(BS_ERR_IO, "rmdir %s: directory not empty", name);
    return rc;
}

static int rclone_rmdir(bs_backend *b, const char *name)
{
    rclonefs *r = R(b);
    int rc, attempt = 0;
    do {
        rc = start(r);
        if (!rc) rc = do_rmdir(r, name);
        if (rc == BS_ERR_NOT_FOUND && attempt > 0) rc = 0; /* the lost try did it */
    } while (restart(r, rc, &attempt));
    return rc;
}

static int rclone_info(bs_backend *b, const char *name, bs_item_info *out)
{
    rclonefs *r = R(b);
    int rc;
    WITH_RCLONE(r, stat_item(r, name, out)); /* atime is not known through rclone */
    return rc;
}

/* ---- load / hash ---------------------------------------------------------------- */

/* "[fs]/name" path of a GET, percent-encoded; malloc'd. */
static char *get_path(rclonefs *r, const char *name)
{
    char *n = pct(name, true), *out = NULL;
    if (n && asprintf(&out, "%%5B%s%%5D/%s", r->fs_query, n) < 0) out = NULL;
    free(n);
    return out;
}

/* Parses "bytes A-B/TOTAL" (rclone 1.60 also writes A > B, or a negative A,
 * for ranges it cannot serve). true with *total when TOTAL is a number. */
static bool range_total(const char *cr, uint64_t *total)
{
    const char *slash = strrchr(cr, '/');
    if (strncmp(cr, "bytes ", 6) != 0 || !slash || slash[1] < '0' || slash[1] > '9')
        return false;
    *total = strtoull(slash + 1, NULL, 10);
    return true;
}

/* The Range header value of a load ("" for the whole value). */
static int load_range(const char *name, int64_t offset, int64_t size, char range[80])
{
    range[0] = '\0';
    if (offset >= 0) {
        if (size == 0)
            snprintf(range, 80, "bytes=%lld-%lld", (long long)offset, (long long)offset);
        else if (size != BS_SIZE_ALL && size - 1 <= INT64_MAX - offset)
            snprintf(range, 80, "bytes=%lld-%lld", (long long)offset,
                     (long long)(offset + size - 1));
        else if (offset > 0)
            snprintf(range, 80, "bytes=%lld-", (long long)offset);
        return 0;
    }
    if (offset == INT64_MIN) return bs__error_set(BS_ERR_READ_RANGE, "load %s", name);
    snprintf(range, 80, "bytes=-%lld", (long long)-offset); /* the last N bytes */
    return 0;
}

/* The value from a GET's answer in s (status in s->status); takes s->buf. */
static int load_result(rclonefs *r, sink *s, const char *name, int64_t offset, int64_t size,
                       bool ranged, uint8_t **out, size_t *out_len)
{
    int rc = 0;
    long st = r->status = s->status;
    uint64_t total = 0;
    bool have_total = range_total(s->content_range, &total);
    if (st == 500) {
        rc = http_error(r, s, "load", name);
        if (err_has(r, "is a directory"))
            rc = bs__error_set(BS_ERR_IO, "load %s: is a directory", name);
    } else if (st == 404 && offset < 0 && s->content_range[0]) {
        /* rclone 1.60 answers a suffix range longer than the file with 404
         * and a Content-Range: that is a read before the start */
        rc = bs__error_set(BS_ERR_READ_RANGE, "load %s: offset %lld is before the start", name,
                           (long long)offset);
    } else if (st == 416) {
        bs__buf_free(&s->buf); /* offset at or past the end: nothing */
    } else if (st != 200 && st != 206) {
        rc = http_error(r, s, "load", name);
    } else if (offset < 0 && have_total && (uint64_t)-offset > total) {
        /* a server that serves an over-long suffix range as the whole file */
        rc = bs__error_set(BS_ERR_READ_RANGE, "load %s: offset %lld is before the start", name,
                           (long long)offset);
    } else if (st == 200 && ranged) {
        /* the whole value despite the Range: cut it here */
        uint64_t len = s->buf.len, start = offset >= 0 ? (uint64_t)offset : 0;
        if (offset < 0) {
            if ((uint64_t)-offset > len)
                rc =
                    bs__error_set(BS_ERR_READ_RANGE, "load %s: offset %lld is before the start",
                                  name, (long long)offset);
            else
                start = len - (uint64_t)-offset;
        }
        if (!rc) {
            uint64_t avail = start < len ? len - start : 0;
            if (start && avail) memmove(s->buf.data, s->buf.data + start, (size_t)avail);
            s->buf.len = (size_t)avail;
        }
    }
    if (!rc && size == 0) s->buf.len = 0; /* the probe byte is not wanted */
    if (!rc && size != BS_SIZE_ALL && s->buf.len > (uint64_t)size) s->buf.len = (size_t)size;
    if (rc) {
        bs__buf_free(&s->buf);
        return rc;
    }
    *out = bs__buf_steal(&s->buf, out_len);
    if (!*out) return bs__error_set(BS_ERR_NOMEM, "load %s", name);
    return 0;
}

static int do_load(rclonefs *r, const char *name, int64_t offset, int64_t size, uint8_t **out,
                   size_t *out_len)
{
    char range[80];
    int rc = load_range(name, offset, size, range);
    if (rc) return rc;
    char *path = get_path(r, name);
    if (!path) return bs__error_set(BS_ERR_NOMEM, "load %s", name);
    sink s = {.r = r, .limit = SIZE_MAX};
    request q = {.path = path, .range = range[0] ? range : NULL};
    for (int t = 0; t < TRIES; t++) { /* a 500 may be passing trouble of the remote */
        bs__buf_free(&s.buf);
        if ((rc = perform(r, &q, &s, "load", name)) || s.status != 500) break;
        if ((rc = http_error(r, &s, "load", name)) && err_has(r, "is a directory")) break;
    }
    free(path);
    if (rc && s.status != 500) {
        bs__buf_free(&s.buf);
        return rc;
    }
    return load_result(r, &s, name, offset, size, range[0] != '\0', out, out_len);
}

static int rclone_load(bs_backend *b, const char *name, int64_t offset, int64_t size,
                       uint8_t **out, size_t *out_len)
{
    rclonefs *r = R(b);
    int rc;
    WITH_RCLONE(r, do_load(r, name, offset, size, out, out_len));
    return rc;
}

/* rclone 1.60 has no operations/hashsum: the value streams through the hash. */
static int do_hash(rclonefs *r, const char *name, bs_hash_alg alg, char hex[BS_HASH_HEX_SIZE])
{
    char *path = get_path(r, name);
    if (!path) return bs__error_set(BS_ERR_NOMEM, "hash %s", name);
    int rc = 0;
    for (int t = 0; t < TRIES; t++) {
        bs_hash_ctx ctx;
        if ((rc = bs__hash_init(&ctx, alg))) break;
        sink s = {.r = r, .limit = JSON_MAX, .hash = &ctx};
        request q = {.path = path};
        rc = perform(r, &q, &s, "hash", name);
        if (!rc && r->status == 200) {
            uint8_t digest[BS_HASH_MAX_BYTES];
            bs__hex(hex, digest, bs__hash_final(&ctx, digest));
        } else if (!rc) {
            rc = http_error(r, &s, "hash", name);
            if (err_has(r, "is a directory"))
                rc = bs__error_set(BS_ERR_IO, "hash %s: is a directory", name);
        }
        bs__hash_abort(&ctx); /* no-op after final */
        bs__buf_free(&s.buf);
        if (rc != BS_ERR_IO || r->status != 500 || err_has(r, "is a directory")) break;
    }
    free(path);
    return rc;
}

static int rclone_hash(bs_backend *b, const char *name, bs_hash_alg alg,
                       char hex[BS_HASH_HEX_SIZE])
{
    rclonefs *r = R(b);
    int rc;
    WITH_RCLONE(r, do_hash(r, name, alg, hex));
    return rc;
}

/* ---- store / delete / move ----------------------------------------------------------- */

typedef struct upload_src {
    const uint8_t *data;
    size_t len, pos;
} upload_src;

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
    upload_src *u = ud;
    size_t n = size * nitems, left = u->len - u->pos;
    if (n > left) n = left;
    memcpy(buf, u->data + u->pos, n);
    u->pos += n;
    return n;
}

static int on_seek(void *ud, curl_off_t off, int origin)
{
    upload_src *u = ud;
    if (origin != SEEK_SET || off < 0 || (uint64_t)off > u->len) return CURL_SEEKFUNC_CANTSEEK;
    u->pos = (size_t)off;
    return CURL_SEEKFUNC_OK;
}

/* The path of an operations/uploadfile into dir; malloc'd or NULL. */
static char *upload_path(rclonefs *r, const char *dir)
{
    char *qdir = pct(dir, false), *path = NULL;
    if (qdir && asprintf(&path, "operations/uploadfile?fs=%s&remote=%s", r->fs_query, qdir) < 0)
        path = NULL;
    free(qdir);
    return path;
}

/* The multipart body of an upload of src as leaf, for handle h. */
static curl_mime *upload_mime(CURL *h, const char *leaf, upload_src *src)
{
    curl_mime *mime = curl_mime_init(h);
    curl_mimepart *part = mime ? curl_mime_addpart(mime) : NULL;
    if (!part || curl_mime_name(part, "file0") != CURLE_OK ||
        curl_mime_filename(part, leaf) != CURLE_OK ||
        curl_mime_type(part, "application/octet-stream") != CURLE_OK ||
        curl_mime_data_cb(part, (curl_off_t)src->len, on_read, on_seek, NULL, src) !=
            CURLE_OK) {
        curl_mime_free(mime);
        return NULL;
    }
    return mime;
}

/* operations/uploadfile of data as dir/leaf. */
static int upload(rclonefs *r, const char *dir, const char *leaf, const uint8_t *data,
                  size_t len, const char *name)
{
    char *path = upload_path(r, dir);
    if (!path) return bs__error_set(BS_ERR_NOMEM, "store %s", name);
    int rc = 0;
    for (int t = 0; t < TRIES; t++) {
        upload_src src = {.data = data, .len = len};
        curl_mime *mime = upload_mime(r->curl, leaf, &src);
        if (!mime) {
            rc = bs__error_set(BS_ERR_NOMEM, "store %s", name);
            break;
        }
        sink s = {.r = r, .limit = JSON_MAX};
        request q = {.path = path, .mime = mime};
        rc = perform(r, &q, &s, "store", name);
        if (!rc) rc = reply_json(r, &s, NULL, "uploadfile", "store", name);
        curl_mime_free(mime);
        bs__buf_free(&s.buf);
        if (rc != BS_ERR_IO || r->status != 500) break;
    }
    free(path);
    return rc;
}

/* The body of an operations/movefile; malloc'd or NULL. */
static char *movefile_body(rclonefs *r, const char *from, const char *to)
{
    char *qf = json_quote(from), *qt = json_quote(to), *body = NULL;
    if (qf && qt &&
        asprintf(&body, "{\"srcFs\":%s,\"srcRemote\":%s,\"dstFs\":%s,\"dstRemote\":%s}",
                 r->fs_json, qf, r->fs_json, qt) < 0)
        body = NULL;
    free(qf);
    free(qt);
    return body;
}

/* The code of a movefile that answered rc. */
static int movefile_result(rclonefs *r, int rc, const char *what, const char *name)
{
    if (rc == BS_ERR_IO && err_has(r, "is a directory"))
        return bs__error_set(BS_ERR_IO, "%s %s: the target is a directory", what, name);
    return rc;
}

static int movefile(rclonefs *r, const char *from, const char *to, const char *what,
                    const char *name)
{
    char *body = movefile_body(r, from, to);
    if (!body) return bs__error_set(BS_ERR_NOMEM, "%s %s", what, name);
    int rc = call(r, "operations/movefile", body, NULL, what, name);
    free(body);
    return movefile_result(r, rc, what, name);
}

/* The temp name of a store of name: "<parent>/<leaf>.<16 hex>.tmp" in
 * tmpname, its last part in tmp. */
static void temp_names(const char *name, char tmp[BS_NAME_BUF + 32],
                       char tmpname[2 * BS_NAME_BUF + 32])
{
    char parent[BS_NAME_BUF];
    const char *leaf = split(name, parent);
    uint8_t rnd[8];
    char hex[17];
    randombytes_buf(rnd, sizeof rnd);
    bs__hex(hex, rnd, sizeof rnd);
    snprintf(tmp, BS_NAME_BUF + 32, "%s.%s" BS_TMP_SUFFIX, leaf, hex);
    snprintf(tmpname, 2 * BS_NAME_BUF + 32, "%s%s%s", parent, *parent ? "/" : "", tmp);
}

/* Where the remote renames on the server (local disks, sftp, ...), the
 * value goes to a temp file that is moved into place, as in the posix
 * backend: rclone 1.60 writes local files in place, so a reader could see a
 * partial value. Object stores get the value directly (their uploads appear
 * whole, and a "move" there would be a copy). */
static int do_store(rclonefs *r, const char *name, const uint8_t *data, size_t len)
{
    char parent[BS_NAME_BUF];
    const char *leaf = split(name, parent);
    if (!r->server_move) return upload(r, parent, leaf, data, len, name);
    char tmp[BS_NAME_BUF + 32], tmpname[2 * BS_NAME_BUF + 32];
    temp_names(name, tmp, tmpname);
    int rc = upload(r, parent, tmp, data, len, name);
    if (!rc) rc = movefile(r, tmpname, name, "store", name);
    if (rc && rc != BS_ERR_CONNECTION) {
        int keep = rc;
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", bs_error_message());
        call_fs(r, "operations/deletefile", tmpname, NULL, NULL, "store"); /* best effort */
        bs__error_set_raw(keep, 0, msg);
        rc = keep;
    }
    return rc;
}

/* The code of a deletefile that answered rc. */
static int delete_result(rclonefs *r, int rc, const char *name)
{
    if (rc == BS_ERR_IO && err_has(r, "is a directory"))
        return bs__error_set(BS_ERR_IO, "delete %s: is a directory", name);
    return rc;
}

static int rclone_store(bs_backend *b, const char *name, const void *data, size_t len)
{
    rclonefs *r = R(b);
    int rc;
    WITH_RCLONE(r, do_store(r, name, data, len));
    return rc;
}

static int do_delete(rclonefs *r, const char *name)
{
    return delete_result(r, call_fs(r, "operations/deletefile", name, NULL, NULL, "delete"),
                         name);
}

static int rclone_delete(bs_backend *b, const char *name)
{
    rclonefs *r = R(b);
    int rc, attempt = 0;
    do {
        rc = start(r);
        if (!rc) rc = do_delete(r, name);
        if (rc == BS_ERR_NOT_FOUND && attempt > 0) rc = 0; /* the lost try did it */
    } while (restart(r, rc, &attempt));
    return rc;
}

static int rclone_move(bs_backend *b, const char *cur, const char *dst)
{
    rclonefs *r = R(b);
    int rc, attempt = 0;
    do {
        rc = start(r);
        if (!rc) rc = movefile(r, cur, dst, "move", cur);
        if (rc == BS_ERR_NOT_FOUND && attempt > 0) rc = 0; /* the lost try did it */
    } while (restart(r, rc, &attempt));
    return rc;
}

/* ---- list ---------------------------------------------------------------------- */

static int do_list(rclonefs *r, const char *name, bs_list_array *it)
{
    bs_json *doc;
    const char *label = *name ? name : "(root)";
    int rc = call_fs(r, "operations/list", name, STAT_OPT, &doc, "list");
    if (rc == BS_ERR_IO && err_has(r, "not a directory"))
        return bs__error_set(BS_ERR_NOT_FOUND, "%s (not a directory)", label);
    if (rc) return rc;
    bs_json_ref list = bs__json_get(doc, bs__json_root(doc), "list");
    size_t n = 0;
    for (bs_json_ref e = bs__json_first(doc, list); e; e = bs__json_next(doc, e))
        n++;
    it->items = calloc(n ? n : 1, sizeof *it->items);
    if (!it->items) {
        bs__json_free(doc);
        return bs__error_set(BS_ERR_NOMEM, "list %s", label);
    }
    for (bs_json_ref e = bs__json_first(doc, list); e; e = bs__json_next(doc, e)) {
        const char *nm = bs__json_str(doc, bs__json_get(doc, e, "Name"), NULL);
        /* like posix: valid names only (temp files and others are skipped) */
        if (!nm || !strcmp(nm, ".") || !bs__name_is_valid(nm) || strchr(nm, '/')) continue;
        bs_item_info *o = &it->items[it->n++];
        memcpy(o->name, nm, strlen(nm) + 1);
        o->exists = true;
        bs__json_bool(doc, bs__json_get(doc, e, "IsDir"), &o->directory);
        int64_t sz = 0;
        if (!o->directory && bs__json_int(doc, bs__json_get(doc, e, "Size"), &sz) && sz > 0)
            o->size = (uint64_t)sz;
        o->mtime_ns = mtime_of(doc, e);
    }
    bs__json_free(doc);
    bs__list_array_sort(it);
    return 0;
}

static int rclone_list_begin(bs_backend *b, const char *name, bs_list_iter **out)
{
    rclonefs *r = R(b);
    int rc, attempt = 0;
    bs_list_array *it = NULL;
    do {
        if (it) bs__list_array_free(it);
        if (!(it = bs__list_array_new())) return bs__error_set(BS_ERR_NOMEM, "list %s", name);
        rc = start(r);
        if (!rc) rc = do_list(r, name, it);
    } while (restart(r, rc, &attempt));
    if (rc) {
        bs__list_array_free(it);
        return rc;
    }
    *out = &it->base;
    return 0;
}

/* ---- free / constructor ------------------------------------------------------------ */

/* ---- batches: requests at once ----------------------------------------------- */

typedef struct rop {
    const bs_op *op;
    size_t index;
    int step; /* 0: the request; STORE: 1 the move into place, 2 the cleanup */
    CURL *h;
    sink s;
    struct curl_slist *hdrs;
    curl_mime *mime;
    upload_src src;
    char *path, *body;
    char range[80];
    char tmp[BS_NAME_BUF + 32], tmpname[2 * BS_NAME_BUF + 32];
    int rc; /* STORE: the error kept while the temp file is removed */
    char *msg;
    bool slow, cut;
} rop;

typedef struct rbatch {
    rclonefs *r;
    bs_op_cb cb;
    void *ctx;
    bool stopped;
    CURL *free_h[BATCH_WINDOW];
    size_t n_free, active;
} rbatch;

static void rop_release(rop *o)
{
    curl_slist_free_all(o->hdrs);
    o->hdrs = NULL;
    curl_mime_free(o->mime);
    o->mime = NULL;
    free(o->path);
    free(o->body);
    o->path = o->body = NULL;
    bs__buf_free(&o->s.buf);
}

static const char *op_verb(const bs_op *op)
{
    switch (op->kind) {
    case BS_OP_INFO: return "info";
    case BS_OP_LOAD: return "load";
    case BS_OP_STORE: return "store";
    case BS_OP_DELETE: return "delete";
    case BS_OP_MOVE: return "move";
    }
    return "call";
}

/* Starts q for o on o's handle. 0, or an error for o alone. */
static int rop_send(rbatch *B, rop *o, const request *q)
{
    curl_slist_free_all(o->hdrs);
    o->hdrs = NULL;
    bs__buf_free(&o->s.buf);
    o->s = (sink){.r = B->r, .limit = o->op->kind == BS_OP_LOAD ? SIZE_MAX : JSON_MAX};
    int rc = prepare(B->r, o->h, q, &o->s, &o->hdrs, op_verb(o->op), o->op->name);
    if (rc) return rc;
    curl_easy_setopt(o->h, CURLOPT_PRIVATE, o);
    if (curl_multi_add_handle(B->r->multi, o->h) != CURLM_OK)
        return bs__error_set(BS_ERR_NOMEM, "rclone: %s %s", op_verb(o->op), o->op->name);
    return 0;
}

/* The fs/remote call method for o; 0 or an error for o alone. */
static int rop_call(rbatch *B, rop *o, const char *method, const char *name, const char *extra)
{
    free(o->path);
    free(o->body);
    o->path = strdup(method);
    o->body = body_fs_remote(B->r, name, extra);
    if (!o->path || !o->body) return bs__error_set(BS_ERR_NOMEM, "rclone: %s", o->op->name);
    request q = {.path = o->path, .json = o->body};
    return rop_send(B, o, &q);
}

static int rop_start(rbatch *B, rop *o)
{
    rclonefs *r = B->r;
    const bs_op *op = o->op;
    int rc;
    switch (op->kind) {
    case BS_OP_INFO: return rop_call(B, o, "operations/stat", op->name, STAT_OPT);
    case BS_OP_DELETE: return rop_call(B, o, "operations/deletefile", op->name, NULL);
    case BS_OP_MOVE: {
        o->path = strdup("operations/movefile");
        o->body = movefile_body(r, op->name, op->dst);
        if (!o->path || !o->body) return bs__error_set(BS_ERR_NOMEM, "move %s", op->name);
        request q = {.path = o->path, .json = o->body};
        return rop_send(B, o, &q);
    }
    case BS_OP_LOAD: {
        if ((rc = load_range(op->name, op->offset, op->size, o->range))) return rc;
        if (!(o->path = get_path(r, op->name)))
            return bs__error_set(BS_ERR_NOMEM, "load %s", op->name);
        request q = {.path = o->path, .range = o->range[0] ? o->range : NULL};
        return rop_send(B, o, &q);
    }
    case BS_OP_STORE: {
        char parent[BS_NAME_BUF];
        const char *leaf = split(op->name, parent);
        if (r->server_move) {
            temp_names(op->name, o->tmp, o->tmpname);
            leaf = o->tmp;
        }
        o->src =
            (upload_src){.data = op->data ? op->data : (const uint8_t *)"", .len = op->len};
        if (!(o->path = upload_path(r, parent)) ||
            !(o->mime = upload_mime(o->h, leaf, &o->src)))
            return bs__error_set(BS_ERR_NOMEM, "store %s", op->name);
        request q = {.path = o->path, .mime = o->mime};
        return rop_send(B, o, &q);
    }
    }
    return bs__error_set(BS_ERR_INVALID, "unknown operation");
}

/* Reports o's result (unless the batch was stopped). */
static void rop_report(rbatch *B, rop *o, int rc, bs_item_info *info, uint8_t *data, size_t len)
{
    if (B->stopped) {
        free(data);
        return;
    }
    bs_op_result res = {
        .rc = rc, .message = rc ? bs_error_message() : NULL, .data = data, .len = len};
    if (info) res.info = *info;
    if (B->cb(B->ctx, o->index, &res)) B->stopped = true;
    free(res.data);
}

/* A transfer of o ended with cc. true when o is finished (reported or left
 * for the slow way); false when it goes on with another request. */
static bool rop_done(rbatch *B, rop *o, CURLcode cc)
{
    rclonefs *r = B->r;
    const bs_op *op = o->op;
    curl_multi_remove_handle(r->multi, o->h);
    int rc = conclude(r, o->h, cc, &o->s, op_verb(op), op->name);
    if (rc == BS_ERR_CONNECTION || (o->s.status == 500 && o->step == 0 &&
                                    (op->kind == BS_OP_LOAD || op->kind == BS_OP_STORE))) {
        /* rclone gone, or a 500 worth trying again: the slow way does both */
        o->slow = true;
        o->cut = rc == BS_ERR_CONNECTION;
        return true;
    }
    if (rc) {
        rop_report(B, o, rc, NULL, NULL, 0);
        return true;
    }
    switch (op->kind) {
    case BS_OP_INFO: {
        bs_json *doc = NULL;
        bs_item_info info;
        rc = reply_json(r, &o->s, &doc, "operations/stat", "info", op->name);
        rc = stat_result(r, rc, doc, &info);
        if (!rc) {
            const char *slash = strrchr(op->name, '/');
            snprintf(info.name, sizeof info.name, "%s", slash ? slash + 1 : op->name);
        }
        rop_report(B, o, rc, &info, NULL, 0);
        return true;
    }
    case BS_OP_LOAD: {
        uint8_t *data = NULL;
        size_t len = 0;
        rc = load_result(r, &o->s, op->name, op->offset, op->size, o->range[0] != '\0', &data,
                         &len);
        rop_report(B, o, rc, NULL, data, len);
        return true;
    }
    case BS_OP_DELETE:
        rc = delete_result(r, reply_json(r, &o->s, NULL, "deletefile", "delete", op->name),
                           op->name);
        rop_report(B, o, rc, NULL, NULL, 0);
        return true;
    case BS_OP_MOVE:
        rc = movefile_result(r, reply_json(r, &o->s, NULL, "movefile", "move", op->name),
                             "move", op->name);
        rop_report(B, o, rc, NULL, NULL, 0);
        return true;
    case BS_OP_STORE: break;
    }
    if (o->step == 0) {
        rc = reply_json(r, &o->s, NULL, "uploadfile", "store", op->name);
        if (rc || !r->server_move) {
            rop_report(B, o, rc, NULL, NULL, 0);
            return true;
        }
        o->step = 1;
        free(o->path);
        free(o->body);
        o->path = strdup("operations/movefile");
        o->body = movefile_body(r, o->tmpname, op->name);
        request q = {.path = o->path, .json = o->body};
        if (!o->path || !o->body) rc = bs__error_set(BS_ERR_NOMEM, "store %s", op->name);
        if (!rc) rc = rop_send(B, o, &q);
        if (!rc) return false;
    } else if (o->step == 1) {
        rc = movefile_result(r, reply_json(r, &o->s, NULL, "movefile", "store", op->name),
                             "store", op->name);
        if (!rc) {
            rop_report(B, o, 0, NULL, NULL, 0);
            return true;
        }
    } else { /* the cleanup is done: report the error kept */
        bs__error_set_raw(o->rc, 0, o->msg ? o->msg : "store failed");
        rop_report(B, o, o->rc, NULL, NULL, 0);
        return true;
    }
    /* the move failed: remove the temp file, then report */
    o->rc = rc;
    o->msg = strdup(bs_error_message());
    o->step = 2;
    if (rop_call(B, o, "operations/deletefile", o->tmpname, NULL) == 0) return false;
    bs__error_set_raw(o->rc, 0, o->msg ? o->msg : "store failed");
    rop_report(B, o, o->rc, NULL, NULL, 0);
    return true;
}

static size_t rclone_window(bs_backend *b)
{
    (void)b;
    return BATCH_WINDOW;
}

static int rclone_batch(bs_backend *b, const bs_op *ops, size_t n, size_t window, bs_op_cb cb,
                        void *ctx)
{
    rclonefs *r = R(b);
    if (!n) return 0;
    rop *os = calloc(n, sizeof *os);
    if (!os) return bs__error_set(BS_ERR_NOMEM, "batch of %zu operations", n);
    rbatch B = {.r = r, .cb = cb, .ctx = ctx};
    for (size_t i = 0; i < n; i++)
        os[i] = (rop){.op = &ops[i], .index = i};
    if (window > BATCH_WINDOW) window = BATCH_WINDOW;
    size_t next = 0;
    int rc = start(r);
    if (!rc && !r->multi && !(r->multi = curl_multi_init()))
        rc = bs__error_set(BS_ERR_NOMEM, "rclone: libcurl");
    for (size_t i = 0; !rc && i < window; i++) {
        if (!r->pool[i] && !(r->pool[i] = curl_easy_init()))
            rc = bs__error_set(BS_ERR_NOMEM, "rclone: libcurl");
        else
            B.free_h[B.n_free++] = r->pool[i];
    }
    if (rc) {
        for (size_t i = 0; i < n; i++)
            os[i].slow = true; /* the slow way reports */
        next = n;
    }
    while (!rc) {
        while (!B.stopped && next < n && B.n_free) {
            rop *o = &os[next++];
            o->h = B.free_h[--B.n_free];
            int src = rop_start(&B, o);
            if (src) {
                rop_report(&B, o, src, NULL, NULL, 0);
                rop_release(o);
                B.free_h[B.n_free++] = o->h;
                continue;
            }
            B.active++;
        }
        if (!B.active) break;
        int running;
        curl_multi_perform(r->multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(r->multi, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            rop *o = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&o);
            if (!o || !rop_done(&B, o, msg->data.result)) continue;
            rop_release(o);
            B.free_h[B.n_free++] = o->h;
            B.active--;
        }
        if (B.active) curl_multi_poll(r->multi, NULL, 0, 1000, NULL);
        bs__rclone_drain(&r->proc);
    }
    for (size_t i = 0; i < n && !rc && !B.stopped; i++)
        if (os[i].slow) /* the single-item slots start rclone again and retry */
            rc = bs__backend_rerun_one(b, os[i].op, os[i].index, os[i].cut, cb, ctx,
                                       &B.stopped);
    if (!rc && B.stopped) rc = bs__error_set(BS_ERR_INVALID, "batch stopped by its callback");
    for (size_t i = 0; i < n; i++) {
        rop_release(&os[i]);
        free(os[i].msg);
    }
    free(os);
    return rc;
}

static void rclone_free(bs_backend *b)
{
    rclonefs *r = R(b);
    stop(r);
    if (r->curl) curl_easy_cleanup(r->curl);
    if (r->multi) curl_multi_cleanup(r->multi);
    for (size_t i = 0; i < BATCH_WINDOW; i++)
        if (r->pool[i]) curl_easy_cleanup(r->pool[i]);
    free(r->fs);
    free(r->fs_json);
    free(r->fs_query);
    free(r->fs_path);
    free(r->binary);
    sodium_free(r->user);
    sodium_free(r->pass);
    free(r);
}

static const bs_backend_ops rclone_ops = {
    .version = BS_BACKEND_OPS_VERSION,
    .scheme = "rclone",
    .create = rclone_create,
    .destroy = rclone_destroy,
    .open = rclone_open,
    .close = rclone_close,
    .mkdir = rclone_mkdir,
    .rmdir = rclone_rmdir,
    .info = rclone_info,
    .load = rclone_load,
    .store = rclone_store,
    .delete = rclone_delete,
    .move = rclone_move,
    .list_begin = rclone_list_begin,
    .hash = rclone_hash,
    .defrag = NULL, /* generic: load + store */
    .quota = NULL,
    .free = rclone_free,
    .window = rclone_window,
    .batch = rclone_batch,
};

int bs__rclone_new(bs_backend **out, const char *url, const bs_backend_config *cfg)
{
    *out = NULL;
    if (sodium_init() < 0) return bs__error_set(BS_ERR_IO, "libsodium failed to initialize");
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return bs__error_set(BS_ERR_IO, "libcurl failed to initialize");
    if (strncmp(url, "rclone:", 7) != 0 || !url[7])
        return bs__error_set(BS_ERR_URL_INVALID,
                             "expected rclone:REMOTE:PATH or rclone:/path: %s", url);
    if (cfg->permissions && *cfg->permissions)
        return bs__error_set(BS_ERR_INVALID, "rclone: does not enforce permissions (file:// "
                                             "does; run borgstore-serve next to the disk)");
    if (cfg->quota) return bs__error_set(BS_ERR_INVALID, "rclone: does not enforce a quota");
    const char *spec = url + 7;
    rclonefs *r = calloc(1, sizeof *r);
    if (!r) return bs__error_set(BS_ERR_NOMEM, NULL);
    r->proc.err_fd = -1;
    r->proc.exit_status = -1;
    size_t len = strlen(spec);
    bool term = spec[len - 1] == ':' || spec[len - 1] == '/';
    /* like borgstore: a path gets a trailing '/' so that names go below it */
    if (asprintf(&r->fs, "%s%s", spec, term ? "" : "/") < 0) r->fs = NULL;
    const char *colon = strrchr(spec, ':');
    r->fs_path = strdup(colon ? colon + 1 : spec);
    const char *bin = getenv("RCLONE_BINARY");
    r->binary = strdup(bin && *bin ? bin : "rclone");
    r->user = sodium_malloc(17);
    r->pass = sodium_malloc(49);
    if (r->fs) {
        r->fs_json = json_quote(r->fs);
        r->fs_query = pct(r->fs, false);
    }
    if (!r->fs || !r->fs_json || !r->fs_query || !r->fs_path || !r->binary || !r->user ||
        !r->pass) {
        rclone_free(&r->base);
        return bs__error_set(BS_ERR_NOMEM, NULL);
    }
    r->user[0] = r->pass[0] = '\0';
    r->base.ops = &rclone_ops;
    *out = &r->base;
    return 0;
}
