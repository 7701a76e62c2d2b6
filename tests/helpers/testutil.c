/* Shared test fixtures (see testutil.h). */
#include "testutil.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *bs_test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *tmpl = NULL;
    cr_assert(asprintf(&tmpl, "%s/bstest.XXXXXX", base && *base ? base : "/tmp") > 0);
    cr_assert_not_null(mkdtemp(tmpl), "mkdtemp: %s", strerror(errno));
    return tmpl;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    remove(p);
    return 0;
}

void bs_test_rmtree(const char *path)
{
    if (path) nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *bs_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) return NULL;
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

static void mkparents(const char *path)
{
    char *p = strdup(path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') { *s = '\0'; mkdir(p, 0777); *s = '/'; }
    free(p);
}

int bs_test_write_file(const char *path, const void *data, size_t len)
{
    mkparents(path);
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, len, f);
    return (fclose(f) == 0 && w == len) ? 0 : -1;
}

static const char *root_path(const char *env, const char *rel)
{
    static char buf[4096];
    const char *root = getenv(env);
    cr_assert_not_null(root, "%s not set (run through meson test)", env);
    snprintf(buf, sizeof buf, "%s/%s", root, rel);
    return buf;
}

const char *bs_test_build_path(const char *rel) { return root_path("BS_BUILD_ROOT", rel); }
const char *bs_test_source_path(const char *rel) { return root_path("BS_SOURCE_ROOT", rel); }

void bs_test_fill(uint8_t *buf, size_t len, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        buf[i] = (uint8_t)(x >> 24);
    }
}
