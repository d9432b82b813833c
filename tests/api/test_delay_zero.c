/* kin_delay(0) returns at once without a cancellation check, as kotlinx's
 * delay() returns for timeMillis <= 0 before anything else; kin_yield and
 * every delay that really waits still check (DESIGN rule 2). */
#include "check.h"

static int child(void *arg) {
    (void)arg;
    EXPECT(3);
    return 0;
}

static int cancelled_scope(void *arg) {
    (void)arg;
    CHECK_EQ(kin_cancel(kin_current_job(), NULL), 0);
    CHECK(!kin_is_active());
    EXPECT(5);
    CHECK_EQ(kin_delay(0), 0); /* no check: returns 0 though cancelled */
    EXPECT(6);
    CHECK_EQ(kin_delay(1), KIN_ECANCELED); /* a real delay checks */
    CHECK_EQ(kin_yield(), KIN_ECANCELED);  /* yield keeps checking */
    CHECK_EQ(kin_delay(0), 0);
    CHECK_EQ(kin_delay(-1), KIN_EINVAL); /* misuse is still reported */
    return kin_ensure_active();
}

static int body(void *arg) {
    (void)arg;
    EXPECT(1);
    CHECK_EQ(kin_launch(NULL, NULL, child, NULL), 0);
    CHECK_EQ(kin_delay(0), 0); /* does not suspend: the child waits */
    EXPECT(2);
    CHECK_EQ(kin_yield(), 0);
    EXPECT(4);
    CHECK_EQ(kin_coroutine_scope(cancelled_scope, NULL), KIN_ECANCELED);
    EXPECT(7);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    FINISH(8);
    return 0;
}
