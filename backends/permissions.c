/* Permission mappings (see permissions.h): presets, a small strict parser
 * for a JSON object of strings, and the nearest-ancestor check of Python
 * borgstore's PosixFS._check_permission. */
#include "backends/permissions.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "borgstore/backend.h"
#include "common/error.h"
#include "common/names.h"

#define LETTERS "lrwWD"
#define MAX_VALUE 5 /* each letter at most once */

typedef struct perm_entry {
    char name[BS_NAME_MAX + 1];
    char letters[MAX_VALUE + 1];
} perm_entry;

struct bs_permissions {
    size_t n;
    perm_entry e[BS_PERMISSIONS_MAX_ENTRIES];
};

typedef struct preset_entry {
    const char *name;
    const char *letters;
} preset_entry;

/* The presets of Python borgstore 0.6 / borg. */
static const preset_entry preset_all[] = {{"", "lrwWD"}, {NULL, NULL}};
static const preset_entry preset_no_delete[] = {
    {"", "lr"},       {"archives", "lrw"}, {"cache", "lrwWD"}, {"config", "lrW"},
    {"data", "lrw"},  {"keys", "lr"},      {"locks", "lrwD"},  {NULL, NULL}};
static const preset_entry preset_write_only[] = {
    {"", "l"},        {"archives", "lw"},  {"cache", "lrwWD"}, {"config", "lrW"},
    {"data", "lw"},   {"keys", "lr"},      {"locks", "lrwD"},  {NULL, NULL}};
static const preset_entry preset_read_only[] = {{"", "lr"}, {"locks", "lrwD"}, {NULL, NULL}};
/* borg 2's own tables (borg_permissions(), --permissions / BORG_REPO_PERMISSIONS):
 * packs/ and index/ instead of borgstore's data/. */
static const preset_entry borg_no_delete[] = {
    {"", "lr"},        {"archives", "lrw"}, {"cache", "lrwWD"}, {"config", "lrW"},
    {"index", "lrwWD"}, {"keys", "lr"},     {"locks", "lrwD"},  {"packs", "lrw"},
    {NULL, NULL}};
static const preset_entry borg_write_only[] = {
    {"", "l"},         {"archives", "lw"},  {"cache", "lrwWD"}, {"config", "lrW"},
    {"index", "lrwWD"}, {"keys", "lr"},     {"locks", "lrwD"},  {"packs", "lw"},
    {NULL, NULL}};

static const struct {
    const char *name;
    const preset_entry *entries;
} presets[] = {
    {"borgbackup-all", preset_all},
    {"borgbackup-no-delete", preset_no_delete},
    {"borgbackup-write-only", preset_write_only},
    {"borgbackup-read-only", preset_read_only},
    {"all", preset_all},
    {"no-delete", borg_no_delete},
    {"write-only", borg_write_only},
    {"read-only", preset_read_only},
};

static const perm_entry *lookup(const bs_permissions *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->e[i].name, name) == 0) return &p->e[i];
    return NULL;
}

/* Checks letters (only lrwWD, each once) and adds the entry. */
static int add_entry(bs_permissions *p, const char *name, const char *letters)
{
    if (!bs__name_is_valid(name))
        return bs__error_set(BS_ERR_INVALID, "permissions: key is not a valid item name");
    for (const char *c = letters; *c; c++) {
        if (!strchr(LETTERS, *c))
            return bs__error_set(BS_ERR_INVALID,
                                 "permissions: letter '%c' for '%s' is not one of " LETTERS,
                                 *c, name);
        if (strchr(c + 1, *c))
            return bs__error_set(BS_ERR_INVALID, "permissions: letter '%c' repeated for '%s'",
                                 *c, name);
    }
    if (lookup(p, name))
        return bs__error_set(BS_ERR_INVALID, "permissions: duplicate key '%s'", name);
    if (p->n >= BS_PERMISSIONS_MAX_ENTRIES)
        return bs__error_set(BS_ERR_INVALID, "permissions: more than %d entries",
                             BS_PERMISSIONS_MAX_ENTRIES);
    /* lengths were bounded by the parser / the preset tables */
    strcpy(p->e[p->n].name, name);
    strcpy(p->e[p->n].letters, letters);
    p->n++;
    return 0;
}

typedef struct json_cursor {
    const char *s;
    size_t pos;
} json_cursor;

static void skip_ws(json_cursor *c)
{
    while (c->s[c->pos] == ' ' || c->s[c->pos] == '\t' || c->s[c->pos] == '\n' ||
           c->s[c->pos] == '\r')
        c->pos++;
}

static int syntax(const json_cursor *c, const char *what)
{
    return bs__error_set(BS_ERR_INVALID, "permissions: %s at offset %zu", what, c->pos);
}

/* A JSON string of at most max characters (plain ASCII, escapes \" \\ \/). */
static int parse_string(json_cursor *c, char *out, size_t max)
{
    if (c->s[c->pos] != '"') return syntax(c, "expected a string");
    c->pos++;
    size_t n = 0;
    for (;;) {
        unsigned char ch = (unsigned char)c->s[c->pos];
        if (ch == '\0') return syntax(c, "unterminated string");
        if (ch == '"') break;
        if (ch < 0x20 || ch >= 0x7f) return syntax(c, "control or non-ASCII character in string");
        if (ch == '\\') {
            unsigned char e = (unsigned char)c->s[c->pos + 1];
            if (e != '"' && e != '\\' && e != '/') return syntax(c, "unsupported escape");
            ch = e;
            c->pos++;
        }
        if (n >= max) return syntax(c, "string too long");
        out[n++] = (char)ch;
        c->pos++;
    }
    c->pos++; /* closing quote */
    out[n] = '\0';
    return 0;
}

static int parse_json(bs_permissions *p, const char *spec)
{
    json_cursor c = {spec, 0};
    skip_ws(&c);
    if (c.s[c.pos] != '{') return syntax(&c, "expected '{'");
    c.pos++;
    skip_ws(&c);
    if (c.s[c.pos] == '}') {
        c.pos++;
    } else {
        for (;;) {
            char key[BS_NAME_MAX + 1], val[MAX_VALUE + 1];
            int rc;
            skip_ws(&c);
            if ((rc = parse_string(&c, key, BS_NAME_MAX))) return rc;
            skip_ws(&c);
            if (c.s[c.pos] != ':') return syntax(&c, "expected ':'");
            c.pos++;
            skip_ws(&c);
            if ((rc = parse_string(&c, val, MAX_VALUE))) return rc;
            if ((rc = add_entry(p, key, val))) return rc;
            skip_ws(&c);
            if (c.s[c.pos] == ',') {
                c.pos++;
                continue;
            }
            if (c.s[c.pos] == '}') {
                c.pos++;
                break;
            }
            return syntax(&c, "expected ',' or '}'");
        }
    }
    skip_ws(&c);
    if (c.s[c.pos] != '\0') return syntax(&c, "trailing characters after the object");
    return 0;
}

int bs__permissions_parse(bs_permissions **out, const char *spec)
{
    *out = NULL;
    if (!spec || !*spec) return 0;
    if (strnlen(spec, BS_PERMISSIONS_MAX_SPEC + 1) > BS_PERMISSIONS_MAX_SPEC)
        return bs__error_set(BS_ERR_INVALID, "permissions: specification longer than %d bytes",
                             BS_PERMISSIONS_MAX_SPEC);
    bs_permissions *p = calloc(1, sizeof *p);
    if (!p) return bs__error_set(BS_ERR_NOMEM, "permissions");
    const char *s = spec;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    int rc = 0;
    if (*s == '{') {
        rc = parse_json(p, spec);
    } else {
        const preset_entry *pe = NULL;
        for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
            if (strcmp(spec, presets[i].name) == 0) pe = presets[i].entries;
        if (!pe) {
            rc = bs__error_set(BS_ERR_INVALID,
                               "permissions: unknown preset (expected all, no-delete, "
                               "write-only, read-only, borgbackup-all, "
                               "borgbackup-no-delete, borgbackup-write-only, "
                               "borgbackup-read-only or a JSON object)");
        }
        for (; !rc && pe->name; pe++) rc = add_entry(p, pe->name, pe->letters);
    }
    if (rc) {
        free(p);
        return rc;
    }
    if (p->n == 0) { /* {}: no restrictions, like Python's empty dict */
        free(p);
        return 0;
    }
    *out = p;
    return 0;
}

int bs__permissions_check(const bs_permissions *perms, const char *name, const char *letters)
{
    if (!perms || perms->n == 0) return 0;
    char path[2 * BS_NAME_BUF + 2]; /* a name below a placed store's prefix */
    size_t len = strnlen(name, sizeof path);
    if (len == sizeof path) /* never truncated: a cut name could match another entry */
        return bs__error_set(BS_ERR_PERMISSION, "permissions: name too long");
    memcpy(path, name, len);
    path[len] = '\0';
    for (;;) {
        const perm_entry *e = lookup(perms, path);
        if (e) {
            for (const char *l = letters; *l; l++)
                if (strchr(e->letters, *l)) return 0;
            break; /* the nearest entry decides */
        }
        if (!path[0]) break;
        char *slash = strrchr(path, '/');
        if (slash)
            *slash = '\0';
        else
            path[0] = '\0';
    }
    return bs__error_set(BS_ERR_PERMISSION, "one of permissions '%s' required for '%s'", letters,
                         name);
}

size_t bs__permissions_count(const bs_permissions *perms) { return perms ? perms->n : 0; }

void bs__permissions_free(bs_permissions *perms) { free(perms); }
