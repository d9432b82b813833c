/* Seed 003, "doWork": coroutineScope waits for both children.
 *
 *   suspend fun doWork() = coroutineScope {
 *       launch { delay(1000); println("Task A done") }
 *       launch { delay(500); println("Task B done") }
 *       println("Both tasks launched")
 *   }
 */
#include <stdio.h>

#include <kin.h>

static int task_a(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(1000));
    printf("Task A done\n");
    return 0;
}

static int task_b(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(500));
    printf("Task B done\n");
    return 0;
}

static int do_work(void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(NULL, NULL, task_a, NULL));
    KIN_TRY(kin_launch(NULL, NULL, task_b, NULL));
    printf("Both tasks launched\n");
    return 0;
}

static int body(void *arg) {
    (void)arg;
    KIN_TRY(kin_coroutine_scope(do_work, NULL));
    printf("doWork() completed — both children finished\n");
    return 0;
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
