/* Permissions of the posix backend: every letter against every operation
 * (table-driven), nearest-ancestor lookup, the four borgbackup presets, and
 * the JSON form including malformed input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/permissions.h"
#include "posixtest.h"

TestSuite(permissions, .init = pt_init, .fini = pt_fini, .timeout = 60);

static const char *const letters[] = {"", "l", "r", "w", "W", "D"};
#define N_LETTERS (sizeof letters / sizeof letters[0])

static void put(bs_backend *b, const char *name, const char *value)
{
    PT_OK(bs_backend_store(b, name, value, strlen(value)));
}

static bool exists(bs_backend *admin, const char *name)
{
    bs_item_info info;
    PT_OK(bs_backend_info(admin, name, &info));
    return info.exists;
}

/* ---- one operation on an item, under {"": letter} ------------------------ */

typedef int (*op_fn)(bs_backend *r, bs_backend *admin);

static int op_mkdir(bs_backend *r, bs_backend *admin)
{
    if (exists(admin, "newdir")) PT_OK(bs_backend_rmdir(admin, "newdir"));
    return bs_backend_mkdir(r, "newdir");
}
static int op_rmdir(bs_backend *r, bs_backend *admin)
{
    PT_OK(bs_backend_mkdir(admin, "emptydir"));
    return bs_backend_rmdir(r, "emptydir");
}
static int op_info(bs_backend *r, bs_backend *admin)
{
    (void)admin;
    bs_item_info info;
    return bs_backend_info(r, "item", &info);
}
static int op_list(bs_backend *r, bs_backend *admin)
{
    (void)admin;
    bs_list_iter *it = NULL;
    int rc = bs_backend_list_begin(r, "", &it);
    bs_backend_list_end(it);
    return rc;
}
static int op_load(bs_backend *r, bs_backend *admin)
{
    (void)admin;
    uint8_t *got = NULL;
    size_t len;
    int rc = bs_backend_load(r, "item", 0, BS_SIZE_ALL, &got, &len);
    bs_free(got);
    return rc;
}
static int op_store_new(bs_backend *r, bs_backend *admin)
{
    if (exists(admin, "fresh")) PT_OK(bs_backend_delete(admin, "fresh"));
    return bs_backend_store(r, "fresh", "f", 1);
}
static int op_overwrite(bs_backend *r, bs_backend *admin)
{
    (void)admin;
    return bs_backend_store(r, "item", "item", 4);
}
static int op_delete(bs_backend *r, bs_backend *admin)
{
    put(admin, "victim", "v");
    return bs_backend_delete(r, "victim");
}
static int op_hash(bs_backend *r, bs_backend *admin)
{
    (void)admin;
    char hex[BS_HASH_HEX_SIZE];
    return bs_backend_hash(r, "item", BS_HASH_SHA256, hex);
}
static int op_quota(bs_backend *r, bs_backend *admin)
{
    (void)admin;
    bs_quota q;
    return bs_backend_quota(r, &q);
}

static const struct {
    const char *op;
    const char *allowed; /* letters of which any one suffices */
    op_fn fn;
} single_cases[] = {
    {"mkdir", "w", op_mkdir},       {"rmdir", "wD", op_rmdir},
    {"info", "lr", op_info},        {"list", "l", op_list},
    {"load", "r", op_load},         {"store new", "wW", op_store_new},
    {"overwrite", "W", op_overwrite}, {"delete", "D", op_delete},
    {"hash", "r", op_hash},         {"quota", "lrwWD", op_quota},
};

Test(permissions, every_letter_against_every_operation)
{
    bs_backend *admin = pt_open(NULL, 0);
    put(admin, "item", "item");
    for (size_t l = 0; l < N_LETTERS; l++) {
        char spec[32];
        snprintf(spec, sizeof spec, "{\"\": \"%s\"}", letters[l]);
        bs_backend *r = pt_open(spec, 0);
        for (size_t c = 0; c < sizeof single_cases / sizeof single_cases[0]; c++) {
            bool want = single_cases[c].op[0] == 'q' ||
                        (letters[l][0] && strchr(single_cases[c].allowed, letters[l][0]));
            int rc = single_cases[c].fn(r, admin);
            cr_assert_eq(rc, want ? 0 : BS_ERR_PERMISSION, "%s with %s: %d (%s)",
                         single_cases[c].op, spec, rc, bs_error_message());
        }
        bs_backend_free(r);
    }
    bs_backend_free(admin);
}

Test(permissions, create_needs_w_or_W_and_destroy_needs_D)
{
    for (size_t l = 0; l < N_LETTERS; l++) {
        char spec[32];
        snprintf(spec, sizeof spec, "{\"\": \"%s\"}", letters[l]);
        bool w = letters[l][0] == 'w' || letters[l][0] == 'W';
        bool d = letters[l][0] == 'D';
        bs_backend *r = pt_backend(spec, 0);
        PT_EXPECT(w ? 0 : BS_ERR_PERMISSION, bs_backend_create(r));
        if (!w) {
            bs_backend *admin = pt_backend(NULL, 0);
            PT_OK(bs_backend_create(admin));
            bs_backend_free(admin);
        }
        PT_EXPECT(d ? 0 : BS_ERR_PERMISSION, bs_backend_destroy(r));
        if (!d) {
            bs_backend *admin = pt_backend(NULL, 0);
            PT_OK(bs_backend_destroy(admin));
            bs_backend_free(admin);
        }
        bs_backend_free(r);
    }
}

/* move: D on the source, w or W on a new target, W on an existing one.
 * defrag: r on every source, w or W on a new target, W on an existing one. */
Test(permissions, move_and_defrag_check_source_and_target)
{
    bs_backend *admin = pt_open(NULL, 0);
    for (size_t s = 0; s < N_LETTERS; s++) {
        for (size_t t = 0; t < N_LETTERS; t++) {
            char spec[96];
            snprintf(spec, sizeof spec, "{\"\": \"l\", \"a\": \"%s\", \"b\": \"%s\"}",
                     letters[s], letters[t]);
            bs_backend *r = pt_open(spec, 0);
            char sl = letters[s][0], tl = letters[t][0];
            bool src_d = sl == 'D', src_r = sl == 'r';
            bool dst_new = tl == 'w' || tl == 'W', dst_over = tl == 'W';

            put(admin, "a/item", "abc");
            if (exists(admin, "b/new")) PT_OK(bs_backend_delete(admin, "b/new"));
            PT_EXPECT(src_d && dst_new ? 0 : BS_ERR_PERMISSION,
                      bs_backend_move(r, "a/item", "b/new"));
            put(admin, "a/item", "abc");
            put(admin, "b/old", "old");
            PT_EXPECT(src_d && dst_over ? 0 : BS_ERR_PERMISSION,
                      bs_backend_move(r, "a/item", "b/old"));

            put(admin, "a/item", "abc");
            bs_defrag_source src = {"a/item", 1, 2};
            char out_name[BS_NAME_BUF];
            if (exists(admin, "b/packed")) PT_OK(bs_backend_delete(admin, "b/packed"));
            PT_EXPECT(src_r && dst_new ? 0 : BS_ERR_PERMISSION,
                      bs_backend_defrag(r, &src, 1, "b/packed", BS_HASH_SHA256, NULL, 0,
                                        out_name));
            put(admin, "b/packed", "x");
            PT_EXPECT(src_r && dst_over ? 0 : BS_ERR_PERMISSION,
                      bs_backend_defrag(r, &src, 1, "b/packed", BS_HASH_SHA256, NULL, 0,
                                        out_name));
            char hex[BS_HASH_HEX_SIZE], hashed[2 * BS_HASH_HEX_SIZE];
            PT_OK(bs_hash_hex(BS_HASH_SHA256, "bc", 2, hex));
            snprintf(hashed, sizeof hashed, "b/%.2s/%s", hex, hex);
            if (exists(admin, hashed)) PT_OK(bs_backend_delete(admin, hashed));
            PT_EXPECT(src_r && dst_new ? 0 : BS_ERR_PERMISSION,
                      bs_backend_defrag(r, &src, 1, NULL, BS_HASH_SHA256, "b", 1, out_name));
            if (src_r && dst_new) cr_assert_str_eq(out_name, hashed);
            bs_backend_free(r);
        }
    }
    bs_backend_free(admin);
}

Test(permissions, nearest_listed_ancestor_decides)
{
    bs_backend *admin = pt_open(NULL, 0);
    put(admin, "data/x", "x");
    put(admin, "data/closed/y", "y");
    put(admin, "top", "t");
    bs_backend *r = pt_open("{\"\": \"lr\", \"data\": \"lrw\", \"data/closed\": \"\", "
                            "\"data/closed/open\": \"W\"}", 0);
    PT_OK(bs_backend_store(r, "data/new", "n", 1));              /* w from data */
    PT_EXPECT(BS_ERR_PERMISSION, bs_backend_store(r, "data/x", "o", 1)); /* no W */
    PT_EXPECT(BS_ERR_PERMISSION, bs_backend_store(r, "top2", "n", 1));   /* "" is lr */
    uint8_t *got;
    size_t len;
    PT_OK(bs_backend_load(r, "data/x", 0, BS_SIZE_ALL, &got, &len));
    bs_free(got);
    /* data/closed is listed with no letters: it does not fall back to data */
    PT_EXPECT(BS_ERR_PERMISSION, bs_backend_load(r, "data/closed/y", 0, BS_SIZE_ALL, &got, &len));
    PT_EXPECT(BS_ERR_PERMISSION, bs_backend_store(r, "data/closed/z", "z", 1));
    PT_OK(bs_backend_store(r, "data/closed/open/deep/z", "z", 1));
    bs_backend_free(r);

    /* without a root entry, the root grants nothing */
    r = pt_open("{\"data\": \"lrwWD\"}", 0);
    bs_list_iter *it = NULL;
    PT_EXPECT(BS_ERR_PERMISSION, bs_backend_list_begin(r, "", &it));
    PT_OK(bs_backend_list_begin(r, "data", &it));
    bs_backend_list_end(it);
    PT_OK(bs_backend_delete(r, "data/new"));
    PT_EXPECT(BS_ERR_PERMISSION, bs_backend_delete(r, "top"));
    bs_backend_free(r);
    bs_backend_free(admin);
}

/* ---- presets -------------------------------------------------------------- */

static const struct {
    const char *preset;
    const char *ns_letters[9][2]; /* issue 2 / Python borgstore 0.6; borg 2's (issue 13) */
} presets[] = {
    {"borgbackup-all", {{"", "lrwWD"}}},
    {"borgbackup-no-delete",
     {{"", "lr"}, {"archives", "lrw"}, {"cache", "lrwWD"}, {"config", "lrW"}, {"data", "lrw"},
      {"keys", "lr"}, {"locks", "lrwD"}}},
    {"borgbackup-write-only",
     {{"", "l"}, {"archives", "lw"}, {"cache", "lrwWD"}, {"config", "lrW"}, {"data", "lw"},
      {"keys", "lr"}, {"locks", "lrwD"}}},
    {"borgbackup-read-only", {{"", "lr"}, {"locks", "lrwD"}}},
    {"all", {{"", "lrwWD"}}},
    {"no-delete",
     {{"", "lr"}, {"archives", "lrw"}, {"cache", "lrwWD"}, {"config", "lrW"},
      {"index", "lrwWD"}, {"keys", "lr"}, {"locks", "lrwD"}, {"packs", "lrw"}}},
    {"write-only",
     {{"", "l"}, {"archives", "lw"}, {"cache", "lrwWD"}, {"config", "lrW"}, {"index", "lrwWD"},
      {"keys", "lr"}, {"locks", "lrwD"}, {"packs", "lw"}}},
    {"read-only", {{"", "lr"}, {"locks", "lrwD"}}},
};

static const char *const namespaces[] = {"archives", "cache", "config", "data",  "index",
                                         "keys",     "locks", "packs",  "other"};

static const char *letters_for(size_t p, const char *ns)
{
    const char *root = "";
    for (size_t i = 0; i < 9 && presets[p].ns_letters[i][0]; i++) {
        if (!strcmp(presets[p].ns_letters[i][0], ns)) return presets[p].ns_letters[i][1];
        if (!presets[p].ns_letters[i][0][0]) root = presets[p].ns_letters[i][1];
    }
    return root;
}

static bool any_of(const char *granted, const char *needed)
{
    for (; *needed; needed++)
        if (strchr(granted, *needed)) return true;
    return false;
}

Test(permissions, presets_grant_exactly_their_letters)
{
    bs_backend *admin = pt_open(NULL, 0);
    for (size_t p = 0; p < sizeof presets / sizeof presets[0]; p++) {
        bs_backend *r = pt_open(presets[p].preset, 0);
        for (size_t n = 0; n < sizeof namespaces / sizeof namespaces[0]; n++) {
            const char *ns = namespaces[n];
            const char *g = letters_for(p, ns);
            char item[64], fresh[64];
            snprintf(item, sizeof item, "%s/item", ns);
            snprintf(fresh, sizeof fresh, "%s/fresh", ns);
            put(admin, item, "v");
            if (exists(admin, fresh)) PT_OK(bs_backend_delete(admin, fresh));
            uint8_t *got = NULL;
            size_t len;
            bs_item_info info;
            bs_list_iter *it = NULL;
#define PRESET_CHECK(need, call)                                                    \
    cr_assert_eq((call), any_of(g, need) ? 0 : BS_ERR_PERMISSION, "%s: %s on %s: %s", \
                 presets[p].preset, #call, ns, bs_error_message())
            PRESET_CHECK("r", bs_backend_load(r, item, 0, BS_SIZE_ALL, &got, &len));
            bs_free(got);
            PRESET_CHECK("lr", bs_backend_info(r, item, &info));
            PRESET_CHECK("l", bs_backend_list_begin(r, ns, &it));
            bs_backend_list_end(it);
            PRESET_CHECK("wW", bs_backend_store(r, fresh, "n", 1));
            PRESET_CHECK("W", bs_backend_store(r, item, "o", 1));
            PRESET_CHECK("D", bs_backend_delete(r, item));
#undef PRESET_CHECK
        }
        bs_backend_free(r);
    }
    bs_backend_free(admin);
}

Test(permissions, presets_spot_checks)
{
    bs_backend *admin = pt_open(NULL, 0);
    put(admin, "data/0000", "chunk");
    put(admin, "config/manifest", "m");
    bs_backend *r = pt_open("borgbackup-no-delete", 0);
    PT_EXPECT(BS_ERR_PERMISSION, bs_backend_delete(r, "data/0000"));
    PT_EXPECT(BS_ERR_PERMISSION, bs_backend_move(r, "data/0000", "data/0000.del"));
    PT_OK(bs_backend_store(r, "config/manifest", "m2", 2));
    bs_backend_free(r);
    r = pt_open("borgbackup-write-only", 0);
    uint8_t *got;
    size_t len;
    PT_EXPECT(BS_ERR_PERMISSION, bs_backend_load(r, "data/0000", 0, BS_SIZE_ALL, &got, &len));
    PT_OK(bs_backend_store(r, "data/0001", "c", 1));
    bs_backend_free(r);
    r = pt_open("borgbackup-read-only", 0);
    PT_EXPECT(BS_ERR_PERMISSION, bs_backend_store(r, "data/0002", "c", 1));
    PT_OK(bs_backend_store(r, "locks/lock.1", "l", 1));
    PT_OK(bs_backend_delete(r, "locks/lock.1"));
    bs_backend_free(r);
    r = pt_open("borgbackup-all", 0);
    PT_OK(bs_backend_delete(r, "data/0000"));
    PT_OK(bs_backend_close(r));
    PT_OK(bs_backend_destroy(r));
    bs_backend_free(r);
    bs_backend_free(admin);
}

/* ---- the specification parser --------------------------------------------- */

Test(permissions, json_forms_that_parse)
{
    bs_permissions *p = NULL;
    PT_OK(bs__permissions_parse(&p, NULL));
    cr_assert_null(p);
    PT_OK(bs__permissions_parse(&p, ""));
    cr_assert_null(p);
    PT_OK(bs__permissions_parse(&p, "{}"));
    cr_assert_null(p, "an empty mapping means no restrictions, as in Python");
    PT_OK(bs__permissions_parse(&p, " \n{ \"\" : \"lr\" ,\t\"data\":\"lrwWD\", \"a\\/b\": \"\" }\r\n"));
    cr_assert_eq(bs__permissions_count(p), 3);
    PT_OK(bs__permissions_check(p, "x", "r"));
    PT_OK(bs__permissions_check(p, "data/x", "D"));
    PT_EXPECT(BS_ERR_PERMISSION, bs__permissions_check(p, "x", "w"));
    PT_EXPECT(BS_ERR_PERMISSION, bs__permissions_check(p, "a/b/c", "r"));
    cr_assert_not_null(strstr(bs_error_message(), "a/b/c"));
    bs__permissions_free(p);
    PT_OK(bs__permissions_check(NULL, "anything", "D"));
    bs__permissions_free(NULL);

    PT_OK(bs__permissions_parse(&p, "borgbackup-read-only"));
    cr_assert_eq(bs__permissions_count(p), 2);
    bs__permissions_free(p);
}

Test(permissions, malformed_json_is_invalid)
{
    static const char *const bad[] = {
        "{",
        "}",
        "[]",
        "{]",
        "{\"\": \"lr\"",
        "{\"\": \"lr\",}",
        "{\"\": \"lr\"} x",
        "{\"\": \"lr\"}{}",
        "{\"\" \"lr\"}",
        "{\"\": lr}",
        "{\"\": 1}",
        "{\"\": null}",
        "{\"\": [\"l\"]}",
        "{\"\": \"x\"}",
        "{\"\": \"ll\"}",
        "{\"\": \"lrwWDl\"}",
        "{\"\": \"L\"}",
        "{\"a\": \"l\", \"a\": \"r\"}",
        "{\"A\": \"l\"}",
        "{\"data/\": \"l\"}",
        "{\"/data\": \"l\"}",
        "{\"../x\": \"l\"}",
        "{\"x.tmp\": \"l\"}",
        "{\"\\u0041\": \"l\"}",
        "{\"a\\nb\": \"l\"}",
        "{\"a\tb\": \"l\"}",
        "{\"caf\xc3\xa9\": \"l\"}",
        "{'': 'lr'}",
        "{\"\": \"lr\"} // comment",
        "borgbackup-everything",
        "borgbackup-all ",
        "lrwWD",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bs_permissions *p = (bs_permissions *)1;
        int rc = bs__permissions_parse(&p, bad[i]);
        cr_assert_eq(rc, BS_ERR_INVALID, "accepted: %s", bad[i]);
        cr_assert_null(p);
        cr_assert_not_null(strstr(bs_error_message(), "permissions"), "%s", bs_error_message());
        bs_backend_config cfg = {.permissions = bad[i]};
        bs_backend *b = NULL;
        cr_assert_eq(bs_backend_new(&b, pt_url, &cfg), BS_ERR_INVALID, "backend took: %s", bad[i]);
        cr_assert_null(b);
    }
}

Test(permissions, size_bounds_are_enforced)
{
    /* a long key, too many entries, an oversized specification */
    char key[200];
    memset(key, 'a', 101);
    key[101] = '\0';
    char spec[300];
    snprintf(spec, sizeof spec, "{\"%s\": \"l\"}", key);
    bs_permissions *p;
    PT_EXPECT(BS_ERR_INVALID, bs__permissions_parse(&p, spec));
    key[100] = '\0';
    snprintf(spec, sizeof spec, "{\"%s\": \"l\"}", key);
    PT_OK(bs__permissions_parse(&p, spec));
    bs__permissions_free(p);

    size_t cap = 64 * (BS_PERMISSIONS_MAX_ENTRIES + 2);
    char *many = malloc(cap);
    size_t o = 0;
    many[o++] = '{';
    for (int i = 0; i <= BS_PERMISSIONS_MAX_ENTRIES; i++)
        o += (size_t)snprintf(many + o, cap - o, "%s\"k%d\": \"l\"", i ? "," : "", i);
    snprintf(many + o, cap - o, "}");
    PT_EXPECT(BS_ERR_INVALID, bs__permissions_parse(&p, many));
    /* exactly the maximum is fine */
    char *last = strrchr(many, ',');
    strcpy(last, "}");
    PT_OK(bs__permissions_parse(&p, many));
    cr_assert_eq(bs__permissions_count(p), BS_PERMISSIONS_MAX_ENTRIES);
    bs__permissions_free(p);
    free(many);

    char *huge = malloc(BS_PERMISSIONS_MAX_SPEC + 16);
    memset(huge, ' ', BS_PERMISSIONS_MAX_SPEC + 8);
    memcpy(huge, "{}", 2);
    huge[BS_PERMISSIONS_MAX_SPEC + 8] = '\0';
    PT_EXPECT(BS_ERR_INVALID, bs__permissions_parse(&p, huge));
    free(huge);
}
