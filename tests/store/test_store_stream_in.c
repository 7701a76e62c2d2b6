/* Streaming stores (bs_store_store_from): the value comes from a reader in
 * pieces, lands where bs_store_store puts it, is counted like a store, and
 * a reader that fails or ends early stores nothing and leaves no temp file. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

TestSuite(stream_in, .init = fx_setup, .fini = fx_teardown);

typedef struct source {
    const uint8_t *data;
    size_t len, pos, max_cap, piece; /* piece: at most this per call (0: cap) */
    size_t fail_at;                  /* non-zero: fail once pos reaches it */
    bool fail;
} source;

static int from_source(void *ctx, uint8_t *buf, size_t cap, size_t *got)
{
    source *src = ctx;
    if (cap > src->max_cap) src->max_cap = cap;
    if (src->fail_at && src->pos >= src->fail_at) return -1;
    size_t n = src->len - src->pos;
    if (n > cap) n = cap;
    if (src->piece && n > src->piece) n = src->piece;
    memcpy(buf, src->data + src->pos, n);
    src->pos += n;
    *got = n; /* 0 at the end: a short reader when the store wants more */
    return 0;
}

static uint8_t *pattern(size_t n)
{
    uint8_t *v = malloc(n);
    for (size_t i = 0; i < n; i++) v[i] = (uint8_t)(i * 13 + i / 257);
    return v;
}

/* Entries of the store directory dir (relative) whose name contains part. */
static int count_named(const char *dir, const char *part)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", fx_dir, dir);
    DIR *d = opendir(path);
    if (!d) return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strstr(e->d_name, part)) n++;
    closedir(d);
    return n;
}

static void assert_value(const char *name, const uint8_t *want, size_t n)
{
    uint8_t *got;
    size_t got_len;
    ASSERT_OK(bs_store_load(fx_s, name, 0, BS_SIZE_ALL, false, &got, &got_len));
    cr_assert_eq(got_len, n);
    if (n) cr_assert_arr_eq(got, want, n);
    bs_free(got);
}

Test(stream_in, the_value_lands_as_a_store_puts_it_and_is_counted)
{
    const size_t n = (3u << 20) + 17; /* several backend pieces, not a multiple */
    uint8_t *v = pattern(n);
    source src = {.data = v, .len = n, .piece = 100000};
    /* two/ has nesting level 2: the item goes where bs_store_store puts it */
    const char *name = "two/0123456789abcdef";
    ASSERT_OK(bs_store_store_from(fx_s, name, n, from_source, &src));
    cr_assert_eq(src.pos, n);
    assert_value(name, v, n);
    char where[BS_NAME_BUF];
    ASSERT_OK(bs_store_find(fx_s, name, false, where));
    cr_assert(fx_on_disk(where), "%s", where);
    bs_store_stats st;
    bs_store_stats_get(fx_s, &st);
    cr_assert_eq(st.store_calls, 1);
    cr_assert_eq(st.backend_store_calls, 1);
    cr_assert_eq(st.store_volume, n);
    /* replacing, and an empty value (the reader is never asked) */
    source again = {.data = v + 1, .len = 1000};
    ASSERT_OK(bs_store_store_from(fx_s, name, 1000, from_source, &again));
    assert_value(name, v + 1, 1000);
    source none = {.data = v, .len = 0, .fail_at = 1};
    ASSERT_OK(bs_store_store_from(fx_s, "zero/empty", 0, from_source, &none));
    assert_value("zero/empty", NULL, 0);
    cr_assert_eq(bs_store_store_from(fx_s, "zero/x", 1, NULL, NULL), BS_ERR_INVALID);
    free(v);
}

Test(stream_in, a_failing_reader_stores_nothing_and_leaves_no_temp_file)
{
    const size_t n = 3u << 20;
    uint8_t *v = pattern(n);
    ASSERT_OK(bs_store_store(fx_s, "zero/kept", "old", 3));
    source src = {.data = v, .len = n, .fail_at = 2u << 20};
    cr_assert_eq(bs_store_store_from(fx_s, "zero/kept", n, from_source, &src), BS_ERR_IO);
    cr_assert(strstr(bs_error_message(), "zero/kept"), "%s", bs_error_message());
    assert_value("zero/kept", (const uint8_t *)"old", 3);
    source fresh = {.data = v, .len = n, .fail_at = 1};
    cr_assert_eq(bs_store_store_from(fx_s, "zero/new", n, from_source, &fresh), BS_ERR_IO);
    bs_item_info info;
    ASSERT_OK(bs_store_info(fx_s, "zero/new", false, &info));
    cr_assert(!info.exists);
    cr_assert_eq(count_named("zero", ".tmp"), 0, "a temp file was left");
    cr_assert_eq(count_named("zero", "new"), 0);
    free(v);
}

Test(stream_in, a_reader_that_ends_early_stores_nothing)
{
    const size_t n = 200000;
    uint8_t *v = pattern(n);
    ASSERT_OK(bs_store_store(fx_s, "zero/kept", "old", 3));
    source src = {.data = v, .len = n - 1}; /* one byte short of what it promised */
    cr_assert_eq(bs_store_store_from(fx_s, "zero/kept", n, from_source, &src), BS_ERR_IO);
    cr_assert(strstr(bs_error_message(), "ended 1 bytes early"), "%s", bs_error_message());
    assert_value("zero/kept", (const uint8_t *)"old", 3);
    cr_assert_eq(count_named("zero", ".tmp"), 0, "a temp file was left");
    /* the store never asks for more than remains */
    source exact = {.data = v, .len = n};
    ASSERT_OK(bs_store_store_from(fx_s, "zero/kept", 10, from_source, &exact));
    cr_assert_leq(exact.max_cap, 10);
    assert_value("zero/kept", v, 10);
    free(v);
}
