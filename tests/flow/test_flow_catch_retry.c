/* catch and retry (kotlinx's CatchTest, RetryTest): they handle failures
 * of the upstream only, never the downstream's failure and never the
 * collector's cancellation (exception transparency); catch may emit
 * replacement values, complete normally or rethrow; retry collects the
 * upstream again, values already emitted stay emitted. */
#include "check.h"

static int emit_1_fail(kin_flow_collector *out, void *arg) {
    int *runs = arg;
    if (runs)
        ++*runs;
    int v = 1;
    KIN_TRY(kin_flow_emit(out, &v, sizeof v));
    return kin_fail("TestException", "upstream");
}
static int emit_1_2(kin_flow_collector *out, void *arg) {
    (void)arg;
    for (int i = 1; i <= 2; i++)
        KIN_TRY(kin_flow_emit(out, &i, sizeof i));
    return 0;
}
static int log_int(const void *v, void *arg) {
    int *acc = arg;
    acc[++acc[0]] = *(const int *)v;
    return 0;
}
static int catch_emits_42(kin_flow_collector *out, const kin_error *cause,
                          void *arg) {
    (void)arg;
    CHECK_STR(kin_error_message(cause), "upstream");
    int v = 42;
    return kin_flow_emit(out, &v, sizeof v);
}
static int catch_unreached(kin_flow_collector *out, const kin_error *cause,
                           void *arg) {
    (void)out;
    (void)cause;
    (void)arg;
    CHECK(!"catch must not see this");
    return 0;
}
static int catch_rethrows(kin_flow_collector *out, const kin_error *cause,
                          void *arg) {
    (void)out;
    ++*(int *)arg;
    return kin_error_code(cause);
}

static void test_catch_upstream(void) {
    int acc[8] = {0};
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emit_1_fail, NULL), 0);
    CHECK_EQ(kin_flow_catch(&f, catch_emits_42, NULL), 0);
    CHECK_EQ(kin_flow_collect(f, log_int, acc), 0);
    CHECK_EQ(acc[0], 2);
    CHECK(acc[1] == 1 && acc[2] == 42);
    CHECK_EQ(kin_flow_release(f), 0);

    int calls = 0;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emit_1_fail, NULL), 0);
    CHECK_EQ(kin_flow_catch(&f, catch_rethrows, &calls), 0);
    CHECK_EQ(kin_flow_collect(f, log_int, acc), KIN_EFAILED);
    CHECK_STR(last_message(), "upstream");
    CHECK_EQ(calls, 1);
    CHECK_EQ(kin_flow_release(f), 0);
}

/* A failure below the catch goes past it untouched. */
static int collector_fails(const void *v, void *arg) {
    (void)v;
    (void)arg;
    return kin_fail("TestException", "downstream");
}

static void test_catch_not_downstream(void) {
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emit_1_2, NULL), 0);
    CHECK_EQ(kin_flow_catch(&f, catch_unreached, NULL), 0);
    CHECK_EQ(kin_flow_collect(f, collector_fails, NULL), KIN_EFAILED);
    CHECK_STR(last_message(), "downstream");
    CHECK_EQ(kin_flow_release(f), 0);
}

/* The collector's cancellation goes past catch and retry. */
static int cancel_self(const void *v, void *arg) {
    (void)v;
    (void)arg;
    CHECK_EQ(kin_cancel(kin_current_job(), NULL), 0);
    return 0;
}
static int collect_cancelled(void *arg) {
    kin_flow f = *(kin_flow *)arg;
    int rc = kin_flow_collect(f, cancel_self, NULL);
    CHECK_EQ(rc, KIN_ECANCELED);
    return rc;
}
static int retry_unreached(const kin_error *cause, uint64_t attempt,
                           void *arg) {
    (void)cause;
    (void)attempt;
    (void)arg;
    CHECK(!"retry must not see the collector's cancellation");
    return 1;
}

static void test_not_cancellation(int retry) {
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emit_1_2, NULL), 0);
    if (retry)
        CHECK_EQ(kin_flow_retry_when(&f, retry_unreached, NULL), 0);
    else
        CHECK_EQ(kin_flow_catch(&f, catch_unreached, NULL), 0);
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, collect_cancelled, &f), 0);
    CHECK_EQ(kin_join(j), 0);
    CHECK(kin_job_is_cancelled(j));
    CHECK_EQ(kin_job_release(j), 0);
    CHECK_EQ(kin_flow_release(f), 0);
}

/* A cancellation raised by the upstream itself (not the collector's) is
 * an upstream failure: catch handles it (Kotlin's isCancellationCause is
 * false there). */
static int upstream_cancels(kin_flow_collector *out, void *arg) {
    (void)out;
    (void)arg;
    return kin_fail_code(KIN_ECANCELED, "CancellationException", "own");
}
static int catch_counts(kin_flow_collector *out, const kin_error *cause,
                        void *arg) {
    (void)out;
    CHECK_STR(kin_error_message(cause), "own");
    ++*(int *)arg;
    return 0;
}

static void test_catch_upstream_cancellation(void) {
    int calls = 0;
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), upstream_cancels, NULL), 0);
    CHECK_EQ(kin_flow_catch(&f, catch_counts, &calls), 0);
    CHECK_EQ(kin_flow_collect(f, log_int, (int[4]){0}), 0);
    CHECK_EQ(calls, 1);
    CHECK_EQ(kin_flow_release(f), 0);
}

/* retry(2): three collects in all, values before each failure stay; the
 * last failure goes through. With a catch after it: 1+1+1 then caught. */
static int is_test_exception(const kin_error *cause, uint64_t attempt,
                             void *arg) {
    uint64_t *last = arg;
    CHECK_EQ(attempt, *last);
    ++*last;
    return strcmp(kin_error_type(cause), "TestException") == 0;
}

static void test_retry(void) {
    int runs = 0, acc[16] = {0};
    uint64_t next_attempt = 0;
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emit_1_fail, &runs), 0);
    CHECK_EQ(kin_flow_retry(&f, 2, is_test_exception, &next_attempt), 0);
    CHECK_EQ(kin_flow_collect(f, log_int, acc), KIN_EFAILED);
    CHECK_STR(last_message(), "upstream");
    CHECK_EQ(runs, 3);
    CHECK_EQ(acc[0], 3);
    CHECK_EQ(next_attempt, 2); /* the predicate is not asked the 3rd time */
    CHECK_EQ(kin_flow_release(f), 0);

    /* NULL predicate: always */
    runs = 0;
    acc[0] = 0;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emit_1_fail, &runs), 0);
    CHECK_EQ(kin_flow_retry(&f, 4, NULL, NULL), 0);
    CHECK_EQ(kin_flow_catch(&f, catch_emits_42, NULL), 0);
    CHECK_EQ(kin_flow_collect(f, log_int, acc), 0);
    CHECK_EQ(runs, 5);
    CHECK_EQ(acc[0], 6);
    CHECK_EQ(acc[6], 42);
    CHECK_EQ(kin_flow_release(f), 0);
}

/* retry_when as kotlinx's testRetryWhen: attempt < 3, then caught:
 * emitted 1 four times. */
static int fewer_than_3(const kin_error *cause, uint64_t attempt, void *arg) {
    (void)arg;
    CHECK_STR(kin_error_type(cause), "TestException");
    return attempt < 3;
}
static int catch_ok(kin_flow_collector *out, const kin_error *cause,
                    void *arg) {
    (void)out;
    (void)arg;
    CHECK_STR(kin_error_type(cause), "TestException");
    return 0;
}
static int sum(void *acc, const void *v, void *arg) {
    (void)arg;
    *(int *)acc += *(const int *)v;
    return 0;
}
static int retry_fails(const kin_error *cause, uint64_t attempt, void *arg) {
    (void)cause;
    (void)attempt;
    (void)arg;
    return kin_fail("IllegalStateException", "predicate");
}

static void test_retry_when(void) {
    kin_flow f;
    int runs = 0, total = 0;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emit_1_fail, &runs), 0);
    CHECK_EQ(kin_flow_retry_when(&f, fewer_than_3, NULL), 0);
    CHECK_EQ(kin_flow_catch(&f, catch_ok, NULL), 0);
    CHECK_EQ(kin_flow_fold(f, &total, sizeof total, sum, NULL), 0);
    CHECK_EQ(total, 4);
    CHECK_EQ(runs, 4);
    CHECK_EQ(kin_flow_release(f), 0);

    /* the predicate's own failure ends the collect with it */
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emit_1_fail, NULL), 0);
    CHECK_EQ(kin_flow_retry_when(&f, retry_fails, NULL), 0);
    CHECK_EQ(kin_flow_collect(f, log_int, (int[4]){0}), KIN_EFAILED);
    CHECK_STR(last_message(), "predicate");
    CHECK_EQ(kin_flow_release(f), 0);
}

/* retry never retries a downstream failure. */
static void test_retry_not_downstream(void) {
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emit_1_2, NULL), 0);
    CHECK_EQ(kin_flow_retry_when(&f, retry_unreached, NULL), 0);
    CHECK_EQ(kin_flow_collect(f, collector_fails, NULL), KIN_EFAILED);
    CHECK_STR(last_message(), "downstream");
    CHECK_EQ(kin_flow_release(f), 0);
}

/* An upstream that swallows the downstream failure and then fails on its
 * own: catch rethrows (kotlinx's catchImpl: any failure after the
 * downstream's), with the downstream's attached as suppressed. */
static int swallow_then_fail(kin_flow_collector *out, void *arg) {
    (void)arg;
    int v = 1;
    CHECK(kin_flow_emit(out, &v, sizeof v) < 0);
    return kin_fail("TestException", "after");
}

static void test_catch_after_downstream(void) {
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), swallow_then_fail, NULL), 0);
    CHECK_EQ(kin_flow_catch(&f, catch_unreached, NULL), 0);
    CHECK_EQ(kin_flow_collect(f, collector_fails, NULL), KIN_EFAILED);
    CHECK_STR(last_message(), "after");
    CHECK_EQ(kin_error_suppressed_count(kin_last_error()), 1);
    CHECK_EQ(kin_flow_release(f), 0);
}

static int body(void *arg) {
    (void)arg;
    test_catch_upstream();
    test_catch_not_downstream();
    test_not_cancellation(0);
    test_not_cancellation(1);
    test_catch_upstream_cancellation();
    test_retry();
    test_retry_when();
    test_retry_not_downstream();
    test_catch_after_downstream();
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    return 0;
}
