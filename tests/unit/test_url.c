/* Backend URL parsing for every scheme, and what is refused. */
#include <criterion/criterion.h>

#include "borgstore/errors.h"
#include "common/url.h"

Test(url, file_absolute_path_is_percent_decoded)
{
    bs_url u;
    cr_assert_eq(bs__url_parse(&u, "file:///srv/my%20store"), 0);
    cr_assert_str_eq(u.scheme, "file");
    cr_assert_str_eq(u.path, "/srv/my store");
    cr_assert_null(u.host);
    bs__url_clear(&u);
}

Test(url, file_needs_three_slashes)
{
    bs_url u;
    cr_assert_eq(bs__url_parse(&u, "file://relative/x"), BS_ERR_URL_INVALID);
    cr_assert_eq(bs__url_parse(&u, "file:/x"), BS_ERR_URL_INVALID);
}

Test(url, serve_is_local_like_file)
{
    bs_url u;
    cr_assert_eq(bs__url_parse(&u, "serve:///tmp/s"), 0);
    cr_assert_str_eq(u.scheme, "serve");
    cr_assert_str_eq(u.path, "/tmp/s");
    bs__url_clear(&u);
}

Test(url, ssh_relative_and_absolute)
{
    bs_url u;
    cr_assert_eq(bs__url_parse(&u, "ssh://alice@example.org:2222/repos/one"), 0);
    cr_assert_str_eq(u.user, "alice");
    cr_assert_str_eq(u.host, "example.org");
    cr_assert_eq(u.port, 2222);
    cr_assert_str_eq(u.path, "repos/one");
    bs__url_clear(&u);
    cr_assert_eq(bs__url_parse(&u, "ssh://host//srv/abs"), 0);
    cr_assert_null(u.user);
    cr_assert_eq(u.port, 0);
    cr_assert_str_eq(u.path, "/srv/abs");
    bs__url_clear(&u);
}

Test(url, ipv6_host_in_brackets)
{
    bs_url u;
    cr_assert_eq(bs__url_parse(&u, "sftp://[::1]:22/x"), 0);
    cr_assert_str_eq(u.host, "::1");
    cr_assert_eq(u.port, 22);
    bs__url_clear(&u);
}

Test(url, rclone_keeps_the_rest_verbatim)
{
    bs_url u;
    cr_assert_eq(bs__url_parse(&u, "rclone:remote:path/with%20x"), 0);
    cr_assert_str_eq(u.rest, "remote:path/with%20x");
    bs__url_clear(&u);
    cr_assert_eq(bs__url_parse(&u, "rclone:/tmp/local"), 0, "a local path, as rclone takes it");
    cr_assert_str_eq(u.rest, "/tmp/local");
    bs__url_clear(&u);
    cr_assert_eq(bs__url_parse(&u, "rclone:"), BS_ERR_URL_INVALID);
}

Test(url, malformed_inputs_are_refused)
{
    static const char *bad[] = {
        "", "nothing", "://x", "unknown:///x", "file:///a%zz", "file:///a%0", "file:///a%00b",
        "ssh://", "ssh://host", "ssh://host/", "ssh://@host/x", "ssh://host:/x",
        "ssh://host:0/x", "ssh://host:65536/x", "ssh://host:12a/x", "ssh://[::1/x",
        "ssh://:22/x", "averyveryverylongscheme:///x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bs_url u;
        cr_assert_eq(bs__url_parse(&u, bad[i]), BS_ERR_URL_INVALID, "%s", bad[i]);
        cr_assert_null(u.path);
    }
    bs_url u;
    cr_assert_eq(bs__url_parse(&u, NULL), BS_ERR_URL_INVALID);
}

Test(url, s3_secrets_are_redacted_for_display)
{
    char out[256];
    bs__url_redacted(out, sizeof out, "s3:AKID:se/cr%40et@http://h:9000/bkt/p");
    cr_assert_str_eq(out, "s3:AKID:***@http://h:9000/bkt/p");
    bs__url_redacted(out, sizeof out, "b2:K:S@/bkt/p");
    cr_assert_str_eq(out, "b2:K:***@/bkt/p");
    /* a profile, no credentials, other schemes: unchanged */
    const char *same[] = {"s3:work@/bkt/p", "s3:https://h/bkt/p@th", "file:///x:y@z",
                          "ssh://u@h/p"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        bs__url_redacted(out, sizeof out, same[i]);
        cr_assert_str_eq(out, same[i]);
    }
}
