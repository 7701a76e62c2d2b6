/* The Store's cache: configuring it (bs_store_set_cache), its lifecycle next
 * to the store's, and the hooks the Store calls around its own backend calls
 * (load from the cache or fill it, store/delete/move after the store). Cache
 * failures never fail a Store call: they are warnings counted in the stats. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cache.h"
#include "client/store_internal.h"
#include "common/error.h"
#include "common/names.h"

/* Warnings printed per cache before going quiet (all are counted). */
#define WARN_MAX 10

void bs__cache_warn(bs_cache *c, const char *fmt, ...)
{
    c->errors++;
    if (c->warnings > WARN_MAX) return;
    if (c->warnings++ == WARN_MAX) {
        fputs("borgstore: warning: cache: further warnings not shown (see cache_errors)\n",
              stderr);
        return;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "borgstore: warning: cache: %s\n", msg);
}

void bs__cache_drop(bs_cache *c, const char *key)
{
    c->delete_calls++;
    int rc = bs_backend_delete(c->b, key);
    if (rc && rc != BS_ERR_NOT_FOUND) bs__cache_warn(c, "delete %s: %s", key, bs_error_message());
    bs__cache_seen_forget(c, key);
}

void bs__cache_put(bs_cache *c, cache_ns *p, const char *key, const uint8_t *v, size_t len)
{
    if (p->size && len > p->size) {
        bs__cache_drop(c, key); /* an older, smaller value must not stay */
        return;
    }
    if (p->size) bs__cache_make_room(c, p, len);
    c->store_calls++;
    int rc = bs_backend_store(c->b, key, v, len);
    if (rc) {
        bs__cache_warn(c, "store %s: %s", key, bs_error_message());
        return;
    }
    c->store_volume += len;
    p->used += len;
    bs__cache_seen_forget(c, key);
}

/* A hit of a content-addressed entry not verified by us yet (or changed
 * since): the whole entry, checked against its name. */
static int load_verified(bs_cache *c, const char *key, int64_t offset, int64_t size,
                         uint8_t **out, size_t *out_len)
{
    uint8_t *v = NULL;
    size_t len = 0;
    c->load_calls++;
    int rc = bs_backend_load(c->b, key, 0, BS_SIZE_ALL, &v, &len);
    if (rc) {
        if (rc != BS_ERR_NOT_FOUND) bs__cache_warn(c, "load %s: %s", key, bs_error_message());
        return 0;
    }
    c->load_volume += len;
    if (!bs__cache_matches(key, v, len)) {
        c->corrupt++;
        bs__cache_warn(c, "%s does not match its name: dropped, loading it from the store",
                       key);
        bs_free(v);
        bs__cache_drop(c, key);
        return 0;
    }
    bs_item_info info;
    if (!bs_backend_info(c->b, key, &info) && info.exists && info.size == len)
        bs__cache_seen_add(c, key, info.size, info.mtime_ns);
    if (bs__cache_slice(v, &len, offset, size, key)) {
        bs_free(v); /* the store will say READ_RANGE about its own copy */
        return 0;
    }
    *out = v;
    *out_len = len;
    return 1;
}

int bs__cache_try_load(bs_cache *c, cache_ns *p, const char *key, int64_t offset, int64_t size,
                       uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    int hit = 0;
    if (p->verify) {
        if (!bs__cache_verifiable(key)) {
            c->misses++;
            return 0;
        }
        bs_item_info info;
        int rc = bs_backend_info(c->b, key, &info);
        if (rc) bs__cache_warn(c, "info %s: %s", key, bs_error_message());
        if (rc || !info.exists) {
            c->misses++;
            return 0;
        }
        if (!bs__cache_seen_has(c, key, info.size, info.mtime_ns)) {
            hit = load_verified(c, key, offset, size, out, out_len);
            goto done;
        }
    }
    {
        c->load_calls++;
        int rc = bs_backend_load(c->b, key, offset, size, out, out_len);
        if (!rc) {
            c->load_volume += *out_len;
            hit = 1;
        } else if (rc != BS_ERR_NOT_FOUND && rc != BS_ERR_READ_RANGE) {
            bs__cache_warn(c, "load %s: %s", key, bs_error_message());
        }
    }
done:
    if (hit) c->hits++;
    else c->misses++;
    return hit;
}

void bs__cache_after_full_load(bs_cache *c, cache_ns *p, const char *key, const uint8_t *v,
                               size_t len)
{
    if (p->verify && !(bs__cache_verifiable(key) && bs__cache_matches(key, v, len))) return;
    uint64_t errors = c->errors;
    bs__cache_put(c, p, key, v, len);
    if (p->verify && c->errors == errors) {
        bs_item_info info;
        if (!bs_backend_info(c->b, key, &info) && info.exists && info.size == len)
            bs__cache_seen_add(c, key, info.size, info.mtime_ns);
    }
}

void bs__cache_after_store(bs_cache *c, const char *name, const char *nested, const void *v,
                           size_t len)
{
    cache_ns *p = bs__cache_policy(c, name);
    char key[BS_NAME_BUF];
    if (!p) return;
    if (bs__cache_key(c, nested, key)) {
        bs__cache_warn(c, "%s", bs_error_message());
        return;
    }
    if (p->verify && !(bs__cache_verifiable(key) && bs__cache_matches(key, v, len))) {
        bs__cache_drop(c, key); /* never keep what cannot be served */
        return;
    }
    bs__cache_after_full_load(c, p, key, v, len); /* verified now: remembered */
}

void bs__cache_after_delete(bs_cache *c, const char *name, const char *nested)
{
    char key[BS_NAME_BUF];
    if (!bs__cache_policy(c, name)) return;
    if (bs__cache_key(c, nested, key)) return; /* could not have been cached */
    bs__cache_drop(c, key);
}

void bs__cache_after_move(bs_cache *c, const char *name, const char *new_name,
                          const char *cur, const char *dst)
{
    cache_ns *from = bs__cache_policy(c, name);
    cache_ns *to = bs__cache_policy(c, new_name ? new_name : name);
    char kc[BS_NAME_BUF], kd[BS_NAME_BUF];
    bool have_c = from && !bs__cache_key(c, cur, kc);
    bool have_d = to && !bs__cache_key(c, dst, kd);
    if (have_c && have_d && from == to) {
        c->store_calls++; /* a move writes the cache like a store */
        int rc = bs_backend_move(c->b, kc, kd);
        bs__cache_seen_forget(c, kc);
        bs__cache_seen_forget(c, kd);
        if (!rc) return;
        if (rc != BS_ERR_NOT_FOUND) bs__cache_warn(c, "move %s: %s", kc, bs_error_message());
    } else if (have_c) {
        bs__cache_drop(c, kc);
    }
    /* the store's dst was replaced: an old cached dst must go (Python 0.6
     * ignores NotFound of the source and keeps a stale target) */
    if (have_d) bs__cache_drop(c, kd);
}

/* ---- lifecycle ---- */

void bs__cache_open(bs_cache *c)
{
    if (!c) return;
    c->disabled = false;
    int rc = bs_backend_open(c->b);
    if (rc == BS_ERR_DOES_NOT_EXIST) {
        (void)bs_backend_create(c->b); /* another process may be faster */
        rc = bs_backend_open(c->b);
    }
    if (rc) {
        c->disabled = true;
        bs__cache_warn(c, "cannot open the cache, going on without it: %s", bs_error_message());
        return;
    }
    for (size_t i = 0; i < c->n_ns; i++) {
        c->ns[i].used_known = false;
        if (c->ns[i].mode != BS_CACHE_OFF && (c->ns[i].max_age_ns || c->ns[i].size))
            bs__cache_evict(c, &c->ns[i], c->ns[i].size ? c->ns[i].size : UINT64_MAX);
    }
}

void bs__cache_close(bs_cache *c)
{
    if (!c || !bs_backend_is_open(c->b)) return;
    for (size_t i = 0; i < c->n_ns; i++)
        if (c->ns[i].mode != BS_CACHE_OFF && (c->ns[i].max_age_ns || c->ns[i].size))
            bs__cache_evict(c, &c->ns[i], c->ns[i].size ? c->ns[i].size : UINT64_MAX);
    bs_backend_close(c->b);
}

void bs__cache_purge(bs_cache *c)
{
    if (!c) return;
    bool was_open = bs_backend_is_open(c->b);
    if (!was_open) {
        int rc = bs_backend_open(c->b);
        if (rc == BS_ERR_DOES_NOT_EXIST) return; /* nothing cached anywhere */
        if (rc) {
            bs__cache_warn(c, "cannot open the cache to empty it: %s", bs_error_message());
            return;
        }
    }
    bs__cache_remove_tree(c, c->id);
    bs__cache_seen_free(c);
    if (!was_open) bs_backend_close(c->b);
}

void bs__cache_free(bs_cache *c)
{
    if (!c) return;
    bs_backend_free(c->b);
    bs__cache_policies_free(c);
    bs__cache_seen_free(c);
    free(c);
}

void bs__cache_stats(const bs_cache *c, bs_store_stats *out)
{
    if (!c) return;
    out->cache_hits = c->hits;
    out->cache_misses = c->misses;
    out->cache_hit_ratio =
        c->hits + c->misses ? (double)c->hits / (double)(c->hits + c->misses) : 0;
    out->cache_errors = c->errors;
    out->cache_load_calls = c->load_calls;
    out->cache_store_calls = c->store_calls;
    out->cache_delete_calls = c->delete_calls;
    out->cache_load_volume = c->load_volume;
    out->cache_store_volume = c->store_volume;
    out->cache_disabled = c->disabled;
    out->cache_corrupt = c->corrupt;
    out->cache_evicted = c->evicted;
}

/* ---- public ---- */

int bs_store_set_cache(bs_store *s, const bs_cache_config *cfg)
{
    bs_cache *c = NULL;
    int rc = 0;
    if (cfg) {
        bool wants = false;
        for (size_t i = 0; i < cfg->n_namespaces && cfg->namespaces; i++)
            wants |= cfg->namespaces[i].mode != BS_CACHE_OFF;
        if (cfg->url && cfg->backend)
            return bs__error_set(BS_ERR_INVALID, "give the cache a URL or a backend, not both");
        if (wants && !cfg->url && !cfg->backend)
            return bs__error_set(BS_ERR_INVALID, "a cache mode other than off needs a cache "
                                                 "URL or backend");
        if (!(c = calloc(1, sizeof *c))) return bs__error_set(BS_ERR_NOMEM, NULL);
        if ((rc = bs__cache_policies_copy(c, cfg->namespaces, cfg->n_namespaces))) {
            free(c);
            return rc;
        }
    }
    pthread_mutex_lock(&s->mu);
    const char *identity = cfg && cfg->id ? cfg->id : s->url;
    if (bs_backend_is_open(s->b)) rc = bs__error_set(BS_ERR_MUST_NOT_BE_OPEN, "set the cache");
    else if (c && !identity)
        rc = bs__error_set(BS_ERR_INVALID, "the cache of a store without URL needs an id");
    if (!rc && c) {
        bs__cache_set_id(c, identity);
        if (cfg->url) rc = bs_backend_new(&c->b, cfg->url, &cfg->backend_config);
        else c->b = cfg->backend;
    }
    if (rc) {
        pthread_mutex_unlock(&s->mu);
        if (c) {
            c->b = NULL; /* the caller keeps cfg->backend */
            bs__cache_free(c);
        }
        return rc;
    }
    bs_cache *old = s->cache;
    s->cache = c && c->b ? c : NULL;
    pthread_mutex_unlock(&s->mu);
    if (c && !c->b) bs__cache_free(c); /* all modes off, no backend */
    bs__cache_free(old);
    return 0;
}

int bs_store_cache_invalidate(bs_store *s, const char *name)
{
    if (!name) return bs__error_set(BS_ERR_INVALID, "name is NULL");
    pthread_mutex_lock(&s->mu);
    int rc = 0;
    bs_cache *c = s->cache;
    if (!bs_backend_is_open(s->b)) rc = bs__error_set(BS_ERR_MUST_BE_OPEN, NULL);
    else if (c && !c->disabled && bs_backend_is_open(c->b)) {
        char dir[BS_NAME_BUF];
        size_t len = strlen(name);
        while (len && name[len - 1] == '/') len--;
        bool whole_ns = len == 0;
        for (size_t i = 0; i < c->n_ns && !whole_ns; i++) {
            const char *pre = c->ns[i].prefix;
            size_t l = c->ns[i].len;
            if (l && pre[l - 1] == '/') l--;
            whole_ns = l == len && !strncmp(name, pre, len);
        }
        snprintf(dir, sizeof dir, "%.*s", (int)len, name);
        if ((rc = bs__name_validate(dir))) {
        } else if (whole_ns) {
            snprintf(dir, sizeof dir, "%s%s%.*s", c->id, len ? "/" : "", (int)len, name);
            bs__cache_remove_tree(c, dir);
            bs__cache_seen_free(c);
        } else {
            for (int del = 0; del < 2 && !rc; del++) {
                char nested[BS_NAME_BUF], key[BS_NAME_BUF];
                rc = bs__store_find_locked(s, name, del, nested);
                if (!rc && !bs__cache_key(c, nested, key)) bs__cache_drop(c, key);
            }
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* ---- loads through the cache (the Store's bs_store_load) ---- */

int bs__cache_load(bs_store *s, cache_ns *p, const char *name, const char *nested, bool deleted,
                   int64_t offset, int64_t size, uint8_t **out, size_t *out_len, uint64_t start,
                   uint64_t t0)
{
    bs_cache *c = s->cache;
    char key[BS_NAME_BUF];
    bool keyed = !bs__cache_key(c, nested, key);
    if (!keyed) bs__cache_warn(c, "%s", bs_error_message());
    if (keyed && p->mode == BS_CACHE_WRITETHROUGH &&
        bs__cache_try_load(c, p, key, offset, size, out, out_len)) {
        s->load_volume += *out_len;
        return bs__store_call_end(s, 0, OP_LOAD, start, 0, 0); /* no backend call */
    }
    /* the whole value from the store, into the cache, then the range */
    s->be_load_calls++;
    int rc = keyed ? bs_backend_load(s->b, nested, 0, BS_SIZE_ALL, out, out_len)
                   : bs_backend_load(s->b, nested, offset, size, out, out_len);
    rc = bs__store_not_found(rc, name, deleted);
    if (rc) return bs__store_call_end(s, rc, OP_LOAD, start, t0, 0);
    size_t full = *out_len;
    bs__store_emulate_calls(s, t0, 1, full);
    s->be_load_volume += full;
    if (keyed) {
        bs__cache_after_full_load(c, p, key, *out, full);
        if ((rc = bs__cache_slice(*out, out_len, offset, size, name))) {
            bs_free(*out);
            *out = NULL;
            *out_len = 0;
            return bs__store_call_end(s, rc, OP_LOAD, start, 0, 0);
        }
    }
    s->load_volume += *out_len;
    return bs__store_call_end(s, 0, OP_LOAD, start, 0, 0);
}
