/* Batches for the S3 backend: up to BS_S3_WINDOW requests in flight through
 * libcurl's multi interface, each on a pooled easy handle that keeps its
 * connection. An operation is one request (info: HEAD, load: ranged GET,
 * store: PUT) or two (delete: HEAD then DELETE, since S3 deletes missing
 * keys silently; move: copy then DELETE). What needs more (a directory's
 * info, loads from the end, multipart stores) or fails in a way worth
 * retrying (5xx, SlowDown, a dropped connection) is done afterwards by the
 * single-item slots, which retry with backoff. */
#include <stdlib.h>
#include <string.h>

#include "backends/s3/s3_internal.h"
#include "backends/s3/s3_xml.h"
#include "common/error.h"

typedef struct sop {
    const bs_op *op;
    size_t index;
    int step;          /* 0: the first request, 1: the DELETE of delete/move */
    CURL *h;
    struct curl_slist *hdrs;
    bs_s3_resp r;
    char *key, *key2;
    char range[64];
    bool slow;         /* left to the single-item slots */
    bool cut;          /* its DELETE was sent when the connection dropped */
} sop;

typedef struct sbatch {
    s3fs *s;
    bs_op_cb cb;
    void *ctx;
    CURL *free_h[BS_S3_WINDOW];
    size_t n_free, active;
    bool stopped;
} sbatch;

size_t bs__s3_window(bs_backend *b)
{
    (void)b;
    return BS_S3_WINDOW;
}

void bs__s3_batch_free(s3fs *s)
{
    if (s->multi) curl_multi_cleanup(s->multi);
    for (size_t i = 0; i < BS_S3_WINDOW; i++)
        if (s->pool[i]) curl_easy_cleanup(s->pool[i]);
    s->multi = NULL;
    memset(s->pool, 0, sizeof s->pool);
}

static void report(sbatch *B, sop *o, int rc, const bs_item_info *info, uint8_t *data,
                   size_t len)
{
    bs_op_result res = {.rc = rc, .data = data, .len = len};
    if (rc) res.message = bs_error_message();
    if (info) res.info = *info;
    if (!B->stopped && B->cb(B->ctx, o->index, &res)) B->stopped = true;
    free(res.data);
}

/* Sends o's current step. 0, or an error about building it. */
static int send_step(sbatch *B, sop *o)
{
    const bs_op *op = o->op;
    bs_s3_req q = {.key = o->key};
    switch (op->kind) {
    case BS_OP_INFO: q.method = "HEAD"; break;
    case BS_OP_LOAD:
        q.method = "GET";
        q.limit = SIZE_MAX;
        if (bs__s3_range_header(o->range, op->offset, op->size)) q.range = o->range;
        break;
    case BS_OP_STORE:
        q.method = "PUT";
        q.body = op->data;
        q.body_len = op->len;
        break;
    case BS_OP_DELETE: q.method = o->step ? "DELETE" : "HEAD"; break;
    case BS_OP_MOVE:
        if (o->step) {
            q.method = "DELETE";
        } else {
            q.method = "PUT";
            q.key = o->key2;
            q.copy_source = o->key;
        }
        break;
    }
    bs__s3_resp_free(&o->r);
    memset(&o->r, 0, sizeof o->r);
    curl_slist_free_all(o->hdrs);
    o->hdrs = NULL;
    int rc = bs__s3_prepare(&B->s->http, o->h, &q, &o->r, &o->hdrs);
    if (rc) return rc;
    curl_easy_setopt(o->h, CURLOPT_PRIVATE, (char *)o);
    if (curl_multi_add_handle(B->s->multi, o->h) != CURLM_OK)
        return bs__error_set(BS_ERR_NOMEM, "s3: libcurl");
    return 0;
}

/* Starts o: what cannot go in one or two plain requests is left slow. */
static int start_op(sbatch *B, sop *o)
{
    const bs_op *op = o->op;
    s3fs *s = B->s;
    if ((op->kind == BS_OP_LOAD && (op->offset < 0 || op->size == 0)) ||
        (op->kind == BS_OP_STORE && op->len > s->part_size)) {
        o->slow = true;
        return 0;
    }
    int rc = 0;
    if (op->kind == BS_OP_STORE) rc = bs__s3_ensure_parent(s, op->name);
    if (op->kind == BS_OP_MOVE) rc = bs__s3_ensure_parent(s, op->dst);
    if (rc) return rc;
    o->key = bs__s3_key(s, op->name);
    if (op->kind == BS_OP_MOVE) o->key2 = bs__s3_key(s, op->dst);
    if (!o->key || (op->kind == BS_OP_MOVE && !o->key2)) return bs__error_set(BS_ERR_NOMEM, NULL);
    return send_step(B, o);
}

/* After o's request ended: true when o is finished (reported or left
 * slow), false when its next step was sent. */
static bool step_done(sbatch *B, sop *o, CURLcode cc)
{
    s3fs *s = B->s;
    const bs_op *op = o->op;
    curl_multi_remove_handle(s->multi, o->h);
    int rc = bs__s3_conclude(&s->http, o->h, cc, &o->r, "batch");
    if (rc == BS_ERR_CONNECTION || (!rc && bs__s3_retryable(&s->http, &o->r))) {
        o->slow = true;
        o->cut = o->step == 1;
        return true;
    }
    if (rc) {
        report(B, o, rc, NULL, NULL, 0);
        return true;
    }
    long st = o->r.status;
    switch (op->kind) {
    case BS_OP_INFO:
        if (st == 200) {
            bs_item_info info = {.exists = true, .size = o->r.length > 0 ? (uint64_t)o->r.length : 0,
                                 .mtime_ns = o->r.mtime_ns};
            const char *slash = strrchr(op->name, '/');
            snprintf(info.name, sizeof info.name, "%s", slash ? slash + 1 : op->name);
            report(B, o, 0, &info, NULL, 0);
        } else if (st == 404) {
            o->slow = true; /* a directory, or nothing: the slot knows */
        } else {
            report(B, o, bs__s3_error(&o->r, "info", op->name), NULL, NULL, 0);
        }
        return true;
    case BS_OP_LOAD: {
        uint8_t *data = NULL;
        size_t len = 0;
        rc = bs__s3_load_reply(&o->r, op->offset, op->size, op->name, &data, &len);
        report(B, o, rc, NULL, data, len);
        return true;
    }
    case BS_OP_STORE:
        report(B, o, st / 100 == 2 ? 0 : bs__s3_error(&o->r, "store", op->name), NULL, NULL, 0);
        return true;
    case BS_OP_DELETE:
    case BS_OP_MOVE:
        if (o->step == 1) {
            rc = st / 100 == 2 || st == 404 ? 0 : bs__s3_error(&o->r, "batch", op->name);
            report(B, o, rc, NULL, NULL, 0);
            return true;
        }
        if (st != 200) {
            report(B, o, bs__s3_error(&o->r, op->kind == BS_OP_MOVE ? "move" : "delete", op->name),
                   NULL, NULL, 0);
            return true;
        }
        if (op->kind == BS_OP_MOVE) {
            bs_s3_span in = {(const char *)o->r.body.data, o->r.body.len}, e;
            if (bs__s3_xml_next(&in, "Error", &e)) {
                report(B, o, bs__error_set(BS_ERR_IO, "s3: move %s: copy failed", op->name),
                       NULL, NULL, 0);
                return true;
            }
            if (!strcmp(o->key, o->key2)) {
                report(B, o, 0, NULL, NULL, 0);
                return true;
            }
        }
        o->step = 1;
        rc = send_step(B, o);
        if (rc) {
            report(B, o, rc, NULL, NULL, 0);
            return true;
        }
        return false;
    }
    return true;
}

static void release(sop *o)
{
    curl_slist_free_all(o->hdrs);
    o->hdrs = NULL;
    bs__s3_resp_free(&o->r);
    free(o->key);
    free(o->key2);
    o->key = o->key2 = NULL;
}

int bs__s3_batch(bs_backend *b, const bs_op *ops, size_t n, size_t window, bs_op_cb cb,
                 void *ctx)
{
    s3fs *s = (s3fs *)b;
    if (!n) return 0;
    sop *os = calloc(n, sizeof *os);
    if (!os) return bs__error_set(BS_ERR_NOMEM, "batch of %zu operations", n);
    sbatch B = {.s = s, .cb = cb, .ctx = ctx};
    for (size_t i = 0; i < n; i++) os[i] = (sop){.op = &ops[i], .index = i};
    if (window > BS_S3_WINDOW) window = BS_S3_WINDOW;
    int rc = 0;
    if (!s->multi && !(s->multi = curl_multi_init())) rc = bs__error_set(BS_ERR_NOMEM, "s3: libcurl");
    for (size_t i = 0; !rc && i < window; i++) {
        if (!s->pool[i] && !(s->pool[i] = curl_easy_init()))
            rc = bs__error_set(BS_ERR_NOMEM, "s3: libcurl");
        else
            B.free_h[B.n_free++] = s->pool[i];
    }
    size_t next = 0;
    if (rc) { /* the single-item slots do it all */
        rc = 0;
        for (size_t i = 0; i < n; i++) os[i].slow = true;
        next = n;
    }
    for (;;) {
        while (!B.stopped && next < n && B.n_free) {
            sop *o = &os[next++];
            o->h = B.free_h[--B.n_free];
            int src = start_op(&B, o);
            if (src || o->slow) {
                if (src) report(&B, o, src, NULL, NULL, 0);
                release(o);
                B.free_h[B.n_free++] = o->h;
                continue;
            }
            B.active++;
        }
        if (!B.active) break;
        int running;
        curl_multi_perform(s->multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(s->multi, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            sop *o = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&o);
            if (!o || !step_done(&B, o, msg->data.result)) continue;
            release(o);
            B.free_h[B.n_free++] = o->h;
            B.active--;
        }
        if (B.active) curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
    }
    for (size_t i = 0; i < n && !rc && !B.stopped; i++)
        if (os[i].slow)
            rc = bs__backend_rerun_one(b, os[i].op, os[i].index, os[i].cut, cb, ctx, &B.stopped);
    if (!rc && B.stopped) rc = bs__error_set(BS_ERR_INVALID, "batch stopped by its callback");
    for (size_t i = 0; i < n; i++) release(&os[i]);
    free(os);
    return rc;
}
