/* Growable buffer: growth, stealing, overflow refusal. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "borgstore/errors.h"
#include "common/buf.h"

Test(buf, append_grows_and_keeps_bytes)
{
    bs_buf b = {0};
    for (int i = 0; i < 1000; i++) cr_assert_eq(bs__buf_append(&b, "abc", 3), 0);
    cr_assert_eq(b.len, 3000);
    cr_assert_eq(memcmp(b.data + 2997, "abc", 3), 0);
    size_t len;
    uint8_t *p = bs__buf_steal(&b, &len);
    cr_assert_eq(len, 3000);
    cr_assert_null(b.data);
    free(p);
}

Test(buf, steal_of_empty_is_not_null)
{
    bs_buf b = {0};
    size_t len = 99;
    uint8_t *p = bs__buf_steal(&b, &len);
    cr_assert_not_null(p);
    cr_assert_eq(len, 0);
    free(p);
}

Test(buf, size_overflow_is_refused)
{
    bs_buf b = {0};
    cr_assert_eq(bs__buf_append(&b, "x", 1), 0);
    cr_assert_eq(bs__buf_reserve(&b, SIZE_MAX), BS_ERR_NOMEM);
    cr_assert_eq(b.len, 1);
    bs__buf_free(&b);
}
