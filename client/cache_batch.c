/* Batch loads through the cache (bs_store_load_many): before the batch runs,
 * items a writethrough namespace has cached are answered locally and misses
 * of cached namespaces are widened to whole values; as their results come
 * in, those values fill the cache and are cut to the range asked for. So all
 * misses still go to the store in one pipelined batch. */
#include <string.h>

#include "client/cache.h"
#include "common/error.h"

int bs__cache_batch_prepare(bs_cache *c, const char *name, bs_op *op, int64_t offset,
                            int64_t size, bs_op_result *res)
{
    cache_ns *p = bs__cache_policy(c, name);
    char key[BS_NAME_BUF];
    if (!p || bs__cache_key(c, op->name, key)) return 0;
    if (p->mode == BS_CACHE_WRITETHROUGH &&
        bs__cache_try_load(c, p, key, offset, size, &res->data, &res->len)) {
        res->rc = 0;
        return 1;
    }
    op->offset = 0;
    op->size = BS_SIZE_ALL;
    return 0;
}

void bs__cache_batch_loaded(bs_cache *c, const char *name, const char *nested, int64_t offset,
                            int64_t size, bs_op_result *res)
{
    cache_ns *p = bs__cache_policy(c, name);
    char key[BS_NAME_BUF];
    if (!p || bs__cache_key(c, nested, key)) return; /* was not widened */
    bs__cache_after_full_load(c, p, key, res->data, res->len);
    int rc = bs__cache_slice(res->data, &res->len, offset, size, name);
    if (rc) {
        bs_free(res->data);
        res->data = NULL;
        res->len = 0;
        res->rc = rc;
        res->message = bs_error_message();
    }
}
