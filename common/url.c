/* Backend URL parser (see url.h). */
#include "common/url.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *bs__percent_decode(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            if (i + 2 >= len) { free(out); return NULL; }
            int a = hexval(s[i + 1]), b = hexval(s[i + 2]);
            if (a < 0 || b < 0 || (a == 0 && b == 0)) { free(out); return NULL; }
            out[o++] = (char)(a * 16 + b);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

void bs__url_clear(bs_url *u)
{
    free(u->user);
    free(u->host);
    free(u->path);
    free(u->rest);
    memset(u, 0, sizeof *u);
}

static int invalid(bs_url *u, const char *url, const char *why)
{
    bs__url_clear(u);
    return bs__error_set(BS_ERR_URL_INVALID, "%s: %s", why, url);
}

/* file:///abs and serve:///abs: empty host, absolute path. */
static int parse_local(bs_url *u, const char *url, const char *after)
{
    if (strncmp(after, "//", 2) != 0 || after[2] != '/')
        return invalid(u, url, "expected an absolute path after //");
    const char *p = after + 2;
    u->path = bs__percent_decode(p, strlen(p));
    if (!u->path) return invalid(u, url, "malformed percent escape in path");
    return 0;
}

/* ssh://[user@]host[:port]/path; "//abs" keeps the leading slash. */
static int parse_remote(bs_url *u, const char *url, const char *after)
{
    if (strncmp(after, "//", 2) != 0) return invalid(u, url, "expected // after the scheme");
    const char *auth = after + 2;
    const char *slash = strchr(auth, '/');
    if (!slash) return invalid(u, url, "missing path");
    const char *at = memchr(auth, '@', (size_t)(slash - auth));
    const char *hoststart = auth;
    if (at) {
        if (at == auth) return invalid(u, url, "empty user");
        u->user = bs__percent_decode(auth, (size_t)(at - auth));
        if (!u->user) return invalid(u, url, "malformed user");
        hoststart = at + 1;
    }
    const char *hostend, *portstart = NULL;
    if (*hoststart == '[') {
        const char *rb = memchr(hoststart, ']', (size_t)(slash - hoststart));
        if (!rb) return invalid(u, url, "unterminated [ in host");
        u->host = strndup(hoststart + 1, (size_t)(rb - hoststart - 1));
        hostend = rb + 1;
        if (hostend < slash) {
            if (*hostend != ':') return invalid(u, url, "junk after ]");
            portstart = hostend + 1;
        }
    } else {
        const char *colon = memchr(hoststart, ':', (size_t)(slash - hoststart));
        hostend = colon ? colon : slash;
        u->host = strndup(hoststart, (size_t)(hostend - hoststart));
        if (colon) portstart = colon + 1;
    }
    if (!u->host) return invalid(u, url, "out of memory");
    if (!*u->host) return invalid(u, url, "empty host");
    if (portstart) {
        long port = 0;
        if (portstart == slash) return invalid(u, url, "empty port");
        for (const char *c = portstart; c < slash; c++) {
            if (*c < '0' || *c > '9') return invalid(u, url, "port must be a number");
            port = port * 10 + (*c - '0');
            if (port > 65535) return invalid(u, url, "port out of range");
        }
        if (port == 0) return invalid(u, url, "port out of range");
        u->port = (int)port;
    }
    const char *p = slash + 1; /* "rel/path" or "/abs/path" */
    if (!*p) return invalid(u, url, "missing path");
    u->path = bs__percent_decode(p, strlen(p));
    if (!u->path) return invalid(u, url, "malformed percent escape in path");
    return 0;
}

int bs__url_parse(bs_url *out, const char *url)
{
    memset(out, 0, sizeof *out);
    if (!url) return bs__error_set(BS_ERR_URL_INVALID, "no URL given");
    const char *colon = strchr(url, ':');
    if (!colon || colon == url || (size_t)(colon - url) >= sizeof out->scheme)
        return invalid(out, url, "missing scheme");
    memcpy(out->scheme, url, (size_t)(colon - url));
    out->scheme[colon - url] = '\0';
    const char *after = colon + 1;
    if (!strcmp(out->scheme, "file") || !strcmp(out->scheme, "serve"))
        return parse_local(out, url, after);
    if (!strcmp(out->scheme, "ssh") || !strcmp(out->scheme, "sftp"))
        return parse_remote(out, url, after);
    if (!strcmp(out->scheme, "rest")) {
        if (strncmp(after, "///", 3)) return parse_remote(out, url, after);
        /* rest:///abs (and borg's rest:////abs): local, absolute */
        int rc = parse_local(out, url, after);
        if (!rc && out->path[1] == '/') memmove(out->path, out->path + 1, strlen(out->path));
        return rc;
    }
    if (!strcmp(out->scheme, "rclone")) {
        /* rclone:REMOTE:PATH, or a local path as rclone takes it (rclone:/x) */
        if (!*after) return invalid(out, url, "expected rclone:REMOTE:PATH");
        out->rest = strdup(after);
        return out->rest ? 0 : invalid(out, url, "out of memory");
    }
    return invalid(out, url, "unknown scheme");
}

void bs__url_redacted(char *out, size_t cap, const char *url)
{
    if (!cap) return;
    const char *at = NULL, *colon = NULL;
    if (!strncmp(url, "s3:", 3) || !strncmp(url, "b2:", 3)) {
        /* as Python's regex: key id [^:@]+, then ':', then the secret [^@]+ */
        at = strchr(url + 3, '@');
        colon = at ? memchr(url + 3, ':', (size_t)(at - url - 3)) : NULL;
        /* credentials only when what follows the '@' is a location ("/bucket"
         * or "scheme://"), else the '@' is in the path (as the s3 parser) */
        const char *r = at ? at + 1 : NULL, *sep = r ? strstr(r, "://") : NULL;
        const char *slash = r ? strchr(r, '/') : NULL;
        bool loc = r && (*r == '/' || (sep && sep > r && (!slash || sep < slash) &&
                                       !memchr(r, ':', (size_t)(sep - r))));
        if (!loc) colon = NULL;
    }
    if (!colon) {
        snprintf(out, cap, "%s", url);
        return;
    }
    snprintf(out, cap, "%.*s:***%s", (int)(colon - url), url, at);
}
