/* kin_shared_flow's replay cache and subscribers, after kotlinx's
 * SharedFlowTest and the MutableSharedFlow docs: without subscribers an
 * emit never suspends and only the last `replay` values are kept; a new
 * subscriber gets the replay cache oldest first, then what is emitted
 * while it collects; reset_replay empties the cache for new subscribers
 * only; subscribers counts collectors as they come and go; with the
 * default options (no buffer) try_emit succeeds (the value is dropped)
 * while nobody collects and fails (KIN_FULL) while anybody does. */
#include "hot_rec.h"

static void emit_int(kin_shared_flow sf, int v) {
    CHECK_EQ(kin_shared_flow_emit(sf, &v, sizeof v), 0);
}

static void test_replay(void) {
    check_step_ = 0;
    kin_shared_flow sf;
    CHECK_EQ(kin_shared_flow_new(&sf, sizeof(int),
                                 &(kin_shared_flow_opts){.replay = 2}),
             0);
    for (int v = 1; v <= 3; v++) /* no subscriber: never suspends */
        emit_int(sf, v);
    EXPECT(1);
    static rec a;
    a.sf = sf;
    kin_job ja;
    CHECK_EQ(kin_launch(&ja, NULL, rec_shared, &a), 0);
    CHECK_EQ(kin_shared_flow_subscribers(sf), 0);
    yields(1);
    EXPECT(2);
    REC_CHECK(&a, 2, 3); /* the replay cache, oldest first */
    CHECK_EQ(kin_shared_flow_subscribers(sf), 1);
    emit_int(sf, 4);
    yields(1);
    REC_CHECK(&a, 2, 3, 4);
    EXPECT(3);
    CHECK_EQ(kin_shared_flow_reset_replay(sf), 0);
    static rec b;
    b.sf = sf;
    kin_job jb;
    CHECK_EQ(kin_launch(&jb, NULL, rec_shared, &b), 0);
    yields(1);
    CHECK_EQ(b.n, 0); /* nothing replayed after the reset */
    CHECK_EQ(kin_shared_flow_subscribers(sf), 2);
    emit_int(sf, 5);
    yields(1);
    REC_CHECK(&a, 2, 3, 4, 5);
    REC_CHECK(&b, 5);
    EXPECT(4);
    CHECK_EQ(kin_cancel(ja, NULL), 0);
    CHECK_EQ(kin_join(ja), 0);
    CHECK_EQ(a.rc, KIN_ECANCELED);
    CHECK_EQ(kin_shared_flow_subscribers(sf), 1);
    CHECK_EQ(kin_cancel(jb, NULL), 0);
    CHECK_EQ(kin_join(jb), 0);
    CHECK_EQ(kin_shared_flow_subscribers(sf), 0);
    /* the cache holds only what came after the reset: 5 */
    static rec c;
    c.sf = sf;
    kin_job jc;
    CHECK_EQ(kin_launch(&jc, NULL, rec_shared, &c), 0);
    yields(1);
    REC_CHECK(&c, 5);
    CHECK_EQ(kin_shared_flow_destroy(sf), 0);
    CHECK_EQ(kin_join(jc), 0);
    CHECK_EQ(c.rc, KIN_ECANCELED);
    FINISH(5);
}

static void test_default_options(void) {
    kin_shared_flow sf;
    CHECK_EQ(kin_shared_flow_new(&sf, sizeof(int), NULL), 0);
    int v = 1;
    CHECK_EQ(kin_shared_flow_try_emit(sf, &v, sizeof v), 0); /* dropped */
    static rec a;
    a.sf = sf;
    kin_job ja;
    CHECK_EQ(kin_launch(&ja, NULL, rec_shared, &a), 0);
    yields(1);
    CHECK_EQ(a.n, 0); /* no replay */
    v = 2;
    CHECK_EQ(kin_shared_flow_try_emit(sf, &v, sizeof v), KIN_FULL);
    yields(1);
    CHECK_EQ(a.n, 0);
    CHECK_EQ(kin_cancel(ja, NULL), 0);
    CHECK_EQ(kin_join(ja), 0);
    v = 3;
    CHECK_EQ(kin_shared_flow_try_emit(sf, &v, sizeof v), 0);
    CHECK_EQ(kin_shared_flow_destroy(sf), 0);
}

/* replay 1 + DROP_OLDEST (a StateFlow without equality): a new
 * subscriber always gets the latest value. */
static void test_latest(void) {
    kin_shared_flow sf;
    CHECK_EQ(kin_shared_flow_new(
                 &sf, sizeof(int),
                 &(kin_shared_flow_opts){.replay = 1,
                                         .overflow = KIN_OVERFLOW_DROP_OLDEST}),
             0);
    for (int v = 1; v <= 5; v++)
        CHECK_EQ(kin_shared_flow_try_emit(sf, &v, sizeof v), 0);
    static rec a;
    a.sf = sf;
    CHECK_EQ(kin_launch(NULL, NULL, rec_shared, &a), 0);
    yields(1);
    REC_CHECK(&a, 5);
    int v = 5; /* no equality conflation: 5 again is delivered */
    CHECK_EQ(kin_shared_flow_try_emit(sf, &v, sizeof v), 0);
    yields(1);
    REC_CHECK(&a, 5, 5);
    CHECK_EQ(kin_shared_flow_destroy(sf), 0);
    yields(1);
    CHECK_EQ(a.rc, KIN_ECANCELED);
}

static int body(void *arg) {
    (void)arg;
    test_replay();
    test_default_options();
    test_latest();
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    printf("ok\n");
    return 0;
}
