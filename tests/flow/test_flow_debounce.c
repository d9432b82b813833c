/* kin_flow_debounce on virtual time, after kotlinx's debounce() docs:
 *
 *   flow { emit(1); delay(90); emit(2); delay(90); emit(3); delay(1010);
 *          emit(4); delay(1010); emit(5) }.debounce(1000)
 *
 * gives 3, 4, 5: 1 and 2 are replaced within 1000 ms; 3 goes out 1000 ms
 * after it came (t = 1180), 4 likewise (t = 2190), and 5, the last one,
 * when the upstream completes (t = 2200). debounce(0) is the flow itself;
 * an upstream failure drops the waiting value and reaches the collector;
 * the collector's failure cancels the upstream. */
#include "check.h"

static int doc_flow(kin_flow_collector *out, void *arg) {
    (void)arg;
    static const int64_t pause[] = {90, 90, 1010, 1010, 0};
    for (int i = 1; i <= 5; i++) {
        KIN_TRY(kin_flow_emit(out, &i, sizeof i));
        if (pause[i - 1])
            KIN_TRY(kin_delay(pause[i - 1]));
    }
    return 0;
}

typedef struct got {
    int n;
    int v[8];
    int64_t t[8];
    int64_t t0;
} got;

static int record(const void *v, void *arg) {
    got *g = arg;
    g->v[g->n] = *(const int *)v;
    g->t[g->n++] = kin_current_time() - g->t0;
    return 0;
}

static int then_fail(kin_flow_collector *out, void *arg) {
    (void)arg;
    int v = 1;
    KIN_TRY(kin_flow_emit(out, &v, sizeof v));
    KIN_TRY(kin_delay(2000)); /* 1 goes out at 1000 */
    v = 2;
    KIN_TRY(kin_flow_emit(out, &v, sizeof v));
    KIN_TRY(kin_delay(10));   /* 2 is still waiting */
    return kin_fail("IOException", "upstream failed at %d", 2010);
}

static int endless_stopped;

static int endless(kin_flow_collector *out, void *arg) {
    (void)arg;
    for (int i = 1;; i++) {
        int rc = kin_flow_emit(out, &i, sizeof i);
        if (rc == 0)
            rc = kin_delay(300);
        if (rc < 0) {
            endless_stopped = kin_error_is_cancellation(kin_last_error());
            return rc;
        }
    }
}

static int fail_first(const void *v, void *arg) {
    (void)v, (void)arg;
    return kin_fail("Stop", "collector failed at %lld",
                    (long long)kin_current_time());
}

static int body(void *arg) {
    (void)arg;
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), doc_flow, NULL), 0);
    CHECK_EQ(kin_flow_debounce(&f, 1000), 0);
    got g = {.t0 = kin_current_time()};
    CHECK_EQ(kin_flow_collect(f, record, &g), 0);
    CHECK_EQ(g.n, 3);
    CHECK_EQ(g.v[0], 3);
    CHECK_EQ(g.t[0], 1180);
    CHECK_EQ(g.v[1], 4);
    CHECK_EQ(g.t[1], 2190);
    CHECK_EQ(g.v[2], 5);
    CHECK_EQ(g.t[2], 2200);
    CHECK_EQ(kin_current_time() - g.t0, 2200);
    kin_flow_release(f);

    /* debounce(0): the same flow */
    CHECK_EQ(kin_flow_new(&f, sizeof(int), doc_flow, NULL), 0);
    kin_flow same = f;
    CHECK_EQ(kin_flow_debounce(&f, 0), 0);
    CHECK_EQ(f.id, same.id);
    g = (got){.t0 = kin_current_time()};
    CHECK_EQ(kin_flow_collect(f, record, &g), 0);
    CHECK_EQ(g.n, 5);
    kin_flow_release(f);

    /* the upstream's failure: the waiting 2 is dropped */
    CHECK_EQ(kin_flow_new(&f, sizeof(int), then_fail, NULL), 0);
    CHECK_EQ(kin_flow_debounce(&f, 1000), 0);
    g = (got){.t0 = kin_current_time()};
    CHECK_EQ(kin_flow_collect(f, record, &g), KIN_EFAILED);
    CHECK_STR(last_message(), "upstream failed at 2010");
    CHECK_EQ(g.n, 1);
    CHECK_EQ(g.v[0], 1);
    CHECK_EQ(g.t[0], 1000);

    /* the collector's failure stops the upstream */
    kin_flow_release(f);
    CHECK_EQ(kin_flow_new(&f, sizeof(int), endless, NULL), 0);
    CHECK_EQ(kin_flow_debounce(&f, 200), 0);
    int64_t t0 = kin_current_time();
    CHECK_EQ(kin_flow_collect(f, fail_first, NULL), KIN_EFAILED);
    CHECK_EQ(kin_current_time() - t0, 200);
    CHECK_EQ(endless_stopped, 1);
    kin_job kids[1];
    CHECK_EQ(kin_job_children(kin_current_job(), kids, 1), 0);
    kin_flow_release(f);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    return 0;
}
