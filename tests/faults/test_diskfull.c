/* Disk full: a store on a 4 MiB tmpfs is filled with values of shrinking
 * sizes until every size fails, half emptied and filled again, eight
 * times, directly (file://) and through borgstore-serve (serve://). Every
 * failed store must report the full disk and name the item, leave nothing
 * behind (no item, no temp file) and keep quota.hid equal to what is on
 * disk; after deleting, the store works again, also after reopening. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"

#include "borgstore/backend.h"
#include "tests/helpers/testutil.h"

#define DISK (4u << 20)
#define MAX_ITEMS 4000
#define ROUNDS 8

TestSuite(diskfull, .timeout = 240);

typedef struct item {
    char name[64];
    uint64_t id;
    size_t len;
    bool present;
} item;

static item items[MAX_ITEMS];
static size_t n_items;
static uint64_t next_id = 1;
static size_t faults; /* stores refused for lack of space */
static bool served;   /* through borgstore-serve: its quota counts blocks (ft_tree) */

/* Everything that must hold after any store, failed or not. */
static void check(bs_backend *b, const char *base)
{
    ft_tree t = ft_scan(base);
    cr_assert_eq(t.tmp_files, 0, "%zu temp files left behind", t.tmp_files);
    bs_quota q;
    cr_assert_eq(bs_backend_quota(b, &q), 0, "quota: %s", bs_error_message());
    int64_t want = served ? t.served : t.usage;
    cr_assert_eq(q.usage, want, "quota.hid says %lld, the disk holds %lld", (long long)q.usage,
                 (long long)want);
    size_t present = 0;
    for (size_t i = 0; i < n_items; i++) present += items[i].present;
    cr_assert_eq(t.files, present, "%zu files on disk, %zu items stored", t.files, present);
}

static void check_values(bs_backend *b)
{
    for (size_t i = 0; i < n_items; i++) {
        uint8_t *v;
        size_t len;
        int rc = bs_backend_load(b, items[i].name, 0, BS_SIZE_ALL, &v, &len);
        if (!items[i].present) {
            cr_assert_eq(rc, BS_ERR_NOT_FOUND, "%s: %d", items[i].name, rc);
            continue;
        }
        cr_assert_eq(rc, 0, "%s: %s", items[i].name, bs_error_message());
        cr_assert_eq(ft_value_id(v, len), items[i].id, "%s holds something else", items[i].name);
        free(v);
    }
}

/* Stores one new value; on failure checks that it reported the full disk
 * and that nothing of it is visible. Returns the store's code. */
static int store_new(bs_backend *b, const char *base, size_t len, uint8_t *buf)
{
    cr_assert_lt(n_items, MAX_ITEMS);
    item *it = &items[n_items++];
    /* new nesting directories too: those need space as well */
    snprintf(it->name, sizeof it->name, "data/%02zx/%06zu", n_items % 251, n_items);
    it->id = next_id++;
    it->len = len;
    ft_value(buf, len, it->id);
    int rc = bs_backend_store(b, it->name, buf, len);
    it->present = rc == 0;
    if (rc) {
        faults++;
        cr_assert_eq(rc, BS_ERR_IO, "%s: %s", it->name, bs_error_message());
        cr_assert(strstr(bs_error_message(), "No space left on device"),
                  "unclear message: %s", bs_error_message());
        cr_assert(strstr(bs_error_message(), it->name), "message does not name the item: %s",
                  bs_error_message());
        bs_item_info info;
        cr_assert_eq(bs_backend_info(b, it->name, &info), 0);
        cr_assert(!info.exists, "%s is visible after a failed store", it->name);
    }
    check(b, base);
    return rc;
}

static void fill_and_recover(const char *scheme)
{
    ft_private_mounts();
    char *dir = bs_test_tmpdir();
    char *mnt = ft_tmpfs(dir, "small", DISK);
    char base[PATH_MAX], url[PATH_MAX + 16];
    snprintf(base, sizeof base, "%s/store", mnt);
    snprintf(url, sizeof url, "%s://%s", scheme, base);
    ft_use_built_server(NULL);
    served = !strcmp(scheme, "serve");
    bs_backend_config cfg = {.quota = 1ull << 30}; /* tracked, never the limit */
    bs_backend *b;
    cr_assert_eq(bs_backend_new(&b, url, &cfg), 0, "%s", bs_error_message());
    cr_assert_eq(bs_backend_create(b), 0, "%s", bs_error_message());
    cr_assert_eq(bs_backend_open(b), 0, "%s", bs_error_message());
    uint8_t *buf = malloc(DISK);

    uint64_t rnd = 7;
    for (int round = 0; round < ROUNDS; round++) {
        /* fill: each size until it fails, then smaller ones into the gaps */
        static const size_t sizes[] = {300000, 65536, 4096 + 100, 4000, 100, FT_VALUE_MIN};
        size_t before = faults;
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            size_t len = sizes[s] + (s < 4 ? ft_rand(&rnd) % 1000 : 0);
            for (int k = 0; k < 1000 && store_new(b, base, len, buf) == 0; k++) {
            }
        }
        cr_assert_geq(faults - before, 6, "every size ran out of space");
        check_values(b);

        /* overwriting with something larger fails too, and keeps the old value */
        item *big = NULL;
        for (size_t i = 0; i < n_items && !big; i++)
            if (items[i].present) big = &items[i];
        cr_assert_not_null(big);
        ft_value(buf, 2u << 20, next_id++);
        int rc = bs_backend_store(b, big->name, buf, 2u << 20);
        cr_assert_eq(rc, BS_ERR_IO, "overwrite on a full disk: %d", rc);
        faults++;
        check(b, base);
        check_values(b);

        /* free space: about half the items go, then the store takes values again */
        for (size_t i = 0; i < n_items; i++) {
            if (!items[i].present || ft_rand(&rnd) % 2) continue;
            cr_assert_eq(bs_backend_delete(b, items[i].name), 0, "%s", bs_error_message());
            items[i].present = false;
            check(b, base);
        }
        cr_assert_eq(store_new(b, base, 65536, buf), 0, "after freeing: %s", bs_error_message());
        check_values(b);
    }
    cr_assert_eq(bs_backend_close(b), 0);
    cr_assert_eq(bs_backend_open(b), 0, "reopening: %s", bs_error_message());
    check(b, base);
    bs_backend_free(b);
    fprintf(stderr, "# diskfull %s: %zu stores refused for lack of space, %zu items\n", scheme,
            faults, n_items);
    free(buf);
    ft_unmount(mnt);
    free(mnt);
    bs_test_rmtree(dir);
    free(dir);
}

Test(diskfull, a_full_disk_fails_stores_cleanly_and_the_store_recovers)
{
    fill_and_recover("file");
}

Test(diskfull, the_same_through_borgstore_serve)
{
    fill_and_recover("serve");
}
