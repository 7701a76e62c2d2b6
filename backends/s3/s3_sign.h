/* AWS Signature Version 4 (header form) on libsodium's SHA-256 and
 * HMAC-SHA256: canonical request, string to sign, signing key, the
 * Authorization value. No I/O: callers hand in the pieces of a request, so
 * the published AWS vectors test every step. */
#ifndef BS_BACKENDS_S3_SIGN_H
#define BS_BACKENDS_S3_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "common/buf.h"

/* Hex SHA-256 of nothing: the payload hash of a request without a body. */
#define BS_S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define BS_S3_UNSIGNED "UNSIGNED-PAYLOAD"

typedef struct bs_s3_header {
    const char *name;  /* any case: lower-cased for signing */
    const char *value; /* trimmed, inner runs of spaces folded for signing */
} bs_s3_header;

typedef struct bs_s3_query {
    const char *key;   /* raw (not encoded) */
    const char *value; /* raw; "" for a bare key */
} bs_s3_query;

typedef struct bs_s3_sign_req {
    const char *method;
    const char *uri;   /* canonical URI, already encoded ("/bucket/a%20b") */
    const bs_s3_query *query;
    size_t n_query;
    const bs_s3_header *headers; /* every header to sign (host included) */
    size_t n_headers;
    const char *payload_hash;    /* hex SHA-256 of the body or BS_S3_UNSIGNED */
    const char *amz_date;        /* "YYYYMMDDTHHMMSSZ" */
    const char *region;
    const char *service;         /* "s3" */
    const char *key_id;
    const char *secret;
} bs_s3_sign_req;

/* Appends s URI-encoded the AWS way (unreserved A-Za-z0-9-._~ kept, every
 * other byte %XX upper-case; '/' kept when keep_slash). 0 or BS_ERR_NOMEM. */
int bs__s3_uri_encode(bs_buf *out, const char *s, bool keep_slash);

/* The canonical query string of q[0..n) (encoded, sorted): also what the
 * URL carries. 0 or BS_ERR_NOMEM. */
int bs__s3_canonical_query(bs_buf *out, const bs_s3_query *q, size_t n);

/* The canonical request (NUL-terminated in out). 0 or BS_ERR_NOMEM. */
int bs__s3_canonical_request(bs_buf *out, const bs_s3_sign_req *r);

/* The string to sign for canonical request creq. 0 or BS_ERR_NOMEM. */
int bs__s3_string_to_sign(bs_buf *out, const bs_s3_sign_req *r, const char *creq);

/* The Authorization header value ("AWS4-HMAC-SHA256 Credential=...,
 * SignedHeaders=..., Signature=...") into out. 0 or BS_ERR_NOMEM. */
int bs__s3_authorization(bs_buf *out, const bs_s3_sign_req *r);

/* Hex SHA-256 of len bytes at data into hex (65 bytes). */
void bs__s3_sha256_hex(char hex[65], const void *data, size_t len);

/* t as "YYYYMMDDTHHMMSSZ" (UTC) into out (17 bytes). */
void bs__s3_amz_date(char out[17], time_t t);

#endif
