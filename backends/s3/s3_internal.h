/* Shared between the S3 backend's files (s3.c: the operations; s3_batch.c:
 * many requests in flight). */
#ifndef BS_BACKENDS_S3_INTERNAL_H
#define BS_BACKENDS_S3_INTERNAL_H

#include "backends/backend.h"
#include "backends/s3/s3_config.h"
#include "backends/s3/s3_http.h"

typedef struct s3fs {
    bs_backend base;
    bs_s3_config cfg;
    bs_s3_http http;
    /* Directories whose marker this backend has put or seen, so that a
     * store puts a missing parent's marker once per session. */
    char **dirs;
    size_t dirs_cap, dirs_n;
    size_t part_size; /* multipart above this (BORGSTORE_S3_PART_SIZE) */
} s3fs;

/* path + "/" + name (name "" gives path + "/"); malloc'd or NULL. */
char *bs__s3_key(const s3fs *s, const char *name);

/* Content-MD5 value (base64 of the MD5) of len bytes into out. */
void bs__s3_md5_base64(char out[32], const void *data, size_t len);

/* Stores len bytes under key as a multipart upload of s->part_size parts;
 * aborts the upload when a step fails, so no partial object is left. */
int bs__s3_multipart_put(s3fs *s, const char *key, const void *data, size_t len,
                         const char *name);

#endif
