/* Growable byte buffer (see buf.h). */
#include "common/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

int bs__buf_reserve(bs_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len) return bs__error_set(BS_ERR_NOMEM, "buffer size overflow");
    size_t need = b->len + extra;
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p) return bs__error_set(BS_ERR_NOMEM, "cannot grow buffer to %zu bytes", cap);
    b->data = p;
    b->cap = cap;
    return 0;
}

int bs__buf_append(bs_buf *b, const void *data, size_t len)
{
    int rc = bs__buf_reserve(b, len);
    if (rc) return rc;
    if (len) memcpy(b->data + b->len, data, len);
    b->len += len;
    return 0;
}

uint8_t *bs__buf_steal(bs_buf *b, size_t *len)
{
    uint8_t *p = b->data ? b->data : malloc(1);
    *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void bs__buf_free(bs_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
