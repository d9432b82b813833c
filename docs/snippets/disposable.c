/* DisposableHandle.dispose() and invokeOnCompletion(onCancelling = true). */
#include <stdio.h>

#include <kin.h>

static int child(void *arg) {
    (void)arg;
    int rc = kin_delay(1000);
    printf("child cleans up\n"); /* finally */
    return rc;
}

static void never(kin_job job, const kin_error *cause, void *arg) {
    (void)job, (void)cause, (void)arg;
    printf("never printed\n");
}

static void show(kin_job job, const kin_error *cause, void *arg) {
    (void)job;
    printf("%s: %s\n", (const char *)arg, kin_error_message(cause));
}

static int body(void *arg) {
    (void)arg;
    kin_job job;
    KIN_TRY(kin_launch(&job, NULL, child, NULL));
    kin_disposable removed;
    KIN_TRY(kin_invoke_on_completion_ex(job, NULL, never, NULL, &removed));
    KIN_TRY(kin_invoke_on_completion_ex(
        job, &(kin_completion_opts){.on_cancelling = true}, show, "cancelling",
        NULL));
    KIN_TRY(kin_invoke_on_completion_ex(job, NULL, show, "completed", NULL));
    kin_dispose(removed); /* 1: removed; it will never run */
    KIN_TRY(kin_delay(100));

    printf("cancel\n");
    KIN_TRY(kin_cancel(
        job, kin_error_new(KIN_ECANCELED, "CancellationException", "stop")));
    printf("cancel returned\n");
    return kin_join(job);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
