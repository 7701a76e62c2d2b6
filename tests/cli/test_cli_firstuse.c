/* The borgstore CLI as a new user meets it: per-command help, every
 * environment variable the client reads documented, plain paths and
 * $BORGSTORE_URL as stores, a helpful error when the command comes first,
 * put refusing a terminal on stdin, --ssh-config, and serve:// finding the
 * borgstore-serve next to borgstore. */
#include <criterion/criterion.h>
#include <dirent.h>
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
    unsetenv("BORGSTORE_URL");
}

static void teardown(void)
{
    bs_test_rmtree(tmp);
    free(tmp);
    free(dir);
    free(url);
}

TestSuite(firstuse, .init = setup, .fini = teardown);

#define ASSERT_STATUS(r, want)                                                          \
    cr_assert_eq((r).status, want, "exit %d, want %d; stderr: %s", (r).status, want,    \
                 (r).err)

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---- help -------------------------------------------------------------------- */

Test(firstuse, each_command_has_its_own_help)
{
    run_result r;
    BS(&r, NULL, 0, "put", "--help");
    ASSERT_STATUS(r, 0);
    cr_assert(!strncmp(r.out, "usage: borgstore [OPTIONS] URL put NAME [FILE|-]\n", 49), "%s",
              r.out);
    cr_assert(!strstr(r.out, "get NAME"), "only put's help: %s", r.out);
    run_free(&r);
    BS(&r, NULL, 0, url, "destroy", "-h");
    ASSERT_STATUS(r, 0);
    cr_assert(strstr(r.out, "usage: borgstore [OPTIONS] URL destroy [--yes]\n"), "%s", r.out);
    cr_assert(strstr(r.out, "not look like a store"), "%s", r.out);
    run_free(&r);
}

/* Every "BORGSTORE_..." and "RCLONE_BINARY" string in the client's sources
 * (the variables it reads) is in --help and in the man page source. */
static void check_env_names_in(const char *srcdir, const char *help, const char *man)
{
    DIR *d = opendir(bs_test_source_path(srcdir));
    cr_assert_not_null(d, "%s", srcdir);
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 3 || strcmp(de->d_name + n - 2, ".c")) continue;
        char rel[512];
        snprintf(rel, sizeof rel, "%s/%s", srcdir, de->d_name);
        char *src = bs_test_read_file(bs_test_source_path(rel), NULL);
        cr_assert_not_null(src, "%s", rel);
        for (char *p = src; (p = strstr(p, "\"BORGSTORE_")); p++) {
            char name[64];
            size_t k = strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");
            if (k >= sizeof name || p[1 + k] != '"') continue;
            memcpy(name, p + 1, k);
            name[k] = '\0';
            cr_assert(strstr(help, name), "--help does not document %s (read in %s)", name, rel);
            cr_assert(strstr(man, name), "docs/borgstore.1.md does not document %s (%s)", name,
                      rel);
        }
        if (strstr(src, "getenv(\"RCLONE_BINARY\")")) {
            cr_assert(strstr(help, "RCLONE_BINARY"), "--help: RCLONE_BINARY");
            cr_assert(strstr(man, "RCLONE_BINARY"), "man page: RCLONE_BINARY");
        }
        free(src);
    }
    closedir(d);
}

Test(firstuse, help_and_man_page_name_every_environment_variable)
{
    run_result r;
    BS(&r, NULL, 0, "--help");
    ASSERT_STATUS(r, 0);
    char *man = bs_test_read_file(bs_test_source_path("docs/borgstore.1.md"), NULL);
    cr_assert_not_null(man);
    static const char *dirs[] = {"client", "client/remote", "backends", "common"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        check_env_names_in(dirs[i], r.out, man);
    cr_assert(strstr(r.out, "BORGSTORE_REMOTE_PATH"));
    cr_assert(strstr(r.out, "BORGSTORE_URL"));
    free(man);
    run_free(&r);
}

/* ---- which store ----------------------------------------------------------- */

Test(firstuse, the_command_first_without_a_store_says_what_to_do)
{
    run_result r;
    BS(&r, NULL, 0, "ls", "data");
    ASSERT_STATUS(r, 2);
    cr_assert_str_eq(r.err, "borgstore: 'ls' is a command, but no store was given: write "
                            "borgstore URL ls ..., or set BORGSTORE_URL (see borgstore "
                            "--help)\n");
    run_free(&r);
}

Test(firstuse, borgstore_url_is_the_default_store)
{
    setenv("BORGSTORE_URL", url, 1);
    run_result r;
    BS(&r, NULL, 0, "create");
    ASSERT_STATUS(r, 0);
    run_free(&r);
    BS(&r, "hello", 5, "put", "config/x");
    ASSERT_STATUS(r, 0);
    run_free(&r);
    BS(&r, NULL, 0, "get", "config/x");
    ASSERT_STATUS(r, 0);
    cr_assert_str_eq(r.out, "hello");
    run_free(&r);
    /* a URL given wins */
    char other[4200];
    snprintf(other, sizeof other, "%s/other", tmp);
    BS(&r, NULL, 0, other, "create");
    ASSERT_STATUS(r, 0);
    run_free(&r);
    cr_assert(exists(other));
}

Test(firstuse, plain_paths_are_stores)
{
    run_result r;
    BS(&r, NULL, 0, dir, "create");
    ASSERT_STATUS(r, 0);
    run_free(&r);
    BS(&r, "v", 1, url, "put", "config/x");
    ASSERT_STATUS(r, 0);
    run_free(&r);
    /* relative, with . and .. */
    cr_assert_eq(chdir(tmp), 0);
    BS(&r, NULL, 0, "./store/../store/.", "get", "config/x");
    ASSERT_STATUS(r, 0);
    cr_assert_str_eq(r.out, "v");
    run_free(&r);
    BS(&r, NULL, 0, "store", "get", "config/x");
    ASSERT_STATUS(r, 0);
    run_free(&r);
    setenv("HOME", tmp, 1);
    BS(&r, NULL, 0, "~/store", "get", "config/x");
    ASSERT_STATUS(r, 0);
    run_free(&r);
    /* errors about the store name its URL */
    BS(&r, NULL, 0, "./missing", "ls", "data");
    ASSERT_STATUS(r, 4);
    char want[4300];
    snprintf(want, sizeof want, "borgstore: store does not exist: file://%s/missing\n", tmp);
    cr_assert_str_eq(r.err, want);
    run_free(&r);
}

/* ---- put and the terminal ---------------------------------------------------- */

Test(firstuse, put_refuses_a_terminal_unless_dash_is_given)
{
    run_result r;
    BS(&r, NULL, 0, url, "create");
    ASSERT_STATUS(r, 0);
    run_free(&r);
    const char *argv[] = {bs_cli_path(), url, "put", "config/x", NULL};
    run_pty(&r, NULL, argv);
    ASSERT_STATUS(r, 2);
    cr_assert(strstr(r.err, "put: standard input is a terminal; give a FILE, or - to type"),
              "%s", r.err);
    run_free(&r);
    const char *argv2[] = {bs_cli_path(), url, "put", "config/x", "-", NULL};
    run_pty(&r, "typed\n\x04", argv2);
    ASSERT_STATUS(r, 0);
    run_free(&r);
    BS(&r, NULL, 0, url, "get", "config/x");
    ASSERT_STATUS(r, 0);
    cr_assert_str_eq(r.out, "typed\n");
    run_free(&r);
}

/* ---- ssh and serve ------------------------------------------------------------ */

Test(firstuse, ssh_config_option_is_read)
{
    char cfg[4200];
    snprintf(cfg, sizeof cfg, "%s/no-such-config", tmp);
    run_result r;
    BS(&r, NULL, 0, "--ssh-config", cfg, "ssh://example.invalid/store", "ls", "data");
    cr_assert_neq(r.status, 0);
    cr_assert(strstr(r.err, cfg), "the error names the config file: %s", r.err);
    run_free(&r);
}

Test(firstuse, serve_uses_the_borgstore_serve_next_to_borgstore)
{
    unsetenv("BORGSTORE_REMOTE_PATH");
    setenv("PATH", "/nonexistent", 1);
    char surl[4200];
    snprintf(surl, sizeof surl, "serve://%s", dir);
    run_result r;
    BS(&r, NULL, 0, surl, "create");
    ASSERT_STATUS(r, 0);
    run_free(&r);
    cr_assert(exists(dir));
}

/* ---- exit statuses -------------------------------------------------------------- */

/* Runs borgstore with BORGSTORE_REMOTE_PATH=remote_path (NULL: unset). */
static int status_of(const char *remote_path, const char *in, const char *const *args)
{
    if (remote_path) setenv("BORGSTORE_REMOTE_PATH", remote_path, 1);
    else unsetenv("BORGSTORE_REMOTE_PATH");
    const char *argv[8] = {bs_cli_path()};
    for (int i = 0; args[i] && i < 6; i++) argv[i + 1] = args[i];
    run_result r;
    run_argv(&r, in, in ? strlen(in) : 0, false, argv);
    int st = r.status;
    run_free(&r);
    return st;
}

Test(firstuse, exit_statuses_tell_failures_apart)
{
    char surl[4200], serve[4200], ro[8600], quota[4400], missing[4200];
    snprintf(surl, sizeof surl, "serve://%s", dir);
    snprintf(missing, sizeof missing, "%s/missing", tmp);
    snprintf(serve, sizeof serve, "%s", bs_test_build_path("borgstore-serve"));
    /* permissions are anchored at a restriction (docs/security.md) */
    snprintf(ro, sizeof ro, "%s --restrict-to-repository %s --permissions borgbackup-read-only",
             serve, dir);
    snprintf(quota, sizeof quota, "%s --quota 3", serve);
    cr_assert_eq(status_of(NULL, NULL, (const char *[]){dir, "create", NULL}), 0);
    cr_assert_eq(status_of(NULL, "12345", (const char *[]){dir, "put", "config/x", NULL}), 0);
    cr_assert_eq(status_of(NULL, NULL, (const char *[]){dir, "get", "config/BAD", NULL}), 1);
    cr_assert_eq(status_of(NULL, NULL, (const char *[]){dir, "frobnicate", NULL}), 2);
    cr_assert_eq(status_of(NULL, NULL, (const char *[]){dir, "get", "config/none", NULL}), 3);
    cr_assert_eq(status_of(NULL, NULL, (const char *[]){missing, "ls", "data", NULL}), 4);
    cr_assert_eq(status_of(ro, "v", (const char *[]){surl, "put", "config/y", NULL}), 5);
    cr_assert_eq(status_of(quota, "toolong", (const char *[]){surl, "put", "config/y", NULL}),
                 6);
    cr_assert_eq(status_of("/nonexistent/borgstore-serve", NULL,
                           (const char *[]){surl, "ls", "config", NULL}),
                 7);
    cr_assert_eq(status_of(NULL, NULL, (const char *[]){dir, "create", "--precreate", NULL}), 8);
    cr_assert_eq(mkdir(missing, 0700), 0);
    char foreign[4300];
    snprintf(foreign, sizeof foreign, "%s/README", missing);
    cr_assert_eq(bs_test_write_file(foreign, "x", 1), 0);
    cr_assert_eq(status_of(NULL, NULL, (const char *[]){missing, "destroy", NULL}), 9);
}
