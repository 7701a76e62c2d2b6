/* The posix backend's directory fd cache (see posix_dircache.h): a fixed
 * array of slots swept by a clock hand, indexed by a chained hash of the
 * relative name, plus a short list of the fds pinned by the operation that
 * is running (at most a handful: move and defrag hold two or three). */
#include "backends/posix_dircache.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "borgstore/backend.h"

#define PIN_MAX 8
#define CAP_MIN 16

typedef struct entry {
    int fd;          /* -1: free slot */
    int next;        /* next slot in the hash chain, -1 ends it */
    uint32_t hash;
    unsigned pins;
    bool ref;        /* used since the clock hand last passed */
    bool doomed;     /* forgotten while pinned: out of the index, closed at release */
    bool has_ident;
    dev_t dev;
    ino_t ino;
    char rel[BS_NAME_BUF];
} entry;

struct bs_dircache {
    size_t cap, used, hand, nbuckets;
    int *buckets;
    struct {
        int fd, slot;
    } pins[PIN_MAX];
    size_t npins;
    entry e[];
};

size_t bs__dircache_default_cap(void)
{
    struct rlimit rl;
    size_t cap = BS_DIRCACHE_MAX;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur / 4 < cap)
        cap = (size_t)rl.rlim_cur / 4;
    return cap < CAP_MIN ? CAP_MIN : cap;
}

static uint32_t hash_of(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

bs_dircache *bs__dircache_new(size_t cap)
{
    if (cap < CAP_MIN) cap = CAP_MIN;
    if (cap > BS_DIRCACHE_MAX) cap = BS_DIRCACHE_MAX;
    bs_dircache *c = calloc(1, sizeof *c + cap * sizeof(entry));
    if (!c) return NULL;
    c->cap = cap;
    c->nbuckets = 1;
    while (c->nbuckets < 2 * cap) c->nbuckets <<= 1;
    c->buckets = malloc(c->nbuckets * sizeof *c->buckets);
    if (!c->buckets) {
        free(c);
        return NULL;
    }
    for (size_t i = 0; i < c->nbuckets; i++) c->buckets[i] = -1;
    for (size_t i = 0; i < cap; i++) c->e[i].fd = -1;
    return c;
}

void bs__dircache_free(bs_dircache *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->cap; i++)
        if (c->e[i].fd >= 0) close(c->e[i].fd);
    free(c->buckets);
    free(c);
}

static int *bucket_of(bs_dircache *c, uint32_t hash)
{
    return &c->buckets[hash & (c->nbuckets - 1)];
}

static int find(bs_dircache *c, const char *rel, uint32_t hash)
{
    for (int s = *bucket_of(c, hash); s >= 0; s = c->e[s].next)
        if (c->e[s].hash == hash && strcmp(c->e[s].rel, rel) == 0) return s;
    return -1;
}

static void unindex(bs_dircache *c, int slot)
{
    for (int *link = bucket_of(c, c->e[slot].hash); *link >= 0; link = &c->e[*link].next) {
        if (*link == slot) {
            *link = c->e[slot].next;
            break;
        }
    }
    c->e[slot].next = -1;
}

static void release_slot(bs_dircache *c, int slot)
{
    close(c->e[slot].fd);
    c->e[slot].fd = -1;
    c->e[slot].doomed = false;
    c->used--;
}

/* Out of the index; closed now unless pinned (then at its last release). */
static void drop(bs_dircache *c, int slot)
{
    entry *e = &c->e[slot];
    if (e->fd < 0 || e->doomed) return;
    unindex(c, slot);
    if (e->pins) e->doomed = true;
    else release_slot(c, slot);
}

static bool pin(bs_dircache *c, int slot)
{
    if (c->npins == PIN_MAX) return false;
    c->pins[c->npins].fd = c->e[slot].fd;
    c->pins[c->npins].slot = slot;
    c->npins++;
    c->e[slot].pins++;
    c->e[slot].ref = true;
    return true;
}

int bs__dircache_lookup(bs_dircache *c, const char *rel)
{
    if (!c) return -1;
    int slot = find(c, rel, hash_of(rel));
    if (slot < 0 || !pin(c, slot)) return -1;
    return c->e[slot].fd;
}

/* A free slot, or an unpinned one not used since the hand last passed
 * (evicted) once the cache is full. -1 when everything is pinned. */
static int take_slot(bs_dircache *c)
{
    bool full = c->used >= c->cap;
    for (size_t step = 0; step < 2 * c->cap + 1; step++) {
        int s = (int)c->hand;
        c->hand = (c->hand + 1) % c->cap;
        entry *e = &c->e[s];
        if (e->fd < 0) return s;
        if (!full || e->pins || e->doomed) continue;
        if (e->ref) {
            e->ref = false;
            continue;
        }
        drop(c, s);
        return s;
    }
    return -1;
}

bool bs__dircache_insert(bs_dircache *c, const char *rel, int fd)
{
    size_t len = strlen(rel);
    if (!c || fd < 0 || len >= BS_NAME_BUF || c->npins == PIN_MAX) return false;
    uint32_t hash = hash_of(rel);
    int old = find(c, rel, hash);
    if (old >= 0) drop(c, old); /* the newer resolution wins */
    int s = take_slot(c);
    if (s < 0) return false;
    entry *e = &c->e[s];
    memset(e, 0, sizeof *e);
    e->fd = fd;
    e->hash = hash;
    memcpy(e->rel, rel, len + 1);
    int *head = bucket_of(c, hash);
    e->next = *head;
    *head = s;
    c->used++;
    pin(c, s);
    return true;
}

static int pinned_slot(const bs_dircache *c, int fd, size_t *at)
{
    for (size_t i = c->npins; i-- > 0;) {
        if (c->pins[i].fd == fd) {
            if (at) *at = i;
            return c->pins[i].slot;
        }
    }
    return -1;
}

bool bs__dircache_release(bs_dircache *c, int fd)
{
    if (!c) return false;
    size_t at;
    int slot = pinned_slot(c, fd, &at);
    if (slot < 0) return false;
    c->pins[at] = c->pins[--c->npins];
    entry *e = &c->e[slot];
    if (--e->pins == 0 && e->doomed) release_slot(c, slot);
    return true;
}

void bs__dircache_forget(bs_dircache *c, const char *rel)
{
    if (!c) return;
    int slot = find(c, rel, hash_of(rel));
    if (slot >= 0) drop(c, slot);
}

void bs__dircache_forget_tree(bs_dircache *c, const char *rel)
{
    if (!c) return;
    size_t len = strlen(rel);
    for (size_t i = 0; i < c->cap; i++) {
        const entry *e = &c->e[i];
        if (e->fd >= 0 && !e->doomed && strncmp(e->rel, rel, len) == 0 &&
            (e->rel[len] == '\0' || e->rel[len] == '/'))
            drop(c, (int)i);
    }
}

size_t bs__dircache_clear(bs_dircache *c)
{
    if (!c) return 0;
    size_t before = c->used;
    for (size_t i = 0; i < c->cap; i++) drop(c, (int)i);
    return before - c->used;
}

int bs__dircache_ident(bs_dircache *c, int fd, dev_t *dev, ino_t *ino)
{
    int slot = c ? pinned_slot(c, fd, NULL) : -1;
    if (slot < 0) {
        errno = EBADF;
        return -1;
    }
    entry *e = &c->e[slot];
    if (!e->has_ident) {
        struct stat st;
        if (fstat(fd, &st) < 0) return -1;
        e->dev = st.st_dev;
        e->ino = st.st_ino;
        e->has_ident = true;
    }
    *dev = e->dev;
    *ino = e->ino;
    return 0;
}

size_t bs__dircache_size(const bs_dircache *c)
{
    return c ? c->used : 0;
}
