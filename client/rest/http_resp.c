/* HTTP response head parser (see http_resp.h). The server is untrusted:
 * every length is bounded, malformed lines are refused with a message that
 * shows a cleaned excerpt, never the raw bytes. */
#include "client/rest/http_resp.h"

#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"

void bs__http_resp_init(bs__http_resp *r)
{
    memset(r, 0, sizeof *r);
    r->is_dir = -1;
}

/* A printable excerpt of a bad line for messages. */
static const char *excerpt(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 4 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        out[o++] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
    }
    if (len && o + 4 >= cap) memcpy(out + o, "...", 3), o += 3;
    out[o] = '\0';
    return out;
}

static int bad(const char *what, const char *line, size_t len)
{
    char ex[80];
    return bs__error_set(BS_ERR_PROTOCOL, "REST server sent %s: \"%s\"", what,
                         excerpt(line, len, ex, sizeof ex));
}

static locale_t c_locale;
static void make_c_locale(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

bool bs__seconds_to_ns(double d, int64_t *ns)
{
    if (!(d > -9e9 && d < 9e9)) return false; /* also NaN */
    double a = d < 0 ? -d : d;
    int64_t whole = (int64_t)a; /* truncation: floor of a non-negative value */
    int64_t frac = (int64_t)((a - (double)whole) * 1e9 + 0.5);
    int64_t v = whole * 1000000000 + frac;
    *ns = d < 0 ? -v : v;
    return true;
}

bool bs__http_parse_seconds(const char *s, int64_t *ns)
{
    /* a plain decimal (Python's str(float)): no "nan", "inf" or hex floats */
    if (!*s || strspn(s, "0123456789.eE+-") != strlen(s)) return false;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, make_c_locale);
    if (!c_locale) return false;
    char *end;
    errno = 0;
    double d = strtod_l(s, &end, c_locale);
    if (*end || errno) return false;
    return bs__seconds_to_ns(d, ns);
}

static int status_line(bs__http_resp *r, const char *l, size_t len)
{
    if (len < 12 || (memcmp(l, "HTTP/1.1 ", 9) && memcmp(l, "HTTP/1.0 ", 9)))
        return bad("no HTTP/1.x status line", l, len);
    int st = 0;
    for (int i = 9; i < 12; i++) {
        if (l[i] < '0' || l[i] > '9') return bad("a malformed status code", l, len);
        st = st * 10 + (l[i] - '0');
    }
    if (st < 100 || (len > 12 && l[12] != ' ')) return bad("a malformed status code", l, len);
    r->status = st;
    size_t o = 0;
    for (size_t i = 13; i < len && o < BS_HTTP_REASON_MAX; i++) {
        unsigned char c = (unsigned char)l[i];
        r->reason[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    r->reason[o] = '\0';
    r->got_status = true;
    return 0;
}

static bool is_token(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("!#$%&'*+-.^_`|~", c);
}

static bool name_is(const char *l, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(l, want, n) == 0;
}

static int header_line(bs__http_resp *r, const char *l, size_t len)
{
    if (++r->headers > BS_HTTP_HEADERS_MAX)
        return bs__error_set(BS_ERR_PROTOCOL, "REST server sent more than %d header lines",
                             BS_HTTP_HEADERS_MAX);
    size_t n = 0;
    while (n < len && l[n] != ':') {
        if (!is_token(l[n])) return bad("a malformed header line", l, len);
        n++;
    }
    if (n == 0 || n == len) return bad("a malformed header line", l, len);
    size_t v = n + 1, e = len;
    while (v < e && (l[v] == ' ' || l[v] == '\t')) v++;
    while (e > v && (l[e - 1] == ' ' || l[e - 1] == '\t')) e--;
    char val[128];
    bool fits = e - v < sizeof val;
    if (fits) {
        memcpy(val, l + v, e - v);
        val[e - v] = '\0';
    }
    if (name_is(l, n, "Content-Length")) {
        uint64_t x = 0;
        if (!fits || v == e) return bad("a malformed Content-Length", l, len);
        for (size_t i = 0; val[i]; i++) {
            if (val[i] < '0' || val[i] > '9') return bad("a malformed Content-Length", l, len);
            x = x * 10 + (uint64_t)(val[i] - '0');
            if (x > BS_HTTP_LENGTH_MAX) return bad("a Content-Length out of range", l, len);
        }
        if (r->has_length && r->content_length != x)
            return bad("two different Content-Length headers", l, len);
        r->has_length = true;
        r->content_length = x;
    } else if (name_is(l, n, "Transfer-Encoding")) {
        if (!fits || strcasecmp(val, "identity")) r->chunked = true;
    } else if (name_is(l, n, "X-BorgStore-Is-Directory")) {
        if (fits && !strcasecmp(val, "true")) r->is_dir = 1;
        else if (fits && !strcasecmp(val, "false")) r->is_dir = 0;
        else return bad("a malformed X-BorgStore-Is-Directory", l, len);
    } else if (name_is(l, n, "X-BorgStore-Atime")) {
        if (!fits || !bs__http_parse_seconds(val, &r->atime_ns))
            return bad("a malformed X-BorgStore-Atime", l, len);
        r->has_atime = true;
    } else if (name_is(l, n, "X-BorgStore-Mtime")) {
        if (!fits || !bs__http_parse_seconds(val, &r->mtime_ns))
            return bad("a malformed X-BorgStore-Mtime", l, len);
        r->has_mtime = true;
    }
    return 0;
}

int bs__http_resp_head(bs__http_resp *r, const void *data, size_t len, size_t *used)
{
    const char *d = data;
    *used = 0;
    if (r->done) return 1;
    for (size_t i = 0; i < len; i++) {
        char c = d[i];
        if (++r->head_len > BS_HTTP_HEAD_MAX) {
            *used = i + 1;
            return bs__error_set(BS_ERR_PROTOCOL, "REST server sent a response head over %d bytes",
                                 BS_HTTP_HEAD_MAX);
        }
        if (c != '\n') {
            if (r->line_len >= sizeof r->line) {
                *used = i + 1;
                return bs__error_set(BS_ERR_PROTOCOL,
                                     "REST server sent a header line over %d bytes",
                                     BS_HTTP_LINE_MAX);
            }
            r->line[r->line_len++] = c;
            continue;
        }
        size_t l = r->line_len;
        if (l && r->line[l - 1] == '\r') l--;
        r->line_len = 0;
        int rc;
        if (!r->got_status) {
            rc = status_line(r, r->line, l);
        } else if (l == 0) {
            *used = i + 1;
            r->done = true;
            return 1;
        } else if (r->line[0] == ' ' || r->line[0] == '\t') {
            rc = bad("a folded header line", r->line, l);
        } else {
            rc = header_line(r, r->line, l);
        }
        if (rc) {
            *used = i + 1;
            return rc;
        }
    }
    *used = len;
    return 0;
}
