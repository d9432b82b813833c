/* Completion handlers you can remove (DisposableHandle.dispose()), and the
 * on_cancelling variant (invokeOnCompletion(onCancelling = true)), which
 * runs when cancellation starts, in the cancelling thread, not when the
 * job is final. */
#include "check.h"

static int sleeper(void *arg) {
    (void)arg;
    int rc = kin_delay(100000);
    EXPECT(6); /* its cleanup runs after the on_cancelling handler */
    return rc;
}

static void on_cancelling(kin_job job, const kin_error *cause, void *arg) {
    (void)arg;
    EXPECT(3);
    CHECK_EQ(kin_job_state(job), KIN_STATE_CANCELLING); /* not final yet */
    CHECK_STR(kin_error_message(cause), "stop");
}

static void on_final(kin_job job, const kin_error *cause, void *arg) {
    (void)arg;
    EXPECT(7);
    CHECK_EQ(kin_job_state(job), KIN_STATE_CANCELLED);
    CHECK_STR(kin_error_message(cause), "stop");
}

static void never(kin_job job, const kin_error *cause, void *arg) {
    (void)job, (void)cause, (void)arg;
    CHECK(!"a disposed handler ran");
}

static int calls;
static const kin_error *last_cause = (const kin_error *)1;
static void count(kin_job job, const kin_error *cause, void *arg) {
    (void)job, (void)arg;
    calls++;
    last_cause = cause;
}

static int quick(void *arg) {
    (void)arg;
    return 0;
}

static int failing(void *arg) {
    (void)arg;
    CHECK_EQ(kin_delay(1), 0);
    return kin_fail("RuntimeException", "child broke");
}

static int slow_cleanup(void *arg) {
    int *cleaned = arg;
    CHECK_EQ(kin_delay(100000), KIN_ECANCELED);
    (*cleaned)++;
    return KIN_ECANCELED;
}

static int parent_of_failure(void *arg) {
    int *cleaned = arg;
    CHECK_EQ(kin_launch(NULL, NULL, slow_cleanup, cleaned), 0);
    CHECK_EQ(kin_launch(NULL, NULL, failing, NULL), 0);
    return kin_delay(100000);
}

static void parent_cancelling(kin_job job, const kin_error *cause, void *arg) {
    int *cleaned = arg;
    (void)job;
    CHECK_STR(kin_error_message(cause), "child broke");
    /* Runs as the cancellation starts: the sibling has not cleaned up. */
    CHECK_EQ(*cleaned, 0);
    calls++;
}

static void ignore(kin_job job, const kin_error *failure, void *arg) {
    (void)job, (void)failure, (void)arg;
}

static int body(void *arg) {
    (void)arg;
    EXPECT(1);
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, sleeper, NULL), 0);
    kin_disposable d1, d2, d3;
    CHECK_EQ(kin_invoke_on_completion_ex(
                 j, &(kin_completion_opts){.on_cancelling = true},
                 on_cancelling, NULL, &d1),
             0);
    CHECK_EQ(kin_invoke_on_completion_ex(j, NULL, on_final, NULL, &d2), 0);
    CHECK_EQ(kin_invoke_on_completion_ex(j, NULL, never, NULL, &d3), 0);
    kin_disposable d4;
    CHECK_EQ(kin_invoke_on_completion_ex(
                 j, &(kin_completion_opts){.on_cancelling = true}, never, NULL,
                 &d4),
             0);
    CHECK_EQ(kin_dispose(d3), 1);
    CHECK_EQ(kin_dispose(d3), 0); /* twice: harmless */
    CHECK_EQ(kin_dispose(d4), 1);
    CHECK_EQ(kin_yield(), 0);
    EXPECT(2);
    CHECK_EQ(kin_cancel(j, kin_error_new(KIN_ECANCELED, "CancellationException",
                                         "stop")),
             0);
    EXPECT(4); /* the on_cancelling handler ran inside kin_cancel */
    CHECK_EQ(kin_dispose(d1), 0); /* it ran */
    EXPECT(5);
    CHECK_EQ(kin_join(j), 0);
    EXPECT(8);
    CHECK_EQ(kin_dispose(d2), 0);

    /* Registered on a job that is already cancelling: at once. */
    kin_job c;
    CHECK_EQ(kin_launch(&c, NULL, sleeper, NULL), 0);
    CHECK_EQ(kin_yield(), 0);
    check_step_ = 5; /* sleeper's EXPECT(6) below */
    CHECK_EQ(kin_cancel(c, NULL), 0);
    calls = 0;
    kin_disposable none;
    CHECK_EQ(kin_invoke_on_completion_ex(
                 c, &(kin_completion_opts){.on_cancelling = true}, count, NULL,
                 &none),
             0);
    CHECK_EQ(calls, 1);
    CHECK(last_cause != NULL);
    CHECK_EQ(kin_dispose(none), 0);
    CHECK_EQ(kin_join(c), 0);

    /* A job that completes without cancelling: the on_cancelling handler
     * runs at completion with no cause. */
    kin_job q;
    CHECK_EQ(kin_launch(&q, NULL, quick, NULL), 0);
    calls = 0;
    CHECK_EQ(kin_invoke_on_completion_ex(
                 q, &(kin_completion_opts){.on_cancelling = true}, count, NULL,
                 NULL),
             0);
    CHECK_EQ(kin_join(q), 0);
    CHECK_EQ(calls, 1);
    CHECK(last_cause == NULL);

    /* A child's failure: the parent's on_cancelling handler runs when the
     * family starts cancelling, before the siblings' cleanup. */
    calls = 0;
    int cleaned = 0;
    kin_job sup, p;
    CHECK_EQ(kin_job_new(&sup, &(kin_job_opts){.parent = kin_current_job(),
                                               .supervisor = true}),
             0);
    CHECK_EQ(kin_launch(&p,
                        &(kin_launch_opts){.start = KIN_START_LAZY,
                                           .parent = sup,
                                           .handler = ignore},
                        parent_of_failure, &cleaned),
             0);
    CHECK_EQ(kin_invoke_on_completion_ex(
                 p, &(kin_completion_opts){.on_cancelling = true},
                 parent_cancelling, &cleaned, NULL),
             0);
    CHECK_EQ(kin_join(p), 0);
    CHECK_EQ(calls, 1);
    CHECK_EQ(cleaned, 1);
    CHECK_EQ(kin_job_complete(sup), 1);
    return 0;
}

static void bad_handles(void) {
    kin_disposable zero = {0, 0};
    CHECK_EQ(kin_dispose(zero), 0); /* a handler that ran at once */
    kin_disposable garbage = {0x1234, 0};
    CHECK_EQ(kin_dispose(garbage), KIN_EINVAL);
    kin_disposable bad_job = {0x77, 3};
    CHECK_EQ(kin_dispose(bad_job), KIN_EINVAL);
    CHECK_EQ(kin_invoke_on_completion_ex(bad_job.job ? (kin_job){5} :
                                                       (kin_job){0},
                                         NULL, NULL, NULL, NULL),
             KIN_EINVAL);
}

static kin_disposable g_late;
static int late_body(void *arg) {
    (void)arg;
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, quick, NULL), 0);
    CHECK_EQ(kin_invoke_on_completion_ex(j, NULL, count, NULL, &g_late), 0);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    bad_handles();
    /* The job's record is reclaimed: disposing is harmless. */
    CHECK_EQ(kin_run_test(late_body, NULL), 0);
    CHECK_EQ(kin_dispose(g_late), 0);
    return 0;
}
