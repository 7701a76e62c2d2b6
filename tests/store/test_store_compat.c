/* Compatibility with Python borgstore 0.6 over file://, both ways, from the
 * documented on-disk layout: a value is a plain file at its nested name
 * (namespace/xx/yy/key for level 2), soft-deleted items carry ".del",
 * interrupted writes leave "*.tmp" files, and quota usage is decimal text in
 * quota.hid at the root. The fixture is written byte by byte as Python
 * writes it, then read through the Store; and what the Store writes is
 * checked on disk where Python will look for it. */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

TestSuite(store_compat, .init = fx_setup_dir, .fini = fx_teardown);

static void put_file(const char *rel, const char *content)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", fx_dir, rel);
    cr_assert_eq(bs_test_write_file(path, content, strlen(content)), 0, "%s", path);
}

static char *get_file(const char *rel)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", fx_dir, rel);
    return bs_test_read_file(path, NULL);
}

static void load_eq(bs_store *s, const char *name, bool deleted, const char *want)
{
    uint8_t *v;
    size_t len;
    ASSERT_OK(bs_store_load(s, name, 0, BS_SIZE_ALL, deleted, &v, &len));
    cr_assert_eq(len, strlen(want), "%s", name);
    cr_assert_arr_eq(v, want, len, "%s", name);
    bs_free(v);
}

/* A store as Python borgstore 0.6 leaves it after some use with
 * {"config/": [0], "one/": [1], "two/": [2], "mixed/": [0, 1]}. */
static void python_fixture(void)
{
    put_file("config/settings", "value1 = 42");
    put_file("config/old.del", "soft-deleted config");
    put_file("one/ab/abcd0001", "level one");
    put_file("one/ab/abcd0002", "level one too");
    put_file("two/00/11/00112233", "level two");
    put_file("two/00/11/00112244.del", "level two, soft-deleted");
    put_file("two/00/11/tmpk3j4h5_q.tmp", "interrupted write");
    put_file("two/ff/ee/ffeeddcc", "last directory");
    put_file("two/ff/ee/ffeeddcc.a1b2c3.tmp", "another interrupted write");
    put_file("mixed/0000aaaa", "mixed level zero");
    put_file("mixed/11/1111bbbb", "mixed level one");
    put_file("quota.hid", "205");
}

static const bs_store_namespace python_levels[] = {
    {.prefix = "config/", .levels = {0}, .nlevels = 1},
    {.prefix = "one/", .levels = {1}, .nlevels = 1},
    {.prefix = "two/", .levels = {2}, .nlevels = 1},
    {.prefix = "mixed/", .levels = {0, 1}, .nlevels = 2},
};

Test(store_compat, reads_a_store_written_by_python_borgstore)
{
    python_fixture();
    fx_s = fx_new_store(python_levels, 4);
    ASSERT_OK(bs_store_open(fx_s));

    load_eq(fx_s, "config/settings", false, "value1 = 42");
    load_eq(fx_s, "config/old", true, "soft-deleted config");
    load_eq(fx_s, "one/abcd0001", false, "level one");
    load_eq(fx_s, "two/00112233", false, "level two");
    load_eq(fx_s, "two/00112244", true, "level two, soft-deleted");
    load_eq(fx_s, "two/ffeeddcc", false, "last directory");
    load_eq(fx_s, "mixed/0000aaaa", false, "mixed level zero");
    load_eq(fx_s, "mixed/1111bbbb", false, "mixed level one");

    char *l = fx_list(fx_s, "config", false);
    cr_assert_str_eq(l, "settings");
    free(l);
    l = fx_list(fx_s, "config", true);
    cr_assert_str_eq(l, "old");
    free(l);
    l = fx_list(fx_s, "one", false);
    cr_assert_str_eq(l, "abcd0001,abcd0002");
    free(l);
    l = fx_list(fx_s, "two", false);
    cr_assert_str_eq(l, "00112233,ffeeddcc", "temp files are never listed");
    free(l);
    l = fx_list(fx_s, "two", true);
    cr_assert_str_eq(l, "00112244");
    free(l);
    l = fx_list(fx_s, "mixed", false);
    cr_assert_str_eq(l, "0000aaaa,1111bbbb");
    free(l);

    bs_item_info info;
    ASSERT_OK(bs_store_info(fx_s, "two/00112233", false, &info));
    cr_assert(info.exists);
    cr_assert_eq(info.size, 9);
    ASSERT_OK(bs_store_info(fx_s, "two/00112244", false, &info));
    cr_assert(!info.exists, "soft-deleted items are not there unless asked for");

    /* undelete and keep working on the old layout */
    ASSERT_OK(bs_store_move(fx_s, "two/00112244", NULL, BS_MOVE_UNDELETE, false));
    cr_assert(fx_on_disk("two/00/11/00112244"));
    ASSERT_OK(bs_store_move(fx_s, "mixed/0000aaaa", NULL, BS_MOVE_CHANGE_LEVEL, false));
    cr_assert(fx_on_disk("mixed/00/0000aaaa"));
    cr_assert(fx_on_disk("two/00/11/tmpk3j4h5_q.tmp"), "leftover temp files stay untouched");
}

Test(store_compat, quota_usage_kept_by_python_is_used)
{
    python_fixture();
    bs_store_config cfg = {.namespaces = python_levels, .n_namespaces = 4};
    cfg.backend.quota = 1000000;
    ASSERT_OK(bs_store_new(&fx_s, fx_url, &cfg));
    ASSERT_OK(bs_store_open(fx_s));
    bs_quota q;
    ASSERT_OK(bs_store_quota(fx_s, &q));
    cr_assert_eq(q.limit, 1000000);
    cr_assert_eq(q.usage, 205, "usage comes from quota.hid");
    ASSERT_OK(bs_store_store(fx_s, "config/new", "12345", 5));
    ASSERT_OK(bs_store_quota(fx_s, &q));
    cr_assert_eq(q.usage, 210);
    ASSERT_OK(bs_store_close(fx_s));
    char *hid = get_file("quota.hid");
    cr_assert_not_null(hid);
    cr_assert_eq(atoll(hid), 210, "quota.hid: %s", hid);
    free(hid);
    /* quota.hid is never an item */
    static const bs_store_namespace root[] = {{.prefix = "", .levels = {0}, .nlevels = 1}};
    ASSERT_OK(bs_store_set_config(fx_s, root, 1));
    ASSERT_OK(bs_store_open(fx_s));
    bs_store_list_iter *it;
    ASSERT_OK(bs_store_list_begin(fx_s, "", false, &it));
    bs_item_info info;
    int rc;
    while ((rc = bs_store_list_next(it, &info)) == 1)
        cr_assert(strcmp(info.name, "quota.hid") && !strstr(info.name, ".tmp"), "%s",
                  info.name);
    cr_assert_eq(rc, 0);
    bs_store_list_end(it);
}

Test(store_compat, writes_what_python_borgstore_reads)
{
    fx_s = fx_new_store(python_levels, 4);
    ASSERT_OK(bs_store_create(fx_s, 0));
    ASSERT_OK(bs_store_open(fx_s));
    ASSERT_OK(bs_store_store(fx_s, "config/settings", "value1 = 42", 11));
    ASSERT_OK(bs_store_store(fx_s, "one/abcd0001", "level one", 9));
    ASSERT_OK(bs_store_store(fx_s, "two/00112233", "level two", 9));
    ASSERT_OK(bs_store_store(fx_s, "two/00112244", "to be soft-deleted", 18));
    ASSERT_OK(bs_store_move(fx_s, "two/00112244", NULL, BS_MOVE_SOFT_DELETE, false));
    ASSERT_OK(bs_store_store(fx_s, "mixed/2222cccc", "new items on the last level", 27));
    ASSERT_OK(bs_store_close(fx_s));

    struct {
        const char *path, *content;
    } want[] = {
        {"config/settings", "value1 = 42"},
        {"one/ab/abcd0001", "level one"},
        {"two/00/11/00112233", "level two"},
        {"two/00/11/00112244.del", "to be soft-deleted"},
        {"mixed/22/2222cccc", "new items on the last level"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char *c = get_file(want[i].path);
        cr_assert_not_null(c, "%s missing on disk", want[i].path);
        cr_assert_str_eq(c, want[i].content, "%s", want[i].path);
        free(c);
    }
    cr_assert(!fx_on_disk("two/00/11/00112244"));
    cr_assert(!fx_on_disk("quota.hid"), "no quota.hid without a quota, as Python");
    /* nothing else: no temp files, no extra metadata */
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "find '%s' -type f | wc -l", fx_dir);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    int files = -1;
    cr_assert_eq(fscanf(p, "%d", &files), 1);
    pclose(p);
    cr_assert_eq(files, 5, "exactly the five item files");
}
