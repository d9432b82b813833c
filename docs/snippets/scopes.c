/* coroutineScope vs supervisorScope: seed 002's three tasks, run under
 * each. */
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
    printf("Starting coroutineScope\n");
    if (kin_coroutine_scope(tasks, NULL) < 0)
        printf("Caught: %s\n", kin_error_message(kin_last_error()));
    printf("Done\n");

    printf("Starting supervisorScope\n");
    KIN_TRY(kin_supervisor_scope(tasks, NULL)); /* Task 2 -> stderr */
    printf("Done\n");
    return 0;
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
