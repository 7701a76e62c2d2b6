/* The rest:// client against a server that misbehaves (hostile_server.py):
 * every bad answer is a clear error, never a crash, a hang or a huge
 * allocation; and Python's reconnect rules (a lost delete redone, finding
 * nothing, is done; a 422 is not retried), and BORGSTORE_RSH with the port. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "borgstore/backend.h"
#include "testutil.h"

static char *tmp;
static bs_backend *b;
static char url[4096], logpath[4200], statepath[4200];

static void setup(void)
{
    tmp = bs_test_tmpdir();
    snprintf(url, sizeof url, "rest://%s/store", tmp);
    snprintf(logpath, sizeof logpath, "%s/requests.log", tmp);
    snprintf(statepath, sizeof statepath, "%s/state", tmp);
    setenv("BS_HOSTILE_LOG", logpath, 1);
    setenv("BORGSTORE_RETRIES", "0", 1);
    setenv("BORGSTORE_RETRY_DELAY", "0", 1);
    setenv("BORGSTORE_TIMEOUT", "20", 1);
}

static void teardown(void)
{
    if (b) bs_backend_free(b);
    b = NULL;
    bs_test_rmtree(tmp);
    free(tmp);
}

TestSuite(rest_hostile, .init = setup, .fini = teardown, .timeout = 60);

/* Opens a backend on the hostile server in mode. */
static void start(const char *mode)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s", getenv("BS_REST_PYTHON"),
             bs_test_source_path("tests/rest/hostile_server.py"));
    setenv("BORGSTORE_REST_REMOTE_PATH", cmd, 1);
    setenv("BS_HOSTILE_MODE", mode, 1);
    cr_assert_eq(bs_backend_new(&b, url, NULL), 0, "%s", bs_error_message());
    cr_assert_eq(bs_backend_open(b), 0, "%s", bs_error_message());
}

static void expect(int rc, int code, const char *text)
{
    cr_assert_eq(rc, code, "rc %d (%s), expected %d: %s", rc, bs_error_id(rc), code,
                 bs_error_message());
    cr_assert(strstr(bs_error_message(), text), "'%s' not in: %s", text, bs_error_message());
}

static int load(void)
{
    uint8_t *d = NULL;
    size_t n = 0;
    int rc = bs_backend_load(b, "data/x", 0, 10, &d, &n);
    bs_free(d);
    return rc;
}

static void load_fails(const char *mode, int code, const char *text)
{
    start(mode);
    expect(load(), code, text);
}

Test(rest_hostile, status_line_without_end) { load_fails("longline", BS_ERR_PROTOCOL, "header line over"); }
Test(rest_hostile, oversized_header) { load_fails("longheader", BS_ERR_PROTOCOL, "header line over"); }
Test(rest_hostile, too_many_headers) { load_fails("manyheaders", BS_ERR_PROTOCOL, "more than 100 header"); }
Test(rest_hostile, bad_content_length) { load_fails("badlength", BS_ERR_PROTOCOL, "malformed Content-Length"); }
Test(rest_hostile, two_content_lengths) { load_fails("twolengths", BS_ERR_PROTOCOL, "two different"); }
Test(rest_hostile, content_length_above_the_range) { load_fails("hugelength", BS_ERR_PROTOCOL, "more than the 10 expected"); }
Test(rest_hostile, no_content_length) { load_fails("nolength", BS_ERR_PROTOCOL, "no Content-Length"); }
Test(rest_hostile, chunked_body) { load_fails("chunked", BS_ERR_PROTOCOL, "chunked"); }
Test(rest_hostile, bad_status) { load_fails("badstatus", BS_ERR_PROTOCOL, "malformed status code"); }
Test(rest_hostile, not_http) { load_fails("nothttp", BS_ERR_PROTOCOL, "no HTTP/1.x status line"); }
Test(rest_hostile, folded_header) { load_fails("folded", BS_ERR_PROTOCOL, "folded"); }
Test(rest_hostile, truncated_body)
{
    start("truncated");
    uint8_t *d = NULL;
    size_t n = 0;
    expect(bs_backend_load(b, "data/x", 0, BS_SIZE_ALL, &d, &n), BS_ERR_CONNECTION,
           "cut short after 10 of 100 bytes");
    cr_assert_null(d);
}
Test(rest_hostile, huge_error_body) { load_fails("hugeerror", BS_ERR_PROTOCOL, "announced 10000000 body bytes"); }

Test(rest_hostile, bad_mtime_in_info)
{
    start("badmtime");
    bs_item_info info;
    expect(bs_backend_info(b, "data/x", &info), BS_ERR_PROTOCOL, "X-BorgStore-Mtime");
}

Test(rest_hostile, bad_list_json)
{
    start("badjson");
    bs_list_iter *it = NULL;
    expect(bs_backend_list_begin(b, "data", &it), BS_ERR_PROTOCOL, "not a JSON array");
    cr_assert_null(it);
}

Test(rest_hostile, bad_list_entry)
{
    start("badentry");
    bs_list_iter *it = NULL;
    expect(bs_backend_list_begin(b, "data", &it), BS_ERR_PROTOCOL, "malformed list entry");
}

Test(rest_hostile, wrong_length_hash)
{
    start("bighash");
    char hex[BS_HASH_HEX_SIZE];
    expect(bs_backend_hash(b, "data/x", BS_HASH_SHA256, hex), BS_ERR_PROTOCOL, "8-character");
}

/* Python's error shape: the reason phrase is the message; 412's body decides. */
Test(rest_hostile, html_errors_map_like_python)
{
    start("html412");
    expect(load(), BS_ERR_MUST_NOT_BE_OPEN, "backend must not be open");
    bs_backend_free(b);
    b = NULL;
    start("html500");
    expect(load(), BS_ERR_IO, "500 Internal Server Error");
    bs_backend_free(b);
    b = NULL;
    start("noreason404");
    expect(load(), BS_ERR_NOT_FOUND, "404");
}

/* A 422 (hash mismatch) is not retried, even with retries allowed. */
Test(rest_hostile, hash_mismatch_is_not_retried)
{
    setenv("BORGSTORE_RETRIES", "3", 1);
    start("html422");
    expect(bs_backend_store(b, "data/x", "v", 1), BS_ERR_INTEGRITY, "please retry");
    size_t len;
    char *log = bs_test_read_file(logpath, &len);
    cr_assert_not_null(log);
    cr_assert_eq(strstr(strstr(log, "POST /data/x") + 1, "POST /data/x"), NULL, "%s", log);
    free(log);
}

/* The connection is lost after the server did the delete: the redone delete
 * finds nothing, which counts as done (Python's swallow_not_found). */
Test(rest_hostile, lost_delete_redone_is_done)
{
    setenv("BORGSTORE_RETRIES", "3", 1);
    setenv("BS_HOSTILE_STATE", statepath, 1);
    start("delete-then-die");
    cr_assert_eq(bs_backend_delete(b, "data/x"), 0, "%s", bs_error_message());
    unsetenv("BS_HOSTILE_STATE");
}

/* Without retries the same loss is an error. */
Test(rest_hostile, lost_delete_without_retries_is_an_error)
{
    setenv("BS_HOSTILE_STATE", statepath, 1);
    start("delete-then-die");
    expect(bs_backend_delete(b, "data/x"), BS_ERR_CONNECTION, "closed the connection");
    unsetenv("BS_HOSTILE_STATE");
}

/* BORGSTORE_RSH gets "-p PORT [user@]host COMMAND" (Python 0.6.0 drops the
 * port; we do not), and the command is borgstore-server-rest's shape. */
Test(rest_hostile, rsh_gets_the_port)
{
    char rsh[4096], cmd[4096], rshlog[4200];
    snprintf(rshlog, sizeof rshlog, "%s/rsh.log", tmp);
    setenv("BS_RSH_LOG", rshlog, 1);
    snprintf(rsh, sizeof rsh, "%s", bs_test_source_path("tests/rest/fake_rsh.sh"));
    setenv("BORGSTORE_RSH", rsh, 1);
    snprintf(cmd, sizeof cmd, "%s %s", getenv("BS_REST_PYTHON"),
             bs_test_source_path("tests/rest/standin_server.py"));
    setenv("BORGSTORE_REST_REMOTE_PATH", cmd, 1);
    snprintf(url, sizeof url, "rest://alice@example.invalid:2222/%s/store", tmp);
    cr_assert_eq(bs_backend_new(&b, url, NULL), 0, "%s", bs_error_message());
    cr_assert_eq(bs_backend_create(b), 0, "%s", bs_error_message());
    cr_assert_eq(bs_backend_open(b), 0, "%s", bs_error_message());
    cr_assert_eq(bs_backend_store(b, "data/x", "hello", 5), 0, "%s", bs_error_message());
    size_t len;
    char *log = bs_test_read_file(rshlog, &len);
    cr_assert_not_null(log);
    char want[8192];
    snprintf(want, sizeof want, "-p\n2222\nalice@example.invalid\n'%s' '%s' '--stdio' '--backend' "
             "'FILE:%s/store'\n", getenv("BS_REST_PYTHON"),
             bs_test_source_path("tests/rest/standin_server.py"), tmp);
    cr_assert_str_eq(log, want);
    free(log);
    bs_backend_close(b);
    unsetenv("BORGSTORE_RSH");
}

/* BORGSTORE_REST_SERVER=borg runs borg's command shape. */
Test(rest_hostile, borg_command_shape)
{
    char rshlog[4200];
    snprintf(rshlog, sizeof rshlog, "%s/rsh.log", tmp);
    setenv("BS_RSH_LOG", rshlog, 1);
    setenv("BORGSTORE_RSH", bs_test_source_path("tests/rest/fake_rsh.sh"), 1);
    setenv("BORGSTORE_REST_SERVER", "borg", 1);
    unsetenv("BORGSTORE_REST_REMOTE_PATH");
    cr_assert_eq(bs_backend_new(&b, "rest://host/repo", NULL), 0, "%s", bs_error_message());
    bs_backend_create(b); /* no borg here: only the command line matters */
    size_t len;
    char *log = bs_test_read_file(rshlog, &len);
    cr_assert_not_null(log);
    cr_assert_str_eq(log, "host\n'borg' 'serve' '--rest' '--backend' 'FILE:repo'\n");
    free(log);
    unsetenv("BORGSTORE_RSH");
    unsetenv("BORGSTORE_REST_SERVER");
}
