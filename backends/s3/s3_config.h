/* Where an s3:/b2: store lives and who we are there: the URL as Python
 * borgstore parses it,
 *   (s3|b2):[profile|(key_id:secret)@][scheme://host[:port]]/bucket/path
 * (key id, secret and path percent-decoded; the bucket not), then the
 * credentials (URL, else AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, else a
 * profile of ~/.aws/credentials) and the region (AWS_REGION,
 * AWS_DEFAULT_REGION, ~/.aws/config, the endpoint's host name, us-east-1).
 * Secrets never reach a message: errors name the file or variable only. */
#ifndef BS_BACKENDS_S3_CONFIG_H
#define BS_BACKENDS_S3_CONFIG_H

#include <stdbool.h>

typedef struct bs_s3_config {
    bool b2;          /* b2: drop the checksum headers Backblaze rejects */
    char *profile;    /* from the URL; NULL when absent */
    char *key_id;     /* NULL until resolved */
    char *secret;     /* zeroed when freed */
    char *token;      /* AWS_SESSION_TOKEN / aws_session_token, or NULL */
    char *endpoint;   /* "scheme://host[:port]" from the URL, or NULL (AWS) */
    char *bucket;
    char *path;       /* no leading or trailing '/' */
    char *region;
} bs_s3_config;

/* Parses url only (no environment). 0 or BS_ERR_URL_INVALID / BS_ERR_NOMEM;
 * the message never shows the secret. */
int bs__s3_config_parse(bs_s3_config *out, const char *url);

/* Fills key_id/secret/token and region from the environment and the AWS
 * files where the URL gave none. 0, BS_ERR_INVALID (no credentials found, a
 * profile that does not exist) or BS_ERR_NOMEM. */
int bs__s3_config_resolve(bs_s3_config *c);

void bs__s3_config_clear(bs_s3_config *c);

#endif
