/* Hand-written SFTP requests on libssh's SFTP channel (see sftp_raw.h):
 * packets are built here, sent with ssh_channel_write, and their STATUS
 * answers read back with ssh_channel_read before libssh reads again. */
#include "backends/sftp_raw.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libssh/libssh.h>

#define FXP_WRITE 6
#define FXP_STATUS 101
#define FXP_EXTENDED 200
#define MAX_REPLY 65536        /* a STATUS answer is a few dozen bytes */
#define READ_TIMEOUT_MS 120000 /* one answer; the server may be fsyncing */
#define MAX_WINDOW 256
/* Our ids: libssh counts its own up from 1 and has none in flight while
 * ours are, so any fresh number works; these stay clear of its range. */
#define ID_BASE 0xb5000000u

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool send_all(ssh_channel ch, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        uint32_t n = len > (1u << 20) ? (1u << 20) : (uint32_t)len;
        int w = ssh_channel_write(ch, p, n);
        if (w <= 0) return false;
        p += w;
        len -= (size_t)w;
    }
    return true;
}

static bool read_exact(ssh_channel ch, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        int r =
            ssh_channel_read_timeout(ch, buf + got, (uint32_t)(len - got), 0, READ_TIMEOUT_MS);
        if (r <= 0) return false; /* error, EOF, or no answer in time */
        got += (size_t)r;
    }
    return true;
}

/* Reads one STATUS answer: its id and status code. */
static bool read_status(ssh_channel ch, uint32_t *id, uint32_t *status)
{
    uint8_t hdr[4];
    if (!read_exact(ch, hdr, sizeof hdr)) return false;
    uint32_t len = get32(hdr);
    if (len < 9 || len > MAX_REPLY) return false;
    uint8_t *buf = malloc(len);
    if (!buf) return false;
    bool ok = read_exact(ch, buf, len) && buf[0] == FXP_STATUS;
    if (ok) {
        *id = get32(buf + 1);
        *status = get32(buf + 5);
    }
    free(buf);
    return ok;
}

/* Appends an SSH string (length + bytes). */
static uint8_t *put_str(uint8_t *p, const void *s, size_t len)
{
    put32(p, (uint32_t)len);
    memcpy(p + 4, s, len);
    return p + 4 + len;
}

int bs__sftp_raw_posix_rename(sftp_session sftp, const char *from, const char *to)
{
    static const char ext[] = "posix-rename@openssh.com";
    size_t fl = strlen(from), tl = strlen(to), el = sizeof ext - 1;
    size_t len = 1 + 4 + (4 + el) + (4 + fl) + (4 + tl);
    uint8_t *pkt = malloc(4 + len);
    if (!pkt) return BS_SFTP_RAW_LOST;
    put32(pkt, (uint32_t)len);
    pkt[4] = FXP_EXTENDED;
    put32(pkt + 5, ID_BASE);
    uint8_t *p = put_str(pkt + 9, ext, el);
    p = put_str(p, from, fl);
    put_str(p, to, tl);
    bool sent = send_all(sftp->channel, pkt, 4 + len);
    free(pkt);
    uint32_t id, status;
    if (!sent || !read_status(sftp->channel, &id, &status) || id != ID_BASE)
        return BS_SFTP_RAW_LOST;
    return (int)status;
}

int bs__sftp_raw_write(sftp_file f, uint64_t at, const uint8_t *data, size_t len, size_t chunk,
                       unsigned window)
{
    ssh_channel ch = f->sftp->channel;
    size_t hlen = ssh_string_len(f->handle);
    const void *handle = ssh_string_data(f->handle);
    if (!chunk || chunk > (1u << 20) || hlen > 256) return BS_SFTP_RAW_LOST;
    if (window < 1) window = 1;
    if (window > MAX_WINDOW) window = MAX_WINDOW;
    uint8_t hdr[4 + 1 + 4 + 4 + 256 + 8 + 4];
    bool acked[MAX_WINDOW];
    uint32_t next_id = ID_BASE, oldest = ID_BASE; /* ids in flight: [oldest, next_id) */
    size_t sent = 0;
    int first_err = 0;
    while ((sent < len && !first_err) || oldest != next_id) {
        while (sent < len && !first_err && next_id - oldest < window) {
            size_t n = len - sent < chunk ? len - sent : chunk;
            uint32_t plen = (uint32_t)(1 + 4 + 4 + hlen + 8 + 4 + n);
            put32(hdr, plen);
            hdr[4] = FXP_WRITE;
            put32(hdr + 5, next_id);
            uint8_t *p = put_str(hdr + 9, handle, hlen);
            put32(p, (uint32_t)((at + sent) >> 32));
            put32(p + 4, (uint32_t)(at + sent));
            put32(p + 8, (uint32_t)n);
            if (!send_all(ch, hdr, (size_t)(p + 12 - hdr)) || !send_all(ch, data + sent, n))
                return BS_SFTP_RAW_LOST;
            acked[(next_id - ID_BASE) % MAX_WINDOW] = false;
            next_id++;
            sent += n;
        }
        if (oldest == next_id) break;
        uint32_t id, status;
        if (!read_status(ch, &id, &status)) return BS_SFTP_RAW_LOST;
        /* an answer must belong to a request in flight, and come only once */
        if (id - oldest >= next_id - oldest || acked[(id - ID_BASE) % MAX_WINDOW])
            return BS_SFTP_RAW_LOST;
        acked[(id - ID_BASE) % MAX_WINDOW] = true;
        while (oldest != next_id && acked[(oldest - ID_BASE) % MAX_WINDOW])
            oldest++;
        if (status && !first_err) first_err = (int)status;
    }
    return first_err;
}

/* ---- the packet layer -------------------------------------------------- */

static void msg_put(bs_sftp_msg *m, const void *p, size_t n)
{
    if (m->over || n > sizeof m->buf - m->len) {
        m->over = true;
        return;
    }
    memcpy(m->buf + m->len, p, n);
    m->len += n;
}

void bs__sftp_msg_u32(bs_sftp_msg *m, uint32_t v)
{
    uint8_t b[4];
    put32(b, v);
    msg_put(m, b, 4);
}

void bs__sftp_msg_u64(bs_sftp_msg *m, uint64_t v)
{
    bs__sftp_msg_u32(m, (uint32_t)(v >> 32));
    bs__sftp_msg_u32(m, (uint32_t)v);
}

void bs__sftp_msg_str(bs_sftp_msg *m, const void *s, size_t len)
{
    if (len > UINT32_MAX) {
        m->over = true;
        return;
    }
    bs__sftp_msg_u32(m, (uint32_t)len);
    msg_put(m, s, len);
}

int bs__sftp_raw_send(ssh_channel ch, uint8_t type, uint32_t id, const bs_sftp_msg *m,
                      const void *data, size_t dlen)
{
    if (m->over || dlen > (1u << 20)) return BS_SFTP_RAW_LOST;
    uint8_t hdr[9];
    put32(hdr, (uint32_t)(1 + 4 + m->len + dlen));
    hdr[4] = type;
    put32(hdr + 5, id);
    if (!send_all(ch, hdr, sizeof hdr) || !send_all(ch, m->buf, m->len))
        return BS_SFTP_RAW_LOST;
    if (dlen && !send_all(ch, data, dlen)) return BS_SFTP_RAW_LOST;
    return 0;
}

int bs__sftp_raw_recv(ssh_channel ch, bs_sftp_packet *pk, size_t max)
{
    uint8_t hdr[9];
    if (!read_exact(ch, hdr, sizeof hdr)) return BS_SFTP_RAW_LOST;
    uint32_t len = get32(hdr);
    if (len < 5 || len - 5 > max) return BS_SFTP_RAW_LOST;
    pk->type = hdr[4];
    pk->id = get32(hdr + 5);
    pk->len = len - 5;
    if (pk->len > pk->cap) {
        uint8_t *nb = realloc(pk->body, pk->len);
        if (!nb) return BS_SFTP_RAW_LOST;
        pk->body = nb;
        pk->cap = pk->len;
    }
    if (pk->len && !read_exact(ch, pk->body, pk->len)) return BS_SFTP_RAW_LOST;
    return 0;
}

bool bs__sftp_get_u32(const bs_sftp_packet *pk, size_t *pos, uint32_t *v)
{
    if (pk->len - *pos < 4 || *pos > pk->len) return false;
    *v = get32(pk->body + *pos);
    *pos += 4;
    return true;
}

bool bs__sftp_get_u64(const bs_sftp_packet *pk, size_t *pos, uint64_t *v)
{
    uint32_t hi, lo;
    if (!bs__sftp_get_u32(pk, pos, &hi) || !bs__sftp_get_u32(pk, pos, &lo)) return false;
    *v = (uint64_t)hi << 32 | lo;
    return true;
}

bool bs__sftp_get_str(const bs_sftp_packet *pk, size_t *pos, const uint8_t **s, uint32_t *len)
{
    if (!bs__sftp_get_u32(pk, pos, len) || pk->len - *pos < *len) return false;
    *s = pk->body + *pos;
    *pos += *len;
    return true;
}
