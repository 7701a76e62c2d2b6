/* Fault-test helpers (see faults.h). */
#include "faults.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/helpers/testutil.h"

void ft_private_mounts(void)
{
    cr_assert_eq(geteuid(), 0, "fault tests need root to mount filesystems (setup failure)");
    cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare(CLONE_NEWNS): %s", strerror(errno));
    cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0,
                 "making mounts private: %s", strerror(errno));
}

char *ft_tmpfs(const char *dir, const char *name, size_t bytes)
{
    char *path;
    cr_assert(asprintf(&path, "%s/%s", dir, name) > 0);
    cr_assert(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", path, strerror(errno));
    char opts[64];
    snprintf(opts, sizeof opts, "size=%zu,mode=0755", bytes);
    cr_assert_eq(mount("tmpfs", path, "tmpfs", 0, opts), 0, "mounting a tmpfs at %s: %s", path,
                 strerror(errno));
    return path;
}

void ft_unmount(const char *path)
{
    cr_assert_eq(umount2(path, MNT_DETACH), 0, "unmounting %s: %s", path, strerror(errno));
}

void ft_remount(const char *path, bool ro)
{
    cr_assert_eq(mount(NULL, path, NULL, MS_REMOUNT | (ro ? MS_RDONLY : 0), NULL), 0,
                 "remounting %s %s: %s", path, ro ? "read-only" : "read-write", strerror(errno));
}

uint64_t ft_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void body(uint8_t *p, size_t n, uint64_t id)
{
    uint64_t s = id * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t r = ft_rand(&s);
        for (size_t k = 0; k < 8 && i + k < n; k++) p[i + k] = (uint8_t)(r >> (8 * k));
    }
}

void ft_value(uint8_t *buf, size_t len, uint64_t id)
{
    cr_assert_geq(len, FT_VALUE_MIN);
    memcpy(buf, "BSFV", 4);
    put64(buf + 4, id);
    put64(buf + 12, len);
    memcpy(buf + 20, "\n---", 4);
    body(buf + FT_VALUE_MIN, len - FT_VALUE_MIN, id);
}

uint64_t ft_value_id(const uint8_t *buf, size_t len)
{
    if (len < FT_VALUE_MIN || memcmp(buf, "BSFV", 4) || get64(buf + 12) != len) return 0;
    uint64_t id = get64(buf + 4);
    uint8_t *want = malloc(len);
    ft_value(want, len, id);
    bool same = !memcmp(want, buf, len);
    free(want);
    return same ? id : 0;
}

static void scan(const char *dir, ft_tree *t)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *p;
        cr_assert(asprintf(&p, "%s/%s", dir, e->d_name) > 0);
        struct stat st;
        if (lstat(p, &st) == 0) {
            size_t n = strlen(e->d_name);
            bool tmp = n > 4 && !strcmp(e->d_name + n - 4, ".tmp");
            bool hid = n > 4 && !strcmp(e->d_name + n - 4, ".hid");
            if (S_ISDIR(st.st_mode)) {
                t->served += 4096;
                scan(p, t);
            } else if (S_ISREG(st.st_mode)) {
                if (tmp) t->tmp_files++;
                if (!tmp && !hid) {
                    t->usage += st.st_size;
                    t->served += st.st_size < 4096 ? 4096 : st.st_size;
                    t->files++;
                }
            }
        }
        free(p);
    }
    closedir(d);
}

ft_tree ft_scan(const char *dir)
{
    ft_tree t = {0};
    scan(dir, &t);
    return t;
}

void ft_use_built_server(const char *extra)
{
    char *cmd;
    cr_assert(asprintf(&cmd, "%s%s%s", bs_test_build_path("borgstore-serve"), extra ? " " : "",
                       extra ? extra : "") > 0);
    setenv("BORGSTORE_REMOTE_PATH", cmd, 1);
    free(cmd);
}

uint64_t ft_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}
