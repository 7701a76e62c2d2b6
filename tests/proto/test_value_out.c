/* Values in DATA frames with a trailing hash (proto/value_out.c): the frames
 * reassemble to the value, only the last carries the hash and it is the
 * value's BLAKE2b; the hash is computed as the chunks are handed out, one
 * chunk per write; prepare hooks run once, in order; the DATA envelope
 * accepts a 32-byte hash as a 4th element and nothing else. */
#include <criterion/criterion.h>
#include <string.h>

#include "proto/frame.h"
#include "proto/msg.h"
#include "proto/value_out.h"
#include "tests/proto/drain.h"
#include "tests/helpers/testutil.h"

static int released;
static void on_release(void *ctx) { released += *(int *)ctx; }

/* Decodes the DATA frames in wire and checks them against value. */
static void check_frames(const bs_buf *wire, uint32_t id, const uint8_t *value, size_t len)
{
    size_t pos = 0, got = 0, frames = 0;
    bool hashed = false;
    while (pos < wire->len) {
        cr_assert_geq(wire->len - pos, 4);
        uint32_t n = bs__be32_get(wire->data + pos);
        cr_assert_leq(n, wire->len - pos - 4);
        bs__env env;
        cr_assert_eq(bs__env_decode(wire->data + pos + 4, n, &env), 0, "%s", bs_error_message());
        cr_assert_eq(env.kind, BS_KIND_DATA);
        cr_assert_eq(env.id, id);
        cr_assert_leq(env.data_len, len - got);
        cr_assert_eq(memcmp(env.data, value + got, env.data_len), 0, "chunk %zu", frames);
        got += env.data_len;
        cr_assert_eq(env.hash != NULL, got == len, "only the last frame has the hash");
        if (env.hash) {
            uint8_t want[BS_VALUE_HASH_LEN];
            bs__value_hash(want, value, len);
            cr_assert_eq(memcmp(env.hash, want, sizeof want), 0, "the hash is the value's");
            hashed = true;
        }
        pos += 4 + n;
        frames++;
    }
    cr_assert_eq(got, len);
    cr_assert(hashed);
}

Test(value_out, frames_reassemble_to_the_value_with_its_hash_last)
{
    static const size_t lens[] = {1, 1000, BS_FRAME_MIN - 64, BS_FRAME_MIN - 63, 3u << 20};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        size_t len = lens[k];
        uint8_t *v = malloc(len);
        bs_test_fill(v, len, (unsigned)k + 1);
        bs__outq q = {0};
        int one = 1;
        released = 0;
        cr_assert_eq(bs__outq_value(&q, 7, v, len, BS_FRAME_MIN, on_release, &one), 0);
        cr_assert_lt(q.arena.len, 64 + 16 * (len / (BS_FRAME_MIN - 64) + 1),
                     "the value is not copied into the queue");
        bs_buf wire = {0};
        drain(&q, &wire, 10007);
        cr_assert_eq(released, 1, "released once, after the last byte");
        check_frames(&wire, 7, v, len);
        bs__outq_free(&q);
        cr_assert_eq(released, 1);
        bs__buf_free(&wire);
        free(v);
    }
}

Test(value_out, the_value_is_hashed_as_it_goes_out_one_chunk_per_write)
{
    size_t chunk = bs__chunk_max(BS_FRAME_MIN), len = 8 * chunk;
    uint8_t *v = malloc(len);
    bs_test_fill(v, len, 3);
    bs__outq q = {0};
    cr_assert_eq(bs__outq_value(&q, 1, v, len, BS_FRAME_MIN, NULL, NULL), 0);
    /* changed after queuing: what goes out (and is hashed) is what the
     * buffer holds when it is written, so hashing did not happen up front */
    memset(v, 0xab, len);
    bs_buf wire = {0};
    int calls = drain(&q, &wire, SIZE_MAX);
    cr_assert_geq(calls, 8, "%d writes for 8 chunks: hashing ran ahead of writing", calls);
    check_frames(&wire, 1, v, len);
    bs__outq_free(&q);
    bs__buf_free(&wire);
    free(v);
}

static int order[8], n_order;
static void prep(void *ctx, const uint8_t *p, size_t n)
{
    (void)p;
    (void)n;
    order[n_order++] = *(int *)ctx;
}

Test(value_out, prepare_hooks_run_once_in_order_when_handed_out)
{
    bs__outq q = {0};
    static int ids[3] = {1, 2, 3};
    n_order = 0;
    for (int i = 0; i < 3; i++) {
        bs__buf_append(bs__outq_buf(&q), "h", 1);
        cr_assert_eq(bs__outq_ref_prepared(&q, "abc", 3, prep, NULL, &ids[i]), 0);
    }
    cr_assert_eq(n_order, 0, "nothing runs at queuing time");
    struct iovec iov[16];
    cr_assert_eq(bs__outq_iov(&q, iov, 16), 1, "stops before a segment not yet prepared");
    cr_assert_eq(n_order, 0, "a hook runs only when its segment is next");
    bs__outq_consume(&q, 1);
    cr_assert_eq(bs__outq_iov(&q, iov, 16), 2, "the prepared segment and the header after it");
    cr_assert_eq(n_order, 1);
    cr_assert_eq(bs__outq_iov(&q, iov, 16), 2); /* nothing written: the same bytes again */
    cr_assert_eq(n_order, 1, "a hook never runs twice");
    bs_buf out = {0};
    drain(&q, &out, 1);
    cr_assert_eq(n_order, 3);
    cr_assert_eq(out.len, 11);
    cr_assert_eq(order[0], 1);
    cr_assert_eq(order[1], 2);
    cr_assert_eq(order[2], 3);
    bs__outq_free(&q);
    bs__buf_free(&out);
}

Test(value_out, a_data_envelope_takes_only_a_32_byte_hash_as_fourth_element)
{
    /* [4, 9, bin "ab", bin(32)] and its malformed variants */
    uint8_t f[64] = {0x94, 0x04, 0x09, 0xc4, 0x02, 'a', 'b', 0xc4, 32};
    memset(f + 9, 0x5a, 32);
    bs__env env;
    cr_assert_eq(bs__env_decode(f, 41, &env), 0, "%s", bs_error_message());
    cr_assert_eq(env.data_len, 2);
    cr_assert_not_null(env.hash);
    cr_assert_eq(env.hash[0], 0x5a);
    f[8] = 31; /* a short hash */
    cr_assert_eq(bs__env_decode(f, 40, &env), BS_ERR_PROTOCOL);
    f[8] = 32;
    f[7] = 0xa0 | 2; /* a str, not a bin */
    cr_assert_eq(bs__env_decode(f, 10, &env), BS_ERR_PROTOCOL);
    f[0] = 0x95; /* five elements */
    cr_assert_eq(bs__env_decode(f, 41, &env), BS_ERR_PROTOCOL);
    f[0] = 0x93; /* three: no hash */
    cr_assert_eq(bs__env_decode(f, 7, &env), 0);
    cr_assert_null(env.hash);
}

Test(value_out, an_empty_value_is_refused_and_released)
{
    bs__outq q = {0};
    int one = 1;
    released = 0;
    cr_assert_eq(bs__outq_value(&q, 1, (const uint8_t *)"", 0, BS_FRAME_MIN, on_release, &one),
                 BS_ERR_INVALID);
    cr_assert_eq(released, 1);
    cr_assert_eq(bs__outq_pending(&q), 0, "nothing queued");
    bs__outq_free(&q);
}
