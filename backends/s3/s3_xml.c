/* Bounded XML element scanner: see s3_xml.h. */
#include "backends/s3/s3_xml.h"

#include <string.h>

static const char *find(const char *p, const char *end, const char *needle, size_t n)
{
    while ((size_t)(end - p) >= n) {
        const char *q = memchr(p, needle[0], (size_t)(end - p) - n + 1);
        if (!q) return NULL;
        if (memcmp(q, needle, n) == 0) return q;
        p = q + 1;
    }
    return NULL;
}

bool bs__s3_xml_next(bs_s3_span *in, const char *tag, bs_s3_span *content)
{
    if (!in->p || !in->len) return false; /* an empty body has no buffer */
    size_t tn = strlen(tag);
    const char *p = in->p, *end = in->p + in->len;
    for (;;) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt) return false;
        p = lt + 1;
        if ((size_t)(end - p) < tn + 1 || memcmp(p, tag, tn) != 0) continue;
        char after = p[tn];
        if (after != '>' && after != ' ' && after != '\t' && after != '\n' && after != '\r' &&
            after != '/')
            continue;
        const char *gt = memchr(p + tn, '>', (size_t)(end - p - tn));
        if (!gt) return false;
        if (gt[-1] == '/') { /* <Tag/> */
            content->p = gt + 1;
            content->len = 0;
            in->len = (size_t)(end - (gt + 1));
            in->p = gt + 1;
            return true;
        }
        const char *body = gt + 1;
        /* The first "</tag>" closes it: the elements we read never nest in
         * themselves. */
        const char *close = body;
        for (;;) {
            close = find(close, end, "</", 2);
            if (!close) return false;
            if ((size_t)(end - close) >= tn + 3 && memcmp(close + 2, tag, tn) == 0 &&
                close[2 + tn] == '>')
                break;
            close += 2;
        }
        content->p = body;
        content->len = (size_t)(close - body);
        in->p = close + tn + 3;
        in->len = (size_t)(end - in->p);
        return true;
    }
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Appends code point cp as UTF-8; false when it does not fit or is not a
 * valid, non-NUL scalar value. */
static bool put_utf8(char *out, size_t cap, size_t *o, unsigned long cp)
{
    char b[4];
    size_t n;
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    if (*o + n >= cap) return false;
    memcpy(out + *o, b, n);
    *o += n;
    return true;
}

long bs__s3_xml_decode(bs_s3_span raw, char *out, size_t cap)
{
    static const struct {
        const char *name;
        char c;
    } ents[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
    if (cap == 0) return -2;
    size_t o = 0;
    const char *p = raw.p, *end = raw.p + raw.len;
    while (p < end) {
        if (*p == '\0') return -2;
        if (*p != '&') {
            if (o + 1 >= cap) return -2;
            out[o++] = *p++;
            continue;
        }
        p++;
        bool done = false;
        for (size_t i = 0; i < sizeof ents / sizeof ents[0] && !done; i++) {
            size_t n = strlen(ents[i].name);
            if ((size_t)(end - p) >= n && memcmp(p, ents[i].name, n) == 0) {
                if (o + 1 >= cap) return -2;
                out[o++] = ents[i].c;
                p += n;
                done = true;
            }
        }
        if (done) continue;
        if (p >= end || *p != '#') return -2;
        p++;
        bool hex = p < end && (*p == 'x' || *p == 'X');
        if (hex) p++;
        unsigned long cp = 0;
        int digits = 0;
        while (p < end && *p != ';') {
            int v = hex ? hexv(*p) : (*p >= '0' && *p <= '9' ? *p - '0' : -1);
            if (v < 0 || ++digits > 8) return -2;
            cp = cp * (hex ? 16 : 10) + (unsigned long)v;
            p++;
        }
        if (p >= end || digits == 0 || !put_utf8(out, cap, &o, cp)) return -2;
        p++;
    }
    out[o] = '\0';
    return (long)o;
}

long bs__s3_xml_text(bs_s3_span s, const char *tag, char *out, size_t cap)
{
    bs_s3_span c;
    if (!bs__s3_xml_next(&s, tag, &c)) return -1;
    return bs__s3_xml_decode(c, out, cap);
}

bool bs__s3_xml_u64(bs_s3_span s, const char *tag, uint64_t *out)
{
    char text[24];
    long n = bs__s3_xml_text(s, tag, text, sizeof text);
    if (n <= 0 || n > 19) return false;
    uint64_t v = 0;
    for (long i = 0; i < n; i++) {
        if (text[i] < '0' || text[i] > '9') return false;
        v = v * 10 + (uint64_t)(text[i] - '0');
    }
    *out = v;
    return true;
}
