/* Fixtures of the cache tests: a primary file:// store and a file:// cache
 * in one temp dir, paths of cache entries on disk, stats shortcuts. */
#ifndef BS_TEST_CACHE_FIXTURE_H
#define BS_TEST_CACHE_FIXTURE_H

#include <criterion/criterion.h>
#include <stdint.h>

#include "borgstore/borgstore.h"

extern char *cx_tmp;       /* temp dir */
extern char *cx_url;       /* file:// URL of the primary (cx_tmp/store) */
extern char *cx_cache_url; /* file:// URL of the cache (cx_tmp/cache) */

/* Namespaces of the primary: "" [0], "data/" [1], "packs/" [0]. */
extern const bs_store_namespace cx_levels[3];

void cx_setup(void);
void cx_teardown(void);

/* A store on url with cache policies ns[0..n) on cx_cache_url; created
 * when create, opened. */
bs_store *cx_open(const char *url, const bs_cache_namespace *ns, size_t n, bool create);
/* Closes (asserting success) and frees. */
void cx_close(bs_store *s);

/* On-disk path of the cache entry of nested name (below the store's own
 * directory of the cache, for primary url). Static buffer. */
const char *cx_entry(const char *url, const char *nested);
/* Bytes of the files below the cache directory of url + "/" + dir. */
uint64_t cx_cache_bytes(const char *url, const char *dir);
/* "ns/<sha256 hex of v>" into a static buffer. */
const char *cx_sha_name(const char *ns, const void *v, size_t len);

bs_store_stats cx_stats(bs_store *s);

#define CX_OK(expr)                                                                   \
    do {                                                                              \
        int rc_ = (expr);                                                             \
        cr_assert_eq(rc_, 0, "%s -> %d (%s)", #expr, rc_, bs_error_message());        \
    } while (0)

/* Loads name[offset, size] and asserts it equals want[0..wlen). */
void cx_expect(bs_store *s, const char *name, int64_t offset, int64_t size, const void *want,
               size_t wlen);

#endif
