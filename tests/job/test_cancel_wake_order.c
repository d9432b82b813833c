/*
 * test_cancel_wake_order — when a failure cancels a family, its suspended
 * coroutines resume children first (depth first, in launch order) and the
 * parent last, as in kotlinx.coroutines: a job's completion list holds its
 * children (attached when launched) before its own continuation (attached
 * when it suspended), and is notified in order (found by test_model against
 * Kotlin's order; kin used to resume the parent first).
 *
 *   coroutineScope {                                          // S
 *     launch { launch { try { delay(inf) } finally { 2 } }   // C1 > G
 *              try { delay(inf) } finally { 3 } }
 *     launch { delay(10); throw RuntimeException("x") }
 *     launch { try { delay(inf) } finally { 4 } }             // C3
 *     try { delay(inf) } finally { 5 }
 *   }
 */
#include "check.h"

static int sleeper(void *arg) {
    int rc = kin_delay(100000);
    EXPECT((int)(intptr_t)arg);
    return rc;
}

static int c1(void *arg) {
    (void)arg;
    CHECK_EQ(kin_launch(NULL, NULL, sleeper, (void *)2), 0);
    return sleeper((void *)3);
}

static int thrower(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(10));
    return kin_fail("RuntimeException", "x");
}

static int scope_body(void *arg) {
    (void)arg;
    CHECK_EQ(kin_launch(NULL, NULL, c1, NULL), 0);
    CHECK_EQ(kin_launch(NULL, NULL, thrower, NULL), 0);
    CHECK_EQ(kin_launch(NULL, NULL, sleeper, (void *)4), 0);
    EXPECT(1);
    return sleeper((void *)5);
}

static int body(void *arg) {
    (void)arg;
    CHECK_EQ(kin_coroutine_scope(scope_body, NULL), KIN_EFAILED);
    CHECK_STR(kin_error_message(kin_last_error()), "x");
    EXPECT(6);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    FINISH(7);
    puts("test_cancel_wake_order: ok");
    return 0;
}
