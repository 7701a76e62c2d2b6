/* `borgstore demo`: a guided tour on a throw-away store (namespaces, nesting
 * on disk, partial loads, hashing, soft delete and undelete, listing, stats),
 * written for a person reading along. The store is destroyed at the end. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/cli.h"
#include "common/url.h"

typedef struct demo {
    bs_store *s;
    const cli_opts *o;
    char *base_path; /* file:// only: where the store lives on disk */
    int step;
} demo;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

static void heading(demo *d, const char *text)
{
    say("\n%d. %s\n", ++d->step, text);
}

/* Prints the value as text (the demo only stores printable values). */
static void show_value(const uint8_t *v, size_t len)
{
    say("\"%.*s\"", (int)len, (const char *)v);
}

static int list_ns(demo *d, const char *ns, bool deleted)
{
    bs_store_list_iter *it;
    int rc = bs_store_list_begin(d->s, ns, deleted, &it);
    if (rc) return rc;
    say("   $ borgstore URL ls %s%s\n", ns, deleted ? " --deleted" : "");
    bs_item_info info;
    int n = 0;
    while ((rc = bs_store_list_next(it, &info)) == 1) {
        say("     %s/%s  (%llu bytes)\n", ns, info.name, (unsigned long long)info.size);
        n++;
    }
    bs_store_list_end(it);
    if (!rc && !n) say("     (nothing)\n");
    return rc < 0 ? rc : 0;
}

static int put(demo *d, const char *name, const char *value)
{
    int rc = bs_store_store(d->s, name, value, strlen(value));
    if (!rc) say("   store %-22.22s%s <- \"%s\"\n", name, strlen(name) > 22 ? "..." : "", value);
    return rc;
}

/* Name of a content-addressed data item: data/ + sha256 hex of the value. */
static void data_name(char out[BS_NAME_BUF], const char *value)
{
    char hex[BS_HASH_HEX_SIZE];
    bs_hash_hex(BS_HASH_SHA256, value, strlen(value), hex);
    snprintf(out, BS_NAME_BUF, "data/%.64s", hex);
}

static int tour(demo *d)
{
    int rc;
    const char *v1 = "some arbitrary binary data.";
    const char *v2 = "more arbitrary binary data, a little longer.";
    const char *v3 = "and a third value.";
    char k1[BS_NAME_BUF], k2[BS_NAME_BUF], k3[BS_NAME_BUF];
    data_name(k1, v1);
    data_name(k2, v2);
    data_name(k3, v3);

    heading(d, "Namespaces keep different kinds of items apart. Two settings go to config/:");
    if ((rc = put(d, "config/settings1", "value1 = 42"))) return rc;
    if ((rc = put(d, "config/settings2", "value2 = 23"))) return rc;
    if ((rc = list_ns(d, "config", false))) return rc;

    heading(d, "Data items are named by the sha256 of their content, under data/:");
    if ((rc = put(d, k1, v1)) || (rc = put(d, k2, v2)) || (rc = put(d, k3, v3))) return rc;
    if ((rc = list_ns(d, "data", false))) return rc;

    heading(d, "Nesting spreads a namespace over directories named after the key's first hex digits,");
    say("   so no directory gets millions of entries. The store maps names to places itself:\n");
    char where[BS_NAME_BUF];
    if ((rc = bs_store_find(d->s, "config/settings1", false, where))) return rc;
    say("     config/settings1 is stored as %s\n", where);
    if ((rc = bs_store_find(d->s, k1, false, where))) return rc;
    say("     %.16s... is stored as %.32s...\n", k1, where);
    if (d->base_path) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", d->base_path, where);
        struct stat st;
        bool there = stat(path, &st) == 0;
        say("   On disk (file://), that is the file\n     %s\n   (%s)\n", path,
            there ? "it is there: look while the demo runs, or run it with your own URL"
                  : "not found on disk?");
    }

    heading(d, "Loads can read part of a value: an offset and a size, or an offset from the end.");
    uint8_t *v;
    size_t len;
    if ((rc = bs_store_load(d->s, k1, 0, BS_SIZE_ALL, false, &v, &len))) return rc;
    say("   whole value:            ");
    show_value(v, len);
    say("\n");
    bs_free(v);
    if ((rc = bs_store_load(d->s, k1, 5, 9, false, &v, &len))) return rc;
    say("   offset 5, size 9:       ");
    show_value(v, len);
    say("\n");
    bs_free(v);
    if ((rc = bs_store_load(d->s, k1, -5, BS_SIZE_ALL, false, &v, &len))) return rc;
    say("   offset -5 (from end):   ");
    show_value(v, len);
    say("\n");
    bs_free(v);

    heading(d, "The store can hash a value where it lives; for data/ the hash is the name:");
    char hex[BS_HASH_HEX_SIZE];
    if ((rc = bs_store_hash(d->s, k1, BS_HASH_SHA256, false, hex))) return rc;
    say("   sha256 = %.16s...  %s\n", hex,
        !strcmp(hex, k1 + 5) ? "(matches the name: content is intact)" : "(MISMATCH)");

    heading(d, "Soft delete hides an item (it is renamed to NAME.del) but keeps its value:");
    if ((rc = bs_store_move(d->s, k2, NULL, BS_MOVE_SOFT_DELETE, false))) return rc;
    say("   soft-delete %.21s...\n", k2);
    if ((rc = list_ns(d, "data", false)) || (rc = list_ns(d, "data", true))) return rc;
    if ((rc = bs_store_find(d->s, k2, true, where))) return rc;
    size_t wl = strlen(where);
    say("   (stored as %.24s...%s)\n", where, wl > 12 ? where + wl - 12 : where);
    say("   undelete brings it back:\n");
    if ((rc = bs_store_move(d->s, k2, NULL, BS_MOVE_UNDELETE, false))) return rc;
    if ((rc = list_ns(d, "data", false))) return rc;

    heading(d, "Renaming and deleting for good:");
    if ((rc = bs_store_move(d->s, "config/settings2", "config/old-settings", BS_MOVE_RENAME,
                            false)))
        return rc;
    say("   mv config/settings2 config/old-settings\n");
    if ((rc = bs_store_delete(d->s, k3, false))) return rc;
    say("   rm %.21s...\n", k3);
    if ((rc = list_ns(d, "config", false)) || (rc = list_ns(d, "data", false))) return rc;
    bs_item_info info;
    if ((rc = bs_store_info(d->s, k3, false, &info))) return rc;
    say("   info %.21s...: %s\n", k3, info.exists ? "still exists?" : "does not exist any more");
    if ((rc = bs_store_load(d->s, k3, 0, BS_SIZE_ALL, false, &v, &len)) == BS_ERR_NOT_FOUND)
        say("   loading it fails with: %s\n", bs_error_message());
    else if (!rc)
        bs_free(v);
    else
        return rc;

    heading(d, "Quota (tracked only when the backend enforces one):");
    bs_quota q;
    if ((rc = bs_store_quota(d->s, &q))) return rc;
    say("   limit %lld, usage %lld  (-1: not tracked)\n", (long long)q.limit,
        (long long)q.usage);

    heading(d, "What this session did, as the store counted it (borgstore --stats shows this):");
    bs_store_stats st;
    bs_store_stats_get(d->s, &st);
    char *text;
    if ((rc = bs_store_stats_format(&text, &st, BS_STATS_TEXT))) return rc;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        say("   %s\n", line);
    bs_free(text);
    return 0;
}

int cli_demo(const cli_opts *o)
{
    char *tmpdir = NULL, *url = NULL;
    int status = CLI_OK;
    if (o->url) {
        url = strdup(o->url);
    } else {
        const char *t = getenv("TMPDIR");
        if (asprintf(&tmpdir, "%s/borgstore-demo.XXXXXX", t && *t ? t : "/tmp") < 0) {
            tmpdir = NULL;
        } else if (!mkdtemp(tmpdir)) {
            fprintf(stderr, "borgstore: cannot make a temp directory %s: %s\n", tmpdir,
                    strerror(errno));
            free(tmpdir);
            return CLI_STORE_ERROR;
        }
        if (tmpdir && asprintf(&url, "file://%s", tmpdir) < 0) url = NULL;
    }
    if (!url) {
        free(tmpdir);
        fputs("borgstore: out of memory\n", stderr);
        return CLI_STORE_ERROR;
    }

    demo d = {.o = o};
    bs_url parsed;
    if (bs__url_parse(&parsed, url) == 0) {
        if (!strcmp(parsed.scheme, "file") && parsed.path) d.base_path = strdup(parsed.path);
        bs__url_clear(&parsed);
    }

    bs_store_config cfg;
    cli_store_config(o, &cfg);
    char shown[1024];
    bs__url_redacted(shown, sizeof shown, url);
    say("borgstore demo: a throw-away store at %s\n", shown);
    say("Levels: ");
    for (size_t i = 0; i < cfg.n_namespaces; i++) {
        const bs_store_namespace *ns = &cfg.namespaces[i];
        say("%s%s%s [", i ? ", " : "", *ns->prefix ? "" : "every namespace",
            ns->prefix);
        for (size_t l = 0; l < ns->nlevels; l++) say("%s%d", l ? "," : "", ns->levels[l]);
        say("]");
    }
    say("  (change with --levels NS=L)\n");

    int rc = bs_store_new(&d.s, url, &cfg);
    bool created = false;
    if (!rc) {
        say("\n0. Create and open the store.\n");
        rc = bs_store_create(d.s, 0);
        created = rc == 0;
    }
    if (!rc) rc = bs_store_open(d.s);
    if (!rc) rc = tour(&d);
    if (rc) status = cli_fail(rc);
    if (d.s && bs_store_is_open(d.s)) {
        int r = bs_store_close(d.s);
        if (r && status == CLI_OK) status = cli_fail(r);
    }
    if (created) {
        int r = bs_store_destroy(d.s);
        if (r && status == CLI_OK) status = cli_fail(r);
        if (!r) say("\nClosed and destroyed the store: nothing is left behind.\n");
    }
    if (tmpdir) rmdir(tmpdir); /* in case destroy kept the (empty) directory */
    if (o->stats && d.s) {
        bs_store_stats st;
        char *text;
        bs_store_stats_get(d.s, &st);
        if (!bs_store_stats_format(&text, &st, o->json ? BS_STATS_JSON : BS_STATS_TEXT)) {
            fputs(text, stderr);
            bs_free(text);
        }
    }
    bs_store_free(d.s);
    free(d.base_path);
    free(tmpdir);
    free(url);
    return status;
}
