/* The standard benchmark workload (see borgstore_bench.c). */
#ifndef BS_BENCH_WORKLOAD_H
#define BS_BENCH_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct bs_bench_params {
    const char *url;
    size_t n, m;        /* small and large item counts */
    size_t size, large_size;
    size_t window;      /* 0: backend's advertised window; 1: sequential */
    bool rss;           /* print '# rss ...' peak memory lines per phase */
} bs_bench_params;

/* Runs every phase, printing one line each to out. Returns the number of
 * errors (failed calls and wrong bytes read back). */
long bs_bench_run(const bs_bench_params *p, FILE *out);

#endif
