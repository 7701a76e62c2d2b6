/* The operator's restrictions: path prefixes and exact repositories (with
 * every escape: '..', symlinks, sibling prefixes), read-only, permission
 * presets, quota, a pinned backend, SSH_ORIGINAL_COMMAND, startup errors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "tests/helpers/testutil.h"

static char *dir;

static void setup(void) { dir = bs_test_tmpdir(); }
static void teardown(void)
{
    bs_test_rmtree(dir);
    free(dir);
}

TestSuite(restrict, .init = setup, .fini = teardown, .timeout = 60);

static const char *P(const char *rel)
{
    static char buf[8][4096];
    static int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, rel);
    return buf[i];
}

static void started(srv *s, const char *const *args)
{
    srv_start(s, args, dir, false);
    srv_handshake(s);
}

Test(restrict, restrict_to_path_refuses_every_escape)
{
    mkdir(P("alice"), 0700);
    mkdir(P("alice2"), 0700);
    mkdir(P("bob"), 0700);
    cr_assert_eq(symlink(P("bob"), P("alice/link")), 0);
    cr_assert_eq(symlink(P("nowhere"), P("alice/dangling")), 0);
    const char *args[] = {"--restrict-to-path", P("alice"), NULL};
    srv s;
    started(&s, args);
    cr_assert_eq(srv_open(&s, "create", P("alice/repo")), 0, "%s", srv_last_error);
    cr_assert_eq(srv_open(&s, "create", P("alice/new/deeper/repo")), 0, "%s", srv_last_error);
    cr_assert_eq(srv_open(&s, "create", "alice/rel"), 0, "relative to the working directory");
    cr_assert_eq(srv_open(&s, "create", P("bob/repo")), BS_ERR_PERMISSION);
    cr_assert_eq(srv_open(&s, "create", P("alice2/repo")), BS_ERR_PERMISSION, "sibling prefix");
    cr_assert_eq(srv_open(&s, "create", P("alice2")), BS_ERR_PERMISSION);
    cr_assert_eq(srv_open(&s, "create", P("alice/../bob/x")), BS_ERR_PERMISSION, "..");
    cr_assert_eq(srv_open(&s, "create", P("alice/repo/..")), BS_ERR_PERMISSION, "..");
    cr_assert_eq(srv_open(&s, "create", P("alice/link/repo")), BS_ERR_PERMISSION, "symlink");
    cr_assert_eq(srv_open(&s, "create", P("alice/link")), BS_ERR_PERMISSION, "symlink");
    cr_assert_eq(srv_open(&s, "create", P("alice/dangling")), BS_ERR_PERMISSION, "dangling");
    cr_assert_eq(srv_open(&s, "create", "bob/rel"), BS_ERR_PERMISSION);
    cr_assert_eq(srv_open(&s, "destroy", P("bob")), BS_ERR_PERMISSION);
    cr_assert_eq(srv_open(&s, "open", "/"), BS_ERR_PERMISSION);
    cr_assert_null(strstr(srv_last_error, dir), "message names no server path");
    cr_assert_eq(access(P("bob/repo"), F_OK), -1, "nothing created outside");
    cr_assert_eq(access(P("nowhere"), F_OK), -1, "nothing created through the symlink");
    cr_assert_eq(access(P("alice/rel"), F_OK), 0);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(restrict, restrict_to_repository_is_exact_and_may_not_exist_yet)
{
    const char *args[] = {"--restrict-to-repository", P("repos/one"), NULL};
    srv s;
    started(&s, args);
    cr_assert_eq(srv_open(&s, "create", P("repos/one/sub")), BS_ERR_PERMISSION);
    cr_assert_eq(srv_open(&s, "create", P("repos/on")), BS_ERR_PERMISSION);
    cr_assert_eq(srv_open(&s, "create", P("repos/one2")), BS_ERR_PERMISSION);
    cr_assert_eq(srv_open(&s, "create", P("repos")), BS_ERR_PERMISSION);
    cr_assert_eq(srv_open(&s, "create", P("repos/one")), 0, "%s", srv_last_error);
    cr_assert_eq(srv_open(&s, "open", P("repos/one")), 0);
    cr_assert_eq(srv_stop(&s), 0);
}

static void make_store(const char *path, const char *name, const char *value)
{
    srv s;
    started(&s, NULL);
    cr_assert_eq(srv_open(&s, "create", path), 0);
    cr_assert_eq(srv_open(&s, "open", path), 0);
    if (name) cr_assert_eq(srv_store(&s, name, value, strlen(value)), 0);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(restrict, read_only_refuses_every_change_and_keeps_serving)
{
    make_store(P("st"), "data/x", "old");
    const char *args[] = {"--read-only", NULL};
    srv s;
    started(&s, args);
    cr_assert_eq(srv_open(&s, "create", P("other")), BS_ERR_PERMISSION);
    cr_assert_eq(srv_open(&s, "destroy", P("st")), BS_ERR_PERMISSION);
    cr_assert_eq(srv_open(&s, "open", P("st")), 0);
    cr_assert_eq(srv_store(&s, "data/x", "new", 3), BS_ERR_PERMISSION);
    cr_assert_eq(srv_store_chunked(&s, "data/y", "chunked", 7, 3), BS_ERR_PERMISSION);
    cr_assert_eq(srv_simple(&s, BS_M_DELETE, "data/x"), BS_ERR_PERMISSION);
    cr_assert_eq(srv_simple(&s, BS_M_MKDIR, "more"), BS_ERR_PERMISSION);
    bs__req r = {.method = BS_M_MOVE, .name = "data/x", .dst = "data/z"};
    bs__result res;
    cr_assert_eq(srv_call(&s, &r, &res), BS_ERR_PERMISSION);
    uint8_t *v;
    size_t len;
    cr_assert_eq(srv_load(&s, "data/x", 0, BS_SIZE_ALL, &v, &len), 0);
    cr_assert_eq(len, 3);
    cr_assert_eq(memcmp(v, "old", 3), 0, "unchanged");
    free(v);
    cr_assert_eq(access(P("other"), F_OK), -1);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(restrict, permission_presets_are_enforced)
{
    make_store(P("st"), "data/x", "old");
    const char *nodel[] = {"--permissions", "borgbackup-no-delete", "--restrict-to-path", dir,
                           NULL};
    srv s;
    started(&s, nodel);
    cr_assert_eq(srv_open(&s, "open", P("st")), 0);
    cr_assert_eq(srv_store(&s, "data/new", "n", 1), 0, "%s", srv_last_error);
    cr_assert_eq(srv_simple(&s, BS_M_DELETE, "data/x"), BS_ERR_PERMISSION);
    cr_assert_eq(srv_store(&s, "data/x", "overwrite", 9), BS_ERR_PERMISSION, "no overwrite");
    uint8_t *v;
    size_t len;
    cr_assert_eq(srv_load(&s, "data/x", 0, BS_SIZE_ALL, &v, &len), 0);
    cr_assert_eq(memcmp(v, "old", 3), 0, "unchanged");
    free(v);
    cr_assert_eq(srv_stop(&s), 0);

    const char *wo[] = {"--permissions", "borgbackup-write-only", "--restrict-to-path", dir,
                        NULL};
    started(&s, wo);
    cr_assert_eq(srv_open(&s, "open", P("st")), 0);
    cr_assert_eq(srv_load(&s, "data/x", 0, BS_SIZE_ALL, &v, &len), BS_ERR_PERMISSION);
    cr_assert_eq(srv_store(&s, "data/w", "w", 1), 0);
    cr_assert_eq(srv_stop(&s), 0);

    const char *ro[] = {"--permissions", "borgbackup-read-only", "--restrict-to-path", dir,
                        NULL};
    started(&s, ro);
    cr_assert_eq(srv_open(&s, "open", P("st")), 0);
    cr_assert_eq(srv_store(&s, "data/r", "r", 1), BS_ERR_PERMISSION);
    cr_assert_eq(srv_simple(&s, BS_M_DELETE, "data/x"), BS_ERR_PERMISSION);
    cr_assert_eq(srv_load(&s, "data/x", 0, BS_SIZE_ALL, &v, &len), 0);
    free(v);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(restrict, quota_overrun_is_refused_and_the_store_unchanged)
{
    const char *args[] = {"--quota", "20000", NULL};
    srv s;
    started(&s, args);
    cr_assert_eq(s.hello.quota, 20000);
    cr_assert_eq(srv_open(&s, "create", P("q")), 0);
    cr_assert_eq(srv_open(&s, "open", P("q")), 0);
    uint8_t buf[10000];
    bs_test_fill(buf, sizeof buf, 1);
    cr_assert_eq(srv_store(&s, "data/a", buf, sizeof buf), 0);
    cr_assert_eq(srv_store(&s, "data/b", buf, sizeof buf), BS_ERR_QUOTA);
    cr_assert_eq(srv_store_chunked(&s, "data/c", buf, sizeof buf, 1000), BS_ERR_QUOTA);
    bs__req r = {.method = BS_M_LIST, .name = "data"};
    bs__result res;
    cr_assert_eq(srv_call(&s, &r, &res), 0);
    cr_assert_eq(res.n_entries, 1, "only the first value is there");
    r = (bs__req){.method = BS_M_QUOTA};
    cr_assert_eq(srv_call(&s, &r, &res), 0);
    cr_assert_eq(res.quota.limit, 20000);
    cr_assert_eq(res.quota.usage, 10000 + 4096, "the value and its directory");
    cr_assert_eq(srv_stop(&s), 0);
}

Test(restrict, pinned_backend_ignores_the_client_path)
{
    char url[4200];
    snprintf(url, sizeof url, "file://%s", P("pinned"));
    const char *args[] = {"--backend", url, NULL};
    srv s;
    started(&s, args);
    cr_assert(s.hello.pinned);
    cr_assert_eq(srv_open(&s, "create", "/somewhere/else"), 0, "%s", srv_last_error);
    cr_assert_eq(srv_open(&s, "open", "ignored"), 0);
    cr_assert_eq(srv_store(&s, "k", "v", 1), 0);
    cr_assert_eq(access(P("pinned/k"), F_OK), 0);
    cr_assert_eq(access("/somewhere/else", F_OK), -1);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(restrict, client_command_may_set_only_the_log_level)
{
    mkdir(P("alice"), 0700);
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "borgstore-serve --log-level debug --restrict-to-path / --read-only");
    setenv("SSH_ORIGINAL_COMMAND", cmd, 1);
    const char *args[] = {"--restrict-to-path", P("alice"), NULL};
    srv s;
    started(&s, args);
    unsetenv("SSH_ORIGINAL_COMMAND");
    cr_assert(!s.hello.read_only, "--read-only from the client is ignored");
    cr_assert_eq(srv_open(&s, "create", P("other")), BS_ERR_PERMISSION,
                 "the client cannot widen the restriction");
    cr_assert_eq(srv_open(&s, "create", P("alice/r")), 0);
    char err[8192];
    srv_stderr(&s, err, sizeof err);
    cr_assert_eq(srv_stop(&s), 0);
    cr_assert_not_null(strstr(err, " debug: "), "the client's log level applies: %s", err);
}

static int run_exit(const char *const *args, char *err, size_t cap)
{
    srv s;
    srv_start(&s, args, dir, false);
    int st = srv_wait(&s, 5000);
    srv_stderr(&s, err, cap);
    close(s.to);
    close(s.from);
    close(s.err);
    bs__inbuf_free(&s.in);
    cr_assert(WIFEXITED(st));
    return WEXITSTATUS(st);
}

Test(restrict, startup_errors_have_distinct_codes_and_messages)
{
    char err[4096];
    const char *usage[] = {"--no-such-option", NULL};
    cr_assert_eq(run_exit(usage, err, sizeof err), 2);
    cr_assert_neq(err[0], '\0');
    const char *extra[] = {"stray-argument", NULL};
    cr_assert_eq(run_exit(extra, err, sizeof err), 2);
    const char *quota[] = {"--quota", "lots", NULL};
    cr_assert_eq(run_exit(quota, err, sizeof err), 3);
    cr_assert_not_null(strstr(err, "--quota"), "%s", err);
    const char *perm[] = {"--permissions", "{\"data\": \"xyz\"}", NULL};
    cr_assert_eq(run_exit(perm, err, sizeof err), 3);
    cr_assert_not_null(strstr(err, "--permissions"), "%s", err);
    const char *lmem[] = {"--list-memory", "1000", NULL};
    cr_assert_eq(run_exit(lmem, err, sizeof err), 3);
    cr_assert_not_null(strstr(err, "--list-memory"), "%s", err);
    const char *umask_[] = {"--umask", "999", NULL};
    cr_assert_eq(run_exit(umask_, err, sizeof err), 3);
    const char *level[] = {"--log-level", "loud", NULL};
    cr_assert_eq(run_exit(level, err, sizeof err), 3);
    const char *backend[] = {"--backend", "nope://x", NULL};
    cr_assert_eq(run_exit(backend, err, sizeof err), 3);
    const char *rpath[] = {"--restrict-to-path", "/a/../b", NULL};
    cr_assert_eq(run_exit(rpath, err, sizeof err), 3);
    const char *logf[] = {"--log-file", "/nonexistent-dir/x.log", NULL};
    cr_assert_eq(run_exit(logf, err, sizeof err), 4);
    cr_assert_not_null(strstr(err, "--log-file"), "%s", err);
    const char *help[] = {"--help", NULL};
    srv s;
    srv_start(&s, help, dir, false);
    char out[8192];
    ssize_t n = 0, r;
    while ((r = read(s.from, out + n, sizeof out - 1 - (size_t)n)) > 0) n += r;
    out[n] = '\0';
    srv_stop(&s);
    const char *opts[] = {"--restrict-to-path", "--restrict-to-repository", "--permissions",
                          "--read-only", "--quota", "--umask", "--list-memory", "--log-level",
                          "--log-file",
                          "--backend", "--help", "--version", "Exit codes"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        cr_assert_not_null(strstr(out, opts[i]), "--help lists %s", opts[i]);
}

Test(restrict, log_file_receives_the_log)
{
    const char *args[] = {"--log-file", P("serve.log"), "--log-level", "info", NULL};
    srv s;
    started(&s, args);
    cr_assert_eq(srv_open(&s, "create", P("st")), 0);
    cr_assert_eq(srv_stop(&s), 0);
    char *log = bs_test_read_file(P("serve.log"), NULL);
    cr_assert_not_null(log);
    cr_assert_not_null(strstr(log, "created a store"), "%s", log);
    free(log);
}
