/* borgstore-serve internals: the operator's options, the per-connection
 * state, and the entry points of its modules (options and startup in
 * main.c, path restrictions in restrict.c, the I/O loop in loop.c, request
 * handling in dispatch.c, logging in log.c). */
#ifndef BS_SERVER_SERVE_H
#define BS_SERVER_SERVE_H

#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "borgstore/backend.h"
#include "common/buf.h"
#include "common/error.h"
#include "proto/frame.h"
#include "proto/limits.h"
#include "proto/msg.h"
#include "proto/outq.h"

/* Exit codes (documented in --help and docs/security.md). */
#define SERVE_EXIT_OK 0        /* client closed the connection, hang-up, SIGTERM */
#define SERVE_EXIT_USAGE 2     /* unknown option or missing argument */
#define SERVE_EXIT_CONFIG 3    /* invalid option value */
#define SERVE_EXIT_LOGFILE 4   /* --log-file cannot be opened */
#define SERVE_EXIT_PROTOCOL 5  /* the peer is not a borgstore client or broke framing */
#define SERVE_EXIT_IO 6        /* stdin/stdout failed */
#define SERVE_EXIT_INTERNAL 7  /* out of memory or another internal failure */
#define SERVE_EXIT_DRAIN 8     /* the client closed its side and stopped reading:
                                * replies dropped after --drain-timeout */

/* --list-memory: what the list cursors of one connection may hold. */
#define SERVE_LIST_MEMORY_DEFAULT (64ull << 20)
#define SERVE_LIST_MEMORY_MIN (64ull << 10)

/* With --quota, every item counts at least this, and every directory this
 * (one filesystem block): empty items and directories are not free. */
#define SERVE_QUOTA_MIN 4096

/* What the operator decided; the client can change none of it. */
typedef struct serve_opts {
    char **restrict_paths;   /* resolved, without trailing '/' ("/" itself kept) */
    size_t n_restrict_paths;
    char **restrict_repos;   /* resolved */
    size_t n_restrict_repos;
    const char *permissions; /* NULL: none */
    bool read_only;
    uint64_t quota;          /* 0: none */
    const char *backend_url; /* pinned backend, or NULL */
    int log_level;           /* BS_LOG_* threshold for stderr / the log file */
    int log_fd;              /* stderr or the log file */
    uint32_t max_frame;
    uint64_t max_value;
    uint32_t max_inflight;
    uint64_t list_memory;    /* bytes of list entries a connection may hold */
    struct serve_roots *roots; /* place.c: the restriction roots, held open */
    int drain_timeout;       /* seconds output may stall once the client closed its side */
} serve_opts;

/* An open list cursor (list_next continues it). */
typedef struct serve_cursor {
    uint64_t id;             /* 0: slot free */
    bs_list_iter *it;
    bs_item_info next;       /* entry read ahead (has_next) */
    bool has_next;
    uint64_t last_use;
    size_t bytes;            /* what its entries hold (counted in serve.cursor_bytes) */
} serve_cursor;

/* A store whose value arrives in DATA frames. */
typedef struct serve_upload {
    bool active;
    uint32_t id;
    uint64_t size, received;
    bool discard;            /* refused already: swallow the data */
    int err;                 /* the refusal (when discard) */
    char errmsg[BS_MESSAGE_MAX];
    char name[BS_NAME_BUF];
    bs_buf value;
    crypto_generichash_state hashing; /* over the chunks as they arrive */
} serve_upload;

/* Requests read and not yet answered completely (inflight.c): a ring of
 * ids with the output offset where each reply ends (UINT64_MAX: no reply
 * queued yet). */
typedef struct serve_inflight {
    uint32_t *id;
    uint64_t *end;
    size_t head, n, cap;
} serve_inflight;

typedef struct serve {
    const serve_opts *opt;
    bs_backend *backend;     /* built once per path (or pinned at startup) */
    char *backend_path;      /* resolved path the backend serves (NULL if pinned) */
    bool hello_done;
    bool fatal;              /* a framing error: flush and end the connection */
    int client_log_level;    /* in-band threshold the client asked for */
    uint32_t peer_max_frame; /* what the client accepts */
    uint64_t peer_max_value;
    unsigned peer_features;  /* BS_FEAT_* the client announced */
    uint64_t requests;       /* counter for cursor LRU */
    bs__inbuf in;
    bs__outq out;
    uint64_t out_written;    /* bytes written to stdout so far */
    serve_inflight inflight;
    serve_upload up;
    serve_cursor cursors[BS_LIST_CURSORS];
    size_t cursor_bytes;     /* held by all cursors, at most opt->list_memory */
    uint64_t next_cursor;
    bs_item_info *page;      /* list page scratch (list_page + 1 entries) */
    char cwd[PATH_MAX];      /* scrubbed from messages */
} serve;

/* restrict.c */
/* Resolves a client path (absolute, or relative to the working directory)
 * to a canonical absolute path: symlinks resolved for the existing part;
 * the rest must not exist at all (not even as a dangling symlink). "." and
 * ".." components are refused. out has PATH_MAX bytes. Returns 0,
 * BS_ERR_PERMISSION (path not allowed), BS_ERR_INVALID (empty, too long). */
int serve_resolve(char *out, const char *path);
/* 0 when resolved is inside the restrictions, else BS_ERR_PERMISSION. */
int serve_allowed(const serve_opts *o, const char *resolved);

/* log.c */
void serve_log(serve *s, int level, const char *fmt, ...) BS__PRINTF(3, 4);
/* Level name ("debug", ...) -> BS_LOG_*; -1 when unknown. */
int serve_log_level_parse(const char *name);
/* Copies msg into out (cap bytes) with absolute server paths removed. */
void serve_scrub(const serve *s, char *out, size_t cap, const char *msg);

/* core.c */
/* Makes s->backend serve the client's path, placed beneath the restriction
 * roots once (place.h): the backend works from the handles, never from the
 * path. make: create the missing parent directories (create). A pinned
 * backend (--backend) ignores the path. 0 or a BS_ERR_* code. */
int serve_use_path(serve *s, const char *path, bool make);

/* dispatch.c */
/* Handles one frame; returns 0, or < 0 when the connection must end
 * (s->fatal set, an error frame already queued). */
int serve_frame(serve *s, const uint8_t *frame, size_t len);
/* Queues an ERR reply (message scrubbed). */
void serve_reply_err(serve *s, uint32_t id, int code, const char *msg);
/* Drops per-store state (cursors) and closes/frees the backend. */
void serve_shutdown(serve *s);
/* Logs what, queues ERR PROTOCOL for id and ends the connection (s->fatal).
 * Returns -1. */
int serve_fatal(serve *s, uint32_t id, const char *what);

/* inflight.c */
/* Admits request id: 0, or -1 after serve_fatal when id is 0, still in
 * flight, or one more than max_inflight. */
int serve_inflight_admit(serve *s, uint32_t id);
/* After a frame was handled: the requests answered by it end where the
 * output queued so far ends. */
void serve_inflight_settle(serve *s);
void serve_inflight_free(serve *s);

/* loop.c */
/* Runs the connection on fds 0/1 until it ends; returns an exit code. */
int serve_loop(serve *s);

#endif
