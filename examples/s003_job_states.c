/* Seed 003, "job states": after cancel and join, a job is completed and cancelled.
 *
 *   suspend fun s003_job_states() = coroutineScope {
 *       val job = launch { repeat(10) { i -> println("Working $i"); delay(200) } }
 *       delay(550)
 *       println("Requesting cancellation")
 *       job.cancel(); job.join()
 *       println("Job is done: ${job.isCompleted}")
 *       println("Job was cancelled: ${job.isCancelled}")
 *   }
 */
#include <stdbool.h>
#include <stdio.h>

#include <kin.h>

static const char *str(bool b) { return b ? "true" : "false"; }

static int work(void *arg) {
    (void)arg;
    for (int i = 0; i < 10; i++) {
        printf("Working %d\n", i);
        KIN_TRY(kin_delay(200));
    }
    return 0;
}

static int job_states(void *arg) {
    (void)arg;
    kin_job job;
    KIN_TRY(kin_launch(&job, NULL, work, NULL));
    KIN_TRY(kin_delay(550));
    printf("Requesting cancellation\n");
    KIN_TRY(kin_cancel(job, NULL));
    KIN_TRY(kin_join(job));
    printf("Job is done: %s\n", str(kin_job_is_completed(job)));
    printf("Job was cancelled: %s\n", str(kin_job_is_cancelled(job)));
    return 0;
}

static int body(void *arg) {
    (void)arg;
    return kin_coroutine_scope(job_states, NULL);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
