/* Fuzz target: backend URL parsing. The input is a URL (a NUL ends it
 * early). Whatever parses must be self-consistent (known scheme, absolute
 * local paths, a host for ssh, ports in range), percent-decoding never
 * grows a string, and building a backend from the URL (which touches no
 * storage for file://, serve:// and ssh://) agrees with the parser. */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"

#include "borgstore/backend.h"
#include "common/error.h"
#include "common/url.h"

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    char url[4096];
    size_t n = size < sizeof url - 1 ? size : sizeof url - 1;
    memcpy(url, data, n);
    url[n] = '\0';

    char *dec = bs__percent_decode(url, n);
    if (dec) {
        FUZZ_CHECK(strlen(dec) <= n, "decoding grew the string");
        free(dec);
    }

    bs_url u;
    int rc = bs__url_parse(&u, url);
    FUZZ_CHECK(rc == 0 || rc == BS_ERR_URL_INVALID, "rc %d", rc);
    bool parsed = rc == 0;
    bool local = false, remote = false;
    if (parsed) {
        local = !strcmp(u.scheme, "file") || !strcmp(u.scheme, "serve");
        remote = !strcmp(u.scheme, "ssh") || !strcmp(u.scheme, "sftp");
        bool rclone = !strcmp(u.scheme, "rclone");
        bool rest = !strcmp(u.scheme, "rest"); /* remote with a host, else local */
        if (rest && u.host) remote = true;
        if (rest && !u.host) local = true;
        FUZZ_CHECK(local || remote || rclone, "unknown scheme %s accepted", u.scheme);
        if (local) FUZZ_CHECK(u.path && u.path[0] == '/' && !u.host, "local URL fields");
        if (remote) FUZZ_CHECK(u.host && *u.host && u.path && *u.path, "remote URL fields");
        if (rclone) FUZZ_CHECK(u.rest && *u.rest && !u.path, "rclone URL fields");
        FUZZ_CHECK(u.port >= 0 && u.port <= 65535, "port %d", u.port);
        if (u.port) FUZZ_CHECK(remote, "port on a local URL");
        if (u.user) FUZZ_CHECK(*u.user && remote, "user field");
        bs__url_clear(&u);
    }
    bs__url_clear(&u); /* clearing twice is harmless */

    /* constructors: file://, serve://, ssh:// and rest:// touch nothing yet */
    if (strncmp(url, "file:", 5) && strncmp(url, "serve:", 6) && strncmp(url, "ssh:", 4) &&
        strncmp(url, "rest:", 5))
        return 0;
    bs_backend *b = NULL;
    bs_backend_config cfg = {0};
    rc = bs_backend_new(&b, url, &cfg);
    if (rc == 0) {
        FUZZ_CHECK(parsed && b, "backend built from an unparsable URL");
        if (remote) {
            bs_url v;
            FUZZ_CHECK(bs__url_parse(&v, url) == 0, "reparse");
            FUZZ_CHECK(v.host[0] != '-' && (!v.user || v.user[0] != '-'),
                       "an ssh option could be smuggled in as host or user");
            bs__url_clear(&v);
        }
        bs_backend_free(b);
    } else {
        FUZZ_CHECK(!b, "backend left behind on failure");
    }
    return 0;
}
