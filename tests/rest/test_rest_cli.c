/* The borgstore CLI on rest:/// (the stand-in for Python's REST server
 * spawned locally), and stores written through REST read by file:// and
 * the other way round. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "testutil.h"

static char *tmp;
static char rest_url[4200], file_url[4200];

static void setup(void)
{
    tmp = bs_test_tmpdir();
    snprintf(rest_url, sizeof rest_url, "rest://%s/store", tmp);
    snprintf(file_url, sizeof file_url, "file://%s/store", tmp);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s", getenv("BS_REST_PYTHON"),
             bs_test_source_path("tests/rest/standin_server.py"));
    setenv("BORGSTORE_REST_REMOTE_PATH", cmd, 1);
}

static void teardown(void)
{
    bs_test_rmtree(tmp);
    free(tmp);
}

TestSuite(rest_cli, .init = setup, .fini = teardown, .timeout = 120);

static void ok(run_result *r)
{
    cr_assert_eq(r->status, 0, "exit %d, stderr: %s", r->status, r->err);
}

Test(rest_cli, commands_work_and_file_reads_what_rest_wrote)
{
    run_result r;
    BS(&r, NULL, 0, rest_url, "create");
    ok(&r);
    run_free(&r);
    BS(&r, "hello rest", 10, rest_url, "put", "config/greeting");
    ok(&r);
    run_free(&r);
    BS(&r, NULL, 0, rest_url, "get", "config/greeting", "--offset", "-4");
    ok(&r);
    cr_assert_str_eq(r.out, "rest");
    run_free(&r);
    BS(&r, NULL, 0, rest_url, "ls", "config");
    ok(&r);
    cr_assert(strstr(r.out, "greeting"), "%s", r.out);
    run_free(&r);
    BS(&r, NULL, 0, file_url, "get", "config/greeting");
    ok(&r);
    cr_assert_str_eq(r.out, "hello rest");
    run_free(&r);
    /* and back: file:// writes, rest:// reads */
    BS(&r, "from file", 9, file_url, "put", "config/other");
    ok(&r);
    run_free(&r);
    BS(&r, NULL, 0, rest_url, "get", "config/other");
    ok(&r);
    cr_assert_str_eq(r.out, "from file");
    run_free(&r);
    BS(&r, NULL, 0, rest_url, "info", "config/missing");
    cr_assert_eq(r.status, 3); /* not found (borgstore(1), EXIT STATUS) */
    run_free(&r);
}

Test(rest_cli, missing_store_is_a_clear_error)
{
    run_result r;
    BS(&r, NULL, 0, rest_url, "get", "config/x");
    cr_assert_eq(r.status, 4, "%s", r.err); /* store does not exist */
    cr_assert(strstr(r.err, "does not exist"), "%s", r.err);
    run_free(&r);
}
