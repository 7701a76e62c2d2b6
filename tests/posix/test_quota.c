/* Quota of the posix backend: the limit refuses stores without changing
 * anything, overwrites count the difference, deletes and replacing moves
 * give space back, usage survives close/open in quota.hid, a missing or
 * invalid quota.hid is rebuilt by a scan, and two processes keep it exact. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "posixtest.h"
#include "testutil.h"

TestSuite(quota, .init = pt_init, .fini = pt_fini, .timeout = 120);

static void store_n(bs_backend *b, const char *name, size_t n)
{
    char *v = malloc(n ? n : 1);
    memset(v, 'q', n);
    PT_OK(bs_backend_store(b, name, v, n));
    free(v);
}

static int store_n_rc(bs_backend *b, const char *name, size_t n)
{
    char *v = malloc(n ? n : 1);
    memset(v, 'q', n);
    int rc = bs_backend_store(b, name, v, n);
    free(v);
    return rc;
}

static int64_t usage(bs_backend *b)
{
    bs_quota q;
    PT_OK(bs_backend_quota(b, &q));
    return q.usage;
}

Test(quota, limit_hit_changes_nothing)
{
    bs_backend *b = pt_open(NULL, 1000);
    bs_quota q;
    PT_OK(bs_backend_quota(b, &q));
    cr_assert_eq(q.limit, 1000);
    cr_assert_eq(q.usage, 0);
    store_n(b, "data/a", 600);
    PT_EXPECT(BS_ERR_QUOTA, store_n_rc(b, "data/b", 401));
    cr_assert_not_null(strstr(bs_error_message(), "data/b"), "%s", bs_error_message());
    PT_EXPECT(BS_ERR_QUOTA, store_n_rc(b, "new/dir/c", 500));
    cr_assert_eq(usage(b), 600);
    cr_assert_eq(pt_quota_file(), 600);
    bs_item_info info;
    PT_OK(bs_backend_info(b, "data/b", &info));
    cr_assert_not(info.exists);
    PT_OK(bs_backend_info(b, "new", &info));
    cr_assert_not(info.exists, "a refused store creates no directories");
    cr_assert_eq(pt_count_tmp(), 0);
    store_n(b, "data/b", 400); /* exactly up to the limit is fine */
    cr_assert_eq(usage(b), 1000);
    PT_EXPECT(BS_ERR_QUOTA, store_n_rc(b, "data/one-more", 1));
    store_n(b, "data/empty", 0);
    cr_assert_eq(pt_disk_usage(), 1000);
    bs_backend_free(b);
}

Test(quota, overwrite_counts_the_difference)
{
    bs_backend *b = pt_open(NULL, 1000);
    store_n(b, "x", 900);
    store_n(b, "x", 1000);
    cr_assert_eq(usage(b), 1000);
    PT_EXPECT(BS_ERR_QUOTA, store_n_rc(b, "x", 1001));
    uint8_t *got;
    size_t len;
    PT_OK(bs_backend_load(b, "x", 0, BS_SIZE_ALL, &got, &len));
    cr_assert_eq(len, 1000, "the refused overwrite left the old value");
    bs_free(got);
    store_n(b, "x", 100);
    cr_assert_eq(usage(b), 100);
    store_n(b, "y", 900);
    cr_assert_eq(usage(b), 1000);
    cr_assert_eq(pt_quota_file(), 1000);
    bs_backend_free(b);
}

Test(quota, delete_and_replacing_move_give_space_back)
{
    bs_backend *b = pt_open(NULL, 10000);
    store_n(b, "a", 100);
    store_n(b, "b", 200);
    store_n(b, "c", 300);
    cr_assert_eq(usage(b), 600);
    PT_OK(bs_backend_delete(b, "b"));
    cr_assert_eq(usage(b), 400);
    PT_EXPECT(BS_ERR_NOT_FOUND, bs_backend_delete(b, "b"));
    cr_assert_eq(usage(b), 400);
    PT_OK(bs_backend_move(b, "a", "ns/a")); /* a plain rename changes nothing */
    cr_assert_eq(usage(b), 400);
    PT_OK(bs_backend_move(b, "ns/a", "c")); /* replaces 300 bytes by 100 */
    cr_assert_eq(usage(b), 100);
    cr_assert_eq(pt_disk_usage(), 100);
    bs_defrag_source src = {"c", 10, 50};
    char out_name[BS_NAME_BUF];
    PT_OK(bs_backend_defrag(b, &src, 1, "packed", BS_HASH_SHA256, NULL, 0, out_name));
    cr_assert_eq(usage(b), 150);
    PT_OK(bs_backend_defrag(b, &src, 1, NULL, BS_HASH_SHA256, "packs", 1, out_name));
    cr_assert_eq(usage(b), 200);
    PT_OK(bs_backend_defrag(b, &src, 1, "packed", BS_HASH_SHA256, NULL, 0, out_name));
    cr_assert_eq(usage(b), 200, "replacing the defrag target counts the difference");
    cr_assert_eq(pt_disk_usage(), 200);
    bs_backend_free(b);
}

Test(quota, defrag_beyond_the_limit_changes_nothing)
{
    bs_backend *b = pt_open(NULL, 1000);
    store_n(b, "src", 600);
    bs_defrag_source src[] = {{"src", 0, 300}, {"src", 300, 200}};
    char out_name[BS_NAME_BUF];
    PT_EXPECT(BS_ERR_QUOTA,
              bs_backend_defrag(b, src, 2, "packed", BS_HASH_SHA256, NULL, 0, out_name));
    PT_EXPECT(BS_ERR_QUOTA, bs_backend_defrag(b, src, 2, NULL, BS_HASH_SHA256, "p", 1, out_name));
    cr_assert_eq(usage(b), 600);
    cr_assert_eq(pt_count_tmp(), 0);
    size_t n = 0;
    bs_list_iter *it;
    bs_item_info info;
    PT_OK(bs_backend_list_begin(b, "", &it));
    while (bs_backend_list_next(it, &info) == 1) n++;
    bs_backend_list_end(it);
    cr_assert_eq(n, 1, "only src exists");
    bs_backend_free(b);
}

Test(quota, usage_persists_across_close_and_open)
{
    bs_backend *b = pt_open(NULL, 5000);
    store_n(b, "data/1", 100);
    store_n(b, "data/2", 200);
    PT_OK(bs_backend_close(b));
    cr_assert_eq(pt_quota_file(), 300);
    char *text = bs_test_read_file(pt_path("quota.hid"), NULL);
    cr_assert_str_eq(text, "300", "decimal text, as Python borgstore writes it");
    free(text);
    bs_backend_free(b);
    b = pt_open(NULL, 5000);
    cr_assert_eq(usage(b), 300);
    PT_OK(bs_backend_delete(b, "data/1"));
    bs_backend_free(b);
    b = pt_open(NULL, 250);
    cr_assert_eq(usage(b), 200);
    PT_EXPECT(BS_ERR_QUOTA, store_n_rc(b, "data/3", 51));
    bs_backend_free(b);
}

Test(quota, missing_or_invalid_file_is_rebuilt_by_a_scan)
{
    bs_backend *b = pt_open(NULL, 0); /* untracked */
    store_n(b, "data/00/a", 100);
    store_n(b, "data/01/b", 150);
    store_n(b, "top", 50);
    bs_backend_free(b);
    cr_assert_eq(pt_quota_file(), -1, "no quota.hid while untracked");
    /* leftovers that must not count */
    cr_assert_eq(bs_test_write_file(pt_path("data/00/x.tmp"), "0123456789", 10), 0);
    cr_assert_eq(bs_test_write_file(pt_path("other.hid"), "0123456789", 10), 0);
    cr_assert_eq(symlink("top", pt_path("data/link")), 0);

    b = pt_open(NULL, 10000);
    cr_assert_eq(usage(b), 300);
    cr_assert_eq(pt_quota_file(), 300, "open writes the scanned usage");
    bs_backend_free(b);

    cr_assert_eq(bs_test_write_file(pt_path("quota.hid"), "not a number", 12), 0);
    b = pt_open(NULL, 10000);
    cr_assert_eq(usage(b), 300);
    cr_assert_eq(bs_test_write_file(pt_path("quota.hid"), "-5", 2), 0);
    store_n(b, "more", 7);
    cr_assert_eq(usage(b), 307, "invalid content is rescanned, then the store counted");
    cr_assert_eq(bs_test_write_file(pt_path("quota.hid"), "99999999999999999999999", 23), 0);
    cr_assert_eq(usage(b), 307);
    bs_backend_free(b);

    /* opening without quota drops the file (it would go stale), as Python does */
    b = pt_open(NULL, 0);
    cr_assert_eq(pt_quota_file(), -1);
    bs_quota q;
    PT_OK(bs_backend_quota(b, &q));
    cr_assert_eq(q.limit, -1);
    cr_assert_eq(q.usage, -1);
    bs_backend_free(b);
}

/* A child process: its own backend on the store; returns its exit status. */
static int child_mixed(int id)
{
    bs_backend_config cfg = {.quota = 1u << 30};
    bs_backend *b = NULL;
    if (bs_backend_new(&b, pt_url, &cfg) || bs_backend_open(b)) return 100;
    char buf[4096];
    memset(buf, 'c', sizeof buf);
    for (int i = 0; i < 150; i++) {
        char name[64], shared[64];
        snprintf(name, sizeof name, "p%d/%03d", id, i % 40);
        snprintf(shared, sizeof shared, "shared/%02d", i % 10);
        size_t n = (size_t)((i * 37 + id * 11) % 3000);
        if (bs_backend_store(b, name, buf, n)) return 101;
        if (bs_backend_store(b, shared, buf, (n * 7) % 4096)) return 102;
        if (i % 5 == 4) {
            int rc = bs_backend_delete(b, name);
            if (rc && rc != BS_ERR_NOT_FOUND) return 103;
        }
        if (i % 7 == 6) {
            char dst[64];
            snprintf(dst, sizeof dst, "shared/%02d", (i + 3) % 10);
            int rc = bs_backend_move(b, shared, dst);
            if (rc && rc != BS_ERR_NOT_FOUND) return 104;
        }
    }
    bs_backend_free(b);
    return 0;
}

/* Stores 100-byte items until the quota refuses; exit status = stored count. */
static int child_fill(int id)
{
    bs_backend_config cfg = {.quota = 5000};
    bs_backend *b = NULL;
    if (bs_backend_new(&b, pt_url, &cfg) || bs_backend_open(b)) return 250;
    char buf[100];
    memset(buf, 'f', sizeof buf);
    int stored = 0;
    for (int i = 0; i < 60; i++) {
        char name[64];
        snprintf(name, sizeof name, "fill%d/%02d", id, i);
        int rc = bs_backend_store(b, name, buf, sizeof buf);
        if (rc == 0)
            stored++;
        else if (rc != BS_ERR_QUOTA)
            return 251;
    }
    bs_backend_free(b);
    return stored;
}

static void run_two(int (*fn)(int), int status[2])
{
    pid_t pid[2];
    for (int i = 0; i < 2; i++) {
        pid[i] = fork();
        cr_assert_neq(pid[i], -1);
        if (pid[i] == 0) _exit(fn(i));
    }
    for (int i = 0; i < 2; i++) {
        int st;
        cr_assert_eq(waitpid(pid[i], &st, 0), pid[i]);
        cr_assert(WIFEXITED(st), "child %d did not exit normally", i);
        status[i] = WEXITSTATUS(st);
    }
}

Test(quota, two_processes_at_once_keep_usage_exact)
{
    bs_backend *b = pt_open(NULL, 1u << 30);
    bs_backend_free(b);
    int status[2];
    run_two(child_mixed, status);
    cr_assert_eq(status[0], 0, "child 0 failed with %d", status[0]);
    cr_assert_eq(status[1], 0, "child 1 failed with %d", status[1]);
    b = pt_open(NULL, 1u << 30);
    int64_t disk = pt_disk_usage();
    cr_assert_gt(disk, 0);
    cr_assert_eq(usage(b), disk, "tracked %lld, on disk %lld", (long long)usage(b),
                 (long long)disk);
    cr_assert_eq(pt_quota_file(), disk);
    bs_backend_free(b);
}

Test(quota, two_processes_racing_for_the_last_bytes)
{
    bs_backend *b = pt_open(NULL, 5000);
    bs_backend_free(b);
    int status[2];
    run_two(child_fill, status);
    cr_assert_lt(status[0], 250, "child 0 failed");
    cr_assert_lt(status[1], 250, "child 1 failed");
    cr_assert_eq(status[0] + status[1], 50, "stored %d + %d items of 100 bytes", status[0],
                 status[1]);
    cr_assert_eq(pt_disk_usage(), 5000);
    cr_assert_eq(pt_quota_file(), 5000);
    cr_assert_eq(pt_count_tmp(), 0);
}

Test(quota, reads_and_writes_the_counter_python_borgstore_keeps)
{
    /* a store Python borgstore 0.6 used with a quota: its files and its
     * quota.hid (decimal text, no newline) */
    cr_assert_eq(bs_test_write_file(pt_path("config/x"), "12345", 5), 0);
    cr_assert_eq(bs_test_write_file(pt_path("data/00/0000"), "0123456789", 10), 0);
    cr_assert_eq(bs_test_write_file(pt_path("quota.hid"), "15", 2), 0);
    bs_backend *b = pt_backend(NULL, 100);
    PT_OK(bs_backend_open(b));
    cr_assert_eq(usage(b), 15, "a valid counter is trusted, not rescanned");
    store_n(b, "data/00/0001", 5);
    cr_assert_eq(pt_quota_file(), 20);
    bs_backend_free(b);
}
