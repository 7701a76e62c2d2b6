/* The Store cache with the store over ssh:// (the real sshd of
 * with-sshd.sh and this build's borgstore-serve) and the cache in a local
 * file:// directory: misses go over ssh once, hits and ranges stay local,
 * batches mix both, a corrupted entry is refetched over ssh. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "borgstore/borgstore.h"
#include "sshd_fixture.h"
#include "testutil.h"

#define OK(expr)                                                                      \
    do {                                                                              \
        int rc_ = (expr);                                                             \
        cr_assert_eq(rc_, 0, "%s -> %d (%s)", #expr, rc_, bs_error_message());        \
    } while (0)

static char *dir, url[4200], cache_url[4200];

static void setup(void)
{
    bs_sshd_get();
    dir = bs_sshd_scratch();
    snprintf(url, sizeof url, "ssh://bstest/%s/store", dir);
    snprintf(cache_url, sizeof cache_url, "file://%s/cache", dir);
}

static void teardown(void)
{
    bs_test_rmtree(dir);
    free(dir);
}

TestSuite(ssh_cache, .init = setup, .fini = teardown, .timeout = 120);

static bs_store *open_store(bool create)
{
    static const bs_store_namespace ns[] = {{.prefix = "", .levels = {0}, .nlevels = 1},
                                            {.prefix = "packs/", .levels = {1}, .nlevels = 1}};
    static const bs_cache_namespace pol[] = {
        {.prefix = "packs/", .mode = BS_CACHE_WRITETHROUGH, .size = 1 << 20,
         .verify_sha256 = true}};
    bs_store_config cfg = {.namespaces = ns, .n_namespaces = 2};
    bs_store *s;
    OK(bs_store_new(&s, url, &cfg));
    bs_cache_config cc = {.url = cache_url, .namespaces = pol, .n_namespaces = 1};
    OK(bs_store_set_cache(s, &cc));
    if (create) OK(bs_store_create(s, 0));
    OK(bs_store_open(s));
    return s;
}

/* packs/<sha256 of v> */
static void pack_name(char out[BS_NAME_BUF], const uint8_t *v, size_t len)
{
    char hex[BS_HASH_HEX_SIZE];
    OK(bs_hash_hex(BS_HASH_SHA256, v, len, hex));
    snprintf(out, BS_NAME_BUF, "packs/%.64s", hex);
}

static void expect(bs_store *s, const char *name, int64_t off, int64_t size, const uint8_t *want,
                   size_t wlen)
{
    uint8_t *v;
    size_t n;
    OK(bs_store_load(s, name, off, size, false, &v, &n));
    cr_assert_eq(n, wlen);
    cr_assert(!memcmp(v, want, n), "%s [%lld]: wrong bytes", name, (long long)off);
    bs_free(v);
}

static bs_store_stats stats(bs_store *s)
{
    bs_store_stats st;
    bs_store_stats_get(s, &st);
    return st;
}

Test(ssh_cache, misses_go_over_ssh_once_then_ranges_are_local)
{
    static uint8_t pack[100000];
    bs_test_fill(pack, sizeof pack, 7);
    char name[BS_NAME_BUF];
    pack_name(name, pack, sizeof pack);
    bs_store *s = open_store(true);
    bs_backend *b = bs_store_backend(s);
    char nested[BS_NAME_BUF];
    OK(bs_store_find(s, name, false, nested));
    OK(bs_backend_store(b, nested, pack, sizeof pack)); /* on the server only */
    expect(s, name, 5000, 1024, pack + 5000, 1024);
    for (int i = 0; i < 20; i++)
        expect(s, name, (int64_t)i * 4000, 1024, pack + i * 4000, 1024);
    expect(s, name, -4, 4, pack + sizeof pack - 4, 4);
    bs_store_stats st = stats(s);
    cr_assert_eq(st.backend_load_calls, 1, "one whole load over ssh");
    cr_assert_eq(st.backend_load_volume, sizeof pack);
    cr_assert_eq(st.cache_hits, 21);
    cr_assert_eq(st.cache_errors, 0);
    OK(bs_store_close(s));
    bs_store_destroy(s);
    bs_store_free(s);
}

static int count_ok(void *ctx, size_t index, bs_op_result *res)
{
    (void)index;
    if (!res->rc && res->len == 16) ++*(int *)ctx;
    return 0;
}

Test(ssh_cache, batches_answer_hits_locally_and_fetch_misses_over_ssh)
{
    bs_store *s = open_store(true);
    enum { N = 12 };
    uint8_t vals[N][256];
    char names[N][BS_NAME_BUF];
    const char *np[N];
    const void *vp[N];
    size_t lens[N];
    for (int i = 0; i < N; i++) {
        bs_test_fill(vals[i], sizeof vals[i], 100u + (unsigned)i);
        pack_name(names[i], vals[i], sizeof vals[i]);
        np[i] = names[i];
        vp[i] = vals[i];
        lens[i] = sizeof vals[i];
    }
    OK(bs_store_store_many(s, np, vp, lens, N, 0, NULL, NULL)); /* fills the cache */
    OK(bs_store_cache_invalidate(s, names[0]));
    OK(bs_store_cache_invalidate(s, names[5]));
    bs_store_stats before = stats(s);
    int ok = 0;
    OK(bs_store_load_many(s, np, N, 16, 16, false, 0, count_ok, &ok));
    cr_assert_eq(ok, N);
    bs_store_stats after = stats(s);
    cr_assert_eq(after.backend_load_calls - before.backend_load_calls, 2);
    cr_assert_eq(after.cache_hits - before.cache_hits, N - 2);
    OK(bs_store_close(s));
    bs_store_destroy(s);
    bs_store_free(s);
}

Test(ssh_cache, a_corrupted_entry_is_refetched_over_ssh)
{
    uint8_t pack[3000];
    bs_test_fill(pack, sizeof pack, 3);
    char name[BS_NAME_BUF];
    pack_name(name, pack, sizeof pack);
    bs_store *s = open_store(true);
    OK(bs_store_store(s, name, pack, sizeof pack));
    OK(bs_store_close(s));
    bs_store_free(s);
    /* corrupt the only cache entry there is */
    char cmd[8600];
    snprintf(cmd, sizeof cmd,
             "f=$(find '%s/cache' -type f -name '%.64s') && [ -n \"$f\" ] && "
             "printf X | dd of=\"$f\" bs=1 seek=10 conv=notrunc status=none",
             dir, name + 6);
    cr_assert_eq(system(cmd), 0);
    s = open_store(false);
    expect(s, name, 0, 100, pack, 100);
    bs_store_stats st = stats(s);
    cr_assert_eq(st.cache_corrupt, 1);
    cr_assert_eq(st.backend_load_calls, 1);
    expect(s, name, 0, 100, pack, 100);
    cr_assert_eq(stats(s).cache_hits, 1);
    OK(bs_store_close(s));
    bs_store_destroy(s);
    bs_store_free(s);
}
