/* borgstore CLI entry point: option parsing, the command table, which store
 * the command line names, error reporting and the progress bar. The help
 * text is in cli_help.c, the exit statuses in cli.h. */
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

/* ---- helpers shared with the commands ---------------------------------- */

int cli_exit_status(int rc)
{
    switch (rc) {
    case BS_OK: return CLI_OK;
    case BS_ERR_NOT_FOUND: return CLI_NOT_FOUND;
    case BS_ERR_DOES_NOT_EXIST: return CLI_NO_STORE;
    case BS_ERR_PERMISSION: return CLI_PERMISSION;
    case BS_ERR_QUOTA: return CLI_QUOTA;
    case BS_ERR_CONNECTION:
    case BS_ERR_TIMEOUT: return CLI_CONNECTION;
    case BS_ERR_ALREADY_EXISTS: return CLI_EXISTS;
    case BS_ERR_URL_INVALID: return CLI_USAGE;
    default: return CLI_STORE_ERROR;
    }
}

/* The store's URL, for messages about the store as a whole. */
static const char *store_url;

int cli_fail(int rc)
{
    const char *msg = bs_error_message();
    if (rc == BS_ERR_DOES_NOT_EXIST && store_url)
        fprintf(stderr, "borgstore: store does not exist: %s\n", store_url);
    else if (rc == BS_ERR_ALREADY_EXISTS && store_url)
        fprintf(stderr, "borgstore: cannot create %s: it exists and is not empty\n", store_url);
    else if (msg && *msg) {
        char words[512];
        fprintf(stderr, "borgstore: %s\n", cli_user_message(msg, words, sizeof words));
    } else {
        fprintf(stderr, "borgstore: %s\n", bs_error_str(rc));
    }
    return cli_exit_status(rc);
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
    p->start_ns = mono_ns();
}

/* "12.3 MiB" into out. */
static void mib(char *out, size_t cap, double bytes)
{
    snprintf(out, cap, "%.1f MiB", bytes / (1 << 20));
}

static void progress_draw(cli_progress *p)
{
    double secs = (double)(mono_ns() - p->start_ns) / 1e9;
    double rate = secs > 0 ? (double)p->done / secs : 0;
    char done[32], speed[48] = "", eta[32] = "";
    mib(done, sizeof done, (double)p->done);
    if (rate > 0) {
        mib(speed, sizeof speed, rate);
        strcat(speed, "/s");
    }
    if (p->total) {
        int width = 24;
        int fill = (int)((double)p->done * width / (double)p->total);
        if (fill > width) fill = width;
        if (rate > 0 && p->done < p->total) {
            unsigned left = (unsigned)((double)(p->total - p->done) / rate + 0.5);
            snprintf(eta, sizeof eta, "  ETA %u:%02u", left / 60, left % 60);
        }
        char total[32];
        mib(total, sizeof total, (double)p->total);
        fprintf(stderr, "\r%s [%.*s%*s] %3d%% %s of %s  %s%s\033[K", p->label, fill,
                "########################", width - fill, "",
                (int)((double)p->done * 100 / (double)p->total), done, total, speed, eta);
    } else {
        fprintf(stderr, "\r%s %s  %s\033[K", p->label, done, speed);
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
    O_ALG = 1 << 4, O_PRECREATE = 1 << 5, O_WINDOW = 1 << 6, O_YES = 1 << 7,
    O_MIN_AGE = 1 << 8, O_RESUME = 1 << 9, O_CHECKSUM = 1 << 10,
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
    {"destroy", 0, 0, O_YES, false, cli_cmd_destroy},
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
    {"cleanup", 0, 0, O_MIN_AGE, false, cli_cmd_cleanup},
    {"put-many", 1, 1, O_WINDOW, true, cli_cmd_put_many},
    {"get-many", 1, 1, O_WINDOW, true, cli_cmd_get_many},
    {"import", 1, 2, O_WINDOW | O_RESUME | O_CHECKSUM, true, cli_cmd_import},
    {"export", 2, 2, O_WINDOW | O_RESUME | O_CHECKSUM, true, cli_cmd_export},
    {"demo", 0, 0, 0, false, NULL},
};

static const char *opt_names[] = {"--deleted", "--long", "--offset", "--size", "--algorithm",
                                  "--precreate", "--window", "--yes", "--min-age",
                                  "--resume", "--checksum"};

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
            o->help = true;
            continue;
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
        if (!strcmp(a, "--yes") || !strcmp(a, "-y")) { o->yes = true; *used |= O_YES; continue; }
        if (!strcmp(a, "--resume")) { o->resume = true; *used |= O_RESUME; continue; }
        if (!strcmp(a, "--checksum")) {
            o->resume = o->checksum = true; /* --checksum resumes, comparing hashes too */
            *used |= O_CHECKSUM;
            continue;
        }
        /* options with a value: --opt VALUE or --opt=VALUE */
        static const char *valued[] = {"--levels", "--offset", "--size", "--algorithm",
                                       "--window", "--min-age", "--ssh-config"};
        const char *value = NULL;
        int which = -1;
        for (int k = 0; k < (int)(sizeof valued / sizeof valued[0]); k++) {
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
                return cli_usage("unknown --algorithm '%s' (md5, sha1, sha224, sha256, sha384, "
                                 "sha512, sha3_224/256/384/512, blake2b, blake2s)", value);
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
        case 6:
            o->ssh_config = value;
            break;
        case 5:
            if ((rc = parse_int64("--min-age", value, &o->min_age))) return rc;
            if (o->min_age < 0) return cli_usage("--min-age must not be negative");
            *used |= O_MIN_AGE;
            break;
        default:
            return cli_usage("unknown option %s", a);
        }
    }
    return 0;
}

static int run(cli_opts *o, unsigned used);

/* Appends the path components of p to out (at *len, room cap), resolving
 * "." and ".." by name and encoding '%' (file:// paths are
 * percent-decoded). false when it does not fit. */
static bool add_components(char *out, size_t *len, size_t cap, const char *p)
{
    while (*p) {
        while (*p == '/') p++;
        size_t n = strcspn(p, "/");
        if (n == 0) break;
        if (n == 1 && p[0] == '.') {
            /* nothing */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            while (*len > 0 && out[*len - 1] != '/') (*len)--;
            if (*len > 0) (*len)--;
        } else {
            if (*len + 1 >= cap) return false;
            out[(*len)++] = '/';
            for (size_t i = 0; i < n; i++) {
                if (*len + 4 >= cap) return false;
                if (p[i] == '%') {
                    memcpy(out + *len, "%25", 3);
                    *len += 3;
                } else {
                    out[(*len)++] = p[i];
                }
            }
        }
        p += n;
    }
    out[*len] = '\0';
    return true;
}

char *cli_store_url(const char *arg)
{
    /* URLs: "scheme://...", "rclone:..."; "host:path" is not a path either,
     * so the URL parser says what is wrong with it */
    bool path = arg[0] == '/' || arg[0] == '.' || arg[0] == '~' || !strchr(arg, ':');
    if (strstr(arg, "://") || !strncmp(arg, "rclone:", 7) || !path) return strdup(arg);
    char abs[PATH_MAX];
    size_t len = 0;
    const char *home = getenv("HOME");
    const char *rest = arg;
    char base[PATH_MAX] = "";
    if (arg[0] == '~' && (arg[1] == '/' || !arg[1]) && home) {
        snprintf(base, sizeof base, "%s", home);
        rest = arg + 1;
    } else if (arg[0] != '/' && !getcwd(base, sizeof base)) {
        return strdup(arg); /* no cwd: the URL parser rejects the relative path */
    }
    memcpy(abs, "file://", 7);
    len = 7;
    size_t root = len;
    if (!add_components(abs, &len, sizeof abs, base) ||
        !add_components(abs, &len, sizeof abs, rest))
        return strdup(arg);
    if (len == root) { /* "/" itself */
        abs[len++] = '/';
        abs[len] = '\0';
    }
    return strdup(abs);
}

/* serve://: without BORGSTORE_REMOTE_PATH, the borgstore-serve installed next
 * to this borgstore is the one meant (a build tree, /usr/local/bin), before
 * whatever PATH finds. */
static void find_serve_next_to_me(void)
{
    const char *rp = getenv("BORGSTORE_REMOTE_PATH");
    if (rp && *rp) return;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash) return;
    const char serve[] = "borgstore-serve";
    if ((size_t)(slash + 1 - self) + sizeof serve > sizeof self) return;
    memcpy(slash + 1, serve, sizeof serve);
    if (access(self, X_OK) == 0) setenv("BORGSTORE_REMOTE_PATH", self, 1);
}

int main(int argc, char **argv)
{
    static cli_opts o;
    o.min_age = -1;
    cli_signals_install();
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
    if (o.help) {
        /* "borgstore put --help", "borgstore URL put -h": that command's help */
        const char *cmd = NULL;
        for (int i = 0; i < npos && i < 2 && !cmd; i++)
            if (cli_is_command(pos[i])) cmd = pos[i];
        cli_help(stdout, cmd);
        free(pos);
        return CLI_OK;
    }
    int first = 2; /* index of the command's first argument in pos */
    const char *url_arg = NULL;
    if (npos >= 1 && !strcmp(pos[0], "demo")) {
        o.cmd = "demo"; /* "borgstore demo [URL]" is accepted too */
        url_arg = npos >= 2 ? pos[1] : NULL;
        first = npos >= 2 ? 2 : 1;
    } else if (npos >= 1 && cli_is_command(pos[0])) {
        /* the command first: the store comes from the environment */
        const char *env = getenv("BORGSTORE_URL");
        if (!env || !*env) {
            rc = cli_usage("'%s' is a command, but no store was given: write "
                           "borgstore URL %s ..., or set BORGSTORE_URL",
                           pos[0], pos[0]);
            free(pos);
            return rc;
        }
        url_arg = env;
        o.cmd = pos[0];
        first = 1;
    } else if (npos < 2) {
        free(pos);
        fputs(cli_usage_text, stderr);
        return cli_usage(npos ? "no command given" : "no URL and command given");
    } else {
        url_arg = pos[0];
        o.cmd = pos[1];
    }
    o.args = pos + first;
    o.nargs = npos - first;
    char *url = NULL;
    if (url_arg && !(url = cli_store_url(url_arg))) {
        free(pos);
        fputs("borgstore: out of memory\n", stderr);
        return CLI_STORE_ERROR;
    }
    o.url = url;
    store_url = url;
    rc = run(&o, used);
    free(url);
    free(pos);
    return rc;
}

/* Runs the command o names, with the options used. Returns the exit status. */
static int run(cli_opts *o_, unsigned used)
{
    cli_opts o = *o_;
    int rc;
    const command *c = NULL;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(commands[i].name, o.cmd)) c = &commands[i];
    if (!c) {
        return cli_usage("unknown command '%s'", o.cmd);
    }
    if (o.nargs < c->min_args || o.nargs > c->max_args) {
        return o.nargs < c->min_args ? cli_usage("%s: missing argument", c->name)
                                     : cli_usage("%s: too many arguments", c->name);
    }
    for (size_t k = 0; k < sizeof opt_names / sizeof opt_names[0]; k++)
        if ((used & (1u << k)) && !(c->opts & (1u << k))) {
            return cli_usage("%s does not take %s", c->name, opt_names[k]);
        }

    if (!c->run) return cli_demo(&o);
    if (!strncmp(o.url, "serve:", 6)) find_serve_next_to_me();

    bs_store_config cfg;
    cli_store_config(&o, &cfg);
    cfg.backend.ssh_config = o.ssh_config;
    bs_store *s;
    int err = bs_store_new(&s, o.url, &cfg);
    if (err) {
        return cli_fail(err);
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
    return rc;
}
