/* The RPC client core: one connection to borgstore-serve over a transport,
 * with many requests in flight. Calls are submitted (getting an id) and
 * completed in any order; replies are matched by id, and unknown or
 * duplicate ids are protocol errors. Every blocking step pumps both ways
 * (write what the transport takes, read what arrived) so a full pipe never
 * deadlocks, and gives up after a no-progress timeout. The synchronous
 * remote backend is submit + wait; batch APIs keep a window in flight. */
#ifndef BS_CLIENT_REMOTE_RPC_H
#define BS_CLIENT_REMOTE_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "borgstore/backend.h"
#include "borgstore/store.h" /* bs_read_fn */
#include "client/transport.h"
#include "proto/msg.h"

typedef struct bs__rpc bs__rpc;

typedef struct bs__rpc_opts {
    int timeout_ms;     /* no progress for this long: BS_ERR_TIMEOUT (0: 120 s). Progress is
                         * a whole frame other than LOG received, or 64 KiB (or all)
                         * of our output taken: LOG frames and trickled bytes do
                         * not extend it */
    uint32_t max_frame; /* largest frame we accept (0: 1 MiB) */
    uint64_t max_value; /* largest value we accept in a load (0: 1 GiB) */
    int log_level;      /* in-band log threshold asked of the server (0: warning) */
    /* Called for each LOG frame (NULL: ignored). */
    void (*log)(void *ctx, int level, const char *msg);
    void *log_ctx;
} bs__rpc_opts;

/* A completed call; everything in it is owned (bs__reply_clear). */
typedef struct bs__reply {
    int rc;                   /* 0, or the error (server's or the connection's) */
    uint32_t method;
    bs_item_info info;        /* info */
    uint8_t *value;           /* load, ping: malloc'd, value_len bytes (non-NULL) */
    size_t value_len;
    char hex[BS_HASH_HEX_SIZE];   /* hash */
    char name[BS_NAME_BUF];       /* defrag */
    bs_quota quota;               /* quota */
    bs_item_info *entries;        /* list, list_next: malloc'd */
    size_t n_entries;
    uint64_t cursor;              /* list: has_cursor when more pages wait */
    bool has_cursor;
    uint64_t tag;                 /* what bs__rpc_set_tag attached */
} bs__reply;

/* Preamble + hello over t (taken over, closed on failure too). Returns 0
 * and *out, or BS_ERR_CONNECTION / BS_ERR_TIMEOUT / BS_ERR_PROTOCOL (with
 * the bytes that arrived instead of the magic shown as text, and the
 * remote stderr), or the server's refusal (e.g. BS_ERR_UNSUPPORTED). */
int bs__rpc_connect(bs__rpc **out, bs_transport *t, const bs__rpc_opts *opts);

/* Ends the connection (EOF to the server, bounded wait) and frees.
 * Accepts NULL. Outstanding calls are dropped. */
void bs__rpc_free(bs__rpc *c);

/* The server's hello answer (limits, what it enforces). */
const bs__hello *bs__rpc_server(const bs__rpc *c);

/* Whether the connection failed (lost, timed out, protocol violation). */
bool bs__rpc_broken(const bs__rpc *c);

/* The failure of a broken connection (its message becomes this thread's
 * error message); 0 when it is not broken. */
int bs__rpc_error(const bs__rpc *c);

/* Queues a request; blocks (pumping I/O) while the window is full. A
 * store's req->data is sent from the caller's buffer and must stay valid
 * until the call completes; req->hash may be NULL (computed here).
 * Returns 0 and *id, or the connection's error. */
int bs__rpc_submit(bs__rpc *c, const bs__req *req, uint32_t *id);

/* As bs__rpc_submit, but with copy the value is copied into the output
 * queue, so the caller's buffer may go away as soon as this returns. */
int bs__rpc_submit_ex(bs__rpc *c, const bs__req *req, bool copy, uint32_t *id);

/* Queues a store of len bytes from read (borgstore/store.h's contract)
 * and sends them chunk by chunk in DATA frames, the hash computed as they
 * go, so memory stays at one frame; returns when all is written, with *id
 * to wait for. A small value goes inline from a copy. A reader error
 * before the first byte is sent leaves the connection as it was; a later
 * one ends the connection (the server keeps nothing). Returns 0, the
 * reader's error, or the connection's. */
int bs__rpc_store_from(bs__rpc *c, const char *name, uint64_t len, bs_read_fn read, void *ctx,
                       uint32_t *id);

/* Attaches a caller's number to an outstanding call (returned in its reply). */
void bs__rpc_set_tag(bs__rpc *c, uint32_t id, uint64_t tag);

/* Waits until no call is in flight (discarded ones included). 0 or the
 * connection's error. */
int bs__rpc_drain(bs__rpc *c);

/* Waits for call id and moves its result into *out (out->rc set). Returns
 * out->rc. Waiting on an id that is not outstanding is BS_ERR_INVALID. */
int bs__rpc_wait(bs__rpc *c, uint32_t id, bs__reply *out);

/* Waits up to timeout_ms for any call to complete: 1 and *id of a call
 * ready for bs__rpc_wait, 0 on timeout, or the connection's error. */
int bs__rpc_poll(bs__rpc *c, uint32_t *id, int timeout_ms);

/* Forgets call id: its reply is dropped on arrival; a failure is kept for
 * bs__rpc_take_deferred. */
void bs__rpc_discard(bs__rpc *c, uint32_t id);

/* First error of a discarded call since the last take (0 when none); its
 * message becomes this thread's error message. *failed (may be NULL) gets
 * how many discarded calls failed; the count is reset. */
int bs__rpc_take_deferred(bs__rpc *c, size_t *failed);

/* Submit + wait. */
int bs__rpc_call(bs__rpc *c, const bs__req *req, bs__reply *out);

/* Calls in flight (submitted, not yet complete). */
size_t bs__rpc_inflight(const bs__rpc *c);

void bs__reply_clear(bs__reply *r);

#endif
