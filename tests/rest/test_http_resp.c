/* The REST client's HTTP response head parser: well-formed heads in any
 * chunking, and every bound on what an untrusted server may send. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "borgstore/errors.h"
#include "client/rest/http_resp.h"

static int feed_all(bs__http_resp *r, const char *s, size_t len, size_t *used)
{
    bs__http_resp_init(r);
    return bs__http_resp_head(r, s, len, used);
}

Test(http_resp, python_error_response)
{
    const char *s = "HTTP/1.1 404 data/missing\r\nServer: BaseHTTP/0.6 Python/3.11\r\n"
                    "Connection: close\r\nContent-Type: text/html;charset=utf-8\r\n"
                    "Content-Length: 12\r\n\r\n<html></html>";
    bs__http_resp r;
    size_t used;
    cr_assert_eq(feed_all(&r, s, strlen(s), &used), 1);
    cr_assert_eq(r.status, 404);
    cr_assert_str_eq(r.reason, "data/missing");
    cr_assert(r.has_length);
    cr_assert_eq(r.content_length, 12);
    cr_assert_str_eq(s + used, "<html></html>");
}

Test(http_resp, head_info_headers_byte_by_byte)
{
    const char *s = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nX-BorgStore-Is-Directory: true\r\n"
                    "X-BorgStore-Atime: 1765000000.25\r\nx-borgstore-mtime: 12\r\n\r\n";
    bs__http_resp r;
    bs__http_resp_init(&r);
    int rc = 0;
    size_t i = 0, used;
    for (; i < strlen(s) && rc == 0; i++) rc = bs__http_resp_head(&r, s + i, 1, &used);
    cr_assert_eq(rc, 1);
    cr_assert_eq(i, strlen(s));
    cr_assert_eq(r.is_dir, 1);
    cr_assert_eq(r.atime_ns, INT64_C(1765000000250000000));
    cr_assert_eq(r.mtime_ns, INT64_C(12000000000));
}

Test(http_resp, bare_lf_and_no_reason)
{
    const char *s = "HTTP/1.0 206\nContent-Length: 0\n\n";
    bs__http_resp r;
    size_t used;
    cr_assert_eq(feed_all(&r, s, strlen(s), &used), 1);
    cr_assert_eq(r.status, 206);
    cr_assert_str_eq(r.reason, "");
}

static void refused(const char *s, size_t len, const char *why)
{
    bs__http_resp r;
    size_t used;
    int rc = feed_all(&r, s, len, &used);
    cr_assert_eq(rc, BS_ERR_PROTOCOL, "%s: %d", why, rc);
    cr_assert(strstr(bs_error_message(), why), "%s not in: %s", why, bs_error_message());
}

Test(http_resp, malformed_heads_are_refused)
{
    const char *cases[][2] = {
        {"SSH-2.0-OpenSSH\r\n", "no HTTP/1.x status line"},
        {"HTTP/2 200 OK\r\n", "no HTTP/1.x status line"},
        {"HTTP/1.1 2x0 OK\r\n", "malformed status code"},
        {"HTTP/1.1 099 OK\r\n", "malformed status code"},
        {"HTTP/1.1 2000 OK\r\n", "malformed status code"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n", "malformed Content-Length"},
        {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n", "malformed Content-Length"},
        {"HTTP/1.1 200 OK\r\nContent-Length:\r\n", "malformed Content-Length"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n", "out of range"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n", "two different"},
        {"HTTP/1.1 200 OK\r\nNo colon here\r\n", "malformed header line"},
        {"HTTP/1.1 200 OK\r\n: empty name\r\n", "malformed header line"},
        {"HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n", "folded header line"},
        {"HTTP/1.1 200 OK\r\nX-BorgStore-Mtime: nan\r\n", "X-BorgStore-Mtime"},
        {"HTTP/1.1 200 OK\r\nX-BorgStore-Atime: 0x10\r\n", "X-BorgStore-Atime"},
        {"HTTP/1.1 200 OK\r\nX-BorgStore-Atime: 1e300\r\n", "X-BorgStore-Atime"},
        {"HTTP/1.1 200 OK\r\nX-BorgStore-Is-Directory: yes\r\n", "Is-Directory"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        refused(cases[i][0], strlen(cases[i][0]), cases[i][1]);
}

Test(http_resp, size_limits)
{
    size_t n = BS_HTTP_LINE_MAX + 10;
    char *s = malloc(n);
    memset(s, 'x', n);
    memcpy(s, "HTTP/1.1 200 ", 13);
    refused(s, n, "header line over");
    /* many short header lines */
    char *m = malloc(64 * 1024);
    size_t o = (size_t)sprintf(m, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i <= BS_HTTP_HEADERS_MAX; i++) o += (size_t)sprintf(m + o, "X-A: b\r\n");
    refused(m, o, "more than");
    /* a head over the total bound made of lines each within the line bound */
    char *big = malloc(BS_HTTP_HEAD_MAX + 8192);
    o = (size_t)sprintf(big, "HTTP/1.1 200 OK\r\n");
    while (o < BS_HTTP_HEAD_MAX + 100) {
        memset(big + o, 'v', 7000);
        memcpy(big + o, "X-B: ", 5);
        memcpy(big + o + 6998, "\r\n", 2);
        o += 7000;
    }
    refused(big, o, "response head over");
    free(s);
    free(m);
    free(big);
}

Test(http_resp, seconds)
{
    int64_t ns;
    cr_assert(bs__http_parse_seconds("1765000000.5", &ns));
    cr_assert_eq(ns, INT64_C(1765000000500000000));
    cr_assert(bs__http_parse_seconds("1.5e9", &ns));
    cr_assert_eq(ns, INT64_C(1500000000000000000));
    cr_assert(bs__http_parse_seconds("0", &ns));
    cr_assert_eq(ns, 0);
    cr_assert(bs__http_parse_seconds("-1.25", &ns));
    cr_assert_eq(ns, INT64_C(-1250000000));
    cr_assert_not(bs__http_parse_seconds("", &ns));
    cr_assert_not(bs__http_parse_seconds("inf", &ns));
    cr_assert_not(bs__http_parse_seconds("1.5 ", &ns));
    cr_assert_not(bs__http_parse_seconds("9e9", &ns));
    /* the header and the list JSON (a double) agree */
    int64_t a, b;
    cr_assert(bs__http_parse_seconds("1796614728.0609915", &a));
    cr_assert(bs__seconds_to_ns(1796614728.0609915, &b));
    cr_assert_eq(a, b);
}
