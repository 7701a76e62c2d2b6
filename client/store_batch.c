/* Store batches and fire-and-forget operations: names are mapped to backend
 * names a chunk at a time (memory bounded by the chunk, not by n), each
 * chunk runs as one backend batch with the window in flight, and every item
 * is counted in the stats as the single calls count it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cache.h"
#include "client/store_internal.h"
#include "common/error.h"
#include "common/names.h"

/* Items mapped and handed to the backend at once. Large enough that the
 * pipeline bubble at a chunk boundary (one round trip) is rare. */
#define CHUNK 4096

typedef struct batch_req {
    bs_op_kind kind;
    int stat_op;          /* OP_* counted per successful item */
    const char *const *names;
    const void *const *values;
    const size_t *lens;
    int64_t offset, size;
    bool deleted;         /* names are soft-deleted items */
    bs_move_mode mode;    /* BS_OP_MOVE */
} batch_req;

typedef struct chunk_ctx {
    bs_store *s;
    const batch_req *req;
    size_t base;          /* index of the chunk's first item */
    const size_t *index_of; /* op index -> item index in the chunk (NULL: same) */
    const bs_op *ops;
    bs_op_cb cb;
    void *ctx;
    int first_rc;         /* cb == NULL: first item error */
    char first_msg[512];
    uint64_t volume;      /* bytes moved by successful items */
} chunk_ctx;

/* Fills op for item i (global index) with its backend names in cur / dst. */
static int map_item(bs_store *s, const batch_req *r, size_t i, bs_op *op,
                    char cur[BS_NAME_BUF], char dst[BS_NAME_BUF])
{
    const char *name = r->names[i];
    if (!name) return bs__error_set(BS_ERR_INVALID, "batch name %zu is NULL", i);
    memset(op, 0, sizeof *op);
    op->kind = r->kind;
    op->name = cur;
    int rc;
    if (r->kind == BS_OP_MOVE) {
        bool src_deleted;
        rc = bs__store_move_names(s, name, NULL, r->mode, r->deleted, cur, dst, &src_deleted);
        op->dst = dst;
        return rc;
    }
    rc = bs__store_find_locked(s, name, r->kind == BS_OP_STORE ? false : r->deleted, cur);
    if (rc) return rc;
    if (r->kind == BS_OP_LOAD) {
        op->offset = r->offset;
        op->size = r->size;
    } else if (r->kind == BS_OP_STORE) {
        op->data = r->values[i];
        op->len = r->lens[i];
        if (!op->data && op->len) return bs__error_set(BS_ERR_INVALID, "NULL data for %s", name);
    }
    return 0;
}

/* Reports one item to the caller (or remembers the first failure). */
static int deliver(chunk_ctx *c, size_t index, bs_op_result *res)
{
    if (res->rc && !c->first_rc) {
        c->first_rc = res->rc;
        snprintf(c->first_msg, sizeof c->first_msg, "%s",
                 res->message ? res->message : bs_error_str(res->rc));
    }
    return c->cb ? c->cb(c->ctx, index, res) : 0;
}

static int on_result(void *ctx, size_t index, bs_op_result *res)
{
    chunk_ctx *c = ctx;
    bs_store *s = c->s;
    const batch_req *r = c->req;
    size_t global = c->base + (c->index_of ? c->index_of[index] : index);
    const bs_op *op = &c->ops[index];
    size_t full = res->len;
    if (r->kind == BS_OP_LOAD && !res->rc)
        bs__cache_batch_loaded(s->cache, r->names[global], op->name, r->offset, r->size, res);
    if (!res->rc) {
        s->calls[r->stat_op]++;
        if (r->kind == BS_OP_LOAD) {
            s->be_load_calls++;
            s->be_load_volume += full;
            s->load_volume += res->len;
            c->volume += full;
        } else if (r->kind == BS_OP_STORE) {
            s->be_store_calls++;
            s->be_store_volume += r->lens[global];
            s->store_volume += r->lens[global];
            c->volume += r->lens[global];
            bs__cache_after_store(s->cache, r->names[global], op->name, r->values[global],
                                  r->lens[global]);
        } else if (r->kind == BS_OP_DELETE) {
            s->be_delete_calls++;
            bs__cache_after_delete(s->cache, r->names[global], op->name);
        } else if (r->kind == BS_OP_MOVE) {
            bs__cache_after_move(s->cache, r->names[global], NULL, op->name, op->dst);
        } else if (r->kind == BS_OP_INFO) {
            /* report the key, without nesting directories or ".del" */
            const char *name = r->names[global];
            const char *slash = strrchr(name, '/');
            snprintf(res->info.name, sizeof res->info.name, "%s", slash ? slash + 1 : name);
        }
    }
    return deliver(c, global, res);
}

/* A load answered by the cache: counted as the Store's load, reported. */
static int deliver_hit(chunk_ctx *c, size_t index, bs_op_result *res)
{
    c->s->calls[OP_LOAD]++;
    c->s->load_volume += res->len;
    int stop = deliver(c, index, res);
    bs_free(res->data); /* unless the callback took it */
    return stop;
}

/* Runs a whole request chunk by chunk under the store's mutex. */
static int run_batch(bs_store *s, const batch_req *r, size_t n, size_t window, bs_op_cb cb,
                     void *ctx)
{
    if (n && !r->names) return bs__error_set(BS_ERR_INVALID, "batch names are NULL");
    size_t chunk_cap = n < CHUNK ? n : CHUNK;
    chunk_ctx c = {.s = s, .req = r, .cb = cb, .ctx = ctx};
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    if (s->batch_cap < chunk_cap) {
        /* grown once, kept by the store (reused by every later batch) */
        bs_op *o = realloc(s->batch_ops, chunk_cap * sizeof *o);
        if (o) s->batch_ops = o;
        char (*nm)[BS_NAME_BUF] = realloc(s->batch_names, chunk_cap * 2 * BS_NAME_BUF);
        if (nm) s->batch_names = nm;
        if (!o || !nm) {
            pthread_mutex_unlock(&s->mu);
            return bs__error_set(BS_ERR_NOMEM, NULL);
        }
        s->batch_cap = chunk_cap;
    }
    bs_op *ops = s->batch_ops;
    char (*names)[BS_NAME_BUF] = s->batch_names;
    if (!window) window = bs_backend_window(s->b);
    for (size_t base = 0; base < n && !rc; base += chunk_cap) {
        size_t m = n - base < chunk_cap ? n - base : chunk_cap;
        uint64_t start = bs__store_now_ns();
        /* Items that cannot even be mapped (bad name) fail on their own. */
        size_t k = 0;
        size_t *index_of = NULL;
        for (size_t i = 0; i < m; i++) {
            int mrc = map_item(s, r, base + i, &ops[k], names[2 * k], names[2 * k + 1]);
            /* cache hits are answered now, misses of cached namespaces
             * widened to whole values */
            bs_op_result hit = {0};
            int h = !mrc && r->kind == BS_OP_LOAD &&
                    bs__cache_batch_prepare(s->cache, r->names[base + i], &ops[k], r->offset,
                                            r->size, &hit);
            if (mrc || h) {
                bs_op_result res = {.rc = mrc, .message = bs_error_message()};
                if (h ? deliver_hit(&c, base + i, &hit) : deliver(&c, base + i, &res)) {
                    rc = bs__error_set(BS_ERR_INVALID, "batch stopped by its callback");
                    break;
                }
                if (!index_of) {
                    /* from now on the chunk's op indexes differ from items' */
                    index_of = malloc(m * sizeof *index_of);
                    if (!index_of) {
                        rc = bs__error_set(BS_ERR_NOMEM, NULL);
                        break;
                    }
                    for (size_t j = 0; j < k; j++) index_of[j] = j;
                }
                continue;
            }
            if (index_of) index_of[k] = i;
            k++;
        }
        if (!rc && k) {
            c.base = base;
            c.volume = 0;
            c.index_of = index_of; /* set when some items were answered already */
            c.ops = ops;
            rc = bs_backend_batch(s->b, ops, k, window, on_result, &c);
            /* emulated latency once per window, bandwidth for the volume */
            bs__store_emulate_calls(s, start, (k + window - 1) / window, c.volume);
            s->time_ns[r->stat_op] += bs__store_now_ns() - start;
        }
        free(index_of);
    }
    pthread_mutex_unlock(&s->mu);
    if (!rc && !cb && c.first_rc) rc = bs__error_set_raw(c.first_rc, 0, c.first_msg);
    return rc;
}

int bs_store_load_many(bs_store *s, const char *const *names, size_t n, int64_t offset,
                       int64_t size, bool deleted, size_t window, bs_op_cb cb, void *ctx)
{
    if (!cb) return bs__error_set(BS_ERR_INVALID, "load batches need a callback");
    batch_req r = {.kind = BS_OP_LOAD, .stat_op = OP_LOAD, .names = names, .offset = offset,
                   .size = size, .deleted = deleted};
    return run_batch(s, &r, n, window, cb, ctx);
}

int bs_store_info_many(bs_store *s, const char *const *names, size_t n, bool deleted,
                       size_t window, bs_op_cb cb, void *ctx)
{
    if (!cb) return bs__error_set(BS_ERR_INVALID, "info batches need a callback");
    batch_req r = {.kind = BS_OP_INFO, .stat_op = OP_INFO, .names = names, .deleted = deleted};
    return run_batch(s, &r, n, window, cb, ctx);
}

int bs_store_store_many(bs_store *s, const char *const *names, const void *const *values,
                        const size_t *lens, size_t n, size_t window, bs_op_cb cb, void *ctx)
{
    if (n && (!values || !lens)) return bs__error_set(BS_ERR_INVALID, "store batch without values");
    batch_req r = {.kind = BS_OP_STORE, .stat_op = OP_STORE, .names = names, .values = values,
                   .lens = lens};
    return run_batch(s, &r, n, window, cb, ctx);
}

int bs_store_delete_many(bs_store *s, const char *const *names, size_t n, bool deleted,
                         size_t window, bs_op_cb cb, void *ctx)
{
    batch_req r = {.kind = BS_OP_DELETE, .stat_op = OP_DELETE, .names = names,
                   .deleted = deleted};
    return run_batch(s, &r, n, window, cb, ctx);
}

int bs_store_move_many(bs_store *s, const char *const *names, size_t n, bs_move_mode mode,
                       bool deleted, size_t window, bs_op_cb cb, void *ctx)
{
    if (mode != BS_MOVE_SOFT_DELETE && mode != BS_MOVE_UNDELETE && mode != BS_MOVE_CHANGE_LEVEL)
        return bs__error_set(BS_ERR_INVALID, "move batches do soft delete, undelete or change level");
    batch_req r = {.kind = BS_OP_MOVE, .stat_op = OP_MOVE, .names = names, .deleted = deleted,
                   .mode = mode};
    return run_batch(s, &r, n, window, cb, ctx);
}

/* ---- fire and forget ---------------------------------------------------- */

int bs_store_store_async(bs_store *s, const char *name, const void *data, size_t len)
{
    if (!data && len) return bs__error_set(BS_ERR_INVALID, "NULL data for %s", name);
    char nested[BS_NAME_BUF];
    uint64_t start = bs__store_call_begin(s);
    int rc = bs__store_find_locked(s, name, false, nested);
    if (!rc) {
        bs_op op = {.kind = BS_OP_STORE, .name = nested, .data = data, .len = len};
        rc = bs_backend_submit(s->b, &op);
    }
    /* counted when sent: the outcome comes with bs_store_flush */
    if (!rc) s->be_store_calls++;
    /* not cached before the store confirmed it: the old entry just goes */
    if (!rc) bs__cache_after_delete(s->cache, name, nested);
    return bs__store_call_end(s, rc, OP_STORE, start, start, len);
}

int bs_store_delete_async(bs_store *s, const char *name, bool deleted)
{
    char nested[BS_NAME_BUF];
    uint64_t start = bs__store_call_begin(s);
    int rc = bs__store_find_locked(s, name, deleted, nested);
    if (!rc) {
        bs_op op = {.kind = BS_OP_DELETE, .name = nested};
        rc = bs_backend_submit(s->b, &op);
    }
    if (!rc) s->be_delete_calls++;
    if (!rc) bs__cache_after_delete(s->cache, name, nested);
    return bs__store_call_end(s, rc, OP_DELETE, start, start, 0);
}

int bs_store_flush(bs_store *s, size_t *failed)
{
    pthread_mutex_lock(&s->mu);
    int rc = bs_backend_flush(s->b, failed);
    pthread_mutex_unlock(&s->mu);
    return rc;
}
