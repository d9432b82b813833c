/* Hand-made jobs: Job(parent), complete(), completeExceptionally(), and
 * what cancelling one reaches. */
#include <stdio.h>

#include <kin.h>

static const char *tf(int b) {
    return b ? "true" : "false";
}

static int child(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(100));
    printf("child done\n");
    return 0;
}

static int sleeper(void *arg) {
    (void)arg;
    int rc = kin_delay(1000);
    printf("child %s\n", kin_strerror(rc));
    return rc;
}

static int fails_its_parent(void *arg) {
    (void)arg;
    kin_job_opts here = {.parent = kin_current_job()};
    kin_job failing;
    KIN_TRY(kin_job_new(&failing, &here));
    kin_job_complete_exceptionally(
        failing, kin_error_new(KIN_EFAILED, "IllegalStateException", "boom"));
    return kin_delay(1000); /* cancelled at once: the failure reached us */
}

static int body(void *arg) {
    (void)arg;
    kin_job_opts here = {.parent = kin_current_job()}; /* Job(parent) */
    kin_job job;
    KIN_TRY(kin_job_new(&job, &here));
    KIN_TRY(kin_launch(NULL, &(kin_launch_opts){.parent = job}, child, NULL));
    printf("complete(): %s\n", tf(kin_job_complete(job) == 1));
    printf("complete() again: %s\n", tf(kin_job_complete(job) == 1));
    printf("waiting for its child, active: %s\n", tf(kin_job_is_active(job)));
    KIN_TRY(kin_join(job));
    printf("completed: %s\n", tf(kin_job_is_completed(job)));

    kin_job group;
    KIN_TRY(kin_job_new(&group, &here));
    KIN_TRY(
        kin_launch(NULL, &(kin_launch_opts){.parent = group}, sleeper, NULL));
    KIN_TRY(kin_delay(10));
    KIN_TRY(kin_cancel(group, NULL)); /* reaches its children, not its parent */
    KIN_TRY(kin_join(group));
    printf("parent active: %s\n", tf(kin_is_active()));

    if (kin_coroutine_scope(fails_its_parent, NULL) == KIN_EFAILED)
        printf("coroutine_scope: %s\n", kin_error_message(kin_last_error()));
    return 0;
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
