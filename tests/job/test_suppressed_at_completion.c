/* A job's later failures are attached as suppressed to its first failure
 * when the job completes, not as they arrive (kotlinx's
 * finalizeFinishingState adds them then): a child that reads its
 * cancellation cause while the family is still cancelling sees the first
 * failure alone, even after a sibling's cleanup failed; the scope's caller
 * gets the first failure with every later one, in arrival order, once. */
#include "check.h"

static int fail_first(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(10));
    EXPECT(2);
    return kin_fail("RuntimeException", "first");
}

static int fail_in_cleanup(void *arg) {
    int rc = kin_delay(100000);
    CHECK_EQ(rc, KIN_ECANCELED);
    EXPECT((int)(long)arg);
    return kin_fail("RuntimeException", "cleanup %d", (int)(long)arg);
}

static int yield_once(void *arg) {
    (void)arg;
    return kin_yield();
}

static int reader(void *arg) {
    (void)arg;
    CHECK_EQ(kin_delay(100000), KIN_ECANCELED);
    EXPECT(4); /* after "cleanup 3" failed */
    const kin_error *first = kin_error_cause(kin_last_error());
    CHECK_STR(kin_error_message(first), "first");
    CHECK_EQ(kin_error_suppressed_count(first), 0); /* not yet attached */
    /* still the same while the family cancels (NonCancellable cleanup) */
    CHECK_EQ(kin_non_cancellable(yield_once, NULL), 0);
    EXPECT(6); /* after "cleanup 5" failed */
    CHECK_EQ(kin_error_suppressed_count(first), 0);
    return KIN_ECANCELED;
}

static int scope_body(void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(NULL, NULL, fail_first, NULL));
    KIN_TRY(kin_launch(NULL, NULL, fail_in_cleanup, (void *)3L));
    KIN_TRY(kin_launch(NULL, NULL, reader, NULL));
    KIN_TRY(kin_launch(NULL, NULL, fail_in_cleanup, (void *)5L));
    return 0;
}

static int body(void *arg) {
    (void)arg;
    EXPECT(1);
    CHECK_EQ(kin_coroutine_scope(scope_body, NULL), KIN_EFAILED);
    EXPECT(7);
    const kin_error *e = kin_last_error();
    CHECK_STR(kin_error_message(e), "first");
    CHECK_EQ(kin_error_suppressed_count(e), 2);
    CHECK_STR(kin_error_message(kin_error_suppressed(e, 0)), "cleanup 3");
    CHECK_STR(kin_error_message(kin_error_suppressed(e, 1)), "cleanup 5");
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    FINISH(8);
    return 0;
}
