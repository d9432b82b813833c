/* Hand-made jobs (Kotlin's Job(parent) / SupervisorJob(parent)): complete()
 * says whether this call completed it and the job then waits for its
 * children (COMPLETING); completeExceptionally fails the parent unless it
 * is a supervisor; cancelling the job does not cancel its parent; a
 * failing child of a root Job() still reports to its handler, a failing
 * child of Job(coroutine) does not (handlesException). */
#include "check.h"

static int child_delays(void *arg) {
    (void)arg;
    EXPECT(3);
    CHECK_EQ(kin_delay(10), 0);
    EXPECT(5);
    return 0;
}

/* Kotlin:
 *   expect(1); val job = Job(coroutineContext[Job])
 *   launch(job) { expect(3); delay(10); expect(5) }
 *   expect(2); check(job.complete()); check(!job.complete())
 *   yield(); expect(4); job.join(); expect(6) */
static int complete_waits_for_children(void *arg) {
    (void)arg;
    EXPECT(1);
    kin_job job;
    CHECK_EQ(kin_job_new(&job, &(kin_job_opts){.parent = kin_current_job()}),
             0);
    CHECK_EQ(kin_job_state(job), KIN_STATE_ACTIVE);
    kin_job parent;
    CHECK_EQ(kin_job_parent(job, &parent), 0);
    CHECK_EQ(parent.id, kin_current_job().id);
    CHECK_EQ(kin_launch(NULL, &(kin_launch_opts){.parent = job}, child_delays,
                        NULL),
             0);
    EXPECT(2);
    CHECK_EQ(kin_job_complete(job), 1);
    CHECK_EQ(kin_job_complete(job), 0);
    CHECK_EQ(kin_job_state(job), KIN_STATE_COMPLETING);
    CHECK(kin_job_is_active(job));
    CHECK_EQ(kin_yield(), 0);
    EXPECT(4);
    CHECK_EQ(kin_join(job), 0);
    EXPECT(6);
    CHECK_EQ(kin_job_state(job), KIN_STATE_COMPLETED);
    CHECK(kin_job_cause(job) == NULL);
    return 0;
}

static int sleeper(void *arg) {
    int *steps = arg;
    int rc = kin_delay(100000);
    CHECK_EQ(rc, KIN_ECANCELED);
    (*steps)++;
    return rc;
}

/* completeExceptionally(failure) cancels the job's children and fails its
 * parent, here the coroutine_scope, which returns that failure. */
static int fail_inside(void *arg) {
    int *steps = arg;
    kin_job job;
    CHECK_EQ(kin_job_new(&job, &(kin_job_opts){.parent = kin_current_job()}),
             0);
    CHECK_EQ(kin_launch(NULL, &(kin_launch_opts){.parent = job}, sleeper,
                        steps),
             0);
    CHECK_EQ(kin_yield(), 0);
    kin_error *boom = kin_error_new(KIN_EFAILED, "IllegalStateException",
                                    "boom");
    CHECK_EQ(kin_job_complete_exceptionally(job, boom), 1);
    CHECK_EQ(kin_job_complete_exceptionally(
                 job, kin_error_new(KIN_EFAILED, NULL, "late")),
             0);
    CHECK_EQ(kin_job_complete(job), 0);
    CHECK(!kin_is_active()); /* the parent was cancelled at once */
    return 0;
}

/* Under a supervisor the same failure stays in the job. */
static int fail_under_supervisor(void *arg) {
    int *steps = arg;
    kin_job job;
    CHECK_EQ(kin_job_new(&job, &(kin_job_opts){.parent = kin_current_job()}),
             0);
    CHECK_EQ(kin_launch(NULL, &(kin_launch_opts){.parent = job}, sleeper,
                        steps),
             0);
    CHECK_EQ(kin_yield(), 0);
    CHECK_EQ(kin_job_complete_exceptionally(
                 job, kin_error_new(KIN_EFAILED, NULL, "contained")),
             1);
    CHECK(kin_is_active());
    CHECK_EQ(kin_join(job), 0);
    CHECK_STR(kin_error_message(kin_job_cause(job)), "contained");
    return 0;
}

/* Cancelling a hand-made job cancels its children, not its parent; it is
 * then done (complete() says 0) and completes once the children have. */
static int cancel_is_local(void *arg) {
    int *steps = arg;
    kin_job job;
    CHECK_EQ(kin_job_new(&job, &(kin_job_opts){.parent = kin_current_job()}),
             0);
    CHECK_EQ(kin_launch(NULL, &(kin_launch_opts){.parent = job}, sleeper,
                        steps),
             0);
    CHECK_EQ(kin_yield(), 0);
    CHECK_EQ(kin_cancel(job, NULL), 0);
    CHECK_EQ(kin_job_state(job), KIN_STATE_CANCELLING);
    CHECK_EQ(kin_job_complete(job), 0);
    CHECK(kin_is_active());
    CHECK_EQ(kin_join(job), 0);
    CHECK_EQ(kin_job_state(job), KIN_STATE_CANCELLED);
    CHECK_EQ(*steps, 1);
    return 0;
}

static int handled; /* the handler's calls */

static void count_handler(kin_job job, const kin_error *failure, void *arg) {
    (void)job, (void)arg;
    CHECK_STR(kin_error_message(failure), "child failed");
    handled++;
}

static int failing_child(void *arg) {
    (void)arg;
    return kin_fail("RuntimeException", "child failed");
}

/* A root Job() takes its child's failure (it is cancelled) but does not
 * handle it: the child reports to the handler in its context. */
static int root_job_child_fails(void *arg) {
    (void)arg;
    kin_job root;
    CHECK_EQ(kin_job_new(&root, NULL), 0);
    kin_job p;
    CHECK_EQ(kin_job_parent(root, &p), 0);
    CHECK_EQ(p.id, 0);
    kin_job c;
    CHECK_EQ(kin_launch(&c,
                        &(kin_launch_opts){.parent = root,
                                           .handler = count_handler},
                        failing_child, NULL),
             0);
    CHECK_EQ(kin_join(c), 0);
    CHECK_EQ(handled, 1);
    CHECK_EQ(kin_job_state(root), KIN_STATE_CANCELLED);
    CHECK_STR(kin_error_message(kin_job_cause(root)), "child failed");
    CHECK(kin_is_active()); /* not our child: we are untouched */
    return 0;
}

/* Job(coroutine): the failure goes up through the job to the coroutine,
 * which handles it: the handler is not called, the scope returns it. */
static int child_fails_under_job(void *arg) {
    (void)arg;
    kin_job job;
    CHECK_EQ(kin_job_new(&job, &(kin_job_opts){.parent = kin_current_job()}),
             0);
    CHECK_EQ(kin_launch(NULL,
                        &(kin_launch_opts){.parent = job,
                                           .handler = count_handler},
                        failing_child, NULL),
             0);
    CHECK_EQ(kin_delay(1000), KIN_ECANCELED);
    return 0;
}

/* SupervisorJob(parent): one child's failure cancels only that child. */
static int supervisor_job(void *arg) {
    int *steps = arg;
    kin_job sup;
    CHECK_EQ(kin_job_new(&sup, &(kin_job_opts){.parent = kin_current_job(),
                                               .supervisor = true}),
             0);
    kin_job a, b;
    CHECK_EQ(kin_launch(&a, &(kin_launch_opts){.parent = sup}, sleeper, steps),
             0);
    CHECK_EQ(kin_launch(&b,
                        &(kin_launch_opts){.parent = sup,
                                           .handler = count_handler},
                        failing_child, NULL),
             0);
    CHECK_EQ(kin_join(b), 0);
    CHECK_EQ(handled, 2); /* the supervisor does not take it */
    CHECK(kin_job_is_active(a));
    CHECK(kin_job_is_active(sup));
    CHECK_EQ(kin_job_complete(sup), 1);
    CHECK_EQ(kin_cancel(a, NULL), 0);
    CHECK_EQ(kin_join(sup), 0);
    CHECK_EQ(kin_job_state(sup), KIN_STATE_COMPLETED);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    CHECK_EQ(kin_coroutine_scope(complete_waits_for_children, NULL), 0);
    FINISH(7);

    int steps = 0;
    CHECK_EQ(kin_coroutine_scope(fail_inside, &steps), KIN_EFAILED);
    CHECK_STR(kin_error_message(kin_last_error()), "boom");
    CHECK_EQ(steps, 1);

    steps = 0;
    CHECK_EQ(kin_supervisor_scope(fail_under_supervisor, &steps), 0);
    CHECK_EQ(steps, 1);

    steps = 0;
    CHECK_EQ(kin_coroutine_scope(cancel_is_local, &steps), 0);

    CHECK_EQ(kin_coroutine_scope(root_job_child_fails, NULL), 0);
    CHECK_EQ(kin_coroutine_scope(child_fails_under_job, NULL), KIN_EFAILED);
    CHECK_STR(kin_error_message(kin_last_error()), "child failed");
    CHECK_EQ(handled, 1); /* not called this time */

    steps = 0;
    CHECK_EQ(kin_coroutine_scope(supervisor_job, &steps), 0);
    CHECK_EQ(steps, 1);
    return 0;
}

/* From plain code: a root job whose handle nobody owns. */
static void plain_code(void) {
    kin_job j;
    CHECK_EQ(kin_job_new(&j, &(kin_job_opts){.name = "worker-group"}), 0);
    char name[64];
    CHECK(kin_job_name(j, name, sizeof name) > 0);
    CHECK(strncmp(name, "worker-group#", 13) == 0);
    CHECK_EQ(kin_job_complete(j), 1);
    CHECK(kin_job_is_completed(j));
    CHECK_EQ(kin_job_release(j), 0);

    /* A child of a completed job is born cancelled. */
    kin_job done, late;
    CHECK_EQ(kin_job_new(&done, NULL), 0);
    CHECK_EQ(kin_job_complete(done), 1);
    CHECK_EQ(kin_job_new(&late, &(kin_job_opts){.parent = done}), 0);
    CHECK_EQ(kin_job_state(late), KIN_STATE_CANCELLED);
    CHECK_STR(kin_error_message(kin_job_cause(late)),
              "Parent job is Completed");
    CHECK_EQ(kin_job_release(late), 0);
    CHECK_EQ(kin_job_release(done), 0);
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    plain_code();
    return 0;
}
