/* Rendering untrusted bytes (names, algorithm strings, anything a peer sent)
 * for log lines and error messages: printable ASCII stays, everything else
 * becomes \xHH, so no newline can forge a log line, no escape sequence can
 * reach a terminal, and the result is always valid UTF-8. */
#ifndef BS_COMMON_PRINTABLE_H
#define BS_COMMON_PRINTABLE_H

#include <stddef.h>

/* Writes the rendering of the n bytes at p into out (cap > 0 bytes, always
 * NUL-terminated; cut at a whole character or escape when it does not fit).
 * A backslash stays as it is, so text rendered once (a message naming an
 * escaped name) is unchanged by a second pass. Returns the length written. */
size_t bs__printable(char *out, size_t cap, const void *p, size_t n);

/* The same for a NUL-terminated string (NULL renders as "(null)"). */
size_t bs__printable_str(char *out, size_t cap, const char *s);

#endif
