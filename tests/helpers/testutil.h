/* Shared test fixtures: temp directories, files, and running programs. */
#ifndef BS_TESTUTIL_H
#define BS_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* A fresh empty directory under $TMPDIR (or /tmp); malloc'd path.
 * Aborts the test on failure. */
char *bs_test_tmpdir(void);

/* rm -rf path (ignores errors). */
void bs_test_rmtree(const char *path);

/* Reads a whole file; malloc'd, NUL-terminated; *len may be NULL.
 * Returns NULL when it cannot be read. */
char *bs_test_read_file(const char *path, size_t *len);

/* Writes len bytes to path (creating parents). Returns 0 or -1. */
int bs_test_write_file(const char *path, const void *data, size_t len);

/* Path of a file in the build tree / source tree (from BS_BUILD_ROOT /
 * BS_SOURCE_ROOT set by meson). Static buffer, overwritten on next call. */
const char *bs_test_build_path(const char *rel);
const char *bs_test_source_path(const char *rel);

/* Deterministic pseudo-random bytes (xorshift seeded with seed). */
void bs_test_fill(uint8_t *buf, size_t len, uint64_t seed);

#endif
