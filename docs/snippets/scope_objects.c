/* Scope objects: CoroutineScope(Job() + handler) and
 * CoroutineScope(SupervisorJob() + handler). */
#include <stdbool.h>
#include <stdio.h>

#include <kin.h>

static void handler(kin_job job, const kin_error *e, void *arg) {
    (void)job;
    (void)arg;
    printf("  handler: %s\n", kin_error_message(e));
}

static int failing(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(100));
    return kin_fail("RuntimeException", "Boom");
}

static int sibling(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(300));
    printf("  sibling done\n");
    return 0;
}

static int run(bool supervisor) {
    printf("%s:\n", supervisor ? "SupervisorJob()" : "Job()");
    kin_scope scope;
    KIN_TRY(kin_scope_new(&scope, &(kin_scope_opts){.supervisor = supervisor,
                                                    .handler = handler}));
    kin_job a, b;
    KIN_TRY(kin_scope_launch(scope, &a, NULL, failing, NULL));
    KIN_TRY(kin_scope_launch(scope, &b, NULL, sibling, NULL));
    KIN_TRY(kin_join_all((kin_job[]){a, b}, 2));
    printf("  scope active: %s\n",
           kin_scope_is_active(scope) ? "true" : "false");
    return kin_scope_close(scope); /* no garbage collector: close it */
}

static int body(void *arg) {
    (void)arg;
    KIN_TRY(run(false));
    return run(true);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
