/* The SFTP backend (sftp://[user@]host[:port]/rel/path, //abs/path): the
 * posix backend's layout and semantics over libssh's SFTP client. The SSH
 * session (config, known hosts, keys, keepalive) comes from the shared
 * ssh_session module; loads are pipelined, stores go to a temp file that is
 * renamed into place, and a lost connection is re-established and retried. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include "backends/backend.h"
#include "backends/list_array.h"
#include "backends/sftp_internal.h"
#include "backends/sftp_raw.h"
#include "common/ssh_session.h"
#include "common/error.h"
#include "common/hashing.h"
#include "common/names.h"
#include "common/url.h"

#define TMP_ATTEMPTS 8
/* Reads: requests of READ_CHUNK bytes, up to READ_WINDOW of them in flight. */
#define READ_CHUNK (64 * 1024)
#define READ_WINDOW 32
/* Writes: libssh 0.10 waits for the answer to every sftp_write, so the
 * requests are written by hand (sftp_raw.c), several in flight. OpenSSH's
 * sftp-server takes messages up to 256 KiB (it advertises 261120-byte
 * writes via limits@openssh.com); the protocol only promises 32 KiB. About
 * 1 MiB stays in flight: more than the server's 2 MiB channel window made
 * writes stall in measurements, less loses throughput at a real round-trip
 * time (docs/backends.md). */
#define WRITE_CHUNK_SMALL (32 * 1024)
#define WRITE_CHUNK_LARGE (255 * 1024)
#define WRITE_IN_FLIGHT (1024 * 1024)
#define HASH_BLOCK ((size_t)READ_CHUNK * READ_WINDOW)
#define DESTROY_DEPTH 64
/* Reconnects after a lost connection: pauses of 0.5, 1 and 2 s. */
#define RECONNECT_TRIES 3
#define RECONNECT_PAUSE_MS 500

static sftpfs *S(bs_backend *b)
{
    return (sftpfs *)b;
}

/* ---- connection ----------------------------------------------------------- */

static void disconnect(sftpfs *p)
{
    if (p->sftp) sftp_free(p->sftp);
    p->sftp = NULL;
    bs__ssh_session_close(p->session);
    p->session = NULL;
}

static bool session_lost(sftpfs *p)
{
    return !p->session || !ssh_is_connected(p->session) ||
           (ssh_get_status(p->session) & (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0;
}

static size_t env_size(const char *name, size_t dflt, size_t lo, size_t hi)
{
    const char *v = getenv(name);
    if (!v || !*v) return dflt;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (*end || n < lo || n > hi) return dflt;
    return (size_t)n;
}

int bs__sftp_connect(sftpfs *p)
{
    if (p->session && p->sftp && !p->broken && !session_lost(p)) return 0;
    disconnect(p);
    p->broken = false;
    int rc = bs__ssh_session_open(&p->session, p->user, p->host, p->port, p->ssh_config);
    if (rc) return rc;
    bs__ssh_session_label(p->session, p->label, sizeof p->label);
    p->sftp = sftp_new(p->session);
    if (!p->sftp) {
        rc = bs__error_set(BS_ERR_CONNECTION, "sftp: cannot open an SFTP channel on %s: %s",
                           p->label, ssh_get_error(p->session));
    } else if (sftp_init(p->sftp) < 0) {
        rc = bs__error_set(BS_ERR_CONNECTION,
                           "sftp: %s refused the SFTP subsystem (is sftp enabled in its "
                           "sshd_config, and is the key free of a forced command?): %s",
                           p->label, ssh_get_error(p->session));
    }
    if (rc) {
        disconnect(p);
        return rc;
    }
    /* BORGSTORE_SFTP_POSIX_RENAME=0 stays with plain SFTP v3 rename (for a
     * server whose extension misbehaves; the tests use it for that path) */
    const char *pr = getenv("BORGSTORE_SFTP_POSIX_RENAME");
    p->posix_rename = sftp_extension_supported(p->sftp, "posix-rename@openssh.com", "1") &&
                      !(pr && strcmp(pr, "0") == 0);
    p->has_fsync = sftp_extension_supported(p->sftp, "fsync@openssh.com", "1");
    bool openssh_limits = sftp_extension_supported(p->sftp, "limits@openssh.com", "1");
    p->write_chunk = env_size("BORGSTORE_SFTP_WRITE_CHUNK",
                              openssh_limits ? WRITE_CHUNK_LARGE : WRITE_CHUNK_SMALL, 1024,
                              WRITE_CHUNK_LARGE);
    p->write_window =
        (unsigned)env_size("BORGSTORE_SFTP_WRITE_WINDOW",
                           (WRITE_IN_FLIGHT + p->write_chunk - 1) / p->write_chunk, 1, 256);
    p->was_connected = true;
    return 0;
}

/* Whether an operation that failed with rc should be tried again on a new
 * connection; pauses before the next try. *attempt counts the tries. */
static bool retry(sftpfs *p, int rc, int *attempt)
{
    if (rc != BS_ERR_CONNECTION || !p->was_connected || *attempt >= RECONNECT_TRIES)
        return false;
    disconnect(p);
    long ms = (long)RECONNECT_PAUSE_MS << *attempt;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
    (*attempt)++;
    return true;
}

/* Runs call_expr on a connection, and after a lost connection again on a
 * new one (retry()); the result lands in the caller's rc. */
#define WITH_CONNECTION(p, call_expr) RETRYING_(p, false, call_expr)
/* The same for a call that removes or renames its item: when a try after a
 * lost one finds the item gone, the lost try did it. */
#define WITH_CONNECTION_GONE_IS_DONE(p, call_expr) RETRYING_(p, true, call_expr)
#define RETRYING_(p, gone_is_done, call_expr)                                                  \
    do {                                                                                       \
        int attempt_ = 0;                                                                      \
        do {                                                                                   \
            rc = bs__sftp_connect(p);                                                          \
            if (!rc) rc = (call_expr);                                                         \
            if ((gone_is_done) && rc == BS_ERR_NOT_FOUND && attempt_ > 0) rc = 0;              \
        } while (retry(p, rc, &attempt_));                                                     \
    } while (0)

/* ---- errors --------------------------------------------------------------- */

/* The connection failed: it is replaced before the next call (open handles
 * stay valid to be closed until then). */
int bs__sftp_lost(sftpfs *p, const char *what, const char *name)
{
    p->broken = true;
    return bs__error_set(BS_ERR_CONNECTION, "sftp: %s %s: connection to %s lost%s%s", what,
                         name, p->label, p->session ? ": " : "",
                         p->session ? ssh_get_error(p->session) : "");
}

/* An SFTP status code from the server as a code, "what name: why". The one
 * switch from SFTP status to our codes. */
int bs__sftp_status_error(sftpfs *p, int st, const char *what, const char *name)
{
    switch (st) {
    case SSH_FX_NO_SUCH_FILE:
    case SSH_FX_NO_SUCH_PATH: return bs__error_set(BS_ERR_NOT_FOUND, "%s", name);
    case SSH_FX_PERMISSION_DENIED:
    case SSH_FX_WRITE_PROTECT:
        return bs__error_set(BS_ERR_PERMISSION, "sftp: %s %s", what, name);
    case SSH_FX_FILE_ALREADY_EXISTS:
        return bs__error_set(BS_ERR_IO, "sftp: %s %s: already exists", what, name);
    case SSH_FX_NO_CONNECTION:
    case SSH_FX_CONNECTION_LOST: return bs__sftp_lost(p, what, name);
    case SSH_FX_OP_UNSUPPORTED:
        return bs__error_set(BS_ERR_UNSUPPORTED, "sftp: %s %s: the server does not support it",
                             what, name);
    case SSH_FX_EOF:
        return bs__error_set(BS_ERR_IO, "sftp: %s %s: unexpected end of file", what, name);
    default:
        return bs__error_set(BS_ERR_IO, "sftp: %s %s: the server reports a failure (status %d)",
                             what, name, st);
    }
}

/* The failure of the last libssh call: a status from the server, or (when
 * there is none) a lost connection. */
static int fail(sftpfs *p, const char *what, const char *name)
{
    if (session_lost(p) || ssh_get_error_code(p->session) == SSH_FATAL)
        return bs__sftp_lost(p, what, name);
    return bs__sftp_status_error(p, sftp_get_error(p->sftp), what, name);
}

static bool status_is(sftpfs *p, int st)
{
    return !p->broken && !session_lost(p) && ssh_get_error_code(p->session) != SSH_FATAL &&
           sftp_get_error(p->sftp) == st;
}

/* ---- paths ---------------------------------------------------------------- */

/* base + "/" + rel (rel "" gives the base). */
int bs__sftp_path(sftpfs *p, const char *rel, char out[BS_SFTP_PATH_BUF])
{
    int n = *rel ? snprintf(out, BS_SFTP_PATH_BUF, "%s%s%s", p->path,
                            p->path[strlen(p->path) - 1] == '/' ? "" : "/", rel)
                 : snprintf(out, BS_SFTP_PATH_BUF, "%s", p->path);
    if (n < 0 || n >= BS_SFTP_PATH_BUF)
        return bs__error_set(BS_ERR_INVALID, "path too long: %s", rel);
    return 0;
}

/* Splits name into parent ("" for the root) and returns the last part. */
static const char *split(const char *name, char parent[BS_NAME_BUF])
{
    const char *slash = strrchr(name, '/');
    if (!slash) {
        parent[0] = '\0';
        return name;
    }
    memcpy(parent, name, (size_t)(slash - name));
    parent[slash - name] = '\0';
    return slash + 1;
}

/* ---- directories ---------------------------------------------------------- */

/* mkdir -p of the absolute-or-relative server path full (a copy is edited).
 * label names it in messages. */
static int mkdirs(sftpfs *p, char *full, const char *label, int depth)
{
    if (sftp_mkdir(p->sftp, full, 0777) == 0) return 0;
    if (status_is(p, SSH_FX_NO_SUCH_FILE) && depth < 64) {
        char *slash = strrchr(full, '/');
        if (slash && slash != full) {
            *slash = '\0';
            int rc = mkdirs(p, full, label, depth + 1);
            *slash = '/';
            if (rc) return rc;
            if (sftp_mkdir(p->sftp, full, 0777) == 0) return 0;
        }
    }
    if (session_lost(p) || ssh_get_error_code(p->session) == SSH_FATAL)
        return fail(p, "mkdir", label);
    /* OpenSSH answers a plain failure when it exists: is it a directory? */
    sftp_attributes a = sftp_stat(p->sftp, full);
    if (!a) return fail(p, "mkdir", label);
    bool dir = a->type == SSH_FILEXFER_TYPE_DIRECTORY;
    sftp_attributes_free(a);
    if (!dir) return bs__error_set(BS_ERR_IO, "mkdir %s: exists and is not a directory", label);
    return 0;
}

static int mkdir_rel(sftpfs *p, const char *rel, const char *label)
{
    char full[BS_SFTP_PATH_BUF];
    int rc = bs__sftp_path(p, rel, full);
    return rc ? rc : mkdirs(p, full, label, 0);
}

/* One directory's entries (without "." and ".."), read completely. */
typedef struct dir_entry {
    char *name;
    uint8_t type;
    uint64_t size;
    int64_t atime_ns, mtime_ns;
} dir_entry;

static void entries_free(dir_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(e[i].name);
    free(e);
}

/* Reads the directory full. NOT_FOUND (named label) when missing. */
static int read_dir(sftpfs *p, const char *full, const char *label, dir_entry **out,
                    size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    sftp_dir d = sftp_opendir(p->sftp, full);
    if (!d) return fail(p, "list", label);
    dir_entry *e = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    sftp_attributes a;
    while ((a = sftp_readdir(p->sftp, d))) {
        if (a->name && strcmp(a->name, ".") && strcmp(a->name, "..")) {
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                dir_entry *ne = realloc(e, ncap * sizeof *ne);
                if (!ne) {
                    sftp_attributes_free(a);
                    rc = bs__error_set(BS_ERR_NOMEM, "list %s", label);
                    break;
                }
                e = ne;
                cap = ncap;
            }
            e[n].name = strdup(a->name);
            e[n].type = a->type;
            e[n].size = a->size;
            bool times = a->flags & SSH_FILEXFER_ATTR_ACMODTIME;
            e[n].atime_ns = times ? (int64_t)a->atime * 1000000000 : 0;
            e[n].mtime_ns = times ? (int64_t)a->mtime * 1000000000 : 0;
            if (!e[n].name) {
                sftp_attributes_free(a);
                rc = bs__error_set(BS_ERR_NOMEM, "list %s", label);
                break;
            }
            n++;
        }
        sftp_attributes_free(a);
    }
    if (!rc && !sftp_dir_eof(d)) rc = fail(p, "list", label);
    sftp_closedir(d);
    if (rc) {
        entries_free(e, n);
        return rc;
    }
    *out = e;
    *n_out = n;
    return 0;
}

/* ---- create / destroy / open / close -------------------------------------- */

static int do_create(sftpfs *p)
{
    char full[BS_SFTP_PATH_BUF];
    int rc = bs__sftp_path(p, "", full);
    if (!rc) rc = mkdirs(p, full, "(storage base path)", 0);
    if (rc == BS_ERR_IO)
        return bs__error_set(BS_ERR_ALREADY_EXISTS,
                             "storage base path exists and is not a directory");
    if (rc) return rc;
    dir_entry *e;
    size_t n;
    if ((rc = read_dir(p, full, "(storage base path)", &e, &n))) return rc;
    entries_free(e, n);
    if (n) return bs__error_set(BS_ERR_ALREADY_EXISTS, "storage base path is not empty");
    return 0;
}

static int sftpfs_create(bs_backend *b)
{
    sftpfs *p = S(b);
    int rc;
    WITH_CONNECTION(p, do_create(p));
    return rc;
}

/* Removes everything below full (then full itself unless keep). */
static int remove_tree(sftpfs *p, char *full, size_t len, int depth, bool keep)
{
    if (depth > DESTROY_DEPTH)
        return bs__error_set(BS_ERR_IO, "destroy: directories nested too deeply");
    dir_entry *e;
    size_t n;
    int rc = read_dir(p, full, "(storage)", &e, &n);
    if (rc == BS_ERR_NOT_FOUND) return 0;
    for (size_t i = 0; !rc && i < n; i++) {
        size_t nl = strlen(e[i].name);
        if (len + 1 + nl >= BS_SFTP_PATH_BUF) {
            rc = bs__error_set(BS_ERR_IO, "destroy: path too long");
            break;
        }
        full[len] = '/';
        memcpy(full + len + 1, e[i].name, nl + 1);
        if (e[i].type == SSH_FILEXFER_TYPE_DIRECTORY)
            rc = remove_tree(p, full, len + 1 + nl, depth + 1, false);
        else if (sftp_unlink(p->sftp, full) < 0 && !status_is(p, SSH_FX_NO_SUCH_FILE))
            rc = fail(p, "destroy: removing", e[i].name);
        full[len] = '\0';
    }
    entries_free(e, n);
    if (!rc && !keep && sftp_rmdir(p->sftp, full) < 0 && !status_is(p, SSH_FX_NO_SUCH_FILE))
        rc = fail(p, "destroy: removing a directory", "");
    return rc;
}

static int do_destroy(sftpfs *p)
{
    char full[BS_SFTP_PATH_BUF];
    int rc = bs__sftp_path(p, "", full);
    if (rc) return rc;
    sftp_attributes a = sftp_stat(p->sftp, full);
    if (!a) {
        if (status_is(p, SSH_FX_NO_SUCH_FILE))
            return bs__error_set(BS_ERR_DOES_NOT_EXIST, "storage base path does not exist");
        return fail(p, "destroy", "(storage base path)");
    }
    bool dir = a->type == SSH_FILEXFER_TYPE_DIRECTORY;
    sftp_attributes_free(a);
    if (!dir)
        return bs__error_set(BS_ERR_DOES_NOT_EXIST, "storage base path is not a directory");
    size_t len = strlen(full);
    while (len > 1 && full[len - 1] == '/')
        full[--len] = '\0';
    if ((rc = remove_tree(p, full, len, 0, true))) return rc;
    /* like posix: the base itself may stay when it cannot be removed */
    if (sftp_rmdir(p->sftp, full) < 0 && session_lost(p)) return fail(p, "destroy", "");
    return 0;
}

static int sftpfs_destroy(bs_backend *b)
{
    sftpfs *p = S(b);
    int rc;
    WITH_CONNECTION(p, do_destroy(p));
    return rc;
}

static int do_open(sftpfs *p)
{
    char full[BS_SFTP_PATH_BUF];
    int rc = bs__sftp_path(p, "", full);
    if (rc) return rc;
    sftp_attributes a = sftp_stat(p->sftp, full);
    if (!a) {
        if (status_is(p, SSH_FX_NO_SUCH_FILE))
            return bs__error_set(BS_ERR_DOES_NOT_EXIST,
                                 "storage base path does not exist or is not a directory");
        return fail(p, "open", "(storage base path)");
    }
    bool dir = a->type == SSH_FILEXFER_TYPE_DIRECTORY;
    sftp_attributes_free(a);
    if (!dir)
        return bs__error_set(BS_ERR_DOES_NOT_EXIST,
                             "storage base path does not exist or is not a directory");
    return 0;
}

static int sftpfs_open(bs_backend *b)
{
    sftpfs *p = S(b);
    int rc;
    WITH_CONNECTION(p, do_open(p));
    if (rc) disconnect(p);
    return rc;
}

static int sftpfs_close(bs_backend *b)
{
    sftpfs *p = S(b);
    disconnect(p);
    p->was_connected = false;
    return 0;
}

/* ---- mkdir / rmdir / info ------------------------------------------------- */

static int sftpfs_mkdir(bs_backend *b, const char *name)
{
    sftpfs *p = S(b);
    int rc;
    WITH_CONNECTION(p, mkdir_rel(p, name, name));
    return rc;
}

static int do_rmdir(sftpfs *p, const char *name)
{
    char full[BS_SFTP_PATH_BUF];
    int rc = bs__sftp_path(p, name, full);
    if (rc) return rc;
    if (sftp_rmdir(p->sftp, full) == 0) return 0;
    if (status_is(p, SSH_FX_FAILURE)) {
        /* OpenSSH reports ENOTEMPTY and ENOTDIR as a plain failure */
        sftp_attributes a = sftp_lstat(p->sftp, full);
        if (!a) return fail(p, "rmdir", name);
        bool dir = a->type == SSH_FILEXFER_TYPE_DIRECTORY;
        sftp_attributes_free(a);
        return bs__error_set(BS_ERR_IO, "rmdir %s: %s", name,
                             dir ? "directory not empty" : "not a directory");
    }
    return fail(p, "rmdir", name);
}

static int sftpfs_rmdir(bs_backend *b, const char *name)
{
    sftpfs *p = S(b);
    int rc;
    WITH_CONNECTION_GONE_IS_DONE(p, do_rmdir(p, name));
    return rc;
}

static int do_info(sftpfs *p, const char *name, bs_item_info *out)
{
    char full[BS_SFTP_PATH_BUF];
    int rc = bs__sftp_path(p, name, full);
    if (rc) return rc;
    out->exists = false;
    sftp_attributes a = sftp_stat(p->sftp, full);
    if (!a) {
        if (status_is(p, SSH_FX_NO_SUCH_FILE)) return 0;
        return fail(p, "info", name);
    }
    out->exists = true;
    out->directory = a->type == SSH_FILEXFER_TYPE_DIRECTORY;
    out->size = out->directory ? 0 : a->size;
    bool times = a->flags & SSH_FILEXFER_ATTR_ACMODTIME;
    out->atime_ns = times ? (int64_t)a->atime * 1000000000 : 0;
    out->mtime_ns = times ? (int64_t)a->mtime * 1000000000 : 0;
    sftp_attributes_free(a);
    return 0;
}

static int sftpfs_info(bs_backend *b, const char *name, bs_item_info *out)
{
    sftpfs *p = S(b);
    int rc;
    WITH_CONNECTION(p, do_info(p, name, out));
    return rc;
}

/* ---- pipelined reads ------------------------------------------------------ */

/* libssh 0.10 (as patched by Debian against CVE-2026-59848) drops replies
 * whose id the call that reads them does not expect: while async reads are
 * in flight no other SFTP call may be made, or its reply loop discards
 * theirs. So a size (fstat) is always asked for before or after a batch of
 * reads, never in the middle. */

typedef struct read_req {
    uint32_t id;
    uint64_t off;
    uint32_t len;
} read_req;

/* Reads [next, end) of one open file into buf (buf[0] is the byte at
 * base), with up to READ_WINDOW requests in flight, taking the replies in
 * the order sent. A short reply has its remainder asked for again; an EOF
 * reply marks where the file ends. */
typedef struct reader {
    sftpfs *p;
    sftp_file f;
    const char *name;
    read_req q[READ_WINDOW + 1];
    size_t head, n;
    uint64_t next, end, base, eof;
    uint8_t *buf;
    bool short_is_eof; /* a short reply ends the file (see maybe_capped) */
} reader;

static int reader_send(reader *r, uint64_t off, uint32_t len)
{
    if (sftp_seek64(r->f, off) < 0) return fail(r->p, "load", r->name);
    int id = sftp_async_read_begin(r->f, len);
    if (id < 0) return fail(r->p, "load", r->name);
    read_req *q = &r->q[(r->head + r->n) % (READ_WINDOW + 1)];
    q->id = (uint32_t)id;
    q->off = off;
    q->len = len;
    r->n++;
    return 0;
}

/* Keeps the window full. */
static int reader_fill(reader *r)
{
    while (r->n < READ_WINDOW && r->next < r->end && r->next < r->eof) {
        uint64_t left = r->end - r->next;
        uint32_t len = left < READ_CHUNK ? (uint32_t)left : READ_CHUNK;
        int rc = reader_send(r, r->next, len);
        if (rc) return rc;
        r->next += len;
    }
    return 0;
}

/* Takes the oldest reply into buf; *got is its length. */
static int reader_take(reader *r, uint32_t *got_out)
{
    read_req q = r->q[r->head];
    r->head = (r->head + 1) % (READ_WINDOW + 1);
    r->n--;
    int got = sftp_async_read(r->f, r->buf + (q.off - r->base), q.len, q.id);
    if (got < 0) return fail(r->p, "load", r->name);
    if (got_out) *got_out = (uint32_t)got;
    if (got == 0) {
        if (q.off < r->eof) r->eof = q.off;
        return 0;
    }
    uint64_t have = q.off + (uint64_t)got, need = q.off + q.len;
    if (r->short_is_eof && have < need) {
        if (have < r->eof) r->eof = have;
        return 0;
    }
    /* a server may answer less than asked: ask for the rest that is needed */
    if (need > r->end) need = r->end;
    if (need > r->eof) need = r->eof;
    if (have < need) return reader_send(r, have, (uint32_t)(need - have));
    return 0;
}

/* Takes every reply still in flight and drops it (after an error). */
static void reader_abort(reader *r)
{
    static uint8_t sink[READ_CHUNK];
    while (r->n && !r->p->broken && !session_lost(r->p)) {
        read_req q = r->q[r->head];
        r->head = (r->head + 1) % (READ_WINDOW + 1);
        r->n--;
        if (sftp_async_read(r->f, sink, q.len, q.id) < 0) break;
    }
    r->n = 0;
}

/* Reads until everything in [next, end) arrived or EOF. */
static int reader_run(reader *r)
{
    int rc = 0;
    while (!rc && (r->n || (r->next < r->end && r->next < r->eof))) {
        rc = reader_fill(r);
        if (!rc && r->n) rc = reader_take(r, NULL);
    }
    if (rc) reader_abort(r);
    return rc;
}

static sftp_file open_read(sftpfs *p, const char *name, const char *what, int *rc)
{
    char full[BS_SFTP_PATH_BUF];
    *rc = bs__sftp_path(p, name, full);
    if (*rc) return NULL;
    sftp_file f = sftp_open(p->sftp, full, O_RDONLY, 0);
    if (!f) *rc = fail(p, what, name);
    return f;
}

/* Closes f; a dead connection fails fast, and the handle is freed anyway. */
static void close_file(sftp_file f)
{
    if (f) sftp_close(f);
}

/* Size of the open file name (fstat); a directory is an error. */
static int file_size(sftpfs *p, sftp_file f, const char *name, uint64_t *size)
{
    sftp_attributes a = sftp_fstat(f);
    if (!a) return fail(p, "load", name);
    bool dir = a->type == SSH_FILEXFER_TYPE_DIRECTORY;
    *size = a->size;
    sftp_attributes_free(a);
    if (dir) return bs__error_set(BS_ERR_IO, "load %s: is a directory", name);
    return 0;
}

/* Whether a short first reply of n bytes may be a server's cap on reads
 * rather than the end of the file. SFTP v3 promises full reads of regular
 * files up to EOF, and every OpenSSH serves READ_CHUNK bytes at once; a
 * round length is checked with fstat all the same. */
bool bs__sftp_maybe_capped(uint32_t n)
{
    return n >= 1024 && n % 1024 == 0;
}

static int do_load(sftpfs *p, const char *name, int64_t offset, int64_t size, uint8_t **out,
                   size_t *out_len)
{
    int rc;
    sftp_file f = open_read(p, name, "load", &rc);
    if (!f) return rc;
    reader r = {.p = p, .f = f, .name = name, .eof = UINT64_MAX};
    uint64_t start = 0, fsize = 0, want;
    bool sized = false;
    if (offset < 0) {
        if ((rc = file_size(p, f, name, &fsize))) goto out;
        sized = true;
        if ((uint64_t)-offset > fsize) {
            rc = bs__error_set(BS_ERR_READ_RANGE,
                               "load %s: offset %lld is before the start (size %llu)", name,
                               (long long)offset, (unsigned long long)fsize);
            goto out;
        }
        start = fsize - (uint64_t)-offset;
        want = fsize - start;
        if (size != BS_SIZE_ALL && (uint64_t)size < want) want = (uint64_t)size;
    } else {
        /* First one read without knowing the size: a small value needs no
         * fstat (open, read, close), a larger one learns its size next. */
        start = (uint64_t)offset;
        want = size == BS_SIZE_ALL || size > READ_CHUNK ? READ_CHUNK : (uint64_t)size;
    }
    if (want > SIZE_MAX - 1) {
        rc = bs__error_set(BS_ERR_NOMEM, "load %s: too large", name);
        goto out;
    }
    if (!(r.buf = malloc(want ? (size_t)want : 1))) {
        rc = bs__error_set(BS_ERR_NOMEM, "load %s: %llu bytes", name, (unsigned long long)want);
        goto out;
    }
    r.base = r.next = start;
    r.end = start + want;
    if (!sized && want) {
        uint32_t got = 0;
        r.short_is_eof = true;
        if (!(rc = reader_fill(&r))) rc = reader_take(&r, &got);
        if (rc) goto out;
        r.short_is_eof = false;
        bool more = got == want && (size == BS_SIZE_ALL || (uint64_t)size > want);
        if (!more && !(got > 0 && got < want && bs__sftp_maybe_capped(got))) {
            r.end = r.eof < r.end ? r.eof : r.end;
            goto done;
        }
        /* larger than one read (or a capped one): learn the size, read on */
        if ((rc = file_size(p, f, name, &fsize))) goto out;
        uint64_t have = r.eof < r.end ? r.eof : r.end;
        uint64_t end = fsize;
        if (size != BS_SIZE_ALL && start + (uint64_t)size < end) end = start + (uint64_t)size;
        if (end < have) end = have;
        if (end - start > SIZE_MAX - 1) {
            rc = bs__error_set(BS_ERR_NOMEM, "load %s: too large", name);
            goto out;
        }
        uint8_t *nb = realloc(r.buf, end > start ? (size_t)(end - start) : 1);
        if (!nb) {
            rc = bs__error_set(BS_ERR_NOMEM, "load %s: %llu bytes", name,
                               (unsigned long long)(end - start));
            goto out;
        }
        r.buf = nb;
        r.next = have;
        r.end = end;
        r.eof = UINT64_MAX;
    }
    if ((rc = reader_run(&r))) goto out;
    if (r.eof < r.end) r.end = r.eof < start ? start : r.eof; /* it shrank meanwhile */
done:
    *out = r.buf;
    *out_len = (size_t)(r.end - start);
    r.buf = NULL;
out:
    free(r.buf);
    close_file(f);
    return rc;
}

static int sftpfs_load(bs_backend *b, const char *name, int64_t offset, int64_t size,
                       uint8_t **out, size_t *out_len)
{
    sftpfs *p = S(b);
    int rc;
    WITH_CONNECTION(p, do_load(p, name, offset, size, out, out_len));
    return rc;
}

/* Streams the value through the hash, HASH_BLOCK bytes at a time. */
static int do_hash(sftpfs *p, const char *name, bs_hash_alg alg, char hex[BS_HASH_HEX_SIZE])
{
    bs_hash_ctx ctx;
    int rc = bs__hash_check(alg);
    if (rc) return rc;
    sftp_file f = open_read(p, name, "hash", &rc);
    if (!f) return rc;
    uint64_t fsize;
    if ((rc = file_size(p, f, name, &fsize))) {
        close_file(f);
        return rc;
    }
    uint8_t *buf = malloc(fsize < HASH_BLOCK ? (fsize ? (size_t)fsize : 1) : HASH_BLOCK);
    if (!buf) {
        close_file(f);
        return bs__error_set(BS_ERR_NOMEM, "hash %s", name);
    }
    if ((rc = bs__hash_init(&ctx, alg))) {
        free(buf);
        close_file(f);
        return rc;
    }
    for (uint64_t off = 0; off < fsize;) {
        uint64_t len = fsize - off < HASH_BLOCK ? fsize - off : HASH_BLOCK;
        reader r = {.p = p,
                    .f = f,
                    .name = name,
                    .eof = UINT64_MAX,
                    .buf = buf,
                    .base = off,
                    .next = off,
                    .end = off + len};
        if ((rc = reader_run(&r))) break;
        if (r.eof < r.end) {
            rc = bs__error_set(BS_ERR_IO, "hash %s: it shrank while being read", name);
            break;
        }
        bs__hash_update(&ctx, buf, (size_t)len);
        off += len;
    }
    free(buf);
    close_file(f);
    if (rc) {
        bs__hash_abort(&ctx);
        return rc;
    }
    uint8_t digest[BS_HASH_MAX_BYTES];
    bs__hex(hex, digest, bs__hash_final(&ctx, digest));
    return 0;
}

static int sftpfs_hash(bs_backend *b, const char *name, bs_hash_alg alg,
                       char hex[BS_HASH_HEX_SIZE])
{
    sftpfs *p = S(b);
    int rc;
    WITH_CONNECTION(p, do_hash(p, name, alg, hex));
    return rc;
}

/* ---- store / delete / move ------------------------------------------------- */

/* Renames from to to, replacing to. With posix-rename@openssh.com the
 * server does it atomically; plain SFTP v3 rename refuses an existing
 * target, so without the extension the target is removed first. Returns 0
 * or a negative code (messages name name). */
static int rename_over(sftpfs *p, const char *from, const char *to, const char *what,
                       const char *name)
{
    if (p->posix_rename) {
        int st = bs__sftp_raw_posix_rename(p->sftp, from, to);
        if (st == BS_SFTP_RAW_LOST) return bs__sftp_lost(p, what, name);
        return st ? bs__sftp_status_error(p, st, what, name) : 0;
    }
    if (sftp_rename(p->sftp, from, to) == 0) return 0;
    if (!status_is(p, SSH_FX_FAILURE)) return fail(p, what, name);
    if (sftp_unlink(p->sftp, to) < 0 && !status_is(p, SSH_FX_NO_SUCH_FILE))
        return fail(p, what, name);
    return sftp_rename(p->sftp, from, to) == 0 ? 0 : fail(p, what, name);
}

/* Writes len bytes at offset at (the file's position: writes go in order). */
static int write_all(sftpfs *p, sftp_file f, uint64_t at, const uint8_t *data, size_t len,
                     const char *name)
{
    if (p->write_window > 1) {
        int st = bs__sftp_raw_write(f, at, data, len, p->write_chunk, p->write_window);
        if (st == BS_SFTP_RAW_LOST) return bs__sftp_lost(p, "store", name);
        return st ? bs__sftp_status_error(p, st, "store", name) : 0;
    }
    while (len) {
        size_t n = len < p->write_chunk ? len : p->write_chunk;
        ssize_t w = sftp_write(f, data, n);
        if (w < 0) return fail(p, "store", name);
        if ((size_t)w != n) return bs__error_set(BS_ERR_IO, "store %s: short write", name);
        data += n;
        len -= n;
    }
    return 0;
}

/* A fresh temp path "<dir>/<leaf>.<16 hex>.tmp" next to name: a name no
 * valid item can have, so it is never listed or addressed. */
int bs__sftp_temp_path(sftpfs *p, const char *name, char out[BS_SFTP_PATH_BUF])
{
    char parent[BS_NAME_BUF], dir[BS_SFTP_PATH_BUF];
    const char *leaf = split(name, parent);
    int rc = bs__sftp_path(p, parent, dir);
    if (rc) return rc;
    uint8_t rnd[8];
    char hex[17];
    randombytes_buf(rnd, sizeof rnd);
    bs__hex(hex, rnd, sizeof rnd);
    int n = snprintf(out, BS_SFTP_PATH_BUF, "%s/%s.%s" BS_TMP_SUFFIX, dir, leaf, hex);
    if (n < 0 || n >= BS_SFTP_PATH_BUF)
        return bs__error_set(BS_ERR_INVALID, "path too long: %s", name);
    return 0;
}

/* Creates "<dir>/<leaf>.<random>.tmp" exclusively: a name no valid item
 * can have. Missing directories are created once. */
static sftp_file create_temp(sftpfs *p, const char *name, char tmp[BS_SFTP_PATH_BUF], int *rc)
{
    char parent[BS_NAME_BUF];
    split(name, parent);
    bool made = false;
    for (int i = 0; i < TMP_ATTEMPTS; i++) {
        if ((*rc = bs__sftp_temp_path(p, name, tmp))) return NULL;
        sftp_file f = sftp_open(p->sftp, tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (f) return f;
        if (status_is(p, SSH_FX_NO_SUCH_FILE) && *parent && !made) {
            /* like Python: try the directory as it is, create it when missing */
            if ((*rc = mkdir_rel(p, parent, name))) return NULL;
            made = true;
            continue;
        }
        if (!status_is(p, SSH_FX_FAILURE) && !status_is(p, SSH_FX_FILE_ALREADY_EXISTS)) break;
    }
    *rc = fail(p, "store", name);
    return NULL;
}

static int do_store(sftpfs *p, const char *name, const uint8_t *data, size_t len)
{
    char tmp[BS_SFTP_PATH_BUF], full[BS_SFTP_PATH_BUF];
    int rc = bs__sftp_path(p, name, full);
    if (rc) return rc;
    sftp_file f = create_temp(p, name, tmp, &rc);
    if (!f) return rc;
    rc = write_all(p, f, 0, data, len, name);
    if (!rc && p->fsync && p->has_fsync && sftp_fsync(f) < 0) rc = fail(p, "store", name);
    if (sftp_close(f) < 0 && !rc) rc = fail(p, "store", name);
    if (!rc) rc = rename_over(p, tmp, full, "store", name);
    if (rc && !p->broken && !session_lost(p)) sftp_unlink(p->sftp, tmp);
    return rc;
}

#define STORE_FROM_BUF (4u << 20) /* store_from: bytes read per round of writes */

/* As do_store, the bytes from read a buffer at a time. */
static int do_store_from(sftpfs *p, const char *name, uint64_t len, bs_read_fn read, void *ctx)
{
    char tmp[BS_SFTP_PATH_BUF], full[BS_SFTP_PATH_BUF];
    int rc = bs__sftp_path(p, name, full);
    if (rc) return rc;
    size_t cap = len < STORE_FROM_BUF ? (len ? (size_t)len : 1) : STORE_FROM_BUF;
    uint8_t *buf = malloc(cap);
    if (!buf) return bs__error_set(BS_ERR_NOMEM, "store %s: no memory for a buffer", name);
    sftp_file f = create_temp(p, name, tmp, &rc);
    if (!f) {
        free(buf);
        return rc;
    }
    for (uint64_t left = len; left && !rc;) {
        size_t want = left < cap ? (size_t)left : cap, have = 0;
        while (have < want && !rc) {
            size_t got = 0;
            rc = read(ctx, buf + have, want - have, &got);
            if (!rc && (got == 0 || got > want - have))
                rc = bs__error_set(BS_ERR_IO, "store %s: the value's reader failed", name);
            have += got;
        }
        if (!rc) rc = write_all(p, f, len - left, buf, want, name);
        left -= want;
    }
    free(buf);
    if (!rc && p->fsync && p->has_fsync && sftp_fsync(f) < 0) rc = fail(p, "store", name);
    if (sftp_close(f) < 0 && !rc) rc = fail(p, "store", name);
    if (!rc) rc = rename_over(p, tmp, full, "store", name);
    if (rc && !p->broken && !session_lost(p)) sftp_unlink(p->sftp, tmp);
    return rc;
}

/* Not repeated after a lost connection, as store is: the reader cannot be
 * rewound (the next call reconnects). */
static int sftpfs_store_from(bs_backend *b, const char *name, uint64_t len, bs_read_fn read,
                             void *ctx)
{
    sftpfs *p = S(b);
    int rc = bs__sftp_connect(p);
    if (!rc) rc = do_store_from(p, name, len, read, ctx);
    return rc;
}

static int sftpfs_store(bs_backend *b, const char *name, const void *data, size_t len)
{
    sftpfs *p = S(b);
    int rc;
    WITH_CONNECTION(p, do_store(p, name, data, len));
    return rc;
}

static int do_delete(sftpfs *p, const char *name)
{
    char full[BS_SFTP_PATH_BUF];
    int rc = bs__sftp_path(p, name, full);
    if (rc) return rc;
    if (sftp_unlink(p->sftp, full) == 0) return 0;
    if (status_is(p, SSH_FX_FAILURE))
        return bs__error_set(BS_ERR_IO, "delete %s: not a file (a directory?)", name);
    return fail(p, "delete", name);
}

static int sftpfs_delete(bs_backend *b, const char *name)
{
    sftpfs *p = S(b);
    int rc;
    WITH_CONNECTION_GONE_IS_DONE(p, do_delete(p, name));
    return rc;
}

static int do_move(sftpfs *p, const char *cur, const char *dst)
{
    char from[BS_SFTP_PATH_BUF], to[BS_SFTP_PATH_BUF];
    int rc = bs__sftp_path(p, cur, from);
    if (!rc) rc = bs__sftp_path(p, dst, to);
    if (rc) return rc;
    rc = rename_over(p, from, to, "move", cur);
    if (rc != BS_ERR_NOT_FOUND) return rc;
    /* the source is missing, or the target's directory: only create that
     * when the source is there */
    sftp_attributes a = sftp_lstat(p->sftp, from);
    if (!a)
        return status_is(p, SSH_FX_NO_SUCH_FILE) ? bs__error_set(BS_ERR_NOT_FOUND, "%s", cur)
                                                 : fail(p, "move", cur);
    sftp_attributes_free(a);
    char parent[BS_NAME_BUF];
    split(dst, parent);
    if (*parent && (rc = mkdir_rel(p, parent, dst))) return rc;
    return rename_over(p, from, to, "move", cur);
}

static int sftpfs_move(bs_backend *b, const char *cur, const char *dst)
{
    sftpfs *p = S(b);
    int rc;
    WITH_CONNECTION_GONE_IS_DONE(p, do_move(p, cur, dst));
    return rc;
}

/* ---- list ------------------------------------------------------------------ */

static int do_list(sftpfs *p, const char *name, bs_list_array *it)
{
    char full[BS_SFTP_PATH_BUF];
    int rc = bs__sftp_path(p, name, full);
    if (rc) return rc;
    dir_entry *e;
    size_t n;
    const char *label = *name ? name : "(root)";
    if ((rc = read_dir(p, full, label, &e, &n))) {
        if (rc == BS_ERR_IO) { /* OpenSSH: opendir of a file is a plain failure */
            sftp_attributes a = sftp_stat(p->sftp, full);
            if (a) {
                bool dir = a->type == SSH_FILEXFER_TYPE_DIRECTORY;
                sftp_attributes_free(a);
                if (!dir) return bs__error_set(BS_ERR_NOT_FOUND, "%s (not a directory)", label);
            }
        }
        return rc;
    }
    it->items = calloc(n ? n : 1, sizeof *it->items);
    if (!it->items) {
        entries_free(e, n);
        return bs__error_set(BS_ERR_NOMEM, "list %s", label);
    }
    for (size_t i = 0; i < n; i++) {
        /* like posix: valid names of files and directories only */
        if (!bs__name_is_valid(e[i].name) || !strcmp(e[i].name, ".")) continue;
        if (e[i].type != SSH_FILEXFER_TYPE_REGULAR && e[i].type != SSH_FILEXFER_TYPE_DIRECTORY)
            continue;
        bs_item_info *o = &it->items[it->n++];
        memcpy(o->name, e[i].name, strlen(e[i].name) + 1);
        o->exists = true;
        o->directory = e[i].type == SSH_FILEXFER_TYPE_DIRECTORY;
        o->size = o->directory ? 0 : e[i].size;
        o->atime_ns = e[i].atime_ns;
        o->mtime_ns = e[i].mtime_ns;
    }
    entries_free(e, n);
    bs__list_array_sort(it);
    return 0;
}

static int sftpfs_list_begin(bs_backend *b, const char *name, bs_list_iter **out)
{
    sftpfs *p = S(b);
    int rc, attempt = 0;
    bs_list_array *it = NULL;
    do {
        if (it) bs__list_array_free(it);
        it = bs__list_array_new();
        if (!it) return bs__error_set(BS_ERR_NOMEM, "list %s", name);
        rc = bs__sftp_connect(p);
        if (!rc) rc = do_list(p, name, it);
    } while (retry(p, rc, &attempt));
    if (rc) {
        bs__list_array_free(it);
        return rc;
    }
    *out = &it->base;
    return 0;
}

/* ---- free / constructor ------------------------------------------------------ */

static void sftpfs_free(bs_backend *b)
{
    sftpfs *p = S(b);
    disconnect(p);
    free(p->user);
    free(p->host);
    free(p->ssh_config);
    free(p->path);
    free(p);
}

static const bs_backend_ops sftpfs_ops = {
    .version = BS_BACKEND_OPS_VERSION,
    .scheme = "sftp",
    .create = sftpfs_create,
    .destroy = sftpfs_destroy,
    .open = sftpfs_open,
    .close = sftpfs_close,
    .mkdir = sftpfs_mkdir,
    .rmdir = sftpfs_rmdir,
    .info = sftpfs_info,
    .load = sftpfs_load,
    .store = sftpfs_store,
    .store_from = sftpfs_store_from,
    .delete = sftpfs_delete,
    .move = sftpfs_move,
    .list_begin = sftpfs_list_begin,
    .hash = sftpfs_hash,
    .defrag = NULL, /* generic: load + store */
    .quota = NULL,
    .free = sftpfs_free,
    .window = bs__sftp_window,
    .batch = bs__sftp_batch,
};

int bs__sftp_new(bs_backend **out, const char *url, const bs_backend_config *cfg)
{
    *out = NULL;
    if (sodium_init() < 0) return bs__error_set(BS_ERR_IO, "libsodium failed to initialize");
    if (cfg->permissions && *cfg->permissions)
        return bs__error_set(BS_ERR_INVALID, "sftp:// does not enforce permissions (file:// "
                                             "does; run borgstore-serve next to the disk)");
    if (cfg->quota) return bs__error_set(BS_ERR_INVALID, "sftp:// does not enforce a quota");
    bs_url u;
    int rc = bs__url_parse(&u, url);
    if (rc) return rc;
    if (strcmp(u.scheme, "sftp") != 0 || !u.host || !u.path || !*u.path) {
        bs__url_clear(&u);
        return bs__error_set(BS_ERR_URL_INVALID,
                             "expected sftp://[user@]host[:port]/path or //abs/path: %s", url);
    }
    sftpfs *p = calloc(1, sizeof *p);
    if (!p) {
        bs__url_clear(&u);
        return bs__error_set(BS_ERR_NOMEM, NULL);
    }
    size_t len = strlen(u.path);
    while (len > 1 && u.path[len - 1] == '/')
        u.path[--len] = '\0';
    p->user = u.user;
    p->host = u.host;
    p->path = u.path;
    p->port = u.port;
    u.user = u.host = u.path = NULL;
    bs__url_clear(&u);
    p->ssh_config = cfg->ssh_config ? strdup(cfg->ssh_config) : NULL;
    const char *fs = getenv("BORGSTORE_FSYNC");
    p->fsync = cfg->fsync || (fs && strcmp(fs, "1") == 0);
    snprintf(p->label, sizeof p->label, "%s", p->host);
    if (cfg->ssh_config && !p->ssh_config) {
        sftpfs_free(&p->base);
        return bs__error_set(BS_ERR_NOMEM, NULL);
    }
    p->base.ops = &sftpfs_ops;
    *out = &p->base;
    return 0;
}
