/* Content hashes via libsodium, named and formatted as Python hashlib does. */
#include "borgstore/hash.h"

#include <sodium.h>
#include <string.h>

#include "common/error.h"
#include "common/hashing.h"
#include "common/printable.h"

int bs_hash_alg_parse(const char *name, bs_hash_alg *out)
{
    static const char *const names[] = {"sha256", "sha512", "blake2b"};
    for (int i = 0; i < 3; i++)
        if (name && strcmp(name, names[i]) == 0) {
            *out = (bs_hash_alg)i;
            return 0;
        }
    char shown[4 * 32 + 1]; /* a peer's bytes: escaped, and only the start */
    bs__printable(shown, sizeof shown, name ? name : "(null)", name ? strnlen(name, 32) : 6);
    return bs__error_set(BS_ERR_INVALID, "unsupported hash algorithm: %s", shown);
}

const char *bs_hash_alg_name(bs_hash_alg alg)
{
    switch (alg) {
    case BS_HASH_SHA256: return "sha256";
    case BS_HASH_SHA512: return "sha512";
    case BS_HASH_BLAKE2B: return "blake2b";
    }
    return NULL;
}

size_t bs_hash_digest_size(bs_hash_alg alg)
{
    switch (alg) {
    case BS_HASH_SHA256: return crypto_hash_sha256_BYTES;
    case BS_HASH_SHA512: return crypto_hash_sha512_BYTES;
    case BS_HASH_BLAKE2B: return crypto_generichash_BYTES_MAX;
    }
    return 0;
}

int bs__hash_init(bs_hash_ctx *ctx, bs_hash_alg alg)
{
    if (sodium_init() < 0) return bs__error_set(BS_ERR_IO, "libsodium failed to initialize");
    ctx->alg = alg;
    switch (alg) {
    case BS_HASH_SHA256: crypto_hash_sha256_init(&ctx->u.sha256); return 0;
    case BS_HASH_SHA512: crypto_hash_sha512_init(&ctx->u.sha512); return 0;
    case BS_HASH_BLAKE2B:
        crypto_generichash_init(&ctx->u.blake2b, NULL, 0, crypto_generichash_BYTES_MAX);
        return 0;
    }
    return bs__error_set(BS_ERR_INVALID, "unsupported hash algorithm %d", (int)alg);
}

void bs__hash_update(bs_hash_ctx *ctx, const void *data, size_t len)
{
    const unsigned char *p = data;
    switch (ctx->alg) {
    case BS_HASH_SHA256: crypto_hash_sha256_update(&ctx->u.sha256, p, len); break;
    case BS_HASH_SHA512: crypto_hash_sha512_update(&ctx->u.sha512, p, len); break;
    case BS_HASH_BLAKE2B: crypto_generichash_update(&ctx->u.blake2b, p, len); break;
    }
}

size_t bs__hash_final(bs_hash_ctx *ctx, uint8_t digest[BS_HASH_MAX_BYTES])
{
    switch (ctx->alg) {
    case BS_HASH_SHA256: crypto_hash_sha256_final(&ctx->u.sha256, digest); break;
    case BS_HASH_SHA512: crypto_hash_sha512_final(&ctx->u.sha512, digest); break;
    case BS_HASH_BLAKE2B:
        crypto_generichash_final(&ctx->u.blake2b, digest, crypto_generichash_BYTES_MAX);
        break;
    }
    return bs_hash_digest_size(ctx->alg);
}

void bs__hex(char *hex, const uint8_t *bin, size_t len)
{
    sodium_bin2hex(hex, 2 * len + 1, bin, len);
}

int bs_hash_hex(bs_hash_alg alg, const void *data, size_t len, char hex[BS_HASH_HEX_SIZE])
{
    bs_hash_ctx ctx;
    uint8_t digest[BS_HASH_MAX_BYTES];
    int rc = bs__hash_init(&ctx, alg);
    if (rc) return rc;
    bs__hash_update(&ctx, data, len);
    bs__hex(hex, digest, bs__hash_final(&ctx, digest));
    return 0;
}
