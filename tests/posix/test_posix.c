/* posix backend specifics: on-disk layout shared with Python borgstore, temp
 * files never visible or left behind, failed stores change nothing, planted
 * symlinks never lead outside the store, messages never show the base path. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/posix_resolve.h"
#include "posixtest.h"
#include "testutil.h"

TestSuite(posix, .init = pt_init, .fini = pt_fini, .timeout = 60);

static void put(bs_backend *b, const char *name, const char *value)
{
    PT_OK(bs_backend_store(b, name, value, strlen(value)));
}

static void expect_value(bs_backend *b, const char *name, const char *value)
{
    uint8_t *got;
    size_t len;
    PT_OK(bs_backend_load(b, name, 0, BS_SIZE_ALL, &got, &len));
    cr_assert_eq(len, strlen(value), "%s: %zu bytes", name, len);
    cr_assert(memcmp(got, value, len) == 0, "%s: wrong content", name);
    bs_free(got);
}

static void expect_file(const char *path, const char *value)
{
    size_t len;
    char *text = bs_test_read_file(path, &len);
    cr_assert_not_null(text, "%s unreadable", path);
    cr_assert_eq(len, strlen(value), "%s: %zu bytes", path, len);
    cr_assert_str_eq(text, value);
    free(text);
}

static void expect_no_base_path_in_message(void)
{
    cr_assert_null(strstr(bs_error_message(), pt_dir), "message shows the base path: %s",
                   bs_error_message());
}

Test(posix, items_are_plain_files_named_like_python_borgstore)
{
    bs_backend *b = pt_open(NULL, 0);
    put(b, "config/manifest", "m");
    put(b, "data/01/23/0123abcd", "chunk");
    PT_OK(bs_backend_mkdir(b, "archives"));
    expect_file(pt_path("config/manifest"), "m");
    expect_file(pt_path("data/01/23/0123abcd"), "chunk");
    struct stat st;
    cr_assert_eq(stat(pt_path("archives"), &st), 0);
    cr_assert(S_ISDIR(st.st_mode));
    cr_assert_eq(stat(pt_path("quota.hid"), &st), -1, "no quota.hid without quota");
    bs_backend_free(b);
}

Test(posix, reads_a_store_laid_out_by_python_borgstore)
{
    /* what Python borgstore 0.6 leaves on disk: files named by item names,
     * a namespace per directory, an interrupted upload, its quota file */
    cr_assert_eq(bs_test_write_file(pt_path("config/readme"), "hello", 5), 0);
    cr_assert_eq(bs_test_write_file(pt_path("data/ab/cd/abcdef01"), "0123456789", 10), 0);
    cr_assert_eq(bs_test_write_file(pt_path("data/ab/cd/tmpq1w2e3r4.tmp"), "partial", 7), 0);
    cr_assert_eq(bs_test_write_file(pt_path("data/ab/cd/abcdef02.del"), "gone", 4), 0);
    cr_assert_eq(bs_test_write_file(pt_path("quota.hid"), "21", 2), 0);
    bs_backend *b = pt_backend(NULL, 0);
    PT_OK(bs_backend_open(b));
    struct stat st;
    cr_assert_neq(stat(pt_path("quota.hid"), &st), 0, "untracked open drops quota.hid");
    expect_value(b, "config/readme", "hello");
    expect_value(b, "data/ab/cd/abcdef02.del", "gone");
    uint8_t *got;
    size_t len;
    PT_OK(bs_backend_load(b, "data/ab/cd/abcdef01", -4, 2, &got, &len));
    cr_assert_eq(len, 2);
    cr_assert(memcmp(got, "67", 2) == 0);
    bs_free(got);
    bs_list_iter *it;
    bs_item_info info;
    PT_OK(bs_backend_list_begin(b, "data/ab/cd", &it));
    cr_assert_eq(bs_backend_list_next(it, &info), 1);
    cr_assert_str_eq(info.name, "abcdef01");
    cr_assert_eq(info.size, 10);
    cr_assert_eq(bs_backend_list_next(it, &info), 1);
    cr_assert_str_eq(info.name, "abcdef02.del");
    cr_assert_eq(bs_backend_list_next(it, &info), 0);
    bs_backend_list_end(it);
    bs_backend_free(b);
}

Test(posix, planted_temp_hidden_and_odd_files_are_hidden_from_listing)
{
    bs_backend *b = pt_open(NULL, 0);
    put(b, "data/keep", "k");
    static const char *planted[] = {"data/upload.tmp", "data/x.hid", "data/Upper",
                                    "data/a b",        "data/..dots", "data/back\\slash"};
    for (size_t i = 0; i < sizeof planted / sizeof planted[0]; i++)
        cr_assert_eq(bs_test_write_file(pt_path(planted[i]), "p", 1), 0);
    cr_assert_eq(mkfifo(pt_path("data/fifo"), 0600), 0);
    cr_assert_eq(symlink("keep", pt_path("data/link")), 0);
    bs_list_iter *it;
    bs_item_info info;
    PT_OK(bs_backend_list_begin(b, "data", &it));
    cr_assert_eq(bs_backend_list_next(it, &info), 1);
    cr_assert_str_eq(info.name, "keep");
    cr_assert_eq(bs_backend_list_next(it, &info), 0, "also listed: %s", info.name);
    bs_backend_list_end(it);
    /* a FIFO is refused at once, not waited on */
    uint8_t *got;
    size_t len;
    PT_EXPECT(BS_ERR_IO, bs_backend_load(b, "data/fifo", 0, BS_SIZE_ALL, &got, &len));
    bs_backend_free(b);
}

Test(posix, no_temp_file_left_after_success)
{
    bs_backend *b = pt_open(NULL, 0);
    for (int i = 0; i < 50; i++) {
        char name[64];
        snprintf(name, sizeof name, "data/%02x/%08x", i % 4, i);
        put(b, name, "value");
        put(b, name, "overwritten"); /* and replacing */
    }
    PT_OK(bs_backend_move(b, "data/00/00000000", "data/09/moved"));
    bs_defrag_source src[] = {{"data/01/00000001", 0, 5}, {"data/02/00000002", 5, 6}};
    char out_name[BS_NAME_BUF];
    PT_OK(bs_backend_defrag(b, src, 2, NULL, BS_HASH_SHA256, "packs", 1, out_name));
    PT_OK(bs_backend_defrag(b, src, 2, "packs/named", BS_HASH_SHA256, NULL, 0, out_name));
    cr_assert_eq(pt_count_tmp(), 0);
    bs_backend_free(b);
}

Test(posix, store_failing_while_writing_leaves_nothing)
{
    bs_backend *b = pt_open(NULL, 0);
    put(b, "data/x", "old value");
    /* files may not grow past 4 KiB: the write of the temp file fails */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = {4096, 4096};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    size_t len = 64 * 1024;
    uint8_t *big = calloc(1, len);
    PT_EXPECT(BS_ERR_IO, bs_backend_store(b, "data/x", big, len));
    cr_assert_not_null(strstr(bs_error_message(), "data/x"), "%s", bs_error_message());
    cr_assert_eq(bs_error_errno(), EFBIG);
    expect_no_base_path_in_message();
    PT_EXPECT(BS_ERR_IO, bs_backend_store(b, "data/new/y", big, len));
    free(big);
    expect_value(b, "data/x", "old value");
    bs_item_info info;
    PT_OK(bs_backend_info(b, "data/new/y", &info));
    cr_assert_not(info.exists);
    cr_assert_eq(pt_count_tmp(), 0);
    bs_backend_free(b);
}

Test(posix, store_failing_at_rename_leaves_nothing)
{
    bs_backend *b = pt_open(NULL, 0);
    put(b, "dir/inner", "i");
    /* "dir" is a non-empty directory: the temp file is written, the rename
     * onto it fails */
    PT_EXPECT(BS_ERR_IO, bs_backend_store(b, "dir", "v", 1));
    cr_assert_eq(pt_count_tmp(), 0);
    expect_value(b, "dir/inner", "i");
    /* a parent that is a file */
    PT_EXPECT(BS_ERR_IO, bs_backend_store(b, "dir/inner/deeper", "v", 1));
    PT_EXPECT(BS_ERR_IO, bs_backend_mkdir(b, "dir/inner/sub"));
    expect_no_base_path_in_message();
    cr_assert_eq(pt_count_tmp(), 0);
    bs_backend_free(b);
}

Test(posix, fsync_option_and_environment_work)
{
    bs_backend_config cfg = {0};
    cfg.fsync = true;
    bs_backend *b = NULL;
    PT_OK(bs_backend_new(&b, pt_url, &cfg));
    PT_OK(bs_backend_create(b));
    PT_OK(bs_backend_open(b));
    put(b, "data/00/synced", "s");
    PT_OK(bs_backend_move(b, "data/00/synced", "data/01/moved"));
    PT_OK(bs_backend_mkdir(b, "a/b"));
    PT_OK(bs_backend_rmdir(b, "a/b"));
    PT_OK(bs_backend_delete(b, "data/01/moved"));
    bs_backend_free(b);
    setenv("BORGSTORE_FSYNC", "1", 1);
    b = pt_open(NULL, 100000);
    put(b, "data/02/env", "e");
    expect_value(b, "data/02/env", "e");
    bs_backend_free(b);
    cr_assert_eq(pt_count_tmp(), 0);
}

Test(posix, create_makes_parents_and_refuses_a_non_empty_directory)
{
    char url[800];
    snprintf(url, sizeof url, "file://%s/deep/er/store", pt_dir);
    bs_backend *b;
    PT_OK(bs_backend_new(&b, url, NULL));
    PT_OK(bs_backend_create(b));
    bs_backend_free(b);
    cr_assert_eq(bs_test_write_file(pt_path("stray"), "s", 1), 0);
    b = pt_backend(NULL, 0);
    PT_EXPECT(BS_ERR_ALREADY_EXISTS, bs_backend_create(b));
    expect_no_base_path_in_message();
    PT_OK(bs_backend_destroy(b));
    struct stat st;
    cr_assert_neq(stat(pt_base, &st), 0, "destroy removes the base directory");
    PT_EXPECT(BS_ERR_DOES_NOT_EXIST, bs_backend_open(b));
    expect_no_base_path_in_message();
    bs_backend_free(b);
    /* a URL with percent escapes names the decoded path */
    snprintf(url, sizeof url, "file://%s/with%%20space", pt_dir);
    PT_OK(bs_backend_new(&b, url, NULL));
    PT_OK(bs_backend_create(b));
    char path[800];
    snprintf(path, sizeof path, "%s/with space", pt_dir);
    cr_assert_eq(stat(path, &st), 0);
    bs_backend_free(b);
}

Test(posix, destroy_does_not_follow_symlinks_out_of_the_store)
{
    char outside[700];
    snprintf(outside, sizeof outside, "%s/outside/precious", pt_dir);
    cr_assert_eq(bs_test_write_file(outside, "keep", 4), 0);
    bs_backend *b = pt_open(NULL, 0);
    put(b, "data/x", "x");
    char target[700];
    snprintf(target, sizeof target, "%s/outside", pt_dir);
    cr_assert_eq(symlink(target, pt_path("data/escape")), 0);
    PT_OK(bs_backend_close(b));
    PT_OK(bs_backend_destroy(b));
    expect_file(outside, "keep");
    bs_backend_free(b);
}

Test(posix, bad_urls_are_refused)
{
    bs_backend *b = NULL;
    PT_EXPECT(BS_ERR_URL_INVALID, bs_backend_new(&b, "file://relative/path", NULL));
    PT_EXPECT(BS_ERR_URL_INVALID, bs_backend_new(&b, "file:/x", NULL));
    PT_EXPECT(BS_ERR_URL_INVALID, bs_backend_new(&b, "file:///bad%zzescape", NULL));
    cr_assert_null(b);
}

/* ---- symlinks planted inside the store ----------------------------------- */

/* The store gets "data" -> <tmp>/outside (absolute), "rel" -> ../outside
 * (relative), and a real directory "real" with "real/x" -> the outside file
 * and "real/pw" -> /etc/passwd. Nothing may read, write, list or delete
 * through them; the outside stays untouched. */
static void symlink_escapes_refused(void)
{
    char outside[700], secret[760];
    snprintf(outside, sizeof outside, "%s/outside", pt_dir);
    snprintf(secret, sizeof secret, "%s/secret", outside);
    cr_assert_eq(bs_test_write_file(secret, "top secret", 10), 0);
    bs_backend *b = pt_open(NULL, 0);
    put(b, "real/ok", "ok");
    cr_assert_eq(symlink(outside, pt_path("data")), 0);
    cr_assert_eq(symlink("../outside", pt_path("rel")), 0);
    cr_assert_eq(symlink(secret, pt_path("real/x")), 0);
    cr_assert_eq(symlink("/etc/passwd", pt_path("real/pw")), 0);

    static const char *link_dirs[] = {"data", "rel"};
    for (size_t i = 0; i < 2; i++) {
        const char *d = link_dirs[i];
        char n[64];
        snprintf(n, sizeof n, "%s/secret", d);
        uint8_t *got = NULL;
        size_t len;
        bs_item_info info;
        char hex[BS_HASH_HEX_SIZE], out_name[BS_NAME_BUF], dst[64];
        bs_list_iter *it = NULL;
        PT_EXPECT(BS_ERR_PERMISSION, bs_backend_load(b, n, 0, BS_SIZE_ALL, &got, &len));
        cr_assert_null(got);
        expect_no_base_path_in_message();
        PT_EXPECT(BS_ERR_PERMISSION, bs_backend_hash(b, n, BS_HASH_SHA256, hex));
        PT_EXPECT(BS_ERR_PERMISSION, bs_backend_info(b, n, &info));
        PT_EXPECT(BS_ERR_PERMISSION, bs_backend_store(b, n, "pwned", 5));
        snprintf(dst, sizeof dst, "%s/new", d);
        PT_EXPECT(BS_ERR_PERMISSION, bs_backend_store(b, dst, "pwned", 5));
        PT_EXPECT(BS_ERR_PERMISSION, bs_backend_delete(b, n));
        PT_EXPECT(BS_ERR_PERMISSION, bs_backend_move(b, n, "stolen"));
        PT_EXPECT(BS_ERR_PERMISSION, bs_backend_move(b, "real/ok", dst));
        snprintf(dst, sizeof dst, "%s/sub", d);
        PT_EXPECT(BS_ERR_PERMISSION, bs_backend_mkdir(b, dst));
        PT_EXPECT(BS_ERR_PERMISSION, bs_backend_list_begin(b, d, &it));
        cr_assert_null(it);
        PT_EXPECT(BS_ERR_PERMISSION, bs_backend_info(b, d, &info));
        bs_defrag_source src = {n, 0, 3};
        PT_EXPECT(BS_ERR_PERMISSION,
                  bs_backend_defrag(b, &src, 1, "packed", BS_HASH_SHA256, NULL, 0, out_name));
        snprintf(dst, sizeof dst, "%s/packed", d);
        bs_defrag_source ok = {"real/ok", 0, 2};
        PT_EXPECT(BS_ERR_PERMISSION,
                  bs_backend_defrag(b, &ok, 1, dst, BS_HASH_SHA256, NULL, 0, out_name));
    }
    static const char *links[] = {"real/x", "real/pw"};
    for (size_t i = 0; i < 2; i++) {
        uint8_t *got = NULL;
        size_t len;
        bs_item_info info;
        char hex[BS_HASH_HEX_SIZE];
        PT_EXPECT(BS_ERR_PERMISSION, bs_backend_load(b, links[i], 0, BS_SIZE_ALL, &got, &len));
        PT_EXPECT(BS_ERR_PERMISSION, bs_backend_hash(b, links[i], BS_HASH_SHA256, hex));
        PT_EXPECT(BS_ERR_PERMISSION, bs_backend_info(b, links[i], &info));
        PT_EXPECT(BS_ERR_PERMISSION, bs_backend_store(b, links[i], "pwned", 5));
        PT_EXPECT(BS_ERR_PERMISSION, bs_backend_move(b, links[i], "stolen"));
        PT_EXPECT(BS_ERR_PERMISSION, bs_backend_move(b, "real/ok", links[i]));
    }
    /* listing the real directory shows no symlinks */
    bs_list_iter *it;
    bs_item_info info;
    PT_OK(bs_backend_list_begin(b, "real", &it));
    cr_assert_eq(bs_backend_list_next(it, &info), 1);
    cr_assert_str_eq(info.name, "ok");
    cr_assert_eq(bs_backend_list_next(it, &info), 0);
    bs_backend_list_end(it);
    /* deleting a planted link removes the link only */
    PT_OK(bs_backend_delete(b, "real/x"));
    expect_file(secret, "top secret");
    char entry[800];
    snprintf(entry, sizeof entry, "%s/new", outside);
    struct stat st;
    cr_assert_neq(lstat(entry, &st), 0, "something was written outside");
    snprintf(entry, sizeof entry, "%s/sub", outside);
    cr_assert_neq(lstat(entry, &st), 0, "a directory was made outside");
    cr_assert_eq(lstat(pt_path("stolen"), &st), -1);
    expect_value(b, "real/ok", "ok");
    cr_assert_eq(pt_count_tmp(), 0);
    bs_backend_free(b);
}

Test(posix, symlink_escape_is_refused)
{
    symlink_escapes_refused();
}

Test(posix, symlink_escape_is_refused_without_openat2)
{
    bs__beneath_force_fallback(true);
    cr_assert_not(bs__beneath_uses_openat2());
    symlink_escapes_refused();
}

/* With openat2, a symlink that stays inside the store may be followed; the
 * fallback refuses every symlink. Either way nothing leaves the store. */
Test(posix, symlink_inside_the_store)
{
    bs_backend *b = pt_open(NULL, 0);
    put(b, "real/item", "inside");
    cr_assert_eq(symlink("real", pt_path("alias")), 0);
    uint8_t *got;
    size_t len;
    int rc = bs_backend_load(b, "alias/item", 0, BS_SIZE_ALL, &got, &len);
    if (bs__beneath_uses_openat2()) {
        cr_assert_eq(rc, 0, "%s", bs_error_message());
        cr_assert_eq(len, 6);
        bs_free(got);
    } else {
        cr_assert_eq(rc, BS_ERR_PERMISSION);
    }
    bs__beneath_force_fallback(true);
    PT_EXPECT(BS_ERR_PERMISSION, bs_backend_load(b, "alias/item", 0, BS_SIZE_ALL, &got, &len));
    bs__beneath_force_fallback(false);
    bs_backend_free(b);
}

Test(posix, fallback_walk_handles_every_operation)
{
    bs__beneath_force_fallback(true);
    bs_backend *b = pt_open(NULL, 0);
    put(b, "data/00/11/0011aa", "v1");
    PT_OK(bs_backend_move(b, "data/00/11/0011aa", "data/22/33/moved"));
    expect_value(b, "data/22/33/moved", "v1");
    PT_OK(bs_backend_mkdir(b, "x/y/z"));
    PT_OK(bs_backend_rmdir(b, "x/y/z"));
    bs_item_info info;
    PT_OK(bs_backend_info(b, "data/22/33/moved", &info));
    cr_assert(info.exists);
    PT_OK(bs_backend_info(b, "data/44/nothing", &info));
    cr_assert_not(info.exists);
    uint8_t *got;
    size_t len;
    PT_EXPECT(BS_ERR_NOT_FOUND, bs_backend_load(b, "data/44/nothing", 0, BS_SIZE_ALL, &got, &len));
    PT_OK(bs_backend_delete(b, "data/22/33/moved"));
    bs_backend_free(b);
}

Test(posix, messages_name_the_item_never_the_base_path)
{
    bs_backend *b = pt_open("{\"\": \"lr\"}", 0);
    uint8_t *got;
    size_t len;
    PT_EXPECT(BS_ERR_NOT_FOUND, bs_backend_load(b, "data/missing", 0, BS_SIZE_ALL, &got, &len));
    cr_assert_not_null(strstr(bs_error_message(), "data/missing"));
    expect_no_base_path_in_message();
    PT_EXPECT(BS_ERR_PERMISSION, bs_backend_store(b, "data/new", "x", 1));
    cr_assert_not_null(strstr(bs_error_message(), "data/new"));
    expect_no_base_path_in_message();
    PT_EXPECT(BS_ERR_PERMISSION, bs_backend_rmdir(b, "nodir"));
    expect_no_base_path_in_message();
    bs_backend_free(b);
}
