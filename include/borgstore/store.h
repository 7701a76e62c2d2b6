/* The Store: what applications link against. It adds to a backend what
 * Python borgstore 0.6's Store adds: namespaces with configurable nesting
 * levels, soft delete (".del"), a recursive lazy listing, statistics, a
 * latency/bandwidth emulator and thread safety (one mutex per store).
 *
 * Conventions (as everywhere in borgstore): functions return 0 or a negative
 * BS_ERR_* code and leave a message naming the item in bs_error_message();
 * outputs come first; results returned through `**out` belong to the caller.
 * Names given to the Store are un-nested ("data/0123abcd"); the Store maps
 * them to backend names ("data/01/23/0123abcd") itself. */
#ifndef BORGSTORE_STORE_H
#define BORGSTORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "borgstore/backend.h"
#include "borgstore/errors.h"
#include "borgstore/hash.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bs_store bs_store;
typedef struct bs_store_list_iter bs_store_list_iter;

/* Most entries in one namespace's list of levels. */
#define BS_STORE_LEVELS_MAX 9
/* Deepest nesting level (the key's first 2*8 hex digits become directories). */
#define BS_STORE_LEVEL_MAX 8

/* One namespace of the configuration.
 *
 * prefix is matched against the start of every item name, exactly like
 * Python's name.startswith(namespace): use a trailing slash ("data/",
 * "config/"); "" (the root namespace) matches every name. When several
 * prefixes match, the longest one wins.
 *
 * levels[0..nlevels) are the nesting levels items of the namespace may live
 * on. With one level, an item is always there (no probing). With several,
 * lookups probe each level in order and use the first where the item exists;
 * new items go to the LAST level. So [0, 1] upgrades a flat namespace to
 * level 1 while old items stay readable, [1, 0] downgrades. */
typedef struct bs_store_namespace {
    const char *prefix;
    int levels[BS_STORE_LEVELS_MAX];
    size_t nlevels;
} bs_store_namespace;

/* Store configuration. The Store copies everything it needs: the caller's
 * structs and strings may go away after bs_store_new returns. Fields are only
 * appended, never reordered; zero-initialize and set what you need. */
typedef struct bs_store_config {
    /* At least one namespace. A name that matches no prefix is rejected
     * with BS_ERR_INVALID (as Python's KeyError), so configure "" to accept
     * any name. */
    const bs_store_namespace *namespaces;
    size_t n_namespaces;
    /* Passed to bs_backend_new by bs_store_new (ignored by
     * bs_store_new_from_backend). */
    bs_backend_config backend;
} bs_store_config;

/* Fills *out with the configuration the borgstore CLI uses by default: ""
 * (every namespace) at level 0 and "data/" at level 1. Points at static
 * data; never fails. */
BS_API void bs_store_config_default(bs_store_config *out);

/* Creates a store for url (file:///abs/path, serve://..., ssh://...) with
 * cfg. Nothing is touched on the storage yet. The emulator settings are read
 * from BORGSTORE_LATENCY (µs added per backend call) and BORGSTORE_BANDWIDTH
 * (bit/s) now, as Python borgstore does in Store.__init__.
 * Returns 0 and *out (release with bs_store_free);
 * BS_ERR_URL_INVALID (unknown scheme, malformed URL), BS_ERR_INVALID (cfg
 * NULL, no namespaces, a bad prefix, a level outside 0..8, duplicate
 * prefixes, bad backend settings), BS_ERR_NOMEM. On failure *out is NULL. */
BS_API int bs_store_new(bs_store **out, const char *url, const bs_store_config *cfg);

/* As bs_store_new, but on an existing backend (closed or open). On success
 * the store OWNS backend: it is closed and freed by bs_store_free, and the
 * caller must not free it. On failure the caller still owns it.
 * cfg->backend is ignored. Errors: BS_ERR_INVALID, BS_ERR_NOMEM. */
BS_API int bs_store_new_from_backend(bs_store **out, bs_backend *backend,
                                     const bs_store_config *cfg);

/* Closes the store if open, frees its backend and everything else. Accepts
 * NULL. All list iterators of the store must have been ended before. */
BS_API void bs_store_free(bs_store *s);

/* Replaces the namespace configuration (Python's set_levels), e.g. to
 * upgrade a namespace from [0] to [0, 1] on a store in use. The store may
 * be open or closed. Errors: as bs_store_new's cfg checks (INVALID, NOMEM);
 * on failure the old configuration stays. */
BS_API int bs_store_set_config(bs_store *s, const bs_store_namespace *namespaces, size_t n);

/* The backend under the store. Borrowed: valid until bs_store_free. Calls
 * on it bypass the store's mutex, its nesting and its stats: use it only for
 * inspection (tests, the demo) while no other thread uses the store. */
BS_API bs_backend *bs_store_backend(bs_store *s);

/* Flags of bs_store_create. */
#define BS_STORE_CREATE_PRECREATE 1u /* make every nesting dir of each
                                        namespace's deepest level */

/* Initializes the storage (must be closed). With BS_STORE_CREATE_PRECREATE
 * it then opens the store, creates each namespace's directory (level 0) or
 * every directory of its deepest level (256^level of them, e.g. 65,536 for
 * level 2) and closes it again, like Python's create_levels.
 * Errors: MUST_NOT_BE_OPEN, ALREADY_EXISTS (base not empty), PERMISSION,
 * IO, and the backend's connection errors. */
BS_API int bs_store_create(bs_store *s, unsigned flags);

/* Creates the directories described at BS_STORE_CREATE_PRECREATE for the
 * current configuration. Works open (stays open) or closed (opens and
 * closes). Errors: as bs_backend_mkdir/open. */
BS_API int bs_store_create_levels(bs_store *s);

/* Removes the storage and everything in it (must be closed).
 * Errors: MUST_NOT_BE_OPEN, DOES_NOT_EXIST, PERMISSION, IO. */
BS_API int bs_store_destroy(bs_store *s);

/* Starts / stops using the storage. open: MUST_NOT_BE_OPEN, DOES_NOT_EXIST,
 * IO, connection errors. close: MUST_BE_OPEN. Open list iterators of the
 * store return BS_ERR_MUST_BE_OPEN from then on. */
BS_API int bs_store_open(bs_store *s);
BS_API int bs_store_close(bs_store *s);

/* Whether the store is open. */
BS_API bool bs_store_is_open(bs_store *s);

/* The backend name (nested, plus ".del" when deleted) name maps to, into
 * out: with one configured level directly, with several the first level
 * where the item exists (probing with info), else the last level.
 * Errors: INVALID (bad name, no namespace, key too short for its level),
 * MUST_BE_OPEN, PERMISSION, IO (the last three only when probing). */
BS_API int bs_store_find(bs_store *s, const char *name, bool deleted, char out[BS_NAME_BUF]);

/* Information about item name (soft-deleted item when deleted). A missing
 * item is not an error: out->exists is false. out->name is the key part
 * (last component, without ".del").
 * Errors: MUST_BE_OPEN, INVALID, PERMISSION, IO. */
BS_API int bs_store_info(bs_store *s, const char *name, bool deleted, bs_item_info *out);

/* Loads size bytes (BS_SIZE_ALL: to the end) starting at offset of item name
 * (soft-deleted item when deleted). A negative offset counts from the end;
 * a range past the end yields the bytes that exist (maybe none).
 * On success *out is a malloc'd buffer owned by the caller (release with
 * bs_free; non-NULL even for 0 bytes) and *out_len its length; on failure
 * *out is NULL and *out_len 0.
 * Errors: MUST_BE_OPEN, INVALID, NOT_FOUND, READ_RANGE (negative offset
 * before the start), PERMISSION, IO, NOMEM. */
BS_API int bs_store_load(bs_store *s, const char *name, int64_t offset, int64_t size,
                         bool deleted, uint8_t **out, size_t *out_len);

/* Receives the next piece of a value (bs_store_load_to): 0 to go on,
 * anything else to stop the load. */
typedef int (*bs_write_fn)(void *ctx, const uint8_t *data, size_t len);

/* Loads offset/size of item name as bs_store_load does, but hands the value
 * to write(ctx, piece, len) in pieces of at most chunk bytes (0: 8 MiB), so
 * memory stays bounded by chunk whatever the value's size. Each piece is
 * one ranged backend load (on every backend; a piece shorter than asked
 * ends the load, so a small value costs one load, and a negative offset
 * asks for the size with info first): a value replaced while it is
 * being loaded may yield pieces of both (borg never rewrites an item in
 * place), and a value that shrinks ends the load early. *out_len (may be
 * NULL) is the number of bytes handed to write.
 * Errors: as bs_store_load, plus INVALID when write returned non-zero (or
 * is NULL) or size is negative and not BS_SIZE_ALL. */
BS_API int bs_store_load_to(bs_store *s, const char *name, int64_t offset, int64_t size,
                            bool deleted, size_t chunk, bs_write_fn write, void *ctx,
                            uint64_t *out_len);

/* Stores len bytes at data as item name, replacing an existing value (on the
 * level where it is; new items go to the last configured level). data is
 * only read during the call and not copied by the Store; it may be NULL when
 * len is 0. Errors: MUST_BE_OPEN, INVALID, PERMISSION, QUOTA, IO. */
BS_API int bs_store_store(bs_store *s, const char *name, const void *data, size_t len);

/* Supplies the next piece of a value (bs_store_store_from): fill buf with
 * 1..cap bytes, set *got and return 0; any other return abandons the store. */
typedef int (*bs_read_fn)(void *ctx, uint8_t *buf, size_t cap, size_t *got);

/* Stores exactly len bytes from read(ctx, buf, cap, &got) as item name, as
 * bs_store_store does (same name handling, level, stats and cache: the
 * cache entry is dropped), without holding the whole value in memory on
 * backends that stream (docs/backends.md; the others gather it in one
 * buffer first). read is never asked for more than remains. Nothing is
 * stored when read returns non-zero, or gives 0 bytes (ends early) or more
 * than asked. Errors: as bs_store_store, plus INVALID for a NULL read and
 * IO when read failed or ended before len bytes. */
BS_API int bs_store_store_from(bs_store *s, const char *name, uint64_t len, bs_read_fn read,
                               void *ctx);

/* Deletes item name at once (the soft-deleted one when deleted). See
 * BS_MOVE_SOFT_DELETE for soft deletion.
 * Errors: MUST_BE_OPEN, INVALID, NOT_FOUND, PERMISSION, IO. */
BS_API int bs_store_delete(bs_store *s, const char *name, bool deleted);

/* What bs_store_move does. */
typedef enum bs_move_mode {
    /* name -> new_name, both looked up like find (careful: overwrites). */
    BS_MOVE_RENAME = 0,
    /* name -> name + ".del" on the same level (soft delete). */
    BS_MOVE_SOFT_DELETE = 1,
    /* soft-deleted name -> name on the same level (undelete). */
    BS_MOVE_UNDELETE = 2,
    /* name (soft-deleted when deleted) -> the namespace's last configured
     * level (finishing an upgrade/downgrade of levels). */
    BS_MOVE_CHANGE_LEVEL = 3,
} bs_move_mode;

/* Moves an item as mode says. new_name is used by BS_MOVE_RENAME only (must
 * be given there, NULL otherwise is fine). deleted applies to RENAME (both
 * names soft-deleted) and CHANGE_LEVEL.
 * Errors: MUST_BE_OPEN, INVALID (bad names, no new_name for RENAME, unknown
 * mode), NOT_FOUND (source), PERMISSION, IO. */
BS_API int bs_store_move(bs_store *s, const char *name, const char *new_name, bs_move_mode mode,
                         bool deleted);

/* Starts listing namespace ns ("data", "data/" or "" for the root): every
 * item below it, walking nesting directories depth first (directories are
 * never reported). deleted=false: only items that are not soft-deleted;
 * true: only soft-deleted ones, reported without ".del". bs_item_info.name
 * is the key (last component); the full name is ns + "/" + name.
 *
 * Lazy: nothing is read into memory beyond one directory handle per nesting
 * level. The store's mutex is taken only inside bs_store_list_next, so other
 * operations (also from the listing thread itself) may run between steps.
 * The order is sorted when all items are on one level (the backend lists
 * sorted); with items on several levels it is sorted per level.
 *
 * The first directory is opened here, so a missing namespace is reported
 * now. Returns 0 and *out (release with bs_store_list_end; the store must
 * outlive it). Errors: MUST_BE_OPEN, INVALID, NOT_FOUND (namespace
 * directory missing), PERMISSION, IO, NOMEM. */
BS_API int bs_store_list_begin(bs_store *s, const char *ns, bool deleted, bs_store_list_iter **out);

/* Next item: returns 1 and fills *out, 0 at the end, or a negative error
 * (MUST_BE_OPEN when the store was closed meanwhile, IO, ...). After an
 * error every further call returns the same code. */
BS_API int bs_store_list_next(bs_store_list_iter *it, bs_item_info *out);

/* The directory the item last returned by bs_store_list_next was found in:
 * the namespace and its nesting directories ("data/00/11" for an item on
 * level 2), "" before the first item. The listing finds items on any level,
 * also those the store's configuration would not look on (written with
 * other levels): this tells them apart. Valid until the next call. */
BS_API const char *bs_store_list_dir(const bs_store_list_iter *it);

/* Releases an iterator. Accepts NULL. */
BS_API void bs_store_list_end(bs_store_list_iter *it);

/* Hex digest (alg) of item name's whole content into hex.
 * Errors: MUST_BE_OPEN, INVALID, NOT_FOUND, PERMISSION, IO. */
BS_API int bs_store_hash(bs_store *s, const char *name, bs_hash_alg alg, bool deleted,
                         char hex[BS_HASH_HEX_SIZE]);

/* One block for bs_store_defrag: size bytes at offset of item ns/name. */
typedef struct bs_store_block {
    const char *name; /* key only, without namespace, no '/' */
    uint64_t offset;
    uint64_t size;
} bs_store_block;

/* Creates a new item in namespace ns from blocks src[0..n) (in order), like
 * Python's Store.defrag. target is the new key (no '/'), or NULL to name the
 * item by the hex digest (alg) of its content, stored on the namespace's last
 * level. Sources (and target) are looked up with deleted. The new key
 * (without namespace) is written to out_key. Sources are not deleted.
 * Errors: MUST_BE_OPEN, INVALID, NOT_FOUND, READ_RANGE (a block reaches past
 * the end of its source; nothing is stored), PERMISSION, QUOTA, IO, NOMEM. */
BS_API int bs_store_defrag(bs_store *s, const char *ns, const bs_store_block *src, size_t n,
                           const char *target, bs_hash_alg alg, bool deleted,
                           char out_key[BS_NAME_BUF]);

/* Quota limit and usage in bytes (-1 in a field: not tracked).
 * Errors: MUST_BE_OPEN, IO. */
BS_API int bs_store_quota(bs_store *s, bs_quota *out);

/* Statistics, with the keys and meaning of Python borgstore's Store.stats:
 * *_calls count successful Store calls, *_time is the time spent in them in
 * seconds (including emulated delay; for list: inside the backend listing
 * calls, not the caller's time between steps), *_volume bytes moved through
 * the Store API, *_throughput = volume / time (0 when time is 0).
 * backend_* count what reached the backend: calls and bytes of its load,
 * store and delete (lookups with info that find makes are not counted).
 * hash_* are counted like the others (Python records them too). */
typedef struct bs_store_stats {
    uint64_t info_calls, load_calls, store_calls, delete_calls, move_calls, list_calls;
    double info_time, load_time, store_time, delete_time, move_time, list_time;
    uint64_t load_volume, store_volume;
    double load_throughput, store_throughput;
    uint64_t backend_load_calls, backend_store_calls, backend_delete_calls;
    uint64_t backend_load_volume, backend_store_volume;
    uint64_t hash_calls;
    double hash_time;
    /* The cache (bs_store_set_cache), with Python's keys: cache_hits and
     * cache_misses count writethrough loads answered from the cache or not
     * (hit_ratio = hits / (hits + misses), 0 without any); cache_errors every
     * failed cache operation (a warning, never an error of the Store call);
     * cache_{load,store,delete}_calls and cache_{load,store}_volume what
     * reached the cache backend; cache_disabled is 1 when the cache could not
     * be opened. Ours beyond Python's: cache_corrupt counts cached entries of
     * content-addressed namespaces that failed verification (dropped and
     * refetched; also counted in cache_errors), cache_evicted entries removed
     * by max_age or size. */
    uint64_t cache_hits, cache_misses;
    double cache_hit_ratio;
    uint64_t cache_errors;
    uint64_t cache_load_calls, cache_store_calls, cache_delete_calls;
    uint64_t cache_load_volume, cache_store_volume;
    uint64_t cache_disabled;
    uint64_t cache_corrupt, cache_evicted;
} bs_store_stats;

/* Copies the current statistics into *out (taken under the mutex, so the
 * values are consistent with each other). Never fails. */
BS_API void bs_store_stats_get(bs_store *s, bs_store_stats *out);

/* Output formats of bs_store_stats_format. */
typedef enum bs_stats_format {
    BS_STATS_TEXT = 0, /* "key value" lines, one per key */
    BS_STATS_JSON = 1, /* one JSON object, keys as above, ends with a newline */
} bs_stats_format;

/* Renders st into a new NUL-terminated string *out (release with bs_free).
 * Errors: INVALID (unknown format), NOMEM. */
BS_API int bs_store_stats_format(char **out, const bs_store_stats *st, bs_stats_format fmt);

/* Overrides the emulator (see bs_store_new): latency_us is added per
 * backend call, bandwidth_bps (bit/s, 0 = unlimited) limits the payload
 * rate. A call sleeps only for what the emulated time exceeds the real one;
 * a listing sleeps once per backend directory listing, not per item. */
BS_API void bs_store_set_emulation(bs_store *s, double latency_us, double bandwidth_bps);

/* ---- A cache of the store (Python borgstore 0.6's cache) -------------------
 * Per namespace, a second backend (any URL: usually a local file:// dir)
 * keeps copies of values:
 *   mirror        every load reads the whole value from the store, copies it
 *                 into the cache and returns the range asked for;
 *   writethrough  loads are answered from the cache when it has the item
 *                 (ranges too), else as mirror does.
 * In both modes store, delete and move go to the store first, then to the
 * cache; info, list, hash, defrag and quota never use it. A failing cache
 * operation is a warning on stderr (the first few per store) counted in
 * stats.cache_errors, never an error of the Store call.
 *
 * Unlike Python 0.6: entries of one store live below a directory of the
 * cache named by a hash of the store's identity (its URL), so one cache can
 * serve many stores; bs_store_create / bs_store_destroy only empty that
 * directory, never create or destroy the cache backend; max_age and size are
 * enforced while the store runs (before each cache store), not only at open
 * and close; namespaces with verify_sha256 serve only entries whose content
 * matches their name; several processes may share one cache directory. */

typedef enum bs_cache_mode {
    BS_CACHE_OFF = 0,
    BS_CACHE_MIRROR = 1,
    BS_CACHE_WRITETHROUGH = 2,
} bs_cache_mode;

/* The cache policy of one namespace. prefix is matched like
 * bs_store_namespace.prefix (startswith on the un-nested name, longest
 * first); it need not be one of the store's level namespaces. */
typedef struct bs_cache_namespace {
    const char *prefix;
    bs_cache_mode mode;
    /* Entries unused for longer than this many seconds are evicted; 0: no
     * limit. "Used" is the later of the entry's atime and mtime. */
    double max_age;
    /* Most bytes the namespace may hold in the cache; 0: no limit. Least
     * recently used entries go first. A value larger than size is not
     * cached. */
    uint64_t size;
    /* Content-addressed namespace: an item's key (last name component) is
     * the sha256 hex digest of its value. A cached entry is verified in full
     * before this process first serves it (and again whenever it changes on
     * the cache); a mismatch is dropped, counted (cache_corrupt) and the value
     * refetched from the store. Keys that are not 64 hex digits, and values
     * from the store that do not match their key, are not cached. */
    bool verify_sha256;
} bs_cache_namespace;

/* The cache of a store. Zero-initialize; fields are only appended. */
typedef struct bs_cache_config {
    /* The cache backend: a URL, or (when url is NULL) an existing backend
     * the store takes over on success (freed by bs_store_free). */
    const char *url;
    bs_backend *backend;
    /* Passed to bs_backend_new for url. */
    bs_backend_config backend_config;
    /* What keeps this store's entries apart from other stores' in the same
     * cache: NULL means the URL the store was made with (bs_store_new);
     * required for bs_store_new_from_backend. */
    const char *id;
    /* Policies (mode BS_CACHE_OFF entries are allowed and cache nothing). */
    const bs_cache_namespace *namespaces;
    size_t n_namespaces;
} bs_cache_config;

/* Gives the store a cache (replacing any earlier one; cfg NULL removes it).
 * The store must be closed. The cache backend is opened by bs_store_open
 * (created when missing); if that fails the cache is disabled with a warning
 * (stats.cache_disabled) and the store works without it.
 * Errors: MUST_NOT_BE_OPEN, INVALID (a mode other than off without url or
 * backend, both given, a bad prefix or mode, a prefix given twice, no id
 * for a store without URL), URL_INVALID, NOMEM. On failure the old cache
 * stays and the caller still owns cfg->backend. */
BS_API int bs_store_set_cache(bs_store *s, const bs_cache_config *cfg);

/* Drops cached entries (Python's cache_invalidate): "" every entry of this
 * store, a cache namespace prefix (with or without its trailing '/') every
 * entry in it, any other name that item (and its soft-deleted copy).
 * Needs the store open. Errors: MUST_BE_OPEN, INVALID (bad name); cache
 * failures only count in the stats. */
BS_API int bs_store_cache_invalidate(bs_store *s, const char *name);

/* Parses a --cache-ns style policy "NS=MODE[,max-age=SECONDS][,size=BYTES]
 * [,verify]" (MODE off, mirror or writethrough; BYTES may end in K, M, G or
 * T for powers of 1024; NS written as in --levels, "" for every name) into
 * *out. out->prefix points into prefix_buf (NS with a trailing '/').
 * Errors: INVALID (with a message naming the part). */
BS_API int bs_cache_namespace_parse(bs_cache_namespace *out, char prefix_buf[BS_NAME_BUF],
                                    const char *spec);

/* ---- Many items at once ----------------------------------------------------
 * Batches run one kind of operation over many names, keeping up to `window`
 * requests in flight on backends that pipeline (the remote backend; 0 means
 * the window the backend advertises, 1 is one at a time). Each item gets its
 * own result through cb(ctx, index, res) in completion order (index into
 * names): one missing item does not fail the others. Items are counted in
 * the stats exactly as the single calls count them; the emulated latency is
 * applied once per window of requests. The store's mutex is held while a
 * batch runs (operations stay serialized). Memory stays bounded by the
 * window, not by n: load results are handed to cb one by one (see
 * bs_op_result for how cb may keep a value).
 *
 * Returns 0 when every item was attempted and reported; BS_ERR_INVALID for
 * bad arguments (nothing ran) or when cb stopped the batch (non-zero
 * return); or an error that ended the batch (MUST_BE_OPEN, CONNECTION, ...).
 * cb may be NULL for store/delete/move batches: then the return value is
 * the first item's error (all items are still attempted). */

/* Loads offset/size (as bs_store_load) of each names[i]. */
BS_API int bs_store_load_many(bs_store *s, const char *const *names, size_t n, int64_t offset,
                              int64_t size, bool deleted, size_t window, bs_op_cb cb, void *ctx);

/* Info of each names[i]; res->info.name is the key (as bs_store_info). */
BS_API int bs_store_info_many(bs_store *s, const char *const *names, size_t n, bool deleted,
                              size_t window, bs_op_cb cb, void *ctx);

/* Stores values[i] (lens[i] bytes) as names[i]. Values are read from the
 * caller's buffers (not copied) and must stay valid until the call returns. */
BS_API int bs_store_store_many(bs_store *s, const char *const *names, const void *const *values,
                               const size_t *lens, size_t n, size_t window, bs_op_cb cb, void *ctx);

/* Deletes each names[i] (the soft-deleted ones when deleted). */
BS_API int bs_store_delete_many(bs_store *s, const char *const *names, size_t n, bool deleted,
                                size_t window, bs_op_cb cb, void *ctx);

/* Moves each names[i] as mode says: BS_MOVE_SOFT_DELETE, BS_MOVE_UNDELETE or
 * BS_MOVE_CHANGE_LEVEL (BS_MOVE_RENAME needs two names: use bs_store_move). */
BS_API int bs_store_move_many(bs_store *s, const char *const *names, size_t n, bs_move_mode mode,
                              bool deleted, size_t window, bs_op_cb cb, void *ctx);

/* Fire and forget (as borg's async put/delete): the operation is sent (the
 * value handed to the transport, so data may be reused when this returns)
 * and its outcome is collected later. Errors of such operations are reported
 * by bs_store_flush, which waits for all of them. Operations run in the
 * order they were made, so a later load sees an earlier async store.
 * Returns 0, or an error about the request itself (INVALID, MUST_BE_OPEN) or
 * the connection. */
BS_API int bs_store_store_async(bs_store *s, const char *name, const void *data, size_t len);
BS_API int bs_store_delete_async(bs_store *s, const char *name, bool deleted);

/* Waits for every fire-and-forget operation. Returns 0, or the first
 * failure's code (message names the item) with the number of failures in
 * *failed (may be NULL). bs_store_close flushes too. */
BS_API int bs_store_flush(bs_store *s, size_t *failed);

#ifdef __cplusplus
}
#endif
#endif
