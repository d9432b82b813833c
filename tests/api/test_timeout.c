/* DESIGN rules 9 and 15: with_timeout cancels its block when the time is up
 * and reports a timeout, distinct from cancellation from outside, even if
 * the block swallowed the cancellation; with_timeout_or_null reports "no
 * value" for its own timeout only; zero or negative never runs the block. */
#include "check.h"

static int ran;

static int slow(void *arg) {
    (void)arg;
    ran++;
    int rc = kin_delay(1000);
    CHECK_EQ(rc, KIN_ETIMEDOUT); /* the block sees the timeout itself */
    CHECK_STR(kin_error_type(kin_last_error()), "TimeoutCancellationException");
    return rc;
}

static int fast(void *arg) {
    int *out = arg;
    KIN_TRY(kin_delay(1));
    *out = 42;
    return 0;
}

static int swallows(void *arg) {
    (void)arg;
    kin_delay(1000); /* ignores the timeout and returns normally */
    return 0;
}

static int child_sleeps(void *arg) {
    (void)arg;
    int rc = kin_delay(1000);
    CHECK_EQ(rc, KIN_ETIMEDOUT); /* children are cancelled with it too */
    return rc;
}

static int with_child(void *arg) {
    (void)arg;
    return kin_launch(NULL, NULL, child_sleeps, NULL);
}

static int inner_timeout(void *arg) {
    (void)arg;
    return kin_with_timeout(10, slow, NULL); /* times out first */
}

static int forever(void *arg) {
    (void)arg;
    return kin_delay(100000);
}

static int outer_cancelled(void *arg) {
    int *rc = arg;
    *rc = kin_with_timeout(100000, forever, NULL);
    return *rc;
}

int main_body(void *arg);
int main_body(void *arg) {
    (void)arg;
    CHECK_EQ(kin_with_timeout(20, slow, NULL), KIN_ETIMEDOUT);
    CHECK_STR(kin_error_message(kin_last_error()),
              "Timed out waiting for 20 ms");
    CHECK_STR(kin_error_type(kin_last_error()), "TimeoutCancellationException");
    CHECK(kin_is_active()); /* the caller is not cancelled */

    int v = 0;
    CHECK_EQ(kin_with_timeout(1000, fast, &v), 0);
    CHECK_EQ(v, 42);
    v = 0;
    CHECK_EQ(kin_with_timeout_or_null(1000, fast, &v), 0);
    CHECK_EQ(v, 42);

    CHECK_EQ(kin_with_timeout_or_null(20, slow, NULL), KIN_NULL);
    CHECK_EQ(kin_with_timeout(20, swallows, NULL), KIN_ETIMEDOUT);
    CHECK_EQ(kin_with_timeout_or_null(20, swallows, NULL), KIN_NULL);
    CHECK_EQ(kin_with_timeout(20, with_child, NULL), KIN_ETIMEDOUT);

    /* A nested timeout is not "no value" for the outer or_null. */
    CHECK_EQ(kin_with_timeout_or_null(100000, inner_timeout, NULL),
             KIN_ETIMEDOUT);
    CHECK_STR(kin_error_message(kin_last_error()),
              "Timed out waiting for 10 ms");

    /* Cancelled from outside: a cancellation, not a timeout. */
    int rc = 0;
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, outer_cancelled, &rc), 0);
    CHECK_EQ(kin_yield(), 0);
    CHECK_EQ(kin_cancel_and_join(j), 0);
    CHECK_EQ(rc, KIN_ECANCELED);
    CHECK_STR(kin_error_message(kin_job_cause(j)), "Job was cancelled");

    ran = 0;
    CHECK_EQ(kin_with_timeout(0, slow, NULL), KIN_ETIMEDOUT);
    CHECK_EQ(kin_with_timeout(-5, slow, NULL), KIN_ETIMEDOUT);
    CHECK_EQ(kin_with_timeout_or_null(0, slow, NULL), KIN_NULL);
    CHECK_EQ(kin_with_timeout_or_null(-1, slow, NULL), KIN_NULL);
    CHECK_EQ(ran, 0);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(main_body, NULL), 0);
    return 0;
}
