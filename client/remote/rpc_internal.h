/* Internals of the RPC client shared by rpc.c (slots, the send path, the
 * pump and the public calls) and rpc_recv.c (frames from the server matched
 * to slots). Nothing outside client/remote/rpc*.c includes this. */
#ifndef BS_CLIENT_REMOTE_RPC_INTERNAL_H
#define BS_CLIENT_REMOTE_RPC_INTERNAL_H

#include <sodium.h>

#include "client/remote/rpc.h"
#include "proto/frame.h"
#include "proto/outq.h"

#define HELLO_ID 1
#define DEFAULT_TIMEOUT_MS 120000
#define DEFAULT_MAX_VALUE (1ull << 30)
#define BANNER_WAIT_MS 500  /* to collect what a shell printed instead of the magic */
#define BANNER_MAX 2048
#define PROGRESS_BYTES (64u * 1024) /* output the server takes that counts as progress */
#define WRITE_EARLY (64u * 1024) /* submit pushes bytes out once this much waits */
#define REQ_OVERHEAD 256u    /* bytes a request counts for besides its value */

enum { ST_FREE, ST_SENT, ST_RECEIVING, ST_DONE };
enum { PH_PREAMBLE, PH_HELLO, PH_READY, PH_BROKEN };

typedef struct slot {
    uint32_t id;
    uint8_t state;
    bool discard;
    uint32_t method;
    int64_t want_size;  /* load: size asked for (BS_SIZE_ALL: any) */
    uint64_t bytes;     /* counted in the byte window */
    uint8_t hash[BS_VALUE_HASH_LEN];
    uint64_t value_got;
    size_t value_cap;   /* load: bytes allocated so far for the value */
    uint64_t tag;
    char *errmsg;
    bs__reply reply;
} slot;

struct bs__rpc {
    bs_transport *t;
    bs__rpc_opts o;
    int phase;
    int broken_rc;
    char broken_msg[BS_MESSAGE_MAX];
    bs__hello hello;
    uint32_t peer_max_frame;
    bs__inbuf in;
    bs__outq out;
    slot *slots;
    uint32_t mask;
    uint32_t next_id;
    uint32_t window;
    uint64_t window_bytes;
    size_t inflight;
    uint64_t inflight_bytes;
    slot *receiving;
    crypto_generichash_state *rx_hash; /* hash of the value being received */
    uint32_t *done;  /* ring of completed ids for bs__rpc_poll */
    uint32_t done_head, done_tail;
    int deferred_rc;
    size_t deferred_count;
    char deferred_msg[BS_MESSAGE_MAX];
    int64_t last_progress; /* last whole frame received or output taken (the deadline) */
    uint64_t written;      /* output taken since last_progress */
};

/* Monotonic milliseconds. */
int64_t bs__rpc_now_ms(void);
/* The slot of an outstanding or completed call id, or NULL. */
slot *bs__rpc_slot_of(bs__rpc *c, uint32_t id);
/* Marks s answered (a discarded call's error is kept as deferred). */
void bs__rpc_complete(bs__rpc *c, slot *s);
/* Printable rendering of untrusted bytes (a banner, an ERR or LOG text):
 * control bytes and non-ASCII become '?', newlines " | ". */
void bs__rpc_printable(char *out, size_t cap, const uint8_t *p, size_t n);
/* The connection is unusable: every outstanding call ends with rc (the
 * thread's message says why). Returns rc, or the earlier failure's code. */
int bs__rpc_fail(bs__rpc *c, int rc);
/* bs__rpc_fail with BS_ERR_PROTOCOL and "borgstore-serve broke the
 * protocol: " + fmt (one %llu for v). */
int bs__rpc_proto_fail(bs__rpc *c, const char *fmt, unsigned long long v);

/* rpc_recv.c */
/* Handles the complete frames in c->in. 0, or the failure (the connection
 * is then broken, except a bad preamble: BS_ERR_PROTOCOL in PH_PREAMBLE,
 * which the caller reports after collecting the banner). */
int bs__rpc_process_input(bs__rpc *c);

#endif
