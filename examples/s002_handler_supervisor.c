/* Seed 002, "CoroutineExceptionHandler": under supervisorScope the child's handler gets the failure.
 *
 *   suspend fun s002_handler_supervisor() {
 *       val handler = CoroutineExceptionHandler { _, exception -> println("Caught: ${exception.message}") }
 *       supervisorScope { launch(handler) { throw Exception("Task failed") } }
 *       println("after supervisorScope")
 *   }
 */
#include <stdio.h>

#include <kin.h>

static void handler(kin_job job, const kin_error *exception, void *arg) {
    (void)job;
    (void)arg;
    printf("Caught: %s\n", kin_error_message(exception));
}

static int task(void *arg) {
    (void)arg;
    return kin_fail("Exception", "Task failed");
}

static int launch_with_handler(void *arg) {
    (void)arg;
    return kin_launch(NULL, &(kin_launch_opts){.handler = handler}, task, NULL);
}

static int body(void *arg) {
    (void)arg;
    KIN_TRY(kin_supervisor_scope(launch_with_handler, NULL));
    printf("after supervisorScope\n");
    return 0;
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
