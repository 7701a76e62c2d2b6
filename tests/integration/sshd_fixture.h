/* Test-side access to the sshd that with-sshd.sh started (environment
 * BS_SSHD_*): its port and files, extra ssh configs, and extra user keys
 * (optionally with authorized_keys options such as a forced command). */
#ifndef BS_TEST_SSHD_FIXTURE_H
#define BS_TEST_SSHD_FIXTURE_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct bs_sshd {
    const char *dir;             /* the fixture's temp dir */
    int port;                    /* sshd on 127.0.0.1:port */
    const char *alias;           /* "bstest" in config */
    const char *config;          /* ssh config (BORGSTORE_SSH_CONFIG) */
    const char *user_key;        /* private key in authorized_keys */
    const char *host_pub;        /* the server's host public key file */
    const char *authorized_keys; /* sshd reads it on every login */
    const char *log;             /* sshd's log (LogLevel VERBOSE) */
} bs_sshd;

/* The running fixture; aborts the test when not run under with-sshd.sh. */
const bs_sshd *bs_sshd_get(void);

/* A fresh private directory for one test (removed by the caller with
 * bs_test_rmtree, or left in $TMPDIR). malloc'd. */
char *bs_sshd_scratch(void);

/* Writes text to dir/name and returns the malloc'd path. */
char *bs_sshd_write(const char *dir, const char *name, const char *text);

/* Writes an ssh config file dir/ssh_config with one "Host alias" block:
 *   "HostName 127.0.0.1", "Port <fixture port>", "User root",
 *   "IdentityFile <fixture user key>", "UserKnownHostsFile dir/known_hosts",
 *   "BatchMode yes"
 * followed by extra (may be NULL or several "\n"-separated lines; earlier
 * lines win in ssh configs, so override by passing fields in `replace`:
 * any of "HostName", "Port", "User", "IdentityFile", "UserKnownHostsFile"
 * given there as "Keyword value\n" lines replace the default line).
 * Returns the malloc'd path. */
char *bs_sshd_config(const char *dir, const char *alias, const char *replace,
                     const char *extra);

/* Generates a new ed25519 user key in dir (file name base) and, when
 * authorize is true, appends "options<space>pubkey" (options may be NULL) to
 * the fixture's authorized_keys. Returns the malloc'd private key path. */
char *bs_sshd_new_key(const char *dir, const char *base, bool authorize,
                      const char *options);

/* "[127.0.0.1]:port ssh-ed25519 AAAA..." for the fixture's real host key
 * (malloc'd), ready for a known_hosts file. */
char *bs_sshd_known_hosts_line(void);

/* SHA256:... fingerprint of the fixture's host key (malloc'd). */
char *bs_sshd_host_fingerprint(void);

/* Starts ssh-agent -D on a socket in dir, loads key into it, and sets
 * SSH_AUTH_SOCK for this process. Returns the agent's pid (stop it with
 * bs_sshd_stop_agent). */
pid_t bs_sshd_start_agent(const char *dir, const char *key);
void bs_sshd_stop_agent(pid_t pid);

/* A 127.0.0.1 TCP port that refuses connections: bound, never listening.
 * *fd keeps it reserved; close it afterwards. */
int bs_sshd_refusing_port(int *fd);

#endif
