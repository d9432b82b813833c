/* Failures across a buffer (kotlinx's ChannelFlow: the producer runs in
 * a coroutineScope with the collector): the upstream's failure reaches
 * the collector with its cause. It also cancels the collecting scope at
 * once, so values still in the buffer are not delivered (as in kotlinx,
 * whose resumed receive is cancelled promptly: see kotlinx.coroutines
 * issue 4159); with a rendezvous buffer the collector has taken every
 * value before the failure. The
 * collector's failure cancels the upstream's coroutine (its emit returns
 * the cancellation) and is the collect's result; no coroutine is left
 * when the collect returns. */
#include "check.h"

static int fail_step;

static int fails_after_two(kin_flow_collector *out, void *arg) {
    (void)arg;
    for (int i = 1; i <= 2; i++)
        KIN_TRY(kin_flow_emit(out, &i, sizeof i));
    EXPECT(fail_step);
    return kin_fail("IOException", "upstream broke after %d", 2);
}

static int count(const void *v, void *arg) {
    int *n = arg;
    CHECK_EQ(*(const int *)v, *n + 1);
    ++*n;
    EXPECT(1 + *n); /* steps 2, 3 */
    return 0;
}

typedef struct endless {
    int emitted;
    int last_rc;
} endless;

static int forever(kin_flow_collector *out, void *arg) {
    endless *e = arg;
    for (int i = 1;; i++) {
        int rc = kin_flow_emit(out, &i, sizeof i);
        if (rc < 0) {
            e->last_rc = rc;
            CHECK(kin_error_is_cancellation(kin_last_error()));
            return rc;
        }
        e->emitted = i;
    }
}

static int fail_at_3(const void *v, void *arg) {
    (void)arg;
    if (*(const int *)v == 3)
        return kin_fail("IllegalStateException", "collector fails at %d", 3);
    return 0;
}

static void no_children(void) {
    kin_job kids[1];
    CHECK_EQ(kin_job_children(kin_current_job(), kids, 1), 0);
}

static int body(void *arg) {
    (void)arg;
    /* the upstream's failure: buffered values are lost with the scope */
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), fails_after_two, NULL), 0);
    CHECK_EQ(kin_flow_buffer(&f, KIN_CHANNEL_BUFFERED, KIN_OVERFLOW_SUSPEND),
             0);
    EXPECT(1);
    fail_step = 2;
    int n = 0;
    int rc = kin_flow_collect(f, count, &n);
    CHECK_EQ(rc, KIN_EFAILED);
    CHECK_STR(kin_error_type(kin_last_error()), "IOException");
    CHECK_STR(last_message(), "upstream broke after 2");
    CHECK_EQ(n, 0);
    FINISH(3);
    no_children();
    kin_flow_release(f);

    /* rendezvous: both values were taken before the failure */
    check_step_ = 0;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), fails_after_two, NULL), 0);
    CHECK_EQ(kin_flow_buffer(&f, 0, KIN_OVERFLOW_SUSPEND), 0);
    EXPECT(1);
    fail_step = 4;
    n = 0;
    rc = kin_flow_collect(f, count, &n);
    CHECK_EQ(rc, KIN_EFAILED);
    CHECK_STR(last_message(), "upstream broke after 2");
    CHECK_EQ(n, 2);
    FINISH(5);
    no_children();
    kin_flow_release(f);

    /* the collector's failure stops the upstream's coroutine */
    for (int cap = 0; cap <= 4; cap += 4) {
        endless e = {0, 0};
        CHECK_EQ(kin_flow_new(&f, sizeof(int), forever, &e), 0);
        CHECK_EQ(kin_flow_buffer(&f, cap, KIN_OVERFLOW_SUSPEND), 0);
        rc = kin_flow_collect(f, fail_at_3, NULL);
        CHECK_EQ(rc, KIN_EFAILED);
        CHECK_STR(last_message(), "collector fails at 3");
        CHECK_EQ(e.last_rc, KIN_ECANCELED); /* it stopped, cancelled */
        CHECK(e.emitted >= 3 && e.emitted <= 3 + cap + 1);
        no_children();
        kin_flow_release(f);
    }

    /* same on Default, where the producer runs on another thread */
    endless e = {0, 0};
    CHECK_EQ(kin_flow_new(&f, sizeof(int), forever, &e), 0);
    CHECK_EQ(kin_flow_on(&f, kin_dispatcher_default()), 0);
    rc = kin_flow_collect(f, fail_at_3, NULL);
    CHECK_EQ(rc, KIN_EFAILED);
    CHECK_STR(last_message(), "collector fails at 3");
    CHECK_EQ(e.last_rc, KIN_ECANCELED);
    no_children();
    kin_flow_release(f);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    return 0;
}
