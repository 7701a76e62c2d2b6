/* The ssh config reader of common/ssh_session.c (used for what
 * libssh 0.10 cannot report, StrictHostKeyChecking): Host and Match blocks,
 * first value wins, Include, syntax variants. No sshd needed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "borgstore/errors.h"
#include "common/ssh_session.h"
#include "testutil.h"

static char *dir;

static void setup(void) { dir = bs_test_tmpdir(); }
static void teardown(void)
{
    bs_test_rmtree(dir);
    free(dir);
}

TestSuite(ssh_config, .init = setup, .fini = teardown);

static char *write_cfg(const char *name, const char *text)
{
    char *path = NULL;
    cr_assert(asprintf(&path, "%s/%s", dir, name) > 0);
    cr_assert_eq(bs_test_write_file(path, text, strlen(text)), 0);
    return path;
}

static const char *get(const char *cfg, const char *host, const char *kw)
{
    static char out[256];
    int rc = bs__ssh_config_get(cfg, host, kw, out, sizeof out);
    cr_assert(rc == 0 || rc == 1, "rc %d: %s", rc, bs_error_message());
    return rc == 1 ? out : NULL;
}

Test(ssh_config, first_matching_value_wins)
{
    char *cfg = write_cfg("c", "Host alpha\n  StrictHostKeyChecking accept-new\n"
                               "Host *\n  StrictHostKeyChecking yes\n"
                               "Host alpha\n  StrictHostKeyChecking no\n");
    cr_assert_str_eq(get(cfg, "alpha", "StrictHostKeyChecking"), "accept-new");
    cr_assert_str_eq(get(cfg, "beta", "StrictHostKeyChecking"), "yes");
    free(cfg);
}

Test(ssh_config, lines_before_any_host_apply_to_all)
{
    char *cfg = write_cfg("c", "StrictHostKeyChecking no\nHost alpha\n  Port 2\n");
    cr_assert_str_eq(get(cfg, "anything", "StrictHostKeyChecking"), "no");
    cr_assert_null(get(cfg, "beta", "Port"));
    cr_assert_str_eq(get(cfg, "alpha", "Port"), "2");
    free(cfg);
}

Test(ssh_config, patterns_negation_and_case)
{
    char *cfg = write_cfg("c", "Host *.example.org !secret.example.org\n"
                               "  StrictHostKeyChecking accept-new\n"
                               "Host b?x\n  StrictHostKeyChecking no\n");
    cr_assert_str_eq(get(cfg, "www.EXAMPLE.org", "StrictHostKeyChecking"), "accept-new");
    cr_assert_null(get(cfg, "secret.example.org", "StrictHostKeyChecking"));
    cr_assert_null(get(cfg, "example.org", "StrictHostKeyChecking"));
    cr_assert_str_eq(get(cfg, "box", "stricthostkeychecking"), "no");
    cr_assert_null(get(cfg, "boxx", "StrictHostKeyChecking"));
    free(cfg);
}

Test(ssh_config, equals_sign_quotes_comments_and_blank_lines)
{
    char *cfg = write_cfg("c", "# comment\n\n   Host   q\r\n"
                               "\tStrictHostKeyChecking=accept-new\n"
                               "Host w\n  UserKnownHostsFile = \"/a b/known\"\n");
    cr_assert_str_eq(get(cfg, "q", "StrictHostKeyChecking"), "accept-new");
    cr_assert_str_eq(get(cfg, "w", "UserKnownHostsFile"), "/a b/known");
    free(cfg);
}

Test(ssh_config, match_all_and_match_host)
{
    char *cfg = write_cfg("c", "Match host gamma,delta\n  Port 7\n"
                               "Match exec \"true\"\n  Port 8\n"
                               "Match all\n  Port 9\n");
    cr_assert_str_eq(get(cfg, "delta", "Port"), "7");
    cr_assert_str_eq(get(cfg, "other", "Port"), "9");
    free(cfg);
}

Test(ssh_config, include_is_followed_inside_matching_blocks_only)
{
    char *inc = write_cfg("inc.conf", "StrictHostKeyChecking accept-new\n");
    char *skip = write_cfg("skip.conf", "StrictHostKeyChecking no\n");
    char *text = NULL;
    cr_assert(asprintf(&text, "Host skipped\n  Include %s/skip.conf\n"
                              "Host inc\n  Include %s/inc*.conf\n"
                              "Host *\n  StrictHostKeyChecking yes\n", dir, dir) > 0);
    char *cfg = write_cfg("c", text);
    cr_assert_str_eq(get(cfg, "inc", "StrictHostKeyChecking"), "accept-new");
    cr_assert_str_eq(get(cfg, "other", "StrictHostKeyChecking"), "yes");
    free(text);
    free(skip);
    free(inc);
    free(cfg);
}

Test(ssh_config, environment_names_the_file_when_no_argument)
{
    char *cfg = write_cfg("c", "Host envhost\n  Port 31\n");
    setenv("BORGSTORE_SSH_CONFIG", cfg, 1);
    cr_assert_str_eq(get(NULL, "envhost", "Port"), "31");
    unsetenv("BORGSTORE_SSH_CONFIG");
    free(cfg);
}

Test(ssh_config, unreadable_file_is_invalid)
{
    char out[16];
    cr_assert_eq(bs__ssh_config_get("/nonexistent/cfg", "h", "Port", out, sizeof out),
                 BS_ERR_INVALID);
    cr_assert(strstr(bs_error_message(), "/nonexistent/cfg"), "%s", bs_error_message());
}
