/* Fuzz target: item name validation and nesting. The input is a name (a
 * NUL ends it early); the validator must agree with an independent reading
 * of the rules in docs/backends.md, and every valid name must nest and
 * unnest back to itself at every level its key allows. */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"

#include "common/error.h"
#include "common/names.h"
#include "common/nesting.h"

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && !memcmp(s + n - k, suffix, k);
}

/* The rules, written out once more from the documentation. */
static bool reference_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0) return true;
    if (n > BS_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c >= 0x7f || c == '\\' || (c >= 'A' && c <= 'Z')) return false;
    }
    if (s[0] == '/' || s[n - 1] == '/' || strstr(s, "//") || strstr(s, "..")) return false;
    if (!strcmp(s, ".") || !strncmp(s, "./", 2) || strstr(s, "/./") ||
        (n >= 2 && s[n - 2] == '/' && s[n - 1] == '.'))
        return false;
    return !ends_with(s, n, ".tmp") && !ends_with(s, n, ".hid");
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    char name[512];
    size_t n = size < sizeof name - 1 ? size : sizeof name - 1;
    memcpy(name, data, n);
    name[n] = '\0';

    bool valid = bs__name_is_valid(name);
    int rc = bs__name_validate(name);
    FUZZ_CHECK(valid == (rc == 0), "validate %d, is_valid %d", rc, valid);
    FUZZ_CHECK(rc == 0 || rc == BS_ERR_INVALID, "rc %d", rc);
    FUZZ_CHECK(valid == reference_valid(name), "validator says %d for \"%s\"", valid, name);
    if (!valid) {
        /* the message must not carry raw control bytes (no forged log lines) */
        for (const char *m = bs_error_message(); *m; m++)
            FUZZ_CHECK((unsigned char)*m >= 0x20 && (unsigned char)*m < 0x7f,
                       "raw byte 0x%02x in the message", (unsigned char)*m);
        return 0;
    }
    if (!*name) return 0;

    const char *slash = strrchr(name, '/');
    char ns[BS_NAME_BUF] = "";
    if (slash) memcpy(ns, name, (size_t)(slash - name));
    size_t key_len = strlen(slash ? slash + 1 : name);
    static const char *const suffixes[] = {NULL, ".del"};
    for (int levels = 0; levels <= 8; levels++) {
        for (int sfx = 0; sfx < 2; sfx++) {
            char nested[512], back[512];
            rc = bs__nest(nested, sizeof nested, name, levels, suffixes[sfx]);
            if (key_len < (size_t)levels * 2) {
                FUZZ_CHECK(rc == BS_ERR_INVALID, "key too short, nest gave %d", rc);
                continue;
            }
            FUZZ_CHECK(rc == 0, "nest(%s, %d): %s", name, levels, bs_error_message());
            FUZZ_CHECK(!strncmp(nested, name, strlen(ns)), "namespace lost in %s", nested);
            rc = bs__unnest(back, sizeof back, nested, slash ? ns : NULL, suffixes[sfx]);
            FUZZ_CHECK(rc == 0, "unnest(%s): %s", nested, bs_error_message());
            if (!(sfx && ends_with(name, strlen(name), ".del")))
                FUZZ_CHECK(!strcmp(back, name), "%s -> %s -> %s", name, nested, back);
        }
    }
    return 0;
}
