/* The connection dropped in the middle of a transfer: while a client loads
 * or stores 2-6 MiB, the process carrying the connection is killed once a
 * random share of the value has passed through it (counted from its
 * /proc/PID/io). Three transports: serve:// (borgstore-serve itself), ssh://
 * through OpenSSH (BORGSTORE_RSH: the ssh client is killed) and ssh:// with
 * libssh (the borgstore-serve that sshd started is killed). The client must
 * reconnect and finish with the right bytes (load and store are safe to
 * repeat), or, with reconnects turned off, report a lost connection; never
 * hang (every wait has a timeout, BORGSTORE_TIMEOUT is 10 s here). Runs
 * under tests/integration/with-sshd.sh. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faults.h"
#include "sshd_fixture.h"

#include "borgstore/backend.h"
#include "tests/helpers/testutil.h"

/* per transport, half loads and half stores (fewer in the slower
 * sanitizer build; both builds run in the test command) */
#if defined(__SANITIZE_ADDRESS__)
#define ROUNDS 4
#else
#define ROUNDS 8
#endif
#define MIN_VALUE (2u << 20)
#define MAX_VALUE (6u << 20)

TestSuite(disconnect, .timeout = 400);

enum transport { T_SERVE, T_RSH, T_LIBSSH };
static const char *const tnames[] = {"serve://", "ssh:// (OpenSSH)", "ssh:// (libssh)"};

/* ---- processes --------------------------------------------------------- */

static bool proc_stat(pid_t pid, char comm[32], pid_t *ppid, unsigned long long *start)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *l = strchr(buf, '('), *r = strrchr(buf, ')');
    if (!l || !r) return false;
    snprintf(comm, 32, "%.*s", (int)(r - l - 1), l + 1);
    char state;
    unsigned long long skip;
    int got = sscanf(r + 2, "%c %d %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu "
                     "%llu %llu %llu %llu %llu %llu %llu", &state, ppid, &skip, &skip, &skip,
                     &skip, &skip, &skip, &skip, &skip, &skip, &skip, &skip, &skip, &skip, &skip,
                     &skip, &skip, &skip, start);
    return got == 20 && state != 'Z';
}

static bool descends_from(pid_t pid, pid_t ancestor)
{
    for (int depth = 0; depth < 16 && pid > 1; depth++) {
        char comm[32];
        unsigned long long st;
        if (!proc_stat(pid, comm, &pid, &st)) return false;
        if (pid == ancestor) return true;
    }
    return false;
}

/* The newest live process named comm below ancestor: only processes this
 * test (or its own sshd) started are ever considered. */
static pid_t find_process(const char *comm, pid_t ancestor)
{
    DIR *d = opendir("/proc");
    cr_assert_not_null(d);
    pid_t best = 0;
    unsigned long long best_start = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        pid_t pid = (pid_t)atoi(e->d_name);
        char c[32];
        pid_t ppid;
        unsigned long long start;
        if (pid <= 0 || !proc_stat(pid, c, &ppid, &start) || strcmp(c, comm)) continue;
        if (!descends_from(pid, ancestor)) continue;
        if (start >= best_start) {
            best = pid;
            best_start = start;
        }
    }
    closedir(d);
    return best;
}

static pid_t sshd_pid(void)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/sshd.pid", bs_sshd_get()->dir);
    char *s = bs_test_read_file(path, NULL);
    cr_assert_not_null(s, "no %s", path);
    pid_t pid = (pid_t)atoi(s);
    free(s);
    return pid;
}

static pid_t carrier(enum transport t)
{
    switch (t) {
    case T_SERVE: return find_process("borgstore-serve", getpid());
    case T_RSH: return find_process("ssh", getpid());
    default: return find_process("borgstore-serve", sshd_pid());
    }
}

/* Bytes the process moved so far ("rchar" or "wchar"); 0 when it is gone. */
static uint64_t io_bytes(pid_t pid, const char *field)
{
    char path[64], line[128];
    snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    uint64_t v = 0;
    size_t fl = strlen(field);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, fl) && line[fl] == ':') v = strtoull(line + fl + 1, NULL, 10);
    fclose(f);
    return v;
}

/* ---- the killer ---------------------------------------------------------- */

typedef struct killer {
    pthread_t th;
    pid_t target;
    const char *field;
    uint64_t threshold;
    atomic_bool done;
    bool killed;
} killer;

static void *killer_main(void *arg)
{
    killer *k = arg;
    uint64_t base = io_bytes(k->target, k->field);
    while (!atomic_load(&k->done)) { /* watches the counter; ends with the call */
        uint64_t v = io_bytes(k->target, k->field);
        if (v >= base + k->threshold) {
            k->killed = kill(k->target, SIGKILL) == 0;
            break;
        }
        sched_yield(); /* fine-grained enough for fast local transfers */
    }
    return NULL;
}

static void killer_start(killer *k, pid_t target, const char *field, uint64_t threshold)
{
    memset(k, 0, sizeof *k);
    k->target = target;
    k->field = field;
    k->threshold = threshold;
    cr_assert_eq(pthread_create(&k->th, NULL, killer_main, k), 0);
}

static bool killer_stop(killer *k)
{
    atomic_store(&k->done, true);
    pthread_join(k->th, NULL);
    return k->killed;
}

/* ---- the runs ------------------------------------------------------------ */

static char *scratch, url[PATH_MAX + 64];

static void setup_transport(enum transport t)
{
    scratch = bs_sshd_scratch();
    char *real = realpath(scratch, NULL);
    free(scratch);
    scratch = real;
    ft_use_built_server(NULL);
    setenv("BORGSTORE_TIMEOUT", "10", 1);
    setenv("BORGSTORE_RETRY_DELAY", "0.05", 1);
    setenv("BORGSTORE_RETRIES", "3", 1);
    char *cfg = bs_sshd_config(scratch, "bstest", NULL, "  StrictHostKeyChecking accept-new");
    switch (t) {
    case T_SERVE: snprintf(url, sizeof url, "serve://%s/store", scratch); break;
    case T_RSH: {
        char rsh[PATH_MAX + 16];
        snprintf(rsh, sizeof rsh, "ssh -F %s", cfg);
        setenv("BORGSTORE_RSH", rsh, 1);
        snprintf(url, sizeof url, "ssh://bstest/%s/store", scratch);
        break;
    }
    case T_LIBSSH:
        setenv("BORGSTORE_SSH_CONFIG", cfg, 1);
        snprintf(url, sizeof url, "ssh://bstest/%s/store", scratch);
        break;
    }
    free(cfg);
}

static bs_backend *opened(bool create)
{
    bs_backend *b;
    cr_assert_eq(bs_backend_new(&b, url, NULL), 0, "%s", bs_error_message());
    if (create) cr_assert_eq(bs_backend_create(b), 0, "%s", bs_error_message());
    cr_assert_eq(bs_backend_open(b), 0, "%s", bs_error_message());
    return b;
}

static void run(enum transport t)
{
    setup_transport(t);
    bs_backend *b = opened(true);
    uint8_t *val = malloc(MAX_VALUE);
    uint64_t rnd = 99 + t, id = 1;
    unsigned kills = 0, slowest_ms = 0;
    for (int i = 0; i < ROUNDS; i++) {
        bool load = i % 2;
        size_t len = MIN_VALUE + ft_rand(&rnd) % (MAX_VALUE - MIN_VALUE);
        char name[32];
        snprintf(name, sizeof name, "data/v%02d", i);
        ft_value(val, len, id);
        if (load) cr_assert_eq(bs_backend_store(b, name, val, len), 0, "%s", bs_error_message());
        pid_t target = carrier(t);
        cr_assert_gt(target, 0, "no process carries the %s connection", tnames[t]);
        /* loads: kill once the carrier has written part of the value; stores:
         * once it has read part of it (the ssh client in the middle counts
         * what it passes on) */
        killer k;
        killer_start(&k, target, load ? "wchar" : "rchar", ft_rand(&rnd) % len);
        uint64_t t0 = ft_now_us();
        uint8_t *got = NULL;
        size_t glen = 0;
        int rc = load ? bs_backend_load(b, name, 0, BS_SIZE_ALL, &got, &glen)
                      : bs_backend_store(b, name, val, len);
        unsigned ms = (unsigned)((ft_now_us() - t0) / 1000);
        kills += killer_stop(&k);
        if (getenv("BS_VERBOSE"))
            fprintf(stderr, "# %s %s of %zu bytes: %u ms, cut %d\n", tnames[t],
                    load ? "load" : "store", len, ms, k.killed);
        if (ms > slowest_ms) slowest_ms = ms;
        cr_assert_eq(rc, 0, "%s %s %s after a dropped connection: %s", tnames[t],
                     load ? "load" : "store", name, bs_error_message());
        if (!load) cr_assert_eq(bs_backend_load(b, name, 0, BS_SIZE_ALL, &got, &glen), 0);
        cr_assert_eq(ft_value_id(got, glen), id, "%s: %s came back wrong", tnames[t], name);
        bs_free(got);
        cr_assert_eq(bs_backend_delete(b, name), 0);
        id++;
    }
    /* a transfer may end before the counter is seen past the mark; most do not */
    cr_assert_geq(kills, 1, "none of %d transfers was cut", ROUNDS);

    /* without reconnects the same cut is a connection error, at once */
    bs_backend_free(b);
    setenv("BORGSTORE_RETRIES", "0", 1);
    b = opened(false);
    ft_value(val, MAX_VALUE, id);
    cr_assert_eq(bs_backend_store(b, "data/last", val, MAX_VALUE), 0);
    killer k;
    killer_start(&k, carrier(t), "wchar", MAX_VALUE / 3);
    uint8_t *got = NULL;
    size_t glen;
    uint64_t t0 = ft_now_us();
    int rc = bs_backend_load(b, "data/last", 0, BS_SIZE_ALL, &got, &glen);
    unsigned ms = (unsigned)((ft_now_us() - t0) / 1000);
    bool cut = killer_stop(&k);
    cr_assert(cut, "the last transfer was not cut");
    cr_assert_eq(rc, BS_ERR_CONNECTION, "%s: %d %s", tnames[t], rc, bs_error_message());
    cr_assert_null(got);
    cr_assert_lt(ms, 10000, "the lost connection took %u ms to notice", ms);
    bs_backend_free(b);
    b = opened(false); /* and the store is fine afterwards */
    cr_assert_eq(bs_backend_load(b, "data/last", 0, BS_SIZE_ALL, &got, &glen), 0);
    cr_assert_eq(ft_value_id(got, glen), id);
    bs_free(got);
    bs_backend_free(b);
    fprintf(stderr, "# disconnect %s: %u of %d transfers cut and recovered (slowest %u ms), "
            "1 cut reported as connection lost after %u ms\n", tnames[t], kills, ROUNDS,
            slowest_ms, ms);
    free(val);
    bs_test_rmtree(scratch);
    free(scratch);
}

Test(disconnect, serve_connection_cut_mid_transfer) { run(T_SERVE); }
Test(disconnect, openssh_client_killed_mid_transfer) { run(T_RSH); }
Test(disconnect, libssh_session_cut_mid_transfer) { run(T_LIBSSH); }
