/* The posix backend's directory fd cache: stale entries (directories removed,
 * recreated or moved behind the backend's back) never give wrong answers or
 * misplace data, fds stay bounded and none outlives close, and the
 * fstat-less small load agrees with the plain one at every size edge. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/posix_dircache.h"
#include "backends/posix_resolve.h"
#include "posixtest.h"
#include "testutil.h"

TestSuite(dircache, .init = pt_init, .fini = pt_fini, .timeout = 120);

static void put(bs_backend *b, const char *name, const char *value)
{
    PT_OK(bs_backend_store(b, name, value, strlen(value)));
}

static void expect_value(bs_backend *b, const char *name, const char *value)
{
    uint8_t *got;
    size_t len;
    PT_OK(bs_backend_load(b, name, 0, BS_SIZE_ALL, &got, &len));
    cr_assert_eq(len, strlen(value), "%s: %zu bytes", name, len);
    cr_assert(memcmp(got, value, len) == 0, "%s: wrong content", name);
    bs_free(got);
}

static bool exists_on_disk(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void expect_file(const char *path, const char *value)
{
    size_t len;
    char *text = bs_test_read_file(path, &len);
    cr_assert_not_null(text, "%s missing", path);
    cr_assert_eq(len, strlen(value), "%s: %zu bytes", path, len);
    cr_assert(memcmp(text, value, len) == 0, "%s: wrong content", path);
    free(text);
}

static bool exists_item(bs_backend *b, const char *name)
{
    bs_item_info info;
    PT_OK(bs_backend_info(b, name, &info));
    return info.exists;
}

/* rename of two paths inside the store (pt_path has one static buffer) */
static void rename_in_store(const char *from, const char *to)
{
    char a[1024];
    snprintf(a, sizeof a, "%s", pt_path(from));
    cr_assert_eq(rename(a, pt_path(to)), 0, "rename %s %s", from, to);
}

static size_t count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* ---- the cache itself ------------------------------------------------------ */

static int dir_fd(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", pt_dir, rel);
    mkdir(path, 0777);
    int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    return fd;
}

Test(dircache, lookup_insert_release_and_eviction)
{
    size_t before = count_fds();
    bs_dircache *c = bs__dircache_new(16);
    cr_assert_not_null(c);
    cr_assert_eq(bs__dircache_lookup(c, "d0"), -1);
    char rel[32];
    for (int i = 0; i < 40; i++) {
        snprintf(rel, sizeof rel, "d%d", i);
        int fd = dir_fd(rel);
        cr_assert(bs__dircache_insert(c, rel, fd));
        cr_assert(bs__dircache_release(c, fd));
        cr_assert_leq(bs__dircache_size(c), 16);
    }
    /* bounded: evicted fds were closed */
    cr_assert_leq(count_fds(), before + 16);
    snprintf(rel, sizeof rel, "d%d", 39);
    int fd = bs__dircache_lookup(c, rel);
    cr_assert_geq(fd, 0, "the newest entry is cached");
    cr_assert(bs__dircache_release(c, fd));
    cr_assert_not(bs__dircache_release(c, fd), "released twice");
    cr_assert_not(bs__dircache_release(c, 12345), "not a cached fd");
    bs__dircache_free(c);
    cr_assert_eq(count_fds(), before);
}

Test(dircache, pinned_entries_survive_eviction_and_forgetting)
{
    size_t before = count_fds();
    bs_dircache *c = bs__dircache_new(16);
    int pinned = dir_fd("pinned");
    cr_assert(bs__dircache_insert(c, "pinned", pinned)); /* stays pinned */
    char rel[32];
    for (int i = 0; i < 100; i++) {
        snprintf(rel, sizeof rel, "e%d", i);
        int fd = dir_fd(rel);
        cr_assert(bs__dircache_insert(c, rel, fd));
        cr_assert(bs__dircache_release(c, fd));
    }
    /* still open and still the same directory */
    struct stat a, b;
    cr_assert_eq(fstat(pinned, &a), 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/pinned", pt_dir);
    cr_assert_eq(stat(path, &b), 0);
    cr_assert_eq(a.st_ino, b.st_ino);
    /* forgotten while pinned: out of the index at once, closed at release */
    bs__dircache_forget(c, "pinned");
    cr_assert_eq(bs__dircache_lookup(c, "pinned"), -1);
    cr_assert_eq(fstat(pinned, &a), 0, "closed while still in use");
    cr_assert(bs__dircache_release(c, pinned));
    cr_assert_eq(fcntl(pinned, F_GETFD), -1, "not closed at its last release");
    bs__dircache_free(c);
    cr_assert_eq(count_fds(), before);
}

Test(dircache, forget_tree_and_clear)
{
    size_t before = count_fds();
    bs_dircache *c = bs__dircache_new(32);
    static const char *rels[] = {"a", "a/b", "a/b/c", "ab", "x"};
    for (size_t i = 0; i < 5; i++) {
        char d[64];
        snprintf(d, sizeof d, "t_%zu", i);
        int fd = dir_fd(d);
        cr_assert(bs__dircache_insert(c, rels[i], fd));
        cr_assert(bs__dircache_release(c, fd));
    }
    bs__dircache_forget_tree(c, "a");
    cr_assert_eq(bs__dircache_size(c), 2, "a, a/b, a/b/c gone; ab and x stay");
    int fd = bs__dircache_lookup(c, "ab");
    cr_assert_geq(fd, 0);
    bs__dircache_release(c, fd);
    bs__dircache_clear(c);
    cr_assert_eq(bs__dircache_size(c), 0);
    cr_assert_eq(count_fds(), before);
    bs__dircache_free(c);
}

/* ---- stale entries ------------------------------------------------------- */

/* Removes data/ab behind the backend's back and makes a new one holding
 * "fresh" = "v2": a cached fd of data/ab now points to a deleted directory. */
static void recreate_behind(bs_backend *other)
{
    if (other) {
        /* another backend instance on the same store does it */
        bs_list_iter *it;
        bs_item_info info;
        PT_OK(bs_backend_list_begin(other, "data/ab", &it));
        char names[64][BS_NAME_BUF + 8];
        size_t n = 0;
        while (n < 64 && bs_backend_list_next(it, &info) == 1)
            snprintf(names[n++], sizeof names[0], "data/ab/%s", info.name);
        bs_backend_list_end(it);
        for (size_t i = 0; i < n; i++) PT_OK(bs_backend_delete(other, names[i]));
        PT_OK(bs_backend_rmdir(other, "data/ab"));
        put(other, "data/ab/fresh", "v2");
    } else {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", pt_path("data/ab"));
        cr_assert_eq(system(cmd), 0);
        cr_assert_eq(bs_test_write_file(pt_path("data/ab/fresh"), "v2", 2), 0);
    }
}

/* Every operation, each right after the directory was replaced. */
static void stale_directory_case(bool by_other_backend)
{
    bs_backend *b = pt_open(NULL, 0);
    bs_backend *other = by_other_backend ? pt_open(NULL, 0) : NULL;
    uint8_t *got;
    size_t len;

    put(b, "data/ab/old", "v1"); /* caches data/ab */
    recreate_behind(other);
    cr_assert(exists_item(b, "data/ab/fresh"), "info through a stale fd");
    cr_assert_not(exists_item(b, "data/ab/old"));

    put(b, "data/ab/old", "v1");
    recreate_behind(other);
    expect_value(b, "data/ab/fresh", "v2");
    PT_EXPECT(BS_ERR_NOT_FOUND, bs_backend_load(b, "data/ab/old", 0, BS_SIZE_ALL, &got, &len));

    put(b, "data/ab/old", "v1");
    recreate_behind(other);
    put(b, "data/ab/new", "v3");
    expect_file(pt_path("data/ab/new"), "v3");
    expect_file(pt_path("data/ab/fresh"), "v2");

    put(b, "data/ab/old", "v1");
    recreate_behind(other);
    PT_OK(bs_backend_delete(b, "data/ab/fresh"));
    cr_assert_not(exists_on_disk(pt_path("data/ab/fresh")));
    PT_EXPECT(BS_ERR_NOT_FOUND, bs_backend_delete(b, "data/ab/old"));

    put(b, "data/ab/old", "v1");
    recreate_behind(other);
    PT_OK(bs_backend_move(b, "data/ab/fresh", "data/ab/fresh.del"));
    expect_file(pt_path("data/ab/fresh.del"), "v2");
    PT_EXPECT(BS_ERR_NOT_FOUND, bs_backend_move(b, "data/ab/old", "data/ab/old.del"));

    /* a move into the replaced directory from elsewhere */
    put(b, "data/cd/item", "v4");
    put(b, "data/ab/old", "v1");
    recreate_behind(other);
    PT_OK(bs_backend_move(b, "data/cd/item", "data/ab/item"));
    expect_file(pt_path("data/ab/item"), "v4");

    /* hash and defrag read through the same path */
    put(b, "data/ab/old", "v1");
    recreate_behind(other);
    char hex[BS_HASH_HEX_SIZE], out_name[BS_NAME_BUF];
    PT_OK(bs_backend_hash(b, "data/ab/fresh", BS_HASH_SHA256, hex));
    put(b, "data/ab/old", "v1");
    recreate_behind(other);
    bs_defrag_source src = {"data/ab/fresh", 0, 2};
    PT_OK(bs_backend_defrag(b, &src, 1, "data/ab/packed", BS_HASH_SHA256, NULL, 0, out_name));
    expect_file(pt_path("data/ab/packed"), "v2");

    /* removed and not recreated: store makes it again */
    put(b, "data/ab/old", "v1");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", pt_path("data/ab"));
    cr_assert_eq(system(cmd), 0);
    put(b, "data/ab/again", "v5");
    expect_file(pt_path("data/ab/again"), "v5");

    /* rmdir through the backend drops its own entries */
    PT_OK(bs_backend_mkdir(b, "x/y"));
    put(b, "x/y/z", "v6");
    PT_OK(bs_backend_delete(b, "x/y/z"));
    PT_OK(bs_backend_rmdir(b, "x/y"));
    put(b, "x/y/z", "v7");
    expect_file(pt_path("x/y/z"), "v7");

    cr_assert_eq(pt_count_tmp(), 0);
    bs_backend_free(other);
    bs_backend_free(b);
}

Test(dircache, directory_replaced_on_disk)
{
    stale_directory_case(false);
}

Test(dircache, directory_replaced_by_another_backend)
{
    stale_directory_case(true);
}

Test(dircache, stale_entries_without_openat2)
{
    bs__beneath_force_fallback(true);
    stale_directory_case(false);
}

/* A directory renamed away (out of the store, or elsewhere inside it) after
 * it was cached never receives new items. */
Test(dircache, nothing_is_created_in_a_moved_directory)
{
    char outside[700], moved_item[800];
    snprintf(outside, sizeof outside, "%s/moved_out", pt_dir);
    bs_backend *b = pt_open(NULL, 0);

    put(b, "data/ab/one", "1");
    cr_assert_eq(rename(pt_path("data/ab"), outside), 0);
    put(b, "data/ab/two", "2"); /* recreates data/ab */
    expect_file(pt_path("data/ab/two"), "2");
    snprintf(moved_item, sizeof moved_item, "%s/two", outside);
    cr_assert_not(exists_on_disk(moved_item), "written into the moved directory");

    /* renamed inside the store, and a new one made in its place */
    put(b, "data/cd/one", "1");
    rename_in_store("data/cd", "data/zz");
    cr_assert_eq(mkdir(pt_path("data/cd"), 0777), 0);
    put(b, "data/cd/two", "2");
    expect_file(pt_path("data/cd/two"), "2");
    cr_assert_not(exists_on_disk(pt_path("data/zz/two")));

    /* a move across directories and a defrag target likewise */
    put(b, "data/ef/src", "s");
    put(b, "data/gh/x", "x");
    rename_in_store("data/gh", "data/gh_old");
    PT_OK(bs_backend_move(b, "data/ef/src", "data/gh/dst"));
    expect_file(pt_path("data/gh/dst"), "s");
    cr_assert_not(exists_on_disk(pt_path("data/gh_old/dst")));
    put(b, "data/ij/x", "x");
    rename_in_store("data/ij", "data/ij_old");
    char out_name[BS_NAME_BUF];
    bs_defrag_source src = {"data/gh/dst", 0, 1};
    PT_OK(bs_backend_defrag(b, &src, 1, "data/ij/packed", BS_HASH_SHA256, NULL, 0, out_name));
    expect_file(pt_path("data/ij/packed"), "s");
    cr_assert_not(exists_on_disk(pt_path("data/ij_old/packed")));

    /* a cached directory replaced by a symlink leading out: refused */
    put(b, "data/kl/x", "x");
    rename_in_store("data/kl", "data/kl_old");
    cr_assert_eq(symlink(outside, pt_path("data/kl")), 0);
    PT_EXPECT(BS_ERR_PERMISSION, bs_backend_store(b, "data/kl/pwned", "p", 1));
    snprintf(moved_item, sizeof moved_item, "%s/pwned", outside);
    cr_assert_not(exists_on_disk(moved_item));
    cr_assert_not(exists_on_disk(pt_path("data/kl_old/pwned")));

    cr_assert_eq(pt_count_tmp(), 0);
    bs_backend_free(b);
}

/* ---- descriptors ------------------------------------------------------------ */

Test(dircache, fds_are_bounded_and_none_outlives_close)
{
    size_t before = count_fds();
    bs_backend *b = pt_open(NULL, 0);
    size_t cap = bs__dircache_default_cap();
    char name[64];
    /* more directories than the cache holds, at two levels */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 700; i++) {
            snprintf(name, sizeof name, "data/%02x/%02x/item%d", i % 256, i / 256, i);
            if (round == 0) put(b, name, "v");
            else expect_value(b, name, "v");
            bs_item_info info;
            PT_OK(bs_backend_info(b, name, &info));
        }
    }
    size_t open_now = count_fds();
    cr_assert_leq(open_now, before + cap + 1, "%zu fds open (%zu before, cap %zu)", open_now,
                  before, cap);
    for (int i = 0; i < 700; i++) {
        snprintf(name, sizeof name, "data/%02x/%02x/item%d", i % 256, i / 256, i);
        char del[80];
        snprintf(del, sizeof del, "%s.del", name);
        PT_OK(bs_backend_move(b, name, del));
        PT_OK(bs_backend_delete(b, del));
    }
    cr_assert_leq(count_fds(), before + cap + 1);
    PT_OK(bs_backend_close(b));
    cr_assert_eq(count_fds(), before, "fds left after close");
    PT_OK(bs_backend_open(b));
    put(b, "data/00/again", "v");
    bs_backend_free(b);
    cr_assert_eq(count_fds(), before, "fds left after free");
}

Test(dircache, a_low_fd_limit_shrinks_the_cache)
{
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rl.rlim_cur = 128;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    cr_assert_eq(bs__dircache_default_cap(), 32);
    size_t before = count_fds();
    bs_backend *b = pt_open(NULL, 0);
    char name[64];
    for (int i = 0; i < 256; i++) {
        snprintf(name, sizeof name, "data/%02x/item", i);
        put(b, name, "v");
    }
    cr_assert_leq(count_fds(), before + 32 + 1);
    /* use up every descriptor: the cache gives its own back */
    int spare[256];
    size_t n = 0;
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    cr_assert_geq(null, 0);
    while (n < 256 && (spare[n] = dup(null)) >= 0) n++;
    cr_assert_eq(errno, EMFILE);
    for (int i = 0; i < 256; i++) {
        snprintf(name, sizeof name, "data/%02x/item", i);
        expect_value(b, name, "v");
    }
    put(b, "data/new/item", "w");
    while (n) close(spare[--n]);
    close(null);
    bs_backend_free(b);
    cr_assert_eq(count_fds(), before);
}

/* ---- loads without fstat --------------------------------------------------- */

Test(dircache, loads_at_every_size_edge)
{
    bs_backend *b = pt_open(NULL, 0);
    static const size_t sizes[] = {0, 1, 63, 64, 4095, 4096, 16383, 16384, 16385, 100000};
    uint8_t *value = malloc(100000);
    bs_test_fill(value, 100000, 7);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t sz = sizes[i];
        PT_OK(bs_backend_store(b, "data/v", value, sz));
        uint8_t *got;
        size_t len;
        PT_OK(bs_backend_load(b, "data/v", 0, BS_SIZE_ALL, &got, &len));
        cr_assert_eq(len, sz, "size %zu: got %zu", sz, len);
        cr_assert(memcmp(got, value, sz) == 0, "size %zu: wrong content", sz);
        bs_free(got);
        /* partial: offsets and sizes around the edges */
        static const int64_t offs[] = {0, 1, 64, 16384, -1, -64};
        static const int64_t lens[] = {0, 1, 64, 16384, 16385, BS_SIZE_ALL};
        for (size_t o = 0; o < 6; o++) {
            for (size_t l = 0; l < 6; l++) {
                int64_t off = offs[o], want = lens[l];
                int64_t start = off < 0 ? (int64_t)sz + off : off;
                int rc = bs_backend_load(b, "data/v", off, want, &got, &len);
                if (start < 0) {
                    cr_assert_eq(rc, BS_ERR_READ_RANGE, "size %zu off %lld", sz, (long long)off);
                    continue;
                }
                cr_assert_eq(rc, 0, "size %zu off %lld len %lld: %s", sz, (long long)off,
                             (long long)want, bs_error_message());
                size_t avail = (size_t)start < sz ? sz - (size_t)start : 0;
                size_t expect = want == BS_SIZE_ALL || (size_t)want > avail ? avail
                                                                            : (size_t)want;
                cr_assert_eq(len, expect, "size %zu off %lld len %lld: %zu bytes", sz,
                             (long long)off, (long long)want, len);
                cr_assert(memcmp(got, value + start, expect) == 0);
                cr_assert_not_null(got);
                bs_free(got);
            }
        }
    }
    free(value);
    bs_backend_free(b);
}

Test(dircache, loads_refuse_what_is_not_a_file)
{
    bs_backend *b = pt_open(NULL, 0);
    put(b, "data/keep", "k");
    cr_assert_eq(mkfifo(pt_path("data/fifo"), 0600), 0);
    cr_assert_eq(mkdir(pt_path("data/dir"), 0777), 0);
    uint8_t *got = NULL;
    size_t len;
    static const int64_t sizes[] = {BS_SIZE_ALL, 10, 0};
    for (size_t i = 0; i < 3; i++) {
        PT_EXPECT(BS_ERR_IO, bs_backend_load(b, "data/fifo", 0, sizes[i], &got, &len));
        cr_assert_null(got);
        PT_EXPECT(BS_ERR_IO, bs_backend_load(b, "data/dir", 0, sizes[i], &got, &len));
        cr_assert_null(got);
    }
    PT_EXPECT(BS_ERR_IO, bs_backend_load(b, "data/dir", 0, BS_SIZE_ALL, &got, &len));
    cr_assert_not_null(strstr(bs_error_message(), "is a directory"), "%s", bs_error_message());
    bs_backend_free(b);
}

Test(dircache, temp_names_differ)
{
    /* two instances storing the same name alternately: every store lands */
    bs_backend *a = pt_open(NULL, 0), *b = pt_open(NULL, 0);
    for (int i = 0; i < 200; i++) {
        char v[16];
        snprintf(v, sizeof v, "%d", i);
        put(i % 2 ? a : b, "data/same", v);
        expect_value(i % 2 ? b : a, "data/same", v);
    }
    cr_assert_eq(pt_count_tmp(), 0);
    bs_backend_free(a);
    bs_backend_free(b);
}
