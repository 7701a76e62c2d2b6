/* The s3: backend against s3rver (run by with_s3rver.py): the keys and
 * directory markers it writes are Python borgstore's, and credentials the
 * server refuses give a permission error that never shows the secret. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "borgstore/backend.h"
#include "testutil.h"

static char url[512], store_dir[1024];

static void make_url(const char *creds, const char *bucket)
{
    static int n;
    const char *port = getenv("BS_S3_PORT");
    cr_assert_not_null(port, "run through with_s3rver.py");
    snprintf(url, sizeof url, "s3:%shttp://127.0.0.1:%s/%s/t/%d-%d", creds, port, bucket,
             (int)getpid(), ++n);
    snprintf(store_dir, sizeof store_dir, "%s/%s/t/%d-%d", getenv("BS_S3RVER_DATA"), bucket,
             (int)getpid(), n);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* s3rver keeps key K in the file K._S3rver_object. */
static void check_object(const char *key, const char *content)
{
    char p[2048];
    snprintf(p, sizeof p, "%s/%s._S3rver_object", store_dir, key);
    size_t len = 0;
    char *got = bs_test_read_file(p, &len);
    cr_assert_not_null(got, "no object for key <path>/%s", key);
    cr_assert_eq(len, strlen(content), "%s: %zu bytes", key, len);
    cr_assert(memcmp(got, content, len) == 0);
    free(got);
}

static size_t count_objects(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0; /* s3rver removes directories it emptied */
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        cr_assert_eq(stat(p, &st), 0);
        if (S_ISDIR(st.st_mode))
            n += count_objects(p);
        else if (ends_with(e->d_name, "._S3rver_object"))
            n++;
    }
    closedir(d);
    return n;
}

Test(s3, layout_is_python_borgstores)
{
    make_url("", "bkt");
    bs_backend *b;
    cr_assert_eq(bs_backend_new(&b, url, NULL), 0, "%s", bs_error_message());
    cr_assert_eq(bs_backend_create(b), 0, "%s", bs_error_message());
    cr_assert_eq(bs_backend_open(b), 0);
    cr_assert_eq(bs_backend_mkdir(b, "data/00"), 0);
    cr_assert_eq(bs_backend_store(b, "data/00/abc", "value", 5), 0);
    cr_assert_eq(bs_backend_store(b, "config", "c", 1), 0);
    /* base_path + name for items, base_path + dir + "/" for markers (and
     * base_path itself for the store), nothing else */
    check_object("", "");
    check_object("data/", "");
    check_object("data/00/", "");
    check_object("data/00/abc", "value");
    check_object("config", "c");
    cr_assert_eq(count_objects(store_dir), 5);
    cr_assert_eq(bs_backend_close(b), 0);
    cr_assert_eq(bs_backend_destroy(b), 0);
    cr_assert_eq(count_objects(store_dir), 0);
    bs_backend_free(b);
}

Test(s3, refused_credentials_are_a_permission_error_without_the_secret)
{
    make_url("NOSUCHKEY:TopSecret%2F1@", "bkt");
    bs_backend *b;
    cr_assert_eq(bs_backend_new(&b, url, NULL), 0, "%s", bs_error_message());
    cr_assert_eq(bs_backend_create(b), BS_ERR_PERMISSION, "%s", bs_error_message());
    cr_expect_null(strstr(bs_error_message(), "TopSecret"), "%s", bs_error_message());
    cr_expect(strstr(bs_error_message(), "InvalidAccessKeyId") != NULL, "%s",
              bs_error_message());
    bs_backend_free(b);
}

Test(s3, missing_bucket_does_not_exist)
{
    make_url("", "nosuchbucket");
    bs_backend *b;
    cr_assert_eq(bs_backend_new(&b, url, NULL), 0);
    cr_assert_eq(bs_backend_create(b), BS_ERR_DOES_NOT_EXIST, "%s", bs_error_message());
    cr_assert_eq(bs_backend_open(b), BS_ERR_DOES_NOT_EXIST, "%s", bs_error_message());
    bs_backend_free(b);
}

Test(s3, unreachable_server_is_a_connection_error_after_retries)
{
    setenv("BORGSTORE_S3_TRIES", "2", 1);
    setenv("BORGSTORE_S3_BACKOFF_MS", "1", 1);
    bs_backend *b;
    /* port 1 on loopback: refused at once */
    cr_assert_eq(bs_backend_new(&b, "s3:K:Sec@http://127.0.0.1:1/bkt/p", NULL), 0);
    cr_assert_eq(bs_backend_open(b), BS_ERR_CONNECTION, "%s", bs_error_message());
    cr_expect_null(strstr(bs_error_message(), "Sec"), "%s", bs_error_message());
    bs_backend_free(b);
}
