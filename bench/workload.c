/* The standard benchmark workload: phases over N small and M large items,
 * sequential (window 1) or through the batch API. */
#include "bench/workload.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "borgstore/borgstore.h"

typedef struct bench {
    const bs_bench_params *p;
    FILE *out;
    bs_store *store;
    long errors;
    char (*names)[BS_NAME_BUF]; /* data/<sha256> of each small value */
    uint8_t *values;            /* n * size bytes */
    const char **name_ptrs;     /* the batch API's views of the above */
    const void **value_ptrs;
    size_t *lens;
    size_t cur_load_size;       /* bytes a load of the current phase returns */
} bench;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(bench *b, const char *phase, size_t count, double secs, double bytes)
{
    if (secs <= 0) secs = 1e-9;
    fprintf(b->out, "%-14s %8zu %9.3f %11.0f ", phase, count, secs, count / secs);
    if (bytes > 0) fprintf(b->out, "%9.1f\n", bytes / secs / 1e6);
    else fprintf(b->out, "%9s\n", "-");
    fflush(b->out);
}

static void fail(bench *b, const char *what, const char *name, int rc)
{
    if (b->errors++ < 10)
        fprintf(stderr, "borgstore-bench: %s %s: %s (%s)\n", what, name ? name : "",
                bs_error_message(), bs_error_name(rc));
}

static void fill(uint8_t *buf, size_t len, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 0x1234567;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        buf[i] = (uint8_t)(x >> 32);
    }
}

/* A phase over the small items: sequential single calls or one batch. */
typedef enum { PH_STORE, PH_INFO, PH_LOAD, PH_LOAD64, PH_SOFTDEL, PH_DELETE } phase_kind;

static void check_load(bench *b, size_t i, const uint8_t *data, size_t len, size_t want)
{
    if (len != want || memcmp(data, b->values + i * b->p->size, want) != 0)
        fail(b, "verify", b->names[i], BS_ERR_INTEGRITY);
}

static void run_sequential(bench *b, phase_kind k)
{
    const size_t size = b->p->size;
    for (size_t i = 0; i < b->p->n; i++) {
        const char *name = b->names[i];
        int rc = 0;
        uint8_t *data = NULL;
        size_t len = 0;
        bs_item_info info;
        switch (k) {
        case PH_STORE: rc = bs_store_store(b->store, name, b->values + i * size, size); break;
        case PH_INFO:
            rc = bs_store_info(b->store, name, false, &info);
            if (!rc && (!info.exists || info.size != size)) fail(b, "info", name, BS_ERR_IO);
            break;
        case PH_LOAD:
        case PH_LOAD64:
            rc = bs_store_load(b->store, name, 0, k == PH_LOAD ? BS_SIZE_ALL : 64, false,
                               &data, &len);
            if (!rc) check_load(b, i, data, len, k == PH_LOAD ? size : 64);
            bs_free(data);
            break;
        case PH_SOFTDEL: rc = bs_store_move(b->store, name, NULL, BS_MOVE_SOFT_DELETE, false); break;
        case PH_DELETE: rc = bs_store_delete(b->store, name, true); break;
        }
        if (rc) fail(b, "op", name, rc);
    }
}

/* Checks each loaded value in completion order. */
static int on_loaded(void *ctx, size_t index, bs_op_result *res)
{
    bench *b = ctx;
    if (res->rc) fail(b, "load", b->names[index], res->rc);
    else check_load(b, index, res->data, res->len, b->cur_load_size);
    return 0;
}

static int on_info(void *ctx, size_t index, bs_op_result *res)
{
    bench *b = ctx;
    if (res->rc) fail(b, "info", b->names[index], res->rc);
    else if (!res->info.exists || res->info.size != b->p->size) fail(b, "info", b->names[index], BS_ERR_IO);
    return 0;
}

static int on_done(void *ctx, size_t index, bs_op_result *res)
{
    bench *b = ctx;
    if (res->rc) fail(b, "op", b->names[index], res->rc);
    return 0;
}

static void run_batch(bench *b, phase_kind k)
{
    const size_t n = b->p->n, w = b->p->window;
    int rc = 0;
    switch (k) {
    case PH_STORE: rc = bs_store_store_many(b->store, b->name_ptrs, b->value_ptrs, b->lens, n, w, on_done, b); break;
    case PH_INFO: rc = bs_store_info_many(b->store, b->name_ptrs, n, false, w, on_info, b); break;
    case PH_LOAD:
    case PH_LOAD64:
        b->cur_load_size = k == PH_LOAD ? b->p->size : 64;
        rc = bs_store_load_many(b->store, b->name_ptrs, n, 0, k == PH_LOAD ? BS_SIZE_ALL : 64, false, w, on_loaded, b);
        break;
    case PH_SOFTDEL: rc = bs_store_move_many(b->store, b->name_ptrs, n, BS_MOVE_SOFT_DELETE, false, w, on_done, b); break;
    case PH_DELETE: rc = bs_store_delete_many(b->store, b->name_ptrs, n, true, w, on_done, b); break;
    }
    if (rc) fail(b, "batch", NULL, rc);
}

static void small_phase(bench *b, const char *label, phase_kind k, bool payload)
{
    double t = now();
    if (b->p->window != 1) run_batch(b, k);
    else run_sequential(b, k);
    double bytes = 0;
    if (payload) bytes = (double)b->p->n * (k == PH_LOAD64 ? 64 : b->p->size);
    report(b, label, b->p->n, now() - t, bytes);
}

static void list_phase(bench *b)
{
    double t = now();
    bs_store_list_iter *it;
    size_t count = 0;
    int rc = bs_store_list_begin(b->store, "data", false, &it);
    if (rc) {
        fail(b, "list", "data", rc);
        return;
    }
    bs_item_info info;
    while ((rc = bs_store_list_next(it, &info)) == 1) count++;
    if (rc < 0) fail(b, "list", "data", rc);
    bs_store_list_end(it);
    if (count != b->p->n) fail(b, "list count", "data", BS_ERR_IO);
    report(b, "list", count, now() - t, 0);
}

typedef struct large_ctx {
    bench *b;
    const uint8_t *values; /* m * size expected bytes */
    size_t size;
    char (*names)[BS_NAME_BUF];
} large_ctx;

static int on_large_loaded(void *ctx, size_t index, bs_op_result *res)
{
    large_ctx *l = ctx;
    if (res->rc) fail(l->b, "load", l->names[index], res->rc);
    else if (res->len != l->size || memcmp(res->data, l->values + index * l->size, l->size))
        fail(l->b, "verify", l->names[index], BS_ERR_INTEGRITY);
    return 0;
}

static int on_large_stored(void *ctx, size_t index, bs_op_result *res)
{
    large_ctx *l = ctx;
    if (res->rc) fail(l->b, "store", l->names[index], res->rc);
    return 0;
}

/* M large values, generated before the clock starts and kept for checking
 * what is read back (so verifying costs a memcmp, not a regeneration). */
static void large_phases(bench *b)
{
    size_t m = b->p->m, size = b->p->large_size;
    if (!m) return;
    large_ctx l = {.b = b, .size = size};
    uint8_t *values = size && m <= SIZE_MAX / size ? malloc(m * size) : NULL;
    l.names = calloc(m, sizeof *l.names);
    const char **name_ptrs = calloc(m, sizeof *name_ptrs);
    const void **value_ptrs = calloc(m, sizeof *value_ptrs);
    size_t *lens = calloc(m, sizeof *lens);
    if (!values || !l.names || !name_ptrs || !value_ptrs || !lens) {
        fail(b, "malloc", "large values", BS_ERR_NOMEM);
        goto out;
    }
    l.values = values;
    for (size_t i = 0; i < m; i++) {
        fill(values + i * size, size, 1000000 + i);
        snprintf(l.names[i], BS_NAME_BUF, "data/%064zx", i);
        name_ptrs[i] = l.names[i];
        value_ptrs[i] = values + i * size;
        lens[i] = size;
    }
    bool batch = b->p->window != 1;
    double t = now();
    if (batch) {
        int rc = bs_store_store_many(b->store, name_ptrs, value_ptrs, lens, m, b->p->window,
                                     on_large_stored, &l);
        if (rc) fail(b, "batch", NULL, rc);
    } else {
        for (size_t i = 0; i < m; i++) {
            int rc = bs_store_store(b->store, l.names[i], value_ptrs[i], size);
            if (rc) fail(b, "store", l.names[i], rc);
        }
    }
    report(b, "store_large", m, now() - t, (double)m * size);
    t = now();
    if (batch) {
        int rc = bs_store_load_many(b->store, name_ptrs, m, 0, BS_SIZE_ALL, false, b->p->window,
                                    on_large_loaded, &l);
        if (rc) fail(b, "batch", NULL, rc);
    } else {
        for (size_t i = 0; i < m; i++) {
            bs_op_result res = {0};
            res.rc = bs_store_load(b->store, l.names[i], 0, BS_SIZE_ALL, false, &res.data,
                                   &res.len);
            on_large_loaded(&l, i, &res);
            bs_free(res.data);
        }
    }
    report(b, "load_large", m, now() - t, (double)m * size);
    bs_store_delete_many(b->store, name_ptrs, m, false, 0, NULL, NULL);
out:
    free(values);
    free(l.names);
    free(name_ptrs);
    free(value_ptrs);
    free(lens);
}

long bs_bench_run(const bs_bench_params *p, FILE *out)
{
    bench b = {.p = p, .out = out};
    static const bs_store_namespace ns[] = {
        {.prefix = "", .levels = {0}, .nlevels = 1},
        {.prefix = "data/", .levels = {1}, .nlevels = 1},
    };
    bs_store_config cfg = {.namespaces = ns, .n_namespaces = 2};
    b.names = calloc(p->n ? p->n : 1, sizeof *b.names);
    b.values = malloc(p->n * p->size + 1);
    b.name_ptrs = calloc(p->n ? p->n : 1, sizeof *b.name_ptrs);
    b.value_ptrs = calloc(p->n ? p->n : 1, sizeof *b.value_ptrs);
    b.lens = calloc(p->n ? p->n : 1, sizeof *b.lens);
    if (!b.names || !b.values || !b.name_ptrs || !b.value_ptrs || !b.lens) {
        fprintf(stderr, "borgstore-bench: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < p->n; i++) {
        char hex[BS_HASH_HEX_SIZE];
        fill(b.values + i * p->size, p->size, i);
        bs_hash_hex(BS_HASH_SHA256, b.values + i * p->size, p->size, hex);
        snprintf(b.names[i], BS_NAME_BUF, "data/%.64s", hex);
        b.name_ptrs[i] = b.names[i];
        b.value_ptrs[i] = b.values + i * p->size;
        b.lens[i] = p->size;
    }
    int rc = bs_store_new(&b.store, p->url, &cfg);
    if (rc) {
        fail(&b, "open", p->url, rc);
        goto out;
    }
    double t = now();
    if ((rc = bs_store_create(b.store, 0))) {
        fail(&b, "create", p->url, rc);
        goto out;
    }
    report(&b, "create", 1, now() - t, 0);
    t = now();
    if ((rc = bs_store_open(b.store))) {
        fail(&b, "open", p->url, rc);
        goto out;
    }
    report(&b, "open", 1, now() - t, 0);
    small_phase(&b, "store", PH_STORE, true);
    list_phase(&b);
    small_phase(&b, "info", PH_INFO, false);
    small_phase(&b, "load", PH_LOAD, true);
    small_phase(&b, "load_partial", PH_LOAD64, true);
    small_phase(&b, "soft_delete", PH_SOFTDEL, false);
    small_phase(&b, "delete", PH_DELETE, false);
    large_phases(&b);
    t = now();
    if ((rc = bs_store_close(b.store))) fail(&b, "close", p->url, rc);
    report(&b, "close", 1, now() - t, 0);
    t = now();
    if ((rc = bs_store_destroy(b.store))) fail(&b, "destroy", p->url, rc);
    report(&b, "destroy", 1, now() - t, 0);
out:
    bs_store_free(b.store);
    free(b.names);
    free(b.values);
    free(b.name_ptrs);
    free(b.value_ptrs);
    free(b.lens);
    return b.errors;
}
