/* A TCP relay on 127.0.0.1 for tests that need a connection to die: a child
 * process forwards every accepted connection to a target port, and on
 * command cuts all of them (now, or after some more bytes), while still
 * accepting new ones. */
#ifndef BS_TEST_TCP_RELAY_H
#define BS_TEST_TCP_RELAY_H

#include <stdint.h>
#include <sys/types.h>

typedef struct bs_relay {
    pid_t pid;
    int port;   /* where the relay listens */
    int cmd_fd; /* commands to the relay */
    int ack_fd; /* one byte back per command */
} bs_relay;

/* Starts a relay to 127.0.0.1:target_port. Aborts the test on failure. */
void bs_relay_start(bs_relay *r, int target_port);

/* Cuts every open connection; returns once they are closed. */
void bs_relay_cut_now(bs_relay *r);

/* Cuts every open connection once `bytes` more bytes went through (both
 * directions counted). Returns when the relay has armed the cut. */
void bs_relay_cut_after(bs_relay *r, uint64_t bytes);

/* Number of connections accepted so far. */
unsigned bs_relay_accepted(bs_relay *r);

/* Stops the relay (its connections die with it). */
void bs_relay_stop(bs_relay *r);

#endif
