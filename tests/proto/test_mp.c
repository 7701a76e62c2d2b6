/* The bounded msgpack reader: every type, every truncation, counts bounded
 * by the bytes left before anything could size by them, depth limits. */
#include <criterion/criterion.h>
#include <string.h>

#include "borgstore/errors.h"
#include "proto/limits.h"
#include "proto/mp.h"

static bs__mp rd(const void *p, size_t n)
{
    bs__mp r;
    bs__mp_init(&r, p, n);
    return r;
}

Test(mp, reads_integers_of_every_width)
{
    static const uint8_t buf[] = {0x05, 0xff, 0xcc, 0xc8, 0xcd, 0x01, 0x00,
                                  0xce, 0x00, 0x01, 0x00, 0x00,
                                  0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0,
                                  0xd0, 0x80, 0xd1, 0xff, 0x00, 0xd2, 0xff, 0xff, 0xff, 0xfe,
                                  0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfd};
    bs__mp r = rd(buf, sizeof buf);
    int64_t i;
    uint64_t u;
    cr_assert_eq(bs__mp_int(&r, &i), 0); cr_assert_eq(i, 5);
    cr_assert_eq(bs__mp_int(&r, &i), 0); cr_assert_eq(i, -1);
    cr_assert_eq(bs__mp_uint(&r, &u), 0); cr_assert_eq(u, 200);
    cr_assert_eq(bs__mp_uint(&r, &u), 0); cr_assert_eq(u, 256);
    cr_assert_eq(bs__mp_uint(&r, &u), 0); cr_assert_eq(u, 65536);
    cr_assert_eq(bs__mp_uint(&r, &u), 0); cr_assert_eq(u, 1ull << 63);
    cr_assert_eq(bs__mp_int(&r, &i), 0); cr_assert_eq(i, -128);
    cr_assert_eq(bs__mp_int(&r, &i), 0); cr_assert_eq(i, -256);
    cr_assert_eq(bs__mp_int(&r, &i), 0); cr_assert_eq(i, -2);
    cr_assert_eq(bs__mp_int(&r, &i), 0); cr_assert_eq(i, -3);
    cr_assert_eq(bs__mp_left(&r), 0);
}

Test(mp, uint_refuses_negative_and_int_refuses_huge)
{
    static const uint8_t neg[] = {0xff};
    static const uint8_t huge[] = {0xcf, 0xff, 0, 0, 0, 0, 0, 0, 0};
    bs__mp r = rd(neg, sizeof neg);
    uint64_t u;
    int64_t i;
    cr_assert_eq(bs__mp_uint(&r, &u), BS_ERR_PROTOCOL);
    r = rd(huge, sizeof huge);
    cr_assert_eq(bs__mp_int(&r, &i), BS_ERR_PROTOCOL);
    r = rd(huge, sizeof huge);
    cr_assert_eq(bs__mp_uint(&r, &u), 0);
}

Test(mp, reads_strings_bins_bools_nil)
{
    static const uint8_t buf[] = {0xa3, 'a', 'b', 'c', 0xd9, 0x01, 'x', 0xc4, 0x02, 1, 2,
                                  0xc3, 0xc2, 0xc0};
    bs__mp r = rd(buf, sizeof buf);
    const char *s;
    const uint8_t *p;
    size_t n;
    bool b;
    cr_assert_eq(bs__mp_str(&r, &s, &n), 0);
    cr_assert_eq(n, 3);
    cr_assert_eq(memcmp(s, "abc", 3), 0);
    cr_assert_eq(bs__mp_str(&r, &s, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(bs__mp_str(&r, &s, &n), BS_ERR_PROTOCOL, "a bin is not a str");
    r = rd(buf + 7, sizeof buf - 7);
    cr_assert_eq(bs__mp_bin(&r, &p, &n), 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(p[1], 2);
    cr_assert_eq(bs__mp_bool(&r, &b), 0); cr_assert(b);
    cr_assert_eq(bs__mp_bool(&r, &b), 0); cr_assert(!b);
    cr_assert(bs__mp_nil(&r));
    cr_assert(!bs__mp_nil(&r), "nothing left");
}

Test(mp, every_truncation_is_refused)
{
    static const uint8_t full[][10] = {
        {0xcd, 0x01, 0x00}, {0xce, 0, 0, 1, 0}, {0xcf, 0, 0, 0, 0, 0, 0, 1, 0},
        {0xa3, 'a', 'b', 'c'}, {0xd9, 2, 'a', 'b'}, {0xda, 0, 2, 'a', 'b'},
        {0xc4, 2, 1, 2}, {0xc5, 0, 2, 1, 2}, {0xc6, 0, 0, 0, 2, 1, 2},
        {0x92, 1, 2}, {0xdc, 0, 2, 1, 2}, {0x81, 1, 2}, {0xd4, 1, 9}, {0xca, 0, 0, 0, 0},
    };
    static const size_t lens[] = {3, 5, 9, 4, 4, 5, 4, 5, 7, 3, 5, 3, 3, 5};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        bs__mp r = rd(full[i], lens[i]);
        cr_assert_eq(bs__mp_skip(&r, 4), 0, "case %zu whole", i);
        cr_assert_eq(bs__mp_left(&r), 0, "case %zu consumed", i);
        for (size_t cut = 0; cut < lens[i]; cut++) {
            r = rd(full[i], cut);
            cr_assert_eq(bs__mp_skip(&r, 4), BS_ERR_PROTOCOL, "case %zu cut at %zu", i, cut);
        }
    }
}

Test(mp, array_header_of_4g_elements_is_refused_from_the_header)
{
    static const uint8_t arr32[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02};
    static const uint8_t map32[] = {0xdf, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02};
    bs__mp r = rd(arr32, sizeof arr32);
    uint32_t n = 12345;
    cr_assert_eq(bs__mp_array(&r, &n, UINT32_MAX), BS_ERR_PROTOCOL);
    cr_assert_eq(n, 12345, "count never handed out");
    r = rd(arr32, sizeof arr32);
    cr_assert_eq(bs__mp_skip(&r, 8), BS_ERR_PROTOCOL);
    r = rd(map32, sizeof map32);
    cr_assert_eq(bs__mp_map(&r, &n, UINT32_MAX), BS_ERR_PROTOCOL);
    cr_assert_str_neq(bs_error_message(), "");
}

Test(mp, count_is_bounded_by_bytes_left_and_cap)
{
    static const uint8_t arr[] = {0x93, 1, 2};       /* claims 3, holds 2 */
    static const uint8_t map[] = {0x82, 1, 2, 3};    /* claims 2 pairs, holds 4 bytes - 1 */
    static const uint8_t ok[] = {0x93, 1, 2, 3};
    uint32_t n;
    bs__mp r = rd(arr, sizeof arr);
    cr_assert_eq(bs__mp_array(&r, &n, 100), BS_ERR_PROTOCOL);
    r = rd(map, sizeof map);
    cr_assert_eq(bs__mp_map(&r, &n, 100), BS_ERR_PROTOCOL);
    r = rd(ok, sizeof ok);
    cr_assert_eq(bs__mp_array(&r, &n, 2), BS_ERR_PROTOCOL, "over the caller's cap");
    r = rd(ok, sizeof ok);
    cr_assert_eq(bs__mp_array(&r, &n, 3), 0);
    cr_assert_eq(n, 3);
}

Test(mp, nesting_deeper_than_the_limit_is_refused)
{
    uint8_t deep[64];
    for (int i = 0; i < 63; i++) deep[i] = 0x91;
    deep[63] = 0x01;
    bs__mp r = rd(deep, sizeof deep);
    cr_assert_eq(bs__mp_skip(&r, BS_MP_DEPTH_MAX), BS_ERR_PROTOCOL);
    r = rd(deep + 64 - 1 - BS_MP_DEPTH_MAX, 1 + BS_MP_DEPTH_MAX);
    cr_assert_eq(bs__mp_skip(&r, BS_MP_DEPTH_MAX), 0, "exactly at the limit");
}

Test(mp, reserved_byte_and_wrong_types)
{
    static const uint8_t c1[] = {0xc1};
    bs__mp r = rd(c1, 1);
    cr_assert_eq(bs__mp_peek(&r), BS_MP_BAD);
    cr_assert_eq(bs__mp_skip(&r, 4), BS_ERR_PROTOCOL);
    static const uint8_t s[] = {0xa1, 'x'};
    uint64_t u;
    bool b;
    uint32_t n;
    r = rd(s, 2);
    cr_assert_eq(bs__mp_uint(&r, &u), BS_ERR_PROTOCOL);
    r = rd(s, 2);
    cr_assert_eq(bs__mp_bool(&r, &b), BS_ERR_PROTOCOL);
    r = rd(s, 2);
    cr_assert_eq(bs__mp_map(&r, &n, 4), BS_ERR_PROTOCOL);
}

Test(mp, writer_output_reads_back)
{
    bs_buf b = {0};
    bs__mpw w;
    bs__mpw_init(&w, &b);
    msgpack_pack_array(&w.pk, 3);
    msgpack_pack_int64(&w.pk, -70000);
    bs__mpw_cstr(&w, "hello");
    msgpack_pack_bin(&w.pk, 3);
    msgpack_pack_bin_body(&w.pk, "\0\1\2", 3);
    cr_assert_eq(w.err, 0);
    bs__mp r = rd(b.data, b.len);
    uint32_t n;
    int64_t i;
    const char *s;
    const uint8_t *p;
    size_t len;
    cr_assert_eq(bs__mp_array(&r, &n, 8), 0);
    cr_assert_eq(n, 3);
    cr_assert_eq(bs__mp_int(&r, &i), 0);
    cr_assert_eq(i, -70000);
    cr_assert_eq(bs__mp_str(&r, &s, &len), 0);
    cr_assert_eq(len, 5);
    cr_assert_eq(bs__mp_bin(&r, &p, &len), 0);
    cr_assert_eq(len, 3);
    cr_assert_eq(p[2], 2);
    cr_assert_eq(bs__mp_left(&r), 0);
    bs__buf_free(&b);
}
