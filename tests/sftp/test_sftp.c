/* sftp:// against a real OpenSSH sshd (internal-sftp, run under
 * with-sshd.sh): the on-disk layout read back through file://, partial
 * loads across request boundaries, relative paths, temp files, and lost
 * connections (through a relay that cuts them) being re-established. */
#include <criterion/criterion.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "borgstore/backend.h"
#include "borgstore/store.h"
#include "sshd_fixture.h"
#include "tcp_relay.h"
#include "testutil.h"
#include "backend_checks.h"

static char *scratch;

static void setup(void)
{
    scratch = bs_sshd_scratch();
}

static void teardown(void)
{
    bs_test_rmtree(scratch);
    free(scratch);
}

TestSuite(sftp, .init = setup, .fini = teardown, .timeout = 120);

static char *store_path(const char *leaf)
{
    char *p = NULL;
    cr_assert(asprintf(&p, "%s/%s", scratch, leaf) > 0);
    return p;
}

/* "sftp://bstest/" + abs gives "//abs": an absolute path on the server. */
static bs_backend *sftp_open_new(const char *path)
{
    bs_backend *b = bs_test_backend_new("sftp://bstest/", path, NULL);
    OK(bs_backend_create(b));
    OK(bs_backend_open(b));
    return b;
}

static const size_t sizes[] = {0, 1, 1000, 65535, 65536, 65537, 300 * 1024 + 5, (1u << 20) + 7};
#define NSIZES (sizeof sizes / sizeof sizes[0])

Test(sftp, store_reads_back_through_file_byte_for_byte)
{
    char *path = store_path("store");
    bs_backend *s = sftp_open_new(path);
    uint8_t *data[NSIZES];
    char names[NSIZES][64];
    for (size_t i = 0; i < NSIZES; i++) {
        data[i] = malloc(sizes[i] + 1);
        bs_test_fill(data[i], sizes[i], 100 + i);
        snprintf(names[i], sizeof names[i], "data/%02zx/%02zx%06zu", i, i, sizes[i]);
        OK(bs_backend_store(s, names[i], data[i], sizes[i]));
    }
    OK(bs_backend_store(s, "config", "cfg", 3));
    OK(bs_backend_store(s, "config", "config-2", 8)); /* replaced */
    OK(bs_backend_mkdir(s, "empty/dir"));
    OK(bs_backend_close(s));
    cr_assert_eq(bs_test_temp_files_below(path), 0, "temp files left behind");

    bs_backend *f = bs_test_backend_new("file://", path, NULL);
    OK(bs_backend_open(f));
    for (size_t i = 0; i < NSIZES; i++)
        bs_test_check_load(f, names[i], data[i], sizes[i]);
    bs_test_check_load(f, "config", "config-2", 8);
    bs_item_info info;
    OK(bs_backend_info(f, "empty/dir", &info));
    cr_assert(info.exists && info.directory);
    /* and the other way round: file:// writes, sftp:// reads */
    OK(bs_backend_store(f, "keys/repokey", "key", 3));
    OK(bs_backend_close(f));
    bs_backend_free(f);

    OK(bs_backend_open(s));
    bs_test_check_load(s, "keys/repokey", "key", 3);
    for (size_t i = 0; i < NSIZES; i++) {
        OK(bs_backend_info(s, names[i], &info));
        cr_assert_eq(info.size, sizes[i]);
        free(data[i]);
    }
    bs_backend_free(s);
    free(path);
}

Test(sftp, partial_loads_across_request_boundaries)
{
    char *path = store_path("store");
    bs_backend *s = sftp_open_new(path);
    size_t len = 300 * 1024 + 5;
    uint8_t *data = malloc(len);
    bs_test_fill(data, len, 7);
    OK(bs_backend_store(s, "v", data, len));
    static const struct {
        int64_t off, size;
    } cases[] = {
        {0, 65536},
        {0, 65537},
        {1, 65536},
        {65535, 2},
        {65536, 65536},
        {100, 200000},
        {131071, BS_SIZE_ALL},
        {(int64_t)300 * 1024, 100},
        {0, 1 << 30},
        {-65537, BS_SIZE_ALL},
        {-200000, 70000},
        {-5, 3},
        {-(int64_t)(300 * 1024 + 5), 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t off = cases[i].off, size = cases[i].size;
        size_t start = off >= 0 ? (size_t)off : len - (size_t)-off;
        size_t avail = start < len ? len - start : 0;
        size_t want = size == BS_SIZE_ALL || (size_t)size > avail ? avail : (size_t)size;
        uint8_t *got = NULL;
        size_t got_len = 0;
        OK(bs_backend_load(s, "v", off, size, &got, &got_len));
        cr_assert_eq(got_len, want, "offset %lld size %lld: %zu bytes, want %zu",
                     (long long)off, (long long)size, got_len, want);
        cr_assert(memcmp(got, data + start, want) == 0, "offset %lld size %lld: wrong bytes",
                  (long long)off, (long long)size);
        bs_free(got);
    }
    char hex[BS_HASH_HEX_SIZE], want_hex[BS_HASH_HEX_SIZE];
    OK(bs_hash_hex(BS_HASH_BLAKE2B, data, len, want_hex));
    OK(bs_backend_hash(s, "v", BS_HASH_BLAKE2B, hex));
    cr_assert_str_eq(hex, want_hex);
    free(data);
    bs_backend_free(s);
    free(path);
}

Test(sftp, relative_path_is_below_the_login_directory)
{
    struct passwd *pw = getpwnam("root"); /* the fixture logs in as root */
    cr_assert_not_null(pw);
    char rel[64], abs[1024];
    snprintf(rel, sizeof rel, "bs-sftp-test-%d", (int)getpid());
    snprintf(abs, sizeof abs, "%s/%s", pw->pw_dir, rel);
    bs_backend *s = bs_test_backend_new("sftp://bstest/", rel, NULL);
    OK(bs_backend_create(s));
    struct stat st;
    int there = stat(abs, &st);
    OK(bs_backend_destroy(s));
    bs_backend_free(s);
    bs_test_rmtree(abs);
    cr_assert_eq(there, 0, "%s was not created", abs);
    cr_assert(S_ISDIR(st.st_mode));
    cr_assert_neq(stat(abs, &st), 0, "destroy left %s", abs);
}

Test(sftp, temp_files_are_hidden_and_a_failed_store_leaves_none)
{
    char *path = store_path("store");
    bs_backend *s = sftp_open_new(path);
    OK(bs_backend_store(s, "ns/a", "1", 1));
    char planted[4200];
    snprintf(planted, sizeof planted, "%s/ns/b.0123456789abcdef.tmp", path);
    cr_assert_eq(bs_test_write_file(planted, "partial", 7), 0);
    bs_list_iter *it;
    OK(bs_backend_list_begin(s, "ns", &it));
    bs_item_info info;
    cr_assert_eq(bs_backend_list_next(it, &info), 1);
    cr_assert_str_eq(info.name, "a");
    cr_assert_eq(bs_backend_list_next(it, &info), 0, "%s was listed", info.name);
    bs_backend_list_end(it);
    unlink(planted);
    /* a directory where the value should go: refused, nothing left */
    OK(bs_backend_mkdir(s, "ns/d/sub"));
    EXPECT(BS_ERR_IO, bs_backend_store(s, "ns/d", "x", 1));
    cr_assert_eq(bs_test_temp_files_below(path), 0);
    bs_backend_free(s);
    free(path);
}

Test(sftp, messages_name_the_item_never_the_server_path)
{
    char *path = store_path("store");
    bs_backend *s = sftp_open_new(path);
    uint8_t *got;
    size_t len;
    EXPECT(BS_ERR_NOT_FOUND, bs_backend_load(s, "data/missing", 0, BS_SIZE_ALL, &got, &len));
    cr_assert(strstr(bs_error_message(), "data/missing"), "%s", bs_error_message());
    cr_assert_null(strstr(bs_error_message(), scratch), "%s", bs_error_message());
    OK(bs_backend_store(s, "d/x", "1", 1));
    EXPECT(BS_ERR_IO, bs_backend_rmdir(s, "d"));
    cr_assert(strstr(bs_error_message(), "not empty"), "%s", bs_error_message());
    cr_assert_null(strstr(bs_error_message(), scratch), "%s", bs_error_message());
    OK(bs_backend_close(s));
    OK(bs_backend_destroy(s));
    EXPECT(BS_ERR_DOES_NOT_EXIST, bs_backend_open(s));
    cr_assert_null(strstr(bs_error_message(), scratch), "%s", bs_error_message());
    bs_backend_free(s);
    free(path);
}

Test(sftp, restrictions_it_cannot_enforce_are_refused)
{
    bs_backend *b = NULL;
    bs_backend_config c = {.permissions = "borgbackup-read-only"};
    EXPECT(BS_ERR_INVALID, bs_backend_new(&b, "sftp://bstest//tmp/x", &c));
    cr_assert_null(b);
    bs_backend_config q = {.quota = 1000};
    EXPECT(BS_ERR_INVALID, bs_backend_new(&b, "sftp://bstest//tmp/x", &q));
    EXPECT(BS_ERR_URL_INVALID, bs_backend_new(&b, "sftp://bstest", NULL));
    EXPECT(BS_ERR_URL_INVALID, bs_backend_new(&b, "sftp://bstest/", NULL));
    EXPECT(BS_ERR_URL_INVALID, bs_backend_new(&b, "sftp:///tmp/x", NULL));
}

Test(sftp, fsync_option_still_stores)
{
    char *path = store_path("store");
    bs_backend_config c = {.fsync = true};
    bs_backend *s = bs_test_backend_new("sftp://bstest/", path, &c);
    OK(bs_backend_create(s));
    OK(bs_backend_open(s));
    uint8_t data[5000];
    bs_test_fill(data, sizeof data, 5);
    OK(bs_backend_store(s, "a/b", data, sizeof data));
    bs_test_check_load(s, "a/b", data, sizeof data);
    bs_backend_free(s);
    free(path);
}

/* ---- lost connections, through a relay ------------------------------------ */

static bs_relay relay;
static char *relay_cfg;

/* A backend reaching the store at path through the relay. */
static bs_backend *via_relay(const char *path, bool create)
{
    bs_relay_start(&relay, bs_sshd_get()->port);
    char port[64];
    snprintf(port, sizeof port, "Port %d\n", relay.port);
    relay_cfg = bs_sshd_config(scratch, "relay", port, "  StrictHostKeyChecking accept-new");
    bs_backend_config c = {.ssh_config = relay_cfg};
    bs_backend *b = bs_test_backend_new("sftp://relay/", path, &c);
    if (create) OK(bs_backend_create(b));
    OK(bs_backend_open(b));
    return b;
}

static void relay_done(bs_backend *b)
{
    bs_backend_free(b);
    bs_relay_stop(&relay);
    free(relay_cfg);
}

Test(sftp, lost_connection_is_reconnected_and_the_call_retried)
{
    char *path = store_path("store");
    bs_backend *b = via_relay(path, true);
    OK(bs_backend_store(b, "a", "before", 6));
    unsigned before = bs_relay_accepted(&relay);
    bs_relay_cut_now(&relay);
    bs_test_check_load(b, "a", "before", 6); /* on a new connection */
    cr_assert_eq(bs_relay_accepted(&relay), before + 1);
    bs_relay_cut_now(&relay);
    OK(bs_backend_delete(b, "a"));
    bs_item_info info;
    OK(bs_backend_info(b, "a", &info));
    cr_assert_not(info.exists);
    relay_done(b);
    free(path);
}

Test(sftp, connection_cut_in_the_middle_of_a_large_store_or_load)
{
    char *path = store_path("store");
    bs_backend *b = via_relay(path, true);
    size_t len = 8u << 20;
    uint8_t *data = malloc(len);
    bs_test_fill(data, len, 99);
    bs_relay_cut_after(&relay, 3u << 20);
    OK(bs_backend_store(b, "big", data, len)); /* sent again on a new connection */
    bs_relay_cut_after(&relay, 2u << 20);
    bs_test_check_load(b, "big", data, len);
    cr_assert_geq(bs_relay_accepted(&relay), 3);
    bs_list_iter *it;
    OK(bs_backend_list_begin(b, "", &it));
    bs_item_info info;
    cr_assert_eq(bs_backend_list_next(it, &info), 1);
    cr_assert_str_eq(info.name, "big");
    cr_assert_eq(info.size, len);
    cr_assert_eq(bs_backend_list_next(it, &info), 0, "%s listed", info.name);
    bs_backend_list_end(it);
    free(data);
    relay_done(b);
    free(path);
}

Test(sftp, server_gone_for_good_is_a_connection_error)
{
    char *path = store_path("store");
    bs_backend *b = via_relay(path, true);
    OK(bs_backend_store(b, "a", "1", 1));
    bs_relay_stop(&relay); /* connections die, new ones are refused */
    bs_item_info info;
    EXPECT(BS_ERR_CONNECTION, bs_backend_info(b, "a", &info));
    cr_assert(strstr(bs_error_message(), "127.0.0.1") || strstr(bs_error_message(), "relay"),
              "%s", bs_error_message());
    bs_backend_free(b);
    free(relay_cfg);
    free(path);
}

/* ---- pipelined batches ------------------------------------------------------ */

#define BN 40
_Static_assert(BN <= BS_TEST_BATCH_MAX, "the collector holds BN results");

Test(sftp, batch_moves_values_of_every_size_and_reads_back_through_file)
{
    char *path = store_path("store");
    bs_backend *s = sftp_open_new(path);
    cr_assert_geq(bs_backend_window(s), 16, "sftp should pipeline batches");
    static const size_t bsizes[] = {0, 1, 100, 65535, 65536, 65537, 200000, 3u << 20};
    enum { NS = sizeof bsizes / sizeof bsizes[0] };
    uint8_t *data[NS];
    char names[NS][64];
    bs_op ops[BN];
    for (size_t i = 0; i < NS; i++) {
        data[i] = malloc(bsizes[i] + 1);
        bs_test_fill(data[i], bsizes[i], 300 + i);
        /* half of them in directories that do not exist yet */
        snprintf(names[i], sizeof names[i], "%s/%02zx%07zu", i % 2 ? "data/new" : "top", i,
                 bsizes[i]);
        ops[i] =
            (bs_op){.kind = BS_OP_STORE, .name = names[i], .data = data[i], .len = bsizes[i]};
    }
    bs_test_batch *g = calloc(1, sizeof *g);
    OK(bs_backend_batch(s, ops, NS, 0, bs_test_batch_collect, g));
    cr_assert_eq(g->count, NS);
    for (size_t i = 0; i < NS; i++)
        cr_assert_eq(g->rc[i], 0, "store %s: %s", names[i], g->msg[i]);
    bs_test_batch_free(g);

    /* whole and partial loads, in one batch */
    static const struct {
        int64_t off, size;
    } parts[] = {{0, BS_SIZE_ALL},      {1, 5},  {65530, 100},
                 {-70000, BS_SIZE_ALL}, {-3, 2}, {(int64_t)(3u << 20) - 10, 100}};
    enum { NP = sizeof parts / sizeof parts[0] };
    size_t k = 0, want_start[BN], want_len[BN], src[BN];
    for (size_t i = 0; i < NS; i++)
        for (size_t j = 0; j < NP; j++) {
            int64_t off = parts[j].off, size = parts[j].size;
            size_t len = bsizes[i];
            if (off < 0 && (size_t)-off > len) continue; /* tested below */
            size_t start = off >= 0 ? (size_t)off : len - (size_t)-off;
            size_t avail = start < len ? len - start : 0;
            if (k == BN) break;
            want_start[k] = start;
            want_len[k] = size == BS_SIZE_ALL || (size_t)size > avail ? avail : (size_t)size;
            src[k] = i;
            ops[k++] =
                (bs_op){.kind = BS_OP_LOAD, .name = names[i], .offset = off, .size = size};
        }
    g = calloc(1, sizeof *g);
    OK(bs_backend_batch(s, ops, k, 0, bs_test_batch_collect, g));
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
    OK(bs_backend_close(s));
    cr_assert_eq(bs_test_temp_files_below(path), 0);
    bs_backend *f = bs_test_backend_new("file://", path, NULL);
    OK(bs_backend_open(f));
    for (size_t i = 0; i < NS; i++)
        bs_test_check_load(f, names[i], data[i], bsizes[i]);
    bs_backend_free(f);
    for (size_t i = 0; i < NS; i++)
        free(data[i]);
    bs_backend_free(s);
    free(path);
}

Test(sftp, batch_reports_each_failure_on_its_own)
{
    char *path = store_path("store");
    bs_backend *s = sftp_open_new(path);
    OK(bs_backend_store(s, "a/file", "12345", 5));
    OK(bs_backend_store(s, "a/moveme", "12345", 5)); /* ops of a batch may run in any order */
    OK(bs_backend_mkdir(s, "a/dir/sub"));
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
        {.kind = BS_OP_LOAD, .name = "a/dir/sub", .size = BS_SIZE_ALL},  /* 10 */
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
                               BS_ERR_IO};
    enum { NO = sizeof ops / sizeof ops[0] };
    bs_test_batch *g = calloc(1, sizeof *g);
    OK(bs_backend_batch(s, ops, NO, 0, bs_test_batch_collect, g));
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
    bs_test_batch_free(g);
    bs_test_check_load(s, "new/dir/file", "12345", 5);
    cr_assert_eq(bs_test_temp_files_below(path), 0, "a failed store left its temp file");
    bs_backend_free(s);
    free(path);
}

Test(sftp, batch_stopped_by_its_callback)
{
    char *path = store_path("store");
    bs_backend *s = sftp_open_new(path);
    bs_op ops[BN];
    char names[BN][16];
    for (size_t i = 0; i < BN; i++) {
        snprintf(names[i], sizeof names[i], "s/%02zu", i);
        ops[i] = (bs_op){.kind = BS_OP_STORE, .name = names[i], .data = "v", .len = 1};
    }
    bs_test_batch *g = calloc(1, sizeof *g);
    g->stop_after = 5;
    EXPECT(BS_ERR_INVALID, bs_backend_batch(s, ops, BN, 8, bs_test_batch_collect, g));
    cr_assert_eq(g->count, 5, "callbacks after the stop: %zu", g->count);
    bs_test_batch_free(g);
    /* the connection is still in order */
    OK(bs_backend_store(s, "after", "ok", 2));
    bs_test_check_load(s, "after", "ok", 2);
    bs_backend_free(s);
    free(path);
}

Test(sftp, connection_cut_in_the_middle_of_a_batch)
{
    char *path = store_path("store");
    bs_backend *b = via_relay(path, true);
    enum { NB = BN };
    static uint8_t values[NB][100000];
    char names[NB][16];
    bs_op ops[NB];
    for (size_t i = 0; i < NB; i++) {
        bs_test_fill(values[i], sizeof values[i], 700 + i);
        snprintf(names[i], sizeof names[i], "v/%02zu", i);
        ops[i] = (bs_op){
            .kind = BS_OP_STORE, .name = names[i], .data = values[i], .len = sizeof values[i]};
    }
    OK(bs_backend_store(b, "d/gone", "1", 1));
    bs_relay_cut_after(&relay, 1u << 20);
    bs_test_batch *g = calloc(1, sizeof *g);
    OK(bs_backend_batch(b, ops, NB, 0, bs_test_batch_collect, g));
    cr_assert_eq(g->count, NB);
    for (size_t i = 0; i < NB; i++)
        cr_assert_eq(g->rc[i], 0, "store %zu: %s", i, g->msg[i]);
    bs_test_batch_free(g);
    cr_assert_geq(bs_relay_accepted(&relay), 2, "the connection was not cut");
    for (size_t i = 0; i < NB; i++) {
        ops[i] = (bs_op){.kind = BS_OP_LOAD, .name = names[i], .size = BS_SIZE_ALL};
    }
    bs_relay_cut_after(&relay, 2u << 20);
    g = calloc(1, sizeof *g);
    OK(bs_backend_batch(b, ops, NB, 0, bs_test_batch_collect, g));
    for (size_t i = 0; i < NB; i++) {
        cr_assert_eq(g->rc[i], 0, "load %zu: %s", i, g->msg[i]);
        cr_assert_eq(g->len[i], sizeof values[i]);
        cr_assert(!memcmp(g->data[i], values[i], sizeof values[i]), "load %zu differs", i);
    }
    bs_test_batch_free(g);
    cr_assert_geq(bs_relay_accepted(&relay), 3);
    /* a delete cut off after it was done is not reported as missing */
    bs_op del = {.kind = BS_OP_DELETE, .name = "d/gone"};
    g = calloc(1, sizeof *g);
    OK(bs_backend_batch(b, &del, 1, 0, bs_test_batch_collect, g));
    cr_assert_eq(g->rc[0], 0, "%s", g->msg[0]);
    bs_test_batch_free(g);
    relay_done(b);
    free(path);
}

Test(sftp, plain_rename_and_unpipelined_writes_work_too)
{
    /* a server without posix-rename (the old value is removed first), and
     * libssh's own one-at-a-time writes */
    setenv("BORGSTORE_SFTP_POSIX_RENAME", "0", 1);
    setenv("BORGSTORE_SFTP_WRITE_WINDOW", "1", 1);
    char *path = store_path("store");
    bs_backend *s = sftp_open_new(path);
    size_t len = (1u << 20) + 3;
    uint8_t *data = malloc(len);
    bs_test_fill(data, len, 11);
    OK(bs_backend_store(s, "a/v", "old", 3));
    OK(bs_backend_store(s, "a/v", data, len)); /* replaces */
    bs_test_check_load(s, "a/v", data, len);
    OK(bs_backend_store(s, "b", "other", 5));
    OK(bs_backend_move(s, "b", "a/v")); /* replaces too */
    bs_test_check_load(s, "a/v", "other", 5);
    bs_op ops[] = {
        {.kind = BS_OP_STORE, .name = "c/1", .data = data, .len = len},
        {.kind = BS_OP_STORE, .name = "a/v", .data = "third", .len = 5},
        {.kind = BS_OP_MOVE, .name = "c/1", .dst = "d/1"},
    };
    for (size_t i = 0; i < 3; i++) {
        bs_test_batch *g = calloc(1, sizeof *g);
        OK(bs_backend_batch(s, &ops[i], 1, 0, bs_test_batch_collect, g));
        cr_assert_eq(g->rc[0], 0, "op %zu: %s", i, g->msg[0]);
        bs_test_batch_free(g);
    }
    bs_test_check_load(s, "a/v", "third", 5);
    bs_test_check_load(s, "d/1", data, len);
    cr_assert_eq(bs_test_temp_files_below(path), 0);
    free(data);
    bs_backend_free(s);
    free(path);
}

typedef struct source {
    const uint8_t *data;
    size_t len, pos, fail_at; /* fail_at non-zero: fail once pos reaches it */
} source;

static int from_source(void *ctx, uint8_t *buf, size_t cap, size_t *got)
{
    source *src = ctx;
    if (src->fail_at && src->pos >= src->fail_at) return -1;
    size_t n = src->len - src->pos < cap ? src->len - src->pos : cap;
    if (n > 100003) n = 100003;
    memcpy(buf, src->data + src->pos, n);
    src->pos += n;
    *got = n;
    return 0;
}

/* bs_store_store_from over sftp:// (the backend's store_from, a buffer at a
 * time into the temp file): byte-exact through file://; a reader failing
 * halfway stores nothing and leaves no temp file. */
Test(sftp, streamed_store_reads_back_and_a_failing_reader_leaves_nothing)
{
    char *path = store_path("store");
    bs_backend_free(sftp_open_new(path));
    static const bs_store_namespace ns[] = {{.prefix = "ns/", .levels = {0}, .nlevels = 1}};
    bs_store_config cfg = {.namespaces = ns, .n_namespaces = 1};
    char url[4200];
    snprintf(url, sizeof url, "sftp://bstest/%s", path);
    bs_store *st;
    OK(bs_store_new(&st, url, &cfg));
    OK(bs_store_open(st));
    size_t n = (9u << 20) + 3;
    uint8_t *v = malloc(n);
    for (size_t i = 0; i < n; i++) v[i] = (uint8_t)(i * 7 + i / 4099);
    source src = {.data = v, .len = n};
    OK(bs_store_store_from(st, "ns/v", n, from_source, &src));
    char on_disk[4300];
    snprintf(on_disk, sizeof on_disk, "%s/ns/v", path);
    size_t got_len;
    char *got = bs_test_read_file(on_disk, &got_len);
    cr_assert_eq(got_len, n, "%zu bytes at %s", got ? got_len : 0, on_disk);
    cr_assert(!memcmp(got, v, n), "the value differs");
    free(got);
    source failing = {.data = v, .len = n, .fail_at = 5u << 20};
    EXPECT(BS_ERR_IO, bs_store_store_from(st, "ns/w", n, from_source, &failing));
    bs_item_info info;
    OK(bs_store_info(st, "ns/w", false, &info));
    cr_assert(!info.exists);
    cr_assert_eq(bs_test_temp_files_below(path), 0);
    OK(bs_store_close(st));
    bs_store_free(st);
    free(v);
    free(path);
}
