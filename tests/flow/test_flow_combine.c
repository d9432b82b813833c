/* kin_flow_combine, after kotlinx's combine() docs:
 *
 *   val flow = flowOf(1, 2).onEach { delay(10) }
 *   val flow2 = flowOf("a", "b", "c").onEach { delay(15) }
 *   combine(flow, flow2) { i, s -> i.toString() + s }   // 1a 2a 2b 2c
 *
 * at t = 15, 20, 30, 45: nothing until both have a value, then one result
 * for each new value with the latest of the other; the flow completes
 * when both have. Values that arrive together are applied as one batch
 * (kotlinx's combineInternal: a batch ends when a flow shows up twice),
 * and each side yields after each value. A failure of either side reaches the
 * collector and cancels the other; the collector's failure cancels both. */
#include "check.h"

typedef struct src {
    int n, base;
    int64_t pause;
    int stopped;
    int step; /* between values; 0 is 1 */
} src;

static int source(kin_flow_collector *out, void *arg) {
    src *s = arg;
    for (int i = 0; i < s->n; i++) {
        int v = s->base + i * (s->step ? s->step : 1);
        int rc = s->pause ? kin_delay(s->pause) : 0;
        if (rc == 0)
            rc = kin_flow_emit(out, &v, sizeof v);
        if (rc < 0) {
            s->stopped = kin_error_is_cancellation(kin_last_error());
            return rc;
        }
    }
    return 0;
}

/* b's values are chars: the two sides have different sizes */
static int letters(kin_flow_collector *out, void *arg) {
    src *s = arg;
    for (int i = 0; i < s->n; i++) {
        char c = (char)('a' + i);
        KIN_TRY(kin_delay(s->pause));
        KIN_TRY(kin_flow_emit(out, &c, 1));
    }
    return 0;
}

static int glue(const void *a, const void *b, void *out, void *arg) {
    (void)arg;
    snprintf(out, 8, "%d%c", *(const int *)a, *(const char *)b);
    return 0;
}

typedef struct got {
    int n;
    char v[8][8];
    int64_t t[8];
    int64_t t0;
} got;

static int record(const void *v, void *arg) {
    got *g = arg;
    memcpy(g->v[g->n], v, 8);
    g->t[g->n++] = kin_current_time() - g->t0;
    return 0;
}

static int sum(const void *a, const void *b, void *out, void *arg) {
    (void)arg;
    int s = *(const int *)a + *(const int *)b;
    memcpy(out, &s, sizeof s);
    return 0;
}

typedef struct ints {
    int n;
    int v[16];
} ints;

static int record_int(const void *v, void *arg) {
    ints *g = arg;
    g->v[g->n++] = *(const int *)v;
    return 0;
}

static int fails(kin_flow_collector *out, void *arg) {
    (void)arg;
    int v = 1;
    KIN_TRY(kin_flow_emit(out, &v, sizeof v));
    KIN_TRY(kin_delay(5));
    return kin_fail("IOException", "side failed");
}

static int stop_at_3(const void *v, void *arg) {
    (void)arg;
    return *(const int *)v >= 3 ? kin_fail("Stop", "enough") : 0;
}

static void no_children(void) {
    kin_job kids[1];
    CHECK_EQ(kin_job_children(kin_current_job(), kids, 1), 0);
}

static int body(void *arg) {
    (void)arg;
    src a = {2, 1, 10, 0, 0}, b = {3, 0, 15, 0, 0};
    kin_flow f, o;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), source, &a), 0);
    CHECK_EQ(kin_flow_new(&o, 1, letters, &b), 0);
    CHECK_EQ(kin_flow_combine(&f, o, 8, glue, NULL), 0);
    got g = {.t0 = kin_current_time()};
    CHECK_EQ(kin_flow_collect(f, record, &g), 0);
    CHECK_EQ(g.n, 4);
    const char *want[] = {"1a", "2a", "2b", "2c"};
    const int64_t at[] = {15, 20, 30, 45};
    for (int i = 0; i < 4; i++) {
        CHECK_STR(g.v[i], want[i]);
        CHECK_EQ(g.t[i], at[i]);
    }
    CHECK_EQ(kin_current_time() - g.t0, 45); /* when both are done */
    no_children();
    kin_flow_release(f);

    /* flowOf(1, 2, 3) combined with flowOf(10, 20, 30) by +: 11 22 33.
     * The sides take turns (each yields after its send), and each turn's
     * two updates are applied as one batch, as in kotlinx. */
    src x = {3, 1, 0, 0, 1}, y = {3, 10, 0, 0, 10};
    CHECK_EQ(kin_flow_new(&f, sizeof(int), source, &x), 0);
    CHECK_EQ(kin_flow_new(&o, sizeof(int), source, &y), 0);
    CHECK_EQ(kin_flow_combine(&f, o, sizeof(int), sum, NULL), 0);
    ints r = {0};
    CHECK_EQ(kin_flow_collect(f, record_int, &r), 0);
    CHECK_EQ(r.n, 3);
    CHECK_EQ(r.v[0], 11);
    CHECK_EQ(r.v[1], 22);
    CHECK_EQ(r.v[2], 33);
    kin_flow_release(f);

    /* a failure of one side cancels the other */
    for (int side = 0; side < 2; side++) {
        src s = {100, 1, 1, 0, 0};
        kin_flow p, q;
        CHECK_EQ(kin_flow_new(&p, sizeof(int), side ? source : fails,
                              side ? &s : NULL), 0);
        CHECK_EQ(kin_flow_new(&q, sizeof(int), side ? fails : source,
                              side ? NULL : &s), 0);
        CHECK_EQ(kin_flow_combine(&p, q, sizeof(int), sum, NULL), 0);
        r.n = 0;
        CHECK_EQ(kin_flow_collect(p, record_int, &r), KIN_EFAILED);
        CHECK_STR(last_message(), "side failed");
        CHECK_EQ(s.stopped, 1);
        no_children();
        kin_flow_release(p);
    }

    /* the collector's failure cancels both */
    src s1 = {100, 1, 1, 0, 0}, s2 = {100, 1, 2, 0, 0};
    CHECK_EQ(kin_flow_new(&f, sizeof(int), source, &s1), 0);
    CHECK_EQ(kin_flow_new(&o, sizeof(int), source, &s2), 0);
    CHECK_EQ(kin_flow_combine(&f, o, sizeof(int), sum, NULL), 0);
    CHECK_EQ(kin_flow_collect(f, stop_at_3, NULL), KIN_EFAILED);
    CHECK_STR(last_message(), "enough");
    CHECK_EQ(s1.stopped + s2.stopped, 2);
    no_children();
    kin_flow_release(f);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    return 0;
}
