/* Seed 003, "ensureActive": a CPU loop on Default ends by throwing the cancellation.
 *
 *   suspend fun s003_ensureactive() = coroutineScope {
 *       val job = launch(Dispatchers.Default) { var sum = 0L; while (true) { if (!isActive) throw CancellationException("ensureActive"); sum++ } }
 *       delay(50)
 *       job.cancelAndJoin()
 *       println("Cancelled")
 *   }
 *
 * (kotlinx.coroutines 1.0.1 has no ensureActive(), hence the explicit check
 * in the reference program; kin has kin_ensure_active, which returns the
 * cancellation code for KIN_TRY to pass on.)
 */
#include <stdio.h>

#include <kin.h>

static int spin(void *arg) {
    (void)arg;
    volatile long long sum = 0;
    for (;;) {
        KIN_TRY(kin_ensure_active());
        sum = sum + 1;
    }
}

static int scope_body(void *arg) {
    (void)arg;
    kin_job job;
    KIN_TRY(kin_launch(&job,
                       &(kin_launch_opts){.dispatcher =
                                              kin_dispatcher_default()},
                       spin, NULL));
    KIN_TRY(kin_delay(50));
    KIN_TRY(kin_cancel_and_join(job));
    printf("Cancelled\n");
    return 0;
}

static int body(void *arg) {
    (void)arg;
    return kin_coroutine_scope(scope_body, NULL);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
