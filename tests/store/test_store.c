/* Store semantics, mirroring Python borgstore's tests/test_store.py: basics,
 * nesting configuration, upgrading and downgrading levels, every move
 * variant, partial loads, sorted listing, stats, hash and defrag. */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

TestSuite(store, .init = fx_setup, .fini = fx_teardown);

static void load_eq(const char *name, bool deleted, const char *want)
{
    uint8_t *v;
    size_t len;
    ASSERT_OK(bs_store_load(fx_s, name, 0, BS_SIZE_ALL, deleted, &v, &len));
    cr_assert_eq(len, strlen(want), "%s: %zu bytes, want %zu", name, len, strlen(want));
    cr_assert_arr_eq(v, want, len);
    bs_free(v);
}

Test(store, basics_round_trip_info_backend_layout_list_delete)
{
    const char *name = "two/00000000";
    ASSERT_OK(bs_store_store(fx_s, name, "value0", 6));
    load_eq(name, false, "value0");

    bs_item_info info;
    ASSERT_OK(bs_store_info(fx_s, name, false, &info));
    cr_assert(info.exists);
    cr_assert(!info.directory);
    cr_assert_eq(info.size, 6);
    cr_assert_str_eq(info.name, "00000000");

    /* one level down: the backend sees the nested names */
    bs_backend *b = bs_store_backend(fx_s);
    bs_item_info bi;
    ASSERT_OK(bs_backend_info(b, "two/00", &bi));
    cr_assert(bi.exists && bi.directory);
    ASSERT_OK(bs_backend_info(b, "two/00/00", &bi));
    cr_assert(bi.exists && bi.directory);
    ASSERT_OK(bs_backend_info(b, "two/00/00/00000000", &bi));
    cr_assert(bi.exists && !bi.directory);
    cr_assert_eq(bi.size, 6);

    char *l = fx_list(fx_s, "two", false);
    cr_assert_str_eq(l, "00000000");
    free(l);

    ASSERT_OK(bs_store_delete(fx_s, name, false));
    ASSERT_OK(bs_store_info(fx_s, name, false, &info));
    cr_assert(!info.exists);
    ASSERT_OK(bs_backend_info(b, "two/00/00/00000000", &bi));
    cr_assert(!bi.exists);
    l = fx_list(fx_s, "two", false);
    cr_assert_str_eq(l, "");
    free(l);
}

Test(store, nesting_config_maps_names_per_namespace)
{
    ASSERT_OK(bs_store_store(fx_s, "zero/something", "", 0));
    ASSERT_OK(bs_store_store(fx_s, "one/1234", NULL, 0));
    ASSERT_OK(bs_store_store(fx_s, "two/12345678", "", 0));
    char n[BS_NAME_BUF];
    ASSERT_OK(bs_store_find(fx_s, "zero/something", false, n));
    cr_assert_str_eq(n, "zero/something");
    ASSERT_OK(bs_store_find(fx_s, "one/1234", false, n));
    cr_assert_str_eq(n, "one/12/1234");
    ASSERT_OK(bs_store_find(fx_s, "two/12345678", false, n));
    cr_assert_str_eq(n, "two/12/34/12345678");
    ASSERT_OK(bs_store_find(fx_s, "two/12345678", true, n));
    cr_assert_str_eq(n, "two/12/34/12345678.del");
    cr_assert(fx_on_disk("two/12/34/12345678"));
    cr_assert(fx_on_disk("one/12/1234"));
}

Test(store, longest_prefix_wins_and_unconfigured_names_are_invalid)
{
    static const bs_store_namespace ns[] = {
        {.prefix = "", .levels = {0}, .nlevels = 1},
        {.prefix = "data/", .levels = {1}, .nlevels = 1},
        {.prefix = "data/meta/", .levels = {2}, .nlevels = 1},
    };
    ASSERT_OK(bs_store_set_config(fx_s, ns, 3));
    char n[BS_NAME_BUF];
    ASSERT_OK(bs_store_find(fx_s, "config/x", false, n));
    cr_assert_str_eq(n, "config/x");
    ASSERT_OK(bs_store_find(fx_s, "data/abcd", false, n));
    cr_assert_str_eq(n, "data/ab/abcd");
    ASSERT_OK(bs_store_find(fx_s, "data/meta/abcdef", false, n));
    cr_assert_str_eq(n, "data/meta/ab/cd/abcdef");

    ASSERT_OK(bs_store_set_config(fx_s, fx_levels, 3));
    cr_assert_eq(bs_store_store(fx_s, "other/x", "v", 1), BS_ERR_INVALID);
    cr_assert(strstr(bs_error_message(), "other/x"), "%s", bs_error_message());
    uint8_t *v;
    size_t len;
    cr_assert_eq(bs_store_load(fx_s, "config/x", 0, -1, false, &v, &len), BS_ERR_INVALID);
    cr_assert_null(v);
}

Test(store, upgrade_levels_keeps_old_items_reachable)
{
    static const bs_store_namespace l0[] = {{.prefix = "", .levels = {0}, .nlevels = 1}};
    static const bs_store_namespace l01[] = {{.prefix = "", .levels = {0, 1}, .nlevels = 2}};
    const char *k0 = fx_key(0), *k1 = fx_key(1);
    char n[BS_NAME_BUF];

    ASSERT_OK(bs_store_set_config(fx_s, l0, 1));
    ASSERT_OK(bs_store_create_levels(fx_s));
    ASSERT_OK(bs_store_store(fx_s, k0, "value0", 6));
    ASSERT_OK(bs_store_find(fx_s, k0, false, n));
    cr_assert_str_eq(n, k0);
    bs_item_info info;
    ASSERT_OK(bs_store_info(fx_s, k0, false, &info));
    cr_assert(info.exists && info.size == 6);
    char *l = fx_list(fx_s, "", false);
    cr_assert_str_eq(l, k0);
    free(l);

    ASSERT_OK(bs_store_set_config(fx_s, l01, 1));
    ASSERT_OK(bs_store_create_levels(fx_s));
    ASSERT_OK(bs_store_find(fx_s, k0, false, n));
    cr_assert_str_eq(n, k0, "still found on level 0");
    l = fx_list(fx_s, "", false);
    cr_assert_str_eq(l, k0);
    free(l);
    ASSERT_OK(bs_store_store(fx_s, k1, "value1", 6));
    ASSERT_OK(bs_store_find(fx_s, k1, false, n));
    cr_assert_str_eq(n, "00/00000001", "new item on the last level");
    l = fx_list(fx_s, "", false);
    cr_assert(!strcmp(l, "00000000,00000001") || !strcmp(l, "00000001,00000000"), "%s", l);
    free(l);
    ASSERT_OK(bs_store_delete(fx_s, k1, false));

    /* overwriting k0 keeps it on level 0, so it shows up once */
    ASSERT_OK(bs_store_store(fx_s, k0, "value0new", 9));
    ASSERT_OK(bs_store_find(fx_s, k0, false, n));
    cr_assert_str_eq(n, k0);
    ASSERT_OK(bs_store_info(fx_s, k0, false, &info));
    cr_assert_eq(info.size, 9);
    l = fx_list(fx_s, "", false);
    cr_assert_str_eq(l, k0);
    free(l);
    load_eq(k0, false, "value0new");
}

Test(store, downgrade_levels_keeps_old_items_reachable)
{
    static const bs_store_namespace l1[] = {{.prefix = "", .levels = {1}, .nlevels = 1}};
    static const bs_store_namespace l10[] = {{.prefix = "", .levels = {1, 0}, .nlevels = 2}};
    const char *k0 = fx_key(0), *k1 = fx_key(1);
    char n[BS_NAME_BUF];

    ASSERT_OK(bs_store_set_config(fx_s, l1, 1));
    ASSERT_OK(bs_store_store(fx_s, k1, "value1", 6));
    ASSERT_OK(bs_store_find(fx_s, k1, false, n));
    cr_assert_str_eq(n, "00/00000001");

    ASSERT_OK(bs_store_set_config(fx_s, l10, 1));
    ASSERT_OK(bs_store_find(fx_s, k1, false, n));
    cr_assert_str_eq(n, "00/00000001");
    ASSERT_OK(bs_store_store(fx_s, k0, "value0", 6));
    ASSERT_OK(bs_store_find(fx_s, k0, false, n));
    cr_assert_str_eq(n, k0);
    char *l = fx_list(fx_s, "", false);
    /* the root listing also walks the old namespaces zero/one/two: only
     * items count, and ours are the only ones */
    cr_assert(strstr(l, k0) && strstr(l, k1), "%s", l);
    free(l);
    ASSERT_OK(bs_store_delete(fx_s, k0, false));

    ASSERT_OK(bs_store_store(fx_s, k1, "value1new", 9));
    ASSERT_OK(bs_store_find(fx_s, k1, false, n));
    cr_assert_str_eq(n, "00/00000001");
    load_eq(k1, false, "value1new");
    l = fx_list(fx_s, "", false);
    cr_assert_str_eq(l, k1);
    free(l);
}

Test(store, soft_delete_and_undelete)
{
    const char *k0 = "zero/00000000", *k1 = "zero/00000001";
    ASSERT_OK(bs_store_store(fx_s, k0, "value0", 6));
    ASSERT_OK(bs_store_store(fx_s, k1, "value1", 6));
    ASSERT_OK(bs_store_move(fx_s, k0, NULL, BS_MOVE_SOFT_DELETE, false));
    cr_assert(fx_on_disk("zero/00000000.del"));
    cr_assert(!fx_on_disk("zero/00000000"));
    char *l = fx_list(fx_s, "zero", false);
    cr_assert_str_eq(l, "00000001");
    free(l);
    l = fx_list(fx_s, "zero", true);
    cr_assert_str_eq(l, "00000000");
    free(l);

    bs_item_info info;
    ASSERT_OK(bs_store_info(fx_s, k0, false, &info));
    cr_assert(!info.exists);
    ASSERT_OK(bs_store_info(fx_s, k0, true, &info));
    cr_assert(info.exists);
    cr_assert_str_eq(info.name, "00000000");
    load_eq(k0, true, "value0");

    ASSERT_OK(bs_store_move(fx_s, k0, NULL, BS_MOVE_UNDELETE, false));
    l = fx_list(fx_s, "zero", false);
    cr_assert_str_eq(l, "00000000,00000001");
    free(l);
    l = fx_list(fx_s, "zero", true);
    cr_assert_str_eq(l, "");
    free(l);

    /* soft-deleted items can be deleted for good */
    ASSERT_OK(bs_store_move(fx_s, k1, NULL, BS_MOVE_SOFT_DELETE, false));
    ASSERT_OK(bs_store_delete(fx_s, k1, true));
    cr_assert(!fx_on_disk("zero/00000001.del"));
}

Test(store, soft_delete_on_nested_level_keeps_the_directory)
{
    ASSERT_OK(bs_store_store(fx_s, "two/12345678", "v", 1));
    ASSERT_OK(bs_store_move(fx_s, "two/12345678", NULL, BS_MOVE_SOFT_DELETE, false));
    cr_assert(fx_on_disk("two/12/34/12345678.del"));
    ASSERT_OK(bs_store_move(fx_s, "two/12345678", NULL, BS_MOVE_UNDELETE, false));
    cr_assert(fx_on_disk("two/12/34/12345678"));
}

Test(store, move_of_missing_items_names_the_item)
{
    cr_assert_eq(bs_store_move(fx_s, "zero/nothere", NULL, BS_MOVE_SOFT_DELETE, false),
                 BS_ERR_NOT_FOUND);
    cr_assert_str_eq(bs_error_message(), "object not found: zero/nothere");
    cr_assert_eq(bs_store_move(fx_s, "zero/nothere", NULL, BS_MOVE_UNDELETE, false),
                 BS_ERR_NOT_FOUND);
    cr_assert_str_eq(bs_error_message(), "object not found: zero/nothere (soft-deleted)");
    cr_assert_eq(bs_store_move(fx_s, "zero/a", NULL, BS_MOVE_RENAME, false), BS_ERR_INVALID);
    cr_assert_eq(bs_store_move(fx_s, "zero/a", "zero/b", (bs_move_mode)42, false),
                 BS_ERR_INVALID);
}

Test(store, move_change_level_goes_to_the_last_level)
{
    static const bs_store_namespace l0[] = {{.prefix = "", .levels = {0}, .nlevels = 1}};
    static const bs_store_namespace l01[] = {{.prefix = "", .levels = {0, 1}, .nlevels = 2}};
    const char *k0 = fx_key(0);
    char n[BS_NAME_BUF];
    ASSERT_OK(bs_store_set_config(fx_s, l0, 1));
    ASSERT_OK(bs_store_store(fx_s, k0, "value0", 6));
    ASSERT_OK(bs_store_find(fx_s, k0, false, n));
    cr_assert_str_eq(n, k0);
    ASSERT_OK(bs_store_set_config(fx_s, l01, 1));
    ASSERT_OK(bs_store_move(fx_s, k0, NULL, BS_MOVE_CHANGE_LEVEL, false));
    ASSERT_OK(bs_store_find(fx_s, k0, false, n));
    cr_assert_str_eq(n, "00/00000000");
    load_eq(k0, false, "value0");

    /* and a soft-deleted item, with deleted=true */
    const char *k1 = fx_key(1);
    ASSERT_OK(bs_store_set_config(fx_s, l0, 1));
    ASSERT_OK(bs_store_store(fx_s, k1, "value1", 6));
    ASSERT_OK(bs_store_move(fx_s, k1, NULL, BS_MOVE_SOFT_DELETE, false));
    ASSERT_OK(bs_store_set_config(fx_s, l01, 1));
    ASSERT_OK(bs_store_move(fx_s, k1, NULL, BS_MOVE_CHANGE_LEVEL, true));
    ASSERT_OK(bs_store_find(fx_s, k1, true, n));
    cr_assert_str_eq(n, "00/00000001.del");
    cr_assert(fx_on_disk("00/00000001.del"));
}

Test(store, move_rename_within_and_across_namespaces)
{
    ASSERT_OK(bs_store_store(fx_s, "zero/aaa", "value", 5));
    ASSERT_OK(bs_store_move(fx_s, "zero/aaa", "zero/bbb", BS_MOVE_RENAME, false));
    load_eq("zero/bbb", false, "value");
    bs_item_info info;
    ASSERT_OK(bs_store_info(fx_s, "zero/aaa", false, &info));
    cr_assert(!info.exists);

    ASSERT_OK(bs_store_store(fx_s, "one/00000000", "value", 5));
    ASSERT_OK(bs_store_move(fx_s, "one/00000000", "two/00000000", BS_MOVE_RENAME, false));
    load_eq("two/00000000", false, "value");
    cr_assert(fx_on_disk("two/00/00/00000000"));

    /* renaming soft-deleted items keeps them soft-deleted */
    ASSERT_OK(bs_store_move(fx_s, "two/00000000", NULL, BS_MOVE_SOFT_DELETE, false));
    ASSERT_OK(bs_store_move(fx_s, "two/00000000", "two/11111111", BS_MOVE_RENAME, true));
    load_eq("two/11111111", true, "value");
    cr_assert(fx_on_disk("two/11/11/11111111.del"));
}

Test(store, load_partial)
{
    const char *k = "zero/key";
    ASSERT_OK(bs_store_store(fx_s, k, "0123456789", 10));
    struct {
        int64_t off, size;
        const char *want;
    } cases[] = {
        {0, BS_SIZE_ALL, "0123456789"}, {0, 3, "012"},   {5, BS_SIZE_ALL, "56789"},
        {4, 4, "4567"},                 {-3, BS_SIZE_ALL, "789"}, {-5, 2, "56"},
        {8, 100, "89"},                 {10, 5, ""},     {20, BS_SIZE_ALL, ""},
        {-10, 1, "0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *v;
        size_t len;
        ASSERT_OK(bs_store_load(fx_s, k, cases[i].off, cases[i].size, false, &v, &len));
        cr_assert_not_null(v);
        cr_assert_eq(len, strlen(cases[i].want), "case %zu: %zu bytes", i, len);
        cr_assert_arr_eq(v, cases[i].want, len, "case %zu", i);
        bs_free(v);
    }
    uint8_t *v;
    size_t len;
    cr_assert_eq(bs_store_load(fx_s, k, -11, BS_SIZE_ALL, false, &v, &len), BS_ERR_READ_RANGE);
    cr_assert_null(v);
    cr_assert_eq(bs_store_load(fx_s, "zero/missing", 0, 1, false, &v, &len), BS_ERR_NOT_FOUND);
    cr_assert_str_eq(bs_error_message(), "object not found: zero/missing");
}

Test(store, list_is_sorted_on_every_level)
{
    static const char *unsorted[] = {"0012", "0000", "9999", "9988",
                                     "5566", "6655", "3322", "3300"};
    const char *sorted = "0000,0012,3300,3322,5566,6655,9988,9999";
    const char *nss[] = {"zero", "one", "two"};
    for (int n = 0; n < 3; n++) {
        for (size_t i = 0; i < 8; i++) {
            char name[64];
            snprintf(name, sizeof name, "%s/%s", nss[n], unsorted[i]);
            ASSERT_OK(bs_store_store(fx_s, name, "", 0));
        }
        char *l = fx_list(fx_s, nss[n], false);
        cr_assert_str_eq(l, sorted, "%s: %s", nss[n], l);
        free(l);
    }
}

Test(store, list_of_a_thousand_items_on_level_one)
{
    for (unsigned i = 0; i < 1000; i++) {
        char name[32];
        snprintf(name, sizeof name, "one/%s", fx_key(i * 2654435761u));
        ASSERT_OK(bs_store_store(fx_s, name, "", 0));
    }
    bs_store_list_iter *it;
    ASSERT_OK(bs_store_list_begin(fx_s, "one/", false, &it));
    bs_item_info info;
    char prev[BS_NAME_BUF] = "";
    int n = 0, rc;
    while ((rc = bs_store_list_next(it, &info)) == 1) {
        cr_assert_gt(strcmp(info.name, prev), 0, "%s after %s", info.name, prev);
        strcpy(prev, info.name);
        n++;
    }
    cr_assert_eq(rc, 0);
    cr_assert_eq(bs_store_list_next(it, &info), 0, "stays at the end");
    bs_store_list_end(it);
    cr_assert_eq(n, 1000);
}

Test(store, list_hides_temp_files_and_reports_missing_namespaces)
{
    ASSERT_OK(bs_store_store(fx_s, "zero/a", "1", 1));
    char path[4096];
    snprintf(path, sizeof path, "%s/zero/leftover.tmp", fx_dir);
    cr_assert_eq(bs_test_write_file(path, "x", 1), 0);
    char *l = fx_list(fx_s, "zero", false);
    cr_assert_str_eq(l, "a");
    free(l);

    bs_store_list_iter *it;
    cr_assert_eq(bs_store_list_begin(fx_s, "nothing", false, &it), BS_ERR_NOT_FOUND);
    cr_assert_null(it);
    cr_assert(strstr(bs_error_message(), "nothing"), "%s", bs_error_message());
    cr_assert_eq(bs_store_list_begin(fx_s, "Bad", false, &it), BS_ERR_INVALID);
}

Test(store, list_allows_operations_between_steps)
{
    for (unsigned i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof name, "two/%s", fx_key(i * 0x01010101u));
        ASSERT_OK(bs_store_store(fx_s, name, "v", 1));
    }
    bs_store_list_iter *it;
    ASSERT_OK(bs_store_list_begin(fx_s, "two", false, &it));
    bs_item_info info;
    int n = 0, rc;
    while ((rc = bs_store_list_next(it, &info)) == 1) {
        char name[BS_NAME_BUF + 8];
        snprintf(name, sizeof name, "two/%s", info.name);
        bs_item_info i2;
        ASSERT_OK(bs_store_info(fx_s, name, false, &i2)); /* would deadlock if locked */
        cr_assert(i2.exists);
        ASSERT_OK(bs_store_move(fx_s, name, NULL, BS_MOVE_SOFT_DELETE, false));
        n++;
    }
    cr_assert_eq(rc, 0, "%s", bs_error_message());
    bs_store_list_end(it);
    cr_assert_eq(n, 20);
    char *l = fx_list(fx_s, "two", false);
    cr_assert_str_eq(l, "");
    free(l);
}

Test(store, list_after_close_reports_must_be_open)
{
    ASSERT_OK(bs_store_store(fx_s, "zero/a", "1", 1));
    ASSERT_OK(bs_store_store(fx_s, "zero/b", "1", 1));
    bs_store_list_iter *it;
    ASSERT_OK(bs_store_list_begin(fx_s, "zero", false, &it));
    bs_item_info info;
    cr_assert_eq(bs_store_list_next(it, &info), 1);
    ASSERT_OK(bs_store_close(fx_s));
    cr_assert_eq(bs_store_list_next(it, &info), BS_ERR_MUST_BE_OPEN);
    cr_assert_eq(bs_store_list_next(it, &info), BS_ERR_MUST_BE_OPEN, "sticky");
    bs_store_list_end(it);
    cr_assert_eq(bs_store_list_begin(fx_s, "zero", false, &it), BS_ERR_MUST_BE_OPEN);
    bs_store_list_end(NULL);
}

Test(store, stats_count_calls_times_and_volumes)
{
    bs_store_stats st;
    bs_store_stats_get(fx_s, &st);
    cr_assert_eq(st.store_calls + st.load_calls + st.list_calls + st.info_calls, 0);
    const char *key = "zero/key";
    ASSERT_OK(bs_store_store(fx_s, key, "", 0));
    bs_store_stats_get(fx_s, &st);
    cr_assert_eq(st.store_calls, 1);
    ASSERT_OK(bs_store_store(fx_s, key, "", 0));
    bs_store_stats_get(fx_s, &st);
    cr_assert_eq(st.store_calls, 2);
    uint8_t *v;
    size_t len;
    ASSERT_OK(bs_store_load(fx_s, key, 0, BS_SIZE_ALL, false, &v, &len));
    bs_free(v);
    bs_store_stats_get(fx_s, &st);
    cr_assert_eq(st.load_calls, 1);
    cr_assert_eq(st.store_calls, 2);
    free(fx_list(fx_s, "zero", false));
    bs_store_stats_get(fx_s, &st);
    cr_assert_eq(st.list_calls, 1);
    cr_assert_gt(st.list_time, 0);
    cr_assert_gt(st.load_time, 0);
    cr_assert_gt(st.store_time, 0);
    cr_assert_eq(st.load_volume, 0);
    cr_assert_eq(st.store_volume, 0);

    uint8_t value[100] = {0};
    ASSERT_OK(bs_store_store(fx_s, key, value, 100));
    bs_store_stats_get(fx_s, &st);
    cr_assert_eq(st.store_volume, 100);
    ASSERT_OK(bs_store_store(fx_s, key, value, 100));
    bs_store_stats_get(fx_s, &st);
    cr_assert_eq(st.store_volume, 200);
    ASSERT_OK(bs_store_load(fx_s, key, 0, BS_SIZE_ALL, false, &v, &len));
    bs_free(v);
    bs_store_stats_get(fx_s, &st);
    cr_assert_eq(st.load_volume, 100);
    ASSERT_OK(bs_store_load(fx_s, key, 10, 20, false, &v, &len));
    bs_free(v);
    bs_store_stats_get(fx_s, &st);
    cr_assert_eq(st.load_volume, 120, "partial loads count what was loaded");
    cr_assert_gt(st.load_throughput, 0);
    cr_assert_gt(st.store_throughput, 0);

    /* backend counters; failed calls reach the backend but are not Store calls */
    cr_assert_eq(bs_store_load(fx_s, "zero/missing", 0, -1, false, &v, &len), BS_ERR_NOT_FOUND);
    cr_assert_eq(bs_store_delete(fx_s, "zero/missing", false), BS_ERR_NOT_FOUND);
    ASSERT_OK(bs_store_delete(fx_s, key, false));
    bs_item_info info;
    ASSERT_OK(bs_store_info(fx_s, key, false, &info));
    ASSERT_OK(bs_store_store(fx_s, key, "x", 1));
    ASSERT_OK(bs_store_move(fx_s, key, NULL, BS_MOVE_SOFT_DELETE, false));
    char hex[BS_HASH_HEX_SIZE];
    ASSERT_OK(bs_store_hash(fx_s, key, BS_HASH_SHA256, true, hex));
    bs_store_stats_get(fx_s, &st);
    cr_assert_eq(st.load_calls, 3);
    cr_assert_eq(st.backend_load_calls, 4);
    cr_assert_eq(st.backend_load_volume, 120);
    cr_assert_eq(st.delete_calls, 1);
    cr_assert_eq(st.backend_delete_calls, 2);
    cr_assert_eq(st.store_calls, 5);
    cr_assert_eq(st.backend_store_calls, 5);
    cr_assert_eq(st.backend_store_volume, 201);
    cr_assert_eq(st.info_calls, 1);
    cr_assert_eq(st.move_calls, 1);
    cr_assert_eq(st.hash_calls, 1);
    cr_assert_eq(st.list_calls, 1);
}

Test(store, stats_print_as_text_and_json)
{
    ASSERT_OK(bs_store_store(fx_s, "zero/k", "12345", 5));
    bs_store_stats st;
    bs_store_stats_get(fx_s, &st);
    char *text, *json;
    ASSERT_OK(bs_store_stats_format(&text, &st, BS_STATS_TEXT));
    ASSERT_OK(bs_store_stats_format(&json, &st, BS_STATS_JSON));
    static const char *keys[] = {
        "info_calls", "info_time", "load_calls", "load_time", "store_calls", "store_time",
        "delete_calls", "delete_time", "move_calls", "move_time", "list_calls", "list_time",
        "load_volume", "load_throughput", "store_volume", "store_throughput",
        "backend_load_calls", "backend_store_calls", "backend_delete_calls",
        "backend_load_volume", "backend_store_volume"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char q[64];
        snprintf(q, sizeof q, "\"%s\": ", keys[i]);
        cr_assert(strstr(json, q), "json lacks %s", keys[i]);
        snprintf(q, sizeof q, "\n%s ", keys[i]);
        cr_assert(strstr(text, q) || !strncmp(text, q + 1, strlen(q + 1)), "text lacks %s",
                  keys[i]);
    }
    cr_assert(strstr(json, "\"store_calls\": 1,"), "%s", json);
    cr_assert(strstr(json, "\"store_volume\": 5,"), "%s", json);
    cr_assert_eq(json[0], '{');
    cr_assert_str_eq(json + strlen(json) - 2, "}\n");
    cr_assert(strstr(text, "store_volume           5\n"), "%s", text);
    bs_free(text);
    bs_free(json);
    cr_assert_eq(bs_store_stats_format(&text, &st, (bs_stats_format)7), BS_ERR_INVALID);
    cr_assert_null(text);
}

Test(store, hash_of_items_and_soft_deleted_items)
{
    const char *k = "two/00000000";
    ASSERT_OK(bs_store_store(fx_s, k, "value0", 6));
    for (int alg = BS_HASH_SHA256; alg <= BS_HASH_BLAKE2B; alg++) {
        char want[BS_HASH_HEX_SIZE], got[BS_HASH_HEX_SIZE];
        ASSERT_OK(bs_hash_hex((bs_hash_alg)alg, "value0", 6, want));
        ASSERT_OK(bs_store_hash(fx_s, k, (bs_hash_alg)alg, false, got));
        cr_assert_str_eq(got, want);
    }
    char hex[BS_HASH_HEX_SIZE];
    ASSERT_OK(bs_store_move(fx_s, k, NULL, BS_MOVE_SOFT_DELETE, false));
    char hex2[BS_HASH_HEX_SIZE];
    ASSERT_OK(bs_store_hash(fx_s, k, BS_HASH_SHA256, true, hex2));
    ASSERT_OK(bs_hash_hex(BS_HASH_SHA256, "value0", 6, hex));
    cr_assert_str_eq(hex2, hex);
    cr_assert_eq(bs_store_hash(fx_s, k, BS_HASH_SHA256, false, hex2), BS_ERR_NOT_FOUND);
    cr_assert_eq(bs_store_hash(fx_s, k, (bs_hash_alg)99, true, hex2), BS_ERR_INVALID);
}

Test(store, defrag_with_target_and_by_content_hash)
{
    ASSERT_OK(bs_store_store(fx_s, "two/file1", "0123456789", 10));
    ASSERT_OK(bs_store_store(fx_s, "two/file2", "abcdefghij", 10));
    bs_store_block src[] = {{"file1", 2, 3}, {"file2", 5, 2}};
    char key[BS_NAME_BUF];
    ASSERT_OK(bs_store_defrag(fx_s, "two", src, 2, "target1", BS_HASH_SHA256, false, key));
    cr_assert_str_eq(key, "target1");
    load_eq("two/target1", false, "234fg");

    ASSERT_OK(bs_store_defrag(fx_s, "two", src, 2, NULL, BS_HASH_SHA256, false, key));
    char want[BS_HASH_HEX_SIZE];
    ASSERT_OK(bs_hash_hex(BS_HASH_SHA256, "234fg", 5, want));
    cr_assert_str_eq(key, want);
    char name[BS_NAME_BUF + 8];
    snprintf(name, sizeof name, "two/%s", key);
    load_eq(name, false, "234fg");
    char nested[BS_NAME_BUF];
    ASSERT_OK(bs_store_find(fx_s, name, false, nested));
    cr_assert(fx_on_disk(nested), "%s", nested);

    bs_store_block past[] = {{"file1", 8, 5}};
    int rc = bs_store_defrag(fx_s, "two", past, 1, "target2", BS_HASH_SHA256, false, key);
    cr_assert_eq(rc, BS_ERR_READ_RANGE, "%d: %s", rc, bs_error_message());
    bs_item_info info;
    ASSERT_OK(bs_store_info(fx_s, "two/target2", false, &info));
    cr_assert(!info.exists, "nothing stored after a read range error");
    bs_store_block slash[] = {{"two/file1", 0, 1}};
    cr_assert_eq(bs_store_defrag(fx_s, "two", slash, 1, "target3", BS_HASH_SHA256, false, key),
                 BS_ERR_INVALID);
    cr_assert_eq(bs_store_defrag(fx_s, "two", src, 2, "a/b", BS_HASH_SHA256, false, key),
                 BS_ERR_INVALID);
}
