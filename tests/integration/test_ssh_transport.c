/* The ssh:// transport and session against a real OpenSSH sshd (run under
 * with-sshd.sh): echo and streaming through `cat`, EOF, timeouts, stderr,
 * known-hosts policy, authentication, and which ssh config fields count. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <libssh/libssh.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "borgstore/errors.h"
#include "common/ssh_session.h"
#include "client/transport.h"
#include "sshd_fixture.h"
#include "testutil.h"

#define STEP_TIMEOUT_MS 20000 /* no single wait in a healthy run comes near this */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bs_transport *open_cmd(const char *command)
{
    bs_transport *t = NULL;
    int rc = bs__transport_ssh(&t, NULL, bs_sshd_get()->alias, 0, NULL, command);
    cr_assert_eq(rc, 0, "connect failed: %s", bs_error_message());
    cr_assert_not_null(t);
    return t;
}

static void write_all(bs_transport *t, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = t->ops->write(t, p, len);
        cr_assert(n >= 0, "write: %s", bs_error_message());
        if (n == 0) {
            cr_assert_eq(t->ops->wait(t, false, true, STEP_TIMEOUT_MS), 1, "write stalled");
            continue;
        }
        p += n;
        len -= (size_t)n;
    }
}

static void read_exact(bs_transport *t, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = t->ops->read(t, p, len);
        cr_assert(n >= 0, "read: %s", bs_error_message());
        if (n == 0) {
            cr_assert_eq(t->ops->wait(t, true, false, STEP_TIMEOUT_MS), 1, "read stalled");
            continue;
        }
        p += n;
        len -= (size_t)n;
    }
}

/* Reads until the transport reports the end; returns that code. */
static int read_until_end(bs_transport *t)
{
    char buf[4096];
    for (;;) {
        ssize_t n = t->ops->read(t, buf, sizeof buf);
        if (n < 0) return (int)n;
        if (n == 0) cr_assert_eq(t->ops->wait(t, true, false, STEP_TIMEOUT_MS), 1);
    }
}

/* Connects with cfg and expects failure code; returns the message. */
static const char *expect_fail(const char *user, const char *host, int port, const char *cfg,
                               int code)
{
    bs_transport *t = NULL;
    int rc = bs__transport_ssh(&t, user, host, port, cfg, "cat");
    cr_assert_eq(rc, code, "expected %s, got %s: %s", bs_error_id(code), bs_error_id(rc),
                 bs_error_message());
    cr_assert_null(t);
    return bs_error_message();
}

static void expect_ok(const char *user, const char *host, int port, const char *cfg)
{
    bs_transport *t = NULL;
    int rc = bs__transport_ssh(&t, user, host, port, cfg, "echo ok");
    cr_assert_eq(rc, 0, "connect failed: %s", bs_error_message());
    char buf[3];
    read_exact(t, buf, 3);
    cr_assert_arr_eq(buf, "ok\n", 3);
    t->ops->close(t);
}

TestSuite(ssh_transport, .timeout = 120);

/* ---- data path ---------------------------------------------------------- */

Test(ssh_transport, echo_1k_round_trips_through_cat)
{
    bs_transport *t = open_cmd("cat");
    uint8_t out[1024], in[1024];
    for (int i = 0; i < 200; i++) {
        bs_test_fill(out, sizeof out, (uint64_t)i + 1);
        write_all(t, out, sizeof out);
        read_exact(t, in, sizeof in);
        cr_assert_arr_eq(in, out, sizeof out, "round trip %d differs", i);
    }
    t->ops->close(t);
}

Test(ssh_transport, streams_64mib_both_ways_at_once_without_deadlock)
{
    enum { BLOCK = 65536, TOTAL = 64 << 20 };
    bs_transport *t = open_cmd("cat");
    static uint8_t wblock[BLOCK], rblock[BLOCK], expect[BLOCK];
    size_t sent = 0, received = 0, wpos = BLOCK, rpos = 0;
    bool eof_sent = false;
    while (received < TOTAL) {
        bool progress = false;
        if (sent < TOTAL) {
            if (wpos == BLOCK) {
                bs_test_fill(wblock, BLOCK, sent / BLOCK + 1);
                wpos = 0;
            }
            ssize_t n = t->ops->write(t, wblock + wpos, BLOCK - wpos);
            cr_assert(n >= 0, "write: %s", bs_error_message());
            wpos += (size_t)n;
            sent += (size_t)n;
            progress |= n > 0;
        } else if (!eof_sent) {
            t->ops->shutdown_write(t);
            eof_sent = true;
        }
        ssize_t n = t->ops->read(t, rblock + rpos, BLOCK - rpos);
        cr_assert(n >= 0, "read after %zu bytes: %s", received, bs_error_message());
        rpos += (size_t)n;
        received += (size_t)n;
        progress |= n > 0;
        if (rpos == BLOCK) {
            bs_test_fill(expect, BLOCK, (received - 1) / BLOCK + 1);
            cr_assert_arr_eq(rblock, expect, BLOCK, "block at %zu differs", received - BLOCK);
            rpos = 0;
        }
        if (!progress)
            cr_assert_eq(t->ops->wait(t, true, sent < TOTAL, STEP_TIMEOUT_MS), 1,
                         "stalled: sent %zu, received %zu", sent, received);
    }
    cr_assert_eq(sent, (size_t)TOTAL);
    /* cat saw our EOF and exited: the end reads as a lost connection. */
    cr_assert_eq(read_until_end(t), BS_ERR_CONNECTION);
    t->ops->close(t);
}

Test(ssh_transport, eof_is_a_connection_error_with_exit_status_and_stderr)
{
    bs_transport *t = open_cmd("printf hello; echo 'it went wrong' >&2; exit 3");
    char buf[5];
    read_exact(t, buf, 5);
    cr_assert_arr_eq(buf, "hello", 5);
    cr_assert_eq(read_until_end(t), BS_ERR_CONNECTION);
    const char *msg = bs_error_message();
    cr_assert(strstr(msg, "exit status 3"), "message: %s", msg);
    cr_assert(strstr(msg, "it went wrong"), "message: %s", msg);
    cr_assert_str_eq(t->ops->stderr_tail(t), "it went wrong");
    /* Reading again repeats the same error at once. */
    char first[512];
    snprintf(first, sizeof first, "%s", msg);
    int64_t t0 = now_ms();
    cr_assert_eq(t->ops->read(t, buf, sizeof buf), BS_ERR_CONNECTION);
    cr_assert(now_ms() - t0 < 100, "second read took %lld ms", (long long)(now_ms() - t0));
    cr_assert_str_eq(bs_error_message(), first);
    /* Writing to the finished command fails the same way. */
    ssize_t w = t->ops->write(t, "x", 1);
    cr_assert(w == BS_ERR_CONNECTION || w == 1, "write after end: %zd", w);
    t->ops->close(t);
}

Test(ssh_transport, shutdown_write_delivers_eof_to_the_command)
{
    bs_transport *t = open_cmd("cat");
    write_all(t, "last", 4);
    t->ops->shutdown_write(t);
    char buf[4];
    read_exact(t, buf, 4);
    cr_assert_arr_eq(buf, "last", 4);
    cr_assert_eq(read_until_end(t), BS_ERR_CONNECTION);
    cr_assert(strstr(bs_error_message(), "exit status 0"), "%s", bs_error_message());
    t->ops->close(t);
}

Test(ssh_transport, wait_times_out_when_nothing_arrives)
{
    bs_transport *t = open_cmd("cat");
    int64_t t0 = now_ms();
    cr_assert_eq(t->ops->wait(t, true, false, 300), 0);
    int64_t took = now_ms() - t0;
    cr_assert(took >= 290 && took < 3000, "wait took %lld ms", (long long)took);
    char c;
    cr_assert_eq(t->ops->read(t, &c, 1), 0);
    /* Writing is possible at once: the window is open. */
    t0 = now_ms();
    cr_assert_eq(t->ops->wait(t, false, true, 5000), 1);
    cr_assert(now_ms() - t0 < 1000);
    t->ops->close(t);
}

Test(ssh_transport, heavy_stderr_never_blocks_stdout_and_tail_keeps_the_end)
{
    /* 4 MB on stderr is more than any channel window: if stderr were not
     * drained, the command would block before printing "done". */
    bs_transport *t = open_cmd("head -c 4000000 /dev/zero | tr '\\0' x >&2; "
                               "echo >&2; echo 'last line' >&2; echo done");
    char buf[5];
    read_exact(t, buf, 5);
    cr_assert_arr_eq(buf, "done\n", 5);
    cr_assert_eq(read_until_end(t), BS_ERR_CONNECTION);
    const char *tail = t->ops->stderr_tail(t);
    cr_assert(strlen(tail) <= 1024, "tail is %zu bytes", strlen(tail));
    size_t n = strlen(tail);
    cr_assert(n >= 9 && strcmp(tail + n - 9, "last line") == 0, "tail ends: %s",
              n > 40 ? tail + n - 40 : tail);
    t->ops->close(t);
}

Test(ssh_transport, missing_remote_command_shows_in_message)
{
    bs_transport *t = open_cmd("borgstore-no-such-command-x");
    char c;
    ssize_t n;
    while ((n = t->ops->read(t, &c, 1)) == 0)
        cr_assert_eq(t->ops->wait(t, true, false, STEP_TIMEOUT_MS), 1);
    cr_assert_eq(n, BS_ERR_CONNECTION);
    const char *msg = bs_error_message();
    cr_assert(strstr(msg, "not found"), "message: %s", msg);
    cr_assert(strstr(msg, "exit status 127"), "message: %s", msg);
    t->ops->close(t);
}

Test(ssh_transport, forced_command_replaces_the_requested_one)
{
    char *dir = bs_sshd_scratch();
    char *key = bs_sshd_new_key(dir, "forced", true, "command=\"echo forced\",restrict");
    char replace[1200];
    snprintf(replace, sizeof replace, "IdentityFile %s\n", key);
    char *cfg = bs_sshd_config(dir, "forcedhost", replace, "  StrictHostKeyChecking accept-new");
    bs_transport *t = NULL;
    cr_assert_eq(bs__transport_ssh(&t, NULL, "forcedhost", 0, cfg, "cat"), 0, "%s",
                 bs_error_message());
    char buf[7];
    read_exact(t, buf, 7);
    cr_assert_arr_eq(buf, "forced\n", 7);
    t->ops->close(t);
    free(key);
    free(cfg);
    bs_test_rmtree(dir);
    free(dir);
}

/* ---- known hosts ---------------------------------------------------------- */

Test(ssh_transport, unknown_host_is_refused_in_strict_mode)
{
    const char *policies[] = {NULL, "yes", "ask"};
    char *fp = bs_sshd_host_fingerprint();
    for (size_t i = 0; i < 3; i++) {
        char *dir = bs_sshd_scratch();
        char extra[64] = "";
        if (policies[i]) snprintf(extra, sizeof extra, "  StrictHostKeyChecking %s", policies[i]);
        char *cfg = bs_sshd_config(dir, "stricthost", NULL, extra);
        const char *msg = expect_fail(NULL, "stricthost", 0, cfg, BS_ERR_PERMISSION);
        char name[64];
        snprintf(name, sizeof name, "[127.0.0.1]:%d", bs_sshd_get()->port);
        cr_assert(strstr(msg, name), "no host name in: %s", msg);
        cr_assert(strstr(msg, fp), "no fingerprint %s in: %s", fp, msg);
        cr_assert(strstr(msg, "unknown"), "%s", msg);
        cr_assert(strstr(msg, "accept-new"), "no hint in: %s", msg);
        char kh[1100];
        snprintf(kh, sizeof kh, "%s/known_hosts", dir);
        struct stat st;
        cr_assert(stat(kh, &st) != 0 || st.st_size == 0, "known_hosts was written");
        free(cfg);
        bs_test_rmtree(dir);
        free(dir);
    }
    free(fp);
}

Test(ssh_transport, accept_new_records_the_key_then_strict_mode_accepts_it)
{
    char *dir = bs_sshd_scratch();
    char *cfg = bs_sshd_config(dir, "newhost", NULL, "  StrictHostKeyChecking accept-new");
    expect_ok(NULL, "newhost", 0, cfg);
    /* The key landed in the configured UserKnownHostsFile. */
    char kh[1100];
    snprintf(kh, sizeof kh, "%s/known_hosts", dir);
    char *text = bs_test_read_file(kh, NULL);
    cr_assert_not_null(text, "UserKnownHostsFile %s not written", kh);
    char *line = bs_sshd_known_hosts_line();
    char key[1024];
    cr_assert_eq(sscanf(strchr(line, ' ') + 1, "%*s %1023s", key), 1);
    cr_assert(strstr(text, key), "known_hosts lacks the host key: %s", text);
    free(text);
    free(cfg);
    /* Now strict mode connects: the host is known. */
    cfg = bs_sshd_config(dir, "newhost", NULL, "  StrictHostKeyChecking yes");
    expect_ok(NULL, "newhost", 0, cfg);
    free(cfg);
    free(line);
    bs_test_rmtree(dir);
    free(dir);
}

Test(ssh_transport, strict_no_also_accepts_a_new_host)
{
    char *dir = bs_sshd_scratch();
    char *cfg = bs_sshd_config(dir, "nohost", NULL, "  StrictHostKeyChecking no");
    expect_ok(NULL, "nohost", 0, cfg);
    free(cfg);
    bs_test_rmtree(dir);
    free(dir);
}

/* A known_hosts file that lists another key for the fixture's address. */
static char *fake_known_hosts(const char *dir, enum ssh_keytypes_e type, int bits)
{
    ssh_key key = NULL, pub = NULL;
    char *b64 = NULL, *line = NULL;
    cr_assert_eq(ssh_pki_generate(type, bits, &key), SSH_OK);
    cr_assert_eq(ssh_pki_export_privkey_to_pubkey(key, &pub), SSH_OK);
    cr_assert_eq(ssh_pki_export_pubkey_base64(pub, &b64), SSH_OK);
    cr_assert(asprintf(&line, "[127.0.0.1]:%d %s %s\n", bs_sshd_get()->port,
                       ssh_key_type_to_char(ssh_key_type(pub)), b64) > 0);
    char *path = bs_sshd_write(dir, "known_hosts", line);
    ssh_string_free_char(b64);
    ssh_key_free(pub);
    ssh_key_free(key);
    free(line);
    return path;
}

Test(ssh_transport, changed_host_key_is_refused_whatever_the_policy)
{
    const char *policies[] = {"yes", "accept-new", "no"};
    for (size_t i = 0; i < 3; i++) {
        char *dir = bs_sshd_scratch();
        char *kh = fake_known_hosts(dir, SSH_KEYTYPE_ED25519, 0);
        char *before = bs_test_read_file(kh, NULL);
        char extra[64];
        snprintf(extra, sizeof extra, "  StrictHostKeyChecking %s", policies[i]);
        char *cfg = bs_sshd_config(dir, "changed", NULL, extra);
        const char *msg = expect_fail(NULL, "changed", 0, cfg, BS_ERR_PERMISSION);
        cr_assert(strstr(msg, "CHANGED"), "%s: %s", policies[i], msg);
        cr_assert(strstr(msg, "ssh-keygen -R"), "no fix in: %s", msg);
        char *after = bs_test_read_file(kh, NULL);
        cr_assert_str_eq(after, before, "known_hosts was modified");
        free(before);
        free(after);
        free(kh);
        free(cfg);
        bs_test_rmtree(dir);
        free(dir);
    }
}

Test(ssh_transport, known_key_of_another_type_is_refused)
{
    char *dir = bs_sshd_scratch();
    char *kh = fake_known_hosts(dir, SSH_KEYTYPE_ECDSA_P256, 256);
    char *cfg = bs_sshd_config(dir, "other", NULL, "  StrictHostKeyChecking accept-new");
    const char *msg = expect_fail(NULL, "other", 0, cfg, BS_ERR_PERMISSION);
    cr_assert(strstr(msg, "another type"), "%s", msg);
    free(kh);
    free(cfg);
    bs_test_rmtree(dir);
    free(dir);
}

/* ---- authentication ------------------------------------------------------ */

Test(ssh_transport, unaccepted_key_is_a_clear_permission_error)
{
    char *dir = bs_sshd_scratch();
    char *key = bs_sshd_new_key(dir, "stranger", false, NULL);
    char replace[1200];
    snprintf(replace, sizeof replace, "IdentityFile %s\n", key);
    char *cfg = bs_sshd_config(dir, "stranger", replace, "  StrictHostKeyChecking accept-new");
    const char *msg = expect_fail(NULL, "stranger", 0, cfg, BS_ERR_PERMISSION);
    cr_assert(strstr(msg, "authentication as root@127.0.0.1"), "%s", msg);
    cr_assert(strstr(msg, "IdentityFile"), "no hint in: %s", msg);
    cr_assert(strstr(msg, "publickey"), "no server methods in: %s", msg);
    free(key);
    free(cfg);
    bs_test_rmtree(dir);
    free(dir);
}

Test(ssh_transport, key_in_the_agent_is_used)
{
    char *dir = bs_sshd_scratch();
    char *key = bs_sshd_new_key(dir, "agentkey", true, NULL);
    /* No IdentityFile at all: only the agent can log in. */
    char *cfg = bs_sshd_config(dir, "agenthost", "IdentityFile \n",
                               "  StrictHostKeyChecking accept-new");
    unsetenv("SSH_AUTH_SOCK");
    expect_fail(NULL, "agenthost", 0, cfg, BS_ERR_PERMISSION);
    cr_assert(strstr(bs_error_message(), "SSH_AUTH_SOCK is unset"), "%s", bs_error_message());
    pid_t agent = bs_sshd_start_agent(dir, key);
    expect_ok(NULL, "agenthost", 0, cfg);
    bs_sshd_stop_agent(agent);
    free(key);
    free(cfg);
    bs_test_rmtree(dir);
    free(dir);
}

/* ---- the ssh config -------------------------------------------------------- */

Test(ssh_transport, config_user_counts_and_the_url_user_wins)
{
    char *dir = bs_sshd_scratch();
    char *cfg = bs_sshd_config(dir, "wronguser", "User nobody\n",
                               "  StrictHostKeyChecking accept-new");
    const char *msg = expect_fail(NULL, "wronguser", 0, cfg, BS_ERR_PERMISSION);
    cr_assert(strstr(msg, "nobody@"), "%s", msg);
    expect_ok("root", "wronguser", 0, cfg);
    free(cfg);
    bs_test_rmtree(dir);
    free(dir);
}

Test(ssh_transport, config_port_counts_and_the_url_port_wins)
{
    int fd;
    int refusing = bs_sshd_refusing_port(&fd);
    char *dir = bs_sshd_scratch();
    char replace[64];
    snprintf(replace, sizeof replace, "Port %d\n", refusing);
    char *cfg = bs_sshd_config(dir, "wrongport", replace, "  StrictHostKeyChecking accept-new");
    const char *msg = expect_fail(NULL, "wrongport", 0, cfg, BS_ERR_CONNECTION);
    cr_assert(strstr(msg, "refused"), "%s", msg);
    char where[64];
    snprintf(where, sizeof where, "127.0.0.1:%d", refusing);
    cr_assert(strstr(msg, where), "%s", msg);
    expect_ok(NULL, "wrongport", bs_sshd_get()->port, cfg);
    close(fd);
    free(cfg);
    bs_test_rmtree(dir);
    free(dir);
}

Test(ssh_transport, config_hostname_counts)
{
    /* sshd listens on 127.0.0.1 only: 127.0.0.2 refuses. */
    char *dir = bs_sshd_scratch();
    char *cfg = bs_sshd_config(dir, "wrongname", "HostName 127.0.0.2\n",
                               "  StrictHostKeyChecking accept-new");
    const char *msg = expect_fail(NULL, "wrongname", 0, cfg, BS_ERR_CONNECTION);
    cr_assert(strstr(msg, "127.0.0.2"), "%s", msg);
    free(cfg);
    cfg = bs_sshd_config(dir, "rightname", NULL, "  StrictHostKeyChecking accept-new");
    expect_ok(NULL, "rightname", 0, cfg);
    free(cfg);
    bs_test_rmtree(dir);
    free(dir);
}

Test(ssh_transport, config_argument_wins_over_the_environment)
{
    char *dir = bs_sshd_scratch();
    int fd;
    char replace[64];
    snprintf(replace, sizeof replace, "Port %d\n", bs_sshd_refusing_port(&fd));
    char *bad = bs_sshd_config(dir, "bstest", replace, NULL);
    char *sub = NULL;
    cr_assert(asprintf(&sub, "%s/good", dir) > 0);
    cr_assert_eq(mkdir(sub, 0700), 0);
    char *good = bs_sshd_config(sub, "bstest", NULL, "  StrictHostKeyChecking accept-new");
    setenv("BORGSTORE_SSH_CONFIG", bad, 1);
    expect_fail(NULL, "bstest", 0, NULL, BS_ERR_CONNECTION);
    expect_ok(NULL, "bstest", 0, good);
    close(fd);
    free(bad);
    free(good);
    free(sub);
    bs_test_rmtree(dir);
    free(dir);
}

Test(ssh_transport, missing_config_file_is_named)
{
    const char *msg =
        expect_fail(NULL, "bstest", 0, "/nonexistent/bs-ssh-config", BS_ERR_INVALID);
    cr_assert(strstr(msg, "/nonexistent/bs-ssh-config"), "%s", msg);
}

Test(ssh_transport, connection_refused_is_a_connection_error)
{
    int fd;
    int port = bs_sshd_refusing_port(&fd);
    const char *msg = expect_fail("root", "127.0.0.1", port, bs_sshd_get()->config,
                                  BS_ERR_CONNECTION);
    cr_assert(strstr(msg, "refused"), "%s", msg);
    close(fd);
}

Test(ssh_transport, unresolvable_host_is_a_connection_error)
{
    /* Not a valid DNS name: the resolver fails without sending a query. */
    const char *msg =
        expect_fail("root", "no..such..host", 22, bs_sshd_get()->config, BS_ERR_CONNECTION);
    cr_assert(strstr(msg, "no..such..host"), "%s", msg);
    cr_assert(strstr(msg, "resolve"), "%s", msg);
}

Test(ssh_transport, connection_dropped_mid_stream_is_a_connection_error)
{
    /* The shell kills its own sshd session process: the TCP connection ends
     * without EOF or exit status while we are still sending. Writing to the
     * dead socket must give an error, not SIGPIPE. */
    bs_transport *t = open_cmd("head -c 100000 >/dev/null; kill -9 $PPID");
    static uint8_t block[65536];
    int rc = 0;
    int64_t deadline = now_ms() + STEP_TIMEOUT_MS;
    while (rc == 0 && now_ms() < deadline) {
        ssize_t n = t->ops->write(t, block, sizeof block);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        char c;
        ssize_t r = t->ops->read(t, &c, 1);
        if (r < 0) rc = (int)r;
        else if (n == 0 && t->ops->wait(t, true, true, 1000) < 0) rc = -1;
    }
    cr_assert_eq(rc, BS_ERR_CONNECTION, "got %d: %s", rc, bs_error_message());
    cr_assert(strstr(bs_error_message(), "closed"), "%s", bs_error_message());
    /* It stays an error, and wait does not hang. */
    cr_assert_eq(t->ops->wait(t, true, false, 5000), 1);
    cr_assert_eq(t->ops->read(t, block, 1), BS_ERR_CONNECTION);
    t->ops->close(t);
}

Test(ssh_transport, silent_server_times_out_after_connect_timeout)
{
    /* A socket that listens but never speaks: TCP connects, the SSH banner
     * never comes. ConnectTimeout bounds the wait. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(fd, 4), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    char *dir = bs_sshd_scratch();
    char replace[64];
    snprintf(replace, sizeof replace, "Port %d\n", ntohs(a.sin_port));
    char *cfg = bs_sshd_config(dir, "silent", replace, "  ConnectTimeout 1");
    int64_t t0 = now_ms();
    const char *msg = expect_fail(NULL, "silent", 0, cfg, BS_ERR_CONNECTION);
    int64_t took = now_ms() - t0;
    cr_assert(took >= 900 && took < 10000, "took %lld ms: %s", (long long)took, msg);
    cr_assert(strcasestr(msg, "timeout") || strcasestr(msg, "timed out"), "%s", msg);
    close(fd);
    free(cfg);
    bs_test_rmtree(dir);
    free(dir);
}

/* Runs a connection with fd 2 captured into a file; returns what was written. */
static char *stderr_of_connect(void)
{
    char *dir = bs_sshd_scratch();
    char *path = NULL;
    cr_assert(asprintf(&path, "%s/stderr", dir) > 0);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert(fd >= 0 && saved >= 0);
    dup2(fd, 2);
    close(fd);
    expect_ok(NULL, bs_sshd_get()->alias, 0, NULL);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char *text = bs_test_read_file(path, NULL);
    cr_assert_not_null(text);
    free(path);
    bs_test_rmtree(dir);
    free(dir);
    return text;
}

Test(ssh_transport, debug_env_raises_libssh_logging)
{
    unsetenv("BORGSTORE_SSH_DEBUG");
    char *quiet = stderr_of_connect();
    cr_assert_str_eq(quiet, "", "stderr without BORGSTORE_SSH_DEBUG: %s", quiet);
    setenv("BORGSTORE_SSH_DEBUG", "2", 1);
    char *loud = stderr_of_connect();
    cr_assert(strstr(loud, "libssh"), "no libssh log with BORGSTORE_SSH_DEBUG=2: %.200s", loud);
    free(quiet);
    free(loud);
}

static bool host_has_aes(void)
{
    char *info = bs_test_read_file("/proc/cpuinfo", NULL);
    bool aes = info && (strstr(info, " aes ") || strstr(info, " aes\n"));
    free(info);
    return aes;
}

static char *negotiated_cipher(const char *cfg)
{
    ssh_session s;
    int rc = bs__ssh_session_open(&s, NULL, "ciphers", 0, cfg);
    cr_assert_eq(rc, 0, "%s", bs_error_message());
    char *name = strdup(ssh_get_cipher_out(s));
    bs__ssh_session_close(s);
    return name;
}

Test(ssh_transport, aes_gcm_is_preferred_on_aes_hardware_and_config_ciphers_win)
{
    char *dir = bs_sshd_scratch();
    char *cfg = bs_sshd_config(dir, "ciphers", NULL, "  StrictHostKeyChecking accept-new");
    char *name = negotiated_cipher(cfg);
    cr_assert_str_eq(name, host_has_aes() ? "aes128-gcm@openssh.com"
                                          : "chacha20-poly1305@openssh.com");
    free(name);
    free(cfg);
    cfg = bs_sshd_config(dir, "ciphers", NULL,
                         "  StrictHostKeyChecking accept-new\n  Ciphers aes256-ctr");
    name = negotiated_cipher(cfg);
    cr_assert_str_eq(name, "aes256-ctr");
    free(name);
    free(cfg);
    bs_test_rmtree(dir);
    free(dir);
}
