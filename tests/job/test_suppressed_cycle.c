/*
 * test_suppressed_cycle — the same failure object reaches two jobs in
 * opposite orders (found by test_model):
 *
 *   coroutine_scope S {
 *     d = async { yield x3; fail F1 }
 *     launch B {
 *       launch { await d -> F1; fail F2 }   -> B: primary F2
 *       launch { await d -> F1 }            -> B: F2 {F1}
 *     }
 *   }                                       -> S: F1 {F2}
 *
 * kotlinx.coroutines makes F1 {F2} and F2 {F1}, a cycle its garbage
 * collector copes with. kin's error objects are reference counted: S lists
 * a copy of F2 (same code, type and message, no payload, without the edge
 * back to F1), so F2 is reported and nothing leaks (ASan's leak checker
 * runs this test in CI). B's own failure keeps F2 {F1} and its payload.
 */
#include "check.h"

static kin_job d;
static int payload_freed;
static const kin_error *b_failure; /* retained */

static void free_payload(void *p) {
    CHECK_STR(p, "F2's payload");
    payload_freed++;
}

static int fails_f1(void *arg, void **out) {
    (void)arg, (void)out;
    for (int i = 0; i < 3; i++) { /* until both awaiters wait */
        int rc = kin_yield();
        if (rc < 0)
            return rc;
    }
    return kin_fail("RuntimeException", "F1");
}

static int await_then_fail_f2(void *arg) {
    (void)arg;
    CHECK_EQ(kin_await(d, NULL), KIN_EFAILED); /* delivered though cancelled */
    EXPECT(2);
    kin_error *f2 = kin_error_new(KIN_EFAILED, "RuntimeException", "F2");
    CHECK(f2);
    CHECK_EQ(kin_error_set_payload(f2, "F2's payload", free_payload), 0);
    return kin_fail_error(f2);
}

static int await_and_rethrow(void *arg) {
    (void)arg;
    int rc = kin_await(d, NULL);
    EXPECT(3);
    return rc; /* F1 */
}

static void on_b_done(kin_job job, const kin_error *cause, void *arg) {
    (void)job, (void)arg;
    b_failure = kin_error_retain(cause);
}

static int b_body(void *arg) {
    (void)arg;
    CHECK_EQ(kin_invoke_on_completion(kin_current_job(), on_b_done, NULL), 0);
    CHECK_EQ(kin_launch(NULL, NULL, await_then_fail_f2, NULL), 0);
    CHECK_EQ(kin_launch(NULL, NULL, await_and_rethrow, NULL), 0);
    return 0;
}

static int scope_body(void *arg) {
    (void)arg;
    CHECK_EQ(kin_async(&d, NULL, fails_f1, NULL), 0);
    CHECK_EQ(kin_launch(NULL, NULL, b_body, NULL), 0);
    EXPECT(1);
    return 0;
}

static int main_body(void *arg) {
    (void)arg;
    CHECK_EQ(kin_coroutine_scope(scope_body, NULL), KIN_EFAILED);
    EXPECT(4);
    const kin_error *f1 = kin_last_error();
    CHECK_STR(kin_error_message(f1), "F1");
    CHECK_EQ(kin_error_suppressed_count(f1), 1);
    const kin_error *copy = kin_error_suppressed(f1, 0);
    CHECK_STR(kin_error_message(copy), "F2");
    CHECK_STR(kin_error_type(copy), "RuntimeException");
    CHECK_EQ(kin_error_code(copy), KIN_EFAILED);
    CHECK(kin_error_payload(copy) == NULL);
    CHECK_EQ(kin_error_suppressed_count(copy), 0); /* no edge back to F1 */

    /* B's failure is the original: F2 {F1}, with its payload. */
    CHECK(b_failure && b_failure != copy);
    CHECK_STR(kin_error_message(b_failure), "F2");
    CHECK_STR(kin_error_payload(b_failure), "F2's payload");
    CHECK_EQ(kin_error_suppressed_count(b_failure), 1);
    CHECK(kin_error_suppressed(b_failure, 0) == f1);
    kin_error_release((kin_error *)b_failure);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(main_body, NULL), 0);
    CHECK_EQ(payload_freed, 1);
    FINISH(5);
    puts("test_suppressed_cycle: ok");
    return 0;
}
