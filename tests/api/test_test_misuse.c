/* Misuse of the virtual-time controls (kin_test_*): each row returns the
 * code kin.h documents with a message that says why. */
#include "check.h"

static int in_real_loop(void *arg) {
    (void)arg;
    MISUSE(kin_test_advance_time_by(10), KIN_EPERM, "no virtual time");
    MISUSE(kin_test_advance_until_idle(), KIN_EPERM, "kin_run_test");
    MISUSE(kin_test_run_current(), KIN_EPERM, "kin_run_test");
    return 0;
}

static int on_real_default(void *arg) {
    (void)arg;
    /* a Default thread has no virtual time, even during a kin_run_test */
    MISUSE(kin_test_advance_time_by(10), KIN_EPERM, "no virtual time");
    MISUSE(kin_test_run_current(), KIN_EPERM, "no virtual time");
    return 0;
}

static int cancelled_first(void *arg) {
    (void)arg;
    CHECK_EQ(kin_cancel(kin_current_job(), NULL), 0);
    MISUSE(kin_test_advance_time_by(10), KIN_ECANCELED, "cancelled");
    MISUSE(kin_test_advance_until_idle(), KIN_ECANCELED, "cancelled");
    MISUSE(kin_test_run_current(), KIN_ECANCELED, "cancelled");
    CHECK_EQ(kin_current_time(), 0); /* the clock did not move */
    return KIN_ECANCELED;
}

static int in_test(void *arg) {
    (void)arg;
    MISUSE(kin_test_advance_time_by(-1), KIN_EINVAL, "negative time");
    CHECK_EQ(kin_with_context(kin_dispatcher_default(), on_real_default,
                              NULL),
             0);
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, cancelled_first, NULL), 0);
    CHECK_EQ(kin_join(j), 0);
    return 0;
}

int main(void) {
    MISUSE(kin_test_advance_time_by(10), KIN_ENOTCORO, "outside a coroutine");
    MISUSE(kin_test_advance_until_idle(), KIN_ENOTCORO, "outside a coroutine");
    MISUSE(kin_test_run_current(), KIN_ENOTCORO, "outside a coroutine");
    CHECK_EQ(kin_run_blocking(in_real_loop, NULL), 0);
    CHECK_EQ(kin_run_test(in_test, NULL), 0);
    CHECK(check_cases_ >= 12);
    return 0;
}
