/* Large values through the CLI: get streams the value in pieces, and put
 * of a regular file streams it in, so memory stays bounded whatever the
 * value's size. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
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

/* Runs argv with its address space capped at limit_kib (the soft limit:
 * a child may raise it again); whether it exited 0. */
static bool run_capped(const char *const argv[], long limit_kib)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_AS, &rl)) _exit(127);
        rl.rlim_cur = (rlim_t)limit_kib * 1024;
        if (setrlimit(RLIMIT_AS, &rl)) _exit(127);
        if (!freopen("/dev/null", "w", stdout)) _exit(127);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* put of a 96 MiB file to url_ stays well below the file's size (peak RSS;
 * over serve:// the server's memory would count in it too, so there the
 * CLI runs with its address space capped instead), and the value comes
 * back byte-exact. */
static void put_bounded(const char *url_, bool capped)
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
    long peak = 0;
#ifndef SANITIZED /* the sanitizers reserve terabytes of address space */
    if (capped)
        cr_assert(run_capped(argv, 48 * 1024), "put of 96 MiB to %s needs over 48 MiB", url_);
    else
        peak = run_peak_kib(argv);
#else
    peak = run_peak_kib(argv);
    (void)run_capped;
    (void)capped;
#endif
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
    if (!capped) cr_assert_lt(peak, 48 * 1024, "put of 96 MiB to %s peaked at %ld KiB", url_, peak);
#else
    (void)peak;
#endif
}

Test(stream, put_of_a_large_file_keeps_memory_bounded, .timeout = 180)
{
    put_bounded(url, false);
}

Test(stream, put_of_a_large_file_over_serve_keeps_client_memory_bounded, .timeout = 180)
{
    /* the server runs uncapped (it gathers a value whole before storing) */
    char wrap[4096], serve_url[4096];
    snprintf(wrap, sizeof wrap, "%s/serve.sh", tmp);
    FILE *f = fopen(wrap, "w");
    cr_assert_not_null(f);
    fprintf(f, "#!/bin/sh\nulimit -S -v unlimited\nexec '%s' \"$@\"\n",
            bs_test_build_path("borgstore-serve"));
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(chmod(wrap, 0700), 0);
    setenv("BORGSTORE_REMOTE_PATH", wrap, 1);
    snprintf(serve_url, sizeof serve_url, "serve://%s/store", tmp);
    put_bounded(serve_url, true);
}
