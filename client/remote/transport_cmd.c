/* Runs a server command remotely or locally and hands back its byte pipe:
 * locally by spawning argv; remotely with libssh, or with BORGSTORE_RSH
 * (split like a shell would, then "-p PORT" when the URL names a port,
 * "[user@]host" and the shell-quoted command). Shared by the msgpack
 * (ssh://, serve://) and REST (rest://) backends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/transport.h"
#include "common/error.h"
#include "proto/cmdline.h"

/* Appends s to a shell command line, single-quoted. */
static void shell_quote(char *out, size_t cap, const char *s)
{
    size_t o = strlen(out);
    if (o + 2 < cap) out[o++] = '\'';
    for (; *s && o + 5 < cap; s++) {
        if (*s == '\'') {
            memcpy(out + o, "'\\''", 4);
            o += 4;
        } else {
            out[o++] = *s;
        }
    }
    if (o + 1 < cap) out[o++] = '\'';
    out[o] = '\0';
}

int bs__transport_command(bs_transport **t, const bs_remote_target *to, char *const cmd[])
{
    if (!to || !to->host) return bs__transport_spawn(t, cmd);
    /* the remote side gets one command string, each word shell-quoted */
    char remote_cmd[8192] = "";
    for (size_t i = 0; cmd[i]; i++) {
        if (i) strcat(remote_cmd, " ");
        shell_quote(remote_cmd, sizeof remote_cmd, cmd[i]);
    }
    const char *rsh = getenv("BORGSTORE_RSH");
    if (!rsh || !*rsh)
        return bs__transport_ssh(t, to->user, to->host, to->port, to->ssh_config, remote_cmd);
    char **argv;
    size_t argc;
    int rc = bs__split_words(&argv, &argc, rsh);
    if (rc) return rc;
    if (!argc) {
        bs__argv_free(argv);
        return bs__error_set(BS_ERR_INVALID, "BORGSTORE_RSH is empty");
    }
    char **a = realloc(argv, (argc + 5) * sizeof *a);
    if (!a) {
        bs__argv_free(argv);
        return bs__error_set(BS_ERR_NOMEM, NULL);
    }
    char port[16], dest[1024];
    snprintf(port, sizeof port, "%d", to->port);
    snprintf(dest, sizeof dest, "%s%s%s", to->user ? to->user : "", to->user ? "@" : "", to->host);
    if (to->port) {
        a[argc++] = strdup("-p");
        a[argc++] = strdup(port);
    }
    a[argc++] = strdup(dest);
    a[argc++] = strdup(remote_cmd);
    a[argc] = NULL;
    for (size_t i = 0; i < argc; i++)
        if (!a[i]) rc = bs__error_set(BS_ERR_NOMEM, NULL);
    if (!rc) rc = bs__transport_spawn(t, a);
    bs__argv_free(a);
    return rc;
}
