/* kin_flow_conflate and the dropping buffers, on virtual time. kotlinx's
 * conflate() docs: a flow emitting 1..30 every 100 ms collected by a
 * collector that takes 1000 ms per value sees 1, 10, 20, 30: the
 * collector gets the latest value whenever it is ready, the ones in
 * between are dropped. buffer(1, DROP_LATEST) keeps the oldest instead;
 * buffer(1, DROP_OLDEST) the newest. */
#include "check.h"

static int every_100ms(kin_flow_collector *out, void *arg) {
    (void)arg;
    for (int i = 1; i <= 30; i++) {
        KIN_TRY(kin_delay(100));
        KIN_TRY(kin_flow_emit(out, &i, sizeof i));
    }
    return 0;
}

typedef struct seen {
    int n;
    int v[40];
    int64_t t[40];
} seen;

static int slow(const void *v, void *arg) {
    seen *s = arg;
    s->v[s->n] = *(const int *)v;
    s->t[s->n++] = kin_current_time();
    return kin_delay(1000);
}

static int burst(kin_flow_collector *out, void *arg) {
    (void)arg;
    for (int i = 1; i <= 5; i++) /* no suspension between the emits */
        KIN_TRY(kin_flow_emit(out, &i, sizeof i));
    return 0;
}

static int record(const void *v, void *arg) {
    seen *s = arg;
    s->v[s->n++] = *(const int *)v;
    return 0;
}

static void check_burst(int capacity, kin_overflow ov, int conflate, int a,
                        int b) {
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), burst, NULL), 0);
    if (conflate)
        CHECK_EQ(kin_flow_conflate(&f), 0);
    else
        CHECK_EQ(kin_flow_buffer(&f, capacity, ov), 0);
    seen s = {0};
    CHECK_EQ(kin_flow_collect(f, record, &s), 0);
    /* 1 goes straight to the waiting collector; one more stays */
    CHECK_EQ(s.n, 2);
    CHECK_EQ(s.v[0], a);
    CHECK_EQ(s.v[1], b);
    kin_flow_release(f);
}

static int body(void *arg) {
    (void)arg;
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), every_100ms, NULL), 0);
    CHECK_EQ(kin_flow_conflate(&f), 0);
    seen s = {0};
    int64_t t0 = kin_current_time();
    CHECK_EQ(kin_flow_collect(f, slow, &s), 0);
    CHECK_EQ(s.n, 4);
    const int want[] = {1, 10, 20, 30};
    const int64_t at[] = {100, 1100, 2100, 3100};
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(s.v[i], want[i]);
        CHECK_EQ(s.t[i] - t0, at[i]);
    }
    CHECK_EQ(kin_current_time() - t0, 4100);
    kin_flow_release(f);

    check_burst(0, 0, 1, 1, 5);                       /* conflate */
    check_burst(1, KIN_OVERFLOW_DROP_OLDEST, 0, 1, 5); /* the newest */
    check_burst(1, KIN_OVERFLOW_DROP_LATEST, 0, 1, 2); /* the oldest */
    check_burst(KIN_CHANNEL_CONFLATED, KIN_OVERFLOW_SUSPEND, 0, 1, 5);
    /* a dropping buffer after a suspending one replaces it (fusion) */
    CHECK_EQ(kin_flow_new(&f, sizeof(int), burst, NULL), 0);
    CHECK_EQ(kin_flow_buffer(&f, 10, KIN_OVERFLOW_SUSPEND), 0);
    CHECK_EQ(kin_flow_conflate(&f), 0);
    s.n = 0;
    CHECK_EQ(kin_flow_collect(f, record, &s), 0);
    CHECK_EQ(s.n, 2);
    CHECK_EQ(s.v[1], 5);
    kin_flow_release(f);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    return 0;
}
