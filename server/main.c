/* borgstore-serve: serves a borgstore over stdin/stdout for a remote client,
 * usually as an SSH forced command. This file parses the operator's options
 * (and the few safe ones a client may pass in SSH_ORIGINAL_COMMAND),
 * validates them once, and runs the connection. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/permissions.h"
#include "bs_config.h"
#include "proto/cmdline.h"
#include "server/place.h"
#include "server/rest/backend_arg.h"
#include "server/rest/rest.h"
#include "server/serve.h"

static const char usage_text[] =
    "Usage: borgstore-serve [OPTIONS]\n"
    "       borgstore-serve [serve] --rest [OPTIONS] [--backend FILE:<path>]\n"
    "\n"
    "Serves borgstore stores over stdin/stdout to a borgstore client (serve:// or\n"
    "ssh:// URLs). Meant to run as an SSH forced command, e.g. in authorized_keys:\n"
    "  command=\"borgstore-serve --restrict-to-path /srv/backups/alice\",restrict ssh-ed25519 ...\n"
    "The client names the store path; relative paths are relative to the working\n"
    "directory (the home directory under sshd). Options cannot be changed by the client.\n"
    "\n"
    "Options:\n"
    "  --restrict-to-path PATH        only serve stores at or below PATH (repeatable;\n"
    "                                 symlinks resolved, /a does not admit /a2)\n"
    "  --restrict-to-repository PATH  only serve the store exactly at PATH (repeatable;\n"
    "                                 it need not exist yet, so create works)\n"
    "  --permissions SPEC             borgbackup-all, borgbackup-no-delete,\n"
    "                                 borgbackup-write-only, borgbackup-read-only, or a\n"
    "                                 JSON object {\"name\": \"lrwWD\", ...}; names are matched\n"
    "                                 from the store directly below a --restrict-to-path\n"
    "                                 (or the --restrict-to-repository); a non-empty map\n"
    "                                 needs one of these (or --backend)\n"
    "  --read-only                    refuse every request that changes a store\n"
    "  --quota BYTES                  enforce a quota (suffixes K, M, G, T: powers of 1000;\n"
    "                                 KiB, MiB, GiB, TiB: powers of 1024)\n"
    "                                 one account per --restrict-to-path root, shared by\n"
    "                                 every store below it; else one per store; every\n"
    "                                 item counts at least 4096 bytes, every directory 4096\n"
    "  --umask OCTAL                  umask for created files (default 077)\n"
    "  --list-memory BYTES            list entries one connection's cursors may hold\n"
    "                                 (default 64 MiB, at least 64 KiB); a directory\n"
    "                                 with more is refused\n"
    "  --log-level LEVEL              debug, info, warning (default), error, critical\n"
    "  --log-file FILE                append log lines to FILE instead of stderr\n"
    "  --backend URL                  serve this backend URL, ignoring the client's path;\n"
    "                                 with --rest, FILE:<path> or file:///<path> names\n"
    "                                 the store (placed beneath the restrictions)\n"
    "  --rest                         speak Python borgstore's REST v1 (borg 2's rest://\n"
    "                                 repositories) on stdin/stdout instead of msgpack\n"
    "  --stdio                        the same as --rest (borgstore-server-rest's shape)\n"
    "  --max-frame BYTES              largest frame accepted (default 1 MiB)\n"
    "  --max-value BYTES              largest value accepted or sent (default 256 MiB)\n"
    "  --max-inflight N               requests a client may have in flight (default 128)\n"
    "  --drain-timeout SECONDS        once the client has closed its side, how long\n"
    "                                 replies may wait for it to read (default 10)\n"
    "  -h, --help                     show this help and exit\n"
    "  -V, --version                  show the version and exit\n"
    "\n"
    "With SSH_ORIGINAL_COMMAND set (forced command), only --log-level is taken\n"
    "from the client's command (with --rest also --backend FILE:<path>, as borg\n"
    "serve allows: `borg serve --rest --backend FILE:repo`); everything else comes\n"
    "from the command line above.\n"
    "\n"
    "--permissions also takes borg's names all, no-delete, write-only, read-only\n"
    "(borg's tables: packs/, index/, ...). With --rest and no --permissions,\n"
    "BORG_REPO_PERMISSIONS is used, like borg serve.\n"
    "\n"
    "Exit codes: 0 connection ended normally (EOF, SIGHUP, SIGTERM, broken pipe);\n"
    "2 usage error; 3 invalid option value; 4 cannot open the log file;\n"
    "5 the peer is not a borgstore client or broke the framing; 6 stdin/stdout\n"
    "failed; 7 out of memory or internal error; 8 the client closed its side and\n"
    "stopped reading (replies dropped after --drain-timeout).\n";

enum {
    OPT_RESTRICT_PATH = 256, OPT_RESTRICT_REPO, OPT_PERMISSIONS, OPT_READ_ONLY, OPT_QUOTA,
    OPT_UMASK, OPT_LOG_LEVEL, OPT_LOG_FILE, OPT_BACKEND, OPT_MAX_FRAME, OPT_MAX_VALUE,
    OPT_MAX_INFLIGHT, OPT_DRAIN_TIMEOUT, OPT_LIST_MEMORY, OPT_REST, OPT_LISTEN,
    OPT_SOCKET_ACTIVATION, OPT_MAX_CONNECTIONS, OPT_AUTH_FILE,
};

static const struct option long_opts[] = {
    {"restrict-to-path", required_argument, NULL, OPT_RESTRICT_PATH},
    {"restrict-to-repository", required_argument, NULL, OPT_RESTRICT_REPO},
    {"permissions", required_argument, NULL, OPT_PERMISSIONS},
    {"read-only", no_argument, NULL, OPT_READ_ONLY},
    {"quota", required_argument, NULL, OPT_QUOTA},
    {"umask", required_argument, NULL, OPT_UMASK},
    {"list-memory", required_argument, NULL, OPT_LIST_MEMORY},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"log-file", required_argument, NULL, OPT_LOG_FILE},
    {"backend", required_argument, NULL, OPT_BACKEND},
    {"max-frame", required_argument, NULL, OPT_MAX_FRAME},
    {"max-value", required_argument, NULL, OPT_MAX_VALUE},
    {"max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT},
    {"drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT},
    {"rest", no_argument, NULL, OPT_REST},
    {"stdio", no_argument, NULL, OPT_REST},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"socket-activation", no_argument, NULL, OPT_SOCKET_ACTIVATION},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
    {"auth-file", required_argument, NULL, OPT_AUTH_FILE},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static int die(int code, const char *fmt, const char *arg)
{
    fprintf(stderr, "borgstore-serve: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    return code;
}

/* "123", "10M", "1GiB" -> bytes. */
static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *s == '-') return -1;
    static const struct { const char *suffix; uint64_t mult; } units[] = {
        {"", 1}, {"B", 1}, {"K", 1000ull}, {"M", 1000000ull}, {"G", 1000000000ull},
        {"T", 1000000000000ull}, {"KiB", 1ull << 10}, {"MiB", 1ull << 20},
        {"GiB", 1ull << 30}, {"TiB", 1ull << 40},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(end, units[i].suffix)) {
            if (v > UINT64_MAX / units[i].mult) return -1;
            *out = v * units[i].mult;
            return 0;
        }
    return -1;
}

static int add_resolved(char ***list, size_t *n, const char *path, const char *opt)
{
    char resolved[PATH_MAX];
    if (serve_resolve(resolved, path)) {
        fprintf(stderr, "borgstore-serve: %s %s: %s\n", opt, path, bs_error_message());
        return SERVE_EXIT_CONFIG;
    }
    char **l = realloc(*list, (*n + 1) * sizeof *l);
    if (!l || !(l[*n] = strdup(resolved))) return die(SERVE_EXIT_INTERNAL, "%s", "out of memory");
    *list = l;
    (*n)++;
    return 0;
}

/* The client's command (SSH_ORIGINAL_COMMAND): only --log-level is
 * honoured, and with --rest the store (--backend), which *backend receives
 * (cap bytes; NULL: not wanted). */
static void client_command(serve_opts *o, const char *cmd, char *backend, size_t cap)
{
    char **argv;
    size_t argc;
    if (bs__split_words(&argv, &argc, cmd)) {
        fprintf(stderr, "borgstore-serve: ignoring an unparsable SSH_ORIGINAL_COMMAND\n");
        return;
    }
    for (size_t i = 1; i < argc; i++) {
        const char *val = NULL;
        if (!strcmp(argv[i], "--log-level") && i + 1 < argc) val = argv[++i];
        else if (!strncmp(argv[i], "--log-level=", 12)) val = argv[i] + 12;
        if (val && serve_log_level_parse(val) > 0) o->log_level = serve_log_level_parse(val);
        const char *b = NULL;
        if (!strcmp(argv[i], "--backend") && i + 1 < argc) b = argv[++i];
        else if (!strncmp(argv[i], "--backend=", 10)) b = argv[i] + 10;
        if (b && backend && strlen(b) < cap) snprintf(backend, cap, "%s", b);
        /* anything else in the client's command is ignored on purpose */
    }
    bs__argv_free(argv);
}

int main(int argc, char **argv)
{
    static serve_opts o;
    o.log_level = BS_LOG_WARNING;
    o.log_fd = 2;
    o.max_frame = BS_FRAME_DEFAULT;
    o.max_value = BS_VALUE_DEFAULT;
    o.max_inflight = BS_INFLIGHT_DEFAULT;
    o.drain_timeout = 10;
    o.list_memory = SERVE_LIST_MEMORY_DEFAULT;
    mode_t mask = 077;
    const char *log_file = NULL;
    bool perm_map = false, rest = false, sock_act = false;
    const char *listen_addr = NULL, *auth_file = NULL;
    unsigned max_conns = 8;
    static char client_backend[PATH_MAX + 16];
    uint64_t v;
    int c, rc;
    while ((c = getopt_long(argc, argv, "hV", long_opts, NULL)) != -1) {
        switch (c) {
        case OPT_RESTRICT_PATH:
            if ((rc = add_resolved(&o.restrict_paths, &o.n_restrict_paths, optarg,
                                   "--restrict-to-path")))
                return rc;
            break;
        case OPT_RESTRICT_REPO:
            if ((rc = add_resolved(&o.restrict_repos, &o.n_restrict_repos, optarg,
                                   "--restrict-to-repository")))
                return rc;
            break;
        case OPT_PERMISSIONS: {
            bs_permissions *p = NULL;
            if (bs__permissions_parse(&p, optarg))
                return die(SERVE_EXIT_CONFIG, "--permissions: %s", bs_error_message());
            perm_map = bs__permissions_count(p) > 0;
            bs__permissions_free(p);
            o.permissions = optarg;
            break;
        }
        case OPT_READ_ONLY: o.read_only = true; break;
        case OPT_QUOTA:
            if (parse_size(optarg, &o.quota) || o.quota > INT64_MAX)
                return die(SERVE_EXIT_CONFIG, "--quota: not a size: %s", optarg);
            break;
        case OPT_UMASK: {
            char *end;
            long m = strtol(optarg, &end, 8);
            if (*end || end == optarg || m < 0 || m > 0777)
                return die(SERVE_EXIT_CONFIG, "--umask: not an octal mode up to 777: %s", optarg);
            mask = (mode_t)m;
            break;
        }
        case OPT_LIST_MEMORY:
            if (parse_size(optarg, &o.list_memory) || o.list_memory < SERVE_LIST_MEMORY_MIN ||
                o.list_memory > SIZE_MAX / 2)
                return die(SERVE_EXIT_CONFIG, "--list-memory: must be 64 KiB or more: %s", optarg);
            break;
        case OPT_LOG_LEVEL:
            if ((o.log_level = serve_log_level_parse(optarg)) < 0)
                return die(SERVE_EXIT_CONFIG, "--log-level: unknown level %s", optarg);
            break;
        case OPT_LOG_FILE: log_file = optarg; break;
        case OPT_BACKEND: o.backend_url = optarg; break;
        case OPT_MAX_FRAME:
            if (parse_size(optarg, &v) || v < BS_FRAME_MIN || v > BS_FRAME_CEIL)
                return die(SERVE_EXIT_CONFIG, "--max-frame: must be 64 KiB .. 64 MiB: %s", optarg);
            o.max_frame = (uint32_t)v;
            break;
        case OPT_MAX_VALUE:
            if (parse_size(optarg, &v) || v == 0 || v > BS_VALUE_CEIL)
                return die(SERVE_EXIT_CONFIG, "--max-value: must be 1 .. 16 GiB: %s", optarg);
            o.max_value = v;
            break;
        case OPT_MAX_INFLIGHT:
            if (parse_size(optarg, &v) || v == 0 || v > BS_INFLIGHT_CEIL)
                return die(SERVE_EXIT_CONFIG, "--max-inflight: must be 1 .. 4096: %s", optarg);
            o.max_inflight = (uint32_t)v;
            break;
        case OPT_DRAIN_TIMEOUT:
        {
            char *end;
            long sec = strtol(optarg, &end, 10);
            if (*end || end == optarg || sec < 1 || sec > 3600)
                return die(SERVE_EXIT_CONFIG, "--drain-timeout: must be 1 .. 3600 seconds: %s",
                           optarg);
            o.drain_timeout = (int)sec;
            break;
        }
        case OPT_REST: rest = true; break;
        case OPT_LISTEN: listen_addr = optarg; break;
        case OPT_SOCKET_ACTIVATION: sock_act = true; break;
        case OPT_AUTH_FILE: auth_file = optarg; break;
        case OPT_MAX_CONNECTIONS:
            if (parse_size(optarg, &v) || v == 0 || v > 1024)
                return die(SERVE_EXIT_CONFIG, "--max-connections: must be 1 .. 1024: %s", optarg);
            max_conns = (unsigned)v;
            break;
        case 'h': fputs(usage_text, stdout); return 0;
        case 'V': printf("borgstore-serve %s (protocol %d)\n", BS_VERSION, BS_PROTO_VERSION); return 0;
        default:
            fprintf(stderr, "Try 'borgstore-serve --help'.\n");
            return SERVE_EXIT_USAGE;
        }
    }
    /* borg's argv shape: `borgstore-serve serve --rest ...` (BORG_REMOTE_PATH) */
    if (optind < argc && !strcmp(argv[optind], "serve")) optind++;
    if (optind < argc) {
        fprintf(stderr, "borgstore-serve: unexpected argument '%s'\nTry 'borgstore-serve --help'.\n",
                argv[optind]);
        return SERVE_EXIT_USAGE;
    }
    bool tcp = listen_addr || sock_act;
    if ((tcp || auth_file) && !rest)
        return die(SERVE_EXIT_USAGE, "%s", "--listen, --socket-activation and --auth-file "
                   "need --rest");
    if (listen_addr && sock_act)
        return die(SERVE_EXIT_USAGE, "%s", "--listen and --socket-activation exclude each other");
    if (auth_file && !tcp)
        return die(SERVE_EXIT_USAGE, "%s", "--auth-file needs --listen or --socket-activation");
    rest_cfg rcfg = {.tcp = tcp};
    static uint8_t auth_hash[BS_REST_AUTH_HASH];
    if (auth_file) {
        if (sodium_init() < 0)
            return die(SERVE_EXIT_INTERNAL, "%s", "libsodium failed to initialize");
        if (rest_auth_load(auth_hash, auth_file)) return SERVE_EXIT_CONFIG;
        rcfg.auth = auth_hash;
    }
    if (rest && o.backend_url && !strcmp(o.backend_url, "URL-PATH")) {
        if (!tcp)
            return die(SERVE_EXIT_USAGE, "%s", "--backend URL-PATH needs --listen or "
                       "--socket-activation");
        if (!o.n_restrict_paths && !o.n_restrict_repos)
            return die(SERVE_EXIT_CONFIG, "%s", "--backend URL-PATH needs --restrict-to-path "
                       "or --restrict-to-repository");
        rcfg.url_path = true;
        o.backend_url = NULL;
    }
    /* over TCP, no client command chooses anything */
    const char *ssh_cmd = tcp ? NULL : getenv("SSH_ORIGINAL_COMMAND");
    /* with --rest, a FILE:/file:// --backend names the store to place */
    const char *rest_spec = NULL;
    if (rest && o.backend_url &&
        (!strncmp(o.backend_url, "FILE:", 5) || !strncmp(o.backend_url, "file://", 7))) {
        rest_spec = o.backend_url;
        o.backend_url = NULL;
    }
    /* a pinned remote backend (sftp, s3, ...) holds connections that forked
     * children must not share */
    if (tcp && o.backend_url)
        return die(SERVE_EXIT_USAGE, "%s", "over TCP, --backend must be FILE:<path>, "
                   "file:///<path> or URL-PATH");
    if (ssh_cmd)
        client_command(&o, ssh_cmd, rest && !o.backend_url && !rest_spec ? client_backend : NULL,
                       sizeof client_backend);
    if (!rest_spec && client_backend[0]) rest_spec = client_backend;
    char rest_path[PATH_MAX] = "";
    if (rest) {
        const char *env = getenv("BORG_REPO_PERMISSIONS");
        if (!o.permissions && env && *env) {
            bs_permissions *p = NULL;
            if (bs__permissions_parse(&p, env))
                return die(SERVE_EXIT_CONFIG, "BORG_REPO_PERMISSIONS: %s", bs_error_message());
            perm_map = bs__permissions_count(p) > 0;
            bs__permissions_free(p);
            o.permissions = env;
        }
        if (rest_spec && bs__rest_backend_path(rest_path, sizeof rest_path, rest_spec))
            return die(SERVE_EXIT_CONFIG, "--backend: %s", bs_error_message());
        /* one store per connection: without restrictions, a permissions map
         * is anchored at that store (an implicit --restrict-to-repository) */
        if (rest_path[0] && perm_map && !o.n_restrict_paths && !o.n_restrict_repos &&
            (rc = add_resolved(&o.restrict_repos, &o.n_restrict_repos, rest_path, "--backend")))
            return rc;
    }
    umask(mask);
    if (log_file) {
        o.log_fd = open(log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (o.log_fd < 0) {
            fprintf(stderr, "borgstore-serve: --log-file: cannot open %s: %s\n", log_file,
                    strerror(errno));
            return SERVE_EXIT_LOGFILE;
        }
    }
    if (sodium_init() < 0) return die(SERVE_EXIT_INTERNAL, "%s", "libsodium failed to initialize");
    if (!o.backend_url) {
        if (perm_map && !o.n_restrict_paths && !o.n_restrict_repos)
            return die(SERVE_EXIT_CONFIG, "%s", "--permissions needs --restrict-to-path, "
                       "--restrict-to-repository or --backend (else the client picks the "
                       "directory they are anchored at)");
        if (serve_roots_open(&o))
            return die(SERVE_EXIT_CONFIG, "restriction roots: %s", bs_error_message());
    }
    static serve s;
    s.opt = &o;
    if (!getcwd(s.cwd, sizeof s.cwd)) s.cwd[0] = '\0';
    if (!(s.page = calloc(BS_LIST_PAGE_DEFAULT + 1, sizeof *s.page)))
        return die(SERVE_EXIT_INTERNAL, "%s", "out of memory");
    if (o.backend_url) {
        bs_backend_config cfg = {.permissions = o.permissions, .quota = o.quota};
        if (bs_backend_new(&s.backend, o.backend_url, &cfg))
            return die(SERVE_EXIT_CONFIG, "--backend: %s", bs_error_message());
    }
    rcfg.store_path = rest_path[0] ? rest_path : NULL;
    int code = tcp    ? serve_rest_listen(&s, &rcfg, listen_addr, sock_act, max_conns)
               : rest ? serve_rest_conn(&s, &rcfg, 0, 1)
                      : serve_loop(&s);
    serve_shutdown(&s);
    bs__outq_free(&s.out);
    serve_inflight_free(&s);
    bs__inbuf_free(&s.in);
    serve_roots_close(&o);
    for (size_t i = 0; i < o.n_restrict_paths; i++) free(o.restrict_paths[i]);
    for (size_t i = 0; i < o.n_restrict_repos; i++) free(o.restrict_repos[i]);
    free(o.restrict_paths);
    free(o.restrict_repos);
    return code;
}
