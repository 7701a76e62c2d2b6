/* Large values through the CLI: get streams the value in pieces, and put
 * of a regular file streams it in, so memory stays bounded whatever the
 * value's size. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "borgstore/borgstore.h"
#include "run.h"
#include "testutil.h"

static char *tmp, *url;

static void setup(void)
{
    tmp = bs_test_tmpdir();
    cr_assert(asprintf(&url, "file://%s/store", tmp) > 0);
}

static void teardown(void)
{
    bs_test_rmtree(tmp);
    free(tmp);
    free(url);
}

TestSuite(stream, .init = setup, .fini = teardown);

#define ASSERT_OK_RUN(r)                                                                \
    cr_assert_eq((r).status, 0, "exit %d; stderr: %s", (r).status, (r).err)

/* Runs argv with stdout on /dev/null; its peak resident memory in KiB. */
static long run_peak_kib(const char *const argv[])
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout)) _exit(127);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st;
    struct rusage ru;
    cr_assert_eq(wait4(pid, &st, 0, &ru), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
    return ru.ru_maxrss;
}

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

Test(stream, get_of_a_large_value_keeps_memory_bounded, .timeout = 180)
{
    size_t n = 96u << 20;
    uint8_t *data = malloc(n);
    bs_test_fill(data, n, 96);
    char in[4096], out[4096];
    snprintf(in, sizeof in, "%s/in.bin", tmp);
    snprintf(out, sizeof out, "%s/out.bin", tmp);
    cr_assert_eq(bs_test_write_file(in, data, n), 0);
    free(data); /* a forked child counts the parent's pages until exec */
    run_result r;
    BS(&r, NULL, 0, url, "create");
    ASSERT_OK_RUN(r);
    run_free(&r);
    BS(&r, NULL, 0, url, "put", "config/big", in);
    ASSERT_OK_RUN(r);
    run_free(&r);
    const char *argv[] = {bs_cli_path(), url, "get", "config/big", out, NULL};
    long peak = run_peak_kib(argv);
    size_t got_len, want_len;
    char *got = bs_test_read_file(out, &got_len), *want = bs_test_read_file(in, &want_len);
    cr_assert_eq(got_len, n);
    cr_assert(!memcmp(got, want, n), "the value came back different");
    free(got);
    free(want);
#ifndef SANITIZED /* the sanitizers keep freed pieces in quarantine */
    cr_assert_lt(peak, 48 * 1024, "get of 96 MiB peaked at %ld KiB", peak);
#else
    (void)peak;
#endif
}

Test(stream, serve_get_streams_past_the_server_value_limit_and_put_says_the_limit)
{
    size_t n = 3u << 20;
    uint8_t *data = malloc(n);
    bs_test_fill(data, n, 3);
    char in[4096], serve_url[4096], remote[4096];
    snprintf(in, sizeof in, "%s/in.bin", tmp);
    cr_assert_eq(bs_test_write_file(in, data, n), 0);
    run_result r;
    BS(&r, NULL, 0, url, "create");
    ASSERT_OK_RUN(r);
    run_free(&r);
    BS(&r, NULL, 0, url, "put", "config/big", in);
    ASSERT_OK_RUN(r);
    run_free(&r);
    snprintf(serve_url, sizeof serve_url, "serve://%s/store", tmp);
    snprintf(remote, sizeof remote, "%s --max-value 1048576",
             bs_test_build_path("borgstore-serve"));
    setenv("BORGSTORE_REMOTE_PATH", remote, 1);
    BS(&r, NULL, 0, serve_url, "get", "config/big");
    ASSERT_OK_RUN(r);
    cr_assert_eq(r.out_len, n);
    cr_assert(!memcmp(r.out, data, n));
    run_free(&r);
    BS(&r, NULL, 0, serve_url, "put", "config/again", in);
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_assert(strstr(r.err, "3145728 bytes exceed the server's limit of 1048576 bytes per value "
                            "(borgstore-serve --max-value"),
              "%s", r.err);
    run_free(&r);
    free(data);
}

/* put of a 96 MiB file to url_ peaks well below the file's size, and the
 * value comes back byte-exact. */
static void put_bounded(const char *url_)
{
    size_t n = 96u << 20;
    uint8_t *data = malloc(n);
    bs_test_fill(data, n, 97);
    char in[4096];
    snprintf(in, sizeof in, "%s/in.bin", tmp);
    cr_assert_eq(bs_test_write_file(in, data, n), 0);
    free(data); /* a forked child counts the parent's pages until exec */
    run_result r;
    BS(&r, NULL, 0, url, "create");
    ASSERT_OK_RUN(r);
    run_free(&r);
    const char *argv[] = {bs_cli_path(), url_, "put", "config/big", in, NULL};
    long peak = run_peak_kib(argv);
    char out[4096];
    snprintf(out, sizeof out, "%s/out.bin", tmp);
    BS(&r, NULL, 0, url, "get", "config/big", out);
    ASSERT_OK_RUN(r);
    run_free(&r);
    size_t got_len, want_len;
    char *got = bs_test_read_file(out, &got_len), *want = bs_test_read_file(in, &want_len);
    cr_assert_eq(got_len, n);
    cr_assert(!memcmp(got, want, n), "the value came back different");
    free(got);
    free(want);
#ifndef SANITIZED
    cr_assert_lt(peak, 48 * 1024, "put of 96 MiB to %s peaked at %ld KiB", url_, peak);
#else
    (void)peak;
#endif
}

Test(stream, put_of_a_large_file_keeps_memory_bounded, .timeout = 180)
{
    put_bounded(url);
}
