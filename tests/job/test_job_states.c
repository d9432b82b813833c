/* DESIGN section 1: the state table, flag by flag, for each state. */
#include "check.h"

static void check_flags(kin_job j, int state, bool active, bool completed,
                        bool cancelled) {
    CHECK_EQ(kin_job_state(j), state);
    CHECK_EQ(kin_job_is_active(j), active);
    CHECK_EQ(kin_job_is_completed(j), completed);
    CHECK_EQ(kin_job_is_cancelled(j), cancelled);
}

static int sleeper(void *arg) {
    (void)arg;
    return kin_delay(100000);
}

static int spawns_sleeper(void *arg) {
    (void)arg;
    return kin_launch(NULL, NULL, sleeper, NULL);
}

static int cleanup_slowly_inner(void *arg) {
    (void)arg;
    return kin_delay(20);
}

static int cleanup_slowly(void *arg) {
    (void)arg;
    int rc = kin_delay(100000);
    CHECK_EQ(rc, KIN_ECANCELED);
    CHECK_EQ(kin_non_cancellable(cleanup_slowly_inner, NULL), 0);
    return rc;
}

static int quick(void *arg) {
    (void)arg;
    return 0;
}

static int fails(void *arg) {
    (void)arg;
    return kin_fail("IllegalStateException", "broken");
}

static void quiet(kin_job job, const kin_error *e, void *arg) {
    (void)job, (void)e, (void)arg;
}

static int fails_under_supervisor(void *arg) {
    (void)arg;
    kin_job f;
    KIN_TRY(kin_launch(&f, &(kin_launch_opts){.handler = quiet}, fails, NULL));
    KIN_TRY(kin_join(f));
    check_flags(f, KIN_STATE_CANCELLED, false, true, true);
    CHECK_STR(kin_error_message(kin_job_cause(f)), "broken");
    CHECK_STR(kin_error_type(kin_job_cause(f)), "IllegalStateException");
    CHECK_EQ(kin_error_code(kin_job_cause(f)), KIN_EFAILED);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    kin_job lazy, j, parent, slow, done;

    /* NEW */
    CHECK_EQ(kin_launch(&lazy, &(kin_launch_opts){.start = KIN_START_LAZY},
                        quick, NULL),
             0);
    check_flags(lazy, KIN_STATE_NEW, false, false, false);

    /* ACTIVE (queued, not yet run: already active, as in Kotlin) */
    CHECK_EQ(kin_launch(&j, NULL, sleeper, NULL), 0);
    check_flags(j, KIN_STATE_ACTIVE, true, false, false);

    /* COMPLETING: body done, a child still running */
    CHECK_EQ(kin_launch(&parent, NULL, spawns_sleeper, NULL), 0);
    CHECK_EQ(kin_yield(), 0);
    check_flags(parent, KIN_STATE_COMPLETING, true, false, false);

    /* CANCELLING: cancelled, cleanup still running */
    CHECK_EQ(kin_launch(&slow, NULL, cleanup_slowly, NULL), 0);
    CHECK_EQ(kin_yield(), 0);
    CHECK_EQ(kin_cancel(slow, NULL), 0);
    check_flags(slow, KIN_STATE_CANCELLING, false, false, true);
    CHECK_EQ(kin_join(slow), 0);

    /* CANCELLED */
    check_flags(slow, KIN_STATE_CANCELLED, false, true, true);
    CHECK_EQ(kin_cancel_and_join(parent), 0);
    check_flags(parent, KIN_STATE_CANCELLED, false, true, true);
    CHECK_EQ(kin_cancel_and_join(j), 0);
    check_flags(j, KIN_STATE_CANCELLED, false, true, true);

    /* COMPLETED */
    CHECK_EQ(kin_launch(&done, NULL, quick, NULL), 0);
    CHECK_EQ(kin_join(done), 0);
    check_flags(done, KIN_STATE_COMPLETED, false, true, false);
    CHECK(kin_job_cause(done) == NULL);

    /* A lazy job cancelled before it starts completes as cancelled. */
    CHECK_EQ(kin_cancel(lazy, NULL), 0);
    check_flags(lazy, KIN_STATE_CANCELLED, false, true, true);

    /* A failed job is CANCELLED with its failure as cause. */
    CHECK_EQ(kin_supervisor_scope(fails_under_supervisor, NULL), 0);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    return 0;
}
