/* Setting the per-thread error (internal side of include/borgstore/errors.h).
 * Every failing path calls exactly one of these and returns its result, so
 * the code and the message can never disagree. */
#ifndef BS_COMMON_ERROR_H
#define BS_COMMON_ERROR_H

#include "borgstore/errors.h"

#if defined(__GNUC__)
#define BS__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define BS__PRINTF(a, b)
#endif

/* Records code + "short message: formatted detail" and returns code.
 * fmt may be NULL (then only the short message is kept). errno is cleared. */
int bs__error_set(int code, const char *fmt, ...) BS__PRINTF(2, 3);

/* Maps errno value err to a code (ENOENT -> NOT_FOUND, EACCES/EPERM/EROFS ->
 * PERMISSION, ENOMEM -> NOMEM, EDQUOT -> QUOTA, else IO), records
 * "detail: strerror(err)" plus err, and returns the code. */
int bs__error_errno(int err, const char *fmt, ...) BS__PRINTF(2, 3);

/* Code that bs__error_errno would choose for err, without recording anything. */
int bs__error_code_for_errno(int err);

/* Forget the last error of this thread. */
void bs__error_clear(void);

/* Record a message received verbatim (e.g. from a server): no prefix added. */
int bs__error_set_raw(int code, int saved_errno, const char *msg);

#endif
