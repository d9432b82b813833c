/* Seed 003, "SupervisorJob + handler": the handler gets the failure, the sibling survives.
 *
 *   suspend fun s003_handler_supervisorjob() {
 *       val handler = CoroutineExceptionHandler { _, exception -> println("Caught in handler: ${exception.message}") }
 *       val scope = CoroutineScope(SupervisorJob() + handler)
 *       scope.launch { throw RuntimeException("Something went wrong") }
 *       scope.launch { delay(500); println("This sibling survives") }
 *       delay(1000)
 *   }
 */
#include <stdio.h>

#include <kin.h>

static void handler(kin_job job, const kin_error *exception, void *arg) {
    (void)job;
    (void)arg;
    printf("Caught in handler: %s\n", kin_error_message(exception));
}

static int failing(void *arg) {
    (void)arg;
    return kin_fail("RuntimeException", "Something went wrong");
}

static int sibling(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(500));
    printf("This sibling survives\n");
    return 0;
}

static int body(void *arg) {
    (void)arg;
    kin_scope scope;
    KIN_TRY(kin_scope_new(
        &scope, &(kin_scope_opts){.supervisor = true, .handler = handler}));
    KIN_TRY(kin_scope_launch(scope, NULL, NULL, failing, NULL));
    KIN_TRY(kin_scope_launch(scope, NULL, NULL, sibling, NULL));
    KIN_TRY(kin_delay(1000));
    /* C has no garbage collector: close the scope object we made. */
    return kin_scope_close(scope);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
