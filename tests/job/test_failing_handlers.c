/* Handlers that fail (kin_handler_fail, C's throw out of a callback). As
 * kotlinx.coroutines does: a failing exception handler's failure reaches
 * the default handler wrapped in "Exception while trying to handle
 * coroutine exception" with the original suppressed; failing completion
 * handlers do not stop the others and are reported once, as a
 * CompletionHandlerException (first failure as cause, later ones
 * suppressed), through the job's exception handler. */
#include "check.h"

static int default_calls;
static kin_error *default_seen;

static void default_handler(kin_job job, const kin_error *failure, void *arg) {
    (void)job, (void)arg;
    default_calls++;
    kin_error_release(default_seen);
    default_seen = kin_error_retain(failure);
}

static void breaking_handler(kin_job job, const kin_error *failure,
                             void *arg) {
    (void)job, (void)arg;
    CHECK_STR(kin_error_message(failure), "original");
    CHECK_EQ(kin_handler_fail(
                 kin_error_new(KIN_EFAILED, "IllegalStateException",
                               "handler broke")),
             0);
}

static void rethrowing_handler(kin_job job, const kin_error *failure,
                               void *arg) {
    (void)job, (void)arg;
    CHECK_EQ(kin_handler_fail(kin_error_retain(failure)), 0);
}

static int fails(void *arg) {
    (void)arg;
    return kin_fail("RuntimeException", "original");
}

static int handler_calls;
static kin_error *handler_seen;
static void context_handler(kin_job job, const kin_error *failure, void *arg) {
    (void)job, (void)arg;
    handler_calls++;
    kin_error_release(handler_seen);
    handler_seen = kin_error_retain(failure);
}

static int ran[4];
static void completion(kin_job job, const kin_error *cause, void *arg) {
    (void)job, (void)cause;
    int i = (int)(long)arg;
    ran[i]++;
    if (i == 1 || i == 3) {
        char msg[32];
        snprintf(msg, sizeof msg, "completion %d broke", i);
        CHECK_EQ(kin_handler_fail(kin_error_new(KIN_EFAILED, NULL, "%s", msg)),
                 0);
    }
}

static int quick(void *arg) {
    (void)arg;
    return 0;
}

static int body(void *arg) {
    (void)arg;
    /* Completion handlers: 1 and 3 fail, 2 still runs, one report. */
    kin_job j;
    CHECK_EQ(kin_launch(&j,
                        &(kin_launch_opts){.start = KIN_START_LAZY,
                                           .handler = context_handler},
                        quick, NULL),
             0);
    for (long i = 1; i <= 3; i++)
        CHECK_EQ(kin_invoke_on_completion(j, completion, (void *)i), 0);
    CHECK_EQ(kin_join(j), 0);
    CHECK(ran[1] == 1 && ran[2] == 1 && ran[3] == 1);
    CHECK_EQ(handler_calls, 1);
    CHECK_STR(kin_error_type(handler_seen), "CompletionHandlerException");
    CHECK(strstr(kin_error_message(handler_seen),
                 "Exception in completion handler for coroutine#"));
    CHECK_STR(kin_error_message(kin_error_cause(handler_seen)),
              "completion 1 broke");
    CHECK_EQ(kin_error_suppressed_count(handler_seen), 1);
    CHECK_STR(kin_error_message(kin_error_suppressed(handler_seen, 0)),
              "completion 3 broke");
    CHECK(kin_job_cause(j) == NULL); /* the job itself succeeded */

    /* Registered on a completed job: runs at once; its failure is
     * reported the same way. */
    CHECK_EQ(kin_invoke_on_completion(j, completion, (void *)1L), 0);
    CHECK_EQ(ran[1], 2);
    CHECK_EQ(handler_calls, 2);
    CHECK_STR(kin_error_message(kin_error_cause(handler_seen)),
              "completion 1 broke");
    CHECK_EQ(kin_error_suppressed_count(handler_seen), 0);
    return 0;
}

/* Launches fails into a scope whose handler is h, waits for it, closes. */
static void fail_into_scope(kin_handler_fn h) {
    kin_scope s;
    CHECK_EQ(kin_scope_new(&s, &(kin_scope_opts){.handler = h}), 0);
    kin_job j;
    CHECK_EQ(kin_scope_launch(s, &j, NULL, fails, NULL), 0);
    CHECK_EQ(kin_join(j), 0);
    CHECK_EQ(kin_scope_close(s), 0);
}

static int exception_handlers(void *arg) {
    (void)arg;
    /* A failing exception handler. */
    fail_into_scope(breaking_handler);
    CHECK_EQ(default_calls, 1);
    CHECK_STR(kin_error_type(default_seen), "RuntimeException");
    CHECK_STR(kin_error_message(default_seen),
              "Exception while trying to handle coroutine exception");
    CHECK_STR(kin_error_message(kin_error_cause(default_seen)),
              "handler broke");
    CHECK_EQ(kin_error_suppressed_count(default_seen), 1);
    CHECK_STR(kin_error_message(kin_error_suppressed(default_seen, 0)),
              "original");

    /* Reporting the very failure it was given: the original goes on. */
    fail_into_scope(rethrowing_handler);
    CHECK_EQ(default_calls, 2);
    CHECK_STR(kin_error_message(default_seen), "original");
    CHECK_EQ(kin_error_suppressed_count(default_seen), 0);
    return 0;
}

int main(void) {
    kin_set_default_handler(default_handler, NULL);

    CHECK_EQ(kin_run_test(exception_handlers, NULL), 0);
    CHECK_EQ(kin_run_test(body, NULL), 0);

    /* Misuse. */
    CHECK_EQ(kin_handler_fail(kin_error_new(KIN_EFAILED, NULL, "x")),
             KIN_EPERM);
    CHECK(strstr(kin_error_message(kin_last_error()), "outside an exception"));
    CHECK_EQ(kin_handler_fail(NULL), KIN_EINVAL);

    kin_error_release(default_seen);
    kin_error_release(handler_seen);
    kin_set_default_handler(NULL, NULL);
    return 0;
}
