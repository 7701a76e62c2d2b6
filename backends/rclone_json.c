/* The JSON reader of rclone_json.h: recursive descent over the whole text
 * into one array of nodes (children linked by index) and one arena of
 * decoded strings. Input is bounded by the caller (rclone replies). */
#include "backends/rclone_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

#define MAX_TEXT ((size_t)1 << 31) /* offsets are 32-bit */

typedef struct node {
    uint8_t type;
    bool b;
    bool is_int;
    int64_t i;
    uint32_t key; /* 1 + offset of the member key in the arena, 0: none */
    uint32_t str; /* 1 + offset of the string value */
    uint32_t child, next;
} node;

struct bs_json {
    node *n;
    size_t count, cap;
    char *s;
    size_t slen, scap;
};

typedef struct parser {
    bs_json *d;
    const char *t;
    size_t len, pos;
    const char *what;
    int rc;
} parser;

static int syntax(parser *p, const char *why)
{
    if (!p->rc)
        p->rc = bs__error_set(BS_ERR_PROTOCOL, "%s: malformed JSON (%s at offset %zu)", p->what,
                              why, p->pos);
    return 0;
}

static int nomem(parser *p)
{
    if (!p->rc) p->rc = bs__error_set(BS_ERR_NOMEM, "%s: JSON reply", p->what);
    return 0;
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len && (p->t[p->pos] == ' ' || p->t[p->pos] == '\t' ||
                               p->t[p->pos] == '\n' || p->t[p->pos] == '\r'))
        p->pos++;
}

static bs_json_ref new_node(parser *p, uint8_t type)
{
    bs_json *d = p->d;
    if (d->count == d->cap) {
        size_t ncap = d->cap ? d->cap * 2 : 64;
        node *nn = realloc(d->n, ncap * sizeof *nn);
        if (!nn) return nomem(p);
        d->n = nn;
        d->cap = ncap;
    }
    node *x = &d->n[d->count++];
    memset(x, 0, sizeof *x);
    x->type = type;
    return (bs_json_ref)d->count;
}

static bool arena_put(parser *p, const char *data, size_t len)
{
    bs_json *d = p->d;
    if (d->slen + len + 1 > d->scap) {
        size_t ncap = d->scap ? d->scap : 256;
        while (ncap < d->slen + len + 1)
            ncap *= 2;
        char *ns = realloc(d->s, ncap);
        if (!ns) return nomem(p);
        d->s = ns;
        d->scap = ncap;
    }
    memcpy(d->s + d->slen, data, len);
    d->slen += len;
    return true;
}

static int hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

static bool put_utf8(parser *p, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | cp >> 12);
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | cp >> 18);
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return arena_put(p, b, n);
}

/* A string at p->pos (the opening quote), decoded into the arena; returns
 * 1 + its offset, 0 on error. */
static uint32_t parse_string(parser *p)
{
    if (p->pos >= p->len || p->t[p->pos] != '"')
        return (uint32_t)syntax(p, "expected a string");
    p->pos++;
    size_t start = p->d->slen;
    for (;;) {
        size_t run = p->pos;
        while (p->pos < p->len && p->t[p->pos] != '"' && p->t[p->pos] != '\\' &&
               (unsigned char)p->t[p->pos] >= 0x20)
            p->pos++;
        if (p->pos > run && !arena_put(p, p->t + run, p->pos - run)) return 0;
        if (p->pos >= p->len) return (uint32_t)syntax(p, "unterminated string");
        char c = p->t[p->pos];
        if (c == '"') break;
        if (c != '\\') return (uint32_t)syntax(p, "control character in string");
        if (p->pos + 1 >= p->len) return (uint32_t)syntax(p, "unterminated escape");
        char e = p->t[p->pos + 1];
        p->pos += 2;
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char out[] = "\"\\/\b\f\n\r\t";
            if (!arena_put(p, &out[simple - "\"\\/bfnrt"], 1)) return 0;
            continue;
        }
        if (e != 'u' || p->pos + 4 > p->len) return (uint32_t)syntax(p, "bad escape");
        int cp = hex4(p->t + p->pos);
        if (cp < 0) return (uint32_t)syntax(p, "bad \\u escape");
        p->pos += 4;
        uint32_t code = (uint32_t)cp;
        if (cp >= 0xd800 && cp < 0xdc00) { /* a surrogate pair */
            int lo = p->pos + 6 <= p->len && p->t[p->pos] == '\\' && p->t[p->pos + 1] == 'u'
                         ? hex4(p->t + p->pos + 2)
                         : -1;
            if (lo < 0xdc00 || lo >= 0xe000) return (uint32_t)syntax(p, "lone surrogate");
            p->pos += 6;
            code = 0x10000 + (((uint32_t)cp - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
        } else if (cp >= 0xdc00 && cp < 0xe000) {
            return (uint32_t)syntax(p, "lone surrogate");
        }
        if (code == 0) return (uint32_t)syntax(p, "NUL in string");
        if (!put_utf8(p, code)) return 0;
    }
    p->pos++; /* closing quote */
    if (!arena_put(p, "", 1)) return 0;
    return (uint32_t)start + 1;
}

static bool literal(parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->t + p->pos, word, n) != 0) return false;
    p->pos += n;
    return true;
}

static bs_json_ref parse_number(parser *p)
{
    size_t s = p->pos;
    bool integral = true;
    if (p->pos < p->len && p->t[p->pos] == '-') p->pos++;
    if (p->pos >= p->len) return syntax(p, "bad number");
    if (p->t[p->pos] == '0') {
        p->pos++;
    } else if (p->t[p->pos] >= '1' && p->t[p->pos] <= '9') {
        while (p->pos < p->len && p->t[p->pos] >= '0' && p->t[p->pos] <= '9')
            p->pos++;
    } else {
        return syntax(p, "bad number");
    }
    if (p->pos < p->len && p->t[p->pos] == '.') {
        integral = false;
        p->pos++;
        size_t d = p->pos;
        while (p->pos < p->len && p->t[p->pos] >= '0' && p->t[p->pos] <= '9')
            p->pos++;
        if (p->pos == d) return syntax(p, "bad fraction");
    }
    if (p->pos < p->len && (p->t[p->pos] == 'e' || p->t[p->pos] == 'E')) {
        integral = false;
        p->pos++;
        if (p->pos < p->len && (p->t[p->pos] == '+' || p->t[p->pos] == '-')) p->pos++;
        size_t d = p->pos;
        while (p->pos < p->len && p->t[p->pos] >= '0' && p->t[p->pos] <= '9')
            p->pos++;
        if (p->pos == d) return syntax(p, "bad exponent");
    }
    bs_json_ref r = new_node(p, BS_JSON_NUMBER);
    if (!r) return 0;
    if (integral && p->pos - s < 32) {
        char buf[32];
        memcpy(buf, p->t + s, p->pos - s);
        buf[p->pos - s] = '\0';
        errno = 0;
        long long v = strtoll(buf, NULL, 10);
        if (errno == 0) {
            p->d->n[r - 1].is_int = true;
            p->d->n[r - 1].i = v;
        }
    }
    return r;
}

static bs_json_ref parse_value(parser *p, int depth);

/* Array or object; open is '[' or '{'. */
static bs_json_ref parse_container(parser *p, int depth, char open)
{
    if (depth >= BS_JSON_MAX_DEPTH) return syntax(p, "nested too deeply");
    bool obj = open == '{';
    bs_json_ref r = new_node(p, obj ? BS_JSON_OBJECT : BS_JSON_ARRAY);
    if (!r) return 0;
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->t[p->pos] == (obj ? '}' : ']')) {
        p->pos++;
        return r;
    }
    bs_json_ref last = 0;
    for (;;) {
        uint32_t key = 0;
        skip_ws(p);
        if (obj) {
            if (!(key = parse_string(p))) return 0;
            skip_ws(p);
            if (p->pos >= p->len || p->t[p->pos] != ':') return syntax(p, "expected ':'");
            p->pos++;
        }
        bs_json_ref v = parse_value(p, depth + 1);
        if (!v) return 0;
        p->d->n[v - 1].key = key;
        if (last)
            p->d->n[last - 1].next = v;
        else
            p->d->n[r - 1].child = v;
        last = v;
        skip_ws(p);
        if (p->pos >= p->len) return syntax(p, "unterminated container");
        char c = p->t[p->pos++];
        if (c == (obj ? '}' : ']')) return r;
        if (c != ',') return syntax(p, "expected ',' or the end of the container");
    }
}

static bs_json_ref parse_value(parser *p, int depth)
{
    skip_ws(p);
    if (p->pos >= p->len) return syntax(p, "expected a value");
    char c = p->t[p->pos];
    if (c == '{' || c == '[') return parse_container(p, depth, c);
    if (c == '"') {
        bs_json_ref r = new_node(p, BS_JSON_STRING);
        if (!r) return 0;
        uint32_t s = parse_string(p);
        if (!s) return 0;
        p->d->n[r - 1].str = s;
        return r;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p);
    if (literal(p, "true") || literal(p, "false")) {
        bs_json_ref r = new_node(p, BS_JSON_BOOL);
        if (r) p->d->n[r - 1].b = p->t[p->pos - 1] == 'e' && p->t[p->pos - 2] == 'u';
        return r;
    }
    if (literal(p, "null")) return new_node(p, BS_JSON_NULL);
    return syntax(p, "unexpected character");
}

int bs__json_parse(bs_json **out, const char *text, size_t len, const char *what)
{
    *out = NULL;
    if (len >= MAX_TEXT)
        return bs__error_set(BS_ERR_PROTOCOL, "%s: JSON reply too large", what);
    bs_json *d = calloc(1, sizeof *d);
    if (!d) return bs__error_set(BS_ERR_NOMEM, "%s: JSON reply", what);
    parser p = {.d = d, .t = text, .len = len, .what = what};
    bs_json_ref root = parse_value(&p, 0);
    if (root) {
        skip_ws(&p);
        if (p.pos != p.len) syntax(&p, "trailing characters");
    }
    if (p.rc || !root) {
        int rc = p.rc ? p.rc : bs__error_set(BS_ERR_PROTOCOL, "%s: malformed JSON", what);
        bs__json_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

void bs__json_free(bs_json *d)
{
    if (!d) return;
    free(d->n);
    free(d->s);
    free(d);
}

static const node *at(const bs_json *d, bs_json_ref r)
{
    return d && r >= 1 && r <= d->count ? &d->n[r - 1] : NULL;
}

bs_json_ref bs__json_root(const bs_json *d)
{
    return d && d->count ? 1 : 0;
}

bs_json_type bs__json_type(const bs_json *d, bs_json_ref r)
{
    const node *x = at(d, r);
    return x ? (bs_json_type)x->type : BS_JSON_NONE;
}

bs_json_ref bs__json_get(const bs_json *d, bs_json_ref obj, const char *key)
{
    const node *o = at(d, obj);
    if (!o || o->type != BS_JSON_OBJECT) return 0;
    for (bs_json_ref c = o->child; c; c = d->n[c - 1].next)
        if (d->n[c - 1].key && strcmp(d->s + d->n[c - 1].key - 1, key) == 0) return c;
    return 0;
}

bs_json_ref bs__json_first(const bs_json *d, bs_json_ref c)
{
    const node *x = at(d, c);
    return x && (x->type == BS_JSON_ARRAY || x->type == BS_JSON_OBJECT) ? x->child : 0;
}

bs_json_ref bs__json_next(const bs_json *d, bs_json_ref r)
{
    const node *x = at(d, r);
    return x ? x->next : 0;
}

const char *bs__json_str(const bs_json *d, bs_json_ref r, size_t *len)
{
    const node *x = at(d, r);
    if (!x || x->type != BS_JSON_STRING) return NULL;
    const char *s = d->s + x->str - 1;
    if (len) *len = strlen(s);
    return s;
}

bool bs__json_bool(const bs_json *d, bs_json_ref r, bool *out)
{
    const node *x = at(d, r);
    if (!x || x->type != BS_JSON_BOOL) return false;
    *out = x->b;
    return true;
}

bool bs__json_int(const bs_json *d, bs_json_ref r, int64_t *out)
{
    const node *x = at(d, r);
    if (!x || x->type != BS_JSON_NUMBER || !x->is_int) return false;
    *out = x->i;
    return true;
}
