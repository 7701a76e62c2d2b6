/* The remote backend through the public backend API: serve:// against the
 * real borgstore-serve (values, listings, reconnects, retried deletes,
 * in-band logs, BORGSTORE_RSH) and against a fake server that breaks the
 * protocol (banner instead of magic, unknown and duplicate ids, oversized
 * frames, wrong hashes, silence). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "borgstore/backend.h"
#include "tests/helpers/testutil.h"

static char *dir;
static char url[4200];
static char serve_path[4096];

static void setup(void)
{
    dir = bs_test_tmpdir();
    snprintf(url, sizeof url, "serve://%s/store", dir);
    snprintf(serve_path, sizeof serve_path, "%s", getenv("BORGSTORE_REMOTE_PATH"));
    setenv("BORGSTORE_RETRY_DELAY", "0.01", 1);
    setenv("BORGSTORE_TIMEOUT", "10", 1);
}

static void teardown(void)
{
    bs_test_rmtree(dir);
    free(dir);
}

TestSuite(remote, .init = setup, .fini = teardown, .timeout = 60);

static const char *P(const char *rel)
{
    static char buf[4][4200];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, rel);
    return buf[i];
}

/* A shell script in the temp dir; returns its path. */
static const char *script(const char *name, const char *body)
{
    const char *path = P(name);
    char text[41000];
    snprintf(text, sizeof text, "#!/bin/sh\n%s\n", body);
    cr_assert_eq(bs_test_write_file(path, text, strlen(text)), 0);
    chmod(path, 0755);
    return path;
}

static bs_backend *opened(void)
{
    bs_backend *b;
    cr_assert_eq(bs_backend_new(&b, url, NULL), 0, "%s", bs_error_message());
    cr_assert_eq(bs_backend_create(b), 0, "%s", bs_error_message());
    cr_assert_eq(bs_backend_open(b), 0, "%s", bs_error_message());
    return b;
}

static int read_int_file(const char *path)
{
    char *s = bs_test_read_file(path, NULL);
    int n = s ? atoi(s) : -1;
    free(s);
    return n;
}

Test(remote, values_of_every_size_and_ranges)
{
    bs_backend *b = opened();
    size_t sizes[] = {0, 1, 1000, 1048000, 1048576, 8 * 1024 * 1024 + 3};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint8_t *v = malloc(sizes[i] + 1);
        bs_test_fill(v, sizes[i], i);
        char name[32];
        snprintf(name, sizeof name, "data/v%zu", i);
        cr_assert_eq(bs_backend_store(b, name, v, sizes[i]), 0, "%s", bs_error_message());
        uint8_t *back;
        size_t len;
        cr_assert_eq(bs_backend_load(b, name, 0, BS_SIZE_ALL, &back, &len), 0);
        cr_assert_eq(len, sizes[i]);
        cr_assert_eq(memcmp(back, v, len), 0, "size %zu", sizes[i]);
        bs_free(back);
        if (sizes[i] > 100) {
            cr_assert_eq(bs_backend_load(b, name, -64, BS_SIZE_ALL, &back, &len), 0);
            cr_assert_eq(len, 64);
            cr_assert_eq(memcmp(back, v + sizes[i] - 64, 64), 0);
            bs_free(back);
        }
        free(v);
    }
    bs_backend_free(b);
}

Test(remote, a_banner_instead_of_the_magic_is_shown)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "%s banner", getenv("BS_FAKE_SERVER"));
    setenv("BORGSTORE_REMOTE_PATH", cmd, 1);
    bs_backend *b;
    cr_assert_eq(bs_backend_new(&b, url, NULL), 0);
    cr_assert_eq(bs_backend_create(b), BS_ERR_PROTOCOL);
    cr_assert_not_null(strstr(bs_error_message(), "Welcome to Example Hosting!"), "%s",
                       bs_error_message());
    cr_assert_not_null(strstr(bs_error_message(), "Last login"), "%s", bs_error_message());
    bs_backend_free(b);
}

Test(remote, command_not_found_shows_the_remote_stderr)
{
    setenv("BORGSTORE_REMOTE_PATH",
           script("nf.sh", "echo 'sh: 1: borgstore-serve: not found' >&2\nexit 127"), 1);
    bs_backend *b;
    cr_assert_eq(bs_backend_new(&b, url, NULL), 0);
    cr_assert_eq(bs_backend_create(b), BS_ERR_CONNECTION);
    cr_assert_not_null(strstr(bs_error_message(), "borgstore-serve: not found"), "%s",
                       bs_error_message());
    cr_assert_not_null(strstr(bs_error_message(), "exit status 127"), "%s", bs_error_message());
    bs_backend_free(b);

    setenv("BORGSTORE_REMOTE_PATH", "/nonexistent/borgstore-serve", 1);
    cr_assert_eq(bs_backend_new(&b, url, NULL), 0);
    cr_assert_eq(bs_backend_open(b), BS_ERR_CONNECTION);
    cr_assert_not_null(strstr(bs_error_message(), "cannot run"), "%s", bs_error_message());
    bs_backend_free(b);
}

/* borgstore-serve behind a wrapper that records each start. */
static void counting_wrapper(void)
{
    char body[40000];
    snprintf(body, sizeof body,
             "echo $$ >> '%s'\n"
             "n=$(cat '%s' 2>/dev/null || echo 0); echo $((n+1)) > '%s'\n"
             "exec '%s'",
             P("pids"), P("count"), P("count"), serve_path);
    setenv("BORGSTORE_REMOTE_PATH", script("wrap.sh", body), 1);
}

static pid_t last_pid(void)
{
    char *s = bs_test_read_file(P("pids"), NULL);
    cr_assert_not_null(s);
    char *last = s, *nl;
    while ((nl = strchr(last, '\n')) && nl[1]) last = nl + 1;
    pid_t p = (pid_t)atoi(last);
    free(s);
    return p;
}

Test(remote, reconnects_after_the_server_is_killed)
{
    counting_wrapper();
    bs_backend *b = opened();
    cr_assert_eq(bs_backend_store(b, "data/a", "alpha", 5), 0);
    kill(last_pid(), SIGKILL);
    uint8_t *v;
    size_t len;
    cr_assert_eq(bs_backend_load(b, "data/a", 0, BS_SIZE_ALL, &v, &len), 0, "%s",
                 bs_error_message());
    cr_assert_eq(len, 5);
    bs_free(v);
    cr_assert_eq(read_int_file(P("count")), 2, "one new connection");
    kill(last_pid(), SIGKILL);
    cr_assert_eq(bs_backend_store(b, "data/b", "beta", 4), 0, "store is retried");
    kill(last_pid(), SIGKILL);
    cr_assert_eq(bs_backend_delete(b, "data/a"), 0, "delete is retried");
    bs_item_info info;
    cr_assert_eq(bs_backend_info(b, "data/a", &info), 0);
    cr_assert(!info.exists);
    cr_assert_eq(bs_backend_info(b, "data/b", &info), 0);
    cr_assert(info.exists);
    cr_assert_eq(read_int_file(P("count")), 4);
    bs_backend_free(b);
}

Test(remote, bounded_reconnects_then_a_connection_error)
{
    counting_wrapper();
    setenv("BORGSTORE_RETRIES", "2", 1);
    bs_backend *b = opened();
    /* from now on every start fails */
    char body[256];
    snprintf(body, sizeof body, "echo broken >&2\nexit 1");
    setenv("BORGSTORE_REMOTE_PATH", script("dead.sh", body), 1);
    kill(last_pid(), SIGKILL);
    bs_item_info info;
    cr_assert_eq(bs_backend_info(b, "x", &info), BS_ERR_CONNECTION);
    cr_assert_not_null(strstr(bs_error_message(), "broken"), "%s", bs_error_message());
    bs_backend_free(b);
    unsetenv("BORGSTORE_RETRIES");
}

Test(remote, a_retried_delete_whose_reply_was_lost_counts_as_done)
{
    /* start 1 records the server's output, start 2 cuts it inside the reply
     * to the delete (after the server deleted), start 3 is plain */
    char body[40000];
    snprintf(body, sizeof body,
             "n=$(cat '%s' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '%s'\n"
             "if [ $n = 1 ]; then '%s' | tee '%s'; exit; fi\n"
             "if [ $n = 2 ]; then '%s' | dd bs=1 count=$(cat '%s') 2>/dev/null; exit; fi\n"
             "exec '%s'",
             P("count"), P("count"), serve_path, P("trace"), serve_path, P("cut"), serve_path);
    setenv("BORGSTORE_REMOTE_PATH", script("cut.sh", body), 1);
    bs_backend *b = opened();
    cr_assert_eq(bs_backend_store(b, "data/victim", "v", 1), 0);
    bs_backend_free(b);
    /* preamble + hello answer + the 8-byte open answer + 4 bytes of the next frame */
    size_t tlen;
    uint8_t *trace = (uint8_t *)bs_test_read_file(P("trace"), &tlen);
    cr_assert_not_null(trace);
    cr_assert_gt(tlen, 12);
    uint32_t hello = (uint32_t)trace[8] << 24 | trace[9] << 16 | trace[10] << 8 | trace[11];
    free(trace);
    char cut[32];
    snprintf(cut, sizeof cut, "%u", 8 + 4 + hello + 8 + 4);
    bs_test_write_file(P("cut"), cut, strlen(cut));

    cr_assert_eq(bs_backend_new(&b, url, NULL), 0);
    cr_assert_eq(bs_backend_open(b), 0, "%s", bs_error_message());
    cr_assert_eq(bs_backend_delete(b, "data/victim"), 0, "%s", bs_error_message());
    cr_assert_eq(read_int_file(P("count")), 3, "the delete was repeated on a new connection");
    bs_item_info info;
    cr_assert_eq(bs_backend_info(b, "data/victim", &info), 0);
    cr_assert(!info.exists);
    /* a delete that really finds nothing still says so */
    cr_assert_eq(bs_backend_delete(b, "data/victim"), BS_ERR_NOT_FOUND);
    bs_backend_free(b);
}

Test(remote, listing_continues_across_a_reconnect)
{
    counting_wrapper();
    bs_backend *b = opened();
    enum { N = 2100 };
    char name[32];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "d/%05d", i);
        cr_assert_eq(bs_backend_store(b, name, "", 0), 0);
    }
    bs_list_iter *it;
    cr_assert_eq(bs_backend_list_begin(b, "d", &it), 0);
    bs_item_info e;
    int n = 0, rc;
    while ((rc = bs_backend_list_next(it, &e)) == 1) {
        snprintf(name, sizeof name, "%05d", n);
        cr_assert_str_eq(e.name, name, "entry %d in order, exactly once", n);
        if (++n == 1500) kill(last_pid(), SIGKILL);
    }
    cr_assert_eq(rc, 0, "%s", bs_error_message());
    cr_assert_eq(n, N);
    bs_backend_list_end(it);
    cr_assert_eq(read_int_file(P("count")), 2);
    bs_backend_free(b);
}

static int fake(const char *mode)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "%s %s", getenv("BS_FAKE_SERVER"), mode);
    setenv("BORGSTORE_REMOTE_PATH", cmd, 1);
    bs_backend *b;
    cr_assert_eq(bs_backend_new(&b, url, NULL), 0);
    int rc = bs_backend_open(b);
    if (!rc) {
        bs_item_info info;
        rc = bs_backend_info(b, "x", &info);
        if (!rc) {
            uint8_t *v;
            size_t len;
            rc = bs_backend_load(b, "x", 0, BS_SIZE_ALL, &v, &len);
            if (!rc) bs_free(v);
        }
    }
    bs_backend_free(b);
    return rc;
}

Test(remote, protocol_violations_are_errors_not_crashes)
{
    setenv("BORGSTORE_RETRIES", "0", 1);
    cr_assert_eq(fake("unknown-id"), BS_ERR_PROTOCOL);
    cr_assert_not_null(strstr(bs_error_message(), "unknown"), "%s", bs_error_message());
    cr_assert_eq(fake("duplicate"), BS_ERR_PROTOCOL);
    cr_assert_eq(fake("huge-frame"), BS_ERR_PROTOCOL);
    cr_assert_eq(fake("huge-count"), BS_ERR_PROTOCOL);
    cr_assert_eq(fake("garbage"), BS_ERR_PROTOCOL);
    cr_assert_eq(fake("bad-hash"), BS_ERR_INTEGRITY, "the load reply's hash is checked");
    /* values in DATA frames: the hash in the last frame, nowhere else */
    cr_assert_eq(fake("frames-ok"), 0, "%s", bs_error_message());
    cr_assert_eq(fake("frames-bad-hash"), BS_ERR_INTEGRITY, "the trailing hash is checked");
    cr_assert_eq(fake("frames-no-hash"), BS_ERR_PROTOCOL);
    cr_assert_not_null(strstr(bs_error_message(), "lacks its hash"), "%s", bs_error_message());
    cr_assert_eq(fake("frames-early-hash"), BS_ERR_PROTOCOL);
    cr_assert_eq(fake("frames-header-hash"), BS_ERR_PROTOCOL);
    unsetenv("BORGSTORE_RETRIES");
}

Test(remote, a_silent_server_times_out)
{
    setenv("BORGSTORE_RETRIES", "0", 1);
    setenv("BORGSTORE_TIMEOUT", "0.3", 1);
    cr_assert_eq(fake("silent"), BS_ERR_TIMEOUT);
    unsetenv("BORGSTORE_RETRIES");
}

Test(remote, server_logs_arrive_in_band)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "%s --log-level debug", serve_path);
    setenv("BORGSTORE_REMOTE_PATH", cmd, 1);
    setenv("BORGSTORE_REMOTE_LOG_LEVEL", "debug", 1);
    /* capture our own stderr */
    fflush(stderr);
    int saved = dup(2);
    int fd = open(P("stderr.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
    bs_backend *b = opened();
    cr_assert_eq(bs_backend_store(b, "k", "v", 1), 0);
    bs_backend_free(b);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    unsetenv("BORGSTORE_REMOTE_LOG_LEVEL");
    char *text = bs_test_read_file(P("stderr.txt"), NULL);
    cr_assert_not_null(text);
    cr_assert_not_null(strstr(text, "borgstore-serve: debug: store k"), "%s", text);
    cr_assert_null(strstr(text, dir), "no server paths in the log: %s", text);
    free(text);
}

Test(remote, ssh_urls_work_through_borgstore_rsh)
{
    /* a stand-in for ssh: records its arguments, runs the remote command */
    char body[4096];
    snprintf(body, sizeof body,
             "printf '%%s\\n' \"$@\" > '%s'\n"
             "for last; do :; done\n"
             "exec sh -c \"$last\"",
             P("ssh-args"));
    char rsh[4300];
    snprintf(rsh, sizeof rsh, "'%s' -o 'Some Option=1'", script("fake ssh.sh", body));
    setenv("BORGSTORE_RSH", rsh, 1);
    char sshurl[4300];
    snprintf(sshurl, sizeof sshurl, "ssh://alice@example.org:2222/%s/store", dir);
    bs_backend *b;
    cr_assert_eq(bs_backend_new(&b, sshurl, NULL), 0, "%s", bs_error_message());
    cr_assert_eq(bs_backend_create(b), 0, "%s", bs_error_message());
    cr_assert_eq(bs_backend_open(b), 0, "%s", bs_error_message());
    cr_assert_eq(bs_backend_store(b, "k", "v", 1), 0);
    bs_backend_free(b);
    unsetenv("BORGSTORE_RSH");
    cr_assert_eq(access(P("store/k"), F_OK), 0, "stored where the URL said");
    char *args = bs_test_read_file(P("ssh-args"), NULL);
    char want[4400];
    snprintf(want, sizeof want, "-o\nSome Option=1\n-p\n2222\nalice@example.org\n'%s'\n",
             serve_path);
    cr_assert_str_eq(args, want);
    free(args);
}

Test(remote, server_side_limits_are_honoured_by_the_client)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "%s --max-value 1000 --max-frame 65536", serve_path);
    setenv("BORGSTORE_REMOTE_PATH", cmd, 1);
    bs_backend *b = opened();
    uint8_t big[1001] = {0};
    cr_assert_eq(bs_backend_store(b, "k", big, sizeof big), BS_ERR_INVALID);
    cr_assert_eq(bs_backend_store(b, "k", big, 1000), 0);
    bs_backend_free(b);
}

/* ---- batches ---- */

typedef struct seen {
    int calls[4000];
    int failed;
    int kill_after; /* kill the server after this many results (0: never) */
    int results;
    size_t len;
    uint8_t *expect;
} seen;

static int on_result(void *ctx, size_t index, bs_op_result *res)
{
    seen *s = ctx;
    s->calls[index]++;
    if (res->rc) s->failed++;
    if (res->data && s->expect)
        cr_assert_eq(memcmp(res->data, s->expect + index, res->len), 0, "value %zu", index);
    if (++s->results == s->kill_after) kill(last_pid(), SIGKILL);
    return 0;
}

Test(remote, a_batch_survives_a_killed_server_and_reports_each_op_once)
{
    counting_wrapper();
    bs_backend *b = opened();
    cr_assert_eq(bs_backend_window(b), 128, "the server's window");
    enum { N = 3000, LEN = 512 };
    static bs_op ops[N];
    static char names[N][32];
    uint8_t *pool = malloc(N + LEN);
    bs_test_fill(pool, N + LEN, 5);
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "data/%04d", i);
        ops[i] = (bs_op){.kind = BS_OP_STORE, .name = names[i], .data = pool + i, .len = LEN};
    }
    static seen s;
    memset(&s, 0, sizeof s);
    s.kill_after = 1000;
    cr_assert_eq(bs_backend_batch(b, ops, N, 0, on_result, &s), 0, "%s", bs_error_message());
    for (int i = 0; i < N; i++) cr_assert_eq(s.calls[i], 1, "store %d reported once", i);
    cr_assert_eq(s.failed, 0);
    cr_assert_eq(read_int_file(P("count")), 2, "one reconnect");
    /* load them back in a batch, killing the server again */
    for (int i = 0; i < N; i++) ops[i] = (bs_op){.kind = BS_OP_LOAD, .name = names[i], .size = BS_SIZE_ALL};
    memset(&s, 0, sizeof s);
    s.kill_after = 2000;
    s.expect = pool;
    cr_assert_eq(bs_backend_batch(b, ops, N, 0, on_result, &s), 0, "%s", bs_error_message());
    for (int i = 0; i < N; i++) cr_assert_eq(s.calls[i], 1);
    cr_assert_eq(s.failed, 0);
    /* deletes across a kill: each reported once, all succeed */
    for (int i = 0; i < N; i++) ops[i] = (bs_op){.kind = BS_OP_DELETE, .name = names[i]};
    memset(&s, 0, sizeof s);
    s.kill_after = 500;
    cr_assert_eq(bs_backend_batch(b, ops, N, 0, on_result, &s), 0, "%s", bs_error_message());
    cr_assert_eq(s.failed, 0, "a repeated delete that finds nothing is done");
    bs_list_iter *it;
    cr_assert_eq(bs_backend_list_begin(b, "data", &it), 0);
    bs_item_info e;
    cr_assert_eq(bs_backend_list_next(it, &e), 0, "everything deleted");
    bs_backend_list_end(it);
    free(pool);
    bs_backend_free(b);
}

Test(remote, fire_and_forget_errors_come_back_at_flush)
{
    bs_backend *b = opened();
    char name[32];
    uint8_t value[2000];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "f/%03d", i);
        bs_test_fill(value, sizeof value, (uint64_t)i);
        bs_op st = {.kind = BS_OP_STORE, .name = name, .data = value, .len = sizeof value};
        cr_assert_eq(bs_backend_submit(b, &st), 0);
        memset(value, 0, sizeof value); /* the caller's buffer may change at once */
    }
    bs_op del = {.kind = BS_OP_DELETE, .name = "f/missing"};
    cr_assert_eq(bs_backend_submit(b, &del), 0);
    bs_op del2 = {.kind = BS_OP_DELETE, .name = "f/missing2"};
    cr_assert_eq(bs_backend_submit(b, &del2), 0);
    size_t failed;
    cr_assert_eq(bs_backend_flush(b, &failed), BS_ERR_NOT_FOUND);
    cr_assert_eq(failed, 2);
    cr_assert_eq(bs_backend_flush(b, &failed), 0, "reported once");
    uint8_t *v;
    size_t len;
    cr_assert_eq(bs_backend_load(b, "f/123", 0, BS_SIZE_ALL, &v, &len), 0);
    bs_test_fill(value, sizeof value, 123);
    cr_assert_eq(len, sizeof value);
    cr_assert_eq(memcmp(v, value, len), 0, "the value as it was at submit time");
    bs_free(v);
    bs_backend_free(b);
}
