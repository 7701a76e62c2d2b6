/* The JSON reader used for rclone's replies: values, escapes, limits and
 * malformed input. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/rclone_json.h"
#include "borgstore/errors.h"

static bs_json *parse(const char *text)
{
    bs_json *d = NULL;
    int rc = bs__json_parse(&d, text, strlen(text), "test");
    cr_assert_eq(rc, 0, "%s: %s", text, bs_error_message());
    return d;
}

Test(rclone_json, a_list_reply_reads_back)
{
    bs_json *d = parse("{\"list\":[{\"Path\":\"a\",\"Name\":\"a\",\"Size\":12,\"IsDir\":false},"
                       " {\"Name\":\"d\",\"Size\":-1,\"IsDir\":true,\"ModTime\":\"\"}]}");
    bs_json_ref list = bs__json_get(d, bs__json_root(d), "list");
    cr_assert_eq(bs__json_type(d, list), BS_JSON_ARRAY);
    bs_json_ref e = bs__json_first(d, list);
    cr_assert_str_eq(bs__json_str(d, bs__json_get(d, e, "Name"), NULL), "a");
    int64_t size;
    bool dir = true;
    cr_assert(bs__json_int(d, bs__json_get(d, e, "Size"), &size));
    cr_assert_eq(size, 12);
    cr_assert(bs__json_bool(d, bs__json_get(d, e, "IsDir"), &dir));
    cr_assert_not(dir);
    e = bs__json_next(d, e);
    cr_assert(bs__json_int(d, bs__json_get(d, e, "Size"), &size));
    cr_assert_eq(size, -1);
    cr_assert(bs__json_bool(d, bs__json_get(d, e, "IsDir"), &dir) && dir);
    cr_assert_eq(bs__json_next(d, e), 0);
    bs__json_free(d);
}

Test(rclone_json, null_item_and_missing_keys)
{
    bs_json *d = parse("{\"item\": null}");
    bs_json_ref item = bs__json_get(d, bs__json_root(d), "item");
    cr_assert_eq(bs__json_type(d, item), BS_JSON_NULL);
    cr_assert_eq(bs__json_get(d, item, "Name"), 0);
    cr_assert_eq(bs__json_get(d, bs__json_root(d), "nope"), 0);
    cr_assert_eq(bs__json_type(d, 0), BS_JSON_NONE);
    cr_assert_null(bs__json_str(d, item, NULL));
    int64_t i;
    cr_assert_not(bs__json_int(d, item, &i));
    bs__json_free(d);
}

Test(rclone_json, escapes_decode_to_utf8)
{
    bs_json *d = parse("[\"a\\\"b\\\\c\\/\\n\\t\", \"\\u00e9\\u20ac\\ud83d\\ude00\"]");
    bs_json_ref e = bs__json_first(d, bs__json_root(d));
    cr_assert_str_eq(bs__json_str(d, e, NULL), "a\"b\\c/\n\t");
    size_t len;
    cr_assert_str_eq(bs__json_str(d, bs__json_next(d, e), &len),
                     "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    cr_assert_eq(len, 9);
    bs__json_free(d);
}

Test(rclone_json, numbers)
{
    bs_json *d = parse("[0, -7, 9223372036854775807, 1.5, 2e3, 99999999999999999999]");
    int64_t v;
    bs_json_ref e = bs__json_first(d, bs__json_root(d));
    cr_assert(bs__json_int(d, e, &v) && v == 0);
    e = bs__json_next(d, e);
    cr_assert(bs__json_int(d, e, &v) && v == -7);
    e = bs__json_next(d, e);
    cr_assert(bs__json_int(d, e, &v) && v == INT64_MAX);
    for (int i = 0; i < 3; i++) { /* not integers (or out of range) */
        e = bs__json_next(d, e);
        cr_assert_eq(bs__json_type(d, e), BS_JSON_NUMBER);
        cr_assert_not(bs__json_int(d, e, &v));
    }
    bs__json_free(d);
}

Test(rclone_json, malformed_input_is_a_protocol_error)
{
    static const char *const bad[] = {
        "",         "{",       "{\"a\"}",   "{\"a\":1,}",  "[1,]",
        "[01]",     "[1.]",    "[-]",       "tru",         "nulls",
        "\"abc",    "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\u0000\"",
        "\"a\tb\"", "{} {}",   "[1] x",     "{1:2}",       "[+1]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bs_json *d = (bs_json *)1;
        int rc = bs__json_parse(&d, bad[i], strlen(bad[i]), "test");
        cr_assert_eq(rc, BS_ERR_PROTOCOL, "'%s' gave %d", bad[i], rc);
        cr_assert_null(d);
    }
}

Test(rclone_json, nesting_is_bounded)
{
    char deep[2 * BS_JSON_MAX_DEPTH + 8];
    size_t n = 0;
    for (int i = 0; i < BS_JSON_MAX_DEPTH + 1; i++)
        deep[n++] = '[';
    for (int i = 0; i < BS_JSON_MAX_DEPTH + 1; i++)
        deep[n++] = ']';
    bs_json *d = NULL;
    cr_assert_eq(bs__json_parse(&d, deep, n, "test"), BS_ERR_PROTOCOL);
    cr_assert(strstr(bs_error_message(), "deep"), "%s", bs_error_message());
    /* one level less is fine */
    cr_assert_eq(bs__json_parse(&d, deep + 1, n - 2, "test"), 0);
    bs__json_free(d);
}

Test(rclone_json, the_input_length_is_honoured)
{
    const char text[] = "{\"a\":1}garbage";
    bs_json *d = NULL;
    cr_assert_eq(bs__json_parse(&d, text, 7, "test"), 0);
    int64_t v;
    cr_assert(bs__json_int(d, bs__json_get(d, bs__json_root(d), "a"), &v) && v == 1);
    bs__json_free(d);
}
