/* Backend URL parsing, one parser for every scheme:
 *   file:///abs/path          serve:///abs/path
 *   ssh://[user@]host[:port]/rel/path   ssh://[user@]host[:port]//abs/path
 *   sftp://... (as ssh)       rest://... (as ssh; rest:///abs and rest:////abs: local)
 *   rclone:REMOTE:PATH or rclone:/local/path (rest kept verbatim)
 * Paths are percent-decoded; a decoded NUL is refused. */
#ifndef BS_COMMON_URL_H
#define BS_COMMON_URL_H

#include <stddef.h>

typedef struct bs_url {
    char scheme[16]; /* "file", "serve", "ssh", "sftp", "rest", "rclone" */
    char *user;      /* NULL when absent */
    char *host;      /* NULL for file/serve/rclone and local rest; IPv6 without brackets */
    int port;        /* 0 when absent */
    char *path;      /* file/serve: absolute path; ssh/sftp: "rel/path" or
                        "/abs/path" (from "//abs/path"); rclone: NULL */
    char *rest;      /* rclone: everything after "rclone:"; else NULL */
} bs_url;

/* Parses url into *out (release with bs__url_clear). Returns 0, or
 * BS_ERR_URL_INVALID naming what is wrong, or BS_ERR_NOMEM. */
int bs__url_parse(bs_url *out, const char *url);

void bs__url_clear(bs_url *u);

/* Percent-decodes s (len bytes) into a new string; NULL on a malformed escape,
 * an encoded NUL, or no memory. */
char *bs__percent_decode(const char *s, size_t len);

/* url as it may be shown (logs, verbose output): the secret of an
 * s3:/b2: URL's "key_id:secret@" becomes "***". Always NUL-terminates out. */
void bs__url_redacted(char *out, size_t cap, const char *url);

#endif
