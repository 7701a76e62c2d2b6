/* Request handling of borgstore-serve: the envelope checks, the const
 * dispatch table (with the open/closed, read-only and pre-hello gates in one
 * place), uploads arriving in DATA frames, and one handler per method, each
 * a thin call into the public backend API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bs_config.h"
#include "borgstore/hash.h"
#include "proto/mp.h"
#include "backends/backend.h"
#include "common/printable.h"
#include "proto/value_out.h"
#include "server/place.h"
#include "server/serve.h"

/* Upper bound of one encoded list entry: array, str header + name, bool,
 * uint64, int64 atime, int64 mtime. Pages are cut so they always fit the
 * peer's frame. */
#define LIST_ENTRY_MAX (1 + 2 + BS_NAME_BUF + 1 + 9 + 9 + 9)

static bs__req req; /* the request being handled (one at a time) */

void serve_reply_err(serve *s, uint32_t id, int code, const char *msg)
{
    char scrubbed[BS_MESSAGE_MAX], clean[BS_MESSAGE_MAX];
    serve_scrub(s, scrubbed, sizeof scrubbed, msg);
    bs__printable_str(clean, sizeof clean, scrubbed); /* printable ASCII: valid UTF-8 */
    if (bs__enc_err(bs__outq_buf(&s->out), id, code, clean) == 0) bs__outq_commit(&s->out);
}

static int fatal(serve *s, uint32_t id, const char *what)
{
    char msg[BS_MESSAGE_MAX];
    snprintf(msg, sizeof msg, "%s", what);
    serve_log(s, BS_LOG_ERROR, "ending the connection: %s", msg);
    serve_reply_err(s, id, BS_ERR_PROTOCOL, msg);
    s->fatal = true;
    return -1;
}

int serve_fatal(serve *s, uint32_t id, const char *what) { return fatal(s, id, what); }

static int reply_ok(serve *s, uint32_t id, uint32_t method, const bs__result *res)
{
    int rc = bs__enc_ok(bs__outq_buf(&s->out), id, method, res, s->peer_max_frame, false, NULL);
    if (!rc) rc = bs__outq_commit(&s->out);
    return rc;
}

static const bs__result empty_result;

/* ---- cursors ------------------------------------------------------------ */

static void cursor_drop(serve *s, serve_cursor *c)
{
    bs_backend_list_end(c->it);
    s->cursor_bytes -= c->bytes;
    memset(c, 0, sizeof *c);
}

static void cursors_drop_all(serve *s)
{
    for (size_t i = 0; i < BS_LIST_CURSORS; i++)
        if (s->cursors[i].id) cursor_drop(s, &s->cursors[i]);
}

static serve_cursor *cursor_find(serve *s, uint64_t id)
{
    for (size_t i = 0; i < BS_LIST_CURSORS; i++)
        if (id && s->cursors[i].id == id) return &s->cursors[i];
    return NULL;
}

/* A free slot for a cursor whose entries hold bytes (counted), evicting the
 * least recently used cursors while all slots are taken or the connection's
 * cursors would hold more than --list-memory (list's posix reader stops at
 * that size, so bytes fit alone). */
static serve_cursor *cursor_slot(serve *s, size_t bytes)
{
    if (bytes > s->opt->list_memory) bytes = s->opt->list_memory; /* not posix: count it all */
    for (;;) {
        serve_cursor *slot = NULL, *lru = NULL;
        for (size_t i = 0; i < BS_LIST_CURSORS; i++) {
            serve_cursor *c = &s->cursors[i];
            if (!c->id) {
                if (!slot) slot = c;
            } else if (!lru || c->last_use < lru->last_use) {
                lru = c;
            }
        }
        if (slot && s->cursor_bytes + bytes <= s->opt->list_memory) {
            s->cursor_bytes += bytes;
            slot->bytes = bytes;
            return slot;
        }
        /* lru exists: the slots are taken, or other cursors hold memory */
        serve_log(s, BS_LOG_DEBUG, "dropping list cursor %llu (%s)", (unsigned long long)lru->id,
                  slot ? "list memory limit" : "too many open");
        cursor_drop(s, lru);
    }
}

/* Fills one page from c into s->page; *more tells whether entries remain. */
static int page_fill(serve *s, serve_cursor *c, const char *after, uint32_t limit,
                     size_t *n, bool *more)
{
    uint32_t fit = (s->peer_max_frame - BS_FRAME_OVERHEAD) / LIST_ENTRY_MAX;
    if (!limit || limit > BS_LIST_PAGE_DEFAULT) limit = BS_LIST_PAGE_DEFAULT;
    if (limit > fit) limit = fit;
    *n = 0;
    *more = false;
    if (c->has_next) {
        s->page[(*n)++] = c->next;
        c->has_next = false;
    }
    while (*n < limit) {
        int rc = bs_backend_list_next(c->it, &s->page[*n]);
        if (rc < 0) return rc;
        if (rc == 0) return 0;
        if (after && strcmp(s->page[*n].name, after) <= 0) continue;
        (*n)++;
    }
    int rc = bs_backend_list_next(c->it, &c->next);
    if (rc < 0) return rc;
    c->has_next = *more = rc == 1;
    return 0;
}

static int send_page(serve *s, serve_cursor *c, size_t n, bool more)
{
    bs__result res = {.entries = s->page, .n_entries = n, .has_cursor = more,
                      .cursor = more ? c->id : 0,
                      .entries_mtime = (s->peer_features & BS_FEAT_MTIME) != 0};
    return reply_ok(s, req.id, req.method, &res);
}

/* ---- handlers ----------------------------------------------------------- */

static int h_ping(serve *s)
{
    bs__result res = {0};
    if (req.has_data) {
        if (req.data_len > bs__inline_max(s->peer_max_frame))
            return bs__error_set(BS_ERR_INVALID, "ping data exceeds the client's frame limit");
        res.data = req.data;
        res.data_len = req.data_len;
        res.has_data = true;
    }
    return reply_ok(s, req.id, req.method, &res);
}

static int h_create(serve *s)
{
    int rc = serve_use_path(s, req.path, true);
    if (!rc) rc = bs_backend_create(s->backend);
    if (!rc) serve_log(s, BS_LOG_INFO, "created a store");
    return rc ? rc : reply_ok(s, req.id, req.method, &empty_result);
}

static int h_destroy(serve *s)
{
    int rc = serve_use_path(s, req.path, false);
    if (!rc) rc = bs_backend_destroy(s->backend);
    if (!rc) serve_log(s, BS_LOG_INFO, "destroyed a store");
    return rc ? rc : reply_ok(s, req.id, req.method, &empty_result);
}

static int h_open(serve *s)
{
    int rc = serve_use_path(s, req.path, false);
    if (!rc) rc = bs_backend_open(s->backend);
    return rc ? rc : reply_ok(s, req.id, req.method, &empty_result);
}

static int h_close(serve *s)
{
    cursors_drop_all(s);
    int rc = bs_backend_close(s->backend);
    return rc ? rc : reply_ok(s, req.id, req.method, &empty_result);
}

static int h_mkdir(serve *s)
{
    int rc = bs_backend_mkdir(s->backend, req.name);
    return rc ? rc : reply_ok(s, req.id, req.method, &empty_result);
}

static int h_rmdir(serve *s)
{
    int rc = bs_backend_rmdir(s->backend, req.name);
    return rc ? rc : reply_ok(s, req.id, req.method, &empty_result);
}

static int h_delete(serve *s)
{
    int rc = bs_backend_delete(s->backend, req.name);
    return rc ? rc : reply_ok(s, req.id, req.method, &empty_result);
}

static int h_move(serve *s)
{
    int rc = bs_backend_move(s->backend, req.name, req.dst);
    return rc ? rc : reply_ok(s, req.id, req.method, &empty_result);
}

static int h_info(serve *s)
{
    bs__result res = {0};
    int rc = bs_backend_info(s->backend, req.name, &res.info);
    return rc ? rc : reply_ok(s, req.id, req.method, &res);
}

static void free_value(void *p) { free(p); }

static int h_load(serve *s)
{
    uint8_t *buf;
    size_t len;
    /* refused before the value is read into memory */
    s->backend->value_max = s->opt->max_value < s->peer_max_value ? s->opt->max_value
                                                                  : s->peer_max_value;
    int rc = bs_backend_load(s->backend, req.name, req.offset, req.size, &buf, &len);
    if (rc) return rc;
    if (len > s->peer_max_value) {
        free(buf);
        return bs__error_set(BS_ERR_INVALID, "%s: %zu bytes exceed the client's value limit",
                             req.name, len);
    }
    bs__result res = {.value_size = len};
    bs_buf *arena = bs__outq_buf(&s->out);
    if (len <= bs__inline_max(s->peer_max_frame)) {
        uint8_t hash[BS_VALUE_HASH_LEN];
        bs__value_hash(hash, buf, len);
        res.hash = hash;
        res.data = buf;
        res.data_len = len;
        res.has_data = true;
        size_t tail;
        rc = bs__enc_ok(arena, req.id, req.method, &res, s->peer_max_frame, true, &tail);
        if (rc) {
            free(buf);
            return rc;
        }
        /* the value goes out from the backend's buffer, freed once written */
        return bs__outq_ref(&s->out, buf, len, free_value, buf) ? fatal(s, req.id, "out of memory") : 0;
    }
    /* DATA frames, the hash in the last one, computed as the chunks go out */
    if ((rc = bs__enc_ok(arena, req.id, req.method, &res, s->peer_max_frame, false, NULL))) {
        free(buf);
        return rc;
    }
    if (bs__outq_value(&s->out, req.id, buf, len, s->peer_max_frame, free_value, buf)) {
        /* the result is queued already: a clean error is no longer possible,
         * and a result without its value must never go out */
        serve_log(s, BS_LOG_CRITICAL, "out of memory while queuing a value");
        _exit(SERVE_EXIT_INTERNAL);
    }
    return 0;
}

/* Stores a complete value after checking its hash (got: computed already,
 * or NULL): nothing becomes visible when the bytes are not what the client
 * hashed. */
static int store_value(serve *s, const char *name, const uint8_t *hash, const void *data,
                       size_t len, const uint8_t *got)
{
    uint8_t mine[BS_VALUE_HASH_LEN];
    if (!got) {
        bs__value_hash(mine, data, len);
        got = mine;
    }
    if (memcmp(got, hash, BS_VALUE_HASH_LEN) != 0) {
        serve_log(s, BS_LOG_WARNING, "store %s: value hash mismatch, nothing stored", name);
        return bs__error_set(BS_ERR_INTEGRITY, "store %s: value hash mismatch, nothing stored",
                             name);
    }
    return bs_backend_store(s->backend, name, data, len);
}

/* The last chunk arrived, with the value's hash. */
static void upload_finish(serve *s, const uint8_t *hash)
{
    serve_upload *up = &s->up;
    int rc;
    if (up->discard) {
        rc = bs__error_set_raw(up->err, 0, up->errmsg);
    } else {
        uint8_t got[BS_VALUE_HASH_LEN];
        crypto_generichash_final(&up->hashing, got, sizeof got);
        rc = store_value(s, up->name, hash, up->value.data, up->value.len, got);
    }
    serve_log(s, BS_LOG_DEBUG, "store %s (%llu bytes) -> %s", up->name,
              (unsigned long long)up->size, bs_error_id(rc));
    if (rc) serve_reply_err(s, up->id, rc, bs_error_message());
    else if (reply_ok(s, up->id, BS_M_STORE, &empty_result)) fatal(s, up->id, "out of memory");
    bs__buf_free(&up->value);
    up->active = false;
}

static int upload_data(serve *s, const bs__env *env)
{
    serve_upload *up = &s->up;
    if (env->kind != BS_KIND_DATA || env->id != up->id) {
        char msg[96];
        snprintf(msg, sizeof msg, "expected the value of request %u", up->id);
        return fatal(s, up->id, msg);
    }
    if (env->data_len > up->size - up->received)
        return fatal(s, up->id, "more data than the store announced");
    bool last = env->data_len == up->size - up->received;
    if (last != (env->hash != NULL))
        return fatal(s, up->id, last ? "the last DATA frame of a value must carry its hash"
                                     : "only the last DATA frame of a value carries a hash");
    if (!up->discard) {
        size_t need = up->value.len + env->data_len;
        if (need > up->value.cap) { /* grow with the data, never past the size */
            size_t cap = up->value.cap ? up->value.cap * 2 : 1024 * 1024;
            if (cap < need) cap = need;
            if (cap > up->size) cap = (size_t)up->size;
            uint8_t *p = realloc(up->value.data, cap);
            if (!p) {
                up->discard = true;
                up->err = BS_ERR_NOMEM;
                snprintf(up->errmsg, sizeof up->errmsg, "out of memory for a %llu-byte value",
                         (unsigned long long)up->size);
                bs__buf_free(&up->value);
            } else {
                up->value.data = p;
                up->value.cap = cap;
            }
        }
        if (!up->discard) {
            bs__buf_append(&up->value, env->data, env->data_len);
            crypto_generichash_update(&up->hashing, env->data, env->data_len);
        }
    }
    up->received += env->data_len;
    if (last) upload_finish(s, env->hash);
    return 0;
}

static int h_store(serve *s, int gate)
{
    if (!req.has_data) { /* the value follows in DATA frames */
        if (req.size == 0)
            return bs__error_set(BS_ERR_PROTOCOL, "store: an empty value must be sent inline");
        serve_upload *up = &s->up;
        memset(up, 0, sizeof *up);
        up->active = true;
        up->id = req.id;
        up->size = (uint64_t)req.size;
        snprintf(up->name, sizeof up->name, "%s", req.name);
        crypto_generichash_init(&up->hashing, NULL, 0, BS_VALUE_HASH_LEN);
        if (!gate && req.hash)
            gate = bs__error_set(BS_ERR_PROTOCOL, "store: the hash of a value in DATA frames "
                                 "goes in its last frame");
        if (!gate && up->size > s->opt->max_value)
            gate = bs__error_set(BS_ERR_INVALID, "%s: %llu bytes exceed the server's value limit",
                                 req.name, (unsigned long long)up->size);
        if (gate) {
            up->discard = true;
            up->err = gate;
            snprintf(up->errmsg, sizeof up->errmsg, "%s", bs_error_message());
        }
        return 0;
    }
    if (gate) return gate;
    if (!req.hash) return bs__error_set(BS_ERR_PROTOCOL, "store: 'hash' is missing");
    int rc = store_value(s, req.name, req.hash, req.data, req.data_len, NULL);
    return rc ? rc : reply_ok(s, req.id, req.method, &empty_result);
}

static int h_list(serve *s)
{
    serve_cursor tmp = {0};
    /* the directory is read whole: never more than a connection's cursors may hold */
    s->backend->list_max = (size_t)(s->opt->list_memory / sizeof(bs_item_info));
    int rc = bs_backend_list_begin(s->backend, req.name, &tmp.it);
    if (rc) return rc;
    size_t n;
    bool more;
    if ((rc = page_fill(s, &tmp, req.after, req.limit, &n, &more))) {
        bs_backend_list_end(tmp.it);
        return rc;
    }
    serve_cursor *c = &tmp;
    if (more) {
        c = cursor_slot(s, tmp.it->bytes);
        tmp.bytes = c->bytes;
        *c = tmp;
        c->id = ++s->next_cursor;
        c->last_use = s->requests;
    }
    rc = send_page(s, c, n, more);
    if (!more) bs_backend_list_end(tmp.it);
    return rc;
}

static int h_list_next(serve *s)
{
    serve_cursor *c = cursor_find(s, req.cursor);
    if (!c) return bs__error_set(BS_ERR_INVALID, "unknown or expired list cursor");
    c->last_use = s->requests;
    size_t n;
    bool more;
    int rc = page_fill(s, c, NULL, req.limit, &n, &more);
    if (!rc) rc = send_page(s, c, n, more);
    if (rc || !more) cursor_drop(s, c);
    return rc;
}

static int h_list_end(serve *s)
{
    serve_cursor *c = cursor_find(s, req.cursor);
    if (c) cursor_drop(s, c);
    return reply_ok(s, req.id, req.method, &empty_result);
}

static int h_hash(serve *s)
{
    bs_hash_alg alg;
    bs__result res = {0};
    int rc = bs_hash_alg_parse(req.alg, &alg);
    if (!rc) rc = bs_backend_hash(s->backend, req.name, alg, res.hex);
    return rc ? rc : reply_ok(s, req.id, req.method, &res);
}

static int h_defrag(serve *s)
{
    size_t n = req.n_sources;
    if (n > BS_DEFRAG_MAX) return bs__error_set(BS_ERR_INVALID, "too many defrag blocks");
    bs_defrag_source *src = calloc(n ? n : 1, sizeof *src);
    char (*names)[BS_NAME_BUF] = calloc(n ? n : 1, BS_NAME_BUF);
    int rc = src && names ? 0 : bs__error_set(BS_ERR_NOMEM, NULL);
    size_t pos = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        int got = bs__defrag_source_next(&req, &pos, names[i], &src[i].offset, &src[i].size);
        if (got != 1) rc = got < 0 ? got : bs__error_set(BS_ERR_PROTOCOL, "defrag sources");
        src[i].name = names[i];
    }
    bs_hash_alg alg = BS_HASH_SHA256;
    if (!rc && req.alg) rc = bs_hash_alg_parse(req.alg, &alg);
    if (!rc && !req.alg && !req.target)
        rc = bs__error_set(BS_ERR_INVALID, "defrag needs a target or a hash algorithm");
    bs__result res = {0};
    s->backend->value_max = s->opt->max_value; /* the result is bounded before it is written */
    if (!rc)
        rc = bs_backend_defrag(s->backend, src, n, req.target, alg, req.ns, (int)req.levels,
                               res.name);
    free(src);
    free(names);
    return rc ? rc : reply_ok(s, req.id, req.method, &res);
}

static int h_quota(serve *s)
{
    bs__result res = {0};
    int rc = bs_backend_quota(s->backend, &res.quota);
    return rc ? rc : reply_ok(s, req.id, req.method, &res);
}

typedef int (*handler)(serve *s);

static const handler handlers[BS_M_COUNT] = {
    [BS_M_PING] = h_ping, [BS_M_CREATE] = h_create, [BS_M_DESTROY] = h_destroy,
    [BS_M_OPEN] = h_open, [BS_M_CLOSE] = h_close, [BS_M_MKDIR] = h_mkdir,
    [BS_M_RMDIR] = h_rmdir, [BS_M_INFO] = h_info, [BS_M_LOAD] = h_load,
    [BS_M_DELETE] = h_delete, [BS_M_MOVE] = h_move, [BS_M_LIST] = h_list,
    [BS_M_LIST_NEXT] = h_list_next, [BS_M_LIST_END] = h_list_end, [BS_M_HASH] = h_hash,
    [BS_M_DEFRAG] = h_defrag, [BS_M_QUOTA] = h_quota,
};

/* ---- hello and the gates -------------------------------------------------- */

static int h_hello(serve *s)
{
    if (!(req.hello.versions & (1u << BS_PROTO_VERSION))) {
        char msg[64];
        snprintf(msg, sizeof msg, "no common protocol version (this server speaks %d)",
                 BS_PROTO_VERSION);
        serve_reply_err(s, req.id, BS_ERR_UNSUPPORTED, msg);
        s->fatal = true;
        return -1;
    }
    if (req.hello.max_frame < BS_FRAME_MIN) {
        serve_reply_err(s, req.id, BS_ERR_INVALID, "max_frame below the protocol minimum");
        s->fatal = true;
        return -1;
    }
    s->peer_max_frame = req.hello.max_frame > BS_FRAME_CEIL ? BS_FRAME_CEIL : req.hello.max_frame;
    s->peer_max_value = req.hello.max_value ? req.hello.max_value : BS_VALUE_DEFAULT;
    s->client_log_level = req.hello.log_level ? (int)req.hello.log_level : BS_LOG_WARNING;
    s->peer_features = req.hello.features;
    if (s->client_log_level < s->opt->log_level) s->client_log_level = s->opt->log_level;
    const serve_opts *o = s->opt;
    bs__result res = {0};
    bs__hello *h = &res.hello;
    h->version = BS_PROTO_VERSION;
    snprintf(h->impl, sizeof h->impl, "borgstore-serve %s", BS_VERSION);
    h->features = BS_FEAT_ALL;
    h->max_frame = o->max_frame;
    h->max_value = o->max_value;
    h->max_inflight = o->max_inflight;
    h->max_inflight_bytes = BS_INFLIGHT_BYTES_DEFAULT;
    h->max_name = BS_NAME_MAX;
    h->list_page = BS_LIST_PAGE_DEFAULT;
    h->max_defrag = BS_DEFRAG_MAX;
    if (o->permissions && *o->permissions)
        snprintf(h->permissions, sizeof h->permissions, "%s",
                 strlen(o->permissions) < sizeof h->permissions ? o->permissions : "custom");
    h->quota = o->quota;
    h->read_only = o->read_only;
    h->pinned = o->backend_url != NULL;
    s->hello_done = true;
    serve_log(s, BS_LOG_DEBUG, "client %s, protocol %d", req.hello.impl[0] ? req.hello.impl : "?",
              BS_PROTO_VERSION);
    return reply_ok(s, req.id, req.method, &res);
}

/* The one place that decides whether a method may run now. */
static int gate(serve *s, const bs__method_info *mi)
{
    bool open = bs_backend_is_open(s->backend);
    if ((mi->flags & BS_MF_OPEN) && !open) return bs__error_set(BS_ERR_MUST_BE_OPEN, NULL);
    if ((req.method == BS_M_CREATE || req.method == BS_M_DESTROY || req.method == BS_M_OPEN) &&
        open)
        return bs__error_set(BS_ERR_MUST_NOT_BE_OPEN, NULL);
    if ((mi->flags & BS_MF_WRITES) && s->opt->read_only)
        return bs__error_set(BS_ERR_PERMISSION, "this server is read-only");
    return 0;
}

static int request(serve *s, const bs__env *env)
{
    s->requests++;
    if (serve_inflight_admit(s, env->id)) return -1;
    const bs__method_info *mi = bs__method_get(env->method);
    if (!s->hello_done && env->method != BS_M_HELLO)
        return fatal(s, env->id, "hello must come first");
    if (!mi) {
        char msg[64];
        snprintf(msg, sizeof msg, "unknown method %llu", (unsigned long long)env->method);
        serve_reply_err(s, env->id, BS_ERR_PROTOCOL, msg);
        return 0;
    }
    int rc = bs__req_decode(&req, env->method, env->body, env->body_len);
    req.id = env->id;
    if (rc) {
        serve_log(s, BS_LOG_DEBUG, "%s: bad arguments: %s", mi->name, bs_error_message());
        serve_reply_err(s, env->id, rc, bs_error_message());
        return 0;
    }
    if (env->method == BS_M_HELLO) {
        if (s->hello_done) {
            serve_reply_err(s, env->id, BS_ERR_PROTOCOL, "hello was already done");
            return 0;
        }
        rc = h_hello(s);
        return rc < 0 && s->fatal ? -1 : 0;
    }
    rc = gate(s, mi);
    if (env->method == BS_M_STORE) rc = h_store(s, rc);
    else if (!rc) rc = handlers[env->method](s);
    if (s->fatal) return -1;
    if (rc < 0) {
        char msg[BS_MESSAGE_MAX];
        snprintf(msg, sizeof msg, "%s", bs_error_message());
        serve_log(s, BS_LOG_DEBUG, "%s %s -> %s", mi->name, req.name ? req.name : "", msg);
        serve_reply_err(s, env->id, rc, msg);
    } else {
        serve_log(s, BS_LOG_DEBUG, "%s %s", mi->name, req.name ? req.name : "");
    }
    return 0;
}

int serve_frame(serve *s, const uint8_t *frame, size_t len)
{
    bs__env env;
    if (bs__env_decode(frame, len, &env)) {
        char msg[BS_MESSAGE_MAX];
        snprintf(msg, sizeof msg, "malformed frame: %s", bs_error_message());
        return fatal(s, 0, msg);
    }
    if (s->up.active) return upload_data(s, &env);
    if (env.kind != BS_KIND_REQ) return fatal(s, env.id, "the client may only send requests");
    return request(s, &env);
}

void serve_shutdown(serve *s)
{
    cursors_drop_all(s);
    if (bs_backend_is_open(s->backend)) bs_backend_close(s->backend);
    bs_backend_free(s->backend);
    s->backend = NULL;
    free(s->backend_path);
    s->backend_path = NULL;
    bs__buf_free(&s->up.value);
    free(s->page);
    s->page = NULL;
}
