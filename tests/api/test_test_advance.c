/* kin_test_advance_time_by / kin_test_run_current / kin_test_advance_until_idle
 * against kotlinx-coroutines-test's TestCoroutineScheduler (>= 1.6):
 * advanceTimeBy(n) runs what is due strictly before now + n and leaves the
 * clock at now + n; tasks due at that very moment wait for runCurrent or
 * the next suspension; advanceUntilIdle runs through every timer;
 * currentTime starts at 0. The steps are kotlinx's own tests
 * (TestCoroutineSchedulerTest.testAdvanceTimeByDoesNotRunCurrent,
 * TestCoroutineDispatcherOrderTest.testAdvanceTimeBy_progressesOnEachDelay
 * with 1.6's rule) and the runCurrent/advanceUntilIdle example of Kotlin in
 * Action (18.5.1). */
#include "check.h"

/* ---- advanceTimeBy does not run the tasks at the target moment ---------- */

static int entered;

static int delay15(void *arg) {
    (void)arg;
    EXPECT(3);
    CHECK_EQ(kin_delay(15), 0);
    entered = 1;
    EXPECT(5);
    return 0;
}

static int not_current(void *arg) {
    (void)arg;
    EXPECT(1);
    CHECK_EQ(kin_current_time(), 0);
    CHECK_EQ(kin_launch(NULL, NULL, delay15, NULL), 0);
    EXPECT(2);
    CHECK_EQ(kin_test_advance_time_by(15), 0);
    EXPECT(4);
    CHECK(!entered);
    CHECK_EQ(kin_current_time(), 15);
    CHECK_EQ(kin_test_run_current(), 0);
    EXPECT(6);
    CHECK(entered);
    CHECK_EQ(kin_current_time(), 15);
    return 0;
}

/* ---- the clock moves to each delay on the way ---------------------------- */

static int three_delays(void *arg) {
    (void)arg;
    EXPECT(2);
    CHECK_EQ(kin_delay(1000), 0);
    CHECK_EQ(kin_current_time(), 1000);
    EXPECT(3);
    CHECK_EQ(kin_delay(500), 0);
    CHECK_EQ(kin_current_time(), 1500);
    EXPECT(4);
    CHECK_EQ(kin_delay(501), 0);
    CHECK_EQ(kin_current_time(), 2001);
    EXPECT(6);
    return 0;
}

static int each_delay(void *arg) {
    (void)arg;
    EXPECT(1);
    CHECK_EQ(kin_launch(NULL, NULL, three_delays, NULL), 0);
    CHECK_EQ(kin_test_advance_time_by(2000), 0);
    EXPECT(5);
    CHECK_EQ(kin_current_time(), 2000);
    CHECK_EQ(kin_test_advance_time_by(2), 0);
    EXPECT(7);
    CHECK_EQ(kin_current_time(), 2002);
    CHECK_EQ(kin_test_advance_time_by(0), 0); /* nothing due: no-op */
    CHECK_EQ(kin_current_time(), 2002);
    return 0;
}

/* ---- runCurrent, then advanceUntilIdle ------------------------------------- */

static int x;

static int after(void *arg) {
    CHECK_EQ(kin_delay((int64_t)(intptr_t)arg), 0);
    x++;
    return 0;
}

static int idle(void *arg) {
    (void)arg;
    CHECK_EQ(kin_launch(NULL, NULL, after, (void *)(intptr_t)500), 0);
    CHECK_EQ(kin_launch(NULL, NULL, after, (void *)(intptr_t)1000), 0);
    CHECK_EQ(kin_test_run_current(), 0); /* both start and wait */
    CHECK_EQ(x, 0);
    CHECK_EQ(kin_current_time(), 0);
    CHECK_EQ(kin_test_advance_time_by(600), 0);
    CHECK_EQ(x, 1);
    CHECK_EQ(kin_current_time(), 600);
    CHECK_EQ(kin_test_advance_until_idle(), 0);
    CHECK_EQ(x, 2);
    CHECK_EQ(kin_current_time(), 1000); /* the last delay's moment */
    CHECK_EQ(kin_test_advance_until_idle(), 0); /* idle already */
    CHECK_EQ(kin_current_time(), 1000);
    return 0;
}

/* ---- same moment: arming order; chains inside one advance ------------------ */

static char order[16];
static int norder;

static int tick(void *arg) {
    char c = (char)(intptr_t)arg;
    CHECK_EQ(kin_delay(10), 0);
    order[norder++] = c;
    if (c == 'a') /* a chain: armed during the advance, due before its end */
        CHECK_EQ(kin_launch(NULL, NULL, tick, (void *)(intptr_t)'d'), 0);
    return 0;
}

static int same_moment(void *arg) {
    (void)arg;
    for (char c = 'a'; c <= 'c'; c++)
        CHECK_EQ(kin_launch(NULL, NULL, tick, (void *)(intptr_t)c), 0);
    CHECK_EQ(kin_test_advance_time_by(25), 0);
    CHECK_STR(order, "abcd");
    CHECK_EQ(kin_current_time(), 25);
    return 0;
}

/* ---- one waiter at a time; a cancelled waiter ----------------------------- */

static kin_job advancer;

static int second_advancer(void *arg) {
    (void)arg;
    EXPECT(2);
    MISUSE(kin_test_advance_time_by(5), KIN_EBUSY, "another coroutine");
    CHECK_EQ(kin_delay(100), 0);
    EXPECT(3);
    CHECK_EQ(kin_cancel(advancer, NULL), 0);
    return 0;
}

static int long_advance(void *arg) {
    (void)arg;
    EXPECT(1);
    CHECK_EQ(kin_test_advance_time_by(100000), KIN_ECANCELED);
    EXPECT(4);
    CHECK_EQ(kin_current_time(), 100); /* stopped where it was cancelled */
    return KIN_ECANCELED;
}

static int busy(void *arg) {
    (void)arg;
    CHECK_EQ(kin_launch(&advancer, NULL, long_advance, NULL), 0);
    CHECK_EQ(kin_launch(NULL, NULL, second_advancer, NULL), 0);
    CHECK_EQ(kin_join(advancer), 0);
    EXPECT(5);
    /* the slot is free again */
    CHECK_EQ(kin_test_advance_time_by(7), 0);
    CHECK_EQ(kin_current_time(), 107);
    return 0;
}

/* ---- what reads the virtual clock ------------------------------------------ */

static int64_t handler_time = -1;

static void on_done(kin_job job, const kin_error *cause, void *arg) {
    (void)job, (void)cause, (void)arg;
    handler_time = kin_current_time(); /* plain code on the test loop */
}

static int sleeper(void *arg) {
    (void)arg;
    return kin_delay(3000);
}

static int clock_readers(void *arg) {
    (void)arg;
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, sleeper, NULL), 0);
    CHECK_EQ(kin_invoke_on_completion(j, on_done, NULL), 0);
    CHECK_EQ(kin_test_advance_until_idle(), 0);
    CHECK_EQ(handler_time, 3000);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(not_current, NULL), 0);
    CHECK_STEPS(6);
    check_step_ = 0;
    CHECK_EQ(kin_run_test(each_delay, NULL), 0);
    CHECK_STEPS(7);
    CHECK_EQ(kin_run_test(idle, NULL), 0);
    CHECK_EQ(kin_run_test(same_moment, NULL), 0);
    check_step_ = 0;
    CHECK_EQ(kin_run_test(busy, NULL), 0);
    CHECK_STEPS(5);
    CHECK_EQ(kin_run_test(clock_readers, NULL), 0);
    return 0;
}
