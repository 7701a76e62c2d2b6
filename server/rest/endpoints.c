/* The REST endpoints (see rest.h): a const table maps method + cmd onto a
 * handler with its gates (opens the backend for the request, changes the
 * store, reads the body); each handler is a thin call into the backend
 * the server core placed beneath the restriction roots. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#include "backends/backend.h"
#include "proto/limits.h"
#include "server/rest/rest.h"

#define HASH_MISMATCH "Content hash verification failed, please retry"
#define DISCARD_CHUNK (64u << 10)

enum {
    EF_OPEN = 1,   /* opened for the request and closed after it, as Python does */
    EF_WRITES = 2, /* changes the store: refused by --read-only */
    EF_BODY = 4,   /* the handler reads the body itself */
};

typedef int (*rest_handler)(rest_conn *c);

typedef struct endpoint {
    bs_http_method method;
    const char *cmd;   /* ?cmd=..., NULL: none */
    unsigned flags;
    rest_handler fn;
    const char *what;  /* for logs */
} endpoint;

static int ok(rest_conn *c) { return rest_send(c, 200, NULL, NULL); }

static int text(rest_conn *c, const char *s, const char *type)
{
    rest_body b = {.data = s, .len = strlen(s), .type = type};
    return rest_send(c, 200, NULL, &b);
}

/* A query value that must be there. 1, or a BS_ERR_* code. */
static int need(rest_conn *c, const char *key, char *out, size_t cap)
{
    int rc = bs__http_query_get(c->req.query, key, out, cap);
    if (rc == 0) return bs__error_set(BS_ERR_INVALID, "missing query parameter '%s'", key);
    return rc;
}

static int h_create(rest_conn *c)
{
    if (!c->s->opt->backend_url && !c->store_path)
        return bs__error_set(BS_ERR_INVALID, "no store: give --backend FILE:<path>");
    int rc = serve_use_path(c->s, c->store_path, true);
    if (!rc) rc = bs_backend_create(c->s->backend);
    if (!rc) serve_log(c->s, BS_LOG_INFO, "created a store");
    return rc ? rc : ok(c);
}

static int h_destroy(rest_conn *c)
{
    int rc = bs_backend_destroy(c->s->backend);
    if (!rc) serve_log(c->s, BS_LOG_INFO, "destroyed a store");
    return rc ? rc : ok(c);
}

static int h_mkdir(rest_conn *c)
{
    int rc = bs_backend_mkdir(c->s->backend, c->name);
    return rc ? rc : ok(c);
}

static int h_rmdir(rest_conn *c)
{
    int rc = bs_backend_rmdir(c->s->backend, c->name);
    return rc ? rc : ok(c);
}

static int h_delete(rest_conn *c)
{
    int rc = bs_backend_delete(c->s->backend, c->name);
    return rc ? rc : ok(c);
}

static int h_move(rest_conn *c)
{
    char cur[BS_NAME_BUF], dst[BS_NAME_BUF];
    int rc = need(c, "current", cur, sizeof cur);
    if (rc == 1) rc = need(c, "new", dst, sizeof dst);
    if (rc == 1) rc = bs_backend_move(c->s->backend, cur, dst);
    return rc ? rc : ok(c);
}

/* Seconds as Python's float: "1765076557.123456789", "0.0". */
static void seconds(char *out, size_t cap, int64_t ns)
{
    if (ns <= 0) {
        snprintf(out, cap, "0.0");
        return;
    }
    int n = snprintf(out, cap, "%lld.%09lld", (long long)(ns / 1000000000),
                     (long long)(ns % 1000000000));
    while (n > 0 && (size_t)n < cap && out[n - 1] == '0' && out[n - 2] != '.') out[--n] = '\0';
}

static int h_info(rest_conn *c)
{
    bs_item_info info;
    int rc = bs_backend_info(c->s->backend, c->name, &info);
    if (rc) return rc;
    if (!info.exists) return bs__error_set(BS_ERR_NOT_FOUND, "%s", c->name);
    char at[40], mt[40], extra[256];
    seconds(at, sizeof at, info.atime_ns);
    seconds(mt, sizeof mt, info.mtime_ns);
    snprintf(extra, sizeof extra,
             "X-BorgStore-Is-Directory: %s\r\nX-BorgStore-Atime: %s\r\nX-BorgStore-Mtime: %s\r\n",
             info.directory ? "true" : "false", at, mt);
    return rest_send_head(c, 200, extra, info.size, NULL);
}

static int sink_begin(void *ctx, uint64_t len)
{
    rest_conn *c = ctx;
    c->sent_head = true;
    return rest_send_head(c, c->req.has_range ? 206 : 200, NULL, len,
                          "application/octet-stream")
               ? bs__error_set(BS_ERR_IO, "writing the response")
               : 0;
}

static int sink_data(void *ctx, const uint8_t *p, size_t n)
{
    return rest_write(ctx, p, n) ? bs__error_set(BS_ERR_IO, "writing the response") : 0;
}

/* The value streams from the backend's file to stdout in chunks. */
static int h_load(rest_conn *c)
{
    int64_t offset = 0, size = BS_SIZE_ALL;
    if (c->req.has_range) bs__http_range(c->req.range, &offset, &size);
    bs_load_sink sink = {.begin = sink_begin, .data = sink_data, .ctx = c};
    c->sent_head = false;
    int rc = bs__backend_load_to(c->s->backend, c->name, offset, size, &sink);
    if (rc && c->sent_head) { /* Content-Length is promised: only the end is left */
        serve_log(c->s, BS_LOG_ERROR, "load %s failed while sending: %s", c->name,
                  bs_error_message());
        c->dead = true;
    }
    return rc;
}

static int h_list(rest_conn *c)
{
    bs_list_iter *it;
    int rc = bs_backend_list_begin(c->s->backend, c->name, &it);
    if (rc) return rc;
    json_t *arr = json_array();
    bs_item_info e;
    char t[40];
    while (arr && (rc = bs_backend_list_next(it, &e)) == 1) {
        json_t *o = json_object();
        if (!o || json_array_append_new(arr, o)) {
            rc = bs__error_set(BS_ERR_NOMEM, "list");
            break;
        }
        json_object_set_new(o, "name", json_string(e.name));
        json_object_set_new(o, "size", json_integer((json_int_t)e.size));
        json_object_set_new(o, "directory", json_boolean(e.directory));
        seconds(t, sizeof t, e.atime_ns);
        json_object_set_new(o, "atime", json_real(strtod(t, NULL)));
        seconds(t, sizeof t, e.mtime_ns);
        json_object_set_new(o, "mtime", json_real(strtod(t, NULL)));
    }
    bs_backend_list_end(it);
    char *doc = rc == 0 && arr ? json_dumps(arr, JSON_INDENT(2)) : NULL;
    json_decref(arr);
    if (!doc) return rc < 0 ? rc : bs__error_set(BS_ERR_NOMEM, "list");
    rc = text(c, doc, "application/json");
    free(doc);
    return rc;
}

static int h_hash(rest_conn *c)
{
    char alg_name[32] = "sha256";
    int rc = bs__http_query_get(c->req.query, "algorithm", alg_name, sizeof alg_name);
    if (rc < 0) return rc;
    bs_hash_alg alg;
    char hex[BS_HASH_HEX_SIZE];
    if ((rc = bs_hash_alg_parse(alg_name, &alg))) return rc;
    if ((rc = bs_backend_hash(c->s->backend, c->name, alg, hex))) return rc;
    return text(c, hex, "text/plain");
}

static int h_quota(rest_conn *c)
{
    bs_quota q;
    int rc = bs_backend_quota(c->s->backend, &q);
    if (rc) return rc;
    char doc[96];
    snprintf(doc, sizeof doc, "{\"limit\": %lld, \"usage\": %lld}", (long long)q.limit,
             (long long)q.usage);
    return text(c, doc, "application/json");
}

/* Reads and drops the request body (a handler that takes none). */
static int discard_body(rest_conn *c)
{
    uint8_t buf[DISCARD_CHUNK];
    for (uint64_t left = c->req.content_length; left;) {
        size_t n = left < sizeof buf ? (size_t)left : sizeof buf;
        if (rest_read_body(c, buf, n)) return -1;
        left -= n;
    }
    c->req.content_length = 0;
    return 0;
}

/* Reads the whole body into a new buffer (bounded by the caller). */
static int read_body(rest_conn *c, uint8_t **out)
{
    size_t n = (size_t)c->req.content_length;
    *out = malloc(n ? n : 1);
    if (!*out) return bs__error_set(BS_ERR_NOMEM, "a %zu-byte body", n);
    c->req.content_length = 0;
    if (rest_read_body(c, *out, n)) {
        free(*out);
        *out = NULL;
        c->close_after = true;
        return bs__error_set(BS_ERR_PROTOCOL, "the client ended inside a request body");
    }
    return 0;
}

/* Feeds the request body to the backend, hashing it on the way; the last
 * chunk is refused when the hash differs, so nothing becomes visible. */
typedef struct body_reader {
    rest_conn *c;
    uint64_t left;
    bool check, mismatch;
    crypto_hash_sha256_state sha;
} body_reader;

static int body_read(void *ctx, uint8_t *buf, size_t cap, size_t *got)
{
    body_reader *r = ctx;
    size_t n = r->left < cap ? (size_t)r->left : cap;
    if (rest_read_body(r->c, buf, n))
        return bs__error_set(BS_ERR_PROTOCOL, "the client ended inside a request body");
    r->left -= n;
    *got = n;
    if (!r->check) return 0;
    crypto_hash_sha256_update(&r->sha, buf, n);
    if (r->left) return 0;
    uint8_t d[crypto_hash_sha256_BYTES];
    char hex[2 * sizeof d + 1];
    crypto_hash_sha256_final(&r->sha, d);
    sodium_bin2hex(hex, sizeof hex, d, sizeof d);
    if (!strcasecmp(hex, r->c->req.hash)) return 0;
    r->mismatch = true;
    return bs__error_set(BS_ERR_INTEGRITY, HASH_MISMATCH);
}

static int h_store(rest_conn *c)
{
    if (c->req.has_hash && strlen(c->req.hash) != 64) {
        if (discard_body(c)) return bs__error_set(BS_ERR_PROTOCOL, "connection lost");
        return bs__error_set(BS_ERR_INVALID, "X-Content-hash-sha256 is not a sha256 hex digest");
    }
    if (c->req.content_length > c->s->opt->max_value) {
        uint64_t len = c->req.content_length;
        if (discard_body(c)) return bs__error_set(BS_ERR_PROTOCOL, "connection lost");
        return bs__error_set(BS_ERR_INVALID, "%llu bytes exceed the server's limit of %llu "
                             "bytes per value (borgstore-serve --max-value)",
                             (unsigned long long)len, (unsigned long long)c->s->opt->max_value);
    }
    body_reader r = {.c = c, .left = c->req.content_length, .check = c->req.has_hash};
    c->req.content_length = 0;
    crypto_hash_sha256_init(&r.sha);
    int rc = bs__backend_store_from(c->s->backend, c->name, r.left, body_read, &r);
    if (c->dead) return rc;
    c->req.content_length = r.left; /* refused before the end: skip the rest */
    if (discard_body(c)) return rc;
    if (r.mismatch) {
        serve_log(c->s, BS_LOG_WARNING, "store %s: content hash mismatch, nothing stored",
                  c->name);
        return rest_send_error(c, 422, HASH_MISMATCH) ? -1 : 0;
    }
    return rc ? rc : ok(c);
}

/* [[source, offset, size], ...] -> src (names point into the JSON). */
static int defrag_sources(json_t *doc, bs_defrag_source **out, size_t *n)
{
    if (!json_is_array(doc)) return bs__error_set(BS_ERR_INVALID, "defrag: expected a JSON array");
    *n = json_array_size(doc);
    if (*n > BS_DEFRAG_MAX) return bs__error_set(BS_ERR_INVALID, "defrag: too many blocks");
    *out = calloc(*n ? *n : 1, sizeof **out);
    if (!*out) return bs__error_set(BS_ERR_NOMEM, "defrag");
    for (size_t i = 0; i < *n; i++) {
        json_t *e = json_array_get(doc, i);
        json_t *name = json_array_get(e, 0), *off = json_array_get(e, 1),
               *size = json_array_get(e, 2);
        if (!json_is_array(e) || json_array_size(e) != 3 || !json_is_string(name) ||
            !json_is_integer(off) || !json_is_integer(size) || json_integer_value(off) < 0 ||
            json_integer_value(size) < 0)
            return bs__error_set(BS_ERR_INVALID, "defrag: block %zu is not [name, offset, size]",
                                 i);
        (*out)[i] = (bs_defrag_source){.name = json_string_value(name),
                                       .offset = (uint64_t)json_integer_value(off),
                                       .size = (uint64_t)json_integer_value(size)};
    }
    return 0;
}

static int h_defrag(rest_conn *c)
{
    if (c->req.content_length > BS_REST_JSON_MAX) {
        c->close_after = true;
        return bs__error_set(BS_ERR_INVALID, "defrag: body larger than %u bytes",
                             BS_REST_JSON_MAX);
    }
    uint8_t *body;
    size_t len = (size_t)c->req.content_length;
    int rc = read_body(c, &body);
    if (rc) return rc;
    char alg_name[32] = "sha256", ns[BS_NAME_BUF] = "", target[BS_NAME_BUF], levels_s[8] = "0";
    bool has_target = false;
    if ((rc = bs__http_query_get(c->req.query, "algorithm", alg_name, sizeof alg_name)) >= 0 &&
        (rc = bs__http_query_get(c->req.query, "namespace", ns, sizeof ns)) >= 0 &&
        (rc = bs__http_query_get(c->req.query, "levels", levels_s, sizeof levels_s)) >= 0 &&
        (rc = bs__http_query_get(c->req.query, "target", target, sizeof target)) >= 0) {
        has_target = rc == 1;
        rc = 0;
    }
    char *end;
    long levels = strtol(levels_s, &end, 10);
    if (!rc && (*end || end == levels_s || levels < 0 || levels > 8))
        rc = bs__error_set(BS_ERR_INVALID, "defrag: levels must be 0 .. 8");
    bs_hash_alg alg = BS_HASH_SHA256;
    if (!rc) rc = bs_hash_alg_parse(alg_name, &alg);
    json_error_t jerr;
    json_t *doc = rc ? NULL : json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!rc && !doc) rc = bs__error_set(BS_ERR_INVALID, "defrag: %s", jerr.text);
    free(body);
    bs_defrag_source *src = NULL;
    size_t n = 0;
    if (!rc) rc = defrag_sources(doc, &src, &n);
    char name[BS_NAME_BUF];
    if (!rc)
        rc = bs_backend_defrag(c->s->backend, src, n, has_target ? target : NULL, alg, ns,
                               (int)levels, name);
    free(src);
    json_decref(doc);
    return rc ? rc : text(c, name, "text/plain");
}

static const endpoint endpoints[] = {
    {BS_HTTP_POST, "create", EF_WRITES, h_create, "create"},
    {BS_HTTP_DELETE, "destroy", EF_WRITES, h_destroy, "destroy"},
    {BS_HTTP_POST, "mkdir", EF_OPEN | EF_WRITES, h_mkdir, "mkdir"},
    {BS_HTTP_DELETE, "rmdir", EF_OPEN | EF_WRITES, h_rmdir, "rmdir"},
    {BS_HTTP_POST, "move", EF_OPEN | EF_WRITES, h_move, "move"},
    {BS_HTTP_POST, "hash", EF_OPEN, h_hash, "hash"},
    {BS_HTTP_POST, "quota", EF_OPEN, h_quota, "quota"},
    {BS_HTTP_POST, "defrag", EF_OPEN | EF_WRITES | EF_BODY, h_defrag, "defrag"},
    {BS_HTTP_POST, NULL, EF_OPEN | EF_WRITES | EF_BODY, h_store, "store"},
    {BS_HTTP_PUT, NULL, EF_OPEN | EF_WRITES | EF_BODY, h_store, "store"},
    {BS_HTTP_GET, NULL, EF_OPEN, h_load, "load"},
    {BS_HTTP_HEAD, NULL, EF_OPEN, h_info, "info"},
    {BS_HTTP_DELETE, NULL, EF_OPEN | EF_WRITES, h_delete, "delete"},
};

/* Whether the Accept header names the REST v1 media type. */
static bool accepted(const bs_http_req *r)
{
    if (!r->has_accept) return false;
    const char *p = r->accept;
    size_t n = strlen(BS_REST_ACCEPT);
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (!strncmp(p, BS_REST_ACCEPT, n) && (p[n] == '\0' || p[n] == ',' || p[n] == ';' ||
                                               p[n] == ' '))
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

/* The request path as an item name: percent-decoded, '/' stripped at both
 * ends; list when a GET path ends in '/'. */
static int parse_target(rest_conn *c, char *cmd, size_t cmd_cap, bool *has_cmd)
{
    char path[BS_HTTP_TARGET_MAX + 1];
    int rc = bs__http_unquote(path, sizeof path, c->req.target, c->req.path_len, false);
    if (rc) return rc;
    if (c->url_path) { /* the store is the path up to "/_" (http://h:p/srv/a/_/name) */
        char *us = strstr(path, "/_");
        while (us && us[2] && us[2] != '/') us = strstr(us + 2, "/_");
        if (!us) return bs__error_set(BS_ERR_NOT_FOUND, "no store in the URL (.../_/name)");
        if ((size_t)(us - path) >= sizeof c->url_store)
            return bs__error_set(BS_ERR_INVALID, "store path too long");
        memcpy(c->url_store, path, (size_t)(us - path));
        c->url_store[us - path] = '\0';
        c->store_path = c->url_store;
        memmove(path, us + 2, strlen(us + 2) + 1);
    }
    size_t n = strlen(path);
    c->list = c->req.method == BS_HTTP_GET && n > 0 && path[n - 1] == '/';
    while (n && path[n - 1] == '/') path[--n] = '\0';
    const char *p = path;
    while (*p == '/') p++;
    size_t len = strlen(p);
    if (len >= sizeof c->name) return bs__error_set(BS_ERR_INVALID, "name too long");
    memcpy(c->name, p, len + 1);
    rc = bs__http_query_get(c->req.query, "cmd", cmd, cmd_cap);
    if (rc < 0) return rc;
    *has_cmd = rc == 1;
    return 0;
}

static const endpoint *route(rest_conn *c, const char *cmd, bool has_cmd)
{
    for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++) {
        const endpoint *e = &endpoints[i];
        if (e->method != c->req.method) continue;
        if (has_cmd ? e->cmd && !strcmp(e->cmd, cmd) : !e->cmd) return e;
    }
    return NULL;
}

/* The backend for this connection: pinned at startup, or the client's
 * store placed beneath the restriction roots once (per request when the
 * URL names the store). */
static int backend(rest_conn *c)
{
    serve *s = c->s;
    if (s->backend && !c->url_path) return 0;
    if (!c->store_path)
        return bs__error_set(BS_ERR_INVALID, "no store: give --backend FILE:<path>");
    return serve_use_path(s, c->store_path, false);
}

static int finish(rest_conn *c, const char *what, int rc)
{
    if (c->dead) return -1;
    if (rc >= 0) {
        serve_log(c->s, BS_LOG_DEBUG, "%s %s", what, c->name);
        return 0;
    }
    char msg[BS_MESSAGE_MAX];
    snprintf(msg, sizeof msg, "%s", bs_error_message());
    int status = c->close_after ? 400 : rest_status_for(rc);
    serve_log(c->s, BS_LOG_DEBUG, "%s %s -> %d %s", what, c->name, status, msg);
    if (rest_send_error(c, status, msg) || c->close_after) return -1;
    return 0;
}

int rest_dispatch(rest_conn *c)
{
    bs_http_req *r = &c->req;
    char cmd[32];
    bool has_cmd = false;
    c->list = false;
    c->name[0] = '\0';
    if (c->auth && !rest_auth_ok(c)) {
        serve_log(c->s, BS_LOG_WARNING, "401: missing or wrong credentials");
        rest_send_error(c, 401, "Unauthorized");
        return -1; /* the error says Connection: close; the body is not read */
    }
    if (r->chunked || (r->content_length > c->s->opt->max_value &&
                       r->content_length > BS_REST_JSON_MAX)) {
        c->close_after = true; /* the body cannot be skipped safely */
        return finish(c, "request", bs__error_set(BS_ERR_INVALID,
                      r->chunked ? "chunked request bodies are not supported"
                                 : "request body larger than --max-value"));
    }
    int rc = parse_target(c, cmd, sizeof cmd, &has_cmd);
    const endpoint *e = rc ? NULL : route(c, cmd, has_cmd);
    if (!e && !rc) rc = bs__error_set(BS_ERR_INVALID, "unsupported request");
    rest_handler fn = e ? e->fn : NULL;
    unsigned flags = e ? e->flags : 0;
    if (e && e->fn == h_load && c->list) fn = h_list;
    const char *what = fn == h_list ? "list" : e ? e->what : "request";
    if (!(flags & EF_BODY) || rc) {
        if (discard_body(c)) return -1;
    }
    if (!rc && !accepted(r)) {
        if (discard_body(c)) return -1;
        serve_log(c->s, BS_LOG_DEBUG, "%s: missing or wrong Accept header", what);
        return rest_send_error(c, 406, "Not Acceptable") ? -1 : 0;
    }
    if (!rc && (flags & EF_WRITES) && c->s->opt->read_only)
        rc = bs__error_set(BS_ERR_PERMISSION, "this server is read-only");
    if (!rc && fn != h_create) rc = backend(c);
    bool opened = false;
    if (!rc && (flags & EF_OPEN)) {
        rc = bs_backend_open(c->s->backend);
        opened = rc == 0;
    }
    if (rc && (flags & EF_BODY) && discard_body(c)) return -1;
    if (!rc) rc = fn(c);
    if (opened) bs_backend_close(c->s->backend);
    return finish(c, what, rc);
}
