/* A job that has been claimed for completion (body done, no children left)
 * is as good as completed: a child attached to it now (kin_launch_opts
 * .parent, kin_job_opts.parent) is born cancelled and stands alone, as
 * kotlinx does with a sealed Finishing state. kin used to link it, and the
 * parent then completed before its child (rule 1); on Default another
 * thread's launch could hit that window, which the model test found
 * (test_model_mt: "I1: job #453 completed after its parent #452"). Here
 * the window is reached on one thread, through handlers that run inside
 * it: an on_cancelling completion handler of a hand-made job (run after
 * the cancellation walk claimed the job, before it completes) and an
 * exception handler (run while the failed coroutine completes). */
#include "check.h"

static int ran;        /* bodies that ran: none must */
static int order[4];   /* completions, in order */
static int norder;

static int never(void *arg) {
    (void)arg;
    ran++;
    return 0;
}

static void on_done(kin_job job, const kin_error *cause, void *arg) {
    (void)job, (void)cause;
    order[norder++] = (int)(intptr_t)arg;
}

static kin_job g_late;

/* J is cancelling and claimed: a child launched under it stands alone. */
static void on_cancelling(kin_job job, const kin_error *cause, void *arg) {
    (void)cause, (void)arg;
    CHECK_EQ(kin_launch(&g_late, &(kin_launch_opts){.parent = job}, never,
                        NULL),
             0);
    kin_job p = {1};
    CHECK_EQ(kin_job_parent(g_late, &p), 0);
    CHECK_EQ(p.id, 0);
    CHECK(kin_job_is_cancelled(g_late));
    CHECK_EQ(kin_invoke_on_completion(g_late, on_done, (void *)2), 0);
}

static int late_child_of_cancelled_job(void *arg) {
    (void)arg;
    kin_job j;
    CHECK_EQ(kin_job_new(&j, &(kin_job_opts){.parent = kin_current_job()}),
             0);
    CHECK_EQ(kin_invoke_on_completion(j, on_done, (void *)1), 0);
    CHECK_EQ(kin_invoke_on_completion_ex(
                 j, &(kin_completion_opts){.on_cancelling = true},
                 on_cancelling, NULL, NULL),
             0);
    CHECK_EQ(kin_cancel(j, NULL), 0);
    CHECK_EQ(kin_job_state(j), KIN_STATE_CANCELLED);
    CHECK_EQ(kin_join(g_late), 0);
    CHECK_EQ(kin_job_state(g_late), KIN_STATE_CANCELLED);
    CHECK_EQ(norder, 2);
    CHECK_EQ(order[0], 1);
    CHECK_EQ(order[1], 2);
    return 0;
}

static int handled;

/* The failed coroutine is completing: a job made under it stands alone. */
static void handler(kin_job job, const kin_error *failure, void *arg) {
    (void)failure, (void)arg;
    kin_job y;
    CHECK_EQ(kin_job_new(&y, &(kin_job_opts){.parent = job}), 0);
    kin_job p = {1};
    CHECK_EQ(kin_job_parent(y, &p), 0);
    CHECK_EQ(p.id, 0);
    CHECK_EQ(kin_job_state(y), KIN_STATE_CANCELLED);
    handled++;
}

static int fails(void *arg) {
    (void)arg;
    return kin_fail("RuntimeException", "boom");
}

static int late_child_of_failed_coroutine(void *arg) {
    (void)arg;
    CHECK_EQ(kin_launch(NULL, &(kin_launch_opts){.handler = handler}, fails,
                        NULL),
             0);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    CHECK_EQ(kin_coroutine_scope(late_child_of_cancelled_job, NULL), 0);
    CHECK_EQ(kin_supervisor_scope(late_child_of_failed_coroutine, NULL), 0);
    CHECK_EQ(handled, 1);
    CHECK_EQ(ran, 0);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    return 0;
}
