/* HTTP Basic auth for borgstore-serve's REST front-end over TCP: the
 * operator's "user:password" is kept only as the SHA-256 of the
 * Authorization value it allows, and each request's value is hashed and
 * compared in constant time. The password is never logged. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "server/rest/rest.h"

int rest_auth_load(uint8_t out[BS_REST_AUTH_HASH], const char *file)
{
    FILE *f = fopen(file, "re");
    if (!f) {
        fprintf(stderr, "borgstore-serve: --auth-file: cannot open %s\n", file);
        return -1;
    }
    char line[BS_HTTP_VALUE_MAX];
    bool got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    size_t n = got ? strcspn(line, "\r\n") : 0;
    if (got && line[n] == '\0' && n == sizeof line - 1) n = 0; /* too long */
    line[n] = '\0';
    const char *colon = strchr(line, ':');
    if (!colon || colon == line) {
        fprintf(stderr, "borgstore-serve: --auth-file: %s: the first line must be "
                "user:password (at most %d bytes)\n", file, BS_HTTP_VALUE_MAX / 2);
        sodium_memzero(line, sizeof line);
        return -1;
    }
    /* "Basic " + base64 fits a kept header value only up to about 3/4 of it */
    char value[BS_HTTP_VALUE_MAX * 2];
    memcpy(value, "Basic ", 6);
    size_t b64 = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    int rc = 0;
    if (6 + b64 > BS_HTTP_VALUE_MAX) {
        fprintf(stderr, "borgstore-serve: --auth-file: %s: user:password too long\n", file);
        rc = -1;
    } else {
        sodium_bin2base64(value + 6, sizeof value - 6, (const unsigned char *)line, n,
                          sodium_base64_VARIANT_ORIGINAL);
        crypto_hash_sha256(out, (const unsigned char *)value, strlen(value));
    }
    sodium_memzero(line, sizeof line);
    sodium_memzero(value, sizeof value);
    return rc;
}

bool rest_auth_ok(const rest_conn *c)
{
    if (!c->req.has_auth) return false;
    const char *v = c->req.auth;
    /* the scheme name is case-insensitive (RFC 7617); normalize it */
    if (strncasecmp(v, "Basic ", 6)) return false;
    char value[BS_HTTP_VALUE_MAX + 8];
    snprintf(value, sizeof value, "Basic %s", v + 6);
    uint8_t got[BS_REST_AUTH_HASH];
    crypto_hash_sha256(got, (const unsigned char *)value, strlen(value));
    sodium_memzero(value, sizeof value);
    return sodium_memcmp(got, c->auth, sizeof got) == 0;
}
