/* borgstore CLI entry point: option parsing, the command table, the help
 * text (the CLI's full documentation), error reporting and the progress bar.
 * Exit status: 0 success, 1 store error, 2 usage error. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bs_config.h"
#include "client/cli.h"
#include "client/cli_cache.h"

static const char usage_text[] =
    "usage: borgstore [OPTIONS] URL COMMAND [ARGS]\n"
    "       borgstore [OPTIONS] demo [URL]\n"
    "       borgstore --help | --version\n";

static const char help_text[] =
    "\n"
    "A key/value store for backup tools, compatible with Python borgstore 0.6.\n"
    "Items have names like data/0123abcd or config/settings: a namespace, a slash\n"
    "and a key (at most 100 characters, lowercase ASCII, no blanks, no \"..\").\n"
    "\n"
    "URL\n"
    "  file:///abs/path          a directory on this machine\n"
    "  serve:///abs/path         the same through borgstore-serve spawned locally\n"
    "  ssh://[user@]host[:port]/rel/path, ssh://host//abs/path\n"
    "                            borgstore-serve over SSH (~/.ssh/config honoured)\n"
    "  sftp://[user@]host[:port]/rel/path, sftp://host//abs/path\n"
    "                            an SFTP server, same layout as file://\n"
    "  rclone:REMOTE:PATH        any rclone remote (runs a private rclone rcd)\n"
    "  s3:[profile|KEY_ID:SECRET@][http(s)://host[:port]]/bucket/path\n"
    "                            an S3 bucket (AWS, or the endpoint given);\n"
    "                            b2:... the same for Backblaze B2\n"
    "\n"
    "Commands\n"
    "  create [--precreate]      initialize a new store (the directory must be\n"
    "                            missing or empty); --precreate also makes every\n"
    "                            nesting directory of each namespace's deepest level\n"
    "  destroy                   remove the store and everything in it\n"
    "  put NAME [FILE|-]         store FILE (stdin when - or absent) as NAME,\n"
    "                            replacing an existing value\n"
    "  get NAME [FILE|-] [--offset N] [--size N] [--deleted]\n"
    "                            write the value of NAME to FILE (stdout when - or\n"
    "                            absent); --offset starts N bytes in (negative: N\n"
    "                            bytes before the end), --size reads at most N bytes\n"
    "  info NAME [--deleted]     show whether NAME exists, its size and where it is\n"
    "                            stored (exit 1 when it does not exist)\n"
    "  ls NAMESPACE [--deleted] [--long]\n"
    "                            list the items of NAMESPACE (e.g. data), one full\n"
    "                            name per line, sorted; --long prefixes the size;\n"
    "                            --deleted lists only soft-deleted items\n"
    "  rm NAME [--deleted]       delete NAME for good (--deleted: the soft-deleted one)\n"
    "  mv OLD NEW [--deleted]    rename OLD to NEW (replacing NEW if it exists)\n"
    "  soft-delete NAME          hide NAME (renamed to NAME.del), keeping its value\n"
    "  undelete NAME             bring a soft-deleted NAME back\n"
    "  hash NAME [--algorithm sha256|sha512|blake2b] [--deleted]\n"
    "                            hex digest of the value (default sha256)\n"
    "  quota                     quota limit and usage in bytes (-1: not tracked)\n"
    "  put-many DIR [--window N] store, for each name read from stdin (one per line,\n"
    "                            blank lines ignored), the file DIR/NAME as NAME\n"
    "  get-many DIR [--window N] write, for each name read from stdin, the value of\n"
    "                            NAME to DIR/NAME (atomically, parents created)\n"
    "  import DIR [PREFIX] [--window N]\n"
    "                            store every regular file below DIR as PREFIX/PATH\n"
    "                            (PATH relative to DIR; no PREFIX: as PATH), like\n"
    "                            rclone copy DIR remote:PREFIX; symlinks are skipped\n"
    "  export NAMESPACE DIR [--window N]\n"
    "                            write every item NAMESPACE/KEY (as ls lists them)\n"
    "                            to DIR/KEY, like rclone copy remote:NAMESPACE DIR\n"
    "  demo                      walk through what the store does on a throw-away\n"
    "                            store (a new temp directory when no URL is given;\n"
    "                            a given URL must be missing or empty) and remove it\n"
    "\n"
    "Options (anywhere on the line)\n"
    "  --levels NS=L[,L...]      nesting levels of namespace NS (repeatable). Without\n"
    "                            any, data uses level 1 and every other namespace\n"
    "                            level 0. With some, only the namespaces given exist\n"
    "                            (NS empty: every name). Several levels (e.g.\n"
    "                            data=1,2) find items on any of them and put new ones\n"
    "                            on the last\n"
    "  --cache URL               keep a cache of the store at URL (e.g. a local\n"
    "                            file:// dir; see --cache-ns)\n"
    "  --cache-ns NS=MODE[,max-age=SECONDS][,size=BYTES][,verify]\n"
    "                            cache namespace NS (as in --levels; repeatable):\n"
    "                            MODE off, mirror or writethrough; BYTES may end\n"
    "                            in K, M, G, T; verify: keys are sha256 of values\n"
    "  --json                    ls, info, quota and --stats print JSON; bulk\n"
    "                            commands print a summary {\"command\", \"items\",\n"
    "                            \"failed\", \"bytes\", \"seconds\", \"complete\"}\n"
    "  --window N                bulk commands: requests in flight at once (default\n"
    "                            0: what the backend advertises; 1: one at a time)\n"
    "  --stats                   print the store's statistics to stderr at the end\n"
    "  -v, --verbose             say what was done, on stderr (bulk commands: a\n"
    "                            summary, e.g. \"stored 1234 items, 5.6 MB in 0.8 s\")\n"
    "  -h, --help                show this help\n"
    "  -V, --version             show the version\n"
    "\n"
    "Environment\n"
    "  BORGSTORE_LATENCY         add this many microseconds to every backend call\n"
    "  BORGSTORE_BANDWIDTH       limit the payload rate to this many bit/s\n"
    "\n"
    "Exit status: 0 success, 1 store error (e.g. object not found), 2 usage error.\n"
    "Errors are one line on stderr, e.g. \"borgstore: object not found: data/00ff\".\n"
    "Bulk commands report each failed item on its own line and go on with the\n"
    "others; their exit status is 1 when any item failed.\n"
    "Large put/get and bulk transfers show a progress bar when stderr is a terminal.\n"
    "\n"
    "Examples\n"
    "  borgstore file:///tmp/s create\n"
    "  echo hello | borgstore file:///tmp/s put config/greeting\n"
    "  borgstore file:///tmp/s get config/greeting --offset -3\n"
    "  borgstore file:///tmp/s ls data | borgstore file:///tmp/s get-many /tmp/out\n"
    "  borgstore serve:///srv/s import /tmp/out\n"
    "  borgstore serve:///srv/s export data /tmp/data\n"
    "  borgstore --levels config=0 --levels data=2 file:///tmp/s ls data --long\n";

/* ---- helpers shared with the commands ---------------------------------- */

int cli_fail(int rc)
{
    const char *msg = bs_error_message();
    fprintf(stderr, "borgstore: %s\n", msg && *msg ? msg : bs_error_str(rc));
    return CLI_STORE_ERROR;
}

int cli_usage(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "borgstore: %s (see borgstore --help)\n", msg);
    return CLI_USAGE;
}

void cli_verbose(const cli_opts *o, const char *fmt, ...)
{
    if (!o->verbose) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("borgstore: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

void cli_store_config(const cli_opts *o, bs_store_config *out)
{
    if (o->n_ns == 0) {
        bs_store_config_default(out);
        return;
    }
    memset(out, 0, sizeof *out);
    out->namespaces = o->ns;
    out->n_namespaces = o->n_ns;
}

/* ---- progress bar ---------------------------------------------------------- */

#define PROGRESS_MIN_BYTES (8u << 20)

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void cli_progress_start(cli_progress *p, const char *label, uint64_t total)
{
    memset(p, 0, sizeof *p);
    p->enabled = isatty(STDERR_FILENO) == 1;
    p->label = label;
    p->total = total;
}

static void progress_draw(cli_progress *p)
{
    double mib = (double)p->done / (1 << 20);
    if (p->total) {
        int width = 30;
        int fill = (int)((double)p->done * width / (double)p->total);
        if (fill > width) fill = width;
        fprintf(stderr, "\r%s [%.*s%*s] %3d%% %.1f MiB", p->label, fill,
                "##############################", width - fill, "",
                (int)((double)p->done * 100 / (double)p->total), mib);
    } else {
        fprintf(stderr, "\r%s %.1f MiB", p->label, mib);
    }
    fflush(stderr);
    p->drawn = true;
}

void cli_progress_add(cli_progress *p, uint64_t n)
{
    p->done += n;
    if (!p->enabled) return;
    uint64_t size = p->total ? p->total : p->done;
    if (size < PROGRESS_MIN_BYTES) return;
    uint64_t now = mono_ns();
    if (p->drawn && now - p->last_draw_ns < 100000000u) return;
    p->last_draw_ns = now;
    progress_draw(p);
}

void cli_progress_end(cli_progress *p)
{
    if (!p->enabled || !p->drawn) return;
    progress_draw(p);
    fputs("\r\033[K", stderr);
    fflush(stderr);
}

/* ---- option parsing -------------------------------------------------------- */

enum {
    O_DELETED = 1 << 0, O_LONG = 1 << 1, O_OFFSET = 1 << 2, O_SIZE = 1 << 3,
    O_ALG = 1 << 4, O_PRECREATE = 1 << 5, O_WINDOW = 1 << 6,
};

typedef struct command {
    const char *name;
    int min_args, max_args;
    unsigned opts;  /* command-specific options it accepts */
    bool open;      /* needs an open store */
    int (*run)(bs_store *s, const cli_opts *o);
} command;

static const command commands[] = {
    {"create", 0, 0, O_PRECREATE, false, cli_cmd_create},
    {"destroy", 0, 0, 0, false, cli_cmd_destroy},
    {"put", 1, 2, 0, true, cli_cmd_put},
    {"get", 1, 2, O_OFFSET | O_SIZE | O_DELETED, true, cli_cmd_get},
    {"info", 1, 1, O_DELETED, true, cli_cmd_info},
    {"ls", 1, 1, O_DELETED | O_LONG, true, cli_cmd_ls},
    {"rm", 1, 1, O_DELETED, true, cli_cmd_rm},
    {"mv", 2, 2, O_DELETED, true, cli_cmd_mv},
    {"soft-delete", 1, 1, 0, true, cli_cmd_soft_delete},
    {"undelete", 1, 1, 0, true, cli_cmd_undelete},
    {"hash", 1, 1, O_ALG | O_DELETED, true, cli_cmd_hash},
    {"quota", 0, 0, 0, true, cli_cmd_quota},
    {"put-many", 1, 1, O_WINDOW, true, cli_cmd_put_many},
    {"get-many", 1, 1, O_WINDOW, true, cli_cmd_get_many},
    {"import", 1, 2, O_WINDOW, true, cli_cmd_import},
    {"export", 2, 2, O_WINDOW, true, cli_cmd_export},
    {"demo", 0, 0, 0, false, NULL},
};

static const char *opt_names[] = {"--deleted", "--long", "--offset", "--size", "--algorithm",
                                  "--precreate", "--window"};

/* Most --window (the backends clamp it to what they can take anyway). */
#define WINDOW_MAX 65536

static int parse_int64(const char *opt, const char *v, int64_t *out)
{
    errno = 0;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || errno)
        return cli_usage("%s needs a whole number, got '%s'", opt, v);
    *out = n;
    return 0;
}

/* --levels NS=L[,L...] */
static int parse_levels(cli_opts *o, const char *v)
{
    const char *eq = strrchr(v, '=');
    if (!eq) return cli_usage("--levels wants NS=L[,L...], got '%s'", v);
    if (o->n_ns == CLI_NS_MAX) return cli_usage("too many --levels (max %d)", CLI_NS_MAX);
    size_t ns_len = (size_t)(eq - v);
    while (ns_len && v[ns_len - 1] == '/') ns_len--;
    if (ns_len + 2 > BS_NAME_BUF) return cli_usage("namespace too long in --levels");
    bs_store_namespace *ns = &o->ns[o->n_ns];
    char *prefix = o->prefix_buf[o->n_ns];
    memcpy(prefix, v, ns_len);
    if (ns_len) prefix[ns_len++] = '/';
    prefix[ns_len] = '\0';
    memset(ns, 0, sizeof *ns);
    ns->prefix = prefix;
    const char *p = eq + 1;
    for (;;) {
        char *end;
        errno = 0;
        long l = strtol(p, &end, 10);
        if (end == p || errno || l < 0 || l > BS_STORE_LEVEL_MAX)
            return cli_usage("--levels %s: levels are numbers from 0 to %d", v,
                             BS_STORE_LEVEL_MAX);
        if (ns->nlevels == BS_STORE_LEVELS_MAX)
            return cli_usage("--levels %s: at most %d levels", v, BS_STORE_LEVELS_MAX);
        ns->levels[ns->nlevels++] = (int)l;
        if (*end == '\0') break;
        if (*end != ',') return cli_usage("--levels %s: separate levels with ','", v);
        p = end + 1;
    }
    for (size_t i = 0; i < o->n_ns; i++)
        if (!strcmp(o->ns[i].prefix, prefix))
            return cli_usage("--levels given twice for '%s'", v);
    o->n_ns++;
    return 0;
}

/* Parses argv into o and *pos (positional arguments). Returns -1 when done
 * (help/version printed), 0 to go on, or an exit status > 0. */
static int parse(int argc, char **argv, cli_opts *o, char **pos, int *npos, unsigned *used)
{
    bool options_done = false;
    *npos = 0;
    *used = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (options_done || a[0] != '-' || !strcmp(a, "-")) {
            pos[(*npos)++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            options_done = true;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage_text, stdout);
            fputs(help_text, stdout);
            return -1;
        }
        if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
            printf("borgstore %s\n", BS_VERSION);
            return -1;
        }
        if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) { o->verbose = true; continue; }
        if (!strcmp(a, "--json")) { o->json = true; continue; }
        if (!strcmp(a, "--stats")) { o->stats = true; continue; }
        if (!strcmp(a, "--deleted")) { o->deleted = true; *used |= O_DELETED; continue; }
        if (!strcmp(a, "--long") || !strcmp(a, "-l")) {
            o->long_list = true;
            *used |= O_LONG;
            continue;
        }
        if (!strcmp(a, "--precreate")) { o->precreate = true; *used |= O_PRECREATE; continue; }
        int crc = cli_cache_arg(argc, argv, &i); /* --cache, --cache-ns */
        if (crc >= 0) {
            if (crc) return crc;
            continue;
        }
        /* options with a value: --opt VALUE or --opt=VALUE */
        static const char *valued[] = {"--levels", "--offset", "--size", "--algorithm",
                                       "--window"};
        const char *value = NULL;
        int which = -1;
        for (int k = 0; k < 5; k++) {
            size_t n = strlen(valued[k]);
            if (!strncmp(a, valued[k], n) && (a[n] == '\0' || a[n] == '=')) {
                which = k;
                if (a[n] == '=') value = a + n + 1;
                else if (i + 1 < argc) value = argv[++i];
                else return cli_usage("%s needs a value", valued[k]);
                break;
            }
        }
        int rc;
        switch (which) {
        case 0:
            if ((rc = parse_levels(o, value))) return rc;
            break;
        case 1:
            if ((rc = parse_int64("--offset", value, &o->offset))) return rc;
            o->have_offset = true;
            *used |= O_OFFSET;
            break;
        case 2:
            if ((rc = parse_int64("--size", value, &o->size))) return rc;
            if (o->size < 0) return cli_usage("--size must not be negative");
            o->have_size = true;
            *used |= O_SIZE;
            break;
        case 3:
            if (bs_hash_alg_parse(value, &o->alg))
                return cli_usage("unknown --algorithm '%s' (sha256, sha512, blake2b)", value);
            o->have_alg = true;
            *used |= O_ALG;
            break;
        case 4: {
            int64_t w;
            if ((rc = parse_int64("--window", value, &w))) return rc;
            if (w < 0 || w > WINDOW_MAX)
                return cli_usage("--window must be from 0 to %d", WINDOW_MAX);
            o->window = (size_t)w;
            *used |= O_WINDOW;
            break;
        }
        default:
            return cli_usage("unknown option %s", a);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static cli_opts o;
    char **pos = calloc((size_t)argc + 1, sizeof *pos);
    if (!pos) {
        fputs("borgstore: out of memory\n", stderr);
        return CLI_STORE_ERROR;
    }
    int npos;
    unsigned used;
    int rc = parse(argc, argv, &o, pos, &npos, &used);
    if (rc) {
        free(pos);
        return rc < 0 ? CLI_OK : rc;
    }
    int first = 2; /* index of the command's first argument in pos */
    if (npos >= 1 && !strcmp(pos[0], "demo")) {
        o.cmd = "demo"; /* "borgstore demo [URL]" is accepted too */
        o.url = npos >= 2 ? pos[1] : NULL;
        first = npos >= 2 ? 2 : 1;
    } else if (npos < 2) {
        free(pos);
        fputs(usage_text, stderr);
        return cli_usage(npos ? "no command given" : "no URL and command given");
    } else {
        o.url = pos[0];
        o.cmd = pos[1];
    }
    o.args = pos + first;
    o.nargs = npos - first;

    const command *c = NULL;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(commands[i].name, o.cmd)) c = &commands[i];
    if (!c) {
        rc = cli_usage("unknown command '%s'", o.cmd);
        free(pos);
        return rc;
    }
    if (o.nargs < c->min_args || o.nargs > c->max_args) {
        rc = o.nargs < c->min_args ? cli_usage("%s: missing argument", c->name)
                                   : cli_usage("%s: too many arguments", c->name);
        free(pos);
        return rc;
    }
    for (size_t k = 0; k < sizeof opt_names / sizeof opt_names[0]; k++)
        if ((used & (1u << k)) && !(c->opts & (1u << k))) {
            rc = cli_usage("%s does not take %s", c->name, opt_names[k]);
            free(pos);
            return rc;
        }

    if (!c->run) {
        rc = cli_demo(&o);
        free(pos);
        return rc;
    }

    bs_store_config cfg;
    cli_store_config(&o, &cfg);
    bs_store *s;
    int err = bs_store_new(&s, o.url, &cfg);
    if (err) {
        rc = err == BS_ERR_URL_INVALID ? (cli_fail(err), CLI_USAGE) : cli_fail(err);
        free(pos);
        return rc;
    }
    if ((rc = cli_cache_apply(s))) {
    } else if (c->open && (err = bs_store_open(s))) {
        rc = cli_fail(err);
    } else {
        rc = c->run(s, &o);
        if (c->open && (err = bs_store_close(s)) && rc == CLI_OK) rc = cli_fail(err);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (rc == CLI_OK) {
            fprintf(stderr, "borgstore: cannot write output: %s\n", strerror(errno));
            rc = CLI_STORE_ERROR;
        }
    }
    if (o.stats) {
        bs_store_stats st;
        bs_store_stats_get(s, &st);
        char *text;
        if (!bs_store_stats_format(&text, &st, o.json ? BS_STATS_JSON : BS_STATS_TEXT)) {
            fputs(text, stderr);
            bs_free(text);
        }
    }
    bs_store_free(s);
    free(pos);
    return rc;
}
