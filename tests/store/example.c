/* The C example of docs/store.md, compiled and run by the tests: a store in a
 * new temp directory, a flat and a nested namespace, store/load/partial
 * load, listing, soft delete, stats; then the store is destroyed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <borgstore/borgstore.h>

static int check(int rc, const char *what)
{
    if (rc) fprintf(stderr, "%s: %s\n", what, bs_error_message());
    return rc;
}

int main(void)
{
    char dir[] = "/tmp/bs-example.XXXXXX", url[64];
    if (!mkdtemp(dir)) return 1;
    snprintf(url, sizeof url, "file://%s", dir);

    /* config/ is flat, data/ is nested two levels deep (data/01/23/0123...) */
    static const bs_store_namespace namespaces[] = {
        {.prefix = "config/", .levels = {0}, .nlevels = 1},
        {.prefix = "data/", .levels = {2}, .nlevels = 1},
    };
    bs_store_config cfg = {.namespaces = namespaces, .n_namespaces = 2};
    bs_store *s;
    if (check(bs_store_new(&s, url, &cfg), "new")) return 1;
    if (check(bs_store_create(s, 0), "create") || check(bs_store_open(s), "open")) return 1;

    const char *value = "hello, borgstore";
    char name[BS_NAME_BUF], hex[BS_HASH_HEX_SIZE];
    bs_hash_hex(BS_HASH_SHA256, value, strlen(value), hex);
    snprintf(name, sizeof name, "data/%.64s", hex); /* content-addressed */
    if (check(bs_store_store(s, name, value, strlen(value)), "store")) return 1;
    if (check(bs_store_store(s, "config/id", "42", 2), "store")) return 1;

    uint8_t *buf;
    size_t len;
    if (check(bs_store_load(s, name, 7, 9, false, &buf, &len), "load")) return 1;
    printf("partial load: %.*s\n", (int)len, (const char *)buf); /* "borgstore" */
    bs_free(buf);

    bs_store_list_iter *it;
    bs_item_info info;
    if (check(bs_store_list_begin(s, "data", false, &it), "list")) return 1;
    while (bs_store_list_next(it, &info) == 1)
        printf("data/%s (%llu bytes)\n", info.name, (unsigned long long)info.size);
    bs_store_list_end(it);

    if (check(bs_store_move(s, name, NULL, BS_MOVE_SOFT_DELETE, false), "soft delete"))
        return 1;
    int rc = bs_store_load(s, name, 0, BS_SIZE_ALL, false, &buf, &len);
    printf("after soft delete: %s\n", rc == BS_ERR_NOT_FOUND ? bs_error_message() : "?");

    bs_store_stats st;
    char *text;
    bs_store_stats_get(s, &st);
    if (!bs_store_stats_format(&text, &st, BS_STATS_JSON)) {
        fputs(text, stdout);
        bs_free(text);
    }
    rc = bs_store_close(s) || bs_store_destroy(s);
    bs_store_free(s);
    return rc ? 1 : 0;
}
