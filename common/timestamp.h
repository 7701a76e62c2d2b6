/* Timestamps that arrive as text (rclone's ModTime, S3's LastModified,
 * HTTP dates' ISO cousins): RFC 3339 to nanoseconds since the epoch. */
#ifndef BS_COMMON_TIMESTAMP_H
#define BS_COMMON_TIMESTAMP_H

#include <stdbool.h>
#include <stdint.h>

/* Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm)" (the 'T' may be
 * 't' or ' ', 'Z' may be 'z'; at most 9 fraction digits are used, more are
 * read and dropped). Returns true and *out_ns, or false for anything else
 * (including dates out of range and trailing text). */
bool bs__rfc3339_to_ns(const char *s, int64_t *out_ns);

#endif
