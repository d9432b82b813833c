/* runBlocking(handler + CoroutineName("main-loop")). */
#include <stdio.h>
#include <string.h>

#include <kin.h>

static void handler(kin_job job, const kin_error *e, void *arg) {
    (void)job;
    (void)arg;
    printf("handler: %s\n", kin_error_message(e));
}

static int failing(void *arg) {
    (void)arg;
    return kin_fail("RuntimeException", "child failed");
}

static int launch_failing(void *arg) {
    (void)arg;
    return kin_launch(NULL, NULL, failing, NULL);
}

static int body(void *arg) {
    (void)arg;
    char name[64];
    KIN_TRY(kin_job_name(kin_current_job(), name, sizeof name));
    name[strcspn(name, "#")] = '\0'; /* "main-loop#1": drop the id */
    printf("running in %s\n", name);
    /* A supervisor's child reports its failure to the handler that it
     * inherited from run_blocking, not to the default handler. */
    KIN_TRY(kin_supervisor_scope(launch_failing, NULL));
    printf("done\n");
    return 0;
}

int main(void) {
    kin_run_opts opts = {.handler = handler, .name = "main-loop"};
    return kin_run_blocking_opts(&opts, body, NULL) == 0 ? 0 : 1;
}
