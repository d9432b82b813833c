/* kin_flow_on (kotlinx's flowOn): the upstream runs on the given
 * dispatcher, through a channel, while the collector stays where it is;
 * values arrive in order. A flow_on to the collector's own dispatcher
 * needs no channel: the upstream then runs in place, in the collecting
 * coroutine (kotlinx's OPTIONAL_CHANNEL). Adjacent flow_ons fuse: the
 * first (upstream) one's dispatcher wins, as in flowOn(A).flowOn(B). */
#include <stdatomic.h>

#include "check.h"

typedef struct where {
    kin_dispatcher *d;
    uint64_t job; /* the emitting coroutine's current job */
    long n;
} where;

static int numbers(kin_flow_collector *out, void *arg) {
    where *w = arg;
    w->d = kin_dispatcher_current();
    w->job = kin_current_job().id;
    for (int i = 1; i <= (int)w->n; i++)
        KIN_TRY(kin_flow_emit(out, &i, sizeof i));
    return 0;
}

typedef struct sink {
    long n, sum;
    kin_dispatcher *d;
} sink;

static int add(const void *v, void *arg) {
    sink *s = arg;
    CHECK_EQ(*(const int *)v, s->n + 1);
    s->n++;
    s->sum += *(const int *)v;
    CHECK(kin_dispatcher_current() == s->d); /* the collector stays */
    return 0;
}

static void collect_on(kin_dispatcher *d1, kin_dispatcher *d2, long n,
                       where *w) {
    kin_flow f;
    w->n = n;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), numbers, w), 0);
    CHECK_EQ(kin_flow_on(&f, d1), 0);
    if (d2)
        CHECK_EQ(kin_flow_on(&f, d2), 0);
    sink s = {0, 0, kin_dispatcher_current()};
    CHECK_EQ(kin_flow_collect(f, add, &s), 0);
    CHECK_EQ(s.n, n);
    CHECK_EQ(s.sum, n * (n + 1) / 2);
    kin_flow_release(f);
    kin_job kids[1];
    CHECK_EQ(kin_job_children(kin_current_job(), kids, 1), 0);
}

/* Cancelling a collector whose upstream runs on Default stops it. */
static atomic_int endless_stopped;
static int seen;

static int endless(kin_flow_collector *out, void *arg) {
    (void)arg;
    for (int i = 0;; i++) {
        int rc = kin_flow_emit(out, &i, sizeof i);
        if (rc < 0) {
            CHECK(kin_error_is_cancellation(kin_last_error()));
            atomic_store(&endless_stopped, 1);
            return rc;
        }
    }
}

static int count(const void *v, void *arg) {
    (void)v, (void)arg;
    seen++;
    return 0;
}

static int collect_main(void *arg) {
    kin_flow *f = arg;
    return kin_flow_collect(*f, count, NULL);
}

static void cancel_collector(void) {
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), endless, NULL), 0);
    CHECK_EQ(kin_flow_on(&f, kin_dispatcher_default()), 0);
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, collect_main, &f), 0);
    while (seen < 100)
        CHECK_EQ(kin_delay(1), 0);
    CHECK_EQ(kin_cancel(j, NULL), 0);
    CHECK_EQ(kin_join(j), 0);
    CHECK(kin_job_is_cancelled(j));
    CHECK_EQ(atomic_load(&endless_stopped), 1);
    kin_job_release(j);
    kin_flow_release(f);
}

/* flowOn(Default).conflate(): one producer on Default with a conflated
 * channel (fused); a slow collector sees increasing values, the last
 * one among them. */
static int up_to_1000(kin_flow_collector *out, void *arg) {
    (void)arg;
    for (int i = 1; i <= 1000; i++)
        KIN_TRY(kin_flow_emit(out, &i, sizeof i));
    return 0;
}

typedef struct latest {
    int n, last;
} latest;

static int slow_latest(const void *v, void *arg) {
    latest *l = arg;
    int x = *(const int *)v;
    CHECK(x > l->last); /* in order, some skipped */
    l->last = x;
    l->n++;
    return kin_delay(1);
}

static void conflated_on_default(void) {
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), up_to_1000, NULL), 0);
    CHECK_EQ(kin_flow_on(&f, kin_dispatcher_default()), 0);
    CHECK_EQ(kin_flow_conflate(&f), 0);
    latest l = {0, 0};
    CHECK_EQ(kin_flow_collect(f, slow_latest, &l), 0);
    CHECK_EQ(l.last, 1000); /* the last value is never dropped */
    CHECK(l.n >= 1 && l.n <= 1000);
    kin_flow_release(f);
}

static int body(void *arg) {
    (void)arg;
    kin_dispatcher *def = kin_dispatcher_default(), *io = kin_dispatcher_io();
    where w;
    long n = test_scale(20000);
    collect_on(def, NULL, n, &w);
    CHECK(w.d == def);
    CHECK(w.job != kin_current_job().id);
    collect_on(io, NULL, n, &w);
    CHECK(w.d == io);
    /* flowOn(IO).flowOn(Default): the upstream runs on IO */
    collect_on(io, def, n, &w);
    CHECK(w.d == io);
    /* to where the collector already is: in place, no coroutine */
    collect_on(kin_dispatcher_current(), NULL, 10, &w);
    CHECK(w.d == kin_dispatcher_current());
    CHECK_EQ(w.job, kin_current_job().id);
    cancel_collector();
    conflated_on_default();
    kin_job kids[1];
    CHECK_EQ(kin_job_children(kin_current_job(), kids, 1), 0);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    return 0;
}
