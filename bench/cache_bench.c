/* borgstore-cache-bench: repeated small range reads of large packs, with and
 * without the Store cache (see docs/performance.md, bench/cache_bench.sh).
 * Every read is checked against the pack kept in memory. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "borgstore/borgstore.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void fill(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)x;
    }
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: borgstore-cache-bench URL [--cache CACHE_URL] [--packs P]\n"
            "                             [--pack-size BYTES] [--reads R] [--range BYTES]\n"
            "Creates a store at URL (must not exist), stores P packs (default 4) of\n"
            "--pack-size bytes (default 10000000) as packs/<sha256>, then opens it again\n"
            "(with --cache: packs/ writethrough, verified, on CACHE_URL) and reads R\n"
            "(default 2000) ranges of --range bytes (default 1024) at random offsets of\n"
            "random packs. Prints 'phase count seconds ops/s' for the first read of each\n"
            "pack ('first') and the rest ('repeat'), then '# errors=N'; destroys the\n"
            "store (the cache keeps its entries unless the store is destroyed).\n");
}

int main(int argc, char **argv)
{
    const char *cache = NULL;
    size_t packs = 4, pack_size = 10000000, reads = 2000, range = 1024;
    static const struct option opts[] = {
        {"cache", required_argument, 0, 'c'},  {"packs", required_argument, 0, 'p'},
        {"pack-size", required_argument, 0, 's'}, {"reads", required_argument, 0, 'r'},
        {"range", required_argument, 0, 'g'},  {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': cache = optarg; break;
        case 'p': packs = strtoul(optarg, NULL, 10); break;
        case 's': pack_size = strtoul(optarg, NULL, 10); break;
        case 'r': reads = strtoul(optarg, NULL, 10); break;
        case 'g': range = strtoul(optarg, NULL, 10); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind + 1 != argc || !packs || pack_size < range || !range) {
        usage(stderr);
        return 2;
    }
    const char *url = argv[optind];
    static const bs_store_namespace ns[] = {{.prefix = "", .levels = {0}, .nlevels = 1},
                                            {.prefix = "packs/", .levels = {1}, .nlevels = 1}};
    bs_store_config cfg = {.namespaces = ns, .n_namespaces = 2};
    uint8_t **data = calloc(packs, sizeof *data);
    char (*names)[BS_NAME_BUF] = calloc(packs, BS_NAME_BUF);
    bs_store *s;
    if (!data || !names || bs_store_new(&s, url, &cfg) || bs_store_create(s, 0) ||
        bs_store_open(s)) {
        fprintf(stderr, "borgstore-cache-bench: %s\n", bs_error_message());
        return 1;
    }
    for (size_t i = 0; i < packs; i++) {
        char hex[BS_HASH_HEX_SIZE];
        if (!(data[i] = malloc(pack_size))) return 1;
        fill(data[i], pack_size, i + 1);
        bs_hash_hex(BS_HASH_SHA256, data[i], pack_size, hex);
        snprintf(names[i], BS_NAME_BUF, "packs/%.64s", hex);
        if (bs_store_store(s, names[i], data[i], pack_size)) {
            fprintf(stderr, "borgstore-cache-bench: %s\n", bs_error_message());
            return 1;
        }
    }
    bs_store_close(s);
    bs_store_free(s);

    /* a fresh store object (as a new borg process would make) */
    if (bs_store_new(&s, url, &cfg)) return 1;
    if (cache) {
        bs_cache_namespace pol = {.prefix = "packs/", .mode = BS_CACHE_WRITETHROUGH,
                                  .verify_sha256 = true};
        bs_cache_config cc = {.url = cache, .namespaces = &pol, .n_namespaces = 1};
        if (bs_store_set_cache(s, &cc)) {
            fprintf(stderr, "borgstore-cache-bench: %s\n", bs_error_message());
            return 1;
        }
    }
    if (bs_store_open(s)) return 1;
    long errors = 0;
    bool *seen = calloc(packs, sizeof *seen);
    double t_first = 0, t_repeat = 0;
    size_t n_first = 0, n_repeat = 0;
    for (size_t r = 0; r < reads; r++) {
        size_t i = r < packs ? r : (size_t)(next_rand() % packs);
        size_t off = (size_t)(next_rand() % (pack_size - range + 1));
        uint8_t *v;
        size_t len;
        double t0 = now();
        int rc = bs_store_load(s, names[i], (int64_t)off, (int64_t)range, false, &v, &len);
        double dt = now() - t0;
        if (rc || len != range || memcmp(v, data[i] + off, range)) errors++;
        if (!rc) bs_free(v);
        if (!seen[i]) {
            seen[i] = true;
            t_first += dt;
            n_first++;
        } else {
            t_repeat += dt;
            n_repeat++;
        }
    }
    printf("first %zu %.6f %.1f\n", n_first, t_first, t_first > 0 ? n_first / t_first : 0);
    printf("repeat %zu %.6f %.1f\n", n_repeat, t_repeat,
           t_repeat > 0 ? n_repeat / t_repeat : 0);
    bs_store_stats st;
    bs_store_stats_get(s, &st);
    printf("# backend_load_calls=%llu cache_hits=%llu cache_misses=%llu cache_errors=%llu\n",
           (unsigned long long)st.backend_load_calls, (unsigned long long)st.cache_hits,
           (unsigned long long)st.cache_misses, (unsigned long long)st.cache_errors);
    bs_store_close(s);
    bs_store_destroy(s);
    bs_store_free(s);
    for (size_t i = 0; i < packs; i++) free(data[i]);
    free(data);
    free(names);
    free(seen);
    printf("# errors=%ld\n", errors);
    return errors ? 1 : 0;
}
