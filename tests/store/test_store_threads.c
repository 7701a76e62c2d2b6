/* Thread safety, mirroring Python borgstore's tests/test_threading.py: a
 * backend wrapper counts overlapping calls (there must be none), several
 * threads hammer one store, and a listing interleaves with other threads'
 * operations because its iterator holds the mutex only inside a step. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/backend.h"
#include "fixture.h"

/* ---- a backend that notices overlapping calls ---------------------------- */

typedef struct guard_backend {
    bs_backend base;
    bs_backend *inner;
    atomic_int busy;
    atomic_int violations;
    atomic_int calls;
} guard_backend;

#define G(b) ((guard_backend *)(b))

static void enter(bs_backend *b)
{
    if (atomic_exchange(&G(b)->busy, 1)) atomic_fetch_add(&G(b)->violations, 1);
    atomic_fetch_add(&G(b)->calls, 1);
    for (int i = 0; i < 20; i++) sched_yield(); /* widen the window for overlaps */
}

static void leave(bs_backend *b) { atomic_store(&G(b)->busy, 0); }

#define GUARDED(call)                                                                 \
    do {                                                                              \
        enter(b);                                                                     \
        int rc_ = (call);                                                             \
        leave(b);                                                                     \
        return rc_;                                                                   \
    } while (0)

static int g_create(bs_backend *b) { GUARDED(bs_backend_create(G(b)->inner)); }
static int g_destroy(bs_backend *b) { GUARDED(bs_backend_destroy(G(b)->inner)); }
static int g_open(bs_backend *b) { GUARDED(bs_backend_open(G(b)->inner)); }
static int g_close(bs_backend *b) { GUARDED(bs_backend_close(G(b)->inner)); }
static int g_mkdir(bs_backend *b, const char *n) { GUARDED(bs_backend_mkdir(G(b)->inner, n)); }
static int g_rmdir(bs_backend *b, const char *n) { GUARDED(bs_backend_rmdir(G(b)->inner, n)); }
static int g_info(bs_backend *b, const char *n, bs_item_info *o)
{
    GUARDED(bs_backend_info(G(b)->inner, n, o));
}
static int g_load(bs_backend *b, const char *n, int64_t off, int64_t size, uint8_t **o,
                  size_t *l)
{
    GUARDED(bs_backend_load(G(b)->inner, n, off, size, o, l));
}
static int g_store(bs_backend *b, const char *n, const void *d, size_t l)
{
    GUARDED(bs_backend_store(G(b)->inner, n, d, l));
}
static int g_delete(bs_backend *b, const char *n) { GUARDED(bs_backend_delete(G(b)->inner, n)); }
static int g_move(bs_backend *b, const char *c, const char *d)
{
    GUARDED(bs_backend_move(G(b)->inner, c, d));
}
static int g_quota(bs_backend *b, bs_quota *o) { GUARDED(bs_backend_quota(G(b)->inner, o)); }

typedef struct guard_iter {
    bs_list_iter base;
    bs_backend *b;
    bs_list_iter *inner;
} guard_iter;

static int gi_next(bs_list_iter *it, bs_item_info *out)
{
    guard_iter *gi = (guard_iter *)it;
    bs_backend *b = gi->b;
    GUARDED(bs_backend_list_next(gi->inner, out));
}

static void gi_end(bs_list_iter *it)
{
    guard_iter *gi = (guard_iter *)it;
    enter(gi->b);
    bs_backend_list_end(gi->inner);
    leave(gi->b);
    free(gi);
}

static int g_list_begin(bs_backend *b, const char *n, bs_list_iter **out)
{
    guard_iter *gi = calloc(1, sizeof *gi);
    gi->base.next = gi_next;
    gi->base.end = gi_end;
    gi->b = b;
    enter(b);
    int rc = bs_backend_list_begin(G(b)->inner, n, &gi->inner);
    leave(b);
    if (rc) {
        free(gi);
        return rc;
    }
    *out = &gi->base;
    return 0;
}

static void g_free(bs_backend *b)
{
    bs_backend_free(G(b)->inner);
    free(b);
}

static const bs_backend_ops guard_ops = {
    .version = BS_BACKEND_OPS_VERSION, .scheme = "guard",
    .create = g_create, .destroy = g_destroy, .open = g_open, .close = g_close,
    .mkdir = g_mkdir, .rmdir = g_rmdir, .info = g_info, .load = g_load, .store = g_store,
    .delete = g_delete, .move = g_move, .list_begin = g_list_begin, .quota = g_quota,
    .free = g_free,
};

static guard_backend *guard;

/* A created and opened store on a guarded posix backend, zero/ at [0]. */
static void setup_guarded(void)
{
    fx_setup_dir();
    guard = calloc(1, sizeof *guard);
    guard->base.ops = &guard_ops;
    ASSERT_OK(bs_backend_new(&guard->inner, fx_url, NULL));
    bs_store_config cfg = {.namespaces = fx_levels, .n_namespaces = 3};
    ASSERT_OK(bs_store_new_from_backend(&fx_s, &guard->base, &cfg));
    ASSERT_OK(bs_store_create(fx_s, 0));
    ASSERT_OK(bs_store_open(fx_s));
}

TestSuite(store_threads, .init = setup_guarded, .fini = fx_teardown);

/* ---- hammering -------------------------------------------------------------- */

#define N_THREADS 4
#define N_OPS 40

static void *hammer(void *arg)
{
    unsigned t = (unsigned)(uintptr_t)arg;
    for (unsigned i = 0; i < N_OPS; i++) {
        char name[32], value[32];
        snprintf(name, sizeof name, "zero/%08x", t * 1000 + i); /* fx_key is not thread-safe */
        int vlen = snprintf(value, sizeof value, "%u-%u", t, i);
        if (bs_store_store(fx_s, name, value, (size_t)vlen)) return (void *)"store";
        uint8_t *v;
        size_t len;
        if (bs_store_load(fx_s, name, 0, BS_SIZE_ALL, false, &v, &len)) return (void *)"load";
        bool same = len == (size_t)vlen && !memcmp(v, value, len);
        bs_free(v);
        if (!same) return (void *)"value";
        bs_item_info info;
        if (bs_store_info(fx_s, name, false, &info) || !info.exists) return (void *)"info";
        if (i % 5 == 0) {
            bs_store_list_iter *it;
            if (bs_store_list_begin(fx_s, "zero", false, &it)) return (void *)"list";
            int rc;
            while ((rc = bs_store_list_next(it, &info)) == 1) {
            }
            bs_store_list_end(it);
            if (rc) return (void *)"list_next";
        }
        if (i % 7 == 0) {
            if (bs_store_move(fx_s, name, NULL, BS_MOVE_SOFT_DELETE, false)) return (void *)"sd";
            if (bs_store_move(fx_s, name, NULL, BS_MOVE_UNDELETE, false)) return (void *)"ud";
        }
        if (bs_store_delete(fx_s, name, false)) return (void *)"delete";
    }
    return NULL;
}

Test(store_threads, concurrent_operations_are_serialized)
{
    pthread_t th[N_THREADS];
    for (uintptr_t i = 0; i < N_THREADS; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, hammer, (void *)i), 0);
    for (int i = 0; i < N_THREADS; i++) {
        void *res;
        pthread_join(th[i], &res);
        cr_assert_null(res, "thread %d failed at %s", i, res ? (char *)res : "");
    }
    cr_assert_gt(atomic_load(&guard->calls), 0);
    cr_assert_eq(atomic_load(&guard->violations), 0, "backend calls overlapped");
    bs_store_stats st;
    bs_store_stats_get(fx_s, &st);
    cr_assert_eq(st.store_calls, N_THREADS * N_OPS, "no lost counter updates");
    cr_assert_eq(st.load_calls, N_THREADS * N_OPS);
    cr_assert_eq(st.delete_calls, N_THREADS * N_OPS);
    cr_assert_eq(st.list_calls, N_THREADS * (N_OPS / 5));
    cr_assert_eq(st.backend_store_calls, N_THREADS * N_OPS);
    char *l = fx_list(fx_s, "zero", false);
    cr_assert_str_eq(l, "");
    free(l);
}

/* ---- a listing interleaves with another thread ------------------------------ */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool listing_started, other_done;
static const char *other_failed;

static void *other_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (!listing_started) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    for (unsigned i = 0; i < 10 && !other_failed; i++) {
        char name[32];
        snprintf(name, sizeof name, "zero/%08x", 100 + i);
        if (bs_store_store(fx_s, name, "other", 5)) other_failed = "store";
        else if (bs_store_delete(fx_s, name, false)) other_failed = "delete";
    }
    pthread_mutex_lock(&mu);
    other_done = true;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    return NULL;
}

Test(store_threads, listing_does_not_hold_the_mutex_between_steps)
{
    for (unsigned i = 0; i < 50; i++) {
        char name[32];
        snprintf(name, sizeof name, "zero/%s", fx_key(i));
        ASSERT_OK(bs_store_store(fx_s, name, "value", 5));
    }
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, other_thread, NULL), 0);
    bs_store_list_iter *it;
    ASSERT_OK(bs_store_list_begin(fx_s, "zero", false, &it));
    bs_item_info info;
    int seen = 0, rc;
    while ((rc = bs_store_list_next(it, &info)) == 1) {
        if (++seen != 1) continue;
        /* mid-listing: the other thread must be able to finish its work */
        pthread_mutex_lock(&mu);
        listing_started = true;
        pthread_cond_signal(&cv);
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 20;
        int w = 0;
        while (!other_done && w == 0) w = pthread_cond_timedwait(&cv, &mu, &deadline);
        bool done = other_done;
        pthread_mutex_unlock(&mu);
        cr_assert(done, "the other thread was blocked while a listing was open");
    }
    cr_assert_eq(rc, 0, "%s", bs_error_message());
    bs_store_list_end(it);
    pthread_join(th, NULL);
    cr_assert_null(other_failed, "%s", other_failed);
    cr_assert_geq(seen, 50);
    cr_assert_eq(atomic_load(&guard->violations), 0);
}
