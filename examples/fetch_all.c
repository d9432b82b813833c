/* fetch_all: fetch several "URLs" concurrently, a deadline each, with
 * async/await_all; first under coroutine_scope (one failure cancels the
 * rest), then under supervisor_scope (the others complete; failures are
 * reported per URL). Seeds 000 and 002's dashboard, over real sockets.
 *
 * Self-contained: the program starts its own server on 127.0.0.1, an
 * ephemeral port, speaking a one-line protocol ("GET /path\n" ->
 * "200 body\n" or "500 reason\n"), a coroutine per connection, with a
 * delay per path:
 *
 *   /users   300 ms, 200        /broken  at once, 500
 *   /orders  400 ms, 200        /slow    5 s: past the 1 s deadline
 *
 * Each fetch resolves "localhost" with kin_getaddrinfo (on the IO
 * dispatcher), connects, sends its request and reads the answer, all inside
 * kin_with_timeout(DEADLINE_MS). The output is printed after each scope, in
 * URL order, so it does not depend on timing. With fd waits pending, time is
 * real even under KIN_VIRTUAL_TIME (guide, "Waiting for I/O"): about 1.5 s.
 */
#define _GNU_SOURCE /* getaddrinfo's hints */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kin.h>

enum { DEADLINE_MS = 1000, N_URLS = 4 };

/* ---- the server -------------------------------------------------------- */

typedef struct route {
    const char *path;
    int delay_ms;
    const char *answer;
} route;

static const route ROUTES[] = {
    {"/users", 300, "200 alice, bob"},
    {"/orders", 400, "200 3 orders"},
    {"/broken", 0, "500 internal error"},
    {"/slow", 5000, "200 too late"},
};

/* Reads one line (without its '\n') into buf; returns its length or < 0. */
static long read_line(int fd, char *buf, size_t size) {
    size_t got = 0;
    while (got < size - 1) {
        long n = kin_recv(fd, buf + got, 1, 0);
        if (n < 0)
            return n;
        if (n == 0 || buf[got] == '\n')
            break;
        got++;
    }
    buf[got] = 0;
    return (long)got;
}

static int serve_conn(void *arg) {
    int fd = (int)(intptr_t)arg;
    char req[128];
    long n = read_line(fd, req, sizeof req);
    const char *answer = "404 not found";
    int delay_ms = 0;
    for (size_t i = 0; n > 4 && i < sizeof ROUTES / sizeof ROUTES[0]; i++)
        if (strcmp(req + 4, ROUTES[i].path) == 0) {
            answer = ROUTES[i].answer;
            delay_ms = ROUTES[i].delay_ms;
        }
    int rc = kin_delay(delay_ms);
    if (rc == 0) {
        char line[160];
        int len = snprintf(line, sizeof line, "%s\n", answer);
        kin_send(fd, line, (size_t)len, 0); /* the client may be gone */
    }
    kin_close(fd);
    return rc == KIN_ECANCELED ? rc : 0;
}

static int accept_loop(void *arg) {
    int lfd = (int)(intptr_t)arg;
    for (;;) {
        int fd = kin_accept(lfd, NULL, NULL);
        if (fd < 0)
            return fd; /* KIN_ECANCELED when the program is done */
        if (kin_launch(NULL, NULL, serve_conn, (void *)(intptr_t)fd) < 0)
            kin_close(fd);
    }
}

static int server(void *arg) { return kin_supervisor_scope(accept_loop, arg); }

/* ---- the client -------------------------------------------------------- */

static char g_port[8];

typedef struct fetch {
    const char *path;
    const char *status; /* what happened, for the report */
    char body[160];
} fetch;

static int fetch_within_deadline(void *arg) {
    fetch *f = arg;
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res;
    KIN_TRY(kin_getaddrinfo("localhost", g_port, &hints, &res));
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        freeaddrinfo(res);
        return -errno;
    }
    int rc = kin_connect(fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    char line[160];
    int len = snprintf(line, sizeof line, "GET %s\n", f->path);
    long n = rc < 0 ? rc : kin_send(fd, line, (size_t)len, 0);
    if (n >= 0)
        n = read_line(fd, line, sizeof line);
    kin_close(fd);
    if (n < 0)
        return (int)n; /* KIN_ECANCELED, KIN_ETIMEDOUT or -errno */
    if (strncmp(line, "200 ", 4) != 0)
        return kin_fail("HttpException", "GET %s: %s", f->path, line);
    snprintf(f->body, sizeof f->body, "%s", line + 4);
    return 0;
}

/* One URL: the whole exchange within DEADLINE_MS. A timeout becomes a
 * failure of this URL (not a cancellation), so it is reported as one. */
static int fetch_url(void *arg, void **result) {
    fetch *f = arg;
    int rc = kin_with_timeout(DEADLINE_MS, fetch_within_deadline, f);
    if (rc == KIN_ETIMEDOUT) {
        f->status = "timed out";
        return kin_fail("TimeoutException", "GET %s: no answer within %d ms",
                        f->path, DEADLINE_MS);
    }
    if (rc == KIN_ECANCELED)
        f->status = "cancelled";
    else if (rc < 0)
        f->status = "failed";
    else
        f->status = "ok";
    if (rc < 0)
        return rc;
    *result = f->body;
    return 0;
}

static fetch g_fetches[N_URLS];
static kin_job g_jobs[N_URLS];

static void reset(void) {
    for (int i = 0; i < N_URLS; i++)
        g_fetches[i] = (fetch){.path = ROUTES[i].path, .status = "not started"};
}

static int launch_all(void) {
    for (int i = 0; i < N_URLS; i++)
        KIN_TRY(kin_async(&g_jobs[i], NULL, fetch_url, &g_fetches[i]));
    return 0;
}

static void print_error(const char *what) {
    const kin_error *e = kin_last_error();
    printf("%s: %s: %s\n", what, kin_error_type(e), kin_error_message(e));
}

/* coroutine_scope: await_all returns the first failure; returning it fails
 * the scope, which cancels the fetches still running. */
static int strict(void *arg) {
    (void)arg;
    KIN_TRY(launch_all());
    void *bodies[N_URLS];
    KIN_TRY(kin_await_all(g_jobs, N_URLS, bodies));
    for (int i = 0; i < N_URLS; i++) /* not reached: /broken fails */
        printf("%s: %s\n", g_fetches[i].path, (char *)bodies[i]);
    return 0;
}

/* supervisor_scope: a failure stays with its URL; await_all still gives
 * the first one, and each URL's own await gives its outcome. */
static int resilient(void *arg) {
    (void)arg;
    KIN_TRY(launch_all());
    void *bodies[N_URLS];
    int rc = kin_await_all(g_jobs, N_URLS, bodies);
    if (rc == KIN_EFAILED)
        print_error("await_all: first failure");
    else
        KIN_TRY(rc);
    for (int i = 0; i < N_URLS; i++) {
        void *body;
        rc = kin_await(g_jobs[i], &body);
        if (rc == 0)
            printf("  %-8s ok: %s\n", g_fetches[i].path, (char *)body);
        else if (rc == KIN_EFAILED)
            printf("  %-8s %s: %s\n", g_fetches[i].path, g_fetches[i].status,
                   kin_error_message(kin_last_error()));
        else
            return rc;
    }
    return 0;
}

static int body(void *arg) {
    (void)arg;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        return -errno;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 ||
        listen(lfd, 16) < 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &len) < 0) {
        int e = errno;
        kin_close(lfd);
        return -e;
    }
    snprintf(g_port, sizeof g_port, "%d", ntohs(a.sin_port));
    kin_job srv;
    KIN_TRY(kin_launch(&srv, &(kin_launch_opts){.name = "server"}, server,
                       (void *)(intptr_t)lfd));

    printf("coroutine_scope: one failure cancels the rest\n");
    reset();
    int rc = kin_coroutine_scope(strict, NULL);
    if (rc == KIN_EFAILED)
        print_error("  scope failed");
    for (int i = 0; i < N_URLS; i++)
        printf("  %-8s %s\n", g_fetches[i].path, g_fetches[i].status);

    printf("supervisor_scope: the others complete\n");
    reset();
    rc = kin_supervisor_scope(resilient, NULL);

    kin_cancel_and_join(srv);
    kin_close(lfd);
    KIN_TRY(rc);
    printf("done\n");
    return 0;
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    int rc = kin_run_blocking(body, NULL);
    if (rc < 0) {
        fprintf(stderr, "fetch_all: %s\n", kin_strerror(rc));
        return 1;
    }
    return 0;
}
