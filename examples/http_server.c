/* A minimal HTTP/1.1 server: a coroutine per connection under a supervisor.
 *
 *   http_server PORT   serves 127.0.0.1:PORT (0: an ephemeral port, printed)
 *                      until SIGINT or SIGTERM
 *   http_server        self-test: serves an ephemeral port, is its own client
 *                      (keep-alive, pipelining, errors, a slow client), then
 *                      signals itself and stops
 *
 * GET / answers "hello\n"; other paths 404, other methods 405, malformed
 * requests 400 (examples/http_parse.h parses; fuzzed by tests/fuzz). Keep-alive
 * unless "Connection: close" (or HTTP/1.0). Reading one request runs under
 * kin_with_timeout: an idle or slowloris connection is closed (408 if it had
 * sent part of a request). On SIGINT/SIGTERM the server stops accepting,
 * closes idle connections, lets requests in flight finish (they are answered
 * with "Connection: close"), and exits 0. The server runs on Default (one
 * worker per core); main's loop reads the signalfd.
 */
#define _GNU_SOURCE /* signalfd, accept4 flags, pthread_sigmask */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kin.h>

#include "http_parse.h"

enum { IDLE, BUSY, CLOSING };     /* a connection's state, for shutdown */
enum { READ_EOF = -100 };         /* conn.got: the client closed, or an error */

typedef struct conn {
    int fd;
    kin_job job;                  /* lent (L3): valid while it is listed */
    atomic_int state;
    struct conn *prev, *next;     /* the list of open connections */
    http_request req;
    int got;                      /* http_parse's result, or READ_EOF */
    size_t len;
    char buf[HTTP_MAX_HEAD + HTTP_MAX_BODY];
} conn;

static struct {
    int listen_fd;
    int64_t timeout_ms;           /* to read one request */
    kin_job scope;
    _Atomic uint64_t acceptor;    /* its kin_job id, published after launch */
    atomic_bool draining;
    atomic_int conns, answered, in_flight;
    pthread_mutex_t lock;         /* guards the list; never held across a suspension */
    conn list;
} srv = {.lock = PTHREAD_MUTEX_INITIALIZER,
         .list = {.prev = &srv.list, .next = &srv.list}};

/* Reads until buf holds one whole request (or fails); under the timeout. */
static int read_request(void *arg) {
    conn *c = arg;
    while ((c->got = http_parse(c->buf, c->len, &c->req)) == HTTP_PARSE_MORE) {
        long n = kin_recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (n <= 0) { /* the end, an error (just close), or a cancellation */
            c->got = READ_EOF;
            return n == KIN_ECANCELED || n == KIN_ETIMEDOUT ? (int)n : 0;
        }
        int idle = IDLE; /* the first bytes: a request is now in flight */
        if (!atomic_compare_exchange_strong(&c->state, &idle, BUSY) &&
            idle == CLOSING)
            return KIN_ECANCELED; /* shutdown came first */
        if (idle == IDLE)
            atomic_fetch_add(&srv.in_flight, 1);
        c->len += (size_t)n;
    }
    return 0;
}

static int answer(conn *c, int status, const char *reason, bool close_it) {
    const char *body = status == 200 ? "hello" : reason;
    char out[256];
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
                     "Content-Length: %zu\r\n%s%s\r\n%s\n",
                     status, reason, strlen(body) + 1,
                     status == 405 ? "Allow: GET\r\n" : "",
                     close_it ? "Connection: close\r\n" : "", body);
    atomic_fetch_add(&srv.answered, 1);
    return kin_send(c->fd, out, (size_t)n, 0) == n ? 0 : -EPIPE;
}

/* After an error answer the client may still be sending: close our side and
 * drop what comes for a moment, or close(2) could reset the connection
 * before the client reads the answer (RFC 9112, section 9.6). */
static void linger_close(int fd) {
    char sink[4096];
    shutdown(fd, SHUT_WR);
    while (kin_wait_fd(fd, KIN_READABLE, 200) > 0 &&
           kin_recv(fd, sink, sizeof sink, 0) > 0)
        ;
}

static int serve_conn(void *arg) {
    conn *c = arg;
    c->job = kin_current_job();
    pthread_mutex_lock(&srv.lock);
    c->next = &srv.list, c->prev = srv.list.prev;
    c->prev->next = c->next->prev = c;
    pthread_mutex_unlock(&srv.lock);
    for (;;) {
        int rc = kin_with_timeout(srv.timeout_ms, read_request, c);
        if (rc == KIN_ETIMEDOUT && c->len > 0) { /* slowloris */
            answer(c, 408, "Request Timeout", true);
            linger_close(c->fd);
        }
        if (rc < 0 || c->got == READ_EOF)
            break; /* timed out, cancelled by shutdown, closed, or an error */
        if (c->got < 0) {
            bool big = c->got == HTTP_PARSE_TOO_LARGE;
            answer(c, big ? 431 : 400,
                   big ? "Request Header Fields Too Large" : "Bad Request",
                   true);
            linger_close(c->fd);
            break;
        }
        http_request *r = &c->req;
        bool close_it = !r->keep_alive || atomic_load(&srv.draining);
        if (r->method_len != 3 || memcmp(r->method, "GET", 3) != 0)
            rc = answer(c, 405, "Method Not Allowed", close_it);
        else if (r->target_len != 1 || r->target[0] != '/')
            rc = answer(c, 404, "Not Found", close_it);
        else
            rc = answer(c, 200, "OK", close_it);
        c->len -= (size_t)c->got; /* keep what was pipelined after it */
        memmove(c->buf, c->buf + c->got, c->len);
        if (rc < 0 || close_it)
            break;
        if (c->len == 0) { /* idle until the next request's first byte */
            atomic_fetch_sub(&srv.in_flight, 1);
            atomic_store(&c->state, IDLE);
            if (atomic_load(&srv.draining))
                break;
        }
    }
    if (atomic_load(&c->state) == BUSY)
        atomic_fetch_sub(&srv.in_flight, 1);
    pthread_mutex_lock(&srv.lock);
    c->prev->next = c->next, c->next->prev = c->prev;
    pthread_mutex_unlock(&srv.lock);
    kin_close(c->fd);
    free(c);
    return 0; /* errors end only this connection */
}

static int accept_loop(void *arg) {
    (void)arg;
    for (;;) {
        int fd = kin_accept(srv.listen_fd, NULL, NULL);
        if (fd == -EMFILE || fd == -ENFILE) { /* out of fds: back off */
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
        c->fd = fd, c->len = 0;
        atomic_init(&c->state, IDLE);
        atomic_fetch_add(&srv.conns, 1);
        kin_launch_opts o = {.name = "connection", .parent = srv.scope};
        if (kin_launch(NULL, &o, serve_conn, c) < 0) {
            free(c);
            kin_close(fd);
        }
    }
}

/* The supervisor scope: the acceptor and the connections are its children
 * (the connections not the acceptor's: stopping it must not stop them). */
static int start_server(void *arg) {
    (void)arg;
    srv.scope = kin_current_job();
    kin_job a;
    int rc = kin_launch(&a, &(kin_launch_opts){.name = "acceptor"},
                        accept_loop, NULL);
    /* the signal watcher runs on another thread: publish, don't just store */
    atomic_store(&srv.acceptor, a.id);
    return rc;
}

static int run_server(void *arg) {
    (void)arg;
    return kin_supervisor_scope(start_server, NULL);
}

/* Waits for SIGINT or SIGTERM on a signalfd, then stops the server. */
static int watch_signals(void *arg) {
    (void)arg;
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
    printf("received %s: no new connections, finishing requests in flight\n",
           si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
    fflush(stdout);
    atomic_store(&srv.draining, true);
    kin_cancel_and_join((kin_job){atomic_load(&srv.acceptor)});
    kin_close(srv.listen_fd);
    pthread_mutex_lock(&srv.lock); /* close the idle connections */
    for (conn *c = srv.list.next; c != &srv.list; c = c->next) {
        int idle = IDLE;
        if (atomic_compare_exchange_strong(&c->state, &idle, CLOSING))
            kin_cancel(c->job, NULL);
    }
    pthread_mutex_unlock(&srv.lock);
    return 0;
}

#include "http_selftest.h" /* the self-test's client: selftest(port) */

static int body(void *arg) {
    int *port = arg;
    bool self_test = *port < 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)(self_test ? 0 : *port)),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        listen(fd, SOMAXCONN) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        int e = errno;
        kin_close(fd);
        return -e;
    }
    srv.listen_fd = fd;
    *port = ntohs(a.sin_port);
    if (self_test)
        printf("http server listening on 127.0.0.1 (self-test)\n");
    else
        printf("http server listening on 127.0.0.1:%d\n", *port);
    fflush(stdout);

    kin_job server, watcher, client = {0};
    KIN_TRY(kin_launch(&server, &(kin_launch_opts){
                           .name = "server",
                           .dispatcher = kin_dispatcher_default()},
                       run_server, NULL));
    KIN_TRY(kin_launch(&watcher, &(kin_launch_opts){.name = "signals"},
                       watch_signals, NULL));
    if (self_test)
        KIN_TRY(kin_launch(&client, &(kin_launch_opts){.name = "client"},
                           selftest, port));
    kin_join(server);
    if (self_test)
        KIN_TRY(kin_join(client));
    kin_cancel_and_join(watcher);
    printf("server stopped: %d connections, %d responses, %d open\n",
           atomic_load(&srv.conns), atomic_load(&srv.answered),
           atomic_load(&srv.in_flight));
    return 0;
}

int main(int argc, char **argv) {
    sigset_t set; /* before any thread starts: signals go to the signalfd */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl; /* room for many connections (wrk -c1000) */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    int port = -1;
    /* self-test: 4 s, which its slowloris step waits out once; shorter
     * made an idle connection time out before the shutdown reached it
     * under ThreadSanitizer or Valgrind on a loaded machine */
    srv.timeout_ms = argc < 2 ? 4000 : 10000;
    if (argc >= 2) {
        char *end;
        long p = strtol(argv[1], &end, 10);
        if (*end || p < 0 || p > 65535) {
            fprintf(stderr, "usage: %s [PORT]\n", argv[0]);
            return 2;
        }
        port = (int)p;
    }
    int rc = kin_run_blocking(body, &port);
    if (rc < 0) {
        fprintf(stderr, "http_server: %s\n", kin_strerror(rc));
        return 1;
    }
    return 0;
}
