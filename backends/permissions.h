/* Python borgstore's permission mapping: item name -> granted letters
 * (l list, r read, w write new, W write/overwrite, D delete), looked up at
 * the nearest ancestor of a name. Shared by the posix backend and by
 * borgstore-serve (--permissions). */
#ifndef BS_BACKENDS_PERMISSIONS_H
#define BS_BACKENDS_PERMISSIONS_H

#include <stddef.h>

/* Bounds of a permissions specification. */
#define BS_PERMISSIONS_MAX_ENTRIES 256
#define BS_PERMISSIONS_MAX_SPEC (64 * 1024)

typedef struct bs_permissions bs_permissions;

/* Parses spec into *out (release with bs__permissions_free):
 *   NULL or ""             -> *out = NULL: no restrictions;
 *   a preset name          -> "borgbackup-all", "borgbackup-no-delete",
 *                             "borgbackup-write-only", "borgbackup-read-only"
 *                             (Python borgstore's, naming data/), or borg 2's
 *                             "all", "no-delete", "write-only", "read-only"
 *                             (naming packs/ and index/);
 *   a JSON object          -> {"": "lr", "data": "lrw"}: keys are valid item
 *                             names ("" = the root), values only the letters
 *                             lrwWD (each at most once, "" allowed); at most
 *                             BS_PERMISSIONS_MAX_ENTRIES entries, no duplicate
 *                             keys, escapes limited to \" \\ \/, nothing but
 *                             whitespace after the object.
 * An empty object {} means no restrictions, as in Python borgstore.
 * Returns 0, BS_ERR_INVALID (message says what and where), BS_ERR_NOMEM. */
int bs__permissions_parse(bs_permissions **out, const char *spec);

/* 0 when at least one of letters is granted for name by its nearest listed
 * ancestor (name itself, its parents, then ""), else BS_ERR_PERMISSION with
 * a message naming the letters and the item. NULL perms allows everything. */
int bs__permissions_check(const bs_permissions *perms, const char *name,
                          const char *letters);

/* Number of entries (0 for NULL). */
size_t bs__permissions_count(const bs_permissions *perms);

/* Accepts NULL. */
void bs__permissions_free(bs_permissions *perms);

#endif
