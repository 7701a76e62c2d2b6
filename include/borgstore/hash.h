/* Content hash algorithms offered by borgstore: those Python's hashlib always
 * has (hashlib.algorithms_guaranteed, except the variable-length shake_*),
 * with identical hex digests. blake3 is not offered (no Debian library). */
#ifndef BORGSTORE_HASH_H
#define BORGSTORE_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "borgstore/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum bs_hash_alg {
    BS_HASH_SHA256 = 0,
    BS_HASH_SHA512 = 1,
    BS_HASH_BLAKE2B = 2, /* BLAKE2b, 64-byte digest (hashlib.blake2b()) */
    BS_HASH_MD5 = 3,
    BS_HASH_SHA1 = 4,
    BS_HASH_SHA224 = 5,
    BS_HASH_SHA384 = 6,
    BS_HASH_SHA3_224 = 7,
    BS_HASH_SHA3_256 = 8,
    BS_HASH_SHA3_384 = 9,
    BS_HASH_SHA3_512 = 10,
    BS_HASH_BLAKE2S = 11, /* BLAKE2s, 32-byte digest (hashlib.blake2s()) */
} bs_hash_alg;

/* Longest digest in bytes and hex characters (plus NUL) of any algorithm. */
#define BS_HASH_MAX_BYTES 64
#define BS_HASH_HEX_SIZE (2 * BS_HASH_MAX_BYTES + 1)

/* A hashlib name ("sha256", "sha3_256", "blake2s", ...; case does not
 * matter) -> *out. Returns 0, or BS_ERR_INVALID for an unknown name with the
 * message "Unsupported hash algorithm: NAME" (Python borgstore's text). */
BS_API int bs_hash_alg_parse(const char *name, bs_hash_alg *out);

/* Name of an algorithm as Python hashlib spells it; NULL when unknown. */
BS_API const char *bs_hash_alg_name(bs_hash_alg alg);

/* Digest size in bytes; 0 when unknown. */
BS_API size_t bs_hash_digest_size(bs_hash_alg alg);

/* One-shot hex digest of data into hex (BS_HASH_HEX_SIZE bytes).
 * Returns 0, BS_ERR_INVALID for an unknown algorithm, BS_ERR_NOMEM, or
 * BS_ERR_UNSUPPORTED when libcrypto lacks it. */
BS_API int bs_hash_hex(bs_hash_alg alg, const void *data, size_t len,
                       char hex[BS_HASH_HEX_SIZE]);

#ifdef __cplusplus
}
#endif
#endif
