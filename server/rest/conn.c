/* The REST connection: requests read from stdin (heads through http.c,
 * bodies on demand), responses written to stdout with Content-Length,
 * never chunked, in the shapes Python borgstore's server uses. One request
 * at a time; the connection stays up after an error response until EOF,
 * except after a malformed request (400, then the end). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bs_config.h"
#include "common/printable.h"
#include "server/rest/rest.h"

#define READ_CHUNK (256u << 10)

static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

int rest_write(rest_conn *c, const void *p, size_t n)
{
    if (c->dead || write_all(c->out_fd, p, n)) c->dead = true;
    return c->dead ? -1 : 0;
}

/* Reads what the pipe has into the buffer; sets eof at its end. */
static int fill(rest_conn *c)
{
    if (c->in_len == c->in_cap) return 0;
    for (;;) {
        ssize_t r = read(c->in_fd, c->in + c->in_len, c->in_cap - c->in_len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) c->eof = true;
        c->in_len += (size_t)r;
        return 0;
    }
}

int rest_read_body(rest_conn *c, void *dst, size_t n)
{
    uint8_t *d = dst;
    size_t have = c->in_len < n ? c->in_len : n;
    memcpy(d, c->in, have);
    memmove(c->in, c->in + have, c->in_len - have);
    c->in_len -= have;
    d += have;
    n -= have;
    while (n) { /* large remainders go straight to the destination */
        ssize_t r = read(c->in_fd, d, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            c->eof = c->dead = true;
            return -1;
        }
        d += r;
        n -= (size_t)r;
    }
    return 0;
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    default: return "Error";
    }
}

/* Status line, the headers every response has, then extra. */
static int head(char *out, size_t cap, int status, const char *phrase, const char *extra,
                uint64_t len, const char *type, bool close)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    int n = snprintf(out, cap,
                     "HTTP/1.1 %d %s\r\nServer: borgstore-serve/%s\r\nDate: %s\r\n%s%s%s%s"
                     "Content-Length: %llu\r\n"
                     "Cache-Control: no-store, no-cache, must-revalidate, max-age=0\r\n\r\n",
                     status, phrase, BS_VERSION, date, close ? "Connection: close\r\n" : "",
                     type ? "Content-Type: " : "", type ? type : "", type ? "\r\n" : "",
                     (unsigned long long)len);
    if (n < 0 || (size_t)n >= cap) return -1;
    if (extra) {
        /* extra lines go before Content-Length: splice them in */
        char *cl = strstr(out, "Content-Length: ");
        size_t e = strlen(extra);
        if ((size_t)n + e >= cap) return -1;
        memmove(cl + e, cl, strlen(cl) + 1);
        memcpy(cl, extra, e);
        n += (int)e;
    }
    return n;
}

int rest_send_head(rest_conn *c, int status, const char *extra, uint64_t len, const char *type)
{
    char h[2048];
    int n = head(h, sizeof h, status, reason(status), extra, len, type, false);
    if (n < 0) c->dead = true;
    return n < 0 ? -1 : rest_write(c, h, (size_t)n);
}

int rest_send(rest_conn *c, int status, const char *extra, const rest_body *body)
{
    size_t len = body ? body->len : 0;
    if (rest_send_head(c, status, extra, len, body ? body->type : NULL)) return -1;
    if (c->req.method == BS_HTTP_HEAD || !len) return 0;
    return rest_write(c, body->data, len);
}

static const char *explain(int status)
{
    switch (status) {
    case 400: return "Bad request syntax or unsupported method";
    case 401: return "No permission -- see authorization schemes";
    case 403: return "Request forbidden -- authorization will not help";
    case 404: return "Nothing matches the given URI";
    case 406: return "URI not available in preferred format";
    case 409: return "Request conflict";
    case 410: return "URI no longer exists and has been permanently removed";
    case 412: return "Precondition in headers is false";
    case 416: return "Cannot satisfy request range";
    case 422: return "Unprocessable Content";
    case 507: return "Insufficient Storage";
    default: return "Server got itself in trouble";
    }
}

/* HTML-escapes src into out (cap bytes). */
static void html_escape(char *out, size_t cap, const char *src)
{
    size_t o = 0;
    for (; *src && o + 7 < cap; src++) {
        const char *e = *src == '&' ? "&amp;" : *src == '<' ? "&lt;" : *src == '>' ? "&gt;"
                      : *src == '"' ? "&quot;" : *src == '\'' ? "&#x27;" : NULL;
        if (e) {
            memcpy(out + o, e, strlen(e));
            o += strlen(e);
        } else {
            out[o++] = *src;
        }
    }
    out[o] = '\0';
}

int rest_send_error(rest_conn *c, int status, const char *msg)
{
    char scrubbed[BS_MESSAGE_MAX], phrase[BS_MESSAGE_MAX], esc[BS_MESSAGE_MAX * 6];
    serve_scrub(c->s, scrubbed, sizeof scrubbed, msg);
    bs__printable_str(phrase, sizeof phrase, scrubbed); /* no CR/LF in the status line */
    html_escape(esc, sizeof esc, phrase);
    char body[sizeof esc + 1024];
    int bl = snprintf(body, sizeof body,
                      "<!DOCTYPE HTML>\n<html lang=\"en\">\n    <head>\n"
                      "        <meta charset=\"utf-8\">\n"
                      "        <title>Error response</title>\n    </head>\n    <body>\n"
                      "        <h1>Error response</h1>\n        <p>Error code: %d</p>\n"
                      "        <p>Message: %s.</p>\n"
                      "        <p>Error code explanation: %d - %s.</p>\n    </body>\n</html>\n",
                      status, esc, status, explain(status));
    if (bl < 0 || (size_t)bl >= sizeof body) bl = 0;
    char h[2048 + BS_MESSAGE_MAX];
    const char *extra = status == 401
                            ? "WWW-Authenticate: Basic realm=\"BorgStore REST Server\"\r\n" : NULL;
    int n = head(h, sizeof h, status, phrase[0] ? phrase : "Error", extra, (uint64_t)bl,
                 "text/html;charset=utf-8", true);
    if (n < 0 || rest_write(c, h, (size_t)n)) return -1;
    if (c->req.method != BS_HTTP_HEAD && rest_write(c, body, (size_t)bl)) return -1;
    if (c->tcp) c->dead = true; /* "Connection: close" is kept over TCP */
    return c->tcp ? -1 : 0;
}

int rest_status_for(int code)
{
    switch (code) {
    case BS_ERR_NOT_FOUND: return 404;
    case BS_ERR_DOES_NOT_EXIST: return 410;
    case BS_ERR_ALREADY_EXISTS: return 409;
    case BS_ERR_MUST_BE_OPEN:
    case BS_ERR_MUST_NOT_BE_OPEN: return 412;
    case BS_ERR_PERMISSION: return 403;
    case BS_ERR_QUOTA: return 507;
    case BS_ERR_READ_RANGE: return 416;
    case BS_ERR_INVALID:
    case BS_ERR_URL_INVALID: return 400;
    default: return 500;
    }
}

int serve_rest(serve *s, const char *store_path)
{
    rest_cfg cfg = {.store_path = store_path};
    return serve_rest_conn(s, &cfg, 0, 1);
}

int serve_rest_conn(serve *s, const rest_cfg *cfg, int in_fd, int out_fd)
{
    signal(SIGPIPE, SIG_IGN); /* EPIPE ends the connection instead */
    static rest_conn c; /* one per process: url_store is large */
    c = (rest_conn){.s = s, .in_fd = in_fd, .out_fd = out_fd, .store_path = cfg->store_path,
                    .url_path = cfg->url_path, .tcp = cfg->tcp, .auth = cfg->auth,
                    .in_cap = BS_HTTP_HEAD_MAX + READ_CHUNK};
    if (!(c.in = malloc(c.in_cap))) return SERVE_EXIT_INTERNAL;
    int code = SERVE_EXIT_OK;
    for (;;) {
        size_t used = 0;
        int rc = c.in_len ? bs__http_parse_head(&c.req, c.in, c.in_len, &used) : 0;
        if (rc == 0) {
            if (c.eof) {
                if (c.in_len) {
                    serve_log(s, BS_LOG_ERROR, "the client ended inside a request head");
                    code = SERVE_EXIT_PROTOCOL;
                }
                break;
            }
            if (fill(&c)) {
                code = SERVE_EXIT_IO;
                break;
            }
            continue;
        }
        if (rc < 0) {
            char msg[BS_MESSAGE_MAX];
            snprintf(msg, sizeof msg, "%s", bs_error_message());
            serve_log(s, BS_LOG_ERROR, "ending the connection: %s", msg);
            memset(&c.req, 0, sizeof c.req); /* the error goes out with a body */
            rest_send_error(&c, 400, msg);
            code = SERVE_EXIT_PROTOCOL;
            break;
        }
        memmove(c.in, c.in + used, c.in_len - used);
        c.in_len -= used;
        if (rest_dispatch(&c) < 0) {
            code = c.close_after ? SERVE_EXIT_PROTOCOL : SERVE_EXIT_IO;
            break;
        }
    }
    free(c.in);
    return code;
}
