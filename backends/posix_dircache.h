/* A bounded cache of O_PATH directory fds of one open posix backend, keyed by
 * name relative to the base ("data/ab"), so hot operations skip resolving the
 * parent on every call. Pinned entries are never evicted. Single-threaded;
 * staleness is the caller's business (posixfs.c). */
#ifndef BS_BACKENDS_POSIX_DIRCACHE_H
#define BS_BACKENDS_POSIX_DIRCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct bs_dircache bs_dircache;

/* Hard upper bound of entries; the real capacity is also bounded by the fd
 * limit (see bs__dircache_default_cap). */
#define BS_DIRCACHE_MAX 512

/* Capacity fitting the process's fd limit: a quarter of RLIMIT_NOFILE,
 * between 16 and BS_DIRCACHE_MAX. */
size_t bs__dircache_default_cap(void);

/* New empty cache holding at most cap fds; NULL when out of memory (the
 * backend then works uncached). */
bs_dircache *bs__dircache_new(size_t cap);
/* Closes every fd and frees the cache (NULL is fine). */
void bs__dircache_free(bs_dircache *c);

/* The cached fd of rel, pinned until bs__dircache_release, or -1. */
int bs__dircache_lookup(bs_dircache *c, const char *rel);
/* Hands fd (an O_PATH fd of rel) to the cache, pinned, possibly evicting an
 * unpinned entry. false: not taken (the caller keeps and closes fd). */
bool bs__dircache_insert(bs_dircache *c, const char *rel, int fd);
/* Unpins fd. false: fd is not a pinned cached fd (the caller owns it). */
bool bs__dircache_release(bs_dircache *c, int fd);

/* Drops rel (closed now, or at its last release when pinned). */
void bs__dircache_forget(bs_dircache *c, const char *rel);
/* Drops rel and every entry below it ("rel/..."). */
void bs__dircache_forget_tree(bs_dircache *c, const char *rel);
/* Drops every entry (unpinned ones closed now): after EMFILE, or when the
 * resolution mode changed. Returns how many fds were closed now. */
size_t bs__dircache_clear(bs_dircache *c);

/* Device and inode of the pinned cached fd (fstat once, then remembered).
 * 0, or -1 with errno. */
int bs__dircache_ident(bs_dircache *c, int fd, dev_t *dev, ino_t *ino);

/* Number of fds the cache holds (tests). */
size_t bs__dircache_size(const bs_dircache *c);

#endif
