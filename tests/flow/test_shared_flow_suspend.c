/* An emit into a kin_shared_flow suspends for the slowest subscriber
 * (SUSPEND, after kotlinx's SharedFlowTest): with extra_buffer 1, a
 * subscriber that has not taken the oldest value holds the buffer full,
 * so the next emit waits until it takes it, and try_emit says KIN_FULL
 * meanwhile; queued emits go in FIFO order; a fast subscriber is not held
 * back by the buffer. With no buffer (the default) each emit waits until
 * every subscriber has taken its value (a rendezvous), and a subscriber
 * that comes while an emit waits gets that value too. */
#include "hot_rec.h"

static kin_shared_flow sf;
static int emitted; /* values whose emit returned */

static int emitter(void *arg) {
    int n = (int)(intptr_t)arg;
    for (int v = 1; v <= n; v++) {
        CHECK_EQ(kin_shared_flow_emit(sf, &v, sizeof v), 0);
        emitted = v;
    }
    return 0;
}

static void test_slowest_holds_the_buffer(void) {
    check_step_ = 0;
    emitted = 0;
    CHECK_EQ(kin_shared_flow_new(&sf, sizeof(int),
                                 &(kin_shared_flow_opts){.extra_buffer = 1}),
             0);
    static rec fast, slow;
    fast.sf = slow.sf = sf;
    CHECK_EQ(kin_channel_new(&slow.gate, sizeof(int), NULL), 0);
    CHECK_EQ(kin_launch(NULL, NULL, rec_shared, &fast), 0);
    CHECK_EQ(kin_launch(NULL, NULL, rec_shared, &slow), 0);
    yields(1);
    CHECK_EQ(kin_shared_flow_subscribers(sf), 2);
    EXPECT(1);
    kin_job e;
    CHECK_EQ(kin_launch(&e, NULL, emitter, (void *)(intptr_t)4), 0);
    yields(3);
    /* slow took 1 and waits in its gate; 2 is buffered for it; 3 waits */
    REC_CHECK(&slow, 1);
    REC_CHECK(&fast, 1, 2);
    CHECK_EQ(emitted, 2);
    int v = 99;
    CHECK_EQ(kin_shared_flow_try_emit(sf, &v, sizeof v), KIN_FULL);
    EXPECT(2);
    rec_release(&slow); /* slow takes 2: room for 3 */
    yields(3);
    REC_CHECK(&slow, 1, 2);
    REC_CHECK(&fast, 1, 2, 3);
    CHECK_EQ(emitted, 3);
    EXPECT(3);
    rec_release(&slow);
    rec_release(&slow);
    yields(3);
    REC_CHECK(&slow, 1, 2, 3, 4);
    REC_CHECK(&fast, 1, 2, 3, 4);
    CHECK_EQ(emitted, 4);
    CHECK_EQ(kin_join(e), 0);
    FINISH(4);
    CHECK_EQ(kin_shared_flow_destroy(sf), 0);
    yields(2);
    CHECK_EQ(fast.rc, KIN_ECANCELED);
    rec_release(&slow); /* it was in its gate with 4 */
    yields(2);
    CHECK_EQ(slow.rc, KIN_ECANCELED);
    CHECK_EQ(kin_channel_destroy(slow.gate), 0);
}

/* Several emitters wait: they go in in the order they came. */
static int emit_one(void *arg) {
    int v = (int)(intptr_t)arg;
    return kin_shared_flow_emit(sf, &v, sizeof v);
}

static void test_fifo(void) {
    CHECK_EQ(kin_shared_flow_new(&sf, sizeof(int),
                                 &(kin_shared_flow_opts){.replay = 1}),
             0);
    static rec slow;
    slow.sf = sf;
    CHECK_EQ(kin_channel_new(&slow.gate, sizeof(int), NULL), 0);
    CHECK_EQ(kin_launch(NULL, NULL, rec_shared, &slow), 0);
    yields(1);
    int v = 0;
    CHECK_EQ(kin_shared_flow_try_emit(sf, &v, sizeof v), 0);
    yields(1); /* slow took 0, waits in its gate */
    v = 1;
    CHECK_EQ(kin_shared_flow_try_emit(sf, &v, sizeof v), 0); /* buffered */
    kin_job j[4];
    for (int i = 0; i < 4; i++)
        CHECK_EQ(kin_launch(&j[i], NULL, emit_one, (void *)(intptr_t)(10 + i)),
                 0);
    yields(1);
    for (int i = 0; i < 5; i++) {
        rec_release(&slow);
        yields(2);
    }
    REC_CHECK(&slow, 0, 1, 10, 11, 12, 13);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(kin_join(j[i]), 0);
    CHECK_EQ(kin_shared_flow_destroy(sf), 0);
    rec_release(&slow);
    yields(2);
    CHECK_EQ(slow.rc, KIN_ECANCELED);
    CHECK_EQ(kin_channel_destroy(slow.gate), 0);
}

static void test_rendezvous(void) {
    check_step_ = 0;
    emitted = 0;
    CHECK_EQ(kin_shared_flow_new(&sf, sizeof(int), NULL), 0);
    static rec a, b, late;
    a.sf = b.sf = late.sf = sf;
    CHECK_EQ(kin_channel_new(&b.gate, sizeof(int), NULL), 0);
    CHECK_EQ(kin_launch(NULL, NULL, rec_shared, &a), 0);
    CHECK_EQ(kin_launch(NULL, NULL, rec_shared, &b), 0);
    yields(1);
    EXPECT(1);
    kin_job e;
    CHECK_EQ(kin_launch(&e, NULL, emitter, (void *)(intptr_t)2), 0);
    yields(4);
    /* both took 1 (b waits in its gate), so emit(1) returned; emit(2)
     * waits for b */
    REC_CHECK(&a, 1, 2);
    REC_CHECK(&b, 1);
    CHECK_EQ(emitted, 1);
    EXPECT(2);
    /* a subscriber that comes now joins the pending emit of 2 */
    CHECK_EQ(kin_launch(NULL, NULL, rec_shared, &late), 0);
    yields(2);
    REC_CHECK(&late, 2);
    CHECK_EQ(emitted, 1);
    rec_release(&b);
    yields(3);
    REC_CHECK(&b, 1, 2);
    CHECK_EQ(emitted, 2);
    CHECK_EQ(kin_join(e), 0);
    FINISH(3);
    CHECK_EQ(kin_shared_flow_destroy(sf), 0);
    rec_release(&b);
    yields(2);
    CHECK_EQ(a.rc, KIN_ECANCELED);
    CHECK_EQ(b.rc, KIN_ECANCELED);
    CHECK_EQ(late.rc, KIN_ECANCELED);
    CHECK_EQ(kin_channel_destroy(b.gate), 0);
}

/* The last subscriber leaving lets every waiting emit through. */
static void test_leave_releases(void) {
    CHECK_EQ(kin_shared_flow_new(&sf, sizeof(int),
                                 &(kin_shared_flow_opts){.replay = 1}),
             0);
    static rec slow;
    slow.sf = sf;
    CHECK_EQ(kin_channel_new(&slow.gate, sizeof(int), NULL), 0);
    kin_job js;
    CHECK_EQ(kin_launch(&js, NULL, rec_shared, &slow), 0);
    yields(1);
    kin_job e;
    emitted = 0;
    CHECK_EQ(kin_launch(&e, NULL, emitter, (void *)(intptr_t)5), 0);
    yields(2);
    CHECK_EQ(emitted, 1); /* slow holds 2 (replay 1 = the whole buffer) */
    CHECK_EQ(kin_cancel(js, NULL), 0);
    CHECK_EQ(kin_join(js), 0);
    CHECK_EQ(kin_join(e), 0);
    CHECK_EQ(emitted, 5);
    static rec late;
    late.sf = sf;
    CHECK_EQ(kin_launch(NULL, NULL, rec_shared, &late), 0);
    yields(1);
    REC_CHECK(&late, 5); /* the replay cache kept the last one */
    CHECK_EQ(kin_shared_flow_destroy(sf), 0);
    yields(1);
    CHECK_EQ(kin_channel_destroy(slow.gate), 0);
}

static int body(void *arg) {
    (void)arg;
    test_slowest_holds_the_buffer();
    test_fifo();
    test_rendezvous();
    test_leave_releases();
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    printf("ok\n");
    return 0;
}
