/* Growable byte buffer with overflow-checked growth. */
#ifndef BS_COMMON_BUF_H
#define BS_COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct bs_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} bs_buf;

/* Makes room for at least extra more bytes. 0 or BS_ERR_NOMEM. */
int bs__buf_reserve(bs_buf *b, size_t extra);
/* Appends len bytes. 0 or BS_ERR_NOMEM. */
int bs__buf_append(bs_buf *b, const void *data, size_t len);
/* Hands the bytes to the caller (never NULL on success, even when empty)
 * and resets b. NULL only when out of memory. */
uint8_t *bs__buf_steal(bs_buf *b, size_t *len);
void bs__buf_free(bs_buf *b);

#endif
