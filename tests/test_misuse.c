/* Bad input: every public function, each bad argument it can get, returns
 * its documented negative code with a readable message; nothing crashes or
 * hangs. */
#include "check.h"

static kin_job bogus(void) {
    kin_job j = {0x00000001ffffff00ull}; /* index far beyond any slot */
    return j;
}

#define CHECK_CODE(expr, code)                                                 \
    do {                                                                       \
        int rc_ = (expr);                                                      \
        if (rc_ != (code)) {                                                   \
            fprintf(stderr, "%s:%d: %s returned %d (%s), want %s\n", __FILE__, \
                    __LINE__, #expr, rc_, kin_strerror(rc_), #code);           \
            exit(1);                                                           \
        }                                                                      \
        CHECK(kin_last_error() != NULL);                                       \
        CHECK(kin_error_code(kin_last_error()) == (code));                     \
        CHECK(strlen(kin_error_message(kin_last_error())) > 10);               \
    } while (0)

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

static int await_ancestor(void *arg) {
    kin_job *outer = arg;
    CHECK_CODE(kin_join(*outer), KIN_EDEADLK);
    return 0;
}

static int in_coroutine(void *arg) {
    (void)arg;
    kin_job self = kin_current_job();
    kin_job zero = {0};
    kin_job done, lazy, dfr;

    CHECK_CODE(kin_launch(NULL, NULL, NULL, NULL), KIN_EINVAL);
    CHECK_CODE(kin_launch(NULL, &(kin_launch_opts){.start = 99}, noop, NULL),
               KIN_EINVAL);
    CHECK_CODE(
        kin_launch(NULL, &(kin_launch_opts){.result_free = free}, noop, NULL),
        KIN_EINVAL);
    CHECK_CODE(kin_async(NULL, NULL, NULL, NULL), KIN_EINVAL);
    CHECK_CODE(kin_run_blocking(noop, NULL), KIN_EPERM);

    /* Waiting for yourself or an ancestor. */
    CHECK_CODE(kin_join(self), KIN_EDEADLK);
    CHECK_CODE(kin_join_all(&self, 1), KIN_EDEADLK);
    CHECK_EQ(kin_async(&dfr, NULL, noop_async, NULL), 0);
    kin_job pair[2] = {dfr, self};
    CHECK_CODE(kin_await_all(pair, 2, NULL), KIN_ENOTASYNC);
    CHECK_EQ(kin_coroutine_scope(await_ancestor, &self), 0);

    /* Zero, foreign and stale handles. */
    CHECK_CODE(kin_join(zero), KIN_EINVAL);
    CHECK_CODE(kin_join(bogus()), KIN_EINVAL);
    CHECK_CODE(kin_await(zero, NULL), KIN_EINVAL);
    CHECK_CODE(kin_cancel(zero, NULL), KIN_EINVAL);
    CHECK_CODE(kin_start(bogus()), KIN_EINVAL);
    CHECK_CODE(kin_job_state(zero), KIN_EINVAL);
    CHECK_CODE(kin_job_release(zero), KIN_EINVAL);
    CHECK_CODE(kin_job_children(zero, NULL, 0), KIN_EINVAL);
    CHECK_CODE(kin_invoke_on_completion(zero, NULL, NULL), KIN_EINVAL);
    CHECK_CODE(kin_job_name(bogus(), NULL, 0), KIN_EINVAL);
    CHECK(!kin_job_is_active(zero) && !kin_job_is_completed(zero) &&
          !kin_job_is_cancelled(zero));
    CHECK(kin_job_cause(bogus()) == NULL);

    CHECK_EQ(kin_launch(&done, NULL, noop, NULL), 0);
    CHECK_EQ(kin_join(done), 0);
    CHECK_EQ(kin_job_release(done), 0);
    CHECK_CODE(kin_job_release(done), KIN_ESTALE); /* released twice */
    CHECK_CODE(kin_join(done), KIN_ESTALE);
    CHECK_CODE(kin_cancel(done, NULL), KIN_ESTALE);
    CHECK_CODE(kin_job_state(done), KIN_ESTALE);
    CHECK(!kin_job_is_completed(done)); /* flags: false for bad handles */

    /* Wrong kind of job, wrong cause, already started. */
    CHECK_EQ(kin_launch(&lazy, &(kin_launch_opts){.start = KIN_START_LAZY},
                        noop, NULL),
             0);
    CHECK_CODE(kin_await(lazy, NULL), KIN_ENOTASYNC);
    CHECK_EQ(kin_start(lazy), 0);
    CHECK_CODE(kin_start(lazy), KIN_EALREADY);
    kin_error *not_cancel = kin_error_new(KIN_EFAILED, "X", "not a cancel");
    CHECK_CODE(kin_cancel(lazy, not_cancel), KIN_EINVAL); /* consumed */
    CHECK_EQ(kin_cancel(lazy, NULL), 0);

    /* Negative times, NULL functions, NULL arrays. */
    CHECK_CODE(kin_delay(-1), KIN_EINVAL);
    CHECK_CODE(kin_coroutine_scope(NULL, NULL), KIN_EINVAL);
    CHECK_CODE(kin_supervisor_scope(NULL, NULL), KIN_EINVAL);
    CHECK_CODE(kin_with_timeout(10, NULL, NULL), KIN_EINVAL);
    CHECK_CODE(kin_with_timeout_or_null(10, NULL, NULL), KIN_EINVAL);
    CHECK_CODE(kin_non_cancellable(NULL, NULL), KIN_EINVAL);
    CHECK_CODE(kin_join_all(NULL, 3), KIN_EINVAL);
    CHECK_CODE(kin_await_all(NULL, 3, NULL), KIN_EINVAL);
    CHECK_CODE(kin_job_children(self, NULL, 4), KIN_EINVAL);
    CHECK_CODE(kin_fail_code(5, "X", "positive"), KIN_EINVAL);
    CHECK_CODE(kin_fail_error(NULL), KIN_EINVAL);
    CHECK_CODE(kin_error_set_payload(NULL, NULL, NULL), KIN_EINVAL);

    /* Scope objects. */
    kin_scope s;
    kin_scope none = {0};
    CHECK_CODE(kin_scope_new(NULL, NULL), KIN_EINVAL);
    CHECK_EQ(kin_scope_new(&s, NULL), 0);
    CHECK_CODE(kin_scope_launch(none, NULL, NULL, noop, NULL), KIN_EINVAL);
    CHECK_CODE(kin_scope_launch(s, NULL, NULL, NULL, NULL), KIN_EINVAL);
    CHECK_CODE(kin_scope_async(s, NULL, NULL, NULL, NULL), KIN_EINVAL);
    kin_scope not_a_scope = {self.id};
    CHECK_CODE(kin_scope_launch(not_a_scope, NULL, NULL, noop, NULL),
               KIN_EINVAL);
    CHECK_CODE(kin_scope_close(kin_global_scope()), KIN_EINVAL);
    CHECK_CODE(kin_scope_cancel(kin_global_scope(), NULL), KIN_EINVAL);
    CHECK_CODE(kin_scope_cancel(s, kin_error_new(-5, NULL, "eio")), KIN_EINVAL);
    CHECK_EQ(kin_scope_close(s), 0);
    CHECK_CODE(kin_scope_close(s), KIN_ESTALE);
    CHECK_CODE(kin_scope_launch(s, NULL, NULL, noop, NULL), KIN_ESTALE);
    CHECK(!kin_scope_is_active(s));

    /* A scope's own coroutine cannot close it. */
    CHECK_EQ(kin_scope_new(&s, NULL), 0);
    kin_job sj;
    CHECK_EQ(kin_scope_launch(s, &sj, NULL, sleeper, NULL), 0);
    CHECK_EQ(kin_scope_close(s), 0); /* from outside: fine, cancels it */
    CHECK(kin_job_is_cancelled(sj));
    return 0;
}

static int closes_own_scope(void *arg) {
    kin_scope *s = arg;
    CHECK_CODE(kin_scope_close(*s), KIN_EDEADLK);
    return 0;
}

static int scope_self_close(void *arg) {
    (void)arg;
    kin_scope s;
    kin_job j;
    CHECK_EQ(kin_scope_new(&s, NULL), 0);
    CHECK_EQ(kin_scope_launch(s, &j, NULL, closes_own_scope, &s), 0);
    CHECK_EQ(kin_join(j), 0);
    CHECK_EQ(kin_scope_close(s), 0);
    return 0;
}

int main(void) {
    /* Suspending calls outside any coroutine. */
    kin_job zero = {0};
    CHECK_CODE(kin_delay(10), KIN_ENOTCORO);
    CHECK_CODE(kin_yield(), KIN_ENOTCORO);
    CHECK_CODE(kin_join(zero), KIN_ENOTCORO);
    CHECK_CODE(kin_await(zero, NULL), KIN_ENOTCORO);
    CHECK_CODE(kin_join_all(NULL, 0), KIN_ENOTCORO);
    CHECK_CODE(kin_await_all(NULL, 0, NULL), KIN_ENOTCORO);
    CHECK_CODE(kin_cancel_and_join(zero), KIN_EINVAL);
    CHECK_CODE(kin_ensure_active(), KIN_ENOTCORO);
    CHECK_CODE(kin_launch(NULL, NULL, noop, NULL), KIN_ENOTCORO);
    CHECK_CODE(kin_async(NULL, NULL, noop_async, NULL), KIN_ENOTCORO);
    CHECK_CODE(kin_coroutine_scope(noop, NULL), KIN_ENOTCORO);
    CHECK_CODE(kin_supervisor_scope(noop, NULL), KIN_ENOTCORO);
    CHECK_CODE(kin_with_timeout(5, noop, NULL), KIN_ENOTCORO);
    CHECK_CODE(kin_with_timeout_or_null(5, noop, NULL), KIN_ENOTCORO);
    CHECK_CODE(kin_non_cancellable(noop, NULL), KIN_ENOTCORO);
    CHECK_CODE(kin_run_blocking(NULL, NULL), KIN_EINVAL);
    CHECK(!kin_is_active());
    CHECK(kin_current_job().id == 0);

    CHECK_EQ(kin_run_blocking(in_coroutine, NULL), 0);
    CHECK_EQ(kin_run_blocking(scope_self_close, NULL), 0);

    /* Names of codes. */
    CHECK_STR(kin_strerror(KIN_ECANCELED), "cancelled");
    CHECK_STR(kin_strerror(KIN_ESTALE),
              "stale handle: the job or scope was reclaimed");
    CHECK(strlen(kin_strerror(-5)) > 0); /* errno-style: strerror(EIO) */
    CHECK_STR(kin_strerror(-4999), "unknown code");
    CHECK_STR(kin_version(), KIN_VERSION_STRING);
    return 0;
}
