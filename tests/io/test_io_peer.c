/* What the peer does: closes (EOF: 0), resets (SO_LINGER 0: -ECONNRESET);
 * partial writes against a small SO_SNDBUF (kin_write completes every
 * byte while the reader is slow; cancelled mid-way it returns the short
 * count and the next call KIN_ECANCELED); accept and connect; two readers
 * of one fd (KIN_EBUSY) while a reader and a writer may share it. */
#include <netinet/tcp.h>

#include "io_util.h"

static int sv[2];

static int close_later(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(20));
    return kin_close(sv[1]);
}

static int server_resets(void *arg) {
    int ls = *(int *)arg;
    int c = kin_accept(ls, NULL, NULL);
    CHECK(c >= 0);
    CHECK(fcntl(c, F_GETFL) & O_NONBLOCK);
    CHECK(fcntl(c, F_GETFD) & FD_CLOEXEC);
    KIN_TRY(kin_delay(20));
    struct linger l = {.l_onoff = 1, .l_linger = 0};
    CHECK_EQ(setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l), 0);
    return kin_close(c); /* RST */
}

#define BIG (4 << 20)
static char big_out[BIG], big_in[BIG];

static int slow_reader(void *arg) {
    (void)arg;
    long total = 0;
    while (total < BIG) {
        long n = kin_read(sv[1], big_in + total, 4096);
        CHECK(n > 0);
        total += n;
        if ((total / 4096) % 64 == 0)
            KIN_TRY(kin_yield());
    }
    return 0;
}

static long short_count;

static int writer_cancelled(void *arg) {
    (void)arg;
    short_count = kin_write(sv[0], big_out, BIG); /* nobody reads */
    return 0;
}

static long r1;
static int read1(void *arg) {
    (void)arg;
    char b;
    r1 = kin_read(sv[0], &b, 1);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    char b[64];

    /* EOF */
    io_pair(sv);
    CHECK_EQ(kin_launch(NULL, NULL, close_later, NULL), 0);
    CHECK_EQ(kin_read(sv[0], b, sizeof b), 0);
    CHECK_EQ(kin_close(sv[0]), 0);

    /* RST */
    int port;
    int ls = io_listen(&port);
    CHECK_EQ(kin_launch(NULL, NULL, server_resets, &ls), 0);
    int c = io_connect(port);
    CHECK_EQ(kin_read(c, b, sizeof b), -ECONNRESET);
    CHECK_EQ(kin_close(c), 0);

    /* connect refused: the EINPROGRESS dance reports SO_ERROR */
    CHECK_EQ(kin_close(ls), 0);
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK_EQ(kin_connect(s, (struct sockaddr *)&a, sizeof a), -ECONNREFUSED);
    CHECK_EQ(kin_close(s), 0);

    /* partial writes: 4 MB through a small send buffer */
    io_pair(sv);
    int small = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    for (long i = 0; i < BIG; i++)
        big_out[i] = (char)(i * 7 + i / 4096);
    kin_job rj;
    CHECK_EQ(kin_launch(&rj, NULL, slow_reader, NULL), 0);
    CHECK_EQ(kin_write(sv[0], big_out, BIG), BIG);
    CHECK_EQ(kin_join(rj), 0);
    CHECK(memcmp(big_out, big_in, BIG) == 0);

    /* cancelled mid-write: the short count, then KIN_ECANCELED */
    kin_job wj;
    CHECK_EQ(kin_launch(&wj, NULL, writer_cancelled, NULL), 0);
    CHECK_EQ(kin_delay(20), 0);
    CHECK_EQ(kin_cancel(wj, NULL), 0);
    CHECK_EQ(kin_join(wj), 0);
    CHECK(short_count > 0 && short_count < BIG);
    CHECK_EQ(kin_close(sv[0]), 0);
    CHECK_EQ(kin_close(sv[1]), 0);

    /* two readers: the second gets KIN_EBUSY; a writer may share the fd */
    io_pair(sv);
    kin_job j1;
    r1 = 1;
    CHECK_EQ(kin_launch(&j1, NULL, read1, NULL), 0);
    CHECK_EQ(kin_delay(10), 0);
    CHECK_EQ(kin_read(sv[0], b, 1), KIN_EBUSY);
    CHECK(strstr(last_message(), "already waits") != NULL);
    CHECK_EQ(kin_wait_fd(sv[0], KIN_WRITABLE, -1), KIN_WRITABLE);
    CHECK_EQ(r1, 1); /* still waiting */
    CHECK_EQ(write(sv[1], "k", 1), 1);
    CHECK_EQ(kin_join(j1), 0);
    CHECK_EQ(r1, 1);
    CHECK_EQ(kin_close(sv[0]), 0);
    CHECK_EQ(kin_close(sv[1]), 0);
    return 0;
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    puts("test_io_peer: ok");
    return 0;
}
