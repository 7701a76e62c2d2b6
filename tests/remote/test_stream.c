/* Streaming stores over serve:// (bs_store_store_from through the remote
 * backend's store_from): values of several frames arrive byte-exact; a
 * reader failing before or in the middle of the value, or ending early,
 * stores nothing, leaves no temp file on the server, and the next call
 * works (the half-sent value costs the connection, which comes back). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "borgstore/borgstore.h"
#include "tests/helpers/testutil.h"

static char *dir;
static bs_store *s;
static const bs_store_namespace ns[] = {{.prefix = "data/", .levels = {0}, .nlevels = 1}};
static const bs_store_config cfg = {.namespaces = ns, .n_namespaces = 1};

static void setup(void)
{
    dir = bs_test_tmpdir();
    char url[4200];
    snprintf(url, sizeof url, "serve://%s/store", dir);
    setenv("BORGSTORE_RETRY_DELAY", "0.01", 1);
    setenv("BORGSTORE_TIMEOUT", "10", 1);
    cr_assert_eq(bs_store_new(&s, url, &cfg), 0, "%s", bs_error_message());
    cr_assert_eq(bs_store_create(s, 0), 0, "%s", bs_error_message());
    cr_assert_eq(bs_store_open(s), 0, "%s", bs_error_message());
}

static void teardown(void)
{
    bs_store_close(s);
    bs_store_free(s);
    bs_test_rmtree(dir);
    free(dir);
}

TestSuite(remote_stream, .init = setup, .fini = teardown, .timeout = 60);

typedef struct source {
    const uint8_t *data;
    size_t len, pos, piece; /* piece: at most this per call (0: cap) */
    size_t fail_at;         /* non-zero: fail once pos reaches it */
} source;

static int from_source(void *ctx, uint8_t *buf, size_t cap, size_t *got)
{
    source *src = ctx;
    if (src->fail_at && src->pos >= src->fail_at) return -1;
    size_t n = src->len - src->pos;
    if (n > cap) n = cap;
    if (src->piece && n > src->piece) n = src->piece;
    memcpy(buf, src->data + src->pos, n);
    src->pos += n;
    *got = n;
    return 0;
}

static uint8_t *pattern(size_t n)
{
    uint8_t *v = malloc(n);
    for (size_t i = 0; i < n; i++) v[i] = (uint8_t)(i * 31 + i / 509);
    return v;
}

static void assert_value(const char *name, const uint8_t *want, size_t n)
{
    uint8_t *got;
    size_t got_len;
    cr_assert_eq(bs_store_load(s, name, 0, BS_SIZE_ALL, false, &got, &got_len), 0, "%s",
                 bs_error_message());
    cr_assert_eq(got_len, n);
    if (n) cr_assert_arr_eq(got, want, n);
    bs_free(got);
}

static void assert_missing(const char *name)
{
    bs_item_info info;
    cr_assert_eq(bs_store_info(s, name, false, &info), 0, "%s", bs_error_message());
    cr_assert(!info.exists, "%s was stored", name);
}

/* Files in the server's store directory ns whose name contains part. */
static int count_named(const char *ns, const char *part)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/store/%s", dir, ns);
    DIR *d = opendir(path);
    if (!d) return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strstr(e->d_name, part)) n++;
    closedir(d);
    return n;
}

Test(remote_stream, values_of_every_size_arrive_byte_exact)
{
    const size_t sizes[] = {0, 1, 1000, 1048000, 1048576, (5u << 20) + 3};
    uint8_t *v = pattern((5u << 20) + 3);
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        source src = {.data = v, .len = sizes[i], .piece = 70001};
        cr_assert_eq(bs_store_store_from(s, "data/v", sizes[i], from_source, &src), 0,
                     "%zu: %s", sizes[i], bs_error_message());
        assert_value("data/v", v, sizes[i]);
    }
    free(v);
}

Test(remote_stream, failing_and_short_readers_store_nothing_and_the_next_call_works)
{
    const size_t n = 5u << 20;
    uint8_t *v = pattern(n);
    cr_assert_eq(bs_store_store(s, "data/kept", "old", 3), 0, "%s", bs_error_message());
    const size_t fail_ats[] = {1, 3u << 20}; /* before the first frame, in the middle */
    for (size_t i = 0; i < 2; i++) {
        source src = {.data = v, .len = n, .fail_at = fail_ats[i]};
        cr_assert_eq(bs_store_store_from(s, "data/kept", n, from_source, &src), BS_ERR_IO);
        cr_assert_eq(bs_store_store_from(s, "data/new", n, from_source,
                                         &(source){.data = v, .len = n, .fail_at = fail_ats[i]}),
                     BS_ERR_IO);
        assert_value("data/kept", (const uint8_t *)"old", 3);
        assert_missing("data/new");
    }
    source shorter = {.data = v, .len = n - 1};
    cr_assert_eq(bs_store_store_from(s, "data/kept", n, from_source, &shorter), BS_ERR_IO);
    cr_assert(strstr(bs_error_message(), "ended 1 bytes early"), "%s", bs_error_message());
    assert_value("data/kept", (const uint8_t *)"old", 3);
    /* the server notices the lost connection and removes its temp file */
    bs_store_close(s);
    bs_store_free(s);
    s = NULL;
    char url[4200];
    snprintf(url, sizeof url, "file://%s/store", dir);
    cr_assert_eq(bs_store_new(&s, url, &cfg), 0);
    cr_assert_eq(bs_store_open(s), 0);
    cr_assert_eq(count_named("data", ".tmp"), 0, "a temp file was left");
    source ok = {.data = v, .len = n};
    cr_assert_eq(bs_store_store_from(s, "data/new", n, from_source, &ok), 0);
    assert_value("data/new", v, n);
    free(v);
}

Test(remote_stream, a_value_over_the_server_limit_is_refused_before_reading)
{
    bs_store_close(s);
    bs_store_free(s);
    char url[4200], remote[4200];
    snprintf(url, sizeof url, "serve://%s/store", dir);
    snprintf(remote, sizeof remote, "%s --max-value 1048576", getenv("BORGSTORE_REMOTE_PATH"));
    setenv("BORGSTORE_REMOTE_PATH", remote, 1);
    cr_assert_eq(bs_store_new(&s, url, &cfg), 0);
    cr_assert_eq(bs_store_open(s), 0, "%s", bs_error_message());
    source src = {.data = (const uint8_t *)"", .len = 0, .fail_at = 1};
    cr_assert_eq(bs_store_store_from(s, "data/big", 2u << 20, from_source, &src), BS_ERR_INVALID);
    cr_assert(strstr(bs_error_message(), "2097152 bytes exceed the server's limit of 1048576"),
              "%s", bs_error_message());
    cr_assert_eq(src.pos, 0);
}
