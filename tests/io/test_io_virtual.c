/* Virtual time (kin_run_test) and fd waits: the clock jumps to the next
 * timer only when no fd wait is pending on the loop; while one is pending
 * the loop sleeps in epoll_wait for real and its clock runs at real speed.
 * So a read with a 1 s timeout, whose data another thread writes after
 * 30 ms real, gets the data (a jump would time it out at once), and
 * virtual time has moved by about 30 ms, not 1 s. Without fd waits delays
 * still take no real time. */
#include "io_util.h"

static int sv[2];

static void *late_writer(void *arg) {
    (void)arg;
    struct timespec ts = {0, 30 * 1000000};
    nanosleep(&ts, NULL);
    CHECK_EQ(write(sv[1], "v", 1), 1);
    return NULL;
}

static int body(void *arg) {
    (void)arg;
    io_pair(sv);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, late_writer, NULL), 0);
    int64_t v0 = kin_current_time();
    CHECK_EQ(kin_wait_fd(sv[0], KIN_READABLE, 1000), KIN_READABLE);
    int64_t dv = kin_current_time() - v0;
    CHECK(dv >= 20 && dv < 1000);
    pthread_join(t, NULL);
    char b;
    CHECK_EQ(kin_read(sv[0], &b, 1), 1);

    /* a timeout with nobody writing: real time, then 0 */
    int64_t r0 = io_now_ms();
    CHECK_EQ(kin_wait_fd(sv[0], KIN_READABLE, 40), 0);
    CHECK(io_now_ms() - r0 >= 35);

    /* no fd wait pending: a long delay is instant */
    r0 = io_now_ms();
    v0 = kin_current_time();
    CHECK_EQ(kin_delay(100000), 0);
    CHECK(kin_current_time() - v0 >= 100000);
    CHECK(io_now_ms() - r0 < 1000);
    CHECK_EQ(kin_close(sv[0]), 0);
    CHECK_EQ(kin_close(sv[1]), 0);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    puts("test_io_virtual: ok");
    return 0;
}
