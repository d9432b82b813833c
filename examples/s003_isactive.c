/* Seed 003, "isActive": a CPU loop on Default cooperates by checking isActive.
 *
 *   suspend fun s003_isactive() = coroutineScope {
 *       val job = launch(Dispatchers.Default) {
 *           var sum = 0L
 *           while (isActive) { sum++ }
 *           println("Loop ended, sum>0 = ${sum > 0}")
 *       }
 *       delay(50)
 *       println("Cancelling")
 *       job.cancelAndJoin()
 *       println("Done")
 *   }
 *
 * The loop never suspends, so it needs a thread of its own: it runs on a
 * Default worker while the scope's delay runs on the main thread.
 */
#include <stdio.h>

#include <kin.h>

static int count_while_active(void *arg) {
    (void)arg;
    long long sum = 0;
    while (kin_is_active())
        sum++;
    printf("Loop ended, sum>0 = %s\n", sum > 0 ? "true" : "false");
    return 0;
}

static int scope_body(void *arg) {
    (void)arg;
    kin_job job;
    KIN_TRY(kin_launch(&job,
                       &(kin_launch_opts){.dispatcher =
                                              kin_dispatcher_default()},
                       count_while_active, NULL));
    KIN_TRY(kin_delay(50));
    printf("Cancelling\n");
    KIN_TRY(kin_cancel_and_join(job));
    printf("Done\n");
    return 0;
}

static int body(void *arg) {
    (void)arg;
    return kin_coroutine_scope(scope_body, NULL);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
