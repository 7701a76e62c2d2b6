/* borgstore-serve's REST front-end: Python borgstore's REST v1 dialect
 * (what `borg serve --rest` speaks) on stdin/stdout, one request then one
 * response. conn.c reads requests and writes responses, endpoints.c maps
 * them onto the server core through a const table. */
#ifndef BS_SERVER_REST_REST_H
#define BS_SERVER_REST_REST_H

#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
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
    bool url_path;          /* the store is named per request by the URL path */
    bool tcp;               /* end the connection after an error response */
    char url_store[PATH_MAX];
    const uint8_t *auth;    /* SHA-256 of the expected Authorization value, or NULL */
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

/* How a connection is served (the same for stdio and every TCP one). */
typedef struct rest_cfg {
    const char *store_path; /* --backend FILE:<path>, or NULL */
    bool url_path;          /* --backend URL-PATH */
    bool tcp;               /* an error response ends the connection (Python's TCP server) */
    const uint8_t *auth;    /* rest_auth_hash() of the credentials, or NULL */
} rest_cfg;

/* conn.c */
/* Runs the connection on stdin/stdout until EOF; returns a SERVE_EXIT_* code. */
int serve_rest(serve *s, const char *store_path);
/* The same on in_fd/out_fd with cfg. */
int serve_rest_conn(serve *s, const rest_cfg *cfg, int in_fd, int out_fd);

/* auth.c */
#define BS_REST_AUTH_HASH 32
/* Reads FILE's first line "user:password" and stores the SHA-256 of the
 * Authorization value it allows in out. 0, or -1 with a message on stderr. */
int rest_auth_load(uint8_t out[BS_REST_AUTH_HASH], const char *file);
/* Whether the request's Authorization matches c->auth (constant time). */
bool rest_auth_ok(const rest_conn *c);

/* listen.c */
/* Serves REST connections accepted on --listen HOST:PORT, or on fd 3 with
 * socket_activation: a child process per connection, at most max_conns at
 * once. Returns a SERVE_EXIT_* code when the listener fails. */
int serve_rest_listen(serve *s, const rest_cfg *cfg, const char *listen_addr,
                      bool socket_activation, unsigned max_conns);
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
