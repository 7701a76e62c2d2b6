/* Several clients in one store at once: separate borgstore-serve processes
 * (serve://), threads sharing one Store, and a mix with a file:// client.
 * Each client stores, loads, soft-deletes, undeletes, deletes and lists,
 * both on keys only it uses (kept in a ledger: every load and listing of
 * them must be exact) and on keys all clients fight over (every value read
 * must be exactly one value that some client wrote; NOT_FOUND is the only
 * error a race may cause). At the end: every ledger matches the store,
 * nothing is torn, no temp file is left, and quota.hid equals the bytes on
 * disk. */
#include <criterion/criterion.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "faults.h"

#include "borgstore/store.h"
#include "tests/helpers/testutil.h"

#define OWN 6      /* keys each client owns */
#define SHARED 6   /* keys every client uses */
#if defined(__SANITIZE_ADDRESS__)
#define OPS 200    /* per client */
#else
#define OPS 500
#endif
#define MAX_LEN (300u * 1024)
#define BIG_LEN (1200u * 1024) /* past the inline limit: DATA frames */

TestSuite(concurrent, .timeout = 300);

typedef enum { K_NONE, K_LIVE, K_DELETED } kstate;

typedef struct owned {
    char name[40];
    kstate st;
    uint64_t id;
} owned;

/* One client: a Store (maybe shared) and what it did. */
typedef struct client {
    bs_store *s;
    int index;
    uint64_t rnd;
    owned own[OWN];
    unsigned ops, steps, loads_checked, races, listed;
    char err[512];
} client;

static char shared_names[SHARED][40];
static char base[PATH_MAX];

#define FAIL(c, ...)                                                      \
    do {                                                                  \
        snprintf((c)->err, sizeof (c)->err, __VA_ARGS__);                 \
        return -1;                                                        \
    } while (0)

/* ids: client index in the top bits, so every value ever written is unique */
static uint64_t new_id(client *c) { return ((uint64_t)(c->index + 1) << 40) | ++c->ops; }

static int do_store(client *c, const char *name, uint64_t id)
{
    size_t len = ft_rand(&c->rnd) % 20 == 0 ? BIG_LEN : FT_VALUE_MIN + ft_rand(&c->rnd) % MAX_LEN;
    uint8_t *v = malloc(len);
    ft_value(v, len, id);
    int rc;
    if (ft_rand(&c->rnd) % 4 == 0) { /* the fire-and-forget path borg uses */
        rc = bs_store_store_async(c->s, name, v, len);
        if (!rc) rc = bs_store_flush(c->s, NULL);
    } else {
        rc = bs_store_store(c->s, name, v, len);
    }
    free(v);
    return rc;
}

/* Loads name; *id is 0 when it is missing. A value that is not exactly one
 * that was written is an error. */
static int do_load(client *c, const char *name, bool deleted, uint64_t *id)
{
    uint8_t *v;
    size_t len;
    *id = 0;
    int rc = bs_store_load(c->s, name, 0, BS_SIZE_ALL, deleted, &v, &len);
    if (rc == BS_ERR_NOT_FOUND) return 0;
    if (rc) return rc;
    *id = ft_value_id(v, len);
    bs_free(v);
    c->loads_checked++;
    if (!*id) FAIL(c, "%s%s: torn or foreign value of %zu bytes", name, deleted ? ".del" : "", len);
    return 0;
}

static int list_check(client *c, bool deleted)
{
    bs_store_list_iter *it;
    int rc = bs_store_list_begin(c->s, "data", deleted, &it);
    if (rc == BS_ERR_NOT_FOUND) return 0;
    if (rc) FAIL(c, "list: %s", bs_error_message());
    bool seen[OWN] = {false};
    bs_item_info e;
    while ((rc = bs_store_list_next(it, &e)) == 1) {
        c->listed++;
        if (strstr(e.name, ".tmp") || strchr(e.name, '/'))
            FAIL(c, "listing shows %s", e.name);
        for (int k = 0; k < OWN; k++)
            if (!strcmp(c->own[k].name + 5, e.name)) seen[k] = true;
    }
    bs_store_list_end(it);
    if (rc) FAIL(c, "list: %s", bs_error_message());
    for (int k = 0; k < OWN; k++) {
        bool want = c->own[k].st == (deleted ? K_DELETED : K_LIVE);
        if (seen[k] != want)
            FAIL(c, "%s listing %s %s", deleted ? "deleted" : "live",
                 seen[k] ? "shows" : "misses", c->own[k].name);
    }
    return 0;
}

static int step_owned(client *c)
{
    owned *o = &c->own[ft_rand(&c->rnd) % OWN];
    uint64_t id;
    int rc = 0;
    switch (ft_rand(&c->rnd) % 6) {
    case 0: case 1: /* store (new or overwrite) */
        if (o->st == K_DELETED) break;
        id = new_id(c);
        if ((rc = do_store(c, o->name, id))) FAIL(c, "store %s: %s", o->name, bs_error_message());
        o->st = K_LIVE;
        o->id = id;
        break;
    case 2: /* load: exactly what the ledger says */
        if ((rc = do_load(c, o->name, false, &id))) return rc;
        if (id != (o->st == K_LIVE ? o->id : 0))
            FAIL(c, "%s: loaded value %llx, the ledger says %llx", o->name,
                 (unsigned long long)id, (unsigned long long)(o->st == K_LIVE ? o->id : 0));
        if ((rc = do_load(c, o->name, true, &id))) return rc;
        if (id != (o->st == K_DELETED ? o->id : 0)) FAIL(c, "%s.del does not match", o->name);
        break;
    case 3: /* soft delete / undelete */
        if (o->st == K_NONE) break;
        rc = bs_store_move(c->s, o->name, NULL,
                           o->st == K_LIVE ? BS_MOVE_SOFT_DELETE : BS_MOVE_UNDELETE, false);
        if (rc) FAIL(c, "move %s: %s", o->name, bs_error_message());
        o->st = o->st == K_LIVE ? K_DELETED : K_LIVE;
        break;
    case 4: /* delete for good */
        if (o->st == K_NONE) break;
        rc = bs_store_delete(c->s, o->name, o->st == K_DELETED);
        if (rc) FAIL(c, "delete %s: %s", o->name, bs_error_message());
        o->st = K_NONE;
        break;
    case 5:
        return list_check(c, ft_rand(&c->rnd) % 2);
    }
    return 0;
}

static int step_shared(client *c)
{
    const char *name = shared_names[ft_rand(&c->rnd) % SHARED];
    uint64_t id;
    int rc;
    switch (ft_rand(&c->rnd) % 5) {
    case 0: case 1: rc = do_store(c, name, new_id(c)); break;
    case 2: return do_load(c, name, ft_rand(&c->rnd) % 2, &id);
    case 3:
        rc = bs_store_move(c->s, name, NULL,
                           ft_rand(&c->rnd) % 2 ? BS_MOVE_SOFT_DELETE : BS_MOVE_UNDELETE, false);
        break;
    default: rc = bs_store_delete(c->s, name, ft_rand(&c->rnd) % 2); break;
    }
    if (rc == BS_ERR_NOT_FOUND) c->races++; /* someone else got there first */
    else if (rc) FAIL(c, "%s: %s", name, bs_error_message());
    return 0;
}

static int client_run(client *c)
{
    for (int k = 0; k < OWN; k++)
        snprintf(c->own[k].name, sizeof c->own[k].name, "data/%02x%010x", c->index, k);
    for (int i = 0; i < OPS; i++, c->steps++)
        if ((ft_rand(&c->rnd) % 2 ? step_owned : step_shared)(c)) return -1;
    return list_check(c, false) || list_check(c, true) ? -1 : 0;
}

static void *client_thread(void *arg)
{
    client *c = arg;
    client_run(c);
    return NULL;
}

static bs_store *open_store(const char *scheme)
{
    char url[PATH_MAX + 16];
    snprintf(url, sizeof url, "%s://%s", scheme, base);
    bs_store_config cfg;
    bs_store_config_default(&cfg);
    cfg.backend.quota = 1ull << 40; /* tracked; never the limit */
    bs_store *s;
    if (bs_store_new(&s, url, &cfg)) return NULL;
    if (bs_store_open(s)) {
        bs_store_free(s);
        return NULL;
    }
    return s;
}

/* A process with its own Store (over scheme) and threads clients sharing it;
 * the ledgers and counters go back through fd. */
static int process_run(const char *scheme, int first, int threads, int fd)
{
    static client cl[16];
    bs_store *s = open_store(scheme);
    if (!s) {
        fprintf(stderr, "open %s: %s\n", scheme, bs_error_message());
        return 1;
    }
    pthread_t th[16];
    for (int t = 0; t < threads; t++) {
        cl[t] = (client){.s = s, .index = first + t, .rnd = 1000 + (uint64_t)(first + t) * 77};
        pthread_create(&th[t], NULL, client_thread, &cl[t]);
    }
    int bad = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(th[t], NULL);
        if (cl[t].err[0]) {
            fprintf(stderr, "client %d (%s): %s\n", cl[t].index, scheme, cl[t].err);
            bad = 1;
        }
    }
    if (bs_store_close(s)) bad = 1;
    bs_store_free(s);
    ssize_t w = write(fd, cl, sizeof cl[0] * (size_t)threads);
    return bad || w != (ssize_t)(sizeof cl[0] * (size_t)threads);
}

typedef struct plan {
    const char *scheme;
    int threads;
} plan;

/* Runs the processes of plans[] at once (each forked, threads in each),
 * then checks the store from outside. */
static void run(const plan *plans, int n)
{
    char *dir = bs_test_tmpdir();
    snprintf(base, sizeof base, "%s/store", dir);
    ft_use_built_server("--log-level critical");
    for (int k = 0; k < SHARED; k++)
        snprintf(shared_names[k], sizeof shared_names[k], "data/ff%010x", k);
    bs_store *s = open_store("file");
    cr_assert_null(s, "the store does not exist yet");
    char url[PATH_MAX + 16];
    snprintf(url, sizeof url, "file://%s", base);
    bs_store_config cfg;
    bs_store_config_default(&cfg);
    cr_assert_eq(bs_store_new(&s, url, &cfg), 0);
    cr_assert_eq(bs_store_create(s, 0), 0, "%s", bs_error_message());
    bs_store_free(s);

    static client all[64];
    int nclients = 0, first = 0;
    pid_t pids[16];
    int fds[16];
    uint64_t t0 = ft_now_us();
    for (int p = 0; p < n; p++) {
        int pipefd[2];
        cr_assert_eq(pipe(pipefd), 0);
        pids[p] = fork();
        cr_assert_geq(pids[p], 0);
        if (pids[p] == 0) {
            close(pipefd[0]);
            _exit(process_run(plans[p].scheme, first, plans[p].threads, pipefd[1]));
        }
        close(pipefd[1]);
        fds[p] = pipefd[0];
        first += plans[p].threads;
    }
    for (int p = 0; p < n; p++) {
        size_t want = sizeof all[0] * (size_t)plans[p].threads, got = 0;
        ssize_t r;
        while (got < want && (r = read(fds[p], (char *)&all[nclients] + got, want - got)) > 0)
            got += (size_t)r;
        close(fds[p]);
        int st;
        cr_assert_eq(waitpid(pids[p], &st, 0), pids[p]);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "client process %d failed (see stderr)",
                  p);
        cr_assert_eq(got, want);
        nclients += plans[p].threads;
    }
    unsigned ms = (unsigned)((ft_now_us() - t0) / 1000);

    /* from outside: ledgers, no torn values, no temp files, exact quota */
    s = open_store("file");
    cr_assert_not_null(s, "%s", bs_error_message());
    client check = {.s = s};
    unsigned ops = 0, loads = 0, races = 0;
    for (int i = 0; i < nclients; i++) {
        ops += all[i].steps;
        loads += all[i].loads_checked;
        races += all[i].races;
        for (int k = 0; k < OWN; k++) {
            const owned *o = &all[i].own[k];
            uint64_t live, del;
            cr_assert_eq(do_load(&check, o->name, false, &live), 0, "%s", check.err);
            cr_assert_eq(do_load(&check, o->name, true, &del), 0, "%s", check.err);
            cr_assert_eq(live, o->st == K_LIVE ? o->id : 0, "%s lost or changed", o->name);
            cr_assert_eq(del, o->st == K_DELETED ? o->id : 0, "%s.del lost or changed", o->name);
        }
    }
    for (int k = 0; k < SHARED; k++) {
        uint64_t id;
        cr_assert_eq(do_load(&check, shared_names[k], false, &id), 0, "%s", check.err);
        cr_assert_eq(do_load(&check, shared_names[k], true, &id), 0, "%s", check.err);
    }
    ft_tree t = ft_scan(base);
    cr_assert_eq(t.tmp_files, 0, "%zu temp files left", t.tmp_files);
    bs_quota q;
    cr_assert_eq(bs_store_quota(s, &q), 0);
    cr_assert_eq(q.usage, t.usage, "quota.hid says %lld, the disk holds %lld",
                 (long long)q.usage, (long long)t.usage);
    bs_store_free(s);
    fprintf(stderr, "# concurrent: %d clients in %d processes, %u operations in %u ms, %u values "
            "verified, %u races lost (NOT_FOUND), nothing lost, quota exact (%lld bytes)\n",
            nclients, n, ops, ms, loads + check.loads_checked, races, (long long)q.usage);
    bs_test_rmtree(dir);
    free(dir);
}

Test(concurrent, four_borgstore_serve_processes)
{
    static const plan p[] = {{"serve", 1}, {"serve", 1}, {"serve", 1}, {"serve", 1}};
    run(p, 4);
}

Test(concurrent, four_threads_sharing_one_remote_store)
{
    static const plan p[] = {{"serve", 4}};
    run(p, 1);
}

Test(concurrent, threads_and_processes_over_serve_and_file)
{
    static const plan p[] = {{"serve", 2}, {"serve", 2}, {"file", 2}};
    run(p, 3);
}
