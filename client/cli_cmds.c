/* The borgstore CLI's commands (see the help text in cli_help.c): each one
 * does a single Store call or a listing and prints for people, or JSON with
 * --json. put streams a regular FILE into the store (bs_store_store_from);
 * standard input (length unknown) is read into one buffer first; get streams the value out in pieces (bs_store_load_to). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client/cli.h"
#include "common/url.h"

#define IO_CHUNK (1u << 20)

static int sys_fail(const char *what, const char *path)
{
    fprintf(stderr, "borgstore: %s %s: %s\n", what, path, strerror(errno));
    return CLI_STORE_ERROR;
}

int cli_read_all(int fd, uint8_t **out, size_t *out_len, cli_progress *p)
{
    struct stat st;
    size_t cap = IO_CHUNK, len = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        cap = (size_t)st.st_size + 1; /* +1: notice EOF without growing */
    uint8_t *buf = malloc(cap);
    if (!buf) return -1;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap * 2;
            uint8_t *nb = ncap > cap ? realloc(buf, ncap) : NULL;
            if (!nb) {
                free(buf);
                errno = ENOMEM;
                return -1;
            }
            buf = nb;
            cap = ncap;
        }
        size_t want = cap - len < IO_CHUNK ? cap - len : IO_CHUNK;
        ssize_t n = read(fd, buf + len, want);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            errno = e;
            return -1;
        }
        if (n == 0) break;
        len += (size_t)n;
        if (p) cli_progress_add(p, (uint64_t)n);
    }
    *out = buf;
    *out_len = len;
    return 0;
}

static int write_all(int fd, const uint8_t *data, size_t len, cli_progress *p)
{
    while (len) {
        size_t want = len < IO_CHUNK ? len : IO_CHUNK;
        ssize_t n = write(fd, data, want);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        data += n;
        len -= (size_t)n;
        cli_progress_add(p, (uint64_t)n);
    }
    return 0;
}

int cli_cmd_create(bs_store *s, const cli_opts *o)
{
    int rc = bs_store_create(s, o->precreate ? BS_STORE_CREATE_PRECREATE : 0);
    if (rc) return cli_fail(rc);
    char shown[1024];
    bs__url_redacted(shown, sizeof shown, o->url);
    cli_verbose(o, "created %s", shown);
    return CLI_OK;
}

typedef struct put_source {
    int fd;
    cli_progress *p;
    int err; /* errno of a failed read; -1: the file ended early */
} put_source;

static int put_read(void *ctx, uint8_t *buf, size_t cap, size_t *got)
{
    put_source *src = ctx;
    if (cap > IO_CHUNK) cap = IO_CHUNK;
    ssize_t n;
    do n = read(src->fd, buf, cap);
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        src->err = n < 0 ? errno : -1;
        return -1;
    }
    *got = (size_t)n;
    cli_progress_add(src->p, (uint64_t)n);
    return 0;
}

/* A regular file streams into the store (bs_store_store_from): memory
 * stays at a piece whatever the file's size. */
static int put_file(bs_store *s, const cli_opts *o, const char *name, const char *path, int fd,
                    uint64_t len)
{
    cli_progress p;
    cli_progress_start(&p, "put", len);
    put_source src = {.fd = fd, .p = &p};
    int rc = bs_store_store_from(s, name, len, put_read, &src);
    cli_progress_end(&p);
    if (rc && src.err > 0) {
        errno = src.err;
        return sys_fail("cannot read", path);
    }
    if (rc && src.err < 0) {
        fprintf(stderr, "borgstore: cannot read %s: it shrank while being stored; nothing "
                        "stored\n", path);
        return CLI_STORE_ERROR;
    }
    if (rc) return cli_fail(rc);
    cli_verbose(o, "stored %s (%llu bytes)", name, (unsigned long long)len);
    return CLI_OK;
}

int cli_cmd_put(bs_store *s, const cli_opts *o)
{
    const char *name = o->args[0];
    const char *path = o->nargs > 1 ? o->args[1] : "-";
    bool from_stdin = !strcmp(path, "-");
    if (o->nargs == 1 && isatty(STDIN_FILENO))
        return cli_usage("put: standard input is a terminal; give a FILE, or - to type the "
                         "value (end it with Ctrl-D)");
    int fd = from_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return sys_fail("cannot open", path);
    struct stat st;
    if (!from_stdin && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        int rc = put_file(s, o, name, path, fd, (uint64_t)st.st_size);
        close(fd);
        return rc;
    }
    /* reading is local: counted without a percentage, which would reach
     * 100% before the store has seen a byte */
    cli_progress p;
    cli_progress_start(&p, "put: reading", 0);
    uint8_t *data;
    size_t len;
    int r = cli_read_all(fd, &data, &len, &p);
    int e = errno;
    cli_progress_end(&p);
    if (!from_stdin) close(fd);
    if (r) {
        errno = e;
        return sys_fail("cannot read", from_stdin ? "standard input" : path);
    }
    /* the store itself is one call: say what is going on while it runs */
    bool note = p.enabled && len >= (8u << 20);
    if (note) {
        fprintf(stderr, "put: storing %.1f MiB ...", (double)len / (1 << 20));
        fflush(stderr);
    }
    int rc = bs_store_store(s, name, data, len);
    if (note) fputs("\r\033[K", stderr);
    free(data);
    if (rc) return cli_fail(rc);
    cli_verbose(o, "stored %s (%zu bytes)", name, len);
    return CLI_OK;
}

typedef struct get_sink {
    int fd;
    cli_progress *p;
    int err; /* errno of a failed write */
} get_sink;

static int get_piece(void *ctx, const uint8_t *data, size_t len)
{
    get_sink *g = ctx;
    if (write_all(g->fd, data, len, g->p)) {
        g->err = errno;
        return -1;
    }
    return 0;
}

/* Bytes a get will deliver (for the progress bar), 0 when unknown. */
static uint64_t get_total(bs_store *s, const cli_opts *o, const char *name)
{
    bs_item_info info;
    if (bs_store_info(s, name, o->deleted, &info) || !info.exists) return 0;
    int64_t off = o->have_offset ? o->offset : 0;
    uint64_t start = (uint64_t)off;
    if (off < 0) start = (uint64_t)-off > info.size ? 0 : info.size - (uint64_t)-off;
    uint64_t left = start < info.size ? info.size - start : 0;
    return o->have_size && (uint64_t)o->size < left ? (uint64_t)o->size : left;
}

int cli_cmd_get(bs_store *s, const cli_opts *o)
{
    const char *name = o->args[0];
    const char *path = o->nargs > 1 ? o->args[1] : "-";
    bool to_stdout = !strcmp(path, "-");
    /* the output exists (as a temp file) before the load, so an interrupt
     * at any point leaves FILE as it was */
    cli_out out;
    if (!to_stdout && cli_out_open(&out, path, 0)) return sys_fail("cannot create", path);
    fflush(stdout);
    cli_progress p;
    cli_progress_start(&p, "get", 0);
    if (p.enabled) p.total = get_total(s, o, name);
    /* streamed: memory stays at one piece whatever the value's size */
    get_sink g = {.fd = to_stdout ? STDOUT_FILENO : out.fd, .p = &p};
    uint64_t len;
    int rc = bs_store_load_to(s, name, o->have_offset ? o->offset : 0,
                              o->have_size ? o->size : BS_SIZE_ALL, o->deleted, 0, get_piece,
                              &g, &len);
    cli_progress_end(&p);
    if (rc && !g.err) {
        if (!to_stdout) cli_out_abort(&out);
        return cli_fail(rc);
    }
    int r = g.err ? -1 : 0, e = g.err;
    const char *what = "write";
    if (!to_stdout) {
        if (r) cli_out_abort(&out);
        else if ((r = cli_out_commit(&out, &what))) e = errno;
    }
    if (r) {
        errno = e;
        return sys_fail(!strcmp(what, "write") ? "cannot write" : "cannot replace",
                        to_stdout ? "standard output" : path);
    }
    cli_verbose(o, "loaded %s (%llu bytes)", name, (unsigned long long)len);
    return CLI_OK;
}

/* Local "YYYY-MM-DD HH:MM:SS" of a modification time, "-" when unknown. */
static const char *format_mtime(char *out, size_t cap, int64_t mtime_ns)
{
    time_t t = (time_t)(mtime_ns / 1000000000);
    struct tm tm;
    if (!mtime_ns || !localtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(out, cap, "-");
    return out;
}

int cli_cmd_info(bs_store *s, const cli_opts *o)
{
    const char *name = o->args[0];
    bs_item_info info;
    int rc = bs_store_info(s, name, o->deleted, &info);
    if (rc) return cli_fail(rc);
    if (!info.exists) {
        fprintf(stderr, "borgstore: %s: %s%s\n", bs_error_str(BS_ERR_NOT_FOUND), name,
                o->deleted ? " (soft-deleted)" : "");
        return CLI_NOT_FOUND;
    }
    char where[BS_NAME_BUF];
    if ((rc = bs_store_find(s, name, o->deleted, where))) return cli_fail(rc);
    if (o->json) {
        fputs("{\"name\": ", stdout);
        cli_json_str(stdout, name);
        printf(", \"exists\": true, \"size\": %llu, \"directory\": %s, \"deleted\": %s, "
               "\"atime_ns\": %lld, \"mtime_ns\": %lld, \"stored_as\": ",
               (unsigned long long)info.size, info.directory ? "true" : "false",
               o->deleted ? "true" : "false", (long long)info.atime_ns,
               (long long)info.mtime_ns);
        cli_json_str(stdout, where);
        fputs("}\n", stdout);
    } else {
        printf("name       %s\n", name);
        printf("size       %llu\n", (unsigned long long)info.size);
        printf("directory  %s\n", info.directory ? "yes" : "no");
        printf("deleted    %s\n", o->deleted ? "yes (soft-deleted)" : "no");
        char when[32];
        printf("modified   %s\n", format_mtime(when, sizeof when, info.mtime_ns));
        printf("stored as  %s\n", where);
    }
    return CLI_OK;
}

/* Namespace configured for ns (longest prefix as the Store does). */
static const bs_store_namespace *config_ns(const bs_store_config *cfg, const char *ns)
{
    const bs_store_namespace *best = NULL;
    char probe[BS_NAME_BUF + 1];
    snprintf(probe, sizeof probe, "%s/", ns);
    for (size_t i = 0; i < cfg->n_namespaces; i++) {
        const char *p = cfg->namespaces[i].prefix;
        if (!strncmp(probe, p, strlen(p)) && (!best || strlen(p) > strlen(best->prefix)))
            best = &cfg->namespaces[i];
    }
    return best;
}

typedef struct ls_entry {
    char *name;
    uint64_t size;
    int64_t mtime_ns;
} ls_entry;

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const ls_entry *)a)->name, ((const ls_entry *)b)->name);
}

static void print_entry(const cli_opts *o, const ls_entry *e, bool *first)
{
    if (o->json) {
        fputs(*first ? "[\n  {\"name\": " : ",\n  {\"name\": ", stdout);
        cli_json_str(stdout, e->name);
        printf(", \"size\": %llu, \"mtime_ns\": %lld}", (unsigned long long)e->size,
               (long long)e->mtime_ns);
    } else if (o->long_list) {
        char when[32];
        printf("%12llu  %-19s  %s\n", (unsigned long long)e->size,
               format_mtime(when, sizeof when, e->mtime_ns), e->name);
    } else {
        printf("%s\n", e->name);
    }
    *first = false;
}

int cli_cmd_ls(bs_store *s, const cli_opts *o)
{
    char ns[BS_NAME_BUF];
    size_t len = strlen(o->args[0]);
    while (len && o->args[0][len - 1] == '/') len--;
    if (len == 0 || len >= sizeof ns) return cli_usage("ls: give a namespace, e.g. data");
    memcpy(ns, o->args[0], len);
    ns[len] = '\0';

    /* The Store lists sorted when the namespace has one level; with several
     * (an upgrade in progress) sort here, which needs the whole listing. */
    bs_store_config cfg;
    cli_store_config(o, &cfg);
    const bs_store_namespace *c = config_ns(&cfg, ns);
    bool must_sort = c && c->nlevels > 1;

    cli_levels lv;
    cli_levels_start(&lv, c, ns);
    bs_store_list_iter *it;
    int rc = bs_store_list_begin(s, ns, o->deleted, &it);
    if (rc) return cli_fail(rc);
    ls_entry *all = NULL;
    size_t n = 0, cap = 0;
    bool first = true;
    bs_item_info info;
    char full[2 * BS_NAME_BUF];
    while ((rc = bs_store_list_next(it, &info)) == 1) {
        cli_levels_see(&lv, bs_store_list_dir(it), info.name);
        snprintf(full, sizeof full, "%s/%s", ns, info.name);
        if (!must_sort) {
            ls_entry e = {.name = full, .size = info.size, .mtime_ns = info.mtime_ns};
            print_entry(o, &e, &first);
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            ls_entry *na = realloc(all, cap * sizeof *na);
            if (!na) {
                rc = BS_ERR_NOMEM;
                fputs("borgstore: out of memory\n", stderr);
                break;
            }
            all = na;
        }
        if (!(all[n].name = strdup(full))) {
            rc = BS_ERR_NOMEM;
            fputs("borgstore: out of memory\n", stderr);
            break;
        }
        all[n].size = info.size;
        all[n++].mtime_ns = info.mtime_ns;
    }
    int status = CLI_OK;
    if (rc < 0 && rc != BS_ERR_NOMEM) status = cli_fail(rc);
    else if (rc < 0) status = CLI_STORE_ERROR;
    bs_store_list_end(it);
    if (must_sort) {
        qsort(all, n, sizeof *all, cmp_entry);
        for (size_t i = 0; i < n; i++) {
            if (status == CLI_OK) print_entry(o, &all[i], &first);
            free(all[i].name);
        }
        free(all);
    }
    if (o->json && status == CLI_OK) fputs(first ? "[]\n" : "\n]\n", stdout);
    if (status == CLI_OK) cli_levels_note(&lv);
    return status;
}

int cli_cmd_rm(bs_store *s, const cli_opts *o)
{
    int rc = bs_store_delete(s, o->args[0], o->deleted);
    if (rc) return cli_fail(rc);
    cli_verbose(o, "deleted %s%s", o->args[0], o->deleted ? " (soft-deleted)" : "");
    return CLI_OK;
}

int cli_cmd_mv(bs_store *s, const cli_opts *o)
{
    int rc = bs_store_move(s, o->args[0], o->args[1], BS_MOVE_RENAME, o->deleted);
    if (rc) return cli_fail(rc);
    cli_verbose(o, "renamed %s to %s", o->args[0], o->args[1]);
    return CLI_OK;
}

int cli_cmd_soft_delete(bs_store *s, const cli_opts *o)
{
    int rc = bs_store_move(s, o->args[0], NULL, BS_MOVE_SOFT_DELETE, false);
    if (rc) return cli_fail(rc);
    cli_verbose(o, "soft-deleted %s", o->args[0]);
    return CLI_OK;
}

int cli_cmd_undelete(bs_store *s, const cli_opts *o)
{
    int rc = bs_store_move(s, o->args[0], NULL, BS_MOVE_UNDELETE, false);
    if (rc) return cli_fail(rc);
    cli_verbose(o, "undeleted %s", o->args[0]);
    return CLI_OK;
}

int cli_cmd_hash(bs_store *s, const cli_opts *o)
{
    char hex[BS_HASH_HEX_SIZE];
    bs_hash_alg alg = o->have_alg ? o->alg : BS_HASH_SHA256;
    int rc = bs_store_hash(s, o->args[0], alg, o->deleted, hex);
    if (rc) return cli_fail(rc);
    printf("%s\n", hex);
    return CLI_OK;
}

int cli_cmd_quota(bs_store *s, const cli_opts *o)
{
    bs_quota q;
    int rc = bs_store_quota(s, &q);
    if (rc) return cli_fail(rc);
    if (o->json) {
        printf("{\"limit\": %lld, \"usage\": %lld}\n", (long long)q.limit, (long long)q.usage);
    } else {
        printf("limit  %lld%s\n", (long long)q.limit, q.limit < 0 ? " (not tracked)" : "");
        printf("usage  %lld%s\n", (long long)q.usage, q.usage < 0 ? " (not tracked)" : "");
    }
    return CLI_OK;
}
