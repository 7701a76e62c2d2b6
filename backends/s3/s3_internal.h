/* Shared between the S3 backend's files (s3.c: the operations; s3_batch.c:
 * many requests in flight). */
#ifndef BS_BACKENDS_S3_INTERNAL_H
#define BS_BACKENDS_S3_INTERNAL_H

#include "backends/backend.h"
#include "backends/s3/s3_config.h"
#include "backends/s3/s3_http.h"

#define BS_S3_WINDOW 16 /* requests in flight in a batch */

typedef struct s3fs {
    bs_backend base;
    bs_s3_config cfg;
    bs_s3_http http;
    /* Directories whose marker this backend has put or seen, so that a
     * store puts a missing parent's marker once per session. */
    char **dirs;
    size_t dirs_cap, dirs_n;
    size_t part_size; /* multipart above this (BORGSTORE_S3_PART_SIZE) */
    CURLM *multi;     /* batches (s3_batch.c) */
    CURL *pool[BS_S3_WINDOW];
} s3fs;

/* path + "/" + name (name "" gives path + "/"); malloc'd or NULL. */
char *bs__s3_key(const s3fs *s, const char *name);

/* Content-MD5 value (base64 of the MD5) of len bytes into out. */
void bs__s3_md5_base64(char out[32], const void *data, size_t len);

/* Stores len bytes under key as a multipart upload of s->part_size parts;
 * aborts the upload when a step fails, so no partial object is left. */
int bs__s3_multipart_put(s3fs *s, const char *key, const void *data, size_t len,
                         const char *name);

/* Puts the markers of name's missing parent directories. */
int bs__s3_ensure_parent(s3fs *s, const char *name);

/* The Range header value for [start, start + size) (size < 0: to the
 * end) into out; 0 when no range is needed (the whole object). */
int bs__s3_range_header(char out[64], int64_t start, int64_t size);

/* The bytes a GET for [start, start + size) answered (206, 200 cut to the
 * range, 416 = none) into *out, or the answer's error. */
int bs__s3_load_reply(const bs_s3_resp *r, int64_t start, int64_t size, const char *name,
                      uint8_t **out, size_t *out_len);

/* Batch slots (s3_batch.c) and the release of their handles. */
size_t bs__s3_window(bs_backend *b);
int bs__s3_batch(bs_backend *b, const bs_op *ops, size_t n, size_t window, bs_op_cb cb,
                 void *ctx);
void bs__s3_batch_free(s3fs *s);

#endif
