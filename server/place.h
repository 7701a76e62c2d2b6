/* Placing a client's store beneath the operator's restriction roots: the
 * roots are opened once at startup, and a store is then reached from them
 * component by component without following any symlink, so that nothing
 * swapped in after the path was checked (by the client's other connection
 * or by another local user) can lead outside. The backend gets the handles
 * (bs__posixfs_new_at) and never resolves the path by name again. */
#ifndef BS_SERVER_PLACE_H
#define BS_SERVER_PLACE_H

#include <limits.h>
#include <stdbool.h>

#include "server/serve.h"

/* Where a store is, as handles (release with serve_place_release). */
typedef struct serve_place {
    int parentfd;              /* directory holding the store */
    char leaf[NAME_MAX + 1];   /* its name there; "" = parentfd is the store */
    int quotafd;               /* the restriction root's quota account, or -1 */
    char prefix[PATH_MAX];     /* permissions anchor: names match "prefix/name" */
    char resolved[PATH_MAX];   /* the canonical path (logs, scrubbing) */
} serve_place;

/* Opens every restriction root (or "/" when there is none), each as its
 * deepest existing ancestor, into o->roots. Returns 0 or a BS_ERR_* code
 * with the message set. */
int serve_roots_open(serve_opts *o);
void serve_roots_close(serve_opts *o);

/* Resolves the client's path, checks it against the restrictions and walks
 * to it beneath the matching root: every component opened with O_NOFOLLOW,
 * the missing ones created one at a time when make (create). Returns 0,
 * BS_ERR_PERMISSION (not allowed, or a component is a symlink now),
 * BS_ERR_DOES_NOT_EXIST, BS_ERR_INVALID, or an errno-mapped code. */
int serve_place_store(serve_place *out, const serve_opts *o, const char *path, bool make);

void serve_place_release(serve_place *pl);

#endif
