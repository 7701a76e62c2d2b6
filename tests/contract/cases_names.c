/* Contract cases: every name rule (Python borgstore 0.6's vectors plus the
 * two hardenings) enforced by every operation, and valid names round-trip. */
#include <stdio.h>
#include <string.h>

#include "contract.h"
#include "vectors.h"

/* Names that are valid for Python but refused here (tests/vectors/README.md):
 * control characters and empty components. */
static int hardened(const struct name_vec *v)
{
    for (size_t i = 0; i < v->len; i++) {
        unsigned char c = (unsigned char)v->name[i];
        if (c < 0x20 || c == 0x7f) return 1;
    }
    return strstr(v->name, "//") != NULL;
}

/* Extra invalid names beyond the vectors. */
static const char *const more_invalid[] = {
    "data//x", "data/x\ty", "data/\x7f", "data/\x1b[2J", "a/../b", "../x", "/", "//",
    "x.hid", "x.tmp", "a b", "data/x/", "DATA", "\xff",
};

/* Every item operation must refuse name with INVALID and change nothing. */
static void refused_everywhere(const char *name)
{
    uint8_t *data = NULL;
    size_t len = 0;
    bs_item_info info;
    bs_list_iter *it = NULL;
    char hex[BS_HASH_HEX_SIZE], out_name[BS_NAME_BUF];
    CT_EXPECT(BS_ERR_INVALID, bs_backend_store(ct_b, name, "v", 1));
    CT_EXPECT(BS_ERR_INVALID, bs_backend_load(ct_b, name, 0, BS_SIZE_ALL, &data, &len));
    cr_assert_null(data);
    CT_EXPECT(BS_ERR_INVALID, bs_backend_info(ct_b, name, &info));
    CT_EXPECT(BS_ERR_INVALID, bs_backend_delete(ct_b, name));
    CT_EXPECT(BS_ERR_INVALID, bs_backend_mkdir(ct_b, name));
    CT_EXPECT(BS_ERR_INVALID, bs_backend_rmdir(ct_b, name));
    CT_EXPECT(BS_ERR_INVALID, bs_backend_move(ct_b, "valid", name));
    CT_EXPECT(BS_ERR_INVALID, bs_backend_move(ct_b, name, "moved"));
    CT_EXPECT(BS_ERR_INVALID, bs_backend_hash(ct_b, name, BS_HASH_SHA256, hex));
    bs_defrag_source src = {name, 0, 1};
    CT_EXPECT(BS_ERR_INVALID,
              bs_backend_defrag(ct_b, &src, 1, "target", BS_HASH_SHA256, NULL, 0, out_name));
    bs_defrag_source ok = {"valid", 0, 1};
    CT_EXPECT(BS_ERR_INVALID,
              bs_backend_defrag(ct_b, &ok, 1, name, BS_HASH_SHA256, NULL, 0, out_name));
    if (*name) {
        CT_EXPECT(BS_ERR_INVALID, bs_backend_list_begin(ct_b, name, &it));
        cr_assert_null(it);
    }
}

Test(contract, invalid_names_are_refused_by_every_operation)
{
    ct_put("valid", "v");
    size_t refused = 0;
    for (size_t i = 0; i < sizeof name_vecs / sizeof name_vecs[0]; i++) {
        const struct name_vec *v = &name_vecs[i];
        if (v->valid && !hardened(v)) continue;
        /* a vector with an embedded NUL ends there through the C API; what
         * is left ("data/") is refused all the same */
        refused_everywhere(v->name);
        refused++;
    }
    for (size_t i = 0; i < sizeof more_invalid / sizeof more_invalid[0]; i++, refused++)
        refused_everywhere(more_invalid[i]);
    cr_assert_gt(refused, 25);
    /* nothing was created by any of the refused calls */
    size_t n;
    bs_item_info *items = ct_list("", &n);
    cr_assert_eq(n, 1, "root has %zu entries", n);
    cr_assert_str_eq(items[0].name, "valid");
    free(items);
    ct_check_str("valid", "v");
}

Test(contract, empty_name_is_only_valid_for_listing)
{
    uint8_t *data;
    size_t len;
    CT_EXPECT(BS_ERR_INVALID, bs_backend_store(ct_b, "", "v", 1));
    CT_EXPECT(BS_ERR_INVALID, bs_backend_load(ct_b, "", 0, BS_SIZE_ALL, &data, &len));
    CT_EXPECT(BS_ERR_INVALID, bs_backend_delete(ct_b, ""));
    CT_EXPECT(BS_ERR_INVALID, bs_backend_rmdir(ct_b, ""));
    CT_EXPECT(BS_ERR_INVALID, bs_backend_mkdir(ct_b, ""));
    bs_list_iter *it;
    CT_OK(bs_backend_list_begin(ct_b, "", &it));
    bs_backend_list_end(it);
}

Test(contract, valid_names_round_trip)
{
    size_t stored = 0;
    for (size_t i = 0; i < sizeof name_vecs / sizeof name_vecs[0]; i++) {
        const struct name_vec *v = &name_vecs[i];
        if (!v->valid || hardened(v) || !v->name[0]) continue;
        char value[32];
        snprintf(value, sizeof value, "value-%zu", i);
        ct_put(v->name, value);
        stored++;
    }
    cr_assert_gt(stored, 10);
    for (size_t i = 0; i < sizeof name_vecs / sizeof name_vecs[0]; i++) {
        const struct name_vec *v = &name_vecs[i];
        if (!v->valid || hardened(v) || !v->name[0]) continue;
        char value[32];
        snprintf(value, sizeof value, "value-%zu", i);
        ct_check_str(v->name, value);
        bs_item_info info;
        CT_OK(bs_backend_info(ct_b, v->name, &info));
        cr_assert(info.exists, "%s", v->name);
        CT_OK(bs_backend_delete(ct_b, v->name));
    }
}
