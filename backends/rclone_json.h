/* A small, bounded JSON reader for the replies of rclone's remote-control
 * API: the whole text is parsed into a read-only tree of nodes addressed by
 * index, with decoded strings. Strict RFC 8259 syntax, nesting depth and
 * node count limited before anything grows. */
#ifndef BS_BACKENDS_RCLONE_JSON_H
#define BS_BACKENDS_RCLONE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum bs_json_type {
    BS_JSON_NONE = 0, /* a missing node (ref 0) */
    BS_JSON_NULL,
    BS_JSON_BOOL,
    BS_JSON_NUMBER,
    BS_JSON_STRING,
    BS_JSON_ARRAY,
    BS_JSON_OBJECT,
} bs_json_type;

#define BS_JSON_MAX_DEPTH 64

typedef struct bs_json bs_json;
/* A node of a document; 0 means "no such node" and is accepted everywhere. */
typedef uint32_t bs_json_ref;

/* Parses len bytes of text. Returns 0 and *out (free with bs__json_free),
 * BS_ERR_PROTOCOL naming the offset of a syntax error or a limit (depth,
 * nodes), or BS_ERR_NOMEM. what names the source in messages. */
int bs__json_parse(bs_json **out, const char *text, size_t len, const char *what);

void bs__json_free(bs_json *doc);

/* The top-level value. */
bs_json_ref bs__json_root(const bs_json *doc);

bs_json_type bs__json_type(const bs_json *doc, bs_json_ref ref);

/* Member key of an object (first match; keys compare byte for byte). */
bs_json_ref bs__json_get(const bs_json *doc, bs_json_ref obj, const char *key);

/* First element of an array or member value of an object, and the one
 * after ref in the same container (0 at the end). */
bs_json_ref bs__json_first(const bs_json *doc, bs_json_ref container);
bs_json_ref bs__json_next(const bs_json *doc, bs_json_ref ref);

/* Decoded string (NUL-terminated; *len may be NULL; embedded NULs are
 * refused by the parser) or NULL when ref is not a string. Borrowed from
 * the document. */
const char *bs__json_str(const bs_json *doc, bs_json_ref ref, size_t *len);

/* true and *out when ref is true/false. */
bool bs__json_bool(const bs_json *doc, bs_json_ref ref, bool *out);

/* true and *out when ref is a number that is an integer in int64 range. */
bool bs__json_int(const bs_json *doc, bs_json_ref ref, int64_t *out);

#endif
