/* The CLI's --cache URL and --cache-ns NS=MODE[,...] options: documented in
 * --help, bad values are usage errors, and a second get is a cache hit. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "testutil.h"

static char *tmp, store[4200], cache[4200];

static void setup(void)
{
    tmp = bs_test_tmpdir();
    snprintf(store, sizeof store, "file://%s/s", tmp);
    snprintf(cache, sizeof cache, "file://%s/c", tmp);
}

static void teardown(void)
{
    bs_test_rmtree(tmp);
    free(tmp);
}

TestSuite(cli_cache, .init = setup, .fini = teardown);

Test(cli_cache, help_documents_the_cache_options)
{
    run_result r;
    BS(&r, NULL, 0, "--help");
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.out, "--cache URL"));
    cr_assert(strstr(r.out, "--cache-ns NS=MODE[,max-age=SECONDS][,size=BYTES][,verify]"));
    run_free(&r);
}

Test(cli_cache, bad_cache_options_are_usage_errors)
{
    run_result r;
    BS(&r, NULL, 0, "--cache", cache, "--cache-ns", "data=fast", store, "ls", "data");
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(strstr(r.err, "fast"), "%s", r.err);
    run_free(&r);
    BS(&r, NULL, 0, "--cache-ns", "data=mirror", store, "ls", "data");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "--cache URL"), "%s", r.err);
    run_free(&r);
    BS(&r, NULL, 0, "--cache", cache, store, "ls", "data");
    cr_assert_eq(r.status, 2);
    run_free(&r);
    BS(&r, NULL, 0, "--cache", cache, "--cache-ns", "data=mirror", "--cache-ns=data/=off",
       store, "ls", "data");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "twice"), "%s", r.err);
    run_free(&r);
}

Test(cli_cache, a_second_get_is_answered_by_the_cache)
{
    run_result r;
    BS(&r, NULL, 0, store, "create");
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_free(&r);
    BS(&r, "0123456789", 10, store, "put", "data/00000001");
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_free(&r);
    for (int round = 0; round < 2; round++) {
        BS(&r, NULL, 0, "--cache", cache, "--cache-ns", "data=writethrough,size=1M", "--stats",
           "--json", store, "get", "data/00000001", "--offset", "-4", "--size", "4");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_eq(r.out_len, 4);
        cr_assert(!memcmp(r.out, "6789", 4));
        const char *want = round ? "\"cache_hits\": 1" : "\"cache_misses\": 1";
        cr_assert(strstr(r.err, want), "round %d: %s", round, r.err);
        if (round) cr_assert(strstr(r.err, "\"backend_load_calls\": 0"), "%s", r.err);
        run_free(&r);
    }
}
