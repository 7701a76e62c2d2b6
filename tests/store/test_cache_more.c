/* What the Store cache does beyond Python 0.6: verified content-addressed
 * namespaces, one cache shared by stores and by processes, eviction while
 * running and at open, batches. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache_fixture.h"
#include "testutil.h"

TestSuite(cache_more, .init = cx_setup, .fini = cx_teardown);

static const bs_cache_namespace packs_verified[] = {
    {.prefix = "packs/", .mode = BS_CACHE_WRITETHROUGH, .verify_sha256 = true},
};

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Sets atime and mtime of path to now - age_s seconds (+ ns). */
static void age(const char *path, int64_t age_s, long ns)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct timespec t[2] = {{.tv_sec = now.tv_sec - age_s, .tv_nsec = ns},
                            {.tv_sec = now.tv_sec - age_s, .tv_nsec = ns}};
    cr_assert_eq(utimensat(AT_FDCWD, path, t, 0), 0, "utimensat %s", path);
}

/* Flips one byte of the file at path, keeping its size. */
static void corrupt(const char *path, size_t at)
{
    size_t n;
    char *v = bs_test_read_file(path, &n);
    cr_assert(v && at < n);
    v[at] ^= 0x20;
    cr_assert_eq(bs_test_write_file(path, v, n), 0);
    free(v);
}

/* ---- verification ---- */

Test(cache_more, a_corrupted_entry_is_dropped_and_refetched_never_returned)
{
    uint8_t pack[4096];
    bs_test_fill(pack, sizeof pack, 1);
    char name[BS_NAME_BUF + 80];
    snprintf(name, sizeof name, "%s", cx_sha_name("packs", pack, sizeof pack));
    bs_store *s = cx_open(cx_url, packs_verified, 1, true);
    CX_OK(bs_store_store(s, name, pack, sizeof pack));
    cx_close(s);
    char path[4200];
    snprintf(path, sizeof path, "%s", cx_entry(cx_url, name));
    corrupt(path, 1000); /* bit rot: same size */

    s = cx_open(cx_url, packs_verified, 1, false);
    cx_expect(s, name, 1000, 16, pack + 1000, 16);
    bs_store_stats st = cx_stats(s);
    cr_assert_eq(st.cache_corrupt, 1);
    cr_assert_eq(st.backend_load_calls, 1, "refetched from the store");
    cr_assert_eq(st.cache_hits, 0);
    size_t n;
    char *v = bs_test_read_file(path, &n);
    cr_assert(v && n == sizeof pack && !memcmp(v, pack, n), "the cache holds the good copy");
    free(v);
    /* now verified: ranges are served from the cache */
    cx_expect(s, name, -16, 16, pack + sizeof pack - 16, 16);
    cr_assert_eq(cx_stats(s).backend_load_calls, 1);
    cr_assert_eq(cx_stats(s).cache_hits, 1);

    /* changed after it was verified (a new mtime): verified again */
    corrupt(path, 5);
    age(path, 10, 123);
    cx_expect(s, name, 0, 16, pack, 16);
    cr_assert_eq(cx_stats(s).cache_corrupt, 2);
    cr_assert_eq(cx_stats(s).backend_load_calls, 2);
    cx_close(s);
}

Test(cache_more, values_that_do_not_match_their_name_are_not_cached)
{
    bs_store *s = cx_open(cx_url, packs_verified, 1, true);
    char name[BS_NAME_BUF + 80];
    snprintf(name, sizeof name, "%s", cx_sha_name("packs", "other", 5));
    CX_OK(bs_store_store(s, name, "value", 5));
    cr_assert(!exists(cx_entry(cx_url, name)));
    cx_expect(s, name, 0, BS_SIZE_ALL, "value", 5); /* the store's answer stands */
    cr_assert(!exists(cx_entry(cx_url, name)));
    CX_OK(bs_store_store(s, "packs/notahash", "v", 1));
    cx_expect(s, "packs/notahash", 0, BS_SIZE_ALL, "v", 1);
    cx_expect(s, "packs/notahash", 0, BS_SIZE_ALL, "v", 1);
    cr_assert(!exists(cx_entry(cx_url, "packs/notahash")));
    bs_store_stats st = cx_stats(s);
    cr_assert_eq(st.backend_load_calls, 3);
    cr_assert_eq(st.cache_hits, 0);
    cx_close(s);
}

/* ---- sharing ---- */

Test(cache_more, stores_sharing_one_cache_keep_their_entries_apart)
{
    static const bs_cache_namespace all[] = {{.prefix = "", .mode = BS_CACHE_WRITETHROUGH}};
    char other[4200];
    snprintf(other, sizeof other, "%s2", cx_url);
    bs_store *a = cx_open(cx_url, all, 1, true);
    bs_store *b = cx_open(other, all, 1, true);
    CX_OK(bs_store_store(a, "config/x", "from a", 6));
    CX_OK(bs_store_store(b, "config/x", "from b", 6));
    cx_expect(a, "config/x", 0, BS_SIZE_ALL, "from a", 6);
    cx_expect(b, "config/x", 0, BS_SIZE_ALL, "from b", 6);
    cr_assert_eq(cx_stats(a).cache_hits, 1);
    cr_assert_eq(cx_stats(b).cache_hits, 1);
    cx_close(a);
    cx_close(b);
}

/* One child: n loads and stores of shared and own items, each checked. */
static int child(int id, int n)
{
    bs_store_config cfg = {.namespaces = cx_levels, .n_namespaces = 3};
    bs_cache_namespace pol = {.prefix = "packs/", .mode = BS_CACHE_WRITETHROUGH,
                              .size = 24 * 1024, .verify_sha256 = true};
    bs_cache_config cc = {.url = cx_cache_url, .namespaces = &pol, .n_namespaces = 1};
    bs_store *s;
    if (bs_store_new(&s, cx_url, &cfg) || bs_store_set_cache(s, &cc) || bs_store_open(s))
        return 10;
    int bad = 0;
    for (int i = 0; i < n && !bad; i++) {
        uint8_t v[2048];
        /* items 0..15 are shared (all children store the same bytes) */
        unsigned which = (unsigned)((i * 7 + id * (i % 3)) % 16);
        bool own = i % 4 == 3;
        bs_test_fill(v, sizeof v, own ? 1000u + (unsigned)(id * n + i) : which);
        char name[BS_NAME_BUF + 80];
        snprintf(name, sizeof name, "%s", cx_sha_name("packs", v, sizeof v));
        if (own || i % 5 == 0) bad |= bs_store_store(s, name, v, sizeof v) ? 1 : 0;
        uint8_t *got;
        size_t len;
        int rc = bs_store_load(s, name, 100, 50, false, &got, &len);
        if (rc == BS_ERR_NOT_FOUND && !own) { /* not stored by anyone yet */
            bad |= bs_store_store(s, name, v, sizeof v) ? 2 : 0;
            rc = bs_store_load(s, name, 100, 50, false, &got, &len);
        }
        if (rc) bad |= 4;
        else if (len != 50 || memcmp(got, v + 100, 50)) bad |= 8;
        bs_free(got);
    }
    bs_store_stats st;
    bs_store_stats_get(s, &st);
    if (st.cache_corrupt) bad |= 16;
    if (bs_store_close(s)) bad |= 32;
    bs_store_free(s);
    return bad;
}

Test(cache_more, processes_sharing_one_cache_directory_see_only_correct_values)
{
    bs_store *s = cx_open(cx_url, packs_verified, 1, true);
    cx_close(s);
    enum { KIDS = 4, OPS = 150 };
    pid_t pids[KIDS];
    for (int k = 0; k < KIDS; k++) {
        pids[k] = fork();
        cr_assert_geq(pids[k], 0);
        if (pids[k] == 0) _exit(child(k, OPS));
    }
    for (int k = 0; k < KIDS; k++) {
        int status;
        cr_assert_eq(waitpid(pids[k], &status, 0), pids[k]);
        cr_assert(WIFEXITED(status), "child %d died", k);
        cr_assert_eq(WEXITSTATUS(status), 0, "child %d failed: %d", k, WEXITSTATUS(status));
    }
    /* the last process closed after every store: the bound holds */
    uint64_t used = cx_cache_bytes(cx_url, "packs");
    cr_assert_leq(used, 24 * 1024, "cache holds %llu bytes", (unsigned long long)used);
}

/* ---- eviction ---- */

Test(cache_more, eviction_keeps_the_size_bound_while_running)
{
    const uint64_t bound = 10 * 1000;
    bs_cache_namespace pol = {.prefix = "packs/", .mode = BS_CACHE_WRITETHROUGH,
                              .size = bound};
    bs_store *s = cx_open(cx_url, &pol, 1, true);
    char v[1000];
    for (unsigned i = 0; i < 60; i++) {
        char name[64];
        snprintf(name, sizeof name, "packs/%08x", i);
        memset(v, 'a' + (int)(i % 26), sizeof v);
        CX_OK(bs_store_store(s, name, v, sizeof v));
        uint64_t used = cx_cache_bytes(cx_url, "packs");
        cr_assert_leq(used, bound, "after store %u: %llu bytes", i, (unsigned long long)used);
        cr_assert(exists(cx_entry(cx_url, name)), "the newest entry is kept");
    }
    /* loads fill the cache under the bound too */
    for (unsigned i = 0; i < 60; i += 3) {
        char name[64];
        snprintf(name, sizeof name, "packs/%08x", i);
        memset(v, 'a' + (int)(i % 26), sizeof v);
        cx_expect(s, name, 10, 5, v, 5);
        cr_assert_leq(cx_cache_bytes(cx_url, "packs"), bound);
        uint64_t hits = cx_stats(s).cache_hits;
        cx_expect(s, name, 0, 1, v, 1);
        cr_assert_eq(cx_stats(s).cache_hits, hits + 1, "just loaded: cached");
    }
    bs_store_stats st = cx_stats(s);
    cr_assert_geq(st.cache_evicted, 50);
    cr_assert_eq(st.cache_errors, 0);
    cr_assert_gt(st.cache_hits, 0);
    cx_close(s);
}

Test(cache_more, a_value_larger_than_the_bound_is_not_cached)
{
    bs_cache_namespace pol = {.prefix = "packs/", .mode = BS_CACHE_WRITETHROUGH, .size = 100};
    bs_store *s = cx_open(cx_url, &pol, 1, true);
    char v[101] = {0};
    CX_OK(bs_store_store(s, "packs/big", v, sizeof v));
    cr_assert(!exists(cx_entry(cx_url, "packs/big")));
    cx_expect(s, "packs/big", 0, BS_SIZE_ALL, v, sizeof v);
    cr_assert(!exists(cx_entry(cx_url, "packs/big")));
    cx_close(s);
}

Test(cache_more, open_evicts_by_max_age_then_least_recently_used_first)
{
    bs_cache_namespace pol = {.prefix = "packs/", .mode = BS_CACHE_WRITETHROUGH};
    bs_store *s = cx_open(cx_url, &pol, 1, true);
    const char *names[] = {"packs/a", "packs/b", "packs/c", "packs/d"};
    for (int i = 0; i < 4; i++) CX_OK(bs_store_store(s, names[i], "0123456789", 10));
    CX_OK(bs_store_store(s, "config/x", "not cached", 10));
    cx_close(s);
    char path[4200];
    snprintf(path, sizeof path, "%s", cx_entry(cx_url, "packs/a"));
    age(path, 7200, 0); /* older than max_age */
    snprintf(path, sizeof path, "%s", cx_entry(cx_url, "packs/b"));
    age(path, 600, 0);  /* least recently used of the rest */
    snprintf(path, sizeof path, "%s", cx_entry(cx_url, "packs/c"));
    age(path, 300, 0);
    pol.max_age = 3600;
    pol.size = 25;
    s = cx_open(cx_url, &pol, 1, false);
    cr_assert(!exists(cx_entry(cx_url, "packs/a")), "too old");
    cr_assert(!exists(cx_entry(cx_url, "packs/b")), "least recently used");
    cr_assert(exists(cx_entry(cx_url, "packs/c")));
    cr_assert(exists(cx_entry(cx_url, "packs/d")));
    cr_assert_eq(cx_stats(s).cache_evicted, 2);
    cx_close(s);
}

/* ---- batches ---- */

typedef struct got {
    size_t n, failed;
    char val[16][16];
    size_t len[16];
} got;

static int collect(void *ctx, size_t index, bs_op_result *res)
{
    got *g = ctx;
    g->n++;
    if (res->rc) {
        g->failed++;
        return 0;
    }
    cr_assert_leq(res->len, 15);
    memcpy(g->val[index], res->data, res->len);
    g->len[index] = res->len;
    return 0;
}

Test(cache_more, batch_loads_answer_hits_locally_and_fetch_misses_in_one_batch)
{
    static const bs_cache_namespace all[] = {{.prefix = "", .mode = BS_CACHE_WRITETHROUGH}};
    bs_store *s = cx_open(cx_url, all, 1, true);
    bs_backend *b = bs_store_backend(s);
    char names[10][32];
    const char *np[11];
    for (int i = 0; i < 10; i++) {
        snprintf(names[i], sizeof names[i], "config/item%d", i);
        np[i] = names[i];
        char v[16];
        snprintf(v, sizeof v, "value-%d-xyz", i);
        CX_OK(bs_backend_store(b, names[i], v, strlen(v))); /* not cached */
    }
    np[10] = "config/missing";
    for (int i = 0; i < 10; i += 3) cx_expect(s, names[i], 0, 1, "v", 1); /* 0 3 6 9 */
    bs_store_stats before = cx_stats(s);
    got g = {0};
    CX_OK(bs_store_load_many(s, np, 11, -5, 3, false, 0, collect, &g));
    cr_assert_eq(g.n, 11);
    cr_assert_eq(g.failed, 1, "the missing one");
    for (int i = 0; i < 10; i++) {
        char want[16];
        snprintf(want, sizeof want, "%d-x", i);
        cr_assert_eq(g.len[i], 3);
        cr_assert(!memcmp(g.val[i], want, 3), "item %d: %.3s", i, g.val[i]);
    }
    bs_store_stats after = cx_stats(s);
    cr_assert_eq(after.cache_hits - before.cache_hits, 4);
    cr_assert_eq(after.backend_load_calls - before.backend_load_calls, 6, "the misses");
    cr_assert_eq(after.load_calls - before.load_calls, 10);
    cr_assert_eq(after.load_volume - before.load_volume, 30);
    for (int i = 0; i < 10; i++) cr_assert(exists(cx_entry(cx_url, names[i])));
    /* everything is a hit now */
    memset(&g, 0, sizeof g);
    CX_OK(bs_store_load_many(s, np, 10, 0, 5, false, 0, collect, &g));
    cr_assert_eq(cx_stats(s).backend_load_calls, after.backend_load_calls);
    cr_assert(!memcmp(g.val[7], "value", 5));
    cx_close(s);
}

Test(cache_more, batch_store_delete_and_move_update_the_cache)
{
    static const bs_cache_namespace all[] = {{.prefix = "", .mode = BS_CACHE_WRITETHROUGH}};
    bs_store *s = cx_open(cx_url, all, 1, true);
    const char *np[] = {"config/a", "config/b"};
    const void *vals[] = {"AAA", "BB"};
    size_t lens[] = {3, 2};
    CX_OK(bs_store_store_many(s, np, vals, lens, 2, 0, NULL, NULL));
    cr_assert(exists(cx_entry(cx_url, "config/a")));
    CX_OK(bs_store_move_many(s, np, 2, BS_MOVE_SOFT_DELETE, false, 0, NULL, NULL));
    cr_assert(exists(cx_entry(cx_url, "config/b.del")));
    cr_assert(!exists(cx_entry(cx_url, "config/b")));
    CX_OK(bs_store_delete_many(s, np, 2, true, 0, NULL, NULL));
    cr_assert(!exists(cx_entry(cx_url, "config/a.del")));
    cr_assert(!exists(cx_entry(cx_url, "config/b.del")));
    CX_OK(bs_store_store(s, "config/c", "old", 3));
    CX_OK(bs_store_store_async(s, "config/c", "new", 3));
    cr_assert(!exists(cx_entry(cx_url, "config/c")), "unconfirmed: the old entry goes");
    CX_OK(bs_store_flush(s, NULL));
    cx_expect(s, "config/c", 0, BS_SIZE_ALL, "new", 3);
    cr_assert_eq(cx_stats(s).cache_errors, 0);
    cx_close(s);
}
