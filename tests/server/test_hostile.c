/* A hostile key holder against borgstore-serve's own bookkeeping: forged
 * log lines and raw bytes in messages, "create, never overwrite" raced by a
 * second writer, list cursors holding directories in memory, and requests
 * whose result (defrag, load) is larger than the operator's limits. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "tests/helpers/testutil.h"

static char *dir;

static void setup(void) { dir = bs_test_tmpdir(); }
static void teardown(void)
{
    bs_test_rmtree(dir);
    free(dir);
}

TestSuite(hostile, .init = setup, .fini = teardown, .timeout = 90);

static const char *P(const char *rel)
{
    static char buf[8][4096];
    static int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, rel);
    return buf[i];
}

static void started(srv *s, const char *const *args, const char *store)
{
    srv_start(s, args, dir, false);
    srv_handshake(s);
    cr_assert_eq(srv_open(s, "create", store), 0, "%s", srv_last_error);
    cr_assert_eq(srv_open(s, "open", store), 0, "%s", srv_last_error);
}

/* Every byte printable ASCII (newlines only where allowed). */
static void assert_printable(const char *what, const char *text, bool newlines)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        cr_assert((*p >= 0x20 && *p < 0x7f) || (newlines && *p == '\n'),
                  "%s: raw byte 0x%02x at %td", what, *p, (const char *)p - text);
}

Test(hostile, untrusted_bytes_are_escaped_in_logs_and_messages)
{
    const char *args[] = {"--log-file", P("serve.log"), "--log-level", "debug", NULL};
    srv s;
    started(&s, args, P("st"));
    cr_assert_eq(srv_store(&s, "data/x", "v", 1), 0);
    static const char forged[] = "s\nFORGED \x1b[2J\xff";
    bs__req r = {.method = BS_M_HASH, .name = "data/x", .alg = forged};
    bs__result res;
    cr_assert_eq(srv_call(&s, &r, &res), BS_ERR_INVALID);
    assert_printable("hash ERR", srv_last_error, false);
    cr_assert_not_null(strstr(srv_last_error, "\\x0aFORGED \\x1b[2J\\xff"), "%s",
                       srv_last_error);
    bs_defrag_source src = {"data/x", 0, 1};
    r = (bs__req){.method = BS_M_DEFRAG, .sources = &src, .n_sources = 1, .alg = forged,
                  .ns = "data", .levels = 0};
    cr_assert_eq(srv_call(&s, &r, &res), BS_ERR_INVALID);
    assert_printable("defrag ERR", srv_last_error, false);
    cr_assert_eq(srv_simple(&s, BS_M_DELETE, "data/\nFORGED \x1b]0;x\x07"), BS_ERR_INVALID);
    assert_printable("delete ERR", srv_last_error, false);
    cr_assert_eq(srv_stop(&s), 0);

    char *log = bs_test_read_file(P("serve.log"), NULL);
    cr_assert_not_null(log);
    assert_printable("log file", log, true);
    /* every line is one of ours: it starts with the date */
    for (char *line = log; *line; line = strchr(line, '\n') + 1) {
        cr_assert(!strncmp(line, "20", 2), "forged line: %.60s", line);
        if (!strchr(line, '\n')) break;
    }
    cr_assert_not_null(strstr(log, "FORGED"), "the requests were logged");
    free(log);
}

/* Two writers store (or move to) the same new name at once, again and
 * again, under a map granting w but not W: one may win, never both. */
Test(hostile, create_without_overwrite_never_replaces_a_racing_writer)
{
    const char *args[] = {"--restrict-to-path", dir, "--permissions",
                          "{\"\": \"lrw\", \"tmp\": \"lrwD\"}", NULL};
    srv a, b;
    started(&a, args, P("st"));
    srv_start(&b, args, dir, false);
    srv_handshake(&b);
    cr_assert_eq(srv_open(&b, "open", P("st")), 0, "%s", srv_last_error);
    int both_stored = 0, both_moved = 0, tries = 0, won = 0;
    time_t end = time(NULL) + 20;
    for (; tries < 1500 && time(NULL) < end && !both_stored && !both_moved; tries++) {
        char name[64], sa[64], sb[64];
        snprintf(name, sizeof name, "data/k%d", tries);
        uint8_t ha[BS_VALUE_HASH_LEN], hb[BS_VALUE_HASH_LEN];
        bs__value_hash(ha, "AAAA", 4);
        bs__value_hash(hb, "BBBB", 4);
        bs__req ra = {.method = BS_M_STORE, .name = name, .size = 4, .hash = ha,
                      .data = (const uint8_t *)"AAAA", .data_len = 4, .has_data = true};
        bs__req rb = ra;
        rb.hash = hb;
        rb.data = (const uint8_t *)"BBBB";
        uint32_t ida = srv_send(&a, &ra), idb = srv_send(&b, &rb);
        bs__result res;
        int ca = srv_reply(&a, ida, BS_M_STORE, &res), cb = srv_reply(&b, idb, BS_M_STORE, &res);
        if (ca == 0 && cb == 0) both_stored++;
        else if (ca == 0 || cb == 0) won++;
        /* the same with move */
        snprintf(sa, sizeof sa, "tmp/a%d", tries);
        snprintf(sb, sizeof sb, "tmp/b%d", tries);
        snprintf(name, sizeof name, "data/m%d", tries);
        cr_assert_eq(srv_store(&a, sa, "A", 1), 0, "%s", srv_last_error);
        cr_assert_eq(srv_store(&a, sb, "B", 1), 0, "%s", srv_last_error);
        ra = (bs__req){.method = BS_M_MOVE, .name = sa, .dst = name};
        rb = (bs__req){.method = BS_M_MOVE, .name = sb, .dst = name};
        ida = srv_send(&a, &ra);
        idb = srv_send(&b, &rb);
        ca = srv_reply(&a, ida, BS_M_MOVE, &res);
        cb = srv_reply(&b, idb, BS_M_MOVE, &res);
        if (ca == 0 && cb == 0) both_moved++;
    }
    cr_assert_eq(srv_stop(&a), 0);
    cr_assert_eq(srv_stop(&b), 0);
    cr_assert_eq(both_stored, 0, "a store replaced a racing one (try %d)", tries);
    cr_assert_eq(both_moved, 0, "a move replaced a racing one (try %d)", tries);
    cr_assert_gt(won, 0, "no store succeeded in %d tries", tries);
}

/* An inotify watch on dir: whether anything was created in it since. */
static int watch_creates(const char *path)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    cr_assert_geq(fd, 0);
    cr_assert_geq(inotify_add_watch(fd, path, IN_CREATE | IN_MOVED_TO), 0, "%s", path);
    return fd;
}

static bool created_since(int fd)
{
    char ev[4096];
    ssize_t n = read(fd, ev, sizeof ev);
    return n > 0;
}

Test(hostile, defrag_refuses_a_result_over_the_limits_before_writing)
{
    const char *args[] = {"--max-value", "64KiB", "--quota", "200000", NULL};
    srv s;
    started(&s, args, P("st"));
    static uint8_t v[40000];
    bs_test_fill(v, sizeof v, 7);
    cr_assert_eq(srv_store(&s, "data/a", v, sizeof v), 0, "%s", srv_last_error);
    int w_data = watch_creates(P("st/data")), w_root = watch_creates(P("st"));
    bs_defrag_source two[] = {{"data/a", 0, 40000}, {"data/a", 0, 40000}};
    bs__req r = {.method = BS_M_DEFRAG, .sources = two, .n_sources = 2, .target = "data/t"};
    bs__result res;
    cr_assert_eq(srv_call(&s, &r, &res), BS_ERR_INVALID, "80000 bytes over --max-value 64KiB");
    cr_assert_not_null(strstr(srv_last_error, "value limit"), "%s", srv_last_error);
    r.target = NULL;
    r.alg = "sha256";
    r.ns = "data";
    cr_assert_eq(srv_call(&s, &r, &res), BS_ERR_INVALID, "also when named by its hash");
    cr_assert(!created_since(w_data) && !created_since(w_root), "a temp file was written");

    /* under the value limit but over the quota: 40000 + 5 * 40000 > 200000 */
    bs_defrag_source five[] = {{"data/a", 0, 12000}, {"data/a", 0, 12000}, {"data/a", 0, 12000},
                               {"data/a", 0, 12000}, {"data/a", 0, 12000}};
    cr_assert_eq(srv_store(&s, "data/b", v, sizeof v), 0);
    cr_assert_eq(srv_store(&s, "data/c", v, sizeof v), 0);
    cr_assert_eq(srv_store(&s, "data/d", v, sizeof v), 0);
    (void)created_since(w_data); /* the stores' own files, and quota.hid rewritten */
    (void)created_since(w_root);
    r = (bs__req){.method = BS_M_DEFRAG, .sources = five, .n_sources = 5, .target = "data/t"};
    cr_assert_eq(srv_call(&s, &r, &res), BS_ERR_QUOTA, "%s", srv_last_error);
    cr_assert(!created_since(w_data) && !created_since(w_root), "a temp file was written");
    r.n_sources = 1; /* 12000 bytes fit */
    cr_assert_eq(srv_call(&s, &r, &res), 0, "%s", srv_last_error);
    close(w_data);
    close(w_root);
    cr_assert_eq(srv_stop(&s), 0);
}

Test(hostile, load_refuses_a_value_over_the_servers_limit)
{
    const char *args[] = {"--max-value", "64KiB", NULL};
    srv s;
    started(&s, args, P("st"));
    /* put there by someone else (the limit holds for store already) */
    mkdir(P("st/data"), 0700);
    FILE *f = fopen(P("st/data/big"), "w");
    cr_assert_not_null(f);
    static uint8_t v[200000];
    cr_assert_eq(fwrite(v, 1, sizeof v, f), sizeof v);
    fclose(f);
    uint8_t *got;
    size_t len;
    cr_assert_eq(srv_load(&s, "data/big", 0, BS_SIZE_ALL, &got, &len), BS_ERR_INVALID);
    cr_assert_not_null(strstr(srv_last_error, "value limit"), "%s", srv_last_error);
    cr_assert_eq(srv_load(&s, "data/big", -70000, BS_SIZE_ALL, &got, &len), BS_ERR_INVALID);
    cr_assert_eq(srv_load(&s, "data/big", 0, 70000, &got, &len), BS_ERR_INVALID);
    cr_assert_eq(srv_load(&s, "data/big", 1000, 65536, &got, &len), 0, "%s", srv_last_error);
    cr_assert_eq(len, 65536);
    free(got);
    cr_assert_eq(srv_load(&s, "data/big", -100, BS_SIZE_ALL, &got, &len), 0);
    cr_assert_eq(len, 100);
    free(got);
    cr_assert_eq(srv_stop(&s), 0);
}

/* n empty files named %05u in the new directory path. */
static void make_files(const char *path, unsigned n)
{
    cr_assert_eq(mkdir(path, 0700), 0, "%s", path);
    for (unsigned i = 0; i < n; i++) {
        char f[4200];
        snprintf(f, sizeof f, "%s/%05u", path, i);
        FILE *fp = fopen(f, "w");
        cr_assert_not_null(fp, "%s", f);
        fclose(fp);
    }
}

static const char *first_name(const bs__result *res)
{
    static bs_item_info it;
    size_t pos = 0;
    cr_assert_eq(bs__list_entry_next(res, &pos, &it), 1);
    return it.name;
}

Test(hostile, list_cursors_hold_at_most_the_list_memory)
{
    /* 64 KiB: about 400 entries; 300 fit once, not twice */
    const char *args[] = {"--list-memory", "64KiB", NULL};
    srv s;
    started(&s, args, P("st"));
    make_files(P("st/big"), 1000);
    make_files(P("st/d1"), 300);
    make_files(P("st/d2"), 300);
    bs__req r = {.method = BS_M_LIST, .name = "big"};
    bs__result res;
    cr_assert_eq(srv_call(&s, &r, &res), BS_ERR_INVALID, "a directory over the limit");
    cr_assert_not_null(strstr(srv_last_error, "list memory limit"), "%s", srv_last_error);

    r = (bs__req){.method = BS_M_LIST, .name = "d1", .limit = 10};
    cr_assert_eq(srv_call(&s, &r, &res), 0, "%s", srv_last_error);
    cr_assert(res.has_cursor);
    uint64_t c1 = res.cursor;
    r.name = "d2";
    cr_assert_eq(srv_call(&s, &r, &res), 0, "%s", srv_last_error);
    cr_assert(res.has_cursor);
    uint64_t c2 = res.cursor;
    /* both would hold ~96 KB: the older one was dropped for the newer */
    r = (bs__req){.method = BS_M_LIST_NEXT, .cursor = c1, .limit = 10};
    cr_assert_eq(srv_call(&s, &r, &res), BS_ERR_INVALID, "cursor 1 kept past the limit");
    r.cursor = c2;
    cr_assert_eq(srv_call(&s, &r, &res), 0, "%s", srv_last_error);
    cr_assert_eq(res.n_entries, 10);
    cr_assert_str_eq(first_name(&res), "00010");

    /* a dropped listing resumes with after, and the rest comes whole */
    r = (bs__req){.method = BS_M_LIST, .name = "d1", .after = "00009"};
    cr_assert_eq(srv_call(&s, &r, &res), 0, "%s", srv_last_error);
    cr_assert(!res.has_cursor);
    cr_assert_eq(res.n_entries, 290);
    cr_assert_str_eq(first_name(&res), "00010");
    cr_assert_eq(srv_stop(&s), 0);
}

static int64_t usage_of(srv *s)
{
    bs__req r = {.method = BS_M_QUOTA};
    bs__result res;
    cr_assert_eq(srv_call(s, &r, &res), 0, "%s", srv_last_error);
    return res.quota.usage;
}

Test(hostile, empty_items_and_directories_count_for_the_quota)
{
    /* one block (4096 bytes) each: data/ and 23 empty items fill 100,000 */
    const char *args[] = {"--quota", "100000", NULL};
    srv s;
    started(&s, args, P("st"));
    int stored = 0, rc = 0;
    char name[32];
    for (; stored < 100; stored++) {
        snprintf(name, sizeof name, "data/e%02d", stored);
        if ((rc = srv_store(&s, name, "", 0))) break;
    }
    cr_assert_eq(rc, BS_ERR_QUOTA, "%s", srv_last_error);
    cr_assert_eq(stored, 23);
    cr_assert_eq(usage_of(&s), 24 * 4096);
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "data/e%02d", i);
        cr_assert_eq(srv_simple(&s, BS_M_DELETE, name), 0, "%s", srv_last_error);
    }
    int made = 0;
    for (; made < 100; made++) {
        snprintf(name, sizeof name, "d%02d", made);
        if ((rc = srv_simple(&s, BS_M_MKDIR, name))) break;
    }
    cr_assert_eq(rc, BS_ERR_QUOTA, "%s", srv_last_error);
    cr_assert_eq(made, 10, "empty directories");
    cr_assert_eq(srv_simple(&s, BS_M_MKDIR, "d00"), 0, "an existing one costs nothing");
    cr_assert_eq(srv_simple(&s, BS_M_RMDIR, "d00"), 0, "%s", srv_last_error);
    int64_t usage = usage_of(&s);
    cr_assert_eq(usage, 23 * 4096);
    /* the scan that rebuilds a lost quota.serve.hid counts the same way */
    bs__req r = {.method = BS_M_CLOSE};
    bs__result res;
    cr_assert_eq(srv_call(&s, &r, &res), 0);
    cr_assert_eq(unlink(P("st/quota.serve.hid")), 0);
    cr_assert_eq(srv_open(&s, "open", P("st")), 0, "%s", srv_last_error);
    cr_assert_eq(usage_of(&s), usage);
    cr_assert_eq(srv_stop(&s), 0);

    /* stores are directories in the account of their restriction root */
    mkdir(P("r"), 0700);
    const char *rargs[] = {"--restrict-to-path", P("r"), "--quota", "20000", NULL};
    srv_start(&s, rargs, dir, false);
    srv_handshake(&s);
    int stores = 0;
    for (; stores < 100; stores++) {
        snprintf(name, sizeof name, "r/s%02d", stores);
        if ((rc = srv_open(&s, "create", P(name)))) break;
    }
    cr_assert_eq(rc, BS_ERR_QUOTA, "%s", srv_last_error);
    cr_assert_eq(stores, 4);
    cr_assert_eq(srv_open(&s, "create", P("r/x/y/z")), BS_ERR_QUOTA, "nested, nothing made");
    cr_assert_neq(access(P("r/x"), F_OK), 0);
    cr_assert_eq(srv_stop(&s), 0);
}
