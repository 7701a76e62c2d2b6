/* The posix limit baseline: a plain C loop doing what a store must do at
 * minimum for each small item (write temp + rename / stat / read / unlink)
 * in the same 256-directory layout as data/ at nesting level 1.
 * Output lines: phase count seconds ops/s MB/s (as borgstore-bench). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(const char *phase, long n, double secs, double bytes)
{
    printf("%-12s %8ld %9.3f %11.0f ", phase, n, secs, n / secs);
    if (bytes > 0) printf("%9.1f\n", bytes / secs / 1e6);
    else printf("%9s\n", "-");
}

static void path_of(char *out, size_t cap, const char *base, long i, const char *suffix)
{
    char key[32];
    snprintf(key, sizeof key, "%016lx", (unsigned long)(i * 2654435761u) ^ (unsigned long)i);
    snprintf(out, cap, "%s/data/%.2s/%s%s", base, key, key, suffix);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: posix_limit DIR [N] [SIZE]\n");
        return 2;
    }
    const char *base = argv[1];
    long n = argc > 2 ? atol(argv[2]) : 5000;
    size_t size = argc > 3 ? (size_t)atol(argv[3]) : 1024;
    char path[4096], tmp[4096];
    uint8_t *buf = malloc(size), *rbuf = malloc(size);
    memset(buf, 'x', size);
    snprintf(path, sizeof path, "%s/data", base);
    mkdir(base, 0777);
    mkdir(path, 0777);
    for (int d = 0; d < 256; d++) {
        snprintf(path, sizeof path, "%s/data/%02x", base, d);
        mkdir(path, 0777);
    }
    double t = now();
    for (long i = 0; i < n; i++) {
        path_of(path, sizeof path, base, i, "");
        path_of(tmp, sizeof tmp, base, i, ".tmp");
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (fd < 0 || write(fd, buf, size) != (ssize_t)size || close(fd) < 0 ||
            rename(tmp, path) < 0) {
            perror(path);
            return 1;
        }
    }
    report("store", n, now() - t, (double)n * size);
    t = now();
    for (long i = 0; i < n; i++) {
        struct stat st;
        path_of(path, sizeof path, base, i, "");
        if (stat(path, &st) < 0) return 1;
    }
    report("info", n, now() - t, 0);
    t = now();
    for (long i = 0; i < n; i++) {
        path_of(path, sizeof path, base, i, "");
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || read(fd, rbuf, size) != (ssize_t)size) return 1;
        close(fd);
    }
    report("load", n, now() - t, (double)n * size);
    t = now();
    for (long i = 0; i < n; i++) {
        path_of(path, sizeof path, base, i, "");
        if (unlink(path) < 0) return 1;
    }
    report("delete", n, now() - t, 0);
    for (int d = 0; d < 256; d++) {
        snprintf(path, sizeof path, "%s/data/%02x", base, d);
        rmdir(path);
    }
    snprintf(path, sizeof path, "%s/data", base);
    rmdir(path);
    rmdir(base);
    free(buf);
    free(rbuf);
    return 0;
}
