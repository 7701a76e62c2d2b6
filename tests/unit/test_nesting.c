/* nest / unnest against Python borgstore 0.6's results. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "borgstore/errors.h"
#include "common/nesting.h"
#include "vectors.h"

static const char *namespace_of(const char *name, char *buf, size_t cap)
{
    const char *slash = strrchr(name, '/');
    if (!slash) return "";
    snprintf(buf, cap, "%.*s", (int)(slash - name), name);
    return buf;
}

Test(nesting, python_vectors_agree)
{
    size_t n = sizeof nest_vecs / sizeof nest_vecs[0];
    cr_assert_gt(n, 5);
    for (size_t i = 0; i < n; i++) {
        const struct nest_vec *v = &nest_vecs[i];
        char out[256], back[256], ns[128];
        cr_assert_eq(bs__nest(out, sizeof out, v->name, v->levels, v->suffix), 0);
        cr_assert_str_eq(out, v->nested, "#%zu", i);
        cr_assert_eq(bs__unnest(back, sizeof back, out, namespace_of(v->name, ns, sizeof ns),
                                v->suffix), 0);
        cr_assert_str_eq(back, v->unnested, "#%zu", i);
    }
}

Test(nesting, namespace_with_trailing_slash)
{
    char out[64];
    cr_assert_eq(bs__unnest(out, sizeof out, "data/01/23/0123ab", "data/", NULL), 0);
    cr_assert_str_eq(out, "data/0123ab");
}

Test(nesting, wrong_namespace_is_invalid)
{
    char out[64];
    cr_assert_eq(bs__unnest(out, sizeof out, "data/01/0123", "config", NULL), BS_ERR_INVALID);
    cr_assert_eq(bs__unnest(out, sizeof out, "database/01/0123", "data", NULL),
                 BS_ERR_INVALID);
}

Test(nesting, key_too_short_is_invalid)
{
    char out[64];
    cr_assert_eq(bs__nest(out, sizeof out, "data/ab", 2, NULL), BS_ERR_INVALID);
    cr_assert_eq(bs__nest(out, sizeof out, "data/abcd", -1, NULL), BS_ERR_INVALID);
}

Test(nesting, small_output_buffer_is_an_error)
{
    char out[8];
    cr_assert_eq(bs__nest(out, sizeof out, "data/0123456789", 1, NULL), BS_ERR_INVALID);
}

Test(nesting, suffix_removed_only_when_present)
{
    char out[64];
    cr_assert_eq(bs__unnest(out, sizeof out, "data/01/0123", "data", ".del"), 0);
    cr_assert_str_eq(out, "data/0123");
}
