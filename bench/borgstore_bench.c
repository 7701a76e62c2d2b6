/* borgstore-bench: the standard workload against any URL, one line per
 * phase ("phase count seconds ops/s MB/s"), every value read back checked.
 * Small items are named data/<sha256 of the value>, data at level 1. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "borgstore/borgstore.h"
#include "bench/workload.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: borgstore-bench URL [--n N] [--m M] [--size BYTES] [--large-size BYTES]\n"
            "                       [--window W] [--rss]\n"
            "Runs the standard workload against URL (the store must not exist; it is\n"
            "created and destroyed): store N values of --size bytes (default 5000 x\n"
            "1024) under data/<sha256>, list, info, load, partial load (first 64\n"
            "bytes), soft delete, delete; then store and load M values of --large-size\n"
            "bytes (default 16 x 8 MiB). --window W keeps W requests in flight through\n"
            "the batch API (default: what the backend advertises); --window 1 is the\n"
            "sequential baseline using the single-item API.\n"
            "Output: one line per phase 'phase count seconds ops/s MB/s' (MB = 10^6\n"
            "bytes, '-' without payload), then '# errors=N'. Exit 1 when N > 0.\n"
            "--rss adds after each phase '# rss phase=P peak_kib= now_kib= start_kib='\n"
            "(this process's VmHWM, reset at the phase start, and VmRSS), the same for a\n"
            "spawned borgstore-serve ('# rss server phase=P ...') and the bytes the\n"
            "bench itself keeps per item ('# rss bookkeeping_bytes=').\n");
}

int main(int argc, char **argv)
{
    bs_bench_params p = {.n = 5000, .m = 16, .size = 1024, .large_size = 8 << 20, .window = 0};
    static const struct option opts[] = {
        {"n", required_argument, 0, 'n'},          {"m", required_argument, 0, 'm'},
        {"size", required_argument, 0, 's'},       {"large-size", required_argument, 0, 'l'},
        {"window", required_argument, 0, 'w'},     {"help", no_argument, 0, 'h'},
        {"rss", no_argument, 0, 'r'},
        {0, 0, 0, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': p.n = strtoul(optarg, NULL, 10); break;
        case 'm': p.m = strtoul(optarg, NULL, 10); break;
        case 's': p.size = strtoul(optarg, NULL, 10); break;
        case 'l': p.large_size = strtoul(optarg, NULL, 10); break;
        case 'w': p.window = strtoul(optarg, NULL, 10); break;
        case 'r': p.rss = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind + 1 != argc || p.size < 64) {
        usage(stderr);
        return 2;
    }
    p.url = argv[optind];
    long errors = bs_bench_run(&p, stdout);
    printf("# errors=%ld\n", errors);
    return errors ? 1 : 0;
}
