/* download_progress: a StateFlow of a download's progress, drawn as a
 * progress bar, while kin_retry retries the download with exponential
 * backoff against a flaky local server.
 *
 * Self-contained: the program starts its own HTTP/1.0 server on
 * 127.0.0.1 (an ephemeral port) serving one 64 KiB file, and it is
 * flaky on purpose: the first request gets "503 Service Unavailable", the
 * second gets the headers and half the body, then the connection drops;
 * the third gets it all, in 4 KiB pieces 10 ms apart.
 *
 * The downloader is one coroutine: kin_retry calls download() up to 4
 * times, waiting 100 ms, then 200 ms between tries. download() keeps a
 * `progress` value (attempt, phase, bytes) in a kin_state_flow, set after
 * each piece it reads. The renderer is another coroutine that collects the
 * StateFlow (Kotlin: progress.onEach { draw(it) }.first { it.finished }):
 * it redraws the bar for the latest value only (a StateFlow is conflated:
 * a slow screen skips intermediate values, never the last one).
 *
 * On a terminal the bar is redrawn in place. Otherwise (a pipe, the
 * tests) each attempt is one line with the 25 % marks it passed, so the
 * output is the same however values were conflated: skipped values only
 * mean several marks are printed at once, and the last value of each
 * attempt (its failure, or done) is always seen, because the downloader
 * waits (the backoff delay) right after setting it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kin.h>

enum {
    FILE_SIZE = 64 * 1024,
    PIECE = 4096,
    PIECE_DELAY_MS = 10,
    ATTEMPTS = 4,
    BASE_MS = 100,
};

static unsigned char file_byte(long i) { return (unsigned char)(i * 31 + 7); }

/* ---- the flaky server -------------------------------------------------- */

static int g_requests; /* served so far (the server's own coroutines only) */

static long send_all(int fd, const void *p, size_t n) {
    return kin_send(fd, p, n, 0); /* kin_send writes all of it */
}

/* Reads the request up to its blank line (its content does not matter). */
static int read_request(int fd) {
    char buf[512];
    size_t got = 0;
    while (got < sizeof buf - 1) {
        long n = kin_read(fd, buf + got, sizeof buf - 1 - got);
        if (n <= 0)
            return n < 0 ? (int)n : -ECONNRESET;
        got += (size_t)n;
        buf[got] = 0;
        if (strstr(buf, "\r\n\r\n"))
            return 0;
    }
    return -EMSGSIZE;
}

static int serve(void *arg) {
    int fd = (int)(intptr_t)arg;
    int rc = read_request(fd);
    int nth = ++g_requests;
    if (rc == 0 && nth == 1) {
        const char *busy = "HTTP/1.0 503 Service Unavailable\r\n\r\n";
        send_all(fd, busy, strlen(busy));
    } else if (rc == 0) {
        char head[128];
        int len = snprintf(head, sizeof head,
                           "HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n",
                           FILE_SIZE);
        long sent = send_all(fd, head, (size_t)len);
        long upto = nth == 2 ? FILE_SIZE / 2 : FILE_SIZE; /* 2nd: drops */
        unsigned char piece[PIECE];
        for (long off = 0; sent >= 0 && off < upto; off += PIECE) {
            for (int i = 0; i < PIECE; i++)
                piece[i] = file_byte(off + i);
            sent = send_all(fd, piece, PIECE);
            if (sent >= 0)
                rc = kin_delay(PIECE_DELAY_MS);
            if (rc < 0)
                break;
        }
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
        if (kin_launch(NULL, NULL, serve, (void *)(intptr_t)fd) < 0)
            kin_close(fd);
    }
}

static int server(void *arg) { return kin_supervisor_scope(accept_loop, arg); }

/* ---- the progress StateFlow ---------------------------------------------- */

enum phase { IDLE, CONNECTING, RECEIVING, FAILED, DONE, GAVE_UP };

typedef struct progress {
    int attempt;
    int phase;      /* enum phase */
    long received;  /* body bytes so far */
    long total;     /* -1 until the headers said */
    char error[96]; /* FAILED, GAVE_UP: why */
} progress;

static kin_state_flow g_progress;
static progress g_now; /* the downloader's copy (zeroed padding: the
                          StateFlow compares the bytes) */

static void publish(void) {
    kin_state_flow_set(g_progress, &g_now, sizeof g_now);
}

/* ---- the downloader ------------------------------------------------------ */

static struct sockaddr_in g_addr;

typedef struct download_result {
    unsigned long checksum;
    long bytes;
} download_result;

/* Fails this attempt with a message the bar shows. */
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_now.error, sizeof g_now.error, fmt, ap);
    va_end(ap);
    g_now.phase = FAILED;
    publish();
    return kin_fail("IOException", "%s", g_now.error);
}

/* Reads the status line and headers (into buf); returns how many body
 * bytes came with them (at buf + *body_at), or a negative code. */
static long read_head(int fd, char *buf, size_t size, size_t *body_at) {
    size_t got = 0;
    for (;;) {
        long n = kin_read(fd, buf + got, size - 1 - got);
        if (n < 0)
            return n;
        if (n == 0)
            return -ECONNRESET;
        got += (size_t)n;
        buf[got] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (end) {
            *body_at = (size_t)(end + 4 - buf);
            return (long)(got - *body_at);
        }
        if (got == size - 1)
            return -EMSGSIZE;
    }
}

static int receive(int fd, download_result *r) {
    char buf[PIECE + 512];
    size_t body_at;
    long extra = read_head(fd, buf, sizeof buf, &body_at);
    if (extra < 0)
        return fail("no answer: %s", kin_strerror((int)extra));
    if (strncmp(buf, "HTTP/1.0 200 ", 13) != 0) {
        *strstr(buf, "\r\n") = 0;
        return fail("HTTP %s", buf + 9); /* "503 Service Unavailable" */
    }
    char *cl = strstr(buf, "Content-Length:");
    g_now.total = cl ? atol(cl + 15) : -1;
    g_now.phase = RECEIVING;
    long got = 0;
    unsigned long sum = 0;
    char *p = buf + body_at;
    long n = extra;
    for (;;) {
        for (long i = 0; i < n; i++)
            sum = sum * 131 + (unsigned char)p[i];
        got += n;
        g_now.received = got;
        publish();
        if (got >= g_now.total)
            break;
        n = kin_read(fd, buf, sizeof buf);
        p = buf;
        if (n < 0)
            return (int)n; /* cancelled, or an I/O error */
        if (n == 0)
            return fail("connection closed after %ld of %ld bytes", got,
                        g_now.total);
    }
    r->checksum = sum;
    r->bytes = got;
    return 0;
}

static int download(void *arg) {
    download_result *r = arg;
    g_now = (progress){.attempt = g_now.attempt + 1, .phase = CONNECTING,
                       .total = -1};
    publish();
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int rc = kin_connect(fd, (struct sockaddr *)&g_addr, sizeof g_addr);
    if (rc == 0) {
        const char *req = "GET /archive.bin HTTP/1.0\r\n\r\n";
        long n = kin_send(fd, req, strlen(req), 0);
        rc = n < 0 ? (int)n : receive(fd, r);
    }
    kin_close(fd);
    return rc;
}

/* ---- the renderer ------------------------------------------------------- */

static bool g_tty;
static int g_shown_attempt; /* the renderer's own state */
static int g_marks;         /* 25 % marks printed for it */

static long percent(const progress *p) {
    return p->total > 0 ? p->received * 100 / p->total : 0;
}

/* Before the next try (kin_retry's delays): BASE_MS, 2 x BASE_MS, ... */
static long backoff_ms(int attempt) { return (long)BASE_MS << (attempt - 1); }

static void draw_bar(const progress *p) {
    char bar[41];
    long filled = percent(p) * 40 / 100;
    for (int i = 0; i < 40; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[40] = 0;
    printf("\r\033[K attempt %d [%s] %3ld%%", p->attempt, bar, percent(p));
    if (p->total > 0)
        printf("  %5.1f/%.1f KiB", p->received / 1024.0, p->total / 1024.0);
    else
        printf("  connecting");
}

/* Each 25 % mark this attempt has passed and not yet printed. */
static void print_marks(const progress *p) {
    if (p->phase < RECEIVING || p->total <= 0)
        return;
    long pc = percent(p);
    for (; g_marks * 25 <= pc && g_marks <= 4; g_marks++)
        printf(" %d%%", g_marks * 25);
}

/* on_each: draws the latest value. */
static int draw(const void *value, void *arg) {
    (void)arg;
    const progress *p = value;
    if (p->attempt == 0)
        return 0;
    if (p->attempt != g_shown_attempt) { /* a new try */
        g_shown_attempt = p->attempt;
        g_marks = 0;
        if (!g_tty)
            printf("attempt %d:", p->attempt);
    }
    if (g_tty)
        draw_bar(p);
    else
        print_marks(p);
    if (p->phase == FAILED && p->attempt < ATTEMPTS)
        printf(" failed: %s (retrying in %ld ms)\n", p->error,
               backoff_ms(p->attempt));
    else if (p->phase == FAILED || p->phase == GAVE_UP)
        printf(" failed: %s\n", p->error);
    else if (p->phase == DONE)
        printf(" done\n");
    fflush(stdout);
    return 0;
}

static int finished(const void *value, void *arg) {
    (void)arg;
    const progress *p = value;
    return p->phase == DONE || p->phase == GAVE_UP;
}

/* Kotlin: progress.onEach { draw(it) }.first { it.finished } */
static int renderer(void *arg) {
    (void)arg;
    kin_flow f;
    KIN_TRY(kin_state_flow_as_flow(g_progress, &f));
    KIN_TRY(kin_flow_on_each(&f, draw, NULL));
    KIN_TRY(kin_flow_filter(&f, finished, NULL));
    progress last;
    int rc = kin_flow_first(f, &last, sizeof last);
    kin_flow_release(f);
    return rc;
}

/* ---- main -------------------------------------------------------------- */

static int listen_local(void) {
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        return -errno;
    g_addr = (struct sockaddr_in){.sin_family = AF_INET,
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof g_addr;
    if (bind(lfd, (struct sockaddr *)&g_addr, sizeof g_addr) < 0 ||
        listen(lfd, 16) < 0 ||
        getsockname(lfd, (struct sockaddr *)&g_addr, &len) < 0) {
        int e = errno;
        kin_close(lfd);
        return -e;
    }
    return lfd;
}

static int body(void *arg) {
    (void)arg;
    int lfd = listen_local();
    if (lfd < 0)
        return lfd;
    kin_job srv, screen;
    KIN_TRY(kin_launch(&srv, &(kin_launch_opts){.name = "server"}, server,
                       (void *)(intptr_t)lfd));
    KIN_TRY(kin_state_flow_new(&g_progress, sizeof g_now, &g_now, NULL, NULL));
    KIN_TRY(kin_launch(&screen, &(kin_launch_opts){.name = "screen"},
                       renderer, NULL));

    printf("GET /archive.bin (%d KiB) from a flaky server, with kin_retry: "
           "%d attempts, backoff %d ms x 2\n",
           FILE_SIZE / 1024, ATTEMPTS, BASE_MS);
    kin_retry_opts opts = {.attempts = ATTEMPTS, .base_ms = BASE_MS,
                           .factor = 2.0};
    download_result r = {0};
    int rc = kin_retry(&opts, download, &r);
    if (rc == 0) {
        g_now.phase = DONE;
    } else {
        g_now.phase = GAVE_UP;
        snprintf(g_now.error, sizeof g_now.error, "%s",
                 kin_error_message(kin_last_error()));
    }
    publish();
    KIN_TRY(kin_join(screen)); /* it draws the last value, then stops */
    if (rc == 0)
        printf("downloaded %ld bytes in %d attempts, checksum %08lx\n",
               r.bytes, g_now.attempt, r.checksum & 0xffffffffUL);
    else
        printf("gave up after %d attempts\n", g_now.attempt);

    kin_cancel_and_join(srv);
    kin_close(lfd);
    kin_state_flow_destroy(g_progress);
    return rc;
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    g_tty = isatty(STDOUT_FILENO);
    int rc = kin_run_blocking(body, NULL);
    if (rc < 0) {
        fprintf(stderr, "download_progress: %s\n", kin_strerror(rc));
        return 1;
    }
    return 0;
}
