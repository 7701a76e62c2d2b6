/* Test harness for borgstore-serve: starts the real executable on pipes
 * (optionally under a 512 MiB address-space limit) and speaks the protocol
 * to it frame by frame with the proto/ encoders, so tests can send both
 * well-formed and deliberately broken input. Every wait has a timeout. */
#ifndef BS_TEST_SERVER_HARNESS_H
#define BS_TEST_SERVER_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/frame.h"
#include "proto/msg.h"

typedef struct srv {
    pid_t pid;
    int to;   /* server stdin */
    int from; /* server stdout */
    int err;  /* server stderr */
    bs__inbuf in;
    uint32_t next_id;
    bs__hello hello; /* the server's hello answer */
    int status;      /* exit status once reaped, else -1 */
} srv;

/* Starts borgstore-serve with args (NULL-terminated, may be NULL) in cwd
 * (NULL: inherit). With limit_as, RLIMIT_AS is set to 512 MiB in the child
 * (skipped under AddressSanitizer, which needs a huge shadow mapping). */
void srv_start(srv *s, const char *const *args, const char *cwd, bool limit_as);

/* Raw bytes to the server; false when it closed its stdin. */
bool srv_send_raw(srv *s, const void *p, size_t n);
/* Our preamble plus a hello; checks the server's preamble and answer. */
void srv_handshake(srv *s);
/* Features srv_handshake announces (BS_FEAT_ALL unless a test changes it). */
extern unsigned srv_hello_features;
/* Sends a request (id assigned), its value inline when it fits. */
uint32_t srv_send(srv *s, bs__req *r);
/* Next frame within timeout_ms: 1 with *env (views valid until the next
 * call), 0 on EOF, -1 on timeout. */
int srv_recv(srv *s, bs__env *env, int timeout_ms);
/* Sends r and waits for its reply: 0 with *res decoded (views valid until
 * the next receive), or the error code of an ERR reply (message copied to
 * srv_last_error). Asserts the reply id matches. */
int srv_call(srv *s, bs__req *r, bs__result *res);
extern char srv_last_error[1024];
/* Waits for the reply to a request sent with srv_send (as srv_call). */
int srv_reply(srv *s, uint32_t id, uint32_t method, bs__result *res);
/* Convenience calls. */
int srv_open(srv *s, const char *method_path_create_open, const char *path);
int srv_simple(srv *s, uint32_t method, const char *name);
int srv_store(srv *s, const char *name, const void *data, size_t len);
/* Stores with the value in DATA frames of chunk bytes. */
int srv_store_chunked(srv *s, const char *name, const void *data, size_t len, size_t chunk);
/* The same with the given hash in the last DATA frame (a wrong one: INTEGRITY). */
int srv_store_chunked_hash(srv *s, const char *name, const void *data, size_t len, size_t chunk,
                           const uint8_t hash[BS_VALUE_HASH_LEN]);
/* Loads into a malloc'd buffer (collecting DATA frames, checking the hash). */
int srv_load(srv *s, const char *name, int64_t off, int64_t size, uint8_t **out, size_t *len);
/* Waits for the server to exit: its wait status, or -1 after timeout_ms
 * (then it is killed). */
int srv_wait(srv *s, int timeout_ms);
/* Closes stdin and reaps the server (killing it after 5 s). Returns its
 * exit code (or 128 + signal). */
int srv_stop(srv *s);
/* Reads what the server wrote to stderr so far (up to cap-1 bytes). */
size_t srv_stderr(srv *s, char *buf, size_t cap);

#endif
