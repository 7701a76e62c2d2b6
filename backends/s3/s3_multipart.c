/* Multipart uploads for values above the part size (S3 takes at most 5 GB
 * in one PUT, and a failed part is sent again alone), and the Content-MD5
 * that DeleteObjects needs. */
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/s3/s3_internal.h"
#include "backends/s3/s3_xml.h"
#include "common/error.h"

void bs__s3_md5_base64(char out[32], const void *data, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_Digest(data, len, md, &n, EVP_md5(), NULL) || n != 16) {
        out[0] = '\0';
        return;
    }
    sodium_bin2base64(out, 32, md, 16, sodium_base64_VARIANT_ORIGINAL);
}

static int call(s3fs *s, const bs_s3_req *q, bs_s3_resp *r, const char *name)
{
    int rc = bs__s3_request(&s->http, q, r, "store");
    if (!rc && r->status != 200) rc = bs__s3_error(r, "store", name);
    if (!rc) {
        /* CompleteMultipartUpload may fail after its 200: the body says so */
        bs_s3_span in = {(const char *)r->body.data, r->body.len}, e;
        if (bs__s3_xml_next(&in, "Error", &e)) {
            char code[64] = "";
            bs__s3_xml_text(e, "Code", code, sizeof code);
            rc = bs__error_set(BS_ERR_IO, "s3: store %s: multipart upload failed: %s", name,
                               code);
        }
    }
    return rc;
}

static void abort_upload(s3fs *s, const char *key, const char *id)
{
    bs__error_saved saved;
    bs__error_save(&saved);
    bs_s3_query q = {"uploadId", id};
    bs_s3_req req = {.method = "DELETE", .key = key, .query = &q, .n_query = 1};
    bs_s3_resp r = {0};
    bs__s3_request(&s->http, &req, &r, "store");
    bs__s3_resp_free(&r);
    bs__error_restore(&saved, 0);
}

int bs__s3_multipart_put(s3fs *s, const char *key, const void *data, size_t len,
                         const char *name)
{
    bs_s3_query uploads = {"uploads", ""};
    bs_s3_req q = {.method = "POST", .key = key, .query = &uploads, .n_query = 1};
    bs_s3_resp r = {0};
    char id[1024];
    int rc = call(s, &q, &r, name);
    if (!rc && bs__s3_xml_text((bs_s3_span){(const char *)r.body.data, r.body.len}, "UploadId",
                               id, sizeof id) <= 0)
        rc = bs__error_set(BS_ERR_PROTOCOL, "s3: store %s: no UploadId", name);
    bs__s3_resp_free(&r);
    if (rc) return rc;

    bs_buf done = {0};
    static const char open_[] = "<CompleteMultipartUpload>";
    if (bs__buf_append(&done, open_, sizeof open_ - 1)) rc = bs__error_set(BS_ERR_NOMEM, NULL);
    size_t parts = (len + s->part_size - 1) / s->part_size;
    for (size_t i = 0; i < parts && !rc; i++) {
        size_t off = i * s->part_size, n = len - off < s->part_size ? len - off : s->part_size;
        char num[24];
        snprintf(num, sizeof num, "%zu", i + 1);
        bs_s3_query pq[2] = {{"partNumber", num}, {"uploadId", id}};
        bs_s3_req p = {.method = "PUT", .key = key, .query = pq, .n_query = 2,
                       .body = (const uint8_t *)data + off, .body_len = n};
        rc = call(s, &p, &r, name);
        if (!rc && !r.etag[0])
            rc = bs__error_set(BS_ERR_PROTOCOL, "s3: store %s: part without an ETag", name);
        if (!rc) {
            char part[256];
            int m = snprintf(part, sizeof part,
                             "<Part><PartNumber>%s</PartNumber><ETag>%s</ETag></Part>", num,
                             r.etag);
            /* The ETag is a quoted hex digest: nothing to escape, but keep it bounded. */
            if (m < 0 || (size_t)m >= sizeof part || strpbrk(r.etag, "<&"))
                rc = bs__error_set(BS_ERR_PROTOCOL, "s3: store %s: malformed ETag", name);
            else if (bs__buf_append(&done, part, (size_t)m))
                rc = bs__error_set(BS_ERR_NOMEM, NULL);
        }
        bs__s3_resp_free(&r);
    }
    static const char close_[] = "</CompleteMultipartUpload>";
    if (!rc && bs__buf_append(&done, close_, sizeof close_ - 1))
        rc = bs__error_set(BS_ERR_NOMEM, NULL);
    if (!rc) {
        bs_s3_query cq = {"uploadId", id};
        bs_s3_req c = {.method = "POST", .key = key, .query = &cq, .n_query = 1,
                       .body = done.data, .body_len = done.len};
        rc = call(s, &c, &r, name);
        bs__s3_resp_free(&r);
    }
    bs__buf_free(&done);
    if (rc) abort_upload(s, key, id);
    return rc;
}
