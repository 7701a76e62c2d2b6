/* The list iterator over a collected array of items (see list_array.h). */
#include "backends/list_array.h"

#include <stdlib.h>
#include <string.h>

static int list_array_next(bs_list_iter *it, bs_item_info *out)
{
    bs_list_array *la = (bs_list_array *)it;
    if (la->pos >= la->n) return 0;
    *out = la->items[la->pos++];
    return 1;
}

static void list_array_end(bs_list_iter *it)
{
    bs__list_array_free((bs_list_array *)it);
}

bs_list_array *bs__list_array_new(void)
{
    bs_list_array *it = calloc(1, sizeof *it);
    if (!it) return NULL;
    it->base.next = list_array_next;
    it->base.end = list_array_end;
    return it;
}

void bs__list_array_free(bs_list_array *it)
{
    free(it->items);
    free(it);
}

static int cmp_by_name(const void *a, const void *b)
{
    return strcmp(((const bs_item_info *)a)->name, ((const bs_item_info *)b)->name);
}

void bs__list_array_sort(bs_list_array *it)
{
    if (it->n > 1) qsort(it->items, it->n, sizeof *it->items, cmp_by_name);
    it->base.bytes = it->n * sizeof *it->items;
}
