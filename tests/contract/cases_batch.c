/* Contract cases for batches and fire-and-forget operations: the same
 * per-item results whether a backend pipelines (remote) or runs them one by
 * one (local). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract.h"

TestSuite(contract_batch, .init = ct_init_open, .fini = ct_fini);

#define N 300

typedef struct results {
    int rc[N];
    size_t len[N];
    bool exists[N];
    size_t count;
} results;

static int collect(void *ctx, size_t index, bs_op_result *res)
{
    results *r = ctx;
    cr_assert_lt(index, N);
    r->rc[index] = res->rc;
    r->len[index] = res->len;
    r->exists[index] = res->info.exists;
    if (res->data) cr_assert_eq(res->len, r->len[index]);
    r->count++;
    return 0;
}

static char names[N][32];
static char values[N][64];

static void make_ops(bs_op *ops, bs_op_kind kind)
{
    for (size_t i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "data/%04zx", i);
        snprintf(values[i], sizeof values[i], "value of item %zu", i * 31);
        ops[i] = (bs_op){.kind = kind, .name = names[i], .size = BS_SIZE_ALL,
                         .data = values[i], .len = strlen(values[i])};
    }
}

Test(contract_batch, store_info_load_delete_with_per_item_results)
{
    static bs_op ops[N];
    results *r = calloc(1, sizeof *r);
    make_ops(ops, BS_OP_STORE);
    CT_OK(bs_backend_batch(ct_b, ops, N, 0, collect, r));
    cr_assert_eq(r->count, N);
    for (size_t i = 0; i < N; i++) cr_assert_eq(r->rc[i], 0, "store %zu", i);
    ct_check_str(names[17], values[17]);

    make_ops(ops, BS_OP_LOAD);
    ops[5].name = "data/missing";
    memset(r, 0, sizeof *r);
    CT_OK(bs_backend_batch(ct_b, ops, N, 0, collect, r));
    cr_assert_eq(r->count, N);
    for (size_t i = 0; i < N; i++) {
        cr_assert_eq(r->rc[i], i == 5 ? BS_ERR_NOT_FOUND : 0, "load %zu", i);
        if (i != 5) cr_assert_eq(r->len[i], strlen(values[i]));
    }

    make_ops(ops, BS_OP_INFO);
    ops[9].name = "data/missing";
    memset(r, 0, sizeof *r);
    CT_OK(bs_backend_batch(ct_b, ops, N, 7, collect, r));
    for (size_t i = 0; i < N; i++) cr_assert_eq(r->exists[i], i != 9, "info %zu", i);

    make_ops(ops, BS_OP_DELETE);
    memset(r, 0, sizeof *r);
    CT_OK(bs_backend_batch(ct_b, ops, N, 0, collect, r));
    for (size_t i = 0; i < N; i++) cr_assert_eq(r->rc[i], 0, "delete %zu", i);
    ct_check_absent(names[0]);
    free(r);
}

static int check_bytes(void *ctx, size_t index, bs_op_result *res)
{
    (void)ctx;
    cr_assert_eq(res->rc, 0);
    cr_assert_eq(res->len, strlen(values[index]) - 3);
    cr_assert_arr_eq(res->data, values[index] + 3, res->len);
    return 0;
}

Test(contract_batch, loads_carry_the_right_bytes_for_each_index)
{
    static bs_op ops[N];
    make_ops(ops, BS_OP_STORE);
    CT_OK(bs_backend_batch(ct_b, ops, N, 0, collect, &(results){0}));
    make_ops(ops, BS_OP_LOAD);
    for (size_t i = 0; i < N; i++) ops[i].offset = 3;
    CT_OK(bs_backend_batch(ct_b, ops, N, 0, check_bytes, NULL));
}

Test(contract_batch, moves_in_a_batch)
{
    static bs_op ops[N];
    static char dst[N][40];
    make_ops(ops, BS_OP_STORE);
    CT_OK(bs_backend_batch(ct_b, ops, N, 0, collect, &(results){0}));
    for (size_t i = 0; i < N; i++) {
        snprintf(dst[i], sizeof dst[i], "%s.del", names[i]);
        ops[i] = (bs_op){.kind = BS_OP_MOVE, .name = names[i], .dst = dst[i]};
    }
    CT_OK(bs_backend_batch(ct_b, ops, N, 0, collect, &(results){0}));
    ct_check_absent(names[3]);
    ct_check_str(dst[3], values[3]);
}

Test(contract_batch, invalid_op_is_refused_before_anything_runs)
{
    bs_op ops[2] = {{.kind = BS_OP_STORE, .name = "data/a", .data = "x", .len = 1},
                    {.kind = BS_OP_STORE, .name = "data/../x", .data = "x", .len = 1}};
    CT_EXPECT(BS_ERR_INVALID, bs_backend_batch(ct_b, ops, 2, 0, collect, &(results){0}));
    ct_check_absent("data/a");
}

Test(contract_batch, submitted_writes_are_ordered_and_errors_come_at_flush)
{
    bs_op st = {.kind = BS_OP_STORE, .name = "data/x", .data = "one", .len = 3};
    CT_OK(bs_backend_submit(ct_b, &st));
    st.data = "two";
    CT_OK(bs_backend_submit(ct_b, &st));
    bs_op del = {.kind = BS_OP_DELETE, .name = "data/nothing"};
    CT_OK(bs_backend_submit(ct_b, &del));
    bs_op mv = {.kind = BS_OP_MOVE, .name = "data/x", .dst = "data/y"};
    CT_OK(bs_backend_submit(ct_b, &mv));
    size_t failed = 0;
    CT_EXPECT(BS_ERR_NOT_FOUND, bs_backend_flush(ct_b, &failed));
    cr_assert_eq(failed, 1);
    ct_check_str("data/y", "two");
    ct_check_absent("data/x");
    CT_OK(bs_backend_flush(ct_b, &failed));
    cr_assert_eq(failed, 0);
    bs_op load = {.kind = BS_OP_LOAD, .name = "data/y", .size = BS_SIZE_ALL};
    CT_EXPECT(BS_ERR_INVALID, bs_backend_submit(ct_b, &load));
}
