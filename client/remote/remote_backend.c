/* The remote backend: serve:///abs/path (borgstore-serve spawned locally on
 * pipes) and ssh://[user@]host[:port]/path (over libssh, or BORGSTORE_RSH).
 * Every backend slot is one RPC; a lost connection is reconnected (bounded
 * tries with a pause) and operations that are safe to repeat are retried,
 * a repeated delete/move/rmdir finding nothing counting as done. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/backend.h"
#include "client/remote/rpc.h"
#include "client/transport.h"
#include "common/error.h"
#include "common/url.h"
#include "proto/cmdline.h"

#define DEFAULT_TRIES 3
#define DEFAULT_DELAY_MS 5000
#define DEFAULT_TIMEOUT_MS 120000
#define DEFAULT_IDLE_MS 60000

typedef struct remote {
    bs_backend base;
    bool ssh;
    char *path;         /* as sent to the server: absolute, or relative (ssh) */
    char *user, *host;
    int port;
    char *ssh_config;
    char *permissions;  /* passed on the server command line (a forced command wins) */
    uint64_t quota;
    bs__rpc *rpc;
    uint64_t gen;       /* bumped per connection (list cursors belong to one) */
    bool want_open;     /* the store is open: reopen it after a reconnect */
    bool ever_connected;
    int tries, delay_ms, timeout_ms, idle_ms, log_level;
    int64_t last_used;
    /* failures of fire-and-forget operations, reported by flush */
    size_t parked_failed;
    int parked_rc;
    char parked_msg[BS_MESSAGE_MAX];
} remote;

static remote *R(bs_backend *b) { return (remote *)b; }

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Seconds (fractions allowed) from the environment, in ms. */
static int env_ms(const char *name, int def)
{
    const char *v = getenv(name);
    if (!v || !*v) return def;
    char *end;
    double d = strtod(v, &end);
    if (*end || d < 0 || d > 86400) return def;
    return (int)(d * 1000);
}

static int env_int(const char *name, int def, int lo, int hi)
{
    const char *v = getenv(name);
    if (!v || !*v) return def;
    char *end;
    long n = strtol(v, &end, 10);
    return *end || n < lo || n > hi ? def : (int)n;
}

static const char *level_name(int level)
{
    return level >= BS_LOG_CRITICAL ? "critical" : level >= BS_LOG_ERROR ? "error"
         : level >= BS_LOG_WARNING ? "warning" : level >= BS_LOG_INFO ? "info" : "debug";
}

static void remote_log(void *ctx, int level, const char *msg)
{
    remote *rb = ctx;
    if (level >= rb->log_level) fprintf(stderr, "borgstore-serve: %s: %s\n", level_name(level), msg);
}

/* ---- connecting ------------------------------------------------------------ */

/* Moves the failures of discarded (fire-and-forget) calls into rb. */
static void harvest(remote *rb)
{
    size_t failed;
    int rc = bs__rpc_take_deferred(rb->rpc, &failed);
    if (!rc) return;
    if (!rb->parked_failed) {
        rb->parked_rc = rc;
        snprintf(rb->parked_msg, sizeof rb->parked_msg, "%s", bs_error_message());
    }
    rb->parked_failed += failed;
}

/* Ends a (broken) connection, keeping this thread's error as it was. */
static void drop(remote *rb)
{
    if (!rb->rpc) return;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", bs_error_message());
    int saved = bs_error_errno();
    bs__rpc_drain(rb->rpc); /* a broken connection returns at once */
    harvest(rb);
    bs__rpc_free(rb->rpc);
    rb->rpc = NULL;
    bs__error_set_raw(BS_ERR_CONNECTION, saved, msg);
}

/* The remote command: BORGSTORE_REMOTE_PATH (default borgstore-serve), plus
 * permissions / quota from the backend config. */
static int command_words(remote *rb, char ***argv, size_t *argc)
{
    const char *rp = getenv("BORGSTORE_REMOTE_PATH");
    if (!rp || !*rp) rp = "borgstore-serve";
    int rc = bs__split_words(argv, argc, rp);
    if (rc) return rc;
    if (!*argc) {
        bs__argv_free(*argv);
        return bs__error_set(BS_ERR_INVALID, "BORGSTORE_REMOTE_PATH is empty");
    }
    char quota[32];
    snprintf(quota, sizeof quota, "%llu", (unsigned long long)rb->quota);
    const char *extra[4];
    size_t n = 0;
    if (rb->permissions) {
        extra[n++] = "--permissions";
        extra[n++] = rb->permissions;
    }
    if (rb->quota) {
        extra[n++] = "--quota";
        extra[n++] = quota;
    }
    if (!n) return 0;
    char **a = realloc(*argv, (*argc + n + 1) * sizeof *a);
    if (!a) {
        bs__argv_free(*argv);
        return bs__error_set(BS_ERR_NOMEM, NULL);
    }
    *argv = a;
    for (size_t i = 0; i < n; i++) a[(*argc)++] = strdup(extra[i]);
    a[*argc] = NULL;
    for (size_t i = 0; i < *argc; i++)
        if (!a[i]) return bs__error_set(BS_ERR_NOMEM, NULL);
    return 0;
}

static int open_transport(remote *rb, bs_transport **t)
{
    char **cmd;
    size_t ncmd;
    int rc = command_words(rb, &cmd, &ncmd);
    if (rc) return rc;
    bs_remote_target to = {.user = rb->user, .host = rb->ssh ? rb->host : NULL,
                           .port = rb->port, .ssh_config = rb->ssh_config};
    rc = bs__transport_command(t, &to, cmd);
    bs__argv_free(cmd);
    return rc;
}

/* One connection attempt; reopens the store when it was open. */
static int connect_once(remote *rb)
{
    bs_transport *t;
    int rc = open_transport(rb, &t);
    if (rc) return rc;
    bs__rpc_opts o = {.timeout_ms = rb->timeout_ms, .log_level = rb->log_level,
                      .log = remote_log, .log_ctx = rb};
    if ((rc = bs__rpc_connect(&rb->rpc, t, &o))) return rc;
    rb->gen++;
    rb->ever_connected = true;
    rb->last_used = now_ms();
    if (rb->want_open) {
        bs__req req = {.method = BS_M_OPEN, .path = rb->path};
        bs__reply rep;
        rc = bs__rpc_call(rb->rpc, &req, &rep);
        bs__reply_clear(&rep);
        if (rc) {
            char msg[1024];
            snprintf(msg, sizeof msg, "reopening the store after a reconnect: %s", bs_error_message());
            bs__rpc_free(rb->rpc);
            rb->rpc = NULL;
            return bs__error_set_raw(rc, 0, msg);
        }
    }
    return 0;
}

static bool transient(int rc) { return rc == BS_ERR_CONNECTION || rc == BS_ERR_TIMEOUT; }

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Makes sure a live connection exists: pings one that sat idle, and after
 * a loss reconnects (each try after a pause) while *reconnects < tries.
 * prev is the failure that led here, returned when no try is left. */
static int ensure(remote *rb, int *reconnects, int prev)
{
    int rc = prev;
    if (rb->rpc && !bs__rpc_broken(rb->rpc) && now_ms() - rb->last_used > rb->idle_ms) {
        bs__req ping = {.method = BS_M_PING}; /* an idle link may have died quietly */
        bs__reply rep;
        if ((rc = bs__rpc_call(rb->rpc, &ping, &rep))) drop(rb);
        bs__reply_clear(&rep);
        rb->last_used = now_ms();
    }
    if (rb->rpc && bs__rpc_broken(rb->rpc)) { /* broke after its last call */
        rc = bs__rpc_error(rb->rpc);
        drop(rb);
    }
    while (!rb->rpc) {
        if (rb->ever_connected) {
            if (*reconnects >= rb->tries)
                return rc ? rc : bs__error_set(BS_ERR_CONNECTION, "connection lost");
            (*reconnects)++;
            pause_ms(rb->delay_ms);
        }
        rc = connect_once(rb);
        if (rc && (!rb->ever_connected || !transient(rc))) return rc;
    }
    return 0;
}

/* Runs req with reconnects and retries; the reply is valid on success.
 * After a lost connection at most rb->tries reconnects are made, each after
 * a pause; only methods marked BS_MF_RETRY are sent again. */
static int call(remote *rb, const bs__req *req, bs__reply *rep)
{
    const bs__method_info *mi = bs__method_get(req->method);
    bool repeated = false, integrity_retried = false;
    int reconnects = 0, rc = 0;
    memset(rep, 0, sizeof *rep);
    for (;;) {
        if ((rc = ensure(rb, &reconnects, rc))) return rc;
        rc = bs__rpc_call(rb->rpc, req, rep);
        rb->last_used = now_ms();
        if (rc == 0) return 0;
        if (bs__rpc_broken(rb->rpc)) {
            drop(rb);
            if (!(mi->flags & BS_MF_RETRY) || !transient(rc)) return rc;
            repeated = true;
            continue;
        }
        if (rc == BS_ERR_INTEGRITY && !integrity_retried &&
            (req->method == BS_M_STORE || req->method == BS_M_LOAD)) {
            integrity_retried = true; /* corrupted in transit: send / fetch once more */
            bs__reply_clear(rep);
            continue;
        }
        if (rc == BS_ERR_NOT_FOUND && repeated && (mi->flags & BS_MF_GONE_IS_DONE)) {
            bs__reply_clear(rep); /* the lost first attempt did it */
            bs__error_clear();
            return 0;
        }
        return rc;
    }
}

/* ---- backend slots ------------------------------------------------------- */

static int simple(bs_backend *b, uint32_t method, const char *name)
{
    bs__req req = {.method = method, .name = name, .path = R(b)->path};
    bs__reply rep;
    int rc = call(R(b), &req, &rep);
    bs__reply_clear(&rep);
    return rc;
}

static int remote_create(bs_backend *b) { return simple(b, BS_M_CREATE, NULL); }
static int remote_destroy(bs_backend *b) { return simple(b, BS_M_DESTROY, NULL); }

static int remote_open(bs_backend *b)
{
    int rc = simple(b, BS_M_OPEN, NULL);
    if (!rc) R(b)->want_open = true;
    return rc;
}

static int remote_close(bs_backend *b)
{
    remote *rb = R(b);
    rb->want_open = false;
    if (!rb->rpc || bs__rpc_broken(rb->rpc)) return 0; /* nothing is open over there */
    bs__req req = {.method = BS_M_CLOSE};
    bs__reply rep;
    int rc = bs__rpc_call(rb->rpc, &req, &rep);
    bs__reply_clear(&rep);
    if (rc && bs__rpc_broken(rb->rpc)) {
        drop(rb);
        return 0; /* the server's side closed with the connection */
    }
    return rc;
}

static int remote_mkdir(bs_backend *b, const char *name) { return simple(b, BS_M_MKDIR, name); }
static int remote_rmdir(bs_backend *b, const char *name) { return simple(b, BS_M_RMDIR, name); }
static int remote_delete(bs_backend *b, const char *name) { return simple(b, BS_M_DELETE, name); }

static int remote_info(bs_backend *b, const char *name, bs_item_info *out)
{
    bs__req req = {.method = BS_M_INFO, .name = name};
    bs__reply rep;
    int rc = call(R(b), &req, &rep);
    if (!rc) {
        out->exists = rep.info.exists;
        out->directory = rep.info.directory;
        out->size = rep.info.size;
        out->atime_ns = rep.info.atime_ns;
        out->mtime_ns = rep.info.mtime_ns;
    }
    bs__reply_clear(&rep);
    return rc;
}

static int remote_load(bs_backend *b, const char *name, int64_t offset, int64_t size,
                       uint8_t **out, size_t *out_len)
{
    bs__req req = {.method = BS_M_LOAD, .name = name, .offset = offset, .size = size};
    bs__reply rep;
    int rc = call(R(b), &req, &rep);
    if (!rc) {
        *out = rep.value; /* the buffer the value landed in, handed over */
        *out_len = rep.value_len;
        rep.value = NULL;
    }
    bs__reply_clear(&rep);
    return rc;
}

/* What the server said in hello it sends per value at most (0 before). */
static uint64_t remote_value_limit(bs_backend *b)
{
    remote *rb = R(b);
    return rb->rpc && !bs__rpc_broken(rb->rpc) ? bs__rpc_server(rb->rpc)->max_value : 0;
}

static int remote_store(bs_backend *b, const char *name, const void *data, size_t len)
{
    remote *rb = R(b);
    if (rb->rpc && !bs__rpc_broken(rb->rpc) && len > bs__rpc_server(rb->rpc)->max_value)
        return bs__error_set(BS_ERR_INVALID,
                             "%s: %zu bytes exceed the server's limit of %llu bytes per value "
                             "(borgstore-serve --max-value raises it, up to 16 GiB)",
                             name, len,
                             (unsigned long long)bs__rpc_server(rb->rpc)->max_value);
    bs__req req = {.method = BS_M_STORE, .name = name, .data = data, .data_len = len,
                   .has_data = true};
    bs__reply rep;
    int rc = call(rb, &req, &rep);
    bs__reply_clear(&rep);
    return rc;
}

/* A store from a reader, sent chunk by chunk (bs__rpc_store_from): memory
 * stays at one frame. Not repeated after a lost connection or a value
 * corrupted in transit, as store is: the reader cannot be rewound. */
static int remote_store_from(bs_backend *b, const char *name, uint64_t len, bs_read_fn read,
                             void *ctx)
{
    remote *rb = R(b);
    int reconnects = 0;
    int rc = ensure(rb, &reconnects, 0);
    if (rc) return rc;
    uint64_t max = bs__rpc_server(rb->rpc)->max_value;
    if (len > max) /* refused before a byte is read or sent */
        return bs__error_set(BS_ERR_INVALID,
                             "%s: %llu bytes exceed the server's limit of %llu bytes per value "
                             "(borgstore-serve --max-value raises it, up to 16 GiB)",
                             name, (unsigned long long)len, (unsigned long long)max);
    uint32_t id;
    bs__reply rep;
    memset(&rep, 0, sizeof rep);
    rc = bs__rpc_store_from(rb->rpc, name, len, read, ctx, &id);
    if (!rc) rc = bs__rpc_wait(rb->rpc, id, &rep);
    rb->last_used = now_ms();
    bs__reply_clear(&rep);
    if (rc && bs__rpc_broken(rb->rpc)) drop(rb);
    return rc;
}

static int remote_move(bs_backend *b, const char *cur, const char *dst)
{
    bs__req req = {.method = BS_M_MOVE, .name = cur, .dst = dst};
    bs__reply rep;
    int rc = call(R(b), &req, &rep);
    bs__reply_clear(&rep);
    return rc;
}

static int remote_hash(bs_backend *b, const char *name, bs_hash_alg alg,
                       char hex[BS_HASH_HEX_SIZE])
{
    bs__req req = {.method = BS_M_HASH, .name = name, .alg = bs_hash_alg_name(alg)};
    bs__reply rep;
    int rc = call(R(b), &req, &rep);
    if (!rc) memcpy(hex, rep.hex, BS_HASH_HEX_SIZE);
    bs__reply_clear(&rep);
    return rc;
}

static int remote_defrag(bs_backend *b, const bs_defrag_source *src, size_t n,
                         const char *target, bs_hash_alg alg, const char *ns, int levels,
                         char out_name[BS_NAME_BUF])
{
    remote *rb = R(b);
    uint32_t max = rb->rpc && !bs__rpc_broken(rb->rpc) ? bs__rpc_server(rb->rpc)->max_defrag
                                                         : BS_DEFRAG_MAX;
    if (n > max) return bs__error_set(BS_ERR_INVALID, "%zu defrag blocks exceed the limit %u", n, max);
    bs__req req = {.method = BS_M_DEFRAG, .sources = src, .n_sources = n, .target = target,
                   .alg = bs_hash_alg_name(alg), .ns = ns && *ns ? ns : NULL,
                   .levels = (uint32_t)levels};
    bs__reply rep;
    int rc = call(rb, &req, &rep);
    if (!rc) memcpy(out_name, rep.name, BS_NAME_BUF);
    bs__reply_clear(&rep);
    return rc;
}

static int remote_quota(bs_backend *b, bs_quota *out)
{
    bs__req req = {.method = BS_M_QUOTA};
    bs__reply rep;
    int rc = call(R(b), &req, &rep);
    if (!rc) *out = rep.quota;
    bs__reply_clear(&rep);
    return rc;
}

/* ---- listing ---------------------------------------------------------- */

#define LIST_EMPTY_PAGES_MAX 16 /* empty pages with a cursor followed in a row */

typedef struct rlist {
    bs_list_iter base;
    remote *rb;
    char dir[BS_NAME_BUF];
    bs_item_info *entries;
    size_t n, pos;
    bool more;
    uint64_t cursor, gen;
    char last[BS_NAME_BUF];
} rlist;

static void take_page(rlist *it, bs__reply *rep)
{
    free(it->entries);
    it->entries = rep->entries;
    it->n = rep->n_entries;
    it->pos = 0;
    it->more = rep->has_cursor;
    it->cursor = rep->cursor;
    it->gen = it->rb->gen;
    rep->entries = NULL;
}

static int fetch_page(rlist *it)
{
    remote *rb = it->rb;
    bs__reply rep;
    int rc;
    if (rb->rpc && !bs__rpc_broken(rb->rpc) && rb->gen == it->gen) {
        bs__req req = {.method = BS_M_LIST_NEXT, .cursor = it->cursor};
        rc = bs__rpc_call(rb->rpc, &req, &rep);
        rb->last_used = now_ms();
        if (!rc) {
            take_page(it, &rep);
            return 0;
        }
        bs__reply_clear(&rep);
        if (bs__rpc_broken(rb->rpc)) drop(rb);
        else if (rc != BS_ERR_INVALID) return rc; /* INVALID: cursor expired, resume below */
    }
    /* a new connection or an expired cursor: list again after the last name */
    bs__req req = {.method = BS_M_LIST, .name = it->dir, .after = it->last[0] ? it->last : NULL};
    rc = call(rb, &req, &rep);
    if (!rc) take_page(it, &rep);
    bs__reply_clear(&rep);
    return rc;
}

static int rlist_next(bs_list_iter *bit, bs_item_info *out)
{
    rlist *it = (rlist *)bit;
    /* a server may cut a page short, but pages without entries that still
     * carry a cursor are followed only so often: a hostile server could
     * otherwise keep the caller here forever */
    unsigned empty = 0;
    while (it->pos >= it->n) {
        if (!it->more) return 0;
        if (empty++ == LIST_EMPTY_PAGES_MAX)
            return bs__error_set(BS_ERR_PROTOCOL, "borgstore-serve sent %d empty list pages "
                                 "in a row, each with a cursor", LIST_EMPTY_PAGES_MAX);
        int rc = fetch_page(it);
        if (rc) return rc;
    }
    *out = it->entries[it->pos++];
    memcpy(it->last, out->name, sizeof it->last);
    return 1;
}

static void rlist_end(bs_list_iter *bit)
{
    rlist *it = (rlist *)bit;
    remote *rb = it->rb;
    if (it->more && rb->rpc && !bs__rpc_broken(rb->rpc) && rb->gen == it->gen) {
        /* abandoned early: free the server's cursor (a round trip, but not
         * a discarded call whose failure would count at the next flush) */
        bs__req req = {.method = BS_M_LIST_END, .cursor = it->cursor};
        bs__reply rep;
        bs__rpc_call(rb->rpc, &req, &rep);
        bs__reply_clear(&rep);
    }
    free(it->entries);
    free(it);
}

static int remote_list_begin(bs_backend *b, const char *name, bs_list_iter **out)
{
    rlist *it = calloc(1, sizeof *it);
    if (!it) return bs__error_set(BS_ERR_NOMEM, NULL);
    it->base.next = rlist_next;
    it->base.end = rlist_end;
    it->rb = R(b);
    snprintf(it->dir, sizeof it->dir, "%s", name);
    bs__req req = {.method = BS_M_LIST, .name = name};
    bs__reply rep;
    int rc = call(R(b), &req, &rep);
    if (rc) {
        bs__reply_clear(&rep);
        free(it);
        return rc;
    }
    take_page(it, &rep);
    bs__reply_clear(&rep);
    *out = &it->base;
    return 0;
}

static void remote_free(bs_backend *b)
{
    remote *rb = R(b);
    bs__rpc_free(rb->rpc);
    free(rb->path);
    free(rb->user);
    free(rb->host);
    free(rb->ssh_config);
    free(rb->permissions);
    free(rb);
}

/* ---- batches: many operations in flight on one connection --------------- */

#define F_REPEATED 1   /* sent again after a lost connection */
#define F_REHASHED 2   /* sent again after an integrity error */

static void op_req(const bs_op *op, bs__req *r)
{
    memset(r, 0, offsetof(bs__req, name_buf));
    r->name = op->name;
    r->size = BS_SIZE_ALL;
    switch (op->kind) {
    case BS_OP_INFO: r->method = BS_M_INFO; break;
    case BS_OP_LOAD:
        r->method = BS_M_LOAD;
        r->offset = op->offset;
        r->size = op->size;
        break;
    case BS_OP_STORE:
        r->method = BS_M_STORE;
        r->data = op->data;
        r->data_len = op->len;
        r->has_data = true;
        break;
    case BS_OP_DELETE: r->method = BS_M_DELETE; break;
    case BS_OP_MOVE:
        r->method = BS_M_MOVE;
        r->dst = op->dst;
        break;
    }
}

static size_t remote_window(bs_backend *b)
{
    remote *rb = R(b);
    if (rb->rpc && !bs__rpc_broken(rb->rpc)) return bs__rpc_server(rb->rpc)->max_inflight;
    return BS_INFLIGHT_DEFAULT;
}

static int remote_batch(bs_backend *b, const bs_op *ops, size_t n, size_t window, bs_op_cb cb,
                        void *ctx)
{
    remote *rb = R(b);
    int reconnects = 0, rc = 0, last = 0;
    if ((rc = ensure(rb, &reconnects, 0))) return rc;
    if (window > bs__rpc_server(rb->rpc)->max_inflight)
        window = bs__rpc_server(rb->rpc)->max_inflight;
    uint8_t *flags = calloc(n ? n : 1, 1);
    size_t *redo = malloc((window + 1) * sizeof *redo); /* ops to send again */
    if (!flags || !redo) {
        free(flags);
        free(redo);
        return bs__error_set(BS_ERR_NOMEM, NULL);
    }
    size_t next = 0, inflight = 0, nredo = 0;
    bool stop = false;
    while (inflight || (!stop && (next < n || nredo))) {
        if (!stop && (next < n || nredo) && inflight < window &&
            (!rb->rpc || !bs__rpc_broken(rb->rpc) || !inflight)) {
            if ((rc = ensure(rb, &reconnects, last))) break;
            size_t index = nredo ? redo[--nredo] : next++;
            bs__req req;
            uint32_t id;
            op_req(&ops[index], &req);
            rc = bs__rpc_submit(rb->rpc, &req, &id);
            if (rc) {
                if (!bs__rpc_broken(rb->rpc) || !transient(rc)) break;
                flags[index] |= F_REPEATED; /* never sent: just send it again */
                redo[nredo++] = index;
                last = rc;
                rc = 0;
                continue;
            }
            bs__rpc_set_tag(rb->rpc, id, index);
            inflight++;
            continue;
        }
        uint32_t id;
        int prc = bs__rpc_poll(rb->rpc, &id, -1);
        if (prc != 1) { /* cannot happen while calls are in flight */
            rc = prc ? prc : bs__error_set(BS_ERR_PROTOCOL, "batch lost track of its calls");
            break;
        }
        bs__reply rep;
        int orc = bs__rpc_wait(rb->rpc, id, &rep);
        size_t index = (size_t)rep.tag;
        const bs_op *op = &ops[index];
        inflight--;
        rb->last_used = now_ms();
        if (orc && transient(orc) && bs__rpc_broken(rb->rpc)) { /* lost with the connection */
            bs__reply_clear(&rep);
            last = orc;
            if (!stop) {
                flags[index] |= F_REPEATED;
                redo[nredo++] = index;
            }
            if (!inflight) drop(rb);
            continue;
        }
        if (orc == BS_ERR_INTEGRITY && !(flags[index] & F_REHASHED) && !stop &&
            (op->kind == BS_OP_LOAD || op->kind == BS_OP_STORE)) {
            bs__reply_clear(&rep);
            flags[index] |= F_REHASHED;
            redo[nredo++] = index;
            continue;
        }
        if (orc == BS_ERR_NOT_FOUND && (flags[index] & F_REPEATED) &&
            (op->kind == BS_OP_DELETE || op->kind == BS_OP_MOVE))
            orc = 0; /* the lost first attempt did it */
        if (!orc) reconnects = 0;
        if (stop) {
            bs__reply_clear(&rep);
            continue;
        }
        bs_op_result res = {.rc = orc, .message = orc ? bs_error_message() : NULL};
        if (!orc && op->kind == BS_OP_INFO) {
            res.info = rep.info;
            const char *slash = strrchr(op->name, '/');
            snprintf(res.info.name, sizeof res.info.name, "%s", slash ? slash + 1 : op->name);
        }
        if (!orc && op->kind == BS_OP_LOAD) {
            res.data = rep.value;
            res.len = rep.value_len;
            rep.value = NULL;
        }
        if (cb(ctx, index, &res)) stop = true;
        free(res.data); /* unless the callback took it */
        bs__reply_clear(&rep);
    }
    free(flags);
    free(redo);
    if (rc) return rc;
    return stop ? bs__error_set(BS_ERR_INVALID, "batch stopped by its callback") : 0;
}

/* Fire and forget: the value is copied into the output queue, the reply is
 * dropped on arrival and a failure kept for flush. */
static int remote_submit(bs_backend *b, const bs_op *op)
{
    remote *rb = R(b);
    int reconnects = 0, rc = 0;
    bs__req req;
    op_req(op, &req);
    for (;;) {
        if ((rc = ensure(rb, &reconnects, rc))) return rc;
        uint32_t id;
        rc = bs__rpc_submit_ex(rb->rpc, &req, true, &id);
        rb->last_used = now_ms();
        if (!rc) {
            bs__rpc_discard(rb->rpc, id);
            return 0;
        }
        if (!bs__rpc_broken(rb->rpc) || !transient(rc)) return rc;
        drop(rb); /* it was not sent: send it on a new connection */
    }
}

static int remote_flush(bs_backend *b, size_t *failed)
{
    remote *rb = R(b);
    if (failed) *failed = 0;
    if (rb->rpc) {
        bs__rpc_drain(rb->rpc); /* failures, the connection's too, are counted */
        if (bs__rpc_broken(rb->rpc)) drop(rb);
        else harvest(rb);
    }
    if (!rb->parked_failed) return 0;
    if (failed) *failed = rb->parked_failed;
    int rc = bs__error_set_raw(rb->parked_rc, 0, rb->parked_msg);
    rb->parked_failed = 0;
    rb->parked_rc = 0;
    return rc;
}

static const bs_backend_ops remote_ops = {
    .version = BS_BACKEND_OPS_VERSION,
    .scheme = "remote",
    .create = remote_create,
    .destroy = remote_destroy,
    .open = remote_open,
    .close = remote_close,
    .mkdir = remote_mkdir,
    .rmdir = remote_rmdir,
    .info = remote_info,
    .load = remote_load,
    .store = remote_store,
    .store_from = remote_store_from,
    .delete = remote_delete,
    .move = remote_move,
    .list_begin = remote_list_begin,
    .hash = remote_hash,
    .defrag = remote_defrag,
    .quota = remote_quota,
    .free = remote_free,
    .window = remote_window,
    .batch = remote_batch,
    .submit = remote_submit,
    .flush = remote_flush,
    .value_limit = remote_value_limit,
};

int bs__remote_new(bs_backend **out, const char *url, const bs_backend_config *cfg)
{
    *out = NULL;
    bs_url u;
    int rc = bs__url_parse(&u, url);
    if (rc) return rc;
    bool ssh = !strcmp(u.scheme, "ssh");
    if (!ssh && strcmp(u.scheme, "serve")) {
        bs__url_clear(&u);
        return bs__error_set(BS_ERR_URL_INVALID, "not a serve:// or ssh:// URL: %s", url);
    }
    if (ssh && (u.host[0] == '-' || (u.user && u.user[0] == '-'))) {
        bs__url_clear(&u);
        return bs__error_set(BS_ERR_URL_INVALID, "host or user may not start with '-': %s", url);
    }
    remote *rb = calloc(1, sizeof *rb);
    if (!rb) {
        bs__url_clear(&u);
        return bs__error_set(BS_ERR_NOMEM, NULL);
    }
    rb->base.ops = &remote_ops;
    rb->ssh = ssh;
    rb->path = u.path;
    rb->user = u.user;
    rb->host = u.host;
    rb->port = u.port;
    u.path = u.user = u.host = NULL;
    bs__url_clear(&u);
    const char *sshcfg = cfg->ssh_config ? cfg->ssh_config : getenv("BORGSTORE_SSH_CONFIG");
    if (sshcfg && *sshcfg) rb->ssh_config = strdup(sshcfg);
    if (cfg->permissions && *cfg->permissions) rb->permissions = strdup(cfg->permissions);
    rb->quota = cfg->quota;
    rb->tries = env_int("BORGSTORE_RETRIES", DEFAULT_TRIES, 0, 100);
    rb->delay_ms = env_ms("BORGSTORE_RETRY_DELAY", DEFAULT_DELAY_MS);
    rb->timeout_ms = env_ms("BORGSTORE_TIMEOUT", DEFAULT_TIMEOUT_MS);
    if (rb->timeout_ms <= 0) rb->timeout_ms = DEFAULT_TIMEOUT_MS;
    rb->idle_ms = env_ms("BORGSTORE_PING_INTERVAL", DEFAULT_IDLE_MS);
    const char *lvl = getenv("BORGSTORE_REMOTE_LOG_LEVEL");
    rb->log_level = BS_LOG_WARNING;
    if (lvl) {
        static const struct { const char *n; int l; } names[] = {
            {"debug", BS_LOG_DEBUG}, {"info", BS_LOG_INFO}, {"warning", BS_LOG_WARNING},
            {"error", BS_LOG_ERROR}, {"critical", BS_LOG_CRITICAL}};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (!strcmp(lvl, names[i].n)) rb->log_level = names[i].l;
    }
    if (!rb->path || (ssh && !rb->host)) {
        remote_free(&rb->base);
        return bs__error_set(BS_ERR_NOMEM, NULL);
    }
    *out = &rb->base;
    return 0;
}
