/* More of Job: parent, cancelChildren(), Job.ensureActive() and
 * CoroutineScope.ensureActive(). */
#include <stdint.h>
#include <stdio.h>

#include <kin.h>

static int worker(void *arg) {
    int rc = kin_delay(1000);
    printf("worker %d: %s\n", (int)(intptr_t)arg, kin_strerror(rc));
    return rc;
}

static int body(void *arg) {
    (void)arg;
    kin_job group, parent;
    KIN_TRY(kin_job_new(&group, &(kin_job_opts){.parent = kin_current_job()}));
    KIN_TRY(kin_job_parent(group, &parent)); /* group.parent */
    printf("parent is this coroutine: %s\n",
           parent.id == kin_current_job().id ? "true" : "false");
    for (int i = 0; i < 3; i++)
        KIN_TRY(kin_launch(NULL, &(kin_launch_opts){.parent = group}, worker,
                           (void *)(intptr_t)i));
    KIN_TRY(kin_delay(10));
    KIN_TRY(kin_job_cancel_children(group, NULL)); /* not group itself */
    printf("group active: %s\n", kin_job_is_active(group) ? "true" : "false");
    KIN_TRY(kin_job_ensure_active(group)); /* 0: still active */
    KIN_TRY(kin_yield()); /* the workers see their cancellation */

    kin_job_complete(group);
    KIN_TRY(kin_join(group));
    int rc = kin_job_ensure_active(group); /* completed: KIN_ECANCELED */
    printf("group.ensureActive(): %s\n", kin_strerror(rc));
    return 0;
}

int main(void) {
    if (kin_run_blocking(body, NULL) != 0)
        return 1;
    kin_scope scope;
    if (kin_scope_new(&scope, NULL) != 0)
        return 1;
    kin_scope_cancel(
        scope,
        kin_error_new(KIN_ECANCELED, "CancellationException", "screen closed"));
    if (kin_scope_ensure_active(scope) == KIN_ECANCELED)
        printf("scope.ensureActive(): %s\n",
               kin_error_message(kin_last_error()));
    return kin_scope_close(scope) == 0 ? 0 : 1;
}
