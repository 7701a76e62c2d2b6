/* Backend conformance suite: fixtures shared by the case files. Every test
 * gets a fresh backend built from the URL template in BS_CONTRACT_URL, in
 * which "%s" is replaced by the absolute path of a store directory that does
 * not exist yet (inside a fresh empty temp directory). */
#ifndef BS_TESTS_CONTRACT_H
#define BS_TESTS_CONTRACT_H

#include <criterion/criterion.h>
#include <stddef.h>
#include <stdint.h>

#include "borgstore/backend.h"

/* The backend under test (suite "contract": created and open; suite
 * "contract_state": only constructed). */
extern bs_backend *ct_b;

/* Suite hooks. */
void ct_init_open(void);
void ct_init_new(void);
void ct_fini(void);

/* A second, independent backend on the same store (caller frees). */
bs_backend *ct_another(void);

/* Asserts a call returned code, showing the message when it did not. */
#define CT_EXPECT(code, call)                                                         \
    do {                                                                              \
        int ct_rc_ = (call);                                                          \
        cr_assert_eq(ct_rc_, (code), "%s\n  returned %d (%s), expected %d: %s", #call, \
                     ct_rc_, bs_error_id(ct_rc_), (code), bs_error_message());        \
    } while (0)
#define CT_OK(call) CT_EXPECT(0, call)

/* Stores a NUL-terminated string. */
void ct_put(const char *name, const char *value);
/* Asserts name holds exactly len bytes equal to data. */
void ct_check(const char *name, const void *data, size_t len);
/* Asserts name holds the string value. */
void ct_check_str(const char *name, const char *value);
/* Asserts that name does not exist (info). */
void ct_check_absent(const char *name);

/* Lists dir into a malloc'd array (*n entries, sorted as returned). */
bs_item_info *ct_list(const char *dir, size_t *n);

#endif
