/* Pipelined batches for sftp:// (the window and batch slots): the SFTP
 * requests of many operations in flight at once on the backend's channel,
 * written and read with sftp_raw.c while libssh has nothing in flight. Each
 * operation is a small state machine (open, read/write, close, rename, ...).
 * What needs more than the common path (a missing directory, a server
 * without posix-rename, a lost connection) runs afterwards through the
 * single-item slots, which create directories and reconnect. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/sftp_internal.h"
#include "backends/sftp_raw.h"
#include "common/buf.h"
#include "common/error.h"

#define WINDOW 64    /* operations in flight (advertised) */
#define MAX_REQS 512 /* requests in flight; a power of two */
#define READ_CHUNK 65536
#define LOAD_DEPTH 4 /* reads in flight per load */
/* Answers outstanding stay below libssh's receive window (1.28 MB) and
 * requests below sshd's (2 MiB), so neither side ever waits on the other
 * while we write. */
#define READ_BUDGET (1u << 20)
#define WRITE_BUDGET (1u << 20)
#define MAX_PACKET (READ_CHUNK + 4096)
#define ID_BASE 0xb6000000u

enum step {
    S_NEW,
    S_STAT,
    S_REMOVE,
    S_MOVE,
    S_OPEN,
    S_FSTAT,
    S_READ,
    S_WRITE,
    S_FSYNC,
    S_CLOSE,
    S_RENAME,
    S_UNLINK
};
enum kind { K_OTHER, K_READ, K_WRITE };

typedef struct bop {
    const bs_op *op;
    size_t index;
    enum step step;
    unsigned pending; /* its requests in flight */
    bool sent;        /* something went to the server */
    bool slow;        /* to run through the single-item slot afterwards */
    bool cut;         /* in flight when the connection was lost */
    bool done;
    bool waiting; /* queued for read or write budget */
    char path[BS_SFTP_PATH_BUF], tmp[BS_SFTP_PATH_BUF];
    uint8_t handle[256];
    uint32_t hlen;
    bool open;
    bs_buf data;               /* LOAD: data.data[0] is the byte at start */
    uint64_t start, next, end; /* LOAD: next offset to ask for; end wanted (or EOF) */
    bool big;                  /* LOAD: a full read came back: more reads at once */
    size_t woff;               /* STORE: bytes sent */
    int rc;
    char *msg;
    bs_item_info info;
} bop;

typedef struct req {
    bool used;
    uint32_t id;
    bop *o;
    enum kind kind;
    uint32_t len;
    uint64_t off; /* READ */
} req;

typedef struct batch {
    sftpfs *p;
    ssh_channel ch;
    bop *ops;
    size_t n, active;
    req reqs[MAX_REQS];
    uint32_t next_id;
    unsigned inflight;
    size_t read_out, write_out;
    bop **waitq; /* FIFO of operations waiting for budget */
    size_t wq_head, wq_len;
    bs_op_cb cb;
    void *ctx;
    bool stopped, lost;
    bs_sftp_packet pk;
    bs_sftp_msg m;
} batch;

/* ---- requests ------------------------------------------------------------- */

static void msg_reset(batch *B)
{
    B->m.len = 0;
    B->m.over = false;
}

/* Sends type with B->m (and data) for o. false when the connection failed. */
static bool send_req_at(batch *B, bop *o, uint8_t type, enum kind kind, uint32_t len,
                        uint64_t off, const void *data, size_t dlen)
{
    if (B->lost) return false;
    uint32_t id = B->next_id++;
    req *r = &B->reqs[id & (MAX_REQS - 1)];
    if (r->used || bs__sftp_raw_send(B->ch, type, id, &B->m, data, dlen)) {
        B->lost = true;
        return false;
    }
    *r = (req){.used = true, .id = id, .o = o, .kind = kind, .len = len, .off = off};
    B->inflight++;
    o->pending++;
    o->sent = true;
    if (kind == K_READ) B->read_out += len;
    if (kind == K_WRITE) B->write_out += len;
    return true;
}

static bool send_req(batch *B, bop *o, uint8_t type, enum kind kind, uint32_t len,
                     const void *data, size_t dlen)
{
    return send_req_at(B, o, type, kind, len, 0, data, dlen);
}

static bool send_path(batch *B, bop *o, uint8_t type, const char *path)
{
    msg_reset(B);
    bs__sftp_msg_str(&B->m, path, strlen(path));
    return send_req(B, o, type, K_OTHER, 0, NULL, 0);
}

static bool send_handle(batch *B, bop *o, uint8_t type)
{
    msg_reset(B);
    bs__sftp_msg_str(&B->m, o->handle, o->hlen);
    return send_req(B, o, type, K_OTHER, 0, NULL, 0);
}

static bool send_rename(batch *B, bop *o, const char *from, const char *to)
{
    static const char ext[] = "posix-rename@openssh.com";
    msg_reset(B);
    bs__sftp_msg_str(&B->m, ext, sizeof ext - 1);
    bs__sftp_msg_str(&B->m, from, strlen(from));
    bs__sftp_msg_str(&B->m, to, strlen(to));
    return send_req(B, o, BS_FXP_EXTENDED, K_OTHER, 0, NULL, 0);
}

static bool send_open(batch *B, bop *o, const char *path, uint32_t flags, bool with_mode)
{
    msg_reset(B);
    bs__sftp_msg_str(&B->m, path, strlen(path));
    bs__sftp_msg_u32(&B->m, flags);
    bs__sftp_msg_u32(&B->m, with_mode ? 0x4u : 0u); /* attrs: permissions */
    if (with_mode) bs__sftp_msg_u32(&B->m, 0600);
    return send_req(B, o, BS_FXP_OPEN, K_OTHER, 0, NULL, 0);
}

/* ---- finishing ---------------------------------------------------------------- */

/* Reports o (unless the batch was stopped) and frees what it held. */
static void finish(batch *B, bop *o)
{
    o->done = true;
    B->active--;
    if (!B->stopped) {
        bs_op_result res = {.rc = o->rc, .message = o->msg, .info = o->info};
        if (o->op->kind == BS_OP_LOAD && !o->rc) {
            res.data = bs__buf_steal(&o->data, &res.len);
            if (!res.data) {
                res.rc = bs__error_set(BS_ERR_NOMEM, "load %s", o->op->name);
                res.message = bs_error_message();
            }
        }
        if (B->cb(B->ctx, o->index, &res)) B->stopped = true;
        free(res.data);
    }
    bs__buf_free(&o->data);
    free(o->msg);
    o->msg = NULL;
}

/* Goes to the single-item slot after the pipeline (not reported now). */
static void go_slow(batch *B, bop *o)
{
    o->slow = true;
    o->done = true;
    B->active--;
    bs__buf_free(&o->data);
}

/* Keeps the message of the error just set as o's result. */
static void keep_error(bop *o, int rc)
{
    if (o->rc) return; /* the first error counts */
    o->rc = rc;
    o->msg = strdup(bs_error_message());
}

/* After an error: close the handle and remove the temp file, then report.
 * Waits until o's requests in flight are answered. */
static void wind_down(batch *B, bop *o)
{
    if (o->pending) return;
    if (o->open) {
        o->open = false;
        o->step = S_CLOSE;
        send_handle(B, o, BS_FXP_CLOSE);
        return;
    }
    if (o->op->kind == BS_OP_STORE && o->tmp[0]) {
        o->step = S_UNLINK;
        send_path(B, o, BS_FXP_REMOVE, o->tmp);
        o->tmp[0] = '\0';
        return;
    }
    finish(B, o);
}

static void fail_status(batch *B, bop *o, uint32_t st, const char *what)
{
    keep_error(o, bs__sftp_status_error(B->p, (int)st, what, o->op->name));
    wind_down(B, o);
}

/* ---- moving each kind of operation along ------------------------------------- */

static void enqueue(batch *B, bop *o)
{
    if (o->waiting) return;
    o->waiting = true;
    B->waitq[(B->wq_head + B->wq_len++) % B->n] = o;
}

/* Asks for len bytes at off of o's file if the budget allows; else queues
 * o. 1 when sent, 0 when queued, -1 when the connection failed. */
static int read_at(batch *B, bop *o, uint64_t off, uint32_t len)
{
    if (B->read_out + len > READ_BUDGET || B->inflight + 8 > MAX_REQS) {
        enqueue(B, o);
        return 0;
    }
    msg_reset(B);
    bs__sftp_msg_str(&B->m, o->handle, o->hlen);
    bs__sftp_msg_u64(&B->m, off);
    bs__sftp_msg_u32(&B->m, len);
    return send_req_at(B, o, BS_FXP_READ, K_READ, len, off, NULL, 0) ? 1 : -1;
}

/* Sends the next READs or WRITEs of o if the budget allows; else queues it.
 * true when it moved on (or has nothing more to send). */
static bool pump(batch *B, bop *o)
{
    if (o->rc || B->lost) return true;
    if (o->op->kind == BS_OP_LOAD) {
        /* one read until the value proves larger than a read */
        while (o->pending < (o->big ? LOAD_DEPTH : 1u) && o->next < o->end) {
            uint32_t len =
                o->end - o->next < READ_CHUNK ? (uint32_t)(o->end - o->next) : READ_CHUNK;
            int sent = read_at(B, o, o->next, len);
            if (sent <= 0) return sent < 0; /* queued: false; connection gone: true */
            o->next += len;
        }
        return true;
    }
    /* STORE */
    const uint8_t *data = o->op->data ? o->op->data : (const uint8_t *)"";
    size_t chunk = B->p->write_chunk;
    while (o->woff < o->op->len) {
        size_t len = o->op->len - o->woff < chunk ? o->op->len - o->woff : chunk;
        if (B->write_out + len > WRITE_BUDGET || B->inflight + 8 > MAX_REQS) {
            enqueue(B, o);
            return false;
        }
        msg_reset(B);
        bs__sftp_msg_str(&B->m, o->handle, o->hlen);
        bs__sftp_msg_u64(&B->m, o->woff);
        bs__sftp_msg_u32(&B->m, (uint32_t)len);
        if (!send_req(B, o, BS_FXP_WRITE, K_WRITE, (uint32_t)len, data + o->woff, len))
            return true;
        o->woff += len;
    }
    return true;
}

/* A store whose data all arrived: fsync (when asked), close, rename. */
static void store_written(batch *B, bop *o)
{
    if (B->p->fsync && B->p->has_fsync && o->step != S_FSYNC) {
        static const char ext[] = "fsync@openssh.com";
        o->step = S_FSYNC;
        msg_reset(B);
        bs__sftp_msg_str(&B->m, ext, sizeof ext - 1);
        bs__sftp_msg_str(&B->m, o->handle, o->hlen);
        send_req(B, o, BS_FXP_EXTENDED, K_OTHER, 0, NULL, 0);
        return;
    }
    o->step = S_CLOSE;
    o->open = false;
    send_handle(B, o, BS_FXP_CLOSE);
}

static void start_op(batch *B, bop *o)
{
    const bs_op *op = o->op;
    B->active++;
    int rc = bs__sftp_path(B->p, op->name, o->path);
    if (rc) {
        keep_error(o, rc);
        finish(B, o);
        return;
    }
    switch (op->kind) {
    case BS_OP_INFO:
        o->step = S_STAT;
        send_path(B, o, BS_FXP_STAT, o->path);
        break;
    case BS_OP_DELETE:
        o->step = S_REMOVE;
        send_path(B, o, BS_FXP_REMOVE, o->path);
        break;
    case BS_OP_MOVE: {
        char to[BS_SFTP_PATH_BUF];
        if (!B->p->posix_rename || bs__sftp_path(B->p, op->dst, to)) {
            go_slow(B, o);
            return;
        }
        o->step = S_MOVE;
        send_rename(B, o, o->path, to);
        break;
    }
    case BS_OP_LOAD:
        o->step = S_OPEN;
        send_open(B, o, o->path, BS_FXF_READ, false);
        break;
    case BS_OP_STORE:
        if (!B->p->posix_rename || bs__sftp_temp_path(B->p, op->name, o->tmp)) {
            o->tmp[0] = '\0';
            go_slow(B, o);
            return;
        }
        o->step = S_OPEN;
        send_open(B, o, o->tmp, BS_FXF_WRITE | BS_FXF_CREAT | BS_FXF_EXCL, true);
        break;
    }
}

/* ATTRS (after the request id) into info; *size gets the size. */
static bool parse_attrs(const bs_sftp_packet *pk, size_t pos, bs_item_info *info,
                        uint64_t *size)
{
    uint32_t flags, perms = 0, a, b;
    uint64_t sz = 0;
    if (!bs__sftp_get_u32(pk, &pos, &flags)) return false;
    if ((flags & 0x1) && !bs__sftp_get_u64(pk, &pos, &sz)) return false;
    if ((flags & 0x2) && (!bs__sftp_get_u32(pk, &pos, &a) || !bs__sftp_get_u32(pk, &pos, &b)))
        return false;
    if ((flags & 0x4) && !bs__sftp_get_u32(pk, &pos, &perms)) return false;
    if ((flags & 0x8) && (!bs__sftp_get_u32(pk, &pos, &a) || !bs__sftp_get_u32(pk, &pos, &b)))
        return false;
    if (info) {
        info->exists = true;
        info->directory = (perms & 0170000) == 0040000;
        info->size = info->directory ? 0 : sz;
        info->atime_ns = (flags & 0x8) ? (int64_t)a * 1000000000 : 0;
        info->mtime_ns = (flags & 0x8) ? (int64_t)b * 1000000000 : 0;
    }
    if (size) *size = sz;
    return true;
}

/* A STATUS answer's code (0 when the packet is something else). */
static uint32_t status_of(const bs_sftp_packet *pk)
{
    size_t pos = 0;
    uint32_t st = 0;
    if (pk->type == BS_FXP_STATUS && !bs__sftp_get_u32(pk, &pos, &st)) st = 4; /* failure */
    return st;
}

/* A DATA answer to the read r of o: placed at its offset (answers on one
 * handle come in order with OpenSSH, but nothing here relies on it). */
static void load_data(batch *B, bop *o, const req *r)
{
    size_t pos = 0;
    const uint8_t *d;
    uint32_t n;
    if (!bs__sftp_get_str(&B->pk, &pos, &d, &n) || n > r->len) {
        B->lost = true;
        return;
    }
    uint64_t at = r->off - o->start;
    if (n && at + n > o->data.len) {
        if (at + n > SIZE_MAX - 1 ||
            bs__buf_reserve(&o->data, (size_t)(at + n - o->data.len))) {
            keep_error(o, bs__error_set(BS_ERR_NOMEM, "load %s", o->op->name));
            return;
        }
        o->data.len = (size_t)(at + n);
    }
    if (n) memcpy(o->data.data + at, d, n);
    if (n == r->len) o->big = true;
    uint64_t have = r->off + n;
    if (n < r->len) {
        /* a short read of a regular file is its end, unless it may be a
         * server's cap: then the rest is asked for (and that tells) */
        if (n && bs__sftp_maybe_capped(n) && have < o->end) {
            read_at(B, o, have, r->len - n);
        } else if (have < o->end) {
            o->end = have;
        }
    }
}

static void on_load(batch *B, bop *o, const req *r)
{
    const bs_sftp_packet *pk = &B->pk;
    const bs_op *op = o->op;
    uint32_t st = status_of(pk);
    if (o->rc) { /* winding down after an error */
        if (o->step == S_CLOSE && !o->pending)
            finish(B, o);
        else
            wind_down(B, o);
        return;
    }
    switch (o->step) {
    case S_OPEN:
        if (pk->type != BS_FXP_HANDLE) {
            fail_status(B, o, st ? st : 4, "load");
            return;
        }
        {
            size_t pos = 0;
            const uint8_t *h;
            if (!bs__sftp_get_str(pk, &pos, &h, &o->hlen) || o->hlen > sizeof o->handle) {
                B->lost = true;
                return;
            }
            memcpy(o->handle, h, o->hlen);
            o->open = true;
        }
        if (op->offset < 0) {
            o->step = S_FSTAT;
            send_handle(B, o, BS_FXP_FSTAT);
            return;
        }
        o->start = o->next = (uint64_t)op->offset;
        o->end = op->size == BS_SIZE_ALL || (uint64_t)op->size > UINT64_MAX - o->next
                     ? UINT64_MAX
                     : o->next + (uint64_t)op->size;
        break;
    case S_FSTAT: {
        uint64_t fsize,
            back = (uint64_t) - (op->offset + 1) + 1; /* -offset, without overflow */
        if (pk->type != BS_FXP_ATTRS || !parse_attrs(pk, 0, NULL, &fsize)) {
            fail_status(B, o, st ? st : 4, "load");
            return;
        }
        if (back > fsize) {
            keep_error(o, bs__error_set(BS_ERR_READ_RANGE,
                                        "load %s: offset %lld is before the start (size %llu)",
                                        op->name, (long long)op->offset,
                                        (unsigned long long)fsize));
            wind_down(B, o);
            return;
        }
        o->start = o->next = fsize - back;
        o->end = op->size == BS_SIZE_ALL || (uint64_t)op->size > back
                     ? fsize
                     : o->next + (uint64_t)op->size;
        break;
    }
    case S_READ:
        if (pk->type == BS_FXP_DATA) {
            load_data(B, o, r);
        } else if (st == 1 /* EOF */) {
            if (r->off < o->end) o->end = r->off;
        } else {
            keep_error(o, bs__sftp_status_error(B->p, (int)(st ? st : 4), "load", op->name));
        }
        if (o->rc) {
            wind_down(B, o);
            return;
        }
        break;
    case S_CLOSE:
        finish(B, o); /* a failed close of a read handle changes nothing */
        return;
    default: wind_down(B, o); return;
    }
    o->step = S_READ;
    if (o->next > o->end) o->next = o->end;
    pump(B, o);
    if (o->pending || o->waiting) return;
    /* all answered: the value is [start, end) */
    if (o->end - o->start < o->data.len) o->data.len = (size_t)(o->end - o->start);
    o->step = S_CLOSE;
    o->open = false;
    send_handle(B, o, BS_FXP_CLOSE);
}

static void on_store(batch *B, bop *o)
{
    const bs_sftp_packet *pk = &B->pk;
    uint32_t st = status_of(pk);
    if (o->rc) { /* winding down after an error */
        wind_down(B, o);
        return;
    }
    switch (o->step) {
    case S_OPEN:
        if (pk->type != BS_FXP_HANDLE) {
            o->tmp[0] = '\0';
            if (st == 2 /* no such file: the directory */ || st == 4 /* failure */) {
                go_slow(B, o); /* creates it, picks another temp name */
                return;
            }
            fail_status(B, o, st ? st : 4, "store");
            return;
        }
        {
            size_t pos = 0;
            const uint8_t *h;
            if (!bs__sftp_get_str(pk, &pos, &h, &o->hlen) || o->hlen > sizeof o->handle) {
                B->lost = true;
                return;
            }
            memcpy(o->handle, h, o->hlen);
            o->open = true;
        }
        o->step = S_WRITE;
        if (!o->op->len) {
            store_written(B, o);
            return;
        }
        pump(B, o);
        return;
    case S_WRITE:
        if (st) {
            fail_status(B, o, st, "store");
            return;
        }
        if (o->pending) return;
        if (o->woff < o->op->len) {
            pump(B, o);
            return;
        }
        store_written(B, o);
        return;
    case S_FSYNC:
        if (st) {
            fail_status(B, o, st, "store");
            return;
        }
        store_written(B, o);
        return;
    case S_CLOSE:
        if (st) {
            fail_status(B, o, st, "store");
            return;
        }
        o->step = S_RENAME;
        send_rename(B, o, o->tmp, o->path);
        return;
    case S_RENAME:
        if (st) {
            fail_status(B, o, st, "store");
            return;
        }
        o->tmp[0] = '\0';
        finish(B, o);
        return;
    default: wind_down(B, o); return;
    }
}

static void on_packet(batch *B)
{
    const bs_sftp_packet *pk = &B->pk;
    req *r = &B->reqs[pk->id & (MAX_REQS - 1)];
    if (!r->used || r->id != pk->id) { /* an answer to nothing we asked */
        B->lost = true;
        return;
    }
    req q = *r;
    r->used = false;
    B->inflight--;
    bop *o = q.o;
    o->pending--;
    if (q.kind == K_READ) B->read_out -= q.len;
    if (q.kind == K_WRITE) B->write_out -= q.len;
    uint32_t st = status_of(pk);
    switch (o->op->kind) {
    case BS_OP_INFO:
        if (pk->type == BS_FXP_ATTRS) {
            if (!parse_attrs(pk, 0, &o->info, NULL)) B->lost = true;
        } else if (st != 2 /* no such file */) {
            keep_error(o, bs__sftp_status_error(B->p, (int)(st ? st : 4), "info", o->op->name));
        }
        if (!o->rc) {
            const char *slash = strrchr(o->op->name, '/');
            snprintf(o->info.name, sizeof o->info.name, "%s", slash ? slash + 1 : o->op->name);
        }
        finish(B, o);
        return;
    case BS_OP_DELETE:
        if (st == 4)
            keep_error(o, bs__error_set(BS_ERR_IO, "delete %s: not a file (a directory?)",
                                        o->op->name));
        else if (st)
            keep_error(o, bs__sftp_status_error(B->p, (int)st, "delete", o->op->name));
        finish(B, o);
        return;
    case BS_OP_MOVE:
        if (st == 2) { /* source missing, or the target's directory: look closer */
            go_slow(B, o);
            return;
        }
        if (st) keep_error(o, bs__sftp_status_error(B->p, (int)st, "move", o->op->name));
        finish(B, o);
        return;
    case BS_OP_LOAD: on_load(B, o, &q); return;
    case BS_OP_STORE: on_store(B, o); return;
    }
}

/* Lets queued operations use the budget freed meanwhile. */
static void drain_queue(batch *B)
{
    while (B->wq_len && !B->lost) {
        bop *o = B->waitq[B->wq_head];
        o->waiting = false;
        B->wq_head = (B->wq_head + 1) % B->n;
        B->wq_len--;
        if (o->done) continue;
        if (!pump(B, o)) return; /* still no room: it queued itself again */
    }
}

/* ---- the slots ------------------------------------------------------------------ */

size_t bs__sftp_window(bs_backend *b)
{
    (void)b;
    return WINDOW;
}

int bs__sftp_batch(bs_backend *b, const bs_op *ops, size_t n, size_t window, bs_op_cb cb,
                   void *ctx)
{
    sftpfs *p = (sftpfs *)b;
    if (!n) return 0;
    batch *B = calloc(1, sizeof *B);
    bop *os = calloc(n, sizeof *os);
    bop **wq = calloc(n, sizeof *wq);
    if (!B || !os || !wq) {
        free(B);
        free(os);
        free(wq);
        return bs__error_set(BS_ERR_NOMEM, "batch of %zu operations", n);
    }
    *B = (batch){
        .p = p, .ops = os, .n = n, .waitq = wq, .cb = cb, .ctx = ctx, .next_id = ID_BASE};
    for (size_t i = 0; i < n; i++)
        os[i] = (bop){.op = &ops[i], .index = i};
    if (window > WINDOW) window = WINDOW;

    size_t next = 0;
    if (bs__sftp_connect(p) == 0) {
        B->ch = p->sftp->channel;
        for (;;) {
            size_t before = next;
            while (!B->stopped && !B->lost && next < n && B->active < window &&
                   B->inflight + 8 < MAX_REQS)
                start_op(B, &os[next++]);
            /* nothing in flight: done, or (never expected) stuck, and then
             * what is left goes the slow way below */
            if (B->lost || (!B->inflight && (B->stopped || next >= n || next == before))) break;
            if (!B->inflight) continue;
            if (bs__sftp_raw_recv(B->ch, &B->pk, MAX_PACKET)) {
                B->lost = true;
                break;
            }
            on_packet(B);
            drain_queue(B);
        }
    } else {
        B->lost = true;
    }
    /* everything not reported goes the slow way (after a lost connection on
     * a new one: an operation cut off may have been done already) */
    if (B->lost) bs__sftp_lost(p, "batch", "(pipeline)");
    for (size_t i = 0; i < n; i++) {
        if (os[i].done && !os[i].slow) continue;
        os[i].cut = B->lost && os[i].sent && !os[i].slow;
        os[i].slow = true;
        bs__buf_free(&os[i].data);
        free(os[i].msg);
        os[i].msg = NULL;
    }
    int rc = 0;
    for (size_t i = 0; i < n && !rc && !B->stopped; i++)
        if (os[i].slow)
            rc = bs__backend_rerun_one(b, os[i].op, os[i].index, os[i].cut, cb, ctx,
                                       &B->stopped);
    if (!rc && B->stopped) rc = bs__error_set(BS_ERR_INVALID, "batch stopped by its callback");
    for (size_t i = 0; i < n; i++) {
        bs__buf_free(&os[i].data);
        free(os[i].msg);
    }
    free(B->pk.body);
    free(os);
    free(wq);
    free(B);
    return rc;
}
