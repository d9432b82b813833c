/* Seed 002, "demonstrateSupervisorScope": independent failures, the other tasks finish.
 *
 *   suspend fun s002_demo_supervisor() {
 *       println("Starting supervisorScope")
 *       supervisorScope {
 *           launch { delay(100); println("Task 1 completed") }
 *           launch { delay(50); throw Exception("Task 2 failed!") }
 *           launch { delay(200); println("Task 3 completed") }
 *       }
 *       println("Done")
 *   }
 *
 * Task 2's failure is uncaught: the default handler reports it on stderr.
 */
#include <stdio.h>

#include <kin.h>

static int task_1(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(100));
    printf("Task 1 completed\n");
    return 0;
}

static int task_2(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(50));
    return kin_fail("Exception", "Task 2 failed!");
}

static int task_3(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(200));
    printf("Task 3 completed\n");
    return 0;
}

static int tasks(void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(NULL, NULL, task_1, NULL));
    KIN_TRY(kin_launch(NULL, NULL, task_2, NULL));
    KIN_TRY(kin_launch(NULL, NULL, task_3, NULL));
    return 0;
}

static int body(void *arg) {
    (void)arg;
    printf("Starting supervisorScope\n");
    KIN_TRY(kin_supervisor_scope(tasks, NULL));
    printf("Done\n");
    return 0;
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
