/* Seed 004, "SupervisorJob": a failing coroutine goes to the scope's handler, its sibling runs on.
 *
 *   suspend fun s004_supervisorjob() {
 *       val handler = CoroutineExceptionHandler { _, e -> println("[SupervisorJob] Caught by handler: ${e.javaClass.simpleName} -> ${e.message}") }
 *       val supervisedScope = CoroutineScope(SupervisorJob() + Dispatchers.Default + handler)
 *       val a = supervisedScope.launch { delay(100); println("[SupervisorJob] A: about to fail"); throw RuntimeException("Boom from A") }
 *       val b = supervisedScope.launch { try { delay(300); println("[SupervisorJob] B: finished (not canceled)") } finally { println("[SupervisorJob] B: finally") } }
 *       joinAll(a, b)
 *       println("[SupervisorJob] Both children joined; scope is still active = ${supervisedScope.isActive}")
 *   }
 *
 * A and B run on Default's worker threads; the handler runs on A's thread
 * when A fails. kin has no garbage collector: the scope is closed at the end.
 */
#include <stdio.h>

#include <kin.h>

static void handler(kin_job job, const kin_error *e, void *arg) {
    (void)job;
    (void)arg;
    printf("[SupervisorJob] Caught by handler: %s -> %s\n", kin_error_type(e),
           kin_error_message(e));
}

static int child_a(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(100));
    printf("[SupervisorJob] A: about to fail\n");
    return kin_fail("RuntimeException", "Boom from A");
}

static int child_b(void *arg) {
    (void)arg;
    int rc = kin_delay(300);
    if (rc == 0)
        printf("[SupervisorJob] B: finished (not canceled)\n");
    printf("[SupervisorJob] B: finally\n");
    return rc;
}

static int body(void *arg) {
    (void)arg;
    kin_scope supervised_scope;
    KIN_TRY(kin_scope_new(
        &supervised_scope,
        &(kin_scope_opts){.supervisor = true,
                          .dispatcher = kin_dispatcher_default(),
                          .handler = handler}));
    kin_job a, b;
    KIN_TRY(kin_scope_launch(supervised_scope, &a, NULL, child_a, NULL));
    KIN_TRY(kin_scope_launch(supervised_scope, &b, NULL, child_b, NULL));
    KIN_TRY(kin_join_all((kin_job[]){a, b}, 2));
    printf("[SupervisorJob] Both children joined; scope is still active = %s\n",
           kin_scope_is_active(supervised_scope) ? "true" : "false");
    /* C has no garbage collector: close the scope object we made. */
    return kin_scope_close(supervised_scope);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
