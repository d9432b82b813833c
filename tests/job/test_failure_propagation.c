/* DESIGN rule 3: a failing child cancels its parent, which cancels the other
 * children; the scope reports the first failure; failures during the
 * cancellation are suppressed failures of the first, each once, at each
 * level. Rule 13: cancellations are never attached as suppressed. */
#include "check.h"

static int fail_first(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(10));
    EXPECT(3);
    return kin_fail("RuntimeException", "first");
}

static int fail_in_cleanup(void *arg) {
    const char *msg = arg;
    int rc = kin_delay(100000);
    CHECK_EQ(rc, KIN_ECANCELED);
    CHECK_STR(kin_error_message(kin_last_error()), "Parent job is Cancelling");
    CHECK_STR(kin_error_message(kin_error_cause(kin_last_error())), "first");
    if (strcmp(msg, "second") == 0)
        EXPECT(4);
    else
        EXPECT(5);
    return kin_fail("RuntimeException", "%s", msg);
}

static int cancelled_quietly(void *arg) {
    (void)arg;
    return kin_delay(100000); /* returns KIN_ECANCELED: not a failure */
}

static int scope_body(void *arg) {
    (void)arg;
    EXPECT(2);
    KIN_TRY(kin_launch(NULL, NULL, fail_first, NULL));
    KIN_TRY(kin_launch(NULL, NULL, fail_in_cleanup, "second"));
    KIN_TRY(kin_launch(NULL, NULL, fail_in_cleanup, "third"));
    KIN_TRY(kin_launch(NULL, NULL, cancelled_quietly, NULL));
    return 0;
}

/* Two levels: the inner scope's failures reach the outer scope once. */
static int inner_scope(void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(NULL, NULL, fail_first, NULL));
    KIN_TRY(kin_launch(NULL, NULL, fail_in_cleanup, "second"));
    return kin_delay(100000);
}

static int inner_scope_caller(void *arg) {
    (void)arg;
    return kin_coroutine_scope(inner_scope, NULL); /* returns its failure */
}

static int outer_scope(void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(NULL, NULL, inner_scope_caller, NULL));
    KIN_TRY(kin_launch(NULL, NULL, fail_in_cleanup, "third"));
    return 0;
}

static int body(void *arg) {
    (void)arg;
    EXPECT(1);
    int rc = kin_coroutine_scope(scope_body, NULL);
    EXPECT(6);
    CHECK_EQ(rc, KIN_EFAILED);
    const kin_error *e = kin_last_error();
    CHECK_STR(kin_error_message(e), "first");
    CHECK_STR(kin_error_type(e), "RuntimeException");
    CHECK_EQ(kin_error_suppressed_count(e), 2);
    CHECK_STR(kin_error_message(kin_error_suppressed(e, 0)), "second");
    CHECK_STR(kin_error_message(kin_error_suppressed(e, 1)), "third");
    CHECK(kin_is_active()); /* the caller got the failure, not cancelled */

    check_step_ = 2; /* the same three steps again, one level deeper */
    rc = kin_coroutine_scope(outer_scope, NULL);
    CHECK_EQ(rc, KIN_EFAILED);
    e = kin_last_error();
    CHECK_STR(kin_error_message(e), "first");
    CHECK_EQ(kin_error_suppressed_count(e), 2); /* each once, no repeats */
    CHECK_STR(kin_error_message(kin_error_suppressed(e, 0)), "second");
    CHECK_STR(kin_error_message(kin_error_suppressed(e, 1)), "third");
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    return 0;
}
