/* Stopping early across the concurrent operators: take(n) and first()
 * after buffer, conflate, flow_on, channel_flow, debounce, zip and
 * combine complete normally (their abort, kotlinx's AbortFlowException,
 * passes through the operators' scopes as it is, and take / first know
 * it as their own), and every coroutine the operator started is cancelled
 * and has completed when the collect returns. */
#include <stdatomic.h>

#include "check.h"

static atomic_int stopped; /* upstreams that saw the cancellation */

static int endless(kin_flow_collector *out, void *arg) {
    int64_t pause = arg ? *(int64_t *)arg : 0;
    for (int i = 1;; i++) {
        int rc = kin_flow_emit(out, &i, sizeof i);
        if (rc == 0 && pause)
            rc = kin_delay(pause);
        if (rc < 0) {
            CHECK(kin_error_is_cancellation(kin_last_error()));
            atomic_fetch_add(&stopped, 1);
            return rc;
        }
    }
}

static int endless_producer(kin_channel ch, void *arg) {
    (void)arg;
    for (int i = 1;; i++) {
        int rc = kin_channel_send(ch, &i, sizeof i);
        if (rc < 0) {
            atomic_fetch_add(&stopped, 1);
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

static int count(const void *v, void *arg) {
    (void)v;
    ++*(int *)arg;
    return 0;
}

static int64_t ten = 10;

static kin_flow make(int paused) {
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), endless, paused ? &ten : NULL), 0);
    return f;
}

enum { BUFFER, CONFLATE, FLOW_ON, CHANNEL_FLOW, DEBOUNCE, ZIP, COMBINE, N };

static kin_flow build(int op, int *upstreams) {
    /* a conflated emitter never suspends in its sends: without a pause
     * of its own it would keep the one thread (in kotlinx too) */
    kin_flow f = make(op == CONFLATE || op == DEBOUNCE || op == COMBINE);
    *upstreams = 1;
    switch (op) {
    case BUFFER:
        CHECK_EQ(kin_flow_buffer(&f, 2, KIN_OVERFLOW_SUSPEND), 0);
        break;
    case CONFLATE:
        CHECK_EQ(kin_flow_conflate(&f), 0);
        break;
    case FLOW_ON:
        CHECK_EQ(kin_flow_on(&f, kin_dispatcher_default()), 0);
        break;
    case CHANNEL_FLOW:
        kin_flow_release(f);
        CHECK_EQ(kin_channel_flow(&f, sizeof(int), NULL, endless_producer,
                                  NULL),
                 0);
        break;
    case DEBOUNCE:
        CHECK_EQ(kin_flow_debounce(&f, 5), 0);
        break;
    case ZIP:
        CHECK_EQ(kin_flow_zip(&f, make(0), sizeof(int), add, NULL), 0);
        *upstreams = 2;
        break;
    default:
        CHECK_EQ(kin_flow_combine(&f, make(1), sizeof(int), add, NULL), 0);
        *upstreams = 2;
    }
    return f;
}

static void no_children(void) {
    kin_job kids[1];
    CHECK_EQ(kin_job_children(kin_current_job(), kids, 1), 0);
}

static int body(void *arg) {
    (void)arg;
    for (int op = 0; op < N; op++) {
        int ups;
        /* take(3) */
        if (getenv("TRACE"))
            fprintf(stderr, "op %d\n", op);
        atomic_store(&stopped, 0);
        kin_flow f = build(op, &ups);
        CHECK_EQ(kin_flow_take(&f, 3), 0);
        int n = 0;
        CHECK_EQ(kin_flow_collect(f, count, &n), 0);
        CHECK_EQ(n, 3);
        CHECK_EQ(atomic_load(&stopped), ups);
        no_children();
        kin_flow_release(f);
        /* first() */
        atomic_store(&stopped, 0);
        f = build(op, &ups);
        int v = 0;
        CHECK_EQ(kin_flow_first(f, &v, sizeof v), 0);
        CHECK(v >= 1);
        CHECK_EQ(atomic_load(&stopped), ups);
        no_children();
        kin_flow_release(f);
    }
    return 0;
}

int main(void) {
    /* flow_on's upstream runs on Default, in real time */
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    return 0;
}
