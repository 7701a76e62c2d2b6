/* Name validation against Python borgstore 0.6's own results, plus the two
 * documented hardenings (control characters, empty components). */
#include <criterion/criterion.h>
#include <string.h>

#include "common/error.h"
#include "common/names.h"
#include "vectors.h"

/* The deliberate differences from Python borgstore (tests/vectors/README.md). */
static int hardened(const struct name_vec *v)
{
    for (size_t i = 0; i < v->len; i++) {
        unsigned char c = (unsigned char)v->name[i];
        if (c < 0x20 || c == 0x7f) return 1;
    }
    return strstr(v->name, "//") != NULL;
}

Test(names, python_vectors_agree)
{
    size_t n = sizeof name_vecs / sizeof name_vecs[0];
    cr_assert_gt(n, 30);
    for (size_t i = 0; i < n; i++) {
        const struct name_vec *v = &name_vecs[i];
        int want = v->valid && !hardened(v);
        int rc = bs__name_validate(v->name);
        cr_assert_eq(rc == 0, want, "name #%zu (len %zu): rc=%d, want valid=%d", i, v->len,
                     rc, want);
        cr_assert_eq(bs__name_is_valid(v->name), want);
        if (!want) cr_assert_eq(rc, BS_ERR_INVALID);
    }
}

Test(names, hardenings_are_refused)
{
    cr_assert_eq(bs__name_validate("data/x\ty"), BS_ERR_INVALID);
    cr_assert_eq(bs__name_validate("data/\x7f"), BS_ERR_INVALID);
    cr_assert_eq(bs__name_validate("data//x"), BS_ERR_INVALID);
    cr_assert_eq(bs__name_validate("data/\x01"), BS_ERR_INVALID);
}

Test(names, dot_components_are_refused)
{
    const char *bad[] = {".", "./x", "./protected/x", "a/./b", "a/.", "data/./."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(bs__name_validate(bad[i]), BS_ERR_INVALID, "%s", bad[i]);
    const char *good[] = {".x", "a/.b", "a.b/c.", "x.", "data/.config"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        cr_assert_eq(bs__name_validate(good[i]), 0, "%s", good[i]);
}

Test(names, message_names_the_rule_and_escapes_the_name)
{
    cr_assert_eq(bs__name_validate("data/A\x1b[2J"), BS_ERR_INVALID);
    const char *m = bs_error_message();
    cr_assert(strstr(m, "\\x1b") != NULL, "%s", m);
    cr_assert(strchr(m, '\x1b') == NULL);
    bs__name_validate("data/x.tmp");
    cr_assert(strstr(bs_error_message(), ".tmp") != NULL);
}

Test(names, null_is_invalid)
{
    cr_assert_eq(bs__name_validate(NULL), BS_ERR_INVALID);
    cr_assert_not(bs__name_is_valid(NULL));
}

Test(names, very_long_input_is_bounded)
{
    static char big[1 << 16];
    memset(big, 'a', sizeof big - 1);
    cr_assert_eq(bs__name_validate(big), BS_ERR_INVALID);
    cr_assert_lt(strlen(bs_error_message()), 600);
}

Test(names, ends_with)
{
    cr_assert(bs__ends_with("a.del", ".del"));
    cr_assert_not(bs__ends_with("del", ".del"));
    cr_assert(bs__ends_with("x", ""));
}
