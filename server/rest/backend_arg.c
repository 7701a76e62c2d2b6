/* The store a REST client names with --backend, in the two shapes that
 * start a REST server: borg's `FILE:<path>` (relative to the home
 * directory, absolute, `~` or `~user`) and Python borgstore's
 * `file:///abs/path`. Pure string work: the result still goes through
 * the restriction checks of the server core. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "server/rest/backend_arg.h"
#include "server/rest/http.h"

/* ~ and ~user -> their home directory. */
static int expand_home(char *out, size_t cap, const char *p)
{
    const char *slash = strchr(p, '/');
    size_t ulen = slash ? (size_t)(slash - p - 1) : strlen(p) - 1;
    const char *home = NULL;
    if (ulen == 0) {
        home = getenv("HOME");
        if (!home || !*home) {
            struct passwd *pw = getpwuid(getuid());
            home = pw ? pw->pw_dir : NULL;
        }
    } else {
        char user[256];
        if (ulen >= sizeof user) return bs__error_set(BS_ERR_INVALID, "user name too long");
        memcpy(user, p + 1, ulen);
        user[ulen] = '\0';
        struct passwd *pw = getpwnam(user);
        home = pw ? pw->pw_dir : NULL;
    }
    if (!home) return bs__error_set(BS_ERR_INVALID, "cannot expand %s: no home directory", p);
    int n = snprintf(out, cap, "%s%s", home, slash ? slash : "");
    if (n < 0 || (size_t)n >= cap) return bs__error_set(BS_ERR_INVALID, "path too long");
    return 0;
}

int bs__rest_backend_path(char *out, size_t cap, const char *spec)
{
    char tmp[4096];
    const char *p;
    if (!strncmp(spec, "FILE:", 5)) {
        p = spec + 5;
    } else if (!strncmp(spec, "file://", 7)) {
        /* file:///abs (an empty host) or file://localhost/abs */
        const char *rest = spec + 7;
        if (!strncmp(rest, "localhost/", 10)) rest += 9;
        if (rest[0] != '/')
            return bs__error_set(BS_ERR_URL_INVALID, "file:// URLs need an absolute path");
        if (bs__http_unquote(tmp, sizeof tmp, rest, strlen(rest), false)) return -1;
        p = tmp;
    } else {
        return bs__error_set(BS_ERR_URL_INVALID,
                             "--backend: expected FILE:<path> or file:///<path>");
    }
    if (!*p) return bs__error_set(BS_ERR_INVALID, "--backend: empty path");
    if (p[0] == '~') return expand_home(out, cap, p);
    int n = snprintf(out, cap, "%s", p);
    if (n < 0 || (size_t)n >= cap) return bs__error_set(BS_ERR_INVALID, "path too long");
    return 0;
}
