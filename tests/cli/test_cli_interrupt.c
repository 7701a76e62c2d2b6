/* Interrupting the borgstore CLI leaves no damage: get FILE replaces FILE
 * atomically (a reader of the old file keeps the old content), SIGINT and
 * SIGTERM during a get remove the temp output and leave FILE as it was, and
 * cleanup removes the temp files interrupted stores left inside a store. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"
#include "testutil.h"

static char *tmp, *dir, *url, *out;

static void setup(void)
{
    tmp = bs_test_tmpdir();
    cr_assert(asprintf(&dir, "%s/store", tmp) > 0);
    cr_assert(asprintf(&url, "file://%s", dir) > 0);
    cr_assert(asprintf(&out, "%s/out", tmp) > 0);
    cr_assert_eq(mkdir(out, 0700), 0);
    run_result r;
    BS(&r, NULL, 0, url, "create");
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_free(&r);
    BS(&r, "new value", 9, url, "put", "config/x");
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_free(&r);
}

static void teardown(void)
{
    bs_test_rmtree(tmp);
    free(tmp);
    free(dir);
    free(url);
    free(out);
}

TestSuite(cli_interrupt, .init = setup, .fini = teardown);

#define ASSERT_STATUS(r, want)                                                          \
    cr_assert_eq((r).status, want, "exit %d, want %d; stderr: %s", (r).status, want,    \
                 (r).err)

static int count_entries(const char *path)
{
    DIR *d = opendir(path);
    cr_assert_not_null(d, "%s", path);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) n++;
    closedir(d);
    return n;
}

static char *file_in(const char *d, const char *name)
{
    char *p;
    cr_assert(asprintf(&p, "%s/%s", d, name) > 0);
    return p;
}

Test(cli_interrupt, get_replaces_the_file_atomically)
{
    char *f = file_in(out, "f");
    cr_assert_eq(bs_test_write_file(f, "old value", 9), 0);
    cr_assert_eq(chmod(f, 0640), 0);
    int old = open(f, O_RDONLY);
    cr_assert_geq(old, 0);
    run_result r;
    BS(&r, NULL, 0, url, "get", "config/x", f);
    ASSERT_STATUS(r, 0);
    run_free(&r);
    /* the old file was never truncated or overwritten in place */
    char buf[32] = {0};
    cr_assert_eq(pread(old, buf, sizeof buf - 1, 0), 9);
    cr_assert_str_eq(buf, "old value");
    close(old);
    char *got = bs_test_read_file(f, NULL);
    cr_assert_str_eq(got, "new value");
    free(got);
    struct stat st;
    cr_assert_eq(stat(f, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0640, "a replaced file keeps its permission bits");
    cr_assert_eq(count_entries(out), 1, "no temp file left");
    free(f);
}

Test(cli_interrupt, get_of_a_missing_item_leaves_the_file)
{
    char *f = file_in(out, "f");
    cr_assert_eq(bs_test_write_file(f, "old value", 9), 0);
    run_result r;
    BS(&r, NULL, 0, url, "get", "config/missing", f);
    ASSERT_STATUS(r, 3);
    run_free(&r);
    char *got = bs_test_read_file(f, NULL);
    cr_assert_str_eq(got, "old value");
    free(got);
    cr_assert_eq(count_entries(out), 1, "no temp file left");
    free(f);
}

Test(cli_interrupt, get_into_dev_null_writes_into_it)
{
    run_result r;
    BS(&r, NULL, 0, url, "get", "config/x", "/dev/null");
    ASSERT_STATUS(r, 0);
    run_free(&r);
    struct stat st;
    cr_assert_eq(stat("/dev/null", &st), 0);
    cr_assert(S_ISCHR(st.st_mode), "/dev/null is still a device");
}

/* Starts "borgstore URL get config/x FILE" with every backend call slowed
 * down by a minute (BORGSTORE_LATENCY), waits until its temp output exists
 * (it is made before the load), sends sig and returns how it ended. */
static int interrupted_get(const char *f, int sig)
{
    int before = count_entries(out);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        setenv("BORGSTORE_LATENCY", "60000000", 1);
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        execl(bs_cli_path(), bs_cli_path(), url, "get", "config/x", f, (char *)NULL);
        _exit(127);
    }
    /* poll for the temp file: the condition, not a guessed delay */
    struct timespec step = {0, 2000000};
    for (int i = 0; i < 10000 && count_entries(out) == before; i++) nanosleep(&step, NULL);
    cr_assert_eq(count_entries(out), before + 1, "the temp output did not appear");
    cr_assert_eq(kill(pid, sig), 0);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    return st;
}

Test(cli_interrupt, sigint_during_get_removes_the_temp_and_keeps_the_file)
{
    char *f = file_in(out, "f");
    cr_assert_eq(bs_test_write_file(f, "old value", 9), 0);
    int st = interrupted_get(f, SIGINT);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT, "status 0x%x", st);
    char *got = bs_test_read_file(f, NULL);
    cr_assert_str_eq(got, "old value");
    free(got);
    cr_assert_eq(count_entries(out), 1, "the temp output was removed");
    free(f);
}

Test(cli_interrupt, sigterm_during_get_to_a_new_file_leaves_nothing)
{
    char *f = file_in(out, "new");
    int st = interrupted_get(f, SIGTERM);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "status 0x%x", st);
    cr_assert_eq(count_entries(out), 0);
    free(f);
}

/* ---- cleanup ----------------------------------------------------------------- */

static void put_file(const char *rel, const char *text, time_t age)
{
    char *p = file_in(dir, rel);
    cr_assert_eq(bs_test_write_file(p, text, strlen(text)), 0);
    time_t t = time(NULL) - age;
    struct timespec ts[2] = {{.tv_sec = t}, {.tv_sec = t}};
    cr_assert_eq(utimensat(AT_FDCWD, p, ts, 0), 0);
    free(p);
}

static bool exists(const char *rel)
{
    char *p = file_in(dir, rel);
    struct stat st;
    bool e = lstat(p, &st) == 0;
    free(p);
    return e;
}

Test(cli_interrupt, cleanup_removes_stale_temp_files_only)
{
    put_file("data/00/00aa.0123456789abcdef.tmp", "stale, 2 h", 7200);
    put_file("config/y.fedcba9876543210.tmp", "in progress", 10);
    put_file("config/notes.tmp", "not a temp name of ours", 7200);
    run_result r;
    BS(&r, NULL, 0, url, "cleanup", "-v");
    ASSERT_STATUS(r, 0);
    cr_assert_str_eq(r.out, "removed 1 temp file (10 bytes)\nkept 1 temp file modified in the "
                            "last 3600 s (a store in progress?); --min-age 0 removes them too\n");
    cr_assert(strstr(r.err, "data/00/00aa.0123456789abcdef.tmp (10 bytes)"), "%s", r.err);
    run_free(&r);
    cr_assert(!exists("data/00/00aa.0123456789abcdef.tmp"));
    cr_assert(exists("config/y.fedcba9876543210.tmp"));
    cr_assert(exists("config/notes.tmp"));
    cr_assert(exists("config/x"));

    BS(&r, NULL, 0, url, "--json", "cleanup", "--min-age", "0");
    ASSERT_STATUS(r, 0);
    cr_assert_str_eq(r.out, "{\"removed\": 1, \"bytes\": 11, \"kept\": 0}\n");
    run_free(&r);
    cr_assert(!exists("config/y.fedcba9876543210.tmp"));
    cr_assert(exists("config/notes.tmp"));
    BS(&r, NULL, 0, url, "get", "config/x");
    ASSERT_STATUS(r, 0);
    cr_assert_str_eq(r.out, "new value");
    run_free(&r);
}

Test(cli_interrupt, cleanup_says_where_it_works)
{
    run_result r;
    BS(&r, NULL, 0, "ssh://host/store", "cleanup");
    ASSERT_STATUS(r, 1);
    cr_assert(strstr(r.err, "works on stores on this machine (file://, serve://)"), "%s",
              r.err);
    run_free(&r);
    BS(&r, NULL, 0, "file:///nonexistent/store", "cleanup");
    ASSERT_STATUS(r, 4);
    run_free(&r);
}
