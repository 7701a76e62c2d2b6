/* What backends/sftp.c shares with its pipelined batch (sftp_batch.c): the
 * backend's state and a few helpers. Not for use outside backends/sftp*. */
#ifndef BS_BACKENDS_SFTP_INTERNAL_H
#define BS_BACKENDS_SFTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include "backends/backend.h"

#define BS_SFTP_PATH_BUF 4200 /* base path + "/" + name + temp suffix */

typedef struct sftpfs {
    bs_backend base;
    char *user; /* NULL: from the ssh config / local user */
    char *host;
    int port;         /* 0: from the ssh config / 22 */
    char *ssh_config; /* NULL: default lookup */
    char *path;       /* base: "rel/path" or "/abs/path" (never in messages) */
    bool fsync;
    ssh_session session; /* NULL while not connected */
    sftp_session sftp;
    bool was_connected; /* a connection existed: losing it may be retried */
    bool broken;        /* the connection failed: reconnect before the next call */
    bool posix_rename;  /* posix-rename@openssh.com offered */
    bool has_fsync;     /* fsync@openssh.com offered */
    size_t write_chunk;
    unsigned write_window; /* requests in flight; 1: libssh's sftp_write */
    char label[300];       /* user@host:port for messages */
} sftpfs;

/* Connects (again) unless connected: 0 or the session's error. */
int bs__sftp_connect(sftpfs *p);

/* Marks the connection lost (replaced before the next call); returns
 * BS_ERR_CONNECTION with "sftp: what name: connection ... lost". */
int bs__sftp_lost(sftpfs *p, const char *what, const char *name);

/* An SFTP status code (SSH_FX_*) as our code, "what name: why". */
int bs__sftp_status_error(sftpfs *p, int st, const char *what, const char *name);

/* The server path of rel ("" gives the base). 0 or BS_ERR_INVALID. */
int bs__sftp_path(sftpfs *p, const char *rel, char out[BS_SFTP_PATH_BUF]);

/* A fresh "<dir>/<leaf>.<16 hex>.tmp" server path next to item name. */
int bs__sftp_temp_path(sftpfs *p, const char *name, char out[BS_SFTP_PATH_BUF]);

/* Whether a short read of n bytes could be a server's cap rather than EOF. */
bool bs__sftp_maybe_capped(uint32_t n);

/* The batch slots (sftp_batch.c). */
size_t bs__sftp_window(bs_backend *b);
int bs__sftp_batch(bs_backend *b, const bs_op *ops, size_t n, size_t window, bs_op_cb cb,
                   void *ctx);

#endif
