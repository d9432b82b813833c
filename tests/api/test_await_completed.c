/* kin_await on a deferred that has already completed returns its value or
 * its failure without checking the caller's cancellation (kotlinx's
 * awaitInternal fast path); kin_join on a completed job still checks it
 * (kotlinx's join calls ensureActive() when it does not suspend); an await
 * that has to wait still checks (DESIGN rule 2). */
#include "check.h"

static int answer = 42;

static int value(void *arg, void **out) {
    (void)arg;
    *out = &answer;
    return 0;
}

static int boom(void *arg, void **out) {
    (void)arg, (void)out;
    return kin_fail("IllegalStateException", "boom");
}

static int sleeps(void *arg, void **out) {
    (void)arg, (void)out;
    return kin_delay(100000);
}

static int scope(void *arg) {
    (void)arg;
    kin_job a, f, p;
    CHECK_EQ(kin_async(&a, NULL, value, NULL), 0);
    CHECK_EQ(kin_async(&f, NULL, boom, NULL), 0);
    CHECK_EQ(kin_async(&p, NULL, sleeps, NULL), 0);
    CHECK_EQ(kin_yield(), 0); /* a and f complete, p sleeps */
    CHECK(kin_job_is_completed(a) && kin_job_is_completed(f));
    CHECK_EQ(kin_cancel(kin_current_job(),
                        kin_error_new(KIN_ECANCELED, "CancellationException",
                                      "stop")),
             0);
    EXPECT(2);

    void *v = NULL;
    CHECK_EQ(kin_await(a, &v), 0); /* completed: its value, no check */
    CHECK(v == &answer);
    CHECK_EQ(kin_await(f, NULL), KIN_EFAILED); /* completed: its failure */
    CHECK_STR(last_message(), "boom");
    EXPECT(3);

    CHECK_EQ(kin_join(a), KIN_ECANCELED); /* join checks */
    CHECK_STR(last_message(), "stop");
    CHECK(!kin_job_is_completed(p));
    CHECK_EQ(kin_await(p, NULL), KIN_ECANCELED); /* not completed: checks */
    CHECK_STR(last_message(), "stop");
    EXPECT(4);
    return KIN_ECANCELED;
}

static int body(void *arg) {
    (void)arg;
    EXPECT(1);
    CHECK_EQ(kin_supervisor_scope(scope, NULL), KIN_ECANCELED);
    EXPECT(5);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    FINISH(6);
    return 0;
}
