/* The Store's cache (bs_store_set_cache), internal side. cache_policy.c:
 * configuration, policy lookup, cache names, ranges; cache.c: lifecycle and
 * the hooks the Store calls around its backend calls; cache_evict.c: max_age
 * and size; cache_verify.c: content checks of content-addressed namespaces;
 * cache_batch.c: batch loads. Every bs__cache_* function expects the store's
 * mutex to be held and accepts a store without cache (then does nothing). */
#ifndef BS_CLIENT_CACHE_H
#define BS_CLIENT_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "borgstore/store.h"

/* Hex digits of the per-store directory in the cache. */
#define BS_CACHE_ID_HEX 16

typedef struct cache_ns {
    char *prefix;
    size_t len;
    bs_cache_mode mode;
    uint64_t max_age_ns; /* 0: none */
    uint64_t size;       /* 0: none */
    bool verify;
    bool used_known;     /* used is from a scan (plus our stores since) */
    uint64_t used;       /* bytes in the cache, as far as this process knows */
} cache_ns;

/* What cache_verify.c remembers: entries verified by this process. */
typedef struct cache_seen {
    char key[BS_NAME_BUF];
    uint64_t size;
    int64_t mtime_ns;
} cache_seen;

typedef struct bs_cache {
    bs_backend *b;
    char id[BS_CACHE_ID_HEX + 1];
    cache_ns *ns; /* longest prefix first */
    size_t n_ns;
    bool disabled; /* open failed: works without the cache until reopened */
    unsigned warnings;
    uint64_t hits, misses, errors, load_calls, store_calls, delete_calls;
    uint64_t load_volume, store_volume, corrupt, evicted;
    cache_seen *seen; /* open-addressing set of verified entries */
    size_t seen_cap, seen_n;
} bs_cache;

/* ---- cache_policy.c ---- */

/* Validated copy of cfg's policies into c (sorted longest first). */
int bs__cache_policies_copy(bs_cache *c, const bs_cache_namespace *nss, size_t n);
void bs__cache_policies_free(bs_cache *c);

/* The policy for un-nested (or nested: nesting only adds directories after
 * the prefix) name, or NULL when it is not cached (mode off, no policy,
 * cache disabled or absent). */
cache_ns *bs__cache_policy(bs_cache *c, const char *name);

/* c->id from the store's identity. */
void bs__cache_set_id(bs_cache *c, const char *identity);

/* The cache name of backend name nested: "<id>/<nested>". INVALID when too
 * long (the caller treats it as a cache failure). */
int bs__cache_key(const bs_cache *c, const char *nested, char out[BS_NAME_BUF]);

/* Cuts the range offset/size (as bs_backend_load) of a whole value
 * buf[0..*len) in place: moves the range to the start and sets *len.
 * Returns 0 or READ_RANGE (negative offset before the start). */
int bs__cache_slice(uint8_t *buf, size_t *len, int64_t offset, int64_t size, const char *name);

/* ---- cache.c ---- */

/* A warning on stderr (the first few per cache) and cache_errors++. */
void bs__cache_warn(bs_cache *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Deletes cache name key; NOT_FOUND is fine. Counts and warns. */
void bs__cache_drop(bs_cache *c, const char *key);

/* Stores value under key, making room first when p has a size. */
void bs__cache_put(bs_cache *c, cache_ns *p, const char *key, const uint8_t *v, size_t len);

/* Tries to answer a load of key (policy p, writethrough) from the cache:
 * 1 hit (*out, *out_len set), 0 miss (counted). Never fails. */
int bs__cache_try_load(bs_cache *c, cache_ns *p, const char *key, int64_t offset, int64_t size,
                       uint8_t **out, size_t *out_len);

/* After a whole value of key was loaded from the store: caches it when it
 * may be (verify: only when it matches its name). */
void bs__cache_after_full_load(bs_cache *c, cache_ns *p, const char *key, const uint8_t *v,
                               size_t len);

/* Hooks after a successful store call (names: Store name, nested name). */
void bs__cache_after_store(bs_cache *c, const char *name, const char *nested, const void *v,
                           size_t len);
void bs__cache_after_delete(bs_cache *c, const char *name, const char *nested);
void bs__cache_after_move(bs_cache *c, const char *name, const char *new_name,
                          const char *cur, const char *dst);

/* Lifecycle around the store's own: open after the store opened, close
 * before it closes; create/destroy empty this store's directory. */
void bs__cache_open(bs_cache *c);
void bs__cache_close(bs_cache *c);
void bs__cache_purge(bs_cache *c);
void bs__cache_free(bs_cache *c);

/* Adds the cache's counters to *out. */
void bs__cache_stats(const bs_cache *c, bs_store_stats *out);

/* bs_store_load of name (nested: its backend name) in namespace policy p,
 * with the store's call begun at start and the backend part at t0: ends the
 * call (unlocks) and returns its code. */
struct bs_store;
int bs__cache_load(struct bs_store *s, cache_ns *p, const char *name, const char *nested,
                   bool deleted, int64_t offset, int64_t size, uint8_t **out, size_t *out_len,
                   uint64_t start, uint64_t t0);

/* ---- cache_batch.c ---- */

/* Before a load batch: 1 when the cache answers name (res->data, res->len
 * set), else 0, with op (whose name is the nested name) widened to the whole
 * value when name's namespace is cached. */
int bs__cache_batch_prepare(bs_cache *c, const char *name, bs_op *op, int64_t offset,
                            int64_t size, bs_op_result *res);

/* A successful result of op for name: caches the whole value and cuts the
 * range (or sets res->rc to READ_RANGE) when the op was widened. */
void bs__cache_batch_loaded(bs_cache *c, const char *name, const char *nested, int64_t offset,
                            int64_t size, bs_op_result *res);

/* ---- cache_evict.c ---- */

/* Scans p's entries of this store, deletes those older than max_age, then
 * least recently used ones until at most target bytes are left (target
 * UINT64_MAX: no size step), and sets p->used. */
void bs__cache_evict(bs_cache *c, cache_ns *p, uint64_t target);

/* Makes room for len more bytes in p (size bound), evicting when needed. */
void bs__cache_make_room(bs_cache *c, cache_ns *p, uint64_t len);

/* Deletes every entry below cache directory dir (and the directories). */
void bs__cache_remove_tree(bs_cache *c, const char *dir);

/* ---- cache_verify.c ---- */

/* Whether key's last component is a sha256 hex digest (64 lowercase hex). */
bool bs__cache_verifiable(const char *key);

/* Whether v matches key's last component (sha256 hex). */
bool bs__cache_matches(const char *key, const uint8_t *v, size_t len);

/* The verified-entries set: remember / look up (size, mtime) of key. */
void bs__cache_seen_add(bs_cache *c, const char *key, uint64_t size, int64_t mtime_ns);
bool bs__cache_seen_has(const bs_cache *c, const char *key, uint64_t size, int64_t mtime_ns);
void bs__cache_seen_forget(bs_cache *c, const char *key);
void bs__cache_seen_free(bs_cache *c);

#endif
