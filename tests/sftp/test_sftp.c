/* sftp:// against a real OpenSSH sshd (internal-sftp, run under
 * with-sshd.sh): the on-disk layout read back through file://, partial
 * loads across request boundaries, relative paths, temp files, and lost
 * connections (through a relay that cuts them) being re-established. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "borgstore/backend.h"
#include "sshd_fixture.h"
#include "tcp_relay.h"
#include "testutil.h"

#define EXPECT(code, call)                                                                     \
    do {                                                                                       \
        int rc_ = (call);                                                                      \
        cr_assert_eq(rc_, (code), "%s\n  returned %d (%s), expected %d: %s", #call, rc_,       \
                     bs_error_id(rc_), (code), bs_error_message());                            \
    } while (0)
#define OK(call) EXPECT(0, call)

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

/* "sftp://bstest/" + abs gives "//abs": an absolute path on the server. */
static bs_backend *make(const char *scheme_prefix, const char *path, const bs_backend_config *c)
{
    char url[4200];
    snprintf(url, sizeof url, "%s%s", scheme_prefix, path);
    bs_backend *b = NULL;
    OK(bs_backend_new(&b, url, c));
    return b;
}

static char *store_path(const char *leaf)
{
    char *p = NULL;
    cr_assert(asprintf(&p, "%s/%s", scratch, leaf) > 0);
    return p;
}

static bs_backend *sftp_open_new(const char *path)
{
    bs_backend *b = make("sftp://bstest/", path, NULL);
    OK(bs_backend_create(b));
    OK(bs_backend_open(b));
    return b;
}

static void check_load(bs_backend *b, const char *name, const uint8_t *want, size_t len)
{
    uint8_t *got = NULL;
    size_t got_len = 0;
    OK(bs_backend_load(b, name, 0, BS_SIZE_ALL, &got, &got_len));
    cr_assert_eq(got_len, len, "%s: %zu bytes, expected %zu", name, got_len, len);
    cr_assert(len == 0 || memcmp(got, want, len) == 0, "%s: content differs", name);
    bs_free(got);
}

static int tmp_files;
static int count_tmp(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    size_t n = strlen(p);
    if (n > 4 && strcmp(p + n - 4, ".tmp") == 0) tmp_files++;
    return 0;
}

/* *.tmp files anywhere below dir on disk. */
static int temp_files_below(const char *dir)
{
    tmp_files = 0;
    nftw(dir, count_tmp, 16, FTW_PHYS);
    return tmp_files;
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
    cr_assert_eq(temp_files_below(path), 0, "temp files left behind");

    bs_backend *f = make("file://", path, NULL);
    OK(bs_backend_open(f));
    for (size_t i = 0; i < NSIZES; i++)
        check_load(f, names[i], data[i], sizes[i]);
    check_load(f, "config", (const uint8_t *)"config-2", 8);
    bs_item_info info;
    OK(bs_backend_info(f, "empty/dir", &info));
    cr_assert(info.exists && info.directory);
    /* and the other way round: file:// writes, sftp:// reads */
    OK(bs_backend_store(f, "keys/repokey", "key", 3));
    OK(bs_backend_close(f));
    bs_backend_free(f);

    OK(bs_backend_open(s));
    check_load(s, "keys/repokey", (const uint8_t *)"key", 3);
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
    bs_backend *s = make("sftp://bstest/", rel, NULL);
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
    cr_assert_eq(temp_files_below(path), 0);
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
    bs_backend *s = make("sftp://bstest/", path, &c);
    OK(bs_backend_create(s));
    OK(bs_backend_open(s));
    uint8_t data[5000];
    bs_test_fill(data, sizeof data, 5);
    OK(bs_backend_store(s, "a/b", data, sizeof data));
    check_load(s, "a/b", data, sizeof data);
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
    bs_backend *b = make("sftp://relay/", path, &c);
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
    check_load(b, "a", (const uint8_t *)"before", 6); /* on a new connection */
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
    check_load(b, "big", data, len);
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
