/* Item name rules (Python borgstore 0.6 validate_name, plus three
 * hardenings: no control characters, no empty and no "." path components). */
#ifndef BS_COMMON_NAMES_H
#define BS_COMMON_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "borgstore/backend.h" /* BS_NAME_MAX */

#define BS_TMP_SUFFIX ".tmp"
#define BS_HID_SUFFIX ".hid"
#define BS_DEL_SUFFIX ".del"

/* 0 when name is acceptable, else BS_ERR_INVALID with a message naming the
 * rule and the name. "" is valid (the root, for listing). */
int bs__name_validate(const char *name);

/* Same rules, no error recorded. */
bool bs__name_is_valid(const char *name);

/* Whether s ends with suffix. */
bool bs__ends_with(const char *s, const char *suffix);

#endif
