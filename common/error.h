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

/* Longest per-thread message kept (longer ones are cut), with its NUL. */
#define BS__ERROR_MSG_CAP 512

/* A copy of this thread's last error, so code can format a new message from
 * the old one (bs__error_set(code, "...%s", saved.msg)) without passing the
 * per-thread buffer to itself, or put the old error back after a cleanup
 * call that may set its own. */
typedef struct bs__error_saved {
    int err;                     /* errno recorded with it (0: none) */
    char msg[BS__ERROR_MSG_CAP];
} bs__error_saved;

/* Copies the thread's current message and errno into *out. */
void bs__error_save(bs__error_saved *out);
/* Makes *saved the thread's last error again and returns code (so a caller
 * can write `return bs__error_restore(&saved, rc);`). */
int bs__error_restore(const bs__error_saved *saved, int code);

#endif
