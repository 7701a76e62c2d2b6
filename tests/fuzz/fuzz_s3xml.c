/* Fuzz target: the bounded XML scanner that reads S3's replies
 * (backends/s3/s3_xml.c), walked the way the backend walks a
 * ListObjectsV2 page, an error and a multipart reply. Every span found lies
 * inside the input, decoding never grows the text, and decoded text has no
 * NUL inside. Also the s3:/b2: URL parser on the same bytes. */
#include <string.h>

#include "fuzz.h"

#include "backends/s3/s3_config.h"
#include "backends/s3/s3_xml.h"
#include "borgstore/errors.h"

static void check_span(const uint8_t *data, size_t size, bs_s3_span s)
{
    FUZZ_CHECK(s.p >= (const char *)data && s.p + s.len <= (const char *)data + size,
               "span outside the input");
}

static void text(const uint8_t *data, size_t size, bs_s3_span in, const char *tag)
{
    char out[4096];
    bs_s3_span c, scan = in;
    if (!bs__s3_xml_next(&scan, tag, &c)) return;
    check_span(data, size, c);
    long n = bs__s3_xml_decode(c, out, sizeof out);
    FUZZ_CHECK(n >= -2, "decode returned %ld", n);
    if (n >= 0) {
        FUZZ_CHECK((size_t)n <= c.len, "decoding grew %zu to %ld", c.len, n);
        FUZZ_CHECK(strlen(out) == (size_t)n, "NUL inside decoded text");
    }
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    bs_s3_span all = {(const char *)data, size}, in = all, c;
    size_t guard = 0;
    while (bs__s3_xml_next(&in, "Contents", &c) && guard++ < 100000) {
        check_span(data, size, c);
        check_span(data, size, in);
        text(data, size, c, "Key");
        text(data, size, c, "LastModified");
        uint64_t v;
        (void)bs__s3_xml_u64(c, "Size", &v);
    }
    in = all;
    while (bs__s3_xml_next(&in, "CommonPrefixes", &c) && guard++ < 200000) {
        check_span(data, size, c);
        text(data, size, c, "Prefix");
    }
    text(data, size, all, "NextContinuationToken");
    text(data, size, all, "Code");
    text(data, size, all, "Message");
    text(data, size, all, "UploadId");

    char url[2048];
    size_t n = size < sizeof url - 1 ? size : sizeof url - 1;
    memcpy(url, data, n);
    url[n] = '\0';
    bs_s3_config cfg;
    int rc = bs__s3_config_parse(&cfg, url);
    FUZZ_CHECK(rc == 0 || rc == BS_ERR_URL_INVALID, "rc %d", rc);
    if (rc == 0) {
        FUZZ_CHECK(cfg.bucket && *cfg.bucket && !strchr(cfg.bucket, '/'), "bucket");
        FUZZ_CHECK(cfg.path && *cfg.path && cfg.path[0] != '/' &&
                       cfg.path[strlen(cfg.path) - 1] != '/', "path");
        FUZZ_CHECK(!(cfg.profile && cfg.key_id), "profile and key both");
        FUZZ_CHECK(!cfg.key_id == !cfg.secret, "key without secret");
        bs__s3_config_clear(&cfg);
    }
    return 0;
}
