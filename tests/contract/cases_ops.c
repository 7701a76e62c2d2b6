/* Contract cases: item and directory operations on an open backend (flat
 * and namespaced use, overwrite, info, delete, move, mkdir/rmdir, listing,
 * quota reporting). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "contract.h"

TestSuite(contract, .init = ct_init_open, .fini = ct_fini, .timeout = 120);

Test(contract, flat_store_load_delete)
{
    ct_put("config", "cfg-1");
    ct_check_str("config", "cfg-1");
    CT_OK(bs_backend_delete(ct_b, "config"));
    ct_check_absent("config");
    uint8_t *got = (uint8_t *)"x";
    size_t len = 7;
    CT_EXPECT(BS_ERR_NOT_FOUND, bs_backend_load(ct_b, "config", 0, BS_SIZE_ALL, &got, &len));
    cr_assert_null(got);
    cr_assert_eq(len, 0);
}

Test(contract, namespaced_store_list_info)
{
    CT_OK(bs_backend_mkdir(ct_b, "data"));
    ct_put("data/00/0000aa", "zero");
    ct_put("data/ff/ff00bb", "effeff");
    ct_put("keys/repokey", "k");
    ct_check_str("data/00/0000aa", "zero");
    ct_check_str("data/ff/ff00bb", "effeff");

    size_t n;
    bs_item_info *items = ct_list("data", &n);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(items[0].name, "00");
    cr_assert(items[0].directory);
    cr_assert_str_eq(items[1].name, "ff");
    free(items);

    items = ct_list("data/ff", &n);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(items[0].name, "ff00bb");
    cr_assert_not(items[0].directory);
    cr_assert_eq(items[0].size, 6);
    cr_assert(items[0].exists);
    free(items);

    bs_item_info info;
    CT_OK(bs_backend_info(ct_b, "data/ff/ff00bb", &info));
    cr_assert(info.exists);
    cr_assert_not(info.directory);
    cr_assert_eq(info.size, 6);
    cr_assert_str_eq(info.name, "ff00bb");
    CT_OK(bs_backend_info(ct_b, "data/ff", &info));
    cr_assert(info.exists);
    cr_assert(info.directory);
    cr_assert_str_eq(info.name, "ff");
}

/* borg decides about stale locks by the store's mtime (borgstore 0.6.1):
 * every backend reports the time the value was written, by info and list. */
Test(contract, info_and_list_report_the_modification_time)
{
    int64_t before = ((int64_t)time(NULL) - 2) * 1000000000; /* 1 s granularity + skew */
    ct_put("locks/lock-a", "lock");
    int64_t after = ((int64_t)time(NULL) + 2) * 1000000000;
    bs_item_info info;
    CT_OK(bs_backend_info(ct_b, "locks/lock-a", &info));
    cr_assert_geq(info.mtime_ns, before, "mtime %lld not after the store began",
                  (long long)info.mtime_ns);
    cr_assert_leq(info.mtime_ns, after, "mtime %lld later than the store's end",
                  (long long)info.mtime_ns);
    size_t n;
    bs_item_info *items = ct_list("locks", &n);
    cr_assert_eq(n, 1);
    cr_assert_eq(items[0].mtime_ns, info.mtime_ns, "list says %lld, info %lld",
                 (long long)items[0].mtime_ns, (long long)info.mtime_ns);
    free(items);
}

Test(contract, store_overwrites_existing_value)
{
    ct_put("data/x", "first, longer value");
    ct_put("data/x", "second");
    ct_check_str("data/x", "second");
    bs_item_info info;
    CT_OK(bs_backend_info(ct_b, "data/x", &info));
    cr_assert_eq(info.size, 6);
}

Test(contract, info_of_missing_name_is_not_an_error)
{
    bs_item_info info;
    memset(&info, 0xff, sizeof info);
    CT_OK(bs_backend_info(ct_b, "nothing/here", &info));
    cr_assert_not(info.exists);
    cr_assert_str_eq(info.name, "here");
    CT_OK(bs_backend_info(ct_b, "nothing", &info));
    cr_assert_not(info.exists);
}

Test(contract, missing_names_are_not_found)
{
    char hex[BS_HASH_HEX_SIZE];
    CT_EXPECT(BS_ERR_NOT_FOUND, bs_backend_delete(ct_b, "missing"));
    CT_EXPECT(BS_ERR_NOT_FOUND, bs_backend_delete(ct_b, "no/such/dir/item"));
    CT_EXPECT(BS_ERR_NOT_FOUND, bs_backend_rmdir(ct_b, "missing"));
    CT_EXPECT(BS_ERR_NOT_FOUND, bs_backend_move(ct_b, "missing", "other"));
    CT_EXPECT(BS_ERR_NOT_FOUND, bs_backend_hash(ct_b, "missing", BS_HASH_SHA256, hex));
    bs_list_iter *it = NULL;
    CT_EXPECT(BS_ERR_NOT_FOUND, bs_backend_list_begin(ct_b, "missing", &it));
    cr_assert_null(it);
    ct_check_absent("other");
}

Test(contract, mkdir_creates_parents_and_accepts_existing)
{
    CT_OK(bs_backend_mkdir(ct_b, "a/b/c"));
    CT_OK(bs_backend_mkdir(ct_b, "a/b/c"));
    CT_OK(bs_backend_mkdir(ct_b, "a"));
    bs_item_info info;
    CT_OK(bs_backend_info(ct_b, "a/b/c", &info));
    cr_assert(info.exists && info.directory);
    size_t n;
    bs_item_info *items = ct_list("a/b/c", &n);
    cr_assert_eq(n, 0);
    free(items);
}

Test(contract, rmdir_removes_only_empty_directories)
{
    CT_OK(bs_backend_mkdir(ct_b, "d/sub"));
    ct_put("d/sub/item", "v");
    CT_EXPECT(BS_ERR_IO, bs_backend_rmdir(ct_b, "d/sub"));
    ct_check_str("d/sub/item", "v");
    CT_OK(bs_backend_delete(ct_b, "d/sub/item"));
    CT_OK(bs_backend_rmdir(ct_b, "d/sub"));
    ct_check_absent("d/sub");
    CT_OK(bs_backend_rmdir(ct_b, "d"));
    ct_check_absent("d");
}

Test(contract, store_creates_missing_nesting_directories)
{
    ct_put("data/01/23/0123456789", "nested");
    ct_check_str("data/01/23/0123456789", "nested");
    bs_item_info info;
    CT_OK(bs_backend_info(ct_b, "data/01/23", &info));
    cr_assert(info.exists && info.directory);
}

Test(contract, move_renames_and_creates_missing_target_directories)
{
    ct_put("data/00/0011", "payload");
    CT_OK(bs_backend_move(ct_b, "data/00/0011", "data/00/0011.del"));
    ct_check_absent("data/00/0011");
    ct_check_str("data/00/0011.del", "payload");
    CT_OK(bs_backend_move(ct_b, "data/00/0011.del", "other/ns/x/0011"));
    ct_check_absent("data/00/0011.del");
    ct_check_str("other/ns/x/0011", "payload");
}

Test(contract, move_overwrites_target)
{
    ct_put("src", "new");
    ct_put("dst", "old value");
    CT_OK(bs_backend_move(ct_b, "src", "dst"));
    ct_check_str("dst", "new");
    ct_check_absent("src");
    size_t n;
    bs_item_info *items = ct_list("", &n);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(items[0].name, "dst");
    free(items);
}

Test(contract, list_is_sorted_reports_sizes_and_hides_nothing_else)
{
    /* stored in an order that is neither sorted nor reverse sorted */
    static const char *names[] = {"m", "b-1", "zz", "a.b", "a", "0", "b_1", "b", "y9", "_x"};
    size_t count = sizeof names / sizeof names[0];
    for (size_t i = 0; i < count; i++) {
        char name[64], value[64];
        snprintf(name, sizeof name, "ns/%s", names[i]);
        snprintf(value, sizeof value, "%.*s", (int)(i + 1), "0123456789abcdef");
        ct_put(name, value);
    }
    CT_OK(bs_backend_mkdir(ct_b, "ns/dir"));
    size_t n;
    bs_item_info *items = ct_list("ns", &n);
    cr_assert_eq(n, count + 1, "listed %zu, expected %zu (temp files must not show)", n,
                 count + 1);
    for (size_t i = 1; i < n; i++)
        cr_assert_lt(strcmp(items[i - 1].name, items[i].name), 0, "%s before %s",
                     items[i - 1].name, items[i].name);
    for (size_t i = 0; i < n; i++) {
        cr_assert(items[i].exists);
        if (!strcmp(items[i].name, "dir")) {
            cr_assert(items[i].directory);
            continue;
        }
        cr_assert_not(items[i].directory, "%s", items[i].name);
        size_t k = 0;
        while (k < count && strcmp(names[k], items[i].name)) k++;
        cr_assert_lt(k, count, "unexpected entry %s", items[i].name);
        cr_assert_eq(items[i].size, k + 1, "%s has size %llu", items[i].name,
                     (unsigned long long)items[i].size);
    }
    free(items);
}

Test(contract, list_of_root_and_of_empty_store)
{
    size_t n;
    bs_item_info *items = ct_list("", &n);
    cr_assert_eq(n, 0, "a fresh store lists nothing");
    free(items);
    ct_put("top", "1");
    CT_OK(bs_backend_mkdir(ct_b, "data"));
    items = ct_list("", &n);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(items[0].name, "data");
    cr_assert_str_eq(items[1].name, "top");
    free(items);
}

Test(contract, list_iterator_survives_other_calls)
{
    ct_put("l/a", "1");
    ct_put("l/b", "2");
    ct_put("l/c", "3");
    bs_list_iter *it;
    CT_OK(bs_backend_list_begin(ct_b, "l", &it));
    bs_item_info info;
    cr_assert_eq(bs_backend_list_next(it, &info), 1);
    cr_assert_str_eq(info.name, "a");
    ct_put("other", "x");
    ct_check_str("l/b", "2");
    cr_assert_eq(bs_backend_list_next(it, &info), 1);
    cr_assert_str_eq(info.name, "b");
    cr_assert_eq(bs_backend_list_next(it, &info), 1);
    cr_assert_eq(bs_backend_list_next(it, &info), 0);
    cr_assert_eq(bs_backend_list_next(it, &info), 0);
    bs_backend_list_end(it);
    bs_backend_list_end(NULL);
}

Test(contract, quota_without_limit_reports_no_limit)
{
    bs_quota q = {123, 456};
    CT_OK(bs_backend_quota(ct_b, &q));
    cr_assert_eq(q.limit, -1);
    cr_assert_geq(q.usage, -1);
}

Test(contract, reopen_keeps_data)
{
    ct_put("keep/me", "kept");
    CT_OK(bs_backend_close(ct_b));
    bs_backend *other = ct_another();
    CT_OK(bs_backend_open(other));
    uint8_t *got;
    size_t len;
    CT_OK(bs_backend_load(other, "keep/me", 0, BS_SIZE_ALL, &got, &len));
    cr_assert_eq(len, 4);
    cr_assert(memcmp(got, "kept", 4) == 0);
    bs_free(got);
    CT_OK(bs_backend_close(other));
    bs_backend_free(other);
    CT_OK(bs_backend_open(ct_b));
    ct_check_str("keep/me", "kept");
}

Test(contract, two_backends_on_one_store_see_each_other)
{
    bs_backend *other = ct_another();
    CT_OK(bs_backend_open(other));
    CT_OK(bs_backend_store(other, "shared", "from-other", 10));
    ct_check_str("shared", "from-other");
    ct_put("shared", "from-first");
    uint8_t *got;
    size_t len;
    CT_OK(bs_backend_load(other, "shared", 0, BS_SIZE_ALL, &got, &len));
    cr_assert_eq(len, 10);
    cr_assert(memcmp(got, "from-first", 10) == 0);
    bs_free(got);
    bs_backend_free(other); /* closes it */
}
