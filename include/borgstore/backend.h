/* Backends: where the bytes live (posix filesystem, remote borgstore-serve,
 * SFTP, rclone, ...). A backend maps flat names like "data/01/0123..." to
 * values; nesting, soft delete and stats are the Store's business.
 *
 * These functions are the only way into a backend: they check the open/closed
 * state and validate every name once, then call the backend's implementation.
 * Every function returns 0 (or a documented positive value) on success and a
 * negative BS_ERR_* code on failure, with bs_error_message() set. */
#ifndef BORGSTORE_BACKEND_H
#define BORGSTORE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "borgstore/errors.h"
#include "borgstore/hash.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest valid name (characters), as Python borgstore's MAX_NAME_LENGTH. */
#define BS_NAME_MAX 100
/* Room for a name plus a suffix like ".del" plus NUL. */
#define BS_NAME_BUF 128

typedef struct bs_backend bs_backend;
typedef struct bs_list_iter bs_list_iter;

/* What info and list report about one entry. */
typedef struct bs_item_info {
    char name[BS_NAME_BUF]; /* last path component (info: of the name asked) */
    bool exists;            /* false: nothing by that name (info only) */
    bool directory;
    uint64_t size;          /* bytes; 0 for directories */
    int64_t atime_ns;       /* last access, ns since the epoch; 0 if unknown */
    int64_t mtime_ns;       /* last modification, ns since the epoch; 0 if unknown */
} bs_item_info;

/* Quota state: -1 in a field means "not tracked". */
typedef struct bs_quota {
    int64_t limit;
    int64_t usage;
} bs_quota;

/* One block for defrag: size bytes from offset in the item name. */
typedef struct bs_defrag_source {
    const char *name;
    uint64_t offset;
    uint64_t size;
} bs_defrag_source;

/* Options for bs_backend_new. A zero-initialized struct means the defaults.
 * Fields are only appended, never reordered. */
typedef struct bs_backend_config {
    /* NULL or "": no restrictions. Otherwise a preset name
     * ("borgbackup-all", "borgbackup-no-delete", "borgbackup-write-only",
     * "borgbackup-read-only") or a JSON object {"path": "letters", ...}. */
    const char *permissions;
    /* 0: quota not enforced. Otherwise the limit in bytes (usage persisted
     * in quota.hid at the store root). */
    uint64_t quota;
    /* fsync files and directories on store/move (also BORGSTORE_FSYNC=1). */
    bool fsync;
    /* ssh:// and sftp://: ssh config file to read (NULL: ~/.ssh/config,
     * or BORGSTORE_SSH_CONFIG). */
    const char *ssh_config;
} bs_backend_config;

/* Size argument of bs_backend_load meaning "to the end". */
#define BS_SIZE_ALL (-1)

/* Builds a backend for url (file:///abs/path, and the schemes later backends
 * register). Nothing is touched on the storage yet. cfg may be NULL.
 * Returns 0 and *out (free with bs_backend_free), BS_ERR_URL_INVALID for an
 * unknown scheme or malformed URL, BS_ERR_INVALID for a bad cfg value
 * (e.g. malformed permissions JSON), BS_ERR_NOMEM. */
BS_API int bs_backend_new(bs_backend **out, const char *url, const bs_backend_config *cfg);

/* Releases the backend (closing it first if open). Accepts NULL. */
BS_API void bs_backend_free(bs_backend *b);

/* Whether the backend is open. */
BS_API bool bs_backend_is_open(const bs_backend *b);

/* Initializes the storage. A missing or empty base is accepted (parents are
 * created); a non-empty one is BS_ERR_ALREADY_EXISTS.
 * Errors: MUST_NOT_BE_OPEN, ALREADY_EXISTS, PERMISSION, IO. */
BS_API int bs_backend_create(bs_backend *b);

/* Removes the storage and everything in it.
 * Errors: MUST_NOT_BE_OPEN, DOES_NOT_EXIST, PERMISSION, IO. */
BS_API int bs_backend_destroy(bs_backend *b);

/* Starts using the storage. Errors: MUST_NOT_BE_OPEN, DOES_NOT_EXIST, IO. */
BS_API int bs_backend_open(bs_backend *b);

/* Stops using it. Errors: MUST_BE_OPEN. */
BS_API int bs_backend_close(bs_backend *b);

/* Creates directory name (and missing parents); existing is fine.
 * Errors: MUST_BE_OPEN, INVALID (name), PERMISSION, IO. */
BS_API int bs_backend_mkdir(bs_backend *b, const char *name);

/* Removes the empty directory name.
 * Errors: MUST_BE_OPEN, INVALID, NOT_FOUND, PERMISSION, IO (not empty). */
BS_API int bs_backend_rmdir(bs_backend *b, const char *name);

/* Fills *out about name. A missing name is not an error: out->exists=false.
 * Errors: MUST_BE_OPEN, INVALID, PERMISSION, IO. */
BS_API int bs_backend_info(bs_backend *b, const char *name, bs_item_info *out);

/* Loads size bytes (BS_SIZE_ALL: to the end) from offset of name. A negative
 * offset counts from the end. A range past the end gives the bytes that
 * exist (possibly none); a negative offset reaching before the start is
 * BS_ERR_READ_RANGE. On success *out is a malloc'd buffer owned by the caller
 * (free with bs_free; non-NULL even for 0 bytes) and *out_len its length.
 * On failure *out is NULL. Errors: MUST_BE_OPEN, INVALID, NOT_FOUND,
 * READ_RANGE, PERMISSION, IO, NOMEM. */
BS_API int bs_backend_load(bs_backend *b, const char *name, int64_t offset, int64_t size,
                           uint8_t **out, size_t *out_len);

/* Stores len bytes at data under name, atomically (readers see the old value
 * or the new one, never a part), replacing an existing value. Missing parent
 * directories are created. data is only read during the call.
 * Errors: MUST_BE_OPEN, INVALID, PERMISSION, QUOTA, IO. */
BS_API int bs_backend_store(bs_backend *b, const char *name, const void *data, size_t len);

/* Deletes the item name.
 * Errors: MUST_BE_OPEN, INVALID, NOT_FOUND, PERMISSION, IO. */
BS_API int bs_backend_delete(bs_backend *b, const char *name);

/* Renames cur to dst, replacing dst if it exists; creates missing parent
 * directories of dst. Errors: MUST_BE_OPEN, INVALID, NOT_FOUND (cur),
 * PERMISSION, IO. */
BS_API int bs_backend_move(bs_backend *b, const char *cur, const char *dst);

/* Lists directory name ("" is the root) non-recursively, sorted by name,
 * skipping invalid names and *.tmp. *out is an iterator owned by the caller
 * (release with bs_backend_list_end). Other backend calls may be made while
 * it is alive. Errors: MUST_BE_OPEN, INVALID, NOT_FOUND (directory),
 * PERMISSION, IO. */
BS_API int bs_backend_list_begin(bs_backend *b, const char *name, bs_list_iter **out);

/* Next entry: returns 1 and fills *out, 0 at the end, or a negative error. */
BS_API int bs_backend_list_next(bs_list_iter *it, bs_item_info *out);

/* Releases an iterator; accepts NULL. */
BS_API void bs_backend_list_end(bs_list_iter *it);

/* Hex digest of the whole content of name into hex.
 * Errors: MUST_BE_OPEN, INVALID, NOT_FOUND, PERMISSION, IO. */
BS_API int bs_backend_hash(bs_backend *b, const char *name, bs_hash_alg alg,
                           char hex[BS_HASH_HEX_SIZE]);

/* Concatenates the blocks src[0..n) and stores them under target, or, when
 * target is NULL, under namespace + "/" + hex digest (alg) of the content,
 * nested at levels (namespace may be NULL or ""). The chosen name is written
 * to out_name (BS_NAME_BUF bytes). A block reaching past the end of its
 * source is BS_ERR_READ_RANGE and nothing is stored.
 * Errors: MUST_BE_OPEN, INVALID, NOT_FOUND, READ_RANGE, PERMISSION, QUOTA, IO. */
BS_API int bs_backend_defrag(bs_backend *b, const bs_defrag_source *src, size_t n,
                             const char *target, bs_hash_alg alg, const char *ns,
                             int levels, char out_name[BS_NAME_BUF]);

/* Quota limit and usage in bytes (-1 where not tracked).
 * Errors: MUST_BE_OPEN, IO. */
BS_API int bs_backend_quota(bs_backend *b, bs_quota *out);

/* ---- Many operations at once ------------------------------------------
 * A batch keeps up to `window` requests in flight on backends that can
 * (the remote backend pipelines them over one connection); local backends
 * run them one after another. Each operation has its own result: one
 * missing item does not fail the others. */

typedef enum bs_op_kind {
    BS_OP_INFO = 1,
    BS_OP_LOAD = 2,
    BS_OP_STORE = 3,
    BS_OP_DELETE = 4,
    BS_OP_MOVE = 5,
} bs_op_kind;

/* One operation of a batch. Pointers are borrowed: they must stay valid
 * until the operation's callback has run (for bs_backend_submit: until it
 * returns). */
typedef struct bs_op {
    bs_op_kind kind;
    const char *name;
    const char *dst;    /* MOVE: target name */
    int64_t offset;     /* LOAD: as bs_backend_load */
    int64_t size;       /* LOAD: BS_SIZE_ALL or >= 0 */
    const void *data;   /* STORE */
    size_t len;         /* STORE */
} bs_op;

/* What one operation gave. data (LOAD) is owned by borgstore and freed
 * after the callback returns, unless the callback takes it: set data to
 * NULL and release it later with bs_free. */
typedef struct bs_op_result {
    int rc;               /* 0 or a negative BS_ERR_* code */
    const char *message;  /* rc != 0: the error message (valid during the callback) */
    bs_item_info info;    /* INFO */
    uint8_t *data;        /* LOAD */
    size_t len;           /* LOAD */
} bs_op_result;

/* Called once per operation, in completion order (which may differ from
 * submission order), with its index in the ops array. Return 0 to go on,
 * non-zero to stop the batch (operations already sent still complete; their
 * callbacks are not called). */
typedef int (*bs_op_cb)(void *ctx, size_t index, bs_op_result *res);

/* Requests the backend would like in flight at once (1 for local ones). */
BS_API size_t bs_backend_window(bs_backend *b);

/* Runs ops[0..n) with up to window (0: bs_backend_window) in flight and
 * reports each through cb. Returns 0 when every operation was attempted and
 * reported (each may have failed on its own), BS_ERR_INVALID for a bad
 * argument (before anything ran), the callback's non-zero value converted
 * to BS_ERR_INVALID when it stopped the batch, or an error that ended the
 * whole batch (MUST_BE_OPEN, CONNECTION after retries, NOMEM); then some
 * operations may not have been reported. */
BS_API int bs_backend_batch(bs_backend *b, const bs_op *ops, size_t n, size_t window, bs_op_cb cb,
                            void *ctx);

/* Fire and forget: starts a STORE, DELETE or MOVE and returns once it is on
 * its way (the value was handed to the transport or written). Its error, if
 * any, is kept and reported by the next bs_backend_flush (as borg does for
 * async put/delete). Requests are executed in the order they were made, so
 * a later load sees an earlier store. Returns 0, or an error about the
 * request itself (INVALID, MUST_BE_OPEN) or the connection. */
BS_API int bs_backend_submit(bs_backend *b, const bs_op *op);

/* Waits until every submitted operation finished. Returns 0 when all
 * succeeded, else the code of the first that failed (with its message) and
 * how many failed in *failed (may be NULL). */
BS_API int bs_backend_flush(bs_backend *b, size_t *failed);

/* Frees memory returned by borgstore (loads). Accepts NULL. */
BS_API void bs_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
