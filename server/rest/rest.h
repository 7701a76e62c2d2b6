/* borgstore-serve's REST front-end: Python borgstore's REST v1 dialect
 * (what `borg serve --rest` speaks) on stdin/stdout, one request then one
 * response. conn.c reads requests and writes responses, endpoints.c maps
 * them onto the server core through a const table. */
#ifndef BS_SERVER_REST_REST_H
#define BS_SERVER_REST_REST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/rest/http.h"
#include "server/serve.h"

/* The Accept value every request must carry (else 406). */
#define BS_REST_ACCEPT "application/vnd.x.borgstore.rest.v1"
/* Largest JSON body accepted (defrag sources). */
#define BS_REST_JSON_MAX (4u << 20)

/* One connection: the server state, the input buffer and the store path. */
typedef struct rest_conn {
    serve *s;
    int in_fd, out_fd;
    uint8_t *in;            /* read-ahead buffer */
    size_t in_len, in_cap;
    bool eof;
    const char *store_path; /* the client's store (NULL when pinned) */
    bs_http_req req;
    char name[BS_NAME_BUF]; /* the request path as an item name ("" = root) */
    bool list;              /* GET with a trailing '/' */
    bool close_after;       /* a malformed request: answer, then end */
    bool dead;              /* stdin or stdout failed: end now */
    bool sent_head;         /* a streamed response has begun */
} rest_conn;

/* A response body: len bytes at data (borrowed), and its Content-Type. */
typedef struct rest_body {
    const void *data;
    size_t len;
    const char *type;
} rest_body;

/* conn.c */
/* Runs the connection until EOF; returns a SERVE_EXIT_* code. */
int serve_rest(serve *s, const char *store_path);
/* Reads exactly n body bytes into dst (buffered bytes first). 0, or -1 on
 * EOF or a read error (the connection ends). */
int rest_read_body(rest_conn *c, void *dst, size_t n);
/* Writes a 2xx response with extra header lines (each ending in CRLF, may
 * be NULL) and the body. 0, or -1 when stdout failed. */
int rest_send(rest_conn *c, int status, const char *extra, const rest_body *body);
/* Like rest_send, but Content-Length is len while the body follows through
 * rest_write (a HEAD answer or a streamed load). */
int rest_send_head(rest_conn *c, int status, const char *extra, uint64_t len, const char *type);
int rest_write(rest_conn *c, const void *p, size_t n);
/* Writes Python's error shape: the message as reason phrase and in an
 * HTML body (none for HEAD). */
int rest_send_error(rest_conn *c, int status, const char *msg);
/* The HTTP status for a BS_ERR_* code. */
int rest_status_for(int code);

/* endpoints.c */
/* Handles the parsed request c->req (body not read yet). 0, or -1 when
 * the connection must end. */
int rest_dispatch(rest_conn *c);

#endif
