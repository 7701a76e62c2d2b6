/* nest / unnest (see nesting.h). The key is the last path component and
 * stays whole at the bottom, so a sorted directory lists keys in order. */
#include "common/nesting.h"

#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/names.h"

#define BS_LEVELS_MAX 8

int bs__nest(char *out, size_t cap, const char *name, int levels, const char *suffix)
{
    if (levels < 0 || levels > BS_LEVELS_MAX)
        return bs__error_set(BS_ERR_INVALID, "nesting level %d out of range", levels);
    const char *slash = strrchr(name, '/');
    size_t ns_len = slash ? (size_t)(slash - name) : 0;
    const char *key = slash ? slash + 1 : name;
    size_t key_len = strlen(key);
    if (key_len < (size_t)levels * 2)
        return bs__error_set(BS_ERR_INVALID, "key too short for %d nesting levels: %s",
                             levels, name);
    size_t o = 0;
    char tmp[512];
    if (ns_len + 3 * (size_t)levels + 2 > sizeof tmp)
        return bs__error_set(BS_ERR_INVALID, "name too long to nest");
    if (slash) {
        memcpy(tmp, name, ns_len);
        o = ns_len;
        tmp[o++] = '/';
    }
    for (int l = 0; l < levels; l++) {
        tmp[o++] = key[2 * l];
        tmp[o++] = key[2 * l + 1];
        tmp[o++] = '/';
    }
    int n = snprintf(out, cap, "%.*s%s%s", (int)o, tmp, key, suffix ? suffix : "");
    if (n < 0 || (size_t)n >= cap)
        return bs__error_set(BS_ERR_INVALID, "nested name too long: %s", name);
    return 0;
}

int bs__unnest(char *out, size_t cap, const char *nested, const char *ns,
               const char *suffix)
{
    size_t ns_len = ns ? strlen(ns) : 0;
    bool ns_slash = ns_len > 0 && ns[ns_len - 1] == '/';
    if (ns_len) {
        if (strncmp(nested, ns, ns_len) != 0 ||
            (!ns_slash && nested[ns_len] != '/'))
            return bs__error_set(BS_ERR_INVALID, "name %s does not start with namespace %s",
                                 nested, ns);
    }
    const char *slash = strrchr(nested, '/');
    const char *key = slash ? slash + 1 : nested;
    size_t key_len = strlen(key);
    if (suffix && *suffix && bs__ends_with(key, suffix)) key_len -= strlen(suffix);
    int n = snprintf(out, cap, "%.*s%s%.*s", (int)ns_len, ns ? ns : "",
                     ns_len && !ns_slash ? "/" : "", (int)key_len, key);
    if (n < 0 || (size_t)n >= cap)
        return bs__error_set(BS_ERR_INVALID, "unnested name too long: %s", nested);
    return 0;
}
