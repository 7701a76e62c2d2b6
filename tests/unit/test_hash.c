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
    for (int alg = 0; alg <= BS_HASH_BLAKE2S; alg++) {
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
    cr_assert_eq(bs_hash_alg_parse("md4", &a), BS_ERR_INVALID);
    cr_assert(strstr(bs_error_message(), "md4"));
    cr_assert_eq(bs_hash_alg_parse(NULL, &a), BS_ERR_INVALID);
    cr_assert_null(bs_hash_alg_name((bs_hash_alg)99));
    cr_assert_eq(bs_hash_hex((bs_hash_alg)99, "", 0, (char[BS_HASH_HEX_SIZE]){0}),
                 BS_ERR_INVALID);
}

/* Every algorithm of hashlib.algorithms_guaranteed but shake_*: digests of
 * "abc" as Python's hashlib gives them (generated with hashlib.new). */
Test(hash, every_hashlib_algorithm_matches_python)
{
    static const struct {
        const char *name;
        size_t size;
        const char *hex;
    } cases[] = {
        {"md5", 16,
         "900150983cd24fb0d6963f7d28e17f72"},
        {"sha1", 20,
         "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {"sha224", 28,
         "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"},
        {"sha256", 32,
         "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"sha384", 48,
         "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
         "8086072ba1e7cc2358baeca134c825a7"},
        {"sha512", 64,
         "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
         "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
        {"sha3_224", 28,
         "e642824c3f8cf24ad09234ee7d3c766fc9a3a5168d0c94ad73b46fdf"},
        {"sha3_256", 32,
         "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"},
        {"sha3_384", 48,
         "ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b2"
         "98d88cea927ac7f539f1edf228376d25"},
        {"sha3_512", 64,
         "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e"
         "10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0"},
        {"blake2b", 64,
         "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
         "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"},
        {"blake2s", 32,
         "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bs_hash_alg a;
        char hex[BS_HASH_HEX_SIZE];
        cr_assert_eq(bs_hash_alg_parse(cases[i].name, &a), 0, "%s", cases[i].name);
        cr_assert_str_eq(bs_hash_alg_name(a), cases[i].name);
        cr_assert_eq(bs_hash_digest_size(a), cases[i].size, "%s", cases[i].name);
        cr_assert_eq(bs_hash_hex(a, "abc", 3, hex), 0);
        cr_assert_str_eq(hex, cases[i].hex, "%s", cases[i].name);
    }
}

Test(hash, unknown_algorithm_has_python_borgstores_text)
{
    bs_hash_alg a;
    cr_assert_eq(bs_hash_alg_parse("md4", &a), BS_ERR_INVALID);
    cr_assert_str_eq(bs_error_message(), "invalid argument: Unsupported hash algorithm: md4");
    cr_assert_eq(bs_hash_alg_parse("SHA256", &a), 0, "case does not matter, as in hashlib.new");
    cr_assert_eq(a, BS_HASH_SHA256);
}

Test(hash, abort_releases_and_final_after_abort_is_harmless)
{
    bs_hash_ctx ctx = {0};
    bs__hash_abort(&ctx); /* empty: no-op */
    cr_assert_eq(bs__hash_init(&ctx, BS_HASH_SHA3_256), 0);
    bs__hash_update(&ctx, "x", 1);
    bs__hash_abort(&ctx);
    cr_assert_null(ctx.evp);
    bs__hash_abort(&ctx); /* twice: still fine (ASan would see a double free) */
    cr_assert_eq(bs__hash_init(&ctx, (bs_hash_alg)99), BS_ERR_INVALID);
    cr_assert_null(ctx.evp);
}
