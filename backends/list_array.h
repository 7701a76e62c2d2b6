/* A list iterator over an array of bs_item_info that a backend collects in
 * full when the listing starts, then sorts by name (the order the contract
 * asks for). posix, sftp and rclone all list this way: reading the whole
 * directory first keeps the iterator valid while other calls are made. */
#ifndef BS_BACKENDS_LIST_ARRAY_H
#define BS_BACKENDS_LIST_ARRAY_H

#include <stddef.h>

#include "backends/backend.h"

typedef struct bs_list_array {
    bs_list_iter base; /* next/end walk items[pos..n) and free it all */
    bs_item_info *items; /* malloc'd by the backend, freed with the iterator */
    size_t n, pos;
} bs_list_array;

/* An empty iterator with next/end set; NULL when out of memory. */
bs_list_array *bs__list_array_new(void);

/* Frees the items and the iterator (what its end does). */
void bs__list_array_free(bs_list_array *it);

/* Sorts items[0..n) by name, in byte order (strcmp), and records the
 * memory held in base.bytes (called once the listing is collected). */
void bs__list_array_sort(bs_list_array *it);

#endif
