/* http_selftest.h: the self-test client of examples/http_server.c (its own
 * file to keep the server short). It runs on main's loop while the server
 * runs on Default, and prints what it sends and gets: keep-alive,
 * requests split across reads and pipelined, a malformed request, an
 * oversized head, a slow client, then a graceful SIGTERM with one idle
 * connection and one request in flight. */

typedef struct http_client {
    int fd;
    size_t len;
    char buf[16384];
} http_client;

static int dial(http_client *cl, int port) {
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cl->len = 0;
    cl->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (cl->fd < 0)
        return -errno;
    int rc = kin_connect(cl->fd, (struct sockaddr *)&a, sizeof a);
    if (rc < 0)
        kin_close(cl->fd);
    return rc;
}

static int say(http_client *cl, const char *what, const char *req) {
    printf("%s\n", what);
    long n = kin_send(cl->fd, req, strlen(req), 0);
    return n == (long)strlen(req) ? 0 : -EPIPE;
}

/* Reads one response and prints its status, body and Connection: close. */
static int response(http_client *cl) {
    for (;;) {
        cl->buf[cl->len] = 0;
        char *end = strstr(cl->buf, "\r\n\r\n"), *cl_hdr;
        if (end && (cl_hdr = strcasestr(cl->buf, "Content-Length:")) &&
            cl_hdr < end) {
            size_t head = (size_t)(end + 4 - cl->buf);
            size_t blen = strtoul(cl_hdr + 15, NULL, 10);
            if (cl->len >= head + blen) {
                char *sp = strchr(cl->buf, ' '), *eol = strstr(sp, "\r\n");
                bool closes = strcasestr(cl->buf, "Connection: close") &&
                              strcasestr(cl->buf, "Connection: close") < end;
                printf("  <- %.*s, body \"%.*s\\n\"%s\n", (int)(eol - sp - 1),
                       sp + 1, (int)blen - 1, end + 4,
                       closes ? ", Connection: close" : "");
                cl->len -= head + blen;
                memmove(cl->buf, cl->buf + head + blen, cl->len);
                return 0;
            }
        }
        long n = kin_recv(cl->fd, cl->buf + cl->len,
                          sizeof cl->buf - 1 - cl->len, 0);
        if (n <= 0)
            return n < 0 ? (int)n : -EPIPE;
        cl->len += (size_t)n;
    }
}

static int closed(http_client *cl) {
    char c;
    long n = kin_recv(cl->fd, &c, 1, 0);
    printf("  <- %s\n", n == 0 ? "closed by the server" : "not closed!");
    kin_close(cl->fd);
    return n == 0 ? 0 : -EPROTO;
}

static int selftest(void *arg) {
    int port = *(int *)arg;
    http_client a, b, e, f;
    KIN_TRY(dial(&a, port));
    KIN_TRY(say(&a, "A -> GET / (keep-alive)", "GET / HTTP/1.1\r\nHost: kin\r\n\r\n"));
    KIN_TRY(response(&a));
    KIN_TRY(say(&a, "A -> GET /missing, split across two reads", "GET /missing HTTP/1.1\r\nHo"));
    KIN_TRY(kin_delay(50));
    KIN_TRY(say(&a, "A -> rest, and pipelined: POST / with a body, GET / with "
                    "Connection: close",
                "st: kin\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n"
                "helloGET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
    for (int i = 0; i < 3; i++)
        KIN_TRY(response(&a));
    KIN_TRY(closed(&a));

    KIN_TRY(dial(&b, port));
    KIN_TRY(say(&b, "B -> a malformed request line", "GET /\r\n\r\n"));
    KIN_TRY(response(&b));
    KIN_TRY(closed(&b));
    KIN_TRY(dial(&b, port));
    static char big[HTTP_MAX_HEAD + 100];
    memset(big, 'a', sizeof big - 1);
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    KIN_TRY(say(&b, "B -> a header of 8 KiB", big));
    KIN_TRY(response(&b));
    KIN_TRY(closed(&b));
    KIN_TRY(dial(&b, port));
    KIN_TRY(say(&b, "B -> half a request, then nothing (slowloris)",
                "GET / HTTP/1.1\r\nHost:"));
    KIN_TRY(response(&b));
    KIN_TRY(closed(&b));

    KIN_TRY(dial(&e, port));
    KIN_TRY(say(&e, "E -> GET /, then stays idle", "GET / HTTP/1.1\r\n\r\n"));
    KIN_TRY(response(&e));
    while (atomic_load(&srv.in_flight) > 0) /* E's server side is idle */
        KIN_TRY(kin_delay(1));
    KIN_TRY(dial(&f, port));
    KIN_TRY(say(&f, "F -> half a request", "GET / HTTP/1.1\r\n"));
    while (atomic_load(&srv.in_flight) < 1) /* the server has read F's */
        KIN_TRY(kin_delay(1));
    printf("SIGTERM\n");
    fflush(stdout);
    raise(SIGTERM); /* blocked: it waits in the signalfd */
    printf("E, idle, waits:\n");
    KIN_TRY(closed(&e));
    http_client g;
    int rc = dial(&g, port);
    printf("G -> a new connection: %s\n", rc == -ECONNREFUSED ? "refused" : "?");
    KIN_TRY(say(&f, "F -> the rest of its request", "Host: kin\r\n\r\n"));
    KIN_TRY(response(&f));
    return closed(&f);
}
