/* Exception handlers (DESIGN rule 7): called for a launch whose parent does
 * not handle the failure (a root, or a child of a supervisor); not called
 * inside coroutine_scope; never for async. */
#include <stdio.h>

#include <kin.h>

static void handler(kin_job job, const kin_error *e, void *arg) {
    (void)job;
    printf("%s handler: %s: %s\n", (const char *)arg, kin_error_type(e),
           kin_error_message(e));
}

static int task(void *arg) {
    (void)arg;
    return kin_fail("RuntimeException", "Task failed");
}

static int value_task(void *arg, void **result) {
    (void)arg;
    (void)result;
    return kin_fail("ArithmeticException", "Division by zero");
}

static const kin_launch_opts with_handler = {.handler = handler,
                                             .handler_arg = "launch"};

static int launch_with_handler(void *arg) {
    (void)arg;
    return kin_launch(NULL, &with_handler, task, NULL);
}

static int launch_plain(void *arg) {
    (void)arg;
    return kin_launch(NULL, NULL, task, NULL);
}

static int async_with_handler(void *arg) {
    (void)arg;
    kin_job d;
    KIN_TRY(kin_async(&d, &with_handler, value_task, NULL));
    if (kin_await(d, NULL) == KIN_EFAILED)
        printf("await: %s\n", kin_error_message(kin_last_error()));
    return 0;
}

static int body(void *arg) {
    (void)arg;
    /* 1. Under a supervisor: the child's handler is called. */
    KIN_TRY(kin_supervisor_scope(launch_with_handler, NULL));

    /* 2. Inside coroutine_scope: the handler is NOT called; the failure
     *    goes to the scope, which returns it. */
    if (kin_coroutine_scope(launch_with_handler, NULL) == KIN_EFAILED)
        printf("coroutine_scope: %s\n", kin_error_message(kin_last_error()));

    /* 3. async: never a handler; the failure waits for await. */
    KIN_TRY(kin_supervisor_scope(async_with_handler, NULL));

    /* 4. No handler anywhere: the default handler. It prints to stderr;
     *    here we replace it to print to stdout. */
    kin_set_default_handler(handler, "default");
    KIN_TRY(kin_supervisor_scope(launch_plain, NULL));
    kin_set_default_handler(NULL, NULL); /* restore the default */
    return 0;
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
