/* rclone: with Debian's rclone on local paths: the layout read back through
 * file://, rclone 1.60's quirks, the rcd child's life (stopped on close and
 * free, gone with its parent, out of reach of Ctrl-C, restarted when it
 * dies), its credentials, and clear errors for a missing, too old or broken
 * rclone (a fake one, fake_rclone.py). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "borgstore/backend.h"
#include "testutil.h"
#include "backend_checks.h"

static char *scratch, *path;

static void setup(void)
{
    scratch = bs_test_tmpdir();
    cr_assert(asprintf(&path, "%s/store", scratch) > 0);
    setenv("RCLONE_CONFIG", "/dev/null", 1); /* no remotes but what a test names */
    unsetenv("RCLONE_BINARY");
}

static void teardown(void)
{
    bs_test_rmtree(scratch);
    free(scratch);
    free(path);
}

TestSuite(rclone, .init = setup, .fini = teardown, .timeout = 120);

static bs_backend *make(const char *prefix, const char *p)
{
    return bs_test_backend_new(prefix, p, NULL);
}

static bs_backend *open_new(void)
{
    bs_backend *b = make("rclone:", path);
    OK(bs_backend_create(b));
    OK(bs_backend_open(b));
    return b;
}

/* ---- the rcd child ---------------------------------------------------------- */

/* Pids of our children whose command name is comm (at most max). */
static int children(const char *comm, pid_t *out, int max)
{
    DIR *d = opendir("/proc");
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < max) {
        pid_t pid = (pid_t)atoi(de->d_name);
        if (pid <= 0) continue;
        char file[64], buf[512];
        snprintf(file, sizeof file, "/proc/%d/stat", (int)pid);
        FILE *f = fopen(file, "r");
        if (!f) continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        char *open = strchr(buf, '('), *close = strrchr(buf, ')');
        if (!open || !close) continue;
        char state;
        int ppid;
        if (sscanf(close + 2, "%c %d", &state, &ppid) != 2) continue;
        if (ppid == getpid() && state != 'Z' && (size_t)(close - open - 1) == strlen(comm) &&
            !strncmp(open + 1, comm, strlen(comm)))
            out[n++] = pid;
    }
    closedir(d);
    return n;
}

static pid_t the_child(const char *comm)
{
    pid_t pids[4];
    int n = children(comm, pids, 4);
    cr_assert_eq(n, 1, "%d %s children", n, comm);
    return pids[0];
}

/* Waits until pid has exited (it may be someone else's child): true when it
 * did within ms. */
static bool exits_within(pid_t pid, int ms)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0) return errno == ESRCH; /* already gone */
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int r = poll(&pfd, 1, ms);
    close(fd);
    return r == 1;
}

static bool running(pid_t pid)
{
    char file[64];
    snprintf(file, sizeof file, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(file, "r");
    if (!f) return false;
    char buf[512];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    char *close = strrchr(buf, ')');
    return close && close[2] != 'Z';
}

/* ---- layout ------------------------------------------------------------------ */

Test(rclone, store_reads_back_through_file_byte_for_byte)
{
    static const size_t sizes[] = {0, 1, 1000, 65536, 300 * 1024 + 5, (3u << 20) + 1};
    enum { N = sizeof sizes / sizeof sizes[0] };
    bs_backend *r = open_new();
    uint8_t *data[N];
    char names[N][64];
    for (size_t i = 0; i < N; i++) {
        data[i] = malloc(sizes[i] + 1);
        bs_test_fill(data[i], sizes[i], 200 + i);
        snprintf(names[i], sizeof names[i], "data/%02zx/%02zx%07zu", i, i, sizes[i]);
        OK(bs_backend_store(r, names[i], data[i], sizes[i]));
    }
    OK(bs_backend_store(r, "config", "one", 3));
    OK(bs_backend_store(r, "config", "config-two", 10));
    OK(bs_backend_mkdir(r, "empty/dir"));
    OK(bs_backend_close(r));
    cr_assert_eq(bs_test_temp_files_below(path), 0, "temp files left behind");

    bs_backend *f = make("file://", path);
    OK(bs_backend_open(f));
    for (size_t i = 0; i < N; i++)
        bs_test_check_load(f, names[i], data[i], sizes[i]);
    bs_test_check_load(f, "config", "config-two", 10);
    bs_item_info info;
    OK(bs_backend_info(f, "empty/dir", &info));
    cr_assert(info.exists && info.directory);
    OK(bs_backend_store(f, "keys/repokey", "key", 3));
    bs_backend_free(f);

    OK(bs_backend_open(r));
    bs_test_check_load(r, "keys/repokey", "key", 3);
    char hex[BS_HASH_HEX_SIZE], want[BS_HASH_HEX_SIZE];
    OK(bs_hash_hex(BS_HASH_SHA512, data[N - 1], sizes[N - 1], want));
    OK(bs_backend_hash(r, names[N - 1], BS_HASH_SHA512, hex)); /* no hashsum in 1.60 */
    cr_assert_str_eq(hex, want);
    for (size_t i = 0; i < N; i++)
        free(data[i]);
    bs_backend_free(r);
}

Test(rclone, local_backend_syntax_and_a_trailing_slash_work_too)
{
    char url[4200];
    snprintf(url, sizeof url, "rclone::local:%s/", path);
    bs_backend *r = NULL;
    OK(bs_backend_new(&r, url, NULL));
    OK(bs_backend_create(r));
    OK(bs_backend_open(r));
    OK(bs_backend_store(r, "a/b", "xyz", 3));
    bs_backend_free(r);
    bs_backend *f = make("file://", path);
    OK(bs_backend_open(f));
    bs_test_check_load(f, "a/b", "xyz", 3);
    bs_backend_free(f);
}

/* ---- rclone 1.60's quirks -------------------------------------------------- */

Test(rclone, stat_of_a_missing_name_is_not_an_error)
{
    /* 1.60 answers 200 {"item": null} for a missing file, 404 for a missing
     * directory, 500 "not a directory" below a file */
    bs_backend *r = open_new();
    OK(bs_backend_store(r, "dir/file", "v", 1));
    static const char *const missing[] = {"dir/nothing", "nodir/nothing", "dir/file/below"};
    for (size_t i = 0; i < 3; i++) {
        bs_item_info info;
        OK(bs_backend_info(r, missing[i], &info));
        cr_assert_not(info.exists, "%s", missing[i]);
    }
    bs_item_info info;
    OK(bs_backend_info(r, "dir/file", &info));
    cr_assert(info.exists && !info.directory && info.size == 1);
    bs_backend_free(r);
}

Test(rclone, ranges_rclone_cannot_serve)
{
    bs_backend *r = open_new();
    OK(bs_backend_store(r, "d", "0123456789", 10));
    uint8_t *got = NULL;
    size_t len = 99;
    /* a suffix longer than the value: 1.60 says 404 with a Content-Range */
    EXPECT(BS_ERR_READ_RANGE, bs_backend_load(r, "d", -11, BS_SIZE_ALL, &got, &len));
    cr_assert_null(got);
    EXPECT(BS_ERR_NOT_FOUND, bs_backend_load(r, "missing", -3, BS_SIZE_ALL, &got, &len));
    /* past the end: 1.60 says 206 with "bytes 15-9/10" and no body */
    OK(bs_backend_load(r, "d", 15, 5, &got, &len));
    cr_assert_eq(len, 0);
    bs_free(got);
    OK(bs_backend_load(r, "d", 10, BS_SIZE_ALL, &got, &len));
    cr_assert_eq(len, 0);
    bs_free(got);
    OK(bs_backend_load(r, "d", -10, 2, &got, &len));
    cr_assert(len == 2 && !memcmp(got, "01", 2));
    bs_free(got);
    OK(bs_backend_load(r, "d", 3, 0, &got, &len)); /* size 0 still needs the item */
    cr_assert_eq(len, 0);
    bs_free(got);
    EXPECT(BS_ERR_NOT_FOUND, bs_backend_load(r, "missing", 3, 0, &got, &len));
    bs_backend_free(r);
}

Test(rclone, rmdir_of_a_file_leaves_it_alone)
{
    /* rclone's local rmdir would remove a file */
    bs_backend *r = open_new();
    OK(bs_backend_store(r, "f", "keep", 4));
    EXPECT(BS_ERR_IO, bs_backend_rmdir(r, "f"));
    bs_test_check_load(r, "f", "keep", 4);
    EXPECT(BS_ERR_NOT_FOUND, bs_backend_rmdir(r, "nothing"));
    OK(bs_backend_mkdir(r, "d"));
    OK(bs_backend_store(r, "d/x", "1", 1));
    EXPECT(BS_ERR_IO, bs_backend_rmdir(r, "d"));
    cr_assert(strstr(bs_error_message(), "not empty"), "%s", bs_error_message());
    cr_assert_null(strstr(bs_error_message(), scratch), "%s", bs_error_message());
    EXPECT(BS_ERR_IO, bs_backend_delete(r, "d"));
    bs_backend_free(r);
}

Test(rclone, a_busy_log_never_blocks_rclone)
{
    /* every failed call makes rclone log an ERROR line: far more than a
     * pipe holds, so its log must be drained all along */
    bs_backend *r = open_new();
    for (int i = 0; i < 1500; i++) {
        char name[64];
        snprintf(name, sizeof name, "missing/some-longer-name-to-log-%06d", i);
        EXPECT(BS_ERR_NOT_FOUND, bs_backend_delete(r, name));
    }
    OK(bs_backend_store(r, "still", "works", 5));
    bs_test_check_load(r, "still", "works", 5);
    bs_backend_free(r);
}

/* ---- the child's life --------------------------------------------------------- */

Test(rclone, child_runs_only_while_needed)
{
    bs_backend *r = open_new();
    pid_t pid = the_child("rclone");
    OK(bs_backend_close(r));
    cr_assert_not(running(pid), "rclone %d still runs after close", (int)pid);
    cr_assert_eq(children("rclone", &pid, 1), 0);
    OK(bs_backend_open(r));
    pid = the_child("rclone");
    bs_backend_free(r); /* free of an open store closes it */
    cr_assert_not(running(pid), "rclone %d still runs after free", (int)pid);
    /* a failed open leaves nothing behind either */
    bs_backend *m = make("rclone:", scratch);
    OK(bs_backend_destroy(m));
    EXPECT(BS_ERR_DOES_NOT_EXIST, bs_backend_open(m));
    cr_assert_eq(children("rclone", &pid, 1), 0);
    bs_backend_free(m);
}

Test(rclone, child_dies_with_its_parent)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t helper = fork();
    cr_assert(helper >= 0);
    if (helper == 0) { /* opens a store, reports rclone's pid, waits to be killed */
        bs_backend *b = NULL;
        char url[4200];
        snprintf(url, sizeof url, "rclone:%s", path);
        if (bs_backend_new(&b, url, NULL) || bs_backend_create(b) || bs_backend_open(b))
            _exit(1);
        pid_t p[2];
        if (children("rclone", p, 2) != 1) _exit(2);
        if (write(fds[1], &p[0], sizeof p[0]) != sizeof p[0]) _exit(3);
        for (;;)
            pause();
    }
    close(fds[1]);
    pid_t pid = 0;
    cr_assert_eq(read(fds[0], &pid, sizeof pid), (ssize_t)sizeof pid, "the helper failed");
    cr_assert(running(pid));
    kill(helper, SIGKILL);
    waitpid(helper, NULL, 0);
    cr_assert(exits_within(pid, 10000), "rclone %d outlived its parent", (int)pid);
}

Test(rclone, ctrl_c_in_the_terminal_does_not_reach_the_child)
{
    /* A terminal sends Ctrl-C's SIGINT to its foreground process group. A
     * helper in a group of its own plays the client: it catches SIGINT (to
     * shut down cleanly, as borg does), sends SIGINT to its whole group, and
     * checks that rclone survived and still serves. */
    pid_t helper = fork();
    cr_assert(helper >= 0);
    if (helper == 0) {
        setpgid(0, 0);
        signal(SIGINT, SIG_IGN);
        bs_backend *b = NULL;
        char url[4200];
        snprintf(url, sizeof url, "rclone:%s", path);
        if (bs_backend_new(&b, url, NULL) || bs_backend_create(b) || bs_backend_open(b))
            _exit(1);
        pid_t p[2];
        if (children("rclone", p, 2) != 1) _exit(2);
        if (getpgid(p[0]) == getpgrp()) _exit(3);
        kill(0, SIGINT); /* "Ctrl-C" */
        if (exits_within(p[0], 1000)) _exit(4);
        if (bs_backend_store(b, "after", "ctrl-c", 6)) _exit(5);
        pid_t q[2];
        if (children("rclone", q, 2) != 1 || q[0] != p[0]) _exit(6);
        bs_backend_free(b);
        _exit(0);
    }
    int st;
    cr_assert_eq(waitpid(helper, &st, 0), helper);
    cr_assert(WIFEXITED(st), "helper died: status %d", st);
    cr_assert_eq(WEXITSTATUS(st), 0, "helper step %d failed", WEXITSTATUS(st));
}

Test(rclone, dead_child_is_restarted_and_the_call_retried)
{
    bs_backend *r = open_new();
    OK(bs_backend_store(r, "a", "alive", 5));
    pid_t pid = the_child("rclone");
    kill(pid, SIGKILL);
    cr_assert(exits_within(pid, 10000));
    bs_test_check_load(r, "a", "alive", 5);
    pid_t again = the_child("rclone");
    cr_assert_neq(again, pid);
    bs_backend_free(r);
}

/* Status code of an HTTP request without credentials to port. */
static int unauthenticated_status(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    static const char req[] = "POST /core/version HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}";
    cr_assert_eq(write(fd, req, sizeof req - 1), (ssize_t)(sizeof req - 1));
    char buf[64] = "";
    cr_assert_gt(read(fd, buf, sizeof buf - 1), 12);
    close(fd);
    return atoi(buf + 9); /* "HTTP/1.x NNN" */
}

/* The 127.0.0.1 port pid listens on (from /proc/net/tcp and its fds). */
static int listening_port(pid_t pid)
{
    char dir[64], link[320], target[256];
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    unsigned long inodes[64];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 64) {
        snprintf(link, sizeof link, "%s/%s", dir, de->d_name);
        ssize_t len = readlink(link, target, sizeof target - 1);
        if (len <= 0) continue;
        target[len] = '\0';
        if (sscanf(target, "socket:[%lu]", &inodes[n]) == 1) n++;
    }
    closedir(d);
    FILE *f = fopen("/proc/net/tcp", "r");
    cr_assert_not_null(f);
    char line[512];
    int port = 0;
    while (!port && fgets(line, sizeof line, f)) {
        unsigned addr, p, st;
        unsigned long inode;
        if (sscanf(line, " %*d: %x:%x %*x:%*x %x %*x:%*x %*x:%*x %*x %*d %*d %lu", &addr, &p,
                   &st, &inode) != 4)
            continue;
        for (int i = 0; i < n; i++)
            if (inode == inodes[i] && st == 0x0A /* LISTEN */) {
                cr_assert_eq(addr, 0x0100007Fu, "listens beyond 127.0.0.1");
                port = (int)p;
            }
    }
    fclose(f);
    return port;
}

Test(rclone, credentials_are_random_and_not_on_its_command_line)
{
    bs_backend *a = open_new();
    pid_t pid = the_child("rclone");
    char file[64];
    snprintf(file, sizeof file, "/proc/%d/cmdline", (int)pid);
    size_t len;
    char *cmd = bs_test_read_file(file, &len);
    cr_assert_not_null(cmd);
    for (size_t i = 0; i < len; i++)
        if (!cmd[i]) cmd[i] = ' ';
    cr_assert_null(strstr(cmd, "--rc-pass"), "%s", cmd);
    cr_assert_null(strstr(cmd, "--rc-user"), "%s", cmd);
    cr_assert(strstr(cmd, "127.0.0.1:0"), "%s", cmd);
    free(cmd);
    snprintf(file, sizeof file, "/proc/%d/environ", (int)pid);
    char *env = bs_test_read_file(file, &len);
    cr_assert_not_null(env);
    char pass[2][64] = {"", ""};
    for (size_t i = 0; i < len; i += strlen(env + i) + 1)
        if (!strncmp(env + i, "RCLONE_RC_PASS=", 15)) snprintf(pass[0], 64, "%s", env + i + 15);
    free(env);
    cr_assert_eq(strlen(pass[0]), 48, "password '%s'", pass[0]);
    int port = listening_port(pid);
    cr_assert_gt(port, 0);
    cr_assert_eq(unauthenticated_status(port), 401);
    /* a second store gets other credentials */
    char *other = NULL;
    cr_assert(asprintf(&other, "%s/other", scratch) > 0);
    bs_backend *b = make("rclone:", other);
    OK(bs_backend_create(b));
    pid_t pids[2];
    cr_assert_eq(children("rclone", pids, 2), 2);
    pid_t second = pids[0] == pid ? pids[1] : pids[0];
    snprintf(file, sizeof file, "/proc/%d/environ", (int)second);
    env = bs_test_read_file(file, &len);
    cr_assert_not_null(env);
    for (size_t i = 0; i < len; i += strlen(env + i) + 1)
        if (!strncmp(env + i, "RCLONE_RC_PASS=", 15)) snprintf(pass[1], 64, "%s", env + i + 15);
    free(env);
    cr_assert_eq(strlen(pass[1]), 48);
    cr_assert_str_neq(pass[0], pass[1]);
    bs_backend_free(b);
    bs_backend_free(a);
    free(other);
}

/* ---- a missing, old, or broken rclone --------------------------------------- */

static void use_fake(const char *mode)
{
    const char *src = getenv("BS_SOURCE_ROOT");
    cr_assert_not_null(src);
    char bin[4096];
    snprintf(bin, sizeof bin, "%s/tests/rclone/fake_rclone.py", src);
    setenv("RCLONE_BINARY", bin, 1);
    setenv("FAKE_RCLONE_MODE", mode, 1);
}

Test(rclone, missing_binary_is_a_clear_error)
{
    setenv("RCLONE_BINARY", "/nonexistent/rclone", 1);
    bs_backend *r = make("rclone:", path);
    EXPECT(BS_ERR_UNSUPPORTED, bs_backend_create(r));
    cr_assert(strstr(bs_error_message(), "/nonexistent/rclone"), "%s", bs_error_message());
    cr_assert(strstr(bs_error_message(), "1.57.0"), "%s", bs_error_message());
    setenv("RCLONE_BINARY", "no-such-rclone-binary", 1);
    EXPECT(BS_ERR_UNSUPPORTED, bs_backend_open(r));
    bs_backend_free(r);
}

Test(rclone, too_old_rclone_is_refused_naming_the_minimum)
{
    use_fake("old");
    bs_backend *r = make("rclone:", path);
    EXPECT(BS_ERR_UNSUPPORTED, bs_backend_create(r));
    cr_assert(strstr(bs_error_message(), "v1.50.0"), "%s", bs_error_message());
    cr_assert(strstr(bs_error_message(), ">= 1.57.0"), "%s", bs_error_message());
    pid_t pid;
    cr_assert_eq(children("python3", &pid, 1), 0, "the refused rclone still runs");
    bs_backend_free(r);
}

Test(rclone, rclone_that_exits_at_start_shows_its_log)
{
    use_fake("die");
    bs_backend *r = make("rclone:", path);
    EXPECT(BS_ERR_IO, bs_backend_open(r));
    cr_assert(strstr(bs_error_message(), "unknown flag"), "%s", bs_error_message());
    cr_assert(strstr(bs_error_message(), "status 1"), "%s", bs_error_message());
    bs_backend_free(r);
}

Test(rclone, rclone_that_never_gets_ready_is_stopped)
{
    use_fake("silent");
    setenv("BORGSTORE_RCLONE_TIMEOUT", "1", 1);
    bs_backend *r = make("rclone:", path);
    EXPECT(BS_ERR_IO, bs_backend_open(r));
    cr_assert(strstr(bs_error_message(), "did not get ready"), "%s", bs_error_message());
    pid_t pid;
    cr_assert_eq(children("python3", &pid, 1), 0, "the silent rclone still runs");
    bs_backend_free(r);
}

Test(rclone, urls_and_restrictions)
{
    bs_backend *b = NULL;
    EXPECT(BS_ERR_URL_INVALID, bs_backend_new(&b, "rclone:", NULL));
    bs_backend_config c = {.permissions = "borgbackup-no-delete"};
    EXPECT(BS_ERR_INVALID, bs_backend_new(&b, "rclone:/tmp/x", &c));
    bs_backend_config q = {.quota = 10};
    EXPECT(BS_ERR_INVALID, bs_backend_new(&b, "rclone:/tmp/x", &q));
    cr_assert_null(b);
    OK(bs_backend_new(&b, "rclone:no-such-remote:some/path", NULL));
    EXPECT(BS_ERR_URL_INVALID, bs_backend_create(b));
    cr_assert(strstr(bs_error_message(), "not configured"), "%s", bs_error_message());
    bs_backend_free(b);
}

/* ---- batches: requests at once ------------------------------------------------ */

#define BN BS_TEST_BATCH_MAX

/* The batch collector, and SIGKILL kill_after_first (when set) after the
 * first result: rclone dies in the middle of a batch. */
static pid_t kill_after_first;

static int collect_then_kill(void *ctx, size_t index, bs_op_result *res)
{
    int stop = bs_test_batch_collect(ctx, index, res);
    if (kill_after_first) {
        kill(kill_after_first, SIGKILL);
        kill_after_first = 0;
    }
    return stop;
}

Test(rclone, batch_of_every_size_and_partial_loads_reads_back_through_file)
{
    bs_backend *r = open_new();
    cr_assert_gt(bs_backend_window(r), 1, "rclone should run batches concurrently");
    static const size_t bsizes[] = {0, 1, 100, 65536, 200000, 2u << 20};
    enum { NS = sizeof bsizes / sizeof bsizes[0] };
    uint8_t *data[NS];
    char names[NS][64];
    bs_op ops[BN];
    for (size_t i = 0; i < NS; i++) {
        data[i] = malloc(bsizes[i] + 1);
        bs_test_fill(data[i], bsizes[i], 400 + i);
        snprintf(names[i], sizeof names[i], "%s/%02zx%07zu", i % 2 ? "data/new" : "top", i,
                 bsizes[i]);
        ops[i] =
            (bs_op){.kind = BS_OP_STORE, .name = names[i], .data = data[i], .len = bsizes[i]};
    }
    bs_test_batch *g = calloc(1, sizeof *g);
    OK(bs_backend_batch(r, ops, NS, 0, bs_test_batch_collect, g));
    cr_assert_eq(g->count, NS);
    for (size_t i = 0; i < NS; i++)
        cr_assert_eq(g->rc[i], 0, "store %s: %s", names[i], g->msg[i]);
    bs_test_batch_free(g);

    static const struct {
        int64_t off, size;
    } parts[] = {{0, BS_SIZE_ALL}, {1, 5}, {99, 10}, {-50, BS_SIZE_ALL}, {-3, 2}, {0, 0}};
    enum { NP = sizeof parts / sizeof parts[0] };
    size_t k = 0, want_start[BN], want_len[BN], src[BN];
    for (size_t i = 0; i < NS; i++)
        for (size_t j = 0; j < NP && k < BN; j++) {
            int64_t off = parts[j].off, size = parts[j].size;
            size_t len = bsizes[i];
            if (off < 0 && (size_t)-off > len) continue;
            size_t start = off >= 0 ? (size_t)off : len - (size_t)-off;
            size_t avail = start < len ? len - start : 0;
            want_start[k] = start;
            want_len[k] = size == BS_SIZE_ALL || (size_t)size > avail ? avail : (size_t)size;
            src[k] = i;
            ops[k++] =
                (bs_op){.kind = BS_OP_LOAD, .name = names[i], .offset = off, .size = size};
        }
    g = calloc(1, sizeof *g);
    OK(bs_backend_batch(r, ops, k, 0, bs_test_batch_collect, g));
    cr_assert_eq(g->count, k);
    for (size_t i = 0; i < k; i++) {
        cr_assert_eq(g->rc[i], 0, "load %zu: %s", i, g->msg[i]);
        cr_assert_eq(g->len[i], want_len[i], "load %s @%lld+%lld: %zu bytes, want %zu",
                     ops[i].name, (long long)ops[i].offset, (long long)ops[i].size, g->len[i],
                     want_len[i]);
        cr_assert(!want_len[i] ||
                      !memcmp(g->data[i], data[src[i]] + want_start[i], want_len[i]),
                  "load %zu: wrong bytes", i);
    }
    bs_test_batch_free(g);
    OK(bs_backend_close(r));
    cr_assert_eq(bs_test_temp_files_below(path), 0);
    bs_backend *f = make("file://", path);
    OK(bs_backend_open(f));
    for (size_t i = 0; i < NS; i++)
        bs_test_check_load(f, names[i], data[i], bsizes[i]);
    bs_backend_free(f);
    for (size_t i = 0; i < NS; i++)
        free(data[i]);
    bs_backend_free(r);
}

Test(rclone, batch_reports_each_failure_on_its_own)
{
    bs_backend *r = open_new();
    OK(bs_backend_store(r, "a/file", "12345", 5));
    OK(bs_backend_store(r, "a/moveme", "12345", 5)); /* ops of a batch may run in any order */
    OK(bs_backend_mkdir(r, "a/dir/sub"));
    bs_op ops[] = {
        {.kind = BS_OP_INFO, .name = "a/file"},                          /* 0 */
        {.kind = BS_OP_INFO, .name = "a/missing"},                       /* 1 */
        {.kind = BS_OP_INFO, .name = "a/dir"},                           /* 2 */
        {.kind = BS_OP_LOAD, .name = "a/missing", .size = BS_SIZE_ALL},  /* 3 */
        {.kind = BS_OP_LOAD, .name = "a/file", .offset = -6, .size = 1}, /* 4 */
        {.kind = BS_OP_DELETE, .name = "a/missing"},                     /* 5 */
        {.kind = BS_OP_DELETE, .name = "a/dir"},                         /* 6 */
        {.kind = BS_OP_MOVE, .name = "a/missing", .dst = "b/x"},         /* 7 */
        {.kind = BS_OP_STORE, .name = "a/dir", .data = "x", .len = 1},   /* 8 */
        {.kind = BS_OP_MOVE, .name = "a/moveme", .dst = "new/dir/file"}, /* 9 */
        {.kind = BS_OP_LOAD, .name = "a/file", .offset = 9, .size = 3},  /* 10 */
    };
    static const int want[] = {0,
                               0,
                               0,
                               BS_ERR_NOT_FOUND,
                               BS_ERR_READ_RANGE,
                               BS_ERR_NOT_FOUND,
                               BS_ERR_IO,
                               BS_ERR_NOT_FOUND,
                               BS_ERR_IO,
                               0,
                               0};
    enum { NO = sizeof ops / sizeof ops[0] };
    bs_test_batch *g = calloc(1, sizeof *g);
    OK(bs_backend_batch(r, ops, NO, 0, bs_test_batch_collect, g));
    cr_assert_eq(g->count, NO);
    for (size_t i = 0; i < NO; i++) {
        cr_assert_eq(g->rc[i], want[i], "op %zu: %d (%s), want %d", i, g->rc[i], g->msg[i],
                     want[i]);
        if (g->rc[i]) cr_assert_null(strstr(g->msg[i], scratch), "%s", g->msg[i]);
    }
    cr_assert(g->info[0].exists && !g->info[0].directory && g->info[0].size == 5);
    cr_assert_str_eq(g->info[0].name, "file");
    cr_assert_not(g->info[1].exists);
    cr_assert(g->info[2].exists && g->info[2].directory);
    cr_assert_eq(g->len[10], 0); /* past the end: nothing */
    bs_test_batch_free(g);
    bs_test_check_load(r, "new/dir/file", "12345", 5);
    cr_assert_eq(bs_test_temp_files_below(path), 0, "a failed store left its temp file");
    bs_backend_free(r);
}

Test(rclone, batch_stopped_by_its_callback_and_rclone_killed_in_one)
{
    bs_backend *r = open_new();
    bs_op ops[BN];
    char names[BN][16];
    for (size_t i = 0; i < BN; i++) {
        snprintf(names[i], sizeof names[i], "s/%02zu", i);
        ops[i] = (bs_op){.kind = BS_OP_STORE, .name = names[i], .data = names[i], .len = 4};
    }
    bs_test_batch *g = calloc(1, sizeof *g);
    g->stop_after = 5;
    EXPECT(BS_ERR_INVALID, bs_backend_batch(r, ops, BN, 4, bs_test_batch_collect, g));
    cr_assert_eq(g->count, 5, "callbacks after the stop: %zu", g->count);
    bs_test_batch_free(g);
    /* rclone dies after the first answer: the rest is done by a new one */
    pid_t pid = the_child("rclone");
    g = calloc(1, sizeof *g);
    kill_after_first = pid;
    OK(bs_backend_batch(r, ops, BN, 0, collect_then_kill, g));
    cr_assert_eq(g->count, BN);
    for (size_t i = 0; i < BN; i++)
        cr_assert_eq(g->rc[i], 0, "store %zu: %s", i, g->msg[i]);
    bs_test_batch_free(g);
    cr_assert_neq(the_child("rclone"), pid);
    for (size_t i = 0; i < BN; i++)
        bs_test_check_load(r, names[i], names[i], 4);
    bs_backend_free(r);
}
