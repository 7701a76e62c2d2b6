/* Keeping the cache within max_age and size: a scan of one namespace's
 * entries of this store (a recursive listing of the cache backend), as
 * Python 0.6's _cache_cleanup_expired, but run whenever a store would pass
 * the size bound, not only at open and close. Other processes may evict or
 * add at the same time: a vanished entry is not an error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/cache.h"
#include "common/error.h"

/* Share of size a full namespace is brought down to, so that a scan is
 * needed about every quarter of size stored, not at every store. */
#define LOW_WATER(size) ((size) / 4 * 3)

typedef struct entry {
    char key[BS_NAME_BUF];
    uint64_t size;
    int64_t used_ns; /* later of atime and mtime */
} entry;

typedef struct scan {
    entry *e;
    size_t n, cap;
    int rc;
} scan;

static bool belongs(const bs_cache *c, const cache_ns *p, const char *key)
{
    const char *nested = key + strlen(c->id) + 1;
    for (size_t i = 0; i < c->n_ns; i++)
        if (!strncmp(nested, c->ns[i].prefix, c->ns[i].len)) return &c->ns[i] == p;
    return false;
}

/* Appends every file below dir to sc (recursively, depth first). */
static void walk(bs_cache *c, const char *dir, scan *sc, int depth)
{
    bs_list_iter *it;
    int rc = bs_backend_list_begin(c->b, dir, &it);
    if (rc == BS_ERR_NOT_FOUND) return; /* nothing cached (or removed meanwhile) */
    if (rc || depth > 16) {
        sc->rc = rc ? rc : BS_ERR_INVALID;
        if (!rc) bs_backend_list_end(it);
        return;
    }
    bs_item_info info;
    while (!sc->rc && (rc = bs_backend_list_next(it, &info)) == 1) {
        char sub[BS_NAME_BUF];
        size_t n = (size_t)snprintf(sub, sizeof sub, "%s/%s", dir, info.name);
        if (n >= sizeof sub) continue;
        if (info.directory) {
            walk(c, sub, sc, depth + 1);
            continue;
        }
        if (sc->n == sc->cap) {
            size_t cap = sc->cap ? sc->cap * 2 : 256;
            entry *e = realloc(sc->e, cap * sizeof *e);
            if (!e) {
                sc->rc = bs__error_set(BS_ERR_NOMEM, NULL);
                break;
            }
            sc->e = e;
            sc->cap = cap;
        }
        entry *e = &sc->e[sc->n++];
        memcpy(e->key, sub, n + 1);
        e->size = info.size;
        e->used_ns = info.atime_ns > info.mtime_ns ? info.atime_ns : info.mtime_ns;
    }
    if (rc < 0 && !sc->rc) sc->rc = rc;
    bs_backend_list_end(it);
}

static int by_use(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->used_ns != y->used_ns) return x->used_ns < y->used_ns ? -1 : 1;
    return strcmp(x->key, y->key);
}

static void evict_one(bs_cache *c, const char *key)
{
    c->delete_calls++;
    int rc = bs_backend_delete(c->b, key);
    if (!rc) c->evicted++;
    else if (rc != BS_ERR_NOT_FOUND) /* another process evicted it: fine */
        bs__cache_warn(c, "evict %s: %s", key, bs_error_message());
    bs__cache_seen_forget(c, key);
}

void bs__cache_evict(bs_cache *c, cache_ns *p, uint64_t target)
{
    char dir[BS_NAME_BUF];
    /* the deepest directory every entry of p is below */
    size_t plen = p->len;
    if (plen && p->prefix[plen - 1] == '/') {
        plen--;
    } else {
        while (plen && p->prefix[plen - 1] != '/') plen--;
        if (plen) plen--;
    }
    snprintf(dir, sizeof dir, "%s%s%.*s", c->id, plen ? "/" : "", (int)plen, p->prefix);
    scan sc = {0};
    walk(c, dir, &sc, 0);
    if (sc.rc) {
        bs__cache_warn(c, "scanning %s: %s", dir, bs_error_message());
        free(sc.e);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    uint64_t total = 0;
    size_t keep = 0;
    for (size_t i = 0; i < sc.n; i++) {
        entry *e = &sc.e[i];
        if (!belongs(c, p, e->key)) continue;
        if (p->max_age_ns && (e->used_ns == 0 || now - e->used_ns > (int64_t)p->max_age_ns)) {
            evict_one(c, e->key);
            continue;
        }
        total += e->size;
        sc.e[keep++] = *e;
    }
    if (total > target) {
        qsort(sc.e, keep, sizeof *sc.e, by_use);
        for (size_t i = 0; i < keep && total > target; i++) {
            evict_one(c, sc.e[i].key);
            total -= sc.e[i].size;
        }
    }
    p->used = total;
    p->used_known = true;
    free(sc.e);
}

void bs__cache_make_room(bs_cache *c, cache_ns *p, uint64_t len)
{
    if (!p->size || len > p->size) return;
    if (p->used_known && p->used + len <= p->size) return;
    uint64_t target = LOW_WATER(p->size);
    if (target > p->size - len) target = p->size - len;
    bs__cache_evict(c, p, target);
}

/* Removes dir's files and subdirectories, then dir. */
static void remove_tree(bs_cache *c, const char *dir, int depth)
{
    bs_list_iter *it;
    if (depth > 16 || bs_backend_list_begin(c->b, dir, &it)) return;
    bs_item_info info;
    while (bs_backend_list_next(it, &info) == 1) {
        char sub[BS_NAME_BUF];
        if ((size_t)snprintf(sub, sizeof sub, "%s/%s", dir, info.name) >= sizeof sub) continue;
        if (info.directory) {
            remove_tree(c, sub, depth + 1);
        } else {
            c->delete_calls++;
            int rc = bs_backend_delete(c->b, sub);
            if (rc && rc != BS_ERR_NOT_FOUND)
                bs__cache_warn(c, "delete %s: %s", sub, bs_error_message());
        }
    }
    bs_backend_list_end(it);
    (void)bs_backend_rmdir(c->b, dir); /* another process may be filling it */
}

void bs__cache_remove_tree(bs_cache *c, const char *dir)
{
    remove_tree(c, dir, 0);
    for (size_t i = 0; i < c->n_ns; i++) c->ns[i].used_known = false;
}
