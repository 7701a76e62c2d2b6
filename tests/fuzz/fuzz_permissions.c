/* Fuzz target: the --permissions / cfg.permissions parser (presets and a
 * JSON object). The input is the specification, optionally followed by NUL
 * separated item names to check against it. Checks: bounds on what parses,
 * and that a check of several letters passes exactly when one of them
 * alone would (the documented "at least one of" rule). */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"

#include "backends/permissions.h"
#include "common/error.h"

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    if (size > BS_PERMISSIONS_MAX_SPEC + 1024) return 0;
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    size_t spec_len = strlen(buf);

    bs_permissions *p = NULL;
    int rc = bs__permissions_parse(&p, buf);
    FUZZ_CHECK(rc == 0 || rc == BS_ERR_INVALID, "rc %d", rc);
    if (rc) {
        FUZZ_CHECK(!p, "permissions left behind on failure");
        free(buf);
        return 0;
    }
    FUZZ_CHECK(bs__permissions_count(p) <= BS_PERMISSIONS_MAX_ENTRIES, "%zu entries",
               bs__permissions_count(p));
    const char *fixed[] = {"", "data", "data/0123", "config/manifest", "locks/x", "a/b/c/d"};
    const char *names[64];
    size_t n = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) names[n++] = fixed[i];
    for (size_t off = spec_len + 1; off < size && n < 64; off += strlen(buf + off) + 1)
        names[n++] = buf + off;
    static const char letters[] = "lrwWD";
    for (size_t i = 0; i < n; i++) {
        bool any = false;
        for (int l = 0; l < 5; l++) {
            char one[2] = {letters[l], 0};
            rc = bs__permissions_check(p, names[i], one);
            FUZZ_CHECK(rc == 0 || rc == BS_ERR_PERMISSION, "check rc %d", rc);
            if (!p) FUZZ_CHECK(rc == 0, "no permissions set, yet %s refused", one);
            any |= rc == 0;
        }
        rc = bs__permissions_check(p, names[i], letters);
        FUZZ_CHECK((rc == 0) == any, "all letters %d, one by one %d", rc, any);
    }
    bs__permissions_free(p);
    free(buf);
    return 0;
}
