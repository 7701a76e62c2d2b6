/* Forced-command setups through a real sshd (run under with-sshd.sh): keys
 * restricted in authorized_keys to `borgstore-serve --restrict-to-path ...
 * --permissions ...`, used through the public API with ssh:// URLs. Every
 * refusal must carry the right code and leave the store byte-for-byte
 * unchanged (checked through file:// and the file system). */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "borgstore/backend.h"
#include "borgstore/errors.h"
#include "sshd_fixture.h"
#include "testutil.h"

static char *base;  /* scratch dir: alice/, alice2/, other/ */
static char cfg_path[1024];
static char alias[64];

static void setup(void)
{
    base = bs_sshd_scratch();
    char *real = realpath(base, NULL); /* restrictions compare real paths */
    cr_assert_not_null(real);
    free(base);
    base = real;
}

static void teardown(void)
{
    bs_test_rmtree(base);
    free(base);
    base = NULL;
}

TestSuite(ssh_forced, .init = setup, .fini = teardown, .timeout = 120);

static char *path_in_base(const char *rel)
{
    char *p = NULL;
    cr_assert(asprintf(&p, "%s/%s", base, rel) > 0);
    return p;
}

/* A key whose authorized_keys entry forces borgstore-serve with options,
 * and an ssh config alias that logs in with it. */
static void forced_key(const char *options)
{
    static int n;
    char name[32], opts[2048], replace[1200];
    snprintf(name, sizeof name, "forced%d", ++n);
    snprintf(alias, sizeof alias, "forced-%d", n);
    snprintf(opts, sizeof opts, "command=\"%s %s\",restrict",
             bs_test_build_path("borgstore-serve"), options);
    char *key = bs_sshd_new_key(base, name, true, opts);
    snprintf(replace, sizeof replace, "IdentityFile %s\n", key);
    char *dir = path_in_base(alias);
    cr_assert_eq(mkdir(dir, 0700), 0);
    char *cfg = bs_sshd_config(dir, alias, replace, "  StrictHostKeyChecking accept-new");
    snprintf(cfg_path, sizeof cfg_path, "%s", cfg);
    free(cfg);
    free(dir);
    free(key);
}

static bs_backend *remote(const char *rel)
{
    char url[2048];
    snprintf(url, sizeof url, "ssh://%s/%s/%s", alias, base, rel);
    bs_backend_config cfg = {.ssh_config = cfg_path};
    bs_backend *b = NULL;
    int rc = bs_backend_new(&b, url, &cfg);
    cr_assert_eq(rc, 0, "bs_backend_new(%s): %s", url, bs_error_message());
    return b;
}

static bs_backend *local(const char *rel)
{
    char url[2048];
    snprintf(url, sizeof url, "file://%s/%s", base, rel);
    bs_backend *b = NULL;
    cr_assert_eq(bs_backend_new(&b, url, NULL), 0, "%s", bs_error_message());
    return b;
}

static void put(bs_backend *b, const char *name, const char *value)
{
    int rc = bs_backend_store(b, name, value, strlen(value));
    cr_assert_eq(rc, 0, "store %s: %s", name, bs_error_message());
}

/* A borg-like store at base/rel, made locally (no restrictions). */
static void seed(const char *rel)
{
    bs_backend *b = local(rel);
    cr_assert_eq(bs_backend_create(b), 0, "%s", bs_error_message());
    cr_assert_eq(bs_backend_open(b), 0);
    put(b, "config/main", "config-1");
    put(b, "keys/repokey", "key-1");
    put(b, "data/00", "data-00");
    put(b, "archives/a1", "archive-1");
    cr_assert_eq(bs_backend_mkdir(b, "locks"), 0);
    cr_assert_eq(bs_backend_mkdir(b, "cache"), 0);
    bs_backend_close(b);
    bs_backend_free(b);
}

/* ---- a digest of a whole tree, to prove "unchanged" ---------------------- */

static uint64_t tree_hash;
static int tree_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    uint64_t h = 1469598103934665603ull;
    for (const char *c = p; *c; c++) h = (h ^ (uint8_t)*c) * 1099511628211ull;
    h = (h ^ (uint64_t)flag) * 1099511628211ull;
    if (flag == FTW_F) {
        size_t len = 0;
        char *data = bs_test_read_file(p, &len);
        for (size_t i = 0; data && i < len; i++) h = (h ^ (uint8_t)data[i]) * 1099511628211ull;
        free(data);
        h = (h ^ (uint64_t)st->st_size) * 1099511628211ull;
    }
    tree_hash += h * 0x9e3779b97f4a7c15ull; /* order-independent */
    return 0;
}

static uint64_t tree_digest(const char *rel)
{
    char *p = path_in_base(rel);
    tree_hash = 0;
    nftw(p, tree_one, 16, FTW_PHYS);
    free(p);
    return tree_hash;
}

static void load_expect(bs_backend *b, const char *name, const char *value)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = bs_backend_load(b, name, 0, BS_SIZE_ALL, &data, &len);
    cr_assert_eq(rc, 0, "load %s: %s", name, bs_error_message());
    cr_assert_eq(len, strlen(value));
    cr_assert_arr_eq(data, value, len);
    bs_free(data);
}

#define EXPECT(code, call)                                                                \
    do {                                                                                  \
        int rc_ = (call);                                                                 \
        cr_assert_eq(rc_, code, "%s: expected %s, got %s: %s", #call, bs_error_id(code),  \
                     bs_error_id(rc_), bs_error_message());                               \
    } while (0)

static void close_free(bs_backend *b)
{
    bs_backend_close(b);
    bs_backend_free(b);
}

/* Opening rel through the forced key is refused and changes nothing. */
static void open_refused(const char *rel, const char *watched)
{
    uint64_t before = tree_digest(watched);
    bs_backend *b = remote(rel);
    EXPECT(BS_ERR_PERMISSION, bs_backend_open(b));
    cr_assert(strstr(bs_error_message(), "path not allowed"), "%s", bs_error_message());
    cr_assert(!strstr(bs_error_message(), base), "message leaks a server path: %s",
              bs_error_message());
    EXPECT(BS_ERR_PERMISSION, bs_backend_create(b));
    bs_backend_free(b);
    cr_assert_eq(tree_digest(watched), before, "%s changed", watched);
}

/* ---- --restrict-to-path ------------------------------------------------------ */

Test(ssh_forced, restrict_to_path_serves_stores_below_it)
{
    seed("alice/repo");
    char opts[1200];
    snprintf(opts, sizeof opts, "--restrict-to-path %s/alice", base);
    forced_key(opts);
    bs_backend *b = remote("alice/repo");
    cr_assert_eq(bs_backend_open(b), 0, "%s", bs_error_message());
    load_expect(b, "data/00", "data-00");
    put(b, "data/01", "data-01");
    bs_backend_close(b);
    bs_backend_free(b);
    /* A new store below the path can be created too. */
    b = remote("alice/new");
    cr_assert_eq(bs_backend_create(b), 0, "%s", bs_error_message());
    bs_backend_free(b);
    char *p = path_in_base("alice/new");
    struct stat st;
    cr_assert_eq(stat(p, &st), 0);
    free(p);
}

Test(ssh_forced, dotdot_escape_is_refused)
{
    seed("alice/repo");
    seed("other/repo");
    char opts[1200];
    snprintf(opts, sizeof opts, "--restrict-to-path %s/alice", base);
    forced_key(opts);
    open_refused("alice/../other/repo", "other");
    open_refused("alice/repo/../../other/repo", "other");
}

Test(ssh_forced, symlink_escape_is_refused)
{
    seed("other/repo");
    char *alice = path_in_base("alice");
    cr_assert_eq(mkdir(alice, 0700), 0);
    char *target = path_in_base("other/repo"), *link = path_in_base("alice/link");
    cr_assert_eq(symlink(target, link), 0);
    char opts[1200];
    snprintf(opts, sizeof opts, "--restrict-to-path %s/alice", base);
    forced_key(opts);
    open_refused("alice/link", "other");
    /* Control: a symlink that stays inside the allowed path is fine. */
    seed("alice/repo");
    char *inner = path_in_base("alice/repo"), *inlink = path_in_base("alice/inlink");
    cr_assert_eq(symlink(inner, inlink), 0);
    bs_backend *b = remote("alice/inlink");
    cr_assert_eq(bs_backend_open(b), 0, "%s", bs_error_message());
    load_expect(b, "data/00", "data-00");
    close_free(b);
    free(inner);
    free(inlink);
    free(alice);
    free(target);
    free(link);
}

Test(ssh_forced, sibling_with_the_same_prefix_is_refused)
{
    seed("alice2/repo");
    char opts[1200];
    snprintf(opts, sizeof opts, "--restrict-to-path %s/alice", base);
    forced_key(opts);
    open_refused("alice2/repo", "alice2");
}

Test(ssh_forced, restrict_to_repository_is_exact)
{
    seed("alice/other");
    char opts[1200];
    snprintf(opts, sizeof opts, "--restrict-to-repository %s/alice/repo", base);
    forced_key(opts);
    bs_backend *b = remote("alice/repo"); /* does not exist yet: create works */
    cr_assert_eq(bs_backend_create(b), 0, "%s", bs_error_message());
    cr_assert_eq(bs_backend_open(b), 0, "%s", bs_error_message());
    put(b, "data/00", "x");
    bs_backend_close(b);
    bs_backend_free(b);
    open_refused("alice/other", "alice/other");
    open_refused("alice/repo/data", "alice/repo");
}

/* ---- permission presets ------------------------------------------------------ */

static bs_backend *open_with(const char *options)
{
    char opts[1200];
    snprintf(opts, sizeof opts, "--restrict-to-path %s/alice %s", base, options);
    forced_key(opts);
    bs_backend *b = remote("alice/repo");
    cr_assert_eq(bs_backend_open(b), 0, "open: %s", bs_error_message());
    return b;
}

Test(ssh_forced, no_delete_refuses_deletes_and_overwrites)
{
    seed("alice/repo");
    bs_backend *b = open_with("--permissions borgbackup-no-delete");
    uint64_t before = tree_digest("alice/repo");
    EXPECT(BS_ERR_PERMISSION, bs_backend_delete(b, "data/00"));
    EXPECT(BS_ERR_PERMISSION, bs_backend_store(b, "data/00", "evil", 4));
    EXPECT(BS_ERR_PERMISSION, bs_backend_move(b, "data/00", "data/00.del"));
    EXPECT(BS_ERR_PERMISSION, bs_backend_delete(b, "archives/a1"));
    EXPECT(BS_ERR_PERMISSION, bs_backend_store(b, "keys/repokey", "evil", 4));
    cr_assert_eq(tree_digest("alice/repo"), before, "store changed by refused calls");
    /* What the preset allows still works. */
    load_expect(b, "data/00", "data-00");
    put(b, "data/01", "new");
    put(b, "config/main", "config-2"); /* config: lrW */
    put(b, "locks/l1", "lock");
    EXPECT(0, bs_backend_delete(b, "locks/l1"));
    close_free(b);
    bs_backend *l = local("alice/repo");
    cr_assert_eq(bs_backend_open(l), 0);
    load_expect(l, "data/00", "data-00");
    load_expect(l, "data/01", "new");
    load_expect(l, "config/main", "config-2");
    close_free(l);
}

Test(ssh_forced, write_only_cannot_read_data)
{
    seed("alice/repo");
    bs_backend *b = open_with("--permissions borgbackup-write-only");
    uint8_t *data = NULL;
    size_t len = 0;
    EXPECT(BS_ERR_PERMISSION, bs_backend_load(b, "data/00", 0, BS_SIZE_ALL, &data, &len));
    cr_assert_null(data);
    EXPECT(BS_ERR_PERMISSION, bs_backend_load(b, "archives/a1", 0, BS_SIZE_ALL, &data, &len));
    uint64_t before = tree_digest("alice/repo");
    EXPECT(BS_ERR_PERMISSION, bs_backend_delete(b, "data/00"));
    EXPECT(BS_ERR_PERMISSION, bs_backend_store(b, "data/00", "evil", 4));
    cr_assert_eq(tree_digest("alice/repo"), before);
    put(b, "data/02", "appended");
    load_expect(b, "keys/repokey", "key-1"); /* keys: lr */
    close_free(b);
}

Test(ssh_forced, read_only_preset_refuses_every_write)
{
    seed("alice/repo");
    bs_backend *b = open_with("--permissions borgbackup-read-only");
    uint64_t before = tree_digest("alice/repo");
    EXPECT(BS_ERR_PERMISSION, bs_backend_store(b, "data/09", "new", 3));
    EXPECT(BS_ERR_PERMISSION, bs_backend_store(b, "config/main", "evil", 4));
    EXPECT(BS_ERR_PERMISSION, bs_backend_delete(b, "data/00"));
    EXPECT(BS_ERR_PERMISSION, bs_backend_mkdir(b, "data/new"));
    cr_assert_eq(tree_digest("alice/repo"), before);
    load_expect(b, "data/00", "data-00");
    close_free(b);
}

Test(ssh_forced, read_only_flag_refuses_every_write)
{
    seed("alice/repo");
    bs_backend *b = open_with("--read-only");
    uint64_t before = tree_digest("alice/repo");
    EXPECT(BS_ERR_PERMISSION, bs_backend_store(b, "data/09", "new", 3));
    EXPECT(BS_ERR_PERMISSION, bs_backend_store(b, "locks/l", "new", 3));
    EXPECT(BS_ERR_PERMISSION, bs_backend_delete(b, "data/00"));
    EXPECT(BS_ERR_PERMISSION, bs_backend_move(b, "data/00", "data/01"));
    cr_assert_eq(tree_digest("alice/repo"), before);
    load_expect(b, "data/00", "data-00");
    close_free(b);
    /* Nor can a read-only key create or destroy stores. */
    b = remote("alice/fresh");
    EXPECT(BS_ERR_PERMISSION, bs_backend_create(b));
    bs_backend_free(b);
    b = remote("alice/repo");
    EXPECT(BS_ERR_PERMISSION, bs_backend_destroy(b));
    bs_backend_free(b);
    cr_assert_eq(tree_digest("alice/repo"), before);
}

Test(ssh_forced, all_preset_allows_deletes_and_overwrites)
{
    seed("alice/repo");
    bs_backend *b = open_with("--permissions borgbackup-all");
    put(b, "data/00", "replaced");
    load_expect(b, "data/00", "replaced");
    EXPECT(0, bs_backend_delete(b, "archives/a1"));
    close_free(b);
}

Test(ssh_forced, quota_overrun_is_refused_and_nothing_is_stored)
{
    seed("alice/repo");
    /* the seeded repository counts 45,056 bytes: 11 items and directories at
     * 4096 (docs/security.md, --quota) */
    bs_backend *b = open_with("--quota 80000");
    static char big[20000];
    memset(big, 'q', sizeof big);
    EXPECT(0, bs_backend_store(b, "data/10", big, sizeof big));
    uint64_t before = tree_digest("alice/repo");
    EXPECT(BS_ERR_QUOTA, bs_backend_store(b, "data/11", big, sizeof big));
    bs_item_info info;
    EXPECT(0, bs_backend_info(b, "data/11", &info));
    cr_assert(!info.exists, "over-quota value is visible");
    close_free(b);
    cr_assert_eq(tree_digest("alice/repo"), before, "store changed by the refused store");
}

Test(ssh_forced, the_client_cannot_widen_the_forced_options)
{
    /* The client asks for a different command line; sshd runs the forced one. */
    seed("alice/repo");
    char opts[1200];
    snprintf(opts, sizeof opts, "--restrict-to-path %s/alice --permissions borgbackup-read-only",
             base);
    forced_key(opts);
    setenv("BORGSTORE_REMOTE_PATH", "borgstore-serve --permissions borgbackup-all", 1);
    bs_backend *b = remote("alice/repo");
    cr_assert_eq(bs_backend_open(b), 0, "%s", bs_error_message());
    EXPECT(BS_ERR_PERMISSION, bs_backend_delete(b, "data/00"));
    close_free(b);
}
