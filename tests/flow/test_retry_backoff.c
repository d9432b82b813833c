/* Retry with exponential backoff on virtual time (kin_run_test): exact
 * delays base * factor^(k-1) capped at max; jitter within its bounds and
 * the same for the same seed; retry_if decides; cancellations are never
 * retried; a cancellation during a backoff delay ends it at once; the
 * same for a flow (kin_flow_retry_backoff). */
#include "check.h"

typedef struct {
    int calls, fail_first; /* fails while calls <= fail_first */
    int64_t at[16];        /* virtual time of each call */
} flaky;

static int flaky_fn(void *arg) {
    flaky *f = arg;
    f->at[f->calls++] = kin_current_time();
    if (f->calls <= f->fail_first)
        return kin_fail("IOException", "try %d failed", f->calls);
    return 0;
}

static void test_exact_delays(void) {
    flaky f = {.fail_first = 100};
    int64_t t0 = kin_current_time();
    kin_retry_opts o = {.attempts = 4, .base_ms = 100, .factor = 2.0};
    CHECK_EQ(kin_retry(&o, flaky_fn, &f), KIN_EFAILED);
    CHECK_STR(last_message(), "try 4 failed"); /* the last failure */
    CHECK_EQ(f.calls, 4);
    CHECK_EQ(f.at[0] - t0, 0);
    CHECK_EQ(f.at[1] - t0, 100);
    CHECK_EQ(f.at[2] - t0, 300);
    CHECK_EQ(f.at[3] - t0, 700);
    CHECK_EQ(kin_current_time() - t0, 700); /* no delay after the last */

    /* the cap, and success on the third try */
    f = (flaky){.fail_first = 2};
    t0 = kin_current_time();
    o = (kin_retry_opts){.attempts = 5, .base_ms = 100, .factor = 3.0,
                         .max_ms = 250};
    CHECK_EQ(kin_retry(&o, flaky_fn, &f), 0);
    CHECK_EQ(f.calls, 3);
    CHECK_EQ(f.at[1] - t0, 100);
    CHECK_EQ(f.at[2] - t0, 350);

    /* defaults: 3 tries, 100 then 200 */
    f = (flaky){.fail_first = 100};
    t0 = kin_current_time();
    CHECK_EQ(kin_retry(NULL, flaky_fn, &f), KIN_EFAILED);
    CHECK_EQ(f.calls, 3);
    CHECK_EQ(f.at[2] - t0, 300);
}

static void jitter_delays(uint64_t seed, int64_t *d) {
    flaky f = {.fail_first = 100};
    kin_retry_opts o = {.attempts = 6, .base_ms = 1000, .factor = 2.0,
                        .jitter = 0.25, .seed = seed};
    CHECK_EQ(kin_retry(&o, flaky_fn, &f), KIN_EFAILED);
    for (int k = 1; k < 6; k++)
        d[k - 1] = f.at[k] - f.at[k - 1];
}

static void test_jitter(void) {
    int64_t a[5], b[5], c[5];
    jitter_delays(42, a);
    jitter_delays(42, b);
    jitter_delays(43, c);
    int differ = 0;
    for (int k = 0; k < 5; k++) {
        int64_t base = 1000LL << k;
        CHECK(a[k] >= base * 3 / 4 && a[k] <= base * 5 / 4);
        CHECK_EQ(a[k], b[k]); /* the same seed, the same delays */
        differ += a[k] != c[k];
    }
    CHECK(differ > 0);
}

/* retry_if: gets the failure and the attempt that failed; 0 stops at
 * once with that failure; its own failure is the result. */
static int only_first_two(const kin_error *cause, uint64_t attempt,
                          void *arg) {
    uint64_t *seen = arg;
    CHECK_STR(kin_error_type(cause), "IOException");
    CHECK_EQ(attempt, *seen);
    ++*seen;
    return attempt < 1;
}
static int pred_fails(const kin_error *cause, uint64_t attempt, void *arg) {
    (void)cause;
    (void)attempt;
    (void)arg;
    return kin_fail("IllegalStateException", "predicate");
}

static void test_retry_if(void) {
    flaky f = {.fail_first = 100};
    uint64_t seen = 0;
    kin_retry_opts o = {.attempts = 10, .base_ms = 10,
                        .retry_if = only_first_two, .arg = &seen};
    CHECK_EQ(kin_retry(&o, flaky_fn, &f), KIN_EFAILED);
    CHECK_STR(last_message(), "try 2 failed");
    CHECK_EQ(f.calls, 2);
    CHECK_EQ(seen, 2);

    f = (flaky){.fail_first = 100};
    o = (kin_retry_opts){.retry_if = pred_fails};
    CHECK_EQ(kin_retry(&o, flaky_fn, &f), KIN_EFAILED);
    CHECK_STR(last_message(), "predicate");
    CHECK_EQ(f.calls, 1);
}

/* A cancellation returned by fn is not retried. */
static int cancels(void *arg) {
    ++*(int *)arg;
    return KIN_ECANCELED;
}

static void test_cancellation_not_retried(void) {
    int calls = 0;
    CHECK_EQ(kin_retry(NULL, cancels, &calls), KIN_ECANCELED);
    CHECK_EQ(calls, 1);
}

/* Cancelled during the backoff delay: returns at once, no further try. */
static flaky g_flaky;
static int retrying(void *arg) {
    (void)arg;
    kin_retry_opts o = {.attempts = 5, .base_ms = 100};
    int rc = kin_retry(&o, flaky_fn, &g_flaky);
    CHECK_EQ(rc, KIN_ECANCELED);
    return rc;
}

static void test_cancel_during_delay(void) {
    g_flaky = (flaky){.fail_first = 100};
    int64_t t0 = kin_current_time();
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, retrying, NULL), 0);
    CHECK_EQ(kin_delay(150), 0); /* tries at 0 and 100; delay until 300 */
    CHECK_EQ(g_flaky.calls, 2);
    CHECK_EQ(kin_cancel(j, NULL), 0);
    CHECK_EQ(kin_join(j), 0);
    CHECK_EQ(kin_current_time() - t0, 150); /* at once */
    CHECK(kin_job_is_cancelled(j));
    CHECK_EQ(g_flaky.calls, 2);
    CHECK_EQ(kin_job_release(j), 0);
}

/* The flow version: each collect of the upstream starts after the delay;
 * values emitted before a failure stay emitted. */
static int flaky_emitter(kin_flow_collector *out, void *arg) {
    flaky *f = arg;
    f->at[f->calls++] = kin_current_time();
    int v = f->calls;
    KIN_TRY(kin_flow_emit(out, &v, sizeof v));
    if (f->calls <= f->fail_first)
        return kin_fail("IOException", "collect %d failed", f->calls);
    return 0;
}
static int log_int(const void *v, void *arg) {
    int *acc = arg;
    acc[++acc[0]] = *(const int *)v;
    return 0;
}

static void test_flow_backoff(void) {
    flaky f = {.fail_first = 2};
    int acc[8] = {0};
    kin_flow fl;
    CHECK_EQ(kin_flow_new(&fl, sizeof(int), flaky_emitter, &f), 0);
    kin_retry_opts o = {.attempts = 3, .base_ms = 50, .factor = 4};
    CHECK_EQ(kin_flow_retry_backoff(&fl, &o), 0);
    o.base_ms = 999; /* copied: changing it now changes nothing */
    int64_t t0 = kin_current_time();
    CHECK_EQ(kin_flow_collect(fl, log_int, acc), 0);
    CHECK_EQ(f.calls, 3);
    CHECK_EQ(f.at[1] - t0, 50);
    CHECK_EQ(f.at[2] - t0, 250);
    CHECK_EQ(acc[0], 3);
    CHECK(acc[1] == 1 && acc[2] == 2 && acc[3] == 3);

    /* attempts exhausted: the last failure */
    f = (flaky){.fail_first = 100};
    acc[0] = 0;
    CHECK_EQ(kin_flow_collect(fl, log_int, acc), KIN_EFAILED);
    CHECK_STR(last_message(), "collect 3 failed");
    CHECK_EQ(f.calls, 3);
    CHECK_EQ(kin_flow_release(fl), 0);
}

static kin_flow g_fl;
static int collecting(void *arg) {
    (void)arg;
    int acc[8] = {0};
    return kin_flow_collect(g_fl, log_int, acc);
}

static void test_flow_cancel_during_delay(void) {
    g_flaky = (flaky){.fail_first = 100};
    CHECK_EQ(kin_flow_new(&g_fl, sizeof(int), flaky_emitter, &g_flaky), 0);
    CHECK_EQ(kin_flow_retry_backoff(
                 &g_fl, &(kin_retry_opts){.attempts = 9, .base_ms = 1000}),
             0);
    int64_t t0 = kin_current_time();
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, collecting, NULL), 0);
    CHECK_EQ(kin_delay(10), 0);
    CHECK_EQ(kin_cancel(j, NULL), 0);
    CHECK_EQ(kin_join(j), 0);
    CHECK_EQ(kin_current_time() - t0, 10);
    CHECK(kin_job_is_cancelled(j));
    CHECK_EQ(g_flaky.calls, 1);
    CHECK_EQ(kin_job_release(j), 0);
    CHECK_EQ(kin_flow_release(g_fl), 0);
}

static int body(void *arg) {
    (void)arg;
    test_exact_delays();
    test_jitter();
    test_retry_if();
    test_cancellation_not_retried();
    test_cancel_during_delay();
    test_flow_backoff();
    test_flow_cancel_during_delay();
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    return 0;
}
