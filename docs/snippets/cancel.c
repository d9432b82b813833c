/* Cancellation: cancel stops a job at its next suspension point. */
#include <stdio.h>

#include <kin.h>

static int work(void *arg) {
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        printf("Working on iteration %d\n", i);
        KIN_TRY(kin_delay(200)); /* KIN_ECANCELED once cancelled */
    }
    return 0;
}

static int cancel_repeat(void *arg) {
    (void)arg;
    kin_job job;
    KIN_TRY(kin_launch(&job, NULL, work, NULL));
    KIN_TRY(kin_delay(550));
    printf("Cancelling the job\n");
    KIN_TRY(kin_cancel(job, NULL));
    KIN_TRY(kin_join(job));
    printf("Job cancelled\n");
    return 0;
}

static int body(void *arg) {
    (void)arg;
    return kin_coroutine_scope(cancel_repeat, NULL);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
