/* Nesting: spreading "data/0123abcd" over directories as
 * "data/01/23/0123abcd" (levels = 2), exactly as Python borgstore's
 * utils.nesting.nest / unnest. */
#ifndef BS_COMMON_NESTING_H
#define BS_COMMON_NESTING_H

#include <stddef.h>

/* Nested form of name at levels (0..), with suffix appended when non-NULL.
 * Writes into out (cap bytes). Returns 0, BS_ERR_INVALID when the key part
 * is shorter than 2*levels or levels is out of range, or when out is too
 * small. */
int bs__nest(char *out, size_t cap, const char *name, int levels, const char *suffix);

/* Inverse: drops the directories between namespace ns (may be NULL/"", with
 * or without trailing '/') and the key, and removes suffix when given and
 * present. Returns 0 or BS_ERR_INVALID (out too small, name not in ns). */
int bs__unnest(char *out, size_t cap, const char *nested, const char *ns,
               const char *suffix);

#endif
