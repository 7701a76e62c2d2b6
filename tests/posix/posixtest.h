/* Fixtures for the posix backend's own tests: a temp directory holding the
 * store, backends with a given config, and on-disk inspection helpers. */
#ifndef BS_TESTS_POSIXTEST_H
#define BS_TESTS_POSIXTEST_H

#include <criterion/criterion.h>
#include <stddef.h>
#include <stdint.h>

#include "borgstore/backend.h"

/* Fresh temp dir (pt_dir) and the store path inside it (pt_base, not yet
 * existing) and its URL (pt_url). */
extern char pt_dir[512], pt_base[600], pt_url[640];
void pt_init(void);
void pt_fini(void);

/* New backend on pt_url with permissions (may be NULL) and quota (0: off). */
bs_backend *pt_backend(const char *permissions, uint64_t quota);
/* Same, created (by an unrestricted backend first) and opened. */
bs_backend *pt_open(const char *permissions, uint64_t quota);

/* Path of rel inside the store (static buffer, overwritten by the next call). */
const char *pt_path(const char *rel);

/* Number of files ending in .tmp anywhere below pt_base. */
size_t pt_count_tmp(void);
/* Sum of sizes of regular files below pt_base except *.tmp / *.hid. */
int64_t pt_disk_usage(void);
/* Contents of quota.hid as a number, -1 when missing, -2 when not a number. */
int64_t pt_quota_file(void);

#define PT_EXPECT(code, call)                                                         \
    do {                                                                              \
        int pt_rc_ = (call);                                                          \
        cr_assert_eq(pt_rc_, (code), "%s\n  returned %d (%s), expected %d: %s", #call, \
                     pt_rc_, bs_error_id(pt_rc_), (code), bs_error_message());        \
    } while (0)
#define PT_OK(call) PT_EXPECT(0, call)

#endif
