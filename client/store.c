/* The Store (include/borgstore/store.h): namespaces and nesting levels, find,
 * soft delete, the lazy recursive listing, stats and the latency/bandwidth
 * emulator, all serialized by one mutex per store. Semantics follow Python
 * borgstore's store.py; comments note where and why we differ. */
#include "borgstore/store.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "common/names.h"
#include "common/nesting.h"

#include "client/cache.h"
#include "backends/backend.h"
#include "client/store_internal.h"

/* ---- time ---------------------------------------------------------------- */

uint64_t bs__store_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sleeps until the monotonic clock reaches deadline (ns). */
static void sleep_until(uint64_t deadline)
{
    struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000u),
                          .tv_nsec = (long)(deadline % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

/* The emulator, as Python's _backend_call: `calls` backend round trips that
 * started at start and moved volume bytes should have taken
 * calls * latency + volume/bandwidth; sleep for whatever of that the real
 * calls did not already take. */
void bs__store_emulate_calls(const bs_store *s, uint64_t start, uint64_t calls, uint64_t volume)
{
    if (!s->latency_ns && s->bandwidth <= 0) return;
    double emulated = (double)s->latency_ns * (double)calls;
    if (s->bandwidth > 0) emulated += (double)volume / s->bandwidth * 1e9;
    uint64_t deadline = start + (uint64_t)emulated;
    if (bs__store_now_ns() < deadline) sleep_until(deadline);
}

uint64_t bs__store_call_begin(bs_store *s)
{
    pthread_mutex_lock(&s->mu);
    return bs__store_now_ns();
}

int bs__store_call_end(bs_store *s, int rc, int op, uint64_t start, uint64_t since,
                       uint64_t volume)
{
    if (!rc) {
        if (since) bs__store_emulate_calls(s, since, 1, volume);
        if (op == OP_LOAD) {
            s->be_load_volume += volume;
            s->load_volume += volume;
        } else if (op == OP_STORE) {
            s->be_store_volume += volume;
            s->store_volume += volume;
        }
        /* after the emulated sleep: *_time includes it */
        s->calls[op]++;
        s->time_ns[op] += bs__store_now_ns() - start;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static double env_number(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) return 0;
    char *end;
    double d = strtod(v, &end);
    return (*end || d < 0 || d != d) ? 0 : d;
}

void bs_store_set_emulation(bs_store *s, double latency_us, double bandwidth_bps)
{
    pthread_mutex_lock(&s->mu);
    s->latency_ns = latency_us > 0 ? (uint64_t)(latency_us * 1000.0) : 0;
    s->bandwidth = bandwidth_bps > 0 ? bandwidth_bps / 8.0 : 0;
    pthread_mutex_unlock(&s->mu);
}

/* ---- configuration ----------------------------------------------------- */

void bs_store_config_default(bs_store_config *out)
{
    static const bs_store_namespace defaults[] = {
        {.prefix = "", .levels = {0}, .nlevels = 1},
        {.prefix = "data/", .levels = {1}, .nlevels = 1},
    };
    memset(out, 0, sizeof *out);
    out->namespaces = defaults;
    out->n_namespaces = sizeof defaults / sizeof defaults[0];
}

static void free_ns(ns_entry *ns, size_t n)
{
    for (size_t i = 0; i < n; i++) free(ns[i].prefix);
    free(ns);
}

static int check_prefix(const char *p)
{
    if (!p) return bs__error_set(BS_ERR_INVALID, "namespace prefix is NULL");
    size_t len = strlen(p);
    if (len == 0) return 0;
    char tmp[BS_NAME_BUF];
    if (len >= sizeof tmp) return bs__error_set(BS_ERR_INVALID, "namespace too long: %.40s...", p);
    memcpy(tmp, p, len + 1);
    if (tmp[len - 1] == '/') tmp[--len] = '\0';
    if (!len || bs__name_validate(tmp))
        return bs__error_set(BS_ERR_INVALID, "invalid namespace: '%s'", p);
    return 0;
}

static int cmp_ns(const void *a, const void *b)
{
    const ns_entry *x = a, *y = b;
    if (x->len != y->len) return x->len > y->len ? -1 : 1;
    return strcmp(x->prefix, y->prefix);
}

/* Validates and copies a configuration, sorted longest prefix first. */
static int copy_config(ns_entry **out, const bs_store_namespace *nss, size_t n)
{
    *out = NULL;
    if (!nss || n == 0)
        return bs__error_set(BS_ERR_INVALID, "no namespaces configured");
    ns_entry *ns = calloc(n, sizeof *ns);
    if (!ns) return bs__error_set(BS_ERR_NOMEM, NULL);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if ((rc = check_prefix(nss[i].prefix))) break;
        if (nss[i].nlevels < 1 || nss[i].nlevels > BS_STORE_LEVELS_MAX) {
            rc = bs__error_set(BS_ERR_INVALID, "namespace '%s': need 1 to %d levels, got %zu",
                               nss[i].prefix, BS_STORE_LEVELS_MAX, nss[i].nlevels);
            break;
        }
        for (size_t l = 0; l < nss[i].nlevels; l++)
            if (nss[i].levels[l] < 0 || nss[i].levels[l] > BS_STORE_LEVEL_MAX) {
                rc = bs__error_set(BS_ERR_INVALID, "namespace '%s': level %d not in 0..%d",
                                   nss[i].prefix, nss[i].levels[l], BS_STORE_LEVEL_MAX);
                break;
            }
        if (rc) break;
        if (!(ns[i].prefix = strdup(nss[i].prefix))) {
            rc = bs__error_set(BS_ERR_NOMEM, NULL);
            break;
        }
        ns[i].len = strlen(ns[i].prefix);
        memcpy(ns[i].levels, nss[i].levels, sizeof ns[i].levels);
        ns[i].nlevels = nss[i].nlevels;
    }
    if (!rc) {
        qsort(ns, n, sizeof *ns, cmp_ns);
        for (size_t i = 1; i < n && !rc; i++)
            if (!strcmp(ns[i].prefix, ns[i - 1].prefix))
                rc = bs__error_set(BS_ERR_INVALID, "namespace '%s' configured twice",
                                   ns[i].prefix);
    }
    if (rc) {
        free_ns(ns, n);
        return rc;
    }
    *out = ns;
    return 0;
}

int bs_store_new_from_backend(bs_store **out, bs_backend *backend, const bs_store_config *cfg)
{
    *out = NULL;
    if (!backend) return bs__error_set(BS_ERR_INVALID, "no backend given");
    if (!cfg) return bs__error_set(BS_ERR_INVALID, "no store configuration given");
    bs_store *s = calloc(1, sizeof *s);
    if (!s) return bs__error_set(BS_ERR_NOMEM, NULL);
    int rc = copy_config(&s->ns, cfg->namespaces, cfg->n_namespaces);
    if (rc) {
        free(s);
        return rc;
    }
    s->n_ns = cfg->n_namespaces;
    if (pthread_mutex_init(&s->mu, NULL)) {
        free_ns(s->ns, s->n_ns);
        free(s);
        return bs__error_set(BS_ERR_NOMEM, "cannot create the store's mutex");
    }
    s->b = backend;
    double lat = env_number("BORGSTORE_LATENCY"), bw = env_number("BORGSTORE_BANDWIDTH");
    s->latency_ns = (uint64_t)(lat * 1000.0);
    s->bandwidth = bw / 8.0;
    *out = s;
    return 0;
}

int bs_store_new(bs_store **out, const char *url, const bs_store_config *cfg)
{
    *out = NULL;
    if (!cfg) return bs__error_set(BS_ERR_INVALID, "no store configuration given");
    /* check the configuration before building a backend (which might connect) */
    ns_entry *probe;
    int rc = copy_config(&probe, cfg->namespaces, cfg->n_namespaces);
    if (rc) return rc;
    free_ns(probe, cfg->n_namespaces);
    bs_backend *b;
    if ((rc = bs_backend_new(&b, url, &cfg->backend))) return rc;
    if ((rc = bs_store_new_from_backend(out, b, cfg))) bs_backend_free(b);
    else if (!((*out)->url = strdup(url))) {
        bs_store_free(*out);
        *out = NULL;
        rc = bs__error_set(BS_ERR_NOMEM, NULL);
    }
    return rc;
}

void bs_store_free(bs_store *s)
{
    if (!s) return;
    if (s->cache && bs_backend_is_open(s->b)) bs__cache_close(s->cache);
    bs_backend_free(s->b);
    bs__cache_free(s->cache);
    free(s->url);
    free_ns(s->ns, s->n_ns);
    free(s->batch_ops);
    free(s->batch_names);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int bs_store_set_config(bs_store *s, const bs_store_namespace *namespaces, size_t n)
{
    ns_entry *ns;
    int rc = copy_config(&ns, namespaces, n);
    if (rc) return rc;
    pthread_mutex_lock(&s->mu);
    free_ns(s->ns, s->n_ns);
    s->ns = ns;
    s->n_ns = n;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

bs_backend *bs_store_backend(bs_store *s) { return s->b; }

/* ---- names ------------------------------------------------------------- */

/* Configured namespace of name (longest prefix), or NULL. */
static const ns_entry *ns_for(const bs_store *s, const char *name)
{
    for (size_t i = 0; i < s->n_ns; i++)
        if (!strncmp(name, s->ns[i].prefix, s->ns[i].len)) return &s->ns[i];
    return NULL;
}

static int check_name(const bs_store *s, const char *name, const ns_entry **ns)
{
    int rc = bs__name_validate(name);
    if (rc) return rc;
    if (!*name) return bs__error_set(BS_ERR_INVALID, "name must not be empty");
    if (!(*ns = ns_for(s, name)))
        return bs__error_set(BS_ERR_INVALID, "no namespace configured for: %s", name);
    return 0;
}

/* Python's find: one level -> nest directly; several -> probe each with info,
 * first hit wins, else the last level. */
int bs__store_find_locked(bs_store *s, const char *name, bool deleted, char out[BS_NAME_BUF])
{
    out[0] = '\0';
    const ns_entry *ns;
    int rc = check_name(s, name, &ns);
    if (rc) return rc;
    const char *suffix = deleted ? BS_DEL_SUFFIX : NULL;
    if (ns->nlevels == 1) return bs__nest(out, BS_NAME_BUF, name, ns->levels[0], suffix);
    for (size_t i = 0; i < ns->nlevels; i++) {
        if ((rc = bs__nest(out, BS_NAME_BUF, name, ns->levels[i], suffix))) return rc;
        bs_item_info info;
        if ((rc = bs_backend_info(s->b, out, &info))) return rc;
        if (info.exists) break;
    }
    return 0;
}

/* Backend said "not found" about a nested name: say it about the Store name. */
int bs__store_not_found(int rc, const char *name, bool deleted)
{
    if (rc != BS_ERR_NOT_FOUND) return rc;
    return bs__error_set(BS_ERR_NOT_FOUND, "%s%s", name, deleted ? " (soft-deleted)" : "");
}

/* Last path component of name without a ".del" suffix when strip_del. */
static void key_of(char *out, size_t cap, const char *name, bool strip_del)
{
    const char *slash = strrchr(name, '/');
    const char *key = slash ? slash + 1 : name;
    size_t len = strlen(key);
    if (strip_del && bs__ends_with(key, BS_DEL_SUFFIX)) len -= strlen(BS_DEL_SUFFIX);
    snprintf(out, cap, "%.*s", (int)len, key);
}

/* ---- lifecycle ----------------------------------------------------------- */

/* Directories of the deepest level of every namespace (Python's
 * create_levels). Backend must be open. */
static int create_levels_locked(bs_store *s)
{
    for (size_t i = 0; i < s->n_ns; i++) {
        const ns_entry *ns = &s->ns[i];
        char base[BS_NAME_BUF];
        snprintf(base, sizeof base, "%s", ns->prefix);
        size_t blen = strlen(base);
        if (blen && base[blen - 1] == '/') base[--blen] = '\0';
        int level = 0;
        for (size_t l = 0; l < ns->nlevels; l++)
            if (ns->levels[l] > level) level = ns->levels[l];
        int rc;
        if (level == 0) {
            if (blen && (rc = bs_backend_mkdir(s->b, base))) return rc;
            continue;
        }
        if (level > PRECREATE_LEVEL_MAX)
            return bs__error_set(BS_ERR_INVALID,
                                 "namespace '%s': will not pre-create 256^%d directories",
                                 ns->prefix, level);
        uint64_t limit = 1ull << (8 * level);
        for (uint64_t n = 0; n < limit; n++) {
            char dir[BS_NAME_BUF];
            size_t o = (size_t)snprintf(dir, sizeof dir, "%s%s", base, blen ? "/" : "");
            for (int l = level - 1; l >= 0; l--) {
                o += (size_t)snprintf(dir + o, sizeof dir - o, "%02x%s",
                                      (unsigned)((n >> (8 * l)) & 0xff), l ? "/" : "");
            }
            if ((rc = bs_backend_mkdir(s->b, dir))) return rc;
        }
    }
    return 0;
}

int bs_store_create_levels(bs_store *s)
{
    pthread_mutex_lock(&s->mu);
    bool was_open = bs_backend_is_open(s->b);
    int rc = was_open ? 0 : bs_backend_open(s->b);
    if (!rc) rc = create_levels_locked(s);
    if (!was_open && bs_backend_is_open(s->b)) {
        int rc2 = bs_backend_close(s->b);
        s->generation++;
        if (!rc) rc = rc2;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int bs_store_create(bs_store *s, unsigned flags)
{
    if (flags & ~BS_STORE_CREATE_PRECREATE)
        return bs__error_set(BS_ERR_INVALID, "unknown create flags 0x%x", flags);
    pthread_mutex_lock(&s->mu);
    int rc = bs_backend_create(s->b);
    if (!rc) bs__cache_purge(s->cache); /* entries of an earlier store at this URL */
    pthread_mutex_unlock(&s->mu);
    if (!rc && (flags & BS_STORE_CREATE_PRECREATE)) rc = bs_store_create_levels(s);
    return rc;
}

int bs_store_destroy(bs_store *s)
{
    pthread_mutex_lock(&s->mu);
    int rc = bs_backend_destroy(s->b);
    if (!rc) bs__cache_purge(s->cache); /* only this store's part of the cache */
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int bs_store_open(bs_store *s)
{
    pthread_mutex_lock(&s->mu);
    int rc = bs_backend_open(s->b);
    if (!rc) bs__cache_open(s->cache);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int bs_store_close(bs_store *s)
{
    pthread_mutex_lock(&s->mu);
    /* fire-and-forget operations finish (and report) before the close */
    int frc = bs_backend_is_open(s->b) ? bs_backend_flush(s->b, NULL) : 0;
    char fmsg[512];
    snprintf(fmsg, sizeof fmsg, "%s", bs_error_message());
    if (bs_backend_is_open(s->b)) bs__cache_close(s->cache);
    int rc = bs_backend_close(s->b);
    if (!rc && frc) rc = bs__error_set_raw(frc, 0, fmsg);
    s->generation++;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

bool bs_store_is_open(bs_store *s)
{
    pthread_mutex_lock(&s->mu);
    bool open = bs_backend_is_open(s->b);
    pthread_mutex_unlock(&s->mu);
    return open;
}

/* ---- item operations ----------------------------------------------------- */

int bs_store_find(bs_store *s, const char *name, bool deleted, char out[BS_NAME_BUF])
{
    pthread_mutex_lock(&s->mu);
    int rc = bs__store_find_locked(s, name, deleted, out);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int bs_store_info(bs_store *s, const char *name, bool deleted, bs_item_info *out)
{
    memset(out, 0, sizeof *out);
    char nested[BS_NAME_BUF];
    uint64_t start = bs__store_call_begin(s);
    int rc = bs__store_find_locked(s, name, deleted, nested);
    if (!rc) rc = bs_backend_info(s->b, nested, out);
    if (!rc) key_of(out->name, sizeof out->name, nested, deleted);
    /* emulated from start, find's info probes included */
    return bs__store_call_end(s, rc, OP_INFO, start, start, 0);
}

int bs_store_load(bs_store *s, const char *name, int64_t offset, int64_t size, bool deleted,
                  uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    char nested[BS_NAME_BUF];
    uint64_t start = bs__store_call_begin(s);
    int rc = bs__store_find_locked(s, name, deleted, nested);
    uint64_t t0 = bs__store_now_ns();
    cache_ns *cp = rc ? NULL : bs__cache_policy(s->cache, name);
    if (cp) return bs__cache_load(s, cp, name, nested, deleted, offset, size, out, out_len, start, t0);
    if (!rc) {
        s->be_load_calls++; /* failed backend calls count too */
        rc = bs_backend_load(s->b, nested, offset, size, out, out_len);
        rc = bs__store_not_found(rc, name, deleted);
    }
    return bs__store_call_end(s, rc, OP_LOAD, start, t0, *out_len);
}

int bs_store_store(bs_store *s, const char *name, const void *data, size_t len)
{
    if (!data && len) return bs__error_set(BS_ERR_INVALID, "NULL data for %s", name);
    char nested[BS_NAME_BUF];
    uint64_t start = bs__store_call_begin(s);
    int rc = bs__store_find_locked(s, name, false, nested);
    uint64_t t0 = bs__store_now_ns();
    if (!rc) {
        s->be_store_calls++;
        rc = bs_backend_store(s->b, nested, data, len);
        if (!rc) bs__cache_after_store(s->cache, name, nested, data, len);
    }
    return bs__store_call_end(s, rc, OP_STORE, start, t0, len);
}

int bs_store_delete(bs_store *s, const char *name, bool deleted)
{
    char nested[BS_NAME_BUF];
    uint64_t start = bs__store_call_begin(s);
    int rc = bs__store_find_locked(s, name, deleted, nested);
    uint64_t t0 = bs__store_now_ns();
    if (!rc) {
        s->be_delete_calls++;
        rc = bs__store_not_found(bs_backend_delete(s->b, nested), name, deleted);
        if (!rc) bs__cache_after_delete(s->cache, name, nested);
    }
    return bs__store_call_end(s, rc, OP_DELETE, start, t0, 0);
}

/* Source and target backend names of a move (Python's Store.move). */
int bs__store_move_names(bs_store *s, const char *name, const char *new_name, bs_move_mode mode,
                      bool deleted, char cur[BS_NAME_BUF], char dst[BS_NAME_BUF],
                      bool *src_deleted)
{
    int rc;
    size_t dl = strlen(BS_DEL_SUFFIX);
    switch (mode) {
    case BS_MOVE_SOFT_DELETE:
        *src_deleted = false;
        if ((rc = bs__store_find_locked(s, name, false, cur))) return rc;
        if (strlen(cur) + dl >= BS_NAME_BUF)
            return bs__error_set(BS_ERR_INVALID, "name too long to soft-delete: %s", name);
        snprintf(dst, BS_NAME_BUF, "%s%s", cur, BS_DEL_SUFFIX);
        return 0;
    case BS_MOVE_UNDELETE:
        *src_deleted = true;
        if ((rc = bs__store_find_locked(s, name, true, cur))) return rc;
        snprintf(dst, BS_NAME_BUF, "%.*s", (int)(strlen(cur) - dl), cur);
        return 0;
    case BS_MOVE_CHANGE_LEVEL: {
        *src_deleted = deleted;
        if ((rc = bs__store_find_locked(s, name, deleted, cur))) return rc;
        const ns_entry *ns = ns_for(s, name); /* checked by find */
        return bs__nest(dst, BS_NAME_BUF, name, ns->levels[ns->nlevels - 1],
                        deleted ? BS_DEL_SUFFIX : NULL);
    }
    case BS_MOVE_RENAME:
        *src_deleted = deleted;
        if (!new_name || !*new_name)
            return bs__error_set(BS_ERR_INVALID, "rename of %s needs a new name", name);
        if ((rc = bs__store_find_locked(s, name, deleted, cur))) return rc;
        return bs__store_find_locked(s, new_name, deleted, dst);
    }
    return bs__error_set(BS_ERR_INVALID, "unknown move mode %d", (int)mode);
}

int bs_store_move(bs_store *s, const char *name, const char *new_name, bs_move_mode mode,
                  bool deleted)
{
    char cur[BS_NAME_BUF], dst[BS_NAME_BUF];
    bool src_deleted = false;
    uint64_t start = bs__store_call_begin(s);
    int rc = bs__store_move_names(s, name, new_name, mode, deleted, cur, dst, &src_deleted);
    uint64_t t0 = bs__store_now_ns();
    if (!rc) rc = bs__store_not_found(bs_backend_move(s->b, cur, dst), name, src_deleted);
    if (!rc) bs__cache_after_move(s->cache, name, mode == BS_MOVE_RENAME ? new_name : name, cur, dst);
    return bs__store_call_end(s, rc, OP_MOVE, start, t0, 0);
}

int bs_store_hash(bs_store *s, const char *name, bs_hash_alg alg, bool deleted,
                  char hex[BS_HASH_HEX_SIZE])
{
    hex[0] = '\0';
    char nested[BS_NAME_BUF];
    uint64_t start = bs__store_call_begin(s);
    int rc = bs__store_find_locked(s, name, deleted, nested);
    uint64_t t0 = bs__store_now_ns();
    if (!rc) rc = bs__store_not_found(bs_backend_hash(s->b, nested, alg, hex), name, deleted);
    return bs__store_call_end(s, rc, OP_HASH, start, t0, 0);
}

int bs_store_defrag(bs_store *s, const char *ns, const bs_store_block *src, size_t n,
                    const char *target, bs_hash_alg alg, bool deleted,
                    char out_key[BS_NAME_BUF])
{
    out_key[0] = '\0';
    if (n && !src) return bs__error_set(BS_ERR_INVALID, "defrag sources are NULL");
    char prefix[BS_NAME_BUF];
    size_t plen = (size_t)snprintf(prefix, sizeof prefix, "%s", ns ? ns : "");
    if (plen >= sizeof prefix - 1) return bs__error_set(BS_ERR_INVALID, "namespace too long");
    while (plen && prefix[plen - 1] == '/') prefix[--plen] = '\0';
    char ns_plain[BS_NAME_BUF];
    memcpy(ns_plain, prefix, plen + 1);
    if (plen) {
        prefix[plen++] = '/';
        prefix[plen] = '\0';
    }
    if (target && strchr(target, '/'))
        return bs__error_set(BS_ERR_INVALID,
                             "defrag target must not contain '/' (namespace is separate): %s",
                             target);
    bs_defrag_source *mapped = calloc(n ? n : 1, sizeof *mapped);
    char (*names)[BS_NAME_BUF] = calloc(n ? n : 1, BS_NAME_BUF);
    if (!mapped || !names) {
        free(mapped);
        free(names);
        return bs__error_set(BS_ERR_NOMEM, NULL);
    }
    pthread_mutex_lock(&s->mu);
    int rc = 0;
    char full[2 * BS_NAME_BUF];
    for (size_t i = 0; i < n && !rc; i++) {
        if (!src[i].name || strchr(src[i].name, '/')) {
            rc = bs__error_set(BS_ERR_INVALID,
                               "defrag source must be a key without '/': %s",
                               src[i].name ? src[i].name : "(null)");
            break;
        }
        snprintf(full, sizeof full, "%s%s", prefix, src[i].name);
        rc = bs__store_find_locked(s, full, deleted, names[i]);
        mapped[i] = (bs_defrag_source){names[i], src[i].offset, src[i].size};
    }
    char nested_target[BS_NAME_BUF];
    if (!rc && target) {
        snprintf(full, sizeof full, "%s%s", prefix, target);
        rc = bs__store_find_locked(s, full, deleted, nested_target);
    }
    int levels = 0;
    if (!rc && plen) {
        const ns_entry *e = ns_for(s, prefix);
        if (!e) rc = bs__error_set(BS_ERR_INVALID, "no namespace configured for: %s", prefix);
        else levels = e->levels[e->nlevels - 1];
    }
    char out_name[BS_NAME_BUF];
    if (!rc)
        rc = bs_backend_defrag(s->b, mapped, n, target ? nested_target : NULL, alg, ns_plain,
                               levels, out_name);
    if (!rc) key_of(out_key, BS_NAME_BUF, out_name, deleted && target);
    if (!rc) { /* a replaced target must not be served from the cache */
        snprintf(full, sizeof full, "%s%s", prefix, out_key);
        bs__cache_after_delete(s->cache, full, out_name);
    }
    pthread_mutex_unlock(&s->mu);
    free(mapped);
    free(names);
    return rc;
}

int bs_store_quota(bs_store *s, bs_quota *out)
{
    pthread_mutex_lock(&s->mu);
    int rc = bs_backend_quota(s->b, out);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* ---- listing ------------------------------------------------------------- */

typedef struct list_frame {
    bs_list_iter *it;
    char dir[BS_NAME_BUF];
} list_frame;

struct bs_store_list_iter {
    bs_store *s;
    uint64_t generation;
    bool deleted;
    bool done;
    int err;
    char ns[BS_NAME_BUF];
    list_frame *stack;
    size_t depth, cap;
    char last_dir[BS_NAME_BUF]; /* where the last item returned was found */
};

/* Opens a backend listing of dir and pushes it (mutex held). Adds the
 * emulated latency once per backend listing, as Python's _list does. */
static int push_dir(bs_store_list_iter *it, const char *dir)
{
    bs_store *s = it->s;
    if (it->depth == it->cap) {
        size_t cap = it->cap ? it->cap * 2 : 4;
        list_frame *st = realloc(it->stack, cap * sizeof *st);
        if (!st) return bs__error_set(BS_ERR_NOMEM, NULL);
        it->stack = st;
        it->cap = cap;
    }
    list_frame *f = &it->stack[it->depth];
    uint64_t t0 = bs__store_now_ns();
    int rc = bs_backend_list_begin(s->b, dir, &f->it);
    if (s->latency_ns) sleep_until(bs__store_now_ns() + s->latency_ns);
    s->time_ns[OP_LIST] += bs__store_now_ns() - t0;
    if (rc) return rc;
    snprintf(f->dir, sizeof f->dir, "%s", dir);
    it->depth++;
    return 0;
}

static void pop_dir(bs_store_list_iter *it)
{
    bs_backend_list_end(it->stack[--it->depth].it);
}

int bs_store_list_begin(bs_store *s, const char *ns, bool deleted, bs_store_list_iter **out)
{
    *out = NULL;
    if (!ns) return bs__error_set(BS_ERR_INVALID, "namespace is NULL");
    bs_store_list_iter *it = calloc(1, sizeof *it);
    if (!it) return bs__error_set(BS_ERR_NOMEM, NULL);
    it->s = s;
    it->deleted = deleted;
    size_t len = strlen(ns);
    while (len && ns[len - 1] == '/') len--;
    int rc = 0;
    if (len >= sizeof it->ns) rc = bs__error_set(BS_ERR_INVALID, "namespace too long");
    else {
        memcpy(it->ns, ns, len);
        it->ns[len] = '\0';
        rc = bs__name_validate(it->ns);
    }
    pthread_mutex_lock(&s->mu);
    if (!rc && !bs_backend_is_open(s->b)) rc = bs__error_set(BS_ERR_MUST_BE_OPEN, NULL);
    if (!rc) {
        s->calls[OP_LIST]++; /* counted when started, as Python does */
        it->generation = s->generation;
        rc = push_dir(it, it->ns);
        if (rc == BS_ERR_NOT_FOUND)
            rc = bs__error_set(BS_ERR_NOT_FOUND, "namespace %s", *it->ns ? it->ns : "(root)");
    }
    pthread_mutex_unlock(&s->mu);
    if (rc) {
        free(it->stack);
        free(it);
        return rc;
    }
    *out = it;
    return 0;
}

/* One step with the mutex held. */
static int list_step(bs_store_list_iter *it, bs_item_info *out)
{
    bs_store *s = it->s;
    if (it->generation != s->generation || !bs_backend_is_open(s->b))
        return bs__error_set(BS_ERR_MUST_BE_OPEN, "store was closed while listing %s",
                             *it->ns ? it->ns : "(root)");
    while (it->depth) {
        list_frame *f = &it->stack[it->depth - 1];
        uint64_t t0 = bs__store_now_ns();
        int rc = bs_backend_list_next(f->it, out);
        s->time_ns[OP_LIST] += bs__store_now_ns() - t0;
        if (rc < 0) return rc;
        if (rc == 0) {
            pop_dir(it);
            continue;
        }
        if (out->directory) {
            char sub[BS_NAME_BUF];
            int n = snprintf(sub, sizeof sub, "%s%s%s", f->dir, *f->dir ? "/" : "", out->name);
            if (n < 0 || (size_t)n >= sizeof sub)
                return bs__error_set(BS_ERR_INVALID, "directory name too long below %s",
                                     f->dir);
            rc = push_dir(it, sub);
            /* gone since its parent was listed (removed concurrently): skip */
            if (rc == BS_ERR_NOT_FOUND) continue;
            if (rc) return rc;
            continue;
        }
        bool is_deleted = bs__ends_with(out->name, BS_DEL_SUFFIX);
        if (it->deleted != is_deleted) continue;
        if (is_deleted) out->name[strlen(out->name) - strlen(BS_DEL_SUFFIX)] = '\0';
        memcpy(it->last_dir, f->dir, sizeof it->last_dir);
        return 1;
    }
    return 0;
}

int bs_store_list_next(bs_store_list_iter *it, bs_item_info *out)
{
    memset(out, 0, sizeof *out);
    if (it->err) {
        return bs__error_set(it->err, "listing %s failed before",
                             *it->ns ? it->ns : "(root)");
    }
    if (it->done) return 0;
    pthread_mutex_lock(&it->s->mu);
    int rc = list_step(it, out);
    pthread_mutex_unlock(&it->s->mu);
    if (rc < 0) {
        it->err = rc;
        memset(out, 0, sizeof *out);
    } else if (rc == 0) {
        it->done = true;
    }
    return rc;
}

const char *bs_store_list_dir(const bs_store_list_iter *it)
{
    return it->last_dir;
}

void bs_store_list_end(bs_store_list_iter *it)
{
    if (!it) return;
    if (it->depth) {
        pthread_mutex_lock(&it->s->mu);
        while (it->depth) pop_dir(it);
        pthread_mutex_unlock(&it->s->mu);
    }
    free(it->stack);
    free(it);
}

/* ---- stats ---------------------------------------------------------------- */

void bs_store_stats_get(bs_store *s, bs_store_stats *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->mu);
    out->info_calls = s->calls[OP_INFO];
    out->load_calls = s->calls[OP_LOAD];
    out->store_calls = s->calls[OP_STORE];
    out->delete_calls = s->calls[OP_DELETE];
    out->move_calls = s->calls[OP_MOVE];
    out->list_calls = s->calls[OP_LIST];
    out->hash_calls = s->calls[OP_HASH];
    out->info_time = (double)s->time_ns[OP_INFO] / 1e9;
    out->load_time = (double)s->time_ns[OP_LOAD] / 1e9;
    out->store_time = (double)s->time_ns[OP_STORE] / 1e9;
    out->delete_time = (double)s->time_ns[OP_DELETE] / 1e9;
    out->move_time = (double)s->time_ns[OP_MOVE] / 1e9;
    out->list_time = (double)s->time_ns[OP_LIST] / 1e9;
    out->hash_time = (double)s->time_ns[OP_HASH] / 1e9;
    out->load_volume = s->load_volume;
    out->store_volume = s->store_volume;
    out->backend_load_calls = s->be_load_calls;
    out->backend_store_calls = s->be_store_calls;
    out->backend_delete_calls = s->be_delete_calls;
    out->backend_load_volume = s->be_load_volume;
    out->backend_store_volume = s->be_store_volume;
    bs__cache_stats(s->cache, out);
    pthread_mutex_unlock(&s->mu);
    out->load_throughput = out->load_time > 0 ? (double)out->load_volume / out->load_time : 0;
    out->store_throughput =
        out->store_time > 0 ? (double)out->store_volume / out->store_time : 0;
}

uint64_t bs__store_value_limit(bs_store *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t lim = bs__backend_value_limit(s->b);
    pthread_mutex_unlock(&s->mu);
    return lim;
}
