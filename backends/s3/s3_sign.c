/* AWS Signature Version 4: see s3_sign.h. The steps follow the AWS
 * "Signature Version 4 signing process" document: canonical request ->
 * string to sign -> HMAC chain from "AWS4" + secret -> hex signature. */
#include "backends/s3/s3_sign.h"

#include <ctype.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

static int put(bs_buf *b, const char *s)
{
    return bs__buf_append(b, s, strlen(s));
}

static int put_c(bs_buf *b, char c)
{
    return bs__buf_append(b, &c, 1);
}

/* Keeps b NUL-terminated without counting the NUL. */
static int terminate(bs_buf *b)
{
    if (bs__buf_append(b, "", 1) != 0) return BS_ERR_NOMEM;
    b->len--;
    return 0;
}

static void to_hex(char *hex, const uint8_t *bin, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[bin[i] >> 4];
        hex[2 * i + 1] = digits[bin[i] & 15];
    }
    hex[2 * n] = '\0';
}

void bs__s3_sha256_hex(char hex[65], const void *data, size_t len)
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    to_hex(hex, h, sizeof h);
}

void bs__s3_amz_date(char out[17], time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

int bs__s3_uri_encode(bs_buf *out, const char *s, bool keep_slash)
{
    static const char digits[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int rc;
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~' ||
            (keep_slash && *p == '/')) {
            rc = put_c(out, (char)*p);
        } else {
            char e[3] = {'%', digits[*p >> 4], digits[*p & 15]};
            rc = bs__buf_append(out, e, 3);
        }
        if (rc != 0) return BS_ERR_NOMEM;
    }
    return 0;
}

/* ---- canonical request ----------------------------------------------------- */

int bs__s3_canonical_query(bs_buf *out, const bs_s3_query *q, size_t n);

typedef struct enc_pair {
    char *k, *v;
} enc_pair;

static int cmp_pair(const void *a, const void *b)
{
    const enc_pair *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

static char *encoded(const char *s)
{
    bs_buf b = {0};
    if (bs__s3_uri_encode(&b, s, false) != 0 || terminate(&b) != 0) {
        bs__buf_free(&b);
        return NULL;
    }
    return (char *)b.data;
}

static int canonical_query(bs_buf *out, const bs_s3_sign_req *r)
{
    return bs__s3_canonical_query(out, r->query, r->n_query);
}

int bs__s3_canonical_query(bs_buf *out, const bs_s3_query *q, size_t n)
{
    if (n == 0) return 0;
    bs_s3_sign_req req = {.query = q, .n_query = n};
    const bs_s3_sign_req *r = &req;
    enc_pair *v = calloc(r->n_query, sizeof *v);
    if (!v) return BS_ERR_NOMEM;
    int rc = 0;
    for (size_t i = 0; i < r->n_query && rc == 0; i++) {
        v[i].k = encoded(r->query[i].key);
        v[i].v = encoded(r->query[i].value ? r->query[i].value : "");
        if (!v[i].k || !v[i].v) rc = BS_ERR_NOMEM;
    }
    if (rc == 0) {
        /* Sorted by encoded key, then value (byte order), as AWS asks. */
        qsort(v, r->n_query, sizeof *v, cmp_pair);
        for (size_t i = 0; i < r->n_query && rc == 0; i++)
            if ((i && put_c(out, '&')) || put(out, v[i].k) || put_c(out, '=') ||
                put(out, v[i].v))
                rc = BS_ERR_NOMEM;
    }
    for (size_t i = 0; i < r->n_query; i++) {
        free(v[i].k);
        free(v[i].v);
    }
    free(v);
    return rc;
}

typedef struct canon_hdr {
    char *name;
    const char *value;
} canon_hdr;

static int cmp_hdr(const void *a, const void *b)
{
    return strcmp(((const canon_hdr *)a)->name, ((const canon_hdr *)b)->name);
}

/* value trimmed, inner whitespace runs folded to one space. */
static int put_trimmed(bs_buf *out, const char *v)
{
    while (*v == ' ' || *v == '\t') v++;
    bool space = false;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t') {
            space = true;
            continue;
        }
        if (space && put_c(out, ' ')) return BS_ERR_NOMEM;
        space = false;
        if (put_c(out, *v)) return BS_ERR_NOMEM;
    }
    return 0;
}

/* Sorted lower-case copies of the header names (values borrowed). */
static canon_hdr *sorted_headers(const bs_s3_sign_req *r)
{
    canon_hdr *h = calloc(r->n_headers ? r->n_headers : 1, sizeof *h);
    if (!h) return NULL;
    for (size_t i = 0; i < r->n_headers; i++) {
        h[i].name = strdup(r->headers[i].name);
        if (!h[i].name) {
            for (size_t j = 0; j < i; j++) free(h[j].name);
            free(h);
            return NULL;
        }
        for (char *p = h[i].name; *p; p++) *p = (char)tolower((unsigned char)*p);
        h[i].value = r->headers[i].value;
    }
    /* Stable for equal names: duplicates keep their order when joined. */
    for (size_t i = 1; i < r->n_headers; i++)
        for (size_t j = i; j > 0 && cmp_hdr(&h[j - 1], &h[j]) > 0; j--) {
            canon_hdr t = h[j];
            h[j] = h[j - 1];
            h[j - 1] = t;
        }
    return h;
}

static void free_headers(canon_hdr *h, size_t n)
{
    for (size_t i = 0; i < n; i++) free(h[i].name);
    free(h);
}

/* "a;b;c" of the distinct sorted names. */
static int signed_headers(bs_buf *out, const canon_hdr *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i && strcmp(h[i].name, h[i - 1].name) == 0) continue;
        if ((i && put_c(out, ';')) || put(out, h[i].name)) return BS_ERR_NOMEM;
    }
    return 0;
}

static int canonical_with(bs_buf *out, const bs_s3_sign_req *r, const canon_hdr *h)
{
    if (put(out, r->method) || put_c(out, '\n') || put(out, r->uri) || put_c(out, '\n'))
        return BS_ERR_NOMEM;
    if (canonical_query(out, r) || put_c(out, '\n')) return BS_ERR_NOMEM;
    for (size_t i = 0; i < r->n_headers; i++) {
        bool same = i && strcmp(h[i].name, h[i - 1].name) == 0;
        if (same) {
            if (put_c(out, ',')) return BS_ERR_NOMEM;
        } else {
            if ((i && put_c(out, '\n')) || put(out, h[i].name) || put_c(out, ':'))
                return BS_ERR_NOMEM;
        }
        if (put_trimmed(out, h[i].value)) return BS_ERR_NOMEM;
    }
    if ((r->n_headers && put_c(out, '\n')) || put_c(out, '\n')) return BS_ERR_NOMEM;
    if (signed_headers(out, h, r->n_headers) || put_c(out, '\n') ||
        put(out, r->payload_hash))
        return BS_ERR_NOMEM;
    return terminate(out);
}

int bs__s3_canonical_request(bs_buf *out, const bs_s3_sign_req *r)
{
    canon_hdr *h = sorted_headers(r);
    if (!h) return bs__error_set(BS_ERR_NOMEM, NULL);
    int rc = canonical_with(out, r, h);
    free_headers(h, r->n_headers);
    return rc ? bs__error_set(BS_ERR_NOMEM, NULL) : 0;
}

/* ---- string to sign, key, signature ---------------------------------------- */

static int scope(bs_buf *out, const bs_s3_sign_req *r)
{
    if (bs__buf_append(out, r->amz_date, 8) || put_c(out, '/') || put(out, r->region) ||
        put_c(out, '/') || put(out, r->service) || put(out, "/aws4_request"))
        return BS_ERR_NOMEM;
    return 0;
}

int bs__s3_string_to_sign(bs_buf *out, const bs_s3_sign_req *r, const char *creq)
{
    char hex[65];
    bs__s3_sha256_hex(hex, creq, strlen(creq));
    if (put(out, "AWS4-HMAC-SHA256\n") || put(out, r->amz_date) || put_c(out, '\n') ||
        scope(out, r) || put_c(out, '\n') || put(out, hex) || terminate(out))
        return bs__error_set(BS_ERR_NOMEM, NULL);
    return 0;
}

static void hmac(uint8_t out[32], const void *key, size_t klen, const void *msg, size_t mlen)
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, klen);
    crypto_auth_hmacsha256_update(&st, msg, mlen);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

static int signature(char hex[65], const bs_s3_sign_req *r, const char *sts)
{
    size_t slen = strlen(r->secret);
    uint8_t *k0 = malloc(slen + 4);
    if (!k0) return BS_ERR_NOMEM;
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, r->secret, slen);
    uint8_t k[32], k2[32];
    hmac(k, k0, slen + 4, r->amz_date, 8);
    sodium_memzero(k0, slen + 4);
    free(k0);
    hmac(k2, k, 32, r->region, strlen(r->region));
    hmac(k, k2, 32, r->service, strlen(r->service));
    hmac(k2, k, 32, "aws4_request", 12);
    hmac(k, k2, 32, sts, strlen(sts));
    to_hex(hex, k, 32);
    sodium_memzero(k2, sizeof k2);
    sodium_memzero(k, sizeof k);
    return 0;
}

int bs__s3_authorization(bs_buf *out, const bs_s3_sign_req *r)
{
    canon_hdr *h = sorted_headers(r);
    if (!h) return bs__error_set(BS_ERR_NOMEM, NULL);
    bs_buf creq = {0}, sts = {0};
    char sig[65];
    int rc = canonical_with(&creq, r, h);
    if (rc == 0) rc = bs__s3_string_to_sign(&sts, r, (const char *)creq.data);
    if (rc == 0) rc = signature(sig, r, (const char *)sts.data);
    if (rc == 0 &&
        (put(out, "AWS4-HMAC-SHA256 Credential=") || put(out, r->key_id) || put_c(out, '/') ||
         scope(out, r) || put(out, ", SignedHeaders=") || signed_headers(out, h, r->n_headers) ||
         put(out, ", Signature=") || put(out, sig) || terminate(out)))
        rc = BS_ERR_NOMEM;
    free_headers(h, r->n_headers);
    bs__buf_free(&creq);
    bs__buf_free(&sts);
    return rc ? bs__error_set(BS_ERR_NOMEM, NULL) : 0;
}
