/* The test TCP relay (see tcp_relay.h): one child process, one poll loop
 * over the listener, the command pipe and every relayed socket pair. */
#include "tcp_relay.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PAIRS 32

typedef struct pair {
    int a, b; /* client side, server side; -1 when unused */
} pair;

static int connect_target(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    return fd;
}

static void cut_all(pair *p)
{
    for (int i = 0; i < MAX_PAIRS; i++) {
        if (p[i].a < 0) continue;
        /* RST rather than FIN: like a connection that died */
        struct linger lg = {1, 0};
        setsockopt(p[i].a, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(p[i].a);
        close(p[i].b);
        p[i].a = p[i].b = -1;
    }
}

static void relay_main(int lfd, int target, int cmd, int ack)
{
    pair p[MAX_PAIRS];
    for (int i = 0; i < MAX_PAIRS; i++)
        p[i].a = p[i].b = -1;
    uint64_t budget = UINT64_MAX; /* bytes until a cut */
    unsigned accepted = 0;
    static char buf[65536];
    for (;;) {
        struct pollfd fds[2 + 2 * MAX_PAIRS];
        int map[2 + 2 * MAX_PAIRS];
        int n = 0;
        fds[n].fd = lfd, fds[n].events = POLLIN, map[n++] = -1;
        fds[n].fd = cmd, fds[n].events = POLLIN, map[n++] = -2;
        for (int i = 0; i < MAX_PAIRS; i++) {
            if (p[i].a < 0) continue;
            fds[n].fd = p[i].a, fds[n].events = POLLIN, map[n++] = 2 * i;
            fds[n].fd = p[i].b, fds[n].events = POLLIN, map[n++] = 2 * i + 1;
        }
        if (poll(fds, (nfds_t)n, -1) < 0) {
            if (errno == EINTR) continue;
            _exit(1);
        }
        for (int k = 0; k < n; k++) {
            if (!fds[k].revents) continue;
            if (map[k] == -1) {
                int c = accept(lfd, NULL, NULL);
                if (c < 0) continue;
                int s = connect_target(target);
                int i = 0;
                while (i < MAX_PAIRS && p[i].a >= 0)
                    i++;
                if (s < 0 || i == MAX_PAIRS) {
                    close(c);
                    if (s >= 0) close(s);
                    continue;
                }
                int on = 1;
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
                p[i].a = c, p[i].b = s;
                accepted++;
            } else if (map[k] == -2) {
                char c;
                uint64_t arg = 0;
                if (read(cmd, &c, 1) != 1) _exit(0); /* the test went away */
                if (c == 'A' && read(cmd, &arg, sizeof arg) != sizeof arg) _exit(1);
                if (c == 'N') cut_all(p);
                if (c == 'A') budget = arg;
                if (c == 'C') {
                    if (write(ack, &accepted, sizeof accepted) < 0) _exit(1);
                    continue;
                }
                if (write(ack, "k", 1) != 1) _exit(1);
                goto next; /* the fd set changed */
            } else {
                int i = map[k] / 2;
                if (p[i].a < 0) continue;
                int from = map[k] % 2 ? p[i].b : p[i].a, to = map[k] % 2 ? p[i].a : p[i].b;
                ssize_t r = read(from, buf, sizeof buf);
                if (r <= 0) {
                    close(p[i].a);
                    close(p[i].b);
                    p[i].a = p[i].b = -1;
                    continue;
                }
                if ((uint64_t)r >= budget) {
                    budget = UINT64_MAX;
                    cut_all(p);
                    goto next;
                }
                if (budget != UINT64_MAX) budget -= (uint64_t)r;
                for (ssize_t off = 0; off < r;) {
                    ssize_t w = write(to, buf + off, (size_t)(r - off));
                    if (w <= 0) break;
                    off += w;
                }
            }
        }
    next:;
    }
}

void bs_relay_start(bs_relay *r, int target_port)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(lfd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    cr_assert_eq(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0, "bind: %s", strerror(errno));
    cr_assert_eq(listen(lfd, 16), 0);
    cr_assert_eq(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
    int cmd[2], ack[2];
    cr_assert_eq(pipe(cmd), 0);
    cr_assert_eq(pipe(ack), 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        signal(SIGPIPE, SIG_IGN);
        close(cmd[1]);
        close(ack[0]);
        relay_main(lfd, target_port, cmd[0], ack[1]);
        _exit(0);
    }
    close(lfd);
    close(cmd[0]);
    close(ack[1]);
    r->pid = pid;
    r->port = ntohs(sa.sin_port);
    r->cmd_fd = cmd[1];
    r->ack_fd = ack[0];
}

static void command(bs_relay *r, char c, const void *arg, size_t len, void *reply, size_t rlen)
{
    cr_assert_eq(write(r->cmd_fd, &c, 1), 1);
    if (len) cr_assert_eq(write(r->cmd_fd, arg, len), (ssize_t)len);
    cr_assert_eq(read(r->ack_fd, reply, rlen), (ssize_t)rlen, "relay did not answer");
}

void bs_relay_cut_now(bs_relay *r)
{
    char k;
    command(r, 'N', NULL, 0, &k, 1);
}

void bs_relay_cut_after(bs_relay *r, uint64_t bytes)
{
    char k;
    command(r, 'A', &bytes, sizeof bytes, &k, 1);
}

unsigned bs_relay_accepted(bs_relay *r)
{
    unsigned n;
    command(r, 'C', NULL, 0, &n, sizeof n);
    return n;
}

void bs_relay_stop(bs_relay *r)
{
    if (r->pid <= 0) return;
    kill(r->pid, SIGKILL);
    waitpid(r->pid, NULL, 0);
    close(r->cmd_fd);
    close(r->ack_fd);
    r->pid = 0;
}
