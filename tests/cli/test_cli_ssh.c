/* The borgstore CLI over ssh:// (run under with-sshd.sh): destroy refuses a
 * remote directory that is not a store, through the backend listing, and
 * removes a store; a missing borgstore-serve says how to fix it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "run.h"
#include "testutil.h"

static char *tmp, *dir, *url;

static void setup(void)
{
    tmp = bs_test_tmpdir();
    cr_assert(asprintf(&dir, "%s/store", tmp) > 0);
    cr_assert(asprintf(&url, "ssh://bstest/%s", dir) > 0); /* "//abs/path" */
}

static void teardown(void)
{
    bs_test_rmtree(tmp);
    free(tmp);
    free(dir);
    free(url);
}

TestSuite(cli_ssh, .init = setup, .fini = teardown);

#define ASSERT_STATUS(r, want)                                                          \
    cr_assert_eq((r).status, want, "exit %d, want %d; stderr: %s", (r).status, want,    \
                 (r).err)

static bool exists(const char *rel)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    return lstat(path, &st) == 0;
}

Test(cli_ssh, destroy_refuses_a_directory_that_is_not_a_store)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/photos/img_0001.jpg", dir);
    cr_assert_eq(bs_test_write_file(path, "jpeg", 4), 0);
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    cr_assert_eq(bs_test_write_file(path, "mine", 4), 0);
    run_result r;
    BS(&r, NULL, 0, url, "destroy", "--yes");
    ASSERT_STATUS(r, 9);
    cr_assert(strstr(r.err, "not a store, refusing to destroy ssh://bstest/"), "%s", r.err);
    cr_assert(strstr(r.err, "notes.txt is a file at the top level"), "%s", r.err);
    run_free(&r);
    cr_assert(exists("notes.txt"));
    cr_assert(exists("photos/img_0001.jpg"));
}

Test(cli_ssh, destroy_removes_a_store)
{
    run_result r;
    BS(&r, NULL, 0, url, "create");
    ASSERT_STATUS(r, 0);
    run_free(&r);
    BS(&r, "v", 1, url, "put", "data/00aa11");
    ASSERT_STATUS(r, 0);
    run_free(&r);
    BS(&r, NULL, 0, url, "destroy");
    ASSERT_STATUS(r, 0);
    run_free(&r);
    cr_assert(!exists(""));
}

Test(cli_ssh, a_missing_borgstore_serve_says_how_to_fix_it)
{
    setenv("BORGSTORE_REMOTE_PATH", "/nonexistent/borgstore-serve", 1);
    run_result r;
    BS(&r, NULL, 0, url, "create");
    ASSERT_STATUS(r, 7);
    cr_assert(strstr(r.err, "remote exit status 127: command not found; install "
                            "borgstore-serve on the server or set BORGSTORE_REMOTE_PATH"),
              "%s", r.err);
    cr_assert_eq(strchr(r.err, '\n'), r.err + r.err_len - 1, "one line: %s", r.err);
    run_free(&r);
}
