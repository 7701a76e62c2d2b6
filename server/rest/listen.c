/* borgstore-serve --rest over TCP: binds --listen HOST:PORT (or takes fd 3
 * from systemd socket activation) and serves each accepted connection in a
 * child process, so per-connection state stays apart, exactly as a stdio
 * connection would be served. At most max_conns children run at once;
 * further connections wait in the kernel's backlog. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/rest/rest.h"

#define SD_LISTEN_FDS_START 3

/* "127.0.0.1:5618", "[::1]:5618" -> a bound, listening socket; -1 on error. */
static int bind_listen(const char *spec)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || !colon[1] || (size_t)(colon - spec) >= sizeof host) {
        fprintf(stderr, "borgstore-serve: --listen: expected HOST:PORT: %s\n", spec);
        return -1;
    }
    const char *h = spec;
    size_t hl = (size_t)(colon - spec);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') h++, hl -= 2;
    memcpy(host, h, hl);
    host[hl] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(host, colon + 1, &hints, &ai);
    if (rc) {
        fprintf(stderr, "borgstore-serve: --listen %s: %s (HOST must be an IP address)\n", spec,
                gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64)) {
        fprintf(stderr, "borgstore-serve: --listen %s: %s\n", spec, strerror(errno));
        if (fd >= 0) close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

/* fd 3 when LISTEN_PID is this process and LISTEN_FDS is 1; -1 otherwise. */
static int activated_fd(void)
{
    const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
    char *end;
    if (!pid || !fds || strtol(pid, &end, 10) != (long)getpid() || *end || strcmp(fds, "1")) {
        fprintf(stderr, "borgstore-serve: --socket-activation: LISTEN_PID/LISTEN_FDS do not "
                "hand this process exactly one socket\n");
        return -1;
    }
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    int type = 0;
    socklen_t tl = sizeof type;
    if (getsockopt(SD_LISTEN_FDS_START, SOL_SOCKET, SO_TYPE, &type, &tl) || type != SOCK_STREAM) {
        fprintf(stderr, "borgstore-serve: --socket-activation: fd 3 is not a stream socket\n");
        return -1;
    }
    return SD_LISTEN_FDS_START;
}

/* Prints the bound port ("PORT <n>") so a caller that asked for port 0 learns it. */
static void announce(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl)) return;
    unsigned port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                             : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    printf("PORT %u\n", port);
    fflush(stdout);
}

int serve_rest_listen(serve *s, const rest_cfg *cfg, const char *listen_addr,
                      bool socket_activation, unsigned max_conns)
{
    int lfd = socket_activation ? activated_fd() : bind_listen(listen_addr);
    if (lfd < 0) return SERVE_EXIT_CONFIG;
    if (!socket_activation) announce(lfd);
    signal(SIGPIPE, SIG_IGN);
    unsigned active = 0;
    for (;;) {
        /* reap the children that are done; wait for one while full */
        int st;
        pid_t p;
        while (active && (p = waitpid(-1, &st, active >= max_conns ? 0 : WNOHANG)) != 0) {
            if (p < 0) {
                if (errno == EINTR) continue;
                active = 0; /* ECHILD: none left */
                break;
            }
            active--;
        }
        int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            serve_log(s, BS_LOG_ERROR, "accept: %s", strerror(errno));
            close(lfd);
            return SERVE_EXIT_IO;
        }
        /* a response is written as head then body: without NODELAY, Nagle
         * holds the body until the client's delayed ACK (40 ms a request) */
        int one = 1;
        (void)setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pid_t child = fork();
        if (child == 0) {
            close(lfd);
            _exit(serve_rest_conn(s, cfg, cfd, cfd));
        }
        close(cfd);
        if (child < 0)
            serve_log(s, BS_LOG_ERROR, "fork: %s", strerror(errno));
        else
            active++;
    }
}
