/* Name validation: the one gate every item name passes, on both sides of the
 * wire, before it is joined to a path or sent anywhere. */
#include "common/names.h"

#include <string.h>

#include "common/error.h"
#include "common/printable.h"

bool bs__ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

/* Returns NULL when valid, else the broken rule. */
static const char *check(const char *name)
{
    size_t len = strnlen(name, BS_NAME_MAX + 1);
    if (len > BS_NAME_MAX) return "name is too long (max 100)";
    if (len == 0) return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c >= 0x80) return "name must be plain ASCII";
        if (c < 0x20 || c == 0x7f) return "name must not contain control characters";
        if (c == '\\' || c == ' ') return "name must not contain backslashes or blanks";
        if (c >= 'A' && c <= 'Z') return "name must be lowercase";
        if (c == '/' && i + 1 < len && name[i + 1] == '/')
            return "name must not contain empty components";
    }
    if (name[0] == '/' || name[len - 1] == '/' || strstr(name, ".."))
        return "name must be relative and not contain '..'";
    /* "." components: a second spelling of the same item, which would slip
     * past permission entries (./protected/x is protected/x) */
    if (!strcmp(name, ".") || !strncmp(name, "./", 2) || strstr(name, "/./") ||
        (len >= 2 && !strcmp(name + len - 2, "/.")))
        return "name must not contain '.' components";
    if (bs__ends_with(name, BS_TMP_SUFFIX)) return "name must not end with .tmp";
    if (bs__ends_with(name, BS_HID_SUFFIX)) return "name must not end with .hid";
    return NULL;
}

bool bs__name_is_valid(const char *name)
{
    return name && check(name) == NULL;
}

int bs__name_validate(const char *name)
{
    if (!name) return bs__error_set(BS_ERR_INVALID, "name is NULL");
    const char *why = check(name);
    if (!why) return 0;
    /* Print at most the first 120 bytes, with non-printables escaped, so a
     * hostile name cannot forge log lines. */
    char shown[4 * 120 + 1];
    bs__printable(shown, sizeof shown, name, strnlen(name, 120));
    return bs__error_set(BS_ERR_INVALID, "%s: %s", why, shown);
}
