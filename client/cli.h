/* The borgstore command-line tool: what cli.c (argument parsing, main),
 * cli_cmds.c (one function per command), cli_bulk.c (many items per command)
 * and cli_demo.c share. File-static helpers stay in their files; these are
 * the few the others need. */
#ifndef BS_CLIENT_CLI_H
#define BS_CLIENT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>

#include "borgstore/borgstore.h"

/* Exit statuses (the table in --help and docs/borgstore.1.md). */
#define CLI_OK 0
#define CLI_STORE_ERROR 1   /* any other failure; bulk: some items failed */
#define CLI_USAGE 2         /* command line (or URL) not understood */
#define CLI_NOT_FOUND 3     /* the item or namespace does not exist */
#define CLI_NO_STORE 4      /* the store does not exist */
#define CLI_PERMISSION 5    /* permission denied */
#define CLI_QUOTA 6         /* quota exceeded */
#define CLI_CONNECTION 7    /* connection failed, lost or timed out */
#define CLI_EXISTS 8        /* create: something is already there */
#define CLI_NOT_A_STORE 9   /* destroy refused: not a store's layout */
#define CLI_CANCELLED 10    /* the question was answered no */
#define CLI_INTERRUPTED 130 /* SIGINT (SIGTERM: 143), temp outputs removed */

/* The exit status for a borgstore error code. */
int cli_exit_status(int rc);

/* Most --levels options. */
#define CLI_NS_MAX 32

/* Everything the command line said. */
typedef struct cli_opts {
    const char *url;   /* NULL only for a bare "demo" */
    const char *cmd;
    char **args;       /* the command's positional arguments */
    int nargs;
    bool json, stats, verbose, deleted, long_list, precreate, yes, help;
    bool resume, checksum; /* import/export: skip items already at the target */
    const char *ssh_config; /* --ssh-config FILE, or NULL */
    bool have_offset, have_size, have_alg;
    int64_t offset, size;
    size_t window;     /* --window: requests in flight (0: the backend's) */
    int64_t min_age;   /* cleanup --min-age in seconds (-1: the default) */
    bs_hash_alg alg;
    /* --levels, in order given; prefixes point into prefix_buf */
    bs_store_namespace ns[CLI_NS_MAX];
    size_t n_ns;
    char prefix_buf[CLI_NS_MAX][BS_NAME_BUF];
} cli_opts;

/* The usage lines (cli_help.c). */
extern const char cli_usage_text[];

/* Prints the help of command cmd, or the whole help when cmd is NULL or not
 * a command. */
void cli_help(FILE *f, const char *cmd);

/* Whether name is one of the commands. */
bool cli_is_command(const char *name);

/* The URL for a store argument (malloc'd; NULL only without memory): URLs
 * as given, a plain path (/srv/store, ./store, ~/store, store) as file://
 * with its absolute path. */
char *cli_store_url(const char *arg);

/* The store configuration the options ask for (--levels or the default). */
void cli_store_config(const cli_opts *o, bs_store_config *out);

/* Reports the last borgstore error as one line on stderr
 * ("borgstore: object not found: data/00ff") and returns its exit status
 * (cli_exit_status). */
int cli_fail(int rc);

/* msg in the user's words (cli_words.c): a permission failure's letters and
 * nested on-disk name become "permission denied: writing data/00bb is not
 * allowed". Returns msg itself or buf. */
const char *cli_user_message(const char *msg, char *buf, size_t cap);

/* The item name for the backend name name[0..len) (nesting directories
 * "data/00/00bb" -> "data/00bb") into out. */
void cli_unnest(char *out, size_t cap, const char *name, size_t len);

/* Reports a usage problem as one line on stderr and returns CLI_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* -v: one line to stderr ("borgstore: stored data/00ff (12 bytes)"). */
void cli_verbose(const cli_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* s as a JSON string (with quotes) to f. */
void cli_json_str(FILE *f, const char *s);

/* Progress bar on stderr for large transfers, drawn only when stderr is a
 * terminal: bytes the store acknowledged (stored, or loaded and written),
 * the rate, and with a known total the percentage and the time left.
 * total 0 means unknown. */
typedef struct cli_progress {
    bool enabled;
    const char *label;
    uint64_t total, done;
    uint64_t start_ns, last_draw_ns;
    bool drawn;
} cli_progress;

void cli_progress_start(cli_progress *p, const char *label, uint64_t total);
void cli_progress_add(cli_progress *p, uint64_t n);
void cli_progress_end(cli_progress *p);

/* Reads all of fd into a malloc'd buffer (sized from fstat for regular
 * files), counting into p when not NULL. 0 or -1 with errno. */
int cli_read_all(int fd, uint8_t **out, size_t *out_len, cli_progress *p);

/* ls: items listed on nesting levels the configuration does not look on
 * (cli_levels.c). */
typedef struct cli_levels {
    char ns[BS_NAME_BUF];
    bool active;          /* the namespace is configured */
    unsigned configured;  /* bit per configured level */
    unsigned found;       /* bit per level of the unreachable items */
    uint64_t unreachable;
} cli_levels;
/* c: the configuration of namespace ns (NULL: not configured). */
void cli_levels_start(cli_levels *l, const bs_store_namespace *c, const char *ns);
/* Item key was listed in dir (bs_store_list_dir). */
void cli_levels_see(cli_levels *l, const char *dir, const char *key);
/* One line on stderr when items were listed that get cannot find. */
void cli_levels_note(const cli_levels *l);

/* import/export --resume (cli_resume.c): whether item name of store_size
 * bytes and the local file path of local_size bytes hold the same value:
 * equal sizes, and with --checksum equal SHA-256 digests. */
bool cli_resume_same(bs_store *s, const cli_opts *o, const char *name, const char *path,
                     uint64_t local_size, uint64_t store_size);

/* A local output file written atomically (cli_out.c): FILE.XXXXXX.tmp next
 * to FILE, renamed over it by cli_out_commit. An existing FILE that is not a
 * regular file (/dev/null, a fifo) is written directly instead. */
typedef struct cli_out {
    int fd;        /* write the content here */
    bool direct;   /* writing into path itself */
    int slot;      /* registered for the signal handler, -1 when not */
    unsigned mode; /* permission bits the file gets */
    char path[PATH_MAX - 16], tmp[PATH_MAX];
} cli_out;

/* Installs the SIGINT/SIGTERM/SIGHUP handler that removes the temp files of
 * open outputs, then dies of the signal (exit status 128 + signal). */
void cli_signals_install(void);

/* Opens an output for path; parents_from > 0 makes missing parent
 * directories from that offset of path on. 0, or -1 with errno. */
int cli_out_open(cli_out *out, const char *path, size_t parents_from);

/* Finishes the output: closes and renames the temp file over path. 0, or -1
 * with errno and *what ("write", "replace"); the temp file is then gone. */
int cli_out_commit(cli_out *out, const char **what);

/* mkdir -p of path's parent directories from offset from on (errors are
 * left to the caller's next step). */
void cli_make_parents(char *path, size_t from);

/* Drops an unfinished output (its temp file is removed). */
void cli_out_abort(cli_out *out);

/* Commands: each returns an exit status and has printed any error. The
 * store is open unless the command is create, destroy or demo. */
/* Whether the store at url (s not open) has a store's layout (cli_destroy.c):
 * 0 yes (or it does not exist), 1 no (why says what does not fit), or a
 * negative error from listing it. */
int cli_store_shape(bs_store *s, const char *url, char *why, size_t why_cap);

/* "<stem>.<16 hex digits>.tmp" with a valid stem: the name of a temp file
 * the backends write before renaming it to the item stem. */
bool cli_is_store_temp(const char *name);

/* The local directory of a file:// or serve:// URL (malloc'd), else NULL. */
char *cli_local_path(const char *url);

/* Deepest directory a store has: nested namespaces (config/a/b) plus
 * BS_STORE_LEVEL_MAX nesting levels. */
#define CLI_STORE_DEPTH_MAX (4 + BS_STORE_LEVEL_MAX)

int cli_cmd_create(bs_store *s, const cli_opts *o);
int cli_cmd_destroy(bs_store *s, const cli_opts *o);
int cli_cmd_put(bs_store *s, const cli_opts *o);
int cli_cmd_get(bs_store *s, const cli_opts *o);
int cli_cmd_info(bs_store *s, const cli_opts *o);
int cli_cmd_ls(bs_store *s, const cli_opts *o);
int cli_cmd_rm(bs_store *s, const cli_opts *o);
int cli_cmd_mv(bs_store *s, const cli_opts *o);
int cli_cmd_soft_delete(bs_store *s, const cli_opts *o);
int cli_cmd_undelete(bs_store *s, const cli_opts *o);
int cli_cmd_hash(bs_store *s, const cli_opts *o);
int cli_cmd_quota(bs_store *s, const cli_opts *o);
int cli_cmd_cleanup(bs_store *s, const cli_opts *o);

/* Bulk commands (cli_bulk.c): put-many, get-many, import, export. Each item
 * fails on its own (one line on stderr); exit status 1 when any did. */
int cli_cmd_put_many(bs_store *s, const cli_opts *o);
int cli_cmd_get_many(bs_store *s, const cli_opts *o);
int cli_cmd_import(bs_store *s, const cli_opts *o);
int cli_cmd_export(bs_store *s, const cli_opts *o);

/* The demo builds its own store (a temp dir when o->url is NULL). */
int cli_demo(const cli_opts *o);

#endif
