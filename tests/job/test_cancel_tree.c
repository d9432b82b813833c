/* DESIGN rule 2: cancelling a job cancels all of its descendants, at every
 * suspension point, and rule 4: cancellation is not failure (the parent and
 * the siblings go on). */
#include "check.h"

static int cancelled_count, started_leaves;

static int leaf(void *arg) {
    (void)arg;
    started_leaves++;
    int rc = kin_delay(100000);
    CHECK_EQ(rc, KIN_ECANCELED);
    cancelled_count++;
    return rc;
}

static int level(void *arg) {
    long depth = (long)arg;
    if (depth == 0)
        return leaf(NULL);
    for (int i = 0; i < 3; i++)
        KIN_TRY(kin_launch(NULL, NULL, level, (void *)(depth - 1)));
    return kin_delay(100000);
}

static int sibling(void *arg) {
    (void)arg;
    EXPECT(2);
    KIN_TRY(kin_delay(10));
    EXPECT(4); /* not cancelled by the cancelled sibling */
    return 0;
}

static int body(void *arg) {
    (void)arg;
    EXPECT(1);
    kin_job tree, sib;
    CHECK_EQ(kin_launch(&tree, NULL, level, (void *)4L), 0); /* 81 leaves */
    CHECK_EQ(kin_launch(&sib, NULL, sibling, NULL), 0);
    while (started_leaves < 81) /* let the whole tree start */
        CHECK_EQ(kin_yield(), 0);
    EXPECT(3);
    int n = kin_job_children(tree, NULL, 0);
    CHECK_EQ(n, 3);
    CHECK_EQ(kin_cancel(tree, NULL), 0);
    CHECK_EQ(kin_job_is_cancelled(tree), true);
    CHECK_EQ(kin_join(tree), 0);
    CHECK_EQ(cancelled_count, 81);
    CHECK_EQ(kin_job_children(tree, NULL, 0), 0);
    CHECK_EQ(kin_error_code(kin_job_cause(tree)), KIN_ECANCELED);
    CHECK_EQ(kin_join(sib), 0);
    FINISH(5);
    CHECK(kin_is_active()); /* the parent was not cancelled */
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    return 0;
}
