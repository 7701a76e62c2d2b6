/* Filesystem errors under a running store: permission errors (the server
 * runs as nobody against root's files), a read-only filesystem (a tmpfs
 * remounted read-only), and the store's base directory removed while the
 * server holds it open. Every request must get a clear error (the right
 * code, the item named, no server path over the wire), the server must
 * keep answering, and the store must work again once the cause is gone. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "faults.h"

#include "borgstore/backend.h"
#include "tests/helpers/testutil.h"

TestSuite(fserrors, .timeout = 120);

static char *dir;
static char base[PATH_MAX];
static size_t errors_seen;

static bs_backend *backend(const char *scheme, bool create)
{
    char url[PATH_MAX + 16];
    snprintf(url, sizeof url, "%s://%s", scheme, base);
    bs_backend *b;
    cr_assert_eq(bs_backend_new(&b, url, NULL), 0, "%s", bs_error_message());
    if (create) cr_assert_eq(bs_backend_create(b), 0, "%s", bs_error_message());
    return b;
}

/* rc must be one of the codes in want (0-terminated), and the message must
 * name what failed without giving away where the store lives. */
static void expect(int rc, const int *want, const char *what, bool remote)
{
    bool ok = false;
    for (const int *w = want; *w; w++) ok |= rc == *w;
    cr_assert(ok, "%s: unexpected %s: %s", what, bs_error_name(rc), bs_error_message());
    const char *msg = bs_error_message();
    cr_assert_gt(strlen(msg), 10, "%s: a bare message: %s", what, msg);
    if (remote) cr_assert_null(strstr(msg, dir), "%s: the server path leaked: %s", what, msg);
    errors_seen++;
    if (getenv("BS_VERBOSE")) fprintf(stderr, "# %s -> %s: %s\n", what, bs_error_name(rc), msg);
}

static void fill(bs_backend *b)
{
    cr_assert_eq(bs_backend_open(b), 0, "%s", bs_error_message());
    cr_assert_eq(bs_backend_store(b, "data/aa", "alpha", 5), 0);
    cr_assert_eq(bs_backend_store(b, "data/bb", "beta", 4), 0);
    cr_assert_eq(bs_backend_store(b, "locked/cc", "gamma", 5), 0);
    cr_assert_eq(bs_backend_close(b), 0);
}

static void set_up(void)
{
    dir = bs_test_tmpdir();
    cr_assert_eq(chmod(dir, 0755), 0); /* nobody may look, not write */
    snprintf(base, sizeof base, "%s/store", dir);
}

static void check_listing(bs_backend *b, const char *ns, size_t want)
{
    bs_list_iter *it;
    cr_assert_eq(bs_backend_list_begin(b, ns, &it), 0, "%s", bs_error_message());
    bs_item_info e;
    size_t n = 0;
    while (bs_backend_list_next(it, &e) == 1) n++;
    bs_backend_list_end(it);
    cr_assert_eq(n, want);
}

Test(fserrors, permission_errors_are_clear_and_the_server_goes_on, .init = set_up)
{
    bs_backend *b = backend("file", true);
    fill(b);
    bs_backend_free(b);
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/data/aa", base);
    cr_assert_eq(chmod(p, 0), 0);
    snprintf(p, sizeof p, "%s/locked", base);
    cr_assert_eq(chmod(p, 0), 0);
    snprintf(p, sizeof p, "%s/data/bb", base); /* values are 0600: this one others may read */
    cr_assert_eq(chmod(p, 0644), 0);

    char extra[64];
    snprintf(extra, sizeof extra, "--log-level critical");
    char cmd[PATH_MAX + 128];
    snprintf(cmd, sizeof cmd, "setpriv --reuid=nobody --regid=nogroup --clear-groups %s %s",
             bs_test_build_path("borgstore-serve"), extra);
    setenv("BORGSTORE_REMOTE_PATH", cmd, 1);
    b = backend("serve", false);
    cr_assert_eq(bs_backend_open(b), 0, "open as nobody: %s", bs_error_message());
    static const int perm[] = {BS_ERR_PERMISSION, 0};
    uint8_t *v;
    size_t len;
    expect(bs_backend_load(b, "data/aa", 0, BS_SIZE_ALL, &v, &len), perm, "load unreadable", true);
    cr_assert(strstr(bs_error_message(), "data/aa"), "%s", bs_error_message());
    expect(bs_backend_store(b, "data/new", "x", 1), perm, "store into root's dir", true);
    expect(bs_backend_store(b, "data/bb", "x", 1), perm, "overwrite root's file", true);
    expect(bs_backend_delete(b, "data/bb"), perm, "delete root's file", true);
    expect(bs_backend_move(b, "data/bb", "data/b2"), perm, "move root's file", true);
    expect(bs_backend_mkdir(b, "newdir"), perm, "mkdir in root's dir", true);
    char hex[BS_HASH_HEX_SIZE];
    expect(bs_backend_hash(b, "data/aa", BS_HASH_SHA256, hex), perm, "hash unreadable", true);
    bs_list_iter *it;
    expect(bs_backend_list_begin(b, "locked", &it), perm, "list a closed dir", true);
    /* what is permitted still works, on the same connection */
    cr_assert_eq(bs_backend_load(b, "data/bb", 0, BS_SIZE_ALL, &v, &len), 0, "%s",
                 bs_error_message());
    cr_assert_eq(len, 4);
    bs_free(v);
    check_listing(b, "data", 2);
    bs_backend_free(b);
    unsetenv("BORGSTORE_REMOTE_PATH");
    snprintf(p, sizeof p, "%s/locked", base);
    chmod(p, 0755);
    bs_test_rmtree(dir);
}

static void read_only(const char *scheme)
{
    ft_private_mounts();
    char *tmp = bs_test_tmpdir();
    dir = ft_tmpfs(tmp, "ro", 16u << 20);
    snprintf(base, sizeof base, "%s/store", dir);
    ft_use_built_server("--log-level critical");
    bs_backend_config cfg = {.quota = 1u << 30};
    char url[PATH_MAX + 16];
    snprintf(url, sizeof url, "%s://%s", scheme, base);
    bs_backend *b;
    cr_assert_eq(bs_backend_new(&b, url, &cfg), 0);
    cr_assert_eq(bs_backend_create(b), 0);
    fill(b);
    ft_remount(dir, true);
    bool remote = !strcmp(scheme, "serve");
    cr_assert_eq(bs_backend_open(b), 0, "open on a read-only fs: %s", bs_error_message());
    static const int ro[] = {BS_ERR_PERMISSION, 0};
    expect(bs_backend_store(b, "data/new", "x", 1), ro, "store", remote);
    cr_assert(strstr(bs_error_message(), "Read-only file system"), "%s", bs_error_message());
    expect(bs_backend_store(b, "data/aa", "x", 1), ro, "overwrite", remote);
    expect(bs_backend_delete(b, "data/bb"), ro, "delete", remote);
    expect(bs_backend_move(b, "data/bb", "data/bb.del"), ro, "soft delete", remote);
    expect(bs_backend_mkdir(b, "more"), ro, "mkdir", remote);
    bs_defrag_source src = {"data/aa", 0, 5};
    char out[BS_NAME_BUF];
    expect(bs_backend_defrag(b, &src, 1, "data/dd", BS_HASH_SHA256, NULL, 0, out), ro, "defrag",
           remote);
    /* reading is unaffected */
    uint8_t *v;
    size_t len;
    cr_assert_eq(bs_backend_load(b, "data/aa", 0, BS_SIZE_ALL, &v, &len), 0, "%s",
                 bs_error_message());
    cr_assert_eq(len, 5);
    bs_free(v);
    check_listing(b, "data", 2);
    bs_quota q;
    cr_assert_eq(bs_backend_quota(b, &q), 0, "%s", bs_error_message());
    cr_assert_eq(q.usage, remote ? ft_scan(base).served : 14);
    /* writable again: everything works, usage still exact */
    ft_remount(dir, false);
    cr_assert_eq(bs_backend_store(b, "data/new", "x", 1), 0, "%s", bs_error_message());
    cr_assert_eq(bs_backend_quota(b, &q), 0);
    cr_assert_eq(q.usage, remote ? ft_scan(base).served : 15);
    cr_assert_eq(ft_scan(base).tmp_files, 0);
    bs_backend_free(b);
    ft_unmount(dir);
    free(dir);
    bs_test_rmtree(tmp);
    free(tmp);
}

Test(fserrors, read_only_filesystem_file) { read_only("file"); }
Test(fserrors, read_only_filesystem_serve) { read_only("serve"); }

static void base_removed(const char *scheme)
{
    set_up();
    ft_use_built_server("--log-level critical");
    bs_backend *b = backend(scheme, true);
    fill(b);
    cr_assert_eq(bs_backend_open(b), 0);
    bool remote = !strcmp(scheme, "serve");
    bs_test_rmtree(base); /* under the open store */
    static const int gone[] = {BS_ERR_NOT_FOUND, BS_ERR_IO, 0};
    uint8_t *v;
    size_t len;
    expect(bs_backend_load(b, "data/aa", 0, BS_SIZE_ALL, &v, &len), gone, "load", remote);
    expect(bs_backend_store(b, "data/new", "x", 1), gone, "store", remote);
    expect(bs_backend_store(b, "top", "x", 1), gone, "store at the top", remote);
    expect(bs_backend_delete(b, "data/bb"), gone, "delete", remote);
    expect(bs_backend_move(b, "data/bb", "data/b2"), gone, "move", remote);
    expect(bs_backend_mkdir(b, "data"), gone, "mkdir", remote);
    bs_list_iter *it;
    expect(bs_backend_list_begin(b, "data", &it), gone, "list", remote);
    bs_item_info info;
    int rc = bs_backend_info(b, "data/aa", &info);
    cr_assert(rc == 0 ? !info.exists : rc == BS_ERR_NOT_FOUND || rc == BS_ERR_IO, "info: %s",
              bs_error_message());
    /* a new directory at the same path is not the store that was opened */
    cr_assert_eq(mkdir(base, 0755), 0);
    expect(bs_backend_store(b, "data/new", "x", 1), gone, "store after recreating", remote);
    cr_assert_eq(ft_scan(base).files, 0, "nothing landed in the new directory");
    cr_assert_eq(bs_backend_close(b), 0, "close: %s", bs_error_message());
    rmdir(base);
    static const int missing[] = {BS_ERR_DOES_NOT_EXIST, 0};
    expect(bs_backend_open(b), missing, "open", remote);
    cr_assert_eq(bs_backend_create(b), 0, "create again: %s", bs_error_message());
    cr_assert_eq(bs_backend_open(b), 0);
    cr_assert_eq(bs_backend_store(b, "data/aa", "again", 5), 0, "%s", bs_error_message());
    bs_backend_free(b);
    bs_test_rmtree(dir);
    free(dir);
}

Test(fserrors, base_directory_removed_under_the_store_file) { base_removed("file"); }
Test(fserrors, base_directory_removed_under_the_server) { base_removed("serve"); }
