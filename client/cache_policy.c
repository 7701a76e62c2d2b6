/* The cache's configuration: per-namespace policies (validated, longest
 * prefix first, looked up like the Store's namespaces), the policy text of
 * --cache-ns, the per-store directory name and range cutting. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cache.h"
#include "common/error.h"
#include "common/names.h"

static int check_prefix(const char *p)
{
    if (!p) return bs__error_set(BS_ERR_INVALID, "cache namespace prefix is NULL");
    size_t len = strlen(p);
    if (len == 0) return 0;
    char tmp[BS_NAME_BUF];
    if (len >= sizeof tmp) return bs__error_set(BS_ERR_INVALID, "cache namespace too long");
    memcpy(tmp, p, len + 1);
    if (tmp[len - 1] == '/') tmp[--len] = '\0';
    if (!len || bs__name_validate(tmp))
        return bs__error_set(BS_ERR_INVALID, "invalid cache namespace: '%s'", p);
    return 0;
}

static int cmp_ns(const void *a, const void *b)
{
    const cache_ns *x = a, *y = b;
    if (x->len != y->len) return x->len > y->len ? -1 : 1;
    return strcmp(x->prefix, y->prefix);
}

void bs__cache_policies_free(bs_cache *c)
{
    for (size_t i = 0; i < c->n_ns; i++) free(c->ns[i].prefix);
    free(c->ns);
    c->ns = NULL;
    c->n_ns = 0;
}

int bs__cache_policies_copy(bs_cache *c, const bs_cache_namespace *nss, size_t n)
{
    if (n && !nss) return bs__error_set(BS_ERR_INVALID, "cache namespaces are NULL");
    c->ns = calloc(n ? n : 1, sizeof *c->ns);
    if (!c->ns) return bs__error_set(BS_ERR_NOMEM, NULL);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const bs_cache_namespace *in = &nss[i];
        if ((rc = check_prefix(in->prefix))) break;
        if (in->mode != BS_CACHE_OFF && in->mode != BS_CACHE_MIRROR &&
            in->mode != BS_CACHE_WRITETHROUGH) {
            rc = bs__error_set(BS_ERR_INVALID, "cache namespace '%s': unknown mode %d",
                               in->prefix, (int)in->mode);
            break;
        }
        if (!(in->max_age >= 0) || in->max_age > 1e9) {
            rc = bs__error_set(BS_ERR_INVALID, "cache namespace '%s': bad max_age",
                               in->prefix);
            break;
        }
        cache_ns *o = &c->ns[i];
        if (!(o->prefix = strdup(in->prefix))) {
            rc = bs__error_set(BS_ERR_NOMEM, NULL);
            break;
        }
        c->n_ns = i + 1;
        o->len = strlen(o->prefix);
        o->mode = in->mode;
        o->max_age_ns = (uint64_t)(in->max_age * 1e9);
        o->size = in->size;
        o->verify = in->verify_sha256;
    }
    if (!rc) {
        qsort(c->ns, n, sizeof *c->ns, cmp_ns);
        for (size_t i = 1; i < n && !rc; i++)
            if (!strcmp(c->ns[i].prefix, c->ns[i - 1].prefix))
                rc = bs__error_set(BS_ERR_INVALID, "cache namespace '%s' given twice",
                                   c->ns[i].prefix);
    }
    if (rc) bs__cache_policies_free(c);
    return rc;
}

cache_ns *bs__cache_policy(bs_cache *c, const char *name)
{
    if (!c || c->disabled || !c->b || !bs_backend_is_open(c->b)) return NULL;
    for (size_t i = 0; i < c->n_ns; i++)
        if (!strncmp(name, c->ns[i].prefix, c->ns[i].len))
            return c->ns[i].mode == BS_CACHE_OFF ? NULL : &c->ns[i];
    return NULL;
}

void bs__cache_set_id(bs_cache *c, const char *identity)
{
    char hex[BS_HASH_HEX_SIZE];
    if (bs_hash_hex(BS_HASH_SHA256, identity, strlen(identity), hex)) /* cannot fail */
        memset(hex, '0', BS_CACHE_ID_HEX);
    memcpy(c->id, hex, BS_CACHE_ID_HEX);
    c->id[BS_CACHE_ID_HEX] = '\0';
}

int bs__cache_key(const bs_cache *c, const char *nested, char out[BS_NAME_BUF])
{
    int n = snprintf(out, BS_NAME_BUF, "%s/%s", c->id, nested);
    if (n < 0 || n > BS_NAME_MAX)
        return bs__error_set(BS_ERR_INVALID, "name too long for the cache: %s", nested);
    return 0;
}

int bs__cache_slice(uint8_t *buf, size_t *len, int64_t offset, int64_t size, const char *name)
{
    /* Python 0.6 slices v[offset:offset+size], which is empty for offset
     * -4, size 4; the backends (and we) give the last 4 bytes. */
    uint64_t total = *len, start;
    if (offset < 0) {
        if ((uint64_t)-(offset + 1) + 1 > total)
            return bs__error_set(BS_ERR_READ_RANGE,
                                 "load %s: offset %lld is before the start (size %llu)", name,
                                 (long long)offset, (unsigned long long)total);
        start = total - ((uint64_t)-(offset + 1) + 1);
    } else {
        start = (uint64_t)offset;
    }
    uint64_t avail = start < total ? total - start : 0;
    uint64_t want = size < 0 || (uint64_t)size > avail ? avail : (uint64_t)size;
    if (want && start) memmove(buf, buf + start, (size_t)want);
    *len = (size_t)want;
    return 0;
}

/* ---- "NS=MODE[,max-age=SECONDS][,size=BYTES][,verify]" ---- */

static int parse_bytes(const char *v, size_t n, uint64_t *out)
{
    char tmp[32];
    if (!n || n >= sizeof tmp) return -1;
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    unsigned long long x = strtoull(tmp, &end, 10);
    if (end == tmp || errno || tmp[0] == '-') return -1;
    unsigned shift = 0;
    if (*end) {
        const char *units = "KMGT";
        const char *u = strchr(units, *end);
        if (!u || end[1]) return -1;
        shift = 10u * (unsigned)(u - units + 1);
    }
    if (shift && x > (UINT64_MAX >> shift)) return -1;
    *out = (uint64_t)x << shift;
    return 0;
}

int bs_cache_namespace_parse(bs_cache_namespace *out, char prefix_buf[BS_NAME_BUF],
                             const char *spec)
{
    memset(out, 0, sizeof *out);
    if (!spec) return bs__error_set(BS_ERR_INVALID, "cache policy is NULL");
    const char *eq = strchr(spec, '=');
    if (!eq) return bs__error_set(BS_ERR_INVALID, "cache policy wants NS=MODE[,...]: '%s'", spec);
    size_t ns_len = (size_t)(eq - spec);
    while (ns_len && spec[ns_len - 1] == '/') ns_len--;
    if (ns_len + 2 > BS_NAME_BUF) return bs__error_set(BS_ERR_INVALID, "namespace too long");
    memcpy(prefix_buf, spec, ns_len);
    if (ns_len) prefix_buf[ns_len++] = '/';
    prefix_buf[ns_len] = '\0';
    int rc = check_prefix(prefix_buf);
    if (rc) return rc;
    out->prefix = prefix_buf;
    const char *p = eq + 1;
    bool first = true;
    while (first || *p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        bool bad = false;
        if (first) {
            if (n == 3 && !strncmp(p, "off", 3)) out->mode = BS_CACHE_OFF;
            else if (n == 6 && !strncmp(p, "mirror", 6)) out->mode = BS_CACHE_MIRROR;
            else if (n == 12 && !strncmp(p, "writethrough", 12))
                out->mode = BS_CACHE_WRITETHROUGH;
            else bad = true;
        } else if (n > 8 && !strncmp(p, "max-age=", 8)) {
            uint64_t secs;
            bad = parse_bytes(p + 8, n - 8, &secs) || secs > 1000000000u;
            if (!bad) out->max_age = (double)secs;
        } else if (n > 5 && !strncmp(p, "size=", 5)) {
            bad = parse_bytes(p + 5, n - 5, &out->size);
        } else if (n == 6 && !strncmp(p, "verify", 6)) {
            out->verify_sha256 = true;
        } else {
            bad = true;
        }
        if (bad)
            return bs__error_set(BS_ERR_INVALID,
                                 "cache policy '%s': cannot use '%.*s' (want MODE off, mirror "
                                 "or writethrough, then max-age=SECONDS, size=BYTES, verify)",
                                 spec, (int)n, p);
        first = false;
        if (!comma) break;
        p = comma + 1;
        if (!*p) return bs__error_set(BS_ERR_INVALID, "cache policy '%s' ends with ','", spec);
    }
    return 0;
}
