/* An echo server: a coroutine per connection under a supervisor, stopped by SIGINT/SIGTERM.
 *
 *   echo_server PORT   serves 127.0.0.1:PORT (0: an ephemeral port, printed)
 *                      until SIGINT or SIGTERM
 *   echo_server        self-test: serves an ephemeral port, connects three
 *                      clients itself, echoes, then signals itself and stops
 *
 * Every connection is a coroutine under a supervisor scope, so one failing
 * connection does not stop the others. A signal (read from a signalfd with
 * kin_wait_fd: no handler runs in a random thread) cancels the server's
 * job; each connection then finishes its cleanup in a non-cancellable
 * section (it says goodbye and closes its socket) before the server's scope
 * returns, and the program exits 0 with every fd closed.
 */
#define _GNU_SOURCE /* signalfd, accept4 flags, pthread_sigmask */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kin.h>

typedef struct server {
    int listen_fd;
    int served; /* connections accepted */
    int open;   /* connections not yet closed */
} server;

static server srv;

typedef struct conn {
    int fd;
    int id;
} conn;

static int say_goodbye(void *arg) {
    conn *c = arg;
    static const char bye[] = "server shutting down\n";
    kin_send(c->fd, bye, sizeof bye - 1, 0); /* best effort */
    return 0;
}

/* One connection: echo until the client closes, or the server stops. */
static int serve_conn(void *arg) {
    conn c = *(conn *)arg;
    free(arg);
    char buf[4096];
    int rc = 0;
    for (;;) {
        long n = kin_recv(c.fd, buf, sizeof buf, 0);
        if (n <= 0) {
            rc = (int)n; /* 0: the client closed; else an error or cancel */
            break;
        }
        long w = kin_send(c.fd, buf, (size_t)n, 0);
        if (w != n) {
            rc = w < 0 ? (int)w : -EPIPE;
            break;
        }
    }
    if (rc == KIN_ECANCELED) /* cleanup may suspend: non-cancellable */
        kin_non_cancellable(say_goodbye, &c);
    kin_close(c.fd);
    srv.open--;
    return rc == KIN_ECANCELED || rc == 0 ? rc : 0; /* errors end only it */
}

/* The accept loop, inside the supervisor scope. */
static int accept_loop(void *arg) {
    (void)arg;
    for (;;) {
        int fd = kin_accept(srv.listen_fd, NULL, NULL);
        if (fd == -EMFILE || fd == -ENFILE) { /* out of fds: back off */
            fprintf(stderr, "echo_server: accept: %s\n", kin_strerror(fd));
            KIN_TRY(kin_delay(100));
            continue;
        }
        if (fd < 0)
            return fd; /* KIN_ECANCELED when the server stops */
        conn *c = malloc(sizeof *c);
        if (!c) {
            kin_close(fd);
            continue;
        }
        *c = (conn){fd, srv.served++};
        srv.open++;
        kin_launch_opts o = {.name = "connection"};
        if (kin_launch(NULL, &o, serve_conn, c) < 0) {
            free(c);
            kin_close(fd);
            srv.open--;
        }
    }
}

static int run_server(void *arg) {
    (void)arg;
    return kin_supervisor_scope(accept_loop, NULL);
}

/* Waits for SIGINT or SIGTERM on a signalfd, then cancels the server. */
static int watch_signals(void *arg) {
    kin_job *server_job = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0)
        return -errno;
    struct signalfd_siginfo si;
    long n = kin_read(sfd, &si, sizeof si);
    kin_close(sfd);
    if (n != (long)sizeof si)
        return n < 0 ? (int)n : -EIO;
    printf("received %s, stopping the server\n",
           si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
    return kin_cancel(*server_job, NULL);
}

/* Self-test: three clients connect, echo a line each, then the program
 * signals itself; each client reads the goodbye and the end of stream. */
static int clients(void *arg) {
    int port = *(int *)arg;
    enum { N = 3 };
    int fds[N];
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (int i = 0; i < N; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fds[i] < 0)
            return -errno;
        KIN_TRY(kin_connect(fds[i], (struct sockaddr *)&a, sizeof a));
        char line[64], back[64];
        int len = snprintf(line, sizeof line, "hello from client %d", i);
        KIN_TRY(kin_send(fds[i], line, (size_t)len, 0));
        long got = 0;
        while (got < len) {
            long n = kin_recv(fds[i], back + got, sizeof back - (size_t)got, 0);
            if (n <= 0)
                return n < 0 ? (int)n : -EPIPE;
            got += n;
        }
        printf("client %d: echoed \"%.*s\"\n", i, (int)got, back);
    }
    raise(SIGTERM); /* blocked: it waits in the signalfd */
    for (int i = 0; i < N; i++) {
        char rest[256];
        long got = 0, n;
        while ((n = kin_recv(fds[i], rest + got, sizeof rest - 1 - (size_t)got,
                             0)) > 0)
            got += n;
        rest[got] = 0;
        if (got && rest[got - 1] == '\n')
            rest[got - 1] = 0;
        printf("client %d: server said \"%s\", then closed\n", i, rest);
        kin_close(fds[i]);
    }
    return 0;
}

typedef struct opts {
    int port;
    bool self_test;
} opts;

static int body(void *arg) {
    opts *o = arg;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)o->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 128) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        int e = errno;
        kin_close(fd);
        return -e;
    }
    srv.listen_fd = fd;
    int port = ntohs(a.sin_port);
    if (o->self_test)
        printf("echo server listening on 127.0.0.1 (self-test)\n");
    else
        printf("echo server listening on 127.0.0.1:%d\n", port);
    fflush(stdout);

    kin_job server_job, watcher, client_job = {0};
    KIN_TRY(kin_launch(&server_job, &(kin_launch_opts){.name = "server"},
                       run_server, NULL));
    KIN_TRY(kin_launch(&watcher, &(kin_launch_opts){.name = "signals"},
                       watch_signals, &server_job));
    if (o->self_test)
        KIN_TRY(kin_launch(&client_job, &(kin_launch_opts){.name = "clients"},
                           clients, &port));
    kin_join(server_job);
    if (o->self_test)
        KIN_TRY(kin_join(client_job));
    kin_cancel_and_join(watcher); /* if the server stopped otherwise */
    kin_close(fd);
    printf("server stopped: %d connections served, %d still open\n",
           srv.served, srv.open);
    return 0;
}

int main(int argc, char **argv) {
    /* Before any thread starts: SIGINT and SIGTERM are read from a
     * signalfd, never delivered to a handler. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    opts o = {.port = 0, .self_test = argc < 2};
    if (argc >= 2) {
        char *end;
        long p = strtol(argv[1], &end, 10);
        if (*end || p < 0 || p > 65535) {
            fprintf(stderr, "usage: %s [PORT]\n", argv[0]);
            return 2;
        }
        o.port = (int)p;
    }
    int rc = kin_run_blocking(body, &o);
    if (rc < 0) {
        fprintf(stderr, "echo_server: %s\n", kin_strerror(rc));
        return 1;
    }
    return 0;
}
