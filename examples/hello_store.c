/* A first program against the installed libborgstore: creates a store in a
 * new temp directory (or at the URL given), stores a value, lists the
 * namespace, loads the value back and removes the store.
 * Build: cc hello_store.c $(pkg-config --cflags --libs borgstore) */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <borgstore/borgstore.h>

static int fail(const char *what)
{
    fprintf(stderr, "hello_store: %s: %s\n", what, bs_error_message());
    return 1;
}

int main(int argc, char **argv)
{
    char dir[] = "/tmp/hello-store.XXXXXX", url[4200];
    if (argc > 1) {
        snprintf(url, sizeof url, "%s", argv[1]);
    } else {
        if (!mkdtemp(dir)) return perror("mkdtemp"), 1;
        snprintf(url, sizeof url, "file://%s/store", dir);
    }
    bs_store_config cfg;
    bs_store_config_default(&cfg); /* data/ nested one level, the rest flat */
    bs_store *s;
    if (bs_store_new(&s, url, &cfg)) return fail("new");
    if (bs_store_create(s, 0) || bs_store_open(s)) return fail(url);
    const char *value = "hello, store";
    if (bs_store_store(s, "data/0123abcd", value, strlen(value))) return fail("store");

    bs_store_list_iter *it;
    bs_item_info info;
    if (bs_store_list_begin(s, "data", false, &it)) return fail("list");
    while (bs_store_list_next(it, &info) == 1)
        printf("data/%s (%llu bytes)\n", info.name, (unsigned long long)info.size);
    bs_store_list_end(it);

    uint8_t *got;
    size_t len;
    if (bs_store_load(s, "data/0123abcd", 0, BS_SIZE_ALL, false, &got, &len))
        return fail("load");
    printf("%.*s\n", (int)len, (const char *)got);
    int same = len == strlen(value) && !memcmp(got, value, len);
    bs_free(got);

    if (bs_store_close(s) || bs_store_destroy(s)) return fail("destroy");
    bs_store_free(s);
    if (argc == 1) rmdir(dir);
    return same ? 0 : 1;
}
