/* DESIGN rule 13: the reported cause: a real failure beats an earlier plain
 * cancellation; among cancellations the first cause wins; cancellations are
 * never attached as suppressed. Rule 4: cancellation is not failure. */
#include "check.h"

static int fails_in_cleanup(void *arg) {
    (void)arg;
    int rc = kin_delay(100000);
    CHECK_EQ(rc, KIN_ECANCELED);
    return kin_fail("RuntimeException", "cleanup failed");
}

static int cancelled(void *arg) {
    (void)arg;
    return kin_delay(100000);
}

static int scope_cancel_then_fail(void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(NULL, NULL, fails_in_cleanup, NULL));
    KIN_TRY(kin_launch(NULL, NULL, cancelled, NULL));
    KIN_TRY(kin_yield());
    kin_cancel(kin_current_job(),
               kin_error_new(KIN_ECANCELED, "CancellationException", "first"));
    return 0;
}

static int scope_two_cancels(void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(NULL, NULL, cancelled, NULL));
    KIN_TRY(kin_yield());
    kin_job me = kin_current_job();
    kin_cancel(me, kin_error_new(KIN_ECANCELED, "CancellationException", "A"));
    kin_cancel(me, kin_error_new(KIN_ECANCELED, "CancellationException", "B"));
    return 0;
}

static int body(void *arg) {
    (void)arg;
    CHECK_EQ(kin_coroutine_scope(scope_cancel_then_fail, NULL), KIN_EFAILED);
    const kin_error *e = kin_last_error();
    CHECK_STR(kin_error_message(e), "cleanup failed");
    CHECK_EQ(kin_error_suppressed_count(e), 0); /* no cancellations */

    CHECK_EQ(kin_coroutine_scope(scope_two_cancels, NULL), KIN_ECANCELED);
    CHECK_STR(kin_error_message(kin_last_error()), "A");
    CHECK_EQ(kin_error_suppressed_count(kin_last_error()), 0);

    /* A cancelled child does not cancel its parent or siblings. */
    kin_job c;
    CHECK_EQ(kin_launch(&c, NULL, cancelled, NULL), 0);
    CHECK_EQ(kin_yield(), 0);
    CHECK_EQ(kin_cancel_and_join(c), 0);
    CHECK(kin_is_active());
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    return 0;
}
