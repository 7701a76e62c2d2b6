/* The server core every protocol front-end shares: making the backend
 * serve a client's store, placed beneath the operator's restriction roots. */
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "server/place.h"
#include "server/serve.h"

/* Makes s->backend serve the client's path, placed beneath the restriction
 * roots once (place.h): the backend works from the handles, never from the
 * path. make: create the missing parent directories (create). */
int serve_use_path(serve *s, const char *path, bool make)
{
    if (s->opt->backend_url) return 0; /* pinned: the client's path is ignored */
    serve_place pl;
    int rc = serve_place_store(&pl, s->opt, path, make);
    if (rc) return rc;
    bs_backend_free(s->backend);
    s->backend = NULL;
    free(s->backend_path);
    s->backend_path = NULL;
    bs_posix_place where = {.parentfd = pl.parentfd, .leaf = pl.leaf, .quotafd = pl.quotafd,
                            .perm_prefix = pl.prefix, .quota_min = SERVE_QUOTA_MIN};
    bs_backend_config cfg = {.permissions = s->opt->permissions, .quota = s->opt->quota};
    rc = bs__posixfs_new_at(&s->backend, &where, &cfg);
    serve_place_release(&pl);
    if (rc) return rc;
    /* every front-end's bounds (the msgpack one narrows value_max per load
     * to the client's limit too): defrag results and loads by --max-value,
     * a listing by --list-memory */
    s->backend->value_max = s->opt->max_value;
    s->backend->list_max = (size_t)(s->opt->list_memory / sizeof(bs_item_info));
    if (!(s->backend_path = strdup(pl.resolved))) return bs__error_set(BS_ERR_NOMEM, NULL);
    serve_log(s, BS_LOG_DEBUG, "serving %s", pl.resolved);
    return 0;
}
