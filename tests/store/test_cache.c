/* The Store cache against the table of Python borgstore 0.6's semantics
 * (../shared/notes/cache.md): configuration, load / store / delete / move per
 * mode, the operations that bypass the cache, create/destroy, open failure,
 * failures as counted warnings, the stats keys, cache_invalidate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache_fixture.h"
#include "testutil.h"

TestSuite(cache, .init = cx_setup, .fini = cx_teardown);

static const bs_cache_namespace wt_all[] = {
    {.prefix = "", .mode = BS_CACHE_WRITETHROUGH},
};
static const bs_cache_namespace mirror_all[] = {
    {.prefix = "", .mode = BS_CACHE_MIRROR},
};

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* ---- configuration ---- */

Test(cache, a_mode_without_a_cache_backend_is_invalid)
{
    bs_store_config cfg = {.namespaces = cx_levels, .n_namespaces = 3};
    bs_store *s;
    CX_OK(bs_store_new(&s, cx_url, &cfg));
    bs_cache_config cc = {.namespaces = wt_all, .n_namespaces = 1};
    cr_assert_eq(bs_store_set_cache(s, &cc), BS_ERR_INVALID);
    bs_cache_namespace bad = {.prefix = "x/", .mode = 7};
    cc = (bs_cache_config){.url = cx_cache_url, .namespaces = &bad, .n_namespaces = 1};
    cr_assert_eq(bs_store_set_cache(s, &cc), BS_ERR_INVALID);
    bs_cache_namespace twice[] = {{.prefix = "a/", .mode = 1}, {.prefix = "a/", .mode = 2}};
    cc.namespaces = twice;
    cc.n_namespaces = 2;
    cr_assert_eq(bs_store_set_cache(s, &cc), BS_ERR_INVALID);
    /* all off without a backend is fine: Python accepts "off" alone */
    bs_cache_namespace off = {.prefix = "a/", .mode = BS_CACHE_OFF};
    cc = (bs_cache_config){.namespaces = &off, .n_namespaces = 1};
    CX_OK(bs_store_set_cache(s, &cc));
    bs_store_free(s);
}

Test(cache, the_cache_is_set_on_a_closed_store_only)
{
    bs_store *s = cx_open(cx_url, wt_all, 1, true);
    bs_cache_config cc = {.url = cx_cache_url, .namespaces = wt_all, .n_namespaces = 1};
    cr_assert_eq(bs_store_set_cache(s, &cc), BS_ERR_MUST_NOT_BE_OPEN);
    cx_close(s);
}

Test(cache, policy_text_parses_as_the_cli_writes_it)
{
    bs_cache_namespace p;
    char buf[BS_NAME_BUF];
    CX_OK(bs_cache_namespace_parse(&p, buf, "packs=writethrough,max-age=3600,size=2G,verify"));
    cr_assert_str_eq(p.prefix, "packs/");
    cr_assert_eq(p.mode, BS_CACHE_WRITETHROUGH);
    cr_assert_eq(p.max_age, 3600.0);
    cr_assert_eq(p.size, 2ull << 30);
    cr_assert(p.verify_sha256);
    CX_OK(bs_cache_namespace_parse(&p, buf, "=mirror"));
    cr_assert_str_eq(p.prefix, "");
    cr_assert_eq(p.mode, BS_CACHE_MIRROR);
    cr_assert_eq(p.size, 0);
    cr_assert_eq(bs_cache_namespace_parse(&p, buf, "packs"), BS_ERR_INVALID);
    cr_assert_eq(bs_cache_namespace_parse(&p, buf, "packs=fast"), BS_ERR_INVALID);
    cr_assert_eq(bs_cache_namespace_parse(&p, buf, "packs=mirror,size=-1"), BS_ERR_INVALID);
    cr_assert_eq(bs_cache_namespace_parse(&p, buf, "packs=mirror,size=1X"), BS_ERR_INVALID);
    cr_assert_eq(bs_cache_namespace_parse(&p, buf, "packs=mirror,"), BS_ERR_INVALID);
    cr_assert_eq(bs_cache_namespace_parse(&p, buf, "packs=mirror,colour=red"), BS_ERR_INVALID);
}

/* ---- load ---- */

Test(cache, off_loads_from_the_store_and_leaves_the_cache_alone)
{
    bs_cache_namespace off = {.prefix = "", .mode = BS_CACHE_OFF};
    bs_store *s = cx_open(cx_url, &off, 1, true);
    CX_OK(bs_store_store(s, "config/x", "0123456789", 10));
    cx_expect(s, "config/x", -4, 4, "6789", 4);
    bs_store_stats st = cx_stats(s);
    cr_assert_eq(st.backend_load_calls, 1);
    cr_assert_eq(st.cache_store_calls + st.cache_load_calls, 0);
    cr_assert(!exists(cx_entry(cx_url, "config/x")));
    cx_close(s);
}

Test(cache, mirror_loads_the_whole_value_every_time_and_copies_it)
{
    bs_store *s = cx_open(cx_url, mirror_all, 1, true);
    CX_OK(bs_store_store(s, "config/x", "0123456789", 10));
    cx_expect(s, "config/x", 2, 3, "234", 3);
    cx_expect(s, "config/x", 2, 3, "234", 3);
    bs_store_stats st = cx_stats(s);
    cr_assert_eq(st.backend_load_calls, 2, "mirror never answers from the cache");
    cr_assert_eq(st.backend_load_volume, 20, "whole values from the store");
    cr_assert_eq(st.load_volume, 6);
    cr_assert_eq(st.cache_hits, 0);
    cr_assert_eq(st.cache_load_calls, 0);
    size_t n;
    char *v = bs_test_read_file(cx_entry(cx_url, "config/x"), &n);
    cr_assert(v && n == 10 && !memcmp(v, "0123456789", 10));
    free(v);
    cx_close(s);
}

Test(cache, a_negative_offset_ending_at_the_end_is_the_tail_not_empty)
{
    /* Python 0.6 returns b'' here (v[-4:0]) for mirror, and writethrough
     * misses */
    for (int mode = BS_CACHE_MIRROR; mode <= BS_CACHE_WRITETHROUGH; mode++) {
        bs_cache_namespace p = {.prefix = "", .mode = mode};
        char url[4200];
        snprintf(url, sizeof url, "%s%d", cx_url, mode);
        bs_store *s = cx_open(url, &p, 1, true);
        CX_OK(bs_store_store(s, "config/x", "0123456789", 10));
        CX_OK(bs_store_cache_invalidate(s, ""));
        cx_expect(s, "config/x", -4, 4, "6789", 4);        /* miss (or mirror) */
        cx_expect(s, "config/x", -4, 4, "6789", 4);        /* hit (or mirror) */
        cx_expect(s, "config/x", -4, BS_SIZE_ALL, "6789", 4);
        cx_expect(s, "config/x", -10, 2, "01", 2);
        uint8_t *v;
        size_t n;
        cr_assert_eq(bs_store_load(s, "config/x", -11, 2, false, &v, &n), BS_ERR_READ_RANGE);
        cr_assert_null(v);
        cx_close(s);
    }
}

Test(cache, writethrough_misses_once_then_answers_ranges_from_the_cache)
{
    bs_store *s = cx_open(cx_url, wt_all, 1, true);
    CX_OK(bs_store_store(s, "data/00000001", "0123456789", 10));
    CX_OK(bs_store_cache_invalidate(s, "data/00000001"));
    cr_assert(!exists(cx_entry(cx_url, "data/00/00000001")));
    cx_expect(s, "data/00000001", 3, 2, "34", 2); /* miss: whole value fetched */
    cr_assert(exists(cx_entry(cx_url, "data/00/00000001")), "nested name as on the store");
    cx_expect(s, "data/00000001", 5, 100, "56789", 5);
    cx_expect(s, "data/00000001", 0, BS_SIZE_ALL, "0123456789", 10);
    cx_expect(s, "data/00000001", 20, 5, "", 0);
    bs_store_stats st = cx_stats(s);
    cr_assert_eq(st.backend_load_calls, 1);
    cr_assert_eq(st.backend_load_volume, 10);
    cr_assert_eq(st.cache_misses, 1);
    cr_assert_eq(st.cache_hits, 3);
    cr_assert_float_eq(st.cache_hit_ratio, 0.75, 1e-9);
    cr_assert_eq(st.cache_load_volume, 5 + 10 + 0, "ranged cache loads: %llu",
                 (unsigned long long)st.cache_load_volume);
    cr_assert_eq(st.load_calls, 4);
    cx_close(s);
}

Test(cache, a_missing_item_is_not_found_and_not_cached)
{
    bs_store *s = cx_open(cx_url, wt_all, 1, true);
    uint8_t *v;
    size_t n;
    cr_assert_eq(bs_store_load(s, "config/nope", 0, BS_SIZE_ALL, false, &v, &n),
                 BS_ERR_NOT_FOUND);
    cr_assert(strstr(bs_error_message(), "config/nope"), "%s", bs_error_message());
    cr_assert_eq(cx_stats(s).cache_errors, 0);
    cx_close(s);
}

/* ---- store, delete, move ---- */

Test(cache, store_goes_to_the_store_then_the_cache)
{
    bs_store *s = cx_open(cx_url, mirror_all, 1, true);
    CX_OK(bs_store_store(s, "config/x", "abc", 3));
    size_t n;
    char *v = bs_test_read_file(cx_entry(cx_url, "config/x"), &n);
    cr_assert(v && n == 3 && !memcmp(v, "abc", 3));
    free(v);
    char path[4200];
    snprintf(path, sizeof path, "%s/store/config/x", cx_tmp);
    cr_assert(exists(path));
    cr_assert_eq(cx_stats(s).cache_store_calls, 1);
    cr_assert_eq(cx_stats(s).cache_store_volume, 3);
    cx_close(s);
}

Test(cache, delete_removes_the_cache_entry_and_a_missing_one_is_fine)
{
    bs_store *s = cx_open(cx_url, wt_all, 1, true);
    CX_OK(bs_store_store(s, "config/x", "abc", 3));
    CX_OK(bs_store_delete(s, "config/x", false));
    cr_assert(!exists(cx_entry(cx_url, "config/x")));
    /* not in the cache, but on the store: no cache error */
    bs_backend *b = bs_store_backend(s);
    CX_OK(bs_backend_store(b, "config/y", "q", 1));
    CX_OK(bs_store_delete(s, "config/y", false));
    bs_store_stats st = cx_stats(s);
    cr_assert_eq(st.cache_errors, 0);
    cr_assert_eq(st.cache_delete_calls, 2);
    cx_close(s);
}

Test(cache, soft_delete_undelete_and_change_level_move_the_entry)
{
    bs_store *s = cx_open(cx_url, wt_all, 1, true);
    CX_OK(bs_store_store(s, "config/x", "abc", 3));
    CX_OK(bs_store_move(s, "config/x", NULL, BS_MOVE_SOFT_DELETE, false));
    cr_assert(!exists(cx_entry(cx_url, "config/x")));
    cr_assert(exists(cx_entry(cx_url, "config/x.del")), "same names as the store: .del");
    uint8_t *v;
    size_t n;
    CX_OK(bs_store_load(s, "config/x", 0, BS_SIZE_ALL, true, &v, &n));
    bs_free(v);
    cr_assert_eq(cx_stats(s).cache_hits, 1, "soft-deleted items are cached too");
    CX_OK(bs_store_move(s, "config/x", NULL, BS_MOVE_UNDELETE, false));
    cr_assert(exists(cx_entry(cx_url, "config/x")));
    cr_assert(!exists(cx_entry(cx_url, "config/x.del")));
    /* change level: data/ was [1], now [1, 0]: the item moves to level 0 */
    CX_OK(bs_store_store(s, "data/0a0b0c0d", "lvl", 3));
    cr_assert(exists(cx_entry(cx_url, "data/0a/0a0b0c0d")));
    bs_store_namespace up[] = {cx_levels[0], {.prefix = "data/", .levels = {1, 0}, .nlevels = 2},
                               cx_levels[2]};
    CX_OK(bs_store_set_config(s, up, 3));
    CX_OK(bs_store_move(s, "data/0a0b0c0d", NULL, BS_MOVE_CHANGE_LEVEL, false));
    cr_assert(exists(cx_entry(cx_url, "data/0a0b0c0d")));
    cr_assert(!exists(cx_entry(cx_url, "data/0a/0a0b0c0d")));
    cr_assert_eq(cx_stats(s).cache_errors, 0);
    cx_close(s);
}

Test(cache, rename_of_an_uncached_item_drops_the_stale_target)
{
    bs_store *s = cx_open(cx_url, wt_all, 1, true);
    CX_OK(bs_store_store(s, "config/dst", "old", 3));
    CX_OK(bs_backend_store(bs_store_backend(s), "config/src", "new", 3)); /* not cached */
    CX_OK(bs_store_move(s, "config/src", "config/dst", BS_MOVE_RENAME, false));
    cx_expect(s, "config/dst", 0, BS_SIZE_ALL, "new", 3);
    cr_assert_eq(cx_stats(s).cache_errors, 0);
    cx_close(s);
}

/* ---- bypass ---- */

Test(cache, info_list_hash_defrag_and_quota_bypass_the_cache)
{
    bs_store *s = cx_open(cx_url, wt_all, 1, true);
    CX_OK(bs_store_store(s, "config/x", "abc", 3));
    /* an entry only the cache has, and a cached value that differs */
    cr_assert_eq(bs_test_write_file(cx_entry(cx_url, "config/ghost"), "boo", 3), 0);
    cr_assert_eq(bs_test_write_file(cx_entry(cx_url, "config/x"), "abcdef", 6), 0);
    bs_store_stats before = cx_stats(s);
    bs_item_info info;
    CX_OK(bs_store_info(s, "config/x", false, &info));
    cr_assert_eq(info.size, 3);
    CX_OK(bs_store_info(s, "config/ghost", false, &info));
    cr_assert(!info.exists);
    bs_store_list_iter *it;
    CX_OK(bs_store_list_begin(s, "config", false, &it));
    int count = 0;
    while (bs_store_list_next(it, &info) == 1) count++;
    bs_store_list_end(it);
    cr_assert_eq(count, 1);
    char hex[BS_HASH_HEX_SIZE], want[BS_HASH_HEX_SIZE];
    CX_OK(bs_store_hash(s, "config/x", BS_HASH_SHA256, false, hex));
    CX_OK(bs_hash_hex(BS_HASH_SHA256, "abc", 3, want));
    cr_assert_str_eq(hex, want);
    bs_store_block blk = {.name = "x", .offset = 0, .size = 3};
    char key[BS_NAME_BUF];
    CX_OK(bs_store_defrag(s, "config", &blk, 1, "y", BS_HASH_SHA256, false, key));
    bs_quota q;
    CX_OK(bs_store_quota(s, &q));
    bs_store_stats after = cx_stats(s);
    cr_assert_eq(after.cache_load_calls, before.cache_load_calls);
    cr_assert_eq(after.cache_store_calls, before.cache_store_calls);
    cr_assert_eq(after.cache_hits + after.cache_misses, 0);
    cx_close(s);
}

/* ---- create / destroy / open ---- */

Test(cache, create_and_destroy_touch_only_this_stores_part_of_the_cache)
{
    char other[4200];
    snprintf(other, sizeof other, "%s-other", cx_url);
    bs_store *o = cx_open(other, wt_all, 1, true);
    CX_OK(bs_store_store(o, "config/x", "other", 5));
    bs_store *s = cx_open(cx_url, wt_all, 1, true);
    CX_OK(bs_store_store(s, "config/x", "mine", 4));
    CX_OK(bs_store_close(s));
    CX_OK(bs_store_destroy(s));
    cr_assert(!exists(cx_entry(cx_url, "config/x")), "destroy empties its own part");
    cr_assert(exists(cx_entry(other, "config/x")), "and nothing else (borg#10396)");
    /* a new store at the same URL must not see entries of an earlier one */
    bs_store_free(s);
    s = cx_open(cx_url, wt_all, 1, true);
    CX_OK(bs_store_store(s, "config/x", "again", 5));
    CX_OK(bs_store_close(s));
    /* plant a stale entry, then destroy + create the store */
    CX_OK(bs_store_destroy(s));
    CX_OK(bs_store_create(s, 0));
    cr_assert_eq(bs_test_write_file(cx_entry(cx_url, "config/x"), "stale", 5), 0);
    CX_OK(bs_store_destroy(s));
    CX_OK(bs_store_create(s, 0));
    cr_assert(!exists(cx_entry(cx_url, "config/x")), "create empties its own part");
    bs_store_free(s);
    cx_expect(o, "config/x", 0, BS_SIZE_ALL, "other", 5);
    cx_close(o);
}

Test(cache, a_cache_that_cannot_be_opened_is_disabled_with_a_warning)
{
    char blocker[4200];
    snprintf(blocker, sizeof blocker, "%s/file", cx_tmp);
    cr_assert_eq(bs_test_write_file(blocker, "x", 1), 0);
    free(cx_cache_url);
    cr_assert(asprintf(&cx_cache_url, "file://%s/below", blocker) > 0);
    bs_store *s = cx_open(cx_url, wt_all, 1, true);
    CX_OK(bs_store_store(s, "config/x", "abc", 3));
    cx_expect(s, "config/x", 0, BS_SIZE_ALL, "abc", 3);
    bs_store_stats st = cx_stats(s);
    cr_assert_eq(st.cache_disabled, 1);
    cr_assert_geq(st.cache_errors, 1);
    cr_assert_eq(st.cache_store_calls, 0);
    cx_close(s);
}

Test(cache, failing_cache_operations_are_counted_never_returned)
{
    bs_store *s = cx_open(cx_url, wt_all, 1, true);
    CX_OK(bs_store_store(s, "config/a", "abc", 3));
    /* the store's cache directory becomes a file: every cache call fails */
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", cx_entry(cx_url, ""));
    dir[strlen(dir) - 1] = '\0';
    bs_test_rmtree(dir);
    cr_assert_eq(bs_test_write_file(dir, "not a dir", 9), 0);
    CX_OK(bs_store_store(s, "config/b", "def", 3));
    cx_expect(s, "config/b", 0, BS_SIZE_ALL, "def", 3);
    CX_OK(bs_store_move(s, "config/b", "config/c", BS_MOVE_RENAME, false));
    CX_OK(bs_store_delete(s, "config/c", false));
    bs_store_stats st = cx_stats(s);
    cr_assert_geq(st.cache_errors, 2, "errors: %llu", (unsigned long long)st.cache_errors);
    cr_assert_eq(st.cache_disabled, 0);
    cx_close(s);
}

Test(cache, stats_have_pythons_cache_keys)
{
    bs_store *s = cx_open(cx_url, wt_all, 1, true);
    bs_store_stats st = cx_stats(s);
    char *text;
    CX_OK(bs_store_stats_format(&text, &st, BS_STATS_JSON));
    static const char *keys[] = {"cache_hits", "cache_misses", "cache_hit_ratio",
                                 "cache_errors", "cache_load_calls", "cache_store_calls",
                                 "cache_delete_calls", "cache_load_volume",
                                 "cache_store_volume", "cache_disabled"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char quoted[64];
        snprintf(quoted, sizeof quoted, "\"%s\":", keys[i]);
        cr_assert(strstr(text, quoted), "missing %s in %s", keys[i], text);
    }
    bs_free(text);
    cx_close(s);
}

Test(cache, invalidate_drops_an_item_a_namespace_or_everything)
{
    bs_cache_namespace two[] = {{.prefix = "config/", .mode = BS_CACHE_WRITETHROUGH},
                                {.prefix = "data/", .mode = BS_CACHE_WRITETHROUGH}};
    bs_store *s = cx_open(cx_url, two, 2, true);
    CX_OK(bs_store_store(s, "config/a", "a", 1));
    CX_OK(bs_store_store(s, "config/b", "b", 1));
    CX_OK(bs_store_store(s, "data/00000001", "1", 1));
    CX_OK(bs_store_store(s, "data/00000002", "2", 1));
    CX_OK(bs_store_cache_invalidate(s, "config/a"));
    cr_assert(!exists(cx_entry(cx_url, "config/a")));
    cr_assert(exists(cx_entry(cx_url, "config/b")));
    CX_OK(bs_store_cache_invalidate(s, "data"));
    cr_assert(!exists(cx_entry(cx_url, "data/00/00000001")));
    cr_assert(exists(cx_entry(cx_url, "config/b")));
    CX_OK(bs_store_cache_invalidate(s, ""));
    cr_assert(!exists(cx_entry(cx_url, "config/b")));
    cx_expect(s, "config/b", 0, BS_SIZE_ALL, "b", 1); /* refetched */
    cx_close(s);
}
