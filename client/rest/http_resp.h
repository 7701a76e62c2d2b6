/* HTTP/1.1 response heads from an untrusted REST server, parsed as pure
 * bytes in / fields out (no I/O) with a bound on everything: status line,
 * header line length, header count and total head size. Only the fields
 * the REST v1 client uses are kept (docs/rest.md). */
#ifndef BS_CLIENT_REST_HTTP_RESP_H
#define BS_CLIENT_REST_HTTP_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BS_HTTP_LINE_MAX 8192        /* status line or one header line */
#define BS_HTTP_HEADERS_MAX 100      /* header lines */
#define BS_HTTP_HEAD_MAX (64 * 1024) /* the whole head */
#define BS_HTTP_REASON_MAX 512       /* reason phrase kept (printable, cut) */
#define BS_HTTP_LENGTH_MAX (UINT64_C(1) << 62)

typedef struct bs__http_resp {
    /* results, valid once bs__http_resp_head returned 1 */
    int status;                          /* 100..999 */
    char reason[BS_HTTP_REASON_MAX + 1]; /* control characters replaced */
    bool has_length;
    uint64_t content_length;
    bool chunked;                        /* Transfer-Encoding: chunked */
    int is_dir;                          /* X-BorgStore-Is-Directory: -1 absent, 0, 1 */
    bool has_atime, has_mtime;
    int64_t atime_ns, mtime_ns;          /* X-BorgStore-Atime / -Mtime */
    /* parser state */
    char line[BS_HTTP_LINE_MAX];
    size_t line_len;
    size_t head_len;
    unsigned headers;
    bool got_status;
    bool done;
} bs__http_resp;

void bs__http_resp_init(bs__http_resp *r);

/* Feeds the next len bytes of a response. *used is set to the bytes that
 * belonged to the head (the rest is body). Returns 1 when the head is
 * complete, 0 when more bytes are needed, or BS_ERR_PROTOCOL with a message
 * saying what the server sent wrong. */
int bs__http_resp_head(bs__http_resp *r, const void *data, size_t len, size_t *used);

/* Seconds as Python prints a float ("1765000000.123456", "12", "1.5e9")
 * into ns since the epoch (in the C locale whatever the process's is),
 * rounded as bs__seconds_to_ns does, so a header and the list JSON agree.
 * Returns false when s is not such a number or out of range. */
bool bs__http_parse_seconds(const char *s, int64_t *ns);

/* Seconds (a double) into ns, rounded to the nearest ns; false when out of
 * range or NaN. */
bool bs__seconds_to_ns(double d, int64_t *ns);

#endif
