/* Shared Store test fixtures (see fixture.h). */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *fx_dir;
char *fx_url;
bs_store *fx_s;

const bs_store_namespace fx_levels[3] = {
    {.prefix = "zero/", .levels = {0}, .nlevels = 1},
    {.prefix = "one/", .levels = {1}, .nlevels = 1},
    {.prefix = "two/", .levels = {2}, .nlevels = 1},
};

void fx_setup_dir(void)
{
    char *tmp = bs_test_tmpdir();
    cr_assert(asprintf(&fx_dir, "%s/store", tmp) > 0);
    free(tmp);
    cr_assert(asprintf(&fx_url, "file://%s", fx_dir) > 0);
}

bs_store *fx_new_store(const bs_store_namespace *ns, size_t n)
{
    bs_store_config cfg = {.namespaces = ns, .n_namespaces = n};
    bs_store *s;
    ASSERT_OK(bs_store_new(&s, fx_url, &cfg));
    return s;
}

void fx_setup(void)
{
    fx_setup_dir();
    fx_s = fx_new_store(fx_levels, 3);
    ASSERT_OK(bs_store_create(fx_s, 0));
    ASSERT_OK(bs_store_open(fx_s));
}

void fx_teardown(void)
{
    if (fx_s) {
        if (bs_store_is_open(fx_s)) bs_store_close(fx_s);
        bs_store_destroy(fx_s);
        bs_store_free(fx_s);
        fx_s = NULL;
    }
    if (fx_dir) {
        char *parent = strdup(fx_dir);
        *strrchr(parent, '/') = '\0';
        bs_test_rmtree(parent);
        free(parent);
    }
    free(fx_dir);
    free(fx_url);
    fx_dir = fx_url = NULL;
}

const char *fx_key(unsigned i)
{
    static char bufs[8][16];
    static unsigned slot;
    char *b = bufs[slot++ % 8];
    snprintf(b, 16, "%08x", i);
    return b;
}

bool fx_on_disk(const char *rel)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", fx_dir, rel);
    struct stat st;
    return lstat(path, &st) == 0;
}

char *fx_list(bs_store *s, const char *ns, bool deleted)
{
    bs_store_list_iter *it;
    ASSERT_OK(bs_store_list_begin(s, ns, deleted, &it));
    size_t cap = 256, len = 0;
    char *out = calloc(1, cap);
    bs_item_info info;
    int rc;
    while ((rc = bs_store_list_next(it, &info)) == 1) {
        cr_assert(!info.directory, "list yielded directory %s", info.name);
        size_t n = strlen(info.name);
        while (len + n + 2 > cap) out = realloc(out, cap *= 2);
        if (len) out[len++] = ',';
        memcpy(out + len, info.name, n + 1);
        len += n;
    }
    cr_assert_eq(rc, 0, "list_next -> %d (%s)", rc, bs_error_message());
    bs_store_list_end(it);
    return out;
}
