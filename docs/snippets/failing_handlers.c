/* When a handler fails: kin_handler_fail is C's "throw" out of a handler. */
#include <stdint.h>
#include <stdio.h>

#include <kin.h>

static void show(const char *who, const char *what, const kin_error *e) {
    printf("%s: %s\n  cause: %s\n  suppressed: %s\n", who, what,
           kin_error_message(kin_error_cause(e)),
           kin_error_message(kin_error_suppressed(e, 0)));
}

static void default_handler(kin_job job, const kin_error *e, void *arg) {
    (void)job, (void)arg;
    show("default handler", kin_error_message(e), e);
}

static void breaking(kin_job job, const kin_error *e, void *arg) {
    (void)job, (void)e, (void)arg;
    kin_handler_fail(
        kin_error_new(KIN_EFAILED, "IllegalStateException", "handler broke"));
}

static void handler(kin_job job, const kin_error *e, void *arg) {
    (void)job, (void)arg;
    show("handler", kin_error_type(e), e);
}

static void completion(kin_job job, const kin_error *cause, void *arg) {
    (void)job, (void)cause;
    int i = (int)(intptr_t)arg;
    printf("completion handler %d\n", i);
    if (i != 2)
        kin_handler_fail(kin_error_new(KIN_EFAILED, "IllegalStateException",
                                       "completion %d broke", i));
}

static int fails(void *arg) {
    (void)arg;
    return kin_fail("RuntimeException", "original");
}

static int launch_fails(void *arg) {
    (void)arg;
    return kin_launch(NULL, &(kin_launch_opts){.handler = breaking}, fails,
                      NULL);
}

static int nothing(void *arg) {
    (void)arg;
    return 0;
}

static int body(void *arg) {
    (void)arg;
    KIN_TRY(kin_supervisor_scope(launch_fails, NULL));

    kin_job job;
    KIN_TRY(kin_launch(&job, &(kin_launch_opts){.handler = handler}, nothing,
                       NULL));
    for (intptr_t i = 1; i <= 3; i++)
        KIN_TRY(kin_invoke_on_completion(job, completion, (void *)i));
    return kin_join(job);
}

int main(void) {
    kin_set_default_handler(default_handler, NULL);
    return kin_run_blocking(body, NULL) == 0 ? 0 : 1;
}
