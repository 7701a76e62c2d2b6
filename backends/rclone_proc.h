/* The rclone remote-control daemon as a child process: started as
 * `rclone rcd --rc-serve` on a port of 127.0.0.1 the kernel picks, with the
 * credentials in its environment (not on its command line), ready when its
 * log says where it serves. It never outlives us (PR_SET_PDEATHSIG), and a
 * terminal's Ctrl-C does not reach it: it runs in its own process group.
 * SIGINT is also set to ignored before exec, but a Go program such as
 * rclone turns it back on when it watches for it; the process group is what
 * keeps Ctrl-C away. */
#ifndef BS_BACKENDS_RCLONE_PROC_H
#define BS_BACKENDS_RCLONE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define BS_RCLONE_RING 4096

typedef struct bs_rclone_proc {
    pid_t pid;                 /* 0: not running */
    int err_fd;                /* its stderr (non-blocking once ready), -1 when closed */
    int port;                  /* where it serves */
    int exit_status;           /* wait status once it was reaped, else -1 */
    char ring[BS_RCLONE_RING]; /* the end of its log */
    size_t ring_pos, ring_len;
    char tail[512];
} bs_rclone_proc;

/* Starts binary (a path, or a name looked up in PATH) as
 *   binary rcd --rc-serve --rc-addr 127.0.0.1:0 --use-server-modtime
 * with RCLONE_RC_USER/RCLONE_RC_PASS set to user/pass, and waits up to
 * timeout_ms for it to serve. Returns 0 with p filled, or
 *   BS_ERR_UNSUPPORTED  binary not found or not executable
 *   BS_ERR_IO           it exited or did not get ready in time (message
 *                       with its exit status and the end of its log)
 *   BS_ERR_NOMEM
 * On failure nothing is left running. */
int bs__rclone_start(bs_rclone_proc *p, const char *binary, const char *user, const char *pass,
                     int timeout_ms);

/* Moves what it logged meanwhile into the ring (never blocks). */
void bs__rclone_drain(bs_rclone_proc *p);

/* Whether it still runs (reaps it when it exited). */
bool bs__rclone_alive(bs_rclone_proc *p);

/* The last lines of its log, one line, control characters replaced.
 * Borrowed; valid until the next call on p. */
const char *bs__rclone_log_tail(bs_rclone_proc *p);

/* Stops it: SIGTERM, then SIGKILL after a bounded wait; reaps it. */
void bs__rclone_stop(bs_rclone_proc *p);

/* "exited with status N" / "killed by signal N" / "running", for messages. */
const char *bs__rclone_exit_text(const bs_rclone_proc *p, char *buf, size_t cap);

#endif
