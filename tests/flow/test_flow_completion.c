/* on_start and on_completion (kotlinx's OnStartTest / OnCompletionTest):
 * on_start runs before the upstream and may emit; on_completion runs after
 * the upstream and the collector are done and sees the cause: NULL on
 * success (it may emit then), the upstream's or the downstream's failure,
 * or the collector's cancellation; it cannot emit after a failure, and the
 * cause goes on unchanged (a failure of fn replaces a success or a
 * cancellation, and is attached to a failure as suppressed). */
#include "check.h"

static int emit_1_2(kin_flow_collector *out, void *arg) {
    (void)arg;
    for (int i = 1; i <= 2; i++)
        KIN_TRY(kin_flow_emit(out, &i, sizeof i));
    return 0;
}
static int emit_1_fail(kin_flow_collector *out, void *arg) {
    (void)arg;
    int v = 1;
    KIN_TRY(kin_flow_emit(out, &v, sizeof v));
    return kin_fail("TestException", "upstream");
}
static int log_int(const void *v, void *arg) {
    int *acc = arg;
    acc[++acc[0]] = *(const int *)v;
    return 0;
}
static int start_emits_0(kin_flow_collector *out, void *arg) {
    (void)arg;
    EXPECT(1);
    int v = 0;
    return kin_flow_emit(out, &v, sizeof v);
}
static int complete_emits_9(kin_flow_collector *out, const kin_error *cause,
                            void *arg) {
    (void)arg;
    CHECK(cause == NULL);
    EXPECT(2);
    int v = 9;
    return kin_flow_emit(out, &v, sizeof v);
}

/* f.on_completion(A).on_start(B): B, the values, A (emitting 9 last). */
static void test_success_order(void) {
    check_step_ = 0;
    int acc[8] = {0};
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emit_1_2, NULL), 0);
    CHECK_EQ(kin_flow_on_completion(&f, complete_emits_9, NULL), 0);
    CHECK_EQ(kin_flow_on_start(&f, start_emits_0, NULL), 0);
    CHECK_EQ(kin_flow_collect(f, log_int, acc), 0);
    FINISH(3);
    CHECK_EQ(acc[0], 4);
    CHECK(acc[1] == 0 && acc[2] == 1 && acc[3] == 2 && acc[4] == 9);
    CHECK_EQ(kin_flow_release(f), 0);
}

/* Upstream failure: the cause is that failure; an emit fails with it
 * (kotlinx's ThrowingCollector); the collect returns it. */
static int complete_sees_failure(kin_flow_collector *out,
                                 const kin_error *cause, void *arg) {
    const kin_error **seen = arg;
    *seen = kin_error_retain(cause);
    int v = 7;
    int rc = kin_flow_emit(out, &v, sizeof v);
    CHECK_EQ(rc, kin_error_code(cause));
    CHECK(kin_last_error() == cause);
    return rc;
}

static void test_upstream_failure(void) {
    int acc[8] = {0};
    const kin_error *seen = NULL;
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emit_1_fail, NULL), 0);
    CHECK_EQ(kin_flow_on_completion(&f, complete_sees_failure, &seen), 0);
    CHECK_EQ(kin_flow_collect(f, log_int, acc), KIN_EFAILED);
    CHECK_STR(last_message(), "upstream");
    CHECK(kin_last_error() == seen);
    CHECK_EQ(acc[0], 1);
    kin_error_release((kin_error *)seen);
    CHECK_EQ(kin_flow_release(f), 0);
}

/* Downstream failure: on_completion sees it too (it is below the
 * upstream's emit), and it goes on. */
static int collector_fails(const void *v, void *arg) {
    (void)v;
    (void)arg;
    return kin_fail("TestException", "downstream");
}
static int complete_records(kin_flow_collector *out, const kin_error *cause,
                            void *arg) {
    (void)out;
    char *buf = arg;
    snprintf(buf, 64, "%s", cause ? kin_error_message(cause) : "null");
    return cause ? kin_error_code(cause) : 0;
}

static void test_downstream_failure(void) {
    char seen[64] = "";
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emit_1_2, NULL), 0);
    CHECK_EQ(kin_flow_on_completion(&f, complete_records, seen), 0);
    CHECK_EQ(kin_flow_collect(f, collector_fails, NULL), KIN_EFAILED);
    CHECK_STR(seen, "downstream");
    CHECK_STR(last_message(), "downstream");
    CHECK_EQ(kin_flow_release(f), 0);
}

/* fn's own failure: replaces a success; is added to a failure as
 * suppressed (the failure goes on). */
static int complete_fails(kin_flow_collector *out, const kin_error *cause,
                          void *arg) {
    (void)out;
    (void)cause;
    (void)arg;
    return kin_fail("IllegalStateException", "in on_completion");
}

static void test_fn_failure(void) {
    int acc[8] = {0};
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emit_1_2, NULL), 0);
    CHECK_EQ(kin_flow_on_completion(&f, complete_fails, NULL), 0);
    CHECK_EQ(kin_flow_collect(f, log_int, acc), KIN_EFAILED);
    CHECK_STR(last_message(), "in on_completion");
    CHECK_EQ(kin_flow_release(f), 0);

    CHECK_EQ(kin_flow_new(&f, sizeof(int), emit_1_fail, NULL), 0);
    CHECK_EQ(kin_flow_on_completion(&f, complete_fails, NULL), 0);
    CHECK_EQ(kin_flow_collect(f, log_int, acc), KIN_EFAILED);
    CHECK_STR(last_message(), "upstream");
    CHECK_EQ(kin_error_suppressed_count(kin_last_error()), 1);
    CHECK_STR(kin_error_message(kin_error_suppressed(kin_last_error(), 0)),
              "in on_completion");
    CHECK_EQ(kin_flow_release(f), 0);

    /* a cancellation (here take's abort) is replaced, as in kotlinx, so
     * the failure is not lost in the abort that take swallows */
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emit_1_2, NULL), 0);
    CHECK_EQ(kin_flow_on_completion(&f, complete_fails, NULL), 0);
    CHECK_EQ(kin_flow_take(&f, 1), 0);
    CHECK_EQ(kin_flow_collect(f, log_int, acc), KIN_EFAILED);
    CHECK_STR(last_message(), "in on_completion");
    CHECK_EQ(kin_flow_release(f), 0);
}

/* The collector's cancellation: on_completion sees a cancellation. */
static int cancel_self(const void *v, void *arg) {
    (void)v;
    (void)arg;
    CHECK_EQ(kin_cancel(kin_current_job(), NULL), 0);
    return 0; /* the emitter's next emit sees it */
}
static int collect_cancelled(void *arg) {
    kin_flow f = *(kin_flow *)arg;
    int rc = kin_flow_collect(f, cancel_self, NULL);
    CHECK_EQ(rc, KIN_ECANCELED);
    return rc;
}

static void test_cancelled(void) {
    char seen[64] = "";
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emit_1_2, NULL), 0);
    CHECK_EQ(kin_flow_on_completion(&f, complete_records, seen), 0);
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, collect_cancelled, &f), 0);
    CHECK_EQ(kin_join(j), 0);
    CHECK(kin_job_is_cancelled(j));
    CHECK_STR(seen, "Job was cancelled");
    CHECK_EQ(kin_job_release(j), 0);
    CHECK_EQ(kin_flow_release(f), 0);
}

/* on_start's failure: the upstream never starts; on_start's emit failing
 * downstream stops it too. */
static int start_fails(kin_flow_collector *out, void *arg) {
    (void)out;
    (void)arg;
    return kin_fail("TestException", "start");
}
static int never(kin_flow_collector *out, void *arg) {
    (void)out;
    (void)arg;
    CHECK(!"upstream started");
    return 0;
}

static void test_start_failure(void) {
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), never, NULL), 0);
    CHECK_EQ(kin_flow_on_start(&f, start_fails, NULL), 0);
    CHECK_EQ(kin_flow_collect(f, log_int, (int[8]){0}), KIN_EFAILED);
    CHECK_STR(last_message(), "start");
    CHECK_EQ(kin_flow_release(f), 0);

    check_step_ = 0;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), never, NULL), 0);
    CHECK_EQ(kin_flow_on_start(&f, start_emits_0, NULL), 0);
    CHECK_EQ(kin_flow_collect(f, collector_fails, NULL), KIN_EFAILED);
    CHECK_STR(last_message(), "downstream");
    CHECK_EQ(kin_flow_release(f), 0);
}

static int body(void *arg) {
    (void)arg;
    test_success_order();
    test_upstream_failure();
    test_downstream_failure();
    test_fn_failure();
    test_cancelled();
    test_start_failure();
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    return 0;
}
