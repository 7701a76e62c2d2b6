/* Fixtures shared by the Store tests: a created and opened file:// store in
 * a fresh temp dir, with Python borgstore's test layout (zero/ [0],
 * one/ [1], two/ [2]), and small helpers. */
#ifndef BS_TEST_STORE_FIXTURE_H
#define BS_TEST_STORE_FIXTURE_H

#include <criterion/criterion.h>
#include <stdio.h>

#include "borgstore/borgstore.h"
#include "testutil.h"

extern char *fx_dir;   /* temp dir holding the store */
extern char *fx_url;   /* file:// URL of the store */
extern bs_store *fx_s; /* created and open */

/* Python's test config: {"zero/": [0], "one/": [1], "two/": [2]}. */
extern const bs_store_namespace fx_levels[3];

/* Criterion init/fini: temp dir, create + open a store with fx_levels. */
void fx_setup(void);
void fx_teardown(void);

/* Only the temp dir and URL (the test makes its own store). */
void fx_setup_dir(void);

/* A store on fx_url with namespaces (not created, not opened). */
bs_store *fx_new_store(const bs_store_namespace *ns, size_t n);

/* Python's tests' key(i): 8 lowercase hex digits. Static buffer per slot. */
const char *fx_key(unsigned i);

/* Whether path (relative to the store dir) exists on disk. */
bool fx_on_disk(const char *rel);

/* The keys store list yields for ns, joined by ","; malloc'd. */
char *fx_list(bs_store *s, const char *ns, bool deleted);

#define ASSERT_OK(expr)                                                               \
    do {                                                                              \
        int rc_ = (expr);                                                             \
        cr_assert_eq(rc_, 0, "%s -> %d (%s)", #expr, rc_, bs_error_message());        \
    } while (0)

#endif
