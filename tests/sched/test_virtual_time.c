/* Virtual time (kin_run_test): delays and timeouts of hours complete at once,
 * in order (deadline, then arming order), and kin_current_time reads the
 * virtual clock; Default keeps real time. */
#include <time.h>

#include "check.h"

static int64_t sleepers_start;

static int sleeper(void *arg) {
    long ms = (long)arg;
    KIN_TRY(kin_delay(ms));
    CHECK_EQ(kin_current_time(), sleepers_start + ms);
    return 0;
}

static int in_order(void *arg) {
    (void)arg;
    EXPECT(3);
    KIN_TRY(kin_delay(3600 * 1000)); /* an hour */
    EXPECT(5);
    return 0;
}

static int in_order_2(void *arg) {
    (void)arg;
    EXPECT(4);
    KIN_TRY(kin_delay(3600 * 1000)); /* the same deadline, armed second */
    EXPECT(6);
    return 0;
}

static int slow(void *arg) {
    (void)arg;
    return kin_delay(24L * 3600 * 1000);
}

static int body(void *arg) {
    (void)arg;
    CHECK_EQ(kin_current_time(), 0);
    EXPECT(1);
    KIN_TRY(kin_launch(NULL, NULL, in_order, NULL));
    KIN_TRY(kin_launch(NULL, NULL, in_order_2, NULL));
    EXPECT(2);
    KIN_TRY(kin_delay(10));
    CHECK_EQ(kin_current_time(), 10);
    KIN_TRY(kin_delay(2 * 3600 * 1000));
    FINISH(7);
    CHECK_EQ(kin_current_time(), 10 + 2 * 3600 * 1000);

    /* Timeouts are virtual too. */
    int64_t t0 = kin_current_time();
    CHECK_EQ(kin_with_timeout(5000, slow, NULL), KIN_ETIMEDOUT);
    CHECK_EQ(kin_current_time() - t0, 5000);

    /* Many sleepers wake at their own times. */
    sleepers_start = kin_current_time();
    for (long i = 1; i <= 1000; i++)
        KIN_TRY(kin_launch(NULL, NULL, sleeper, (void *)(i * 7)));
    return 0;
}

static int default_sleeps(void *arg) {
    (void)arg;
    return kin_delay(50); /* on Default: real time */
}

static int mixed(void *arg) {
    (void)arg;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    KIN_TRY(kin_with_context(kin_dispatcher_default(), default_sleeps, NULL));
    clock_gettime(CLOCK_MONOTONIC, &b);
    long real_ms = (long)((b.tv_sec - a.tv_sec) * 1000 +
                          (b.tv_nsec - a.tv_nsec) / 1000000);
    CHECK(real_ms >= 45);
    return 0;
}

int main(void) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    CHECK_EQ(kin_run_test(body, NULL), 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    CHECK(b.tv_sec - a.tv_sec < 20); /* "hours" took no real time */
    CHECK_EQ(kin_run_test(mixed, NULL), 0);
    /* Back to real time afterwards. */
    CHECK_EQ(kin_run_test(NULL, NULL), KIN_EINVAL);
    CHECK_EQ(kin_shutdown(), 0);
    return 0;
}
