/* SFTP requests libssh 0.10 has no call for, written on the session's own
 * channel while no other request is in flight: posix-rename@openssh.com
 * (atomic replace) and pipelined SSH_FXP_WRITE (libssh 0.10 waits for the
 * answer to every write). libssh reads SFTP packets exactly by their length,
 * so between its calls the channel is at a packet boundary and ours fit in. */
#ifndef BS_BACKENDS_SFTP_RAW_H
#define BS_BACKENDS_SFTP_RAW_H

#include <stdbool.h>
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

/* Writes len bytes of data at offset at.. of the open file f in requests of
 * chunk bytes, with up to window of them unanswered. Every answer is read
 * before returning, also after a refusal. */
int bs__sftp_raw_write(sftp_file f, uint64_t at, const uint8_t *data, size_t len, size_t chunk,
                       unsigned window);

/* ---- the packet layer, for pipelining any request (sftp_batch.c) ---- */

/* SFTP v3 packet types and open flags used here. */
enum {
    BS_FXP_OPEN = 3,
    BS_FXP_CLOSE = 4,
    BS_FXP_READ = 5,
    BS_FXP_WRITE = 6,
    BS_FXP_FSTAT = 8,
    BS_FXP_REMOVE = 13,
    BS_FXP_STAT = 17,
    BS_FXP_EXTENDED = 200,
    BS_FXP_STATUS = 101,
    BS_FXP_HANDLE = 102,
    BS_FXP_DATA = 103,
    BS_FXP_ATTRS = 105,
};
enum { BS_FXF_READ = 1, BS_FXF_WRITE = 2, BS_FXF_CREAT = 8, BS_FXF_EXCL = 0x20 };

/* A request being built: the bytes after type and id. */
#define BS_SFTP_MSG_MAX 9216
typedef struct bs_sftp_msg {
    uint8_t buf[BS_SFTP_MSG_MAX];
    size_t len;
    bool over; /* something did not fit */
} bs_sftp_msg;

void bs__sftp_msg_u32(bs_sftp_msg *m, uint32_t v);
void bs__sftp_msg_u64(bs_sftp_msg *m, uint64_t v);
void bs__sftp_msg_str(bs_sftp_msg *m, const void *s, size_t len);

/* Sends one packet: type, id, m's bytes, then data[0..dlen) (may be NULL).
 * 0 or BS_SFTP_RAW_LOST. */
int bs__sftp_raw_send(ssh_channel ch, uint8_t type, uint32_t id, const bs_sftp_msg *m,
                      const void *data, size_t dlen);

/* One packet read back: its type, id, and the bytes after the id. */
typedef struct bs_sftp_packet {
    uint8_t type;
    uint32_t id;
    uint8_t *body; /* reused between reads; free() when done */
    size_t len, cap;
} bs_sftp_packet;

/* Reads the next packet (at most max bytes after the id) into pk.
 * 0 or BS_SFTP_RAW_LOST. */
int bs__sftp_raw_recv(ssh_channel ch, bs_sftp_packet *pk, size_t max);

/* Reading a body: each returns false when it runs past the end. */
bool bs__sftp_get_u32(const bs_sftp_packet *pk, size_t *pos, uint32_t *v);
bool bs__sftp_get_u64(const bs_sftp_packet *pk, size_t *pos, uint64_t *v);
bool bs__sftp_get_str(const bs_sftp_packet *pk, size_t *pos, const uint8_t **s, uint32_t *len);

#endif
