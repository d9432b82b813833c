/* io_util.h — helpers of the io tests: socket pairs and loopback TCP. */
#ifndef KIN_TEST_IO_UTIL_H
#define KIN_TEST_IO_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

/* A non-blocking, close-on-exec AF_UNIX stream pair. */
static inline void io_pair(int sv[2]) {
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                        sv),
             0);
}

/* A listening TCP socket on 127.0.0.1, ephemeral port (in *port). */
static inline int io_listen(int *port) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(s >= 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK_EQ(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    CHECK_EQ(listen(s, 128), 0);
    socklen_t len = sizeof a;
    CHECK_EQ(getsockname(s, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return s;
}

/* Connects a new non-blocking TCP socket to 127.0.0.1:port (suspends). */
static inline int io_connect(int port) {
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(c >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK_EQ(kin_connect(c, (struct sockaddr *)&a, sizeof a), 0);
    return c;
}

static inline int64_t io_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Bytes waiting to be read on a socket. */
static inline long io_pending(int fd) {
    char buf[4096];
    long n = recv(fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 ? 0 : n;
}

#endif
