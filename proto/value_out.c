/* DATA frames with a trailing hash, hashed as they are written (see
 * value_out.h). */
#include "proto/value_out.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "proto/msg.h"

/* Lives from queuing until the trailer is written. */
typedef struct value_hasher {
    crypto_generichash_state state; /* needs 64-byte alignment: allocated so */
    uint8_t trailer[BS_DATA_TRAILER_LEN];
    void (*release)(void *);
    void *ctx;
} value_hasher;

static void hash_chunk(void *arg, const uint8_t *p, size_t n)
{
    value_hasher *h = arg;
    crypto_generichash_update(&h->state, p, n);
}

static void hash_final(void *arg, const uint8_t *p, size_t n)
{
    (void)p;
    (void)n;
    value_hasher *h = arg;
    uint8_t digest[BS_VALUE_HASH_LEN];
    crypto_generichash_final(&h->state, digest, sizeof digest);
    bs__data_trailer(h->trailer, digest);
}

static void value_done(void *arg)
{
    value_hasher *h = arg;
    if (h->release) h->release(h->ctx);
    free(h);
}

int bs__outq_value(bs__outq *q, uint32_t id, const uint8_t *data, size_t len, uint32_t max_frame,
                   void (*release)(void *), void *ctx)
{
    size_t chunk = bs__chunk_max(max_frame);
    if (len == 0 || max_frame < BS_FRAME_MIN) {
        if (release) release(ctx);
        if (len == 0)
            return bs__error_set(BS_ERR_INVALID, "an empty value is sent inline, not in DATA frames");
        return bs__error_set(BS_ERR_INVALID, "frame limit %u below the protocol minimum", max_frame);
    }
    size_t chunks = (len + chunk - 1) / chunk;
    /* 16: a DATA header's largest encoding plus the frame length */
    value_hasher *h = aligned_alloc(64, (sizeof *h + 63) / 64 * 64);
    if (!h || bs__outq_reserve(q, 2 * chunks + 1, 16 * chunks)) {
        free(h);
        if (release) release(ctx);
        return bs__error_set(BS_ERR_NOMEM, "queuing a %zu-byte value", len);
    }
    crypto_generichash_init(&h->state, NULL, 0, BS_VALUE_HASH_LEN);
    h->release = release;
    h->ctx = ctx;
    /* with the room reserved, nothing below can fail */
    bs_buf *arena = bs__outq_buf(q);
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        if (off + n < len) (void)bs__enc_data(arena, id, n, max_frame);
        else (void)bs__enc_data_last(arena, id, n, max_frame);
        (void)bs__outq_ref_prepared(q, data + off, n, hash_chunk, NULL, h);
    }
    (void)bs__outq_ref_prepared(q, h->trailer, sizeof h->trailer, hash_final, value_done, h);
    return 0;
}
