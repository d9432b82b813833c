/* Seed 003, "CoroutineScope": cancelling a scope object cancels all of its coroutines.
 *
 *   suspend fun s003_scope_cancel() {
 *       val scope = CoroutineScope(Dispatchers.Default + Job())
 *       repeat(3) { i -> scope.launch { delay(1000); println("Task ${i+1} done") } }
 *       delay(200)
 *       println("Cancelling the entire scope")
 *       scope.coroutineContext.cancel()
 *       delay(1500)
 *       println("None of the tasks completed")
 *   }
 *
 * The tasks run on Default's worker threads while this coroutine waits on
 * the main thread. kin has no garbage collector: the scope is closed at the
 * end.
 */
#include <stdint.h>
#include <stdio.h>

#include <kin.h>

static int task(void *arg) {
    int i = (int)(intptr_t)arg;
    KIN_TRY(kin_delay(1000));
    printf("Task %d done\n", i + 1);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    kin_scope scope;
    KIN_TRY(kin_scope_new(
        &scope, &(kin_scope_opts){.dispatcher = kin_dispatcher_default()}));
    for (int i = 0; i < 3; i++)
        KIN_TRY(kin_scope_launch(scope, NULL, NULL, task, (void *)(intptr_t)i));
    KIN_TRY(kin_delay(200));
    printf("Cancelling the entire scope\n");
    KIN_TRY(kin_scope_cancel(scope, NULL));
    KIN_TRY(kin_delay(1500));
    printf("None of the tasks completed\n");
    /* C has no garbage collector: close the scope object we made. */
    return kin_scope_close(scope);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
