/* Non-cancellable cleanup: withContext(NonCancellable) { ... } in a
 * finally block. */
#include <stdio.h>

#include <kin.h>

static int close_connection(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(100)); /* works although we are cancelled */
    printf("connection closed\n");
    return 0;
}

static int worker(void *arg) {
    (void)arg;
    int rc = kin_delay(10000); /* try { ... } */
    printf("cleaning up (%s)\n", kin_strerror(rc));
    KIN_TRY(kin_non_cancellable(close_connection, NULL)); /* finally */
    return rc;
}

static int scope_body(void *arg) {
    (void)arg;
    kin_job job;
    KIN_TRY(kin_launch(&job, NULL, worker, NULL));
    KIN_TRY(kin_delay(100));
    KIN_TRY(kin_cancel_and_join(job)); /* waits for the cleanup */
    printf("job done\n");
    return 0;
}

static int body(void *arg) {
    (void)arg;
    return kin_coroutine_scope(scope_body, NULL);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
