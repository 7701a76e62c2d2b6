/* Error messages in the user's words. The backends and borgstore-serve say
 * "one of permissions 'wW' required for 'data/00/00bb'": letters from the
 * permission spec and the nested on-disk name. The CLI says what was not
 * allowed and names the item as the user wrote it ("writing data/00bb"). */
#include <ctype.h>
#include <string.h>

#include "client/cli.h"

static const char perm_head[] = "one of permissions '";
static const char perm_mid[] = "' required for '";

/* What a set of permission letters allows, as an activity. */
static const char *activity(const char *letters, size_t n)
{
    static const struct {
        const char *letters, *words;
    } map[] = {
        {"wW", "writing"}, {"W", "overwriting"}, {"w", "creating"},
        {"D", "deleting"}, {"r", "reading"},     {"l", "listing"},
        {"lr", "reading"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strlen(map[i].letters) == n && !strncmp(map[i].letters, letters, n))
            return map[i].words;
    return "this operation on";
}

static bool hex2(const char *c, size_t n)
{
    return n == 2 && isxdigit((unsigned char)c[0]) && isxdigit((unsigned char)c[1]) &&
           !isupper((unsigned char)c[0]) && !isupper((unsigned char)c[1]);
}

void cli_unnest(char *out, size_t cap, const char *name, size_t len)
{
    /* the key: the last component */
    const char *key = name + len;
    while (key > name && key[-1] != '/') key--;
    size_t o = 0, digits = 0;
    const char *p = name;
    while (p < name + len && o + 1 < cap) {
        size_t n = strcspn(p, "/");
        if (p + n > name + len) n = (size_t)(name + len - p);
        bool nesting = p != key && hex2(p, n) && !strncmp(key + digits, p, 2) && p != name;
        if (nesting) {
            digits += 2;
        } else {
            if (o && o + 1 < cap) out[o++] = '/';
            for (size_t i = 0; i < n && o + 1 < cap; i++) out[o++] = p[i];
        }
        p += n + 1;
    }
    out[o] = '\0';
}

const char *cli_user_message(const char *msg, char *buf, size_t cap)
{
    const char *h = strstr(msg, perm_head);
    const char *m = h ? strstr(h + sizeof perm_head - 1, perm_mid) : NULL;
    const char *end = m ? strchr(m + sizeof perm_mid - 1, '\'') : NULL;
    if (!end) return msg;
    const char *letters = h + sizeof perm_head - 1;
    const char *name = m + sizeof perm_mid - 1;
    size_t nlen = (size_t)(end - name);
    const char *what = activity(letters, (size_t)(m - letters));
    if (nlen == 0) {
        snprintf(buf, cap,
                 "permission denied: %s the store's top directory is not allowed (creating "
                 "or destroying a store needs full access)",
                 what);
        return buf;
    }
    char item[BS_NAME_BUF * 2];
    bool deleted = nlen > 4 && !strncmp(end - 4, ".del", 4);
    cli_unnest(item, sizeof item, name, deleted ? nlen - 4 : nlen);
    snprintf(buf, cap, "permission denied: %s %s%s is not allowed", what, item,
             deleted ? " (soft-deleted)" : "");
    return buf;
}
