/* DESIGN rule 8: a coroutine cancelled while in a non-cancellable section
 * can still suspend, so cleanup can wait; rule 12: the parent completes only
 * after that cleanup. */
#include "check.h"

static int cleanup(void *arg) {
    (void)arg;
    EXPECT(4);
    CHECK(kin_is_active());
    CHECK_EQ(kin_delay(20), 0); /* suspends although the caller is cancelled */
    CHECK_EQ(kin_yield(), 0);
    EXPECT(5);
    return 0;
}

static int worker(void *arg) {
    (void)arg;
    EXPECT(2);
    int rc = kin_delay(100000);
    EXPECT(3);
    CHECK_EQ(rc, KIN_ECANCELED);
    CHECK(!kin_is_active());
    CHECK_EQ(kin_non_cancellable(cleanup, NULL), 0);
    CHECK_EQ(kin_delay(1), KIN_ECANCELED); /* cancelled again outside */
    EXPECT(6);
    return rc;
}

static int scope_body(void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(NULL, NULL, worker, NULL));
    KIN_TRY(kin_yield());
    kin_cancel(kin_current_job(), NULL);
    return 0;
}

int main_body(void *arg);
int main_body(void *arg) {
    (void)arg;
    EXPECT(1);
    CHECK_EQ(kin_coroutine_scope(scope_body, NULL), KIN_ECANCELED);
    FINISH(7); /* only after the cleanup that suspended */
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(main_body, NULL), 0);
    return 0;
}
