/* Cancellation and timeouts of fd waits:
 * - a kin_read waiting on an empty socket, cancelled, returns KIN_ECANCELED
 *   at once and consumes nothing: the bytes written afterwards are there
 *   for the next read;
 * - kin_with_timeout around a kin_read returns KIN_ETIMEDOUT on time;
 * - kin_wait_fd's own timeout is an ordinary result, 0;
 * - a cancelled caller gets KIN_ECANCELED even when the fd is ready
 *   (DESIGN rule 2), and inside kin_non_cancellable the wait goes on. */
#include "io_util.h"

static int sv[2];
static long got;
static int64_t cancelled_at;

static int reader(void *arg) {
    (void)arg;
    char b[16];
    got = kin_read(sv[0], b, sizeof b);
    cancelled_at = io_now_ms();
    return (int)got < 0 ? (int)got : 0;
}

static int read_block(void *arg) {
    (void)arg;
    char b[16];
    long n = kin_read(sv[0], b, sizeof b);
    return n < 0 ? (int)n : 0;
}

static long nc_got;
static int nc_read(void *arg) {
    char *b = arg;
    nc_got = kin_read(sv[0], b, 1);
    return 0;
}

static int nc_reader(void *arg) {
    (void)arg;
    char b = 0;
    /* cancelled while this runs: the wait goes on until the byte comes */
    CHECK_EQ(kin_non_cancellable(nc_read, &b), 0);
    CHECK_EQ(nc_got, 1);
    CHECK_EQ(b, 'n');
    CHECK(!kin_is_active());
    return KIN_ECANCELED;
}

static int body(void *arg) {
    (void)arg;
    io_pair(sv);
    char b[16];

    /* 1. cancelled while waiting: at once, nothing consumed */
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, reader, NULL), 0);
    CHECK_EQ(kin_delay(20), 0); /* the reader waits in kin_read */
    int64_t t0 = io_now_ms();
    CHECK_EQ(kin_cancel(j, NULL), 0);
    CHECK_EQ(kin_join(j), 0);
    CHECK_EQ(got, KIN_ECANCELED);
    CHECK(cancelled_at - t0 < 100);
    CHECK_EQ(write(sv[1], "abc", 3), 3);
    CHECK_EQ(kin_read(sv[0], b, sizeof b), 3); /* the data is still there */
    CHECK(memcmp(b, "abc", 3) == 0);

    /* 2. kin_with_timeout around a read */
    t0 = io_now_ms();
    CHECK_EQ(kin_with_timeout(50, read_block, NULL), KIN_ETIMEDOUT);
    int64_t took = io_now_ms() - t0;
    CHECK(took >= 45 && took < 2000);
    CHECK_EQ(write(sv[1], "x", 1), 1);
    CHECK_EQ(kin_with_timeout(1000, read_block, NULL), 0);

    /* 3. kin_wait_fd's own timeout: 0, and 0 ms only looks */
    t0 = io_now_ms();
    CHECK_EQ(kin_wait_fd(sv[0], KIN_READABLE, 30), 0);
    took = io_now_ms() - t0;
    CHECK(took >= 25 && took < 2000);
    CHECK_EQ(kin_wait_fd(sv[0], KIN_READABLE, 0), 0);
    CHECK_EQ(kin_wait_fd(sv[0], KIN_WRITABLE, 0), KIN_WRITABLE);
    CHECK_EQ(kin_wait_fd(sv[0], KIN_READABLE | KIN_WRITABLE, -1),
             KIN_WRITABLE);
    CHECK_EQ(write(sv[1], "y", 1), 1);
    CHECK_EQ(kin_wait_fd(sv[0], KIN_READABLE, -1), KIN_READABLE);
    CHECK_EQ(kin_read(sv[0], b, 1), 1);

    /* 4. non-cancellable: the wait survives the cancellation */
    CHECK_EQ(kin_launch(&j, NULL, nc_reader, NULL), 0);
    CHECK_EQ(kin_delay(10), 0);
    CHECK_EQ(kin_cancel(j, NULL), 0);
    CHECK_EQ(kin_delay(10), 0);
    CHECK(!kin_job_is_completed(j));
    CHECK_EQ(write(sv[1], "n", 1), 1);
    CHECK_EQ(kin_join(j), 0);
    CHECK(kin_job_is_cancelled(j));
    return 0;
}

static int cancelled_body(void *arg) {
    (void)arg;
    /* 5. a cancelled caller: KIN_ECANCELED even though the fd is ready */
    CHECK_EQ(write(sv[1], "z", 1), 1);
    kin_job self = kin_current_job();
    CHECK_EQ(kin_cancel(self, NULL), 0);
    char b;
    CHECK_EQ(kin_wait_fd(sv[0], KIN_READABLE, -1), KIN_ECANCELED);
    CHECK_EQ(kin_read(sv[0], &b, 1), KIN_ECANCELED);
    CHECK_EQ(io_pending(sv[0]), 1); /* not consumed */
    return KIN_ECANCELED;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    CHECK_EQ(kin_run_blocking(cancelled_body, NULL), KIN_ECANCELED);
    puts("test_io_cancel: ok");
    return 0;
}
