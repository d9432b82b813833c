/* Cancellation is not a failure: the child sees it, passes it on, and the
 * parent carries on. */
#include <stdio.h>

#include <kin.h>

static int child(void *arg) {
    (void)arg;
    int rc = kin_delay(5000);
    if (rc == KIN_ECANCELED)
        printf("Caught cancellation: %s\n",
               kin_error_message(kin_last_error()));
    return rc; /* "throw e": always pass the cancellation on */
}

static int parent(void *arg) {
    (void)arg;
    kin_job job;
    KIN_TRY(kin_launch(&job, NULL, child, NULL));
    KIN_TRY(kin_delay(100));
    KIN_TRY(kin_cancel(job, NULL));
    KIN_TRY(kin_join(job));
    printf("Parent is fine - cancellation is not a failure\n");
    return 0;
}

static int body(void *arg) {
    (void)arg;
    return kin_coroutine_scope(parent, NULL);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
