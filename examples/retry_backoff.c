/* Retry with exponential backoff against a flaky local server (issue 12).
 *
 * A server coroutine listens on an ephemeral port of 127.0.0.1 and is
 * flaky: it hangs up on the first two connections without a word and
 * answers the third with a reading. The client wraps one request
 * (connect, read a line) in kin_retry: up to 5 tries, 100 ms before the
 * second, doubling, capped at 1 s, retrying only I/O failures. Then the
 * same request as a flow of readings, retried with kin_flow_retry_backoff
 * after the server hangs up once more.
 *
 * Kotlin:
 *     val answer = retryIO(times = 5, initialDelay = 100, factor = 2.0) { fetch() }
 *     readings().retryWhen { cause, attempt ->
 *         cause is IOException && attempt < 4 && run { delay(100L shl attempt.toInt()); true }
 *     }.collect { println(it) }
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kin.h>

static int listen_fd, port, hangups_left;

/* The flaky server: hangs up while hangups_left > 0, else answers. */
static int server(void *arg) {
    (void)arg;
    for (int reading = 42;;) {
        int c = kin_accept(listen_fd, NULL, NULL);
        if (c < 0)
            return c == KIN_ECANCELED ? c : 0;
        if (hangups_left > 0) {
            hangups_left--;
        } else {
            char line[32];
            int n = snprintf(line, sizeof line, "reading %d\n", reading++);
            kin_send(c, line, (size_t)n, 0);
        }
        kin_close(c);
    }
}

static int tries;
static int64_t last_try;

/* One request: connect, read one line into arg. */
static int fetch(void *arg) {
    char *line = arg;
    int64_t now = kin_current_time();
    tries++;
    if (tries > 1) { /* the backoff before try k: 100 ms * 2^(k-2) */
        int64_t planned = 100LL << (tries - 2);
        if (now - last_try >= planned)
            printf("  ... %lld ms later\n", (long long)planned);
        else
            printf("  ... only %lld ms later\n", (long long)(now - last_try));
    }
    last_try = now;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return kin_fail("IOException", "socket failed");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = kin_connect(fd, (struct sockaddr *)&a, sizeof a);
    long n = rc < 0 ? rc : kin_read(fd, line, 63);
    kin_close(fd);
    if (n == KIN_ECANCELED)
        return KIN_ECANCELED;
    if (n <= 0) {
        printf("try %d: the server hung up\n", tries);
        return kin_fail("IOException", "connection closed by the server");
    }
    line[n] = 0;
    printf("try %d: %s", tries, line);
    return 0;
}

static int io_only(const kin_error *cause, uint64_t attempt, void *arg) {
    (void)attempt;
    (void)arg;
    return strcmp(kin_error_type(cause), "IOException") == 0;
}

/* The same request as a flow of readings. */
static int readings(kin_flow_collector *out, void *arg) {
    (void)arg;
    char line[64];
    KIN_TRY(fetch(line));
    int v = 0;
    sscanf(line, "reading %d", &v);
    return kin_flow_emit(out, &v, sizeof v);
}
static int print_reading(const void *v, void *arg) {
    (void)arg;
    printf("collected reading %d\n", *(const int *)v);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&a, sizeof a) ||
        listen(listen_fd, 16) ||
        getsockname(listen_fd, (struct sockaddr *)&a, &len))
        return kin_fail("IOException", "cannot listen on 127.0.0.1");
    port = ntohs(a.sin_port);
    hangups_left = 2;
    kin_job srv;
    KIN_TRY(kin_launch(&srv, NULL, server, NULL));

    kin_retry_opts opts = {.attempts = 5, .base_ms = 100, .factor = 2.0,
                           .max_ms = 1000, .retry_if = io_only};
    char line[64];
    int rc = kin_retry(&opts, fetch, line);
    printf("kin_retry: %s after %d tries\n", rc == 0 ? "ok" : "failed", tries);

    hangups_left = 1;
    tries = 0;
    kin_flow f;
    KIN_TRY(kin_flow_new(&f, sizeof(int), readings, NULL));
    KIN_TRY(kin_flow_retry_backoff(&f, &opts));
    rc = kin_flow_collect(f, print_reading, NULL);
    printf("flow: %s after %d tries\n", rc == 0 ? "ok" : "failed", tries);
    kin_flow_release(f);

    kin_cancel(srv, NULL);
    kin_join(srv);
    kin_job_release(srv);
    kin_close(listen_fd);
    return 0;
}

int main(void) {
    return kin_run_blocking(body, NULL) == 0 ? 0 : 1;
}
