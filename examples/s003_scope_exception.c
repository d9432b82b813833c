/* Seed 003, "exceptions in coroutineScope": one failure cancels the siblings and reaches the caller.
 *
 *   suspend fun s003_scope_exception() {
 *       try {
 *           coroutineScope {
 *               launch { delay(500); throw IllegalStateException("Task A failed!") }
 *               launch { delay(1000); println("Task B done") }
 *               launch { delay(1000); println("Task C done") }
 *           }
 *       } catch (e: IllegalStateException) { println("Caught: ${e.message}") }
 *   }
 */
#include <stdio.h>

#include <kin.h>

static int task_a(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(500));
    return kin_fail("IllegalStateException", "Task A failed!");
}

static int task_b(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(1000));
    printf("Task B done\n");
    return 0;
}

static int task_c(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(1000));
    printf("Task C done\n");
    return 0;
}

static int tasks(void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(NULL, NULL, task_a, NULL));
    KIN_TRY(kin_launch(NULL, NULL, task_b, NULL));
    KIN_TRY(kin_launch(NULL, NULL, task_c, NULL));
    return 0;
}

static int body(void *arg) {
    (void)arg;
    int rc = kin_coroutine_scope(tasks, NULL);
    if (rc == KIN_EFAILED)
        printf("Caught: %s\n", kin_error_message(kin_last_error()));
    else
        KIN_TRY(rc);
    return 0;
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
