/* A byte pipe to a borgstore-serve process: local pipes (serve://), an SSH
 * channel via libssh (ssh://), or a command such as BORGSTORE_RSH spawning
 * ssh (pipes again). The RPC client only sees this interface.
 *
 * All I/O is non-blocking: read/write move what they can now and return the
 * byte count (0 = nothing possible right now), or a negative BS_ERR_* code
 * (BS_ERR_CONNECTION on EOF/hang-up, with a message). wait blocks until
 * reading or writing may make progress, or the timeout passes. */
#ifndef BS_CLIENT_TRANSPORT_H
#define BS_CLIENT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct bs_transport bs_transport;

typedef struct bs_transport_ops {
    /* Writes up to len bytes; returns bytes written (>= 0) or < 0. */
    ssize_t (*write)(bs_transport *t, const void *data, size_t len);
    /* Reads up to cap bytes; returns bytes read (>= 0) or < 0 (EOF is
     * BS_ERR_CONNECTION). */
    ssize_t (*read)(bs_transport *t, void *buf, size_t cap);
    /* Waits until read (want_read) or write (want_write) can progress.
     * Returns 1 when ready, 0 on timeout, < 0 on error. timeout_ms < 0 waits
     * forever (avoid: every caller should have a deadline). */
    int (*wait)(bs_transport *t, bool want_read, bool want_write, int timeout_ms);
    /* Signals end of input to the server (closes our writing side). */
    void (*shutdown_write)(bs_transport *t);
    /* Last lines the server (or ssh) wrote to stderr, for error messages;
     * "" when none. Borrowed, valid until the next call on t. */
    const char *(*stderr_tail)(bs_transport *t);
    /* Closes everything and releases t (waits a bounded time for the child). */
    void (*close)(bs_transport *t);
} bs_transport_ops;

struct bs_transport {
    const bs_transport_ops *ops;
};

/* Spawns argv (argv[0] looked up in PATH) with pipes on stdin/stdout/stderr.
 * stderr is drained into a ring kept for stderr_tail. SIGINT is ignored in
 * the child, so Ctrl-C lets the client shut down cleanly. */
int bs__transport_spawn(bs_transport **out, char *const argv[]);

/* Opens an SSH session to the URL's host (user, port, ~/.ssh/config or
 * ssh_config_file, agent and default keys, known hosts) and executes command
 * on a channel. */
int bs__transport_ssh(bs_transport **out, const char *user, const char *host, int port,
                      const char *ssh_config_file, const char *command);

/* Where a server command runs: host NULL means here (spawned), else over
 * ssh as [user@]host[:port] (port 0: the default). */
typedef struct bs_remote_target {
    const char *user, *host;
    int port;
    const char *ssh_config;
} bs_remote_target;

/* Runs cmd (a NULL-terminated argv) here, or on to's host with libssh or,
 * when BORGSTORE_RSH is set, that command plus "-p PORT" (when to->port is
 * set), "[user@]host" and cmd shell-quoted as one word. */
int bs__transport_command(bs_transport **out, const bs_remote_target *to, char *const cmd[]);

#endif
