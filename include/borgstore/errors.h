/* borgstore error model: one table of codes shared by every layer and the wire.
 *
 * Functions that can fail return 0 on success or a negative BS_ERR_* code and
 * leave a human-readable message for the calling thread (bs_error_message()).
 * The numbers in the table travel on the wire: never renumber, only append. */
#ifndef BORGSTORE_ERRORS_H
#define BORGSTORE_ERRORS_H

#include "borgstore/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, wire number, Python borgstore exception, short message) */
#define BS_ERROR_MAP(X)                                                         \
    X(NOT_FOUND,         1, "ObjectNotFound",         "object not found")        \
    X(ALREADY_EXISTS,    2, "BackendAlreadyExists",   "backend already exists")  \
    X(DOES_NOT_EXIST,    3, "BackendDoesNotExist",    "backend does not exist")  \
    X(MUST_BE_OPEN,      4, "BackendMustBeOpen",      "backend must be open")    \
    X(MUST_NOT_BE_OPEN,  5, "BackendMustNotBeOpen",   "backend must not be open")\
    X(INVALID,           6, "ValueError",             "invalid argument")        \
    X(URL_INVALID,       7, "BackendURLInvalid",      "invalid URL")             \
    X(PERMISSION,        8, "PermissionDenied",       "permission denied")       \
    X(QUOTA,             9, "QuotaExceeded",          "quota exceeded")          \
    X(READ_RANGE,       10, "ReadRangeError",         "read range error")        \
    X(CONNECTION,       11, "BackendConnectionError", "connection lost")         \
    X(PROTOCOL,         12, "BackendError",           "protocol error")          \
    X(INTEGRITY,        13, "BackendError",           "integrity error")         \
    X(IO,               14, "BackendError",           "I/O error")               \
    X(NOMEM,            15, "BackendError",           "out of memory")           \
    X(UNSUPPORTED,      16, "BackendError",           "not supported")           \
    X(TIMEOUT,          17, "BackendConnectionError", "timed out")

typedef enum bs_error {
    BS_OK = 0,
#define BS__ERR_ENUM(name, num, exc, msg) BS_ERR_##name = -(num),
    BS_ERROR_MAP(BS__ERR_ENUM)
#undef BS__ERR_ENUM
} bs_error;

/* Highest wire number in use; codes received from a peer above it are
 * reported as BS_ERR_PROTOCOL. */
#define BS_ERROR_WIRE_MAX 17

/* Python borgstore exception name of a code ("ObjectNotFound"), "Success"
 * for 0, "UnknownError" for anything not in the table. Static string. */
BS_API const char *bs_error_name(int code);

/* Short fixed message of a code ("object not found"). Static string. */
BS_API const char *bs_error_str(int code);

/* Identifier of a code as written in the table ("NOT_FOUND"). Static string. */
BS_API const char *bs_error_id(int code);

/* Message of the last failure on this thread, e.g.
 * "object not found: data/00ff". Borrowed; valid until the next borgstore
 * call on this thread. Never NULL (empty when nothing failed yet). */
BS_API const char *bs_error_message(void);

/* errno kept with the last BS_ERR_IO (or other errno-derived) failure on this
 * thread, 0 when the failure did not come from a system call. */
BS_API int bs_error_errno(void);

/* Wire number of a code (positive), and back. bs_error_from_wire returns
 * BS_ERR_PROTOCOL for numbers not in the table. */
BS_API unsigned bs_error_to_wire(int code);
BS_API int bs_error_from_wire(unsigned wire);

#ifdef __cplusplus
}
#endif
#endif
