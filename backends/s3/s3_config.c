/* s3:/b2: URL parsing, credentials and region: see s3_config.h. */
#include "backends/s3/s3_config.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/url.h"

#define INI_LINE_MAX 4096

static void free_secret(char *s)
{
    if (s) {
        sodium_memzero(s, strlen(s));
        free(s);
    }
}

void bs__s3_config_clear(bs_s3_config *c)
{
    free(c->profile);
    free(c->key_id);
    free_secret(c->secret);
    free_secret(c->token);
    free(c->endpoint);
    free(c->bucket);
    free(c->path);
    free(c->region);
    memset(c, 0, sizeof *c);
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* The part after the credentials: [scheme://host[:port]]/bucket/path.
 * Returns 0, 1 (does not match: the caller may try another split) or
 * BS_ERR_NOMEM. */
static int parse_location(bs_s3_config *c, const char *s)
{
    const char *slash = strchr(s, '/');
    const char *sep = strstr(s, "://");
    if (sep && slash && sep < slash) {
        /* scheme [^:/]+ :// host [^:/]+ (: digits)? / */
        if (sep == s) return 1;
        const char *host = sep + 3, *h = host;
        while (*h && *h != ':' && *h != '/') h++;
        if (h == host) return 1;
        if (*h == ':') {
            const char *d = ++h;
            while (isdigit((unsigned char)*h)) h++;
            if (h == d || h - d > 5) return 1;
        }
        if (*h != '/') return 1;
        c->endpoint = dup_n(s, (size_t)(h - s));
        if (!c->endpoint) return BS_ERR_NOMEM;
        s = h;
    }
    if (*s != '/') return 1;
    const char *bucket = s + 1, *b = bucket;
    while (*b && *b != '/') b++;
    if (b == bucket || *b != '/' || b[1] == '\0') return 1;
    c->bucket = dup_n(bucket, (size_t)(b - bucket));
    if (!c->bucket) return BS_ERR_NOMEM;
    /* The path is percent-decoded and kept without edge slashes: keys are
     * path + "/" + name, as Python's base_path. */
    const char *p = b + 1;
    size_t n = strlen(p);
    while (n && p[n - 1] == '/') n--;
    while (n && *p == '/') p++, n--;
    if (n == 0) return 1;
    c->path = bs__percent_decode(p, n);
    if (!c->path) return 1;
    /* an encoded slash (%2F) at an edge is an edge slash too */
    size_t len = strlen(c->path), lead = strspn(c->path, "/");
    while (len > lead && c->path[len - 1] == '/') c->path[--len] = '\0';
    memmove(c->path, c->path + lead, len - lead + 1);
    return c->path[0] ? 0 : 1;
}

static int invalid(bs_s3_config *c, const char *why)
{
    bs__s3_config_clear(c);
    /* The URL itself may carry a secret: it is never echoed. */
    return bs__error_set(BS_ERR_URL_INVALID, "%s (expected "
                         "s3:[profile|(key_id:secret)@][scheme://host[:port]]/bucket/path)", why);
}

int bs__s3_config_parse(bs_s3_config *out, const char *url)
{
    memset(out, 0, sizeof *out);
    const char *s;
    if (strncmp(url, "s3:", 3) == 0) {
        s = url + 3;
    } else if (strncmp(url, "b2:", 3) == 0) {
        s = url + 3;
        out->b2 = true;
    } else {
        return invalid(out, "not an s3: or b2: URL");
    }
    /* Credentials first, as Python's regex; when the rest does not parse
     * that way, the '@' belongs to the path. */
    const char *at = strchr(s, '@');
    if (at) {
        const char *colon = memchr(s, ':', (size_t)(at - s));
        bool ok = at > s;
        if (ok && colon) {
            ok = colon > s && at > colon + 1;
        }
        if (ok) {
            int rc = parse_location(out, at + 1);
            if (rc < 0) return invalid(out, "out of memory");
            if (rc == 0) {
                if (colon) {
                    out->key_id = bs__percent_decode(s, (size_t)(colon - s));
                    out->secret = bs__percent_decode(colon + 1, (size_t)(at - colon - 1));
                    if (!out->key_id || !out->secret)
                        return invalid(out, "malformed percent escape in the credentials");
                } else {
                    out->profile = dup_n(s, (size_t)(at - s));
                    if (!out->profile) return invalid(out, "out of memory");
                }
                return 0;
            }
            bool b2 = out->b2;
            bs__s3_config_clear(out);
            out->b2 = b2;
        }
    }
    int rc = parse_location(out, s);
    if (rc < 0) return invalid(out, "out of memory");
    if (rc > 0) return invalid(out, "malformed s3/b2 URL");
    return 0;
}

/* ---- environment and the AWS files --------------------------------------- */

static char *home_file(const char *env, const char *leaf)
{
    const char *e = getenv(env);
    if (e && *e) return strdup(e);
    const char *home = getenv("HOME");
    if (!home || !*home) return NULL;
    size_t n = strlen(home) + strlen(leaf) + 8;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/.aws/%s", home, leaf);
    return p;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Value of key in [section] of the INI file at path into *out (malloc'd;
 * untouched when absent). Returns 1 found, 0 absent (or no file), 2 when the
 * section exists without the key, BS_ERR_NOMEM. Lines longer than
 * INI_LINE_MAX are cut. */
static int ini_get(const char *path, const char *section, const char *key, char **out)
{
    FILE *f = path ? fopen(path, "re") : NULL;
    if (!f) return 0;
    char *line = malloc(INI_LINE_MAX);
    if (!line) {
        fclose(f);
        return BS_ERR_NOMEM;
    }
    bool in = false, seen = false;
    int rc = 0;
    while (rc == 0 && fgets(line, INI_LINE_MAX, f)) {
        char *l = trim(line);
        if (*l == '#' || *l == ';' || *l == '\0') continue;
        if (*l == '[') {
            char *end = strchr(l, ']');
            if (end) *end = '\0';
            in = strcmp(trim(l + 1), section) == 0;
            seen |= in;
            continue;
        }
        char *eq = strchr(l, '=');
        if (!in || !eq) continue;
        *eq = '\0';
        if (strcmp(trim(l), key) != 0) continue;
        char *v = strdup(trim(eq + 1));
        if (!v) rc = BS_ERR_NOMEM;
        else {
            free_secret(*out);
            *out = v;
            rc = 1;
        }
    }
    sodium_memzero(line, INI_LINE_MAX);
    free(line);
    fclose(f);
    return rc == 0 && seen ? 2 : rc;
}

static int env_dup(const char *name, char **out)
{
    const char *v = getenv(name);
    if (!v || !*v) return 0;
    *out = strdup(v);
    return *out ? 1 : BS_ERR_NOMEM;
}

static int credentials(bs_s3_config *c)
{
    if (c->key_id) return 0;
    const char *profile = c->profile;
    if (!profile) {
        int a = env_dup("AWS_ACCESS_KEY_ID", &c->key_id);
        int b = env_dup("AWS_SECRET_ACCESS_KEY", &c->secret);
        if (a < 0 || b < 0) return BS_ERR_NOMEM;
        if (a && b) return env_dup("AWS_SESSION_TOKEN", &c->token) < 0 ? BS_ERR_NOMEM : 0;
        free(c->key_id);
        free_secret(c->secret);
        c->key_id = c->secret = NULL;
        profile = getenv("AWS_PROFILE");
        if (!profile || !*profile) profile = "default";
    }
    char *path = home_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
    int a = ini_get(path, profile, "aws_access_key_id", &c->key_id);
    int b = ini_get(path, profile, "aws_secret_access_key", &c->secret);
    int t = ini_get(path, profile, "aws_session_token", &c->token);
    free(path);
    if (a < 0 || b < 0 || t < 0) return bs__error_set(BS_ERR_NOMEM, NULL);
    if (a == 1 && b == 1) return 0;
    if (c->profile || a == 2 || b == 2)
        return bs__error_set(BS_ERR_INVALID,
                             "s3: profile %s has no aws_access_key_id and "
                             "aws_secret_access_key in the AWS credentials file",
                             profile);
    return bs__error_set(BS_ERR_INVALID,
                         "s3: no credentials (give key_id:secret@ in the URL, set "
                         "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add a profile to "
                         "~/.aws/credentials)");
}

/* "s3.<region>.amazonaws.com" / "s3.<region>.backblazeb2.com" -> region. */
static char *region_from_endpoint(const char *endpoint)
{
    const char *h = endpoint ? strstr(endpoint, "://") : NULL;
    if (!h || strncmp(h + 3, "s3.", 3) != 0) return NULL;
    const char *r = h + 6, *dot = strchr(r, '.');
    if (!dot || dot == r) return NULL;
    if (strncmp(dot, ".amazonaws.com", 14) != 0 && strncmp(dot, ".backblazeb2.com", 16) != 0)
        return NULL;
    return dup_n(r, (size_t)(dot - r));
}

static int region(bs_s3_config *c)
{
    int rc = env_dup("AWS_REGION", &c->region);
    if (rc == 0) rc = env_dup("AWS_DEFAULT_REGION", &c->region);
    if (rc == 0) {
        const char *profile = c->profile ? c->profile : getenv("AWS_PROFILE");
        char section[256];
        if (profile && *profile && strcmp(profile, "default") != 0)
            snprintf(section, sizeof section, "profile %s", profile);
        else
            snprintf(section, sizeof section, "default");
        char *path = home_file("AWS_CONFIG_FILE", "config");
        rc = ini_get(path, section, "region", &c->region);
        free(path);
        if (rc == 2) rc = 0;
    }
    if (rc < 0) return bs__error_set(BS_ERR_NOMEM, NULL);
    if (!c->region && c->endpoint) c->region = region_from_endpoint(c->endpoint);
    if (!c->region && !(c->region = strdup("us-east-1"))) return bs__error_set(BS_ERR_NOMEM, NULL);
    return 0;
}

int bs__s3_config_resolve(bs_s3_config *c)
{
    int rc = credentials(c);
    if (rc == BS_ERR_NOMEM) return bs__error_set(BS_ERR_NOMEM, NULL);
    if (rc) return rc;
    return region(c);
}
