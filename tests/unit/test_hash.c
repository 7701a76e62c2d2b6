/* Hex digests identical to Python hashlib's for the shared vectors. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/hashing.h"
#include "common/error.h"
#include "vectors.h"

static uint8_t *unhex(const char *hex, size_t *len)
{
    *len = strlen(hex) / 2;
    uint8_t *out = malloc(*len + 1);
    sodium_hex2bin(out, *len, hex, strlen(hex), NULL, NULL, NULL);
    return out;
}

Test(hash, python_hashlib_vectors_agree)
{
    size_t n = sizeof hash_vecs / sizeof hash_vecs[0];
    cr_assert_geq(n, 4);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        uint8_t *in = unhex(hash_vecs[i].hex_input, &len);
        char hex[BS_HASH_HEX_SIZE];
        cr_assert_eq(bs_hash_hex(BS_HASH_SHA256, in, len, hex), 0);
        cr_assert_str_eq(hex, hash_vecs[i].sha256, "#%zu", i);
        cr_assert_eq(bs_hash_hex(BS_HASH_SHA512, in, len, hex), 0);
        cr_assert_str_eq(hex, hash_vecs[i].sha512, "#%zu", i);
        cr_assert_eq(bs_hash_hex(BS_HASH_BLAKE2B, in, len, hex), 0);
        cr_assert_str_eq(hex, hash_vecs[i].blake2b, "#%zu", i);
        free(in);
    }
}

Test(hash, streaming_equals_one_shot)
{
    uint8_t data[10000];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 7);
    for (int alg = 0; alg < 3; alg++) {
        char one[BS_HASH_HEX_SIZE], stream[BS_HASH_HEX_SIZE];
        bs_hash_hex((bs_hash_alg)alg, data, sizeof data, one);
        bs_hash_ctx ctx;
        uint8_t digest[BS_HASH_MAX_BYTES];
        cr_assert_eq(bs__hash_init(&ctx, (bs_hash_alg)alg), 0);
        for (size_t off = 0; off < sizeof data; off += 333) {
            size_t n = sizeof data - off < 333 ? sizeof data - off : 333;
            bs__hash_update(&ctx, data + off, n);
        }
        size_t dl = bs__hash_final(&ctx, digest);
        cr_assert_eq(dl, bs_hash_digest_size((bs_hash_alg)alg));
        bs__hex(stream, digest, dl);
        cr_assert_str_eq(one, stream);
    }
}

Test(hash, names_parse_and_print)
{
    bs_hash_alg a;
    cr_assert_eq(bs_hash_alg_parse("blake2b", &a), 0);
    cr_assert_eq(a, BS_HASH_BLAKE2B);
    cr_assert_str_eq(bs_hash_alg_name(BS_HASH_SHA512), "sha512");
    cr_assert_eq(bs_hash_alg_parse("md5", &a), BS_ERR_INVALID);
    cr_assert(strstr(bs_error_message(), "md5"));
    cr_assert_eq(bs_hash_alg_parse(NULL, &a), BS_ERR_INVALID);
    cr_assert_null(bs_hash_alg_name((bs_hash_alg)99));
    cr_assert_eq(bs_hash_hex((bs_hash_alg)99, "", 0, (char[BS_HASH_HEX_SIZE]){0}),
                 BS_ERR_INVALID);
}
