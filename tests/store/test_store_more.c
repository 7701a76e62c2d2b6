/* Store lifecycle, configuration checks, error codes and messages, quota,
 * pre-created nesting directories and the latency/bandwidth emulator. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/backend.h"
#include "fixture.h"

TestSuite(store_more, .fini = fx_teardown);

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

Test(store_more, lifecycle_states_and_their_errors)
{
    fx_setup_dir();
    fx_s = fx_new_store(fx_levels, 3);
    cr_assert(!bs_store_is_open(fx_s));
    cr_assert_eq(bs_store_open(fx_s), BS_ERR_DOES_NOT_EXIST);
    cr_assert_eq(bs_store_destroy(fx_s), BS_ERR_DOES_NOT_EXIST);
    cr_assert_eq(bs_store_store(fx_s, "zero/a", "x", 1), BS_ERR_MUST_BE_OPEN);
    ASSERT_OK(bs_store_create(fx_s, 0));
    ASSERT_OK(bs_store_open(fx_s));
    cr_assert(bs_store_is_open(fx_s));
    cr_assert_eq(bs_store_open(fx_s), BS_ERR_MUST_NOT_BE_OPEN);
    cr_assert_eq(bs_store_create(fx_s, 0), BS_ERR_MUST_NOT_BE_OPEN);
    cr_assert_eq(bs_store_destroy(fx_s), BS_ERR_MUST_NOT_BE_OPEN);
    ASSERT_OK(bs_store_store(fx_s, "zero/a", "x", 1));
    ASSERT_OK(bs_store_close(fx_s));
    cr_assert_eq(bs_store_close(fx_s), BS_ERR_MUST_BE_OPEN);
    cr_assert_eq(bs_store_create(fx_s, 0), BS_ERR_ALREADY_EXISTS, "not empty");
    cr_assert_eq(bs_store_create(fx_s, 0x80), BS_ERR_INVALID);
    ASSERT_OK(bs_store_open(fx_s)); /* reopen: data still there */
    bs_item_info info;
    ASSERT_OK(bs_store_info(fx_s, "zero/a", false, &info));
    cr_assert(info.exists);
    ASSERT_OK(bs_store_close(fx_s));
    ASSERT_OK(bs_store_destroy(fx_s));
    cr_assert(!fx_on_disk("zero"));
    cr_assert_eq(bs_store_open(fx_s), BS_ERR_DOES_NOT_EXIST);
}

Test(store_more, configuration_is_checked)
{
    fx_setup_dir();
    bs_store *s = (bs_store *)1;
    bs_store_config cfg = {0};
    cr_assert_eq(bs_store_new(&s, fx_url, &cfg), BS_ERR_INVALID, "no namespaces");
    cr_assert_null(s);
    cr_assert_eq(bs_store_new(&s, fx_url, NULL), BS_ERR_INVALID);
    struct {
        bs_store_namespace ns[2];
        size_t n;
    } bad[] = {
        {{{.prefix = "data/", .levels = {9}, .nlevels = 1}}, 1},
        {{{.prefix = "data/", .levels = {-1}, .nlevels = 1}}, 1},
        {{{.prefix = "data/", .levels = {0}, .nlevels = 0}}, 1},
        {{{.prefix = "data/", .levels = {0}, .nlevels = 10}}, 1},
        {{{.prefix = "Data/", .levels = {0}, .nlevels = 1}}, 1},
        {{{.prefix = "/data", .levels = {0}, .nlevels = 1}}, 1},
        {{{.prefix = NULL, .levels = {0}, .nlevels = 1}}, 1},
        {{{.prefix = "a/", .levels = {0}, .nlevels = 1},
          {.prefix = "a/", .levels = {1}, .nlevels = 1}}, 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cfg.namespaces = bad[i].ns;
        cfg.n_namespaces = bad[i].n;
        cr_assert_eq(bs_store_new(&s, fx_url, &cfg), BS_ERR_INVALID, "case %zu", i);
        cr_assert_null(s);
    }
    cfg.namespaces = fx_levels;
    cfg.n_namespaces = 3;
    cr_assert_eq(bs_store_new(&s, "nope:///x", &cfg), BS_ERR_URL_INVALID);
    cr_assert_eq(bs_store_new(&s, "file://relative", &cfg), BS_ERR_URL_INVALID);

    /* set_config keeps the old configuration when the new one is bad */
    fx_s = fx_new_store(fx_levels, 3);
    cr_assert_eq(bs_store_set_config(fx_s, bad[0].ns, 1), BS_ERR_INVALID);
    ASSERT_OK(bs_store_create(fx_s, 0));
    ASSERT_OK(bs_store_open(fx_s));
    char n[BS_NAME_BUF];
    ASSERT_OK(bs_store_find(fx_s, "two/12345678", false, n));
    cr_assert_str_eq(n, "two/12/34/12345678");
}

Test(store_more, default_config_is_data_level_one_and_everything_else_flat)
{
    fx_setup_dir();
    bs_store_config cfg;
    bs_store_config_default(&cfg);
    ASSERT_OK(bs_store_new(&fx_s, fx_url, &cfg));
    ASSERT_OK(bs_store_create(fx_s, 0));
    ASSERT_OK(bs_store_open(fx_s));
    char n[BS_NAME_BUF];
    ASSERT_OK(bs_store_find(fx_s, "data/00ff", false, n));
    cr_assert_str_eq(n, "data/00/00ff");
    ASSERT_OK(bs_store_find(fx_s, "config/x", false, n));
    cr_assert_str_eq(n, "config/x");
    ASSERT_OK(bs_store_find(fx_s, "keys/repokey", false, n));
    cr_assert_str_eq(n, "keys/repokey");
    ASSERT_OK(bs_store_find(fx_s, "toplevel", false, n));
    cr_assert_str_eq(n, "toplevel");
}

Test(store_more, names_are_validated_with_messages_naming_them)
{
    fx_setup();
    static const char *bad[] = {"",           "zero/A",    "zero/a b", "zero/../x",
                                "/zero/x",    "zero/x/",   "zero/x.tmp", "zero/x.hid",
                                "zero/\xc3\xa4", "zero/a\\b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(bs_store_store(fx_s, bad[i], "v", 1), BS_ERR_INVALID, "%s", bad[i]);
        cr_assert(strstr(bs_error_message(), "invalid argument"), "%s", bs_error_message());
    }
    /* too short for its nesting level */
    cr_assert_eq(bs_store_store(fx_s, "two/123", "v", 1), BS_ERR_INVALID);
    cr_assert(strstr(bs_error_message(), "two/123"), "%s", bs_error_message());
    char long_name[120];
    memset(long_name, 'a', sizeof long_name);
    memcpy(long_name, "zero/", 5);
    long_name[101] = '\0';
    cr_assert_eq(bs_store_store(fx_s, long_name, "v", 1), BS_ERR_INVALID);
    cr_assert_eq(bs_store_store(fx_s, "zero/a", NULL, 1), BS_ERR_INVALID);
    cr_assert_eq(bs_store_delete(fx_s, "zero/missing", false), BS_ERR_NOT_FOUND);
    cr_assert_str_eq(bs_error_message(), "object not found: zero/missing");
    cr_assert_eq(bs_store_delete(fx_s, "two/00ff00ff", true), BS_ERR_NOT_FOUND);
    cr_assert_str_eq(bs_error_message(), "object not found: two/00ff00ff (soft-deleted)");
}

Test(store_more, quota_is_reported_and_enforced)
{
    fx_setup_dir();
    bs_store_config cfg = {.namespaces = fx_levels, .n_namespaces = 3};
    cfg.backend.quota = 1000;
    ASSERT_OK(bs_store_new(&fx_s, fx_url, &cfg));
    ASSERT_OK(bs_store_create(fx_s, 0));
    ASSERT_OK(bs_store_open(fx_s));
    bs_quota q;
    ASSERT_OK(bs_store_quota(fx_s, &q));
    cr_assert_eq(q.limit, 1000);
    cr_assert_eq(q.usage, 0);
    uint8_t buf[600] = {0};
    ASSERT_OK(bs_store_store(fx_s, "two/00000000", buf, 600));
    ASSERT_OK(bs_store_quota(fx_s, &q));
    cr_assert_eq(q.usage, 600);
    cr_assert_eq(bs_store_store(fx_s, "two/00000001", buf, 600), BS_ERR_QUOTA);
    bs_item_info info;
    ASSERT_OK(bs_store_info(fx_s, "two/00000001", false, &info));
    cr_assert(!info.exists, "a store over quota changes nothing");
    ASSERT_OK(bs_store_move(fx_s, "two/00000000", NULL, BS_MOVE_SOFT_DELETE, false));
    ASSERT_OK(bs_store_quota(fx_s, &q));
    cr_assert_eq(q.usage, 600, "soft-deleted items still use space");
    ASSERT_OK(bs_store_delete(fx_s, "two/00000000", true));
    ASSERT_OK(bs_store_quota(fx_s, &q));
    cr_assert_eq(q.usage, 0);
    ASSERT_OK(bs_store_store(fx_s, "two/00000001", buf, 600));
    ASSERT_OK(bs_store_close(fx_s));
    cr_assert(fx_on_disk("quota.hid"));
    char *l;
    ASSERT_OK(bs_store_open(fx_s));
    l = fx_list(fx_s, "two", false);
    cr_assert_str_eq(l, "00000001");
    free(l);

    /* without a quota nothing is tracked */
    bs_store *s2 = fx_new_store(fx_levels, 3);
    ASSERT_OK(bs_store_close(fx_s));
    ASSERT_OK(bs_store_open(s2));
    ASSERT_OK(bs_store_quota(s2, &q));
    cr_assert_eq(q.limit, -1);
    cr_assert_eq(q.usage, -1);
    ASSERT_OK(bs_store_close(s2));
    bs_store_free(s2);
    cr_assert_eq(bs_store_quota(fx_s, &q), BS_ERR_MUST_BE_OPEN);
}

Test(store_more, precreate_makes_every_directory_of_the_deepest_level)
{
    fx_setup_dir();
    static const bs_store_namespace ns[] = {
        {.prefix = "config/", .levels = {0}, .nlevels = 1},
        {.prefix = "data/", .levels = {0, 1}, .nlevels = 2},
    };
    fx_s = fx_new_store(ns, 2);
    ASSERT_OK(bs_store_create(fx_s, BS_STORE_CREATE_PRECREATE));
    cr_assert(!bs_store_is_open(fx_s), "closed again after pre-creating");
    cr_assert(fx_on_disk("config"));
    cr_assert(fx_on_disk("data/00"));
    cr_assert(fx_on_disk("data/7f"));
    cr_assert(fx_on_disk("data/ff"));
    ASSERT_OK(bs_store_open(fx_s));
    char *l = fx_list(fx_s, "data", false);
    cr_assert_str_eq(l, "", "directories are never listed");
    free(l);

    static const bs_store_namespace deep[] = {{.prefix = "x/", .levels = {4}, .nlevels = 1}};
    ASSERT_OK(bs_store_set_config(fx_s, deep, 1));
    cr_assert_eq(bs_store_create_levels(fx_s), BS_ERR_INVALID);
    cr_assert(bs_store_is_open(fx_s), "an open store stays open");
}

/* A backend that only records mkdir calls: pre-creating level 2 makes 65,536
 * directories, which is the Store's arithmetic, not the filesystem's. */
typedef struct mkdir_rec {
    bs_backend base;
    unsigned n;
    char first[BS_NAME_BUF], last[BS_NAME_BUF];
    bool saw_abcd;
} mkdir_rec;

static int rec_ok(bs_backend *b)
{
    (void)b;
    return 0;
}

static int rec_mkdir(bs_backend *b, const char *name)
{
    mkdir_rec *r = (mkdir_rec *)b;
    if (!r->n++) snprintf(r->first, sizeof r->first, "%s", name);
    snprintf(r->last, sizeof r->last, "%s", name);
    if (!strcmp(name, "data/ab/cd")) r->saw_abcd = true;
    return 0;
}

static void rec_free(bs_backend *b) { free(b); }

static const bs_backend_ops rec_ops = {
    .version = BS_BACKEND_OPS_VERSION, .scheme = "rec", .create = rec_ok, .open = rec_ok,
    .close = rec_ok, .mkdir = rec_mkdir, .free = rec_free,
};

Test(store_more, precreate_level_two_makes_65536_directories)
{
    static const bs_store_namespace ns[] = {
        {.prefix = "", .levels = {0}, .nlevels = 1},
        {.prefix = "data/", .levels = {1, 2}, .nlevels = 2},
    };
    mkdir_rec *r = calloc(1, sizeof *r);
    r->base.ops = &rec_ops;
    bs_store_config cfg = {.namespaces = ns, .n_namespaces = 2};
    ASSERT_OK(bs_store_new_from_backend(&fx_s, &r->base, &cfg));
    ASSERT_OK(bs_store_create(fx_s, BS_STORE_CREATE_PRECREATE));
    cr_assert_eq(r->n, 65536, "the root namespace at level 0 needs no directory");
    cr_assert_str_eq(r->first, "data/00/00");
    cr_assert_str_eq(r->last, "data/ff/ff");
    cr_assert(r->saw_abcd);
    cr_assert(!bs_store_is_open(fx_s));
    bs_store_free(fx_s);
    fx_s = NULL;
}

Test(store_more, store_from_a_backend_takes_ownership)
{
    fx_setup_dir();
    bs_backend *b;
    ASSERT_OK(bs_backend_new(&b, fx_url, NULL));
    ASSERT_OK(bs_backend_create(b));
    ASSERT_OK(bs_backend_open(b));
    bs_store_config cfg = {0};
    cr_assert_eq(bs_store_new_from_backend(&fx_s, b, &cfg), BS_ERR_INVALID);
    cr_assert(bs_backend_is_open(b), "still the caller's after a failure");
    cfg.namespaces = fx_levels;
    cfg.n_namespaces = 3;
    ASSERT_OK(bs_store_new_from_backend(&fx_s, b, &cfg));
    cr_assert_eq(bs_store_backend(fx_s), b);
    cr_assert(bs_store_is_open(fx_s), "an open backend makes an open store");
    ASSERT_OK(bs_store_store(fx_s, "one/abcd", "v", 1));
    cr_assert(fx_on_disk("one/ab/abcd"));
    /* fx_teardown closes, destroys and frees store and backend (ASan checks) */
}

Test(store_more, emulated_latency_is_a_lower_bound_per_backend_call)
{
    setenv("BORGSTORE_LATENCY", "2000", 1); /* µs */
    fx_setup();
    unsetenv("BORGSTORE_LATENCY");
    const int k = 20;
    ASSERT_OK(bs_store_store(fx_s, "zero/a", "v", 1));
    uint64_t t0 = mono_ns();
    for (int i = 0; i < k; i++) {
        bs_item_info info;
        ASSERT_OK(bs_store_info(fx_s, "zero/a", false, &info));
    }
    uint64_t took = mono_ns() - t0;
    cr_assert_geq(took, (uint64_t)k * 2000 * 1000, "%d calls took %llu ns", k,
                  (unsigned long long)took);
    bs_store_stats st;
    bs_store_stats_get(fx_s, &st);
    cr_assert_geq(st.info_time, k * 0.002, "stats include the emulated time");

    t0 = mono_ns();
    for (int i = 0; i < k; i++) {
        uint8_t *v;
        size_t len;
        ASSERT_OK(bs_store_load(fx_s, "zero/a", 0, BS_SIZE_ALL, false, &v, &len));
        bs_free(v);
    }
    took = mono_ns() - t0;
    cr_assert_geq(took, (uint64_t)k * 2000 * 1000);
}

Test(store_more, emulated_latency_applies_once_per_listed_directory)
{
    fx_setup();
    for (unsigned i = 0; i < 40; i++) {
        char name[32];
        snprintf(name, sizeof name, "zero/%s", fx_key(i));
        ASSERT_OK(bs_store_store(fx_s, name, "", 0));
    }
    bs_store_set_emulation(fx_s, 20000, 0); /* 20 ms */
    uint64_t t0 = mono_ns();
    char *l = fx_list(fx_s, "zero", false);
    uint64_t took = mono_ns() - t0;
    free(l);
    cr_assert_geq(took, 20000000u);
    /* per item it would be 40 x 20 ms = 800 ms; once per directory is 20 ms */
    cr_assert_lt(took, 400000000u, "took %llu ns", (unsigned long long)took);

    /* one/ at level 1 with two nesting directories: three listings */
    ASSERT_OK(bs_store_store(fx_s, "one/0000", "", 0));
    ASSERT_OK(bs_store_store(fx_s, "one/1111", "", 0));
    t0 = mono_ns();
    l = fx_list(fx_s, "one", false);
    took = mono_ns() - t0;
    cr_assert_str_eq(l, "0000,1111");
    free(l);
    cr_assert_geq(took, 3 * 20000000u);
}

Test(store_more, emulated_bandwidth_limits_payload_rate)
{
    setenv("BORGSTORE_BANDWIDTH", "8000000", 1); /* bit/s = 1 MB/s */
    fx_setup();
    unsetenv("BORGSTORE_BANDWIDTH");
    size_t n = 100000;
    uint8_t *buf = calloc(1, n);
    uint64_t t0 = mono_ns();
    ASSERT_OK(bs_store_store(fx_s, "zero/big", buf, n));
    uint64_t took = mono_ns() - t0;
    cr_assert_geq(took, 100000000u, "100 kB at 1 MB/s: %llu ns", (unsigned long long)took);
    t0 = mono_ns();
    uint8_t *v;
    size_t len;
    ASSERT_OK(bs_store_load(fx_s, "zero/big", 0, 50000, false, &v, &len));
    took = mono_ns() - t0;
    cr_assert_geq(took, 50000000u, "the loaded volume counts");
    bs_free(v);
    free(buf);
    bs_store_set_emulation(fx_s, 0, 0);
    t0 = mono_ns();
    ASSERT_OK(bs_store_store(fx_s, "zero/big", "x", 1));
    cr_assert_lt(mono_ns() - t0, 100000000u, "switched off again");
}

Test(store_more, docs_carry_the_tested_example_verbatim)
{
    size_t doc_len, ex_len;
    char *doc = bs_test_read_file(bs_test_source_path("docs/store.md"), &doc_len);
    cr_assert_not_null(doc, "docs/store.md missing");
    char *ex = bs_test_read_file(bs_test_source_path("tests/store/example.c"), &ex_len);
    cr_assert_not_null(ex);
    char *block;
    cr_assert(asprintf(&block, "```c\n%s```\n", ex) > 0);
    cr_assert(strstr(doc, block), "docs/store.md's example differs from tests/store/example.c");
    free(block);
    free(ex);
    free(doc);
}

/* After a nesting-level change the listing still finds the items written
 * with the old levels; bs_store_list_dir says where, so a caller can tell
 * them from the ones the store's lookups reach. */
Test(store_more, list_dir_tells_where_an_item_was_found)
{
    fx_setup();
    ASSERT_OK(bs_store_store(fx_s, "two/00112233", "x", 1));
    ASSERT_OK(bs_store_close(fx_s));
    bs_store_free(fx_s);
    const bs_store_namespace one[] = {{.prefix = "two/", .levels = {1}, .nlevels = 1}};
    fx_s = fx_new_store(one, 1);
    ASSERT_OK(bs_store_open(fx_s));
    ASSERT_OK(bs_store_store(fx_s, "two/00223344", "y", 1));
    bs_store_list_iter *it;
    ASSERT_OK(bs_store_list_begin(fx_s, "two", false, &it));
    cr_assert_str_eq(bs_store_list_dir(it), "");
    bs_item_info info;
    cr_assert_eq(bs_store_list_next(it, &info), 1); /* two/00 lists its file first */
    cr_assert_str_eq(info.name, "00223344");
    cr_assert_str_eq(bs_store_list_dir(it), "two/00", "written on level 1");
    cr_assert_eq(bs_store_list_next(it, &info), 1);
    cr_assert_str_eq(info.name, "00112233");
    cr_assert_str_eq(bs_store_list_dir(it), "two/00/11", "written on level 2");
    cr_assert_eq(bs_store_list_next(it, &info), 0);
    bs_store_list_end(it);
    uint8_t *v;
    size_t n;
    cr_assert_eq(bs_store_load(fx_s, "two/00112233", 0, BS_SIZE_ALL, false, &v, &n),
                 BS_ERR_NOT_FOUND, "level 2 is not looked on");
}
