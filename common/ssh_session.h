/* Opening an authenticated SSH session with libssh: one module shared by the
 * ssh:// transport and the sftp:// backend. It reads the OpenSSH client
 * config, verifies the server's host key against known_hosts (strict by
 * default, accept-new on request) and logs in with the agent or key files. */
#ifndef BS_COMMON_SSH_SESSION_H
#define BS_COMMON_SSH_SESSION_H

#include <stddef.h>

#include <libssh/libssh.h>

/* Connect timeout and the bound of every blocking libssh call made while
 * opening (seconds). ConnectTimeout in the ssh config overrides it. */
#define BS_SSH_DEFAULT_TIMEOUT 30

/* Opens a session to host and authenticates.
 *   user    login name; NULL: the config's User, else the local user
 *   host    host name or a Host alias of the ssh config
 *   port    TCP port; 0: the config's Port, else 22
 *   config  ssh config file; NULL or "": $BORGSTORE_SSH_CONFIG when set, else
 *           ~/.ssh/config and /etc/ssh/ssh_config (like OpenSSH's ssh -F)
 * Values given here win over the config (as on ssh's command line). The
 * session is left in blocking mode with TCP_NODELAY and TCP keepalive on.
 * $BORGSTORE_SSH_DEBUG=1..4 raises libssh's log level (to stderr).
 *
 * Returns 0 and the session in *out (close with bs__ssh_session_close), or:
 *   BS_ERR_INVALID     the config file is missing or malformed
 *   BS_ERR_CONNECTION  name resolution, connect (refused, unreachable, timed
 *                      out) or protocol failure
 *   BS_ERR_PERMISSION  unknown host key in strict mode, changed host key,
 *                      or no accepted authentication
 *   BS_ERR_IO          the known_hosts file could not be updated
 *   BS_ERR_NOMEM
 * Every message names the host and says how to fix the problem. */
int bs__ssh_session_open(ssh_session *out, const char *user, const char *host, int port,
                         const char *config);

/* Disconnects and frees session (NULL is fine). */
void bs__ssh_session_close(ssh_session session);

/* "user@host:port" of an open session, for messages. Written into buf. */
const char *bs__ssh_session_label(ssh_session session, char *buf, size_t cap);

/* Looks keyword up for host in an OpenSSH client config the way ssh does
 * (Host and Match blocks, Include, first value wins, case-insensitive
 * keywords). config as for bs__ssh_session_open (NULL: BORGSTORE_SSH_CONFIG
 * or the default files). Copies the first argument (unquoted) to out.
 * Returns 1 when found, 0 when not, BS_ERR_INVALID when config names a file
 * that cannot be read. libssh parses the config for everything it supports;
 * this covers what libssh 0.10 cannot report back (StrictHostKeyChecking). */
int bs__ssh_config_get(const char *config, const char *host, const char *keyword,
                       char *out, size_t cap);

#endif
