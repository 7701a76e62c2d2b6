/* A small bounded scanner for the few elements of S3's XML replies we read
 * (ListObjectsV2, errors, multipart uploads, DeleteObjects). No XML library
 * is in the stack and the replies are flat and regular: this finds
 * <Tag>text</Tag> by name, ignoring namespaces and attributes, and decodes
 * the five entities and numeric references. Never reads outside [buf, end). */
#ifndef BS_BACKENDS_S3_XML_H
#define BS_BACKENDS_S3_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bs_s3_span {
    const char *p;
    size_t len;
} bs_s3_span;

/* Finds the next element named tag in *in (a span that is advanced past the
 * element's end tag) and sets *content to its raw content. Returns true when
 * found; false (in untouched) when there is none or it is unterminated. */
bool bs__s3_xml_next(bs_s3_span *in, const char *tag, bs_s3_span *content);

/* First element named tag in span s, decoded into out (cap bytes with NUL).
 * Returns the decoded length, -1 when absent, -2 when malformed or longer
 * than cap - 1. */
long bs__s3_xml_text(bs_s3_span s, const char *tag, char *out, size_t cap);

/* Decodes entities of raw into out (cap bytes with NUL): as bs__s3_xml_text. */
long bs__s3_xml_decode(bs_s3_span raw, char *out, size_t cap);

/* First element named tag as a non-negative decimal integer into *out.
 * Returns true when present and well formed. */
bool bs__s3_xml_u64(bs_s3_span s, const char *tag, uint64_t *out);

#endif
