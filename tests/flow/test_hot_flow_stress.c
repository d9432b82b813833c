/* StateFlow and SharedFlow under threads: setters and emitters on every
 * Default worker and on plain threads, collectors on several workers.
 * StateFlow: each setter increments the value by compare_and_set, so the
 * values are increasing; every collector sees an increasing sequence
 * (distinct, never an older value after a newer one) that ends with the
 * final value (conflation never loses the latest). SharedFlow (SUSPEND,
 * extra_buffer 4): emitters tag values with their id and a sequence
 * number; every collector subscribed from the start gets every value of
 * every source, in each source's order, while collectors that leave early
 * (their function stops them) hold nobody back; plain threads use
 * try_emit and retry on KIN_FULL; collectors cancelled from outside while
 * values flow leave cleanly and hold nobody back either. DROP_OLDEST: each source's values stay
 * in order, some are skipped, the last one (a sentinel) always arrives.
 * ThreadSanitizer runs it (CI runs every test under it). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "hot_collect.h"

enum { COLLECTORS = 6, SETTERS = 4, THREADS = 2, CANCELLED = 3,
       DONE = -9001 };

static long g_n; /* increments / values per setter, emitter or thread */

/* ---- StateFlow --------------------------------------------------------- */

static kin_state_flow g_state;
static long g_target;

static void increment(void) {
    for (;;) {
        long cur, next;
        CHECK_EQ(kin_state_flow_get(g_state, &cur, sizeof cur), 0);
        next = cur + 1;
        int r = kin_state_flow_compare_and_set(g_state, &cur, &next, sizeof cur);
        CHECK(r == 0 || r == 1);
        if (r)
            return;
    }
}

static int state_seen(const void *v, void *arg) {
    long *last = arg, x = *(const long *)v;
    CHECK(x > *last);
    *last = x;
    return x == g_target ? kin_fail_code(DONE, "Done", "done") : 0;
}

static int state_collector(void *arg) {
    (void)arg;
    long last = -1;
    CHECK_EQ(collect_state(g_state, state_seen, &last), DONE);
    CHECK_EQ(last, g_target);
    return 0;
}

static int state_setter(void *arg) {
    (void)arg;
    for (long i = 0; i < g_n; i++) {
        increment();
        if (i % 16 == 0)
            KIN_TRY(kin_yield());
    }
    return 0;
}

static void *state_thread(void *arg) {
    (void)arg;
    for (long i = 0; i < g_n; i++)
        increment();
    return NULL;
}

static int doomed_state_collector(void *arg) {
    (void)arg;
    long last = -1;
    int rc = collect_state(g_state, state_seen, &last);
    CHECK(rc == KIN_ECANCELED || rc == DONE);
    return 0;
}

static int state_canceller(void *arg) {
    kin_job *doomed = arg;
    for (int i = 0; i < CANCELLED; i++) {
        KIN_TRY(kin_delay(1));
        int rc = kin_cancel(doomed[i], NULL); /* maybe done already */
        CHECK(rc == 0 || rc == KIN_ESTALE);
    }
    return 0;
}

static kin_job g_doomed[CANCELLED];

static int state_all(void *arg) {
    (void)arg;
    for (int i = 0; i < COLLECTORS; i++)
        KIN_TRY(kin_launch(NULL, NULL, state_collector, NULL));
    for (int i = 0; i < CANCELLED; i++)
        KIN_TRY(kin_launch(&g_doomed[i], NULL, doomed_state_collector, NULL));
    KIN_TRY(kin_launch(NULL, NULL, state_canceller, g_doomed));
    for (int i = 0; i < SETTERS; i++)
        KIN_TRY(kin_launch(NULL, NULL, state_setter, NULL));
    return 0;
}

static int state_on_default(void *arg) {
    (void)arg;
    return kin_with_context(kin_dispatcher_default(), state_all, NULL);
}

static void test_state(void) {
    long zero = 0;
    CHECK_EQ(kin_state_flow_new(&g_state, sizeof zero, &zero, NULL, NULL), 0);
    g_target = (SETTERS + THREADS) * g_n;
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, state_thread, NULL), 0);
    CHECK_EQ(kin_run_blocking(state_on_default, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    long v;
    CHECK_EQ(kin_state_flow_get(g_state, &v, sizeof v), 0);
    CHECK_EQ(v, g_target);
    CHECK_EQ(kin_state_flow_subscribers(g_state), 0);
    CHECK_EQ(kin_state_flow_destroy(g_state), 0);
    printf("ok state flow: %ld increments\n", v);
}

/* ---- SharedFlow -------------------------------------------------------- */

typedef struct tagged {
    int src; /* -1: the sentinel */
    long seq;
} tagged;

enum { SOURCES = SETTERS + THREADS };

static kin_shared_flow g_shared;
static bool g_lossless;
static atomic_int g_go;       /* the plain threads start when set */
static atomic_int g_threads_done;

typedef struct seen {
    long last[SOURCES];
    long total;
    long quit_after; /* > 0: stop (leave) after that many values */
} seen;

static int shared_seen(const void *v, void *arg) {
    seen *s = arg;
    const tagged *t = v;
    if (t->src < 0) /* the sentinel: everything has been emitted */
        return kin_fail_code(DONE, "Done", "done");
    CHECK(t->src < SOURCES);
    if (g_lossless)
        CHECK_EQ(t->seq, s->last[t->src] + 1);
    else
        CHECK(t->seq > s->last[t->src]);
    s->last[t->src] = t->seq;
    s->total++;
    if (s->quit_after && s->total == s->quit_after)
        return kin_fail_code(DONE, "Done", "leaving early");
    return 0;
}

static int shared_collector(void *arg) {
    seen s;
    for (int i = 0; i < SOURCES; i++)
        s.last[i] = -1;
    s.total = 0;
    s.quit_after = (long)(intptr_t)arg;
    int rc = collect_shared(g_shared, shared_seen, &s);
    if (s.quit_after < 0) { /* cancelled from outside, at some point */
        CHECK(rc == KIN_ECANCELED || rc == DONE);
        return 0;
    }
    CHECK_EQ(rc, DONE);
    if (g_lossless && !s.quit_after) {
        CHECK_EQ(s.total, SOURCES * g_n);
        for (int i = 0; i < SOURCES; i++)
            CHECK_EQ(s.last[i], g_n - 1);
    }
    return 0;
}

static int shared_emitter(void *arg) {
    tagged t = {(int)(intptr_t)arg, 0};
    for (t.seq = 0; t.seq < g_n; t.seq++)
        KIN_TRY(kin_shared_flow_emit(g_shared, &t, sizeof t));
    return 0;
}

static void *shared_thread(void *arg) {
    while (!atomic_load(&g_go))
        sched_yield();
    tagged t = {(int)(intptr_t)arg, 0};
    for (t.seq = 0; t.seq < g_n; t.seq++) {
        int rc;
        while ((rc = kin_shared_flow_try_emit(g_shared, &t, sizeof t)) ==
               KIN_FULL)
            sched_yield();
        CHECK_EQ(rc, 0);
    }
    atomic_fetch_add(&g_threads_done, 1);
    return NULL;
}

static int emitters(void *arg) {
    (void)arg;
    for (int i = 0; i < SETTERS; i++)
        KIN_TRY(kin_launch(NULL, NULL, shared_emitter, (void *)(intptr_t)i));
    return 0;
}

/* Cancels the doomed collectors one by one, 1 ms apart. */
static int canceller(void *arg) {
    kin_job *doomed = arg;
    for (int i = 0; i < CANCELLED; i++) {
        KIN_TRY(kin_delay(1));
        int rc = kin_cancel(doomed[i], NULL); /* maybe done already */
        CHECK(rc == 0 || rc == KIN_ESTALE);
    }
    return 0;
}

static int shared_all(void *arg) {
    (void)arg;
    kin_job cs[COLLECTORS + 2];
    for (int i = 0; i < COLLECTORS; i++)
        KIN_TRY(kin_launch(&cs[i], NULL, shared_collector, NULL));
    /* two that leave early, at different moments */
    KIN_TRY(kin_launch(&cs[COLLECTORS], NULL, shared_collector,
                       (void *)(intptr_t)7));
    KIN_TRY(kin_launch(&cs[COLLECTORS + 1], NULL, shared_collector,
                       (void *)(intptr_t)(g_n / 2 + 1)));
    /* and some that are cancelled while values flow */
    static kin_job doomed[CANCELLED];
    for (int i = 0; i < CANCELLED; i++)
        KIN_TRY(kin_launch(&doomed[i], NULL, shared_collector,
                           (void *)(intptr_t)-1));
    while (kin_shared_flow_subscribers(g_shared) < COLLECTORS + 2 + CANCELLED)
        KIN_TRY(kin_delay(1));
    atomic_store(&g_go, 1);
    kin_job cj;
    KIN_TRY(kin_launch(&cj, NULL, canceller, doomed));
    KIN_TRY(kin_coroutine_scope(emitters, NULL)); /* all emitted */
    /* never block a worker (a collector may live on it): poll */
    while (atomic_load(&g_threads_done) < THREADS)
        KIN_TRY(kin_delay(1));
    tagged end = {-1, 0};
    KIN_TRY(kin_shared_flow_emit(g_shared, &end, sizeof end));
    for (int i = 0; i < COLLECTORS + 2; i++)
        KIN_TRY(kin_join(cs[i]));
    KIN_TRY(kin_join(cj)); /* (the doomed may have ended with the sentinel) */
    for (int i = 0; i < CANCELLED; i++)
        KIN_TRY(kin_join(doomed[i]));
    return 0;
}

static int shared_on_default(void *arg) {
    return kin_with_context(kin_dispatcher_default(), shared_all, arg);
}

static void test_shared(kin_overflow policy) {
    g_lossless = policy == KIN_OVERFLOW_SUSPEND;
    atomic_store(&g_go, 0);
    atomic_store(&g_threads_done, 0);
    CHECK_EQ(kin_shared_flow_new(&g_shared, sizeof(tagged),
                                 &(kin_shared_flow_opts){.extra_buffer = 4,
                                                         .overflow = policy}),
             0);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, shared_thread,
                                (void *)(intptr_t)(SETTERS + i)),
                 0);
    CHECK_EQ(kin_run_blocking(shared_on_default, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ(kin_shared_flow_subscribers(g_shared), 0);
    CHECK_EQ(kin_shared_flow_destroy(g_shared), 0);
    printf("ok shared flow (%s): %ld values per source\n",
           g_lossless ? "suspend" : "drop oldest", g_n);
}

int main(void) {
    kin_dispatcher_set_threads(kin_dispatcher_default(), 4);
    g_n = test_scale(20000) < 200 ? 200 : test_scale(20000);
    test_state();
    test_shared(KIN_OVERFLOW_SUSPEND);
    test_shared(KIN_OVERFLOW_DROP_OLDEST);
    return 0;
}
