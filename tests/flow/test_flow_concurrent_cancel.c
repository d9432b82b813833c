/* Cancellation of the collecting coroutine reaches every coroutine a
 * concurrent operator started (buffer, flow_on, channel_flow, debounce,
 * zip, combine): the collect returns the cancellation, the upstreams
 * see it at their next suspension (or emit), and nothing is left behind
 * when the collector's coroutine completes. */
#include "check.h"

static int stopped; /* upstreams that saw the cancellation */

static int endless(kin_flow_collector *out, void *arg) {
    (void)arg;
    for (int i = 0;; i++) {
        int rc = kin_flow_emit(out, &i, sizeof i);
        if (rc == 0)
            rc = kin_delay(10);
        if (rc < 0) {
            CHECK(kin_error_is_cancellation(kin_last_error()));
            stopped++;
            return rc;
        }
    }
}

static int endless_producer(kin_channel ch, void *arg) {
    (void)arg;
    for (int i = 0;; i++) {
        int rc = kin_channel_send(ch, &i, sizeof i);
        if (rc == 0)
            rc = kin_delay(10);
        if (rc < 0) {
            stopped++;
            return rc;
        }
    }
}

static int add(const void *a, const void *b, void *out, void *arg) {
    (void)arg;
    int s = *(const int *)a + *(const int *)b;
    memcpy(out, &s, sizeof s);
    return 0;
}

static int seen;

static int count(const void *v, void *arg) {
    (void)v, (void)arg;
    seen++;
    return 0;
}

static int collect_main(void *arg) {
    kin_flow *f = arg;
    return kin_flow_collect(*f, count, NULL);
}

static void cancel_during(kin_flow f, int upstreams) {
    stopped = 0;
    seen = 0;
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, collect_main, &f), 0);
    CHECK_EQ(kin_delay(55), 0);
    CHECK(seen > 0);
    CHECK_EQ(kin_cancel(j, NULL), 0);
    CHECK_EQ(kin_join(j), 0);
    CHECK(kin_job_is_cancelled(j));
    CHECK_EQ(stopped, upstreams);
    kin_job kids[1];
    CHECK_EQ(kin_job_children(kin_current_job(), kids, 1), 0);
    kin_job_release(j);
    kin_flow_release(f);
}

static kin_flow make(void) {
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), endless, NULL), 0);
    return f;
}

static int body(void *arg) {
    (void)arg;
    kin_flow f = make();
    CHECK_EQ(kin_flow_buffer(&f, 4, KIN_OVERFLOW_SUSPEND), 0);
    cancel_during(f, 1);
    f = make();
    CHECK_EQ(kin_flow_conflate(&f), 0);
    cancel_during(f, 1);
    CHECK_EQ(kin_channel_flow(&f, sizeof(int), NULL, endless_producer, NULL),
             0);
    cancel_during(f, 1);
    f = make();
    CHECK_EQ(kin_flow_debounce(&f, 5), 0);
    cancel_during(f, 1);
    f = make();
    CHECK_EQ(kin_flow_zip(&f, make(), sizeof(int), add, NULL), 0);
    cancel_during(f, 2);
    f = make();
    CHECK_EQ(kin_flow_combine(&f, make(), sizeof(int), add, NULL), 0);
    cancel_during(f, 2);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    return 0;
}
