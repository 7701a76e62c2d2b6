/* The remote command line: splitting a command string into words the way a
 * POSIX shell does for plain words, '...', "..." and backslashes (no
 * expansions). Used for BORGSTORE_RSH / BORGSTORE_REMOTE_PATH on the client
 * and SSH_ORIGINAL_COMMAND on the server. Pure function, no I/O. */
#ifndef BS_PROTO_CMDLINE_H
#define BS_PROTO_CMDLINE_H

#include <stddef.h>

/* Splits s into a NULL-terminated, malloc'd argv (free with
 * bs__argv_free); *argc gets the count (may be 0). Returns 0,
 * BS_ERR_INVALID for an unterminated quote or trailing backslash (and for
 * more than 256 words or input over 64 KiB), BS_ERR_NOMEM. */
int bs__split_words(char ***out, size_t *argc, const char *s);

void bs__argv_free(char **argv);

#endif
