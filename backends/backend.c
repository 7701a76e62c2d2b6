/* The public backend entry points: state checks and name validation done
 * once for every backend, then the backend's slot. Generic hash and defrag
 * for backends that do not provide their own. */
#include "backends/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/hashing.h"
#include "common/names.h"
#include "common/nesting.h"

void bs_free(void *p) { free(p); }

int bs_backend_new(bs_backend **out, const char *url, const bs_backend_config *cfg)
{
    *out = NULL;
    if (!url) return bs__error_set(BS_ERR_URL_INVALID, "no URL given");
    bs_backend_ctor ctor = bs__backend_ctor_for(url);
    if (!ctor) return bs__error_set(BS_ERR_URL_INVALID, "unknown or unsupported URL: %s", url);
    bs_backend_config defaults = {0};
    if (!cfg) cfg = &defaults;
    bs_backend *b = NULL;
    int rc = ctor(&b, url, cfg);
    if (rc) return rc;
    if (!b->ops || b->ops->version != BS_BACKEND_OPS_VERSION) {
        if (b->ops && b->ops->free) b->ops->free(b);
        return bs__error_set(BS_ERR_UNSUPPORTED, "backend for %s has an unknown ops version", url);
    }
    b->opened = false;
    b->parked_failed = 0;
    b->parked_rc = 0;
    *out = b;
    return 0;
}

void bs_backend_free(bs_backend *b)
{
    if (!b) return;
    if (b->opened) {
        b->ops->close(b);
        b->opened = false;
    }
    b->ops->free(b);
}

bool bs_backend_is_open(const bs_backend *b) { return b && b->opened; }

static int must_be_open(bs_backend *b)
{
    if (!b) return bs__error_set(BS_ERR_INVALID, "backend is NULL");
    if (!b->opened) return bs__error_set(BS_ERR_MUST_BE_OPEN, NULL);
    return 0;
}

static int must_not_be_open(bs_backend *b)
{
    if (!b) return bs__error_set(BS_ERR_INVALID, "backend is NULL");
    if (b->opened) return bs__error_set(BS_ERR_MUST_NOT_BE_OPEN, NULL);
    return 0;
}

/* Open, and name is a valid non-root item name. */
static int check_item(bs_backend *b, const char *name)
{
    int rc = must_be_open(b);
    if (rc) return rc;
    if ((rc = bs__name_validate(name))) return rc;
    if (!*name) return bs__error_set(BS_ERR_INVALID, "name must not be empty");
    return 0;
}

int bs_backend_create(bs_backend *b)
{
    int rc = must_not_be_open(b);
    return rc ? rc : b->ops->create(b);
}

int bs_backend_destroy(bs_backend *b)
{
    int rc = must_not_be_open(b);
    return rc ? rc : b->ops->destroy(b);
}

int bs_backend_open(bs_backend *b)
{
    int rc = must_not_be_open(b);
    if (rc) return rc;
    if ((rc = b->ops->open(b))) return rc;
    b->opened = true;
    return 0;
}

int bs_backend_close(bs_backend *b)
{
    int rc = must_be_open(b);
    if (rc) return rc;
    rc = b->ops->close(b);
    b->opened = false; /* closed even when closing reported a problem */
    return rc;
}

int bs_backend_mkdir(bs_backend *b, const char *name)
{
    int rc = check_item(b, name);
    return rc ? rc : b->ops->mkdir(b, name);
}

int bs_backend_rmdir(bs_backend *b, const char *name)
{
    int rc = check_item(b, name);
    return rc ? rc : b->ops->rmdir(b, name);
}

int bs_backend_info(bs_backend *b, const char *name, bs_item_info *out)
{
    memset(out, 0, sizeof *out);
    int rc = check_item(b, name);
    if (rc) return rc;
    if ((rc = b->ops->info(b, name, out))) return rc;
    const char *slash = strrchr(name, '/');
    snprintf(out->name, sizeof out->name, "%s", slash ? slash + 1 : name);
    return 0;
}

int bs__value_too_large(const char *what, const char *name, uint64_t size, uint64_t max)
{
    if (size == UINT64_MAX)
        return bs__error_set(BS_ERR_INVALID, "%s %s: more than the value limit (%llu bytes)",
                             what, name, (unsigned long long)max);
    return bs__error_set(BS_ERR_INVALID, "%s %s: %llu bytes exceed the value limit (%llu)", what,
                         name, (unsigned long long)size, (unsigned long long)max);
}

int bs_backend_load(bs_backend *b, const char *name, int64_t offset, int64_t size,
                    uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    int rc = check_item(b, name);
    if (rc) return rc;
    if (size < 0 && size != BS_SIZE_ALL)
        return bs__error_set(BS_ERR_INVALID, "negative size %lld", (long long)size);
    /* no byte lies at or past INT64_MAX: a range reaching there ends there,
     * so no backend ever computes an offset + size that overflows */
    if (offset >= 0 && size > 0 && offset > INT64_MAX - size) size = INT64_MAX - offset;
    if (b->value_max && (size == BS_SIZE_ALL || (uint64_t)size > b->value_max) &&
        strcmp(b->ops->scheme, "file") != 0) {
        /* the posix backend checks after its fstat; others ask first */
        bs_item_info info;
        if ((rc = b->ops->info(b, name, &info))) return rc;
        uint64_t start = offset >= 0 ? (uint64_t)offset
                         : (uint64_t)-offset > info.size ? 0 : info.size - (uint64_t)-offset;
        uint64_t avail = start < info.size ? info.size - start : 0;
        uint64_t want = size == BS_SIZE_ALL || (uint64_t)size > avail ? avail : (uint64_t)size;
        if (want > b->value_max) return bs__value_too_large("load", name, want, b->value_max);
    }
    int lrc = b->ops->load(b, name, offset, size, out, out_len);
    if (!lrc && b->value_max && *out_len > b->value_max) { /* it grew meanwhile */
        free(*out);
        *out = NULL;
        lrc = bs__value_too_large("load", name, *out_len, b->value_max);
        *out_len = 0;
    }
    return lrc;
}

int bs_backend_store(bs_backend *b, const char *name, const void *data, size_t len)
{
    int rc = check_item(b, name);
    if (rc) return rc;
    if (!data && len) return bs__error_set(BS_ERR_INVALID, "NULL data for %s", name);
    return b->ops->store(b, name, data ? data : "", len);
}

int bs__backend_store_from(bs_backend *b, const char *name, uint64_t len, bs_read_fn read,
                           void *ctx)
{
    int rc = check_item(b, name);
    if (rc) return rc;
    if (b->ops->store_from) return b->ops->store_from(b, name, len, read, ctx);
    if (len > SIZE_MAX) return bs__error_set(BS_ERR_NOMEM, "store %s: too large", name);
    uint8_t *buf = malloc(len ? (size_t)len : 1);
    if (!buf) return bs__error_set(BS_ERR_NOMEM, "store %s: %llu bytes", name,
                                   (unsigned long long)len);
    for (size_t have = 0, got; have < len && !rc; have += got)
        rc = read(ctx, buf + have, (size_t)len - have, &got);
    if (!rc) rc = b->ops->store(b, name, buf, (size_t)len);
    free(buf);
    return rc;
}

int bs__backend_load_to(bs_backend *b, const char *name, int64_t offset, int64_t size,
                        const bs_load_sink *sink)
{
    int rc = check_item(b, name);
    if (rc) return rc;
    if (size < 0 && size != BS_SIZE_ALL)
        return bs__error_set(BS_ERR_INVALID, "negative size for %s", name);
    if (offset >= 0 && size > 0 && offset > INT64_MAX - size) size = INT64_MAX - offset;
    if (b->ops->load_to) return b->ops->load_to(b, name, offset, size, sink);
    uint8_t *buf = NULL;
    size_t len = 0;
    rc = b->ops->load(b, name, offset, size, &buf, &len);
    if (!rc) rc = sink->begin(sink->ctx, len);
    if (!rc && len) rc = sink->data(sink->ctx, buf, len);
    free(buf);
    return rc;
}

int bs_backend_delete(bs_backend *b, const char *name)
{
    int rc = check_item(b, name);
    return rc ? rc : b->ops->delete(b, name);
}

int bs_backend_move(bs_backend *b, const char *cur, const char *dst)
{
    int rc = check_item(b, cur);
    if (!rc) rc = bs__name_validate(dst);
    if (!rc && !*dst) rc = bs__error_set(BS_ERR_INVALID, "target name must not be empty");
    return rc ? rc : b->ops->move(b, cur, dst);
}

int bs_backend_list_begin(bs_backend *b, const char *name, bs_list_iter **out)
{
    *out = NULL;
    int rc = must_be_open(b);
    if (!rc) rc = bs__name_validate(name);
    return rc ? rc : b->ops->list_begin(b, name, out);
}

int bs_backend_list_next(bs_list_iter *it, bs_item_info *out)
{
    memset(out, 0, sizeof *out);
    return it->next(it, out);
}

void bs_backend_list_end(bs_list_iter *it)
{
    if (it) it->end(it);
}

/* Generic hash: load the whole value, hash it. */
static int generic_hash(bs_backend *b, const char *name, bs_hash_alg alg,
                        char hex[BS_HASH_HEX_SIZE])
{
    uint8_t *data;
    size_t len;
    int rc = b->ops->load(b, name, 0, BS_SIZE_ALL, &data, &len);
    if (rc) return rc;
    rc = bs_hash_hex(alg, data, len, hex);
    free(data);
    return rc;
}

int bs_backend_hash(bs_backend *b, const char *name, bs_hash_alg alg,
                    char hex[BS_HASH_HEX_SIZE])
{
    hex[0] = '\0';
    int rc = check_item(b, name);
    if (rc) return rc;
    if (!bs_hash_alg_name(alg)) return bs__error_set(BS_ERR_INVALID, "unknown hash algorithm");
    return b->ops->hash ? b->ops->hash(b, name, alg, hex) : generic_hash(b, name, alg, hex);
}

int bs__defrag_target_name(char out_name[BS_NAME_BUF], const char *hex, const char *ns,
                           int levels)
{
    char flat[BS_NAME_BUF * 2];
    size_t ns_len = ns ? strlen(ns) : 0;
    while (ns_len && ns[ns_len - 1] == '/') ns_len--;
    int n = snprintf(flat, sizeof flat, "%.*s%s%s", (int)ns_len, ns ? ns : "",
                     ns_len ? "/" : "", hex);
    if (n < 0 || (size_t)n >= sizeof flat)
        return bs__error_set(BS_ERR_INVALID, "defrag target name too long");
    return bs__nest(out_name, BS_NAME_BUF, flat, levels, NULL);
}

/* Generic defrag: load each block, check it is whole, store the result. */
static int generic_defrag(bs_backend *b, const bs_defrag_source *src, size_t n,
                          const char *target, bs_hash_alg alg, const char *ns,
                          int levels, char out_name[BS_NAME_BUF])
{
    bs_buf all = {0};
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        uint8_t *part;
        size_t len;
        if (src[i].offset > INT64_MAX || src[i].size > INT64_MAX) {
            rc = bs__error_set(BS_ERR_INVALID, "defrag block out of range");
            break;
        }
        rc = b->ops->load(b, src[i].name, (int64_t)src[i].offset, (int64_t)src[i].size,
                          &part, &len);
        if (rc) break;
        if (len != src[i].size)
            rc = bs__error_set(BS_ERR_READ_RANGE,
                               "Read range error from %s (requested %llu bytes at offset %llu, "
                               "got %zu)", src[i].name, (unsigned long long)src[i].size,
                               (unsigned long long)src[i].offset, len);
        else
            rc = bs__buf_append(&all, part, len);
        free(part);
    }
    if (!rc && !target) {
        char hex[BS_HASH_HEX_SIZE];
        rc = bs_hash_hex(alg, all.data ? all.data : (uint8_t *)"", all.len, hex);
        if (!rc) rc = bs__defrag_target_name(out_name, hex, ns, levels);
        if (!rc) rc = bs__name_validate(out_name);
    } else if (!rc) {
        snprintf(out_name, BS_NAME_BUF, "%s", target);
    }
    if (!rc) rc = b->ops->store(b, out_name, all.data ? all.data : (uint8_t *)"", all.len);
    bs__buf_free(&all);
    return rc;
}

int bs_backend_defrag(bs_backend *b, const bs_defrag_source *src, size_t n,
                      const char *target, bs_hash_alg alg, const char *ns,
                      int levels, char out_name[BS_NAME_BUF])
{
    out_name[0] = '\0';
    int rc = must_be_open(b);
    if (rc) return rc;
    if (n && !src) return bs__error_set(BS_ERR_INVALID, "defrag sources are NULL");
    for (size_t i = 0; i < n; i++)
        if ((rc = bs__name_validate(src[i].name)) || !*src[i].name)
            return rc ? rc : bs__error_set(BS_ERR_INVALID, "empty defrag source name");
    if (target && ((rc = bs__name_validate(target)) || !*target))
        return rc ? rc : bs__error_set(BS_ERR_INVALID, "empty defrag target name");
    if (!target && !bs_hash_alg_name(alg))
        return bs__error_set(BS_ERR_INVALID, "defrag needs a target or a hash algorithm");
    if (ns && *ns) {
        /* Like Python, "packs/" and "packs" name the same namespace. */
        char trimmed[BS_NAME_BUF];
        size_t len = strnlen(ns, sizeof trimmed);
        while (len && ns[len - 1] == '/') len--;
        if (len >= sizeof trimmed) return bs__error_set(BS_ERR_INVALID, "namespace too long");
        memcpy(trimmed, ns, len);
        trimmed[len] = '\0';
        if ((rc = bs__name_validate(trimmed))) return rc;
    }
    if (levels < 0 || levels > 8) return bs__error_set(BS_ERR_INVALID, "bad nesting level");
    if (b->value_max) { /* bound the result before anything is read or written */
        uint64_t total = 0;
        for (size_t i = 0; i < n; i++) {
            if (src[i].size > b->value_max - total)
                return bs__value_too_large("defrag", "result", UINT64_MAX, b->value_max);
            total += src[i].size;
        }
    }
    if (b->ops->defrag) return b->ops->defrag(b, src, n, target, alg, ns, levels, out_name);
    return generic_defrag(b, src, n, target, alg, ns, levels, out_name);
}

int bs_backend_quota(bs_backend *b, bs_quota *out)
{
    out->limit = out->usage = -1;
    int rc = must_be_open(b);
    if (rc) return rc;
    return b->ops->quota ? b->ops->quota(b, out) : 0;
}

/* ---- batches ------------------------------------------------------------- */

size_t bs_backend_window(bs_backend *b)
{
    if (!b || !b->ops->window) return 1;
    size_t w = b->ops->window(b);
    return w ? w : 1;
}

uint64_t bs__backend_value_limit(bs_backend *b)
{
    uint64_t lim = b->ops->value_limit ? b->ops->value_limit(b) : 0;
    if (b->value_max && (!lim || b->value_max < lim)) lim = b->value_max;
    return lim;
}

static int check_op(bs_backend *b, const bs_op *op)
{
    int rc = check_item(b, op->name);
    if (rc) return rc;
    switch (op->kind) {
    case BS_OP_INFO:
    case BS_OP_DELETE: return 0;
    case BS_OP_LOAD:
        if (op->size < 0 && op->size != BS_SIZE_ALL)
            return bs__error_set(BS_ERR_INVALID, "negative size %lld", (long long)op->size);
        return 0;
    case BS_OP_STORE:
        if (!op->data && op->len) return bs__error_set(BS_ERR_INVALID, "NULL data for %s", op->name);
        return 0;
    case BS_OP_MOVE:
        if ((rc = bs__name_validate(op->dst))) return rc;
        return *op->dst ? 0 : bs__error_set(BS_ERR_INVALID, "target name must not be empty");
    }
    return bs__error_set(BS_ERR_INVALID, "unknown operation kind %d", (int)op->kind);
}

void bs__backend_run_one(bs_backend *b, const bs_op *op, bs_op_result *res)
{
    memset(res, 0, sizeof *res);
    switch (op->kind) {
    case BS_OP_INFO:
        res->rc = b->ops->info(b, op->name, &res->info);
        if (!res->rc) {
            const char *slash = strrchr(op->name, '/');
            snprintf(res->info.name, sizeof res->info.name, "%s", slash ? slash + 1 : op->name);
        }
        break;
    case BS_OP_LOAD:
        res->rc = b->ops->load(b, op->name, op->offset, op->size, &res->data, &res->len);
        break;
    case BS_OP_STORE: res->rc = b->ops->store(b, op->name, op->data ? op->data : "", op->len); break;
    case BS_OP_DELETE: res->rc = b->ops->delete(b, op->name); break;
    case BS_OP_MOVE: res->rc = b->ops->move(b, op->name, op->dst); break;
    }
    if (res->rc) res->message = bs_error_message();
}

int bs__backend_rerun_one(bs_backend *b, const bs_op *op, size_t index, bool cut,
                          bs_op_cb cb, void *ctx, bool *stopped)
{
    bs_op_result res;
    bs__backend_run_one(b, op, &res);
    if (cut && res.rc == BS_ERR_NOT_FOUND && (op->kind == BS_OP_DELETE || op->kind == BS_OP_MOVE))
        res.rc = 0;
    if (res.rc == BS_ERR_CONNECTION) return res.rc;
    if (!res.rc) res.message = NULL;
    if (cb(ctx, index, &res)) *stopped = true;
    free(res.data);
    return 0;
}

int bs_backend_batch(bs_backend *b, const bs_op *ops, size_t n, size_t window, bs_op_cb cb,
                     void *ctx)
{
    int rc = must_be_open(b);
    if (rc) return rc;
    if (!cb || (n && !ops)) return bs__error_set(BS_ERR_INVALID, "batch needs ops and a callback");
    for (size_t i = 0; i < n; i++)
        if ((rc = check_op(b, &ops[i]))) return rc;
    if (!window) window = bs_backend_window(b);
    if (b->ops->batch) return b->ops->batch(b, ops, n, window, cb, ctx);
    for (size_t i = 0; i < n; i++) {
        bs_op_result res;
        bs__backend_run_one(b, &ops[i], &res);
        int stop = cb(ctx, i, &res);
        free(res.data);
        if (stop) return bs__error_set(BS_ERR_INVALID, "batch stopped by its callback");
    }
    return 0;
}

int bs_backend_submit(bs_backend *b, const bs_op *op)
{
    int rc = must_be_open(b);
    if (rc) return rc;
    if (!op || (op->kind != BS_OP_STORE && op->kind != BS_OP_DELETE && op->kind != BS_OP_MOVE))
        return bs__error_set(BS_ERR_INVALID, "only store, delete and move can be submitted");
    if ((rc = check_op(b, op))) return rc;
    if (b->ops->submit) return b->ops->submit(b, op);
    bs_op_result res;
    bs__backend_run_one(b, op, &res);
    if (res.rc && b->parked_failed++ == 0) {
        b->parked_rc = res.rc;
        snprintf(b->parked_msg, sizeof b->parked_msg, "%s", bs_error_message());
    }
    return 0;
}

int bs_backend_flush(bs_backend *b, size_t *failed)
{
    if (failed) *failed = 0;
    int rc = must_be_open(b);
    if (rc) return rc;
    if (b->ops->flush) return b->ops->flush(b, failed);
    if (!b->parked_failed) return 0;
    if (failed) *failed = b->parked_failed;
    rc = bs__error_set_raw(b->parked_rc, 0, b->parked_msg);
    b->parked_failed = 0;
    b->parked_rc = 0;
    return rc;
}
