/* Races on one suspension, thousands of times (ThreadSanitizer runs this in
 * CI): a resume from one thread against a cancellation from another, and
 * two resumes against each other, with the suspended coroutine on the
 * blocking loop or on a Default worker. Each time: exactly one side wins;
 * the value is either delivered or passed to on_drop, exactly once; the
 * on-cancel callback runs exactly once if and only if kin_suspend returns
 * KIN_ECANCELED, and has returned by then; the loser gets KIN_EALREADY. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "check.h"

enum { RESUME_VS_CANCEL, RESUME_VS_RESUME };

static struct {
    _Atomic uint64_t cont_job, cont_seq;
    atomic_int published;
    kin_job job; /* the suspended coroutine */
    int mode;
    atomic_int go;   /* generation: the threads act when it changes */
    atomic_int done; /* threads finished with this generation */
    atomic_int stop;
    atomic_int cb_calls, drops;
    atomic_int rc_a, rc_b;
} g;

static int g_token;

static void on_drop(void *v) {
    CHECK(v == &g_token);
    atomic_fetch_add(&g.drops, 1);
}

static void on_cancel(kin_cont cont, void *arg) {
    (void)cont, (void)arg;
    atomic_fetch_add(&g.cb_calls, 1);
}

static void start(kin_cont cont, void *arg) {
    (void)arg;
    CHECK_EQ(kin_cont_on_cancel(cont, on_cancel, NULL), 0);
    atomic_store(&g.cont_job, cont.job);
    atomic_store(&g.cont_seq, cont.seq);
    atomic_store(&g.published, 1);
}

static int suspended(void *arg) {
    (void)arg;
    void *v = NULL;
    int rc = kin_suspend(start, NULL, &v);
    int cb = atomic_load(&g.cb_calls); /* read before anything else */
    if (rc == 0) {
        CHECK(v == &g_token);
        CHECK_EQ(cb, 0);
    } else {
        CHECK_EQ(rc, KIN_ECANCELED);
        CHECK(v == NULL);
        CHECK_EQ(cb, 1); /* it ran, and returned, before kin_suspend did */
    }
    return rc;
}

static kin_cont published_cont(void) {
    kin_cont c = {atomic_load(&g.cont_job), atomic_load(&g.cont_seq)};
    return c;
}

static void *side(void *arg) {
    int who = *(int *)arg; /* 0: resumer; 1: canceller or second resumer */
    int seen = 0;
    for (;;) {
        int gen;
        while ((gen = atomic_load(&g.go)) == seen) {
            if (atomic_load(&g.stop))
                return NULL;
            sched_yield();
        }
        seen = gen;
        kin_cont c = published_cont();
        int rc;
        if (who == 1 && g.mode == RESUME_VS_CANCEL)
            rc = kin_cancel(g.job, NULL);
        else
            rc = kin_resume_ex(c, &g_token, on_drop);
        atomic_store(who == 0 ? &g.rc_a : &g.rc_b, rc);
        atomic_fetch_add(&g.done, 1);
    }
}

static int iteration(int mode, kin_dispatcher *d) {
    atomic_store(&g.published, 0);
    atomic_store(&g.cb_calls, 0);
    atomic_store(&g.drops, 0);
    atomic_store(&g.done, 0);
    g.mode = mode;
    kin_job j;
    CHECK_EQ(kin_launch(&j, &(kin_launch_opts){.dispatcher = d}, suspended,
                        NULL),
             0);
    g.job = j;
    while (!atomic_load(&g.published))
        CHECK_EQ(kin_yield(), 0);
    atomic_fetch_add(&g.go, 1); /* both sides at once */
    CHECK_EQ(kin_join(j), 0);
    while (atomic_load(&g.done) < 2)
        sched_yield();
    int a = atomic_load(&g.rc_a), b = atomic_load(&g.rc_b);
    int drops = atomic_load(&g.drops), cbs = atomic_load(&g.cb_calls);
    CHECK(a == 0 || a == KIN_EALREADY);
    if (mode == RESUME_VS_RESUME) {
        /* exactly one resume wins; the loser's value is dropped */
        CHECK(!kin_job_is_cancelled(j));
        CHECK((a == 0) != (b == 0));
        CHECK(b == 0 || b == KIN_EALREADY);
        CHECK_EQ(drops, 1);
        CHECK_EQ(cbs, 0);
    } else {
        CHECK_EQ(b, 0);
        CHECK(drops == 0 || drops == 1);
        if (a == KIN_EALREADY)
            CHECK_EQ(drops, 1); /* refused: dropped in the resumer */
        CHECK(cbs == 0 || cbs == 1);
        /* suspended() checked the pairing of its code and the callback;
         * here: a value that was not dropped was delivered, which happens
         * only when the coroutine returned 0, i.e. no callback. */
        if (drops == 0)
            CHECK_EQ(cbs, 0);
        else
            CHECK_EQ(cbs, 1);
    }
    CHECK_EQ(kin_job_release(j), 0);
    return drops;
}

static int race(void *arg) {
    (void)arg;
    long n = test_scale(3000);
    kin_dispatcher *where[2] = {NULL, kin_dispatcher_default()};
    for (int mode = 0; mode < 2; mode++)
        for (int w = 0; w < 2; w++) {
            long dropped = 0;
            for (long i = 0; i < n; i++)
                dropped += iteration(mode, where[w]);
            fprintf(stderr, "%s, coroutine on %s: %ld of %ld values dropped\n",
                    mode == RESUME_VS_CANCEL ? "resume vs cancel"
                                             : "resume vs resume",
                    w ? "Default" : "the loop", dropped, n);
        }
    return 0;
}

int main(void) {
    pthread_t t[2];
    int who[2] = {0, 1};
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, side, &who[i]), 0);
    CHECK_EQ(kin_run_blocking(race, NULL), 0);
    atomic_store(&g.stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ(kin_shutdown(), 0);
    return 0;
}
