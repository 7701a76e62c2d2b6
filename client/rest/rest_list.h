/* The JSON answers of a REST v1 server (untrusted), decoded with jansson:
 * the list document and the quota object. */
#ifndef BS_CLIENT_REST_REST_LIST_H
#define BS_CLIENT_REST_REST_LIST_H

#include <stddef.h>
#include <stdint.h>

#include "borgstore/backend.h"

/* A list document ([{"name", "size", "directory", "atime", "mtime"}, ...])
 * into an iterator over its entries. Entries whose name is not a single
 * valid name component are refused (BS_ERR_PROTOCOL), as is anything but
 * an array of such objects. label names the server in messages. */
int bs__rest_list_parse(bs_list_iter **out, const uint8_t *doc, size_t len, const char *label);

/* {"limit": N, "usage": N} into *out. */
int bs__rest_quota_parse(bs_quota *out, const uint8_t *doc, size_t len, const char *label);

#endif
