/* The RPC core directly: many calls in flight from caller buffers,
 * completions in any order matched by id, the advertised window, deferred
 * errors of discarded calls. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/remote/rpc.h"
#include "tests/helpers/testutil.h"

static char *dir;
static char store[4096];

static void setup(void)
{
    dir = bs_test_tmpdir();
    snprintf(store, sizeof store, "%s/store", dir);
}
static void teardown(void)
{
    bs_test_rmtree(dir);
    free(dir);
}

TestSuite(rpc, .init = setup, .fini = teardown, .timeout = 60);

static bs__rpc *connect_to(const char *prog, const char *mode, int timeout_ms)
{
    char *argv[] = {(char *)prog, (char *)mode, NULL};
    bs_transport *t;
    cr_assert_eq(bs__transport_spawn(&t, argv), 0, "%s", bs_error_message());
    bs__rpc_opts o = {.timeout_ms = timeout_ms};
    bs__rpc *c;
    cr_assert_eq(bs__rpc_connect(&c, t, &o), 0, "%s", bs_error_message());
    return c;
}

static void call_ok(bs__rpc *c, bs__req *r)
{
    bs__reply rep;
    cr_assert_eq(bs__rpc_call(c, r, &rep), 0, "%s", bs_error_message());
    bs__reply_clear(&rep);
}

Test(rpc, many_calls_in_flight_complete_by_id)
{
    bs__rpc *c = connect_to(getenv("BORGSTORE_REMOTE_PATH"), NULL, 10000);
    const bs__hello *h = bs__rpc_server(c);
    cr_assert_eq(h->max_inflight, 128);
    bs__req r = {.method = BS_M_CREATE, .path = store};
    call_ok(c, &r);
    r = (bs__req){.method = BS_M_OPEN, .path = store};
    call_ok(c, &r);

    enum { N = 1000, LEN = 1024 };
    static uint8_t vals[N][LEN];
    static char names[N][32];
    static uint32_t ids[N];
    size_t peak = 0;
    for (int i = 0; i < N; i++) { /* all submitted before any wait */
        bs_test_fill(vals[i], LEN, (uint64_t)i);
        snprintf(names[i], sizeof names[i], "data/%04d", i);
        bs__req s = {.method = BS_M_STORE, .name = names[i], .data = vals[i], .data_len = LEN};
        cr_assert_eq(bs__rpc_submit(c, &s, &ids[i]), 0, "%s", bs_error_message());
        if (bs__rpc_inflight(c) > peak) peak = bs__rpc_inflight(c);
        if (i % 100 == 99) { /* collect what has completed so far */
            uint32_t id;
            while (bs__rpc_poll(c, &id, 0) == 1) {
                bs__reply rep;
                cr_assert_eq(bs__rpc_wait(c, id, &rep), 0);
            }
        }
    }
    cr_assert_leq(peak, 128, "never more than the window in flight");
    cr_assert_gt(peak, 1, "more than one in flight");
    uint32_t id;
    int rc;
    while ((rc = bs__rpc_poll(c, &id, 5000)) == 1) {
        bs__reply rep;
        cr_assert_eq(bs__rpc_wait(c, id, &rep), 0);
    }
    cr_assert_eq(rc, 0);
    cr_assert_eq(bs__rpc_inflight(c), 0);

    /* loads in flight, waited for in reverse order */
    for (int i = 0; i < 100; i++) {
        bs__req l = {.method = BS_M_LOAD, .name = names[i], .size = BS_SIZE_ALL};
        cr_assert_eq(bs__rpc_submit(c, &l, &ids[i]), 0);
    }
    for (int i = 99; i >= 0; i--) {
        bs__reply rep;
        cr_assert_eq(bs__rpc_wait(c, ids[i], &rep), 0);
        cr_assert_eq(rep.value_len, LEN);
        cr_assert_eq(memcmp(rep.value, vals[i], LEN), 0, "value %d", i);
        bs__reply_clear(&rep);
    }
    bs__reply rep;
    cr_assert_eq(bs__rpc_wait(c, ids[0], &rep), BS_ERR_INVALID, "already collected");
    bs__rpc_free(c);
}

Test(rpc, discarded_calls_report_errors_at_the_next_sync_point)
{
    bs__rpc *c = connect_to(getenv("BORGSTORE_REMOTE_PATH"), NULL, 10000);
    bs__req r = {.method = BS_M_CREATE, .path = store};
    call_ok(c, &r);
    r = (bs__req){.method = BS_M_OPEN, .path = store};
    call_ok(c, &r);
    uint32_t id;
    for (int i = 0; i < 10; i++) {
        bs__req d = {.method = BS_M_DELETE, .name = i == 5 ? "missing" : "data/x"};
        if (i != 5) {
            bs__req s = {.method = BS_M_STORE, .name = "data/x", .data = (const uint8_t *)"x",
                         .data_len = 1};
            cr_assert_eq(bs__rpc_submit(c, &s, &id), 0);
            bs__rpc_discard(c, id);
        }
        cr_assert_eq(bs__rpc_submit(c, &d, &id), 0);
        bs__rpc_discard(c, id);
    }
    r = (bs__req){.method = BS_M_PING}; /* a sync point */
    call_ok(c, &r);
    size_t failed;
    cr_assert_eq(bs__rpc_take_deferred(c, &failed), BS_ERR_NOT_FOUND);
    cr_assert_eq(failed, 1);
    cr_assert_eq(bs__rpc_take_deferred(c, &failed), 0, "reported once");
    cr_assert_eq(failed, 0);
    bs__rpc_free(c);
}

Test(rpc, the_advertised_window_bounds_submissions)
{
    /* the fake server advertises 4 in flight and never answers */
    bs__rpc *c = connect_to(getenv("BS_FAKE_SERVER"), "silent", 300);
    cr_assert_eq(bs__rpc_server(c)->max_inflight, 4);
    uint32_t id;
    for (int i = 0; i < 4; i++) {
        bs__req p = {.method = BS_M_PING};
        cr_assert_eq(bs__rpc_submit(c, &p, &id), 0);
    }
    cr_assert_eq(bs__rpc_inflight(c), 4);
    bs__req p = {.method = BS_M_PING};
    cr_assert_eq(bs__rpc_submit(c, &p, &id), BS_ERR_TIMEOUT, "the fifth waits, then times out");
    cr_assert(bs__rpc_broken(c));
    bs__reply rep;
    cr_assert_eq(bs__rpc_wait(c, 2, &rep), BS_ERR_TIMEOUT, "outstanding calls fail too");
    bs__rpc_free(c);
}

Test(rpc, ping_echoes_data)
{
    bs__rpc *c = connect_to(getenv("BORGSTORE_REMOTE_PATH"), NULL, 10000);
    uint8_t buf[1024];
    bs_test_fill(buf, sizeof buf, 9);
    bs__req p = {.method = BS_M_PING, .data = buf, .data_len = sizeof buf, .has_data = true};
    bs__reply rep;
    cr_assert_eq(bs__rpc_call(c, &p, &rep), 0);
    cr_assert_eq(rep.value_len, sizeof buf);
    cr_assert_eq(memcmp(rep.value, buf, sizeof buf), 0);
    bs__reply_clear(&rep);
    bs__rpc_free(c);
}
