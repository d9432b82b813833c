/* A caller that closes its fd with plain close(2) and goes on using the
 * number through kin, after kin reused that number for one of its own fds
 * (the loop's epoll and eventfd, or its io_uring ring and eventfd): every
 * kin call on it fails with -EBADF and says why, instead of reading the
 * loop's wake-up counter, arming the loop's own fd in its own poller or
 * closing it (any of which lost the loop's wake-ups). The loop still wakes
 * up afterwards. */
#include <limits.h>
#include <stdlib.h>

#include "io_util.h"

static int g_sv[2];
static int g_stale[2]; /* the numbers the caller closed with close(2) */

/* Is fd now one of kin's own (an epoll, an eventfd or an io_uring)? */
static int is_kins(int fd) {
    char path[64], link[PATH_MAX];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n < 0)
        return 0;
    link[n] = 0;
    return strstr(link, "eventpoll") || strstr(link, "eventfd") ||
           strstr(link, "io_uring");
}

/* On Default: no EXPECT here (the steps are the main thread's; what
 * orders this write before the read is the socket, which TSan cannot see). */
static int writer(void *arg) {
    (void)arg;
    CHECK_EQ(kin_delay(20), 0);
    CHECK_EQ(kin_write(g_sv[1], "x", 1), 1);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    EXPECT(1);
    /* The loop makes its poller on its first wait that suspends: the
     * lowest free numbers then are the two the caller closed. */
    CHECK_EQ(kin_wait_fd(g_sv[0], KIN_READABLE, 1), 0); /* times out */
    int own = -1;
    for (int i = 0; i < 2; i++)
        if (is_kins(g_stale[i]))
            own = g_stale[i];
    CHECK(own >= 0);
    EXPECT(2);
    char b[8];
    CHECK_EQ(kin_read(own, b, sizeof b), -EBADF);
    CHECK(strstr(last_message(), "one of kin's own"));
    CHECK_EQ(kin_write(own, "12345678", 8), -EBADF);
    CHECK(strstr(last_message(), "closed with close(2)"));
    CHECK_EQ(kin_wait_fd(own, KIN_READABLE, 10), -EBADF);
    CHECK(strstr(last_message(), "one of kin's own"));
    CHECK_EQ(kin_close(own), -EBADF);
    CHECK(strstr(last_message(), "one of kin's own"));
    CHECK(is_kins(own)); /* still open: kin_close did not close it */
    /* The loop still gets its wake-ups: a wait woken by a coroutine on
     * Default (a cross-thread wake-up through the loop's own fds). */
    kin_job j;
    CHECK_EQ(kin_launch(&j, &(kin_launch_opts){.dispatcher =
                                                    kin_dispatcher_default()},
                        writer, NULL),
             0);
    CHECK_EQ(kin_wait_fd(g_sv[0], KIN_READABLE, 10000), KIN_READABLE);
    EXPECT(3);
    CHECK_EQ(kin_read(g_sv[0], b, 1), 1);
    CHECK_EQ(kin_join(j), 0);
    CHECK_EQ(kin_job_release(j), 0);
    return 0;
}

int main(void) {
    io_pair(g_sv);
    int p[2];
    CHECK_EQ(pipe(p), 0);
    g_stale[0] = p[0];
    g_stale[1] = p[1];
    CHECK_EQ(close(p[0]), 0); /* plain close(2): kin does not know */
    CHECK_EQ(close(p[1]), 0);
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    FINISH(4);
    close(g_sv[0]);
    close(g_sv[1]);
    return 0;
}
