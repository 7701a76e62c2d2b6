/* Output queue: arena bytes merge, borrowed values are written from where
 * they lie and released exactly once, partial writes resume correctly. */
#include <criterion/criterion.h>
#include <string.h>

#include "proto/outq.h"
#include "tests/proto/drain.h"

static int released;
static void on_release(void *ctx) { released += *(int *)ctx; }

Test(outq, arena_bytes_merge_into_one_segment)
{
    bs__outq q = {0};
    for (int i = 0; i < 10; i++) {
        bs__buf_append(bs__outq_buf(&q), "ab", 2);
        cr_assert_eq(bs__outq_commit(&q), 0);
    }
    struct iovec iov[4];
    cr_assert_eq(bs__outq_iov(&q, iov, 4), 1);
    cr_assert_eq(iov[0].iov_len, 20);
    bs__outq_free(&q);
}

Test(outq, borrowed_bytes_are_not_copied_and_released_once)
{
    bs__outq q = {0};
    static uint8_t value[100000];
    int one = 1;
    released = 0;
    bs__buf_append(bs__outq_buf(&q), "HDR", 3);
    cr_assert_eq(bs__outq_ref(&q, value, sizeof value, on_release, &one), 0);
    bs__buf_append(bs__outq_buf(&q), "END", 3);
    bs__outq_commit(&q);
    struct iovec iov[4];
    cr_assert_eq(bs__outq_iov(&q, iov, 4), 3);
    cr_assert_eq(iov[1].iov_base, (void *)value, "written from the caller's buffer");
    cr_assert_lt(q.arena.len, 100, "the value never entered the arena");
    for (size_t i = 0; i < sizeof value; i++) value[i] = (uint8_t)i;
    bs_buf out = {0};
    drain(&q, &out, 777);
    cr_assert_eq(out.len, sizeof value + 6);
    cr_assert_eq(memcmp(out.data, "HDR", 3), 0);
    cr_assert_eq(memcmp(out.data + 3, value, sizeof value), 0);
    cr_assert_eq(memcmp(out.data + 3 + sizeof value, "END", 3), 0);
    cr_assert_eq(released, 1);
    bs__outq_free(&q);
    cr_assert_eq(released, 1, "not released twice");
    bs__buf_free(&out);
}

Test(outq, free_releases_unwritten_refs_and_empty_refs_release_at_once)
{
    bs__outq q = {0};
    int two = 2;
    released = 0;
    bs__outq_ref(&q, "x", 0, on_release, &two);
    cr_assert_eq(released, 2);
    bs__outq_ref(&q, "xyz", 3, on_release, &two);
    bs__outq_free(&q);
    cr_assert_eq(released, 4);
}

Test(outq, long_streams_keep_the_arena_bounded)
{
    bs__outq q = {0};
    bs_buf out = {0};
    uint8_t chunk[1000];
    memset(chunk, 7, sizeof chunk);
    size_t total = 0;
    for (int i = 0; i < 3000; i++) {
        bs__buf_append(bs__outq_buf(&q), chunk, sizeof chunk);
        bs__outq_commit(&q);
        total += sizeof chunk;
        /* write a little less than is added, so the queue is never empty */
        struct iovec iov[1];
        bs__outq_iov(&q, iov, 1);
        size_t w = iov[0].iov_len > 900 ? 900 : iov[0].iov_len;
        bs__outq_consume(&q, w);
        out.len += w;
    }
    cr_assert_lt(q.arena.cap, 2 * 1024 * 1024, "arena is reclaimed while streaming");
    cr_assert_eq(bs__outq_pending(&q), total - out.len);
    bs__outq_free(&q);
}
