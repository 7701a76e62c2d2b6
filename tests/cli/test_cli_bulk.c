/* The CLI's bulk commands (put-many, get-many, import, export) run as real
 * processes against file:// and serve:// stores: round trips compared byte
 * by byte (empty values, a few MiB, nested directories), per-item failures
 * that leave the others alone, invalid names, empty input, usage errors,
 * the -v / --json summaries and the progress bar on a terminal. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"
#include "testutil.h"

static char *tmp;

static void setup(void)
{
    tmp = bs_test_tmpdir();
    setenv("BORGSTORE_REMOTE_PATH", bs_test_build_path("borgstore-serve"), 1);
    setenv("BORGSTORE_TIMEOUT", "20", 1);
}

static void teardown(void)
{
    bs_test_rmtree(tmp);
    free(tmp);
}

TestSuite(bulk, .init = setup, .fini = teardown, .timeout = 120);

static const char *const schemes[] = {"file", "serve"};
#define NSCHEMES (sizeof schemes / sizeof schemes[0])

#define ASSERT_STATUS(r, want)                                                          \
    cr_assert_eq((r).status, want, "exit %d, want %d; stderr: %s", (r).status, want,    \
                 (r).err)

/* tmp/rel in a rotating static buffer. */
static const char *P(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *P(const char *fmt, ...)
{
    static char buf[8][4096];
    static int i;
    i = (i + 1) % 8;
    int n = snprintf(buf[i], sizeof buf[i], "%s/", tmp);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf[i] + n, sizeof buf[i] - (size_t)n, fmt, ap);
    va_end(ap);
    return buf[i];
}

/* A new store of the scheme in tmp/<tag>; returns its URL (static). */
static const char *new_store(const char *scheme, const char *tag)
{
    static char url[4200];
    snprintf(url, sizeof url, "%s://%s", scheme, P("%s-%s", scheme, tag));
    run_result r;
    BS(&r, NULL, 0, url, "create");
    ASSERT_STATUS(r, 0);
    run_free(&r);
    return url;
}

/* Value of test item i: its size varies, 0 and some MiB included. */
static size_t value_size(size_t i)
{
    if (i % 50 == 7) return 0;
    if (i == 3) return (3u << 20) + 17;
    return 1 + (i * 7919) % 5000;
}

static uint8_t *value_of(size_t i, size_t *len)
{
    *len = value_size(i);
    uint8_t *v = malloc(*len + 1);
    cr_assert_not_null(v);
    bs_test_fill(v, *len, 1000 + i);
    return v;
}

/* Name of test item i: most in data (hex keys), some in config and keys. */
static void name_of(size_t i, char out[64])
{
    if (i % 97 == 5) snprintf(out, 64, "config/setting-%zu", i);
    else if (i % 89 == 11) snprintf(out, 64, "keys/key%zu", i);
    else snprintf(out, 64, "data/%016zx%016zx", i * 0x9e3779b97f4a7c15u, i);
}

/* Writes items [0, n) as files root/NAME. */
static void make_tree(const char *root, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char name[64], path[4200];
        name_of(i, name);
        snprintf(path, sizeof path, "%s/%s", root, name);
        size_t len;
        uint8_t *v = value_of(i, &len);
        cr_assert_eq(bs_test_write_file(path, v, len), 0);
        free(v);
    }
}

/* Asserts that root/NAME holds item i's value. */
static void assert_file(const char *root, const char *rel, size_t i)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    size_t len, want_len;
    char *got = bs_test_read_file(path, &len);
    cr_assert_not_null(got, "missing %s", path);
    uint8_t *want = value_of(i, &want_len);
    cr_assert_eq(len, want_len, "%s: %zu bytes, want %zu", path, len, want_len);
    cr_assert(!memcmp(got, want, len), "%s differs", path);
    free(got);
    free(want);
}

/* "NAME\n" for items [0, n), with blank lines and blanks around names. */
static char *names_text(size_t n)
{
    size_t cap = n * 80 + 16, len = 0;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    len += (size_t)snprintf(text, cap, "\n");
    for (size_t i = 0; i < n; i++) {
        char name[64];
        name_of(i, name);
        const char *fmt = i % 10 == 1 ? "  %s \r\n\n" : "%s\n";
        len += (size_t)snprintf(text + len, cap - len, fmt, name);
    }
    return text;
}

/* Entries of a directory tree that are not directories (files, leftovers). */
static size_t count_files(const char *root)
{
    DIR *d = opendir(root);
    if (!d) return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", root, de->d_name);
        struct stat st;
        cr_assert_eq(lstat(path, &st), 0);
        n += S_ISDIR(st.st_mode) ? count_files(path) : 1;
    }
    closedir(d);
    return n;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* ---- round trips --------------------------------------------------------- */

Test(bulk, put_many_get_many_round_trip)
{
    const size_t n = 300;
    const char *src = P("src");
    make_tree(src, n);
    char *names = names_text(n);
    for (size_t k = 0; k < NSCHEMES; k++) {
        const char *url = new_store(schemes[k], "rt");
        run_result r;
        BS(&r, names, strlen(names), url, "put-many", src);
        ASSERT_STATUS(r, 0);
        cr_assert_str_eq(r.err, "");
        cr_assert_str_eq(r.out, "");
        run_free(&r);

        BS(&r, NULL, 0, url, "ls", "data");
        ASSERT_STATUS(r, 0);
        size_t in_data = 0;
        for (size_t i = 0; i < n; i++) {
            char name[64];
            name_of(i, name);
            in_data += !strncmp(name, "data/", 5);
        }
        cr_assert_eq(count_lines(r.out), in_data, "%s", schemes[k]);
        run_free(&r);

        const char *out = P("out-%s", schemes[k]);
        BS(&r, names, strlen(names), url, "get-many", out);
        ASSERT_STATUS(r, 0);
        cr_assert_str_eq(r.err, "");
        run_free(&r);
        for (size_t i = 0; i < n; i++) {
            char name[64];
            name_of(i, name);
            assert_file(out, name, i);
        }
        cr_assert_eq(count_files(out), n, "no temp files left in %s", out);

        /* again, one request at a time, over the files just written */
        BS(&r, names, strlen(names), "--window", "1", url, "get-many", out);
        ASSERT_STATUS(r, 0);
        run_free(&r);
        for (size_t i = 0; i < n; i += 7) {
            char name[64];
            name_of(i, name);
            assert_file(out, name, i);
        }
        cr_assert_eq(count_files(out), n);
    }
    free(names);
}

Test(bulk, import_export_round_trip_with_nested_directories)
{
    const size_t n = 1100; /* more than export loads per batch (1024) */
    const char *src = P("tree");
    make_tree(src, n); /* tree/data/..., tree/config/..., tree/keys/... */
    for (size_t k = 0; k < NSCHEMES; k++) {
        const char *url = new_store(schemes[k], "ie");
        run_result r;
        BS(&r, NULL, 0, url, "import", src);
        ASSERT_STATUS(r, 0);
        cr_assert_str_eq(r.err, "");
        run_free(&r);

        /* export writes DIR/KEY: exporting each namespace into DIR/NS
         * rebuilds the tree */
        const char *out = P("exp-%s", schemes[k]);
        static const char *const nss[] = {"data", "config/", "keys"};
        for (size_t j = 0; j < 3; j++) {
            char dir[4200];
            snprintf(dir, sizeof dir, "%s/%.*s", out, (int)strcspn(nss[j], "/"), nss[j]);
            BS(&r, NULL, 0, url, "export", nss[j], dir);
            ASSERT_STATUS(r, 0);
            cr_assert_str_eq(r.err, "");
            run_free(&r);
        }
        for (size_t i = 0; i < n; i++) {
            char name[64];
            name_of(i, name);
            assert_file(out, name, i);
        }
        cr_assert_eq(count_files(out), n);

        /* a PREFIX puts the tree below it, like rclone copy DIR remote:PREFIX */
        BS(&r, NULL, 0, url, "import", P("tree/config"), "config/copy/");
        ASSERT_STATUS(r, 0);
        run_free(&r);
        BS(&r, NULL, 0, url, "export", "config/copy", P("copy-%s", schemes[k]));
        ASSERT_STATUS(r, 0);
        run_free(&r);
        size_t copies = 0;
        for (size_t i = 0; i < n; i++) {
            char name[64];
            name_of(i, name);
            if (strncmp(name, "config/", 7)) continue;
            char rel[200];
            snprintf(rel, sizeof rel, "copy-%s/%s", schemes[k], name + 7);
            assert_file(tmp, rel, i);
            copies++;
        }
        cr_assert_eq(count_files(P("copy-%s", schemes[k])), copies);
    }
}

Test(bulk, deeper_names_go_through_put_many_and_get_many)
{
    static const char *const names[] = {"config/a/b/c", "config/a/d", "archives/x/y/z/v"};
    const char *src = P("deep");
    for (size_t i = 0; i < 3; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", src, names[i]);
        cr_assert_eq(bs_test_write_file(path, names[i], strlen(names[i])), 0);
    }
    const char *in = "config/a/b/c\nconfig/a/d\narchives/x/y/z/v\n";
    for (size_t k = 0; k < NSCHEMES; k++) {
        const char *url = new_store(schemes[k], "deep");
        run_result r;
        BS(&r, in, strlen(in), url, "put-many", src);
        ASSERT_STATUS(r, 0);
        run_free(&r);
        const char *out = P("deep-out-%s", schemes[k]);
        BS(&r, in, strlen(in), url, "get-many", out);
        ASSERT_STATUS(r, 0);
        run_free(&r);
        for (size_t i = 0; i < 3; i++) {
            char path[4200];
            snprintf(path, sizeof path, "%s/%s", out, names[i]);
            char *got = bs_test_read_file(path, NULL);
            cr_assert_not_null(got, "%s", path);
            cr_assert_str_eq(got, names[i]);
            free(got);
        }
    }
}

/* ---- failures of single items ---------------------------------------------- */

Test(bulk, a_missing_item_fails_only_itself)
{
    const size_t n = 40;
    const char *src = P("src");
    make_tree(src, n);
    char *names = names_text(n);
    for (size_t k = 0; k < NSCHEMES; k++) {
        const char *url = new_store(schemes[k], "miss");
        run_result r;
        BS(&r, names, strlen(names), url, "put-many", src);
        ASSERT_STATUS(r, 0);
        run_free(&r);

        /* the missing name in the middle of the others */
        size_t cap = strlen(names) + 200;
        char *in = malloc(cap);
        cr_assert_not_null(in);
        size_t half = strlen(names) / 2;
        while (names[half - 1] != '\n') half++;
        snprintf(in, cap, "%.*sdata/00ff00ff00ff\n%s", (int)half, names, names + half);
        const char *out = P("out-%s", schemes[k]);
        BS(&r, in, strlen(in), url, "get-many", out);
        ASSERT_STATUS(r, 1);
        cr_assert_str_eq(r.err, "borgstore: object not found: data/00ff00ff00ff\n");
        run_free(&r);
        for (size_t i = 0; i < n; i++) {
            char name[64];
            name_of(i, name);
            assert_file(out, name, i);
        }
        cr_assert_eq(count_files(out), n);

        /* put-many: a missing file fails that item, the rest are stored */
        BS(&r, in, strlen(in), url, "put-many", src);
        ASSERT_STATUS(r, 1);
        char want[8200];
        snprintf(want, sizeof want, "borgstore: cannot open %s/data/00ff00ff00ff: %s\n", src,
                 strerror(ENOENT));
        cr_assert_str_eq(r.err, want);
        run_free(&r);
        free(in);
    }
    free(names);
}

Test(bulk, invalid_names_are_reported_and_skipped)
{
    const char *src = P("src");
    cr_assert_eq(bs_test_write_file(P("src/config/ok"), "ok", 2), 0);
    cr_assert_eq(bs_test_write_file(P("secret"), "secret", 6), 0);
    const char *in = "config/ok\nBAD\nconfig/../../secret\n/abs\nconfig/x.tmp\n";
    static const char *const want_err[] = {
        "borgstore: invalid argument: name must be lowercase: BAD\n",
        "borgstore: invalid argument: name must be relative and not contain '..': "
        "config/../../secret\n",
        "borgstore: invalid argument: name must be relative and not contain '..': /abs\n",
        "borgstore: invalid argument: name must not end with .tmp: config/x.tmp\n"};
    for (size_t k = 0; k < NSCHEMES; k++) {
        const char *url = new_store(schemes[k], "inv");
        run_result r;
        BS(&r, in, strlen(in), "-v", url, "put-many", src);
        ASSERT_STATUS(r, 1);
        for (size_t j = 0; j < 4; j++) cr_assert(strstr(r.err, want_err[j]), "%s", r.err);
        cr_assert(strstr(r.err, "borgstore: stored 1 item, 2 bytes in "), "%s", r.err);
        cr_assert(strstr(r.err, " s, 4 failed\n"), "%s", r.err);
        cr_assert_eq(count_lines(r.err), 5, "%s", r.err);
        run_free(&r);

        const char *out = P("o-%s/inner", schemes[k]);
        BS(&r, in, strlen(in), url, "get-many", out);
        ASSERT_STATUS(r, 1);
        for (size_t j = 0; j < 4; j++) cr_assert(strstr(r.err, want_err[j]), "%s", r.err);
        cr_assert_eq(count_lines(r.err), 4, "%s", r.err);
        run_free(&r);
        cr_assert_eq(count_files(P("o-%s", schemes[k])), 1, "only config/ok written");
        char path[4200];
        snprintf(path, sizeof path, "%s/config/ok", out);
        char *got = bs_test_read_file(path, NULL);
        cr_assert_not_null(got);
        cr_assert_str_eq(got, "ok");
        free(got);
    }
}

Test(bulk, import_reports_bad_file_names_and_skips_symlinks)
{
    cr_assert_eq(bs_test_write_file(P("src/config/good"), "g", 1), 0);
    cr_assert_eq(bs_test_write_file(P("src/config/Upper"), "u", 1), 0);
    cr_assert_eq(bs_test_write_file(P("src/config/left.tmp"), "t", 1), 0);
    cr_assert_eq(bs_test_write_file(P("src/data/a"), "short key for level 1", 21), 0);
    cr_assert_eq(symlink("good", P("src/config/link")), 0);
    for (size_t k = 0; k < NSCHEMES; k++) {
        const char *url = new_store(schemes[k], "imp");
        run_result r;
        BS(&r, NULL, 0, url, "import", P("src"));
        ASSERT_STATUS(r, 1);
        cr_assert(strstr(r.err, "borgstore: invalid argument: name must be lowercase: "
                                "config/Upper\n"), "%s", r.err);
        cr_assert(strstr(r.err, "borgstore: invalid argument: name must not end with .tmp: "
                                "config/left.tmp\n"), "%s", r.err);
        cr_assert(strstr(r.err, "data/a"), "%s", r.err);
        cr_assert_eq(count_lines(r.err), 3, "symlinks are skipped quietly: %s", r.err);
        run_free(&r);
        BS(&r, NULL, 0, url, "ls", "config");
        ASSERT_STATUS(r, 0);
        cr_assert_str_eq(r.out, "config/good\n");
        run_free(&r);
        BS(&r, NULL, 0, "-v", url, "import", P("src/config"), "config");
        ASSERT_STATUS(r, 1);
        cr_assert(strstr(r.err, "skipped "), "-v names skipped symlinks: %s", r.err);
        run_free(&r);
    }
}

Test(bulk, get_many_replaces_files_and_reports_what_it_cannot_write)
{
    cr_assert_eq(bs_test_write_file(P("src/config/a"), "new", 3), 0);
    cr_assert_eq(bs_test_write_file(P("src/config/b"), "bee", 3), 0);
    const char *in = "config/a\nconfig/b\n";
    for (size_t k = 0; k < NSCHEMES; k++) {
        const char *url = new_store(schemes[k], "repl");
        run_result r;
        BS(&r, in, strlen(in), url, "put-many", P("src"));
        ASSERT_STATUS(r, 0);
        run_free(&r);
        const char *out = P("o-%s", schemes[k]);
        cr_assert_eq(bs_test_write_file(P("o-%s/config/a", schemes[k]), "old value", 9), 0);
        cr_assert_eq(mkdir(P("o-%s/config/b", schemes[k]), 0777), 0);
        BS(&r, in, strlen(in), url, "get-many", out);
        ASSERT_STATUS(r, 1);
        char want[4300];
        snprintf(want, sizeof want, "borgstore: cannot replace %s/config/b: ", out);
        cr_assert(!strncmp(r.err, want, strlen(want)), "%s", r.err);
        cr_assert_eq(count_lines(r.err), 1, "%s", r.err);
        run_free(&r);
        char *got = bs_test_read_file(P("o-%s/config/a", schemes[k]), NULL);
        cr_assert_str_eq(got, "new");
        free(got);
        cr_assert_eq(count_files(out), 1, "no temp file left behind");
    }
}

/* ---- edges, summaries, usage --------------------------------------------------- */

Test(bulk, empty_input_is_fine)
{
    cr_assert_eq(mkdir(P("empty"), 0777), 0);
    for (size_t k = 0; k < NSCHEMES; k++) {
        const char *url = new_store(schemes[k], "empty");
        run_result r;
        BS(&r, NULL, 0, url, "put-many", P("empty"));
        ASSERT_STATUS(r, 0);
        cr_assert_str_eq(r.err, "");
        run_free(&r);
        BS(&r, "\n\n  \n", 5, "--json", url, "get-many", P("got-%s", schemes[k]));
        ASSERT_STATUS(r, 0);
        cr_assert(strstr(r.out, "\"items\": 0, \"failed\": 0, \"bytes\": 0"), "%s", r.out);
        run_free(&r);
        BS(&r, NULL, 0, url, "import", P("empty"));
        ASSERT_STATUS(r, 0);
        run_free(&r);
    }
}

Test(bulk, summaries_with_verbose_and_json)
{
    cr_assert_eq(bs_test_write_file(P("src/config/a"), "12345", 5), 0);
    cr_assert_eq(bs_test_write_file(P("src/config/b"), "", 0), 0);
    const char *in = "config/a\nconfig/b\nconfig/c\n";
    const char *url = new_store("serve", "sum");
    run_result r;
    BS(&r, in, strlen(in), "-v", "--json", url, "put-many", P("src"));
    ASSERT_STATUS(r, 1);
    cr_assert(strstr(r.err, "borgstore: stored 2 items, 5 bytes in "), "%s", r.err);
    cr_assert(strstr(r.out, "{\"command\": \"put-many\", \"items\": 2, \"failed\": 1, "
                            "\"bytes\": 5, \"seconds\": "), "%s", r.out);
    cr_assert(strstr(r.out, "\"complete\": true, \"skipped\": 0}\n"), "%s", r.out);
    run_free(&r);
    BS(&r, in, strlen(in), "-v", url, "get-many", P("out"));
    ASSERT_STATUS(r, 1);
    cr_assert(strstr(r.err, "borgstore: object not found: config/c\n"), "%s", r.err);
    cr_assert(strstr(r.err, "borgstore: loaded 2 items, 5 bytes in "), "%s", r.err);
    run_free(&r);
    BS(&r, NULL, 0, "--json", url, "export", "config", P("exp"));
    ASSERT_STATUS(r, 0);
    cr_assert(strstr(r.out, "{\"command\": \"export\", \"items\": 2, \"failed\": 0, "),
              "%s", r.out);
    run_free(&r);
    BS(&r, NULL, 0, "-v", url, "import", P("src"));
    ASSERT_STATUS(r, 0);
    cr_assert(strstr(r.err, "borgstore: imported 2 items, 5 bytes in "), "%s", r.err);
    run_free(&r);
}

Test(bulk, store_level_failures)
{
    cr_assert_eq(mkdir(P("d"), 0777), 0);
    run_result r;
    /* a namespace that was never written: as ls */
    const char *url = new_store("file", "ns");
    BS(&r, NULL, 0, url, "export", "nothing", P("x"));
    ASSERT_STATUS(r, 3);
    cr_assert_str_eq(r.err, "borgstore: object not found: namespace nothing\n");
    run_free(&r);
    /* no store at all */
    BS(&r, "config/a\n", 9, P("file-none"), "get-many", P("d"));
    ASSERT_STATUS(r, 4); /* a plain path is a file:// store */
    run_free(&r);
    char none[4200];
    snprintf(none, sizeof none, "file://%s", P("none"));
    BS(&r, "config/a\n", 9, none, "get-many", P("d"));
    ASSERT_STATUS(r, 4);
    run_free(&r);
    /* DIR must exist for put-many and import */
    BS(&r, NULL, 0, url, "import", P("missing"));
    ASSERT_STATUS(r, 1);
    cr_assert(strstr(r.err, "cannot open"), "%s", r.err);
    run_free(&r);
    BS(&r, "config/a\n", 9, url, "put-many", P("missing"));
    ASSERT_STATUS(r, 1);
    run_free(&r);
}

Test(bulk, usage_errors_exit_2)
{
    /* an existing store: some arguments are checked once it is open */
    const char *U = new_store("file", "usage");
    struct {
        const char *argv[6];
        const char *want;
    } cases[] = {
        {{U, "put-many", NULL}, "put-many: missing argument"},
        {{U, "get-many", "a", "b", NULL}, "get-many: too many arguments"},
        {{U, "export", "data", NULL}, "export: missing argument"},
        {{U, "import", "a", "b", "c", NULL}, "import: too many arguments"},
        {{U, "put", "data/x", "--window", "4", NULL}, "put does not take --window"},
        {{U, "get-many", "d", "--window", "-1", NULL}, "--window must be from 0"},
        {{U, "get-many", "d", "--window", "x", NULL}, "--window needs a whole number"},
        {{U, "get-many", "d", "--deleted", NULL}, "get-many does not take --deleted"},
        {{U, "export", "/", "d", NULL}, "export: give a namespace"},
        {{U, "import", "d", "Data", NULL}, "import: invalid prefix"},
        {{U, "get-many", "", NULL}, "get-many: the directory must not be empty"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[8] = {bs_cli_path()};
        for (int k = 0; k < 6 && cases[i].argv[k]; k++) argv[k + 1] = cases[i].argv[k];
        run_result r;
        run_argv(&r, NULL, 0, false, argv);
        cr_assert_eq(r.status, 2, "case %zu: exit %d (%s)", i, r.status, r.err);
        cr_assert(strstr(r.err, cases[i].want), "case %zu: %s", i, r.err);
        cr_assert_eq(count_lines(r.err), 1, "case %zu: %s", i, r.err);
        run_free(&r);
    }
}

Test(bulk, help_documents_the_bulk_commands)
{
    run_result r;
    BS(&r, NULL, 0, "--help");
    ASSERT_STATUS(r, 0);
    static const char *words[] = {"put-many DIR [--window N]", "get-many DIR [--window N]",
                                  "import DIR [PREFIX] [--window N]",
                                  "export NAMESPACE DIR [--window N]", "--window N",
                                  "\"failed\"", "stored 1234 items"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        cr_assert(strstr(r.out, words[i]), "--help lacks '%s'", words[i]);
    run_free(&r);
}

Test(bulk, progress_bar_only_on_a_terminal)
{
    size_t n = 9u << 20;
    uint8_t *big = calloc(1, n);
    cr_assert_not_null(big);
    cr_assert_eq(bs_test_write_file(P("src/config/big"), big, n), 0);
    free(big);
    const char *url = new_store("file", "tty");
    const char *put_argv[] = {bs_cli_path(), url, "put-many", P("src"), NULL};
    run_result r;
    run_argv(&r, "config/big\n", 11, true, put_argv);
    ASSERT_STATUS(r, 0);
    cr_assert(strstr(r.err, "put-many 9.0 MiB"), "terminal shows progress: '%s'", r.err);
    run_free(&r);
    const char *get_argv[] = {bs_cli_path(), url, "get-many", P("out"), NULL};
    run_argv(&r, "config/big\n", 11, true, get_argv);
    ASSERT_STATUS(r, 0);
    cr_assert(strstr(r.err, "get-many 9.0 MiB"), "%s", r.err);
    run_free(&r);
    run_argv(&r, "config/big\n", 11, false, get_argv);
    ASSERT_STATUS(r, 0);
    cr_assert_str_eq(r.err, "", "a pipe shows nothing");
    run_free(&r);
}

/* import and export know their total (a first walk or listing, on a terminal
 * only): the bar shows bytes the store acknowledged of it, the rate and the
 * time left; put-many and get-many read names as they go: bytes and rate. */
Test(bulk, progress_shows_acknowledged_bytes_rate_and_eta)
{
    uint8_t *v = calloc(1, 1u << 20);
    cr_assert_not_null(v);
    for (int i = 0; i < 12; i++)
        cr_assert_eq(bs_test_write_file(P("src/%02d", i), v, 1u << 20), 0);
    free(v);
    const char *url = new_store("file", "eta");
    const char *imp[] = {bs_cli_path(), url, "import", P("src"), "data", NULL};
    run_result r;
    run_argv(&r, NULL, 0, true, imp);
    ASSERT_STATUS(r, 0);
    cr_assert(strstr(r.err, "import ["), "%s", r.err);
    cr_assert(strstr(r.err, "of 12.0 MiB"), "%s", r.err);
    cr_assert(strstr(r.err, "100% 12.0 MiB of 12.0 MiB"), "%s", r.err);
    cr_assert(strstr(r.err, " MiB/s"), "%s", r.err);
    cr_assert(strstr(r.err, "  ETA "), "%s", r.err);
    run_free(&r);
    const char *exp[] = {bs_cli_path(), url, "export", "data", P("out"), NULL};
    run_argv(&r, NULL, 0, true, exp);
    ASSERT_STATUS(r, 0);
    cr_assert(strstr(r.err, "export ["), "%s", r.err);
    cr_assert(strstr(r.err, "100% 12.0 MiB of 12.0 MiB"), "%s", r.err);
    cr_assert(strstr(r.err, "  ETA "), "%s", r.err);
    run_free(&r);
    const char *gm[] = {bs_cli_path(), url, "get-many", P("out2"), NULL};
    run_argv(&r, "data/00\ndata/01\ndata/02\ndata/03\ndata/04\ndata/05\ndata/06\ndata/07\n"
                 "data/08\n", 72, true, gm);
    ASSERT_STATUS(r, 0);
    cr_assert(strstr(r.err, "get-many 9.0 MiB  "), "%s", r.err);
    cr_assert(strstr(r.err, " MiB/s"), "%s", r.err);
    run_free(&r);
}
