/* Store internals shared by the files of the Store (store.c: single-item
 * operations and listing; store_batch.c: batches and fire-and-forget).
 * Not part of the public API. Every bs__store_*_locked function expects the
 * store's mutex to be held. */
#ifndef BS_CLIENT_STORE_INTERNAL_H
#define BS_CLIENT_STORE_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "borgstore/store.h"

/* Store operations that have stats. */
enum { OP_INFO, OP_LOAD, OP_STORE, OP_DELETE, OP_MOVE, OP_LIST, OP_HASH, OP_COUNT };

/* Levels above this are refused by create_levels: 256^4 directories. */
#define PRECREATE_LEVEL_MAX 3

typedef struct ns_entry {
    char *prefix;
    size_t len;
    int levels[BS_STORE_LEVELS_MAX];
    size_t nlevels;
} ns_entry;

struct bs_store {
    pthread_mutex_t mu;
    bs_backend *b;
    ns_entry *ns; /* longest prefix first */
    size_t n_ns;
    uint64_t generation; /* bumped on close: stale list iterators notice */
    uint64_t latency_ns;
    double bandwidth; /* bytes per second, 0 = unlimited */
    /* counters (ns for times) */
    uint64_t calls[OP_COUNT];
    uint64_t time_ns[OP_COUNT];
    uint64_t load_volume, store_volume;
    uint64_t be_load_calls, be_store_calls, be_delete_calls;
    uint64_t be_load_volume, be_store_volume;
    /* Batch scratch (store_batch.c), kept between batches: allocating and
     * faulting in ~1 MB per batch cost ~0.8 us per item on this VM. */
    struct bs_op *batch_ops;
    char (*batch_names)[BS_NAME_BUF];
    size_t batch_cap;
    struct bs_cache *cache; /* NULL: none (client/cache.h) */
    char *url;              /* bs_store_new's URL (the cache's default id) */
};

/* Monotonic clock in ns. */
uint64_t bs__store_now_ns(void);

/* Sleeps for what the emulated latency/bandwidth of `calls` backend round
 * trips (a batch: one per window) that began at start and moved volume bytes
 * exceeds the real time taken. */
void bs__store_emulate_calls(const bs_store *s, uint64_t start, uint64_t calls, uint64_t volume);

/* A single-item Store call holds the mutex from begin to end. Locks; returns
 * the call's start time. */
uint64_t bs__store_call_begin(bs_store *s);

/* Ends the call of kind op (OP_*) with rc and unlocks. On success only (a
 * failing call is not counted, as in Python): sleeps for the emulated backend
 * call that began at since (0: none was made) and moved volume bytes, adds volume to the
 * load/store volumes (Store and backend) and counts the call and its time
 * since start. Returns rc. */
int bs__store_call_end(bs_store *s, int rc, int op, uint64_t start, uint64_t since,
                       uint64_t volume);

/* Backend name of item name (find): see bs_store_find. */
int bs__store_find_locked(bs_store *s, const char *name, bool deleted, char out[BS_NAME_BUF]);

/* Rewrites a backend NOT_FOUND about a nested name into one about name. */
int bs__store_not_found(int rc, const char *name, bool deleted);

/* The largest value one load of the store's backend may return (0: none
 * known), so streamed loads ask for pieces the server will send. */
uint64_t bs__store_value_limit(bs_store *s);

/* Source and target backend names of a move; *src_deleted tells whether the
 * source is a soft-deleted item. */
int bs__store_move_names(bs_store *s, const char *name, const char *new_name, bs_move_mode mode,
                         bool deleted, char cur[BS_NAME_BUF], char dst[BS_NAME_BUF],
                         bool *src_deleted);

#endif
