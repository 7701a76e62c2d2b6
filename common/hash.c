/* Content hashes via libcrypto's EVP interface, named and formatted as
 * Python's hashlib does (every algorithm hashlib always has, except the
 * variable-length shake_*). */
#include "borgstore/hash.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "common/hashing.h"
#include "common/printable.h"

static const struct {
    const char *name;   /* hashlib's */
    const char *evp;    /* libcrypto's */
    size_t size;
} algs[] = {
    [BS_HASH_SHA256] = {"sha256", "SHA256", 32},
    [BS_HASH_SHA512] = {"sha512", "SHA512", 64},
    [BS_HASH_BLAKE2B] = {"blake2b", "BLAKE2B-512", 64},
    [BS_HASH_MD5] = {"md5", "MD5", 16},
    [BS_HASH_SHA1] = {"sha1", "SHA1", 20},
    [BS_HASH_SHA224] = {"sha224", "SHA224", 28},
    [BS_HASH_SHA384] = {"sha384", "SHA384", 48},
    [BS_HASH_SHA3_224] = {"sha3_224", "SHA3-224", 28},
    [BS_HASH_SHA3_256] = {"sha3_256", "SHA3-256", 32},
    [BS_HASH_SHA3_384] = {"sha3_384", "SHA3-384", 48},
    [BS_HASH_SHA3_512] = {"sha3_512", "SHA3-512", 64},
    [BS_HASH_BLAKE2S] = {"blake2s", "BLAKE2S-256", 32},
};
#define N_ALGS (sizeof algs / sizeof algs[0])

static int known(bs_hash_alg alg) { return (unsigned)alg < N_ALGS && algs[alg].name; }

int bs_hash_alg_parse(const char *name, bs_hash_alg *out)
{
    for (size_t i = 0; name && i < N_ALGS; i++)
        if (algs[i].name && strcasecmp(name, algs[i].name) == 0) {
            *out = (bs_hash_alg)i;
            return 0;
        }
    char shown[4 * 32 + 1]; /* a peer's bytes: escaped, and only the start */
    bs__printable(shown, sizeof shown, name ? name : "(null)", name ? strnlen(name, 32) : 6);
    /* Python borgstore's words, which its tests look at */
    return bs__error_set(BS_ERR_INVALID, "Unsupported hash algorithm: %s", shown);
}

const char *bs_hash_alg_name(bs_hash_alg alg) { return known(alg) ? algs[alg].name : NULL; }

size_t bs_hash_digest_size(bs_hash_alg alg) { return known(alg) ? algs[alg].size : 0; }

int bs__hash_check(bs_hash_alg alg)
{
    if (known(alg)) return 0;
    return bs__error_set(BS_ERR_INVALID, "Unsupported hash algorithm: %d", (int)alg);
}

/* The EVP_MD of alg, fetched once (libcrypto's fetches are costly). */
static const EVP_MD *md_of(bs_hash_alg alg)
{
    switch (alg) {
    case BS_HASH_SHA256: return EVP_sha256();
    case BS_HASH_SHA512: return EVP_sha512();
    case BS_HASH_BLAKE2B: return EVP_blake2b512();
    case BS_HASH_MD5: return EVP_md5();
    case BS_HASH_SHA1: return EVP_sha1();
    case BS_HASH_SHA224: return EVP_sha224();
    case BS_HASH_SHA384: return EVP_sha384();
    case BS_HASH_SHA3_224: return EVP_sha3_224();
    case BS_HASH_SHA3_256: return EVP_sha3_256();
    case BS_HASH_SHA3_384: return EVP_sha3_384();
    case BS_HASH_SHA3_512: return EVP_sha3_512();
    case BS_HASH_BLAKE2S: return EVP_blake2s256();
    }
    return NULL;
}

int bs__hash_init(bs_hash_ctx *ctx, bs_hash_alg alg)
{
    ctx->evp = NULL;
    ctx->alg = alg;
    int rc = bs__hash_check(alg);
    if (rc) return rc;
    const EVP_MD *md = md_of(alg);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c) return bs__error_set(BS_ERR_NOMEM, "hash %s", algs[alg].name);
    if (!md || EVP_DigestInit_ex(c, md, NULL) != 1) {
        EVP_MD_CTX_free(c);
        return bs__error_set(BS_ERR_UNSUPPORTED, "hash %s: not available in libcrypto",
                             algs[alg].name);
    }
    ctx->evp = c;
    return 0;
}

void bs__hash_update(bs_hash_ctx *ctx, const void *data, size_t len)
{
    if (ctx->evp && len) EVP_DigestUpdate(ctx->evp, data, len);
}

size_t bs__hash_final(bs_hash_ctx *ctx, uint8_t digest[BS_HASH_MAX_BYTES])
{
    unsigned n = 0;
    if (ctx->evp) EVP_DigestFinal_ex(ctx->evp, digest, &n);
    bs__hash_abort(ctx);
    return n;
}

void bs__hash_abort(bs_hash_ctx *ctx)
{
    EVP_MD_CTX_free(ctx->evp);
    ctx->evp = NULL;
}

void bs__hex(char *hex, const uint8_t *bin, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        hex[2 * i] = digits[bin[i] >> 4];
        hex[2 * i + 1] = digits[bin[i] & 15];
    }
    hex[2 * len] = '\0';
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
