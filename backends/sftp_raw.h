/* SFTP requests libssh 0.10 has no call for, written on the session's own
 * channel while no other request is in flight: posix-rename@openssh.com
 * (atomic replace) and pipelined SSH_FXP_WRITE (libssh 0.10 waits for the
 * answer to every write). libssh reads SFTP packets exactly by their length,
 * so between its calls the channel is at a packet boundary and ours fit in. */
#ifndef BS_BACKENDS_SFTP_RAW_H
#define BS_BACKENDS_SFTP_RAW_H

#include <stddef.h>
#include <stdint.h>

#include <libssh/sftp.h>

/* Results: 0 when the server said SSH_FX_OK, a positive SFTP status code
 * (SSH_FX_*) when it refused, BS_SFTP_RAW_LOST when the channel failed or
 * the server answered something malformed (the connection must then be
 * dropped: the channel is no longer at a packet boundary). */
#define BS_SFTP_RAW_LOST (-1)

/* posix-rename@openssh.com: renames from to to, replacing to atomically.
 * Only when the server offers the extension. */
int bs__sftp_raw_posix_rename(sftp_session sftp, const char *from, const char *to);

/* Writes len bytes of data at offset 0.. of the open file f in requests of
 * chunk bytes, with up to window of them unanswered. Every answer is read
 * before returning, also after a refusal. */
int bs__sftp_raw_write(sftp_file f, const uint8_t *data, size_t len, size_t chunk,
                       unsigned window);

#endif
