/* The borgstore CLI over ssh:// (run under with-sshd.sh): destroy refuses a
 * remote directory that is not a store, through the backend listing, and
 * removes a store; a missing borgstore-serve says how to fix it; README's
 * forced-command recipe (an admin key creates, a restricted key uses) works
 * and permission errors speak of items, not letters and on-disk names. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "run.h"
#include "sshd_fixture.h"
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

/* A key whose authorized_keys entry forces borgstore-serve with options,
 * and an ssh config (alias name) that logs in with it: its path in cfg. */
static void forced_key(const char *name, const char *options, char cfg[4096])
{
    char opts[2048], replace[1200];
    snprintf(opts, sizeof opts, "command=\"%s %s\",restrict",
             bs_test_build_path("borgstore-serve"), options);
    char *key = bs_sshd_new_key(tmp, name, true, opts);
    snprintf(replace, sizeof replace, "IdentityFile %s\n", key);
    char kdir[4096];
    snprintf(kdir, sizeof kdir, "%s/cfg-%s", tmp, name);
    cr_assert_eq(mkdir(kdir, 0700), 0);
    char *c = bs_sshd_config(kdir, name, replace, "  StrictHostKeyChecking accept-new");
    snprintf(cfg, 4096, "%s", c);
    free(c);
    free(key);
}

Test(cli_ssh, readme_recipe_admin_key_creates_restricted_key_uses)
{
    /* the two authorized_keys lines of README.md */
    char admin_cfg[4096], user_cfg[4096], opts[4096];
    snprintf(opts, sizeof opts, "--restrict-to-path %s", tmp);
    forced_key("admin", opts, admin_cfg);
    snprintf(opts, sizeof opts, "--restrict-to-repository %s --permissions borgbackup-no-delete",
             dir);
    forced_key("backup", opts, user_cfg);
    char admin_url[4200], user_url[4200];
    snprintf(admin_url, sizeof admin_url, "ssh://admin/%s", dir);
    snprintf(user_url, sizeof user_url, "ssh://backup/%s", dir);

    run_result r;
    /* the restricted key cannot create the store: said in words */
    BS(&r, NULL, 0, "--ssh-config", user_cfg, user_url, "create");
    ASSERT_STATUS(r, 5);
    cr_assert_str_eq(r.err, "borgstore: permission denied: writing the store's top directory "
                            "is not allowed (creating or destroying a store needs full "
                            "access)\n");
    run_free(&r);
    BS(&r, NULL, 0, "--ssh-config", admin_cfg, admin_url, "create");
    ASSERT_STATUS(r, 0);
    run_free(&r);
    /* the restricted key stores, reads and lists */
    BS(&r, "chunk", 5, "--ssh-config", user_cfg, user_url, "put", "data/00bb11");
    ASSERT_STATUS(r, 0);
    run_free(&r);
    BS(&r, "cfg", 3, "--ssh-config", user_cfg, user_url, "put", "config/manifest");
    ASSERT_STATUS(r, 0);
    run_free(&r);
    BS(&r, NULL, 0, "--ssh-config", user_cfg, user_url, "get", "data/00bb11");
    ASSERT_STATUS(r, 0);
    cr_assert_str_eq(r.out, "chunk");
    run_free(&r);
    BS(&r, NULL, 0, "--ssh-config", user_cfg, user_url, "ls", "data");
    ASSERT_STATUS(r, 0);
    cr_assert_str_eq(r.out, "data/00bb11\n");
    run_free(&r);
    /* ... but deletes nothing: the item by its name, no letters */
    BS(&r, NULL, 0, "--ssh-config", user_cfg, user_url, "rm", "data/00bb11");
    ASSERT_STATUS(r, 5);
    cr_assert_str_eq(r.err, "borgstore: permission denied: deleting data/00bb11 is not allowed\n");
    run_free(&r);
    BS(&r, "new", 3, "--ssh-config", user_cfg, user_url, "put", "data/00bb11");
    ASSERT_STATUS(r, 5);
    cr_assert_str_eq(r.err, "borgstore: permission denied: overwriting data/00bb11 is not "
                            "allowed\n");
    run_free(&r);
    BS(&r, NULL, 0, "--ssh-config", user_cfg, user_url, "destroy", "--yes");
    ASSERT_STATUS(r, 5);
    run_free(&r);
    cr_assert(exists("data/00/00bb11"));
    /* the admin key removes it */
    BS(&r, NULL, 0, "--ssh-config", admin_cfg, admin_url, "destroy", "--yes");
    ASSERT_STATUS(r, 0);
    run_free(&r);
    cr_assert(!exists(""));
}
