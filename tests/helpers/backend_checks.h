/* Checks shared by the tests of the remote-ish backends (sftp://, rclone:)
 * that drive a bs_backend directly: return-code asserts, reading a value
 * back, temp files left on disk, and a collector for batch results. */
#ifndef BS_BACKEND_CHECKS_H
#define BS_BACKEND_CHECKS_H

#include <criterion/criterion.h>
#include <stddef.h>
#include <stdint.h>

#include "borgstore/backend.h"

/* Asserts that call returns code, naming the call and the error message. */
#define EXPECT(code, call)                                                                     \
    do {                                                                                       \
        int rc_ = (call);                                                                      \
        cr_assert_eq(rc_, (code), "%s\n  returned %d (%s), expected %d: %s", #call, rc_,       \
                     bs_error_id(rc_), (code), bs_error_message());                            \
    } while (0)
#define OK(call) EXPECT(0, call)

/* A new (not created, not opened) backend for prefix + path, e.g.
 * "file://" + "/abs"; cfg may be NULL. Asserts it could be made. */
bs_backend *bs_test_backend_new(const char *prefix, const char *path, const bs_backend_config *cfg);

/* Asserts that name loads whole as exactly len bytes equal to want. */
void bs_test_check_load(bs_backend *b, const char *name, const void *want, size_t len);

/* How many *.tmp files are anywhere below dir on disk. */
int bs_test_temp_files_below(const char *dir);

/* Every result of one bs_backend_batch call, by operation index. */
#define BS_TEST_BATCH_MAX 48

typedef struct bs_test_batch {
    int rc[BS_TEST_BATCH_MAX];
    uint8_t *data[BS_TEST_BATCH_MAX]; /* taken from the result; bs_test_batch_free frees */
    size_t len[BS_TEST_BATCH_MAX];
    bs_item_info info[BS_TEST_BATCH_MAX];
    char msg[BS_TEST_BATCH_MAX][256];
    size_t count;
    size_t stop_after; /* the callback asks to stop after this many; 0: never */
} bs_test_batch;

/* A bs_op_cb filling the bs_test_batch that ctx points to. */
int bs_test_batch_collect(void *ctx, size_t index, bs_op_result *res);

/* Frees the values taken and the struct (calloc'd by the test). */
void bs_test_batch_free(bs_test_batch *g);

#endif
