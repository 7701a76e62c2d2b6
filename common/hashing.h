/* Streaming hash contexts (internal side of include/borgstore/hash.h). */
#ifndef BS_COMMON_HASHING_H
#define BS_COMMON_HASHING_H

#include <sodium.h>

#include "borgstore/hash.h"

typedef struct bs_hash_ctx {
    bs_hash_alg alg;
    union {
        crypto_hash_sha256_state sha256;
        crypto_hash_sha512_state sha512;
        crypto_generichash_state blake2b;
    } u;
} bs_hash_ctx;

/* Starts a hash. Returns 0 or BS_ERR_INVALID for an unknown algorithm. */
int bs__hash_init(bs_hash_ctx *ctx, bs_hash_alg alg);
void bs__hash_update(bs_hash_ctx *ctx, const void *data, size_t len);
/* Writes the digest and returns its size in bytes. */
size_t bs__hash_final(bs_hash_ctx *ctx, uint8_t digest[BS_HASH_MAX_BYTES]);
/* Lowercase hex of len bytes into hex (2*len+1 bytes). */
void bs__hex(char *hex, const uint8_t *bin, size_t len);

#endif
