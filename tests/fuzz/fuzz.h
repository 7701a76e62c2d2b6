/* Shared by the libFuzzer targets in this folder: the entry point (renamed
 * per target when the targets are linked into the Criterion replay test
 * instead of libFuzzer) and FUZZ_CHECK, which aborts with a message so that
 * libFuzzer keeps the input and the replay test fails on it. */
#ifndef BS_TESTS_FUZZ_H
#define BS_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

int FUZZ_ENTRY(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: fuzz check failed: %s: ", __FILE__,      \
                    __LINE__, #cond);                                        \
            fprintf(stderr, __VA_ARGS__);                                    \
            fputc('\n', stderr);                                             \
            abort();                                                         \
        }                                                                    \
    } while (0)

#endif
