/* Out of fds in accept (RLIMIT_NOFILE lowered): kin_accept returns
 * -EMFILE, the server reports it and backs off (kin_delay) instead of
 * spinning on a listening fd that stays readable, keeps serving its open
 * connections meanwhile, and accepts the waiting client once an fd is
 * free. */
#include <sys/resource.h>

#include "io_util.h"

static int ls, port;
static long emfile_reports, accepted;

static int serve_conn(void *arg) {
    int c = (int)(intptr_t)arg;
    char b[16];
    for (;;) {
        long n = kin_read(c, b, sizeof b);
        if (n <= 0)
            break;
        CHECK_EQ(kin_write(c, b, (size_t)n), n);
    }
    return kin_close(c);
}

static int server(void *arg) {
    (void)arg;
    for (;;) {
        int c = kin_accept(ls, NULL, NULL);
        if (c == -EMFILE) {
            emfile_reports++;
            KIN_TRY(kin_delay(10)); /* back off: the fd stays readable */
            continue;
        }
        if (c < 0)
            return c;
        accepted++;
        KIN_TRY(kin_launch(NULL, NULL, serve_conn, (void *)(intptr_t)c));
    }
}

static void echo_once(int c, char ch) {
    CHECK_EQ(kin_write(c, &ch, 1), 1);
    char b = 0;
    CHECK_EQ(kin_read(c, &b, 1), 1);
    CHECK_EQ(b, ch);
}

static int body(void *arg) {
    (void)arg;
    ls = io_listen(&port);
    int cl[3];
    for (int i = 0; i < 3; i++) {
        cl[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        CHECK(cl[i] >= 0);
    }
    kin_job srv;
    CHECK_EQ(kin_launch(&srv, NULL, server, NULL), 0);
    CHECK_EQ(kin_delay(5), 0); /* the server waits in accept (poller made) */
    /* room for exactly two accepted connections */
    int next = dup(0);
    CHECK(next >= 0);
    close(next);
    struct rlimit old, lim;
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)next + 32;
    CHECK_EQ(setrlimit(RLIMIT_NOFILE, &lim), 0);
    /* fill every free fd (some may be inherited), then free exactly two */
    int fill[64], nfill = 0;
    while (nfill < 64 && (fill[nfill] = dup(0)) >= 0)
        nfill++;
    CHECK(nfill >= 2 && nfill < 64);
    close(fill[--nfill]);
    close(fill[--nfill]);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (int i = 0; i < 3; i++)
        CHECK_EQ(kin_connect(cl[i], (struct sockaddr *)&a, sizeof a), 0);
    echo_once(cl[0], 'a');
    echo_once(cl[1], 'b');
    CHECK_EQ(kin_delay(100), 0); /* the third waits in the backlog */
    CHECK(emfile_reports > 0);
    CHECK(emfile_reports < 50); /* ~10 ms apart: no spinning */
    CHECK_EQ(accepted, 2);
    echo_once(cl[1], 'c'); /* still serving */
    CHECK_EQ(kin_close(cl[0]), 0); /* frees the server's fd */
    echo_once(cl[2], 'd');
    CHECK_EQ(accepted, 3);
    printf("EMFILE reported %ld times while out of fds\n", emfile_reports);
    CHECK_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
    while (nfill > 0)
        close(fill[--nfill]);
    CHECK_EQ(kin_cancel(srv, NULL), 0);
    CHECK_EQ(kin_close(cl[1]), 0);
    CHECK_EQ(kin_close(cl[2]), 0);
    return 0;
}

int main(void) {
    int rc = kin_run_blocking(body, NULL);
    CHECK_EQ(rc, 0);
    CHECK_EQ(kin_close(ls), 0);
    puts("test_io_emfile: ok");
    return 0;
}
