/* A delaying TCP proxy for benchmarks: accepts on 127.0.0.1 and forwards
 * to a loopback port, holding each direction's bytes for half the requested
 * round-trip time. This kernel has no netem; this emulates WAN latency. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 32
#define CHUNK 65536

typedef struct chunk {
    struct chunk *next;
    int64_t due_ns; /* when it may be forwarded */
    size_t len, off;
    uint8_t data[];
} chunk;

typedef struct direction {
    int from, to;
    chunk *head, *tail;
    size_t queued;
    bool eof;
} direction;

typedef struct conn {
    bool used;
    direction dir[2]; /* 0: client -> target, 1: target -> client */
} conn;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void set_nodelay_nonblock(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static int connect_loopback(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    set_nodelay_nonblock(fd);
    return fd;
}

static void close_conn(conn *c)
{
    for (int d = 0; d < 2; d++) {
        while (c->dir[d].head) {
            chunk *n = c->dir[d].head->next;
            free(c->dir[d].head);
            c->dir[d].head = n;
        }
    }
    close(c->dir[0].from);
    close(c->dir[0].to);
    memset(c, 0, sizeof *c);
}

/* Reads what is available into a new chunk due at now + delay. */
static int pump_in(direction *d, int64_t delay_ns)
{
    chunk *ch = malloc(sizeof *ch + CHUNK);
    if (!ch) return -1;
    ssize_t n = read(d->from, ch->data, CHUNK);
    if (n <= 0) {
        free(ch);
        if (n == 0) { d->eof = true; return 0; }
        return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    }
    ch->next = NULL;
    ch->len = (size_t)n;
    ch->off = 0;
    ch->due_ns = now_ns() + delay_ns;
    if (d->tail) d->tail->next = ch; else d->head = ch;
    d->tail = ch;
    d->queued += (size_t)n;
    return 0;
}

/* Writes every chunk that is due. */
static int pump_out(direction *d, int64_t now)
{
    while (d->head && d->head->due_ns <= now) {
        chunk *ch = d->head;
        ssize_t n = write(d->to, ch->data + ch->off, ch->len - ch->off);
        if (n < 0) return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
        ch->off += (size_t)n;
        d->queued -= (size_t)n;
        if (ch->off < ch->len) return 0;
        d->head = ch->next;
        if (!d->head) d->tail = NULL;
        free(ch);
    }
    if (!d->head && d->eof) shutdown(d->to, SHUT_WR);
    return 0;
}

int main(int argc, char **argv)
{
    int listen_port = 0, target_port = 0;
    double rtt_ms = 10;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--listen")) listen_port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--target")) target_port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--rtt-ms")) rtt_ms = atof(argv[i + 1]);
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    if (target_port <= 0 || target_port > 65535 || rtt_ms < 0) {
        fprintf(stderr, "usage: delay_proxy --target PORT [--listen PORT] [--rtt-ms MS]\n"
                        "Forwards 127.0.0.1:LISTEN to 127.0.0.1:TARGET, delaying each\n"
                        "direction by RTT/2. Prints the listening port on stdout.\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int64_t delay_ns = (int64_t)(rtt_ms * 1e6 / 2);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)listen_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 16) < 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) < 0) {
        perror("delay_proxy: listen");
        return 1;
    }
    printf("%d\n", ntohs(a.sin_port));
    fflush(stdout);

    static conn conns[MAX_CONNS];
    for (;;) {
        struct pollfd pfd[1 + 2 * MAX_CONNS];
        int map[1 + 2 * MAX_CONNS];
        int n = 0;
        pfd[n++] = (struct pollfd){.fd = lfd, .events = POLLIN};
        int64_t now = now_ns(), next_due = INT64_MAX;
        for (int i = 0; i < MAX_CONNS; i++) {
            if (!conns[i].used) continue;
            for (int d = 0; d < 2; d++) {
                direction *dir = &conns[i].dir[d];
                short ev = 0;
                if (!dir->eof && dir->queued < 64 * CHUNK) ev |= POLLIN;
                if (dir->head && dir->head->due_ns <= now) {
                    /* Wait for writability on the peer socket instead. */
                    pfd[n] = (struct pollfd){.fd = dir->to, .events = POLLOUT};
                    map[n++] = i * 2 + d + 1000;
                }
                if (dir->head && dir->head->due_ns > now && dir->head->due_ns < next_due)
                    next_due = dir->head->due_ns;
                if (ev) {
                    pfd[n] = (struct pollfd){.fd = dir->from, .events = ev};
                    map[n++] = i * 2 + d;
                }
            }
        }
        int timeout = next_due == INT64_MAX ? 1000 : (int)((next_due - now) / 1000000) + 1;
        if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR) return 1;
        if (pfd[0].revents & POLLIN) {
            int cfd = accept(lfd, NULL, NULL);
            int slot = -1;
            for (int i = 0; i < MAX_CONNS && slot < 0; i++)
                if (!conns[i].used) slot = i;
            int tfd = cfd >= 0 && slot >= 0 ? connect_loopback(target_port) : -1;
            if (tfd < 0) {
                if (cfd >= 0) close(cfd);
            } else {
                set_nodelay_nonblock(cfd);
                conns[slot] = (conn){.used = true};
                conns[slot].dir[0] = (direction){.from = cfd, .to = tfd};
                conns[slot].dir[1] = (direction){.from = tfd, .to = cfd};
            }
        }
        for (int k = 1; k < n; k++) {
            if (!pfd[k].revents) continue;
            int id = map[k] >= 1000 ? map[k] - 1000 : map[k];
            conn *c = &conns[id / 2];
            if (!c->used) continue;
            direction *dir = &c->dir[id % 2];
            if (map[k] < 1000 && pump_in(dir, delay_ns) < 0) close_conn(c);
        }
        now = now_ns();
        for (int i = 0; i < MAX_CONNS; i++) {
            if (!conns[i].used) continue;
            for (int d = 0; d < 2 && conns[i].used; d++)
                if (pump_out(&conns[i].dir[d], now) < 0) close_conn(&conns[i]);
            if (conns[i].used && conns[i].dir[0].eof && conns[i].dir[1].eof &&
                !conns[i].dir[0].head && !conns[i].dir[1].head)
                close_conn(&conns[i]);
        }
    }
}
