/* DESIGN rule 16: a coroutine cancelled before it resumes gets the
 * cancellation even if the value it waited for became ready; a wait that
 * ends in a failure (awaiting a failed sibling) reports that failure. */
#include "check.h"

static kin_job waiter_job;

static int value(void *arg, void **out) {
    (void)arg;
    *out = "ready";
    /* Complete (waking the waiter) and cancel the waiter before it runs. */
    kin_cancel(waiter_job, NULL);
    return 0;
}

static int waiter(void *arg) {
    kin_job *d = arg;
    void *v = NULL;
    int rc = kin_await(*d, &v);
    CHECK_EQ(rc, KIN_ECANCELED);
    CHECK(v == NULL); /* the value is dropped */
    return rc;
}

static int failing(void *arg, void **out) {
    (void)arg, (void)out;
    KIN_TRY(kin_delay(5));
    return kin_fail("RuntimeException", "sibling failed");
}

static int scope_body(void *arg) {
    (void)arg;
    kin_job f;
    KIN_TRY(kin_async(&f, NULL, failing, NULL));
    /* f's failure cancels this scope before we resume; still we get it. */
    int rc = kin_await(f, NULL);
    CHECK_EQ(rc, KIN_EFAILED);
    CHECK_STR(kin_error_message(kin_last_error()), "sibling failed");
    CHECK(!kin_is_active());
    return rc;
}

static int body(void *arg) {
    (void)arg;
    kin_job d;
    CHECK_EQ(
        kin_async(&d, &(kin_launch_opts){.start = KIN_START_LAZY}, value, NULL),
        0);
    CHECK_EQ(kin_launch(&waiter_job, NULL, waiter, &d), 0);
    CHECK_EQ(kin_yield(), 0); /* waiter starts d (lazy) and suspends */
    CHECK_EQ(kin_join(waiter_job), 0);
    CHECK(kin_job_is_cancelled(waiter_job));

    CHECK_EQ(kin_coroutine_scope(scope_body, NULL), KIN_EFAILED);
    CHECK_STR(kin_error_message(kin_last_error()), "sibling failed");
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    return 0;
}
