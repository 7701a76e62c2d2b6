/* Streaming loads: a value of any size handed to the caller in pieces, so
 * memory stays bounded by the piece size on every backend. Built on the
 * ranged load every backend has (one load per piece), so it needs nothing
 * new from the backends or the wire. Streaming stores (bs_store_store_from)
 * go through the backend's store_from slot. */
#include <stdlib.h>

#include "borgstore/store.h"
#include "backends/backend.h"
#include "client/cache.h"
#include "client/store_internal.h"
#include "common/error.h"

#define DEFAULT_CHUNK (8u << 20)

int bs_store_load_to(bs_store *s, const char *name, int64_t offset, int64_t size, bool deleted,
                     size_t chunk, bs_write_fn write, void *ctx, uint64_t *out_len)
{
    if (out_len) *out_len = 0;
    if (!write) return bs__error_set(BS_ERR_INVALID, "NULL write function for %s", name);
    if (size < 0 && size != BS_SIZE_ALL)
        return bs__error_set(BS_ERR_INVALID, "negative size for %s", name);
    if (chunk == 0) chunk = DEFAULT_CHUNK;
    uint64_t limit = bs__store_value_limit(s); /* borgstore-serve --max-value */
    if (limit && chunk > limit) chunk = (size_t)limit;
    /* pieces are loaded at absolute offsets: a negative offset needs the
     * size first; otherwise a piece shorter than asked is the last one, so
     * a small value costs one load, as bs_store_load */
    uint64_t pos = offset >= 0 ? (uint64_t)offset : 0;
    uint64_t end = UINT64_MAX;
    if (offset < 0) {
        bs_item_info info;
        int rc = bs_store_info(s, name, deleted, &info);
        if (rc) return rc;
        if (!info.exists) {
            /* the ordinary load says it the ordinary way (NOT_FOUND naming name) */
            uint8_t *none;
            size_t n;
            rc = bs_store_load(s, name, offset, 0, deleted, &none, &n);
            bs_free(none);
            return rc ? rc : bs__error_set(BS_ERR_NOT_FOUND, "%s", name);
        }
        if ((uint64_t)-offset > info.size)
            return bs__error_set(BS_ERR_READ_RANGE, "%s: offset %lld is before the start",
                                 name, (long long)offset);
        pos = info.size - (uint64_t)-offset;
    }
    if (size != BS_SIZE_ALL)
        end = (uint64_t)size > UINT64_MAX - pos ? UINT64_MAX : pos + (uint64_t)size;
    int rc = 0;
    uint64_t done = 0;
    bool first = true;
    while (first || pos < end) {
        uint64_t want = end - pos < chunk ? end - pos : chunk;
        uint8_t *piece;
        size_t len;
        rc = bs_store_load(s, name, (int64_t)pos, (int64_t)want, deleted, &piece, &len);
        if (rc) break;
        first = false;
        int wr = len ? write(ctx, piece, len) : 0;
        bs_free(piece);
        pos += len;
        done += len;
        if (wr) {
            rc = bs__error_set(BS_ERR_INVALID, "%s: the receiver stopped the load", name);
            break;
        }
        if (len < want) break; /* the end of the value */
    }
    if (out_len) *out_len = done;
    return rc;
}

/* The caller's reader, held to its contract: a backend sees exactly len
 * bytes or an error, never a reader that ends early or overfills. */
typedef struct guarded_read {
    bs_read_fn read;
    void *ctx;
    uint64_t left;
    const char *name;
} guarded_read;

static int guarded(void *ctx, uint8_t *buf, size_t cap, size_t *got)
{
    guarded_read *g = ctx;
    *got = 0;
    if (cap > g->left) cap = (size_t)g->left;
    size_t n = 0;
    if (cap == 0 || g->read(g->ctx, buf, cap, &n))
        return bs__error_set(BS_ERR_IO, "store %s: the value's reader failed", g->name);
    if (n == 0)
        return bs__error_set(BS_ERR_IO, "store %s: the value's reader ended %llu bytes early",
                             g->name, (unsigned long long)g->left);
    if (n > cap)
        return bs__error_set(BS_ERR_IO, "store %s: the value's reader gave %zu bytes for %zu",
                             g->name, n, cap);
    g->left -= n;
    *got = n;
    return 0;
}

int bs_store_store_from(bs_store *s, const char *name, uint64_t len, bs_read_fn read, void *ctx)
{
    if (!read) return bs__error_set(BS_ERR_INVALID, "NULL read function for %s", name);
    char nested[BS_NAME_BUF];
    uint64_t start = bs__store_call_begin(s);
    int rc = bs__store_find_locked(s, name, false, nested);
    uint64_t t0 = bs__store_now_ns();
    if (!rc) {
        s->be_store_calls++;
        guarded_read g = {.read = read, .ctx = ctx, .left = len, .name = name};
        rc = bs__backend_store_from(s->b, nested, len, guarded, &g);
        /* the value never sat whole in memory to fill the cache with */
        if (!rc) bs__cache_after_delete(s->cache, name, nested);
    }
    return bs__store_call_end(s, rc, OP_STORE, start, t0, rc ? 0 : len);
}
