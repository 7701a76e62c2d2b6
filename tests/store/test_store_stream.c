/* Streaming loads (bs_store_load_to): pieces of at most the asked size that
 * join to exactly what bs_store_load returns, for every offset/size form,
 * on values that are and are not a multiple of the piece size. */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

TestSuite(stream, .init = fx_setup, .fini = fx_teardown);

typedef struct joined {
    uint8_t *buf;
    size_t len, max_piece, pieces, stop_after;
} joined;

static int collect(void *ctx, const uint8_t *data, size_t len)
{
    joined *j = ctx;
    j->buf = realloc(j->buf, j->len + len);
    cr_assert_not_null(j->buf);
    memcpy(j->buf + j->len, data, len);
    j->len += len;
    if (len > j->max_piece) j->max_piece = len;
    j->pieces++;
    return j->stop_after && j->pieces >= j->stop_after;
}

static uint8_t *pattern(size_t n)
{
    uint8_t *v = malloc(n);
    for (size_t i = 0; i < n; i++) v[i] = (uint8_t)(i * 7 + i / 251);
    return v;
}

/* The streamed load equals the whole load, in pieces of at most chunk. */
static void same_as_load(const char *name, int64_t off, int64_t size, size_t chunk)
{
    uint8_t *want;
    size_t want_len;
    ASSERT_OK(bs_store_load(fx_s, name, off, size, false, &want, &want_len));
    joined j = {0};
    uint64_t n = 99;
    ASSERT_OK(bs_store_load_to(fx_s, name, off, size, false, chunk, collect, &j, &n));
    cr_assert_eq(n, want_len, "off %lld size %lld", (long long)off, (long long)size);
    cr_assert_eq(j.len, want_len);
    if (want_len) cr_assert_arr_eq(j.buf, want, want_len);
    cr_assert_leq(j.max_piece, chunk);
    free(j.buf);
    bs_free(want);
}

Test(stream, pieces_join_to_the_whole_value_for_every_range)
{
    const size_t n = 10000, chunk = 1000; /* a multiple: the last load is empty */
    uint8_t *v = pattern(n + 1);
    ASSERT_OK(bs_store_store(fx_s, "zero/even", v, n));
    ASSERT_OK(bs_store_store(fx_s, "zero/odd", v, n + 1));
    const int64_t offs[] = {0, 1, 999, 1000, 9999, 10000, 20000, -1, -1000, -10000};
    const int64_t sizes[] = {BS_SIZE_ALL, 0, 1, 999, 1000, 1001, 5000, 50000};
    for (size_t i = 0; i < sizeof offs / sizeof *offs; i++)
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
            same_as_load("zero/even", offs[i], sizes[k], chunk);
            same_as_load("zero/odd", offs[i], sizes[k], chunk);
        }
    free(v);
}

Test(stream, an_empty_value_and_the_default_piece_size)
{
    ASSERT_OK(bs_store_store(fx_s, "zero/empty", "", 0));
    same_as_load("zero/empty", 0, BS_SIZE_ALL, 1);
    uint8_t *v = pattern(100);
    ASSERT_OK(bs_store_store(fx_s, "zero/small", v, 100));
    joined j = {0};
    ASSERT_OK(bs_store_load_to(fx_s, "zero/small", 0, BS_SIZE_ALL, false, 0, collect, &j, NULL));
    cr_assert_eq(j.pieces, 1, "a small value is one piece");
    cr_assert_arr_eq(j.buf, v, 100);
    free(j.buf);
    free(v);
}

Test(stream, errors_name_the_item_and_the_receiver_can_stop)
{
    joined j = {0};
    uint64_t n = 5;
    cr_assert_eq(bs_store_load_to(fx_s, "zero/missing", 0, BS_SIZE_ALL, false, 10, collect, &j,
                                  &n),
                 BS_ERR_NOT_FOUND);
    cr_assert_eq(n, 0);
    cr_assert_eq(bs_store_load_to(fx_s, "zero/missing", -5, BS_SIZE_ALL, false, 10, collect, &j,
                                  NULL),
                 BS_ERR_NOT_FOUND);
    cr_assert(strstr(bs_error_message(), "zero/missing"), "%s", bs_error_message());
    uint8_t *v = pattern(100);
    ASSERT_OK(bs_store_store(fx_s, "zero/v", v, 100));
    cr_assert_eq(bs_store_load_to(fx_s, "zero/v", -101, BS_SIZE_ALL, false, 10, collect, &j,
                                  NULL),
                 BS_ERR_READ_RANGE);
    cr_assert_eq(bs_store_load_to(fx_s, "zero/v", 0, -2, false, 10, collect, &j, NULL),
                 BS_ERR_INVALID);
    cr_assert_eq(bs_store_load_to(fx_s, "zero/v", 0, BS_SIZE_ALL, false, 10, NULL, &j, NULL),
                 BS_ERR_INVALID);
    j.stop_after = 3;
    cr_assert_eq(bs_store_load_to(fx_s, "zero/v", 0, BS_SIZE_ALL, false, 10, collect, &j, &n),
                 BS_ERR_INVALID);
    cr_assert_eq(j.pieces, 3, "no piece after the receiver said stop");
    cr_assert_eq(n, 30, "the bytes handed over, the last one included");
    free(j.buf);
    free(v);
}
