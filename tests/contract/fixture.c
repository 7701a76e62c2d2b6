/* Contract suite fixtures: URL template expansion, a fresh store per test,
 * small assertion helpers (see contract.h). */
#include "contract.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

bs_backend *ct_b;
static char *tmpdir;
static char url[4096];

static void make_url(void)
{
    const char *tmpl = getenv("BS_CONTRACT_URL");
    cr_assert_not_null(tmpl, "BS_CONTRACT_URL not set (e.g. file://%%s)");
    const char *pct = strstr(tmpl, "%s");
    cr_assert_not_null(pct, "BS_CONTRACT_URL must contain %%s: %s", tmpl);
    cr_assert_null(strstr(pct + 2, "%s"), "BS_CONTRACT_URL has more than one %%s");
    tmpdir = bs_test_tmpdir();
    int n = snprintf(url, sizeof url, "%.*s%s/store%s", (int)(pct - tmpl), tmpl, tmpdir, pct + 2);
    cr_assert(n > 0 && (size_t)n < sizeof url);
}

void ct_init_new(void)
{
    make_url();
    CT_OK(bs_backend_new(&ct_b, url, NULL));
}

void ct_init_open(void)
{
    ct_init_new();
    CT_OK(bs_backend_create(ct_b));
    CT_OK(bs_backend_open(ct_b));
}

void ct_fini(void)
{
    if (ct_b) {
        if (bs_backend_is_open(ct_b)) bs_backend_close(ct_b);
        bs_backend_destroy(ct_b);
        bs_backend_free(ct_b);
        ct_b = NULL;
    }
    bs_test_rmtree(tmpdir);
    free(tmpdir);
    tmpdir = NULL;
}

bs_backend *ct_another(void)
{
    bs_backend *b = NULL;
    CT_OK(bs_backend_new(&b, url, NULL));
    return b;
}

void ct_put(const char *name, const char *value)
{
    CT_OK(bs_backend_store(ct_b, name, value, strlen(value)));
}

void ct_check(const char *name, const void *data, size_t len)
{
    uint8_t *got = NULL;
    size_t got_len = 0;
    CT_OK(bs_backend_load(ct_b, name, 0, BS_SIZE_ALL, &got, &got_len));
    cr_assert_not_null(got);
    cr_assert_eq(got_len, len, "%s: %zu bytes, expected %zu", name, got_len, len);
    cr_assert(len == 0 || memcmp(got, data, len) == 0, "%s: content differs", name);
    bs_free(got);
}

void ct_check_str(const char *name, const char *value) { ct_check(name, value, strlen(value)); }

void ct_check_absent(const char *name)
{
    bs_item_info info;
    CT_OK(bs_backend_info(ct_b, name, &info));
    cr_assert_not(info.exists, "%s exists", name);
}

bs_item_info *ct_list(const char *dir, size_t *n)
{
    bs_list_iter *it = NULL;
    CT_OK(bs_backend_list_begin(ct_b, dir, &it));
    size_t cap = 16;
    bs_item_info *items = malloc(cap * sizeof *items);
    cr_assert_not_null(items);
    *n = 0;
    int rc;
    for (;;) {
        if (*n == cap) {
            cap *= 2;
            items = realloc(items, cap * sizeof *items);
            cr_assert_not_null(items);
        }
        rc = bs_backend_list_next(it, &items[*n]);
        if (rc != 1) break;
        (*n)++;
    }
    bs_backend_list_end(it);
    cr_assert_eq(rc, 0, "list %s: %d %s", dir, rc, bs_error_message());
    return items;
}
