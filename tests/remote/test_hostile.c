/* A malicious server: the client bounds what one can make it do. LOG frames
 * and trickled bytes do not hold a call past its deadline, pages without
 * entries are not followed forever, and an ERR frame's text reaches the
 * terminal only as printable characters. Each runs against the fake server
 * (tests/remote/fake_server.c); Criterion's per-test timeout is the bound
 * that fails a client which would wait forever. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "borgstore/backend.h"
#include "client/remote/rpc.h"
#include "tests/helpers/testutil.h"

static char *dir;

static void setup(void)
{
    dir = bs_test_tmpdir();
    setenv("BORGSTORE_RETRIES", "0", 1);
}
static void teardown(void)
{
    bs_test_rmtree(dir);
    free(dir);
}

TestSuite(hostile, .init = setup, .fini = teardown, .timeout = 60);

static bs__rpc *connect_fake(const char *mode, int timeout_ms)
{
    char *argv[] = {getenv("BS_FAKE_SERVER"), (char *)mode, NULL};
    bs_transport *t;
    cr_assert_eq(bs__transport_spawn(&t, argv), 0, "%s", bs_error_message());
    bs__rpc_opts o = {.timeout_ms = timeout_ms};
    bs__rpc *c;
    cr_assert_eq(bs__rpc_connect(&c, t, &o), 0, "%s", bs_error_message());
    return c;
}

static int ping(bs__rpc *c)
{
    bs__req p = {.method = BS_M_PING};
    bs__reply rep;
    int rc = bs__rpc_call(c, &p, &rep);
    bs__reply_clear(&rep);
    return rc;
}

static void assert_printable(const char *m)
{
    for (const unsigned char *p = (const unsigned char *)m; *p; p++)
        cr_assert(*p >= 0x20 && *p < 0x7f, "byte 0x%02x at %zu in \"%s\"", *p,
                  (size_t)(p - (const unsigned char *)m), m);
}

Test(hostile, err_text_is_cleaned_of_control_bytes)
{
    bs__rpc *c = connect_fake("err-escape", 10000);
    cr_assert_eq(ping(c), BS_ERR_NOT_FOUND);
    const char *m = bs_error_message();
    cr_assert(strstr(m, "gone"), "%s", m);
    cr_assert(strstr(m, "fake line"), "the text is kept, only made printable: %s", m);
    assert_printable(m);
    bs__rpc_free(c);
}

Test(hostile, log_frames_do_not_extend_the_reply_deadline)
{
    /* a LOG frame every 0.3 s, forever, never an answer */
    bs__rpc *c = connect_fake("log-flood", 1000);
    cr_assert_eq(ping(c), BS_ERR_TIMEOUT, "%s", bs_error_message());
    cr_assert(bs__rpc_broken(c));
    bs__rpc_free(c);
}

Test(hostile, a_reply_trickled_byte_by_byte_times_out)
{
    /* one byte every 0.1 s: the 2 KB reply would take minutes */
    bs__rpc *c = connect_fake("trickle", 1000);
    cr_assert_eq(ping(c), BS_ERR_TIMEOUT, "%s", bs_error_message());
    cr_assert(strstr(bs_error_message(), "no answer"), "%s", bs_error_message());
    bs__rpc_free(c);
}

Test(hostile, empty_list_pages_with_a_cursor_are_followed_a_bounded_number_of_times)
{
    char cmd[4200], url[4200];
    snprintf(cmd, sizeof cmd, "%s empty-pages", getenv("BS_FAKE_SERVER"));
    setenv("BORGSTORE_REMOTE_PATH", cmd, 1);
    snprintf(url, sizeof url, "serve://%s/store", dir);
    bs_backend *b;
    cr_assert_eq(bs_backend_new(&b, url, NULL), 0, "%s", bs_error_message());
    cr_assert_eq(bs_backend_open(b), 0, "%s", bs_error_message());
    bs_list_iter *it;
    int rc = bs_backend_list_begin(b, "", &it);
    if (!rc) {
        bs_item_info e;
        rc = bs_backend_list_next(it, &e);
        bs_backend_list_end(it);
    }
    cr_assert_eq(rc, BS_ERR_PROTOCOL, "%s", bs_error_message());
    cr_assert(strstr(bs_error_message(), "empty"), "%s", bs_error_message());
    bs_backend_free(b);
}
