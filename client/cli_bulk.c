/* The borgstore CLI's bulk commands (put-many, get-many, import, export):
 * many items per Store batch call, so a remote store keeps a window of
 * requests in flight and the transfer is bound by bandwidth, not by round
 * trips. Memory stays bounded: values are read and stored a batch at a time,
 * and loaded values are written out one by one as they arrive. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client/cli.h"
#include "common/names.h"

/* A put batch is stored once it holds this many files or bytes. */
#define PUT_MAX_FILES 256
#define PUT_MAX_BYTES ((size_t)64 << 20)
/* Names per load batch (values are not held: they are written on arrival). */
#define GET_MAX_NAMES 1024
#define IO_CHUNK ((size_t)1 << 20)
/* Room in local paths for the store's longest name and a temp suffix. */
#define DIR_MAX (PATH_MAX - BS_NAME_BUF - 32)

typedef struct bulk {
    bs_store *s;
    const cli_opts *o;
    const char *cmd;     /* "put-many", ... for --json */
    const char *verb;    /* "stored", ... for the -v summary */
    char dir[PATH_MAX];  /* the local directory, without trailing slash */
    uint64_t items, failed, bytes, skipped;
    uint64_t start_ns;
    bool fatal;          /* a batch or listing ended early: stop */
    bool counting;       /* import's first walk: only sums the sizes */
    int fatal_status;    /* its exit status */
    cli_progress p;
    /* put side: values read, not yet stored */
    char *names[PUT_MAX_FILES];
    uint8_t *values[PUT_MAX_FILES];
    size_t lens[PUT_MAX_FILES];
    size_t n;
    size_t batch_bytes;
    /* import --resume: files waiting for the store's sizes (one info batch) */
    char *pnames[PUT_MAX_FILES], *ppaths[PUT_MAX_FILES];
    uint64_t psizes[PUT_MAX_FILES];
    bs_item_info pinfo[PUT_MAX_FILES];
    int prc[PUT_MAX_FILES];
    size_t pn;
    /* get side: names to load; each is written to dir/(name + rel_off) */
    char (*gnames)[BS_NAME_BUF];
    const char *gptrs[GET_MAX_NAMES];
    size_t gn;
    size_t rel_off;
} bulk;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- reporting ------------------------------------------------------------- */

/* One line on stderr, after clearing a drawn progress bar. */
static void vsay(bulk *b, const char *fmt, va_list ap)
{
    if (b->p.enabled && b->p.drawn) fputs("\r\033[K", stderr);
    fputs("borgstore: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

static void say_err(bulk *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say_err(bulk *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(b, fmt, ap);
    va_end(ap);
}

/* An item failed: counted, and one line on stderr saying which and why. */
static void item_fail(bulk *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void item_fail(bulk *b, const char *fmt, ...)
{
    b->failed++;
    va_list ap;
    va_start(ap, fmt);
    vsay(b, fmt, ap);
    va_end(ap);
}

/* An item failed in the store. The backend's message names the backend
 * (nested) name, so say which item it was when the message does not. */
static void store_fail(bulk *b, const char *name, const bs_op_result *res)
{
    const char *kind = bs_error_str(res->rc);
    char words[512];
    const char *msg = res->message && *res->message ? res->message : kind;
    msg = cli_user_message(msg, words, sizeof words);
    if (res->rc == BS_ERR_NOT_FOUND || !strcmp(msg, kind))
        item_fail(b, "%s: %s", kind, name);
    else if (strstr(msg, name))
        item_fail(b, "%s", msg);
    else
        item_fail(b, "%s: %s (%s)", kind, name, msg);
}

/* A whole batch or the listing ended early (e.g. the connection is gone). */
static void batch_fail(bulk *b, int rc)
{
    if (b->p.enabled && b->p.drawn) fputs("\r\033[K", stderr);
    b->fatal_status = cli_fail(rc);
    b->fatal = true;
}

static void human_bytes(char *out, size_t cap, uint64_t n)
{
    static const char *units[] = {"kB", "MB", "GB", "TB", "PB"};
    if (n < 1000) {
        snprintf(out, cap, "%llu bytes", (unsigned long long)n);
        return;
    }
    double v = (double)n / 1000;
    size_t u = 0;
    while (v >= 1000 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1000;
        u++;
    }
    snprintf(out, cap, "%.1f %s", v, units[u]);
}

/* Ends the command: -v summary, --json object, exit status. */
static int finish(bulk *b)
{
    cli_progress_end(&b->p);
    double secs = (double)(now_ns() - b->start_ns) / 1e9;
    if (b->o->verbose) {
        char size[32];
        human_bytes(size, sizeof size, b->bytes);
        fprintf(stderr, "borgstore: %s %llu item%s, %s in %.1f s", b->verb,
                (unsigned long long)b->items, b->items == 1 ? "" : "s", size, secs);
        if (b->skipped) fprintf(stderr, ", %llu already there", (unsigned long long)b->skipped);
        if (b->failed) fprintf(stderr, ", %llu failed", (unsigned long long)b->failed);
        fputc('\n', stderr);
    }
    if (b->o->json)
        printf("{\"command\": \"%s\", \"items\": %llu, \"failed\": %llu, \"bytes\": %llu, "
               "\"seconds\": %.3f, \"complete\": %s, \"skipped\": %llu}\n",
               b->cmd, (unsigned long long)b->items, (unsigned long long)b->failed,
               (unsigned long long)b->bytes, secs, b->fatal ? "false" : "true",
               (unsigned long long)b->skipped);
    if (b->fatal && b->fatal_status) return b->fatal_status;
    return b->failed || b->fatal ? CLI_STORE_ERROR : CLI_OK;
}

static int bulk_init(bulk *b, bs_store *s, const cli_opts *o, const char *cmd,
                     const char *verb, const char *dir)
{
    memset(b, 0, sizeof *b);
    b->s = s;
    b->o = o;
    b->cmd = cmd;
    b->verb = verb;
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') len--;
    if (len == 0) return cli_usage("%s: the directory must not be empty", cmd);
    if (len > DIR_MAX) return cli_usage("%s: directory path too long", cmd);
    memcpy(b->dir, dir, len);
    b->dir[len] = '\0';
    if (len == 1 && dir[0] == '/') b->dir[0] = '\0'; /* "/" + "/" + name */
    b->start_ns = now_ns();
    cli_progress_start(&b->p, cmd, 0);
    return 0;
}

/* dir + "/" + rel + suffix into out[cap]; false when it does not fit. */
static bool join(char *out, size_t cap, const char *dir, const char *rel, const char *suffix)
{
    size_t ld = strlen(dir), lr = strlen(rel), ls = strlen(suffix);
    if (ld + 1 + lr + ls >= cap) return false;
    memcpy(out, dir, ld);
    out[ld] = '/';
    memcpy(out + ld + 1, rel, lr);
    memcpy(out + ld + 1 + lr, suffix, ls + 1);
    return true;
}

/* ---- reading names from stdin ---------------------------------------------- */

/* Next non-blank line of stdin, trimmed of surrounding blanks (names never
 * contain any). 1 and *out, 0 at the end, -1 on a read error (reported). */
static int next_line(bulk *b, char **line, size_t *cap, size_t *lineno, const char **out)
{
    for (;;) {
        ssize_t n = getline(line, cap, stdin);
        if (n < 0) {
            if (ferror(stdin)) {
                say_err(b, "cannot read standard input: %s", strerror(errno));
                return -1;
            }
            return 0;
        }
        ++*lineno;
        char *p = *line;
        if (memchr(p, '\0', (size_t)n)) {
            item_fail(b, "%s: name must not contain NUL bytes (line %zu)",
                      bs_error_str(BS_ERR_INVALID), *lineno);
            continue;
        }
        while (n > 0 && strchr(" \t\r\n\v\f", p[n - 1])) p[--n] = '\0';
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) continue;
        *out = p;
        return 1;
    }
}

/* Whether name is a valid item name; reports it when not. */
static bool name_ok(bulk *b, const char *name)
{
    if (!bs__name_validate(name)) return true;
    item_fail(b, "%s", bs_error_message());
    return false;
}

/* ---- put side ---------------------------------------------------------------- */

static int put_done(void *ctx, size_t index, bs_op_result *res)
{
    bulk *b = ctx;
    if (res->rc) {
        store_fail(b, b->names[index], res);
    } else {
        b->items++;
        b->bytes += b->lens[index];
        cli_progress_add(&b->p, b->lens[index]);
    }
    return 0;
}

/* Stores the batch read so far. */
static void put_flush(bulk *b)
{
    if (b->n && !b->fatal) {
        int rc = bs_store_store_many(b->s, (const char *const *)b->names,
                                     (const void *const *)b->values, b->lens, b->n,
                                     b->o->window, put_done, b);
        if (rc) batch_fail(b, rc);
    }
    for (size_t i = 0; i < b->n; i++) {
        free(b->names[i]);
        free(b->values[i]);
    }
    b->n = 0;
    b->batch_bytes = 0;
}

/* Reads file path as the value of (valid) name into the batch, storing the
 * batch first when the value would overflow it and after when it is full. */
static void put_add(bulk *b, const char *name, const char *path, bool nofollow)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
    if (fd < 0) {
        item_fail(b, "cannot open %s: %s", path, strerror(errno));
        return;
    }
    struct stat st;
    size_t size = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) size = (size_t)st.st_size;
    if (b->n && b->batch_bytes + size > PUT_MAX_BYTES) put_flush(b);
    uint8_t *data;
    size_t len;
    int r = cli_read_all(fd, &data, &len, NULL);
    int e = errno;
    close(fd);
    if (r) {
        item_fail(b, "cannot read %s: %s", path, strerror(e));
        return;
    }
    char *copy = strdup(name);
    if (!copy) {
        free(data);
        item_fail(b, "out of memory");
        return;
    }
    b->names[b->n] = copy;
    b->values[b->n] = data;
    b->lens[b->n] = len;
    b->n++;
    b->batch_bytes += len;
    if (b->n == PUT_MAX_FILES || b->batch_bytes >= PUT_MAX_BYTES) put_flush(b);
}

/* 0 when path is a directory, else reported and CLI_STORE_ERROR. */
static int need_dir(const char *path)
{
    struct stat st;
    if (stat(path, &st)) {
        fprintf(stderr, "borgstore: cannot open %s: %s\n", path, strerror(errno));
        return CLI_STORE_ERROR;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "borgstore: cannot open %s: %s\n", path, strerror(ENOTDIR));
        return CLI_STORE_ERROR;
    }
    return 0;
}

int cli_cmd_put_many(bs_store *s, const cli_opts *o)
{
    static bulk b;
    int rc = bulk_init(&b, s, o, "put-many", "stored", o->args[0]);
    if (rc) return rc;
    if ((rc = need_dir(o->args[0]))) return rc;
    char *line = NULL, path[PATH_MAX];
    size_t cap = 0, lineno = 0;
    const char *name;
    while (!b.fatal && (rc = next_line(&b, &line, &cap, &lineno, &name)) == 1) {
        if (!name_ok(&b, name)) continue;
        if (join(path, sizeof path, b.dir, name, "")) put_add(&b, name, path, false);
        else item_fail(&b, "path too long: %s/%s", b.dir, name);
    }
    free(line);
    put_flush(&b);
    if (rc < 0) b.fatal = true;
    return finish(&b);
}

/* ---- import: a local tree into the store ------------------------------------ */

/* An item found already at its target: counted, and out of the bar's total. */
static void skip_item(bulk *b, uint64_t size)
{
    b->skipped++;
    b->p.total = b->p.total > size ? b->p.total - size : 0;
}

static int pending_info(void *ctx, size_t index, bs_op_result *res)
{
    bulk *b = ctx;
    b->prc[index] = res->rc;
    if (!res->rc) b->pinfo[index] = res->info;
    return 0;
}

/* import --resume: asks the store for the sizes of the pending files (one
 * batch), then reads and stores those that are not there yet. */
static void pending_flush(bulk *b)
{
    if (b->pn && !b->fatal) {
        int rc = bs_store_info_many(b->s, (const char *const *)b->pnames, b->pn, false,
                                    b->o->window, pending_info, b);
        if (rc) batch_fail(b, rc);
    }
    for (size_t i = 0; i < b->pn; i++) {
        if (!b->fatal) {
            const bs_item_info *in = &b->pinfo[i];
            if (!b->prc[i] && in->exists && !in->directory &&
                cli_resume_same(b->s, b->o, b->pnames[i], b->ppaths[i], b->psizes[i], in->size))
                skip_item(b, in->size);
            else
                put_add(b, b->pnames[i], b->ppaths[i], true);
        }
        free(b->pnames[i]);
        free(b->ppaths[i]);
    }
    b->pn = 0;
}

/* One file to import: stored, or with --resume first compared. */
static void import_add(bulk *b, const char *name, const char *path, uint64_t size)
{
    if (!b->o->resume) {
        put_add(b, name, path, true);
        return;
    }
    char *n = strdup(name), *p = strdup(path);
    if (!n || !p) {
        free(n);
        free(p);
        item_fail(b, "out of memory");
        return;
    }
    b->pnames[b->pn] = n;
    b->ppaths[b->pn] = p;
    b->psizes[b->pn] = size;
    b->prc[b->pn] = -1;
    memset(&b->pinfo[b->pn], 0, sizeof b->pinfo[b->pn]);
    if (++b->pn == PUT_MAX_FILES) pending_flush(b);
}

static int not_dots(const struct dirent *d)
{
    return strcmp(d->d_name, ".") && strcmp(d->d_name, "..");
}

static void walk(bulk *b, char *path, size_t len, size_t rel_off, const char *prefix);

/* One directory entry: path[0..len) is its directory, e its name. */
static void visit(bulk *b, char *path, size_t len, size_t rel_off, const char *prefix,
                  const char *e)
{
    size_t elen = strlen(e);
    if (len + 1 + elen >= PATH_MAX) {
        item_fail(b, "path too long: %s/%s", path, e);
        return;
    }
    path[len] = '/';
    memcpy(path + len + 1, e, elen + 1);
    struct stat st;
    if (lstat(path, &st)) {
        if (!b->counting) item_fail(b, "cannot open %s: %s", path, strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
        walk(b, path, len + 1 + elen, rel_off, prefix);
    } else if (S_ISREG(st.st_mode) && b->counting) {
        b->p.total += (uint64_t)st.st_size;
    } else if (S_ISREG(st.st_mode)) {
        char name[PATH_MAX + BS_NAME_BUF];
        int n = snprintf(name, sizeof name, "%s%s", prefix, path + rel_off);
        if (n >= 0 && (size_t)n < sizeof name && name_ok(b, name))
            import_add(b, name, path, (uint64_t)st.st_size);
    } else if (!b->counting) {
        cli_verbose(b->o, "skipped %s: not a regular file", path);
    }
    path[len] = '\0';
}

/* Stores every regular file below path[0..len) (a directory), sorted, as
 * prefix + (path + rel_off). path is a PATH_MAX buffer, restored on return. */
static void walk(bulk *b, char *path, size_t len, size_t rel_off, const char *prefix)
{
    struct dirent **ents;
    int n = scandir(path, &ents, not_dots, alphasort);
    if (n < 0) {
        if (!b->counting) item_fail(b, "cannot open directory %s: %s", path, strerror(errno));
        return;
    }
    for (int i = 0; i < n; i++) {
        if (!b->fatal) visit(b, path, len, rel_off, prefix, ents[i]->d_name);
        free(ents[i]);
    }
    free(ents);
}

int cli_cmd_import(bs_store *s, const cli_opts *o)
{
    static bulk b;
    int rc = bulk_init(&b, s, o, "import", "imported", o->args[0]);
    if (rc) return rc;
    /* PREFIX is a namespace-like path: "data" and "data/" both give data/KEY */
    char prefix[BS_NAME_BUF + 1] = "";
    if (o->nargs > 1) {
        size_t len = strlen(o->args[1]);
        while (len && o->args[1][len - 1] == '/') len--;
        if (len >= BS_NAME_MAX) return cli_usage("import: prefix too long");
        memcpy(prefix, o->args[1], len);
        prefix[len] = '\0';
        if (len && bs__name_validate(prefix))
            return cli_usage("import: invalid prefix: %s", bs_error_message());
        if (len) strcat(prefix, "/");
    }
    if ((rc = need_dir(o->args[0]))) return rc;
    char path[PATH_MAX];
    size_t len = strlen(b.dir);
    memcpy(path, b.dir, len + 1);
    size_t rel_off = len ? len + 1 : 1;
    if (len == 0) {
        path[0] = '/';
        path[1] = '\0';
    }
    /* on a terminal, a first walk sums the sizes: the bar shows a
     * percentage and the time left */
    b.counting = b.p.enabled;
    if (b.counting) walk(&b, path, len, rel_off, prefix);
    b.counting = false;
    walk(&b, path, len, rel_off, prefix);
    pending_flush(&b);
    put_flush(&b);
    return finish(&b);
}

/* ---- get side ---------------------------------------------------------------- */

static int write_fd(int fd, const uint8_t *data, size_t len)
{
    while (len) {
        size_t want = len < IO_CHUNK ? len : IO_CHUNK;
        ssize_t n = write(fd, data, want);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes dir/rel atomically (cli_out: a temp file next to it, a name no
 * item can have, renamed over it). Parents are made as needed.
 * Returns true, or reports and returns false. */
static bool write_out(bulk *b, const char *rel, const uint8_t *data, size_t len)
{
    char path[PATH_MAX];
    if (!join(path, sizeof path, b->dir, rel, "")) {
        item_fail(b, "path too long: %s/%s", b->dir, rel);
        return false;
    }
    cli_out out;
    if (cli_out_open(&out, path, strlen(b->dir) + 1)) {
        item_fail(b, "cannot create %s: %s", path, strerror(errno));
        return false;
    }
    const char *what = "write";
    int r = write_fd(out.fd, data, len);
    if (r) {
        int e = errno;
        cli_out_abort(&out);
        errno = e;
    } else {
        r = cli_out_commit(&out, &what);
    }
    if (r) {
        item_fail(b, "cannot %s %s: %s", what, path, strerror(errno));
        return false;
    }
    return true;
}

static int get_done(void *ctx, size_t index, bs_op_result *res)
{
    bulk *b = ctx;
    const char *name = b->gptrs[index];
    if (res->rc) {
        store_fail(b, name, res);
    } else if (write_out(b, name + b->rel_off, res->data, res->len)) {
        b->items++;
        b->bytes += res->len;
        cli_progress_add(&b->p, res->len);
    }
    return 0;
}

/* Loads the names gathered so far, writing each value as it arrives. */
static void get_flush(bulk *b)
{
    if (b->gn && !b->fatal) {
        for (size_t i = 0; i < b->gn; i++) b->gptrs[i] = b->gnames[i];
        int rc = bs_store_load_many(b->s, b->gptrs, b->gn, 0, BS_SIZE_ALL, false,
                                    b->o->window, get_done, b);
        if (rc) batch_fail(b, rc);
    }
    b->gn = 0;
}

/* Prepares the get side: the name buffer and the target directory (made
 * with its parents when missing). 0 or an exit status (reported). */
static int get_init(bulk *b)
{
    b->gnames = calloc(GET_MAX_NAMES, sizeof *b->gnames);
    if (!b->gnames) {
        fputs("borgstore: out of memory\n", stderr);
        return CLI_STORE_ERROR;
    }
    char path[PATH_MAX];
    join(path, sizeof path, b->dir, "", ""); /* fits: checked by bulk_init */
    cli_make_parents(path, 1);
    int rc = need_dir(path);
    if (rc) {
        free(b->gnames);
        b->gnames = NULL;
    }
    return rc;
}

int cli_cmd_get_many(bs_store *s, const cli_opts *o)
{
    static bulk b;
    int rc = bulk_init(&b, s, o, "get-many", "loaded", o->args[0]);
    if (rc || (rc = get_init(&b))) return rc;
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    const char *name;
    while (!b.fatal && (rc = next_line(&b, &line, &cap, &lineno, &name)) == 1) {
        if (!name_ok(&b, name)) continue;
        snprintf(b.gnames[b.gn++], BS_NAME_BUF, "%s", name);
        if (b.gn == GET_MAX_NAMES) get_flush(&b);
    }
    free(line);
    get_flush(&b);
    if (rc < 0) b.fatal = true;
    free(b.gnames);
    return finish(&b);
}

/* ---- export: a namespace into a local directory ---------------------------- */

int cli_cmd_export(bs_store *s, const cli_opts *o)
{
    static bulk b;
    char ns[BS_NAME_BUF];
    size_t len = strlen(o->args[0]);
    while (len && o->args[0][len - 1] == '/') len--;
    if (len == 0 || len >= BS_NAME_MAX) return cli_usage("export: give a namespace, e.g. data");
    memcpy(ns, o->args[0], len);
    ns[len] = '\0';
    int rc = bulk_init(&b, s, o, "export", "exported", o->args[1]);
    if (rc) return rc;
    b.rel_off = len + 1; /* files are named by key: DIR/KEY */
    bs_store_list_iter *it;
    /* on a terminal, a first listing sums the sizes for percentage and ETA */
    if (b.p.enabled && !bs_store_list_begin(s, ns, false, &it)) {
        bs_item_info info;
        while (bs_store_list_next(it, &info) == 1) b.p.total += info.size;
        bs_store_list_end(it);
    }
    if ((rc = bs_store_list_begin(s, ns, false, &it))) {
        cli_progress_end(&b.p);
        return cli_fail(rc);
    }
    if ((rc = get_init(&b))) {
        bs_store_list_end(it);
        return rc;
    }
    bs_item_info info;
    while (!b.fatal && (rc = bs_store_list_next(it, &info)) == 1) {
        char *name = b.gnames[b.gn];
        if ((size_t)snprintf(name, BS_NAME_BUF, "%s/%s", ns, info.name) >= BS_NAME_BUF) {
            item_fail(&b, "%s: name too long: %s/%s", bs_error_str(BS_ERR_INVALID), ns,
                      info.name);
            continue;
        }
        if (!name_ok(&b, name)) continue;
        if (o->resume) {
            char path[PATH_MAX];
            struct stat st;
            if (join(path, sizeof path, b.dir, info.name, "") && !lstat(path, &st) &&
                S_ISREG(st.st_mode) &&
                cli_resume_same(s, o, name, path, (uint64_t)st.st_size, info.size)) {
                skip_item(&b, info.size);
                continue;
            }
        }
        if (++b.gn == GET_MAX_NAMES) get_flush(&b);
    }
    if (rc < 0) batch_fail(&b, rc);
    get_flush(&b);
    bs_store_list_end(it);
    free(b.gnames);
    return finish(&b);
}
