/* import/export --resume and --checksum: items already at the target (same
 * size; with --checksum the same SHA-256) are skipped and counted, the others
 * transferred, on file:// and serve:// stores. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"
#include "testutil.h"

static char *tmp;

static void setup(void)
{
    tmp = bs_test_tmpdir();
    setenv("BORGSTORE_REMOTE_PATH", bs_test_build_path("borgstore-serve"), 1);
    setenv("BORGSTORE_TIMEOUT", "20", 1);
}

static void teardown(void)
{
    bs_test_rmtree(tmp);
    free(tmp);
}

TestSuite(resume, .init = setup, .fini = teardown, .timeout = 120);

static const char *const schemes[] = {"file", "serve"};

#define ASSERT_STATUS(r, want)                                                          \
    cr_assert_eq((r).status, want, "exit %d, want %d; stderr: %s", (r).status, want,    \
                 (r).err)

/* tmp/rel in a rotating static buffer. */
static const char *P(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *P(const char *fmt, ...)
{
    static char buf[8][4096];
    static int i;
    i = (i + 1) % 8;
    int n = snprintf(buf[i], sizeof buf[i], "%s/", tmp);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf[i] + n, sizeof buf[i] - (size_t)n, fmt, ap);
    va_end(ap);
    return buf[i];
}

static void write_str(const char *path, const char *s)
{
    cr_assert_eq(bs_test_write_file(path, s, strlen(s)), 0, "%s", path);
}

/* The command's --json line holds "items": items and "skipped": skipped. */
static void run_json(const char *const argv[], unsigned items, unsigned skipped)
{
    run_result r;
    run_argv(&r, NULL, 0, false, argv);
    ASSERT_STATUS(r, 0);
    char want[128];
    snprintf(want, sizeof want, "\"items\": %u, \"failed\": 0, ", items);
    cr_assert(strstr(r.out, want), "want %s in %s", want, r.out);
    snprintf(want, sizeof want, "\"skipped\": %u}", skipped);
    cr_assert(strstr(r.out, want), "want %s in %s", want, r.out);
    run_free(&r);
}

static void assert_value(const char *url, const char *name, const char *want)
{
    run_result r;
    BS(&r, NULL, 0, url, "get", name);
    ASSERT_STATUS(r, 0);
    cr_assert_str_eq(r.out, want, "%s", name);
    run_free(&r);
}

static void assert_file(const char *path, const char *want)
{
    size_t len;
    char *got = bs_test_read_file(path, &len);
    cr_assert_not_null(got, "%s", path);
    cr_assert_eq(len, strlen(want), "%s", path);
    cr_assert(!memcmp(got, want, len), "%s", path);
    free(got);
}

Test(resume, import_skips_same_size_and_checksum_compares_content)
{
    for (size_t k = 0; k < 2; k++) {
        char url[4200];
        snprintf(url, sizeof url, "%s://%s", schemes[k], P("%s-store", schemes[k]));
        const char *src = P("%s-src", schemes[k]);
        char a[4200], b[4200], c[4200];
        snprintf(a, sizeof a, "%s/a", src);
        snprintf(b, sizeof b, "%s/sub/b", src);
        snprintf(c, sizeof c, "%s/c", src);
        run_result r;
        BS(&r, NULL, 0, url, "create");
        ASSERT_STATUS(r, 0);
        run_free(&r);
        write_str(a, "hello");
        write_str(b, "bbb");
        const char *plain[] = {bs_cli_path(), "--json", url, "import", src, "config", NULL};
        run_json(plain, 2, 0);
        /* a: same size, new content; b: new size; c: new file */
        write_str(a, "HELLO");
        write_str(b, "bbbb");
        write_str(c, "c");
        const char *resume[] = {bs_cli_path(), "--json", url, "import", src, "config",
                                "--resume", NULL};
        run_json(resume, 2, 1);
        assert_value(url, "config/a", "hello"); /* the same size: taken as there */
        assert_value(url, "config/sub/b", "bbbb");
        assert_value(url, "config/c", "c");
        const char *sum[] = {bs_cli_path(), "--json", url, "import", src, "config",
                             "--checksum", NULL};
        run_json(sum, 1, 2);
        assert_value(url, "config/a", "HELLO");
        run_json(sum, 0, 3); /* all there: nothing moves */
    }
}

Test(resume, export_skips_same_size_and_checksum_compares_content)
{
    for (size_t k = 0; k < 2; k++) {
        char url[4200];
        snprintf(url, sizeof url, "%s://%s", schemes[k], P("%s-store", schemes[k]));
        const char *out = P("%s-out", schemes[k]);
        char x[4200], y[4200];
        snprintf(x, sizeof x, "%s/x", out);
        snprintf(y, sizeof y, "%s/y", out);
        run_result r;
        BS(&r, NULL, 0, url, "create");
        ASSERT_STATUS(r, 0);
        run_free(&r);
        BS(&r, "xxxx", 4, url, "put", "config/x");
        ASSERT_STATUS(r, 0);
        run_free(&r);
        BS(&r, "yy", 2, url, "put", "config/y");
        ASSERT_STATUS(r, 0);
        run_free(&r);
        const char *plain[] = {bs_cli_path(), "--json", url, "export", "config", out, NULL};
        run_json(plain, 2, 0);
        write_str(x, "XXXX"); /* same size, other content */
        cr_assert_eq(unlink(y), 0);
        const char *resume[] = {bs_cli_path(), "--json", url, "export", "config", out,
                                "--resume", NULL};
        run_json(resume, 1, 1);
        assert_file(x, "XXXX");
        assert_file(y, "yy");
        const char *sum[] = {bs_cli_path(), "--json", url, "export", "config", out,
                             "--checksum", NULL};
        run_json(sum, 1, 1);
        assert_file(x, "xxxx");
    }
}

Test(resume, only_import_and_export_take_resume)
{
    run_result r;
    BS(&r, NULL, 0, P("s"), "put", "config/x", "--resume");
    ASSERT_STATUS(r, 2);
    cr_assert(strstr(r.err, "put does not take --resume"), "%s", r.err);
    run_free(&r);
    BS(&r, NULL, 0, P("s"), "get-many", P("d"), "--checksum");
    ASSERT_STATUS(r, 2);
    cr_assert(strstr(r.err, "get-many does not take --checksum"), "%s", r.err);
    run_free(&r);
}
