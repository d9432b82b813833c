/* Cooperative cancellation: CPU loops check kin_is_active or call
 * kin_ensure_active. */
#include <stdbool.h>
#include <stdio.h>

#include <kin.h>

static int graceful(void *arg) {
    long long *sum = arg;
    while (kin_is_active()) /* false once cancelled */
        (*sum)++;
    printf("Loop ended, sum > 0: %s\n", *sum > 0 ? "true" : "false");
    return 0; /* a graceful exit; the job still ends as cancelled */
}

static int abrupt(void *arg) {
    long long *sum = arg;
    for (;;) {
        KIN_TRY(kin_ensure_active()); /* returns KIN_ECANCELED */
        (*sum)++;
    }
}

static int scope_body(void *arg) {
    (void)arg;
    const kin_launch_opts on_default = {.dispatcher = kin_dispatcher_default()};
    long long sum1 = 0, sum2 = 0; /* safe: the scope outlives both (L5) */
    kin_job j1, j2;
    KIN_TRY(kin_launch(&j1, &on_default, graceful, &sum1));
    KIN_TRY(kin_launch(&j2, &on_default, abrupt, &sum2));
    KIN_TRY(kin_delay(50));
    printf("Cancelling\n");
    KIN_TRY(kin_cancel_and_join(j1));
    KIN_TRY(kin_cancel_and_join(j2));
    bool both = kin_job_is_cancelled(j1) && kin_job_is_cancelled(j2);
    printf("Both cancelled: %s\n", both ? "true" : "false");
    return 0;
}

static int body(void *arg) {
    (void)arg;
    return kin_coroutine_scope(scope_body, NULL);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
