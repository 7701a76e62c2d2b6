/* JSON answers of a REST server (see rest_list.h). The document is parsed
 * whole (the protocol has no paging), checked entry by entry, and kept as
 * a compact array the iterator walks. */
#include "client/rest/rest_list.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "backends/backend.h"
#include "client/rest/http_resp.h"
#include "common/error.h"
#include "common/names.h"

typedef struct rest_iter {
    bs_list_iter base;
    bs_item_info *items;
    size_t n, next;
} rest_iter;

static int iter_next(bs_list_iter *bi, bs_item_info *out)
{
    rest_iter *it = (rest_iter *)bi;
    if (it->next >= it->n) return 0;
    *out = it->items[it->next++];
    return 1;
}

static void iter_end(bs_list_iter *bi)
{
    rest_iter *it = (rest_iter *)bi;
    free(it->items);
    free(it);
}

/* Seconds (a JSON number) into ns; absent is 0. */
static bool seconds(json_t *v, int64_t *ns)
{
    *ns = 0;
    if (!v) return true;
    if (json_is_integer(v)) {
        json_int_t s = json_integer_value(v);
        if (s < -9000000000 || s > 9000000000) return false;
        *ns = (int64_t)s * 1000000000;
        return true;
    }
    return json_is_real(v) && bs__seconds_to_ns(json_real_value(v), ns);
}

static int malformed(const char *label, const char *what)
{
    return bs__error_set(BS_ERR_PROTOCOL, "REST server %s sent a malformed %s", label, what);
}

/* One entry into *out; 1 when kept, 0 when skipped (a name the API hides:
 * invalid or *.tmp), <0 when malformed. */
static int entry(json_t *e, bs_item_info *out, const char *label)
{
    json_t *name = json_object_get(e, "name"), *size = json_object_get(e, "size");
    json_t *dir = json_object_get(e, "directory");
    if (!json_is_object(e) || !json_is_string(name) || !json_is_integer(size) ||
        json_integer_value(size) < 0 || (dir && !json_is_boolean(dir)))
        return malformed(label, "list entry");
    memset(out, 0, sizeof *out);
    if (!seconds(json_object_get(e, "atime"), &out->atime_ns) ||
        !seconds(json_object_get(e, "mtime"), &out->mtime_ns))
        return malformed(label, "list entry time");
    const char *s = json_string_value(name);
    size_t len = json_string_length(name);
    if (len == 0 || len >= BS_NAME_BUF || strlen(s) != len || strchr(s, '/') ||
        !bs__name_is_valid(s) || bs__ends_with(s, ".tmp"))
        return 0;
    memcpy(out->name, s, len + 1);
    out->exists = true;
    out->directory = dir && json_is_true(dir);
    out->size = out->directory ? 0 : (uint64_t)json_integer_value(size);
    return 1;
}

int bs__rest_list_parse(bs_list_iter **out, const uint8_t *doc, size_t len, const char *label)
{
    *out = NULL;
    json_error_t jerr;
    json_t *arr = json_loadb((const char *)doc, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_array(arr)) {
        json_decref(arr);
        return malformed(label, "list (not a JSON array)");
    }
    rest_iter *it = calloc(1, sizeof *it);
    size_t n = json_array_size(arr);
    if (it) it->items = malloc((n ? n : 1) * sizeof *it->items);
    if (!it || !it->items) {
        if (it) free(it);
        json_decref(arr);
        return bs__error_set(BS_ERR_NOMEM, "list");
    }
    it->base.next = iter_next;
    it->base.end = iter_end;
    for (size_t i = 0; i < n; i++) {
        int rc = entry(json_array_get(arr, i), &it->items[it->n], label);
        if (rc < 0) {
            json_decref(arr);
            iter_end(&it->base);
            return rc;
        }
        it->n += (size_t)rc;
    }
    json_decref(arr);
    *out = &it->base;
    return 0;
}

int bs__rest_quota_parse(bs_quota *out, const uint8_t *doc, size_t len, const char *label)
{
    json_error_t jerr;
    json_t *o = json_loadb((const char *)doc, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *limit = json_object_get(o, "limit"), *usage = json_object_get(o, "usage");
    int rc = 0;
    if (!json_is_integer(limit) || !json_is_integer(usage)) {
        rc = malformed(label, "quota answer");
    } else {
        out->limit = json_integer_value(limit);
        out->usage = json_integer_value(usage);
    }
    json_decref(o);
    return rc;
}
