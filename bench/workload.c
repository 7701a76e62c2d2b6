/* The standard benchmark workload: phases over N small and M large items,
 * sequential (window 1) or through the batch API. */
#include "bench/workload.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
    long rss_start;             /* --rss: VmRSS (KiB) when the phase started */
} bench;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --rss: VmHWM and VmRSS (KiB) of pid (0: this process) from /proc. */
static int rss_read(long pid, long *hwm, long *rss)
{
    char path[64], line[256];
    if (pid) snprintf(path, sizeof path, "/proc/%ld/status", pid);
    else snprintf(path, sizeof path, "/proc/self/status");
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    *hwm = *rss = -1;
    while (fgets(line, sizeof line, f)) {
        sscanf(line, "VmHWM: %ld", hwm);
        sscanf(line, "VmRSS: %ld", rss);
    }
    fclose(f);
    return *hwm < 0 || *rss < 0 ? -1 : 0;
}

/* Resets VmHWM to the current VmRSS (Linux >= 4.0). */
static void rss_reset(long pid)
{
    char path[64];
    if (pid) snprintf(path, sizeof path, "/proc/%ld/clear_refs", pid);
    else snprintf(path, sizeof path, "/proc/self/clear_refs");
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs("5", f);
    fclose(f);
}

/* The spawned borgstore-serve of serve:// (our only child), or 0. */
static long rss_child(void)
{
    DIR *d = opendir("/proc");
    if (!d) return 0;
    long found = 0, self = (long)getpid();
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        char path[300], buf[512];
        if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        const char *rp = strrchr(buf, ')'); /* "pid (comm) state ppid ..." */
        char state;
        long ppid;
        if (rp && sscanf(rp + 1, " %c %ld", &state, &ppid) == 2 && ppid == self)
            found = strtol(e->d_name, NULL, 10);
    }
    closedir(d);
    return found;
}

/* Marks a phase's start: peak memory is measured from here (--rss). */
static double phase_start(bench *b)
{
    if (b->p->rss) {
        long hwm, child = rss_child();
        rss_reset(0);
        if (child) rss_reset(child);
        if (rss_read(0, &hwm, &b->rss_start)) b->rss_start = -1;
    }
    return now();
}

static void rss_report(bench *b, const char *phase)
{
    long hwm, rss, child = rss_child();
    if (!rss_read(0, &hwm, &rss))
        fprintf(b->out, "# rss phase=%s peak_kib=%ld now_kib=%ld start_kib=%ld\n", phase, hwm,
                rss, b->rss_start);
    if (child && !rss_read(child, &hwm, &rss))
        fprintf(b->out, "# rss server phase=%s pid=%ld peak_kib=%ld now_kib=%ld\n", phase, child,
                hwm, rss);
}

static void report(bench *b, const char *phase, size_t count, double secs, double bytes)
{
    if (secs <= 0) secs = 1e-9;
    fprintf(b->out, "%-14s %8zu %9.3f %11.0f ", phase, count, secs, count / secs);
    if (bytes > 0) fprintf(b->out, "%9.1f\n", bytes / secs / 1e6);
    else fprintf(b->out, "%9s\n", "-");
    if (b->p->rss) rss_report(b, phase);
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
    double t = phase_start(b);
    if (b->p->window != 1) run_batch(b, k);
    else run_sequential(b, k);
    double bytes = 0;
    if (payload) bytes = (double)b->p->n * (k == PH_LOAD64 ? 64 : b->p->size);
    report(b, label, b->p->n, now() - t, bytes);
}

static void list_phase(bench *b)
{
    double t = phase_start(b);
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
    if (b->p->rss)
        fprintf(b->out, "# rss large_bookkeeping_bytes=%zu\n",
                m * (size + BS_NAME_BUF + 2 * sizeof(void *) + sizeof(size_t)));
    double t = phase_start(b);
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
    t = phase_start(b);
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
    long hwm, base_kib = -1, after_kib = -1;
    if (p->rss) rss_read(0, &hwm, &base_kib);
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
    if (p->rss) {
        /* what the bench keeps per item (names, values, the batch API's views),
         * so it can be told apart from the library's memory */
        rss_read(0, &hwm, &after_kib);
        fprintf(out, "# rss bookkeeping_bytes=%zu baseline_kib=%ld after_bookkeeping_kib=%ld\n",
                p->n * (BS_NAME_BUF + p->size + 2 * sizeof(void *) + sizeof(size_t)), base_kib,
                after_kib);
    }
    int rc = bs_store_new(&b.store, p->url, &cfg);
    if (rc) {
        fail(&b, "open", p->url, rc);
        goto out;
    }
    double t = phase_start(&b);
    if ((rc = bs_store_create(b.store, 0))) {
        fail(&b, "create", p->url, rc);
        goto out;
    }
    report(&b, "create", 1, now() - t, 0);
    t = phase_start(&b);
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
    t = phase_start(&b);
    if ((rc = bs_store_close(b.store))) fail(&b, "close", p->url, rc);
    report(&b, "close", 1, now() - t, 0);
    t = phase_start(&b);
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
