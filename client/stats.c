/* Rendering the Store's statistics (bs_store_stats_format): "key value" text
 * lines for people, one JSON object for scripts. Keys and order follow Python
 * borgstore's Store.stats. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "borgstore/store.h"
#include "common/buf.h"
#include "common/error.h"

typedef struct stat_field {
    const char *key;
    bool is_double;
    size_t offset;
} stat_field;

#define U(f) {#f, false, offsetof(bs_store_stats, f)}
#define D(f) {#f, true, offsetof(bs_store_stats, f)}
static const stat_field fields[] = {
    U(info_calls),   D(info_time),   U(load_calls),   D(load_time),
    U(store_calls),  D(store_time),  U(delete_calls), D(delete_time),
    U(move_calls),   D(move_time),   U(list_calls),   D(list_time),
    U(hash_calls),   D(hash_time),   U(load_volume),  D(load_throughput),
    U(store_volume), D(store_throughput),
    U(backend_load_calls),  U(backend_store_calls), U(backend_delete_calls),
    U(backend_load_volume), U(backend_store_volume),
    U(cache_hits), U(cache_misses), D(cache_hit_ratio), U(cache_errors),
    U(cache_load_calls), U(cache_store_calls), U(cache_delete_calls),
    U(cache_load_volume), U(cache_store_volume), U(cache_disabled),
    U(cache_corrupt), U(cache_evicted),
};
#undef U
#undef D

static int appendf(bs_buf *b, const char *fmt, ...) BS__PRINTF(2, 3);
static int appendf(bs_buf *b, const char *fmt, ...)
{
    char tmp[160];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) return bs__error_set(BS_ERR_INVALID, "stat too long");
    return bs__buf_append(b, tmp, (size_t)n);
}

int bs_store_stats_format(char **out, const bs_store_stats *st, bs_stats_format fmt)
{
    *out = NULL;
    if (fmt != BS_STATS_TEXT && fmt != BS_STATS_JSON)
        return bs__error_set(BS_ERR_INVALID, "unknown stats format %d", (int)fmt);
    bool json = fmt == BS_STATS_JSON;
    size_t n = sizeof fields / sizeof fields[0];
    bs_buf b = {0};
    int rc = json ? bs__buf_append(&b, "{", 1) : 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const char *p = (const char *)st + fields[i].offset;
        const char *sep = json ? (i + 1 < n ? ", " : "") : "\n";
        if (json)
            rc = fields[i].is_double
                     ? appendf(&b, "\"%s\": %.6f%s", fields[i].key, *(const double *)p, sep)
                     : appendf(&b, "\"%s\": %llu%s", fields[i].key,
                               (unsigned long long)*(const uint64_t *)p, sep);
        else
            rc = fields[i].is_double
                     ? appendf(&b, "%-22s %.6f%s", fields[i].key, *(const double *)p, sep)
                     : appendf(&b, "%-22s %llu%s", fields[i].key,
                               (unsigned long long)*(const uint64_t *)p, sep);
    }
    if (!rc && json) rc = bs__buf_append(&b, "}\n", 2);
    if (!rc) rc = bs__buf_append(&b, "", 1); /* NUL */
    if (rc) {
        bs__buf_free(&b);
        return rc;
    }
    size_t len;
    *out = (char *)bs__buf_steal(&b, &len);
    return *out ? 0 : bs__error_set(BS_ERR_NOMEM, NULL);
}
