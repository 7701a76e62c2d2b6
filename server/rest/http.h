/* HTTP/1.1 request heads for borgstore-serve's REST front-end: bytes in, a
 * parsed head out, no I/O, so it can be unit-tested and fuzzed. Everything
 * is bounded: request line, header count, each header line, and the head as
 * a whole. Only the headers the REST v1 dialect uses are kept. */
#ifndef BS_SERVER_REST_HTTP_H
#define BS_SERVER_REST_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Caps (a request of Python borgstore's client uses a few hundred bytes). */
#define BS_HTTP_LINE_MAX 8192     /* request line or one header line, with CRLF */
#define BS_HTTP_HEADERS_MAX 64    /* header lines */
#define BS_HTTP_HEAD_MAX 32768    /* request line + headers + blank line */
#define BS_HTTP_TARGET_MAX 4096   /* request target (path + query), raw */
#define BS_HTTP_VALUE_MAX 256     /* kept header values (Accept, Range, hash, auth) */

typedef enum bs_http_method {
    BS_HTTP_GET = 1,
    BS_HTTP_HEAD,
    BS_HTTP_POST,
    BS_HTTP_PUT,
    BS_HTTP_DELETE,
} bs_http_method;

typedef struct bs_http_req {
    bs_http_method method;
    char target[BS_HTTP_TARGET_MAX + 1]; /* raw, as sent */
    size_t path_len;                     /* target[0..path_len) is the path */
    const char *query;                   /* into target after '?', or "" */
    int minor;                           /* HTTP/1.<minor> */
    bool has_accept, has_range, has_hash, has_length, chunked, has_auth;
    char accept[BS_HTTP_VALUE_MAX];
    char range[BS_HTTP_VALUE_MAX];
    char hash[BS_HTTP_VALUE_MAX];        /* X-Content-hash-sha256 */
    char auth[BS_HTTP_VALUE_MAX];        /* Authorization */
    uint64_t content_length;             /* 0 when absent */
} bs_http_req;

/* Parses the head at the start of buf[0..len). Returns 1 with *out filled
 * and *consumed = the head's length (body follows), 0 when more bytes are
 * needed (and none of the caps is exceeded yet), or BS_ERR_PROTOCOL with
 * the message set for a malformed or oversized head. */
int bs__http_parse_head(bs_http_req *out, const uint8_t *buf, size_t len, size_t *consumed);

/* Percent-decodes src[0..len) into out (cap bytes, NUL-terminated); '+' is a
 * space in queries (plus_space). 0, or BS_ERR_INVALID for a bad escape, a
 * NUL byte or a result that does not fit. */
int bs__http_unquote(char *out, size_t cap, const char *src, size_t len, bool plus_space);

/* Looks key up in a query string ("a=1&b=2") and decodes its first value
 * into out. 1 found, 0 absent, BS_ERR_INVALID when malformed or too long. */
int bs__http_query_get(const char *query, const char *key, char *out, size_t cap);

/* Parses a Range header value as Python borgstore does: "bytes=a-b" ->
 * offset a, size b-a+1; "bytes=a-" -> offset a, size -1 (to the end);
 * "bytes=-n" -> offset -n, size -1. Anything else (unparsable) gives
 * offset 0, size -1: the whole object. */
void bs__http_range(const char *value, int64_t *offset, int64_t *size);

#endif
