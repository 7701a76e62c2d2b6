/* Streaming hash contexts (internal side of include/borgstore/hash.h).
 *
 * A context holds libcrypto state on the heap: every successful
 * bs__hash_init must be matched by bs__hash_final or bs__hash_abort. Both
 * leave the context empty, and abort is a no-op on an empty (or zeroed)
 * context, so error paths may simply always call it. */
#ifndef BS_COMMON_HASHING_H
#define BS_COMMON_HASHING_H

#include <stddef.h>
#include <stdint.h>

#include "borgstore/hash.h"

typedef struct bs_hash_ctx {
    bs_hash_alg alg;
    void *evp; /* EVP_MD_CTX *, NULL when empty */
} bs_hash_ctx;

/* Checks alg without starting anything. Returns 0 or BS_ERR_INVALID. */
int bs__hash_check(bs_hash_alg alg);
/* Starts a hash. Returns 0, BS_ERR_INVALID for an unknown algorithm or
 * BS_ERR_NOMEM; on failure the context is empty. */
int bs__hash_init(bs_hash_ctx *ctx, bs_hash_alg alg);
void bs__hash_update(bs_hash_ctx *ctx, const void *data, size_t len);
/* Writes the digest, empties the context and returns the digest size in
 * bytes. */
size_t bs__hash_final(bs_hash_ctx *ctx, uint8_t digest[BS_HASH_MAX_BYTES]);
/* Empties the context without a digest; no-op when it is empty. */
void bs__hash_abort(bs_hash_ctx *ctx);
/* Lowercase hex of len bytes into hex (2*len+1 bytes). */
void bs__hex(char *hex, const uint8_t *bin, size_t len);

#endif
