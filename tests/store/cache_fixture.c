/* Cache test fixtures (see cache_fixture.h). */
#include "cache_fixture.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

char *cx_tmp, *cx_url, *cx_cache_url;

const bs_store_namespace cx_levels[3] = {
    {.prefix = "", .levels = {0}, .nlevels = 1},
    {.prefix = "data/", .levels = {1}, .nlevels = 1},
    {.prefix = "packs/", .levels = {0}, .nlevels = 1},
};

void cx_setup(void)
{
    cx_tmp = bs_test_tmpdir();
    cr_assert(asprintf(&cx_url, "file://%s/store", cx_tmp) > 0);
    cr_assert(asprintf(&cx_cache_url, "file://%s/cache", cx_tmp) > 0);
}

void cx_teardown(void)
{
    if (cx_tmp) bs_test_rmtree(cx_tmp);
    free(cx_tmp);
    free(cx_url);
    free(cx_cache_url);
    cx_tmp = cx_url = cx_cache_url = NULL;
}

bs_store *cx_open(const char *url, const bs_cache_namespace *ns, size_t n, bool create)
{
    bs_store_config cfg = {.namespaces = cx_levels, .n_namespaces = 3};
    bs_store *s;
    CX_OK(bs_store_new(&s, url, &cfg));
    bs_cache_config cc = {.url = cx_cache_url, .namespaces = ns, .n_namespaces = n};
    CX_OK(bs_store_set_cache(s, &cc));
    if (create) CX_OK(bs_store_create(s, 0));
    CX_OK(bs_store_open(s));
    return s;
}

void cx_close(bs_store *s)
{
    CX_OK(bs_store_close(s));
    bs_store_free(s);
}

static void id_of(const char *url, char id[17])
{
    char hex[BS_HASH_HEX_SIZE];
    cr_assert_eq(bs_hash_hex(BS_HASH_SHA256, url, strlen(url), hex), 0);
    memcpy(id, hex, 16);
    id[16] = '\0';
}

const char *cx_entry(const char *url, const char *nested)
{
    static char path[4096];
    char id[17];
    id_of(url, id);
    snprintf(path, sizeof path, "%s/cache/%s/%s", cx_tmp, id, nested);
    return path;
}

static uint64_t du(const char *path)
{
    struct stat st;
    if (lstat(path, &st)) return 0;
    if (!S_ISDIR(st.st_mode)) return S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    DIR *d = opendir(path);
    if (!d) return 0;
    uint64_t sum = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
        sum += du(sub);
    }
    closedir(d);
    return sum;
}

uint64_t cx_cache_bytes(const char *url, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", cx_entry(url, dir));
    return du(path);
}

const char *cx_sha_name(const char *ns, const void *v, size_t len)
{
    static char name[BS_NAME_BUF + BS_HASH_HEX_SIZE];
    char hex[BS_HASH_HEX_SIZE];
    cr_assert_eq(bs_hash_hex(BS_HASH_SHA256, v, len, hex), 0);
    snprintf(name, sizeof name, "%s/%s", ns, hex);
    return name;
}

bs_store_stats cx_stats(bs_store *s)
{
    bs_store_stats st;
    bs_store_stats_get(s, &st);
    return st;
}

void cx_expect(bs_store *s, const char *name, int64_t offset, int64_t size, const void *want,
               size_t wlen)
{
    uint8_t *v;
    size_t n;
    CX_OK(bs_store_load(s, name, offset, size, false, &v, &n));
    cr_assert_eq(n, wlen, "%s [%lld, %lld]: %zu bytes, want %zu", name, (long long)offset,
                 (long long)size, n, wlen);
    cr_assert(wlen == 0 || !memcmp(v, want, wlen), "%s: wrong bytes", name);
    bs_free(v);
}
