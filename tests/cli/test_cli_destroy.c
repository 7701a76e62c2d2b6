/* borgstore destroy as a user meets it: a directory that is not a store is
 * never removed (names borgstore cannot write, top-level files, symlinks,
 * foreign directories below a nesting directory), a store is, and on a
 * terminal it asks first unless --yes. Over ssh:// the same checks run
 * through the backend listing (test_cli_ssh.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"
#include "testutil.h"

static char *tmp, *dir, *url;

static void setup(void)
{
    tmp = bs_test_tmpdir();
    cr_assert(asprintf(&dir, "%s/store", tmp) > 0);
    cr_assert(asprintf(&url, "file://%s", dir) > 0);
}

static void teardown(void)
{
    bs_test_rmtree(tmp);
    free(tmp);
    free(dir);
    free(url);
}

TestSuite(cli_destroy, .init = setup, .fini = teardown);

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

static void write_rel(const char *rel, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    cr_assert_eq(bs_test_write_file(path, text, strlen(text)), 0, "%s", path);
}

/* A store with items in two namespaces, one soft-deleted, on levels 0 and 1. */
static void make_store(void)
{
    run_result r;
    BS(&r, NULL, 0, url, "create");
    ASSERT_STATUS(r, 0);
    run_free(&r);
    BS(&r, "v", 1, url, "put", "data/00aa11");
    ASSERT_STATUS(r, 0);
    run_free(&r);
    BS(&r, "v", 1, url, "put", "config/settings");
    ASSERT_STATUS(r, 0);
    run_free(&r);
    BS(&r, NULL, 0, url, "soft-delete", "config/settings");
    ASSERT_STATUS(r, 0);
    run_free(&r);
}

static void refused(const char *why)
{
    run_result r;
    BS(&r, NULL, 0, url, "destroy", "--yes");
    ASSERT_STATUS(r, 9);
    cr_assert(strstr(r.err, "not a store, refusing to destroy"), "%s", r.err);
    cr_assert(strstr(r.err, why), "want '%s' in: %s", why, r.err);
    run_free(&r);
    cr_assert(exists(""), "the directory must survive");
}

Test(cli_destroy, a_store_is_destroyed)
{
    make_store();
    /* a temp file an interrupted store left is ours too */
    write_rel("data/00/00aa11.0123456789abcdef.tmp", "partial");
    run_result r;
    BS(&r, NULL, 0, url, "destroy");
    ASSERT_STATUS(r, 0);
    run_free(&r);
    cr_assert(!exists(""));
}

Test(cli_destroy, an_empty_directory_is_destroyed)
{
    cr_assert_eq(mkdir(dir, 0700), 0);
    run_result r;
    BS(&r, NULL, 0, url, "destroy");
    ASSERT_STATUS(r, 0);
    run_free(&r);
    cr_assert(!exists(""));
}

Test(cli_destroy, names_borgstore_cannot_write_are_refused)
{
    make_store();
    write_rel("data/Notes.TXT", "mine");
    refused("data/Notes.TXT is not a name borgstore writes");
    cr_assert(exists("data/Notes.TXT"));
    cr_assert(exists("data/00/00aa11"));
}

Test(cli_destroy, top_level_files_are_refused)
{
    make_store();
    write_rel("notes.txt", "mine");
    refused("notes.txt is a file at the top level");
}

Test(cli_destroy, symlinks_are_refused)
{
    make_store();
    char path[4096];
    snprintf(path, sizeof path, "%s/config/link", dir);
    cr_assert_eq(symlink("/etc", path), 0);
    refused("config/link is neither a file nor a directory");
}

Test(cli_destroy, foreign_entries_in_nesting_directories_are_refused)
{
    make_store();
    write_rel("data/00/photo.jpg", "mine");
    refused("data/00/photo.jpg does not start with its nesting directories' digits");
    write_rel("data/00/photo.jpg", "");
    unlink(strcat(strcpy((char[4096]){0}, dir), "/data/00/photo.jpg"));
    write_rel("data/00/sub/x", "mine");
    refused("data/00/sub is inside a nesting directory but is not one");
}

Test(cli_destroy, a_missing_store_is_exit_4)
{
    run_result r;
    BS(&r, NULL, 0, url, "destroy");
    ASSERT_STATUS(r, 4);
    cr_assert(!strncmp(r.err, "borgstore: store does not exist: file://", 40), "%s", r.err);
    run_free(&r);
}

/* ---- on a terminal ------------------------------------------------------- */

static void destroy_on_tty(run_result *r, const char *answer, const char *extra)
{
    const char *argv[] = {bs_cli_path(), url, "destroy", extra, NULL};
    run_pty(r, answer, argv);
}

Test(cli_destroy, on_a_terminal_no_keeps_the_store)
{
    make_store();
    run_result r;
    destroy_on_tty(&r, "n\n", NULL);
    ASSERT_STATUS(r, 10);
    cr_assert(strstr(r.err, "and everything in it? [y/N]"), "%s", r.err);
    cr_assert(strstr(r.err, "destroy cancelled"), "%s", r.err);
    run_free(&r);
    cr_assert(exists("data/00/00aa11"));
    /* end of input is no too */
    destroy_on_tty(&r, "\x04", NULL);
    ASSERT_STATUS(r, 10);
    run_free(&r);
    cr_assert(exists("data/00/00aa11"));
}

Test(cli_destroy, on_a_terminal_yes_destroys)
{
    make_store();
    run_result r;
    destroy_on_tty(&r, "yes\n", NULL);
    ASSERT_STATUS(r, 0);
    run_free(&r);
    cr_assert(!exists(""));
}

Test(cli_destroy, on_a_terminal_dash_dash_yes_does_not_ask)
{
    make_store();
    run_result r;
    destroy_on_tty(&r, NULL, "--yes");
    ASSERT_STATUS(r, 0);
    cr_assert(!strstr(r.err, "[y/N]"), "%s", r.err);
    run_free(&r);
    cr_assert(!exists(""));
}
