/* Fuzz target: borgstore-serve's request handling, a whole conversation per
 * input in a private temp directory (cwd, the only allowed path, holding
 * the store "existing" with data/aa and config/cc). Byte 0 picks the
 * operator's options (read-only, quota, permissions, a pinned backend, the
 * frame limit); the rest is what a client writes to the server's stdin: the
 * preamble, then frames. They are split and handed to serve_frame exactly as
 * server/loop.c does, and every frame the server sends back is checked: it
 * decodes, fits the frame limit, and names no absolute server path. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#include "proto/frame.h"
#include "proto/msg.h"
#include "server/place.h"
#include "server/serve.h"

static char base[PATH_MAX]; /* the temp directory: cwd and the only allowed path */
static char pinned_url[PATH_MAX + 16];
static int devnull = -1;
static bool verbose; /* BS_FUZZ_VERBOSE=1: show what the server answers */

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    if (ftw->level > 0) remove(p);
    return 0;
}

static void remove_base(void)
{
    nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    rmdir(base);
}

/* Runs as nobody when started as root, so even a restriction bug could not
 * touch anything outside the temp directory. */
static void setup_once(void)
{
    if (base[0]) return;
    const char *tmp = getenv("TMPDIR");
    snprintf(base, sizeof base, "%s/bs-fuzz-serve.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    FUZZ_CHECK(mkdtemp(base), "mkdtemp: %s", strerror(errno));
    char real[PATH_MAX];
    FUZZ_CHECK(realpath(base, real), "realpath");
    snprintf(base, sizeof base, "%s", real);
    if (getuid() == 0) {
        struct passwd *pw = getpwnam("nobody");
        FUZZ_CHECK(pw, "no user nobody");
        FUZZ_CHECK(chown(base, pw->pw_uid, pw->pw_gid) == 0, "chown");
        FUZZ_CHECK(setgid(pw->pw_gid) == 0 && setuid(pw->pw_uid) == 0, "dropping root");
        prctl(PR_SET_DUMPABLE, 1); /* LeakSanitizer needs to ptrace us */
    }
    snprintf(pinned_url, sizeof pinned_url, "file://%s/pinned", base);
    devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    atexit(remove_base);
    verbose = getenv("BS_FUZZ_VERBOSE") != NULL;
    FUZZ_CHECK(devnull >= 0, "/dev/null");
}

/* The server's output so far, split into frames and checked. */
typedef struct out_check {
    bs__inbuf in;
} out_check;

static void take_frames(serve *s, out_check *oc)
{
    const uint8_t *f;
    size_t len;
    int rc;
    uint32_t limit = s->peer_max_frame > BS_FRAME_MIN ? s->peer_max_frame : BS_FRAME_MIN;
    while ((rc = bs__inbuf_next(&oc->in, limit, &f, &len)) == 1) {
        bs__env env;
        FUZZ_CHECK(bs__env_decode(f, len, &env) == 0, "server frame does not decode: %s",
                   bs_error_message());
        FUZZ_CHECK(env.kind == BS_KIND_OK || env.kind == BS_KIND_ERR || env.kind == BS_KIND_DATA ||
                       env.kind == BS_KIND_LOG,
                   "server sent kind %u", env.kind);
        if (verbose)
            fprintf(stderr, "server: kind %u id %u %.*s\n", env.kind, env.id, (int)env.text_len,
                    env.text ? env.text : "");
        if (env.kind == BS_KIND_ERR || env.kind == BS_KIND_LOG) {
            FUZZ_CHECK(env.text_len <= BS_MESSAGE_MAX, "message of %zu bytes", env.text_len);
            char text[BS_MESSAGE_MAX + 1];
            memcpy(text, env.text, env.text_len);
            text[env.text_len] = '\0';
            FUZZ_CHECK(!strstr(text, base), "server path in a message: %s", text);
        }
    }
    FUZZ_CHECK(rc == 0, "server frame over the limit: %s", bs_error_message());
}

static void check_output(serve *s, out_check *oc)
{
    struct iovec iov[16];
    while (bs__outq_pending(&s->out)) {
        int n = bs__outq_iov(&s->out, iov, 16);
        size_t moved = 0;
        for (int i = 0; i < n; i++) {
            const uint8_t *p = iov[i].iov_base;
            size_t left = iov[i].iov_len;
            while (left) {
                uint8_t *dst;
                size_t cap;
                FUZZ_CHECK(bs__inbuf_space(&oc->in, BS_FRAME_CEIL, &dst, &cap) == 0,
                           "server sent a bad frame length: %s", bs_error_message());
                if (!cap) { /* complete frames wait */
                    take_frames(s, oc);
                    continue;
                }
                size_t k = left < cap ? left : cap;
                memcpy(dst, p, k);
                bs__inbuf_wrote(&oc->in, k);
                p += k;
                left -= k;
            }
            moved += iov[i].iov_len;
        }
        bs__outq_consume(&s->out, moved);
        s->out_written += moved;
        take_frames(s, oc);
    }
}

/* Client paths that resolve outside the temp directory must be refused: a
 * check of our own before the server runs the request (it also keeps a
 * restriction bug from doing harm). */
static void guard_paths(serve *s, const uint8_t *f, size_t len)
{
    bs__env env;
    if (s->up.active || bs__env_decode(f, len, &env) || env.kind != BS_KIND_REQ) return;
    if (env.method != BS_M_CREATE && env.method != BS_M_DESTROY && env.method != BS_M_OPEN) return;
    static bs__req q;
    if (bs__req_decode(&q, env.method, env.body, env.body_len) || !q.path) return;
    char resolved[PATH_MAX];
    if (serve_resolve(resolved, q.path) || serve_allowed(s->opt, resolved)) return;
    size_t bl = strlen(base);
    FUZZ_CHECK(!strncmp(resolved, base, bl) && (resolved[bl] == '/' || !resolved[bl]),
               "path %s admitted as %s", q.path, resolved);
}

/* A store that exists when the conversation starts (created without
 * restrictions), so that read-only and restricted clients have data too. */
static void make_existing(void)
{
    char url[PATH_MAX + 32];
    snprintf(url, sizeof url, "file://%s/existing", base);
    bs_backend *b;
    FUZZ_CHECK(bs_backend_new(&b, url, NULL) == 0, "%s", bs_error_message());
    FUZZ_CHECK(bs_backend_create(b) == 0 && bs_backend_open(b) == 0, "%s", bs_error_message());
    FUZZ_CHECK(bs_backend_store(b, "data/aa", "hello", 5) == 0 &&
                   bs_backend_store(b, "config/cc", "x", 1) == 0,
               "%s", bs_error_message());
    bs_backend_free(b);
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    setup_once();
    if (size < 1) return 0;
    uint8_t sel = data[0];
    data++;
    size--;
    if (chdir(base) != 0) { /* a client may destroy the whole directory */
        FUZZ_CHECK(mkdir(base, 0700) == 0 && chdir(base) == 0, "recreating %s", base);
    }
    make_existing();

    char *restrict_paths[1] = {base};
    serve_opts o = {
        .restrict_paths = restrict_paths,
        .n_restrict_paths = 1,
        .read_only = sel & 1,
        .quota = sel & 2 ? 64 * 1024 : 64ull * 1024 * 1024,
        .permissions = sel & 4 ? "borgbackup-no-delete"
                       : sel & 8 ? "{\"\": \"lr\", \"data\": \"lrw\", \"config\": \"lrwWD\"}"
                                 : NULL,
        .backend_url = sel & 16 ? pinned_url : NULL,
        .log_level = sel & 64 ? BS_LOG_DEBUG : BS_LOG_WARNING,
        .log_fd = devnull,
        .max_frame = sel & 32 ? BS_FRAME_MIN : BS_FRAME_DEFAULT,
        .max_value = BS_VALUE_DEFAULT,
        .max_inflight = sel & 128 ? 2 : BS_INFLIGHT_DEFAULT,
        .drain_timeout = 10,
        .list_memory = sel & 128 ? SERVE_LIST_MEMORY_MIN : SERVE_LIST_MEMORY_DEFAULT,
    };
    FUZZ_CHECK(serve_roots_open(&o) == 0, "restriction roots: %s", bs_error_message());
    static serve s;
    memset(&s, 0, sizeof s);
    s.opt = &o;
    snprintf(s.cwd, sizeof s.cwd, "%s", base);
    s.page = calloc(BS_LIST_PAGE_DEFAULT + 1, sizeof *s.page);
    FUZZ_CHECK(s.page, "calloc");
    if (o.backend_url) {
        bs_backend_config cfg = {.permissions = o.permissions, .quota = o.quota};
        FUZZ_CHECK(bs_backend_new(&s.backend, o.backend_url, &cfg) == 0, "pinned backend: %s",
                   bs_error_message());
    }

    /* as server/loop.c: preamble, then frames within the current limit */
    out_check oc = {{0}};
    bool preamble_ok = false;
    size_t fed = 0;
    while (!s.fatal) {
        if (!preamble_ok) {
            if (bs__inbuf_len(&s.in) >= BS_PROTO_PREAMBLE_LEN) {
                unsigned v;
                if (bs__preamble_check(s.in.data + s.in.head, &v)) break;
                bs__inbuf_consume(&s.in, BS_PROTO_PREAMBLE_LEN);
                preamble_ok = true;
                continue;
            }
        } else {
            const uint8_t *f;
            size_t len;
            uint32_t max = s.hello_done ? o.max_frame : BS_FRAME_MIN;
            int rc = bs__inbuf_next(&s.in, max, &f, &len);
            if (rc < 0) {
                serve_reply_err(&s, 0, BS_ERR_PROTOCOL, bs_error_message());
                break;
            }
            if (rc == 1) {
                guard_paths(&s, f, len);
                serve_frame(&s, f, len);
                serve_inflight_settle(&s);
                check_output(&s, &oc);
                continue;
            }
        }
        if (fed == size) break;
        uint8_t *p;
        size_t cap;
        uint32_t max = !preamble_ok ? 0 : s.hello_done ? o.max_frame : BS_FRAME_MIN;
        if (bs__inbuf_space(&s.in, max, &p, &cap)) break;
        size_t n = size - fed < cap ? size - fed : cap;
        memcpy(p, data + fed, n);
        bs__inbuf_wrote(&s.in, n);
        fed += n;
    }
    check_output(&s, &oc);
    serve_shutdown(&s);
    serve_roots_close(&o);
    serve_inflight_free(&s);
    bs__outq_free(&s.out);
    bs__inbuf_free(&s.in);
    bs__inbuf_free(&oc.in);
    nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
