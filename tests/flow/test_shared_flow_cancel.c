/* Cancellation and destroy around kin_shared_flow's waits: an emit
 * cancelled while it waits does not emit (KIN_ECANCELED), and the emits
 * queued behind it move up; in a rendezvous, a value some subscribers
 * already took when its emit is cancelled stays taken and the others skip
 * it (kotlinx marks the cell NO_VALUE); destroying the flow resumes a
 * waiting emit and every collector with KIN_ECANCELED; a cancelled
 * subscriber leaves and no longer holds emits back. */
#include "hot_rec.h"

static kin_shared_flow sf;

static int emit_one(void *arg) {
    int v = (int)(intptr_t)arg;
    return kin_shared_flow_emit(sf, &v, sizeof v);
}

static void test_cancel_queued(void) {
    check_step_ = 0;
    CHECK_EQ(kin_shared_flow_new(&sf, sizeof(int),
                                 &(kin_shared_flow_opts){.extra_buffer = 1}),
             0);
    static rec slow;
    slow.sf = sf;
    CHECK_EQ(kin_channel_new(&slow.gate, sizeof(int), NULL), 0);
    CHECK_EQ(kin_launch(NULL, NULL, rec_shared, &slow), 0);
    yields(1);
    int v = 1;
    CHECK_EQ(kin_shared_flow_try_emit(sf, &v, sizeof v), 0);
    yields(1); /* slow took 1 */
    v = 2;
    CHECK_EQ(kin_shared_flow_try_emit(sf, &v, sizeof v), 0); /* buffered */
    kin_job e3, e4;
    CHECK_EQ(kin_launch(&e3, NULL, emit_one, (void *)(intptr_t)3), 0);
    CHECK_EQ(kin_launch(&e4, NULL, emit_one, (void *)(intptr_t)4), 0);
    yields(1); /* both wait */
    EXPECT(1);
    CHECK_EQ(kin_cancel(e3, NULL), 0);
    CHECK_EQ(kin_join(e3), 0);
    CHECK_EQ(kin_job_is_cancelled(e3), 1);
    EXPECT(2);
    for (int i = 0; i < 2; i++) {
        rec_release(&slow);
        yields(2);
    }
    REC_CHECK(&slow, 1, 2, 4); /* 3 never went in */
    CHECK_EQ(kin_join(e4), 0);
    CHECK_EQ(kin_job_is_cancelled(e4), 0);
    FINISH(3);
    CHECK_EQ(kin_shared_flow_destroy(sf), 0);
    rec_release(&slow);
    yields(1);
    CHECK_EQ(slow.rc, KIN_ECANCELED);
    CHECK_EQ(kin_channel_destroy(slow.gate), 0);
}

static void test_cancel_rendezvous_half_taken(void) {
    CHECK_EQ(kin_shared_flow_new(&sf, sizeof(int), NULL), 0);
    static rec a, b;
    a.sf = b.sf = sf;
    CHECK_EQ(kin_channel_new(&b.gate, sizeof(int), NULL), 0);
    CHECK_EQ(kin_launch(NULL, NULL, rec_shared, &a), 0);
    CHECK_EQ(kin_launch(NULL, NULL, rec_shared, &b), 0);
    yields(1);
    kin_job e0, e1, e2;
    CHECK_EQ(kin_launch(&e0, NULL, emit_one, (void *)(intptr_t)0), 0);
    yields(4);
    CHECK_EQ(kin_join(e0), 0); /* both took 0; b waits in its gate */
    CHECK_EQ(kin_launch(&e1, NULL, emit_one, (void *)(intptr_t)1), 0);
    yields(3);
    REC_CHECK(&a, 0, 1); /* a took 1, b has not: e1 still waits */
    REC_CHECK(&b, 0);
    CHECK_EQ(kin_cancel(e1, NULL), 0);
    CHECK_EQ(kin_join(e1), 0);
    CHECK_EQ(kin_job_is_cancelled(e1), 1);
    CHECK_EQ(kin_launch(&e2, NULL, emit_one, (void *)(intptr_t)2), 0);
    rec_release(&b);
    yields(4);
    CHECK_EQ(kin_join(e2), 0);
    REC_CHECK(&a, 0, 1, 2);
    REC_CHECK(&b, 0, 2); /* b skipped the half-taken 1 */
    CHECK_EQ(kin_shared_flow_destroy(sf), 0);
    rec_release(&b);
    yields(1);
    CHECK_EQ(a.rc, KIN_ECANCELED);
    CHECK_EQ(b.rc, KIN_ECANCELED);
    CHECK_EQ(kin_channel_destroy(b.gate), 0);
}

static int emit_rc;
static int emit_record(void *arg) {
    int v = (int)(intptr_t)arg;
    emit_rc = kin_shared_flow_emit(sf, &v, sizeof v);
    if (emit_rc == KIN_ECANCELED)
        CHECK(strstr(last_message(), "SharedFlow was destroyed"));
    return 0;
}

static void test_destroy_with_waiting_emit(void) {
    CHECK_EQ(kin_shared_flow_new(&sf, sizeof(int), NULL), 0);
    static rec a;
    a.sf = sf;
    CHECK_EQ(kin_channel_new(&a.gate, sizeof(int), NULL), 0);
    CHECK_EQ(kin_launch(NULL, NULL, rec_shared, &a), 0);
    yields(1);
    kin_job e0, e1;
    CHECK_EQ(kin_launch(&e0, NULL, emit_one, (void *)(intptr_t)0), 0);
    yields(3); /* a took 0 and waits in its gate; e0 returned */
    CHECK_EQ(kin_join(e0), 0);
    emit_rc = 1;
    CHECK_EQ(kin_launch(&e1, NULL, emit_record, (void *)(intptr_t)1), 0);
    yields(1); /* e1 waits for a */
    CHECK_EQ(emit_rc, 1);
    CHECK_EQ(kin_shared_flow_destroy(sf), 0);
    CHECK_EQ(kin_join(e1), 0);
    CHECK_EQ(emit_rc, KIN_ECANCELED);
    rec_release(&a);
    yields(1);
    CHECK_EQ(a.rc, KIN_ECANCELED);
    REC_CHECK(&a, 0);
    int v = 5;
    CHECK_EQ(kin_shared_flow_try_emit(sf, &v, sizeof v), KIN_ESTALE);
    CHECK_EQ(kin_channel_destroy(a.gate), 0);
}

static int body(void *arg) {
    (void)arg;
    test_cancel_queued();
    test_cancel_rendezvous_half_taken();
    test_destroy_with_waiting_emit();
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    printf("ok\n");
    return 0;
}
