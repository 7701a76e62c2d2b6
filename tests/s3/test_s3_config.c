/* s3:/b2: URLs as Python borgstore parses them, credentials and region from
 * the environment and the AWS files, and secrets kept out of messages. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

#include "backends/s3/s3_config.h"
#include "borgstore/backend.h"
#include "borgstore/errors.h"
#include "testutil.h"

static char *home;

static void clean_env(void)
{
    const char *vars[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                          "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
                          "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
    home = bs_test_tmpdir();
    setenv("HOME", home, 1);
}

static void fini(void)
{
    bs_test_rmtree(home);
    free(home);
}

static void aws_file(const char *leaf, const char *text)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/.aws", home);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/.aws/%s", home, leaf);
    cr_assert_eq(bs_test_write_file(p, text, strlen(text)), 0);
}

TestSuite(s3_config, .init = clean_env, .fini = fini);

Test(s3_config, full_url)
{
    bs_s3_config c;
    cr_assert_eq(bs__s3_config_parse(&c, "s3:AKID:se%2Fcr%40et@http://127.0.0.1:9000/bkt/a/b%20c/"), 0);
    cr_expect_not(c.b2);
    cr_expect_null(c.profile);
    cr_expect_str_eq(c.key_id, "AKID");
    cr_expect_str_eq(c.secret, "se/cr@et");
    cr_expect_str_eq(c.endpoint, "http://127.0.0.1:9000");
    cr_expect_str_eq(c.bucket, "bkt");
    cr_expect_str_eq(c.path, "a/b c");
    bs__s3_config_clear(&c);
}

Test(s3_config, profile_no_endpoint_b2)
{
    bs_s3_config c;
    cr_assert_eq(bs__s3_config_parse(&c, "b2:work@/bkt/repo"), 0);
    cr_expect(c.b2);
    cr_expect_str_eq(c.profile, "work");
    cr_expect_null(c.key_id);
    cr_expect_null(c.endpoint);
    cr_expect_str_eq(c.bucket, "bkt");
    cr_expect_str_eq(c.path, "repo");
    bs__s3_config_clear(&c);
    /* An '@' that cannot start the location belongs to the path. */
    cr_assert_eq(bs__s3_config_parse(&c, "s3:https://host/bkt/p@th"), 0);
    cr_expect_null(c.profile);
    cr_expect_str_eq(c.endpoint, "https://host");
    cr_expect_str_eq(c.path, "p@th");
    bs__s3_config_clear(&c);
}

Test(s3_config, malformed)
{
    const char *bad[] = {"s3:", "s3:/bkt", "s3:/bkt/", "s3://bkt/p", "s3:http://h:x/b/p",
                         "s3:http:///b/p", "s3:bkt/p", "s4:/b/p", "s3:http://h:9000/b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bs_s3_config c;
        cr_expect_eq(bs__s3_config_parse(&c, bad[i]), BS_ERR_URL_INVALID, "%s", bad[i]);
    }
}

Test(s3_config, secret_never_in_messages)
{
    bs_s3_config c;
    /* A malformed URL with a secret in it. */
    cr_assert_eq(bs__s3_config_parse(&c, "s3:AKID:TopSecret123@http://h:1/bkt"), BS_ERR_URL_INVALID);
    cr_expect_null(strstr(bs_error_message(), "TopSecret123"), "%s", bs_error_message());
    cr_expect_null(strstr(bs_error_message(), "AKID"), "%s", bs_error_message());
    bs_backend *b = NULL;
    cr_assert_eq(bs_backend_new(&b, "s3:AKID:TopSecret123@http://h:1/bkt", NULL),
                 BS_ERR_URL_INVALID);
    cr_expect_null(strstr(bs_error_message(), "TopSecret123"), "%s", bs_error_message());
}

Test(s3_config, env_credentials_and_region)
{
    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);
    setenv("AWS_SESSION_TOKEN", "TOK", 1);
    setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
    bs_s3_config c;
    cr_assert_eq(bs__s3_config_parse(&c, "s3:/bkt/p"), 0);
    cr_assert_eq(bs__s3_config_resolve(&c), 0, "%s", bs_error_message());
    cr_expect_str_eq(c.key_id, "ENVKEY");
    cr_expect_str_eq(c.secret, "ENVSECRET");
    cr_expect_str_eq(c.token, "TOK");
    cr_expect_str_eq(c.region, "eu-west-1");
    bs__s3_config_clear(&c);
    /* URL credentials win over the environment; AWS_REGION over the default. */
    setenv("AWS_REGION", "ap-south-1", 1);
    cr_assert_eq(bs__s3_config_parse(&c, "s3:K:S@/bkt/p"), 0);
    cr_assert_eq(bs__s3_config_resolve(&c), 0);
    cr_expect_str_eq(c.key_id, "K");
    cr_expect_null(c.token);
    cr_expect_str_eq(c.region, "ap-south-1");
    bs__s3_config_clear(&c);
}

Test(s3_config, profiles_from_files)
{
    aws_file("credentials", "[default]\naws_access_key_id = DEFKEY\n"
                            "aws_secret_access_key = DEFSECRET\n\n"
                            "[work]\n# comment\naws_access_key_id=WORKKEY\r\n"
                            "aws_secret_access_key=WORKSECRET\r\n[half]\naws_access_key_id=X\n");
    aws_file("config", "[default]\nregion = us-west-2\n[profile work]\nregion=eu-central-1\n");
    bs_s3_config c;
    cr_assert_eq(bs__s3_config_parse(&c, "s3:/bkt/p"), 0);
    cr_assert_eq(bs__s3_config_resolve(&c), 0, "%s", bs_error_message());
    cr_expect_str_eq(c.key_id, "DEFKEY");
    cr_expect_str_eq(c.secret, "DEFSECRET");
    cr_expect_str_eq(c.region, "us-west-2");
    bs__s3_config_clear(&c);

    cr_assert_eq(bs__s3_config_parse(&c, "s3:work@/bkt/p"), 0);
    cr_assert_eq(bs__s3_config_resolve(&c), 0, "%s", bs_error_message());
    cr_expect_str_eq(c.key_id, "WORKKEY");
    cr_expect_str_eq(c.secret, "WORKSECRET");
    cr_expect_str_eq(c.region, "eu-central-1");
    bs__s3_config_clear(&c);

    setenv("AWS_PROFILE", "work", 1);
    cr_assert_eq(bs__s3_config_parse(&c, "s3:/bkt/p"), 0);
    cr_assert_eq(bs__s3_config_resolve(&c), 0);
    cr_expect_str_eq(c.key_id, "WORKKEY");
    bs__s3_config_clear(&c);

    /* A profile without both keys, and a missing one: clear errors that
     * never show what was found. */
    cr_assert_eq(bs__s3_config_parse(&c, "s3:half@/bkt/p"), 0);
    cr_expect_eq(bs__s3_config_resolve(&c), BS_ERR_INVALID);
    cr_expect(strstr(bs_error_message(), "half") != NULL, "%s", bs_error_message());
    bs__s3_config_clear(&c);
    cr_assert_eq(bs__s3_config_parse(&c, "s3:nope@/bkt/p"), 0);
    cr_expect_eq(bs__s3_config_resolve(&c), BS_ERR_INVALID);
    cr_expect_null(strstr(bs_error_message(), "SECRET"), "%s", bs_error_message());
    bs__s3_config_clear(&c);
}

Test(s3_config, no_credentials_and_endpoint_region)
{
    bs_s3_config c;
    cr_assert_eq(bs__s3_config_parse(&c, "s3:/bkt/p"), 0);
    cr_expect_eq(bs__s3_config_resolve(&c), BS_ERR_INVALID);
    cr_expect(strstr(bs_error_message(), "AWS_ACCESS_KEY_ID") != NULL, "%s", bs_error_message());
    bs__s3_config_clear(&c);
    cr_assert_eq(bs__s3_config_parse(&c, "b2:k:s@https://s3.us-west-004.backblazeb2.com/bkt/p"), 0);
    cr_assert_eq(bs__s3_config_resolve(&c), 0);
    cr_expect_str_eq(c.region, "us-west-004");
    bs__s3_config_clear(&c);
    cr_assert_eq(bs__s3_config_parse(&c, "s3:k:s@http://127.0.0.1:9/bkt/p"), 0);
    cr_assert_eq(bs__s3_config_resolve(&c), 0);
    cr_expect_str_eq(c.region, "us-east-1");
    bs__s3_config_clear(&c);
}
