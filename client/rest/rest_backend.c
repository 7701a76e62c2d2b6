/* The REST v1 client backend (docs/rest.md): rest://[user@]host[:port]/path
 * runs a REST server over ssh, rest:///abs/path runs one here, both speaking
 * HTTP/1.1 on the command's stdin/stdout; http(s)://[user:pass@]host[:port]
 * [/prefix] reaches a TCP server with libcurl. One request at a time.
 * Reconnects follow Python borgstore: only while open, only after a lost
 * connection, a few tries with a pause, the request redone, a redone delete
 * or move finding nothing counting as done. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "backends/backend.h"
#include "client/rest/rest.h"
#include "client/rest/rest_list.h"
#include "common/error.h"
#include "common/url.h"
#include "proto/cmdline.h"

#define DEFAULT_TRIES 3
#define DEFAULT_DELAY_MS 5000
#define DEFAULT_TIMEOUT_MS 120000
#define SMALL_BODY_MAX (1024 * 1024)        /* replies that carry no value */
#define LIST_BODY_MAX (512ull * 1024 * 1024) /* one list document */
#define VALUE_MAX (UINT64_C(1) << 40)       /* a whole value */

typedef struct rest {
    bs_backend base;
    bool http;
    char *path;           /* rest: as given to the server's FILE: */
    char *user, *host;    /* rest over ssh; host NULL: local */
    int port;
    char *ssh_config;
    char *base_url;       /* http(s): with credentials */
    char label[256];      /* for messages: no credentials */
    bs__rest_chan *ch;
    int tries, delay_ms, timeout_ms;
} rest;

static rest *R(bs_backend *b) { return (rest *)b; }

static int env_ms(const char *name, int def)
{
    const char *v = getenv(name);
    if (!v || !*v) return def;
    char *end;
    double d = strtod(v, &end);
    return *end || d < 0 || d > 86400 ? def : (int)(d * 1000);
}

static int env_int(const char *name, int def, int lo, int hi)
{
    const char *v = getenv(name);
    if (!v || !*v) return def;
    char *end;
    long n = strtol(v, &end, 10);
    return *end || n < lo || n > hi ? def : (int)n;
}

/* ---- connecting ------------------------------------------------------------ */

/* The server command: BORGSTORE_REST_REMOTE_PATH's words (default
 * borgstore-server-rest, or borg with BORGSTORE_REST_SERVER=borg), then
 * "--stdio --backend FILE:<path>" (borgstore) or "serve --rest --backend
 * FILE:<path>" (borg). */
static int command_words(rest *rb, char ***argv)
{
    const char *dialect = getenv("BORGSTORE_REST_SERVER");
    bool borg = dialect && !strcmp(dialect, "borg");
    if (dialect && *dialect && !borg && strcmp(dialect, "borgstore"))
        return bs__error_set(BS_ERR_INVALID, "BORGSTORE_REST_SERVER must be borgstore or borg, not %s",
                             dialect);
    const char *prog = getenv("BORGSTORE_REST_REMOTE_PATH");
    if (!prog || !*prog) prog = borg ? "borg" : "borgstore-server-rest";
    size_t argc;
    int rc = bs__split_words(argv, &argc, prog);
    if (rc) return rc;
    if (!argc) {
        bs__argv_free(*argv);
        return bs__error_set(BS_ERR_INVALID, "BORGSTORE_REST_REMOTE_PATH is empty");
    }
    char *file = malloc(strlen(rb->path) + 6);
    char **a = realloc(*argv, (argc + 6) * sizeof *a);
    if (!a || !file) {
        free(file);
        bs__argv_free(a ? a : *argv);
        return bs__error_set(BS_ERR_NOMEM, NULL);
    }
    *argv = a;
    sprintf(file, "FILE:%s", rb->path);
    const char *extra[] = {"--stdio", "--backend"}, *extra_borg[] = {"serve", "--rest", "--backend"};
    const char **e = borg ? extra_borg : extra;
    size_t ne = borg ? 3 : 2;
    for (size_t i = 0; i < ne; i++) a[argc++] = strdup(e[i]);
    a[argc++] = file;
    a[argc] = NULL;
    for (size_t i = 0; i < argc; i++)
        if (!a[i]) return bs__error_set(BS_ERR_NOMEM, NULL);
    return 0;
}

static int connect_once(rest *rb)
{
    if (rb->http) return bs__rest_curl_new(&rb->ch, rb->base_url, rb->timeout_ms);
    char **cmd;
    int rc = command_words(rb, &cmd);
    if (rc) return rc;
    bs_remote_target to = {.user = rb->user, .host = rb->host, .port = rb->port,
                           .ssh_config = rb->ssh_config};
    bs_transport *t;
    rc = bs__transport_command(&t, &to, cmd);
    bs__argv_free(cmd);
    if (rc) return rc;
    return bs__rest_pipe_new(&rb->ch, t, rb->timeout_ms);
}

static void drop(rest *rb)
{
    if (!rb->ch) return;
    bs__error_saved e;
    bs__error_save(&e);
    rb->ch->ops->close(rb->ch);
    rb->ch = NULL;
    bs__error_restore(&e, 0);
}

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Sends rq and receives the response (any status). While open, a lost
 * connection is reconnected and rq redone up to rb->tries times; *redone
 * tells whether that happened. Closed (create, destroy), each request has
 * its own short-lived connection, as Python's client does. */
static int request(rest *rb, const bs__rest_req *rq, bs__rest_resp *rs, bool *redone)
{
    bool open = rb->base.opened;
    int tries = 0;
    if (redone) *redone = false;
    for (;;) {
        int rc = rb->ch ? 0 : connect_once(rb);
        if (!rc) rc = rb->ch->ops->exchange(rb->ch, rq, rs);
        if (!rc) {
            if (!open) drop(rb);
            return 0;
        }
        if (rc != BS_ERR_INVALID && rc != BS_ERR_NOMEM) drop(rb);
        if ((rc != BS_ERR_CONNECTION && rc != BS_ERR_TIMEOUT) || !open || tries >= rb->tries)
            return rc;
        tries++;
        if (redone) *redone = true;
        pause_ms(rb->delay_ms);
    }
}

/* The message of an error response: its reason phrase (Python's server puts
 * the message there), else the start of the body, cleaned. */
static void error_text(const bs__rest_resp *rs, char *out, size_t cap)
{
    const char *src = rs->head.reason;
    size_t len = strlen(src);
    if (!len && rs->body) src = (const char *)rs->body, len = rs->body_len;
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '\n' && o) break;
        out[o++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    out[o] = '\0';
}

static bool says(const bs__rest_resp *rs, const char *what)
{
    return strstr(rs->head.reason, what) ||
           (rs->body && memmem(rs->body, rs->body_len, what, strlen(what)));
}

/* Maps a response status to 0 or an error, as Python's client does. */
static int check(rest *rb, const bs__rest_resp *rs, const char *what)
{
    int st = rs->head.status;
    if (st == 200 || st == 206) return 0;
    char msg[600];
    error_text(rs, msg, sizeof msg);
    int code;
    switch (st) {
    case 404: code = BS_ERR_NOT_FOUND; break;
    case 410: code = BS_ERR_DOES_NOT_EXIST; break;
    case 409: code = BS_ERR_ALREADY_EXISTS; break;
    case 403: code = BS_ERR_PERMISSION; break;
    case 401: code = BS_ERR_PERMISSION; break;
    case 507: code = BS_ERR_QUOTA; break;
    case 416: code = BS_ERR_READ_RANGE; break;
    case 400: code = BS_ERR_INVALID; break;
    case 422: code = BS_ERR_INTEGRITY; break;
    case 412:
        code = says(rs, "must not be open") ? BS_ERR_MUST_NOT_BE_OPEN
             : says(rs, "must be open")     ? BS_ERR_MUST_BE_OPEN
                                            : BS_ERR_IO;
        break;
    default: code = st >= 500 && st < 600 ? BS_ERR_IO : BS_ERR_PROTOCOL; break;
    }
    return bs__error_set(code, "%s: %s (REST server %s: %d %s)", what, bs_error_id(code),
                         rb->label, st, msg);
}

/* Percent-encodes s into out for a path (keep_slash) or a query value. */
static bool encode(char *out, size_t cap, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = strlen(out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/');
        if (o + 4 > cap) return false;
        if (plain) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return true;
}

#define TARGET_MAX 1024

/* "/" + name [+ "/"] [+ "?" + query]; the query's values are encoded by
 * the caller with qarg. */
static void target(char out[TARGET_MAX], const char *name, bool list, const char *query)
{
    strcpy(out, "/");
    encode(out, TARGET_MAX, name, true);
    if (list) strcat(out, "/");
    if (query) {
        strcat(out, "?");
        strncat(out, query, TARGET_MAX - strlen(out) - 1);
    }
}

static void qarg(char *q, size_t cap, const char *key, const char *val)
{
    size_t l = strlen(q);
    snprintf(q + l, cap - l, "%s%s=", l ? "&" : "", key);
    encode(q, cap, val, false);
}

/* A request without a body whose success carries no value. */
static int simple(rest *rb, const char *method, const char *name, const char *query,
                  const char *what, bool gone_is_done)
{
    char t[TARGET_MAX];
    target(t, name, false, query);
    bs__rest_req rq = {.method = method, .target = t};
    bs__rest_resp rs = {.body_max = SMALL_BODY_MAX};
    bool redone;
    int rc = request(rb, &rq, &rs, &redone);
    if (!rc && !(gone_is_done && redone && rs.head.status == 404)) rc = check(rb, &rs, what);
    bs__rest_resp_clear(&rs);
    return rc;
}

/* ---- backend slots --------------------------------------------------------- */

static int rest_create(bs_backend *b) { return simple(R(b), "POST", "", "cmd=create", "create", false); }

static int rest_destroy(bs_backend *b)
{
    return simple(R(b), "DELETE", "", "cmd=destroy", "destroy", false);
}

/* Python's client only starts the server here; we also ask for the quota,
 * which opens the store on the server, so that a missing store is reported
 * by open (BS_ERR_DOES_NOT_EXIST) as by every other backend. */
static int rest_open(bs_backend *b)
{
    rest *rb = R(b);
    int rc = connect_once(rb);
    if (!rc) {
        bs__rest_req rq = {.method = "POST", .target = "/?cmd=quota"};
        bs__rest_resp rs = {.body_max = SMALL_BODY_MAX};
        rc = rb->ch->ops->exchange(rb->ch, &rq, &rs);
        if (!rc) rc = check(rb, &rs, "open");
        bs__rest_resp_clear(&rs);
    }
    if (rc) drop(rb);
    return rc;
}

static int rest_close(bs_backend *b)
{
    drop(R(b));
    return 0;
}

static int rest_mkdir(bs_backend *b, const char *name)
{
    return simple(R(b), "POST", name, "cmd=mkdir", name, false);
}

static int rest_rmdir(bs_backend *b, const char *name)
{
    return simple(R(b), "DELETE", name, "cmd=rmdir", name, false);
}

static int rest_delete(bs_backend *b, const char *name)
{
    return simple(R(b), "DELETE", name, NULL, name, true);
}

static int rest_move(bs_backend *b, const char *cur, const char *dst)
{
    char q[TARGET_MAX] = "cmd=move";
    qarg(q, sizeof q, "current", cur);
    qarg(q, sizeof q, "new", dst);
    return simple(R(b), "POST", "", q, cur, true);
}

static int rest_info(bs_backend *b, const char *name, bs_item_info *out)
{
    rest *rb = R(b);
    char t[TARGET_MAX];
    target(t, name, false, NULL);
    bs__rest_req rq = {.method = "HEAD", .target = t};
    bs__rest_resp rs = {.body_max = 0};
    int rc = request(rb, &rq, &rs, NULL);
    if (rc) return rc;
    const bs__http_resp *h = &rs.head;
    memset(out, 0, sizeof *out);
    if (h->status == 404) return 0;
    if ((rc = check(rb, &rs, name))) return rc;
    if (!h->has_length)
        return bs__error_set(BS_ERR_PROTOCOL, "%s: REST server %s sent no Content-Length for HEAD",
                             name, rb->label);
    out->exists = true;
    out->directory = h->is_dir == 1;
    out->size = out->directory ? 0 : h->content_length;
    out->atime_ns = h->has_atime ? h->atime_ns : 0;
    out->mtime_ns = h->has_mtime ? h->mtime_ns : 0;
    return 0;
}

static int rest_load(bs_backend *b, const char *name, int64_t offset, int64_t size,
                     uint8_t **out, size_t *out_len)
{
    rest *rb = R(b);
    *out = NULL;
    *out_len = 0;
    uint64_t want = VALUE_MAX;
    char range[64] = "";
    if (offset < 0 || size == 0) { /* needs the object's size (or existence) first */
        bs_item_info info;
        int rc = rest_info(b, name, &info);
        if (rc) return rc;
        if (!info.exists) return bs__error_set(BS_ERR_NOT_FOUND, "%s: not found", name);
        if (offset < 0 && (uint64_t)-offset > info.size)
            return bs__error_set(BS_ERR_READ_RANGE, "%s: offset %lld reaches before the start of "
                                 "%llu bytes", name, (long long)offset,
                                 (unsigned long long)info.size);
        if (offset < 0) offset += (int64_t)info.size;
        uint64_t left = (uint64_t)offset < info.size ? info.size - (uint64_t)offset : 0;
        if (size == BS_SIZE_ALL || (uint64_t)size > left) size = (int64_t)left;
        if (size == 0) {
            *out = malloc(1);
            return *out ? 0 : bs__error_set(BS_ERR_NOMEM, NULL);
        }
    }
    if (size != BS_SIZE_ALL) {
        want = (uint64_t)size;
        snprintf(range, sizeof range, "bytes=%lld-%lld", (long long)offset,
                 (long long)(offset + size - 1));
    } else if (offset > 0) {
        snprintf(range, sizeof range, "bytes=%lld-", (long long)offset);
    }
    char t[TARGET_MAX];
    target(t, name, false, NULL);
    bs__rest_req rq = {.method = "GET", .target = t, .range = range[0] ? range : NULL};
    bs__rest_resp rs = {.body_max = want};
    int rc = request(rb, &rq, &rs, NULL);
    if (!rc) rc = check(rb, &rs, name);
    if (rc) {
        bs__rest_resp_clear(&rs);
        return rc;
    }
    *out = rs.body; /* the one buffer the body was read into */
    *out_len = rs.body_len;
    return 0;
}

static int rest_store(bs_backend *b, const char *name, const void *data, size_t len)
{
    rest *rb = R(b);
    char hex[BS_HASH_HEX_SIZE], t[TARGET_MAX];
    bs_hash_hex(BS_HASH_SHA256, data, len, hex);
    target(t, name, false, NULL);
    bs__rest_req rq = {.method = "POST", .target = t, .hash_hex = hex, .body = data,
                       .body_len = len};
    bs__rest_resp rs = {.body_max = SMALL_BODY_MAX};
    int rc = request(rb, &rq, &rs, NULL);
    if (!rc) rc = check(rb, &rs, name);
    bs__rest_resp_clear(&rs);
    return rc;
}

static int rest_list_begin(bs_backend *b, const char *name, bs_list_iter **out)
{
    rest *rb = R(b);
    char t[TARGET_MAX];
    target(t, name, true, NULL);
    bs__rest_req rq = {.method = "GET", .target = t};
    bs__rest_resp rs = {.body_max = LIST_BODY_MAX};
    int rc = request(rb, &rq, &rs, NULL);
    if (!rc) rc = check(rb, &rs, *name ? name : "list of the root");
    if (!rc) rc = bs__rest_list_parse(out, rs.body, rs.body_len, rb->label);
    bs__rest_resp_clear(&rs);
    return rc;
}

/* A one-line text answer (hash, defrag's name) into out, printable. */
static int text_answer(rest *rb, const bs__rest_resp *rs, char *out, size_t cap, const char *what)
{
    size_t n = rs->body_len;
    while (n && (rs->body[n - 1] == '\n' || rs->body[n - 1] == '\r')) n--;
    bool ok = n > 0 && n < cap;
    for (size_t i = 0; ok && i < n; i++) ok = rs->body[i] > 0x20 && rs->body[i] < 0x7f;
    if (!ok)
        return bs__error_set(BS_ERR_PROTOCOL, "%s: REST server %s sent a malformed answer", what,
                             rb->label);
    memcpy(out, rs->body, n);
    out[n] = '\0';
    return 0;
}

static int rest_hash(bs_backend *b, const char *name, bs_hash_alg alg, char hex[BS_HASH_HEX_SIZE])
{
    rest *rb = R(b);
    char q[128] = "cmd=hash", t[TARGET_MAX];
    qarg(q, sizeof q, "algorithm", bs_hash_alg_name(alg));
    target(t, name, false, q);
    bs__rest_req rq = {.method = "POST", .target = t};
    bs__rest_resp rs = {.body_max = SMALL_BODY_MAX};
    int rc = request(rb, &rq, &rs, NULL);
    if (!rc) rc = check(rb, &rs, name);
    if (!rc) rc = text_answer(rb, &rs, hex, BS_HASH_HEX_SIZE, name);
    if (!rc && strlen(hex) != 2 * bs_hash_digest_size(alg))
        rc = bs__error_set(BS_ERR_PROTOCOL, "%s: REST server %s sent a %zu-character %s digest",
                           name, rb->label, strlen(hex), bs_hash_alg_name(alg));
    bs__rest_resp_clear(&rs);
    return rc;
}

static int rest_defrag(bs_backend *b, const bs_defrag_source *src, size_t n, const char *target_name,
                       bs_hash_alg alg, const char *ns, int levels, char out_name[BS_NAME_BUF])
{
    rest *rb = R(b);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *e = json_pack("[s, I, I]", src[i].name, (json_int_t)src[i].offset,
                              (json_int_t)src[i].size);
        if (!e || json_array_append_new(arr, e)) {
            json_decref(arr);
            arr = NULL;
        }
    }
    char *body = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (!body) return bs__error_set(BS_ERR_NOMEM, "defrag request");
    char q[TARGET_MAX] = "cmd=defrag", lv[16], t[TARGET_MAX];
    if (target_name) qarg(q, sizeof q, "target", target_name);
    qarg(q, sizeof q, "algorithm", bs_hash_alg_name(alg));
    if (ns && *ns) qarg(q, sizeof q, "namespace", ns);
    snprintf(lv, sizeof lv, "%d", levels);
    if (levels) qarg(q, sizeof q, "levels", lv);
    target(t, "", false, q);
    bs__rest_req rq = {.method = "POST", .target = t, .body = body, .body_len = strlen(body)};
    bs__rest_resp rs = {.body_max = SMALL_BODY_MAX};
    int rc = request(rb, &rq, &rs, NULL);
    free(body);
    if (!rc) rc = check(rb, &rs, "defrag");
    if (!rc) rc = text_answer(rb, &rs, out_name, BS_NAME_BUF, "defrag");
    bs__rest_resp_clear(&rs);
    return rc;
}

static int rest_quota(bs_backend *b, bs_quota *out)
{
    rest *rb = R(b);
    bs__rest_req rq = {.method = "POST", .target = "/?cmd=quota"};
    bs__rest_resp rs = {.body_max = SMALL_BODY_MAX};
    int rc = request(rb, &rq, &rs, NULL);
    if (!rc) rc = check(rb, &rs, "quota");
    if (!rc) rc = bs__rest_quota_parse(out, rs.body, rs.body_len, rb->label);
    bs__rest_resp_clear(&rs);
    return rc;
}

static void rest_free(bs_backend *b)
{
    rest *rb = R(b);
    drop(rb);
    free(rb->path);
    free(rb->user);
    free(rb->host);
    free(rb->ssh_config);
    free(rb->base_url);
    free(rb);
}

static const bs_backend_ops rest_ops = {
    .version = BS_BACKEND_OPS_VERSION,
    .scheme = "rest",
    .create = rest_create,
    .destroy = rest_destroy,
    .open = rest_open,
    .close = rest_close,
    .mkdir = rest_mkdir,
    .rmdir = rest_rmdir,
    .info = rest_info,
    .load = rest_load,
    .store = rest_store,
    .delete = rest_delete,
    .move = rest_move,
    .list_begin = rest_list_begin,
    .hash = rest_hash,
    .defrag = rest_defrag,
    .quota = rest_quota,
    .free = rest_free,
};

/* http(s)://[user:pass@]host[:port][/prefix]: the label drops the
 * credentials; without them in the URL, BORGSTORE_REST_USERNAME and
 * BORGSTORE_REST_PASSWORD are used (as Python's client does). */
static int http_setup(rest *rb, const char *url)
{
    const char *auth = strstr(url, "://") + 3;
    const char *slash = strchr(auth, '/');
    const char *at = memchr(auth, '@', slash ? (size_t)(slash - auth) : strlen(auth));
    size_t scheme_len = (size_t)(auth - url);
    snprintf(rb->label, sizeof rb->label, "%.*s%s", (int)scheme_len, url, at ? at + 1 : auth);
    size_t l = strlen(rb->label);
    while (l > scheme_len && rb->label[l - 1] == '/') rb->label[--l] = '\0';
    const char *user = getenv("BORGSTORE_REST_USERNAME"), *pass = getenv("BORGSTORE_REST_PASSWORD");
    if (at || !user || !*user || !pass || !*pass) {
        rb->base_url = strdup(url);
    } else {
        char u[512] = "", p[512] = "";
        encode(u, sizeof u, user, false);
        encode(p, sizeof p, pass, false);
        size_t n = strlen(url) + strlen(u) + strlen(p) + 3;
        if ((rb->base_url = malloc(n)))
            snprintf(rb->base_url, n, "%.*s%s:%s@%s", (int)scheme_len, url, u, p, auth);
    }
    if (!rb->base_url) return bs__error_set(BS_ERR_NOMEM, NULL);
    l = strlen(rb->base_url);
    while (l && rb->base_url[l - 1] == '/') rb->base_url[--l] = '\0';
    return 0;
}

int bs__rest_new(bs_backend **out, const char *url, const bs_backend_config *cfg)
{
    *out = NULL;
    rest *rb = calloc(1, sizeof *rb);
    if (!rb) return bs__error_set(BS_ERR_NOMEM, NULL);
    rb->base.ops = &rest_ops;
    rb->tries = env_int("BORGSTORE_RETRIES", DEFAULT_TRIES, 0, 100);
    rb->delay_ms = env_ms("BORGSTORE_RETRY_DELAY", DEFAULT_DELAY_MS);
    rb->timeout_ms = env_ms("BORGSTORE_TIMEOUT", DEFAULT_TIMEOUT_MS);
    if (rb->timeout_ms <= 0) rb->timeout_ms = DEFAULT_TIMEOUT_MS;
    int rc = 0;
    if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8)) {
        rb->http = true;
        rc = http_setup(rb, url);
    } else {
        bs_url u;
        if ((rc = bs__url_parse(&u, url))) goto fail;
        if (strcmp(u.scheme, "rest")) {
            bs__url_clear(&u);
            rc = bs__error_set(BS_ERR_URL_INVALID, "not a rest:// URL: %s", url);
            goto fail;
        }
        if ((u.host && u.host[0] == '-') || (u.user && u.user[0] == '-')) {
            bs__url_clear(&u);
            rc = bs__error_set(BS_ERR_URL_INVALID, "host or user may not start with '-': %s", url);
            goto fail;
        }
        rb->path = u.path;
        rb->user = u.user;
        rb->host = u.host;
        rb->port = u.port;
        u.path = u.user = u.host = NULL;
        bs__url_clear(&u);
        snprintf(rb->label, sizeof rb->label, "%s%s%s", rb->host ? rb->host : "local",
                 rb->host ? ":" : " ", rb->path);
        const char *sshcfg = cfg->ssh_config ? cfg->ssh_config : getenv("BORGSTORE_SSH_CONFIG");
        if (sshcfg && *sshcfg && !(rb->ssh_config = strdup(sshcfg)))
            rc = bs__error_set(BS_ERR_NOMEM, NULL);
    }
    if (rc) goto fail;
    *out = &rb->base;
    return 0;
fail:
    rest_free(&rb->base);
    return rc;
}
