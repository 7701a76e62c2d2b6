/* Fixtures for the posix backend tests (see posixtest.h). */
#include "posixtest.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

char pt_dir[512], pt_base[600], pt_url[640];

void pt_init(void)
{
    char *d = bs_test_tmpdir();
    snprintf(pt_dir, sizeof pt_dir, "%s", d);
    free(d);
    snprintf(pt_base, sizeof pt_base, "%s/store", pt_dir);
    snprintf(pt_url, sizeof pt_url, "file://%s", pt_base);
}

void pt_fini(void)
{
    /* undo chmods a test may have left behind, then remove everything */
    char cmd[700];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s' 2>/dev/null", pt_dir);
    if (system(cmd)) { /* best effort */ }
    bs_test_rmtree(pt_dir);
}

bs_backend *pt_backend(const char *permissions, uint64_t quota)
{
    bs_backend_config cfg = {0};
    cfg.permissions = permissions;
    cfg.quota = quota;
    bs_backend *b = NULL;
    PT_OK(bs_backend_new(&b, pt_url, &cfg));
    return b;
}

bs_backend *pt_open(const char *permissions, uint64_t quota)
{
    struct stat st;
    if (stat(pt_base, &st) != 0) {
        bs_backend *admin = pt_backend(NULL, 0);
        PT_OK(bs_backend_create(admin));
        bs_backend_free(admin);
    }
    bs_backend *b = pt_backend(permissions, quota);
    PT_OK(bs_backend_open(b));
    return b;
}

const char *pt_path(const char *rel)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/%s", pt_base, rel);
    return buf;
}

static size_t tmp_count;
static int64_t usage_sum;

static int visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    size_t len = strlen(path);
    int is_tmp = len >= 4 && strcmp(path + len - 4, ".tmp") == 0;
    int is_hid = len >= 4 && strcmp(path + len - 4, ".hid") == 0;
    if (flag == FTW_F && S_ISREG(st->st_mode)) {
        if (is_tmp) tmp_count++;
        if (!is_tmp && !is_hid) usage_sum += st->st_size;
    }
    return 0;
}

size_t pt_count_tmp(void)
{
    tmp_count = 0;
    usage_sum = 0;
    nftw(pt_base, visit, 16, FTW_PHYS);
    return tmp_count;
}

int64_t pt_disk_usage(void)
{
    pt_count_tmp();
    return usage_sum;
}

int64_t pt_quota_file(void)
{
    char *text = bs_test_read_file(pt_path("quota.hid"), NULL);
    if (!text) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    int ok = end != text && *end == '\0' && errno == 0;
    free(text);
    return ok ? v : -2;
}
