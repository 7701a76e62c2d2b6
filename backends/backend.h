/* The backend vtable: what every backend implements. The public wrappers in
 * backends/backend.c check open/closed state and validate names before any
 * slot is called, so implementations may assume:
 *   - create/destroy/open are only called while closed, the rest while open;
 *   - every name passed in is valid (common/names.h), "" only for list;
 *   - out-parameters are non-NULL.
 * Each slot returns 0 or a negative BS_ERR_* code set via bs__error_*.
 * New slots are appended, never inserted; the registry rejects a version it
 * does not know. */
#ifndef BS_BACKENDS_BACKEND_H
#define BS_BACKENDS_BACKEND_H

#include "borgstore/backend.h"
#include "borgstore/store.h" /* bs_read_fn */

#define BS_BACKEND_OPS_VERSION 1

/* Streaming (the REST server): a store's bytes come from a reader, a
 * load's go to a sink, so a large value never sits in memory whole.
 * read fills buf with 1..cap bytes (never more than remain) and returns 0,
 * or a negative BS_ERR_* code to abandon the store (nothing becomes
 * visible). The sink's begin is called once with the exact length before
 * any data; its calls return 0 or a negative code that ends the load.
 * bs_read_fn is declared in borgstore/store.h. */
typedef struct bs_load_sink {
    int (*begin)(void *ctx, uint64_t len);
    int (*data)(void *ctx, const uint8_t *p, size_t n);
    void *ctx;
} bs_load_sink;

typedef struct bs_backend_ops {
    unsigned version; /* BS_BACKEND_OPS_VERSION */
    const char *scheme; /* "file", "serve", ... (for messages) */

    int (*create)(bs_backend *b);
    int (*destroy)(bs_backend *b);
    int (*open)(bs_backend *b);
    int (*close)(bs_backend *b);
    int (*mkdir)(bs_backend *b, const char *name);
    int (*rmdir)(bs_backend *b, const char *name);
    /* Missing name: return 0 with out->exists = false. out->name is filled by
     * the wrapper, the slot need not. */
    int (*info)(bs_backend *b, const char *name, bs_item_info *out);
    /* offset may be negative (from the end); size BS_SIZE_ALL or >= 0. */
    int (*load)(bs_backend *b, const char *name, int64_t offset, int64_t size,
                uint8_t **out, size_t *out_len);
    int (*store)(bs_backend *b, const char *name, const void *data, size_t len);
    int (*delete)(bs_backend *b, const char *name);
    int (*move)(bs_backend *b, const char *cur, const char *dst);
    /* The iterator's first member must be a struct bs_list_iter. */
    int (*list_begin)(bs_backend *b, const char *name, bs_list_iter **out);
    /* Optional: NULL means the generic version via load. */
    int (*hash)(bs_backend *b, const char *name, bs_hash_alg alg,
                char hex[BS_HASH_HEX_SIZE]);
    /* Optional: NULL means the generic version via load + store. */
    int (*defrag)(bs_backend *b, const bs_defrag_source *src, size_t n,
                  const char *target, bs_hash_alg alg, const char *ns, int levels,
                  char out_name[BS_NAME_BUF]);
    /* Optional: NULL reports {-1, -1}. */
    int (*quota)(bs_backend *b, bs_quota *out);
    /* Releases everything the backend owns (called closed). */
    void (*free)(bs_backend *b);

    /* Optional batch slots (NULL: the wrappers run operations one by one).
     * window: requests the backend likes in flight. batch: as
     * bs_backend_batch, ops already validated, window >= 1. submit/flush:
     * as bs_backend_submit / bs_backend_flush. */
    size_t (*window)(bs_backend *b);
    int (*batch)(bs_backend *b, const bs_op *ops, size_t n, size_t window, bs_op_cb cb,
                 void *ctx);
    int (*submit)(bs_backend *b, const bs_op *op);
    int (*flush)(bs_backend *b, size_t *failed);
    /* Optional: the largest value one load may return (a server's limit);
     * 0 or NULL: no limit known. */
    uint64_t (*value_limit)(bs_backend *b);

    /* Optional streaming slots (NULL: the wrappers below use load/store
     * with one buffer). As store and load, with the bytes through read /
     * sink; len is the value's exact size. */
    int (*store_from)(bs_backend *b, const char *name, uint64_t len, bs_read_fn read,
                      void *ctx);
    int (*load_to)(bs_backend *b, const char *name, int64_t offset, int64_t size,
                   const bs_load_sink *sink);
} bs_backend_ops;

/* The largest value one load may return (the value_limit slot and
 * value_max, the smaller); 0: no limit known. */
uint64_t bs__backend_value_limit(bs_backend *b);

/* Base of every backend: embed as the first member of the implementation. */
struct bs_backend {
    const bs_backend_ops *ops;
    bool opened;
    /* Errors of submitted operations on backends without submit/flush slots,
     * kept for bs_backend_flush. */
    size_t parked_failed;
    int parked_rc;
    char parked_msg[256];
    /* 0: none. Else load refuses (before reading it) a value, and defrag a
     * result, larger than this (BS_ERR_INVALID). borgstore-serve sets it. */
    uint64_t value_max;
    /* 0: none. Else the posix backend's list refuses (BS_ERR_INVALID) a
     * directory of more entries, while reading it. borgstore-serve sets it. */
    size_t list_max;
};

/* Base of every list iterator: embed as the first member. next returns 1 with
 * *out filled, 0 at the end, <0 on error; end releases the iterator. */
struct bs_list_iter {
    int (*next)(bs_list_iter *it, bs_item_info *out);
    void (*end)(bs_list_iter *it);
    size_t bytes; /* memory its entries hold until end (0: unknown) */
};

/* A backend constructor as registered for a URL scheme. url is the full URL;
 * cfg is never NULL (defaults filled). */
typedef int (*bs_backend_ctor)(bs_backend **out, const char *url,
                               const bs_backend_config *cfg);

/* Registry lookup: constructor for url's scheme, or NULL. */
bs_backend_ctor bs__backend_ctor_for(const char *url);

/* Name defrag stores under when no target is given: ns + "/" + hex, nested
 * at levels, into out_name. 0 or BS_ERR_INVALID. */
int bs__defrag_target_name(char out_name[BS_NAME_BUF], const char *hex, const char *ns,
                           int levels);

/* Runs one operation through b's single-item slots (no state or name
 * checks: the op must be valid) and fills *res (message set on failure;
 * data owned by the caller). The generic batch and the batch fallbacks of
 * backends use it. */
void bs__backend_run_one(bs_backend *b, const bs_op *op, bs_op_result *res);

/* The way back for an operation a pipelined batch gave up on (a lost
 * connection or a retryable failure): runs it through the single-item
 * slots, which reconnect and retry, and reports it to cb as number index.
 * cut: it had been sent before the connection was lost, so a delete or
 * move that now finds nothing was done by that try and counts as done.
 * Returns 0, or BS_ERR_CONNECTION (not reported: the batch ends) when even
 * the slots could not reach the store. Sets *stopped when cb asks to stop. */
int bs__backend_rerun_one(bs_backend *b, const bs_op *op, size_t index, bool cut,
                          bs_op_cb cb, void *ctx, bool *stopped);

/* BS_ERR_INVALID: what (load, defrag) of name would exceed the value limit
 * max (size UINT64_MAX: by an unknown amount). */
int bs__value_too_large(const char *what, const char *name, uint64_t size, uint64_t max);

/* Stores len bytes from read under name (checks as bs_backend_store).
 * A reader error is returned as is, and nothing is stored. */
int bs__backend_store_from(bs_backend *b, const char *name, uint64_t len, bs_read_fn read,
                           void *ctx);
/* Loads like bs_backend_load, the bytes going to sink (begin first, with
 * the exact length). An error before begin leaves the sink untouched. */
int bs__backend_load_to(bs_backend *b, const char *name, int64_t offset, int64_t size,
                        const bs_load_sink *sink);

/* Constructors of the built-in backends. */
int bs__posixfs_new(bs_backend **out, const char *url, const bs_backend_config *cfg);
/* A posix store reached through directory handles instead of a path, so that
 * create, open and destroy never resolve a name again (borgstore-serve places
 * the store beneath its restriction roots once and hands the handles over).
 * The fds are duplicated; the caller keeps its own. */
typedef struct bs_posix_place {
    int parentfd;            /* directory holding the store */
    const char *leaf;        /* the store's name in parentfd; "" = parentfd itself */
    int quotafd;             /* directory keeping the quota account; -1: the store */
    const char *perm_prefix; /* permissions are matched against "prefix/name"; NULL: name */
    int64_t quota_min;       /* quota: bytes an item counts at least, and a directory; 0: sizes */
} bs_posix_place;
int bs__posixfs_new_at(bs_backend **out, const bs_posix_place *pl, const bs_backend_config *cfg);
int bs__sftp_new(bs_backend **out, const char *url, const bs_backend_config *cfg);
int bs__rclone_new(bs_backend **out, const char *url, const bs_backend_config *cfg);
/* s3:... and b2:... (backends/s3/). */
int bs__s3_new(bs_backend **out, const char *url, const bs_backend_config *cfg);
/* serve:///abs/path and ssh://[user@]host[:port]/path (client/remote/). */
int bs__remote_new(bs_backend **out, const char *url, const bs_backend_config *cfg);
/* rest://[user@]host[:port]/path, rest:///abs/path, http(s)://... (client/rest/). */
int bs__rest_new(bs_backend **out, const char *url, const bs_backend_config *cfg);

#endif
