/* The REST front-end's HTTP head parser (server/rest/http.c): Python
 * borgstore's request bytes, partial input, every cap, and the query and
 * Range rules. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "borgstore/errors.h"
#include "server/rest/http.h"

static int parse(bs_http_req *r, const char *s, size_t *used)
{
    return bs__http_parse_head(r, (const uint8_t *)s, strlen(s), used);
}

Test(http, python_clients_store_request_is_parsed)
{
    const char *s = "POST /data/obj HTTP/1.1\r\nAccept: application/vnd.x.borgstore.rest.v1\r\n"
                    "Connection: keep-alive\r\nX-Content-hash-sha256: abc\r\n"
                    "Content-Length: 5\r\n\r\nhello";
    bs_http_req r;
    size_t used = 0;
    cr_assert_eq(parse(&r, s, &used), 1);
    cr_assert_eq(used, strlen(s) - 5);
    cr_assert_eq(r.method, BS_HTTP_POST);
    cr_assert_str_eq(r.target, "/data/obj");
    cr_assert_eq(r.path_len, 9);
    cr_assert_str_eq(r.query, "");
    cr_assert_str_eq(r.accept, "application/vnd.x.borgstore.rest.v1");
    cr_assert_str_eq(r.hash, "abc");
    cr_assert_eq(r.content_length, 5);
    cr_assert(!r.has_range);
}

Test(http, an_incomplete_head_asks_for_more)
{
    bs_http_req r;
    size_t used;
    cr_assert_eq(parse(&r, "GET /x HTTP/1.1\r\nAccept: a\r\n", &used), 0);
    cr_assert_eq(parse(&r, "GET /x HT", &used), 0);
}

Test(http, malformed_and_oversized_heads_are_refused)
{
    static char big[BS_HTTP_HEAD_MAX + 100];
    const char *bad[] = {
        "GARBAGE\r\n\r\n", "GET /x HTTP/1.1\n\n", "BREW /x HTTP/1.1\r\n\r\n",
        "GET x HTTP/1.1\r\n\r\n", "GET /x HTTP/2.0\r\n\r\n", "GET /x HTTP/1.1\r\nNo colon\r\n\r\n",
        "GET /x HTTP/1.1\r\n folded: x\r\n\r\n", "GET /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "GET /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
        "GET /x HTTP/1.1\r\nRange: a\r\nRange: b\r\n\r\n", "GET /a\x01 HTTP/1.1\r\n\r\n",
    };
    bs_http_req r;
    size_t used;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(parse(&r, bad[i], &used), BS_ERR_PROTOCOL, "%s", bad[i]);
    /* a request line over the cap, without its end yet */
    memset(big, 'a', sizeof big - 1);
    memcpy(big, "GET /", 5);
    cr_assert_eq(parse(&r, big, &used), BS_ERR_PROTOCOL);
    /* too many header lines */
    char *many = malloc(BS_HTTP_HEAD_MAX);
    strcpy(many, "GET /x HTTP/1.1\r\n");
    for (int i = 0; i < BS_HTTP_HEADERS_MAX + 1; i++) strcat(many, "X: y\r\n");
    strcat(many, "\r\n");
    cr_assert_eq(parse(&r, many, &used), BS_ERR_PROTOCOL);
    free(many);
}

Test(http, query_values_are_percent_decoded)
{
    char v[64];
    const char *q = "cmd=move&current=data%2Fa&new=data%2Fb&x=a+b";
    cr_assert_eq(bs__http_query_get(q, "cmd", v, sizeof v), 1);
    cr_assert_str_eq(v, "move");
    cr_assert_eq(bs__http_query_get(q, "new", v, sizeof v), 1);
    cr_assert_str_eq(v, "data/b");
    cr_assert_eq(bs__http_query_get(q, "x", v, sizeof v), 1);
    cr_assert_str_eq(v, "a b");
    cr_assert_eq(bs__http_query_get(q, "missing", v, sizeof v), 0);
    cr_assert_eq(bs__http_query_get("a=%2", "a", v, sizeof v), BS_ERR_INVALID);
    cr_assert_eq(bs__http_query_get("a=%00", "a", v, sizeof v), BS_ERR_INVALID);
    cr_assert_eq(bs__http_query_get("a=toolong", "a", v, 4), BS_ERR_INVALID);
}

Test(http, range_forms_follow_python_borgstore)
{
    static const struct {
        const char *v;
        int64_t off, size;
    } cases[] = {
        {"bytes=2-4", 2, 3},   {"bytes=10-", 10, -1}, {"bytes=-1024", -1024, -1},
        {"bytes=5-1", 0, -1},  {"nonsense", 0, -1},   {"bytes=1-2,4-5", 0, -1},
        {"bytes=-", 0, -1},    {"bytes=x-3", 0, -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t off, size;
        bs__http_range(cases[i].v, &off, &size);
        cr_assert_eq(off, cases[i].off, "%s", cases[i].v);
        cr_assert_eq(size, cases[i].size, "%s", cases[i].v);
    }
}
