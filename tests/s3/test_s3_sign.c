/* AWS Signature Version 4 (backends/s3/s3_sign.c) against the published
 * vectors: AWS's generic SigV4 test suite and the S3 "Signature Calculations
 * for the Authorization Header" examples of the S3 API reference. */
#include <criterion/criterion.h>
#include <string.h>

#include "backends/s3/s3_sign.h"

typedef struct kv {
    const char *k, *v;
} kv;

typedef struct suite_case {
    const char *name, *method, *path;
    size_t n_query;
    kv query[2];
    size_t n_headers;
    kv headers[6];
    const char *body;
    const char *creq; /* NULL: not compared */
    const char *authz; /* NULL: not compared */
} suite_case;

static const suite_case suite[] = {
#include "sigv4_suite.inc"
};

static void sign(const char *method, const char *path, const kv *q, size_t nq, const kv *h,
                 size_t nh, const char *payload_hash, const char *date, const char *key_id,
                 const char *secret, const char *service, char **creq, char **authz)
{
    bs_s3_query query[8];
    bs_s3_header headers[8];
    cr_assert(nq <= 8 && nh <= 8);
    for (size_t i = 0; i < nq; i++) query[i] = (bs_s3_query){q[i].k, q[i].v};
    for (size_t i = 0; i < nh; i++) headers[i] = (bs_s3_header){h[i].k, h[i].v};
    bs_buf uri = {0};
    cr_assert_eq(bs__s3_uri_encode(&uri, path, true), 0);
    cr_assert_eq(bs__buf_append(&uri, "", 1), 0);
    bs_s3_sign_req r = {
        .method = method, .uri = (const char *)uri.data, .query = query, .n_query = nq,
        .headers = headers, .n_headers = nh, .payload_hash = payload_hash, .amz_date = date,
        .region = "us-east-1", .service = service, .key_id = key_id, .secret = secret,
    };
    bs_buf c = {0}, a = {0};
    cr_assert_eq(bs__s3_canonical_request(&c, &r), 0);
    cr_assert_eq(bs__s3_authorization(&a, &r), 0);
    *creq = (char *)c.data;
    *authz = (char *)a.data;
    bs__buf_free(&uri);
}

Test(s3_sign, aws_generic_suite)
{
    size_t n = sizeof suite / sizeof suite[0];
    cr_assert_geq(n, 20);
    for (size_t i = 0; i < n; i++) {
        const suite_case *t = &suite[i];
        char hash[65];
        bs__s3_sha256_hex(hash, t->body, strlen(t->body));
        char *creq, *authz;
        sign(t->method, t->path, t->query, t->n_query, t->headers, t->n_headers, hash,
             "20150830T123600Z", "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
             "service", &creq, &authz);
        if (t->creq)
            cr_expect_str_eq(creq, t->creq, "%s: canonical request", t->name);
        if (t->authz) cr_expect_str_eq(authz, t->authz, "%s: authorization", t->name);
        free(creq);
        free(authz);
    }
}

/* The S3 examples: bucket examplebucket, 2013-05-24, AKIAIOSFODNN7EXAMPLE. */
#define S3_KEY "AKIAIOSFODNN7EXAMPLE"
#define S3_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define S3_DATE "20130524T000000Z"
#define S3_HOST "examplebucket.s3.amazonaws.com"
#define S3_CRED "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "

Test(s3_sign, s3_get_object_range)
{
    const kv h[] = {{"Host", S3_HOST},
                    {"Range", "bytes=0-9"},
                    {"x-amz-content-sha256", BS_S3_EMPTY_SHA256},
                    {"x-amz-date", S3_DATE}};
    char *creq, *authz;
    sign("GET", "/test.txt", NULL, 0, h, 4, BS_S3_EMPTY_SHA256, S3_DATE, S3_KEY, S3_SECRET,
         "s3", &creq, &authz);
    cr_expect_str_eq(creq, "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\n"
                           "range:bytes=0-9\nx-amz-content-sha256:" BS_S3_EMPTY_SHA256 "\n"
                           "x-amz-date:20130524T000000Z\n\n"
                           "host;range;x-amz-content-sha256;x-amz-date\n" BS_S3_EMPTY_SHA256);
    cr_expect_str_eq(authz, S3_CRED "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    free(creq);
    free(authz);
}

Test(s3_sign, s3_put_object)
{
    const char *body = "Welcome to Amazon S3.";
    char hash[65];
    bs__s3_sha256_hex(hash, body, strlen(body));
    cr_assert_str_eq(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    const kv h[] = {{"Host", S3_HOST},
                    {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                    {"x-amz-date", S3_DATE},
                    {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                    {"x-amz-content-sha256", hash}};
    char *creq, *authz;
    /* '$' is encoded in the path: /test%24file.text */
    sign("PUT", "/test$file.text", NULL, 0, h, 5, hash, S3_DATE, S3_KEY, S3_SECRET, "s3", &creq,
         &authz);
    cr_expect(strncmp(creq, "PUT\n/test%24file.text\n\n", 23) == 0, "%s", creq);
    cr_expect_str_eq(authz, S3_CRED "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;"
                            "x-amz-storage-class, "
                            "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
    free(creq);
    free(authz);
}

Test(s3_sign, s3_get_lifecycle_and_list)
{
    const kv h[] = {{"Host", S3_HOST},
                    {"x-amz-content-sha256", BS_S3_EMPTY_SHA256},
                    {"x-amz-date", S3_DATE}};
    const kv lifecycle[] = {{"lifecycle", ""}};
    char *creq, *authz;
    sign("GET", "/", lifecycle, 1, h, 3, BS_S3_EMPTY_SHA256, S3_DATE, S3_KEY, S3_SECRET, "s3",
         &creq, &authz);
    cr_expect(strncmp(creq, "GET\n/\nlifecycle=\n", 17) == 0, "%s", creq);
    cr_expect_str_eq(authz, S3_CRED "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                            "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
    free(creq);
    free(authz);
    const kv list[] = {{"prefix", "J"}, {"max-keys", "2"}};
    sign("GET", "/", list, 2, h, 3, BS_S3_EMPTY_SHA256, S3_DATE, S3_KEY, S3_SECRET, "s3", &creq,
         &authz);
    cr_expect(strncmp(creq, "GET\n/\nmax-keys=2&prefix=J\n", 26) == 0, "%s", creq);
    cr_expect_str_eq(authz, S3_CRED "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                            "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    free(creq);
    free(authz);
}

Test(s3_sign, uri_encode_and_date)
{
    bs_buf b = {0};
    cr_assert_eq(bs__s3_uri_encode(&b, "a b/c~d+e=\xe1\x88\xb4", true), 0);
    cr_assert_eq(bs__s3_uri_encode(&b, "/", false), 0);
    cr_assert_eq(bs__buf_append(&b, "", 1), 0);
    cr_expect_str_eq((char *)b.data, "a%20b/c~d%2Be%3D%E1%88%B4%2F");
    bs__buf_free(&b);
    char d[17];
    bs__s3_amz_date(d, 1369353600); /* 2013-05-24 00:00:00 UTC */
    cr_expect_str_eq(d, S3_DATE);
}
