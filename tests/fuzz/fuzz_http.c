/* Fuzz target: the REST front-end's HTTP head parser (server/rest/http.c)
 * and the decoders it feeds (query values, the path, Range). A complete
 * head must be self-consistent (target starts with '/', the path is a
 * prefix of it, consumed within the input) and no shorter prefix of it may
 * already look complete. */
#include <string.h>

#include "fuzz.h"

#include "borgstore/errors.h"
#include "server/rest/http.h"

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    static bs_http_req r, again;
    size_t used = 0;
    int rc = bs__http_parse_head(&r, data, size, &used);
    FUZZ_CHECK(rc == 1 || rc == 0 || rc == BS_ERR_PROTOCOL, "rc %d", rc);
    if (rc != 1) return 0;
    FUZZ_CHECK(used > 0 && used <= size && used <= BS_HTTP_HEAD_MAX, "consumed %zu", used);
    FUZZ_CHECK(r.target[0] == '/' && r.path_len <= strlen(r.target), "target");
    FUZZ_CHECK(r.query >= r.target && r.query <= r.target + strlen(r.target), "query");
    size_t u2;
    FUZZ_CHECK(bs__http_parse_head(&again, data, used - 1, &u2) != 1, "complete before its end");
    char v[BS_HTTP_TARGET_MAX + 1];
    if (bs__http_unquote(v, sizeof v, r.target, r.path_len, false) == 0)
        FUZZ_CHECK(strlen(v) <= r.path_len, "decoding grew the path");
    static const char *const keys[] = {"cmd", "current", "new", "target", "levels"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        int q = bs__http_query_get(r.query, keys[i], v, 101);
        FUZZ_CHECK(q == 0 || q == 1 || q == BS_ERR_INVALID, "query rc %d", q);
        if (q == 1) FUZZ_CHECK(strlen(v) <= 100, "query value over its cap");
    }
    if (r.has_range) {
        int64_t off, sz;
        bs__http_range(r.range, &off, &sz);
        FUZZ_CHECK(sz == -1 || (sz > 0 && off >= 0), "range %lld %lld", (long long)off,
                   (long long)sz);
    }
    return 0;
}
