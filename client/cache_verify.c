/* Content checks for content-addressed cache namespaces (the key is the
 * sha256 hex of the value), and the bounded set of entries this process has
 * verified in full, keyed by cache name and remembered with the entry's size
 * and mtime: a range of an entry is served only from a version that was
 * verified (a range alone cannot be checked against a whole-value digest),
 * and a replaced or rewritten entry is verified again. */
#include <stdlib.h>
#include <string.h>

#include "client/cache.h"

/* Most remembered entries; the set starts over when full. */
#define SEEN_MAX 4096

static const char *last_part(const char *key)
{
    const char *slash = strrchr(key, '/');
    return slash ? slash + 1 : key;
}

bool bs__cache_verifiable(const char *key)
{
    const char *k = last_part(key);
    if (strlen(k) != 64) return false;
    for (size_t i = 0; i < 64; i++)
        if (!((k[i] >= '0' && k[i] <= '9') || (k[i] >= 'a' && k[i] <= 'f'))) return false;
    return true;
}

bool bs__cache_matches(const char *key, const uint8_t *v, size_t len)
{
    char hex[BS_HASH_HEX_SIZE];
    if (bs_hash_hex(BS_HASH_SHA256, v, len, hex)) return false;
    return !strcmp(hex, last_part(key));
}

static size_t slot_of(const char *key, size_t cap)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const char *p = key; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return (size_t)(h & (cap - 1));
}

static cache_seen *find(const bs_cache *c, const char *key)
{
    if (!c->seen) return NULL;
    for (size_t i = slot_of(key, c->seen_cap), n = 0; n < c->seen_cap;
         i = (i + 1) & (c->seen_cap - 1), n++) {
        cache_seen *e = &c->seen[i];
        if (!e->key[0]) return NULL;
        if (!strcmp(e->key, key)) return e;
    }
    return NULL;
}

void bs__cache_seen_add(bs_cache *c, const char *key, uint64_t size, int64_t mtime_ns)
{
    if (!c->seen || c->seen_n >= c->seen_cap / 2) {
        /* start over (also the first time): bounded memory, rare re-checks */
        free(c->seen);
        c->seen_cap = 2 * SEEN_MAX;
        c->seen_n = 0;
        if (!(c->seen = calloc(c->seen_cap, sizeof *c->seen))) {
            c->seen_cap = 0;
            return;
        }
    }
    cache_seen *e = find(c, key);
    if (!e) {
        size_t i = slot_of(key, c->seen_cap);
        while (c->seen[i].key[0]) i = (i + 1) & (c->seen_cap - 1);
        e = &c->seen[i];
        strncpy(e->key, key, sizeof e->key - 1);
        c->seen_n++;
    }
    e->size = size;
    e->mtime_ns = mtime_ns;
}

bool bs__cache_seen_has(const bs_cache *c, const char *key, uint64_t size, int64_t mtime_ns)
{
    const cache_seen *e = find(c, key);
    return e && e->size == size && e->mtime_ns == mtime_ns;
}

void bs__cache_seen_forget(bs_cache *c, const char *key)
{
    cache_seen *e = find(c, key);
    /* open addressing without tombstones: mark it unusable instead */
    if (e) e->mtime_ns = INT64_MIN;
}

void bs__cache_seen_free(bs_cache *c)
{
    free(c->seen);
    c->seen = NULL;
    c->seen_cap = c->seen_n = 0;
}
