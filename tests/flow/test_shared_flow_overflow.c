/* kin_shared_flow's overflow policies with a slow subscriber (kotlinx's
 * SharedFlowTest testDropLatest / testDropOldest and the BufferOverflow
 * docs): once the slowest subscriber holds the buffer (extra_buffer 2)
 * full, DROP_OLDEST drops the oldest value (the slow subscriber skips it)
 * and DROP_LATEST drops the new one; neither suspends, and try_emit
 * returns 0; SUSPEND makes try_emit return KIN_FULL. */
#include "hot_rec.h"

static void run(kin_overflow policy, int n, const int *want, int full_rc) {
    kin_shared_flow sf;
    CHECK_EQ(kin_shared_flow_new(
                 &sf, sizeof(int),
                 &(kin_shared_flow_opts){.extra_buffer = 2, .overflow = policy}),
             0);
    static rec slow;
    memset(&slow, 0, sizeof slow);
    slow.sf = sf;
    CHECK_EQ(kin_channel_new(&slow.gate, sizeof(int), NULL), 0);
    kin_job js;
    CHECK_EQ(kin_launch(&js, NULL, rec_shared, &slow), 0);
    yields(1);
    int v = 1;
    CHECK_EQ(kin_shared_flow_try_emit(sf, &v, sizeof v), 0);
    yields(1); /* slow took 1 and waits in its gate */
    for (v = 2; v <= 5; v++) {
        int rc = kin_shared_flow_try_emit(sf, &v, sizeof v);
        CHECK_EQ(rc, v <= 3 ? 0 : full_rc);
    }
    for (int i = 1; i < n; i++) {
        rec_release(&slow);
        yields(1);
    }
    rec_check(&slow, n, want);
    CHECK_EQ(kin_cancel(js, NULL), 0); /* it waits in its gate */
    CHECK_EQ(kin_join(js), 0);
    CHECK_EQ(slow.rc, KIN_ECANCELED);
    CHECK_EQ(kin_shared_flow_subscribers(sf), 0);
    CHECK_EQ(kin_shared_flow_destroy(sf), 0);
    CHECK_EQ(kin_channel_destroy(slow.gate), 0);
}

/* Without subscribers a drop policy changes nothing: the replay cache
 * keeps the last values and nothing is ever full. */
static void test_no_subscribers(void) {
    kin_shared_flow sf;
    CHECK_EQ(kin_shared_flow_new(
                 &sf, sizeof(int),
                 &(kin_shared_flow_opts){.replay = 2,
                                         .overflow = KIN_OVERFLOW_DROP_LATEST}),
             0);
    for (int v = 1; v <= 5; v++)
        CHECK_EQ(kin_shared_flow_try_emit(sf, &v, sizeof v), 0);
    static rec late;
    late.sf = sf;
    CHECK_EQ(kin_launch(NULL, NULL, rec_shared, &late), 0);
    yields(1);
    REC_CHECK(&late, 4, 5); /* the latest, not the first two */
    CHECK_EQ(kin_shared_flow_destroy(sf), 0);
    yields(1);
    CHECK_EQ(late.rc, KIN_ECANCELED);
}

static int body(void *arg) {
    (void)arg;
    run(KIN_OVERFLOW_DROP_OLDEST, 3, (const int[]){1, 4, 5}, 0);
    run(KIN_OVERFLOW_DROP_LATEST, 3, (const int[]){1, 2, 3}, 0);
    run(KIN_OVERFLOW_SUSPEND, 3, (const int[]){1, 2, 3}, KIN_FULL);
    test_no_subscribers();
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    printf("ok\n");
    return 0;
}
