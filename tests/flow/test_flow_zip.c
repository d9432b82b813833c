/* kin_flow_zip, after kotlinx's zip() docs and its ZipTest:
 *
 *   flowOf(1, 2, 3).onEach { delay(10) }
 *       .zip(flowOf("a", "b", "c", "d").onEach { delay(15) }) { i, s -> "$i$s" }
 *
 * gives 1a (t = 15), 2b (30), 3c (45), and completes then, cancelling the
 * second flow. The first flow runs in the collecting coroutine, the
 * second in a coroutine of its own. When the second completes first, the
 * first is stopped even while it is suspended (ZipTest's
 * testCancelWhenFlowIsDone: flow { emit(1); delay(forever) } zip
 * flowOf(1) completes), but a collector that is busy (in a delay) when
 * that happens is not cancelled. Failures of either side reach the
 * collector; the collector's failure cancels both. */
#include "check.h"

typedef struct src {
    int n;        /* values: base, base + 1, ... */
    int base;
    int64_t pause; /* before each value */
    int stopped;   /* saw its emit or delay fail with a cancellation */
    int hang;      /* then delays for ever */
} src;

static int source(kin_flow_collector *out, void *arg) {
    src *s = arg;
    for (int i = 0; i < s->n; i++) {
        int v = s->base + i;
        int rc = s->pause ? kin_delay(s->pause) : 0;
        if (rc == 0)
            rc = kin_flow_emit(out, &v, sizeof v);
        if (rc < 0) {
            s->stopped = kin_error_is_cancellation(kin_last_error());
            return rc;
        }
    }
    if (s->hang) {
        int rc = kin_delay(1000000);
        s->stopped = kin_error_is_cancellation(kin_last_error());
        return rc;
    }
    return 0;
}

typedef struct pair {
    int a, b;
} pair;

static int make_pair(const void *a, const void *b, void *out, void *arg) {
    (void)arg;
    pair p = {*(const int *)a, *(const int *)b};
    memcpy(out, &p, sizeof p);
    return 0;
}

typedef struct got {
    int n;
    pair v[8];
    int64_t t[8];
    int64_t t0, busy;
} got;

static int record(const void *v, void *arg) {
    got *g = arg;
    memcpy(&g->v[g->n], v, sizeof(pair));
    g->t[g->n++] = kin_current_time() - g->t0;
    return g->busy ? kin_delay(g->busy) : 0;
}

static kin_flow zipped(src *a, src *b) {
    kin_flow f, o;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), source, a), 0);
    CHECK_EQ(kin_flow_new(&o, sizeof(int), source, b), 0);
    CHECK_EQ(kin_flow_zip(&f, o, sizeof(pair), make_pair, NULL), 0);
    CHECK_EQ(kin_flow_elem_size(f), sizeof(pair));
    return f;
}

static int fails(kin_flow_collector *out, void *arg) {
    int *after = arg;
    for (int i = 0; i < *after; i++)
        KIN_TRY(kin_flow_emit(out, &i, sizeof i));
    return kin_fail("IOException", "side failed after %d", *after);
}

static int stop_at_2(const void *v, void *arg) {
    (void)arg;
    const pair *p = v;
    return p->a == 2 ? kin_fail("Stop", "enough") : 0;
}

static void no_children(void) {
    kin_job kids[1];
    CHECK_EQ(kin_job_children(kin_current_job(), kids, 1), 0);
}

static int body(void *arg) {
    (void)arg;
    /* the docs' example */
    src a = {3, 1, 10, 0, 0}, b = {4, 100, 15, 0, 0};
    kin_flow f = zipped(&a, &b);
    got g = {.t0 = kin_current_time()};
    CHECK_EQ(kin_flow_collect(f, record, &g), 0);
    CHECK_EQ(g.n, 3);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(g.v[i].a, 1 + i);
        CHECK_EQ(g.v[i].b, 100 + i);
        CHECK_EQ(g.t[i], 15 * (i + 1));
    }
    CHECK_EQ(kin_current_time() - g.t0, 45);
    CHECK_EQ(b.stopped, 1); /* the second was cancelled in its delay */
    no_children();
    kin_flow_release(f);

    /* the second completes while the first is suspended: done at once */
    a = (src){1, 1, 0, 0, 1};
    b = (src){1, 100, 0, 0, 0};
    f = zipped(&a, &b);
    g = (got){.t0 = kin_current_time()};
    CHECK_EQ(kin_flow_collect(f, record, &g), 0);
    CHECK_EQ(g.n, 1);
    CHECK_EQ(kin_current_time() - g.t0, 0);
    CHECK_EQ(a.stopped, 1);
    no_children();
    kin_flow_release(f);

    /* a busy collector is not cancelled when the second completes */
    a = (src){3, 1, 0, 0, 0};
    b = (src){3, 100, 0, 0, 0};
    f = zipped(&a, &b);
    g = (got){.t0 = kin_current_time(), .busy = 10};
    CHECK_EQ(kin_flow_collect(f, record, &g), 0);
    CHECK_EQ(g.n, 3);
    CHECK_EQ(g.t[2], 20);
    CHECK_EQ(kin_current_time() - g.t0, 30); /* every delay ran out */
    kin_flow_release(f);

    /* the first is longer: it stops at the second's end */
    a = (src){5, 1, 0, 0, 0};
    b = (src){2, 100, 0, 0, 0};
    f = zipped(&a, &b);
    g = (got){.t0 = kin_current_time()};
    CHECK_EQ(kin_flow_collect(f, record, &g), 0);
    CHECK_EQ(g.n, 2);
    CHECK_EQ(a.stopped, 1);
    kin_flow_release(f);

    /* failures of either side */
    for (int side = 0; side < 2; side++) {
        int after = 2;
        src ok = {5, 1, 0, 0, 0};
        kin_flow x, y;
        CHECK_EQ(kin_flow_new(&x, sizeof(int), side ? source : fails,
                              side ? (void *)&ok : &after),
                 0);
        CHECK_EQ(kin_flow_new(&y, sizeof(int), side ? fails : source,
                              side ? (void *)&after : &ok),
                 0);
        CHECK_EQ(kin_flow_zip(&x, y, sizeof(pair), make_pair, NULL), 0);
        g = (got){.t0 = kin_current_time()};
        CHECK_EQ(kin_flow_collect(x, record, &g), KIN_EFAILED);
        CHECK_STR(last_message(), "side failed after 2");
        CHECK_EQ(g.n, 2);
        no_children();
        kin_flow_release(x);
    }

    /* the collector's failure cancels both */
    a = (src){100, 1, 1, 0, 0};
    b = (src){100, 100, 1, 0, 0};
    f = zipped(&a, &b);
    CHECK_EQ(kin_flow_collect(f, stop_at_2, NULL), KIN_EFAILED);
    CHECK_STR(last_message(), "enough");
    CHECK_EQ(b.stopped, 1);
    no_children();
    kin_flow_release(f);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    return 0;
}
