/* What the operator's --permissions and --quota are anchored at: permission
 * maps at the store directly below the restriction root (so opening a
 * sub-directory as the store, or spelling a name with "." components, gains
 * nothing), and the quota at the restriction root (one account for every
 * store and sub-directory below it). */
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

TestSuite(anchor, .init = setup, .fini = teardown, .timeout = 60);

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

static int closed(srv *s)
{
    bs__req r = {.method = BS_M_CLOSE};
    bs__result res;
    return srv_call(s, &r, &res);
}

static void make_store(const char *path)
{
    srv s;
    started(&s, NULL);
    cr_assert_eq(srv_open(&s, "create", path), 0, "%s", srv_last_error);
    cr_assert_eq(srv_open(&s, "open", path), 0);
    cr_assert_eq(srv_store(&s, "protected/x", "keep", 4), 0);
    cr_assert_eq(srv_store(&s, "protected/y", "keep", 4), 0);
    cr_assert_eq(srv_stop(&s), 0);
}

static const char *map = "{\"\": \"lrwWD\", \"protected\": \"lr\"}";

Test(anchor, dot_components_do_not_pass_a_permission_entry)
{
    mkdir(P("r"), 0700);
    make_store(P("r/repo"));
    const char *args[] = {"--restrict-to-path", P("r"), "--permissions", map, NULL};
    srv s;
    started(&s, args);
    cr_assert_eq(srv_open(&s, "open", P("r/repo")), 0, "%s", srv_last_error);
    cr_assert_eq(srv_simple(&s, BS_M_DELETE, "./protected/x"), BS_ERR_INVALID);
    cr_assert_eq(srv_simple(&s, BS_M_DELETE, "protected/./x"), BS_ERR_INVALID);
    cr_assert_eq(srv_store(&s, "./protected/y", "gone", 4), BS_ERR_INVALID);
    cr_assert_eq(srv_simple(&s, BS_M_DELETE, "protected/x"), BS_ERR_PERMISSION);
    cr_assert_eq(srv_store(&s, "protected/y", "gone", 4), BS_ERR_PERMISSION);
    cr_assert_eq(srv_store(&s, "data/new", "n", 1), 0, "%s", srv_last_error);
    cr_assert_eq(srv_stop(&s), 0);
    cr_assert_eq(access(P("r/repo/protected/x"), F_OK), 0);
}

Test(anchor, a_sub_directory_opened_as_the_store_keeps_its_permissions)
{
    mkdir(P("r"), 0700);
    make_store(P("r/repo"));
    const char *args[] = {"--restrict-to-path", P("r"), "--permissions", map, NULL};
    srv s;
    started(&s, args);
    cr_assert_eq(srv_open(&s, "open", P("r/repo/protected")), 0, "%s", srv_last_error);
    cr_assert_eq(srv_simple(&s, BS_M_DELETE, "x"), BS_ERR_PERMISSION);
    cr_assert_eq(srv_store(&s, "y", "gone", 4), BS_ERR_PERMISSION);
    bs__req r = {.method = BS_M_MOVE, .name = "x", .dst = "z"};
    bs__result res;
    cr_assert_eq(srv_call(&s, &r, &res), BS_ERR_PERMISSION);
    cr_assert_eq(closed(&s), 0);
    cr_assert_eq(srv_open(&s, "destroy", P("r/repo/protected")), BS_ERR_PERMISSION);
    /* the root itself would hold stores under names no entry covers */
    cr_assert_eq(srv_open(&s, "open", P("r")), BS_ERR_PERMISSION);
    cr_assert_eq(srv_open(&s, "destroy", P("r")), BS_ERR_PERMISSION);
    cr_assert_eq(srv_stop(&s), 0);
    cr_assert_eq(access(P("r/repo/protected/x"), F_OK), 0);
    char *v = bs_test_read_file(P("r/repo/protected/y"), NULL);
    cr_assert_str_eq(v, "keep");
    free(v);
}

static int run_exit(const char *const *args)
{
    srv s;
    srv_start(&s, args, dir, false);
    int st = srv_wait(&s, 5000);
    close(s.to);
    close(s.from);
    close(s.err);
    bs__inbuf_free(&s.in);
    cr_assert(WIFEXITED(st));
    return WEXITSTATUS(st);
}

Test(anchor, a_permission_map_needs_a_restriction)
{
    const char *none[] = {"--permissions", map, NULL};
    cr_assert_eq(run_exit(none), 3, "the client would pick the anchor");
    const char *empty[] = {"--permissions", "{}", "--version", NULL};
    cr_assert_eq(run_exit(empty), 0, "an empty map restricts nothing");
}

Test(anchor, one_quota_account_for_everything_below_a_restriction_root)
{
    mkdir(P("r"), 0700);
    const char *args[] = {"--restrict-to-path", P("r"), "--quota", "100000", NULL};
    srv s;
    started(&s, args);
    static uint8_t buf[45000];
    bs_test_fill(buf, sizeof buf, 1);
    cr_assert_eq(srv_open(&s, "create", P("r/a")), 0, "%s", srv_last_error);
    cr_assert_eq(srv_open(&s, "create", P("r/b")), 0);
    cr_assert_eq(srv_open(&s, "open", P("r/a")), 0, "%s", srv_last_error);
    cr_assert_eq(srv_store(&s, "data/1", buf, sizeof buf), 0, "%s", srv_last_error);
    cr_assert_eq(closed(&s), 0);
    cr_assert_eq(srv_open(&s, "open", P("r/b")), 0);
    cr_assert_eq(srv_store(&s, "data/1", buf, sizeof buf), BS_ERR_QUOTA, "a second store");
    bs__req r = {.method = BS_M_QUOTA};
    bs__result res;
    cr_assert_eq(srv_call(&s, &r, &res), 0);
    cr_assert_eq(res.quota.usage, 45000 + 3 * 4096, "the value, a, b and a/data");
    cr_assert_eq(res.quota.limit, 100000);
    cr_assert_eq(closed(&s), 0);
    cr_assert_eq(srv_open(&s, "open", P("r/a/data")), 0, "a sub-directory as the store");
    cr_assert_eq(srv_store(&s, "2", buf, sizeof buf), BS_ERR_QUOTA);
    cr_assert_eq(closed(&s), 0);
    cr_assert_eq(srv_open(&s, "create", P("r/new/deeper")), 0);
    cr_assert_eq(srv_open(&s, "open", P("r/new/deeper")), 0);
    cr_assert_eq(srv_store_chunked(&s, "x", buf, sizeof buf, 1000), BS_ERR_QUOTA);
    cr_assert_eq(closed(&s), 0);
    /* freeing space in one store makes room in another */
    cr_assert_eq(srv_open(&s, "open", P("r/a")), 0);
    cr_assert_eq(srv_simple(&s, BS_M_DELETE, "data/1"), 0);
    cr_assert_eq(closed(&s), 0);
    cr_assert_eq(srv_open(&s, "open", P("r/b")), 0);
    cr_assert_eq(srv_store(&s, "data/1", buf, sizeof buf), 0, "%s", srv_last_error);
    cr_assert_eq(closed(&s), 0);
    /* destroying a store gives its bytes back (the account is rescanned) */
    cr_assert_eq(srv_open(&s, "destroy", P("r/b")), 0, "%s", srv_last_error);
    cr_assert_eq(srv_open(&s, "open", P("r/a")), 0);
    cr_assert_eq(srv_store(&s, "data/3", buf, sizeof buf), 0, "%s", srv_last_error);
    cr_assert_eq(srv_stop(&s), 0);
    cr_assert_eq(access(P("r/quota.serve.hid"), F_OK), 0, "the account is kept at the root");
}
