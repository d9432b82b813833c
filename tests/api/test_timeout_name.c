/* The timeout message names the coroutine, as kotlinx.coroutines 1.11 does
 * with the CoroutineName of the timeout's context: 'Coroutine "NAME" timed
 * out waiting for N ms'. The name is inherited: the innermost enclosing
 * coroutine (or scope object) that was given one; without one the message
 * is unchanged, "Timed out waiting for N ms". */
#include "check.h"

static int forever(void *arg) {
    (void)arg;
    return kin_delay(100000);
}

static int sees_timeout(void *arg) {
    const char *want = arg;
    CHECK_EQ(kin_delay(100000), KIN_ETIMEDOUT);
    CHECK_STR(last_message(), want); /* the block sees the same error */
    return KIN_ETIMEDOUT;
}

/* Runs a 10 ms timeout and checks its message. */
static int times_out(void *arg) {
    const char *want = arg;
    CHECK_EQ(kin_with_timeout(10, forever, NULL), KIN_ETIMEDOUT);
    CHECK_STR(last_message(), want);
    CHECK_STR(kin_error_type(kin_last_error()), "TimeoutCancellationException");
    CHECK_EQ(kin_with_timeout_or_null(10, sees_timeout, (void *)want),
             KIN_NULL);
    return 0;
}

static const char *named_worker =
    "Coroutine \"worker\" timed out waiting for 10 ms";

static int launches_unnamed(void *arg) {
    (void)arg;
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, times_out, (void *)named_worker), 0);
    CHECK_EQ(kin_join(j), 0);
    CHECK_EQ(kin_job_cause(j), NULL);
    return kin_coroutine_scope(times_out, (void *)named_worker);
}

static int in_section(void *arg) {
    return times_out(arg);
}

static int on_default(void *arg) {
    (void)arg;
    CHECK_EQ(kin_with_timeout(1, forever, NULL), KIN_ETIMEDOUT);
    CHECK_STR(last_message(), "Coroutine \"worker\" timed out waiting for "
                              "1 ms");
    return 0;
}

static int worker(void *arg) {
    (void)arg;
    KIN_TRY(times_out((void *)named_worker));
    KIN_TRY(launches_unnamed(NULL)); /* children inherit the name */
    KIN_TRY(kin_non_cancellable(in_section, (void *)named_worker));
    KIN_TRY(kin_with_context(kin_dispatcher_default(), on_default, NULL));
    kin_job j; /* a child's own name wins */
    CHECK_EQ(kin_launch(&j, &(kin_launch_opts){.name = "inner"}, times_out,
                        "Coroutine \"inner\" timed out waiting for 10 ms"),
             0);
    CHECK_EQ(kin_join(j), 0);
    CHECK_EQ(kin_job_cause(j), NULL);
    /* zero: kotlinx's "Timed out immediately", never named */
    CHECK_EQ(kin_with_timeout(0, forever, NULL), KIN_ETIMEDOUT);
    CHECK_STR(last_message(), "Timed out immediately");
    return 0;
}

static int body(void *arg) {
    (void)arg;
    /* unnamed (kin_run_blocking's own coroutine has no given name) */
    CHECK_EQ(times_out("Timed out waiting for 10 ms"), 0);
    kin_job j;
    CHECK_EQ(kin_launch(&j, &(kin_launch_opts){.name = "worker"}, worker,
                        NULL),
             0);
    CHECK_EQ(kin_join(j), 0);
    CHECK_EQ(kin_job_cause(j), NULL);

    /* A scope object's name is inherited by its coroutines (Kotlin's
     * CoroutineScope(CoroutineName("svc"))). */
    kin_scope s;
    CHECK_EQ(kin_scope_new(&s, &(kin_scope_opts){
                                   .name = "svc",
                                   .dispatcher = kin_dispatcher_current()}),
             0);
    CHECK_EQ(kin_scope_launch(s, &j, NULL, times_out,
                              "Coroutine \"svc\" timed out waiting for 10 ms"),
             0);
    CHECK_EQ(kin_join(j), 0);
    CHECK_EQ(kin_job_cause(j), NULL);
    CHECK_EQ(kin_scope_close(s), 0);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    CHECK_EQ(kin_shutdown(), 0);
    return 0;
}
