/* Test-side helpers for the sshd started by with-sshd.sh (see
 * sshd_fixture.h): configs, keys, known_hosts lines, an ssh-agent, and a
 * port that refuses connections. */
#include "sshd_fixture.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <libssh/libssh.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

static const char *env_or_fail(const char *name)
{
    const char *v = getenv(name);
    cr_assert(v && *v, "%s not set: run this test through tests/integration/with-sshd.sh",
              name);
    return v;
}

const bs_sshd *bs_sshd_get(void)
{
    static bs_sshd s;
    if (!s.dir) {
        s.port = atoi(env_or_fail("BS_SSHD_PORT"));
        s.alias = env_or_fail("BS_SSHD_ALIAS");
        s.config = env_or_fail("BORGSTORE_SSH_CONFIG");
        s.user_key = env_or_fail("BS_SSHD_USER_KEY");
        s.host_pub = env_or_fail("BS_SSHD_HOST_PUB");
        s.authorized_keys = env_or_fail("BS_SSHD_AUTHORIZED_KEYS");
        s.log = env_or_fail("BS_SSHD_LOG");
        s.dir = env_or_fail("BS_SSHD_DIR");
    }
    return &s;
}

char *bs_sshd_scratch(void)
{
    return bs_test_tmpdir();
}

char *bs_sshd_write(const char *dir, const char *name, const char *text)
{
    char *path = NULL;
    cr_assert(asprintf(&path, "%s/%s", dir, name) > 0);
    cr_assert_eq(bs_test_write_file(path, text, strlen(text)), 0, "cannot write %s", path);
    return path;
}

/* The value of "Keyword value" in lines, or NULL (static buffer). */
static const char *replaced(const char *lines, const char *keyword)
{
    static char value[1024];
    size_t klen = strlen(keyword);
    for (const char *p = lines; p && *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > klen && strncasecmp(p, keyword, klen) == 0 && p[klen] == ' ') {
            snprintf(value, sizeof value, "%.*s", (int)(len - klen - 1), p + klen + 1);
            return value;
        }
        p = end ? end + 1 : p + len;
    }
    return NULL;
}

char *bs_sshd_config(const char *dir, const char *alias, const char *replace,
                     const char *extra)
{
    const bs_sshd *s = bs_sshd_get();
    char port[16], kh[1024];
    snprintf(port, sizeof port, "%d", s->port);
    snprintf(kh, sizeof kh, "%s/known_hosts", dir);
    const struct { const char *kw, *def; } fields[] = {
        {"HostName", "127.0.0.1"}, {"Port", port},          {"User", "root"},
        {"IdentityFile", s->user_key}, {"UserKnownHostsFile", kh},
    };
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    fprintf(f, "Host %s\n", alias);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *v = replaced(replace, fields[i].kw);
        if (!v) v = fields[i].def;
        if (*v) fprintf(f, "  %s %s\n", fields[i].kw, v);
    }
    fprintf(f, "  BatchMode yes\n");
    if (extra) fprintf(f, "%s\n", extra);
    fclose(f);
    char *path = bs_sshd_write(dir, "ssh_config", text);
    free(text);
    return path;
}

char *bs_sshd_new_key(const char *dir, const char *base, bool authorize, const char *options)
{
    ssh_key key = NULL, pub = NULL;
    char *path = NULL, *b64 = NULL;
    cr_assert(asprintf(&path, "%s/%s", dir, base) > 0);
    cr_assert_eq(ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key), SSH_OK);
    cr_assert_eq(ssh_pki_export_privkey_file(key, NULL, NULL, NULL, path), SSH_OK);
    chmod(path, 0600);
    if (authorize) {
        cr_assert_eq(ssh_pki_export_privkey_to_pubkey(key, &pub), SSH_OK);
        cr_assert_eq(ssh_pki_export_pubkey_base64(pub, &b64), SSH_OK);
        FILE *f = fopen(bs_sshd_get()->authorized_keys, "a");
        cr_assert_not_null(f, "authorized_keys: %s", strerror(errno));
        fprintf(f, "%s%sssh-ed25519 %s %s\n", options ? options : "", options ? " " : "", b64,
                base);
        cr_assert_eq(fclose(f), 0);
        ssh_string_free_char(b64);
        ssh_key_free(pub);
    }
    ssh_key_free(key);
    return path;
}

char *bs_sshd_known_hosts_line(void)
{
    const bs_sshd *s = bs_sshd_get();
    char *pub = bs_test_read_file(s->host_pub, NULL);
    cr_assert_not_null(pub);
    char type[64], b64[1024];
    cr_assert_eq(sscanf(pub, "%63s %1023s", type, b64), 2);
    free(pub);
    char *line = NULL;
    cr_assert(asprintf(&line, "[127.0.0.1]:%d %s %s\n", s->port, type, b64) > 0);
    return line;
}

char *bs_sshd_host_fingerprint(void)
{
    ssh_key key = NULL;
    unsigned char *hash = NULL;
    size_t hlen = 0;
    cr_assert_eq(ssh_pki_import_pubkey_file(bs_sshd_get()->host_pub, &key), SSH_OK);
    cr_assert_eq(ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen), 0);
    char *fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
    cr_assert_not_null(fp);
    char *copy = strdup(fp);
    ssh_string_free_char(fp);
    ssh_clean_pubkey_hash(&hash);
    ssh_key_free(key);
    return copy;
}

pid_t bs_sshd_start_agent(const char *dir, const char *key)
{
    char sock[1024];
    snprintf(sock, sizeof sock, "%s/agent.sock", dir);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        execlp("ssh-agent", "ssh-agent", "-D", "-a", sock, (char *)NULL);
        _exit(127);
    }
    /* Bounded wait until the agent's socket exists. */
    struct stat st;
    for (int i = 0; i < 200 && stat(sock, &st) != 0; i++) {
        int status;
        cr_assert_eq(waitpid(pid, &status, WNOHANG), 0, "ssh-agent exited");
        nanosleep(&(struct timespec){0, 25 * 1000 * 1000}, NULL);
    }
    cr_assert_eq(stat(sock, &st), 0, "ssh-agent socket %s did not appear", sock);
    setenv("SSH_AUTH_SOCK", sock, 1);
    char *cmd = NULL;
    cr_assert(asprintf(&cmd, "ssh-add '%s' >/dev/null 2>&1", key) > 0);
    cr_assert_eq(system(cmd), 0, "ssh-add failed");
    free(cmd);
    return pid;
}

void bs_sshd_stop_agent(pid_t pid)
{
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    unsetenv("SSH_AUTH_SOCK");
}

int bs_sshd_refusing_port(int *fd)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    *fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(*fd >= 0);
    cr_assert_eq(bind(*fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(getsockname(*fd, (struct sockaddr *)&a, &len), 0);
    return ntohs(a.sin_port);
}
