/* HTTP/1.1 request-head parser (see http.h): walks the head line by line
 * inside the bytes given, checks every cap before copying, and keeps only
 * the headers the REST dialect uses. */
#include "server/rest/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"

static const struct {
    const char *name;
    bs_http_method m;
} methods[] = {
    {"GET", BS_HTTP_GET},   {"HEAD", BS_HTTP_HEAD},     {"POST", BS_HTTP_POST},
    {"PUT", BS_HTTP_PUT},   {"DELETE", BS_HTTP_DELETE},
};

static int bad(const char *what)
{
    return bs__error_set(BS_ERR_PROTOCOL, "malformed request: %s", what);
}

/* Request-target characters: visible ASCII except a few delimiters. */
static bool target_char(unsigned char c) { return c > 0x20 && c < 0x7f && c != '#'; }

/* RFC 9110 token characters (header names). */
static bool token_char(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int request_line(bs_http_req *r, const char *l, size_t n)
{
    const char *sp1 = memchr(l, ' ', n);
    if (!sp1) return bad("request line without a target");
    size_t mlen = (size_t)(sp1 - l);
    r->method = 0;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strlen(methods[i].name) == mlen && !memcmp(methods[i].name, l, mlen))
            r->method = methods[i].m;
    if (!r->method) return bad("unknown method");
    const char *t = sp1 + 1, *end = l + n;
    const char *sp2 = memchr(t, ' ', (size_t)(end - t));
    if (!sp2) return bad("request line without a version");
    size_t tlen = (size_t)(sp2 - t);
    if (tlen == 0 || t[0] != '/') return bad("the target must start with '/'");
    if (tlen > BS_HTTP_TARGET_MAX) return bad("target too long");
    for (size_t i = 0; i < tlen; i++)
        if (!target_char((unsigned char)t[i])) return bad("invalid character in the target");
    const char *v = sp2 + 1;
    if ((size_t)(end - v) != 8 || memcmp(v, "HTTP/1.", 7) || (v[7] != '0' && v[7] != '1'))
        return bad("not HTTP/1.0 or HTTP/1.1");
    r->minor = v[7] - '0';
    memcpy(r->target, t, tlen);
    r->target[tlen] = '\0';
    char *q = strchr(r->target, '?');
    r->path_len = q ? (size_t)(q - r->target) : tlen;
    r->query = q ? q + 1 : r->target + tlen;
    return 0;
}

static int keep(char *dst, bool *has, const char *v, size_t n, const char *what)
{
    if (*has) return bs__error_set(BS_ERR_PROTOCOL, "malformed request: repeated %s", what);
    if (n >= BS_HTTP_VALUE_MAX)
        return bs__error_set(BS_ERR_PROTOCOL, "malformed request: %s too long", what);
    memcpy(dst, v, n);
    dst[n] = '\0';
    *has = true;
    return 0;
}

static int content_length(bs_http_req *r, const char *v, size_t n)
{
    if (r->has_length) return bad("repeated Content-Length");
    if (n == 0 || n > 19) return bad("Content-Length is not a number");
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') return bad("Content-Length is not a number");
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    r->content_length = x;
    r->has_length = true;
    return 0;
}

static int header_line(bs_http_req *r, const char *l, size_t n)
{
    const char *colon = memchr(l, ':', n);
    if (!colon || colon == l) return bad("header line without a name");
    size_t nlen = (size_t)(colon - l);
    for (size_t i = 0; i < nlen; i++)
        if (!token_char((unsigned char)l[i])) return bad("invalid header name");
    const char *v = colon + 1, *end = l + n;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t')) end--;
    size_t vlen = (size_t)(end - v);
    for (size_t i = 0; i < vlen; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) return bad("control character in a header");
    }
#define IS(h) (nlen == sizeof h - 1 && !strncasecmp(l, h, nlen))
    if (IS("Accept")) return keep(r->accept, &r->has_accept, v, vlen, "Accept");
    if (IS("Range")) return keep(r->range, &r->has_range, v, vlen, "Range");
    if (IS("X-Content-hash-sha256")) return keep(r->hash, &r->has_hash, v, vlen, "hash header");
    if (IS("Authorization")) return keep(r->auth, &r->has_auth, v, vlen, "Authorization");
    if (IS("Content-Length")) return content_length(r, v, vlen);
    if (IS("Transfer-Encoding")) r->chunked = true; /* refused by the caller */
#undef IS
    return 0;
}

int bs__http_parse_head(bs_http_req *out, const uint8_t *buf, size_t len, size_t *consumed)
{
    memset(out, 0, sizeof *out);
    out->query = out->target;
    const char *s = (const char *)buf;
    size_t pos = 0, lines = 0;
    for (;;) {
        size_t avail = len - pos;
        size_t cap = avail < BS_HTTP_LINE_MAX ? avail : BS_HTTP_LINE_MAX;
        const char *lf = memchr(s + pos, '\n', cap);
        if (!lf) {
            if (avail >= BS_HTTP_LINE_MAX) return bad(lines ? "header line too long"
                                                           : "request line too long");
            if (len >= BS_HTTP_HEAD_MAX) return bad("request head too long");
            return 0;
        }
        size_t n = (size_t)(lf - (s + pos));
        if (n == 0 || s[pos + n - 1] != '\r') return bad("lines must end in CRLF");
        const char *l = s + pos;
        n--; /* without CR */
        if (memchr(l, '\0', n) || memchr(l, '\r', n)) return bad("stray CR or NUL");
        pos += n + 2;
        if (pos > BS_HTTP_HEAD_MAX) return bad("request head too long");
        int rc;
        if (lines == 0) {
            rc = request_line(out, l, n);
        } else if (n == 0) {
            *consumed = pos;
            return 1;
        } else {
            if (lines > BS_HTTP_HEADERS_MAX) return bad("too many header lines");
            if (l[0] == ' ' || l[0] == '\t') return bad("folded header line");
            rc = header_line(out, l, n);
        }
        if (rc) return rc;
        lines++;
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int bs__http_unquote(char *out, size_t cap, const char *src, size_t len, bool plus_space)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '%') {
            if (len - i < 3 || hexval(src[i + 1]) < 0 || hexval(src[i + 2]) < 0)
                return bs__error_set(BS_ERR_INVALID, "bad %%-escape");
            c = (char)(hexval(src[i + 1]) * 16 + hexval(src[i + 2]));
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        if (c == '\0') return bs__error_set(BS_ERR_INVALID, "NUL in the target");
        if (o + 1 >= cap) return bs__error_set(BS_ERR_INVALID, "value too long");
        out[o++] = c;
    }
    if (cap == 0) return bs__error_set(BS_ERR_INVALID, "value too long");
    out[o] = '\0';
    return 0;
}

int bs__http_query_get(const char *query, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    for (const char *p = query; *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        size_t kn = eq ? (size_t)(eq - p) : n;
        if (kn == klen && !memcmp(p, key, klen)) {
            if (!eq) return bs__http_unquote(out, cap, "", 0, true) ? -1 : 1;
            int rc = bs__http_unquote(out, cap, eq + 1, n - kn - 1, true);
            return rc ? rc : 1;
        }
        p += n + (amp ? 1 : 0);
    }
    return 0;
}

/* A decimal int64 in s[0..n), or -1. */
static int64_t number(const char *s, size_t n)
{
    if (n == 0 || n > 18) return -1;
    int64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        x = x * 10 + (s[i] - '0');
    }
    return x;
}

void bs__http_range(const char *value, int64_t *offset, int64_t *size)
{
    *offset = 0;
    *size = -1;
    if (strncmp(value, "bytes=", 6)) return;
    const char *r = value + 6, *dash = strchr(r, '-');
    if (!dash || strchr(dash + 1, '-') || strchr(r, ',')) return;
    size_t an = (size_t)(dash - r), bn = strlen(dash + 1);
    int64_t a = number(r, an), b = number(dash + 1, bn);
    if (an == 0) { /* suffix: the last b bytes */
        if (b > 0) *offset = -b;
        return;
    }
    if (a < 0) return;
    if (bn == 0) {
        *offset = a;
        return;
    }
    if (b < a) return;
    *offset = a;
    *size = b - a + 1;
}
