/* The borgstore CLI, run as a real process: every command, the exit
 * statuses (0 ok, 1 store error, 2 usage error, 3 not found, 4 no store,
 * 8 already exists), one-line errors naming the
 * item, bad names, missing items, --json/--stats/-v, --levels, a 64 MiB
 * put/get through pipes, the progress bar only on a terminal, and the demo. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "borgstore/borgstore.h"
#include "run.h"
#include "testutil.h"

static char *tmp, *dir, *url;

static void setup(void)
{
    tmp = bs_test_tmpdir();
    cr_assert(asprintf(&dir, "%s/store", tmp) > 0);
    cr_assert(asprintf(&url, "file://%s", dir) > 0);
}

static void teardown(void)
{
    bs_test_rmtree(tmp);
    free(tmp);
    free(dir);
    free(url);
}

TestSuite(cli, .init = setup, .fini = teardown);

/* Exactly one line on stderr, equal to want. */
#define ASSERT_ERR_LINE(r, want)                                                        \
    do {                                                                                \
        cr_assert_str_eq((r).err, want "\n");                                           \
    } while (0)

#define ASSERT_STATUS(r, want)                                                          \
    cr_assert_eq((r).status, want, "exit %d, want %d; stderr: %s", (r).status, want,    \
                 (r).err)

static void ok(run_result *r)
{
    ASSERT_STATUS(*r, 0);
    cr_assert_str_eq(r->err, "", "stderr: %s", r->err);
}

static void create_store(void)
{
    run_result r;
    BS(&r, NULL, 0, url, "create");
    ok(&r);
    run_free(&r);
}

static void put(const char *name, const char *value)
{
    run_result r;
    BS(&r, value, strlen(value), url, "put", name);
    ok(&r);
    run_free(&r);
}

/* Sets an on-disk item's mtime (and atime) to sec since the epoch. */
static void set_mtime(const char *rel, time_t sec)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    struct timespec t[2] = {{.tv_sec = sec}, {.tv_sec = sec}};
    cr_assert_eq(utimensat(AT_FDCWD, path, t, 0), 0, "utimensat %s", path);
}

static bool on_disk(const char *rel)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    return stat(path, &st) == 0;
}

/* ---- help, version, usage errors ------------------------------------------- */

Test(cli, help_documents_every_command_and_option)
{
    run_result r;
    BS(&r, NULL, 0, "--help");
    ok(&r);
    static const char *words[] = {
        "usage: borgstore [OPTIONS] URL COMMAND", "create", "destroy", "put NAME [FILE|-]",
        "get NAME [FILE|-] [--offset N] [--size N]", "info NAME", "ls NAMESPACE",
        "--deleted", "--long", "rm NAME", "mv OLD NEW", "soft-delete NAME", "undelete NAME",
        "hash NAME", "--algorithm ALG", "quota", "demo",
        "--levels NS=L[,L...]", "--json", "--stats", "-v, --verbose", "--version",
        "BORGSTORE_LATENCY", "BORGSTORE_BANDWIDTH", "Exit status", "0   success",
        "2   usage error", "cleanup [--min-age S]", "destroy [--yes]", "--ssh-config FILE"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        cr_assert(strstr(r.out, words[i]), "--help lacks '%s'", words[i]);
    run_free(&r);
    BS(&r, NULL, 0, "-h");
    ok(&r);
    run_free(&r);
}

Test(cli, version_comes_from_the_build)
{
    run_result r;
    BS(&r, NULL, 0, "--version");
    ok(&r);
    cr_assert(!strncmp(r.out, "borgstore ", 10), "%s", r.out);
    cr_assert(strchr(r.out, '.') && r.out[r.out_len - 1] == '\n', "%s", r.out);
    run_free(&r);
}

Test(cli, usage_errors_exit_2_with_one_line)
{
    struct {
        const char *argv[7];
        const char *want; /* a part of the single error line */
    } cases[] = {
        {{NULL}, "no URL and command given"},
        {{"file:///x", NULL}, "no command given"},
        {{"file:///x", "frobnicate", NULL}, "unknown command 'frobnicate'"},
        {{"--bogus", "file:///x", "ls", "data", NULL}, "unknown option --bogus"},
        {{"file:///x", "put", NULL}, "put: missing argument"},
        {{"file:///x", "info", "a", "b", NULL}, "info: too many arguments"},
        {{"file:///x", "put", "data/x", "--offset", "3", NULL}, "put does not take --offset"},
        {{"file:///x", "ls", "data", "--algorithm", "sha256", NULL}, "ls does not take --algorithm"},
        {{"file:///x", "get", "data/x", "--size", "-1", NULL}, "--size must not be negative"},
        {{"file:///x", "get", "data/x", "--offset", "abc", NULL}, "--offset needs a whole number"},
        {{"file:///x", "get", "data/x", "--offset", NULL}, "--offset needs a value"},
        {{"file:///x", "hash", "data/x", "--algorithm", "md4", NULL}, "unknown --algorithm 'md4'"},
        {{"--levels", "data", "file:///x", "ls", "data", NULL}, "--levels wants NS=L"},
        {{"--levels", "data=9", "file:///x", "ls", "data", NULL}, "levels are numbers from 0 to 8"},
        {{"--levels", "data=1;2", "file:///x", "ls", "data", NULL}, "separate levels with ','"},
        {{"--levels=data=1", "--levels", "data/=2", "file:///x", "ls", "data", NULL}, "given twice"},
        {{"nope://x", "ls", "data", NULL}, "invalid URL"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[9] = {bs_cli_path()};
        for (int k = 0; k < 7 && cases[i].argv[k]; k++) argv[k + 1] = cases[i].argv[k];
        run_result r;
        run_argv(&r, NULL, 0, false, argv);
        cr_assert_eq(r.status, 2, "case %zu: exit %d (%s)", i, r.status, r.err);
        const char *line = strstr(r.err, "borgstore: ");
        cr_assert_not_null(line, "case %zu: %s", i, r.err);
        cr_assert(strstr(line, cases[i].want), "case %zu: %s", i, r.err);
        cr_assert_eq(strchr(line, '\n'), line + strlen(line) - 1, "case %zu: one line: %s", i,
                     line);
        cr_assert_str_eq(r.out, "", "case %zu", i);
        run_free(&r);
    }
}

/* ---- commands -------------------------------------------------------------- */

Test(cli, create_put_get_destroy)
{
    run_result r;
    BS(&r, NULL, 0, url, "create");
    ok(&r);
    run_free(&r);
    cr_assert(on_disk(""));

    BS(&r, "hello world", 11, url, "put", "config/greeting");
    ok(&r);
    cr_assert_str_eq(r.out, "");
    run_free(&r);
    BS(&r, "hello world", 11, url, "put", "config/greeting2", "-");
    ok(&r);
    run_free(&r);

    BS(&r, NULL, 0, url, "get", "config/greeting");
    ok(&r);
    cr_assert_str_eq(r.out, "hello world");
    run_free(&r);
    BS(&r, NULL, 0, url, "get", "config/greeting2", "-");
    ok(&r);
    cr_assert_str_eq(r.out, "hello world");
    run_free(&r);

    BS(&r, NULL, 0, url, "destroy");
    ok(&r);
    run_free(&r);
    cr_assert(!on_disk(""));
    BS(&r, NULL, 0, url, "ls", "config");
    ASSERT_STATUS(r, 4);
    char want[4200];
    snprintf(want, sizeof want, "borgstore: store does not exist: %s\n", url);
    cr_assert_str_eq(r.err, want);
    cr_assert_eq(strchr(r.err, '\n'), r.err + r.err_len - 1, "one line: %s", r.err);
    run_free(&r);
    BS(&r, NULL, 0, url, "destroy");
    ASSERT_STATUS(r, 4);
    run_free(&r);
}

Test(cli, create_refuses_a_non_empty_directory)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/something", dir);
    cr_assert_eq(bs_test_write_file(path, "x", 1), 0);
    run_result r;
    BS(&r, NULL, 0, url, "create");
    ASSERT_STATUS(r, 8);
    char want[4200];
    snprintf(want, sizeof want, "borgstore: cannot create %s: it exists and is not empty\n",
             url);
    cr_assert_str_eq(r.err, want);
    cr_assert_eq(strchr(r.err, '\n'), r.err + r.err_len - 1, "one line: %s", r.err);
    run_free(&r);
}

Test(cli, put_and_get_with_files)
{
    create_store();
    char in[4096], out[4096];
    snprintf(in, sizeof in, "%s/in.bin", tmp);
    snprintf(out, sizeof out, "%s/out.bin", tmp);
    uint8_t data[10000];
    bs_test_fill(data, sizeof data, 7);
    cr_assert_eq(bs_test_write_file(in, data, sizeof data), 0);
    run_result r;
    BS(&r, NULL, 0, url, "put", "data/00ff00ff", in);
    ok(&r);
    run_free(&r);
    cr_assert(on_disk("data/00/00ff00ff"), "data/ is nested at level 1 by default");
    BS(&r, NULL, 0, url, "get", "data/00ff00ff", out);
    ok(&r);
    cr_assert_str_eq(r.out, "");
    run_free(&r);
    size_t len;
    char *got = bs_test_read_file(out, &len);
    cr_assert_eq(len, sizeof data);
    cr_assert_arr_eq(got, data, len);
    free(got);

    BS(&r, NULL, 0, url, "put", "data/00ff00ff", "/nonexistent/file");
    ASSERT_STATUS(r, 1);
    cr_assert(strstr(r.err, "cannot open /nonexistent/file"), "%s", r.err);
    run_free(&r);
}

Test(cli, get_with_offset_size_and_negative_offset)
{
    create_store();
    put("config/digits", "0123456789");
    struct {
        const char *off, *size, *want;
    } cases[] = {
        {"0", NULL, "0123456789"}, {"4", "4", "4567"}, {"-3", NULL, "789"},
        {"-5", "2", "56"},         {NULL, "3", "012"}, {"20", NULL, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[10] = {bs_cli_path(), url, "get", "config/digits"};
        int a = 4;
        if (cases[i].off) { argv[a++] = "--offset"; argv[a++] = cases[i].off; }
        if (cases[i].size) { argv[a++] = "--size"; argv[a++] = cases[i].size; }
        run_result r;
        run_argv(&r, NULL, 0, false, argv);
        ok(&r);
        cr_assert_str_eq(r.out, cases[i].want, "case %zu", i);
        run_free(&r);
    }
    run_result r;
    BS(&r, NULL, 0, url, "get", "--offset=-11", "config/digits");
    ASSERT_STATUS(r, 1);
    cr_assert(!strncmp(r.err, "borgstore: read range error", 27), "%s", r.err);
    run_free(&r);
}

Test(cli, missing_items_are_one_line_store_errors)
{
    create_store();
    const char *name = "data/00ff00ff00ff";
    struct {
        const char *argv[5];
        const char *want;
    } cases[] = {
        {{"get", name}, "borgstore: object not found: data/00ff00ff00ff\n"},
        {{"info", name}, "borgstore: object not found: data/00ff00ff00ff\n"},
        {{"rm", name}, "borgstore: object not found: data/00ff00ff00ff\n"},
        {{"rm", name, "--deleted"}, "borgstore: object not found: data/00ff00ff00ff (soft-deleted)\n"},
        {{"hash", name}, "borgstore: object not found: data/00ff00ff00ff\n"},
        {{"mv", name, "data/11"}, "borgstore: object not found: data/00ff00ff00ff\n"},
        {{"soft-delete", name}, "borgstore: object not found: data/00ff00ff00ff\n"},
        {{"undelete", name}, "borgstore: object not found: data/00ff00ff00ff (soft-deleted)\n"},
        {{"ls", "nothing"}, "borgstore: object not found: namespace nothing\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[8] = {bs_cli_path(), url};
        for (int k = 0; k < 5 && cases[i].argv[k]; k++) argv[k + 2] = cases[i].argv[k];
        run_result r;
        run_argv(&r, NULL, 0, false, argv);
        cr_assert_eq(r.status, 3, "case %zu: exit %d", i, r.status);
        cr_assert_str_eq(r.err, cases[i].want, "case %zu", i);
        cr_assert_str_eq(r.out, "", "case %zu", i);
        run_free(&r);
    }
}

Test(cli, bad_names_are_store_errors)
{
    create_store();
    struct {
        const char *name, *rule;
    } cases[] = {
        {"data/ABC", "name must be lowercase: data/ABC"},
        {"data/a b", "name must not contain backslashes or blanks"},
        {"data/x.tmp", "name must not end with .tmp"},
        {"data/../x", "name must be relative and not contain '..'"},
        {"data/0", "key too short for 1 nesting levels: data/0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_result r;
        BS(&r, "v", 1, url, "put", cases[i].name);
        cr_assert_eq(r.status, 1, "%s: exit %d", cases[i].name, r.status);
        cr_assert(!strncmp(r.err, "borgstore: invalid argument: ", 29), "%s", r.err);
        cr_assert(strstr(r.err, cases[i].rule), "%s", r.err);
        cr_assert_eq(strchr(r.err, '\n'), r.err + r.err_len - 1, "one line: %s", r.err);
        run_free(&r);
    }
}

Test(cli, info_in_text_and_json)
{
    create_store();
    put("data/abcdef", "12345");
    run_result r;
    set_mtime("data/ab/abcdef", 1733333848); /* 2024-12-04 17:37:28 UTC */
    setenv("TZ", "UTC", 1);
    BS(&r, NULL, 0, url, "info", "data/abcdef");
    ok(&r);
    cr_assert(strstr(r.out, "name       data/abcdef\n"), "%s", r.out);
    cr_assert(strstr(r.out, "modified   2024-12-04 17:37:28\n"), "%s", r.out);
    cr_assert(strstr(r.out, "size       5\n"), "%s", r.out);
    cr_assert(strstr(r.out, "stored as  data/ab/abcdef\n"), "%s", r.out);
    run_free(&r);
    BS(&r, NULL, 0, url, "info", "data/abcdef", "--json");
    ok(&r);
    const char *head = "{\"name\": \"data/abcdef\", \"exists\": true, \"size\": 5, "
                       "\"directory\": false, \"deleted\": false, \"atime_ns\": ";
    cr_assert(!strncmp(r.out, head, strlen(head)), "%s", r.out);
    cr_assert(strstr(r.out, ", \"mtime_ns\": 1733333848000000000, \"stored_as\": "
                            "\"data/ab/abcdef\"}\n"), "%s", r.out);
    run_free(&r);
}

Test(cli, ls_sorted_long_json_and_deleted)
{
    create_store();
    put("data/ffff", "1");
    put("data/0000", "22");
    put("data/8888", "333");
    put("data/1111", "4444");
    put("config/b", "x");
    put("config/a", "y");
    run_result r;
    BS(&r, NULL, 0, url, "ls", "data");
    ok(&r);
    cr_assert_str_eq(r.out, "data/0000\ndata/1111\ndata/8888\ndata/ffff\n");
    run_free(&r);
    BS(&r, NULL, 0, url, "ls", "config/");
    ok(&r);
    cr_assert_str_eq(r.out, "config/a\nconfig/b\n");
    run_free(&r);
    const char *on[] = {"data/00/0000", "data/11/1111", "data/88/8888", "data/ff/ffff",
                        "config/a", "config/b"};
    for (size_t i = 0; i < 6; i++) set_mtime(on[i], 1733333848 + (time_t)i * 86400);
    setenv("TZ", "UTC", 1);
    BS(&r, NULL, 0, url, "ls", "data", "--long");
    ok(&r);
    cr_assert_str_eq(r.out, "           2  2024-12-04 17:37:28  data/0000\n"
                            "           4  2024-12-05 17:37:28  data/1111\n"
                            "           3  2024-12-06 17:37:28  data/8888\n"
                            "           1  2024-12-07 17:37:28  data/ffff\n");
    run_free(&r);
    BS(&r, NULL, 0, url, "--json", "ls", "config");
    ok(&r);
    cr_assert_str_eq(r.out, "[\n  {\"name\": \"config/a\", \"size\": 1, "
                            "\"mtime_ns\": 1733679448000000000},\n"
                            "  {\"name\": \"config/b\", \"size\": 1, "
                            "\"mtime_ns\": 1733765848000000000}\n]\n");
    run_free(&r);

    BS(&r, NULL, 0, url, "soft-delete", "data/8888");
    ok(&r);
    run_free(&r);
    cr_assert(on_disk("data/88/8888.del"));
    BS(&r, NULL, 0, url, "ls", "data");
    ok(&r);
    cr_assert_str_eq(r.out, "data/0000\ndata/1111\ndata/ffff\n");
    run_free(&r);
    BS(&r, NULL, 0, url, "ls", "--deleted", "data");
    ok(&r);
    cr_assert_str_eq(r.out, "data/8888\n");
    run_free(&r);
    BS(&r, NULL, 0, url, "ls", "--deleted", "--json", "config");
    ok(&r);
    cr_assert_str_eq(r.out, "[]\n");
    run_free(&r);
}

Test(cli, ls_sorts_items_on_several_levels)
{
    create_store();
    run_result r;
    BS(&r, "a", 1, "--levels", "data=0", url, "put", "data/ffff");
    ok(&r);
    run_free(&r);
    BS(&r, "b", 1, "--levels", "data=1", url, "put", "data/0000");
    ok(&r);
    run_free(&r);
    cr_assert(on_disk("data/ffff") && on_disk("data/00/0000"));
    BS(&r, NULL, 0, "--levels", "data=0,1", url, "ls", "data");
    ok(&r);
    cr_assert_str_eq(r.out, "data/0000\ndata/ffff\n");
    run_free(&r);
    BS(&r, NULL, 0, "--levels", "data=0,1", url, "get", "data/ffff");
    ok(&r);
    cr_assert_str_eq(r.out, "a");
    run_free(&r);
}

Test(cli, levels_option_configures_nesting_and_namespaces)
{
    create_store();
    run_result r;
    BS(&r, "v", 1, "--levels", "data=2", "--levels", "config=0", url, "put", "data/12345678");
    ok(&r);
    run_free(&r);
    cr_assert(on_disk("data/12/34/12345678"));
    BS(&r, "v", 1, "--levels", "data=2", url, "put", "keys/repokey");
    ASSERT_STATUS(r, 1);
    ASSERT_ERR_LINE(r, "borgstore: invalid argument: no namespace configured for: keys/repokey");
    run_free(&r);
    BS(&r, "v", 1, "--levels", "=0", url, "put", "keys/repokey");
    ok(&r);
    run_free(&r);
    cr_assert(on_disk("keys/repokey"));
}

Test(cli, rm_mv_soft_delete_undelete)
{
    create_store();
    put("config/a", "value a");
    run_result r;
    BS(&r, NULL, 0, url, "mv", "config/a", "config/b");
    ok(&r);
    run_free(&r);
    cr_assert(!on_disk("config/a") && on_disk("config/b"));
    BS(&r, NULL, 0, url, "soft-delete", "config/b");
    ok(&r);
    run_free(&r);
    BS(&r, NULL, 0, url, "get", "config/b");
    ASSERT_STATUS(r, 3);
    run_free(&r);
    BS(&r, NULL, 0, url, "get", "config/b", "--deleted");
    ok(&r);
    cr_assert_str_eq(r.out, "value a");
    run_free(&r);
    BS(&r, NULL, 0, url, "info", "--deleted", "config/b");
    ok(&r);
    cr_assert(strstr(r.out, "stored as  config/b.del\n"), "%s", r.out);
    run_free(&r);
    BS(&r, NULL, 0, url, "undelete", "config/b");
    ok(&r);
    run_free(&r);
    BS(&r, NULL, 0, url, "get", "config/b");
    ok(&r);
    cr_assert_str_eq(r.out, "value a");
    run_free(&r);
    BS(&r, NULL, 0, url, "rm", "config/b");
    ok(&r);
    run_free(&r);
    cr_assert(!on_disk("config/b"));
    put("config/c", "c");
    BS(&r, NULL, 0, url, "soft-delete", "config/c");
    ok(&r);
    run_free(&r);
    BS(&r, NULL, 0, url, "rm", "--deleted", "config/c");
    ok(&r);
    run_free(&r);
    cr_assert(!on_disk("config/c.del"));
}

Test(cli, hash_with_each_algorithm)
{
    create_store();
    put("config/h", "abc");
    static const char *algs[] = {"sha256", "sha512", "blake2b", "md5", "sha3_256", "blake2s"};
    for (int i = 0; i < 6; i++) {
        run_result r;
        BS(&r, NULL, 0, url, "hash", "config/h", "--algorithm", algs[i]);
        ok(&r);
        bs_hash_alg alg;
        cr_assert_eq(bs_hash_alg_parse(algs[i], &alg), 0);
        char want[BS_HASH_HEX_SIZE + 1];
        bs_hash_hex(alg, "abc", 3, want);
        strcat(want, "\n");
        cr_assert_str_eq(r.out, want);
        run_free(&r);
    }
    run_result r;
    BS(&r, NULL, 0, url, "hash", "config/h");
    ok(&r);
    cr_assert_str_eq(r.out,
                     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n");
    run_free(&r);
}

Test(cli, quota_in_text_and_json)
{
    create_store();
    run_result r;
    BS(&r, NULL, 0, url, "quota");
    ok(&r);
    cr_assert_str_eq(r.out, "limit  -1 (not tracked)\nusage  -1 (not tracked)\n");
    run_free(&r);
    BS(&r, NULL, 0, url, "quota", "--json");
    ok(&r);
    cr_assert_str_eq(r.out, "{\"limit\": -1, \"usage\": -1}\n");
    run_free(&r);
}

Test(cli, stats_and_verbose_go_to_stderr)
{
    create_store();
    run_result r;
    BS(&r, "12345", 5, "--stats", url, "put", "config/x");
    ASSERT_STATUS(r, 0);
    cr_assert(strstr(r.err, "store_calls            1\n"), "%s", r.err);
    cr_assert(strstr(r.err, "store_volume           5\n"), "%s", r.err);
    cr_assert(strstr(r.err, "backend_store_calls    1\n"), "%s", r.err);
    run_free(&r);
    BS(&r, NULL, 0, url, "get", "config/x", "--stats", "--json");
    ASSERT_STATUS(r, 0);
    cr_assert_str_eq(r.out, "12345");
    cr_assert(!strncmp(r.err, "{\"info_calls\": 0, ", 18), "%s", r.err);
    cr_assert(strstr(r.err, "\"load_calls\": 1, "), "%s", r.err);
    cr_assert(strstr(r.err, "\"load_volume\": 5, "), "%s", r.err);
    run_free(&r);
    BS(&r, "12", 2, "-v", url, "put", "config/y");
    ASSERT_STATUS(r, 0);
    cr_assert_str_eq(r.err, "borgstore: stored config/y (2 bytes)\n");
    run_free(&r);
    /* stats are printed also after a failure */
    BS(&r, NULL, 0, url, "get", "config/missing", "--stats");
    ASSERT_STATUS(r, 3);
    cr_assert(!strncmp(r.err, "borgstore: object not found: config/missing\n", 44), "%s",
              r.err);
    cr_assert(strstr(r.err, "backend_load_calls     1\n"), "%s", r.err);
    run_free(&r);
}

Test(cli, sixty_four_mib_through_pipes, .timeout = 180)
{
    create_store();
    size_t n = 64u << 20;
    uint8_t *data = malloc(n);
    bs_test_fill(data, n, 64);
    char hex[BS_HASH_HEX_SIZE], name[BS_NAME_BUF];
    bs_hash_hex(BS_HASH_SHA256, data, n, hex);
    snprintf(name, sizeof name, "data/%.64s", hex);
    run_result r;
    BS(&r, data, n, url, "put", name);
    ok(&r); /* piped stderr: no progress bar */
    run_free(&r);
    BS(&r, NULL, 0, url, "get", name);
    ok(&r);
    cr_assert_eq(r.out_len, n);
    cr_assert(!memcmp(r.out, data, n), "64 MiB came back different");
    run_free(&r);
    BS(&r, NULL, 0, url, "hash", name);
    ok(&r);
    cr_assert(!strncmp(r.out, hex, 64));
    run_free(&r);
    BS(&r, NULL, 0, url, "get", name, "--offset", "-4096");
    ok(&r);
    cr_assert_eq(r.out_len, 4096);
    cr_assert(!memcmp(r.out, data + n - 4096, 4096));
    run_free(&r);
    free(data);
}

Test(cli, progress_bar_only_on_a_terminal)
{
    create_store();
    size_t n = 16u << 20;
    char in[4096];
    snprintf(in, sizeof in, "%s/big.bin", tmp);
    uint8_t *data = calloc(1, n);
    cr_assert_eq(bs_test_write_file(in, data, n), 0);
    free(data);
    const char *argv[] = {bs_cli_path(), url, "put", "config/big", in, NULL};
    run_result r;
    run_argv(&r, NULL, 0, true, argv);
    ASSERT_STATUS(r, 0);
    /* a file streams into the store: the bytes read are the bytes stored */
    cr_assert(strstr(r.err, "put ["), "terminal shows progress: '%s'", r.err);
    cr_assert(strstr(r.err, "100% 16.0 MiB of 16.0 MiB"), "%s", r.err);
    run_free(&r);
    /* standard input is read whole first: counted without a percentage
     * (100% would come before the store saw a byte), then the store is
     * announced */
    const char *stdin_argv[] = {"/bin/sh", "-c", "exec \"$0\" \"$1\" put config/big2 < \"$2\"",
                                bs_cli_path(), url, in, NULL};
    run_argv(&r, NULL, 0, true, stdin_argv);
    ASSERT_STATUS(r, 0);
    cr_assert(strstr(r.err, "put: reading 8.0 MiB"), "terminal shows progress: '%s'", r.err);
    cr_assert(!strstr(r.err, "%"), "%s", r.err);
    cr_assert(strstr(r.err, "put: storing 16.0 MiB"), "%s", r.err);
    run_free(&r);
    const char *get_argv[] = {bs_cli_path(), url, "get", "config/big", NULL};
    run_argv(&r, NULL, 0, true, get_argv);
    ASSERT_STATUS(r, 0);
    cr_assert_eq(r.out_len, n);
    cr_assert(strstr(r.err, "get ["), "%s", r.err);
    /* bytes written so far of the total, and the rate */
    cr_assert(strstr(r.err, "100% 16.0 MiB of 16.0 MiB"), "%s", r.err);
    cr_assert(strstr(r.err, " MiB/s"), "%s", r.err);
    run_free(&r);
    run_argv(&r, NULL, 0, false, argv);
    ok(&r); /* the same put with stderr on a pipe shows nothing */
    run_free(&r);
    put("config/small", "s");
    const char *small[] = {bs_cli_path(), url, "get", "config/small", NULL};
    run_argv(&r, NULL, 0, true, small);
    ASSERT_STATUS(r, 0);
    cr_assert_str_eq(r.err, "", "small values show no progress");
    run_free(&r);
}

static int count_entries(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) n++;
    closedir(d);
    return n;
}

Test(cli, demo_in_a_temp_dir_leaves_nothing_behind)
{
    char *demo_tmp;
    cr_assert(asprintf(&demo_tmp, "%s/demotmp", tmp) > 0);
    cr_assert_eq(mkdir(demo_tmp, 0700), 0);
    cr_assert_eq(setenv("TMPDIR", demo_tmp, 1), 0);
    run_result r;
    BS(&r, NULL, 0, "demo");
    unsetenv("TMPDIR");
    ok(&r);
    static const char *parts[] = {
        "borgstore demo: a throw-away store at file://", "Namespaces", "config/settings1",
        "is stored as data/", "On disk (file://), that is the file", "offset 5, size 9",
        "\"arbitrary\"", "offset -5", "Soft delete", "ls data --deleted", "undelete",
        "matches the name", "store_calls", "backend_load_calls", "destroyed"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        cr_assert(strstr(r.out, parts[i]), "demo output lacks '%s'", parts[i]);
    run_free(&r);
    cr_assert_eq(count_entries(demo_tmp), 0, "the demo removed its temp store");
    free(demo_tmp);
}

Test(cli, demo_with_a_given_url)
{
    run_result r;
    BS(&r, NULL, 0, url, "demo");
    ok(&r);
    cr_assert(strstr(r.out, url), "%s", r.out);
    run_free(&r);
    cr_assert(!on_disk(""), "destroyed again");
    BS(&r, NULL, 0, "--levels", "data=2", "--levels", "=0", "demo", url);
    ok(&r);
    cr_assert(strstr(r.out, "data/ [2]"), "%s", r.out);
    run_free(&r);
    /* a non-empty target is refused and left alone */
    char path[4096];
    snprintf(path, sizeof path, "%s/keep", dir);
    cr_assert_eq(bs_test_write_file(path, "x", 1), 0);
    BS(&r, NULL, 0, url, "demo");
    ASSERT_STATUS(r, 8);
    cr_assert(strstr(r.err, "borgstore: cannot create file://"), "%s", r.err);
    cr_assert(strstr(r.err, "it exists and is not empty"), "%s", r.err);
    run_free(&r);
    cr_assert(on_disk("keep"));
}

/* ls after a nesting-level change lists items get cannot find: it says so
 * and names the --levels that reach them; get with those levels works. */
Test(cli, ls_explains_items_on_other_nesting_levels)
{
    create_store();
    put("data/00112233", "v"); /* default: data on level 1 */
    run_result r;
    BS(&r, NULL, 0, "--levels", "data=2", url, "ls", "data");
    ASSERT_STATUS(r, 0);
    cr_assert_str_eq(r.out, "data/00112233\n");
    cr_assert(strstr(r.err, "borgstore: note: 1 item listed in data/ is on nesting level 1, "
                            "but data/ is opened with level 2: get, info and rm do not find "
                            "it. Give the levels the store was written with (--levels data=1), "
                            "or all while moving items (--levels data=1,2).\n"),
              "%s", r.err);
    run_free(&r);
    BS(&r, NULL, 0, "--levels", "data=2", url, "get", "data/00112233");
    ASSERT_STATUS(r, 3);
    run_free(&r);
    BS(&r, NULL, 0, "--levels", "data=1,2", url, "get", "data/00112233");
    ASSERT_STATUS(r, 0);
    cr_assert_str_eq(r.out, "v");
    run_free(&r);
    BS(&r, NULL, 0, "--levels", "data=1,2", url, "ls", "data");
    ok(&r); /* every item reachable: no note */
    run_free(&r);
    put("config/a/b", "w"); /* a directory that is a namespace, not nesting */
    BS(&r, NULL, 0, url, "ls", "config");
    ok(&r);
    run_free(&r);
}
