/* Framing: preamble, length checks before any allocation, frames split out
 * of arbitrarily chunked input. */
#include <criterion/criterion.h>
#include <string.h>

#include "borgstore/errors.h"
#include "proto/frame.h"

Test(frame, preamble_round_trips_and_wrong_magic_is_refused)
{
    uint8_t p[BS_PROTO_PREAMBLE_LEN];
    unsigned v = 0;
    bs__preamble_put(p);
    cr_assert_eq(bs__preamble_check(p, &v), 0);
    cr_assert_eq(v, BS_PROTO_VERSION);
    cr_assert_eq(bs__preamble_check((const uint8_t *)"Welcome!", &v), BS_ERR_PROTOCOL);
    p[BS_PROTO_MAGIC_LEN] = 0;
    cr_assert_eq(bs__preamble_check(p, &v), BS_ERR_PROTOCOL, "version 0 does not exist");
}

Test(frame, zero_and_oversized_lengths_are_refused)
{
    cr_assert_eq(bs__frame_len_check(0, 100), BS_ERR_PROTOCOL);
    cr_assert_eq(bs__frame_len_check(101, 100), BS_ERR_PROTOCOL);
    cr_assert_eq(bs__frame_len_check(100, 100), 0);
}

Test(frame, oversized_length_is_rejected_before_alloc)
{
    bs__inbuf ib = {0};
    uint8_t *p;
    size_t cap;
    cr_assert_eq(bs__inbuf_space(&ib, BS_FRAME_DEFAULT, &p, &cap), 0);
    size_t first_cap = ib.cap;
    memcpy(p, "\xff\xff\xff\xff", 4);
    bs__inbuf_wrote(&ib, 4);
    const uint8_t *f;
    size_t len;
    cr_assert_eq(bs__inbuf_next(&ib, BS_FRAME_DEFAULT, &f, &len), BS_ERR_PROTOCOL);
    cr_assert_eq(bs__inbuf_space(&ib, BS_FRAME_DEFAULT, &p, &cap), BS_ERR_PROTOCOL);
    cr_assert_eq(ib.cap, first_cap, "buffer did not grow for the bogus length");
    cr_assert_lt(ib.cap, 1024 * 1024);
    bs__inbuf_free(&ib);
}

Test(frame, frames_split_from_byte_by_byte_input)
{
    /* three frames: 1, 300 and 70000 bytes of msgpack-ish payload */
    size_t sizes[] = {1, 300, 70000};
    bs_buf all = {0};
    for (int i = 0; i < 3; i++) {
        size_t mark;
        cr_assert_eq(bs__frame_begin(&all, &mark), 0);
        for (size_t j = 0; j < sizes[i]; j++) {
            uint8_t c = (uint8_t)(i * 7 + j);
            bs__buf_append(&all, &c, 1);
        }
        cr_assert_eq(bs__frame_end(&all, mark, 0, BS_FRAME_DEFAULT), 0);
    }
    bs__inbuf ib = {0};
    size_t fed = 0;
    int got = 0;
    while (got < 3) {
        const uint8_t *f;
        size_t len;
        int rc = bs__inbuf_next(&ib, BS_FRAME_DEFAULT, &f, &len);
        cr_assert_geq(rc, 0);
        if (rc == 1) {
            cr_assert_eq(len, sizes[got]);
            cr_assert_eq(f[len - 1], (uint8_t)(got * 7 + len - 1));
            got++;
            continue;
        }
        uint8_t *p;
        size_t cap;
        cr_assert_eq(bs__inbuf_space(&ib, BS_FRAME_DEFAULT, &p, &cap), 0);
        cr_assert_gt(cap, 0);
        size_t n = fed < 400 ? 1 : (all.len - fed < 4096 ? all.len - fed : 4096);
        memcpy(p, all.data + fed, n);
        bs__inbuf_wrote(&ib, n);
        fed += n;
    }
    cr_assert_eq(fed, all.len);
    cr_assert_eq(bs__inbuf_len(&ib), 0);
    cr_assert_leq(ib.cap, 70004 + 64 * 1024, "buffer bounded by frame + read-ahead");
    bs__inbuf_free(&ib);
    bs__buf_free(&all);
}

Test(frame, frame_end_refuses_over_limit_and_rolls_back)
{
    bs_buf b = {0};
    size_t mark;
    bs__buf_append(&b, "xy", 2);
    cr_assert_eq(bs__frame_begin(&b, &mark), 0);
    bs__buf_append(&b, "0123456789", 10);
    cr_assert_eq(bs__frame_end(&b, mark, 91, 100), BS_ERR_PROTOCOL);
    cr_assert_eq(b.len, 2, "rolled back to before the frame");
    cr_assert_eq(bs__frame_begin(&b, &mark), 0);
    bs__buf_append(&b, "0123456789", 10);
    cr_assert_eq(bs__frame_end(&b, mark, 90, 100), 0);
    cr_assert_eq(bs__be32_get(b.data + 2), 100);
    bs__buf_free(&b);
}
