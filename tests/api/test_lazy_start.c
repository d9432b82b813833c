/* DESIGN rule 10 and the start modes: LAZY starts on start, join or await;
 * cancelled before it starts it completes as cancelled without running.
 * DEFAULT cancelled before running never runs its body; ATOMIC runs it and
 * sees the cancellation at its first suspension; UNDISPATCHED runs at once,
 * inside kin_launch, until its first suspension. */
#include "check.h"

static int runs;

static int count(void *arg) {
    (void)arg;
    runs++;
    return 0;
}

static int value(void *arg, void **out) {
    (void)arg;
    runs++;
    *out = "lazy value";
    return 0;
}

static int atomic_body(void *arg) {
    (void)arg;
    EXPECT(3);
    CHECK(!kin_is_active());
    int rc = kin_yield();
    CHECK_EQ(rc, KIN_ECANCELED);
    return rc;
}

static int undispatched(void *arg) {
    (void)arg;
    EXPECT(6); /* inside kin_launch */
    CHECK_EQ(kin_yield(), 0);
    EXPECT(8);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    kin_launch_opts lazy = {.start = KIN_START_LAZY};
    kin_job a, b, c, d;
    CHECK_EQ(kin_launch(&a, &lazy, count, NULL), 0);
    CHECK_EQ(kin_yield(), 0);
    CHECK_EQ(runs, 0); /* not started by being queued */
    CHECK_EQ(kin_start(a), 0);
    CHECK_EQ(kin_start(a), KIN_EALREADY);
    CHECK_EQ(kin_join(a), 0);
    CHECK_EQ(runs, 1);
    CHECK_EQ(kin_start(a), KIN_EALREADY); /* completed */

    CHECK_EQ(kin_launch(&b, &lazy, count, NULL), 0);
    CHECK_EQ(kin_join(b), 0); /* join starts it */
    CHECK_EQ(runs, 2);

    CHECK_EQ(kin_async(&c, &lazy, value, NULL), 0);
    void *v = NULL;
    CHECK_EQ(kin_await(c, &v), 0); /* await starts it */
    CHECK_STR(v, "lazy value");
    CHECK_EQ(runs, 3);

    CHECK_EQ(kin_launch(&d, &lazy, count, NULL), 0);
    CHECK_EQ(kin_cancel(d, NULL), 0);
    CHECK(kin_job_is_completed(d) && kin_job_is_cancelled(d));
    CHECK_EQ(kin_join(d), 0);
    CHECK_EQ(runs, 3); /* never ran */

    /* DEFAULT, cancelled before it ran: never runs. */
    CHECK_EQ(kin_launch(&d, NULL, count, NULL), 0);
    CHECK_EQ(kin_cancel(d, NULL), 0);
    CHECK_EQ(kin_join(d), 0);
    CHECK_EQ(runs, 3);

    /* ATOMIC, cancelled before it ran: runs, sees the cancellation. */
    EXPECT(1);
    CHECK_EQ(kin_launch(&d, &(kin_launch_opts){.start = KIN_START_ATOMIC},
                        atomic_body, NULL),
             0);
    CHECK_EQ(kin_cancel(d, NULL), 0);
    EXPECT(2);
    CHECK_EQ(kin_join(d), 0);
    EXPECT(4);

    /* UNDISPATCHED: runs inside kin_launch until it suspends. */
    EXPECT(5);
    CHECK_EQ(kin_launch(&d, &(kin_launch_opts){.start = KIN_START_UNDISPATCHED},
                        undispatched, NULL),
             0);
    EXPECT(7);
    CHECK_EQ(kin_join(d), 0);
    FINISH(9);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    return 0;
}
