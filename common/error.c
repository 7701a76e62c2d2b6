/* The error table's lookups and the per-thread last-error message. */
#include "common/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_message[BS__ERROR_MSG_CAP];
static _Thread_local int last_errno;

#define BS__ERR_CASE(name, num, exc, msg) case -(num): return exc;
const char *bs_error_name(int code)
{
    if (code == 0) return "Success";
    switch (code) { BS_ERROR_MAP(BS__ERR_CASE) }
    return "UnknownError";
}
#undef BS__ERR_CASE

#define BS__ERR_CASE(name, num, exc, msg) case -(num): return msg;
const char *bs_error_str(int code)
{
    if (code == 0) return "success";
    switch (code) { BS_ERROR_MAP(BS__ERR_CASE) }
    return "unknown error";
}
#undef BS__ERR_CASE

#define BS__ERR_CASE(name, num, exc, msg) case -(num): return #name;
const char *bs_error_id(int code)
{
    if (code == 0) return "OK";
    switch (code) { BS_ERROR_MAP(BS__ERR_CASE) }
    return "UNKNOWN";
}
#undef BS__ERR_CASE

unsigned bs_error_to_wire(int code)
{
    return code < 0 ? (unsigned)-code : 0;
}

#define BS__ERR_CASE(name, num, exc, msg) case num: return -(num);
int bs_error_from_wire(unsigned wire)
{
    switch (wire) { BS_ERROR_MAP(BS__ERR_CASE) }
    return BS_ERR_PROTOCOL;
}
#undef BS__ERR_CASE

const char *bs_error_message(void) { return last_message; }
int bs_error_errno(void) { return last_errno; }

void bs__error_clear(void)
{
    last_message[0] = '\0';
    last_errno = 0;
}

static void record(int code, int err, const char *fmt, va_list ap)
{
    int n = snprintf(last_message, sizeof last_message, "%s", bs_error_str(code));
    if (fmt && n >= 0 && (size_t)n < sizeof last_message - 2) {
        last_message[n++] = ':';
        last_message[n++] = ' ';
        vsnprintf(last_message + n, sizeof last_message - (size_t)n, fmt, ap);
    }
    if (err) {
        size_t len = strlen(last_message);
        snprintf(last_message + len, sizeof last_message - len, " (%s)", strerror(err));
    }
    last_errno = err;
}

int bs__error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(code, 0, fmt, ap);
    va_end(ap);
    return code;
}

int bs__error_code_for_errno(int err)
{
    switch (err) {
    case ENOENT: case ENOTDIR: return BS_ERR_NOT_FOUND;
    case EACCES: case EPERM: case EROFS: return BS_ERR_PERMISSION;
    case ENOMEM: return BS_ERR_NOMEM;
#ifdef EDQUOT
    case EDQUOT: return BS_ERR_QUOTA;
#endif
    case EINVAL: case ENAMETOOLONG: return BS_ERR_INVALID;
    default: return BS_ERR_IO;
    }
}

int bs__error_errno(int err, const char *fmt, ...)
{
    int code = bs__error_code_for_errno(err);
    va_list ap;
    va_start(ap, fmt);
    record(code, err, fmt, ap);
    va_end(ap);
    return code;
}

int bs__error_set_raw(int code, int saved_errno, const char *msg)
{
    snprintf(last_message, sizeof last_message, "%s", msg ? msg : bs_error_str(code));
    last_errno = saved_errno;
    return code;
}

void bs__error_save(bs__error_saved *out)
{
    memcpy(out->msg, last_message, sizeof out->msg);
    out->err = last_errno;
}

int bs__error_restore(const bs__error_saved *saved, int code)
{
    memcpy(last_message, saved->msg, sizeof last_message);
    last_message[sizeof last_message - 1] = '\0';
    last_errno = saved->err;
    return code;
}
