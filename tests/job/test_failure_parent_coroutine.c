/* Rule 3 for a launched parent: its child's failure cancels it (its own
 * suspension point reports the cancellation at once) and becomes its cause;
 * run_blocking hands the failure back to its caller (rule 14). */
#include "check.h"

static int failing_child(void *arg) {
    (void)arg;
    EXPECT(3);
    return kin_fail("IllegalStateException", "child broke");
}

static int parent(void *arg) {
    (void)arg;
    EXPECT(2);
    KIN_TRY(kin_launch(NULL, NULL, failing_child, NULL));
    int rc = kin_delay(100000);
    EXPECT(4);
    CHECK_EQ(rc, KIN_ECANCELED);
    CHECK_STR(kin_error_message(kin_last_error()), "Job is cancelling");
    CHECK_STR(kin_error_message(kin_error_cause(kin_last_error())),
              "child broke");
    CHECK(!kin_is_active());
    return rc;
}

static int body(void *arg) {
    (void)arg;
    EXPECT(1);
    kin_job p;
    CHECK_EQ(kin_launch(&p, NULL, parent, NULL), 0);
    int rc = kin_join(p); /* we are cancelled too: p's failure reached us */
    EXPECT(5);
    CHECK_EQ(rc, KIN_ECANCELED);
    CHECK_STR(kin_error_message(kin_job_cause(p)), "child broke");
    return rc;
}

int main(void) {
    int rc = kin_run_blocking(body, NULL);
    CHECK_EQ(rc, KIN_EFAILED); /* the failure, not the cancellation */
    CHECK_STR(kin_error_message(kin_last_error()), "child broke");
    CHECK_STR(kin_error_type(kin_last_error()), "IllegalStateException");
    FINISH(6);
    return 0;
}
