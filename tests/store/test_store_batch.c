/* Store batches and fire-and-forget operations: per-item results, one bad
 * item not failing the others, stats per item, chunk boundaries, ownership
 * of loaded values, and flush reporting deferred errors. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fixture.h"

TestSuite(batch, .init = fx_setup, .fini = fx_teardown);

#define N_ITEMS 5000 /* more than one internal chunk (4096) */

typedef struct seen {
    size_t n;
    int *rc;        /* per index, 1 = not reported yet */
    size_t *len;
    uint8_t **kept; /* values the callback took */
    bool keep;
    size_t stop_after;
} seen;

static void seen_init(seen *s, size_t n)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    s->rc = malloc(n * sizeof *s->rc);
    s->len = calloc(n, sizeof *s->len);
    s->kept = calloc(n, sizeof *s->kept);
    for (size_t i = 0; i < n; i++) s->rc[i] = 1;
}

static void seen_free(seen *s)
{
    for (size_t i = 0; i < s->n; i++) bs_free(s->kept[i]);
    free(s->rc);
    free(s->len);
    free(s->kept);
}

static size_t reported;

static int record(void *ctx, size_t index, bs_op_result *res)
{
    seen *s = ctx;
    cr_assert_lt(index, s->n);
    cr_assert_eq(s->rc[index], 1, "index %zu reported twice", index);
    s->rc[index] = res->rc;
    s->len[index] = res->len;
    if (res->rc) cr_assert_not_null(res->message);
    if (s->keep && res->data) {
        s->kept[index] = res->data;
        res->data = NULL; /* ours now */
    }
    reported++;
    return s->stop_after && reported >= s->stop_after;
}

static char (*names_buf)[32];
static const char **names;
static const void **values;
static size_t *lens;

static void make_items(size_t n, const char *ns)
{
    names_buf = calloc(n, sizeof *names_buf);
    names = calloc(n, sizeof *names);
    values = calloc(n, sizeof *values);
    lens = calloc(n, sizeof *lens);
    for (size_t i = 0; i < n; i++) {
        snprintf(names_buf[i], sizeof names_buf[i], "%s/%08zx", ns, i * 7919);
        names[i] = names_buf[i];
        values[i] = names_buf[i]; /* the value is the name itself */
        lens[i] = strlen(names_buf[i]);
    }
    reported = 0;
}

static void free_items(void)
{
    free(names_buf);
    free(names);
    free(values);
    free(lens);
}

Test(batch, store_then_load_many_reports_every_item_once_with_its_value)
{
    make_items(N_ITEMS, "two");
    ASSERT_OK(bs_store_store_many(fx_s, names, values, lens, N_ITEMS, 0, NULL, NULL));
    seen s;
    seen_init(&s, N_ITEMS);
    s.keep = true;
    ASSERT_OK(bs_store_load_many(fx_s, names, N_ITEMS, 0, BS_SIZE_ALL, false, 0, record, &s));
    cr_assert_eq(reported, N_ITEMS);
    for (size_t i = 0; i < N_ITEMS; i++) {
        cr_assert_eq(s.rc[i], 0, "item %zu", i);
        cr_assert_eq(s.len[i], lens[i]);
        cr_assert_arr_eq(s.kept[i], names[i], lens[i]);
    }
    seen_free(&s);
    free_items();
}

Test(batch, one_missing_or_bad_item_does_not_fail_the_others)
{
    make_items(10, "one");
    ASSERT_OK(bs_store_store_many(fx_s, names, values, lens, 10, 0, NULL, NULL));
    names[3] = "one/deadbeef";   /* missing */
    names[6] = "one/Bad Name";   /* invalid */
    seen s;
    seen_init(&s, 10);
    ASSERT_OK(bs_store_load_many(fx_s, names, 10, 0, BS_SIZE_ALL, false, 4, record, &s));
    for (size_t i = 0; i < 10; i++) {
        int want = i == 3 ? BS_ERR_NOT_FOUND : i == 6 ? BS_ERR_INVALID : 0;
        cr_assert_eq(s.rc[i], want, "item %zu: %d", i, s.rc[i]);
    }
    cr_assert_eq(s.len[2], lens[2]);
    seen_free(&s);
    free_items();
}

Test(batch, partial_loads_honour_offset_and_size)
{
    make_items(20, "zero");
    ASSERT_OK(bs_store_store_many(fx_s, names, values, lens, 20, 0, NULL, NULL));
    seen s;
    seen_init(&s, 20);
    s.keep = true;
    ASSERT_OK(bs_store_load_many(fx_s, names, 20, -4, 3, false, 0, record, &s));
    for (size_t i = 0; i < 20; i++) {
        cr_assert_eq(s.len[i], 3);
        cr_assert_arr_eq(s.kept[i], names[i] + lens[i] - 4, 3);
    }
    seen_free(&s);
    free_items();
}

typedef struct infos {
    size_t n;
    bs_item_info info[50];
} infos;

static int info_cb(void *ctx, size_t index, bs_op_result *res)
{
    infos *in = ctx;
    cr_assert_eq(res->rc, 0);
    in->info[index] = res->info;
    return 0;
}

Test(batch, info_many_reports_keys_and_sizes)
{
    make_items(50, "two");
    ASSERT_OK(bs_store_store_many(fx_s, names, values, lens, 49, 0, NULL, NULL));
    infos *in = calloc(1, sizeof *in);
    ASSERT_OK(bs_store_info_many(fx_s, names, 50, false, 0, info_cb, in));
    for (size_t i = 0; i < 49; i++) {
        cr_assert(in->info[i].exists);
        cr_assert_eq(in->info[i].size, lens[i]);
        cr_assert_str_eq(in->info[i].name, names[i] + strlen("two/"));
    }
    cr_assert_not(in->info[49].exists, "never stored");
    free(in);
    free_items();
}


Test(batch, soft_delete_undelete_and_delete_many)
{
    make_items(30, "one");
    ASSERT_OK(bs_store_store_many(fx_s, names, values, lens, 30, 0, NULL, NULL));
    ASSERT_OK(bs_store_move_many(fx_s, names, 30, BS_MOVE_SOFT_DELETE, false, 0, NULL, NULL));
    char *l = fx_list(fx_s, "one", false);
    cr_assert_str_eq(l, "");
    free(l);
    ASSERT_OK(bs_store_move_many(fx_s, names, 10, BS_MOVE_UNDELETE, false, 0, NULL, NULL));
    ASSERT_OK(bs_store_delete_many(fx_s, names + 10, 20, true, 0, NULL, NULL));
    bs_item_info info;
    ASSERT_OK(bs_store_info(fx_s, names[0], false, &info));
    cr_assert(info.exists);
    ASSERT_OK(bs_store_info(fx_s, names[15], true, &info));
    cr_assert_not(info.exists);
    /* deleting them again: every item fails, the first error is returned */
    cr_assert_eq(bs_store_delete_many(fx_s, names + 10, 20, true, 0, NULL, NULL),
                 BS_ERR_NOT_FOUND);
    cr_assert_eq(bs_store_move_many(fx_s, names, 2, BS_MOVE_RENAME, false, 0, NULL, NULL),
                 BS_ERR_INVALID);
    free_items();
}

Test(batch, items_count_in_stats_like_single_calls)
{
    make_items(100, "two");
    bs_store_stats before, after;
    bs_store_stats_get(fx_s, &before);
    ASSERT_OK(bs_store_store_many(fx_s, names, values, lens, 100, 0, NULL, NULL));
    seen s;
    seen_init(&s, 100);
    ASSERT_OK(bs_store_load_many(fx_s, names, 100, 0, BS_SIZE_ALL, false, 0, record, &s));
    bs_store_stats_get(fx_s, &after);
    size_t total = 0;
    for (size_t i = 0; i < 100; i++) total += lens[i];
    cr_assert_eq(after.store_calls - before.store_calls, 100);
    cr_assert_eq(after.load_calls - before.load_calls, 100);
    cr_assert_eq(after.store_volume - before.store_volume, total);
    cr_assert_eq(after.load_volume - before.load_volume, total);
    cr_assert_eq(after.backend_store_calls - before.backend_store_calls, 100);
    seen_free(&s);
    free_items();
}

Test(batch, callback_can_stop_the_batch)
{
    make_items(100, "zero");
    ASSERT_OK(bs_store_store_many(fx_s, names, values, lens, 100, 0, NULL, NULL));
    seen s;
    seen_init(&s, 100);
    s.stop_after = 10;
    cr_assert_eq(bs_store_load_many(fx_s, names, 100, 0, BS_SIZE_ALL, false, 1, record, &s),
                 BS_ERR_INVALID);
    cr_assert_eq(reported, 10);
    seen_free(&s);
    free_items();
}

Test(batch, emulated_latency_is_paid_once_per_window)
{
    make_items(64, "zero");
    ASSERT_OK(bs_store_store_many(fx_s, names, values, lens, 64, 0, NULL, NULL));
    bs_store_set_emulation(fx_s, 20000, 0); /* 20 ms per round trip */
    struct timespec t0, t1;
    seen s;
    seen_init(&s, 64);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ASSERT_OK(bs_store_load_many(fx_s, names, 64, 0, BS_SIZE_ALL, false, 16, record, &s));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert_geq(secs, 4 * 0.020, "64 items in windows of 16 = 4 round trips: %.3f s", secs);
    seen_free(&s);
    free_items();
}

Test(batch, async_operations_report_at_flush)
{
    ASSERT_OK(bs_store_store_async(fx_s, "zero/aa", "1", 1));
    ASSERT_OK(bs_store_store_async(fx_s, "zero/bb", "22", 2));
    ASSERT_OK(bs_store_delete_async(fx_s, "zero/missing", false));
    ASSERT_OK(bs_store_delete_async(fx_s, "zero/missing2", false));
    size_t failed = 0;
    cr_assert_eq(bs_store_flush(fx_s, &failed), BS_ERR_NOT_FOUND);
    cr_assert_eq(failed, 2);
    cr_assert(strstr(bs_error_message(), "missing"), "%s", bs_error_message());
    ASSERT_OK(bs_store_flush(fx_s, &failed));
    cr_assert_eq(failed, 0);
    uint8_t *v;
    size_t len;
    ASSERT_OK(bs_store_load(fx_s, "zero/bb", 0, BS_SIZE_ALL, false, &v, &len));
    cr_assert_eq(len, 2);
    bs_free(v);
    cr_assert_eq(bs_store_store_async(fx_s, "zero/BAD", "x", 1), BS_ERR_INVALID);
}

Test(batch, close_reports_pending_async_errors)
{
    ASSERT_OK(bs_store_delete_async(fx_s, "zero/missing", false));
    cr_assert_eq(bs_store_close(fx_s), BS_ERR_NOT_FOUND);
    cr_assert_not(bs_store_is_open(fx_s));
    ASSERT_OK(bs_store_open(fx_s)); /* for the fixture's teardown */
}
