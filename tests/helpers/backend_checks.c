/* Checks shared by the sftp:// and rclone: tests (see backend_checks.h). */
#include "backend_checks.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

bs_backend *bs_test_backend_new(const char *prefix, const char *path, const bs_backend_config *cfg)
{
    char url[4200];
    snprintf(url, sizeof url, "%s%s", prefix, path);
    bs_backend *b = NULL;
    OK(bs_backend_new(&b, url, cfg));
    return b;
}

void bs_test_check_load(bs_backend *b, const char *name, const void *want, size_t len)
{
    uint8_t *got = NULL;
    size_t got_len = 0;
    OK(bs_backend_load(b, name, 0, BS_SIZE_ALL, &got, &got_len));
    cr_assert_eq(got_len, len, "%s: %zu bytes, expected %zu", name, got_len, len);
    cr_assert(len == 0 || memcmp(got, want, len) == 0, "%s: content differs", name);
    bs_free(got);
}

/* nftw gives its callback no context: the count lives here. */
static int tmp_files;

static int count_tmp(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    size_t n = strlen(p);
    if (n > 4 && strcmp(p + n - 4, ".tmp") == 0) tmp_files++;
    return 0;
}

int bs_test_temp_files_below(const char *dir)
{
    tmp_files = 0;
    nftw(dir, count_tmp, 16, FTW_PHYS);
    return tmp_files;
}

int bs_test_batch_collect(void *ctx, size_t index, bs_op_result *res)
{
    bs_test_batch *g = ctx;
    cr_assert_lt(index, BS_TEST_BATCH_MAX);
    g->rc[index] = res->rc;
    g->len[index] = res->len;
    g->info[index] = res->info;
    if (res->rc) snprintf(g->msg[index], sizeof g->msg[index], "%s", res->message);
    g->data[index] = res->data; /* taken */
    res->data = NULL;
    g->count++;
    return g->stop_after && g->count >= g->stop_after;
}

void bs_test_batch_free(bs_test_batch *g)
{
    for (size_t i = 0; i < BS_TEST_BATCH_MAX; i++)
        bs_free(g->data[i]);
    free(g);
}
