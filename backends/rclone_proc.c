/* Starting and stopping `rclone rcd` (see rclone_proc.h): fork + execve of
 * a binary resolved beforehand, a bounded wait for the "Serving remote
 * control on http://127.0.0.1:PORT/" log line, its log kept in a ring. */
#include "backends/rclone_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"

#define READY_TEXT "Serving remote control on http://"
#define LINE_MAX_LEN 4096
#define STOP_WAIT_MS 3000

extern char **environ;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void ring_put(bs_rclone_proc *p, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        p->ring[p->ring_pos] = data[i];
        p->ring_pos = (p->ring_pos + 1) % BS_RCLONE_RING;
        if (p->ring_len < BS_RCLONE_RING) p->ring_len++;
    }
}

void bs__rclone_drain(bs_rclone_proc *p)
{
    char buf[4096];
    while (p->err_fd >= 0) {
        ssize_t n = read(p->err_fd, buf, sizeof buf);
        if (n > 0) {
            ring_put(p, buf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) { /* it closed its stderr: it is gone */
            close(p->err_fd);
            p->err_fd = -1;
        }
        break;
    }
}

const char *bs__rclone_log_tail(bs_rclone_proc *p)
{
    if (p->err_fd >= 0) bs__rclone_drain(p);
    /* the last two lines at most */
    size_t n = p->ring_len, start = (p->ring_pos + BS_RCLONE_RING - n) % BS_RCLONE_RING;
    char lin[BS_RCLONE_RING];
    for (size_t i = 0; i < n; i++)
        lin[i] = p->ring[(start + i) % BS_RCLONE_RING];
    while (n && (lin[n - 1] == '\n' || lin[n - 1] == ' '))
        n--;
    size_t from = n, lines = 0;
    while (from > 0 && lines < 2) {
        from--;
        if (lin[from] == '\n') lines++;
    }
    if (lin[from] == '\n') from++;
    size_t k = 0;
    for (size_t i = from; i < n && k + 1 < sizeof p->tail; i++) {
        char c = lin[i];
        p->tail[k++] = (c == '\n' || c == '\t') ? ' ' : ((unsigned char)c < 0x20 ? '?' : c);
    }
    p->tail[k] = '\0';
    return p->tail;
}

const char *bs__rclone_exit_text(const bs_rclone_proc *p, char *buf, size_t cap)
{
    if (p->exit_status < 0)
        snprintf(buf, cap, "running");
    else if (WIFEXITED(p->exit_status))
        snprintf(buf, cap, "exited with status %d", WEXITSTATUS(p->exit_status));
    else if (WIFSIGNALED(p->exit_status))
        snprintf(buf, cap, "killed by signal %d", WTERMSIG(p->exit_status));
    else
        snprintf(buf, cap, "ended");
    return buf;
}

bool bs__rclone_alive(bs_rclone_proc *p)
{
    if (p->pid <= 0) return false;
    int st;
    pid_t r = waitpid(p->pid, &st, WNOHANG);
    if (r == 0) return true;
    p->exit_status = r == p->pid ? st : 0; /* ECHILD: someone else reaped it */
    p->pid = 0;
    return false;
}

void bs__rclone_stop(bs_rclone_proc *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        int64_t deadline = now_ms() + STOP_WAIT_MS;
        while (bs__rclone_alive(p) && now_ms() < deadline) {
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (p->pid > 0) {
            kill(p->pid, SIGKILL);
            int st;
            if (waitpid(p->pid, &st, 0) == p->pid) p->exit_status = st;
            p->pid = 0;
        }
    }
    if (p->err_fd >= 0) {
        bs__rclone_drain(p);
        if (p->err_fd >= 0) close(p->err_fd);
        p->err_fd = -1;
    }
}

/* The executable for name: itself when it contains a '/', else the first
 * match in PATH. malloc'd, or NULL. */
static char *resolve(const char *name)
{
    if (strchr(name, '/')) return access(name, X_OK) == 0 ? strdup(name) : NULL;
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        char *cand = NULL;
        if (asprintf(&cand, "%.*s/%s", (int)(n ? n : 1), n ? path : ".", name) < 0) return NULL;
        if (access(cand, X_OK) == 0) return cand;
        free(cand);
        path += n;
        if (*path == ':') path++;
    }
    return NULL;
}

/* Environment variables that would hide the ready line or set our
 * credentials differently: not passed on. */
static bool filtered(const char *var)
{
    static const char *const drop[] = {
        "RCLONE_RC_",    "RCLONE_LOG_FILE=",     "RCLONE_LOG_LEVEL=",
        "RCLONE_QUIET=", "RCLONE_USE_JSON_LOG=", "RCLONE_SYSLOG="};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        if (strncmp(var, drop[i], strlen(drop[i])) == 0) return true;
    return false;
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void child(pid_t parent, int errfd, const char *path, char *const argv[],
                  char *const envp[])
{
    setpgid(0, 0); /* out of the terminal's foreground group: no Ctrl-C */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127); /* the parent is already gone */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction ign = {.sa_handler = SIG_IGN}, dfl = {.sa_handler = SIG_DFL};
    sigaction(SIGINT, &ign, NULL);
    sigaction(SIGTERM, &dfl, NULL);
    sigaction(SIGPIPE, &dfl, NULL);
    sigaction(SIGHUP, &dfl, NULL);
    int null = open("/dev/null", O_RDWR);
    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(errfd, 2) < 0) _exit(127);
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3u, ~0u, 0) != 0)
#endif
        for (int fd = 3; fd < 4096; fd++)
            close(fd);
    execve(path, argv, envp);
    _exit(127);
}

/* Reads the log until the ready line gives the port. */
static int wait_ready(bs_rclone_proc *p, const char *name, int timeout_ms)
{
    char line[LINE_MAX_LEN + 1];
    size_t len = 0;
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            return bs__error_set(BS_ERR_IO,
                                 "rclone: %s rcd did not get ready within %d s; its log: %s",
                                 name, timeout_ms / 1000, bs__rclone_log_tail(p));
        }
        struct pollfd pfd = {.fd = p->err_fd, .events = POLLIN};
        int r = poll(&pfd, 1, (int)left);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        ssize_t n = read(p->err_fd, line + len, LINE_MAX_LEN - len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) {
            /* its stderr closed: it exited */
            int st;
            if (waitpid(p->pid, &st, 0) == p->pid) p->exit_status = st;
            p->pid = 0;
            char why[64];
            bs__rclone_exit_text(p, why, sizeof why);
            if (p->exit_status >= 0 && WIFEXITED(p->exit_status) &&
                WEXITSTATUS(p->exit_status) == 127 && !p->ring_len)
                return bs__error_set(BS_ERR_UNSUPPORTED, "rclone: cannot run %s", name);
            return bs__error_set(BS_ERR_IO,
                                 "rclone: %s rcd %s before it was ready (borgstore needs "
                                 "rclone >= 1.57.0); its log: %s",
                                 name, why, bs__rclone_log_tail(p));
        }
        ring_put(p, line + len, (size_t)n);
        len += (size_t)n;
        line[len] = '\0';
        char *hit = strstr(line, READY_TEXT);
        if (hit) {
            char *hp = hit + strlen(READY_TEXT);
            char *colon = strchr(hp, ':');
            char *end = colon ? strchr(colon, '/') : NULL;
            if (end) {
                long port = strtol(colon + 1, NULL, 10);
                if (port <= 0 || port > 65535)
                    return bs__error_set(BS_ERR_PROTOCOL, "rclone: cannot read its port: %s",
                                         bs__rclone_log_tail(p));
                p->port = (int)port;
                return 0;
            }
        }
        /* keep only the unfinished last line */
        char *nl = strrchr(line, '\n');
        if (nl) {
            size_t keep = len - (size_t)(nl + 1 - line);
            memmove(line, nl + 1, keep);
            len = keep;
        } else if (len == LINE_MAX_LEN) {
            len = 0;
        }
    }
}

int bs__rclone_start(bs_rclone_proc *p, const char *binary, const char *user, const char *pass,
                     int timeout_ms)
{
    memset(p, 0, sizeof *p);
    p->err_fd = -1;
    p->exit_status = -1;
    char *path = resolve(binary);
    if (!path)
        return bs__error_set(BS_ERR_UNSUPPORTED,
                             "rclone: '%s' not found or not executable (install rclone >= "
                             "1.57.0, or point RCLONE_BINARY at it)",
                             binary);
    size_t nenv = 0;
    while (environ && environ[nenv])
        nenv++;
    char **envp = calloc(nenv + 3, sizeof *envp);
    char *user_var = NULL;
    size_t pass_len = strlen("RCLONE_RC_PASS=") + strlen(pass) + 1;
    char *pass_var = sodium_malloc(pass_len);
    int pipefd[2] = {-1, -1};
    int rc = 0;
    if (!envp || !pass_var || asprintf(&user_var, "RCLONE_RC_USER=%s", user) < 0) {
        user_var = NULL;
        rc = bs__error_set(BS_ERR_NOMEM, "rclone: environment");
        goto out;
    }
    snprintf(pass_var, pass_len, "RCLONE_RC_PASS=%s", pass);
    size_t k = 0;
    for (size_t i = 0; i < nenv; i++)
        if (!filtered(environ[i])) envp[k++] = environ[i];
    envp[k++] = user_var;
    envp[k++] = pass_var;
    char *argv[] = {
        path, "rcd", "--rc-serve", "--rc-addr", "127.0.0.1:0", "--use-server-modtime", NULL};
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        rc = bs__error_errno(errno, "rclone: pipe");
        goto out;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        rc = bs__error_errno(errno, "rclone: fork");
        goto out;
    }
    if (pid == 0) child(parent, pipefd[1], path, argv, envp);
    close(pipefd[1]);
    pipefd[1] = -1;
    p->pid = pid;
    p->err_fd = pipefd[0];
    pipefd[0] = -1;
    /* our end only: rclone itself writes its log blocking */
    fcntl(p->err_fd, F_SETFL, fcntl(p->err_fd, F_GETFL) | O_NONBLOCK);
    fcntl(p->err_fd, F_SETPIPE_SZ, 1 << 20); /* room for a burst of log lines */
    rc = wait_ready(p, binary, timeout_ms);
    if (rc) bs__rclone_stop(p);
out:
    if (pipefd[0] >= 0) close(pipefd[0]);
    if (pipefd[1] >= 0) close(pipefd[1]);
    free(path);
    free(envp);
    free(user_var);
    sodium_free(pass_var);
    return rc;
}
