/* RFC 3339 text to ns since the epoch (rclone ModTime, S3 LastModified). */
#include <criterion/criterion.h>
#include <stdint.h>

#include "common/timestamp.h"

static int64_t ns(const char *s)
{
    int64_t v = 0;
    cr_assert(bs__rfc3339_to_ns(s, &v), "refused: %s", s);
    return v;
}

Test(timestamp, utc_with_and_without_fraction)
{
    cr_assert_eq(ns("1970-01-01T00:00:00Z"), 0);
    /* date -u -d 2024-12-04T17:37:28Z +%s = 1733333848 */
    cr_assert_eq(ns("2024-12-04T17:37:28Z"), 1733333848ll * 1000000000);
    cr_assert_eq(ns("2024-12-04T17:37:28.5Z"), 1733333848ll * 1000000000 + 500000000);
    cr_assert_eq(ns("2024-12-04T17:37:28.123456789Z"), 1733333848123456789ll);
    /* more than 9 digits: the rest is dropped, not rounded */
    cr_assert_eq(ns("2024-12-04T17:37:28.1234567899Z"), 1733333848123456789ll);
    cr_assert_eq(ns("2024-12-04t17:37:28z"), 1733333848ll * 1000000000);
}

Test(timestamp, offsets_are_applied)
{
    int64_t z = ns("2024-12-04T17:37:28Z");
    cr_assert_eq(ns("2024-12-04T18:37:28+01:00"), z);
    cr_assert_eq(ns("2024-12-04T12:07:28-05:30"), z);
    cr_assert_eq(ns("2024-12-04 17:37:28+00:00"), z);
}

Test(timestamp, calendar_edges)
{
    cr_assert_eq(ns("2000-02-29T00:00:00Z"), 951782400ll * 1000000000);
    cr_assert_eq(ns("1969-12-31T23:59:59Z"), -1000000000ll);
    int64_t v;
    cr_assert_not(bs__rfc3339_to_ns("2023-02-29T00:00:00Z", &v)); /* not a leap year */
    cr_assert_not(bs__rfc3339_to_ns("1900-02-29T00:00:00Z", &v));
    cr_assert(bs__rfc3339_to_ns("2262-04-11T23:47:16Z", &v));    /* last whole second that fits */
    cr_assert_not(bs__rfc3339_to_ns("2262-04-11T23:47:16.9Z", &v)); /* past int64 ns */
    cr_assert_not(bs__rfc3339_to_ns("2263-01-01T00:00:00Z", &v));
    cr_assert_not(bs__rfc3339_to_ns("1600-01-01T00:00:00Z", &v));
}

Test(timestamp, malformed_text_is_refused)
{
    static const char *bad[] = {
        "", "2024-12-04", "2024-12-04T17:37:28", "2024-12-04T17:37:28Zjunk",
        "2024-13-04T17:37:28Z", "2024-12-32T17:37:28Z", "2024-12-04T24:00:00Z",
        "2024-12-04T17:60:00Z", "2024-12-04T17:37:28.Z", "2024-12-04T17:37:28+0100",
        "24-12-04T17:37:28Z", "2024-12-04T17:37:28+24:00", "2024/12/04T17:37:28Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 42;
        cr_assert_not(bs__rfc3339_to_ns(bad[i], &v), "accepted: '%s'", bad[i]);
    }
}
