/* An application sets the cause of an error it makes
 * (CancellationException(message, cause)); the cause travels with the
 * cancellation to every coroutine that sees it. Cycles are refused. */
#include "check.h"

static int sleeper(void *arg) {
    (void)arg;
    CHECK_EQ(kin_delay(100000), KIN_ECANCELED);
    const kin_error *e = kin_last_error();
    CHECK_STR(kin_error_message(e), "user left");
    CHECK_STR(kin_error_message(kin_error_cause(e)), "socket closed");
    return KIN_ECANCELED;
}

static int body(void *arg) {
    (void)arg;
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, sleeper, NULL), 0);
    CHECK_EQ(kin_yield(), 0);
    kin_error *why = kin_error_new(-104, "IOException", "socket closed");
    kin_error *c = kin_error_new(KIN_ECANCELED, "CancellationException",
                                 "user left");
    CHECK_EQ(kin_error_set_cause(c, why), 0);
    kin_error_release(why); /* c holds it */
    CHECK_EQ(kin_cancel(j, c), 0);
    CHECK_EQ(kin_join(j), 0);
    CHECK_STR(kin_error_message(kin_error_cause(kin_job_cause(j))),
              "socket closed");
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);

    kin_error *a = kin_error_new(KIN_EFAILED, NULL, "a");
    kin_error *b = kin_error_new(KIN_EFAILED, NULL, "b");
    CHECK_EQ(kin_error_set_cause(a, b), 0);
    CHECK_EQ(kin_error_set_cause(a, b), KIN_EINVAL); /* already has one */
    CHECK(strstr(kin_error_message(kin_last_error()), "already has a cause"));
    CHECK_EQ(kin_error_set_cause(b, a), KIN_EINVAL); /* a cycle */
    CHECK(strstr(kin_error_message(kin_last_error()), "acyclic"));
    CHECK_EQ(kin_error_set_cause(b, b), KIN_EINVAL);
    CHECK_EQ(kin_error_set_cause(NULL, b), KIN_EINVAL);
    CHECK_EQ(kin_error_set_cause(b, NULL), KIN_EINVAL);
    kin_error_release(a);
    kin_error_release(b);
    return 0;
}
