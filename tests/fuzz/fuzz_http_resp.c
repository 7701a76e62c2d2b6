/* Fuzz target: the REST client's HTTP response head parser (untrusted
 * server bytes). The first byte picks a chunk size, the rest is fed in
 * chunks of that size: the parser must never take more than it was given,
 * must respect its bounds, and a complete head must have sane fields. */
#include <string.h>

#include "fuzz.h"

#include "borgstore/errors.h"
#include "client/rest/http_resp.h"

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    size_t chunk = (size_t)data[0] % 64 + 1;
    data++;
    size--;
    bs__http_resp r;
    bs__http_resp_init(&r);
    size_t off = 0;
    int rc = 0;
    while (off < size && rc == 0) {
        size_t n = size - off < chunk ? size - off : chunk;
        size_t used = 0;
        rc = bs__http_resp_head(&r, data + off, n, &used);
        FUZZ_CHECK(used <= n, "used %zu of %zu", used, n);
        FUZZ_CHECK(rc == 1 || rc < 0 || used == n, "stopped early without a result");
        off += used;
    }
    FUZZ_CHECK(rc == 0 || rc == 1 || rc == BS_ERR_PROTOCOL, "rc %d", rc);
    FUZZ_CHECK(r.head_len <= BS_HTTP_HEAD_MAX + 1, "head %zu", r.head_len);
    FUZZ_CHECK(r.headers <= BS_HTTP_HEADERS_MAX + 1, "headers %u", r.headers);
    if (rc == 1) {
        FUZZ_CHECK(r.status >= 100 && r.status <= 999, "status %d", r.status);
        FUZZ_CHECK(strlen(r.reason) <= BS_HTTP_REASON_MAX, "reason");
        for (const char *c = r.reason; *c; c++)
            FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f, "control character in reason");
        FUZZ_CHECK(!r.has_length || r.content_length <= BS_HTTP_LENGTH_MAX, "length");
        FUZZ_CHECK(r.is_dir >= -1 && r.is_dir <= 1, "is_dir");
        /* once done, more bytes are not head */
        size_t used = 1;
        FUZZ_CHECK(bs__http_resp_head(&r, data, size, &used) == 1 && used == 0, "after done");
    }
    int64_t ns;
    char s[40];
    size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
    memcpy(s, data, n);
    s[n] = '\0';
    (void)bs__http_parse_seconds(s, &ns);
    return 0;
}
