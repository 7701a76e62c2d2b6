/* Contract cases: the backend's life cycle (create / destroy / open / close)
 * and the must-be-open / must-not-be-open / exists / does-not-exist rules. */
#include <string.h>

#include "contract.h"

TestSuite(contract_state, .init = ct_init_new, .fini = ct_fini, .timeout = 60);

Test(contract_state, open_of_missing_store_does_not_exist)
{
    CT_EXPECT(BS_ERR_DOES_NOT_EXIST, bs_backend_open(ct_b));
    cr_assert_not(bs_backend_is_open(ct_b));
}

Test(contract_state, destroy_of_missing_store_does_not_exist)
{
    CT_EXPECT(BS_ERR_DOES_NOT_EXIST, bs_backend_destroy(ct_b));
}

Test(contract_state, create_accepts_empty_refuses_non_empty)
{
    CT_OK(bs_backend_create(ct_b));
    CT_OK(bs_backend_create(ct_b)); /* still empty: accepted, like borgstore */
    CT_OK(bs_backend_open(ct_b));
    CT_OK(bs_backend_store(ct_b, "config", "c", 1));
    CT_OK(bs_backend_close(ct_b));
    CT_EXPECT(BS_ERR_ALREADY_EXISTS, bs_backend_create(ct_b));
    CT_OK(bs_backend_open(ct_b));
    uint8_t *got;
    size_t len;
    CT_OK(bs_backend_load(ct_b, "config", 0, BS_SIZE_ALL, &got, &len));
    cr_assert_eq(len, 1);
    bs_free(got);
}

Test(contract_state, destroy_removes_everything)
{
    CT_OK(bs_backend_create(ct_b));
    CT_OK(bs_backend_open(ct_b));
    CT_OK(bs_backend_store(ct_b, "data/00/0000", "x", 1));
    CT_OK(bs_backend_mkdir(ct_b, "empty/dir"));
    CT_OK(bs_backend_close(ct_b));
    CT_OK(bs_backend_destroy(ct_b));
    CT_EXPECT(BS_ERR_DOES_NOT_EXIST, bs_backend_open(ct_b));
    CT_EXPECT(BS_ERR_DOES_NOT_EXIST, bs_backend_destroy(ct_b));
    CT_OK(bs_backend_create(ct_b)); /* and it can be made again */
    CT_OK(bs_backend_open(ct_b));
    bs_item_info info;
    CT_OK(bs_backend_info(ct_b, "data/00/0000", &info));
    cr_assert_not(info.exists);
}

Test(contract_state, operations_need_an_open_backend)
{
    CT_OK(bs_backend_create(ct_b));
    uint8_t *data = NULL;
    size_t len = 0;
    bs_item_info info;
    bs_list_iter *it = NULL;
    bs_quota q;
    char hex[BS_HASH_HEX_SIZE], out_name[BS_NAME_BUF];
    bs_defrag_source src = {"a", 0, 1};
    for (int round = 0; round < 2; round++) { /* never opened, then opened+closed */
        CT_EXPECT(BS_ERR_MUST_BE_OPEN, bs_backend_close(ct_b));
        CT_EXPECT(BS_ERR_MUST_BE_OPEN, bs_backend_mkdir(ct_b, "d"));
        CT_EXPECT(BS_ERR_MUST_BE_OPEN, bs_backend_rmdir(ct_b, "d"));
        CT_EXPECT(BS_ERR_MUST_BE_OPEN, bs_backend_info(ct_b, "a", &info));
        CT_EXPECT(BS_ERR_MUST_BE_OPEN, bs_backend_load(ct_b, "a", 0, BS_SIZE_ALL, &data, &len));
        cr_assert_null(data);
        CT_EXPECT(BS_ERR_MUST_BE_OPEN, bs_backend_store(ct_b, "a", "x", 1));
        CT_EXPECT(BS_ERR_MUST_BE_OPEN, bs_backend_delete(ct_b, "a"));
        CT_EXPECT(BS_ERR_MUST_BE_OPEN, bs_backend_move(ct_b, "a", "b"));
        CT_EXPECT(BS_ERR_MUST_BE_OPEN, bs_backend_list_begin(ct_b, "", &it));
        cr_assert_null(it);
        CT_EXPECT(BS_ERR_MUST_BE_OPEN, bs_backend_hash(ct_b, "a", BS_HASH_SHA256, hex));
        CT_EXPECT(BS_ERR_MUST_BE_OPEN,
                  bs_backend_defrag(ct_b, &src, 1, "t", BS_HASH_SHA256, NULL, 0, out_name));
        CT_EXPECT(BS_ERR_MUST_BE_OPEN, bs_backend_quota(ct_b, &q));
        CT_OK(bs_backend_open(ct_b));
        CT_OK(bs_backend_close(ct_b));
    }
}

Test(contract_state, life_cycle_needs_a_closed_backend)
{
    CT_OK(bs_backend_create(ct_b));
    CT_OK(bs_backend_open(ct_b));
    cr_assert(bs_backend_is_open(ct_b));
    CT_EXPECT(BS_ERR_MUST_NOT_BE_OPEN, bs_backend_open(ct_b));
    CT_EXPECT(BS_ERR_MUST_NOT_BE_OPEN, bs_backend_create(ct_b));
    CT_EXPECT(BS_ERR_MUST_NOT_BE_OPEN, bs_backend_destroy(ct_b));
    cr_assert(bs_backend_is_open(ct_b));
    CT_OK(bs_backend_store(ct_b, "still", "open", 4)); /* the refusals changed nothing */
    CT_OK(bs_backend_close(ct_b));
    cr_assert_not(bs_backend_is_open(ct_b));
}
