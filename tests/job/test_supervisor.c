/* DESIGN rule 5: under a supervisor a failing child cancels only itself;
 * cancelling the supervisor still cancels all. Rule 14: a supervisor's own
 * (body's) failure is returned to its caller. */
#include "check.h"

static int handled;

static void handler(kin_job job, const kin_error *e, void *arg) {
    (void)job, (void)arg;
    CHECK_STR(kin_error_message(e), "only me");
    handled++;
}

static int fails(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(10));
    EXPECT(2);
    return kin_fail("RuntimeException", "only me");
}

static int survives(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(30));
    EXPECT(3);
    return 0;
}

static int sup_body(void *arg) {
    (void)arg;
    kin_launch_opts o = {.handler = handler};
    KIN_TRY(kin_launch(NULL, &o, fails, NULL));
    KIN_TRY(kin_launch(NULL, &o, survives, NULL));
    return 0;
}

static int waits_forever(void *arg) {
    int *cancelled = arg;
    int rc = kin_delay(100000);
    if (rc == KIN_ECANCELED)
        (*cancelled)++;
    return rc;
}

static int cancel_all_body(void *arg) {
    int *cancelled = arg;
    for (int i = 0; i < 3; i++)
        KIN_TRY(kin_launch(NULL, NULL, waits_forever, cancelled));
    KIN_TRY(kin_yield());
    kin_cancel(kin_current_job(), NULL); /* cancel the supervisor itself */
    return 0;
}

static int body_fails(void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(NULL, NULL, survives, NULL));
    return kin_fail("IllegalArgumentException", "body broke");
}

static int body(void *arg) {
    (void)arg;
    EXPECT(1);
    CHECK_EQ(kin_supervisor_scope(sup_body, NULL), 0);
    EXPECT(4);
    CHECK_EQ(handled, 1);

    int cancelled = 0;
    CHECK_EQ(kin_supervisor_scope(cancel_all_body, &cancelled), KIN_ECANCELED);
    CHECK_EQ(cancelled, 3);
    CHECK(kin_is_active()); /* cancelling a scope does not cancel us */

    check_step_ = 2; /* `survives` expects step 3 */
    int rc = kin_supervisor_scope(body_fails, NULL);
    CHECK_EQ(rc, KIN_EFAILED);
    CHECK_STR(kin_error_message(kin_last_error()), "body broke");
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    return 0;
}
