/* The borgstore CLI's help: one entry per command (shown alone by
 * "borgstore COMMAND --help" and together by "borgstore --help"), and the
 * sections that apply to all of them: URLs, options, environment, exit
 * statuses. docs/borgstore.1.md says the same at length. */
#include <string.h>

#include "client/cli.h"

const char cli_usage_text[] =
    "usage: borgstore [OPTIONS] URL COMMAND [ARGS]\n"
    "       borgstore [OPTIONS] COMMAND [ARGS]    (the store from $BORGSTORE_URL)\n"
    "       borgstore [OPTIONS] demo [URL]\n"
    "       borgstore COMMAND --help | --help | --version\n";

typedef struct cmd_help {
    const char *name;
    const char *usage; /* after "borgstore [OPTIONS] URL " */
    const char *text;  /* indented lines */
} cmd_help;

static const cmd_help cmds[] = {
    {"create", "create [--precreate]",
     "initialize a new store (the directory must be missing or empty); --precreate "
     "also makes every nesting directory of each namespace's deepest level"},
    {"destroy", "destroy [--yes]",
     "remove the store and everything in it. Refuses a directory that does not look "
     "like a store (exit 9) and asks first when stdin is a terminal (-y, --yes: do "
     "not ask)"},
    {"put", "put NAME [FILE|-]",
     "store FILE (stdin when - or absent; a terminal is refused unless - is given) as "
     "NAME, replacing an existing value"},
    {"get", "get NAME [FILE|-] [--offset N] [--size N] [--deleted]",
     "write the value of NAME to FILE (stdout when - or absent; FILE is replaced "
     "atomically); --offset starts N bytes in (negative: N bytes before the end), "
     "--size reads at most N bytes"},
    {"info", "info NAME [--deleted]",
     "show whether NAME exists, its size and where it is stored (exit 3 when it does "
     "not exist)"},
    {"ls", "ls NAMESPACE [--deleted] [--long]",
     "list the items of NAMESPACE (e.g. data), one full name per line, sorted; --long "
     "prefixes the size; --deleted lists only soft-deleted items"},
    {"rm", "rm NAME [--deleted]", "delete NAME for good (--deleted: the soft-deleted one)"},
    {"mv", "mv OLD NEW [--deleted]", "rename OLD to NEW (replacing NEW if it exists)"},
    {"soft-delete", "soft-delete NAME", "hide NAME (renamed to NAME.del), keeping its value"},
    {"undelete", "undelete NAME", "bring a soft-deleted NAME back"},
    {"hash", "hash NAME [--algorithm ALG] [--deleted]",
     "hex digest of the value; ALG is a hashlib name (md5, sha1, sha224, sha256, "
     "sha384, sha512, sha3_224, sha3_256, sha3_384, sha3_512, blake2b, blake2s; "
     "default sha256)"},
    {"quota", "quota", "quota limit and usage in bytes (-1: not tracked)"},
    {"cleanup", "cleanup [--min-age S]",
     "remove the temp files interrupted stores left in a store on this machine "
     "(file://, serve://) that were not modified for S seconds (default 3600)"},
    {"put-many", "put-many DIR [--window N]",
     "store, for each name read from stdin (one per line, blank lines ignored), the "
     "file DIR/NAME as NAME"},
    {"get-many", "get-many DIR [--window N]",
     "write, for each name read from stdin, the value of NAME to DIR/NAME "
     "(atomically, parents created)"},
    {"import", "import DIR [PREFIX] [--window N] [--resume|--checksum]",
     "store every regular file below DIR as PREFIX/PATH (PATH relative to DIR; no "
     "PREFIX: as PATH), like rclone copy DIR remote:PREFIX; symlinks are skipped. "
     "--resume skips files whose item is there with the same size, --checksum "
     "also compares their SHA-256"},
    {"export", "export NAMESPACE DIR [--window N] [--resume|--checksum]",
     "write every item NAMESPACE/KEY (as ls lists them) to DIR/KEY, like rclone copy "
     "remote:NAMESPACE DIR. --resume skips items whose file is there with the same "
     "size, --checksum also compares their SHA-256"},
    {"demo", "demo",
     "walk through what the store does on a throw-away store (a new temp directory "
     "when no URL is given; a given URL must be missing or empty) and remove it"},
};

static const char intro_text[] =
    "\n"
    "A key/value store for backup tools, compatible with Python borgstore 0.6.\n"
    "Items have names like data/0123abcd or config/settings: a namespace, a slash\n"
    "and a key (at most 100 characters, lowercase ASCII, no blanks, no \"..\").\n"
    "\n"
    "URL\n"
    "  file:///abs/path          a directory on this machine; a plain path\n"
    "                            (/srv/store, ./store, ~/store) means the same\n"
    "  serve:///abs/path         the same through borgstore-serve spawned locally\n"
    "                            (the one next to this borgstore, else from PATH)\n"
    "  ssh://[user@]host[:port]/rel/path, ssh://host//abs/path\n"
    "                            borgstore-serve over SSH (~/.ssh/config honoured)\n"
    "  sftp://[user@]host[:port]/rel/path, sftp://host//abs/path\n"
    "                            an SFTP server, same layout as file://\n"
    "  rclone:REMOTE:PATH        any rclone remote (runs a private rclone rcd)\n"
    "  rest://[user@]host[:port]/rel/path, rest://host//abs/path\n"
    "                            a REST v1 server (Python's borgstore-server-rest, or\n"
    "                            borg serve --rest) run over SSH (docs/rest.md)\n"
    "  rest:///abs/path          the same, run here on pipes\n"
    "  http://[user:pass@]host[:port][/prefix], https://...\n"
    "                            a REST v1 server on TCP, HTTP Basic auth\n"
    "  s3:[profile|KEY_ID:SECRET@][http(s)://host[:port]]/bucket/path\n"
    "                            an S3 bucket (AWS, or the endpoint given);\n"
    "                            b2:... the same for Backblaze B2\n"
    "  Without a URL before the command, $BORGSTORE_URL is the store.\n"
    "\n"
    "Commands (borgstore COMMAND --help shows one)\n";

static const char rest_text[] =
    "\n"
    "Options (anywhere on the line)\n"
    "  --levels NS=L[,L...]      nesting levels of namespace NS (repeatable). Without\n"
    "                            any, data uses level 1 and every other namespace\n"
    "                            level 0. With some, only the namespaces given exist\n"
    "                            (NS empty: every name). Several levels (e.g.\n"
    "                            data=1,2) find items on any of them and put new ones\n"
    "                            on the last\n"
    "  --json                    ls, info, quota, cleanup and --stats print JSON;\n"
    "                            bulk commands print a summary {\"command\",\n"
    "                            \"items\", \"failed\", \"bytes\", \"seconds\",\n"
    "                            \"complete\"}\n"
    "  --cache URL               keep a cache of the store at URL (e.g. a local\n"
    "                            file:// dir; see --cache-ns)\n"
    "  --cache-ns NS=MODE[,max-age=SECONDS][,size=BYTES][,verify]\n"
    "                            cache namespace NS (as in --levels; repeatable):\n"
    "                            MODE off, mirror or writethrough; BYTES may end\n"
    "                            in K, M, G, T; verify: keys are sha256 of values\n"
    "  --window N                bulk commands: requests in flight at once (default\n"
    "                            0: what the backend advertises; 1: one at a time)\n"
    "  --ssh-config FILE         ssh://, sftp://: read this ssh config file instead\n"
    "                            of ~/.ssh/config and /etc/ssh/ssh_config\n"
    "  --stats                   print the store's statistics to stderr at the end\n"
    "  -v, --verbose             say what was done, on stderr (bulk commands: a\n"
    "                            summary, e.g. \"stored 1234 items, 5.6 MB in 0.8 s\")\n"
    "  -h, --help                show this help (after a command: that command's)\n"
    "  -V, --version             show the version\n"
    "\n"
    "Environment\n"
    "  BORGSTORE_URL             the store when none is given before the command\n"
    "  BORGSTORE_REMOTE_PATH     ssh://, serve://: the borgstore-serve command to run\n"
    "                            (default borgstore-serve on the server's PATH; for\n"
    "                            serve:// the one next to this borgstore first)\n"
    "  BORGSTORE_RSH             ssh://, rest://: run this command (e.g. \"ssh -J\n"
    "                            jump\") instead of the built-in SSH client\n"
    "  BORGSTORE_REST_SERVER     rest:// server command shape: borgstore (default,\n"
    "                            borgstore-server-rest --stdio --backend FILE:PATH) or\n"
    "                            borg (borg serve --rest --backend FILE:PATH)\n"
    "  BORGSTORE_REST_REMOTE_PATH  the rest:// server program (words, shell-split)\n"
    "  BORGSTORE_REST_USERNAME, BORGSTORE_REST_PASSWORD\n"
    "                            http(s):// Basic auth when the URL has none\n"
    "  BORGSTORE_SSH_CONFIG      ssh://, sftp://: ssh config file (--ssh-config wins)\n"
    "  BORGSTORE_SSH_DEBUG       ssh://, sftp://: libssh log level on stderr (1-4)\n"
    "  SSH_AUTH_SOCK             the ssh-agent asked for keys\n"
    "  BORGSTORE_TIMEOUT         ssh://, serve://: seconds without progress before\n"
    "                            the connection counts as lost (120)\n"
    "  BORGSTORE_RETRIES         reconnects after a lost connection (3)\n"
    "  BORGSTORE_RETRY_DELAY     seconds between reconnects (5)\n"
    "  BORGSTORE_PING_INTERVAL   ping a connection idle this many seconds (60)\n"
    "  BORGSTORE_REMOTE_LOG_LEVEL  server log messages shown on stderr: debug,\n"
    "                            info, warning (default), error, critical\n"
    "  BORGSTORE_FSYNC           1: file://, sftp://: fsync before each rename\n"
    "  BORGSTORE_SFTP_POSIX_RENAME  0: sftp://: plain SFTP rename\n"
    "  BORGSTORE_SFTP_WRITE_CHUNK, BORGSTORE_SFTP_WRITE_WINDOW\n"
    "                            sftp://: bytes per write request, requests in flight\n"
    "  RCLONE_BINARY             rclone: the rclone program (default rclone on PATH)\n"
    "  BORGSTORE_RCLONE_TIMEOUT  rclone: seconds to wait for rclone rcd to start\n"
    "  BORGSTORE_LATENCY         add this many microseconds to every backend call\n"
    "  BORGSTORE_BANDWIDTH       limit the payload rate to this many bit/s\n"
    "  TMPDIR                    where demo makes its throw-away store\n"
    "\n"
    "Exit status\n"
    "  0   success                     6   quota exceeded\n"
    "  1   other error (bulk commands:  7   connection failed or lost\n"
    "      some items failed)          8   already exists (create)\n"
    "  2   usage error                 9   not a store (destroy refused)\n"
    "  3   item or namespace not found 10  cancelled (answered no)\n"
    "  4   store does not exist        130 interrupted (SIGINT; 143: SIGTERM)\n"
    "  5   permission denied\n"
    "Errors are one line on stderr, e.g. \"borgstore: object not found: data/00ff\".\n"
    "Bulk commands report each failed item on its own line and go on with the\n"
    "others; their exit status is 1 when any item failed.\n"
    "Large put/get and bulk transfers show a progress bar when stderr is a terminal:\n"
    "bytes moved (put FILE: read into the store as it streams; bulk commands: the\n"
    "bytes the store acknowledged), the rate, and the time left when it is known.\n"
    "\n"
    "Examples\n"
    "  borgstore /tmp/s create\n"
    "  echo hello | borgstore file:///tmp/s put config/greeting\n"
    "  borgstore file:///tmp/s get config/greeting --offset -3\n"
    "  export BORGSTORE_URL=ssh://backup@host/store; borgstore ls data\n"
    "  borgstore file:///tmp/s ls data | borgstore file:///tmp/s get-many /tmp/out\n"
    "  borgstore serve:///srv/s import /tmp/out\n"
    "  borgstore serve:///srv/s export data /tmp/data\n"
    "  borgstore --levels config=0 --levels data=2 file:///tmp/s ls data --long\n";

/* Text column and width of the command descriptions. */
#define TEXT_COL 28
#define TEXT_WIDTH 52

static void print_cmd(FILE *f, const cmd_help *c)
{
    size_t ulen = strlen(c->usage);
    fprintf(f, "  %s", c->usage);
    bool same_line = ulen + 2 < TEXT_COL;
    if (same_line) fprintf(f, "%*s", (int)(TEXT_COL - 2 - ulen), "");
    else fputc('\n', f);
    /* word-wrapped at TEXT_WIDTH */
    const char *p = c->text;
    bool first = true;
    while (*p) {
        size_t n = strlen(p);
        if (n > TEXT_WIDTH) {
            n = TEXT_WIDTH;
            while (n > 0 && p[n] != ' ') n--;
            if (n == 0) n = strcspn(p, " ");
        }
        if (!(first && same_line)) fprintf(f, "%*s", TEXT_COL, "");
        fprintf(f, "%.*s\n", (int)n, p);
        first = false;
        p += n;
        while (*p == ' ') p++;
    }
}

bool cli_is_command(const char *name)
{
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(cmds[i].name, name)) return true;
    return false;
}

void cli_help(FILE *f, const char *cmd)
{
    for (size_t i = 0; cmd && i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(cmds[i].name, cmd)) continue;
        fprintf(f, "usage: borgstore [OPTIONS] %s%s\n\n", strcmp(cmd, "demo") ? "URL " : "",
                cmds[i].usage);
        print_cmd(f, &cmds[i]);
        fputs("\nURL: a store URL or path (see borgstore --help); without one, "
              "$BORGSTORE_URL.\nOptions, environment and exit statuses: borgstore --help.\n",
              f);
        return;
    }
    fputs(cli_usage_text, f);
    fputs(intro_text, f);
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) print_cmd(f, &cmds[i]);
    fputs(rest_text, f);
}
