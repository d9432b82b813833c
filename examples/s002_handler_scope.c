/* Seed 002, "CoroutineExceptionHandler": in coroutineScope the failure skips the handler and propagates.
 *
 *   suspend fun s002_handler_scope() {
 *       val handler = CoroutineExceptionHandler { _, exception -> println("Handler: ${exception.message}") }
 *       try { coroutineScope { launch(handler) { throw Exception("Task failed") } } }
 *       catch (e: Exception) { println("Propagated to scope: ${e.message}") }
 *   }
 */
#include <stdio.h>

#include <kin.h>

static void handler(kin_job job, const kin_error *exception, void *arg) {
    (void)job;
    (void)arg;
    printf("Handler: %s\n", kin_error_message(exception));
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
    if (kin_coroutine_scope(launch_with_handler, NULL) < 0)
        printf("Propagated to scope: %s\n",
               kin_error_message(kin_last_error()));
    return 0;
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
