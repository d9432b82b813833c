/* Bad input, as a table: every public function, called with each bad
 * argument it can get (NULL, zero, foreign, stale or released handles,
 * handles of the wrong kind, negative times, calls outside a coroutine or
 * from the wrong context), returns its documented code, and the current
 * error says why in words. Nothing crashes or hangs. */
#include <pthread.h>

#include "check.h"

static kin_job foreign(void) { /* an index no slot has */
    kin_job j = {0x00000001ffffff00ull};
    return j;
}

static void noop_completion_placeholder(kin_job job, const kin_error *cause,
                                        void *arg) {
    (void)job, (void)cause, (void)arg;
}

static int noop(void *arg) {
    (void)arg;
    return 0;
}

static int noop_async(void *arg, void **out) {
    (void)arg, (void)out;
    return 0;
}

static int sleeper(void *arg) {
    (void)arg;
    return kin_delay(100000);
}

static int join_outer(void *arg) {
    MISUSE(kin_join(*(kin_job *)arg), KIN_EDEADLK, "itself or an enclosing");
    MISUSE(kin_await(*(kin_job *)arg, NULL), KIN_ENOTASYNC, "not made by");
    return 0;
}

static int closes_own_scope(void *arg) {
    MISUSE(kin_scope_close(*(kin_scope *)arg), KIN_EDEADLK, "own coroutines");
    return 0;
}

static int in_coroutine(void *arg) {
    (void)arg;
    kin_job self = kin_current_job(), zero = {0}, done, lazy, dfr, j0;
    kin_scope none = {0}, s;

    /* Builders. */
    MISUSE(kin_launch(NULL, NULL, NULL, NULL), KIN_EINVAL, "function is NULL");
    MISUSE(kin_launch(NULL, &(kin_launch_opts){.start = 99}, noop, NULL),
           KIN_EINVAL, "unknown start mode");
    MISUSE(
        kin_launch(NULL, &(kin_launch_opts){.result_free = free}, noop, NULL),
        KIN_EINVAL, "only for kin_async");
    MISUSE(kin_async(NULL, NULL, NULL, NULL), KIN_EINVAL, "function is NULL");
    MISUSE(kin_run_blocking(noop, NULL), KIN_EPERM, "inside a coroutine");
    MISUSE(kin_run_test(noop, NULL), KIN_EPERM, "inside a coroutine");
    MISUSE(kin_run_blocking_opts(NULL, noop, NULL), KIN_EPERM,
           "inside a coroutine");
    MISUSE(kin_shutdown(), KIN_EPERM, "inside a coroutine");

    /* Waiting for yourself or an ancestor. */
    MISUSE(kin_join(self), KIN_EDEADLK, "itself or an enclosing");
    MISUSE(kin_join_all(&self, 1), KIN_EDEADLK, "itself or an enclosing");
    CHECK_EQ(kin_coroutine_scope(join_outer, &self), 0);
    CHECK_EQ(kin_async(&dfr, NULL, noop_async, NULL), 0);
    kin_job pair[2] = {dfr, self};
    MISUSE(kin_await_all(pair, 2, NULL), KIN_ENOTASYNC, "not made by");

    /* Zero, foreign and stale handles, for every function taking one. */
    MISUSE(kin_join(zero), KIN_EINVAL, "invalid handle");
    MISUSE(kin_join(foreign()), KIN_EINVAL, "invalid handle");
    MISUSE(kin_await(zero, NULL), KIN_EINVAL, "invalid handle");
    MISUSE(kin_cancel(zero, NULL), KIN_EINVAL, "invalid handle");
    MISUSE(kin_start(foreign()), KIN_EINVAL, "invalid handle");
    MISUSE(kin_job_state(zero), KIN_EINVAL, "invalid handle");
    MISUSE(kin_job_release(zero), KIN_EINVAL, "invalid handle");
    MISUSE(kin_job_children(zero, NULL, 0), KIN_EINVAL, "invalid handle");
    MISUSE(kin_job_name(foreign(), NULL, 0), KIN_EINVAL, "invalid handle");
    MISUSE(kin_invoke_on_completion(zero, noop_completion_placeholder, NULL),
           KIN_EINVAL, "invalid handle");
    MISUSE(kin_invoke_on_completion(self, NULL, NULL), KIN_EINVAL,
           "fn is NULL");
    QUIET(!kin_job_is_active(zero) && !kin_job_is_completed(zero) &&
          !kin_job_is_cancelled(zero));
    QUIET(kin_job_cause(foreign()) == NULL);

    CHECK_EQ(kin_launch(&done, NULL, noop, NULL), 0);
    CHECK_EQ(kin_join(done), 0);
    CHECK_EQ(kin_job_release(done), 0);
    MISUSE(kin_job_release(done), KIN_ESTALE, "stale handle");
    MISUSE(kin_join(done), KIN_ESTALE, "stale handle");
    MISUSE(kin_await(done, NULL), KIN_ESTALE, "stale handle");
    MISUSE(kin_cancel(done, NULL), KIN_ESTALE, "stale handle");
    MISUSE(kin_start(done), KIN_ESTALE, "stale");
    MISUSE(kin_job_state(done), KIN_ESTALE, "stale handle");
    MISUSE(kin_job_children(done, NULL, 0), KIN_ESTALE, "stale handle");
    MISUSE(kin_job_name(done, NULL, 0), KIN_ESTALE, "stale handle");
    MISUSE(kin_invoke_on_completion(done, noop_completion_placeholder, NULL),
           KIN_ESTALE, "stale handle");
    QUIET(!kin_job_is_completed(done)); /* flags: false for bad handles */
    MISUSE(kin_job_release(self), KIN_ESTALE, "not held");

    /* The wrong kind of job, the wrong cause, started twice. */
    CHECK_EQ(kin_launch(&lazy, &(kin_launch_opts){.start = KIN_START_LAZY},
                        noop, NULL),
             0);
    MISUSE(kin_await(lazy, NULL), KIN_ENOTASYNC, "not made by kin_async");
    CHECK_EQ(kin_start(lazy), 0);
    MISUSE(kin_start(lazy), KIN_EALREADY, "already started");
    MISUSE(kin_cancel(lazy, kin_error_new(KIN_EFAILED, "X", "a failure")),
           KIN_EINVAL, "must be a cancellation");

    /* Negative times, NULL functions, NULL arrays. */
    MISUSE(kin_delay(-1), KIN_EINVAL, "negative time");
    MISUSE(kin_coroutine_scope(NULL, NULL), KIN_EINVAL, "is NULL");
    MISUSE(kin_supervisor_scope(NULL, NULL), KIN_EINVAL, "is NULL");
    MISUSE(kin_with_timeout(10, NULL, NULL), KIN_EINVAL, "is NULL");
    MISUSE(kin_with_timeout_or_null(10, NULL, NULL), KIN_EINVAL, "is NULL");
    MISUSE(kin_non_cancellable(NULL, NULL), KIN_EINVAL, "is NULL");
    MISUSE(kin_with_context(NULL, noop, NULL), KIN_EINVAL,
           "dispatcher is NULL");
    MISUSE(kin_with_context(kin_dispatcher_io(), NULL, NULL), KIN_EINVAL,
           "is NULL");
    MISUSE(kin_join_all(NULL, 3), KIN_EINVAL, "jobs is NULL");
    MISUSE(kin_await_all(NULL, 3, NULL), KIN_EINVAL, "jobs is NULL");
    MISUSE(kin_job_children(self, NULL, 4), KIN_EINVAL, "out is NULL");

    /* Errors. */
    MISUSE(kin_fail_code(5, "X", "positive"), KIN_EINVAL, "not negative");
    MISUSE(kin_fail_error(NULL), KIN_EINVAL, "is NULL");
    MISUSE(kin_error_set_payload(NULL, NULL, NULL), KIN_EINVAL,
           "already has a payload");
    QUIET(kin_error_new(0, "X", "zero is not an error") == NULL);

    /* Dispatchers. */
    MISUSE(kin_dispatcher_set_threads(NULL, 2), KIN_EINVAL, "only Default");
    MISUSE(kin_dispatcher_set_threads(kin_dispatcher_main(), 2), KIN_EINVAL,
           "only Default");
    MISUSE(kin_dispatcher_set_threads(kin_dispatcher_io(), 0), KIN_EINVAL,
           "threads (1 to");
    MISUSE(kin_dispatcher_set_threads(kin_dispatcher_io(), 5000), KIN_EINVAL,
           "threads (1 to");
    QUIET(strcmp(kin_dispatcher_name(NULL), "") == 0);

    /* Scope objects. */
    MISUSE(kin_scope_new(NULL, NULL), KIN_EINVAL, "out is NULL");
    CHECK_EQ(kin_scope_new(&s, NULL), 0);
    MISUSE(kin_scope_launch(none, NULL, NULL, noop, NULL), KIN_EINVAL,
           "invalid scope");
    MISUSE(kin_scope_launch(s, NULL, NULL, NULL, NULL), KIN_EINVAL,
           "function is NULL");
    MISUSE(kin_scope_async(s, NULL, NULL, NULL, NULL), KIN_EINVAL,
           "function is NULL");
    kin_scope not_a_scope = {self.id};
    MISUSE(kin_scope_launch(not_a_scope, NULL, NULL, noop, NULL), KIN_EINVAL,
           "not a scope");
    MISUSE(kin_scope_close(kin_global_scope()), KIN_EINVAL, "global scope");
    MISUSE(kin_scope_cancel(kin_global_scope(), NULL), KIN_EINVAL,
           "global scope");
    MISUSE(kin_scope_cancel(s, kin_error_new(-5, NULL, "eio")), KIN_EINVAL,
           "must be a cancellation");
    CHECK_EQ(kin_scope_close(s), 0);
    MISUSE(kin_scope_close(s), KIN_ESTALE, "closed");
    MISUSE(kin_scope_cancel(s, NULL), KIN_ESTALE, "closed");
    MISUSE(kin_scope_launch(s, NULL, NULL, noop, NULL), KIN_ESTALE, "closed");
    MISUSE(kin_scope_async(s, NULL, NULL, noop_async, NULL), KIN_ESTALE,
           "closed");
    QUIET(!kin_scope_is_active(s));
    QUIET(!kin_scope_is_active(none));

    /* Hand-made jobs, deferreds, explicit parents (issue 9). */
    kin_job hm, df, stale_hm;
    MISUSE(kin_job_new(NULL, NULL), KIN_EINVAL, "out is NULL");
    MISUSE(kin_deferred_new(NULL, NULL), KIN_EINVAL, "out is NULL");
    MISUSE(kin_job_new(&hm, &(kin_job_opts){.parent = foreign()}), KIN_EINVAL,
           "invalid handle");
    MISUSE(kin_job_new(&hm, &(kin_job_opts){.result_free = free}), KIN_EINVAL,
           "only for kin_deferred_new");
    CHECK_EQ(kin_job_new(&hm, &(kin_job_opts){.parent = self}), 0);
    CHECK_EQ(kin_deferred_new(&df, &(kin_job_opts){.parent = self}), 0);
    MISUSE(kin_job_complete(zero), KIN_EINVAL, "invalid handle");
    MISUSE(kin_job_complete(self), KIN_EINVAL, "not a hand-made job");
    MISUSE(kin_job_complete(done), KIN_ESTALE, "stale handle");
    MISUSE(kin_job_complete_exceptionally(hm, NULL), KIN_EINVAL,
           "failure is NULL");
    MISUSE(kin_job_complete_exceptionally(
               self, kin_error_new(KIN_EFAILED, NULL, "x")),
           KIN_EINVAL, "not a hand-made job");
    MISUSE(kin_job_complete_exceptionally(
               foreign(), kin_error_new(KIN_EFAILED, NULL, "x")),
           KIN_EINVAL, "invalid handle");
    MISUSE(kin_deferred_complete(hm, NULL), KIN_EINVAL, "not a deferred");
    MISUSE(kin_deferred_complete(done, NULL), KIN_ESTALE, "stale handle");
    MISUSE(kin_job_parent(zero, &j0), KIN_EINVAL, "invalid handle");
    MISUSE(kin_job_parent(hm, NULL), KIN_EINVAL, "parent is NULL");
    MISUSE(kin_job_parent(done, &j0), KIN_ESTALE, "stale handle");
    MISUSE(kin_job_cancel_children(zero, NULL), KIN_EINVAL, "invalid handle");
    MISUSE(kin_job_cancel_children(hm, kin_error_new(KIN_EFAILED, NULL, "x")),
           KIN_EINVAL, "must be a cancellation");
    MISUSE(kin_job_ensure_active(foreign()), KIN_EINVAL, "invalid handle");
    MISUSE(kin_job_ensure_active(done), KIN_ESTALE, "stale handle");
    MISUSE(kin_launch(NULL, &(kin_launch_opts){.parent = hm, .no_parent = true},
                      noop, NULL),
           KIN_EINVAL, "both set");
    MISUSE(kin_launch(NULL, &(kin_launch_opts){.parent = foreign()}, noop,
                      NULL),
           KIN_EINVAL, "invalid parent handle");
    MISUSE(kin_launch(NULL, &(kin_launch_opts){.parent = done}, noop, NULL),
           KIN_ESTALE, "stale parent handle");
    MISUSE(kin_invoke_on_completion_ex(zero, NULL, noop_completion_placeholder,
                                       NULL, NULL),
           KIN_EINVAL, "invalid handle");
    MISUSE(kin_invoke_on_completion_ex(hm, NULL, NULL, NULL, NULL), KIN_EINVAL,
           "fn is NULL");
    MISUSE(kin_invoke_on_completion_ex(done, NULL, noop_completion_placeholder,
                                       NULL, NULL),
           KIN_ESTALE, "stale handle");
    MISUSE(kin_dispose((kin_disposable){foreign().id, 0}), KIN_EINVAL,
           "invalid handle");
    MISUSE(kin_dispose((kin_disposable){foreign().id, 7}), KIN_EINVAL,
           "invalid handle");
    MISUSE(kin_error_set_cause(NULL, NULL), KIN_EINVAL, "is NULL");
    MISUSE(kin_handler_fail(NULL), KIN_EINVAL, "failure is NULL");
    MISUSE(kin_handler_fail(kin_error_new(KIN_EFAILED, NULL, "x")), KIN_EPERM,
           "outside an exception or completion handler");
    MISUSE(kin_scope_ensure_active(none), KIN_EINVAL, "invalid scope");
    CHECK_EQ(kin_job_complete(hm), 1);
    CHECK_EQ(kin_deferred_complete(df, NULL), 1);
    CHECK_EQ(kin_job_new(&stale_hm, NULL), 0);
    CHECK_EQ(kin_job_complete(stale_hm), 1);
    CHECK_EQ(kin_job_release(stale_hm), 0);
    MISUSE(kin_job_complete(stale_hm), KIN_ESTALE, "stale handle");

    /* A scope's own coroutine cannot close it (it would wait for itself). */
    kin_job j;
    CHECK_EQ(kin_scope_new(&s, NULL), 0);
    CHECK_EQ(kin_scope_launch(s, &j, NULL, closes_own_scope, &s), 0);
    CHECK_EQ(kin_join(j), 0);
    CHECK_EQ(kin_scope_launch(s, &j, NULL, sleeper, NULL), 0);
    CHECK_EQ(kin_scope_close(s), 0); /* from outside: fine, cancels it */
    return 0;
}

static void *wrong_thread(void *arg) {
    (void)arg;
    /* A thread that does not run kin: no suspending calls. */
    kin_job zero = {0};
    MISUSE(kin_join(zero), KIN_ENOTCORO, "outside a coroutine");
    MISUSE(kin_delay(1), KIN_ENOTCORO, "outside a coroutine");
    MISUSE(kin_with_context(kin_dispatcher_io(), noop, NULL), KIN_ENOTCORO,
           "outside a coroutine");
    return NULL;
}

static void in_handler(kin_job job, const kin_error *cause, void *arg) {
    (void)job, (void)cause;
    /* A completion handler on a loop's own stack: no nested loop. */
    kin_scope *s = arg;
    MISUSE(kin_run_blocking(noop, NULL), KIN_EPERM, "already running");
    MISUSE(kin_scope_close(*s), KIN_EDEADLK, "running a kin loop");
}

int main(void) {
    /* Suspending calls outside any coroutine. */
    kin_job zero = {0};
    MISUSE(kin_delay(10), KIN_ENOTCORO, "outside a coroutine");
    MISUSE(kin_yield(), KIN_ENOTCORO, "outside a coroutine");
    MISUSE(kin_join(zero), KIN_ENOTCORO, "outside a coroutine");
    MISUSE(kin_await(zero, NULL), KIN_ENOTCORO, "outside a coroutine");
    MISUSE(kin_join_all(NULL, 0), KIN_ENOTCORO, "outside a coroutine");
    MISUSE(kin_await_all(NULL, 0, NULL), KIN_ENOTCORO, "outside a coroutine");
    MISUSE(kin_cancel_and_join(zero), KIN_EINVAL, "invalid handle");
    MISUSE(kin_ensure_active(), KIN_ENOTCORO, "outside a coroutine");
    MISUSE(kin_launch(NULL, NULL, noop, NULL), KIN_ENOTCORO,
           "use kin_scope_launch");
    MISUSE(kin_async(NULL, NULL, noop_async, NULL), KIN_ENOTCORO,
           "use kin_scope_async");
    MISUSE(kin_coroutine_scope(noop, NULL), KIN_ENOTCORO, "outside");
    MISUSE(kin_supervisor_scope(noop, NULL), KIN_ENOTCORO, "outside");
    MISUSE(kin_with_timeout(5, noop, NULL), KIN_ENOTCORO, "outside");
    MISUSE(kin_with_timeout_or_null(5, noop, NULL), KIN_ENOTCORO, "outside");
    MISUSE(kin_non_cancellable(noop, NULL), KIN_ENOTCORO, "outside");
    MISUSE(kin_with_context(kin_dispatcher_io(), noop, NULL), KIN_ENOTCORO,
           "outside");
    MISUSE(kin_run_blocking(NULL, NULL), KIN_EINVAL, "function is NULL");
    MISUSE(kin_run_test(NULL, NULL), KIN_EINVAL, "function is NULL");
    MISUSE(kin_run_blocking_opts(NULL, NULL, NULL), KIN_EINVAL,
           "function is NULL");
    QUIET(!kin_is_active());
    QUIET(kin_current_job().id == 0);
    QUIET(kin_dispatcher_current() == NULL);

    CHECK_EQ(kin_run_blocking(in_coroutine, NULL), 0);

    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, wrong_thread, NULL), 0);
    pthread_join(t, NULL);

    /* Calls made from a completion handler that runs on the loop. */
    kin_scope s;
    CHECK_EQ(kin_scope_new(
                 &s, &(kin_scope_opts){.dispatcher = kin_dispatcher_main()}),
             0);
    kin_job j;
    CHECK_EQ(kin_scope_launch(s, &j, NULL, noop, NULL), 0);
    CHECK_EQ(kin_invoke_on_completion(j, in_handler, &s), 0);
    CHECK_EQ(kin_scope_close(s), 0);

    /* Busy: Default has started, its size is fixed. */
    MISUSE(kin_dispatcher_set_threads(kin_dispatcher_default(), 2), KIN_EBUSY,
           "already started");

    /* Names of codes. */
    CHECK_STR(kin_strerror(KIN_ECANCELED), "cancelled");
    CHECK_STR(kin_strerror(KIN_ESTALE),
              "stale handle: the job or scope was reclaimed");
    CHECK(strlen(kin_strerror(-5)) > 0); /* errno-style: strerror(EIO) */
    CHECK_STR(kin_strerror(-4999), "unknown code");
    CHECK_STR(kin_version(), KIN_VERSION_STRING);

    CHECK_EQ(kin_shutdown(), 0);
    fprintf(stderr, "%d misuse cases, each with its code and message\n", check_cases_);
    return 0;
}
